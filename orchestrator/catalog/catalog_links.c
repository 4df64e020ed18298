/*
 * catalog_links.c — links: add (dedupe on the normalized URL), get, the
 * fields set by hand (title, bookmark date, capture options), delete with
 * the files to remove (see catalog.h). Lists and search: catalog_search.c.
 *
 *   POST /api/links -> url_normalize -> catalog_link_add -> (tags, a job)
 *   PATCH /api/links/N -> catalog_link_set_title | _set_options | ...
 *   DELETE /api/links/N -> catalog_link_delete -> files -> sc_remove_tree
 */
#include "catalog_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* created_at never goes below the newest link's (lists rely on it:
 * migration 2) */
static const char SQL_LINK_INSERT[] =
	"INSERT INTO links(url, created_at, updated_at) VALUES (?1, "
	"max(?2, coalesce((SELECT max(created_at) FROM links), ?2)), ?2) "
	"ON CONFLICT(url) DO NOTHING RETURNING id";
static const char SQL_LINK_ID_BY_URL[] = "SELECT id FROM links WHERE url = ?1";
static const char SQL_LINK_EXISTS[] = "SELECT id FROM links WHERE id = ?1";
static const char SQL_LINK_GET[] =
	"SELECT " LINK_COLS "FROM links l WHERE l.id = ?1";
static const char SQL_LINK_SET_TITLE[] =
	"UPDATE links SET title = ?2, title_locked = ?3, updated_at = ?4 "
	"WHERE id = ?1";
static const char SQL_LINK_SET_OPTIONS[] =
	"UPDATE links SET options = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_LINK_SET_BOOKMARKED[] =
	"UPDATE links SET bookmarked_at = ?2 WHERE id = ?1 AND "
	"(bookmarked_at IS NULL OR bookmarked_at > ?2)";
static const char SQL_LINK_FILES[] =
	"SELECT png_path, mhtml_path, thumb_path, dir, pdf_path FROM snapshots "
	"WHERE link_id = ?1 ORDER BY id";
static const char SQL_LINK_DELETE[] = "DELETE FROM links WHERE id = ?1";

/* ============================ reading a link =========================== */

static int cat_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split a char(31)-separated tag list into l->tags, sorted. */
static void cat_link_tags(struct catalog_link *l, const unsigned char *s)
{
	if (!s || !*s)
		return;
	size_t n = 1;
	for (const unsigned char *p = s; *p; p++)
		n += *p == 31;
	l->tags = sc_xcalloc(n, sizeof(*l->tags));
	const char *p = (const char *)s;
	for (;;) {
		const char *e = strchr(p, 31);
		size_t len = e ? (size_t)(e - p) : strlen(p);
		l->tags[l->ntags++] = sc_xstrndup(p, len);
		if (!e)
			break;
		p = e + 1;
	}
	qsort(l->tags, l->ntags, sizeof(*l->tags), cat_strcmp_p);
}

#define LC(f, k) CAT_COL(struct catalog_link, f, k)
/* LINK_COLS (tags and the job state: cat_link_read) */
static const struct cat_col cat_link_cols[] = {
	LC(id, I64), LC(url, STR), LC(title, STR), LC(title_locked, INT),
	LC(created_at, I64), LC(updated_at, I64), LC(last_snapshot_id, I64),
	CAT_COL_SKIP, LC(last_job_id, I64), CAT_COL_SKIP, LC(options, STR),
	LC(schedule, STR), LC(next_capture_at, I64), LC(keep_last, INT),
	LC(keep_changed, INT), LC(schedule_effective, STR),
	LC(bookmarked_at, I64),
};
#undef LC

void cat_link_read(sqlite3_stmt *st, void *link)
{
	struct catalog_link *l = link;
	memset(l, 0, sizeof(*l));
	cat_cols_read(st, l, cat_link_cols, CAT_COUNT(cat_link_cols));
	cat_link_tags(l, sqlite3_column_text(st, 7));
	l->last_job_state = cat_job_state_col(st, 9);
}

void cat_link_clear(void *link)
{
	struct catalog_link *l = link;
	cat_cols_clear(l, cat_link_cols, CAT_COUNT(cat_link_cols));
	for (size_t i = 0; i < l->ntags; i++)
		free(l->tags[i]);
	free(l->tags);
}

void catalog_link_free(struct catalog_link **l)
{
	CAT_ITEM_FREE(l, cat_link_clear);
}

