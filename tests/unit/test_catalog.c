/*
 * test_catalog.c — the catalog against a real SQLite file in a temp dir:
 * migrations, links, tags, search, paging, the job queue and its crash
 * recovery, snapshots, events, deletes, and integrity at the end.
 */
#include "catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testhelp.h"

static char tmpdir[512];
static char dbpath[640];
static int64_t fake_now = 1700000000000;

static int64_t fake_clock(void *ud)
{
	(void)ud;
	return fake_now;
}

/* A fresh catalog file for one test, on the fake clock. */
static struct catalog *open_fresh(const char *name)
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

static int64_t add_link(struct catalog *c, const char *url)
{
	int64_t id = 0;
	int created = -1;
	if (catalog_link_add(c, url, &id, &created))
		return 0;
	return id;
}

/* Run one SQL statement on the file directly (to fake other versions). */
static int raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int r = sqlite3_open(path, &db);
	if (r == SQLITE_OK)
		r = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return r;
}

static int64_t raw_count(const char *path, const char *sql)
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
	struct catalog *c = open_fresh("newer");
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
	snprintf(dbpath, sizeof(dbpath), "%s/foreign.db", tmpdir);
	REQUIRE(raw_sql(dbpath, "CREATE TABLE t(x)") == SQLITE_OK);
	CHECK_EQ_INT(catalog_open(dbpath, &c, err, sizeof(err)), SC_ERR_DB);
	CHECK(strstr(err, "not a snapcat catalog") != NULL);

	/* garbage is refused cleanly */
	snprintf(dbpath, sizeof(dbpath), "%s/garbage.db", tmpdir);
	FILE *f = fopen(dbpath, "w");
	REQUIRE(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database ", f);
	fclose(f);
	CHECK(catalog_open(dbpath, &c, err, sizeof(err)) != SC_OK);
	CHECK(c == NULL);
}

TEST(link_add_dedupe)
{
	struct catalog *c = open_fresh("dedupe");
	REQUIRE(c);
	int64_t a = 0, b = 0;
	int created = -1;
	CHECK_EQ_INT(catalog_link_add(c, "https://a.example/", &a, &created),
		     SC_OK);
	CHECK_EQ_INT(created, 1);
	fake_now += 10;
	CHECK_EQ_INT(catalog_link_add(c, "https://a.example/", &b, &created),
		     SC_OK);
	CHECK_EQ_INT(created, 0);
	CHECK_EQ_INT(a, b);
	CHECK_EQ_INT(catalog_link_add(c, "https://b.example/", &b, NULL),
		     SC_OK);
	CHECK(b != a);
	CHECK_EQ_INT(catalog_link_add(c, "", &b, NULL), SC_ERR_INVALID);
	char *big = malloc(CATALOG_URL_MAX + 2);
	memset(big, 'a', CATALOG_URL_MAX + 1);
	big[CATALOG_URL_MAX + 1] = '\0';
	CHECK_EQ_INT(catalog_link_add(c, big, &b, NULL), SC_ERR_TOO_LARGE);
	free(big);

	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	CHECK(l->title == NULL);
	CHECK_EQ_INT(l->last_job_id, 0);
	catalog_link_free(&l);
	CHECK_EQ_INT(catalog_link_set_title(c, a, "Mine"), SC_OK);
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	CHECK_STR(l->title, "Mine");
	CHECK_EQ_INT(l->title_locked, 1);
	catalog_link_free(&l);
	CHECK_EQ_INT(catalog_link_get(c, 9999, &l), SC_ERR_NOT_FOUND);
	CHECK(l == NULL);
	CHECK_EQ_INT(catalog_link_set_title(c, 9999, "x"), SC_ERR_NOT_FOUND);
	catalog_close(&c);
}

static int64_t tag_count(struct catalog *c, const char *name)
{
	struct catalog_tag_list *tl = NULL;
	int64_t n = -1;
	if (catalog_tags_list(c, &tl))
		return -2;
	for (size_t i = 0; i < tl->n; i++)
		if (!strcmp(tl->items[i].name, name))
			n = tl->items[i].count;
	catalog_tag_list_free(&tl);
	return n; /* -1: no such tag */
}

TEST(tag_normalize)
{
	char out[CATALOG_TAG_BUF];
	CHECK_EQ_INT(catalog_tag_normalize("  News \t", out, sizeof(out)),
		     SC_OK);
	CHECK_STR(out, "news");
	CHECK_EQ_INT(catalog_tag_normalize("   ", out, sizeof(out)),
		     SC_ERR_INVALID);
	CHECK_STR(out, "");
	CHECK_EQ_INT(catalog_tag_normalize("a\x01" "b", out, sizeof(out)),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_tag_normalize("bad\xff", out, sizeof(out)),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_tag_normalize(NULL, out, sizeof(out)),
		     SC_ERR_INVALID);
	char t[200];
	memset(t, 'X', 64);
	t[64] = '\0';
	CHECK_EQ_INT(catalog_tag_normalize(t, out, sizeof(out)), SC_OK);
	CHECK_EQ_INT(strlen(out), 64);
	CHECK(out[0] == 'x');
	t[64] = 'x';
	t[65] = '\0';
	CHECK_EQ_INT(catalog_tag_normalize(t, out, sizeof(out)),
		     SC_ERR_TOO_LARGE);
	/* the cap counts characters: 64 two-byte letters fit */
	t[0] = '\0';
	for (int i = 0; i < 64; i++)
		strncat(t, "\xc3\xa9", sizeof(t) - strlen(t) - 1);
	CHECK_EQ_INT(catalog_tag_normalize(t, out, sizeof(out)), SC_OK);
	CHECK_EQ_INT(strlen(out), 128);
	CHECK_EQ_INT(catalog_tag_normalize("Été", out, sizeof(out)), SC_OK);
	CHECK_STR(out, "\xc3\x89t\xc3\xa9"); /* only ASCII is lowercased */
}

TEST(tags)
{
	struct catalog *c = open_fresh("tags");
	REQUIRE(c);
	int64_t a = add_link(c, "https://a.example/");
	int64_t b = add_link(c, "https://b.example/");
	const char *ta[] = {" News ", "NEWS", "tech", "news"};
	CHECK_EQ_INT(catalog_link_set_tags(c, a, ta, 4), SC_OK);
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	REQUIRE(l->ntags == 2);
	CHECK_STR(l->tags[0], "news");
	CHECK_STR(l->tags[1], "tech");
	catalog_link_free(&l);

	CHECK_EQ_INT(catalog_link_add_tag(c, b, "Tech"), SC_OK);
	CHECK_EQ_INT(catalog_link_add_tag(c, b, "tech "), SC_OK);
	CHECK_EQ_INT(tag_count(c, "tech"), 2);
	CHECK_EQ_INT(tag_count(c, "news"), 1);

	/* a bad tag fails the whole call and changes nothing */
	char longtag[80];
	memset(longtag, 'q', 65);
	longtag[65] = '\0';
	const char *bad[] = {"fine", longtag};
	CHECK_EQ_INT(catalog_link_set_tags(c, a, bad, 2), SC_ERR_TOO_LARGE);
	CHECK(strstr(catalog_errmsg(c), "tag 2") != NULL);
	CHECK_EQ_INT(tag_count(c, "fine"), -1);
	CHECK_EQ_INT(tag_count(c, "news"), 1);
	CHECK_EQ_INT(catalog_link_set_tags(c, 12345, ta, 1), SC_ERR_NOT_FOUND);

	/* rename to a new name */
	int merged = -1;
	CHECK_EQ_INT(catalog_tag_rename(c, "NEWS", "Press", &merged), SC_OK);
	CHECK_EQ_INT(merged, 0);
	CHECK_EQ_INT(tag_count(c, "news"), -1);
	CHECK_EQ_INT(tag_count(c, "press"), 1);
	CHECK_EQ_INT(catalog_tag_rename(c, "press", "PRESS", &merged), SC_OK);
	CHECK_EQ_INT(catalog_tag_rename(c, "nope", "x", &merged),
		     SC_ERR_NOT_FOUND);
	/* rename onto an existing tag merges */
	CHECK_EQ_INT(catalog_link_add_tag(c, b, "press"), SC_OK);
	CHECK_EQ_INT(catalog_tag_rename(c, "tech", "press", &merged), SC_OK);
	CHECK_EQ_INT(merged, 1);
	CHECK_EQ_INT(tag_count(c, "tech"), -1);
	CHECK_EQ_INT(tag_count(c, "press"), 2);
	REQUIRE(catalog_link_get(c, b, &l) == SC_OK);
	REQUIRE(l->ntags == 1);
	CHECK_STR(l->tags[0], "press");
	catalog_link_free(&l);

	/* remove and delete; orphans go away */
	CHECK_EQ_INT(catalog_link_remove_tag(c, b, "PRESS"), SC_OK);
	CHECK_EQ_INT(catalog_link_remove_tag(c, b, "absent"), SC_OK);
	CHECK_EQ_INT(tag_count(c, "press"), 1);
	CHECK_EQ_INT(catalog_tag_delete(c, "Press"), SC_OK);
	CHECK_EQ_INT(tag_count(c, "press"), -1);
	CHECK_EQ_INT(catalog_tag_delete(c, "press"), SC_ERR_NOT_FOUND);
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	CHECK_EQ_INT(l->ntags, 0);
	catalog_link_free(&l);
	CHECK_EQ_INT(catalog_link_set_tags(c, a, ta, 1), SC_OK);
	CHECK_EQ_INT(catalog_link_set_tags(c, a, NULL, 0), SC_OK);
	CHECK_EQ_INT(tag_count(c, "news"), -1);
	CHECK_EQ_INT(catalog_check(c), SC_OK);
	catalog_close(&c);
}

