/*
 * hooks_store.c — webhooks and the delivery log in the catalog's file (see
 * hooks_store.h). All SQL of the module is here at the top.
 */
#include "hooks_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

#define HS_LOG "hooks"

static const char HS_SCHEMA[] =
	/* AUTOINCREMENT: ids are never reused, so receivers may dedupe on
	 * X-Snapcat-Delivery and clients keep meaning one webhook by an id */
	"CREATE TABLE IF NOT EXISTS webhooks ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" url TEXT NOT NULL,"
	" secret TEXT NOT NULL,"
	" events TEXT NOT NULL,"          /* "job.done,job.failed" */
	" active INTEGER NOT NULL DEFAULT 1,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS webhook_deliveries ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
	" event_id INTEGER NOT NULL,"     /* 0: a ping */
	" event_type TEXT NOT NULL,"
	" payload TEXT NOT NULL,"         /* the exact body sent */
	" state TEXT NOT NULL,"           /* pending sending ok failed */
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at INTEGER,"               /* pending: due then */
	" last_status INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" duration_ms INTEGER NOT NULL DEFAULT 0,"
	" history TEXT NOT NULL DEFAULT '[]'," /* [{at,status,error,ms}] */
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS webhook_deliveries_due"
	" ON webhook_deliveries(state, next_at);"
	"CREATE INDEX IF NOT EXISTS webhook_deliveries_hook"
	" ON webhook_deliveries(webhook_id, id);"
	"CREATE TABLE IF NOT EXISTS webhook_meta ("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static const char HS_TABLES[] =
	"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
	" ('webhooks', 'webhook_deliveries', 'webhook_meta')";
static const char HS_RECOVER[] =
	"UPDATE webhook_deliveries SET state = 'pending', attempts ="
	" max(attempts - 1, 0), next_at = ?1, updated_at = ?1"
	" WHERE state = 'sending'";
static const char HS_CURSOR_INIT[] =
	"INSERT OR IGNORE INTO webhook_meta (key, value)"
	" VALUES ('events_cursor', ?1)";
static const char HS_CURSOR_GET[] =
	"SELECT value FROM webhook_meta WHERE key = 'events_cursor'";
static const char HS_CURSOR_SET[] =
	"UPDATE webhook_meta SET value = max(value, ?1)"
	" WHERE key = 'events_cursor'";

static const char HS_HOOK_COUNT[] = "SELECT count(*) FROM webhooks";
static const char HS_HOOK_ADD[] =
	"INSERT INTO webhooks (url, secret, events, active, created_at,"
	" updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?4)";
/* ?1 = 0: every webhook */
static const char HS_HOOK_SELECT[] =
	"SELECT w.id, w.url, w.secret, w.events, w.active, w.created_at,"
	" w.updated_at,"
	" (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id"
	"  AND d.state IN ('pending', 'sending')),"
	" (SELECT d.state FROM webhook_deliveries d WHERE d.webhook_id = w.id"
	"  ORDER BY d.id DESC LIMIT 1),"
	" (SELECT d.updated_at FROM webhook_deliveries d"
	"  WHERE d.webhook_id = w.id ORDER BY d.id DESC LIMIT 1)"
	" FROM webhooks w WHERE ?1 = 0 OR w.id = ?1 ORDER BY w.id";
static const char HS_HOOK_UPDATE[] =
	"UPDATE webhooks SET url = coalesce(?2, url),"
	" secret = coalesce(?3, secret), events = coalesce(?4, events),"
	" active = CASE WHEN ?5 < 0 THEN active ELSE ?5 END, updated_at = ?6"
	" WHERE id = ?1";
static const char HS_HOOK_DELETE[] = "DELETE FROM webhooks WHERE id = ?1";

static const char HS_INGEST[] =
	"INSERT INTO webhook_deliveries (webhook_id, event_id, event_type,"
	" payload, state, next_at, created_at, updated_at)"
	" SELECT id, ?1, ?2, ?3, 'pending', ?4, ?4, ?4 FROM webhooks"
	" WHERE active = 1 AND instr(',' || events || ',', ',' || ?2 || ',')";
