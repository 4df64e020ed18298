/*
 * test_catalog_verify.c — damaged catalog files, real SQLite files in a
 * temp dir: the start-up check (header, sizes, freelist, schema, the
 * sample, quick_check for a small file) and the full check find the
 * damage; a sound file passes; a catalog told it is damaged refuses writes
 * and keeps reading; events given ids they could not be stored under keep
 * later ids above them; the write probe.
 */
#include "catalog_verify.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog.h"
#include "testhelp.h"
#include "test_files.h"

static char tmpdir[512];

/* A closed catalog at name with links (page text) and events: ~1.5 MB. */
static int make_catalog(const char *name, char *path, size_t len)
{
	struct catalog *c = NULL;
	char err[256], url[64], json[600];
	snprintf(path, len, "%s/%s.db", tmpdir, name);
	if (catalog_open(path, &c, err, sizeof(err)))
		return -1;
	int rc = catalog_tx_begin(c);
	for (int i = 0; !rc && i < 400; i++) {
		int64_t id, job;
		snprintf(url, sizeof(url), "https://verify.example/%d", i);
		rc = catalog_link_add(c, url, &id, NULL) ||
		     catalog_job_enqueue(c, id, NULL, 0, &job);
	}
	memset(json, 0, sizeof(json));
	snprintf(json, sizeof(json), "{\"pad\":\"%0500d\"}", 7);
	for (int i = 0; !rc && i < 2000; i++) {
		int64_t id;
		rc = catalog_event_append(c, "job.progress", 0, 0, 0, json, &id);
	}
	if (!rc)
		rc = catalog_tx_commit(c);
	catalog_close(&c); /* checkpoints: the WAL is gone */
	return rc;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : st.st_size;
}

TEST(sound_and_missing_files_pass)
{
	char path[640], err[512];
	struct catalog_verify_report r;
	snprintf(path, sizeof(path), "%s/none.db", tmpdir);
	CHECK_EQ_INT(catalog_verify_quick(path, 0, &r, err, sizeof(err)), SC_OK);
	CHECK_EQ_INT(r.bytes, 0);
	REQUIRE(!make_catalog("sound", path, sizeof(path)));
	CHECK_EQ_INT(catalog_verify_quick(path, 0, &r, err, sizeof(err)), SC_OK);
	CHECK(r.bytes > 1000000);
	CHECK_EQ_INT(r.full, 1);
	CHECK(r.tables >= 8 && r.probes > 0);
	CHECK_EQ_INT(catalog_verify_quick(path, -1, &r, err, sizeof(err)), SC_OK);
	CHECK_EQ_INT(r.full, 0);
	CHECK_EQ_INT(catalog_verify_full(path, NULL, err, sizeof(err)), SC_OK);
}

/* The case: random bytes written into the middle of the file. */
TEST(random_bytes_in_the_middle)
{
	char path[640], err[512];
	REQUIRE(!make_catalog("middle", path, sizeof(path)));
	off_t n = file_size(path);
	REQUIRE(n > 0 && !tf_scribble(path, n / 2, 16384, 42));
	CHECK_EQ_INT(catalog_verify_quick(path, 0, NULL, err, sizeof(err)),
		     SC_ERR_DB);
	fprintf(stderr, "  start check: %s\n", err);
	CHECK_EQ_INT(catalog_verify_full(path, NULL, err, sizeof(err)),
		     SC_ERR_DB);
	fprintf(stderr, "  full check: %s\n", err);
}

TEST(header_and_sizes)
{
	char path[640], err[512];
	REQUIRE(!make_catalog("trunc", path, sizeof(path)));
	off_t n = file_size(path);
	REQUIRE(!truncate(path, n - 4096)); /* the last page gone */
	CHECK_EQ_INT(catalog_verify_quick(path, -1, NULL, err, sizeof(err)),
		     SC_ERR_DB);
	CHECK(strstr(err, "its header says") != NULL);
	REQUIRE(!make_catalog("magic", path, sizeof(path)));
	REQUIRE(!tf_scribble(path, 0, 16, 7));
	CHECK_EQ_INT(catalog_verify_quick(path, -1, NULL, err, sizeof(err)),
		     SC_ERR_DB);
	CHECK(strstr(err, "not an SQLite header") != NULL);
	REQUIRE(!make_catalog("pagesize", path, sizeof(path)));
	REQUIRE(!tf_scribble(path, 16, 2, 3));
	CHECK_EQ_INT(catalog_verify_quick(path, -1, NULL, err, sizeof(err)),
		     SC_ERR_DB);
	REQUIRE(!make_catalog("freelist", path, sizeof(path)));
	REQUIRE(!tf_scribble(path, 32, 4, 5)); /* first trunk page: random */
	CHECK_EQ_INT(catalog_verify_quick(path, -1, NULL, err, sizeof(err)),
		     SC_ERR_DB);
	CHECK(strstr(err, "freelist") != NULL);
}

