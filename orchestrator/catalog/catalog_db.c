/*
 * catalog_db.c — the catalog's db layer (see catalog_int.h): connections
 * (the writer and read-only readers), the statement cache, bind/step/reset,
 * transactions, errors, the fault hook and damage.
 *
 *   catalog_open -> cat_setup (busy timeout, foreign keys, WAL)
 *        -> cat_schema_migrate (catalog_schema.c)
 *   catalog_open_reader -> busy timeout, query_only -> cat_schema_check
 *   catalog_* call -> cat_begin -> cat_stmt -> cat_step ... -> cat_end
 *   failed call -> cat_dberr -> cat_fault -> fault hook / cat_damage
 */
#include "catalog_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_BEGIN_READ[] = "BEGIN DEFERRED";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SAVEPOINT[] = "SAVEPOINT catalog";
static const char SQL_RELEASE[] = "RELEASE catalog";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO catalog";
static const char SQL_SYNC_FULL[] = "PRAGMA synchronous = FULL";
static const char SQL_SYNC_NORMAL[] = "PRAGMA synchronous = NORMAL";
static const char SQL_FOREIGN_KEYS[] = "PRAGMA foreign_keys = ON";
static const char SQL_WAL[] = "PRAGMA journal_mode = WAL";
static const char SQL_JOURNAL_MODE[] = "PRAGMA journal_mode";
static const char SQL_QUERY_ONLY[] = "PRAGMA query_only = 1";
static const char SQL_INTEGRITY[] = "PRAGMA integrity_check";
static const char SQL_FK_CHECK[] = "PRAGMA foreign_key_check";
static const char SQL_FTS_CHECK[] =
	"INSERT INTO links_fts(links_fts) VALUES ('integrity-check')";

/* ============================ errors, faults ============================ */

int64_t cat_now(struct catalog *c)
{
	return c->now_fn ? c->now_fn(c->now_ud) : sc_wall_ms();
}

sc_result cat_errf(struct catalog *c, sc_result rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return rc;
}

static void cat_damage(struct catalog *c, const char *why)
{
	if (c->damaged)
		return;
	c->damaged = 1;
	snprintf(c->damaged_why, sizeof(c->damaged_why), "%s", why);
	sc_log(SC_LOG_ERROR, "catalog", "the catalog file is damaged (%s): "
	       "writes stopped; restore the last backup (snapcat restore)",
	       why);
}

/* A failed SQLite call: a fault for the hook? (see catalog_fault) */
static void cat_fault(struct catalog *c, int code)
{
	int p = code & 0xff;
	enum catalog_fault f = CATALOG_FAULT_NONE;
	if (p == SQLITE_CORRUPT || p == SQLITE_NOTADB)
		f = CATALOG_FAULT_DAMAGED;
	else if (p == SQLITE_FULL || p == SQLITE_IOERR ||
		 p == SQLITE_READONLY || p == SQLITE_CANTOPEN)
		f = CATALOG_FAULT_IO;
	if (f == CATALOG_FAULT_NONE)
		return;
	const char *why = sqlite3_errmsg(c->db);
	if (f == CATALOG_FAULT_DAMAGED)
		cat_damage(c, why);
	else
		c->io_fault = 1;
	if (c->fault_fn)
		c->fault_fn(c->fault_ud, f, why);
}

/* A write committed after an IO fault: the hook hears it is over. */
static void cat_fault_over(struct catalog *c)
{
	if (!c->io_fault)
		return;
	c->io_fault = 0;
	if (c->fault_fn)
		c->fault_fn(c->fault_ud, CATALOG_FAULT_NONE, "");
}

static sc_result cat_code(int code)
{
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SC_ERR_BUSY;
	case SQLITE_NOMEM:
		return SC_ERR_NOMEM;
	case SQLITE_TOOBIG:
		return SC_ERR_TOO_LARGE;
	case SQLITE_CONSTRAINT:
		return code == SQLITE_CONSTRAINT_FOREIGNKEY ? SC_ERR_NOT_FOUND
							    : SC_ERR_INVALID;
	default:
		return SC_ERR_DB;
	}
}