/* Create, and finish ok, a snapshot of link with this page text. */
static int64_t snap_ok(struct catalog *c, int64_t link, const char *title,
		       const char *text)
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
static int search(struct catalog *c, const char *q, int64_t *first)
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

TEST(fts)
{
	struct catalog *c = open_fresh("fts");
	REQUIRE(c);
	int64_t a = add_link(c, "https://alpha.example/page");
	int64_t b = add_link(c, "https://beta.example/");
	REQUIRE(a && b);
	CHECK(snap_ok(c, a, "Alpha Title",
		      "The quick brown xylophone jumps. Café au lait.") > 0);
	int64_t hit = 0;
	CHECK_EQ_INT(search(c, "xylophone", &hit), 1); /* only in page text */
	CHECK_EQ_INT(hit, a);
	CHECK_EQ_INT(search(c, "XYLOPHONE quick", &hit), 1);
	CHECK_EQ_INT(search(c, "xylo*", &hit), 1);
	CHECK_EQ_INT(search(c, "xylo", &hit), 0);
	CHECK_EQ_INT(search(c, "cafe", &hit), 1); /* accent-insensitive */
	CHECK_EQ_INT(search(c, "beta", &hit), 1); /* URL */
	CHECK_EQ_INT(hit, b);
	CHECK_EQ_INT(search(c, "alpha title", &hit), 1);
	CHECK_EQ_INT(search(c, "example", NULL), 2);
	CHECK_EQ_INT(search(c, "xylophone beta", NULL), 0); /* AND */

	/* the link's title follows the page unless set by hand */
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	CHECK_STR(l->title, "Alpha Title");
	CHECK(l->last_snapshot_id > 0);
	catalog_link_free(&l);

	/* a newer snapshot replaces the indexed text */
	CHECK(snap_ok(c, a, NULL, "zeppelin") > 0);
	CHECK_EQ_INT(search(c, "xylophone", NULL), 0);
	CHECK_EQ_INT(search(c, "zeppelin", NULL), 1);
	CHECK_EQ_INT(search(c, "alpha title", NULL), 1); /* title kept */

	const char *hostile[] = {
		"\"", "\"\"", "*", "**", "AND", "OR", "NOT", "NEAR(",
		"NEAR(a b", "(", ")", "((a)", "a AND", "OR b", "\"unbalanced",
		"a\"b", "col:umn", "url:beta", "-beta", "^beta", "+", "{url}",
		"title : x", "a OR OR b", "NEAR/3", "\xff\xfe", "zeppelin*\"",
		"\\", "'", ";DROP TABLE links;--", "a * b", "   ",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int n = search(c, hostile[i], NULL);
		if (n < 0)
			fprintf(stderr, "hostile #%zu failed\n", i);
		CHECK(n >= 0);
	}
	CHECK_EQ_INT(search(c, "NEAR( zeppelin", NULL), 0);
	CHECK_EQ_INT(search(c, "\"zeppelin\"", NULL), 1);
	CHECK_EQ_INT(search(c, "(zeppelin)", NULL), 1);
	CHECK_EQ_INT(search(c, "url:beta", NULL), 0); /* no column filters */
	CHECK_EQ_INT(search(c, "((", NULL), 2); /* nothing to search for */

	/* caps */
	char big[CATALOG_QUERY_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct catalog_link_query lq = {.q = big};
	struct catalog_link_list *ll = NULL;
	CHECK_EQ_INT(catalog_links_list(c, &lq, &ll), SC_ERR_TOO_LARGE);
	CHECK(ll == NULL);
	char many[200] = "";
	for (int i = 0; i < CATALOG_QUERY_TERMS + 1; i++)
		strncat(many, "w ", sizeof(many) - strlen(many) - 1);
	lq.q = many;
	CHECK_EQ_INT(catalog_links_list(c, &lq, &ll), SC_ERR_TOO_LARGE);
	CHECK_EQ_INT(catalog_check(c), SC_OK);
	catalog_close(&c);
}

/* Ids returned by a tag query, as a bit set over small ids. */
static unsigned tag_query(struct catalog *c, const char *const *tags,
			  size_t n, enum catalog_match m)
{
	struct catalog_link_query q = {.tags = tags, .ntags = n, .match = m};
	struct catalog_link_list *l = NULL;
	unsigned set = 0;
	if (catalog_links_list(c, &q, &l))
		return 1u << 31;
	for (size_t i = 0; i < l->n; i++)
		set |= 1u << l->items[i].id;
	catalog_link_list_free(&l);
	return set;
}

TEST(tag_filters)
{
	struct catalog *c = open_fresh("tagfilter");
	REQUIRE(c);
	int64_t id[4];
	const char *urls[] = {"https://1.example/", "https://2.example/",
			      "https://3.example/", "https://4.example/"};
	for (int i = 0; i < 4; i++)
		id[i] = add_link(c, urls[i]);
	REQUIRE(id[0] == 1 && id[3] == 4);
	const char *t1[] = {"red", "blue"};
	const char *t2[] = {"red"};
	const char *t3[] = {"blue", "green"};
	CHECK_EQ_INT(catalog_link_set_tags(c, 1, t1, 2), SC_OK);
	CHECK_EQ_INT(catalog_link_set_tags(c, 2, t2, 1), SC_OK);
	CHECK_EQ_INT(catalog_link_set_tags(c, 3, t3, 2), SC_OK);
	const char *q_rb[] = {"RED", " blue"};
	const char *q_rr[] = {"red", "Red"};
	const char *q_x[] = {"nosuch"};
	CHECK_EQ_INT(tag_query(c, q_rb, 2, CATALOG_MATCH_ALL), 1u << 1);
	CHECK_EQ_INT(tag_query(c, q_rb, 2, CATALOG_MATCH_ANY),
		     1u << 1 | 1u << 2 | 1u << 3);
	CHECK_EQ_INT(tag_query(c, q_rr, 2, CATALOG_MATCH_ALL),
		     1u << 1 | 1u << 2); /* duplicates do not raise the bar */
	CHECK_EQ_INT(tag_query(c, q_x, 1, CATALOG_MATCH_ANY), 0);
	CHECK_EQ_INT(tag_query(c, NULL, 0, CATALOG_MATCH_ALL), 0x1e);
	const char *q_bad[] = {"   "};
	CHECK_EQ_INT(tag_query(c, q_bad, 1, CATALOG_MATCH_ALL), 1u << 31);
	/* tags and search together */
	CHECK(snap_ok(c, 3, "t", "walrus") > 0);
	CHECK(snap_ok(c, 2, "t", "walrus") > 0);
	struct catalog_link_query q = {.tags = q_rb + 1, .ntags = 1,
				       .q = "walrus"};
	struct catalog_link_list *l = NULL;
	REQUIRE(catalog_links_list(c, &q, &l) == SC_OK);
	REQUIRE(l->n == 1);
	CHECK_EQ_INT(l->items[0].id, 3);
	catalog_link_list_free(&l);
	catalog_close(&c);
}

TEST(cursor_paging_ties)
{
	struct catalog *c = open_fresh("paging");
	REQUIRE(c);
	enum { N = 53 };
	char url[64];
	for (int i = 0; i < N; i++) {
		if (i % 10 == 0)
			fake_now += 1000; /* groups of 10 share created_at */
		snprintf(url, sizeof(url), "https://p%d.example/", i);
		REQUIRE(add_link(c, url) == i + 1);
	}
	int seen[N + 1] = {0};
	char cursor[CATALOG_CURSOR_SIZE] = "";
	int64_t prev_ts = INT64_MAX, prev_id = INT64_MAX;
	int pages = 0, total = 0;
	do {
		struct catalog_link_query q = {.cursor = cursor, .limit = 7};
		struct catalog_link_list *l = NULL;
		REQUIRE(catalog_links_list(c, &q, &l) == SC_OK);
		/* a link added while paging is not on a later page */
		if (pages == 2)
			REQUIRE(add_link(c, "https://late.example/") > 0);
		for (size_t i = 0; i < l->n; i++) {
			struct catalog_link *k = &l->items[i];
			REQUIRE(k->id >= 1 && k->id <= N);
			seen[k->id]++;
			CHECK(k->created_at < prev_ts ||
			      (k->created_at == prev_ts && k->id < prev_id));
			prev_ts = k->created_at;
			prev_id = k->id;
			total++;
		}
		snprintf(cursor, sizeof(cursor), "%s", l->next_cursor);
		pages++;
		catalog_link_list_free(&l);
	} while (cursor[0] && pages < 100);
	CHECK_EQ_INT(total, N);
	CHECK_EQ_INT(pages, (N + 6) / 7);
	for (int i = 1; i <= N; i++)
		CHECK_EQ_INT(seen[i], 1);

	struct catalog_link_query bad = {.cursor = "garbage"};
	struct catalog_link_list *l = NULL;
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	bad.cursor = "12_";
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	bad.cursor = "1_2_3";
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	bad.cursor = NULL;
	bad.limit = CATALOG_LIST_MAX + 1;
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	CHECK(l == NULL);
	catalog_close(&c);
}

/* ---- list plans: every way of reading a page gives the same pages ---- */

enum { PL_N = 2500, PL_TAGS = 5, PL_WORDS = 3 };
static const char *const pl_tags[PL_TAGS] = {"pop", "mid", "few1", "few2",
					     "odd"};
static const char *const pl_words[PL_WORDS] = {"alpha", "beta", "gamma"};
static unsigned pl_tagset[PL_N + 1], pl_wordset[PL_N + 1];

/* Tags and words of link i (1-based): "pop" on 80 %, "mid" on 40 %, "few1"
 * and "few2" on 1 % (never both), "odd" on odd ids; alpha on every 3rd,
 * beta on every 7th, gamma on every 50th. */
static void plan_model(int i)
{
	unsigned t = 0, w = 0;
	t |= (i * 7919 % 100 < 80) << 0;
	t |= (i * 104729 % 100 < 40) << 1;
	t |= (i % 100 == 13) << 2;
	t |= (i % 100 == 77) << 3;
	t |= (i % 2) << 4;
	w |= (i % 3 == 0) << 0;
	w |= (i % 7 == 0) << 1;
	w |= (i % 50 == 0) << 2;
	pl_tagset[i] = t;
	pl_wordset[i] = w;
}

static int plan_seed(struct catalog *c)
{
	char url[64], text[64];
	if (catalog_tx_begin(c))
		return -1;
	for (int i = 1; i <= PL_N; i++) {
		const char *tags[PL_TAGS];
		size_t n = 0;
		plan_model(i);
		/* the clock: ties, and now and then a step back */
		fake_now += i % 5 ? 1000 : 0;
		if (i % 97 == 0)
			fake_now -= 30000;
		snprintf(url, sizeof(url), "https://plan%d.example/", i);
		if (add_link(c, url) != i)
			return -1;
		for (int k = 0; k < PL_TAGS; k++)
			if (pl_tagset[i] >> k & 1)
				tags[n++] = pl_tags[k];
		text[0] = '\0';
		for (int k = 0; k < PL_WORDS; k++)
			if (pl_wordset[i] >> k & 1)
				snprintf(text + strlen(text),
					 sizeof(text) - strlen(text), " %s",
					 pl_words[k]);
		if ((n && catalog_link_set_tags(c, i, tags, n)) ||
		    !snap_ok(c, i, "t", text))
			return -1;
	}
	return catalog_tx_commit(c) ? -1 : 0;
}

/* Does link i pass tags (mask, all or any) and words (mask, all)? */
static int plan_match(int i, unsigned tags, enum catalog_match m,
		      unsigned words)
{
	unsigned have = pl_tagset[i] & tags;
	if (tags && (m == CATALOG_MATCH_ALL ? have != tags : !have))
		return 0;
	return (pl_wordset[i] & words) == words;
}

/* Page through a query with limit; compare with the model, newest first. */
static void plan_check(struct catalog *c, unsigned tags, enum catalog_match m,
		       unsigned words, int limit, const char *extra_tag)
{
	const char *tv[PL_TAGS + 1];
	char q[64] = "";
	size_t nt = 0;
	for (int k = 0; k < PL_TAGS; k++)
		if (tags >> k & 1)
			tv[nt++] = pl_tags[k];
	if (extra_tag)
		tv[nt++] = extra_tag;
	for (int k = 0; k < PL_WORDS; k++)
		if (words >> k & 1)
			snprintf(q + strlen(q), sizeof(q) - strlen(q), "%s ",
				 pl_words[k]);
	char cursor[CATALOG_CURSOR_SIZE] = "";
	int want = PL_N + 1, bad = 0, pages = 0;
	do {
		struct catalog_link_query lq = {.tags = tv, .ntags = nt,
						.match = m, .q = q,
						.cursor = cursor, .limit = limit};
		struct catalog_link_list *l = NULL;
		if (catalog_links_list(c, &lq, &l)) {
			bad = 1;
			break;
		}
		for (size_t i = 0; i < l->n; i++) {
			while (--want > 0 && !plan_match(want, tags, m, words))
				;
			bad |= l->items[i].id != want;
		}
		snprintf(cursor, sizeof(cursor), "%s", l->next_cursor);
		catalog_link_list_free(&l);
	} while (cursor[0] && !bad && ++pages < PL_N);
	while (--want > 0 && !plan_match(want, tags, m, words))
		;
	if (bad || want > 0)
		fprintf(stderr, "plan_check tags %x %s words %x limit %d "
			"extra %s: %s\n", tags, m ? "any" : "all", words, limit,
			extra_tag ? extra_tag : "-",
			bad ? "wrong page" : "links missing");
	CHECK(!bad && want <= 0);
}

TEST(list_plans)
{
	struct catalog *c = open_fresh("plans");
	REQUIRE(c);
	REQUIRE(plan_seed(c) == 0);
	/* created_at never goes down with id, even when the clock does */
	struct catalog_link *a = NULL, *b = NULL;
	REQUIRE(catalog_link_get(c, 96, &a) == SC_OK);
	REQUIRE(catalog_link_get(c, 97, &b) == SC_OK);
	CHECK_EQ_INT(b->created_at, a->created_at);
	catalog_link_free(&a);
	catalog_link_free(&b);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM links a JOIN "
				       "links b ON b.id = a.id + 1 "
				       "WHERE b.created_at < a.created_at"), 0);
	static const struct { unsigned tags, words; enum catalog_match m; } qs[] = {
		{0, 0, 0}, {1, 0, 0}, {4, 0, 0}, {3, 0, 0}, {12, 0, 0},
		{12, 0, 1}, {3, 0, 1}, {5, 0, 1}, {19, 0, 1}, {0, 1, 0},
		{0, 4, 0}, {0, 3, 0}, {4, 1, 0}, {6, 2, 1}, {17, 1, 0},
		{3, 1, 1}};
	static const int limits[] = {7, 50, 1000};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		for (size_t k = 0; k < 3; k++)
			plan_check(c, qs[i].tags, qs[i].m, qs[i].words,
				   limits[k], NULL);
	/* an unknown tag: "all" matches nothing, "any" ignores it */
	plan_check(c, 4, CATALOG_MATCH_ANY, 0, 7, "nosuch");
	struct catalog_link_query q = {.tags = (const char *[]){"few1", "nosuch"},
				       .ntags = 2};
	struct catalog_link_list *l = NULL;
	REQUIRE(catalog_links_list(c, &q, &l) == SC_OK);
	CHECK_EQ_INT(l->n, 0);
	CHECK_STR(l->next_cursor, "");
	catalog_link_list_free(&l);
	catalog_close(&c);
}