/* The sample (no quick_check) reads every table's first and last rows
 * through SQLite: a damaged last leaf of events is found in O(1). */
TEST(sample_finds_a_damaged_edge)
{
	char path[640], err[512];
	REQUIRE(!make_catalog("edge", path, sizeof(path)));
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t page = 0;
	REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT max(pageno) FROM dbstat WHERE name = "
			       "'events' AND pagetype = 'leaf'", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		page = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	REQUIRE(page > 1);
	REQUIRE(!tf_scribble(path, (page - 1) * 4096, 64, 11)); /* its header */
	struct catalog_verify_report r;
	CHECK_EQ_INT(catalog_verify_quick(path, -1, &r, err, sizeof(err)),
		     SC_ERR_DB);
	CHECK_EQ_INT(r.full, 0);
	CHECK(strstr(err, "reading events") != NULL);
}

TEST(full_check_stops)
{
	char path[640], err[512];
	REQUIRE(!make_catalog("stop", path, sizeof(path)));
	atomic_int stop = 1;
	CHECK_EQ_INT(catalog_verify_full(path, &stop, err, sizeof(err)),
		     SC_ERR_CANCELED);
}

static int hook_faults[3];

static void hook(void *ud, enum catalog_fault f, const char *why)
{
	(void)ud;
	(void)why;
	hook_faults[f]++;
}

/* Told it is damaged, a catalog refuses writes (naming snapcat restore)
 * and still reads; the hook hears it. */
TEST(damaged_refuses_writes)
{
	char path[640], err[256];
	struct catalog *c = NULL;
	REQUIRE(!make_catalog("refuse", path, sizeof(path)));
	REQUIRE(!catalog_open(path, &c, err, sizeof(err)));
	catalog_set_fault_hook(c, hook, NULL);
	CHECK_EQ_INT(catalog_probe_write(c), SC_OK);
	CHECK_EQ_INT(catalog_damaged(c), 0);
	catalog_set_damaged(c, "test damage");
	CHECK_EQ_INT(catalog_damaged(c), 1);
	CHECK_EQ_INT(hook_faults[CATALOG_FAULT_DAMAGED], 1);
	int64_t id = 0, n = 0;
	CHECK_EQ_INT(catalog_link_add(c, "https://x.example/", &id, NULL),
		     SC_ERR_DB);
	CHECK(strstr(catalog_errmsg(c), "snapcat restore") != NULL);
	CHECK_EQ_INT(catalog_probe_write(c), SC_ERR_DB);
	CHECK_EQ_INT(catalog_jobs_count(c, CATALOG_JOB_ANY, &n), SC_OK);
	CHECK_EQ_INT(n, 400);
	catalog_close(&c);
}

/* Ids handed out for events that could not be stored stay below later
 * stored ids. */
TEST(events_skip_keeps_ids_increasing)
{
	char path[640], err[256];
	struct catalog *c = NULL;
	snprintf(path, sizeof(path), "%s/skip.db", tmpdir);
	REQUIRE(!catalog_open(path, &c, err, sizeof(err)));
	int64_t a = 0, b = 0, newest = 0;
	REQUIRE(!catalog_event_append(c, "x", 0, 0, 0, NULL, &a));
	catalog_events_skip(c, a + 5); /* five given, not stored */
	REQUIRE(!catalog_event_append(c, "x", 0, 0, 0, NULL, &b));
	CHECK_EQ_INT(b, a + 6);
	catalog_events_skip(c, a + 2); /* older: no effect */
	REQUIRE(!catalog_event_append(c, "x", 0, 0, 0, NULL, &b));
	CHECK_EQ_INT(b, a + 7);
	CHECK_EQ_INT(catalog_events_bounds(c, NULL, &newest), SC_OK);
	CHECK_EQ_INT(newest, a + 7);
	catalog_close(&c);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/snapcat-verify-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(sound_and_missing_files_pass);
	RUN(random_bytes_in_the_middle);
	RUN(header_and_sizes);
	RUN(sample_finds_a_damaged_edge);
	RUN(full_check_stops);
	RUN(damaged_refuses_writes);
	RUN(events_skip_keeps_ids_increasing);
	int rc = test_report();
	if (!rc)
		(void)!sc_remove_tree(tmpdir);
	return rc;
}