sc_result cat_dberr(struct catalog *c, int code, const char *what)
{
	sc_result rc;
	if (c->reader && (code & 0xff) == SQLITE_READONLY) {
		rc = SC_ERR_INVALID; /* a write on a reader: a misuse */
	} else {
		cat_fault(c, code);
		rc = cat_code(code);
	}
	cat_errf(c, rc, "%s: %s", what, sqlite3_errmsg(c->db));
	if (rc == SC_ERR_DB)
		sc_log(SC_LOG_WARN, "catalog", "%s", c->err);
	return rc;
}

/* =========================== statement cache =========================== */

/* The slot of sql: its own, or the free one where it goes. */
static size_t cat_slot(const struct catalog *c, const char *sql)
{
	uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
	size_t mask = c->cache_cap - 1, i = (size_t)(h >> 32) & mask;
	while (c->cache[i].sql && c->cache[i].sql != sql)
		i = (i + 1) & mask;
	return i;
}

/* Keep the cache at most half full. */
static void cat_cache_room(struct catalog *c)
{
	if (c->cache_n * 2 < c->cache_cap)
		return;
	struct cat_cached *old = c->cache;
	size_t cap = c->cache_cap;
	c->cache_cap = cap ? cap * 2 : 128;
	c->cache = sc_xcalloc(c->cache_cap, sizeof(*c->cache));
	for (size_t i = 0; i < cap; i++)
		if (old[i].sql)
			c->cache[cat_slot(c, old[i].sql)] = old[i];
	free(old);
}

sc_result cat_prepare(struct catalog *c, const char *sql, sqlite3_stmt **out)
{
	cat_cache_room(c);
	struct cat_cached *e = &c->cache[cat_slot(c, sql)];
	if (!e->sql) {
		int r = sqlite3_prepare_v3(c->db, sql, -1,
					   SQLITE_PREPARE_PERSISTENT, &e->st,
					   NULL);
		if (r != SQLITE_OK) {
			e->st = NULL;
			return cat_dberr(c, r, "prepare");
		}
		e->sql = sql;
		c->cache_n++;
	}
	*out = e->st;
	return SC_OK;
}

static void cat_cache_free(struct catalog *c)
{
	for (size_t i = 0; i < c->cache_cap; i++)
		sqlite3_finalize(c->cache[i].st);
	free(c->cache);
	c->cache = NULL;
	c->cache_cap = c->cache_n = 0;
}

/* ========================= bind, step, reset ========================== */

