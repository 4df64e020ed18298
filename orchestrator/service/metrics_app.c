/*
 * metrics_app.c — snapcat's own metrics (see metrics.h): what is recorded
 * as it happens (capture stage durations, outcomes, HTTP status classes)
 * and what GET /metrics reads at scrape time (catalog, scheduler, browser
 * pool, Chromium and this process).
 *
 *   sched.c finish (its unit's after-commit hook) -> metrics_capture_finished
 *   GET /metrics: loop: metrics_scrape_begin -> worker:
 *   metrics_scrape_collect -> a reader: catalog_jobs_count_by_state
 *   (+ catalog_snapshots_stored when needed) -> /proc -> scratch registry
 *
 * DESIGN
 * Stored snapshots and bytes would cost a scan of the snapshots table per
 * scrape (0.15 s per 100,000 rows), so the scan runs once, at the first
 * scrape, and a running total follows it: each finished capture adds its
 * files once its end is committed (an after-commit hook). The scan reads
 * on a reader pinned at a commit after whose hooks nothing ran yet
 * (app_read_pinned); the adds that come while it runs are kept aside and
 * added to its result, so the two never count a snapshot twice or miss
 * one. Deletions do not go through here: a link.deleted event (an event
 * sink) or a retention prune marks the total stale, and the next scrape
 * scans again, at most once per METRICS_RESCAN_MS (0.2-0.6 s per 100,000
 * snapshots, on a reader: writes go on), so after deletions the figure may
 * be high for that long.
 */
#include "metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "app_int.h"
#include "browser.h"
#include "capture.h"
#include "catalog.h"

#define METRICS_LOG "metrics"
#define METRICS_RESCAN_MS (5 * 60 * 1000)

static const double metrics_duration_buckets[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120};

/* The stored-files figures: snapshots, then bytes by kind (stored_kinds). */
#define METRICS_STORED 4
static const char *const stored_kinds[METRICS_STORED - 1] = {"png", "mhtml",
							    "pdf"};

/* The stages of a snapshot's timings JSON (capture_timings_json). */
#define metrics_stages capture_timing_keys

static struct {
	pthread_once_t once;
	struct metrics *reg;
	struct metrics_family *duration, *captures, *http;
	pthread_mutex_t lock; /* the stored-files total below */
	int have, stale, scanning;
	int64_t scanned_at;
	int64_t tot[METRICS_STORED]; /* snapshots, PNG, MHTML, PDF bytes */
	int64_t d[METRICS_STORED];   /* added while a scan runs */
	struct app *sink_app; /* loop thread only */
} g = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static void metrics_global_init(void)
{
	g.reg = metrics_create();
	g.duration = metrics_family(
		g.reg, METRICS_HISTOGRAM, "snapcat_capture_duration_seconds",
		"Time of each stage of a capture that stored a PNG (the "
		"snapshot's timings; total = the whole job)", "stage",
		metrics_duration_buckets,
		(int)(sizeof(metrics_duration_buckets) / sizeof(double)));
	for (size_t i = 0; metrics_stages[i]; i++)
		metrics_touch(g.duration, metrics_stages[i]);
	g.captures = metrics_family(
		g.reg, METRICS_COUNTER, "snapcat_captures_total",
		"Captures finished since start, by result: ok, partial, or the "
		"error class (timeout, dns, browser_crash, ...)", "result",
		NULL, 0);
	metrics_touch(g.captures, "ok");
	g.http = metrics_family(g.reg, METRICS_COUNTER,
				"snapcat_http_requests_total",
				"HTTP responses sent since start, by status "
				"class (API, feeds, /healthz, /metrics)",
				"code", NULL, 0);
}

struct metrics *metrics_global(void)
{
	pthread_once(&g.once, metrics_global_init);
	return g.reg;
}

/* ---- recorded as it happens ---- */

static const char *metrics_result(const struct capture_result *r,
				  const struct catalog_snapshot *sn)
{
	if (r->error)
		return capture_error_name(r->error);
	if (sn->state == CATALOG_SNAP_OK)
		return "ok";
	if (sn->state == CATALOG_SNAP_PARTIAL)
		return "partial";
	return sn->error_class ? sn->error_class : "failed";
}

