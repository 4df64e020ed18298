/*
 * test_catalog_db.c — the catalog (catalog_testhelp.h: a real SQLite file in
 * a temp dir): the db layer: migrations from empty and from version 1,
 * reopening, files that are not (or no longer) ours, caller and read
 * transactions, and reader connections (catalog_open_reader) beside a
 * writer.
 */
#include "catalog_testhelp.h"

#include <pthread.h>
#include <unistd.h>

/* Undo migrations 5 (bookmarked_at), 4 (schedules, retention, link
 * options) and 3 (the visual archive's snapshot columns). */
#define V3_UNDO                                                              \
	"ALTER TABLE snapshots DROP COLUMN pdf_path; "                       \
	"ALTER TABLE snapshots DROP COLUMN pdf_bytes; "                      \
	"ALTER TABLE snapshots DROP COLUMN pdf_status; "                     \
	"ALTER TABLE links DROP COLUMN bookmarked_at; "                      \
	"DROP INDEX links_next_capture; "                                    \
	"ALTER TABLE links DROP COLUMN options; "                            \
	"ALTER TABLE links DROP COLUMN schedule; "                           \
	"ALTER TABLE links DROP COLUMN next_capture_at; "                    \
	"ALTER TABLE links DROP COLUMN keep_last; "                          \
	"ALTER TABLE links DROP COLUMN keep_changed; "                       \
	"ALTER TABLE tags DROP COLUMN schedule; "                            \
	"ALTER TABLE tags DROP COLUMN keep_last; "                           \
	"ALTER TABLE tags DROP COLUMN keep_changed; "                        \
	"DROP INDEX snapshots_sha; "                                         \
	"ALTER TABLE snapshots DROP COLUMN png_sha256; "                     \
	"ALTER TABLE snapshots DROP COLUMN png_shared; "                     \
	"ALTER TABLE snapshots DROP COLUMN diff_against; "                   \
	"ALTER TABLE snapshots DROP COLUMN diff_ratio; "                     \
	"ALTER TABLE snapshots DROP COLUMN diff_changed; "                   \
	"ALTER TABLE snapshots DROP COLUMN diff_boxes; "                     \
	"ALTER TABLE snapshots DROP COLUMN diff_path; "

TEST(migrations_from_empty)
{
	struct catalog *c = open_fresh("migrate");
	REQUIRE(c);
	CHECK_EQ_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
	CHECK_STR(catalog_errmsg(c), "");
	catalog_close(&c);
	CHECK(c == NULL);
	catalog_close(&c); /* NULL-safe */
	CHECK_EQ_INT(raw_count(dbpath, "PRAGMA user_version"),
		     CATALOG_SCHEMA_VERSION);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM sqlite_schema "
				       "WHERE name IN ('links','tags','link_tags',"
				       "'snapshots','jobs','events','links_fts')"),
		     7);
	/* WAL is a property of the file */
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) ==
		SQLITE_OK);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

TEST(reopen_keeps_data)
{
	struct catalog *c = open_fresh("reopen");
	REQUIRE(c);
	int64_t id = add_link(c, "https://example.com/");
	CHECK(id > 0);
	const char *tags[] = {"keep"};
	CHECK_EQ_INT(catalog_link_set_tags(c, id, tags, 1), SC_OK);
	catalog_close(&c);

	char err[256];
	REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, id, &l) == SC_OK);
	CHECK_STR(l->url, "https://example.com/");
	REQUIRE(l->ntags == 1);
	CHECK_STR(l->tags[0], "keep");
	catalog_link_free(&l);
	CHECK(l == NULL);
	catalog_close(&c);
}