static const char HS_PING[] =
	"INSERT INTO webhook_deliveries (webhook_id, event_id, event_type,"
	" payload, state, next_at, created_at, updated_at)"
	" SELECT id, 0, 'ping', ?2, 'pending', ?3, ?3, ?3 FROM webhooks"
	" WHERE id = ?1";
static const char HS_DUE[] =
	"SELECT d.id, d.webhook_id, d.attempts, w.url, w.secret, d.event_type,"
	" d.payload FROM webhook_deliveries d JOIN webhooks w"
	" ON w.id = d.webhook_id WHERE d.state = 'pending' AND d.next_at <= ?1"
	" AND w.active = 1 ORDER BY d.next_at, d.id LIMIT ?2";
static const char HS_CLAIM[] =
	"UPDATE webhook_deliveries SET state = 'sending',"
	" attempts = attempts + 1, updated_at = ?2 WHERE id = ?1";
static const char HS_NEXT_DUE[] =
	"SELECT min(d.next_at) FROM webhook_deliveries d JOIN webhooks w"
	" ON w.id = d.webhook_id WHERE d.state = 'pending' AND w.active = 1";
static const char HS_RECORD[] =
	"UPDATE webhook_deliveries SET state = ?2, next_at = ?3,"
	" last_status = ?4, last_error = ?5, duration_ms = ?6, updated_at = ?7,"
	" history = json_insert(history, '$[#]', json_object('at', ?8,"
	" 'status', ?4, 'error', ?5, 'ms', ?6))"
	" WHERE id = ?1 AND state = 'sending'";
static const char HS_RELEASE[] =
	"UPDATE webhook_deliveries SET state = 'pending',"
	" attempts = max(attempts - 1, 0), next_at = ?2, updated_at = ?2"
	" WHERE id = ?1 AND state = 'sending'";
static const char HS_PAUSE[] =
	"UPDATE webhooks SET active = 0, updated_at = ?2 WHERE id = ?1";
static const char HS_PRUNE[] =
	"DELETE FROM webhook_deliveries WHERE state IN ('ok', 'failed')"
	" AND id <= coalesce((SELECT id FROM webhook_deliveries"
	" ORDER BY id DESC LIMIT 1 OFFSET ?1), 0)";
static const char HS_LOG_PAGE[] =
	"SELECT id, webhook_id, event_id, event_type, state, payload,"
	" last_error, history, attempts, last_status, duration_ms, next_at,"
	" created_at, updated_at FROM webhook_deliveries"
	" WHERE webhook_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
static const char HS_HOOK_EXISTS[] = "SELECT 1 FROM webhooks WHERE id = ?1";

static const char *const hs_event_names[] = {
	"job.done", "job.failed", "snapshot.changed",
};
#define HS_NEVENTS 3

unsigned hooks_store_event_bit(const char *type)
{
	for (int i = 0; type && i < HS_NEVENTS; i++)
		if (!strcmp(type, hs_event_names[i]))
			return 1u << i;
	return 0;
}

const char *hooks_store_event_name(int i)
{
	return i >= 0 && i < HS_NEVENTS ? hs_event_names[i] : NULL;
}

/* "job.done,snapshot.changed" of the bits, into buf. */
static const char *hs_events_text(unsigned bits, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < HS_NEVENTS; i++)
		if (bits & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? "," : "", hs_event_names[i]);
	return buf;
}

static unsigned hs_events_bits(const char *text)
{
	unsigned bits = 0;
	char one[64];
	for (const char *p = text; p && *p;) {
		size_t k = strcspn(p, ",");
		snprintf(one, sizeof(one), "%.*s", (int)k, p);
		bits |= hooks_store_event_bit(one);
		p += k + (p[k] == ',');
	}
	return bits;
}

/* ---- statements ---- */