void metrics_capture_finished(const struct capture_result *r,
			      const struct catalog_snapshot *sn,
			      int64_t version_ms, int pruned)
{
	metrics_global();
	metrics_add(g.captures, metrics_result(r, sn), 1);
	int stored = sn->state == CATALOG_SNAP_OK ||
		     sn->state == CATALOG_SNAP_PARTIAL;
	if (stored) { /* the snapshot's own timings, key by key */
		cJSON *t = cJSON_CreateObject();
		const cJSON *it;
		capture_timings_json(t, &r->t, version_ms);
		cJSON_ArrayForEach(it, t)
			metrics_observe(g.duration, it->string,
					it->valuedouble / 1000.0);
		cJSON_Delete(t);
	}
	pthread_mutex_lock(&g.lock);
	if (stored) {
		int64_t *t = g.scanning ? g.d : g.tot;
		t[0]++;
		t[1] += sn->png_path ? sn->png_bytes : 0;
		t[2] += sn->mhtml_path ? sn->mhtml_bytes : 0;
		t[3] += sn->pdf_path ? sn->pdf_bytes : 0;
	}
	g.stale |= pruned;
	pthread_mutex_unlock(&g.lock);
}

void metrics_http_response(int status)
{
	char cls[8];
	if (status < 100 || status > 599)
		return;
	snprintf(cls, sizeof(cls), "%dxx", status / 100);
	metrics_global();
	metrics_add(g.http, cls, 1);
}

/* Event sink: a deleted link took its snapshots with it. Loop thread. */
static void metrics_on_event(void *ud, const struct app_event *ev)
{
	(void)ud;
	if (ev->t != EV_LINK_DELETED)
		return;
	pthread_mutex_lock(&g.lock);
	g.stale = 1;
	pthread_mutex_unlock(&g.lock);
}

/* ---- read at scrape time ---- */

struct metrics_scrape {
	struct app *a;
	struct app_stats st;
	int pids[APP_BROWSERS_MAX]; /* local browsers' process groups */
	int npids;
};

struct metrics_scrape *metrics_scrape_begin(struct app *a)
{
	struct metrics_scrape *sc = sc_xcalloc(1, sizeof(*sc));
	sc->a = a;
	app_stats(a, &sc->st);
	for (int i = 0; i < a->nbrowsers; i++) {
		int pid = browser_pid(a->browsers[i]);
		if (pid > 0)
			sc->pids[sc->npids++] = pid;
	}
	if (g.sink_app != a) { /* first scrape: watch deletions from now on */
		app_add_sink(a, metrics_on_event, NULL);
		g.sink_app = a;
	}
	return sc;
}

/* A gauge or counter family of out with one value. */
static void metrics_one(struct metrics *out, enum metrics_type t,
			const char *name, const char *help, double v)
{
	metrics_set(metrics_family(out, t, name, help, NULL, NULL, 0), NULL, v);
}

/* The scan's reader is pinned: what it counts is every commit whose hook
 * ran so far; the hooks from now on are added to its result. */
static void metrics_scan_pinned(void *ud)
{
	(void)ud;
	pthread_mutex_lock(&g.lock);
	memset(g.d, 0, sizeof(g.d));
	pthread_mutex_unlock(&g.lock);
}

/* Scan the stored snapshots on a pinned reader (g.scanning set by the
 * caller); the adds made meanwhile go on top. */
static sc_result metrics_scan(struct app *a)
{
	int64_t t = sc_now_ms(), s[METRICS_STORED] = {0};
	struct catalog *c = app_read_pinned(a, metrics_scan_pinned, NULL);
	sc_result rc = catalog_snapshots_stored(c, &s[0], &s[1], &s[2], &s[3]);
	app_read_end(a, c);
	pthread_mutex_lock(&g.lock);
	g.scanning = 0;
	if (!rc) {
		g.have = 1;
		g.stale = 0;
		g.scanned_at = t;
	}
	for (int i = 0; i < METRICS_STORED; i++)
		g.tot[i] = (rc ? g.tot[i] : s[i]) + g.d[i];
	pthread_mutex_unlock(&g.lock);
	if (!rc)
		sc_log(SC_LOG_INFO, METRICS_LOG, "stored snapshots counted for "
		       "/metrics in %lld ms", (long long)(sc_now_ms() - t));
	return rc;
}

/* Stored snapshots and bytes: the running total, scanned first if there is
 * none or it is stale. */
static sc_result metrics_stored(struct app *a, int64_t out[METRICS_STORED])
{
	int64_t now = sc_now_ms();
	sc_result rc = SC_OK;
	pthread_mutex_lock(&g.lock);
	int scan = !g.scanning && (!g.have || (g.stale && now - g.scanned_at >=
						 METRICS_RESCAN_MS));
	g.scanning |= scan; /* one scan at a time */
	pthread_mutex_unlock(&g.lock);
	if (scan)
		rc = metrics_scan(a);
	pthread_mutex_lock(&g.lock);
	memcpy(out, g.tot, sizeof(g.tot));
	int have = g.have;
	pthread_mutex_unlock(&g.lock);
	return have ? SC_OK : rc ? rc : SC_ERR_BUSY;
}

