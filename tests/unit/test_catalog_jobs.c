/*
 * test_catalog_jobs.c — the catalog (catalog_testhelp.h: a real SQLite file
 * in a temp dir): the job queue: claim and back-off, transitions, lists and
 * counts, latest only, release, recovery after a crash, concurrent claims
 * from four connections.
 */
#include "catalog_testhelp.h"

#include <pthread.h>

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

#define CATALOG_TESTS(T) \
	T(jobs_claim_backoff) T(jobs_transitions) T(jobs_list_count) \
	T(jobs_list_latest) T(jobs_release) T(jobs_recover_after_crash) \
	T(jobs_claim_concurrent)
CATALOG_TEST_MAIN("jobs")