static sc_result hs_fail(sqlite3 *db, int code, const char *what)
{
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return SC_ERR_BUSY;
	sc_log(SC_LOG_WARN, HS_LOG, "%s: %s", what, sqlite3_errmsg(db));
	return SC_ERR_DB;
}

static sc_result hs_prep(struct catalog *c, const char *sql,
			 sqlite3_stmt **st)
{
	sqlite3 *db = catalog_sqlite(c);
	int r = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	return r == SQLITE_OK ? SC_OK : hs_fail(db, r, "prepare");
}

/* Step a statement that returns no rows, finalize it. */
static sc_result hs_done(struct catalog *c, sqlite3_stmt *st, int64_t *changes)
{
	sqlite3 *db = catalog_sqlite(c);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return hs_fail(db, r, "step");
	if (changes)
		*changes = sqlite3_changes64(db);
	return SC_OK;
}

static sc_result hs_exec(struct catalog *c, const char *sql)
{
	sqlite3 *db = catalog_sqlite(c);
	int r = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return r == SQLITE_OK ? SC_OK : hs_fail(db, r, sql);
}

static void hs_rollback(struct catalog *c)
{
	(void)sqlite3_exec(catalog_sqlite(c), "ROLLBACK", NULL, NULL, NULL);
}

static sc_result hs_commit(struct catalog *c, sc_result rc)
{
	if (!rc && (rc = hs_exec(c, "COMMIT")) == SC_OK)
		return SC_OK;
	hs_rollback(c);
	return rc;
}

static char *hs_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? sc_xstrdup((const char *)s) : NULL;
}

/* A one-integer query with ?1 = a (if given); *out 0 without a row. */
static sc_result hs_int(struct catalog *c, const char *sql, int64_t a,
			int64_t *out)
{
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, sql, &st);
	if (rc)
		return rc;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, a);
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return hs_fail(catalog_sqlite(c), r, "query");
	return SC_OK;
}

/* ---- set-up ---- */

/* The tables, and the cursor at the newest event if there is none yet. */
static sc_result hs_schema(struct catalog *c)
{
	int64_t newest = 0;
	sqlite3_stmt *st;
	sc_result rc = hs_exec(c, HS_SCHEMA);
	if (!rc)
		rc = catalog_events_bounds(c, NULL, &newest);
	if (!rc && !(rc = hs_prep(c, HS_CURSOR_INIT, &st))) {
		sqlite3_bind_int64(st, 1, newest);
		rc = hs_done(c, st, NULL);
	}
	return rc;
}

sc_result hooks_store_ready(struct catalog *c)
{
	int64_t have = 0;
	sc_result rc = hs_int(c, HS_TABLES, 0, &have);
	return rc || have == 3 ? rc : hs_schema(c);
}

sc_result hooks_store_init(struct catalog *c, int64_t *recovered)
{
	int64_t n = 0;
	sqlite3_stmt *st;
	sc_result rc = hs_exec(c, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	rc = hs_schema(c);
	if (!rc && !(rc = hs_prep(c, HS_RECOVER, &st))) {
		sqlite3_bind_int64(st, 1, sc_wall_ms());
		rc = hs_done(c, st, &n);
	}
	if (recovered)
		*recovered = n;
	return hs_commit(c, rc);
}

/* ---- webhooks ---- */

sc_result hooks_store_add(struct catalog *c, const char *url,
			  const char *secret, unsigned events, int64_t *id)
{
	char ev[128];
	int64_t n = 0;
	sqlite3_stmt *st;
	sc_result rc = hs_int(c, HS_HOOK_COUNT, 0, &n);
	if (rc)
		return rc;
	if (n >= HOOKS_MAX)
		return SC_ERR_BUSY;
	if ((rc = hs_prep(c, HS_HOOK_ADD, &st)))
		return rc;
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hs_events_text(events, ev, sizeof(ev)), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, sc_wall_ms());
	if (!(rc = hs_done(c, st, NULL)))
		*id = sqlite3_last_insert_rowid(catalog_sqlite(c));
	return rc;
}

