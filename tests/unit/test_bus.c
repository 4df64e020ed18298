/*
 * test_bus.c — the event bus with group commit (orchestrator/service/bus.c)
 * on a real catalog file:
 *
 *   ids_in_commit_order  4 threads x 500 units (a link and an event each),
 *                        waiting for their commit: the deliveries' ids are
 *                        1..N in order, each once, every one stored with
 *                        its unit's link; batches hold several units;
 *                        prints events/s and the delivery p99
 *   throughput           the same with 4 x 2000 units that do not wait
 *                        (as the scheduler's progress steps): ids as above;
 *                        prints events/s, batch sizes and the p99
 *   atomic               a unit's write and its event are seen by a reader
 *                        only after the commit, together
 *   coalescing           job.progress after job.progress of one job is
 *                        merged (the newest wins); a state change is not,
 *                        nor a progress after it
 *   restart_goes_on      a new bus over the same file goes on from the
 *                        newest stored id
 */
#include <pthread.h>

#include "bus.h"
#include "catalog_testhelp.h"

#define THREADS 4
#define UNITS 500     /* per thread, waiting for the commit */
#define UNITS_NOWAIT 2000 /* per thread, not waiting (N under events_keep) */
#define N (THREADS * UNITS_NOWAIT)

struct got {
	pthread_mutex_t mu;
	int64_t id[N + 64];
	enum evtype t[N + 64];
	char fields[8][64];
	int64_t lat_ms[N + 64];
	int n;
	int64_t batches;
};
static struct got G = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* valgrind preloads its core into the client: a tenth of the units there
 * (a commit under it costs ten times as much) */
static int scaled(int units)
{
	return test_under_valgrind() ? units / 10 : units;
}

static void deliver(void *ud, struct bus_batch *b)
{
	(void)ud;
	int64_t now = sc_wall_ms();
	pthread_mutex_lock(&G.mu);
	G.batches++;
	for (const struct bus_event *e = b->events; e; e = e->next)
		if (G.n < N + 64) {
			if (G.n < 8)
				snprintf(G.fields[G.n], sizeof(G.fields[0]), "%s",
					 e->fields ? e->fields : "");
			G.lat_ms[G.n] = now - e->ts;
			G.t[G.n] = e->t;
			G.id[G.n++] = e->id;
		}
	pthread_mutex_unlock(&G.mu);
	bus_batch_finish(&b);
}

static void got_reset(void)
{
	pthread_mutex_lock(&G.mu);
	G.n = 0;
	G.batches = 0;
	pthread_mutex_unlock(&G.mu);
}

static struct bus *bus_on(struct catalog *c)
{
	struct bus *b = NULL;
	struct bus_opts o = {.deliver = deliver};
	if (bus_create(c, &o, &b))
		return NULL;
	return b;
}

struct worker {
	struct bus *b;
	int k, failed, units, wait;
};

static void *unit_thread(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->units; i++) {
		char url[128];
		int64_t id = 0;
		int created = 0;
		snprintf(url, sizeof(url), "https://example.com/%d/%d", w->k, i);
		struct catalog *c = bus_begin(w->b);
		if (catalog_link_add(c, url, &id, &created))
			w->failed++;
		bus_event(w->b, 1, EV_LINK_UPDATED, 0, id, sc_wall_ms(), NULL);
		if (!w->wait)
			bus_end_nowait(w->b);
		else if (bus_end(w->b))
			w->failed++;
	}
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t count_rows(struct catalog *c, const char *sql)
{
	(void)c;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* THREADS threads of units units each (waiting or not), then every id
 * checked and the figures printed. */
static void run_units(const char *name, int units, int wait)
{
	int n = THREADS * units;
	struct catalog *c = open_fresh(name);
	REQUIRE(c);
	struct bus *b = bus_on(c);
	REQUIRE(b);
	got_reset();
	struct worker w[THREADS];
	pthread_t th[THREADS];
	int64_t t0 = sc_now_ms();
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.b = b, .k = i, .units = units,
				       .wait = wait};
		REQUIRE(!pthread_create(&th[i], NULL, unit_thread, &w[i]));
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_INT(w[i].failed, 0);
	}
	bus_flush(b);
	int64_t ms = sc_now_ms() - t0;
	struct bus_stats st;
	bus_stats(b, &st);
	bus_stop(&b);
	CHECK_EQ_INT(G.n, n);
	for (int i = 0; i < G.n; i++)
		if (G.id[i] != i + 1) {
			fprintf(stderr, "delivery %d has id %lld\n", i,
				(long long)G.id[i]);
			CHECK(G.id[i] == i + 1);
			break;
		}
	CHECK_EQ_INT(count_rows(c, "SELECT count(*) FROM events"), n);
	CHECK_EQ_INT(count_rows(c, "SELECT max(id) FROM events"), n);
	CHECK_EQ_INT(count_rows(c, "SELECT count(*) FROM events e JOIN links l"
				" ON l.id = e.link_id"), n);
	CHECK(st.batches < n); /* units shared their batches' commits */
	qsort(G.lat_ms, (size_t)G.n, sizeof(G.lat_ms[0]), cmp64);
	fprintf(stderr, "%d units (a link + an event each) from %d threads, "
		"%s: %lld ms, %.0f events/s, %lld batches (largest %lld), "
		"emit->deliver p50 %lld ms p99 %lld ms\n", n, THREADS,
		wait ? "each waiting for its commit" : "not waiting",
		(long long)ms, ms ? n * 1000.0 / (double)ms : 0.0,
		(long long)st.batches, (long long)st.largest,
		(long long)G.lat_ms[G.n / 2], (long long)G.lat_ms[G.n * 99 / 100]);
	catalog_close(&c);
}

