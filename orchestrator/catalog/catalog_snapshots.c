/*
 * catalog_snapshots.c — snapshots: a pending one per capture, its outcome
 * (which also moves the link's last snapshot, title and search text), gets,
 * a link's versions, and the PNG look-ups of the visual archive (see
 * catalog.h).
 *
 *   scheduler: catalog_snapshot_create (pending, the job's snapshot_id)
 *     -> capture -> catalog_snapshot_prev / catalog_png_by_sha (diff,
 *        dedupe) -> output_write -> catalog_snapshot_finish
 *   GET /api/links/N/snapshots -> catalog_snapshots_list
 *   GET /metrics -> catalog_snapshots_stored
 */
#include "catalog_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns read by cat_snap_read(), in this order; TEXT is the text column
 * expression. */
#define SNAP_SELECT(TEXT)                                                    \
	"SELECT s.id, s.link_id, coalesce(s.job_id, 0), s.created_at, "      \
	"coalesce(s.finished_at, 0), s.state, s.final_url, s.title, "        \
	"coalesce(s.http_status, 0), coalesce(s.width, 0), "                 \
	"coalesce(s.height, 0), s.truncated, s.dir, s.png_path, "            \
	"s.mhtml_path, s.thumb_path, coalesce(s.png_bytes, 0), "             \
	"coalesce(s.mhtml_bytes, 0), " TEXT ", s.timings, s.error_class, "   \
	"s.error_message, s.png_status, s.mhtml_status, s.thumb_status, "    \
	"s.text_status, coalesce(s.png_sha256, ''), s.png_shared, "           \
	"coalesce(s.diff_against, 0), coalesce(s.diff_ratio, 0), "           \
	"coalesce(s.diff_changed, 0), s.diff_boxes, s.diff_path, "           \
	"s.pdf_path, coalesce(s.pdf_bytes, 0), s.pdf_status "                \
	"FROM snapshots s "

static const char SQL_SNAP_INSERT[] =
	"INSERT INTO snapshots(link_id, job_id, created_at) VALUES (?1, ?2, ?3)";
static const char SQL_SNAP_STATE[] = "SELECT state, link_id FROM snapshots WHERE id = ?1";
static const char SQL_SNAP_FINISH[] =
	"UPDATE snapshots SET state = ?2, finished_at = ?3, final_url = ?4, "
	"title = ?5, http_status = ?6, width = ?7, height = ?8, "
	"truncated = ?9, dir = ?10, png_path = ?11, mhtml_path = ?12, "
	"thumb_path = ?13, png_bytes = ?14, mhtml_bytes = ?15, text = ?16, "
	"timings = ?17, error_class = ?18, error_message = ?19, "
	"png_status = ?20, mhtml_status = ?21, thumb_status = ?22, "
	"text_status = ?23, png_sha256 = ?24, png_shared = ?25, "
	"diff_against = ?26, diff_ratio = ?27, diff_changed = ?28, "
	"diff_boxes = ?29, diff_path = ?30, pdf_path = ?31, pdf_bytes = ?32, "
	"pdf_status = ?33 "
	"WHERE id = ?1 AND state = 'pending'";
static const char SQL_LINK_SET_LAST[] =
	"UPDATE links SET last_snapshot_id = ?2, title = CASE "
	"WHEN title_locked OR ?3 IS NULL THEN title ELSE ?3 END, "
	"updated_at = ?4 WHERE id = ?1";
static const char SQL_SNAP_GET[] =
	SNAP_SELECT("CASE WHEN ?2 THEN s.text END") "WHERE s.id = ?1";
static const char SQL_SNAPS_LIST[] =
	SNAP_SELECT("NULL") "WHERE s.link_id = ?1 AND s.id < ?2 "
	"ORDER BY s.id DESC LIMIT ?3";
static const char SQL_SNAP_PREV[] =
	"SELECT id, png_path, coalesce(png_sha256, '') FROM snapshots "
	"WHERE link_id = ?1 AND id < ?2 AND state IN ('ok', 'partial') "
	"AND png_path IS NOT NULL ORDER BY id DESC LIMIT 1";
static const char SQL_SNAP_BY_SHA[] =
	"SELECT png_path FROM snapshots WHERE png_sha256 = ?1 "
	"AND png_path IS NOT NULL AND id <> ?2 ORDER BY id DESC LIMIT 1";
