/*
 * catalog_int.h — inside the catalog layer: the connection (struct catalog,
 * fields private to orchestrator/catalog/), the db layer every entity file
 * and hooks_store.c are written on, and the readers entity files share.
 *
 *   catalog_links.c, catalog_jobs.c, ..., hooks_store.c:
 *     cat_begin (BEGIN IMMEDIATE, or a SAVEPOINT inside one)
 *       -> cat_stmt(c, SQL_X, &st, "it", ...)  (statement cache, bind)
 *       -> cat_step | cat_exec | cat_int | cat_page_read (a page of rows)
 *     -> cat_end (COMMIT, or ROLLBACK with the error that caused it)
 *   errors -> cat_dberr -> c->err, sc_log, the fault hook, damage
 *
 * DESIGN
 * SQL. Each file keeps its SQL together at its top as `static const char
 * SQL_X[]` strings; migrations are in catalog_schema.c only. No SQL text is
 * ever built from data: values are bound to '?' parameters (the one PRAGMA
 * written at run time, catalog_probe_write's, takes no parameters and
 * carries back the integer the file holds).
 *
 * Statement cache. A connection prepares a statement the first time it runs
 * it and keeps it until catalog_close. The cache is keyed by the address of
 * the SQL string (a static array, so one address per statement for the
 * life of the process): nothing registers statements, any file of the layer
 * can add its own, and a connection only prepares what it runs. A statement
 * is reset (bindings cleared) after each use; a call must not run a
 * statement that one of its callers is still stepping.
 *
 * Connections. A struct catalog is one sqlite3 connection, used by one
 * thread at a time (SQLITE_OPEN_NOMUTEX). catalog_open gives the writer
 * (migrations, WAL, every call); catalog_open_reader a reader of an already
 * migrated file (PRAGMA query_only, reader = 1): it refuses to begin a write
 * (SC_ERR_INVALID, no fault hook) and has its own cache, clock, fault hook
 * and damaged flag. Under WAL readers never wait for the writer nor it for
 * them; each read sees the last commit made before it started (a
 * catalog_read_begin span: before its first read).
 *
 * Group commit (catalog_group_mode, for service/bus.c). The writer's first
 * write opens a BEGIN IMMEDIATE that stays open (depth 1) after the call:
 * every call, catalog_tx_begin's included, is a savepoint inside it (depth
 * 2+), so a failing call still undoes only its own part; the group ends at
 * catalog_group_commit, with synchronous FULL (set once, when group mode
 * starts: SQLite refuses to change it inside a transaction). SQLite may
 * roll a whole transaction back by itself on SQLITE_FULL, IOERR, BUSY or
 * NOMEM; cat_end and cat_begin notice it (the connection is back in
 * autocommit while depth says a group is open): group_lost is set, later
 * calls of the group fail instead of starting a transaction of their own,
 * and the group's commit fails.
 */
#ifndef CATALOG_INT_H
#define CATALOG_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "catalog.h"

#define CAT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One prepared statement of the cache. */
struct cat_cached {
	const char *sql;  /* the key: a static SQL string; NULL = free slot */
	sqlite3_stmt *st;
};

/* Fields are private to the catalog layer (orchestrator/catalog/). Owned
 * by the thread that holds the connection. */
struct catalog {
	sqlite3 *db;
	struct cat_cached *cache; /* open addressing; cache_cap a power of 2 */
	size_t cache_cap, cache_n;
	int reader;     /* catalog_open_reader: reads only */
	int depth;      /* open transactions: 0 none, 1 BEGIN, >1 savepoints */
	int durable;    /* the open BEGIN switched synchronous to FULL */
	int user_tx;    /* catalog_tx_begin's level (its depth), 0: none */
	int group;      /* catalog_group_mode: writes gather in one open
			   transaction until catalog_group_commit */
	int group_wrote; /* a write call began in the open group */
	int group_lost; /* SQLite rolled the open group back (a full disk,
			   an I/O error): its commit fails */
	char group_why[512]; /* the error that lost it */
	int read_tx;    /* catalog_read_begin's transaction is open */
	int64_t changes; /* rows changed by the last cat_exec */
	int64_t (*now_fn)(void *ud);
	void *now_ud;
	int max_attempts; /* enqueue's default; 0: CATALOG_JOB_MAX_ATTEMPTS */
	catalog_fault_fn fault_fn; /* catalog_set_fault_hook */
	void *fault_ud;
	int io_fault;     /* an IO fault since the last committed change */
	int damaged;      /* writes refused (catalog_set_damaged) */
	char damaged_why[256];
	int64_t tx_changes; /* total changes when the outer BEGIN ran */
	int64_t event_floor; /* catalog_events_skip: ids given, not stored */
	char err[512];
};

