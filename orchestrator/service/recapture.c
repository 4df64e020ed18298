/*
 * recapture.c — scheduled recapture (see recapture.h).
 *
 * DESIGN: one tick in flight at a time; the tick's catalog work runs on a
 * worker as one unit on the writer (two indexed queries and a few writes;
 * it does not wait for the commit: the jobs it queued are claimed on the
 * writer, which sees them, and a batch that fails takes both), the timer
 * and the kick on the loop thread.
 */
#include "recapture.h"
#include "queue.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "app_int.h"
#include "catalog.h"
#include "loop.h"
#include "recur.h"

#define RECAP_LOG "recapture"

struct recapture {
	struct app *app;
	struct loop_timer *timer;
	int busy, stopping, queued;
	void (*stopped)(void *);
	void *stopped_ud;
};

static void recap_tick(void *arg);

sc_result recapture_create(struct app *a, struct recapture **out)
{
	struct recapture *r = sc_xcalloc(1, sizeof(*r));
	r->app = a;
	*out = r;
	return SC_OK;
}

static void recap_arm(struct recapture *r, int64_t ms)
{
	if (!r->stopping && !r->timer)
		r->timer = loop_timer(r->app->loop, ms, recap_tick, r);
}

void recapture_start(struct recapture *r) { recap_arm(r, 0); }

void recapture_poke(struct recapture *r)
{
	if (r->busy || r->stopping)
		return; /* the tick in flight re-arms */
	loop_timer_cancel(&r->timer);
	recap_arm(r, 0);
}

/* The next run of spec for link id after now; 0 if none (bad or never). */
static int64_t recap_next(const char *spec, int64_t id, int64_t now)
{
	struct recur rr;
	if (!spec || recur_parse(spec, &rr, NULL, 0))
		return 0;
	return recur_next(&rr, id, now);
}

/* Links that follow a tag schedule get their first run. */
static void recap_adopt(struct catalog *c, int64_t now)
{
	struct catalog_due_list *l = NULL;
	if (catalog_links_due(c, now, 500, 1, &l))
		return;
	for (size_t i = 0; i < l->n; i++)
		(void)!catalog_link_set_next(c, l->items[i].link_id,
					     recap_next(l->items[i].spec,
							l->items[i].link_id,
							now));
	catalog_due_list_free(&l);
}

/* Queue a job for a due link; 1 if queued. */
static int recap_queue(struct recapture *r, struct catalog *c,
		       const struct catalog_due *d)
{
	int64_t job = 0;
	if (queue_job(r->app, c, d->link_id, d->url, NULL, 1, &job))
		return 0;
	sc_log(SC_LOG_INFO, RECAP_LOG, "link %lld: scheduled capture (%s), "
	       "job %lld", (long long)d->link_id, d->spec, (long long)job);
	return 1;
}

/* Due links: a job each (room permitting), then their next run. */
static void recap_due(struct recapture *r, struct catalog *c, int64_t now)
{
	struct catalog_due_list *l = NULL;
	int64_t queued = 0;
	if (catalog_jobs_count(c, CATALOG_JOB_QUEUED, &queued) ||
	    catalog_links_due(c, now, RECAPTURE_BATCH, 0, &l))
		return;
	for (size_t i = 0; i < l->n; i++) {
		const struct catalog_due *d = &l->items[i];
		if (d->spec && !d->job_active) {
			if (queued >= r->app->max_queue)
				break; /* due again next tick */
			if (recap_queue(r, c, d)) {
				queued++;
				r->queued++;
			}
		}
		(void)!catalog_link_set_next(c, d->link_id,
					     recap_next(d->spec, d->link_id,
							now));
	}
	catalog_due_list_free(&l);
}

static void recap_work(void *arg)
{
	struct recapture *r = arg;
	int64_t now = sc_wall_ms();
	struct catalog *c = app_write_begin(r->app);
	recap_adopt(c, now);
	recap_due(r, c, now);
	app_write_done(r->app); /* queued with the next batch */
}

static void recap_done(void *arg)
{
	struct recapture *r = arg;
	r->busy = 0;
	if (r->queued)
		app_kick(r->app);
	r->queued = 0;
	if (r->stopping) {
		if (r->stopped)
			r->stopped(r->stopped_ud);
		r->stopped = NULL;
		return;
	}
	recap_arm(r, RECAPTURE_TICK_MS);
}

static void recap_tick(void *arg)
{
	struct recapture *r = arg;
	r->timer = NULL;
	if (r->stopping || r->busy)
		return;
	r->busy = 1;
	loop_work(r->app->loop, recap_work, recap_done, r);
}

void recapture_stop(struct recapture *r, void (*done)(void *), void *ud)
{
	r->stopping = 1;
	loop_timer_cancel(&r->timer);
	if (r->busy) {
		r->stopped = done;
		r->stopped_ud = ud;
	} else if (done) {
		done(ud);
	}
}

void recapture_destroy(struct recapture **rp)
{
	if (!rp || !*rp)
		return;
	loop_timer_cancel(&(*rp)->timer);
	free(*rp);
	*rp = NULL;
}