static const char SQL_JOB_LINK[] = "SELECT link_id FROM jobs WHERE id = ?1";
static const char SQL_JOB_SET_SNAP[] = "UPDATE jobs SET snapshot_id = ?2 WHERE id = ?1";
/* GET /metrics: columns before `text` only, so no overflow page is read */
static const char SQL_SNAPS_STORED[] =
	"SELECT count(*), coalesce(sum(CASE WHEN png_path IS NOT NULL THEN "
	"png_bytes END), 0), coalesce(sum(CASE WHEN mhtml_path IS NOT NULL "
	"THEN mhtml_bytes END), 0), coalesce(sum(CASE WHEN pdf_path IS NOT "
	"NULL THEN pdf_bytes END), 0) FROM snapshots WHERE state IN ('ok', "
	"'partial')";

static const char *const cat_snap_states[] = {
	"pending", "ok", "partial", "failed",
};
static const char *const cat_outs[] = {
	"pending", "ok", "failed", "skipped",
};

/* ================================ names ================================ */

const char *catalog_snap_state_name(enum catalog_snap_state s)
{
	if ((size_t)s < CAT_COUNT(cat_snap_states))
		return cat_snap_states[s];
	return "?";
}

const char *catalog_out_name(enum catalog_out o)
{
	if ((size_t)o < CAT_COUNT(cat_outs))
		return cat_outs[o];
	return "?";
}

#define SN(f, k) CAT_COL(struct catalog_snapshot, f, k)
/* SNAP_SELECT's columns (enums and png_sha256: cat_snap_read) */
static const struct cat_col cat_snap_cols[] = {
	SN(id, I64), SN(link_id, I64), SN(job_id, I64), SN(created_at, I64),
	SN(finished_at, I64), CAT_COL_SKIP, SN(final_url, STR),
	SN(title, STR), SN(http_status, INT), SN(width, INT),
	SN(height, INT), SN(truncated, INT), SN(dir, STR), SN(png_path, STR),
	SN(mhtml_path, STR), SN(thumb_path, STR), SN(png_bytes, I64),
	SN(mhtml_bytes, I64), SN(text, STR), SN(timings, STR),
	SN(error_class, STR), SN(error_message, STR), CAT_COL_SKIP,
	CAT_COL_SKIP, CAT_COL_SKIP, CAT_COL_SKIP, CAT_COL_SKIP,
	SN(png_shared, INT), SN(diff_against, I64), SN(diff_ratio, DBL),
	SN(diff_changed, I64), SN(diff_boxes, STR), SN(diff_path, STR),
	SN(pdf_path, STR), SN(pdf_bytes, I64), CAT_COL_SKIP,
};
#undef SN

static enum catalog_out cat_out_col(sqlite3_stmt *st, int i)
{
	return cat_col_enum(st, i, cat_outs, CAT_COUNT(cat_outs));
}

static void cat_snap_read(sqlite3_stmt *st, void *snap)
{
	struct catalog_snapshot *s = snap;
	cat_cols_read(st, s, cat_snap_cols, CAT_COUNT(cat_snap_cols));
	s->state = cat_col_enum(st, 5, cat_snap_states,
				CAT_COUNT(cat_snap_states));
	s->png_status = cat_out_col(st, 22);
	s->mhtml_status = cat_out_col(st, 23);
	s->thumb_status = cat_out_col(st, 24);
	s->text_status = cat_out_col(st, 25);
	const unsigned char *sha = sqlite3_column_text(st, 26);
	snprintf(s->png_sha256, sizeof(s->png_sha256), "%s",
		 sha ? (const char *)sha : "");
	s->pdf_status = cat_out_col(st, 35);
}

static void cat_snap_clear(void *snap)
{
	cat_cols_clear(snap, cat_snap_cols, CAT_COUNT(cat_snap_cols));
}

void catalog_snapshot_free(struct catalog_snapshot **s)
{
	CAT_ITEM_FREE(s, cat_snap_clear);
}

sc_result catalog_snapshot_create(struct catalog *c, int64_t link_id,
				  int64_t job_id, int64_t *id)
{
	int64_t job_link = link_id;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	rc = cat_link_must_exist(c, link_id);
	if (!rc && job_id) {
		rc = cat_int(c, SQL_JOB_LINK, &job_link, "i", job_id);
		if (rc == SC_ERR_NOT_FOUND)
			cat_errf(c, rc, "job %" PRId64 " not found", job_id);
	}
	if (!rc && job_link != link_id)
		rc = cat_errf(c, SC_ERR_INVALID, "job %" PRId64 " is not of "
			      "link %" PRId64, job_id, link_id);
	if (!rc)
		rc = cat_exec(c, SQL_SNAP_INSERT, "izi", link_id, job_id,
			      cat_now(c));
	if (!rc)
		*id = sqlite3_last_insert_rowid(c->db);
	if (!rc && job_id)
		rc = cat_exec(c, SQL_JOB_SET_SNAP, "ii", job_id, *id);
	return cat_end(c, rc);
}

