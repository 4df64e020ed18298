/*
 * test_catalog_snapshots.c — the catalog (catalog_testhelp.h: a real SQLite
 * file in a temp dir): snapshots: finish with caps and outputs, failed ones
 * and the versions list, the visual archive's hash and diff fields.
 */
#include "catalog_testhelp.h"

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

#define CATALOG_TESTS(T) \
	T(snapshot_finish) T(snapshot_failed_and_list) \
	T(snapshot_versions)
CATALOG_TEST_MAIN("snapshots")