TEST(newer_version_refused)
{
	struct catalog *c = open_fresh("bad_newer");
	REQUIRE(c);
	catalog_close(&c);
	REQUIRE(raw_sql(dbpath, "PRAGMA user_version = 99") == SQLITE_OK);
	char err[256] = "x";
	CHECK_EQ_INT(catalog_open(dbpath, &c, err, sizeof(err)),
		     SC_ERR_INVALID);
	CHECK(c == NULL);
	CHECK(strstr(err, "newer") != NULL);
	CHECK(strstr(err, "99") != NULL);
	/* untouched */
	CHECK_EQ_INT(raw_count(dbpath, "PRAGMA user_version"), 99);

	/* some other program's database is not migrated either */
	snprintf(dbpath, sizeof(dbpath), "%s/bad_foreign.db", tmpdir);
	REQUIRE(raw_sql(dbpath, "CREATE TABLE t(x)") == SQLITE_OK);
	CHECK_EQ_INT(catalog_open(dbpath, &c, err, sizeof(err)), SC_ERR_DB);
	CHECK(strstr(err, "not a snapcat catalog") != NULL);

	/* garbage is refused cleanly */
	snprintf(dbpath, sizeof(dbpath), "%s/bad_garbage.db", tmpdir);
	FILE *f = fopen(dbpath, "w");
	REQUIRE(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database ", f);
	fclose(f);
	CHECK(catalog_open(dbpath, &c, err, sizeof(err)) != SC_OK);
	CHECK(c == NULL);
}

/* A version 1 file (no tag counts; created_at out of id order) opens as
 * the current version with both fixed (and migration 3 applied). */
TEST(migration_1_to_2)
{
	struct catalog *c = open_fresh("v1");
	REQUIRE(c);
	for (int i = 1; i <= 3; i++) {
		char url[64];
		fake_now += 1000;
		snprintf(url, sizeof(url), "https://v1-%d.example/", i);
		REQUIRE(add_link(c, url) == i);
		REQUIRE(catalog_link_set_tags(c, i, (const char *[]){"x", "y"},
					      (size_t)(i == 2 ? 2 : 1)) == SC_OK);
	}
	catalog_close(&c);
	REQUIRE(raw_sql(dbpath, "DROP TRIGGER link_tags_count_ai; "
				"DROP TRIGGER link_tags_count_ad; "
				"ALTER TABLE tags DROP COLUMN nlinks; "
				"UPDATE links SET created_at = 5 WHERE id = 2; "
				V3_UNDO "PRAGMA user_version = 1;") == SQLITE_OK);
	char err[256];
	REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
	CHECK_EQ_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT nlinks FROM tags WHERE name = 'x'"), 3);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT nlinks FROM tags WHERE name = 'y'"), 1);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM links a, links b "
				       "WHERE a.id = 1 AND b.id = 2 AND "
				       "a.created_at = b.created_at"), 1);
	struct catalog_link_query q = {.tags = (const char *[]){"x"}, .ntags = 1};
	struct catalog_link_list *l = NULL;
	REQUIRE(catalog_links_list(c, &q, &l) == SC_OK);
	REQUIRE(l->n == 3);
	CHECK(l->items[0].id == 3 && l->items[1].id == 2 && l->items[2].id == 1);
	catalog_link_list_free(&l);
	catalog_close(&c);
}

