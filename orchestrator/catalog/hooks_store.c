/*
 * hooks_store.c — webhooks and the delivery log in the catalog's file (see
 * hooks_store.h), on the catalog's db layer (catalog_int.h): the same
 * statement cache, transactions, errors and fault hook as every catalog
 * call. The tables are the catalog's migration 6 (catalog_schema.c). All
 * SQL of the module is here at the top.
 *
 *   hooks.c (sender thread) / api_hooks.c, units on the writer (reads of
 *   api_hooks.c on a reader)
 *     -> hooks_store_* -> cat_begin -> cat_stmt/cat_exec -> cat_end
 */
#include "hooks_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "evtype.h"

static const char HS_CURSOR_COUNT[] =
	"SELECT count(*) FROM webhook_meta WHERE key = 'events_cursor'";
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
/* next_at only while pending */
static const char HS_RECORD[] =
	"UPDATE webhook_deliveries SET state = ?2,"
	" next_at = CASE WHEN ?2 = 'pending' THEN ?3 END,"
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

/* The types a webhook may subscribe to, in bit order. */
static const enum evtype hs_events[] = {
	EV_JOB_DONE, EV_JOB_FAILED, EV_SNAPSHOT_CHANGED,
};
#define HS_NEVENTS 3

unsigned hooks_store_event_bit(const char *type)
{
	enum evtype t = evtype_parse(type);
	for (int i = 0; i < HS_NEVENTS; i++)
		if (t == hs_events[i])
			return 1u << i;
	return 0;
}

const char *hooks_store_event_name(int i)
{
	return i >= 0 && i < HS_NEVENTS ? evtype_name(hs_events[i]) : NULL;
}

/* "job.done,snapshot.changed" of the bits, into buf. */
static const char *hs_events_text(unsigned bits, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < HS_NEVENTS; i++)
		if (bits & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? "," : "",
					      evtype_name(hs_events[i]));
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

/* One statement in a write transaction of its own (NORMAL sync, like the
 * other machine writes); *changes (may be NULL): the rows it changed. */
static sc_result hs_write(struct catalog *c, const char *sql,
			  int64_t *changes, const char *fmt, ...)
{
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = cat_vexec(c, sql, fmt, ap);
	va_end(ap);
	if (!rc && changes)
		*changes = c->changes;
	return cat_end(c, rc);
}

/* A one-row write: SC_ERR_NOT_FOUND if it changed nothing. */
static sc_result hs_write1(sc_result rc, int64_t changes)
{
	return !rc && !changes ? SC_ERR_NOT_FOUND : rc;
}

/* A one-integer query without parameters; *out 0 without a row or with a
 * NULL. */
static sc_result hs_int(struct catalog *c, const char *sql, int64_t *out)
{
	*out = 0;
	sc_result rc = cat_int(c, sql, out, "");
	return rc == SC_ERR_NOT_FOUND ? SC_OK : rc;
}

/* ---- set-up ---- */

/* The ingest cursor at the newest event, if there is none yet (the
 * sender's first start: no history is replayed). Inside a transaction. */
static sc_result hs_cursor_init(struct catalog *c)
{
	int64_t newest = 0;
	sc_result rc = catalog_events_bounds(c, NULL, &newest);
	return rc ? rc : cat_exec(c, HS_CURSOR_INIT, "i", newest);
}

sc_result hooks_store_ready(struct catalog *c)
{
	int64_t have = 0;
	sc_result rc = hs_int(c, HS_CURSOR_COUNT, &have);
	if (rc || have)
		return rc;
	if ((rc = cat_begin(c, 0)))
		return rc;
	return cat_end(c, hs_cursor_init(c));
}

sc_result hooks_store_init(struct catalog *c, int64_t *recovered)
{
	int64_t n = 0;
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	if (!(rc = hs_cursor_init(c)) &&
	    !(rc = cat_exec(c, HS_RECOVER, "i", sc_wall_ms())))
		n = c->changes;
	if (recovered)
		*recovered = n;
	return cat_end(c, rc);
}

/* ---- webhooks ---- */

sc_result hooks_store_add(struct catalog *c, const char *url,
			  const char *secret, unsigned events, int64_t *id)
{
	char ev[128];
	int64_t n = 0;
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	if (!(rc = hs_int(c, HS_HOOK_COUNT, &n)) && n >= HOOKS_MAX)
		rc = SC_ERR_BUSY;
	if (!rc)
		rc = cat_exec(c, HS_HOOK_ADD, "ttti", url, secret,
			      hs_events_text(events, ev, sizeof(ev)),
			      sc_wall_ms());
	if (!rc)
		*id = sqlite3_last_insert_rowid(c->db);
	return cat_end(c, rc);
}

