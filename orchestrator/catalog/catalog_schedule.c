/*
 * catalog_schedule.c — recapture schedules and retention: a link's or a
 * tag's schedule, the links due, and pruning a link's old versions (see
 * catalog.h; the schedule syntax is recur.h's, the loop recapture.c).
 *
 *   PUT schedule -> catalog_link_set_schedule | catalog_tag_set_schedule
 *   recapture (worker): catalog_links_due (adopt: links of a scheduled tag
 *     without a next run; due: next_capture_at <= now) -> a job each
 *     -> catalog_link_set_next
 *   after a capture: catalog_snapshots_prune -> directories to remove
 *
 * A link's effective schedule and retention are its own, else its tags'
 * (the first by name for the schedule and keep_last; any tag's
 * keep_changed).
 */
#include "catalog_int.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_LINK_SET_SCHEDULE[] =
	"UPDATE links SET schedule = ?2, next_capture_at = ?3, "
	"keep_last = ?4, keep_changed = ?5, updated_at = ?6 WHERE id = ?1";
static const char SQL_TAG_SET_SCHEDULE[] =
	"UPDATE tags SET schedule = ?2, keep_last = ?3, keep_changed = ?4 "
	"WHERE name = ?1";
static const char SQL_TAG_SCHEDULE[] =
	"SELECT schedule, coalesce(keep_last, 0), keep_changed, nlinks "
	"FROM tags WHERE name = ?1";
/* the tag's links that follow a tag schedule: adopted again */
static const char SQL_TAG_RESCHEDULE[] =
	"UPDATE links SET next_capture_at = NULL WHERE schedule IS NULL "
	"AND id IN (SELECT link_id FROM link_tags WHERE tag_id = "
	"(SELECT id FROM tags WHERE name = ?1))";
static const char SQL_LINKS_ADOPT[] =
	"SELECT DISTINCT l.id, " LINK_SCHEDULE " FROM tags t "
	"JOIN link_tags lt ON lt.tag_id = t.id "
	"JOIN links l ON l.id = lt.link_id WHERE t.schedule IS NOT NULL "
	"AND l.schedule IS NULL AND l.next_capture_at IS NULL LIMIT ?1";
static const char SQL_LINKS_DUE[] =
	"SELECT l.id, l.url, " LINK_SCHEDULE ", (SELECT state FROM jobs "
	"WHERE link_id = l.id ORDER BY id DESC LIMIT 1) FROM links l "
	"WHERE l.next_capture_at <= ?1 ORDER BY l.next_capture_at "
	"LIMIT ?2";
static const char SQL_LINK_SET_NEXT[] =
	"UPDATE links SET next_capture_at = ?2 WHERE id = ?1";
static const char SQL_LINK_RETENTION[] =
	"SELECT coalesce(l.keep_last, (SELECT t.keep_last FROM link_tags lt "
	"JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = l.id AND "
	"t.keep_last IS NOT NULL ORDER BY t.name LIMIT 1), 0), "
	"l.keep_changed OR coalesce((SELECT max(t.keep_changed) FROM "
	"link_tags lt JOIN tags t ON t.id = lt.tag_id "
	"WHERE lt.link_id = l.id), 0) FROM links l WHERE l.id = ?1";
static const char SQL_SNAPS_OVER_KEEP[] =
	"SELECT id, dir FROM snapshots WHERE link_id = ?1 AND "
	"state <> 'pending' ORDER BY id DESC LIMIT -1 OFFSET ?2";
/* unchanged versions, but never the newest usable one */
static const char SQL_SNAPS_UNCHANGED[] =
	"SELECT id, dir FROM snapshots WHERE link_id = ?1 AND state IN "
	"('ok', 'partial') AND diff_against IS NOT NULL AND "
	"coalesce(diff_ratio, 0) < ?2 AND id < (SELECT max(id) FROM "
	"snapshots WHERE link_id = ?1 AND state IN ('ok', 'partial'))";
static const char SQL_SNAP_DELETE[] =
	"DELETE FROM snapshots WHERE id = ?1 AND id IS NOT (SELECT "
	"last_snapshot_id FROM links WHERE id = snapshots.link_id)";

sc_result catalog_link_set_schedule(struct catalog *c, int64_t id,
				    const struct catalog_schedule *s)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_SCHEDULE, "itzzii", id, s->spec,
			      s->spec ? s->next_at : 0, (int64_t)s->keep_last,
			      (int64_t)(s->keep_changed != 0), cat_now(c));
	return cat_end(c, rc);
}

sc_result catalog_tag_set_schedule(struct catalog *c, const char *name,
				   const struct catalog_schedule *s)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	rc = cat_exec(c, SQL_TAG_SET_SCHEDULE, "ttzi", name, s->spec,
		      (int64_t)s->keep_last, (int64_t)(s->keep_changed != 0));
	if (!rc && !c->changes)
		rc = cat_errf(c, SC_ERR_NOT_FOUND, "no tag \"%s\"", name);
	if (!rc)
		rc = cat_exec(c, SQL_TAG_RESCHEDULE, "t", name);
	return cat_end(c, rc);
}

