/*
 * catalog_search.c — one page of links: the list planner and full-text
 * search (catalog_links_list, see catalog.h).
 *
 *   GET /api/links?tag=..&q=..&cursor=.. -> catalog_links_list
 *     -> cat_tagset_make (tags) + cat_fts_build (q -> a safe FTS5
 *        expression) -> cat_plan (which index to walk) -> cat_plan_stmt
 *     -> cat_page_read (limit + 1 rows; next_cursor "<created_at>_<id>")
 *
 * Lists: newest first is also id order (created_at never decreases with
 * id, migration 2), so a page of links walks one index in id order -- all
 * links, one tag's part of link_tags_tag, or the FTS index's rowids -- and
 * stops when the page is full; tags.nlinks (kept by triggers) tells
 * cat_plan() which walk skips the fewest rows. No list sorts its whole
 * result set; only "any of these tags" gathers ids first, when they are few.
 * User text reaches MATCH only through cat_fts_build().
 */
#include "catalog_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/*
 * The link lists (see cat_plan for which runs when). Newest first is
 * (created_at, id) descending, which is also id descending (migration 2):
 * each list walks one index in id order and stops after ?5 rows.
 *   ?1, ?2  cursor (created_at, id): rows before it
 *   ?3, ?4  JSON array of tag ids, and how many of them a link needs
 *           (0: no tag filter)
 *   ?5      limit
 *   ?6      what drives the walk: a tag id, a JSON array of tag ids or an
 *           FTS5 expression
 * LINKS_WHERE(ID) is the cursor and tag filter on link ID; LINKS_START the
 * newest link id before the cursor, where a walk begins.
 */
#define LINKS_WHERE(ID)                                                      \
	"(l.created_at, l.id) < (?1, ?2) "                                   \
	"AND (?4 = 0 OR (SELECT count(*) FROM link_tags x "                  \
	"  WHERE x.link_id = " ID " AND x.tag_id IN "                        \
	"  (SELECT value FROM json_each(?3))) >= ?4) "
#define LINKS_START                                                          \
	"(SELECT id FROM links WHERE (created_at, id) < (?1, ?2) "           \
	"ORDER BY created_at DESC, id DESC LIMIT 1)"

/* every link, newest first: the created_at index */
static const char SQL_LINKS_LIST[] =
	"SELECT " LINK_COLS "FROM links l WHERE " LINKS_WHERE("l.id")
	"ORDER BY l.created_at DESC, l.id DESC LIMIT ?5";
/* the links of tag ?6: its part of the link_tags_tag index; ?7 an FTS5
 * expression each must match too (NULL: none) */
static const char SQL_LINKS_BY_TAG[] =
	"SELECT " LINK_COLS "FROM link_tags d CROSS JOIN links l "
	"ON l.id = d.link_id WHERE d.tag_id = ?6 AND d.link_id <= "
	LINKS_START " AND " LINKS_WHERE("d.link_id")
	"AND (?7 IS NULL OR EXISTS (SELECT 1 FROM links_fts WHERE "
	"links_fts MATCH ?7 AND links_fts.rowid = d.link_id)) "
	"ORDER BY d.link_id DESC LIMIT ?5";
/* the links of any of the tags ?6: their ids gathered, then walked */
static const char SQL_LINKS_BY_TAGS[] =
	"SELECT " LINK_COLS "FROM links l WHERE l.id IN (SELECT link_id "
	"FROM link_tags WHERE tag_id IN (SELECT value FROM json_each(?6))) "
	"AND l.id <= " LINKS_START " AND " LINKS_WHERE("l.id")
	"ORDER BY l.id DESC LIMIT ?5";
/* the links whose text matches ?6: FTS5 yields rowids in order */
static const char SQL_LINKS_BY_FTS[] =
	"SELECT " LINK_COLS "FROM links_fts CROSS JOIN links l "
	"ON l.id = links_fts.rowid WHERE links_fts MATCH ?6 "
	"AND links_fts.rowid <= " LINKS_START " AND "
	LINKS_WHERE("links_fts.rowid")
	"ORDER BY links_fts.rowid DESC LIMIT ?5";