/* ======================= db layer (catalog_db.c) ======================= */

/* Now in ms: the connection's clock (catalog_set_clock) or sc_wall_ms. */
int64_t cat_now(struct catalog *c);

/* Record a formatted error on c (catalog_errmsg) and return rc. */
sc_result cat_errf(struct catalog *c, sc_result rc, const char *fmt, ...)
	SC_PRINTF(3, 4);

/* A failed SQLite call: map code to an sc_result (BUSY/LOCKED: BUSY,
 * NOMEM, TOOBIG: TOO_LARGE, CONSTRAINT: INVALID or, for a foreign key,
 * NOT_FOUND, else DB), record "what: message" on c, log SC_ERR_DB, and
 * tell the fault hook of an IO or DAMAGED fault. */
sc_result cat_dberr(struct catalog *c, int code, const char *what);

/* The cached statement of sql (prepared on first use). sql must be a
 * static string (its address is the key). */
sc_result cat_prepare(struct catalog *c, const char *sql, sqlite3_stmt **out)
	SC_MUST_CHECK;

/* Reset a statement and clear its bindings. NULL-safe. */
void cat_reset(sqlite3_stmt *st);

/*
 * Bind parameters 1, 2, ... from the arguments, one per fmt character:
 *   'i' int64_t;  'z' int64_t, 0 binds NULL (an id);
 *   't' const char * (NULL binds NULL);
 *   'T' const char *, size_t length (NULL binds NULL);
 *   'd' double.
 * Text is bound SQLITE_STATIC: it must live until the statement is reset.
 * On error the statement is reset.
 */
sc_result cat_vbind(struct catalog *c, sqlite3_stmt *st, const char *fmt,
		    va_list ap) SC_MUST_CHECK;

/* cat_prepare + cat_vbind. */
sc_result cat_stmt(struct catalog *c, const char *sql, sqlite3_stmt **out,
		   const char *fmt, ...) SC_MUST_CHECK;

/* Step once: *row = 1 with a row, 0 when done. Reset on error. */
sc_result cat_step(struct catalog *c, sqlite3_stmt *st, int *row)
	SC_MUST_CHECK;

/* cat_stmt, then one cat_step: the first row, if any (*row 1), to read
 * before cat_reset(st); *row 0 without one or on error. */
sc_result cat_first(struct catalog *c, const char *sql, sqlite3_stmt **st,
		    int *row, const char *fmt, ...) SC_MUST_CHECK;

/* Run a statement to completion (rows ignored); c->changes is set. */
sc_result cat_exec(struct catalog *c, const char *sql, const char *fmt, ...)
	SC_MUST_CHECK;
sc_result cat_vexec(struct catalog *c, const char *sql, const char *fmt,
		    va_list ap) SC_MUST_CHECK;

/* The first column of the first row as an integer; SC_ERR_NOT_FOUND
 * without a row (or with a NULL), c->err untouched then. */
sc_result cat_int(struct catalog *c, const char *sql, int64_t *out,
		  const char *fmt, ...) SC_MUST_CHECK;

/* Run a control statement without recording its error (rollback paths
 * keep the error that caused them). */
void cat_quiet(struct catalog *c, const char *sql);

/*
 * Open a write transaction: BEGIN IMMEDIATE at depth 0 (with synchronous
 * FULL for its commit if durable), a savepoint inside another one.
 * SC_ERR_DB on a damaged file, SC_ERR_INVALID on a reader or inside
 * catalog_read_begin.
 */
sc_result cat_begin(struct catalog *c, int durable) SC_MUST_CHECK;

/* Close the transaction cat_begin opened: commit if rc is SC_OK, else roll
 * back. Returns rc, or the commit's error. */
sc_result cat_end(struct catalog *c, sc_result rc) SC_MUST_CHECK;

/* ================== rows and lists (catalog_rows.c) ==================== */

/* Fill one item (zeroed) from the current row of st. */
typedef void (*cat_row_fn)(sqlite3_stmt *st, void *item);
/* Write the cursor that follows item last into buf. */
typedef void (*cat_cursor_fn)(const void *last, char *buf, size_t len);
/* Free what an item owns (not the item). */
typedef void (*cat_clear_fn)(void *item);

/*
 * A page of rows. In: size (bytes of an item), read, limit (0: every row;
 * else the statement asks for limit + 1 rows so that one more says there
 * is a next page), cursor (NULL: none) with next/nextlen (where it writes;
 * "" when there is no next page). Out: items (owned by the caller even on
 * error), n, more.
 */
