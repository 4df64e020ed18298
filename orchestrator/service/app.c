/*
 * app.c — the service of `snapcat serve` (see app.h): the lifecycle around
 * the catalog (its writer, the event bus, the readers: app_db.c) and the
 * scheduler (sched.c).
 */
#include "app_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browser.h"
#include "egress.h"
#include "catalog.h"
#include "catalog_verify.h"
#include "health.h"
#include "loop.h"
#include "pool.h"
#include "store.h"
#include "recapture.h"
#include "version.h"

#define APP_LOG "app"

/* Refuse a damaged catalog before anything writes into it (the check is
 * bounded: a large file gets the full check after the start). */
static sc_result app_verify_db(struct app *a, const char *path, char *err,
			       size_t errlen)
{
	struct catalog_verify_report vr;
	char why[512] = "";
	sc_result rc = catalog_verify_quick(path, 0, &vr, why, sizeof(why));
	if (rc == SC_ERR_DB) {
		snprintf(err, errlen, "catalog %s is damaged (%s): snapcat will "
			 "not write into it. Restore the last backup with "
			 "`snapcat restore BACKUP_DIR --data %s --force` (the "
			 "server's backups are under %s/backups/), or move the "
			 "file away to start an empty catalog", path, why,
			 a->data_dir, a->data_dir);
		return rc;
	}
	if (rc) /* not damage (cannot read it): catalog_open will say */
		sc_log(SC_LOG_WARN, APP_LOG, "catalog check skipped: %s", why);
	else if (vr.bytes)
		sc_log(SC_LOG_INFO, APP_LOG, "catalog checked in %lld ms (%.1f "
		       "MB, %s, %d rows of %d tables sampled)",
		       (long long)vr.ms, (double)vr.bytes / 1048576.0,
		       vr.full ? "quick_check" : "full check after the start",
		       vr.probes, vr.tables);
	a->check_catalog = !rc && vr.bytes && !vr.full;
	return SC_OK;
}

static sc_result app_open_db(struct app *a, char *err, size_t errlen)
{
	char path[4096];
	if (store_mkdirs(a->data_dir, err, errlen))
		return SC_ERR_IO;
	snprintf(path, sizeof(path), "%s/snapshots", a->data_dir);
	if (store_mkdirs(path, err, errlen))
		return SC_ERR_IO;
	unsigned swept = 0;
	(void)!store_sweep_tmp(path, &swept, NULL, 0);
	snprintf(path, sizeof(path), "%s/catalog.db", a->data_dir);
	sc_result rc = app_verify_db(a, path, err, errlen);
	if (!rc)
		rc = catalog_open(path, &a->db, err, errlen);
	if (rc)
		return rc;
	catalog_set_fault_hook(a->db, health_catalog_fault, a->health);
	int64_t requeued = 0, failed = 0;
	if ((rc = catalog_jobs_recover(a->db, &requeued, &failed))) {
		snprintf(err, errlen, "recovering jobs: %s",
			 catalog_errmsg(a->db));
		return rc;
	}
	if (requeued || failed || swept)
		sc_log(SC_LOG_INFO, APP_LOG, "after a restart: %lld jobs queued "
		       "again, %lld failed (attempts used up), %u temp files "
		       "removed", (long long)requeued, (long long)failed, swept);
	return SC_OK;
}

/* health.c's catalog probe (worker): does the catalog take a write? */
static sc_result app_probe_catalog(void *ud, char *err, size_t errlen)
{
	struct app *a = ud;
	struct catalog *c = app_write_begin(a);
	sc_result rc = catalog_probe_write(c);
	if (rc)
		snprintf(err, errlen, "%s", catalog_errmsg(c));
	sc_result crc = app_write_end(a); /* the probe is its batch's commit */
	if (!rc && crc)
		snprintf(err, errlen, "the catalog refused a commit (%s)",
			 sc_strerror(crc));
	return rc ? rc : crc;
}

/* The background check found the catalog damaged (its thread): writes
 * stop (the catalog refuses them; /healthz hears it through the hook). */
static void app_catalog_damaged(void *ud, const char *why)
{
	struct app *a = ud;
	struct catalog *c = app_write_begin(a);
	catalog_set_damaged(c, why);
	app_write_done(a);
}

/* The data can be written again (loop thread). */
static void app_storage_ok(void *ud)
{
	struct app *a = ud;
	sched_storage_ok(a->sched);
}

static sc_result app_health_create(struct app *a)
{
	struct health_opts ho = {.data_dir = a->data_dir,
				 .catalog_probe = app_probe_catalog,
				 .on_ok = app_storage_ok,
				 .on_damaged = app_catalog_damaged, .ud = a};
	return health_create(a->loop, &ho, &a->health);
}

static void app_pool_room(void *arg)
{
	struct app *a = arg;
	sched_kick(a->sched);
}

static sc_result app_pool_create(struct app *a, const struct app_opts *o)
{
	int max[APP_BROWSERS_MAX] = {0};
	for (int i = 0; o->bopts && i < a->nbrowsers; i++)
		max[i] = o->bopts[i].max_jobs;
	struct pool_opts po = {
		.concurrency = o->concurrency > 0 ? o->concurrency : 2,
		.retry_max_ms = o->browser_retry_max_ms, .max = max,
		.on_room = app_pool_room, .ud = a};
	return pool_create(a->loop, a->browsers, a->nbrowsers, &po, &a->pool);
}