TEST(caller_transactions)
{
	struct catalog *c = open_fresh("tx");
	REQUIRE(c);
	int64_t id, job;
	REQUIRE(catalog_tx_begin(c) == SC_OK);
	CHECK_EQ_INT(catalog_tx_begin(c), SC_ERR_INVALID);
	REQUIRE(catalog_link_add(c, "https://tx.example/", &id, NULL) == SC_OK);
	REQUIRE(catalog_job_enqueue(c, id, NULL, 0, &job) == SC_OK);
	/* a failing call inside undoes only itself */
	const char *bad[] = {""};
	CHECK_EQ_INT(catalog_link_set_tags(c, id, bad, 1), SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_job_enqueue(c, id, "{bad", 0, &job),
		     SC_ERR_INVALID);
	catalog_tx_rollback(c);
	struct catalog_link *l = NULL;
	CHECK_EQ_INT(catalog_link_get(c, id, &l), SC_ERR_NOT_FOUND);
	CHECK_EQ_INT(catalog_tx_commit(c), SC_ERR_INVALID);

	REQUIRE(catalog_tx_begin(c) == SC_OK);
	REQUIRE(catalog_link_add(c, "https://tx.example/", &id, NULL) == SC_OK);
	CHECK_EQ_INT(catalog_job_enqueue(c, id, "{bad", 0, &job),
		     SC_ERR_INVALID);
	REQUIRE(catalog_job_enqueue(c, id, NULL, 0, &job) == SC_OK);
	CHECK_EQ_INT(catalog_tx_commit(c), SC_OK);
	int64_t n = 0;
	CHECK_EQ_INT(catalog_jobs_count(c, CATALOG_JOB_QUEUED, &n), SC_OK);
	CHECK_EQ_INT(n, 1);
	REQUIRE(catalog_link_get(c, id, &l) == SC_OK);
	catalog_link_free(&l);
	/* closing with an open transaction rolls it back */
	REQUIRE(catalog_tx_begin(c) == SC_OK);
	REQUIRE(catalog_link_add(c, "https://lost.example/", &id, NULL) ==
		SC_OK);
	catalog_close(&c);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM links"), 1);
	catalog_tx_rollback(NULL);
}

/* catalog_read_begin/end: reads in between, no writes, no nesting. */
TEST(read_transactions)
{
	struct catalog *c = open_fresh("readtx");
	REQUIRE(c);
	int64_t id = add_link(c, "https://read.example/");
	REQUIRE(id > 0);
	REQUIRE(catalog_read_begin(c) == SC_OK);
	CHECK_EQ_INT(catalog_read_begin(c), SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_tx_begin(c), SC_ERR_INVALID);
	struct catalog_link *l = NULL;
	CHECK_EQ_INT(catalog_link_get(c, id, &l), SC_OK);
	catalog_link_free(&l);
	int64_t other = 0;
	CHECK_EQ_INT(catalog_link_add(c, "https://write.example/", &other, NULL),
		     SC_ERR_INVALID);
	catalog_read_end(c);
	catalog_read_end(c); /* no-op */
	catalog_read_end(NULL);
	CHECK(add_link(c, "https://write.example/") > id);
	REQUIRE(catalog_read_begin(c) == SC_OK);
	catalog_close(&c); /* ends it */
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM links"), 2);
}

/* ---- readers (catalog_open_reader): issue 15 moves reads onto them ---- */

static int reader_faults;

static void count_fault(void *ud, enum catalog_fault f, const char *why)
{
	(void)ud;
	(void)f;
	(void)why;
	reader_faults++;
}

/* The number of links as conn sees them (-1 on error). */
static int64_t links_seen(struct catalog *conn)
{
	struct catalog_link_query q = {.limit = CATALOG_LIST_MAX};
	struct catalog_link_list *l = NULL;
	if (catalog_links_list(conn, &q, &l))
		return -1;
	int64_t n = (int64_t)l->n;
	catalog_link_list_free(&l);
	return n;
}

/* Under WAL a reader never waits for the writer and sees what was
 * committed before each read began (or before its read transaction). */
