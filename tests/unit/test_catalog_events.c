/*
 * test_catalog_events.c — the catalog (catalog_testhelp.h: a real SQLite
 * file in a temp dir): the event log: append, filters, bounds, prune, ids
 * never reused.
 */
#include "catalog_testhelp.h"

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

#define CATALOG_TESTS(T) T(events)
CATALOG_TEST_MAIN("events")