static void hs_hook_row(sqlite3_stmt *st, struct hooks_webhook *w)
{
	w->id = sqlite3_column_int64(st, 0);
	w->url = hs_str(st, 1);
	w->secret = hs_str(st, 2);
	w->events = hs_events_bits((const char *)sqlite3_column_text(st, 3));
	w->active = sqlite3_column_int(st, 4);
	w->created_at = sqlite3_column_int64(st, 5);
	w->updated_at = sqlite3_column_int64(st, 6);
	w->pending = sqlite3_column_int64(st, 7);
	w->last_state = hs_str(st, 8);
	w->last_at = sqlite3_column_int64(st, 9);
}

static void hs_hook_clear(struct hooks_webhook *w)
{
	free(w->url);
	free(w->secret);
	free(w->last_state);
}

void hooks_webhook_free(struct hooks_webhook **w)
{
	if (!w || !*w)
		return;
	hs_hook_clear(*w);
	free(*w);
	*w = NULL;
}

void hooks_webhook_list_free(struct hooks_webhook_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++)
		hs_hook_clear(&(*l)->items[i]);
	free((*l)->items);
	free(*l);
	*l = NULL;
}

/* Webhook id's row (0: every webhook) into a list. */
static sc_result hs_hooks(struct catalog *c, int64_t id,
			  struct hooks_webhook_list **out)
{
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, HS_HOOK_SELECT, &st);
	*out = NULL;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	struct hooks_webhook_list *l = sc_xcalloc(1, sizeof(*l));
	size_t alloc = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (l->n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			l->items = sc_xrealloc(l->items, alloc * sizeof(*l->items));
		}
		memset(&l->items[l->n], 0, sizeof(l->items[0]));
		hs_hook_row(st, &l->items[l->n++]);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		hooks_webhook_list_free(&l);
		return hs_fail(catalog_sqlite(c), r, "webhooks");
	}
	*out = l;
	return SC_OK;
}

sc_result hooks_store_list(struct catalog *c, struct hooks_webhook_list **out)
{
	return hs_hooks(c, 0, out);
}

sc_result hooks_store_get(struct catalog *c, int64_t id,
			  struct hooks_webhook **out)
{
	struct hooks_webhook_list *l = NULL;
	*out = NULL;
	sc_result rc = id > 0 ? hs_hooks(c, id, &l) : SC_ERR_NOT_FOUND;
	if (!rc && !l->n)
		rc = SC_ERR_NOT_FOUND;
	if (!rc) {
		*out = sc_xmalloc(sizeof(**out));
		**out = l->items[0];
		l->n = 0; /* moved */
	}
	hooks_webhook_list_free(&l);
	return rc;
}

sc_result hooks_store_update(struct catalog *c, int64_t id,
			     const struct hooks_change *ch)
{
	char ev[128];
	int64_t n = 0;
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, HS_HOOK_UPDATE, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (ch->url)
		sqlite3_bind_text(st, 2, ch->url, -1, SQLITE_STATIC);
	if (ch->secret)
		sqlite3_bind_text(st, 3, ch->secret, -1, SQLITE_STATIC);
	if (ch->events)
		sqlite3_bind_text(st, 4, hs_events_text(ch->events, ev,
							sizeof(ev)),
				  -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, ch->active < 0 ? -1 : !!ch->active);
	sqlite3_bind_int64(st, 6, sc_wall_ms());
	if (!(rc = hs_done(c, st, &n)) && !n)
		rc = SC_ERR_NOT_FOUND;
	return rc;
}

sc_result hooks_store_delete(struct catalog *c, int64_t id)
{
	int64_t n = 0;
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, HS_HOOK_DELETE, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (!(rc = hs_done(c, st, &n)) && !n)
		rc = SC_ERR_NOT_FOUND;
	return rc;
}

/* ---- deliveries ---- */

sc_result hooks_store_cursor(struct catalog *c, int64_t *id)
{
	return hs_int(c, HS_CURSOR_GET, 0, id);
}