sc_result cat_link_must_exist(struct catalog *c, int64_t link_id)
{
	int64_t id;
	sc_result rc = cat_int(c, SQL_LINK_EXISTS, &id, "i", link_id);
	if (rc == SC_ERR_NOT_FOUND)
		return cat_errf(c, rc, "link %" PRId64 " not found", link_id);
	return rc;
}

/* ================================ calls ================================ */

sc_result catalog_link_add(struct catalog *c, const char *url, int64_t *id,
			   int *created)
{
	if (!url || !*url)
		return cat_errf(c, SC_ERR_INVALID, "empty URL");
	if (strnlen(url, CATALOG_URL_MAX + 1) > CATALOG_URL_MAX)
		return cat_errf(c, SC_ERR_TOO_LARGE, "URL over %d bytes",
				CATALOG_URL_MAX);
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	int isnew = 1;
	rc = cat_int(c, SQL_LINK_INSERT, id, "ti", url, cat_now(c));
	if (rc == SC_ERR_NOT_FOUND) { /* ON CONFLICT: no row returned */
		isnew = 0;
		rc = cat_int(c, SQL_LINK_ID_BY_URL, id, "t", url);
	}
	if (!(rc = cat_end(c, rc)) && created)
		*created = isnew;
	return rc;
}

sc_result catalog_link_get(struct catalog *c, int64_t id,
			   struct catalog_link **out)
{
	sqlite3_stmt *st = NULL;
	void *l;
	sc_result rc = cat_stmt(c, SQL_LINK_GET, &st, "i", id);
	rc = cat_get(c, rc, st, sizeof(**out), cat_link_read, &l, "link", id);
	*out = l;
	return rc;
}

sc_result catalog_link_set_title(struct catalog *c, int64_t id,
				 const char *title)
{
	int locked = title && *title;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_TITLE, "iTii", id,
			      locked ? title : NULL,
			      cat_caplen(title, CATALOG_TITLE_MAX),
			      (int64_t)locked, cat_now(c));
	return cat_end(c, rc);
}

sc_result catalog_link_set_bookmarked(struct catalog *c, int64_t id,
				      int64_t ms)
{
	if (ms <= 0)
		return SC_OK;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_BOOKMARKED, "ii", id, ms);
	return cat_end(c, rc);
}

sc_result catalog_link_set_options(struct catalog *c, int64_t id,
				   const char *json)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_OPTIONS, "iTi", id, json,
			      cat_caplen(json, CATALOG_JSON_MAX), cat_now(c));
	if (rc == SC_ERR_INVALID)
		cat_errf(c, rc, "link options are not a JSON object");
	return cat_end(c, rc);
}

/* Every file, then every directory, of a link's snapshots. */
static sc_result cat_link_files(struct catalog *c, int64_t id,
				struct catalog_strv *sv)
{
	struct catalog_strv dirs = {0};
	size_t alloc = 0, dalloc = 0;
	sqlite3_stmt *st = NULL;
	int row = 1;
	sc_result rc = cat_stmt(c, SQL_LINK_FILES, &st, "i", id);
	while (!rc && !(rc = cat_step(c, st, &row)) && row) {
		for (int i = 0; i < 3; i++)
			cat_strv_add(sv, &alloc, sqlite3_column_text(st, i));
		cat_strv_add(sv, &alloc, sqlite3_column_text(st, 4));
		cat_strv_add(&dirs, &dalloc, sqlite3_column_text(st, 3));
	}
	if (!rc)
		cat_reset(st);
	for (size_t i = 0; i < dirs.n; i++) {
		sv->v = cat_grow(sv->v, &alloc, sv->n, sizeof(*sv->v));
		sv->v[sv->n++] = dirs.v[i];
	}
	free(dirs.v);
	return rc;
}

sc_result catalog_link_delete(struct catalog *c, int64_t id,
			      struct catalog_strv **files)
{
	struct catalog_strv *sv = sc_xcalloc(1, sizeof(*sv));
	if (files)
		*files = NULL;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		goto out;
	if (!(rc = cat_link_must_exist(c, id)) && files)
		rc = cat_link_files(c, id, sv);
	if (!rc)
		rc = cat_exec(c, SQL_LINK_DELETE, "i", id);
	if (!rc)
		rc = cat_tags_prune(c);
	rc = cat_end(c, rc);
out:
	if (!rc && files)
		*files = sv;
	else
		catalog_strv_free(&sv);
	return rc;
}