/* Bind every result field of s to SQL_SNAP_FINISH. */
static int cat_snap_bind(sqlite3_stmt *st, const struct catalog_snapshot *s,
			 int64_t now)
{
	struct { int i; const char *v; size_t cap; } txt[] = {
		{4, s->final_url, CATALOG_URL_MAX},
		{5, s->title, CATALOG_TITLE_MAX},
		{10, s->dir, 4096}, {11, s->png_path, 4096},
		{12, s->mhtml_path, 4096}, {13, s->thumb_path, 4096},
		{16, s->text, CATALOG_TEXT_MAX},
		{17, s->timings, CATALOG_JSON_MAX},
		{18, s->error_class, 64},
		{19, s->error_message, CATALOG_MESSAGE_MAX},
		{24, s->png_sha256[0] ? s->png_sha256 : NULL, 64},
		{29, s->diff_boxes, CATALOG_JSON_MAX}, {30, s->diff_path, 4096},
		{31, s->pdf_path, 4096},
	};
	struct { int i; int64_t v; } num[] = {
		{1, s->id}, {3, now}, {6, s->http_status}, {7, s->width},
		{8, s->height}, {9, s->truncated != 0}, {14, s->png_bytes},
		{15, s->mhtml_bytes}, {25, s->png_shared != 0},
		{28, s->diff_changed}, {32, s->pdf_bytes},
	};
	enum catalog_out outs[] = {s->png_status, s->mhtml_status,
				   s->thumb_status, s->text_status};
	int r = sqlite3_bind_text(st, 2, catalog_snap_state_name(s->state), -1,
				  SQLITE_STATIC);
	for (size_t k = 0; r == SQLITE_OK && k < CAT_COUNT(txt); k++)
		r = txt[k].v ? sqlite3_bind_text64(st, txt[k].i, txt[k].v,
						   cat_caplen(txt[k].v,
							      txt[k].cap),
						   SQLITE_STATIC, SQLITE_UTF8)
			     : sqlite3_bind_null(st, txt[k].i);
	for (size_t k = 0; r == SQLITE_OK && k < CAT_COUNT(num); k++)
		r = sqlite3_bind_int64(st, num[k].i, num[k].v);
	for (size_t k = 0; r == SQLITE_OK && k < CAT_COUNT(outs); k++)
		r = sqlite3_bind_text(st, 20 + (int)k, catalog_out_name(outs[k]),
				      -1, SQLITE_STATIC);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 33, catalog_out_name(s->pdf_status
							       ? s->pdf_status
							       : CATALOG_OUT_SKIPPED),
				      -1, SQLITE_STATIC);
	if (r == SQLITE_OK) /* no previous PNG: no diff */
		r = s->diff_against ? sqlite3_bind_int64(st, 26, s->diff_against)
				    : sqlite3_bind_null(st, 26);
	if (r == SQLITE_OK)
		r = s->diff_against ? sqlite3_bind_double(st, 27, s->diff_ratio)
				    : sqlite3_bind_null(st, 27);
	return r;
}

/* Check that snapshot id is pending; its link in *link_id. */
static sc_result cat_snap_pending(struct catalog *c, int64_t id,
				  int64_t *link_id)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_first(c, SQL_SNAP_STATE, &st, &row, "i", id);
	if (rc)
		return rc;
	const char *state = row ? (const char *)sqlite3_column_text(st, 0) : "";
	if (!row)
		rc = cat_errf(c, SC_ERR_NOT_FOUND,
			      "snapshot %" PRId64 " not found", id);
	else if (!state || strcmp(state, "pending"))
		rc = cat_errf(c, SC_ERR_INVALID,
			      "snapshot %" PRId64 " is already finished", id);
	if (row)
		*link_id = sqlite3_column_int64(st, 1);
	cat_reset(st);
	return rc;
}

