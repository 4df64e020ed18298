/*
 * test_metrics.c — the metrics registry (orchestrator/service/metrics.c): families,
 * series per label value, histogram buckets, the text exposition (format
 * 0.0.4) line by line, escaping, bad registrations, recording from
 * several threads at once; and the catalog queries behind /metrics
 * (catalog_jobs_count_by_state, catalog_snapshots_stored).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "metrics.h"
#include "testhelp.h"

/* The exposition of m as a string (caller frees). */
static char *expose(struct metrics *m)
{
	struct sc_buf b;
	sc_buf_init(&b, 0);
	if (metrics_expose(m, &b)) {
		sc_buf_free(&b);
		return NULL;
	}
	char *s = sc_buf_take(&b, NULL);
	return s ? s : sc_xstrdup("");
}

TEST(counter_gauge_text)
{
	struct metrics *m = metrics_create();
	struct metrics_family *c = metrics_family(
		m, METRICS_COUNTER, "x_requests_total", "Requests", "code", NULL, 0);
	struct metrics_family *g = metrics_family(
		m, METRICS_GAUGE, "x_temp", "Temp", NULL, NULL, 0);
	REQUIRE(c && g);
	metrics_add(c, "2xx", 3);
	metrics_add(c, "5xx", 1);
	metrics_add(c, "2xx", 1);
	metrics_add(c, "2xx", -5); /* a counter never goes down */
	metrics_set(g, NULL, -1.5);
	metrics_add(g, NULL, 0.25);
	CHECK(metrics_value(c, "2xx") == 4);
	CHECK(metrics_value(g, NULL) == -1.25);
	char *s = expose(m);
	CHECK_STR(s, "# HELP x_requests_total Requests\n"
		     "# TYPE x_requests_total counter\n"
		     "x_requests_total{code=\"2xx\"} 4\n"
		     "x_requests_total{code=\"5xx\"} 1\n"
		     "# HELP x_temp Temp\n"
		     "# TYPE x_temp gauge\n"
		     "x_temp -1.25\n");
	free(s);
	metrics_destroy(&m);
	CHECK(m == NULL);
	metrics_destroy(&m); /* NULL-safe */
}

TEST(histogram_cumulative)
{
	struct metrics *m = metrics_create();
	const double b[] = {0.1, 1, 10};
	struct metrics_family *h = metrics_family(
		m, METRICS_HISTOGRAM, "x_seconds", "Time", "stage", b, 3);
	REQUIRE(h);
	metrics_touch(h, "idle"); /* exposed with zeros */
	metrics_observe(h, "load", 0.05);
	metrics_observe(h, "load", 0.1); /* le is inclusive */
	metrics_observe(h, "load", 5);
	metrics_observe(h, "load", 50); /* only +Inf */
	metrics_add(h, "load", 1);      /* not a histogram operation */
	CHECK(metrics_value(h, "load") == 4);
	char *s = expose(m);
	CHECK_STR(s, "# HELP x_seconds Time\n"
		     "# TYPE x_seconds histogram\n"
		     "x_seconds_bucket{stage=\"idle\",le=\"0.1\"} 0\n"
		     "x_seconds_bucket{stage=\"idle\",le=\"1\"} 0\n"
		     "x_seconds_bucket{stage=\"idle\",le=\"10\"} 0\n"
		     "x_seconds_bucket{stage=\"idle\",le=\"+Inf\"} 0\n"
		     "x_seconds_sum{stage=\"idle\"} 0\n"
		     "x_seconds_count{stage=\"idle\"} 0\n"
		     "x_seconds_bucket{stage=\"load\",le=\"0.1\"} 2\n"
		     "x_seconds_bucket{stage=\"load\",le=\"1\"} 2\n"
		     "x_seconds_bucket{stage=\"load\",le=\"10\"} 3\n"
		     "x_seconds_bucket{stage=\"load\",le=\"+Inf\"} 4\n"
		     "x_seconds_sum{stage=\"load\"} 55.15\n"
		     "x_seconds_count{stage=\"load\"} 4\n");
	free(s);
	metrics_destroy(&m);
}

TEST(unlabelled_histogram)
{
	struct metrics *m = metrics_create();
	const double b[] = {1};
	struct metrics_family *h = metrics_family(
		m, METRICS_HISTOGRAM, "y", "", NULL, b, 1);
	metrics_observe(h, NULL, 2);
	metrics_observe(h, "x", 2); /* no label here: ignored */
	char *s = expose(m);
	CHECK_STR(s, "# HELP y \n# TYPE y histogram\n"
		     "y_bucket{le=\"1\"} 0\ny_bucket{le=\"+Inf\"} 1\n"
		     "y_sum 2\ny_count 1\n");
	free(s);
	metrics_destroy(&m);
}

