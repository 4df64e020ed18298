/*
 * catalog_events.c — the bounded event log that subscribers resume from
 * (see catalog.h).
 *
 *   app event bus -> catalog_event_append (id) -> feeds, webhooks
 *   GET /api/events?after=N, a WebSocket resume -> catalog_events_list,
 *     catalog_events_bounds (did the subscriber miss pruned events?)
 *   housekeeping -> catalog_events_prune (keep the newest N)
 *
 * Ids are AUTOINCREMENT, so never reused even after a prune emptied the
 * table (sqlite_sequence remembers); an id given out while the disk was
 * full (catalog_events_skip) is skipped by the next append. The event bus
 * (service/bus.c) chooses its ids itself (catalog_event_put): consecutive
 * in commit order, an id it gave live-only skipped the same way.
 */
#include "catalog_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char SQL_EVENT_INSERT[] =
	"INSERT INTO events(id, type, ts, job_id, link_id, json) "
	"VALUES (CASE WHEN ?6 > coalesce((SELECT seq FROM "
	"sqlite_sequence WHERE name = 'events'), 0) THEN ?6 END, "
	"?1, ?2, ?3, ?4, ?5)";
static const char SQL_EVENTS_LIST[] =
	"SELECT id, type, ts, coalesce(job_id, 0), coalesce(link_id, 0), "
	"json FROM events WHERE id > ?1 AND (?2 = 0 OR job_id = ?2) "
	"AND (?3 = 0 OR link_id = ?3) AND (?4 IS NULL OR type IN "
	"(SELECT value FROM json_each(?4))) ORDER BY id LIMIT ?5";
static const char SQL_EVENTS_BOUNDS[] =
	"SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM events";
static const char SQL_EVENTS_SEQ[] =
	"SELECT seq FROM sqlite_sequence WHERE name = 'events'";
static const char SQL_EVENTS_PRUNE[] =
	"DELETE FROM events WHERE id <= coalesce((SELECT id FROM events "
	"ORDER BY id DESC LIMIT 1 OFFSET ?1), 0)";

sc_result catalog_event_put(struct catalog *c, int64_t want_id,
			    const char *type, int64_t ts_ms, int64_t job_id,
			    int64_t link_id, const char *json, int64_t *id)
{
	if (!type || !*type || strlen(type) > 64)
		return cat_errf(c, SC_ERR_INVALID, "event type must be 1..64 "
				"bytes");
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	rc = cat_exec(c, SQL_EVENT_INSERT, "tizzti", type,
		      ts_ms ? ts_ms : cat_now(c), job_id, link_id,
		      json ? json : "{}", want_id);
	if (rc == SC_ERR_INVALID &&
	    sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_CHECK)
		cat_errf(c, rc, "event JSON is not valid");
	if (!rc)
		*id = sqlite3_last_insert_rowid(c->db);
	return cat_end(c, rc);
}

sc_result catalog_event_append(struct catalog *c, const char *type,
			       int64_t ts_ms, int64_t job_id, int64_t link_id,
			       const char *json, int64_t *id)
{
	return catalog_event_put(c, c->event_floor ? c->event_floor + 1 : 0,
				 type, ts_ms, job_id, link_id, json, id);
}

void catalog_events_skip(struct catalog *c, int64_t id)
{
	if (id > c->event_floor)
		c->event_floor = id;
}

#define EC(f, k) CAT_COL(struct catalog_event, f, k)
/* SQL_EVENTS_LIST's columns */
static const struct cat_col cat_event_cols[] = {
	EC(id, I64), EC(type, STR), EC(ts, I64), EC(job_id, I64),
	EC(link_id, I64), EC(json, STR),
};
#undef EC

static void cat_event_read(sqlite3_stmt *st, void *item)
{
	cat_cols_read(st, item, cat_event_cols, CAT_COUNT(cat_event_cols));
}

static void cat_event_clear(void *item)
{
	cat_cols_clear(item, cat_event_cols, CAT_COUNT(cat_event_cols));
}

void catalog_event_list_free(struct catalog_event_list **l)
{
	CAT_LIST_FREE(l, cat_event_clear);
}

/* The type filter as a JSON array text (cJSON_free it), NULL for none. */
static sc_result cat_types_json(struct catalog *c,
				const struct catalog_event_filter *f,
				char **json)
{
	*json = NULL;
	if (!f || !f->types || !f->ntypes)
		return SC_OK;
	if (f->ntypes > 64)
		return cat_errf(c, SC_ERR_TOO_LARGE, "more than 64 event types");
	cJSON *a = cJSON_CreateStringArray(f->types, (int)f->ntypes);
	*json = a ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	return *json ? SC_OK : cat_errf(c, SC_ERR_NOMEM, "event types");
}

sc_result catalog_events_list(struct catalog *c, int64_t after_id,
			      const struct catalog_event_filter *f, int limit,
			      struct catalog_event_list **out)
{
	struct catalog_event_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_page p = {.size = sizeof(*l->items), .read = cat_event_read};
	char *types = NULL;
	sqlite3_stmt *st = NULL;
	sc_result rc;
	if (!(rc = cat_limit(c, limit, &limit)) &&
	    !(rc = cat_types_json(c, f, &types)))
		rc = cat_stmt(c, SQL_EVENTS_LIST, &st, "iiiti", after_id,
			      f ? f->job_id : 0, f ? f->link_id : 0, types,
			      (int64_t)limit);
	CAT_PAGE_LIST(rc, c, st, p, l, catalog_event_list_free);
	cJSON_free(types);
	*out = l;
	return rc;
}

sc_result catalog_events_bounds(struct catalog *c, int64_t *oldest,
				int64_t *newest)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	int64_t lo = 0, hi = 0;
	sc_result rc = cat_first(c, SQL_EVENTS_BOUNDS, &st, &row, "");
	if (rc)
		return rc;
	if (row) {
		lo = sqlite3_column_int64(st, 0);
		hi = sqlite3_column_int64(st, 1);
	}
	cat_reset(st);
	if (!hi) { /* emptied by a prune: the sequence remembers */
		rc = cat_int(c, SQL_EVENTS_SEQ, &hi, "");
		if (rc == SC_ERR_NOT_FOUND)
			rc = SC_OK;
	}
	if (!rc && oldest)
		*oldest = lo;
	if (!rc && newest)
		*newest = hi;
	return rc;
}

sc_result catalog_events_prune(struct catalog *c, int64_t keep,
			       int64_t *deleted)
{
	if (keep < 0)
		return cat_errf(c, SC_ERR_INVALID, "keep must be >= 0");
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	rc = cat_exec(c, SQL_EVENTS_PRUNE, "i", keep);
	if (!rc && deleted)
		*deleted = c->changes;
	return cat_end(c, rc);
}