void cat_reset(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* Bind parameter i from the next argument of kind k (see cat_vbind). */
static int cat_bind1(sqlite3_stmt *st, int i, char k, va_list *ap)
{
	int64_t v;
	const char *s;
	size_t n;
	switch (k) {
	case 'i':
		return sqlite3_bind_int64(st, i, va_arg(*ap, int64_t));
	case 'd':
		return sqlite3_bind_double(st, i, va_arg(*ap, double));
	case 'z':
		v = va_arg(*ap, int64_t);
		return v ? sqlite3_bind_int64(st, i, v)
			 : sqlite3_bind_null(st, i);
	case 't':
		s = va_arg(*ap, const char *);
		return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
			 : sqlite3_bind_null(st, i);
	case 'T':
		s = va_arg(*ap, const char *);
		n = va_arg(*ap, size_t);
		return s ? sqlite3_bind_text64(st, i, s, n, SQLITE_STATIC,
					       SQLITE_UTF8)
			 : sqlite3_bind_null(st, i);
	default:
		return SQLITE_MISUSE;
	}
}

sc_result cat_vbind(struct catalog *c, sqlite3_stmt *st, const char *fmt,
		    va_list ap)
{
	int r = SQLITE_OK;
	va_list aq;
	va_copy(aq, ap);
	for (int i = 1; *fmt && r == SQLITE_OK; fmt++, i++)
		r = cat_bind1(st, i, *fmt, &aq);
	va_end(aq);
	if (r != SQLITE_OK) {
		cat_reset(st);
		return cat_dberr(c, r, "bind");
	}
	return SC_OK;
}

static sc_result cat_vstmt(struct catalog *c, const char *sql,
			   sqlite3_stmt **out, const char *fmt, va_list ap)
{
	sc_result rc = cat_prepare(c, sql, out);
	return rc ? rc : cat_vbind(c, *out, fmt, ap);
}

sc_result cat_stmt(struct catalog *c, const char *sql, sqlite3_stmt **out,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sc_result rc = cat_vstmt(c, sql, out, fmt, ap);
	va_end(ap);
	return rc;
}

sc_result cat_first(struct catalog *c, const char *sql, sqlite3_stmt **st,
		    int *row, const char *fmt, ...)
{
	*row = 0;
	va_list ap;
	va_start(ap, fmt);
	sc_result rc = cat_vstmt(c, sql, st, fmt, ap);
	va_end(ap);
	return rc ? rc : cat_step(c, *st, row);
}

sc_result cat_step(struct catalog *c, sqlite3_stmt *st, int *row)
{
	int r = sqlite3_step(st);
	*row = r == SQLITE_ROW;
	if (r == SQLITE_ROW || r == SQLITE_DONE)
		return SC_OK;
	sc_result rc = cat_dberr(c, r, sqlite3_sql(st));
	cat_reset(st);
	return rc;
}

sc_result cat_vexec(struct catalog *c, const char *sql, const char *fmt,
		    va_list ap)
{
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_prepare(c, sql, &st);
	if (!rc)
		rc = cat_vbind(c, st, fmt, ap);
	int row = 1;
	while (!rc && row)
		rc = cat_step(c, st, &row);
	c->changes = sqlite3_changes(c->db);
	cat_reset(st);
	return rc;
}

sc_result cat_exec(struct catalog *c, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sc_result rc = cat_vexec(c, sql, fmt, ap);
	va_end(ap);
	return rc;
}

sc_result cat_int(struct catalog *c, const char *sql, int64_t *out,
		  const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_prepare(c, sql, &st);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = cat_vbind(c, st, fmt, ap);
	va_end(ap);
	int row = 0;
	if (!rc)
		rc = cat_step(c, st, &row);
	if (!rc && (!row || sqlite3_column_type(st, 0) == SQLITE_NULL))
		rc = SC_ERR_NOT_FOUND;
	if (!rc)
		*out = sqlite3_column_int64(st, 0);
	cat_reset(st);
	return rc;
}

void cat_quiet(struct catalog *c, const char *sql)
{
	char saved[sizeof(c->err)];
	memcpy(saved, c->err, sizeof(saved));
	if (cat_exec(c, sql, ""))
		sc_log(SC_LOG_WARN, "catalog", "%s failed: %s", sql,
		       sqlite3_errmsg(c->db));
	memcpy(c->err, saved, sizeof(saved));
}

/* ============================ transactions ============================= */

/* Why c may not begin a write now (SC_OK: it may). */
static sc_result cat_may_write(struct catalog *c)
{
	if (c->reader)
		return cat_errf(c, SC_ERR_INVALID, "a read-only catalog "
				"connection cannot write");
	if (c->damaged)
		return cat_errf(c, SC_ERR_DB, "the catalog file is damaged (%s): "
				"writes are stopped; restore the last backup "
				"(snapcat restore BACKUP_DIR --data DIR)",
				c->damaged_why);
	if (c->read_tx)
		return cat_errf(c, SC_ERR_INVALID, "write inside a read "
				"transaction");
	return SC_OK;
}

/* In group mode: did SQLite roll the open group back by itself? Then
 * group_lost is set (the group's commit fails) and the call is refused:
 * a savepoint outside a transaction would commit on its own. */
static sc_result cat_group_alive(struct catalog *c)
{
	if (!c->group || c->depth <= 0 ||
	    (!c->group_lost && !sqlite3_get_autocommit(c->db)))
		return SC_OK;
	if (!c->group_lost)
		snprintf(c->group_why, sizeof(c->group_why), "%s", c->err);
	c->group_lost = 1;
	return cat_errf(c, SC_ERR_DB, "an earlier write of this batch failed "
			"(%s) and SQLite rolled the batch back: not stored",
			c->group_why);
}

/* Group mode, nothing open: the group's BEGIN IMMEDIATE (depth 1). */
static sc_result cat_group_open(struct catalog *c)
{
	c->tx_changes = sqlite3_total_changes64(c->db);
	sc_result rc = cat_exec(c, SQL_BEGIN, "");
	if (!rc) {
		c->depth = 1;
		c->group_wrote = 0;
		c->group_lost = 0;
	}
	return rc;
}

sc_result cat_begin(struct catalog *c, int durable)
{
	sc_result rc = cat_may_write(c);
	if (rc)
		return rc;
	if (c->group && c->depth == 0 && (rc = cat_group_open(c)))
		return rc;
	if (c->depth > 0) {
		if ((rc = cat_group_alive(c)) ||
		    (rc = cat_exec(c, SQL_SAVEPOINT, "")))
			return rc;
		c->depth++;
		c->group_wrote |= c->group;
		return SC_OK;
	}
	if (durable && (rc = cat_exec(c, SQL_SYNC_FULL, "")))
		return rc;
	c->durable = durable;
	c->tx_changes = sqlite3_total_changes64(c->db);
	if ((rc = cat_exec(c, SQL_BEGIN, ""))) {
		if (durable)
			cat_quiet(c, SQL_SYNC_NORMAL);
		c->durable = 0;
		return rc;
	}
	c->depth = 1;
	return SC_OK;
}

sc_result cat_end(struct catalog *c, sc_result rc)
{
	if (c->depth <= 0)
		return rc ? rc : cat_errf(c, SC_ERR_INTERNAL, "no transaction");
	if (--c->depth > 0) {
		if (c->group && sqlite3_get_autocommit(c->db)) {
			/* no savepoint left to end; c->err keeps rc's reason */
			sc_result r2 = cat_group_alive(c);
			if (rc)
				snprintf(c->err, sizeof(c->err), "%s", c->group_why);
			return rc ? rc : r2;
		}
		if (rc)
			cat_quiet(c, SQL_ROLLBACK_TO);
		sc_result r2 = cat_exec(c, SQL_RELEASE, "");
		return rc ? rc : r2;
	}
	if (!rc)
		rc = cat_exec(c, SQL_COMMIT, "");
	if (!rc && sqlite3_total_changes64(c->db) != c->tx_changes)
		cat_fault_over(c);
	if (rc && !sqlite3_get_autocommit(c->db))
		cat_quiet(c, SQL_ROLLBACK);
	if (c->durable)
		cat_quiet(c, SQL_SYNC_NORMAL);
	c->durable = 0;
	return rc;
}

/* ============================ group commit ============================= */

sc_result catalog_group_mode(struct catalog *c, int on)
{
	if (c->reader || c->depth > 0 || c->read_tx)
		return cat_errf(c, SC_ERR_INVALID, "group mode: a reader, or a "
				"transaction is open");
	sc_result rc = cat_exec(c, on ? SQL_SYNC_FULL : SQL_SYNC_NORMAL, "");
	if (!rc)
		c->group = on;
	return rc;
}

int catalog_group_open(const struct catalog *c)
{
	return c->group && c->depth > 0;
}

sc_result catalog_group_commit(struct catalog *c)
{
	if (!c->group || c->depth == 0)
		return SC_OK;
	if (c->depth != 1)
		return cat_errf(c, SC_ERR_INVALID, "a call is still inside the "
				"batch");
	sc_result rc = cat_group_alive(c);
	c->depth = 0;
	if (rc) {
		if (!sqlite3_get_autocommit(c->db))
			cat_quiet(c, SQL_ROLLBACK);
		return rc;
	}
	rc = cat_exec(c, SQL_COMMIT, "");
	if (rc && !sqlite3_get_autocommit(c->db))
		cat_quiet(c, SQL_ROLLBACK);
	if (!rc && (c->group_wrote ||
		    sqlite3_total_changes64(c->db) != c->tx_changes))
		cat_fault_over(c);
	return rc;
}

void catalog_group_rollback(struct catalog *c)
{
	if (!c || !c->group || c->depth != 1)
		return;
	c->depth = 0;
	if (!sqlite3_get_autocommit(c->db))
		cat_quiet(c, SQL_ROLLBACK);
}

sc_result catalog_tx_begin(struct catalog *c)
{
	/* in group mode the open group is below every caller's transaction */
	if (c->user_tx || c->depth > (catalog_group_open(c) ? 1 : 0))
		return cat_errf(c, SC_ERR_INVALID, "a transaction is open");
	sc_result rc = cat_begin(c, 1);
	if (!rc)
		c->user_tx = c->depth;
	return rc;
}

sc_result catalog_tx_commit(struct catalog *c)
{
	if (!c->user_tx || c->depth != c->user_tx)
		return cat_errf(c, SC_ERR_INVALID, "no transaction to commit");
	c->user_tx = 0;
	return cat_end(c, SC_OK);
}

void catalog_tx_rollback(struct catalog *c)
{
	if (!c || !c->user_tx || c->depth != c->user_tx)
		return;
	c->user_tx = 0;
	(void)!cat_end(c, SC_ERR_CANCELED);
}

sc_result catalog_read_begin(struct catalog *c)
{
	if (c->depth > 0 || c->read_tx)
		return cat_errf(c, SC_ERR_INVALID, "a transaction is open");
	sc_result rc = cat_exec(c, SQL_BEGIN_READ, "");
	if (!rc)
		c->read_tx = 1;
	return rc;
}

void catalog_read_end(struct catalog *c)
{
	if (!c || !c->read_tx)
		return;
	c->read_tx = 0;
	cat_quiet(c, SQL_COMMIT);
}

/* ============================ connections ============================== */

const char *catalog_errmsg(const struct catalog *c)
{
	return c ? c->err : "";
}

void catalog_set_clock(struct catalog *c, int64_t (*now_ms)(void *ud),
		       void *ud)
{
	c->now_fn = now_ms;
	c->now_ud = ud;
}

void catalog_set_fault_hook(struct catalog *c, catalog_fault_fn fn, void *ud)
{
	c->fault_fn = fn;
	c->fault_ud = ud;
}

void catalog_set_damaged(struct catalog *c, const char *why)
{
	if (c->damaged)
		return;
	cat_damage(c, why && *why ? why : "damaged");
	if (c->fault_fn)
		c->fault_fn(c->fault_ud, CATALOG_FAULT_DAMAGED, c->damaged_why);
}

int catalog_damaged(const struct catalog *c) { return c->damaged; }

sc_result catalog_probe_write(struct catalog *c)
{
	int64_t v = 0;
	char sql[64];
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	if (!(rc = cat_user_version(c, &v))) {
		/* a PRAGMA takes no parameters: the integer the file holds */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64, v);
		int r = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		if (r != SQLITE_OK)
			rc = cat_dberr(c, r, "write probe");
	}
	if (!(rc = cat_end(c, rc)) && !c->group)
		cat_fault_over(c); /* group mode: at the group's commit */
	return rc;
}