TEST(escaping_and_numbers)
{
	struct metrics *m = metrics_create();
	struct metrics_family *g = metrics_family(
		m, METRICS_GAUGE, "z", "a \\ b\nc \"q\"", "v", NULL, 0);
	metrics_set(g, "a\"b\\c\nd", 0.1);
	metrics_set(g, "big", 1e300 * 1e10);     /* +Inf */
	metrics_set(g, "third", 1.0 / 3.0);     /* needs 17 digits */
	metrics_set(g, "count", 9007199254740992.0);
	char *s = expose(m);
	CHECK_STR(s, "# HELP z a \\\\ b\\nc \"q\"\n# TYPE z gauge\n"
		     "z{v=\"a\\\"b\\\\c\\nd\"} 0.1\n"
		     "z{v=\"big\"} +Inf\n"
		     "z{v=\"third\"} 0.33333333333333331\n"
		     "z{v=\"count\"} 9007199254740992\n");
	free(s);
	metrics_destroy(&m);
}

TEST(bad_registrations)
{
	struct metrics *m = metrics_create();
	const double up[] = {1, 2}, down[] = {2, 1};
	CHECK(!metrics_family(m, METRICS_GAUGE, "1abc", "", NULL, NULL, 0));
	CHECK(!metrics_family(m, METRICS_GAUGE, "a-b", "", NULL, NULL, 0));
	CHECK(!metrics_family(m, METRICS_GAUGE, "ab", "", "a:b", NULL, 0));
	CHECK(!metrics_family(m, METRICS_GAUGE, "ab", "", "__x", NULL, 0));
	CHECK(!metrics_family(m, METRICS_HISTOGRAM, "h", "", "le", up, 2));
	CHECK(!metrics_family(m, METRICS_HISTOGRAM, "h", "", NULL, down, 2));
	CHECK(!metrics_family(m, METRICS_HISTOGRAM, "h", "", NULL, up, 0));
	struct metrics_family *a =
		metrics_family(m, METRICS_COUNTER, "ns:a_total", "", NULL, NULL, 0);
	CHECK(a != NULL);
	CHECK(metrics_family(m, METRICS_COUNTER, "ns:a_total", "", NULL,
			     NULL, 0) == a); /* the same family again */
	CHECK(!metrics_family(m, METRICS_GAUGE, "ns:a_total", "", NULL, NULL, 0));
	/* NULL families are no-ops */
	metrics_add(NULL, NULL, 1);
	metrics_observe(NULL, "x", 1);
	CHECK(metrics_value(NULL, NULL) == 0);
	char *s = expose(m);
	CHECK_STR(s, "# HELP ns:a_total \n# TYPE ns:a_total counter\n"
		     "ns:a_total 0\n");
	free(s);
	metrics_destroy(&m);
}

TEST(series_cap)
{
	struct metrics *m = metrics_create();
	struct metrics_family *c =
		metrics_family(m, METRICS_COUNTER, "c_total", "", "k", NULL, 0);
	char lv[16];
	for (int i = 0; i < METRICS_SERIES_MAX + 10; i++) {
		snprintf(lv, sizeof(lv), "%d", i);
		metrics_add(c, lv, 1);
	}
	CHECK(metrics_value(c, "0") == 1);
	CHECK(metrics_value(c, "255") == 1);
	CHECK(metrics_value(c, "256") == 0); /* over the cap: dropped */
	metrics_destroy(&m);
}

TEST(buffer_cap)
{
	struct metrics *m = metrics_create();
	struct metrics_family *c =
		metrics_family(m, METRICS_COUNTER, "c_total", "help", "k", NULL, 0);
	metrics_add(c, "a", 1);
	struct sc_buf b;
	sc_buf_init(&b, 20);
	CHECK(metrics_expose(m, &b) == SC_ERR_TOO_LARGE);
	sc_buf_free(&b);
	metrics_destroy(&m);
}

struct hammer {
	struct metrics_family *c, *h;
};

static void *hammer_run(void *arg)
{
	struct hammer *x = arg;
	for (int i = 0; i < 20000; i++) {
		metrics_add(x->c, i & 1 ? "odd" : "even", 1);
		metrics_observe(x->h, "s", 0.5);
	}
	return NULL;
}

TEST(threads)
{
	struct metrics *m = metrics_create();
	const double b[] = {0.1, 1};
	struct hammer x = {
		.c = metrics_family(m, METRICS_COUNTER, "t_total", "", "k", NULL, 0),
		.h = metrics_family(m, METRICS_HISTOGRAM, "t_seconds", "", "k", b, 2)};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		REQUIRE(!pthread_create(&t[i], NULL, hammer_run, &x));
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(metrics_value(x.c, "odd") == 40000);
	CHECK(metrics_value(x.c, "even") == 40000);
	CHECK(metrics_value(x.h, "s") == 80000);
	char *s = expose(m);
	CHECK(s && strstr(s, "t_seconds_bucket{k=\"s\",le=\"1\"} 80000\n"));
	CHECK(s && strstr(s, "t_seconds_sum{k=\"s\"} 40000\n"));
	free(s);
	metrics_destroy(&m);
}