TEST(reader_sees_commits)
{
	struct catalog *w = open_fresh("reader"), *r = NULL;
	char err[256];
	REQUIRE(w);
	REQUIRE(add_link(w, "https://r1.example/") > 0);
	REQUIRE(catalog_open_reader(dbpath, &r, err, sizeof(err)) == SC_OK);
	CHECK_EQ_INT(catalog_schema_version(r), CATALOG_SCHEMA_VERSION);
	CHECK_EQ_INT(links_seen(r), 1);
	/* the writer holds its write lock: the reader reads on */
	REQUIRE(catalog_tx_begin(w) == SC_OK);
	REQUIRE(add_link(w, "https://r2.example/") > 0);
	CHECK_EQ_INT(links_seen(r), 1);
	CHECK_EQ_INT(catalog_tx_commit(w), SC_OK);
	CHECK_EQ_INT(links_seen(r), 2);
	/* a read transaction keeps the state its first read saw */
	REQUIRE(catalog_read_begin(r) == SC_OK);
	CHECK_EQ_INT(links_seen(r), 2);
	REQUIRE(add_link(w, "https://r3.example/") > 0);
	CHECK_EQ_INT(links_seen(r), 2);
	catalog_read_end(r);
	CHECK_EQ_INT(links_seen(r), 3);
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(r, 3, &l) == SC_OK);
	CHECK_STR(l->url, "https://r3.example/");
	catalog_link_free(&l);
	catalog_close(&r);
	CHECK(r == NULL);
	catalog_close(&w);
}

/* A write on a reader fails cleanly: SC_ERR_INVALID, nothing changed,
 * no fault (it is a misuse, not a disk that refuses writes). */
TEST(reader_refuses_writes)
{
	struct catalog *w = open_fresh("reader_ro"), *r = NULL;
	char err[256];
	int64_t id = 0, n = -1;
	REQUIRE(w);
	REQUIRE(add_link(w, "https://ro.example/") == 1);
	REQUIRE(catalog_open_reader(dbpath, &r, err, sizeof(err)) == SC_OK);
	reader_faults = 0;
	catalog_set_fault_hook(r, count_fault, NULL);
	CHECK_EQ_INT(catalog_link_add(r, "https://x.example/", &id, NULL),
		     SC_ERR_INVALID);
	CHECK(strstr(catalog_errmsg(r), "read-only") != NULL);
	CHECK_EQ_INT(catalog_tx_begin(r), SC_ERR_INVALID);
	/* a call that writes without a transaction of its own */
	CHECK_EQ_INT(catalog_link_set_next(r, 1, 5), SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_event_append(r, "x", 0, 0, 0, NULL, &id),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_check(r), SC_ERR_INVALID); /* the FTS check */
	CHECK_EQ_INT(reader_faults, 0);
	CHECK(!catalog_damaged(r));
	CHECK_EQ_INT(catalog_jobs_count(r, CATALOG_JOB_ANY, &n), SC_OK);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM links"), 1);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT coalesce(next_capture_at, 0) "
				       "FROM links"), 0);
	/* the writer is not disturbed by the reader's attempts */
	CHECK(add_link(w, "https://after.example/") == 2);
	catalog_close(&r);
	catalog_close(&w);
}

/* Readers never create, migrate or touch a file that is not ready. */
TEST(reader_needs_migrated_file)
{
	struct catalog *r = NULL;
	char err[256];
	snprintf(dbpath, sizeof(dbpath), "%s/bad_absent.db", tmpdir);
	CHECK_EQ_INT(catalog_open_reader(dbpath, &r, err, sizeof(err)),
		     SC_ERR_DB);
	CHECK(r == NULL);
	CHECK(access(dbpath, F_OK) != 0);
	struct catalog *w = open_fresh("bad_old");
	REQUIRE(w);
	catalog_close(&w);
	REQUIRE(raw_sql(dbpath, "PRAGMA user_version = 5") == SQLITE_OK);
	CHECK_EQ_INT(catalog_open_reader(dbpath, &r, err, sizeof(err)),
		     SC_ERR_INVALID);
	CHECK(strstr(err, "catalog_open first") != NULL);
	CHECK_EQ_INT(raw_count(dbpath, "PRAGMA user_version"), 5);
	REQUIRE(raw_sql(dbpath, "PRAGMA user_version = 99") == SQLITE_OK);
	CHECK_EQ_INT(catalog_open_reader(dbpath, &r, err, sizeof(err)),
		     SC_ERR_INVALID);
	CHECK(strstr(err, "newer") != NULL);
	CHECK(r == NULL);
}

enum { RW_LINKS = 200 };

struct rw_writer {
	const char *path;
	int errors;
};