void catalog_close(struct catalog **cp)
{
	if (!cp || !*cp)
		return;
	struct catalog *c = *cp;
	catalog_read_end(c);
	if (c->depth > 0) {
		c->depth = 1;
		c->group = 0; /* an open group is rolled back, not committed */
		(void)!cat_end(c, SC_ERR_CANCELED);
	}
	cat_cache_free(c);
	int r = sqlite3_close(c->db);
	if (r != SQLITE_OK)
		sc_log(SC_LOG_WARN, "catalog", "close: %s", sqlite3_errstr(r));
	free(c);
	*cp = NULL;
}

/* The journal mode as PRAGMA sql answers it, checked to be WAL (what:
 * the error's wording). */
static sc_result cat_wal(struct catalog *c, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc;
	if ((rc = cat_stmt(c, sql, &st, "")) || (rc = cat_step(c, st, &row)))
		return rc;
	const char *mode = row ? (const char *)sqlite3_column_text(st, 0) : "";
	if (!mode || (strcmp(mode, "wal") && strcmp(mode, "memory")))
		rc = cat_errf(c, SC_ERR_DB, "%s WAL mode (%s)", what,
			      mode ? mode : "?");
	cat_reset(st);
	return rc;
}

/* The writer's settings: busy timeout, foreign keys, WAL, NORMAL sync. */
static sc_result cat_setup(struct catalog *c)
{
	sc_result rc;
	sqlite3_busy_timeout(c->db, CATALOG_BUSY_MS);
	if ((rc = cat_exec(c, SQL_FOREIGN_KEYS, "")) ||
	    (rc = cat_exec(c, SQL_SYNC_NORMAL, "")))
		return rc;
	return cat_wal(c, SQL_WAL, "cannot switch to");
}