/* Undo migrations 5 (bookmarked_at), 4 (schedules, retention, link
 * options) and 3 (the visual archive's snapshot columns). */
#define V3_UNDO                                                              \
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

/* An imported bookmark's date: unknown (0) at first, the earliest given
 * is kept, 0 or less changes nothing, a missing link is NOT_FOUND. */
TEST(link_bookmarked_at)
{
	struct catalog *c = open_fresh("bookmarked");
	REQUIRE(c);
	int64_t id = add_link(c, "https://bookmarked.example/");
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, id, &l) == SC_OK);
	CHECK(l->bookmarked_at == 0);
	catalog_link_free(&l);
	CHECK(catalog_link_set_bookmarked(c, id, 1500000000000) == SC_OK);
	CHECK(catalog_link_set_bookmarked(c, id, 1600000000000) == SC_OK);
	CHECK(catalog_link_set_bookmarked(c, id, 0) == SC_OK);
	REQUIRE(catalog_link_get(c, id, &l) == SC_OK);
	CHECK(l->bookmarked_at == 1500000000000);
	catalog_link_free(&l);
	CHECK(catalog_link_set_bookmarked(c, id, 1400000000000) == SC_OK);
	REQUIRE(catalog_link_get(c, id, &l) == SC_OK);
	CHECK(l->bookmarked_at == 1400000000000);
	catalog_link_free(&l);
	CHECK(catalog_link_set_bookmarked(c, id + 99, 1) == SC_ERR_NOT_FOUND);
	catalog_close(&c);
}