static sc_result hs_ingest_one(struct catalog *c, const struct hooks_event *e,
			       int64_t now, int64_t *created)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	sc_result rc = hs_prep(c, HS_INGEST, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, e->id);
	sqlite3_bind_text(st, 2, e->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if (!(rc = hs_done(c, st, &n)))
		*created += n;
	return rc;
}

sc_result hooks_store_ingest(struct catalog *c, const struct hooks_event *ev,
			     size_t n, int64_t *created)
{
	int64_t cursor = 0, made = 0, top = 0, now = sc_wall_ms();
	sqlite3_stmt *st;
	sc_result rc = hs_exec(c, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	rc = hooks_store_cursor(c, &cursor);
	for (size_t i = 0; !rc && i < n; i++) {
		if (ev[i].id <= cursor)
			continue; /* replayed at start-up already */
		rc = hs_ingest_one(c, &ev[i], now, &made);
		top = ev[i].id > top ? ev[i].id : top;
	}
	if (!rc && top && !(rc = hs_prep(c, HS_CURSOR_SET, &st))) {
		sqlite3_bind_int64(st, 1, top);
		rc = hs_done(c, st, NULL);
	}
	if (created)
		*created = rc ? 0 : made;
	return hs_commit(c, rc);
}

sc_result hooks_store_ping(struct catalog *c, int64_t id, const char *payload,
			   int64_t *delivery)
{
	int64_t n = 0;
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, HS_PING, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, sc_wall_ms());
	if (!(rc = hs_done(c, st, &n)) && !n)
		rc = SC_ERR_NOT_FOUND;
	if (!rc)
		*delivery = sqlite3_last_insert_rowid(catalog_sqlite(c));
	return rc;
}

void hooks_claim_list_free(struct hooks_claim_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++) {
		struct hooks_claim *k = &(*l)->items[i];
		free(k->url);
		free(k->secret);
		free(k->type);
		free(k->payload);
	}
	free((*l)->items);
	free(*l);
	*l = NULL;
}

/* The due rows into l (max of them). */
static sc_result hs_due(struct catalog *c, int64_t now, int max,
			struct hooks_claim_list *l)
{
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, HS_DUE, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, max);
	l->items = sc_xcalloc((size_t)max, sizeof(*l->items));
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW && l->n < (size_t)max) {
		struct hooks_claim *k = &l->items[l->n++];
		k->id = sqlite3_column_int64(st, 0);
		k->webhook_id = sqlite3_column_int64(st, 1);
		k->attempt = sqlite3_column_int(st, 2) + 1;
		k->url = hs_str(st, 3);
		k->secret = hs_str(st, 4);
		k->type = hs_str(st, 5);
		k->payload = hs_str(st, 6);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return hs_fail(catalog_sqlite(c), r, "due deliveries");
	return SC_OK;
}

sc_result hooks_store_claim(struct catalog *c, int64_t now, int max,
			    struct hooks_claim_list **out)
{
	sqlite3_stmt *st;
	*out = NULL;
	sc_result rc = hs_exec(c, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	struct hooks_claim_list *l = sc_xcalloc(1, sizeof(*l));
	rc = hs_due(c, now, max > 0 ? max : 1, l);
	for (size_t i = 0; !rc && i < l->n; i++) {
		if ((rc = hs_prep(c, HS_CLAIM, &st)))
			break;
		sqlite3_bind_int64(st, 1, l->items[i].id);
		sqlite3_bind_int64(st, 2, now);
		rc = hs_done(c, st, NULL);
	}
	if ((rc = hs_commit(c, rc))) {
		hooks_claim_list_free(&l);
		return rc;
	}
	*out = l;
	return SC_OK;
}

sc_result hooks_store_next_due(struct catalog *c, int64_t *at)
{
	return hs_int(c, HS_NEXT_DUE, 0, at);
}

sc_result hooks_store_record(struct catalog *c, int64_t id,
			     const struct hooks_outcome *o)
{
	char at[40];
	int64_t n = 0;
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, HS_RECORD, &st);
	if (rc)
		return rc;
	sc_iso8601(o->at, at, sizeof(at));
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, o->state, -1, SQLITE_STATIC);
	if (!strcmp(o->state, "pending"))
		sqlite3_bind_int64(st, 3, o->next_at);
	sqlite3_bind_int(st, 4, o->status);
	if (o->error)
		sqlite3_bind_text(st, 5, o->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, o->duration_ms);
	sqlite3_bind_int64(st, 7, sc_wall_ms());
	sqlite3_bind_text(st, 8, at, -1, SQLITE_STATIC);
	if (!(rc = hs_done(c, st, &n)) && !n)
		rc = SC_ERR_NOT_FOUND;
	return rc;
}