/* A reader's: busy timeout, query_only, a WAL file at this version. */
static sc_result cat_setup_reader(struct catalog *c)
{
	int64_t v = 0;
	sc_result rc;
	sqlite3_busy_timeout(c->db, CATALOG_BUSY_MS);
	c->reader = 1;
	if ((rc = cat_exec(c, SQL_QUERY_ONLY, "")) ||
	    (rc = cat_schema_check(c, &v)))
		return rc;
	if (v != CATALOG_SCHEMA_VERSION)
		return cat_errf(c, SC_ERR_INVALID, "schema version %" PRId64
				", not %d: open it with catalog_open first",
				v, CATALOG_SCHEMA_VERSION);
	return cat_wal(c, SQL_JOURNAL_MODE, "the file is not in");
}

/* Open path with flags into a new connection, set up by setup. */
static sc_result cat_connect(const char *path, int flags,
			     sc_result (*setup)(struct catalog *),
			     struct catalog **out, char *err, size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	struct catalog *c = sc_xcalloc(1, sizeof(*c));
	sc_result rc = SC_OK;
	int r = sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX |
						      SQLITE_OPEN_EXRESCODE,
				NULL);
	if (r != SQLITE_OK)
		rc = cat_errf(c, SC_ERR_DB, "%s",
			      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(r));
	else
		rc = setup(c);
	if (rc) {
		if (errlen)
			snprintf(err, errlen, "catalog %s: %s", path, c->err);
		catalog_close(&c);
		return rc;
	}
	*out = c;
	return SC_OK;
}