static int64_t claim_id(struct catalog *c)
{
	struct catalog_job *j = NULL;
	if (catalog_job_claim(c, &j))
		return 0;
	int64_t id = j->id;
	catalog_job_free(&j);
	return id;
}

static enum catalog_job_state job_state(struct catalog *c, int64_t id)
{
	struct catalog_job *j = NULL;
	if (catalog_job_get(c, id, &j))
		return CATALOG_JOB_ANY;
	enum catalog_job_state s = j->state;
	catalog_job_free(&j);
	return s;
}

/* A link and three queued jobs: max attempts default, 2 and 1. */
static struct catalog *jobs_setup(const char *name, int64_t *link,
				  int64_t j[3])
{
	struct catalog *c = open_fresh(name);
	if (!c)
		return NULL;
	*link = add_link(c, "https://jobs.example/");
	if (catalog_job_enqueue(c, *link, "{\"width\":800}", 0, &j[0]) ||
	    catalog_job_enqueue(c, *link, NULL, 2, &j[1]) ||
	    catalog_job_enqueue(c, *link, NULL, 1, &j[2]))
		catalog_close(&c);
	return c;
}

TEST(jobs_claim_backoff)
{
	int64_t link, j[3], n;
	struct catalog *c = jobs_setup("jobs_claim", &link, j);
	REQUIRE(c);
	CHECK_EQ_INT(catalog_job_enqueue(c, 999, NULL, 0, &n),
		     SC_ERR_NOT_FOUND);
	CHECK_EQ_INT(catalog_job_enqueue(c, link, "{bad", 0, &n),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_jobs_count(c, CATALOG_JOB_QUEUED, &n), SC_OK);
	CHECK_EQ_INT(n, 3);

	/* claim: oldest first, atomically running with attempts + 1 */
	fake_now += 1;
	struct catalog_job *jb = NULL;
	REQUIRE(catalog_job_claim(c, &jb) == SC_OK);
	CHECK_EQ_INT(jb->id, j[0]);
	CHECK_EQ_INT(jb->state, CATALOG_JOB_RUNNING);
	CHECK_EQ_INT(jb->attempts, 1);
	CHECK_EQ_INT(jb->max_attempts, CATALOG_JOB_MAX_ATTEMPTS);
	CHECK_STR(jb->url, "https://jobs.example/");
	CHECK_STR(jb->options, "{\"width\":800}");
	CHECK_EQ_INT(jb->started_at, fake_now);
	catalog_job_free(&jb);
	CHECK_EQ_INT(catalog_job_progress(c, j[0], 140, "capturing"), SC_OK);
	REQUIRE(catalog_job_get(c, j[0], &jb) == SC_OK);
	CHECK_EQ_INT(jb->progress, 100);
	CHECK_STR(jb->stage, "capturing");
	catalog_job_free(&jb);

	/* back-off: a requeued job waits for run_after */
	enum catalog_job_state st = CATALOG_JOB_ANY;
	CHECK_EQ_INT(catalog_job_requeue(c, j[0], 5000, "timeout", "slow",
					 &st), SC_OK);
	CHECK_EQ_INT(st, CATALOG_JOB_QUEUED);
	CHECK_EQ_INT(claim_id(c), j[1]);
	CHECK_EQ_INT(claim_id(c), j[2]);
	CHECK_EQ_INT(catalog_job_claim(c, &jb), SC_ERR_NOT_FOUND);
	CHECK(jb == NULL);
	fake_now += 4999;
	CHECK_EQ_INT(claim_id(c), 0);
	fake_now += 1;
	CHECK_EQ_INT(claim_id(c), j[0]);
	REQUIRE(catalog_job_get(c, j[0], &jb) == SC_OK);
	CHECK_EQ_INT(jb->attempts, 2);
	CHECK_STR(jb->error_class, "timeout"); /* the last error is kept */
	catalog_job_free(&jb);

	/* j[2] has max_attempts 1: a requeue fails it */
	CHECK_EQ_INT(catalog_job_requeue(c, j[2], 10, "dns", "no such host",
					 &st), SC_OK);
	CHECK_EQ_INT(st, CATALOG_JOB_FAILED);
	CHECK_EQ_INT(job_state(c, j[2]), CATALOG_JOB_FAILED);
	CHECK_EQ_INT(catalog_job_requeue(c, j[2], 10, "x", "y", &st),
		     SC_ERR_INVALID);
	catalog_close(&c);
}

