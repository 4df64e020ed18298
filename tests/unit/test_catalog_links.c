/*
 * test_catalog_links.c — the catalog (catalog_testhelp.h: a real SQLite file
 * in a temp dir): links: add and dedupe, title and bookmark date, delete
 * with the files to remove.
 */
#include "catalog_testhelp.h"

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

#define CATALOG_TESTS(T) T(link_add_dedupe) T(link_bookmarked_at) T(delete_link)
CATALOG_TEST_MAIN("links")