/* The writer: set up, then migrated. */
static sc_result cat_setup_writer(struct catalog *c)
{
	sc_result rc = cat_setup(c);
	return rc ? rc : cat_schema_migrate(c);
}

sc_result catalog_open(const char *path, struct catalog **out, char *err,
		       size_t errlen)
{
	return cat_connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			   cat_setup_writer, out, err, errlen);
}

sc_result catalog_open_reader(const char *path, struct catalog **out,
			      char *err, size_t errlen)
{
	/* read-write without CREATE: a WAL reader maps the -shm file and
	 * may fold the WAL in when it closes last; query_only keeps it from
	 * changing the database */
	return cat_connect(path, SQLITE_OPEN_READWRITE, cat_setup_reader, out,
			   err, errlen);
}

sc_result catalog_check(struct catalog *c)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_stmt(c, SQL_INTEGRITY, &st, "");
	if (!rc)
		rc = cat_step(c, st, &row);
	if (!rc && row) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		if (!s || strcmp(s, "ok"))
			rc = cat_errf(c, SC_ERR_DB, "integrity: %s",
				      s ? s : "?");
	}
	cat_reset(st);
	if (rc || (rc = cat_stmt(c, SQL_FK_CHECK, &st, "")) ||
	    (rc = cat_step(c, st, &row)))
		return rc;
	if (row)
		rc = cat_errf(c, SC_ERR_DB, "foreign key violation in %s",
			      (const char *)sqlite3_column_text(st, 0));
	cat_reset(st);
	if (rc || (rc = cat_begin(c, 0)))
		return rc;
	rc = cat_exec(c, SQL_FTS_CHECK, "");
	return cat_end(c, rc);
}