TEST(jobs_transitions)
{
	int64_t link, j[3];
	struct catalog *c = jobs_setup("jobs_states", &link, j);
	REQUIRE(c);
	/* done is final */
	CHECK_EQ_INT(claim_id(c), j[0]);
	CHECK_EQ_INT(catalog_job_done(c, j[0], 0), SC_OK);
	CHECK_EQ_INT(catalog_job_done(c, j[0], 0), SC_ERR_INVALID);
	CHECK(strstr(catalog_errmsg(c), "is done") != NULL);
	CHECK_EQ_INT(catalog_job_retry(c, j[0]), SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_job_cancel(c, j[0], NULL), SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_job_progress(c, j[0], 1, NULL), SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_job_done(c, 4242, 0), SC_ERR_NOT_FOUND);
	CHECK_EQ_INT(catalog_job_cancel(c, 4242, NULL), SC_ERR_NOT_FOUND);

	/* cancel a running job: the capture learns it on its next call */
	enum catalog_job_state was = CATALOG_JOB_ANY;
	CHECK_EQ_INT(claim_id(c), j[1]);
	CHECK_EQ_INT(catalog_job_cancel(c, j[1], &was), SC_OK);
	CHECK_EQ_INT(was, CATALOG_JOB_RUNNING);
	CHECK_EQ_INT(catalog_job_progress(c, j[1], 50, "x"), SC_ERR_CANCELED);
	CHECK_EQ_INT(catalog_job_done(c, j[1], 0), SC_ERR_CANCELED);
	CHECK_EQ_INT(catalog_job_cancel(c, j[1], &was), SC_OK);
	CHECK_EQ_INT(was, CATALOG_JOB_CANCELED);
	/* a queued job is canceled before it runs, and never claimed */
	CHECK_EQ_INT(catalog_job_cancel(c, j[2], &was), SC_OK);
	CHECK_EQ_INT(was, CATALOG_JOB_QUEUED);
	CHECK_EQ_INT(claim_id(c), 0);

	/* retry: failed/canceled go back to the queue, fresh */
	CHECK_EQ_INT(catalog_job_retry(c, j[1]), SC_OK);
	CHECK_EQ_INT(catalog_job_retry(c, j[1]), SC_ERR_INVALID);
	CHECK_EQ_INT(claim_id(c), j[1]);
	CHECK_EQ_INT(catalog_job_fail(c, j[1], "http_status", "HTTP 500"),
		     SC_OK);
	struct catalog_job *jb = NULL;
	REQUIRE(catalog_job_get(c, j[1], &jb) == SC_OK);
	CHECK_EQ_INT(jb->state, CATALOG_JOB_FAILED);
	CHECK_STR(jb->error_class, "http_status");
	CHECK_STR(jb->error_message, "HTTP 500");
	CHECK(jb->finished_at > 0);
	catalog_job_free(&jb);
	CHECK_EQ_INT(catalog_job_retry(c, j[1]), SC_OK);
	REQUIRE(catalog_job_get(c, j[1], &jb) == SC_OK);
	CHECK_EQ_INT(jb->state, CATALOG_JOB_QUEUED);
	CHECK_EQ_INT(jb->attempts, 0);
	CHECK(jb->error_class == NULL);
	CHECK_EQ_INT(jb->finished_at, 0);
	catalog_job_free(&jb);
	catalog_close(&c);
}

TEST(jobs_list_count)
{
	int64_t link, j[3], n;
	struct catalog *c = jobs_setup("jobs_list", &link, j);
	REQUIRE(c);
	CHECK_EQ_INT(claim_id(c), j[0]);
	CHECK_EQ_INT(catalog_job_done(c, j[0], 0), SC_OK);
	struct catalog_job_query q = {.state = CATALOG_JOB_ANY, .limit = 2};
	struct catalog_job_list *jl = NULL, *jl2 = NULL;
	REQUIRE(catalog_jobs_list(c, &q, &jl) == SC_OK);
	REQUIRE(jl->n == 2);
	CHECK_EQ_INT(jl->items[0].id, j[2]); /* newest first */
	CHECK_EQ_INT(jl->items[1].id, j[1]);
	CHECK(jl->next_cursor[0]);
	q.cursor = jl->next_cursor;
	REQUIRE(catalog_jobs_list(c, &q, &jl2) == SC_OK);
	REQUIRE(jl2->n == 1);
	CHECK_EQ_INT(jl2->items[0].id, j[0]);
	CHECK_STR(jl2->next_cursor, "");
	catalog_job_list_free(&jl2);
	catalog_job_list_free(&jl);
	q = (struct catalog_job_query){.state = CATALOG_JOB_DONE,
				       .link_id = link};
	REQUIRE(catalog_jobs_list(c, &q, &jl) == SC_OK);
	REQUIRE(jl->n == 1);
	CHECK_EQ_INT(jl->items[0].id, j[0]);
	catalog_job_list_free(&jl);
	q.link_id = link + 1;
	REQUIRE(catalog_jobs_list(c, &q, &jl) == SC_OK);
	CHECK_EQ_INT(jl->n, 0);
	catalog_job_list_free(&jl);
	q.state = (enum catalog_job_state)42;
	CHECK_EQ_INT(catalog_jobs_list(c, &q, &jl), SC_ERR_INVALID);
	q = (struct catalog_job_query){.state = CATALOG_JOB_ANY, .cursor = "x"};
	CHECK_EQ_INT(catalog_jobs_list(c, &q, &jl), SC_ERR_INVALID);
	CHECK(jl == NULL);
	CHECK_EQ_INT(catalog_jobs_count(c, CATALOG_JOB_ANY, &n), SC_OK);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(catalog_jobs_count(c, CATALOG_JOB_QUEUED, &n), SC_OK);
	CHECK_EQ_INT(n, 2);
	enum catalog_job_state ps;
	CHECK_EQ_INT(catalog_job_state_parse("canceled", &ps), SC_OK);
	CHECK_EQ_INT(ps, CATALOG_JOB_CANCELED);
	CHECK_EQ_INT(catalog_job_state_parse("Done", &ps), SC_ERR_INVALID);
	CHECK_STR(catalog_job_state_name(CATALOG_JOB_RUNNING), "running");

	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, link, &l) == SC_OK);
	CHECK_EQ_INT(l->last_job_id, j[2]);
	CHECK_EQ_INT(l->last_job_state, CATALOG_JOB_QUEUED);
	catalog_link_free(&l);
	catalog_close(&c);
}

/* release (a graceful stop): queued again with the attempt given back,
 * even for a job on its last attempt. */
TEST(jobs_release)
{
	int64_t link, j[3];
	struct catalog *c = jobs_setup("jobs_release", &link, j);
	REQUIRE(c);
	REQUIRE(!catalog_job_cancel(c, j[0], NULL) &&
		!catalog_job_cancel(c, j[1], NULL));
	CHECK_EQ_INT(claim_id(c), j[2]); /* max_attempts 1 */
	CHECK_EQ_INT(catalog_job_release(c, j[2], "interrupted", "stopped"),
		     SC_OK);
	struct catalog_job *jb = NULL;
	REQUIRE(catalog_job_get(c, j[2], &jb) == SC_OK);
	CHECK_EQ_INT(jb->state, CATALOG_JOB_QUEUED);
	CHECK_EQ_INT(jb->attempts, 0);
	CHECK_STR(jb->error_class, "interrupted");
	CHECK_EQ_INT(jb->run_after, fake_now);
	catalog_job_free(&jb);
	CHECK_EQ_INT(catalog_job_release(c, j[2], "x", "y"), SC_ERR_INVALID);
	CHECK_EQ_INT(claim_id(c), j[2]);
	REQUIRE(catalog_job_get(c, j[2], &jb) == SC_OK);
	CHECK_EQ_INT(jb->attempts, 1);
	catalog_job_free(&jb);
	CHECK_EQ_INT(catalog_job_release(c, 4242, "x", "y"), SC_ERR_NOT_FOUND);
	catalog_close(&c);
}

/* Fail every job claimable now; returns how many. */
static int fail_all(struct catalog *c)
{
	int n = 0;
	for (int64_t id; (id = claim_id(c)); n++)
		if (catalog_job_fail(c, id, "http_status", "HTTP 500"))
			return -1;
	return n;
}

/* latest: only each link's newest job (retry-failed retries a link once,
 * not once per failed job it ever had). */
TEST(jobs_list_latest)
{
	struct catalog *c = open_fresh("jobs_latest");
	REQUIRE(c);
	int64_t a = add_link(c, "https://a.example/"), b = add_link(c, "https://b.example/");
	int64_t ja[2], jb[2];
	for (int i = 0; i < 2; i++)
		REQUIRE(!catalog_job_enqueue(c, a, NULL, 1, &ja[i]) &&
			!catalog_job_enqueue(c, b, NULL, 1, &jb[i]));
	REQUIRE(fail_all(c) == 4);
	int64_t jb3;
	REQUIRE(!catalog_job_enqueue(c, b, NULL, 1, &jb3)); /* b: newer, queued */
	struct catalog_job_query q = {.state = CATALOG_JOB_FAILED};
	struct catalog_job_list *l = NULL;
	REQUIRE(catalog_jobs_list(c, &q, &l) == SC_OK);
	CHECK_EQ_INT(l->n, 4);
	catalog_job_list_free(&l);
	q.latest = 1;
	REQUIRE(catalog_jobs_list(c, &q, &l) == SC_OK);
	REQUIRE(l->n == 1);
	CHECK_EQ_INT(l->items[0].id, ja[1]);
	catalog_job_list_free(&l);
	q = (struct catalog_job_query){.state = CATALOG_JOB_ANY, .latest = 1,
				       .limit = 1};
	REQUIRE(catalog_jobs_list(c, &q, &l) == SC_OK); /* paging */
	REQUIRE(l->n == 1 && l->next_cursor[0]);
	CHECK_EQ_INT(l->items[0].id, jb3);
	q.cursor = l->next_cursor;
	struct catalog_job_list *l2 = NULL;
	REQUIRE(catalog_jobs_list(c, &q, &l2) == SC_OK);
	REQUIRE(l2->n == 1);
	CHECK_EQ_INT(l2->items[0].id, ja[1]);
	CHECK_STR(l2->next_cursor, "");
	catalog_job_list_free(&l2);
	catalog_job_list_free(&l);
	catalog_close(&c);
}