static const char SQL_LINKS_MAX_ID[] = "SELECT coalesce(max(id), 0) FROM links";
static const char SQL_TAG_PLAN[] = "SELECT id, nlinks FROM tags WHERE name = ?1";

/* ============================== search text ============================ */

/* Does s[0..n) hold something the tokenizer indexes (letter, digit,
 * any non-ASCII character)? */
static int cat_has_word(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x80 || (ch >= '0' && ch <= '9') ||
		    ((ch | 32) >= 'a' && (ch | 32) <= 'z'))
			return 1;
	}
	return 0;
}

/*
 * Turn user text into an FTS5 expression that cannot be a syntax error:
 * each white-space separated word becomes a quoted string ("" inside for
 * a quote), so FTS5 only tokenizes it; a trailing '*' becomes a prefix
 * query on that string. Words without letters or digits are dropped.
 * b->len is 0 if nothing is left.
 */
static sc_result cat_fts_build(struct catalog *c, const char *q,
			       struct sc_buf *b)
{
	if (strnlen(q, CATALOG_QUERY_MAX + 1) > CATALOG_QUERY_MAX)
		return cat_errf(c, SC_ERR_TOO_LARGE, "search over %d bytes",
				CATALOG_QUERY_MAX);
	int terms = 0;
	sc_result rc = SC_OK;
	for (const char *p = q; *p && !rc;) {
		while (cat_isspace((unsigned char)*p))
			p++;
		const char *w = p;
		while (*p && !cat_isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - w);
		int prefix = 0;
		while (n && w[n - 1] == '*')
			n--, prefix = 1;
		if (!cat_has_word(w, n))
			continue;
		if (++terms > CATALOG_QUERY_TERMS)
			return cat_errf(c, SC_ERR_TOO_LARGE,
					"search over %d words",
					CATALOG_QUERY_TERMS);
		rc = sc_buf_appends(b, b->len ? " \"" : "\"");
		for (size_t i = 0; !rc && i < n; i++)
			rc = w[i] == '"' ? sc_buf_appends(b, "\"\"")
					 : sc_buf_append(b, &w[i], 1);
		if (!rc)
			rc = sc_buf_appends(b, prefix ? "\"*" : "\"");
	}
	return rc ? cat_errf(c, rc, "search: %s", sc_strerror(rc)) : SC_OK;
}


/* ================================ cursors ============================== */

/* The (created_at, id) cursor of links: "<created_at>_<id>". */
static sc_result cat_link_cursor(struct catalog *c, const char *cur,
				 int64_t *ts, int64_t *id)
{
	*ts = INT64_MAX;
	*id = INT64_MAX;
	if (!cur || !*cur)
		return SC_OK;
	const char *sep = strchr(cur, '_');
	if (!sep || cat_parse_i64(cur, sep, ts) ||
	    cat_parse_i64(sep + 1, sep + 1 + strlen(sep + 1), id) || *id < 1)
		return cat_errf(c, SC_ERR_INVALID, "bad cursor");
	return SC_OK;
}

/* next_cursor of a page that ends with link last. */
static void cat_link_cursor_of(const void *last, char *buf, size_t len)
{
	const struct catalog_link *l = last;
	snprintf(buf, len, "%" PRId64 "_%" PRId64, l->created_at, l->id);
}

void catalog_link_list_free(struct catalog_link_list **l)
{
	CAT_LIST_FREE(l, cat_link_clear);
}

/* ================================ plans ================================ */