sc_result catalog_tag_schedule(struct catalog *c, const char *name,
			       struct catalog_schedule *s, char **spec,
			       int64_t *nlinks)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	*spec = NULL;
	sc_result rc = cat_first(c, SQL_TAG_SCHEDULE, &st, &row, "t", name);
	if (rc)
		return rc;
	if (row) {
		*spec = cat_col_str(st, 0);
		s->spec = *spec;
		s->keep_last = sqlite3_column_int(st, 1);
		s->keep_changed = sqlite3_column_int(st, 2);
		*nlinks = sqlite3_column_int64(st, 3);
	}
	cat_reset(st);
	return row ? SC_OK : cat_errf(c, SC_ERR_NOT_FOUND, "no tag \"%s\"",
				      name);
}

#define DC(f, k) CAT_COL(struct catalog_due, f, k)
/* A row (id, url, spec, last job state) of SQL_LINKS_DUE. */
static const struct cat_col cat_due_cols[] = {
	DC(link_id, I64), DC(url, STR), DC(spec, STR), CAT_COL_SKIP,
};
#undef DC

static void cat_due_clear(void *item)
{
	cat_cols_clear(item, cat_due_cols, CAT_COUNT(cat_due_cols));
}

void catalog_due_list_free(struct catalog_due_list **l)
{
	CAT_LIST_FREE(l, cat_due_clear);
}

static void cat_due_read(sqlite3_stmt *st, void *item)
{
	struct catalog_due *d = item;
	cat_cols_read(st, d, cat_due_cols, CAT_COUNT(cat_due_cols));
	d->job_active = sqlite3_column_type(st, 3) != SQLITE_NULL &&
			cat_job_state_col(st, 3) <= CATALOG_JOB_RUNNING;
}

/* A row (id, spec) of SQL_LINKS_ADOPT. */
static void cat_adopt_read(sqlite3_stmt *st, void *item)
{
	struct catalog_due *d = item;
	d->link_id = sqlite3_column_int64(st, 0);
	d->spec = cat_col_str(st, 1);
}

sc_result catalog_links_due(struct catalog *c, int64_t now, int limit,
			    int adopt, struct catalog_due_list **out)
{
	struct catalog_due_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_page p = {.size = sizeof(*l->items),
			     .read = adopt ? cat_adopt_read : cat_due_read};
	sqlite3_stmt *st = NULL;
	sc_result rc = adopt ? cat_stmt(c, SQL_LINKS_ADOPT, &st, "i",
					(int64_t)limit)
			     : cat_stmt(c, SQL_LINKS_DUE, &st, "ii", now,
					(int64_t)limit);
	CAT_PAGE_LIST(rc, c, st, p, l, catalog_due_list_free);
	*out = l;
	return rc;
}

sc_result catalog_link_set_next(struct catalog *c, int64_t id, int64_t next)
{
	return cat_exec(c, SQL_LINK_SET_NEXT, "iz", id, next);
}

/* The link's effective retention. */
static sc_result cat_retention(struct catalog *c, int64_t id, int *keep_last,
			       int *keep_changed)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_first(c, SQL_LINK_RETENTION, &st, &row, "i", id);
	if (rc)
		return rc;
	*keep_last = row ? sqlite3_column_int(st, 0) : 0;
	*keep_changed = row ? sqlite3_column_int(st, 1) : 0;
	cat_reset(st);
	return SC_OK;
}

/* Delete the snapshots a query lists (id, dir), never the link's last one;
 * the directories of those deleted go to dirs. */
static sc_result cat_snaps_drop(struct catalog *c, sqlite3_stmt *st,
				struct catalog_strv *dirs, size_t *alloc)
{
	struct catalog_strv ids = {0}, ds = {0};
	size_t ialloc = 0, dalloc = 0;
	int row = 1;
	sc_result rc;
	while (!(rc = cat_step(c, st, &row)) && row) {
		const unsigned char *dir = sqlite3_column_text(st, 1);
		cat_strv_add(&ids, &ialloc, sqlite3_column_text(st, 0));
		cat_strv_add(&ds, &dalloc, (const unsigned char *)
			     (dir && *dir ? (const char *)dir : "-"));
	}
	if (!rc)
		cat_reset(st);
	for (size_t i = 0; !rc && i < ids.n; i++) {
		rc = cat_exec(c, SQL_SNAP_DELETE, "i",
			      (int64_t)strtoll(ids.v[i], NULL, 10));
		if (!rc && c->changes && strcmp(ds.v[i], "-"))
			cat_strv_add(dirs, alloc, (const unsigned char *)ds.v[i]);
	}
	for (size_t i = 0; i < ids.n; i++) {
		free(ids.v[i]);
		free(ds.v[i]);
	}
	free(ids.v);
	free(ds.v);
	return rc;
}

sc_result catalog_snapshots_prune(struct catalog *c, int64_t link_id,
				  double threshold, struct catalog_strv **dirs)
{
	struct catalog_strv *sv = sc_xcalloc(1, sizeof(*sv));
	size_t alloc = 0;
	int keep_last = 0, keep_changed = 0;
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_begin(c, 1);
	if (!rc)
		rc = cat_retention(c, link_id, &keep_last, &keep_changed);
	if (!rc && keep_changed &&
	    !(rc = cat_stmt(c, SQL_SNAPS_UNCHANGED, &st, "id", link_id,
			    threshold)))
		rc = cat_snaps_drop(c, st, sv, &alloc);
	if (!rc && keep_last > 0 &&
	    !(rc = cat_stmt(c, SQL_SNAPS_OVER_KEEP, &st, "ii", link_id,
			    (int64_t)keep_last)))
		rc = cat_snaps_drop(c, st, sv, &alloc);
	rc = cat_end(c, rc);
	if (rc)
		catalog_strv_free(&sv);
	*dirs = sv;
	return rc;
}