TEST(jobs_recover_after_crash)
{
	struct catalog *c = open_fresh("recover");
	REQUIRE(c);
	int64_t link = add_link(c, "https://crash.example/");
	int64_t a, b, d, e, sid;
	REQUIRE(catalog_job_enqueue(c, link, NULL, 3, &a) == SC_OK);
	REQUIRE(catalog_job_enqueue(c, link, NULL, 1, &b) == SC_OK);
	REQUIRE(catalog_job_enqueue(c, link, NULL, 3, &d) == SC_OK);
	REQUIRE(catalog_job_enqueue(c, link, NULL, 3, &e) == SC_OK);
	CHECK_EQ_INT(claim_id(c), a);
	CHECK_EQ_INT(claim_id(c), b);
	CHECK_EQ_INT(claim_id(c), d);
	REQUIRE(catalog_snapshot_create(c, link, a, &sid) == SC_OK);
	CHECK_EQ_INT(catalog_job_done(c, d, 0), SC_OK);
	/* crash: the process dies with a and b running; the file stays */
	catalog_close(&c);
	char err[256];
	REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
	catalog_set_clock(c, fake_clock, NULL);
	int64_t requeued = -1, failed = -1;
	CHECK_EQ_INT(catalog_jobs_recover(c, &requeued, &failed), SC_OK);
	CHECK_EQ_INT(requeued, 1);
	CHECK_EQ_INT(failed, 1); /* b had no attempts left */
	CHECK_EQ_INT(job_state(c, a), CATALOG_JOB_QUEUED);
	CHECK_EQ_INT(job_state(c, b), CATALOG_JOB_FAILED);
	CHECK_EQ_INT(job_state(c, d), CATALOG_JOB_DONE);
	struct catalog_snapshot *s = NULL;
	REQUIRE(catalog_snapshot_get(c, sid, 0, &s) == SC_OK);
	CHECK_EQ_INT(s->state, CATALOG_SNAP_FAILED);
	CHECK_STR(s->error_class, "interrupted");
	catalog_snapshot_free(&s);
	/* nothing lost, the done job never comes back */
	CHECK_EQ_INT(claim_id(c), a);
	CHECK_EQ_INT(claim_id(c), e);
	CHECK_EQ_INT(claim_id(c), 0);
	CHECK_EQ_INT(catalog_jobs_recover(c, &requeued, &failed), SC_OK);
	CHECK_EQ_INT(requeued, 2);
	CHECK_EQ_INT(failed, 0);
	CHECK_EQ_INT(job_state(c, d), CATALOG_JOB_DONE);
	struct catalog_job *j = NULL;
	REQUIRE(catalog_job_get(c, a, &j) == SC_OK);
	CHECK_EQ_INT(j->attempts, 2);
	catalog_job_free(&j);
	catalog_close(&c);
}

struct claimer {
	const char *path;
	int claimed[64];
	int n;
	int errors;
};

static void *claim_thread(void *arg)
{
	struct claimer *t = arg;
	struct catalog *c = NULL;
	char err[256];
	if (catalog_open(t->path, &c, err, sizeof(err))) {
		t->errors++;
		return NULL;
	}
	for (;;) {
		struct catalog_job *j = NULL;
		sc_result rc = catalog_job_claim(c, &j);
		if (rc == SC_ERR_NOT_FOUND)
			break;
		if (rc) {
			t->errors++;
			break;
		}
		if (t->n < 64)
			t->claimed[t->n++] = (int)j->id;
		if (catalog_job_done(c, j->id, 0))
			t->errors++;
		catalog_job_free(&j);
	}
	catalog_close(&c);
	return NULL;
}

TEST(jobs_claim_concurrent)
{
	struct catalog *c = open_fresh("concurrent");
	REQUIRE(c);
	int64_t link = add_link(c, "https://many.example/"), id;
	enum { JOBS = 40, THREADS = 4 };
	for (int i = 0; i < JOBS; i++)
		REQUIRE(catalog_job_enqueue(c, link, NULL, 0, &id) == SC_OK);
	catalog_set_clock(c, NULL, NULL);
	struct claimer t[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].path = dbpath;
		REQUIRE(pthread_create(&th[i], NULL, claim_thread, &t[i]) == 0);
	}
	int count[JOBS + 1] = {0}, total = 0, errors = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += t[i].errors;
		for (int k = 0; k < t[i].n; k++)
			if (t[i].claimed[k] >= 1 && t[i].claimed[k] <= JOBS)
				count[t[i].claimed[k]]++, total++;
	}
	CHECK_EQ_INT(errors, 0);
	CHECK_EQ_INT(total, JOBS);
	for (int i = 1; i <= JOBS; i++)
		CHECK_EQ_INT(count[i], 1);
	int64_t n = -1;
	CHECK_EQ_INT(catalog_jobs_count(c, CATALOG_JOB_DONE, &n), SC_OK);
	CHECK_EQ_INT(n, JOBS);
	catalog_close(&c);
}

TEST(snapshot_finish)
{
	struct catalog *c = open_fresh("snapshots");
	REQUIRE(c);
	int64_t link = add_link(c, "https://snap.example/");
	int64_t other = add_link(c, "https://other.example/");
	int64_t job, sid;
	REQUIRE(catalog_job_enqueue(c, link, NULL, 0, &job) == SC_OK);
	CHECK_EQ_INT(claim_id(c), job);
	CHECK_EQ_INT(catalog_snapshot_create(c, other, job, &sid),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_snapshot_create(c, link, 777, &sid),
		     SC_ERR_NOT_FOUND);
	REQUIRE(catalog_snapshot_create(c, link, job, &sid) == SC_OK);
	struct catalog_snapshot *s = NULL;
	REQUIRE(catalog_snapshot_get(c, sid, 1, &s) == SC_OK);
	CHECK_EQ_INT(s->state, CATALOG_SNAP_PENDING);
	CHECK_EQ_INT(s->job_id, job);
	CHECK_EQ_INT(s->png_status, CATALOG_OUT_PENDING);
	catalog_snapshot_free(&s);

	char *text = malloc(CATALOG_TEXT_MAX + 100);
	REQUIRE(text);
	memset(text, 'x', CATALOG_TEXT_MAX + 99);
	memcpy(text + CATALOG_TEXT_MAX - 1, "\xc3\xa9", 2); /* split é */
	text[CATALOG_TEXT_MAX + 99] = '\0';
	struct catalog_snapshot in = {
		.id = sid, .state = CATALOG_SNAP_PARTIAL,
		.final_url = "https://snap.example/final", .title = "Snap",
		.http_status = 200, .width = 1280, .height = 4000,
		.truncated = 1, .dir = "snapshots/1",
		.png_path = "snapshots/1/page.png",
		.thumb_path = "snapshots/1/thumb.png",
		.png_bytes = 12345, .text = text, .timings = "{not json",
		.error_class = "io", .error_message = "mhtml: disk full",
		.png_status = CATALOG_OUT_OK, .mhtml_status = CATALOG_OUT_FAILED,
		.thumb_status = CATALOG_OUT_OK, .text_status = CATALOG_OUT_OK,
	};
	CHECK_EQ_INT(catalog_snapshot_finish(c, &in), SC_ERR_INVALID);
	in.timings = "{\"total\":1234}";
	CHECK_EQ_INT(catalog_snapshot_finish(c, &in), SC_OK);
	CHECK_EQ_INT(catalog_snapshot_finish(c, &in), SC_ERR_INVALID);
	free(text);
	CHECK_EQ_INT(catalog_job_done(c, job, sid), SC_OK);

	REQUIRE(catalog_snapshot_get(c, sid, 1, &s) == SC_OK);
	CHECK_EQ_INT(s->state, CATALOG_SNAP_PARTIAL);
	CHECK_STR(s->final_url, "https://snap.example/final");
	CHECK_EQ_INT(s->http_status, 200);
	CHECK_EQ_INT(s->width, 1280);
	CHECK_EQ_INT(s->truncated, 1);
	CHECK(s->mhtml_path == NULL);
	CHECK_EQ_INT(s->mhtml_status, CATALOG_OUT_FAILED);
	CHECK_EQ_INT(s->png_bytes, 12345);
	CHECK_STR(s->timings, "{\"total\":1234}");
	REQUIRE(s->text);
	CHECK_EQ_INT(strlen(s->text), CATALOG_TEXT_MAX - 1); /* cut before é */
	CHECK(s->finished_at > 0);
	catalog_snapshot_free(&s);
	REQUIRE(catalog_snapshot_get(c, sid, 0, &s) == SC_OK);
	CHECK(s->text == NULL);
	catalog_snapshot_free(&s);
	CHECK_EQ_INT(catalog_snapshot_get(c, 999, 0, &s), SC_ERR_NOT_FOUND);
	CHECK(s == NULL);
	catalog_close(&c);
}