/*
 * How a page of links is read: every list walks one index newest first
 * (id descending, see migration 2) and stops after limit + 1 rows that
 * pass the filters, so its cost is the rows it must skip, never the size of
 * the catalog or of a sort:
 *   q given            the FTS index (rowids in order), tags filter each
 *                      row; but with a rare tag (of one, or the rarest of
 *                      "all"): that tag's links, the text checked for each
 *   tags, all of them  the rarest tag's links; the others filter each row
 *   tags, any of them  few links in all: their ids gathered (one sort of
 *                      the tags' links); many: every link, tags filter each
 *   nothing            every link
 * A walk filtered by a tag carried by n of N links visits about
 * (limit + 1) * N / n rows before it has its page (N: the largest link id).
 */
struct cat_links_plan {
	const char *sql; /* the statement that reads the page */
	cJSON *ids;      /* the filter's known tag ids (?3) */
	int64_t need;    /* ?4: 0 no tag filter */
	int64_t drive;   /* ?6 of SQL_LINKS_BY_TAG: the rarest tag */
	int64_t fewest;  /* its links */
	int64_t sum;     /* links of all the tags, with repeats */
	int64_t most;    /* links of the most used tag */
	int none;        /* no link can match (a tag of "all" is unknown) */
	int probe;       /* SQL_LINKS_BY_TAG checks the text (?7) */
};

/* Relative costs, in rows walked: gathering one tagged id costs about 1/4
 * of a walked row (CAT_GATHER_COST), checking one link's text about 60
 * (CAT_PROBE_COST; an FTS5 query per link). A few ids are always gathered. */
#define CAT_GATHER_COST 4
#define CAT_PROBE_COST 60
#define CAT_GATHER_ALWAYS 2000

/* Look the tags up (id, links) into p. */
static sc_result cat_plan_tags(struct catalog *c, const struct cat_tagset *ts,
			       enum catalog_match match,
			       struct cat_links_plan *p)
{
	p->fewest = INT64_MAX;
	for (size_t i = 0; i < ts->n; i++) {
		sqlite3_stmt *st = NULL;
		int row = 0;
		sc_result rc = cat_stmt(c, SQL_TAG_PLAN, &st, "t", ts->v[i]);
		if (rc || (rc = cat_step(c, st, &row)))
			return rc;
		int64_t id = row ? sqlite3_column_int64(st, 0) : 0;
		int64_t n = row ? sqlite3_column_int64(st, 1) : 0;
		cat_reset(st);
		if (!row) {
			p->none |= match == CATALOG_MATCH_ALL;
			continue;
		}
		cJSON *v = cJSON_CreateNumber((double)id);
		if (!v || !cJSON_AddItemToArray(p->ids, v)) {
			cJSON_Delete(v);
			return cat_errf(c, SC_ERR_NOMEM, "tag list");
		}
		if (n < p->fewest)
			p->fewest = n, p->drive = id;
		p->sum += n;
		p->most = n > p->most ? n : p->most;
	}
	int known = cJSON_GetArraySize(p->ids);
	p->none |= !known;
	p->need = match == CATALOG_MATCH_ALL ? known : 1;
	return SC_OK;
}

static sc_result cat_plan(struct catalog *c, const struct cat_tagset *ts,
			  const struct catalog_link_query *q, int has_fts,
			  int limit, struct cat_links_plan *p)
{
	p->sql = has_fts ? SQL_LINKS_BY_FTS : SQL_LINKS_LIST;
	if (!ts->n)
		return SC_OK;
	sc_result rc = cat_plan_tags(c, ts, q->match, p);
	if (rc || p->none)
		return rc;
	int one = cJSON_GetArraySize(p->ids) == 1 ||
		  q->match == CATALOG_MATCH_ALL;
	int64_t links = 0;
	if ((has_fts || !one) && (rc = cat_int(c, SQL_LINKS_MAX_ID, &links, "")))
		return rc;
	/* rows a walk filtered by the rarest / the most used tag visits */
	int64_t rare_walk = (limit + 1) * (links / (p->fewest ? p->fewest : 1));
	int64_t most_walk = (limit + 1) * (links / (p->most ? p->most : 1));
	if (one && (!has_fts || p->fewest * CAT_PROBE_COST < rare_walk)) {
		p->sql = SQL_LINKS_BY_TAG;
		p->probe = has_fts;
		p->need = p->need > 1 ? p->need : 0; /* the walk is the filter */
	} else if (!one && !has_fts &&
		   (p->sum <= CAT_GATHER_ALWAYS ||
		    p->sum <= CAT_GATHER_COST * most_walk)) {
		p->sql = SQL_LINKS_BY_TAGS;
		p->need = 0; /* the gathered ids are the filter */
	}
	return SC_OK;
}

