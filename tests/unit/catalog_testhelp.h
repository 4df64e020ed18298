/*
 * catalog_testhelp.h — what the catalog's unit tests share
 * (test_catalog_<entity>.c): a temp dir of catalog files on a fake clock,
 * small helpers on the public API, direct SQL on a file (to fake other
 * versions and count rows), and the check every program ends with.
 *
 *   #define CATALOG_TESTS(T) T(link_add_dedupe) T(delete_link) ...
 *   CATALOG_TEST_MAIN("links"): main = catalog_test_start (temp dir)
 *     -> RUN each test in order, then integrity_at_end
 *     -> catalog_test_end (report, the temp dir removed)
 *
 * A test names its file with open_fresh("name"): tmpdir/name.db. Files
 * that are not catalogs on purpose start with "bad_" (integrity_at_end
 * skips them).
 */
#ifndef CATALOG_TESTHELP_H
#define CATALOG_TESTHELP_H

#include "catalog.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testhelp.h"

#define CT_UNUSED __attribute__((unused))

static char tmpdir[512];
static char dbpath[640];
static int64_t fake_now = 1700000000000;

static CT_UNUSED int64_t fake_clock(void *ud)
{
	(void)ud;
	return fake_now;
}

/* A fresh catalog file for one test, on the fake clock. */
static CT_UNUSED struct catalog *open_fresh(const char *name)
{
	struct catalog *c = NULL;
	char err[256];
	snprintf(dbpath, sizeof(dbpath), "%s/%s.db", tmpdir, name);
	if (catalog_open(dbpath, &c, err, sizeof(err))) {
		fprintf(stderr, "open %s: %s\n", dbpath, err);
		return NULL;
	}
	catalog_set_clock(c, fake_clock, NULL);
	return c;
}

static CT_UNUSED int64_t add_link(struct catalog *c, const char *url)
{
	int64_t id = 0;
	int created = -1;
	if (catalog_link_add(c, url, &id, &created))
		return 0;
	return id;
}

/* Run one SQL statement on the file directly (to fake other versions). */
static CT_UNUSED int raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int r = sqlite3_open(path, &db);
	if (r == SQLITE_OK)
		r = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return r;
}

static CT_UNUSED int64_t raw_count(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* The link count of tag name; -1: no such tag, -2: the list failed. */
static CT_UNUSED int64_t tag_count(struct catalog *c, const char *name)
{
	struct catalog_tag_list *tl = NULL;
	int64_t n = -1;
	if (catalog_tags_list(c, &tl))
		return -2;
	for (size_t i = 0; i < tl->n; i++)
		if (!strcmp(tl->items[i].name, name))
			n = tl->items[i].count;
	catalog_tag_list_free(&tl);
	return n;
}

/* Create, and finish ok, a snapshot of link with this page text. */
static CT_UNUSED int64_t snap_ok(struct catalog *c, int64_t link,
				 const char *title, const char *text)
{
	int64_t sid = 0;
	if (catalog_snapshot_create(c, link, 0, &sid))
		return 0;
	struct catalog_snapshot s = {
		.id = sid,
		.state = CATALOG_SNAP_OK,
		.title = sc_xstrdup(title),
		.text = sc_xstrdup(text),
		.png_status = CATALOG_OUT_OK,
		.mhtml_status = CATALOG_OUT_OK,
		.thumb_status = CATALOG_OUT_OK,
		.text_status = CATALOG_OUT_OK,
	};
	sc_result rc = catalog_snapshot_finish(c, &s);
	free(s.title);
	free(s.text);
	return rc ? 0 : sid;
}

/* Run a search; the number of hits, or -1 on error. */
static CT_UNUSED int search(struct catalog *c, const char *q, int64_t *first)
{
	struct catalog_link_query lq = {.q = q};
	struct catalog_link_list *l = NULL;
	if (catalog_links_list(c, &lq, &l)) {
		fprintf(stderr, "search [%s]: %s\n", q, catalog_errmsg(c));
		return -1;
	}
	int n = (int)l->n;
	if (first)
		*first = n ? l->items[0].id : 0;
	catalog_link_list_free(&l);
	return n;
}

static CT_UNUSED int64_t claim_id(struct catalog *c)
{
	struct catalog_job *j = NULL;
	if (catalog_job_claim(c, &j))
		return 0;
	int64_t id = j->id;
	catalog_job_free(&j);
	return id;
}

static CT_UNUSED enum catalog_job_state job_state(struct catalog *c,
						  int64_t id)
{
	struct catalog_job *j = NULL;
	if (catalog_job_get(c, id, &j))
		return CATALOG_JOB_ANY;
	enum catalog_job_state s = j->state;
	catalog_job_free(&j);
	return s;
}

/* One catalog file made by the tests: sound, and the tag counts the list
 * plans use are exact. */
static void integrity_of(const char *name)
{
	struct catalog *c = NULL;
	char err[256];
	snprintf(dbpath, sizeof(dbpath), "%s/%s", tmpdir, name);
	if (catalog_open(dbpath, &c, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", name, err);
		CHECK(0);
		return;
	}
	sc_result rc = catalog_check(c);
	if (rc)
		fprintf(stderr, "%s: %s\n", name, catalog_errmsg(c));
	CHECK_EQ_INT(rc, SC_OK);
	catalog_close(&c);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM "
				       "pragma_integrity_check "
				       "WHERE integrity_check <> 'ok'"),
		     0);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM tags WHERE "
				       "nlinks <> (SELECT count(*) FROM "
				       "link_tags WHERE tag_id = tags.id)"),
		     0);
}

/* Every catalog the program's tests made (tmpdir/<name>.db, not bad_*). */
TEST(integrity_at_end)
{
	DIR *d = opendir(tmpdir);
	REQUIRE(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 3, ".db") ||
		    !strncmp(e->d_name, "bad_", 4))
			continue;
		integrity_of(e->d_name);
		n++;
	}
	closedir(d);
	CHECK(n > 0);
}

/* Make the temp dir tmpdir (under $TMPDIR) for test program name. */
static CT_UNUSED int catalog_test_start(const char *name)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_catalog_%s.XXXXXX",
		 base && *base ? base : "/tmp", name);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return -1;
	}
	sc_log_set_level(SC_LOG_ERROR);
	return 0;
}

/* The program's exit status; the temp dir goes. */
static CT_UNUSED int catalog_test_end(void)
{
	int rc = test_report();
	if (sc_remove_tree(tmpdir))
		perror("remove tmpdir");
	return rc;
}

/* RUN one test of CATALOG_TESTS. */
#define CATALOG_TEST_RUN(name) RUN(name);

/* The main of a test program whose tests CATALOG_TESTS(T) lists. */
#define CATALOG_TEST_MAIN(prog)                                            \
	int main(void)                                                     \
	{                                                                  \
		if (catalog_test_start(prog))                              \
			return 1;                                          \
		CATALOG_TESTS(CATALOG_TEST_RUN)                            \
		RUN(integrity_at_end);                                     \
		return catalog_test_end();                                 \
	}

#endif