sc_result app_create(struct loop *l, const struct app_opts *o,
		     struct app **out, char *err, size_t errlen)
{
	struct app *a = sc_xcalloc(1, sizeof(*a));
	a->loop = l;
	a->data_dir = sc_xstrdup(o->data_dir ? o->data_dir : "data");
	a->allow_private = o->allow_private;
	a->prewarm = !o->no_prewarm;
	a->change_threshold = o->change_threshold > 0
				      ? o->change_threshold
				      : VERSION_THRESHOLD_DEFAULT;
	a->events_keep = o->events_keep > 0 ? o->events_keep : 10000;
	a->max_queue = o->max_queue > 0 ? o->max_queue : 10000;
	a->mhtml_index = o->mhtml_index;
	app_db_init(a);
	sc_result rc = app_health_create(a);
	if (!rc)
		rc = app_open_db(a, err, errlen);
	if (!rc)
		catalog_set_max_attempts(a->db, o->max_attempts);
	if (!rc && (rc = app_db_start(a)))
		snprintf(err, errlen, "event bus: %s", sc_strerror(rc));
	if (!rc && !a->allow_private &&
	    (rc = egress_start(&(struct egress_opts){.address =
			       o->egress_address}, &a->egress)))
		snprintf(err, errlen, "egress proxy: %s", sc_strerror(rc));
	a->nbrowsers = o->nbrowsers > 0 ? o->nbrowsers : 1;
	for (int i = 0; !rc && i < a->nbrowsers; i++)
		if ((rc = browser_create(l, &o->bopts[i], &a->browsers[i])))
			snprintf(err, errlen, "browser: %s", sc_strerror(rc));
	if (!rc && (rc = sched_create(a, o->concurrency > 0 ? o->concurrency : 2,
				      &o->copts, &a->sched)))
		snprintf(err, errlen, "scheduler: %s", sc_strerror(rc));
	if (!rc && (rc = app_pool_create(a, o)))
		snprintf(err, errlen, "browser pool: %s", sc_strerror(rc));
	if (!rc)
		rc = recapture_create(a, &a->recap);
	if (rc) {
		app_destroy(&a);
		return rc;
	}
	*out = a;
	return SC_OK;
}

void app_start(struct app *a)
{
	health_start(a->health);
	if (a->check_catalog) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/catalog.db", a->data_dir);
		health_check_catalog(a->health, path);
	}
	pool_start(a->pool);
	sched_start(a->sched);
	recapture_start(a->recap);
}

static void app_drain_sched(void *arg)
{
	struct app *a = arg;
	sched_drain(a->sched, a->drain.grace_ms, a->drain.done, a->drain.ud);
}

void app_drain(struct app *a, int grace_ms, void (*done)(void *), void *ud)
{
	a->drain.grace_ms = grace_ms;
	a->drain.done = done;
	a->drain.ud = ud;
	recapture_stop(a->recap, app_drain_sched, a);
}

static void app_poke_loop(void *arg)
{
	struct app *a = arg;
	recapture_poke(a->recap);
}

void app_schedules_changed(struct app *a)
{
	loop_post(a->loop, app_poke_loop, a);
}

void app_destroy(struct app **ap)
{
	struct app *a = *ap;
	if (!a)
		return;
	health_destroy(&a->health); /* waits for a probe in the catalog */
	recapture_destroy(&a->recap);
	sched_destroy(&a->sched);
	pool_destroy(&a->pool);
	for (int i = 0; i < a->nbrowsers; i++)
		browser_destroy(&a->browsers[i]);
	egress_stop(&a->egress); /* after every capture closed its port */
	app_db_stop(a); /* the last batch reaches the sinks; readers closed */
	catalog_close(&a->db);
	free(a->data_dir);
	free(a);
	*ap = NULL;
}

const char *app_data_dir(const struct app *a) { return a->data_dir; }

int app_queue_full(struct app *a, struct catalog *c)
{
	int64_t n = 0;
	return catalog_jobs_count(c, CATALOG_JOB_QUEUED, &n) == SC_OK &&
	       n >= a->max_queue;
}
int app_allow_private(const struct app *a) { return a->allow_private; }
struct loop *app_loop(struct app *a) { return a->loop; }

static void app_kick_loop(void *arg)
{
	struct app *a = arg;
	sched_kick(a->sched);
}

void app_kick(struct app *a) { loop_post(a->loop, app_kick_loop, a); }

struct app_abort {
	struct app *a;
	int64_t job_id;
};

static void app_abort_loop(void *arg)
{
	struct app_abort *x = arg;
	sched_abort(x->a->sched, x->job_id);
	free(x);
}

void app_abort_job(struct app *a, int64_t job_id)
{
	struct app_abort *x = sc_xmalloc(sizeof(*x));
	x->a = a;
	x->job_id = job_id;
	loop_post(a->loop, app_abort_loop, x);
}

int app_storage_status(struct app *a, char *reason, size_t len)
{
	return health_status(a->health, reason, len);
}

cJSON *app_browsers_json(struct app *a, int with_items)
{
	return pool_status_json(a->pool, with_items);
}

void app_stats(struct app *a, struct app_stats *s)
{
	memset(s, 0, sizeof(*s));
	sched_stats(a->sched, s);
	s->events = a->n_events;
	char why[8];
	s->storage_degraded = health_status(a->health, why, sizeof(why));
	for (int i = 0; i < a->nbrowsers; i++)
		s->browser_starts += browser_starts(a->browsers[i]);
	s->browser_pid = browser_pid(a->browsers[0]);
}