/* Bind the plan's statement. */
static sc_result cat_plan_stmt(struct catalog *c, const struct cat_links_plan *p,
			       const char *ids, int64_t cts, int64_t cid,
			       int limit, const char *fts, sqlite3_stmt **st)
{
	int64_t lim = (int64_t)limit + 1;
	if (p->sql == SQL_LINKS_BY_TAG)
		return cat_stmt(c, p->sql, st, "iitiiit", cts, cid, ids, p->need,
				lim, p->drive, p->probe ? fts : NULL);
	if (p->sql == SQL_LINKS_BY_TAGS)
		return cat_stmt(c, p->sql, st, "iitiit", cts, cid, ids, p->need,
				lim, ids);
	if (p->sql == SQL_LINKS_BY_FTS)
		return cat_stmt(c, p->sql, st, "iitiit", cts, cid, ids, p->need,
				lim, fts);
	return cat_stmt(c, SQL_LINKS_LIST, st, "iitii", cts, cid, ids, p->need,
			lim);
}

/* Read the page st gives (limit + 1 rows asked) into l. */
static sc_result cat_links_fetch(struct catalog *c, sqlite3_stmt *st,
				 int limit, struct catalog_link_list *l)
{
	struct cat_page p = {.size = sizeof(*l->items), .read = cat_link_read,
			     .limit = (size_t)limit,
			     .cursor = cat_link_cursor_of,
			     .next = l->next_cursor,
			     .nextlen = sizeof(l->next_cursor)};
	sc_result rc = cat_page_read(c, st, &p);
	l->items = p.items;
	l->n = p.n;
	return rc;
}

sc_result catalog_links_list(struct catalog *c,
			     const struct catalog_link_query *q,
			     struct catalog_link_list **out)
{
	struct catalog_link_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_tagset ts = {0};
	struct cat_links_plan p = {.ids = cJSON_CreateArray()};
	struct sc_buf fts;
	char *ids = NULL;
	int64_t cts = 0, cid = 0;
	int limit = 0;
	sqlite3_stmt *st = NULL;
	sc_buf_init(&fts, 8 * CATALOG_QUERY_MAX);
	sc_result rc;
	if (!p.ids)
		rc = cat_errf(c, SC_ERR_NOMEM, "tag list");
	else if (!(rc = cat_limit(c, q->limit, &limit)) &&
		 !(rc = cat_link_cursor(c, q->cursor, &cts, &cid)) &&
		 !(rc = cat_tagset_make(c, q->tags, q->ntags, &ts)) &&
		 !(q->q && (rc = cat_fts_build(c, q->q, &fts))))
		rc = cat_plan(c, &ts, q, fts.len > 0, limit, &p);
	if (rc || p.none)
		goto out;
	if (!(ids = cJSON_PrintUnformatted(p.ids)))
		rc = cat_errf(c, SC_ERR_NOMEM, "tag list");
	else if (!(rc = cat_plan_stmt(c, &p, ids, cts, cid, limit, fts.data,
				      &st)))
		rc = cat_links_fetch(c, st, limit, l);
out:
	if (rc)
		catalog_link_list_free(&l);
	*out = l;
	cJSON_free(ids);
	cJSON_Delete(p.ids);
	free(ts.v);
	sc_buf_free(&fts);
	return rc;
}