TEST(snapshot_failed_and_list)
{
	struct catalog *c = open_fresh("snapshots2");
	REQUIRE(c);
	int64_t link = add_link(c, "https://snap.example/"), sid2;
	int64_t sid = snap_ok(c, link, "Snap", "words");
	REQUIRE(sid > 0);
	/* a failed snapshot does not become the link's last one */
	REQUIRE(catalog_snapshot_create(c, link, 0, &sid2) == SC_OK);
	struct catalog_snapshot f = {.id = sid2, .state = CATALOG_SNAP_FAILED,
				     .error_class = "dns"};
	CHECK_EQ_INT(catalog_snapshot_finish(c, &f), SC_OK);
	f.state = CATALOG_SNAP_PENDING;
	CHECK_EQ_INT(catalog_snapshot_finish(c, &f), SC_ERR_INVALID);
	f.id = 999;
	f.state = CATALOG_SNAP_OK;
	CHECK_EQ_INT(catalog_snapshot_finish(c, &f), SC_ERR_NOT_FOUND);
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, link, &l) == SC_OK);
	CHECK_EQ_INT(l->last_snapshot_id, sid);
	CHECK_STR(l->title, "Snap");
	catalog_link_free(&l);

	struct catalog_snapshot_list *sl = NULL, *sl2 = NULL;
	REQUIRE(catalog_snapshots_list(c, link, NULL, 1, &sl) == SC_OK);
	REQUIRE(sl->n == 1);
	CHECK_EQ_INT(sl->items[0].id, sid2);
	CHECK_EQ_INT(sl->items[0].state, CATALOG_SNAP_FAILED);
	CHECK(sl->next_cursor[0]);
	REQUIRE(catalog_snapshots_list(c, link, sl->next_cursor, 0, &sl2) ==
		SC_OK);
	REQUIRE(sl2->n == 1);
	CHECK_EQ_INT(sl2->items[0].id, sid);
	CHECK(sl2->items[0].text == NULL);
	CHECK_STR(sl2->next_cursor, "");
	catalog_snapshot_list_free(&sl2);
	catalog_snapshot_list_free(&sl);
	CHECK(sl == NULL);
	REQUIRE(catalog_snapshots_list(c, 12345, NULL, 0, &sl) == SC_OK);
	CHECK_EQ_INT(sl->n, 0);
	catalog_snapshot_list_free(&sl);
	CHECK_STR(catalog_snap_state_name(CATALOG_SNAP_PARTIAL), "partial");
	CHECK_STR(catalog_out_name(CATALOG_OUT_SKIPPED), "skipped");
	catalog_close(&c);
}

/* Schema 3: hash and diff fields round-trip; the previous PNG of a link
 * and a PNG by hash are found (failed snapshots and other ids skipped). */
TEST(snapshot_versions)
{
	struct catalog *c = open_fresh("versions");
	REQUIRE(c);
	int64_t link = add_link(c, "https://v.example/"), s1, s2, s3;
	struct catalog_png p;
	CHECK_EQ_INT(catalog_snapshot_prev(c, link, 1000, &p), SC_ERR_NOT_FOUND);
	REQUIRE(catalog_snapshot_create(c, link, 0, &s1) == SC_OK);
	struct catalog_snapshot in = {
		.id = s1, .state = CATALOG_SNAP_OK, .dir = "d1",
		.png_path = "d1/page.png", .png_sha256 = "aa11",
		.png_status = CATALOG_OUT_OK};
	REQUIRE(catalog_snapshot_finish(c, &in) == SC_OK);
	REQUIRE(catalog_snapshot_create(c, link, 0, &s2) == SC_OK);
	struct catalog_snapshot bad = {.id = s2, .state = CATALOG_SNAP_FAILED};
	REQUIRE(catalog_snapshot_finish(c, &bad) == SC_OK);
	REQUIRE(catalog_snapshot_create(c, link, 0, &s3) == SC_OK);
	REQUIRE(catalog_snapshot_prev(c, link, s3, &p) == SC_OK);
	CHECK_EQ_INT(p.id, s1); /* not the failed one */
	CHECK_STR(p.path, "d1/page.png");
	CHECK_STR(p.sha256, "aa11");
	free(p.path);
	struct catalog_snapshot v = {
		.id = s3, .state = CATALOG_SNAP_OK, .dir = "d3",
		.png_path = "d3/page.png", .png_sha256 = "bb22",
		.diff_against = s1, .diff_ratio = 0.25, .diff_changed = 40,
		.diff_boxes = "[[1,2,3,4]]", .diff_path = "d3/diff.png",
		.png_status = CATALOG_OUT_OK};
	CHECK_EQ_INT(catalog_snapshot_finish(c, &v), SC_OK);
	struct catalog_snapshot *s = NULL;
	REQUIRE(catalog_snapshot_get(c, s3, 0, &s) == SC_OK);
	CHECK_STR(s->png_sha256, "bb22");
	CHECK_EQ_INT(s->diff_against, s1);
	CHECK(s->diff_ratio == 0.25);
	CHECK_EQ_INT(s->diff_changed, 40);
	CHECK_STR(s->diff_boxes, "[[1,2,3,4]]");
	CHECK_STR(s->diff_path, "d3/diff.png");
	catalog_snapshot_free(&s);
	REQUIRE(catalog_snapshot_get(c, s1, 0, &s) == SC_OK);
	CHECK_EQ_INT(s->diff_against, 0);
	CHECK(s->diff_boxes == NULL);
	catalog_snapshot_free(&s);
	char *path = NULL;
	REQUIRE(catalog_png_by_sha(c, "aa11", s3, &path) == SC_OK);
	CHECK_STR(path, "d1/page.png");
	free(path);
	CHECK_EQ_INT(catalog_png_by_sha(c, "aa11", s1, &path), SC_ERR_NOT_FOUND);
	CHECK(path == NULL);
	catalog_close(&c);
}