struct cat_page {
	size_t size;
	cat_row_fn read;
	size_t limit;
	cat_cursor_fn cursor;
	char *next;
	size_t nextlen;
	void *items;
	size_t n;
	int more;
};
/* Step st through a page (see struct cat_page); st is reset. */
sc_result cat_page_read(struct catalog *c, sqlite3_stmt *st,
			struct cat_page *p) SC_MUST_CHECK;

/* One row of st into a new item of size bytes (*out, free it); st is
 * reset. SC_ERR_NOT_FOUND without a row (c->err untouched). */
sc_result cat_row_one(struct catalog *c, sqlite3_stmt *st, size_t size,
		      cat_row_fn read, void **out) SC_MUST_CHECK;

/* Free n items of size bytes (each cleared by clear, may be NULL), their
 * array and the list struct that held them. NULL-safe. */
void cat_list_free(void *list, void *items, size_t n, size_t size,
		   cat_clear_fn clear);
/* The *_list_free of a public list {items, n, ...}: *lp = NULL. */
#define CAT_LIST_FREE(lp, clear)                                          \
	do {                                                              \
		if ((lp) && *(lp))                                        \
			cat_list_free(*(lp), (*(lp))->items, (*(lp))->n,  \
				      sizeof(*(*(lp))->items), (clear));  \
		if (lp)                                                   \
			*(lp) = NULL;                                     \
	} while (0)

/* The *_free of one item *pp (cleared by clear, then freed): *pp = NULL.
 * NULL-safe. */
#define CAT_ITEM_FREE(pp, clear)                                          \
	do {                                                              \
		if ((pp) && *(pp)) {                                      \
			(clear)(*(pp));                                   \
			free(*(pp));                                      \
			*(pp) = NULL;                                     \
		}                                                         \
	} while (0)

/*
 * A row reader as a table: column i of the row goes into the field that
 * entry i names, by its kind (CAT_COL checks at compile time that the
 * field's size fits the kind). CAT_COL_SKIP: a column the entity reads
 * itself (enums, bit sets, tag lists). The entity's clear frees every
 * CAT_STR field of the same table (cat_cols_clear).
 */