#define HC(f, k) CAT_COL(struct hooks_webhook, f, k)
/* HS_HOOK_SELECT's columns (events: hs_hook_row) */
static const struct cat_col hs_hook_cols[] = {
	HC(id, I64), HC(url, STR), HC(secret, STR), CAT_COL_SKIP,
	HC(active, INT), HC(created_at, I64), HC(updated_at, I64),
	HC(pending, I64), HC(last_state, STR), HC(last_at, I64),
};
#undef HC

static void hs_hook_row(sqlite3_stmt *st, void *item)
{
	struct hooks_webhook *w = item;
	cat_cols_read(st, w, hs_hook_cols, CAT_COUNT(hs_hook_cols));
	w->events = hs_events_bits((const char *)sqlite3_column_text(st, 3));
}

static void hs_hook_clear(void *item)
{
	cat_cols_clear(item, hs_hook_cols, CAT_COUNT(hs_hook_cols));
}

void hooks_webhook_free(struct hooks_webhook **w)
{
	CAT_ITEM_FREE(w, hs_hook_clear);
}

void hooks_webhook_list_free(struct hooks_webhook_list **l)
{
	CAT_LIST_FREE(l, hs_hook_clear);
}

/* Webhook id's row (0: every webhook) into a list. */
static sc_result hs_hooks(struct catalog *c, int64_t id,
			  struct hooks_webhook_list **out)
{
	struct hooks_webhook_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_page p = {.size = sizeof(*l->items), .read = hs_hook_row};
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_stmt(c, HS_HOOK_SELECT, &st, "i", id);
	CAT_PAGE_LIST(rc, c, st, p, l, hooks_webhook_list_free);
	*out = l;
	return rc;
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
	sc_result rc = hs_write(c, HS_HOOK_UPDATE, &n, "itttii", id, ch->url,
				ch->secret,
				ch->events ? hs_events_text(ch->events, ev,
							    sizeof(ev))
					   : NULL,
				(int64_t)(ch->active < 0 ? -1 : !!ch->active),
				sc_wall_ms());
	return hs_write1(rc, n);
}

sc_result hooks_store_delete(struct catalog *c, int64_t id)
{
	int64_t n = 0;
	sc_result rc = hs_write(c, HS_HOOK_DELETE, &n, "i", id);
	return hs_write1(rc, n);
}

/* ---- deliveries ---- */

sc_result hooks_store_cursor(struct catalog *c, int64_t *id)
{
	return hs_int(c, HS_CURSOR_GET, id);
}

sc_result hooks_store_ingest(struct catalog *c, const struct hooks_event *ev,
			     size_t n, int64_t *created)
{
	int64_t cursor = 0, made = 0, top = 0, now = sc_wall_ms();
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	rc = hooks_store_cursor(c, &cursor);
	for (size_t i = 0; !rc && i < n; i++) {
		if (ev[i].id <= cursor)
			continue; /* replayed at start-up already */
		rc = cat_exec(c, HS_INGEST, "itti", ev[i].id, ev[i].type,
			      ev[i].payload, now);
		made += rc ? 0 : c->changes;
		top = ev[i].id > top ? ev[i].id : top;
	}
	if (!rc && top)
		rc = cat_exec(c, HS_CURSOR_SET, "i", top);
	if (created)
		*created = rc ? 0 : made;
	return cat_end(c, rc);
}

sc_result hooks_store_ping(struct catalog *c, int64_t id, const char *payload,
			   int64_t *delivery)
{
	int64_t n = 0;
	sc_result rc = hs_write(c, HS_PING, &n, "iti", id, payload,
				sc_wall_ms());
	rc = hs_write1(rc, n);
	if (!rc)
		*delivery = sqlite3_last_insert_rowid(c->db);
	return rc;
}

#define KC(f, k) CAT_COL(struct hooks_claim, f, k)
/* HS_DUE's columns (attempt: the attempts made so far) */
static const struct cat_col hs_claim_cols[] = {
	KC(id, I64), KC(webhook_id, I64), KC(attempt, INT), KC(url, STR),
	KC(secret, STR), KC(type, STR), KC(payload, STR),
};
#undef KC

static void hs_claim_clear(void *item)
{
	cat_cols_clear(item, hs_claim_cols, CAT_COUNT(hs_claim_cols));
}

void hooks_claim_list_free(struct hooks_claim_list **l)
{
	CAT_LIST_FREE(l, hs_claim_clear);
}