TEST(events)
{
	struct catalog *c = open_fresh("events");
	REQUIRE(c);
	int64_t id = 0, prev = 0, oldest = -1, newest = -1;
	CHECK_EQ_INT(catalog_events_bounds(c, &oldest, &newest), SC_OK);
	CHECK_EQ_INT(oldest, 0);
	CHECK_EQ_INT(newest, 0);
	for (int i = 0; i < 30; i++) {
		const char *type = i % 3 == 0 ? "job.queued" : "job.progress";
		REQUIRE(catalog_event_append(c, type, 0, 1 + i % 2, 7,
					     "{\"progress\":10}", &id) == SC_OK);
		CHECK(id > prev);
		prev = id;
	}
	CHECK_EQ_INT(catalog_event_append(c, "", 0, 0, 0, NULL, &id),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_event_append(c, "x", 0, 0, 0, "{oops", &id),
		     SC_ERR_INVALID);
	struct catalog_event_list *el = NULL;
	REQUIRE(catalog_events_list(c, 0, NULL, 10, &el) == SC_OK);
	REQUIRE(el->n == 10);
	CHECK_EQ_INT(el->items[0].id, 1);
	CHECK_STR(el->items[0].type, "job.queued");
	CHECK_EQ_INT(el->items[0].ts, fake_now);
	CHECK_EQ_INT(el->items[0].link_id, 7);
	CHECK_STR(el->items[0].json, "{\"progress\":10}");
	catalog_event_list_free(&el);

	const char *types[] = {"job.queued", "nope\"]"};
	struct catalog_event_filter f = {.job_id = 1, .types = types,
					 .ntypes = 2};
	REQUIRE(catalog_events_list(c, 0, &f, 0, &el) == SC_OK);
	/* i % 3 == 0 and i even: i = 0, 6, 12, 18, 24 */
	CHECK_EQ_INT(el->n, 5);
	for (size_t i = 0; i < el->n; i++) {
		CHECK_EQ_INT(el->items[i].job_id, 1);
		CHECK_STR(el->items[i].type, "job.queued");
	}
	catalog_event_list_free(&el);
	f = (struct catalog_event_filter){.link_id = 8};
	REQUIRE(catalog_events_list(c, 0, &f, 0, &el) == SC_OK);
	CHECK_EQ_INT(el->n, 0);
	catalog_event_list_free(&el);
	REQUIRE(catalog_events_list(c, 25, NULL, 0, &el) == SC_OK);
	CHECK_EQ_INT(el->n, 5);
	catalog_event_list_free(&el);

	int64_t deleted = -1;
	CHECK_EQ_INT(catalog_events_prune(c, 12, &deleted), SC_OK);
	CHECK_EQ_INT(deleted, 18);
	CHECK_EQ_INT(catalog_events_bounds(c, &oldest, &newest), SC_OK);
	CHECK_EQ_INT(oldest, 19);
	CHECK_EQ_INT(newest, 30);
	CHECK_EQ_INT(catalog_events_prune(c, 100, &deleted), SC_OK);
	CHECK_EQ_INT(deleted, 0);
	CHECK_EQ_INT(catalog_events_prune(c, 0, &deleted), SC_OK);
	CHECK_EQ_INT(deleted, 12);
	CHECK_EQ_INT(catalog_events_bounds(c, &oldest, &newest), SC_OK);
	CHECK_EQ_INT(oldest, 0);
	CHECK_EQ_INT(newest, 30);
	/* ids never go back, even after the log was emptied and reopened */
	catalog_close(&c);
	char err[256];
	REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
	REQUIRE(catalog_event_append(c, "ping", 5, 0, 0, NULL, &id) == SC_OK);
	CHECK_EQ_INT(id, 31);
	CHECK_EQ_INT(catalog_events_prune(c, -1, NULL), SC_ERR_INVALID);
	catalog_close(&c);
}

TEST(delete_link)
{
	struct catalog *c = open_fresh("delete");
	REQUIRE(c);
	int64_t keep = add_link(c, "https://keep.example/");
	int64_t gone = add_link(c, "https://gone.example/");
	const char *tags[] = {"shared", "only-gone"};
	REQUIRE(catalog_link_set_tags(c, gone, tags, 2) == SC_OK);
	REQUIRE(catalog_link_set_tags(c, keep, tags, 1) == SC_OK);
	int64_t job, sid;
	REQUIRE(catalog_job_enqueue(c, gone, NULL, 0, &job) == SC_OK);
	CHECK_EQ_INT(claim_id(c), job);
	REQUIRE(catalog_snapshot_create(c, gone, job, &sid) == SC_OK);
	struct catalog_snapshot s = {
		.id = sid, .state = CATALOG_SNAP_OK, .dir = "snapshots/9",
		.png_path = "snapshots/9/page.png",
		.mhtml_path = "snapshots/9/page.mhtml",
		.thumb_path = "snapshots/9/thumb.png", .text = "gonzo words",
	};
	REQUIRE(catalog_snapshot_finish(c, &s) == SC_OK);
	REQUIRE(catalog_job_done(c, job, sid) == SC_OK);
	REQUIRE(snap_ok(c, gone, "t", "gonzo again") > 0);
	int64_t ev;
	REQUIRE(catalog_event_append(c, "job.done", 0, job, gone, NULL, &ev) ==
		SC_OK);
	CHECK_EQ_INT(search(c, "gonzo", NULL), 1);

	struct catalog_strv *files = NULL;
	CHECK_EQ_INT(catalog_link_delete(c, gone, &files), SC_OK);
	REQUIRE(files);
	REQUIRE(files->n == 4);
	CHECK_STR(files->v[0], "snapshots/9/page.png");
	CHECK_STR(files->v[1], "snapshots/9/page.mhtml");
	CHECK_STR(files->v[2], "snapshots/9/thumb.png");
	CHECK_STR(files->v[3], "snapshots/9");
	catalog_strv_free(&files);
	CHECK(files == NULL);
	CHECK_EQ_INT(catalog_link_delete(c, gone, &files), SC_ERR_NOT_FOUND);
	CHECK(files == NULL);
	CHECK_EQ_INT(catalog_link_delete(c, gone, NULL), SC_ERR_NOT_FOUND);

	struct catalog_link *l = NULL;
	CHECK_EQ_INT(catalog_link_get(c, gone, &l), SC_ERR_NOT_FOUND);
	struct catalog_job *j = NULL;
	CHECK_EQ_INT(catalog_job_get(c, job, &j), SC_ERR_NOT_FOUND);
	struct catalog_snapshot *sp = NULL;
	CHECK_EQ_INT(catalog_snapshot_get(c, sid, 0, &sp), SC_ERR_NOT_FOUND);
	CHECK_EQ_INT(search(c, "gonzo", NULL), 0);
	CHECK_EQ_INT(tag_count(c, "only-gone"), -1);
	CHECK_EQ_INT(tag_count(c, "shared"), 1);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM snapshots"), 0);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM jobs"), 0);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM link_tags"), 1);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM links_fts"), 1);
	/* events are history: they stay until pruned */
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM events"), 1);
	CHECK_EQ_INT(catalog_check(c), SC_OK);
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

TEST(integrity_at_end)
{
	const char *names[] = {
		"migrate", "reopen", "dedupe", "tags", "fts", "tagfilter",
		"paging", "jobs_claim", "jobs_states", "jobs_list", "recover",
		"concurrent", "snapshots", "snapshots2", "events", "delete",
		"tx", "plans", "v1", "readtx", "versions"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct catalog *c = NULL;
		char err[256];
		snprintf(dbpath, sizeof(dbpath), "%s/%s.db", tmpdir, names[i]);
		REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
		sc_result rc = catalog_check(c);
		if (rc)
			fprintf(stderr, "%s: %s\n", names[i], catalog_errmsg(c));
		CHECK_EQ_INT(rc, SC_OK);
		catalog_close(&c);
		CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM "
					       "pragma_integrity_check "
					       "WHERE integrity_check <> 'ok'"),
			     0);
		/* the tag counts the list plans use are exact */
		CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM tags WHERE "
					       "nlinks <> (SELECT count(*) FROM "
					       "link_tags WHERE tag_id = tags.id)"),
			     0);
	}
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_catalog.XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	sc_log_set_level(SC_LOG_ERROR);
	RUN(migrations_from_empty);
	RUN(reopen_keeps_data);
	RUN(newer_version_refused);
	RUN(link_add_dedupe);
	RUN(tag_normalize);
	RUN(tags);
	RUN(fts);
	RUN(tag_filters);
	RUN(cursor_paging_ties);
	RUN(list_plans);
	RUN(migration_1_to_2);
	RUN(link_bookmarked_at);
	RUN(jobs_claim_backoff);
	RUN(jobs_transitions);
	RUN(jobs_list_count);
	RUN(jobs_list_latest);
	RUN(jobs_release);
	RUN(jobs_recover_after_crash);
	RUN(jobs_claim_concurrent);
	RUN(snapshot_finish);
	RUN(snapshot_failed_and_list);
	RUN(snapshot_versions);
	RUN(events);
	RUN(delete_link);
	RUN(caller_transactions);
	RUN(read_transactions);
	RUN(integrity_at_end);
	int rc = test_report();
	if (sc_remove_tree(tmpdir))
		perror("remove tmpdir");
	return rc;
}