TEST(ids_in_commit_order) { run_units("order", scaled(UNITS), 1); }

TEST(throughput) { run_units("nowait", scaled(UNITS_NOWAIT), 0); }

TEST(atomic)
{
	struct catalog *c = open_fresh("atomic"), *r = NULL;
	char err[256];
	REQUIRE(c);
	struct bus *b = bus_on(c);
	REQUIRE(b);
	REQUIRE(!catalog_open_reader(dbpath, &r, err, sizeof(err)));
	got_reset();
	struct catalog *w = bus_begin(b);
	int64_t id = 0, newest = -1;
	int created = 0;
	CHECK(!catalog_link_add(w, "https://example.com/a", &id, &created));
	bus_event(b, 1, EV_LINK_UPDATED, 0, id, sc_wall_ms(), NULL);
	/* inside the unit: nothing is committed, a reader sees nothing */
	CHECK(!catalog_events_bounds(r, NULL, &newest));
	CHECK_EQ_INT(newest, 0);
	CHECK_EQ_INT(count_rows(c, "SELECT count(*) FROM links"), 0);
	CHECK(!bus_end(b));
	CHECK(!catalog_events_bounds(r, NULL, &newest));
	CHECK_EQ_INT(newest, 1);
	CHECK_EQ_INT(count_rows(c, "SELECT count(*) FROM links"), 1);
	pthread_mutex_lock(&G.mu);
	CHECK_EQ_INT(G.n, 1); /* delivered before bus_end returned */
	pthread_mutex_unlock(&G.mu);
	bus_stop(&b);
	catalog_close(&r);
	catalog_close(&c);
}

TEST(coalescing)
{
	struct catalog *c = open_fresh("coalesce");
	REQUIRE(c);
	struct bus *b = bus_on(c);
	REQUIRE(b);
	got_reset();
	(void)bus_begin(b);
	const char *p[] = {"{\"progress\":10}", "{\"progress\":20}",
			   "{\"progress\":30}"};
	for (int i = 0; i < 3; i++)
		bus_event(b, 1, EV_JOB_PROGRESS, 7, 1, sc_wall_ms(),
			  sc_xstrdup(p[i]));
	bus_event(b, 1, EV_JOB_PROGRESS, 8, 2, sc_wall_ms(),
		  sc_xstrdup("{\"progress\":5}"));
	bus_event(b, 1, EV_JOB_DONE, 7, 1, sc_wall_ms(), NULL);
	bus_event(b, 1, EV_JOB_PROGRESS, 7, 1, sc_wall_ms(),
		  sc_xstrdup("{\"progress\":99}"));
	CHECK(!bus_end(b));
	bus_stop(&b);
	CHECK_EQ_INT(G.n, 4);
	CHECK(G.t[0] == EV_JOB_PROGRESS && !strcmp(G.fields[0], p[2]));
	CHECK(G.t[1] == EV_JOB_PROGRESS && !strcmp(G.fields[1],
						     "{\"progress\":5}"));
	CHECK(G.t[2] == EV_JOB_DONE);
	CHECK(G.t[3] == EV_JOB_PROGRESS && !strcmp(G.fields[3],
						     "{\"progress\":99}"));
	for (int i = 0; i < G.n; i++)
		CHECK_EQ_INT(G.id[i], i + 1);
	CHECK_EQ_INT(count_rows(c, "SELECT count(*) FROM events"), 4);
	catalog_close(&c);
}

TEST(restart_goes_on)
{
	struct catalog *c = open_fresh("restart");
	REQUIRE(c);
	for (int round = 0; round < 2; round++) {
		struct bus *b = bus_on(c);
		REQUIRE(b);
		got_reset();
		for (int i = 0; i < 3; i++) {
			(void)bus_begin(b);
			bus_event(b, 1, EV_LINK_UPDATED, 0, 1, sc_wall_ms(), NULL);
			CHECK(!bus_end(b));
		}
		CHECK_EQ_INT(bus_last_id(b), 3 * (round + 1));
		bus_stop(&b);
		CHECK_EQ_INT(G.n, 3);
		CHECK_EQ_INT(G.id[0], 3 * round + 1);
	}
	CHECK_EQ_INT(count_rows(c, "SELECT count(*) FROM events"), 6);
	catalog_close(&c);
}

int main(void)
{
	if (catalog_test_start("bus"))
		return 1;
	RUN(ids_in_commit_order);
	RUN(throughput);
	RUN(atomic);
	RUN(coalescing);
	RUN(restart_goes_on);
	RUN(integrity_at_end);
	return catalog_test_end();
}