/* Jobs per state, the queue, stored files: the catalog's figures. */
static sc_result metrics_catalog(struct app *a, struct metrics *out)
{
	int64_t counts[CATALOG_JOB_CANCELED + 1], backoff = 0;
	int64_t stored[METRICS_STORED];
	struct catalog *c = app_read_begin(a);
	sc_result rc = catalog_jobs_count_by_state(c, counts, &backoff);
	if (rc)
		sc_log(SC_LOG_WARN, METRICS_LOG, "catalog figures: %s",
		       catalog_errmsg(c));
	app_read_end(a, c);
	sc_result rc2 = metrics_stored(a, stored);
	if (!rc) {
		struct metrics_family *f = metrics_family(
			out, METRICS_GAUGE, "snapcat_jobs",
			"Jobs in the catalog by state", "state", NULL, 0);
		for (int s = CATALOG_JOB_QUEUED; s <= CATALOG_JOB_CANCELED; s++)
			metrics_set(f, catalog_job_state_name(s), (double)counts[s]);
		f = metrics_family(out, METRICS_GAUGE, "snapcat_queue_depth",
				   "Queued jobs: due now, or waiting out a "
				   "retry back-off", "status", NULL, 0);
		metrics_set(f, "due", (double)(counts[CATALOG_JOB_QUEUED] - backoff));
		metrics_set(f, "backoff", (double)backoff);
	}
	if (!rc2) {
		metrics_one(out, METRICS_GAUGE, "snapcat_snapshots",
			    "Snapshots with stored files (ok or partial)",
			    (double)stored[0]);
		struct metrics_family *f = metrics_family(
			out, METRICS_GAUGE, "snapcat_stored_bytes",
			"Bytes of stored PNG, MHTML and PDF files, as the "
			"catalog records them (a deduplicated PNG counts per "
			"snapshot)", "kind", NULL, 0);
		for (int i = 1; i < METRICS_STORED; i++)
			metrics_set(f, stored_kinds[i - 1], (double)stored[i]);
	}
	return rc ? rc : rc2;
}

/* The scheduler and event bus (copied on the loop thread). */
static void metrics_sched(const struct app_stats *st, struct metrics *out)
{
	metrics_one(out, METRICS_GAUGE, "snapcat_jobs_running",
		    "Jobs running now: captures, and ended ones whose end the "
		    "catalog has not taken yet (as the catalog counts them)",
		    st->running);
	metrics_one(out, METRICS_GAUGE, "snapcat_job_ends_waiting",
		    "Of those, jobs whose end the catalog refused (full disk, "
		    "I/O error): written again until it takes them",
		    st->ends_waiting);
	metrics_one(out, METRICS_GAUGE, "snapcat_storage_degraded",
		    "1 while the data directory or the catalog cannot be "
		    "written, or the catalog is damaged (see /healthz)",
		    st->storage_degraded);
	metrics_one(out, METRICS_GAUGE, "snapcat_concurrency",
		    "Captures allowed at once (--concurrency)", st->concurrency);
	metrics_one(out, METRICS_GAUGE, "snapcat_draining",
		    "1 while the server stops (SIGTERM grace period)",
		    st->draining);
	struct metrics_family *f = metrics_family(
		out, METRICS_COUNTER, "snapcat_jobs_finished_total",
		"Jobs that ended since start, by final state", "state", NULL, 0);
	metrics_set(f, "done", (double)st->jobs_done);
	metrics_set(f, "failed", (double)st->jobs_failed);
	metrics_one(out, METRICS_COUNTER, "snapcat_events_total",
		    "Events published on the event bus since start",
		    (double)st->events);
}

/* One browser endpoint's figures from GET /api/browsers' item. */
static void metrics_browser(struct metrics *out, const cJSON *it)
{
	static const struct {
		const char *key, *name, *help;
		enum metrics_type t;
	} m[] = {
		{"healthy", "snapcat_browser_healthy",
		 "1 if the endpoint is connected and takes jobs", METRICS_GAUGE},
		{"running", "snapcat_browser_running_jobs",
		 "Captures running on the endpoint", METRICS_GAUGE},
		{"jobs", "snapcat_browser_jobs_total",
		 "Captures started on the endpoint", METRICS_COUNTER},
		{"starts", "snapcat_browser_starts_total",
		 "Browser starts (launch or connect), the first included",
		 METRICS_COUNTER},
		{"failures", "snapcat_browser_start_failures_total",
		 "Failed starts or connects", METRICS_COUNTER},
		{"losses", "snapcat_browser_losses_total",
		 "Connections lost (crash, kill, remote gone)", METRICS_COUNTER},
	};
	char idx[16];
	const cJSON *i = cJSON_GetObjectItem(it, "index");
	snprintf(idx, sizeof(idx), "%d", cJSON_IsNumber(i) ? i->valueint : 0);
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		const cJSON *v = cJSON_GetObjectItem(it, m[k].key);
		double d = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsTrue(v);
		metrics_set(metrics_family(out, m[k].t, m[k].name, m[k].help,
					   "browser", NULL, 0), idx, d);
	}
}