/* An UPDATE of one row by ?1 = id with ?2 = now. */
static sc_result hs_touch(struct catalog *c, const char *sql, int64_t id)
{
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, sql, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, sc_wall_ms());
	return hs_done(c, st, NULL);
}

sc_result hooks_store_release(struct catalog *c, int64_t id)
{
	return hs_touch(c, HS_RELEASE, id);
}

sc_result hooks_store_pause(struct catalog *c, int64_t id)
{
	return hs_touch(c, HS_PAUSE, id);
}

sc_result hooks_store_prune(struct catalog *c, int64_t keep)
{
	sqlite3_stmt *st;
	sc_result rc = hs_prep(c, HS_PRUNE, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, keep);
	return hs_done(c, st, NULL);
}

static void hs_delivery_row(sqlite3_stmt *st, struct hooks_delivery *d)
{
	d->id = sqlite3_column_int64(st, 0);
	d->webhook_id = sqlite3_column_int64(st, 1);
	d->event_id = sqlite3_column_int64(st, 2);
	d->type = hs_str(st, 3);
	d->state = hs_str(st, 4);
	d->payload = hs_str(st, 5);
	d->last_error = hs_str(st, 6);
	d->history = hs_str(st, 7);
	d->attempts = sqlite3_column_int(st, 8);
	d->last_status = sqlite3_column_int(st, 9);
	d->duration_ms = sqlite3_column_int64(st, 10);
	d->next_at = sqlite3_column_int64(st, 11);
	d->created_at = sqlite3_column_int64(st, 12);
	d->updated_at = sqlite3_column_int64(st, 13);
}

static void hs_delivery_clear(struct hooks_delivery *d)
{
	free(d->type);
	free(d->state);
	free(d->payload);
	free(d->last_error);
	free(d->history);
}

void hooks_delivery_list_free(struct hooks_delivery_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++)
		hs_delivery_clear(&(*l)->items[i]);
	free((*l)->items);
	free(*l);
	*l = NULL;
}

sc_result hooks_store_deliveries(struct catalog *c, int64_t id,
				 int64_t before, int limit,
				 struct hooks_delivery_list **out)
{
	int64_t exists = 0;
	sqlite3_stmt *st;
	*out = NULL;
	if (limit <= 0)
		limit = 20;
	sc_result rc = hs_int(c, HS_HOOK_EXISTS, id, &exists);
	if (!rc && !exists)
		rc = SC_ERR_NOT_FOUND;
	if (rc || (rc = hs_prep(c, HS_LOG_PAGE, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 3, limit + 1); /* one more: is there a next page */
	struct hooks_delivery_list *l = sc_xcalloc(1, sizeof(*l));
	l->items = sc_xcalloc((size_t)limit + 1, sizeof(*l->items));
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		hs_delivery_row(st, &l->items[l->n++]);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		hooks_delivery_list_free(&l);
		return hs_fail(catalog_sqlite(c), r, "deliveries");
	}
	if (l->n > (size_t)limit) { /* the extra row only says "more" */
		l->next_cursor = l->items[limit - 1].id;
		hs_delivery_clear(&l->items[limit]);
		l->n = (size_t)limit;
	}
	*out = l;
	return SC_OK;
}