/* A finished snapshot of link with the given files (NULL path: none). */
static int64_t snap(struct catalog *c, int64_t link, int64_t job,
		    enum catalog_snap_state st, const char *png, int64_t pb,
		    const char *mhtml, int64_t mb)
{
	int64_t sid = 0;
	if (catalog_snapshot_create(c, link, job, &sid))
		return 0;
	struct catalog_snapshot s = {
		.id = sid, .state = st, .png_path = sc_xstrdup(png),
		.png_bytes = pb, .mhtml_path = sc_xstrdup(mhtml),
		.mhtml_bytes = mb,
		.png_status = png ? CATALOG_OUT_OK : CATALOG_OUT_FAILED,
		.mhtml_status = mhtml ? CATALOG_OUT_OK : CATALOG_OUT_FAILED,
		.thumb_status = CATALOG_OUT_SKIPPED,
		.text_status = CATALOG_OUT_SKIPPED,
		.pdf_status = CATALOG_OUT_SKIPPED};
	if (png && st == CATALOG_SNAP_OK) { /* an ok one with a PDF of 3 * mb */
		s.pdf_path = sc_xstrdup("a/page.pdf");
		s.pdf_bytes = 3 * mb;
		s.pdf_status = CATALOG_OUT_OK;
	}
	sc_result rc = catalog_snapshot_finish(c, &s);
	free(s.png_path);
	free(s.mhtml_path);
	free(s.pdf_path);
	return rc ? 0 : sid;
}

/* The catalog queries behind /metrics: jobs per state with the back-off
 * split, and stored snapshots with their bytes. */
TEST(catalog_counts)
{
	char dir[] = "/tmp/snapcat-test-metrics-XXXXXX", path[64], err[256];
	struct catalog *c = NULL;
	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	REQUIRE(catalog_open(path, &c, err, sizeof(err)) == SC_OK);
	int64_t link = 0, j[5], n[CATALOG_JOB_CANCELED + 1], backoff = -1;
	REQUIRE(catalog_link_add(c, "https://a.example/", &link, NULL) == SC_OK);
	CHECK(catalog_jobs_count_by_state(c, n, &backoff) == SC_OK);
	CHECK_EQ_INT(n[CATALOG_JOB_QUEUED] + n[CATALOG_JOB_DONE], 0);
	CHECK_EQ_INT(backoff, 0);
	for (int i = 0; i < 5; i++)
		REQUIRE(catalog_job_enqueue(c, link, NULL, 0, &j[i]) == SC_OK);
	struct catalog_job *cj = NULL;
	enum catalog_job_state st;
	REQUIRE(catalog_job_claim(c, &cj) == SC_OK && cj->id == j[0]);
	catalog_job_free(&cj);
	int64_t sid = snap(c, link, j[0], CATALOG_SNAP_OK, "a/page.png", 100,
			   "a/page.mhtml", 50);
	REQUIRE(sid);
	CHECK(catalog_job_done(c, j[0], sid) == SC_OK);
	REQUIRE(catalog_job_claim(c, &cj) == SC_OK && cj->id == j[1]);
	catalog_job_free(&cj);
	CHECK(catalog_job_requeue(c, j[1], 60000, "timeout", "slow", &st) == SC_OK);
	CHECK_EQ_INT(st, CATALOG_JOB_QUEUED);
	REQUIRE(catalog_job_claim(c, &cj) == SC_OK && cj->id == j[2]);
	catalog_job_free(&cj); /* j[2] stays running */
	CHECK(catalog_job_cancel(c, j[3], NULL) == SC_OK);
	CHECK(snap(c, link, 0, CATALOG_SNAP_PARTIAL, "b/page.png", 10, NULL, 7));
	CHECK(snap(c, link, 0, CATALOG_SNAP_FAILED, NULL, 999, NULL, 999));

	CHECK(catalog_jobs_count_by_state(c, n, &backoff) == SC_OK);
	CHECK_EQ_INT(n[CATALOG_JOB_QUEUED], 2); /* j[1] backing off, j[4] due */
	CHECK_EQ_INT(n[CATALOG_JOB_RUNNING], 1);
	CHECK_EQ_INT(n[CATALOG_JOB_DONE], 1);
	CHECK_EQ_INT(n[CATALOG_JOB_FAILED], 0);
	CHECK_EQ_INT(n[CATALOG_JOB_CANCELED], 1);
	CHECK_EQ_INT(backoff, 1);
	int64_t sn = 0, pb = 0, mb = 0, db = 0;
	CHECK(catalog_snapshots_stored(c, &sn, &pb, &mb, &db) == SC_OK);
	CHECK_EQ_INT(sn, 2);   /* ok + partial; not the failed one */
	CHECK_EQ_INT(pb, 110);
	CHECK_EQ_INT(mb, 50);  /* the partial one has no MHTML file */
	CHECK_EQ_INT(db, 150); /* the ok one's PDF */
	catalog_close(&c);
	CHECK(sc_remove_tree(dir) == SC_OK);
}

int main(void)
{
	RUN(counter_gauge_text);
	RUN(histogram_cumulative);
	RUN(unlabelled_histogram);
	RUN(escaping_and_numbers);
	RUN(bad_registrations);
	RUN(series_cap);
	RUN(buffer_cap);
	RUN(threads);
	RUN(catalog_counts);
	return test_report();
}
