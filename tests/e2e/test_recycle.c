/*
 * test_recycle.c — `snapcat serve` restarts its Chromium above
 * --browser-max-mb (the PSS of its processes, read on a worker after each
 * job: service/browser.c), but not for the memory of a capture still in
 * flight beside the job that just ended (a tall page's screenshot):
 *
 *   --browser-max-mb 1 (every reading is over it), --concurrency 2
 *   job A: a page held 30 s (option delay); then B1..B5, quick pages,
 *   one at a time beside A
 *   -> each Bi ends while A holds the browser: its reading is over the
 *      ceiling but may be A's -> no recycle: all five end before A
 *      (were such a reading to recycle, the Bi queued after it returns
 *      would wait for A to end and for a new browser: they end after A)
 *   -> A ends, then D and E: a reading with no job on the browser
 *      recycles at once: E runs on a later start of the browser
 *      (GET /api/browsers: starts >= 2)
 */
#include "fixture.h"
#include "srv_harness.h"
#include "testhelp.h"

static struct fixture F;
static char Data[256];
static struct srv S;

/* POST /api/links {url: fixture path, options}; the job's id, 0 if not. */
static long long add(const char *path, const char *options)
{
	char u[512], body[1024];
	fixture_url(&F, path, u, sizeof(u));
	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"options\":%s}", u,
		 options);
	struct srv_resp r;
	long st = srv_req(&S, "POST", "/api/links", body, NULL, &r);
	long long id = st == 201 || st == 200
			       ? (long long)srv_jnum(r.json, "job.id") : 0;
	srv_resp_free(&r);
	return id;
}

/* The job's finished_at (ISO 8601, ms: compares as a string) once done. */
static int wait_done(long long id, char *at, size_t len)
{
	cJSON *j = srv_wait_job(&S, id, NULL, 180000, NULL);
	const char *st = j ? srv_jstr(j, "state") : NULL;
	const char *f = j ? srv_jstr(j, "finished_at") : NULL;
	int ok = st && !strcmp(st, "done") && f;
	snprintf(at, len, "%s", ok ? f : "");
	if (!ok)
		fprintf(stderr, "   job %lld: %s\n", id, st ? st : "no answer");
	cJSON_Delete(j);
	return ok;
}

/* starts of the first browser in GET /api/browsers, -1 if none. */
static int browser_starts(void)
{
	struct srv_resp r;
	srv_req(&S, "GET", "/api/browsers", NULL, NULL, &r);
	const cJSON *items = cJSON_GetObjectItem(r.json, "items");
	const cJSON *b = cJSON_IsArray(r.json) ? cJSON_GetArrayItem(r.json, 0)
					       : cJSON_GetArrayItem(items, 0);
	int n = b ? (int)srv_jnum(b, "starts") : -1;
	srv_resp_free(&r);
	return n;
}

TEST(memory_of_a_capture_in_flight_does_not_recycle)
{
	const char *args[] = {"--browser-max-mb", "1", "--concurrency", "2",
			      "--timeout", "120", NULL};
	REQUIRE(srv_start(&S, Data, args) == 0);
	long long a = add("/final?i=held", "{\"delay\":30000}");
	long long b[5];
	for (int i = 0; i < 5; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/final?i=b%d", i);
		REQUIRE((b[i] = add(path, "{}")) > 0);
	}
	REQUIRE(a > 0);
	char at_a[64], at_b[5][64], at[64];
	for (int i = 0; i < 5; i++)
		CHECK(wait_done(b[i], at_b[i], sizeof(at_b[i])));
	CHECK(wait_done(a, at_a, sizeof(at_a)));
	int before = 0;
	for (int i = 0; i < 5; i++)
		before += at_b[i][0] && at_a[0] && strcmp(at_b[i], at_a) < 0;
	fprintf(stderr, "   A (held 30 s) ended %s; %d of 5 quick jobs "
		"before it, the last %s\n", at_a, before, at_b[4]);
	CHECK_EQ_INT(before, 5);
	/* A's reading or D's, no job on the browser: recycled at once */
	long long d = add("/final?i=d", "{}"), e;
	REQUIRE(d > 0);
	CHECK(wait_done(d, at, sizeof(at)));
	REQUIRE((e = add("/final?i=e", "{}")) > 0);
	CHECK(wait_done(e, at, sizeof(at)));
	int starts = browser_starts();
	fprintf(stderr, "   browser starts: %d\n", starts);
	CHECK(starts >= 2);
	CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-recycle-XXXXXX";
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F)) {
		fprintf(stderr, "cannot start the fixture server\n");
		return 1;
	}
	RUN(memory_of_a_capture_in_flight_does_not_recycle);
	if (S.pid)
		srv_stop(&S, SIGKILL);
	return srv_test_end(tmpl, &F, test_report());
}