static void metrics_browsers(struct app *a, struct metrics *out)
{
	cJSON *o = app_browsers_json(a, 1);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "items"))
		metrics_browser(out, it);
	cJSON_Delete(o);
}

/* Processes in the local browsers' process groups, and their RSS. */
static void metrics_chromium(const struct metrics_scrape *sc,
			     struct metrics *out)
{
	long n = 0, pages = 0, pg = sysconf(_SC_PAGESIZE);
	DIR *d = sc->npids ? opendir("/proc") : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		long pid, rss = 0;
		if (sc_parse_long(e->d_name, 1, 1L << 30, &pid))
			continue;
		pid_t grp = getpgid((pid_t)pid);
		int ours = 0;
		for (int i = 0; i < sc->npids; i++)
			ours |= grp == sc->pids[i];
		if (!ours)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/statm", pid);
		FILE *f = fopen(path, "r");
		if (f && fscanf(f, "%*s %ld", &rss) == 1) {
			n++;
			pages += rss;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	metrics_one(out, METRICS_GAUGE, "snapcat_chromium_processes",
		    "Processes of the local Chromiums snapcat launched", n);
	metrics_one(out, METRICS_GAUGE, "snapcat_chromium_resident_memory_bytes",
		    "Resident memory of those processes", (double)pages * pg);
}

/* utime + stime (ticks) and start time (ticks after boot) from
 * /proc/self/stat; the boot time from /proc/stat. 0 if unreadable. */
static int metrics_proc_stat(double *cpu_s, double *start_s)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command may hold spaces */
	unsigned long long ut, st, start, btime = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu %*d %*d %*d %*d %*d %*d %llu",
			 &ut, &st, &start) != 3)
		return 0;
	f = fopen("/proc/stat", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	if (f)
		fclose(f);
	double hz = (double)sysconf(_SC_CLK_TCK);
	*cpu_s = (double)(ut + st) / hz;
	*start_s = (double)btime + (double)start / hz;
	return btime > 0;
}

/* The process_* metrics of the Prometheus client libraries, and uptime. */
static void metrics_process(struct metrics *out)
{
	long size = 0, rss = 0, pg = sysconf(_SC_PAGESIZE), fds = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%ld %ld", &size, &rss) != 2)
		size = rss = 0;
	if (f)
		fclose(f);
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		fds += e->d_name[0] != '.';
	if (d) {
		closedir(d);
		fds--; /* the one opendir holds */
	}
	struct rlimit rl = {0};
	getrlimit(RLIMIT_NOFILE, &rl);
	double cpu = 0, start = 0;
	metrics_one(out, METRICS_GAUGE, "process_resident_memory_bytes",
		    "Resident memory size in bytes", (double)rss * pg);
	metrics_one(out, METRICS_GAUGE, "process_virtual_memory_bytes",
		    "Virtual memory size in bytes", (double)size * pg);
	metrics_one(out, METRICS_GAUGE, "process_open_fds",
		    "Open file descriptors", fds);
	metrics_one(out, METRICS_GAUGE, "process_max_fds",
		    "Limit of open file descriptors", (double)rl.rlim_cur);
	if (!metrics_proc_stat(&cpu, &start))
		return;
	metrics_one(out, METRICS_COUNTER, "process_cpu_seconds_total",
		    "User and system CPU time spent in seconds", cpu);
	metrics_one(out, METRICS_GAUGE, "process_start_time_seconds",
		    "Start time of the process since the epoch in seconds",
		    start);
	metrics_one(out, METRICS_GAUGE, "snapcat_uptime_seconds",
		    "Seconds since the process started",
		    (double)(sc_wall_ms() - (int64_t)(start * 1000)) / 1000.0);
}

sc_result metrics_scrape_collect(struct metrics_scrape **scp,
				 struct metrics *out)
{
	struct metrics_scrape *sc = *scp;
	sc_result rc = metrics_catalog(sc->a, out);
	metrics_sched(&sc->st, out);
	metrics_browsers(sc->a, out);
	metrics_chromium(sc, out);
	metrics_process(out);
	free(sc);
	*scp = NULL;
	return rc;
}