/* Add RW_LINKS links, each with a tag, a job and an event, a few per
 * transaction, on the writer's own connection. */
static void *rw_write(void *arg)
{
	struct rw_writer *t = arg;
	struct catalog *c = NULL;
	char err[256], url[64];
	const char *tag[] = {"rw"};
	if (catalog_open(t->path, &c, err, sizeof(err))) {
		t->errors++;
		return NULL;
	}
	for (int i = 0; i < RW_LINKS; i++) {
		int64_t id = 0, job = 0, ev = 0;
		snprintf(url, sizeof(url), "https://rw%d.example/", i);
		if ((i % 4 == 0 && catalog_tx_begin(c)) ||
		    catalog_link_add(c, url, &id, NULL) ||
		    catalog_link_set_tags(c, id, tag, 1) ||
		    catalog_job_enqueue(c, id, NULL, 0, &job) ||
		    catalog_event_append(c, "job.queued", 0, job, id, NULL,
					 &ev) ||
		    (i % 4 == 3 && catalog_tx_commit(c)))
			t->errors++;
	}
	catalog_close(&c);
	return NULL;
}

/* Page through the tag's links as one state of the file; their count. */
static int64_t rw_read_once(struct catalog *r, int64_t *jobs, int *errors)
{
	const char *tag[] = {"rw"};
	struct catalog_link_query q = {.tags = tag, .ntags = 1, .limit = 7};
	char cursor[CATALOG_CURSOR_SIZE] = "";
	int64_t n = 0;
	if (catalog_read_begin(r)) {
		(*errors)++;
		return -1;
	}
	do {
		struct catalog_link_list *l = NULL;
		q.cursor = cursor;
		if (catalog_links_list(r, &q, &l)) {
			(*errors)++;
			break;
		}
		n += (int64_t)l->n;
		snprintf(cursor, sizeof(cursor), "%s", l->next_cursor);
		catalog_link_list_free(&l);
	} while (cursor[0]);
	if (catalog_jobs_count(r, CATALOG_JOB_QUEUED, jobs))
		(*errors)++;
	catalog_read_end(r);
	return n;
}

/* A writer thread writes while this thread reads through a reader: every
 * read succeeds, sees a consistent state (as many jobs as links: they are
 * committed together) that only grows, and in the end sees everything. */
TEST(reader_while_writer_writes)
{
	struct catalog *c = open_fresh("reader_rw"), *r = NULL;
	char err[256];
	REQUIRE(c);
	catalog_close(&c); /* migrated: the writer thread opens it again */
	REQUIRE(catalog_open_reader(dbpath, &r, err, sizeof(err)) == SC_OK);
	struct rw_writer t = {.path = dbpath};
	pthread_t th;
	REQUIRE(pthread_create(&th, NULL, rw_write, &t) == 0);
	int64_t prev = 0, n = 0, jobs = 0;
	int errors = 0, reads = 0, torn = 0, back = 0;
	do {
		n = rw_read_once(r, &jobs, &errors);
		torn += n != jobs;
		back += n < prev;
		prev = n > prev ? n : prev;
		reads++;
	} while (n < RW_LINKS && !errors && !t.errors);
	pthread_join(th, NULL);
	CHECK_EQ_INT(t.errors, 0);
	CHECK_EQ_INT(errors, 0);
	CHECK_EQ_INT(torn, 0);
	CHECK_EQ_INT(back, 0);
	CHECK_EQ_INT(n, RW_LINKS);
	CHECK(reads >= 1);
	catalog_close(&r);
}

#define CATALOG_TESTS(T) \
	T(migrations_from_empty) T(reopen_keeps_data) \
	T(newer_version_refused) T(migration_1_to_2) \
	T(caller_transactions) T(read_transactions) T(reader_sees_commits) \
	T(reader_refuses_writes) T(reader_needs_migrated_file) \
	T(reader_while_writer_writes)
CATALOG_TEST_MAIN("db")