enum cat_col_kind { CAT_SKIP, CAT_I64, CAT_INT, CAT_STR, CAT_DBL };
struct cat_col {
	unsigned short off;
	unsigned char kind;
};
#define CAT_SIZE_I64 sizeof(int64_t)
#define CAT_SIZE_INT sizeof(int)
#define CAT_SIZE_STR sizeof(char *)
#define CAT_SIZE_DBL sizeof(double)
#define CAT_COL(type, field, k)                                            \
	{(unsigned short)(offsetof(type, field) +                          \
			  0 * sizeof(char[sizeof(((type *)0)->field) ==    \
						  CAT_SIZE_##k ? 1 : -1])), \
	 CAT_##k}
#define CAT_COL_SKIP {0, CAT_SKIP}
/* Fill item's fields from the current row of st, column i from cols[i]. */
void cat_cols_read(sqlite3_stmt *st, void *item, const struct cat_col *cols,
		   size_t n);
/* Free (and clear) item's CAT_STR fields of cols. */
void cat_cols_clear(void *item, const struct cat_col *cols, size_t n);

/*
 * The end of a list call: unless rc already failed, read the page p of st
 * into the list l (a public list {items, n, ...}: it takes p's items even
 * on error), then on error free l with list_free(&l). rc gets the result.
 */
#define CAT_PAGE_LIST(rc, c, st, p, l, list_free)                          \
	do {                                                               \
		if (!(rc))                                                 \
			(rc) = cat_page_read((c), (st), &(p));             \
		(l)->items = (p).items;                                    \
		(l)->n = (p).n;                                            \
		if (rc)                                                    \
			list_free(&(l));                                   \
	} while (0)
/* A struct cat_page for list l paged by id (its next_cursor member). */
#define CAT_PAGE_BY_ID(l, read_fn)                                         \
	{.size = sizeof(*(l)->items), .read = (read_fn),                   \
	 .cursor = cat_cursor_id, .next = (l)->next_cursor,                \
	 .nextlen = sizeof((l)->next_cursor)}
/* The page size and id cursor of a list call (cat_limit, cat_id_cursor). */
sc_result cat_page_args(struct catalog *c, int *limit, const char *cursor,
			int64_t *before) SC_MUST_CHECK;
/* One row of st (unless rc already failed) into *out (cat_row_one); a
 * missing row records "<what> <id> not found". */
sc_result cat_get(struct catalog *c, sc_result rc, sqlite3_stmt *st,
		  size_t size, cat_row_fn read, void **out, const char *what,
		  int64_t id) SC_MUST_CHECK;

/* The cursor "<id>" of an item whose first member is its int64_t id. */
void cat_cursor_id(const void *last, char *buf, size_t len);
/* An id cursor ("123"): NULL or "" means from the newest (INT64_MAX). */
sc_result cat_id_cursor(struct catalog *c, const char *cur, int64_t *id)
	SC_MUST_CHECK;
/* A page size: 0 is CATALOG_LIST_DEFAULT; SC_ERR_INVALID outside
 * 1..CATALOG_LIST_MAX. */
sc_result cat_limit(struct catalog *c, int limit, int *out) SC_MUST_CHECK;
/* Parse a decimal int64 that spans exactly [s, end); -1 if it does not. */
int cat_parse_i64(const char *s, const char *end, int64_t *out);

/* Column i as a new string (NULL for NULL). */
char *cat_col_str(sqlite3_stmt *st, int i);
/* Index of s in names[0..n), -1 if absent (or s NULL). */
int cat_lookup(const char *const *names, size_t n, const char *s);
/* Column i looked up in names; 0 if unknown. */
int cat_col_enum(sqlite3_stmt *st, int i, const char *const *names,
		 size_t n);
/* Bytes of s to store under a cap: all of it, or cut at a UTF-8
 * character boundary at most cap bytes in. 0 for NULL. */
size_t cat_caplen(const char *s, size_t cap);
/* Grow an array of items of size sz so that it holds n + 1. */
void *cat_grow(void *items, size_t *alloc, size_t n, size_t sz);
/* Append a copy of s (nothing if NULL or "") to sv (*alloc its room). */
void cat_strv_add(struct catalog_strv *sv, size_t *alloc,
		  const unsigned char *s);

/* ================== schema (catalog_schema.c) ========================== */

/* Refuse files that are not catalogs or are newer than this code; the
 * file's version in *version. */
sc_result cat_schema_check(struct catalog *c, int64_t *version)
	SC_MUST_CHECK;
/* Apply every pending migration, each in its own transaction. */
sc_result cat_schema_migrate(struct catalog *c) SC_MUST_CHECK;
/* PRAGMA user_version. */
sc_result cat_user_version(struct catalog *c, int64_t *v) SC_MUST_CHECK;

/* ================= shared by the entity files ========================== */

/* A link's schedule: its own, else the first (by name) of its tags'. */
#define LINK_SCHEDULE                                                        \
	"coalesce(l.schedule, (SELECT t.schedule FROM link_tags lt "         \
	"JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = l.id AND "       \
	"t.schedule IS NOT NULL ORDER BY t.name LIMIT 1))"

/* Columns of links l read by cat_link_read(), in this order. */
#define LINK_COLS                                                            \
	"l.id, l.url, l.title, l.title_locked, l.created_at, l.updated_at, " \
	"coalesce(l.last_snapshot_id, 0), "                                  \
	"(SELECT group_concat(t.name, char(31)) FROM link_tags lt "          \
	"  JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = l.id), "       \
	"coalesce((SELECT max(id) FROM jobs WHERE link_id = l.id), 0), "     \
	"(SELECT state FROM jobs WHERE link_id = l.id ORDER BY id DESC LIMIT 1), " \
	"l.options, l.schedule, coalesce(l.next_capture_at, 0), "          \
	"coalesce(l.keep_last, 0), l.keep_changed, " LINK_SCHEDULE ", "    \
	"coalesce(l.bookmarked_at, 0) "

/* catalog_links.c: a struct catalog_link from LINK_COLS; what it owns. */
void cat_link_read(sqlite3_stmt *st, void *link);
void cat_link_clear(void *link);
/* SC_ERR_NOT_FOUND ("link N not found") unless link_id exists. */
sc_result cat_link_must_exist(struct catalog *c, int64_t link_id)
	SC_MUST_CHECK;

/* catalog_tags.c: a normalized, duplicate-free set of tags (free v). */
struct cat_tagset {
	char (*v)[CATALOG_TAG_BUF];
	size_t n;
};
sc_result cat_tagset_make(struct catalog *c, const char *const *tags,
			  size_t n, struct cat_tagset *ts) SC_MUST_CHECK;
/* ASCII white space (the tag and search word separators). */
int cat_isspace(int ch);
/* Delete the tags left on no link (inside a transaction). */
sc_result cat_tags_prune(struct catalog *c) SC_MUST_CHECK;

/* catalog_jobs.c: a job state column (unknown: queued). */
enum catalog_job_state cat_job_state_col(sqlite3_stmt *st, int i);

#endif