sc_result catalog_snapshot_finish(struct catalog *c,
				  const struct catalog_snapshot *s)
{
	int64_t link_id = 0, now = cat_now(c);
	sqlite3_stmt *st = NULL;
	int row = 1;
	if (s->state == CATALOG_SNAP_PENDING ||
	    (size_t)s->state >= CAT_COUNT(cat_snap_states))
		return cat_errf(c, SC_ERR_INVALID, "bad snapshot state");
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if ((rc = cat_snap_pending(c, s->id, &link_id)) ||
	    (rc = cat_prepare(c, SQL_SNAP_FINISH, &st)))
		return cat_end(c, rc);
	int r = cat_snap_bind(st, s, now);
	if (r != SQLITE_OK)
		rc = cat_dberr(c, r, "bind");
	while (!rc && row)
		rc = cat_step(c, st, &row);
	cat_reset(st);
	if (rc == SC_ERR_INVALID)
		cat_errf(c, rc, "snapshot timings are not valid JSON");
	if (!rc && s->state != CATALOG_SNAP_FAILED)
		rc = cat_exec(c, SQL_LINK_SET_LAST, "iiTi", link_id, s->id,
			      s->title, cat_caplen(s->title, CATALOG_TITLE_MAX),
			      now);
	return cat_end(c, rc);
}

sc_result catalog_snapshot_get(struct catalog *c, int64_t id, int with_text,
			       struct catalog_snapshot **out)
{
	sqlite3_stmt *st = NULL;
	void *s;
	sc_result rc = cat_stmt(c, SQL_SNAP_GET, &st, "ii", id,
				(int64_t)(with_text != 0));
	rc = cat_get(c, rc, st, sizeof(**out), cat_snap_read, &s, "snapshot",
		     id);
	*out = s;
	return rc;
}

void catalog_snapshot_list_free(struct catalog_snapshot_list **l)
{
	CAT_LIST_FREE(l, cat_snap_clear);
}

sc_result catalog_snapshots_list(struct catalog *c, int64_t link_id,
				 const char *cursor, int limit,
				 struct catalog_snapshot_list **out)
{
	struct catalog_snapshot_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_page p = CAT_PAGE_BY_ID(l, cat_snap_read);
	int64_t before;
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_page_args(c, &limit, cursor, &before);
	if (!rc)
		rc = cat_stmt(c, SQL_SNAPS_LIST, &st, "iii", link_id, before,
			      (int64_t)limit + 1);
	p.limit = (size_t)limit;
	CAT_PAGE_LIST(rc, c, st, p, l, catalog_snapshot_list_free);
	*out = l;
	return rc;
}

sc_result catalog_snapshot_prev(struct catalog *c, int64_t link_id,
				int64_t before_id, struct catalog_png *out)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	memset(out, 0, sizeof(*out));
	sc_result rc = cat_first(c, SQL_SNAP_PREV, &st, &row, "ii", link_id,
				 before_id);
	if (rc)
		return rc;
	if (row) {
		out->id = sqlite3_column_int64(st, 0);
		out->path = cat_col_str(st, 1);
		snprintf(out->sha256, sizeof(out->sha256), "%s",
			 (const char *)sqlite3_column_text(st, 2));
	}
	cat_reset(st);
	return row ? SC_OK : SC_ERR_NOT_FOUND;
}

sc_result catalog_png_by_sha(struct catalog *c, const char *sha256,
			     int64_t except_id, char **path)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	*path = NULL;
	sc_result rc = cat_first(c, SQL_SNAP_BY_SHA, &st, &row, "ti", sha256,
				 except_id);
	if (rc)
		return rc;
	if (row)
		*path = cat_col_str(st, 0);
	cat_reset(st);
	return row ? SC_OK : SC_ERR_NOT_FOUND;
}

sc_result catalog_snapshots_stored(struct catalog *c, int64_t *n,
				   int64_t *png_bytes, int64_t *mhtml_bytes,
				   int64_t *pdf_bytes)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	*n = *png_bytes = *mhtml_bytes = *pdf_bytes = 0;
	sc_result rc = cat_first(c, SQL_SNAPS_STORED, &st, &row, "");
	if (rc)
		return rc;
	if (row) {
		*n = sqlite3_column_int64(st, 0);
		*png_bytes = sqlite3_column_int64(st, 1);
		*mhtml_bytes = sqlite3_column_int64(st, 2);
		*pdf_bytes = sqlite3_column_int64(st, 3);
	}
	cat_reset(st);
	return SC_OK;
}