static void hs_claim_row(sqlite3_stmt *st, void *item)
{
	struct hooks_claim *k = item;
	cat_cols_read(st, k, hs_claim_cols, CAT_COUNT(hs_claim_cols));
	k->attempt++;
}

/* The due rows (at most max: the statement's LIMIT) into l, claimed. */
static sc_result hs_claim_due(struct catalog *c, int64_t now, int max,
			      struct hooks_claim_list *l)
{
	struct cat_page p = {.size = sizeof(*l->items), .read = hs_claim_row};
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_stmt(c, HS_DUE, &st, "ii", now, (int64_t)max);
	if (!rc)
		rc = cat_page_read(c, st, &p);
	l->items = p.items;
	l->n = p.n;
	for (size_t i = 0; !rc && i < l->n; i++)
		rc = cat_exec(c, HS_CLAIM, "ii", l->items[i].id, now);
	return rc;
}

sc_result hooks_store_claim(struct catalog *c, int64_t now, int max,
			    struct hooks_claim_list **out)
{
	*out = NULL;
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	struct hooks_claim_list *l = sc_xcalloc(1, sizeof(*l));
	rc = cat_end(c, hs_claim_due(c, now, max > 0 ? max : 1, l));
	if (rc) {
		hooks_claim_list_free(&l);
		return rc;
	}
	*out = l;
	return SC_OK;
}

sc_result hooks_store_next_due(struct catalog *c, int64_t *at)
{
	return hs_int(c, HS_NEXT_DUE, at);
}

sc_result hooks_store_record(struct catalog *c, int64_t id,
			     const struct hooks_outcome *o)
{
	char at[40];
	int64_t n = 0;
	sc_iso8601(o->at, at, sizeof(at));
	sc_result rc = hs_write(c, HS_RECORD, &n, "itiitiit", id, o->state,
				o->next_at, (int64_t)o->status, o->error,
				o->duration_ms, sc_wall_ms(), at);
	return hs_write1(rc, n);
}

sc_result hooks_store_release(struct catalog *c, int64_t id)
{
	return hs_write(c, HS_RELEASE, NULL, "ii", id, sc_wall_ms());
}

sc_result hooks_store_pause(struct catalog *c, int64_t id)
{
	return hs_write(c, HS_PAUSE, NULL, "ii", id, sc_wall_ms());
}

sc_result hooks_store_prune(struct catalog *c, int64_t keep)
{
	return hs_write(c, HS_PRUNE, NULL, "i", keep);
}

#define DC(f, k) CAT_COL(struct hooks_delivery, f, k)
/* HS_LOG_PAGE's columns */
static const struct cat_col hs_delivery_cols[] = {
	DC(id, I64), DC(webhook_id, I64), DC(event_id, I64), DC(type, STR),
	DC(state, STR), DC(payload, STR), DC(last_error, STR),
	DC(history, STR), DC(attempts, INT), DC(last_status, INT),
	DC(duration_ms, I64), DC(next_at, I64), DC(created_at, I64),
	DC(updated_at, I64),
};
#undef DC

static void hs_delivery_row(sqlite3_stmt *st, void *item)
{
	cat_cols_read(st, item, hs_delivery_cols, CAT_COUNT(hs_delivery_cols));
}

static void hs_delivery_clear(void *item)
{
	cat_cols_clear(item, hs_delivery_cols, CAT_COUNT(hs_delivery_cols));
}

void hooks_delivery_list_free(struct hooks_delivery_list **l)
{
	CAT_LIST_FREE(l, hs_delivery_clear);
}

sc_result hooks_store_deliveries(struct catalog *c, int64_t id,
				 int64_t before, int limit,
				 struct hooks_delivery_list **out)
{
	int64_t one = 0;
	sqlite3_stmt *st = NULL;
	*out = NULL;
	if (limit <= 0)
		limit = 20;
	struct cat_page p = {.size = sizeof(*(*out)->items),
			     .read = hs_delivery_row, .limit = (size_t)limit};
	sc_result rc = cat_int(c, HS_HOOK_EXISTS, &one, "i", id);
	if (rc || (rc = cat_stmt(c, HS_LOG_PAGE, &st, "iii", id,
				 before > 0 ? before : INT64_MAX,
				 (int64_t)limit + 1)))
		return rc; /* one more row: is there a next page */
	struct hooks_delivery_list *l = sc_xcalloc(1, sizeof(*l));
	CAT_PAGE_LIST(rc, c, st, p, l, hooks_delivery_list_free);
	if (!rc && p.more)
		l->next_cursor = l->items[l->n - 1].id;
	*out = l;
	return rc;
}
