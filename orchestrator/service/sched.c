/*
 * sched.c — the job scheduler of `snapcat serve`: runs queued jobs from the
 * catalog, up to `concurrency` at once, on the shared browser.
 *
 *   kick -> worker: catalog_job_claim + catalog_snapshot_create + job.started
 *           (one unit on the writer; waits for its commit)
 *        -> loop: pool_acquire (pool.c: a healthy browser) -> capture_start
 *           on_progress (a stage began), on_within (a long screenshot
 *           moves) -> worker: catalog_job_progress + job.progress
 *              (a unit that does not wait: the bus may coalesce them;
 *              one in flight per job, then the newest)
 *           on_done -> pool_done (the browser serves the next job)
 *              -> worker: output_write (png, mhtml, thumbnail, pdf) under
 *              data/snapshots/<link>/<snapshot>/, then one unit:
 *              catalog_snapshot_finish, catalog_job_done / _requeue /
 *              _fail + job.done / job.failed, retention, link.updated;
 *              waits for its commit (pruned files go in its after-commit
 *              hook, before link.updated reaches anybody)
 *        -> loop: running--, kick again
 *
 * DESIGN
 * Everything here runs on the loop thread except the *_work functions,
 * which run on workers and touch only the catalog (units on the writer,
 * app.h) and the files. A claim or an end is acted on only once its unit
 * committed: a batch that fails to commit leaves the job queued (the claim
 * is dropped) or its end refused (retried like a refused write). The catalog is the queue: a job is claimed (running) before
 * any work, so a crash leaves it running and catalog_jobs_recover queues it
 * again at the next start; a job is marked done only after its files are
 * renamed into place and its snapshot is recorded. Jobs are claimed only
 * while the pool has a healthy browser with room (pool_room); a job whose
 * browser connection dropped under it is "moved": queued again at once,
 * no back-off (its run counts as an attempt). A job gives its browser
 * back when its capture ends, not when its files and rows are written: so
 * `concurrency` jobs capture, and up to as many more may be finishing (a
 * tall page's diff takes seconds; the tabs do not wait for it). One claim
 * is in flight at a time. Jobs queued with a back-off (run_after) are found by a 1 s
 * idle re-check. Draining (SIGTERM) stops claims, waits for running jobs up
 * to a grace period, then cancels the rest and queues them again with
 * their attempt given back (catalog_job_release): a deploy is not the
 * page's fault.
 *
 * A refused end (the catalog cannot be written: a full disk, an I/O error,
 * a damaged file). The files are written once; then the snapshot row and
 * the job's state are tried until the catalog takes them. Meanwhile the job
 * stays in s->jobs and in s->running (the catalog says running too, so
 * /metrics agrees), its browser is given back, /healthz is degraded
 * (health.c) and its event waits for its state: subscribers never hear of
 * an end the catalog does not have. Retries back off 1 s .. 30 s and run at
 * once when health.c finds the data writable again (sched_storage_ok). At
 * the end of a drain's grace, ends still refused are left to the next
 * start's catalog_jobs_recover. A claim whose snapshot row cannot be made
 * does not run: it ends at once as io.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "browser.h"
#include "capopts.h"
#include "catalog.h"
#include "health.h"
#include "loop.h"
#include "metrics.h"
#include "output.h"
#include "pool.h"
#include "store.h"
#include "version.h"

#define SCHED_LOG "sched"
#define SCHED_IDLE_MS 1000
#define SCHED_RETRY_MS 5000 /* back-off before a retry; doubled per attempt */
#define SCHED_END_RETRY_MS 1000      /* a refused end: first retry ... */
#define SCHED_END_RETRY_MAX_MS 30000 /* ... doubling up to this */

struct sjob {
	struct sched *s;
	struct sjob *next;
	int64_t job_id, link_id, snap_id;
	int attempt;
	char *url;
	struct capture_opts opts;
	struct capopts_hold hold; /* the strings opts points at */
	struct capture *cap;
	struct capture_result *res;
	struct output_report rep;
	struct browser *browser;  /* the one of the pool it runs on */
	int starts;               /* browser_starts when it got the browser */
	int moved;     /* its browser went away under it: queued at once */
	int aborted;   /* canceled by the user or the link was deleted */
	int requeue;   /* put back in the queue (drain) */
	struct capture_within within; /* the newest progress (stage, percent,
					 note, eta) */
	unsigned within_seq; /* bumped at each; the write in flight has one */
	int64_t version_ms; /* hash, dedupe and diff of the PNG */
	int progress_busy; /* a progress write is in flight */
	int ending;        /* finished while progress_busy: end when it returns */
	char dir[64];  /* snapshots/<link>/<snap>, relative to data_dir */
	/* the end: files once, then the catalog until it takes it */
	struct catalog_snapshot sn; /* the snapshot's record (strings owned) */
	int written;      /* sched_snapshot ran (files written or not) */
	int recorded;     /* the snapshot row is stored */
	int end_wait;     /* the catalog refused the end: retried later */
	int end_tries;
	int end_busy;     /* a retry is on a worker */
	int finishing;    /* its capture ended and its first finish (files,
			     version, rows) is on a worker: it holds no tab */
	int ended;        /* its state is written (committed once the unit's
			     commit returned): end_state counts */
	enum catalog_job_state end_state; /* the state its end wrote */
	struct loop_timer *end_timer;
	char end_err[256]; /* why the catalog refused */
	char snap_err[256]; /* the claim could not create the snapshot row */
};

struct sched {
	struct app *app;
	struct capture_opts defaults;
	int concurrency, running, claiming, draining;
	int finishing;    /* of the running jobs, those finishing (sjob) */
	struct sjob *jobs;
	struct capture *spare[APP_BROWSERS_MAX]; /* per browser of the pool */
	struct loop_timer *idle, *grace;
	int ends_waiting; /* jobs whose end the catalog has not taken */
	int grace_over;   /* drain: ends still waiting are left to recovery */
	void (*drained)(void *);
	void *drained_ud;
	int64_t done, failed;
};

static void sched_job_end(struct sjob *j);
static void sched_finish(struct sjob *j);

/* ---- claim ---- */

struct claim {
	struct sched *s;
	struct catalog_job *job;
	int64_t snap_id;
	char *link_opts; /* the link's options (JSON), NULL */
	char snap_err[256]; /* no snapshot row: why (the job fails as io) */
};

static void sched_claim_work(void *arg)
{
	struct claim *cl = arg;
	struct app *a = cl->s->app;
	struct catalog *c = app_write_begin(a);
	if (catalog_job_claim(c, &cl->job) == SC_OK) {
		if (catalog_snapshot_create(c, cl->job->link_id, cl->job->id,
					    &cl->snap_id)) {
			sc_log(SC_LOG_WARN, SCHED_LOG, "job %lld: no snapshot "
			       "row: %s", (long long)cl->job->id,
			       catalog_errmsg(c));
			snprintf(cl->snap_err, sizeof(cl->snap_err),
				 "catalog: %s", catalog_errmsg(c));
		}
		struct catalog_link *l = NULL;
		if (catalog_link_get(c, cl->job->link_id, &l) == SC_OK &&
		    l->options)
			cl->link_opts = sc_xstrdup(l->options);
		catalog_link_free(&l);
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "url", cl->job->url);
		cJSON_AddNumberToObject(f, "attempt", cl->job->attempts);
		app_event(a, c, EV_JOB_STARTED, cl->job->id, cl->job->link_id, f);
	}
	sc_result rc = app_write_end(a);
	if (rc && cl->job) { /* not stored: the job is still queued */
		sc_log(SC_LOG_WARN, SCHED_LOG, "job %lld: its claim was not "
		       "stored (%s): not run now", (long long)cl->job->id,
		       sc_strerror(rc));
		catalog_job_free(&cl->job);
		free(cl->link_opts);
		cl->link_opts = NULL;
	}
}

/* Options: the server's defaults < the link's < the job's (capopts.c). */
static void sched_job_opts(struct sjob *j, const char *link_json,
			   const char *job_json)
{
	capopts_apply(&j->opts, link_json, &j->hold);
	capopts_apply(&j->opts, job_json, &j->hold);
}

static void sched_run(struct sched *s, const struct claim *cl);

static void sched_idle_fired(void *arg)
{
	struct sched *s = arg;
	s->idle = NULL; /* the loop freed the handle */
	sched_kick(s);
}

static void sched_claim_done(void *arg)
{
	struct claim *cl = arg;
	struct sched *s = cl->s;
	s->claiming = 0;
	if (cl->job) {
		sched_run(s, cl);
		catalog_job_free(&cl->job);
		free(cl->link_opts);
		free(cl);
		sched_kick(s);
		return;
	}
	free(cl);
	if (s->draining && !s->running && s->drained) {
		loop_timer_cancel(&s->grace);
		void (*fn)(void *) = s->drained;
		s->drained = NULL;
		fn(s->drained_ud);
	} else if (!s->draining && !s->idle) { /* nothing runnable: look again */
		s->idle = loop_timer(s->app->loop, SCHED_IDLE_MS,
				     sched_idle_fired, s);
	}
}

/* No room for another job: concurrency jobs capture, or as many more
 * finish (sched_on_done). */
static int sched_full(const struct sched *s)
{
	return s->running - s->finishing >= s->concurrency ||
	       s->running >= 2 * s->concurrency;
}

void sched_kick(struct sched *s)
{
	if (s->idle && !sched_full(s))
		loop_timer_cancel(&s->idle);
	if (s->draining || s->claiming || sched_full(s) ||
	    pool_room(s->app->pool) <= 0) /* none healthy: jobs stay queued */
		return;
	struct claim *cl = sc_xcalloc(1, sizeof(*cl));
	cl->s = s;
	s->claiming = 1;
	loop_work(s->app->loop, sched_claim_work, sched_claim_done, cl);
}

/* ---- run ---- */

struct progress {
	struct sjob *j;
	int64_t job_id, link_id;
	struct capture_within w; /* the job's newest when it was sent */
	unsigned seq;
	sc_result rc;
};

/* job.progress's fields: stage, progress, and within a stage the note
 * ("detail"), the estimate's time left ("eta_ms") when known and the time
 * spent ("elapsed_ms"). */
static cJSON *sched_progress_fields(const struct capture_within *w)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "stage", capture_stage_name(w->stage));
	cJSON_AddNumberToObject(f, "progress", w->percent);
	if (w->detail[0])
		cJSON_AddStringToObject(f, "detail", w->detail);
	if (w->eta_ms >= 0)
		cJSON_AddNumberToObject(f, "eta_ms", (double)w->eta_ms);
	if (w->elapsed_ms >= 0)
		cJSON_AddNumberToObject(f, "elapsed_ms", (double)w->elapsed_ms);
	return f;
}

static void sched_progress_work(void *arg)
{
	struct progress *p = arg;
	struct app *a = p->j->s->app;
	struct catalog *c = app_write_begin(a);
	p->rc = catalog_job_progress(c, p->job_id, p->w.percent,
				     capture_stage_name(p->w.stage));
	if (!p->rc)
		app_event(a, c, EV_JOB_PROGRESS, p->job_id, p->link_id,
			  sched_progress_fields(&p->w));
	app_write_done(a); /* nobody waits: it commits with the next batch */
}

static void sched_progress_done(void *arg)
{
	struct progress *p = arg;
	struct sjob *j = p->j;
	j->progress_busy = 0;
	if (j->ending) {
		free(p);
		sched_job_end(j);
		return;
	}
	if (p->rc == SC_ERR_CANCELED || p->rc == SC_ERR_NOT_FOUND)
		j->aborted = 1; /* canceled, or the link is gone */
	if (j->aborted && j->cap) {
		capture_cancel(&j->cap);
		sched_finish(j);
	} else if (j->within_seq != p->seq && j->cap && !j->res) {
		p->w = j->within; /* newer progress came meanwhile */
		p->seq = j->within_seq;
		j->progress_busy = 1;
		loop_work(j->s->app->loop, sched_progress_work,
			  sched_progress_done, p);
		return;
	}
	free(p);
}

/* Progress of the job (a stage began, or within one): written and sent
 * one at a time, the newest when the one in flight returns. */
static void sched_progress(struct sjob *j, const struct capture_within *w)
{
	j->within = *w;
	j->within_seq++;
	if (j->progress_busy)
		return; /* sent when the one in flight returns */
	struct progress *p = sc_xcalloc(1, sizeof(*p));
	*p = (struct progress){.j = j, .job_id = j->job_id,
			       .link_id = j->link_id, .w = *w,
			       .seq = j->within_seq};
	j->progress_busy = 1;
	loop_work(j->s->app->loop, sched_progress_work, sched_progress_done, p);
}

static void sched_on_progress(void *ud, enum capture_stage stage)
{
	struct capture_within w = {.stage = stage,
				   .percent = capture_stage_percent(stage),
				   .eta_ms = -1, .elapsed_ms = -1};
	sched_progress(ud, &w);
}

static void sched_on_within(void *ud, const struct capture_within *w)
{
	sched_progress(ud, w);
}

/* The capture ended: its tab is closed, so the browser serves the next
 * job while this one's files are written, its PNG compared with the
 * previous one (a diff of a tall page takes seconds) and its rows stored,
 * on a worker. Up to concurrency jobs may be finishing so beside those
 * capturing (sched_full). */
static void sched_on_done(void *ud, struct capture_result *res)
{
	struct sjob *j = ud;
	struct sched *s = j->s;
	j->cap = NULL;
	j->res = res;
	j->moved = res->error == CAPERR_BROWSER_CRASH &&
		   (!browser_alive(j->browser) ||
		    browser_starts(j->browser) != j->starts);
	pool_done(s->app->pool, j);
	j->finishing = 1;
	s->finishing++;
	sched_finish(j);
	sched_kick(s);
}

/* The job's first finish is back: a job whose end waits for the catalog
 * counts against concurrency again, as before. */
static void sched_finished(struct sjob *j)
{
	if (!j->finishing)
		return;
	j->finishing = 0;
	j->s->finishing--;
}

/* The spare page slot of browser b. */
static struct capture **sched_spare(struct sched *s, struct browser *b)
{
	for (int i = 0; i < s->app->nbrowsers; i++)
		if (s->app->browsers[i] == b)
			return &s->spare[i];
	return &s->spare[0];
}

static void sched_drop_spares(struct sched *s)
{
	for (int i = 0; i < APP_BROWSERS_MAX; i++)
		capture_cancel(&s->spare[i]);
}

static void sched_on_browser(void *ud, struct browser *b,
			     struct cdp_conn *conn)
{
	struct sjob *j = ud;
	struct capture_cbs cbs = {.on_progress = sched_on_progress,
				  .on_within = sched_on_within,
				  .on_done = sched_on_done};
	struct sched *s = j->s;
	j->browser = b;
	j->starts = browser_starts(b);
	struct capture **spare = sched_spare(s, b);
	if (capture_start_warm(s->app->loop, conn, spare,
			       s->app->prewarm && !s->draining &&
				       !browser_per_job(b), j->url,
			       &j->opts, &cbs, j, &j->cap) == SC_OK)
		return;
	j->res = capture_result_failed(j->url, CAPERR_BROWSER_CRASH, NULL);
	j->moved = 1;
	sched_finish(j);
}

static void sched_run(struct sched *s, const struct claim *cl)
{
	const struct catalog_job *job = cl->job;
	int64_t snap = cl->snap_id;
	const char *link_opts = cl->link_opts;
	struct sjob *j = sc_xcalloc(1, sizeof(*j));
	j->s = s;
	j->job_id = job->id;
	j->link_id = job->link_id;
	j->snap_id = snap;
	j->attempt = job->attempts;
	j->url = sc_xstrdup(job->url);
	j->opts = s->defaults;
	sched_job_opts(j, link_opts, job->options);
	capture_opts_defaults(&j->opts);
	j->opts.block_private = !app_allow_private(s->app);
	j->opts.egress = s->app->egress;
	snprintf(j->dir, sizeof(j->dir), "snapshots/%lld/%lld",
		 (long long)j->link_id, (long long)snap);
	j->next = s->jobs;
	s->jobs = j;
	s->running++;
	sc_log(SC_LOG_INFO, SCHED_LOG, "job %lld started (attempt %d): %s",
	       (long long)j->job_id, j->attempt, j->url);
	if (cl->snap_err[0]) { /* its results could not be recorded: io */
		j->res = capture_result_failed(j->url, CAPERR_IO, cl->snap_err);
		sched_finish(j);
		return;
	}
	pool_acquire(s->app->pool, sched_on_browser, j);
}

/* ---- finish: files, snapshot, job state ---- */

static void sched_write_files(struct sjob *j, struct catalog_snapshot *sn)
{
	const char *dd = app_data_dir(j->s->app);
	char dir[4096], png[4200], mhtml[4200], thumb[4200], pdf[4200];
	snprintf(dir, sizeof(dir), "%s/%s", dd, j->dir);
	snprintf(png, sizeof(png), "%s/page.png", dir);
	snprintf(mhtml, sizeof(mhtml), "%s/page.mhtml", dir);
	snprintf(thumb, sizeof(thumb), "%s/thumb.png", dir);
	snprintf(pdf, sizeof(pdf), "%s/page.pdf", dir);
	struct output_paths p = {.png = png, .mhtml = mhtml, .thumb = thumb,
				 .pdf = j->opts.pdf ? pdf : NULL,
				 .thumb_w = 400, .thumb_h = 250,
				 .max_bytes = j->opts.max_file,
				 .mhtml_index = j->s->app->mhtml_index};
	char err[256];
	if (store_mkdirs(dir, err, sizeof(err)))
		output_discard(j->res, SC_ERR_IO, err, &j->rep);
	else
		output_write(j->res, &p, &j->rep);
	sn->dir = sc_xstrdup(j->dir);
	sn->png_status = j->rep.png.written ? CATALOG_OUT_OK : CATALOG_OUT_FAILED;
	sn->mhtml_status = j->opts.no_mhtml ? CATALOG_OUT_SKIPPED
			   : j->rep.mhtml.written ? CATALOG_OUT_OK
						  : CATALOG_OUT_FAILED;
	sn->thumb_status = j->rep.thumb.written ? CATALOG_OUT_OK
						: CATALOG_OUT_FAILED;
	sn->pdf_status = !j->opts.pdf ? CATALOG_OUT_SKIPPED
			 : j->rep.pdf.written ? CATALOG_OUT_OK
					      : CATALOG_OUT_FAILED;
	if (j->rep.pdf.written)
		sn->pdf_path = sc_xasprintf("%s/page.pdf", j->dir);
	sn->pdf_bytes = (int64_t)j->rep.pdf.bytes;
	if (j->rep.png.written)
		sn->png_path = sc_xasprintf("%s/page.png", j->dir);
	if (j->rep.mhtml.written)
		sn->mhtml_path = sc_xasprintf("%s/page.mhtml", j->dir);
	if (j->rep.thumb.written)
		sn->thumb_path = sc_xasprintf("%s/thumb.png", j->dir);
	sn->png_bytes = (int64_t)j->rep.png.bytes;
	sn->mhtml_bytes = (int64_t)j->rep.mhtml.bytes;
	sn->width = (int)j->rep.png_w;
	sn->height = (int)j->rep.png_h;
	if (sn->png_path)
		j->version_ms = version_record(j->s->app, dd, sn, j->link_id);
}

/* Timings (ms) and the guard's refusals, as the snapshot's JSON. */
static char *sched_timings_json(const struct capture_result *r,
				int64_t version_ms)
{
	const struct capture_timings *t = &r->t;
	cJSON *o = cJSON_CreateObject();
	capture_timings_json(o, t, version_ms);
	if (r->blocked) {
		cJSON_AddNumberToObject(o, "blocked", r->blocked);
		cJSON_AddStringToObject(o, "blocked_first", r->blocked_first);
	}
	if (r->settle_note[0])
		cJSON_AddStringToObject(o, "note", r->settle_note);
	if (r->consent_action[0])
		cJSON_AddItemToObject(o, "consent", capture_consent_json(r));
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* A written capture with a missing output: the first failed output, PNG
 * first, is the snapshot's error (the others keep their own status). */
static void sched_output_error(struct sjob *j, struct catalog_snapshot *sn)
{
	const struct output_file *f =
		sn->png_status == CATALOG_OUT_FAILED     ? &j->rep.png
		: sn->mhtml_status == CATALOG_OUT_FAILED ? &j->rep.mhtml
		: sn->thumb_status == CATALOG_OUT_FAILED ? &j->rep.thumb
		: sn->pdf_status == CATALOG_OUT_FAILED   ? &j->rep.pdf
							 : NULL;
	if (!f || !f->rc)
		return;
	sn->error_class = sc_xstrdup(output_error_class(f));
	sn->error_message = sc_xstrdup(f->err);
}

/* Fill the snapshot record from the capture result (+ files if any). */
static void sched_snapshot(struct sjob *j, struct catalog_snapshot *sn)
{
	struct capture_result *r = j->res;
	sn->id = j->snap_id;
	int captured = !r->error || r->error == CAPERR_HTTP_STATUS;
	if (captured && !j->aborted)
		sched_write_files(j, sn);
	r->t.write = j->rep.ms;
	sn->final_url = r->final_url;
	sn->title = r->title;
	sn->text = r->text;
	sn->http_status = r->http_status;
	sn->truncated = r->truncated;
	sn->text_status = r->text ? CATALOG_OUT_OK : CATALOG_OUT_SKIPPED;
	sn->timings = sched_timings_json(r, j->version_ms);
	sn->state = sn->png_status == CATALOG_OUT_OK
			    ? (sn->mhtml_status == CATALOG_OUT_FAILED ||
					       sn->thumb_status == CATALOG_OUT_FAILED ||
					       sn->pdf_status == CATALOG_OUT_FAILED
				       ? CATALOG_SNAP_PARTIAL
				       : CATALOG_SNAP_OK)
			    : CATALOG_SNAP_FAILED;
	if (r->error) {
		sn->error_class = sc_xstrdup(capture_error_name(r->error));
		sn->error_message = sc_xstrdup(r->message);
	} else if (captured) {
		sched_output_error(j, sn);
	}
}

static int sched_retryable(enum capture_error e)
{
	return e == CAPERR_BROWSER_CRASH || e == CAPERR_TIMEOUT ||
	       e == CAPERR_CONNECT || e == CAPERR_IO || e == CAPERR_INTERNAL;
}

/* snapshot.changed: sn differs from the link's previous PNG. */
static void sched_changed_event(struct sjob *j, struct catalog *c,
				const struct catalog_snapshot *sn)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "snapshot", (double)sn->id);
	cJSON_AddNumberToObject(f, "against", (double)sn->diff_against);
	cJSON_AddNumberToObject(f, "ratio", sn->diff_ratio);
	cJSON_AddNumberToObject(f, "changed_pixels", (double)sn->diff_changed);
	cJSON *boxes = sn->diff_boxes ? cJSON_Parse(sn->diff_boxes) : NULL;
	cJSON_AddItemToObject(f, "boxes", boxes ? boxes : cJSON_CreateArray());
	app_event(j->s->app, c, EV_SNAPSHOT_CHANGED, j->job_id, j->link_id, f);
}

/* A catalog error that means "not now" (a full disk, an I/O error, a
 * busy or damaged file), not "this job is gone or not running any more". */
static int sched_refused(sc_result rc)
{
	return rc == SC_ERR_DB || rc == SC_ERR_BUSY || rc == SC_ERR_IO;
}

/* Write the job's new state; *st, *cls, *msg say which. */
static sc_result sched_job_write(struct sjob *j, struct catalog *c,
				 const struct catalog_snapshot *sn,
				 enum catalog_job_state *st, const char **cls,
				 const char **msg)
{
	const struct capture_result *r = j->res;
	*st = CATALOG_JOB_DONE;
	*cls = sn->error_class;
	*msg = sn->error_message;
	if (j->requeue) { /* a graceful stop: the attempt is given back */
		*st = CATALOG_JOB_QUEUED;
		*cls = "interrupted";
		*msg = "the server stopped";
		return catalog_job_release(c, j->job_id, *cls, *msg);
	}
	if (j->moved && !j->aborted) /* no back-off: another browser */
		return catalog_job_requeue(c, j->job_id, 0, *cls, *msg, st);
	if (!*cls || (!r->error && sn->state != CATALOG_SNAP_FAILED))
		return catalog_job_done(c, j->job_id, j->snap_id);
	if (sched_retryable(r->error) ||
	    (!r->error && strcmp(*cls, "too_large"))) {
		int64_t delay = (int64_t)SCHED_RETRY_MS << (j->attempt - 1);
		return catalog_job_requeue(c, j->job_id, delay, *cls, *msg, st);
	}
	*st = CATALOG_JOB_FAILED;
	return catalog_job_fail(c, j->job_id, *cls, *msg);
}

/* job.done / job.failed / job.queued (retry) for the state just written. */
static void sched_job_event(struct sjob *j, struct catalog *c,
			    const struct catalog_snapshot *sn,
			    enum catalog_job_state st, const char *cls,
			    const char *msg)
{
	struct app *a = j->s->app;
	cJSON *f = cJSON_CreateObject();
	if (j->snap_id && sn->state != CATALOG_SNAP_FAILED)
		cJSON_AddNumberToObject(f, "snapshot", (double)j->snap_id);
	if (cls) {
		cJSON *e = cJSON_AddObjectToObject(f, "error");
		cJSON_AddStringToObject(e, "class", cls);
		cJSON_AddStringToObject(e, "message", msg ? msg : "");
	}
	enum evtype type = st == CATALOG_JOB_DONE   ? EV_JOB_DONE
			   : st == CATALOG_JOB_FAILED ? EV_JOB_FAILED
						      : EV_JOB_QUEUED;
	if (st == CATALOG_JOB_QUEUED)
		cJSON_AddBoolToObject(f, "retry", 1);
	else
		cJSON_AddNumberToObject(f, "progress", 100);
	app_event(a, c, type, j->job_id, j->link_id, f);
	if (st == CATALOG_JOB_DONE && version_changed(sn, a->change_threshold))
		sched_changed_event(j, c, sn);
}

/* The job's new state in the catalog, and its event. Returns the write's
 * result: SC_OK, a refusal (sched_refused: retried later) or NOT_FOUND /
 * CANCELED / INVALID (canceled meanwhile, or the link was deleted). */
static sc_result sched_job_state(struct sjob *j, struct catalog *c,
				 const struct catalog_snapshot *sn)
{
	enum catalog_job_state st;
	const char *cls, *msg;
	sc_result rc = sched_job_write(j, c, sn, &st, &cls, &msg);
	if (rc)
		return rc;
	sc_log(cls ? SC_LOG_WARN : SC_LOG_INFO, SCHED_LOG, "job %lld %s%s%s%s%s%s",
	       (long long)j->job_id, catalog_job_state_name(st),
	       st == CATALOG_JOB_QUEUED ? " again" : "", cls ? ": " : "",
	       cls ? cls : "", cls ? " — " : "", cls && msg ? msg : "");
	sched_job_event(j, c, sn, st, cls, msg);
	j->end_state = st; /* counted once committed (sched_finish_done) */
	j->ended = 1;
	return SC_OK;
}

/* A write of the capture's files failed for want of room or an I/O error:
 * /healthz hears it at once (health.c probes until it passes). */
static void sched_report_io(struct sjob *j)
{
	const struct output_file *f[] = {&j->rep.png, &j->rep.mhtml,
					 &j->rep.thumb, &j->rep.pdf};
	for (size_t i = 0; i < 4; i++)
		if (f[i]->rc == SC_ERR_IO) {
			health_write_failed(j->s->app->health, f[i]->err);
			return;
		}
}

/* Store the snapshot, then the job's end; 1 if the catalog refused a write
 * (the caller keeps the job and tries again later). Lock held. */
static int sched_record(struct sjob *j, struct catalog *c)
{
	if (j->snap_id && !j->recorded) {
		sc_result rc = catalog_snapshot_finish(c, &j->sn);
		if (sched_refused(rc))
			return 1;
		if (rc)
			sc_log(SC_LOG_WARN, SCHED_LOG, "job %lld: snapshot %lld "
			       "not recorded: %s", (long long)j->job_id,
			       (long long)j->snap_id, catalog_errmsg(c));
		j->recorded = 1;
	}
	return sched_refused(sched_job_state(j, c, &j->sn));
}

static void sched_sn_free(struct catalog_snapshot *sn)
{
	free(sn->dir);
	free(sn->png_path);
	free(sn->mhtml_path);
	free(sn->thumb_path);
	free(sn->pdf_path);
	free(sn->timings);
	free(sn->diff_boxes);
	free(sn->diff_path);
	free(sn->error_class);
	free(sn->error_message);
	memset(sn, 0, sizeof(*sn));
}

/* After the end's commit (the committing thread, before link.updated is
 * delivered): the pruned snapshots' files go, the metrics count it. */
struct sched_after {
	struct sjob *j;
	struct catalog_strv *gone;
	int pruned;
};

static void sched_after_commit(void *arg, int committed)
{
	struct sched_after *x = arg;
	struct sjob *j = x->j;
	if (committed) {
		version_remove(app_data_dir(j->s->app), &x->gone);
		metrics_capture_finished(j->res, &j->sn, j->version_ms,
					 x->pruned);
	}
	catalog_strv_free(&x->gone);
	free(x);
}

/* Retention and link.updated, in the end's unit. */
static void sched_end_extra(struct sjob *j, struct catalog *c)
{
	struct app *a = j->s->app;
	struct sched_after *x = sc_xcalloc(1, sizeof(*x));
	x->j = j;
	x->gone = j->snap_id ? version_prune(c, j->link_id,
					     a->change_threshold) : NULL;
	x->pruned = x->gone != NULL;
	app_write_after(a, sched_after_commit, x);
	if (j->sn.state != CATALOG_SNAP_FAILED || x->pruned)
		app_event(a, c, EV_LINK_UPDATED, 0, j->link_id, NULL);
}

static void sched_finish_work(void *arg)
{
	struct sjob *j = arg;
	struct app *a = j->s->app;
	if (!j->written) {
		sched_snapshot(j, &j->sn);
		j->written = 1;
		sched_report_io(j);
	}
	int recorded = j->recorded;
	struct catalog *c = app_write_begin(a);
	j->end_wait = sched_record(j, c);
	if (j->end_wait)
		snprintf(j->end_err, sizeof(j->end_err), "%s", catalog_errmsg(c));
	else
		sched_end_extra(j, c);
	sc_result rc = app_write_end(a);
	if (rc && !j->end_wait) { /* the batch did not commit: nothing of it */
		j->end_wait = 1;
		j->recorded = recorded;
		j->ended = 0;
		snprintf(j->end_err, sizeof(j->end_err), "its batch was not "
			 "committed: %s", sc_strerror(rc));
	}
}

static void sched_end_retry(struct sjob *j);

static void sched_end_fired(void *arg)
{
	struct sjob *j = arg;
	j->end_timer = NULL;
	sched_end_retry(j);
}

/* The catalog refused the job's end: the job stays running (in the
 * catalog and here: the two agree) without its browser, and its end is
 * written again with back-off, at once when the data is writable again. */
static void sched_end_later(struct sjob *j)
{
	struct sched *s = j->s;
	if (!j->end_tries++) {
		pool_done(s->app->pool, j); /* the browser serves others */
		s->ends_waiting++;
		health_ends_waiting(s->app->health, s->ends_waiting);
		sc_log(SC_LOG_WARN, SCHED_LOG, "job %lld: its end is not "
		       "recorded (%s): tried again until the catalog takes it",
		       (long long)j->job_id, j->end_err);
	}
	int sh = j->end_tries < 6 ? j->end_tries - 1 : 5;
	int64_t ms = (int64_t)SCHED_END_RETRY_MS << sh;
	j->end_timer = loop_timer(s->app->loop, ms < SCHED_END_RETRY_MAX_MS
			? ms : SCHED_END_RETRY_MAX_MS, sched_end_fired, j);
}

static void sched_finish_done(void *arg)
{
	struct sjob *j = arg;
	j->end_busy = 0;
	sched_finished(j);
	if (j->ended) {
		j->ended = 0;
		j->s->done += j->end_state == CATALOG_JOB_DONE;
		j->s->failed += j->end_state == CATALOG_JOB_FAILED;
	}
	if (j->end_wait && !j->s->grace_over)
		sched_end_later(j);
	else if (j->progress_busy)
		j->ending = 1; /* sched_progress_done ends it */
	else
		sched_job_end(j);
}

static void sched_end_retry(struct sjob *j)
{
	loop_timer_cancel(&j->end_timer);
	j->end_busy = 1;
	loop_work(j->s->app->loop, sched_finish_work, sched_finish_done, j);
}

static void sched_finish(struct sjob *j)
{
	if (!j->res) { /* aborted before any result */
		j->res = capture_result_failed(j->url, CAPERR_CANCELED,
					       j->requeue ? "the server stopped"
							  : "canceled");
	}
	sched_end_retry(j);
}

static void sched_job_end(struct sjob *j)
{
	struct sched *s = j->s;
	for (struct sjob **p = &s->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (j->end_wait) /* left to the next start (catalog_jobs_recover) */
		sc_log(SC_LOG_WARN, SCHED_LOG, "job %lld: its end is still not "
		       "recorded (%s): the next start queues it again",
		       (long long)j->job_id, j->end_err);
	if (j->end_tries) {
		s->ends_waiting--;
		health_ends_waiting(s->app->health, s->ends_waiting);
	}
	sc_log(SC_LOG_INFO, SCHED_LOG, "job %lld: capture ended: %s%s%s",
	       (long long)j->job_id,
	       j->res->error ? capture_error_name(j->res->error) : "ok",
	       j->res->error ? ": " : "", j->res->message);
	sched_finished(j);
	s->running--;
	pool_done(s->app->pool, j);
	loop_timer_cancel(&j->end_timer);
	sched_sn_free(&j->sn);
	capture_result_free(&j->res);
	capopts_hold_free(&j->hold);
	free(j->url);
	free(j);
	if (s->draining && !s->running && s->drained) {
		loop_timer_cancel(&s->grace);
		void (*fn)(void *) = s->drained;
		s->drained = NULL;
		fn(s->drained_ud);
		return;
	}
	sched_kick(s);
}

/* ---- control ---- */

void sched_abort(struct sched *s, int64_t job_id)
{
	for (struct sjob *j = s->jobs; j; j = j->next) {
		if (j->job_id != job_id || j->aborted)
			continue;
		j->aborted = 1;
		if (j->cap) { /* else: finishing already, or waiting for the browser */
			capture_cancel(&j->cap);
			sched_finish(j);
		} else if (!j->res) {
			pool_done(s->app->pool, j);
			sched_finish(j);
		}
	}
}

/* Drain: the ends the catalog still refuses are left to the next start
 * (its catalog_jobs_recover queues them again). */
static void sched_drop_waiting_ends(struct sched *s)
{
	s->grace_over = 1;
	for (struct sjob *j = s->jobs, *n; j; j = n) {
		n = j->next;
		if (j->end_wait && !j->end_busy)
			sched_job_end(j); /* may call drained: s stays alive */
	}
}

static void sched_grace_over(void *arg)
{
	struct sched *s = arg;
	s->grace = NULL;
	for (struct sjob *j = s->jobs; j; j = j->next) {
		if (j->aborted || j->res)
			continue;
		sc_log(SC_LOG_INFO, SCHED_LOG, "job %lld: grace period over, "
		       "queued again", (long long)j->job_id);
		j->aborted = j->requeue = 1;
		if (j->cap)
			capture_cancel(&j->cap);
		else
			pool_done(s->app->pool, j);
		sched_finish(j);
	}
	sched_drop_waiting_ends(s);
}

void sched_drain(struct sched *s, int grace_ms, void (*done)(void *), void *ud)
{
	s->draining = 1;
	loop_timer_cancel(&s->idle);
	sched_drop_spares(s);
	if (!s->running && !s->claiming) {
		done(ud);
		return;
	}
	s->drained = done;
	s->drained_ud = ud;
	sc_log(SC_LOG_INFO, SCHED_LOG, "stopping: waiting up to %d s for %d "
	       "running jobs", grace_ms / 1000, s->running);
	s->grace = loop_timer(s->app->loop, grace_ms, sched_grace_over, s);
}

sc_result sched_create(struct app *a, int concurrency,
		       const struct capture_opts *defaults, struct sched **out)
{
	struct sched *s = sc_xcalloc(1, sizeof(*s));
	s->app = a;
	s->concurrency = concurrency;
	s->defaults = *defaults;
	*out = s;
	return SC_OK;
}

void sched_start(struct sched *s) { sched_kick(s); }

void sched_storage_ok(struct sched *s)
{
	for (struct sjob *j = s->jobs; j; j = j->next)
		if (j->end_timer)
			sched_end_retry(j);
	sched_kick(s);
}

void sched_stats(struct sched *s, struct app_stats *st)
{
	st->running = s->running;
	st->ends_waiting = s->ends_waiting;
	st->concurrency = s->concurrency;
	st->draining = s->draining;
	st->jobs_done = s->done;
	st->jobs_failed = s->failed;
}

void sched_destroy(struct sched **sp)
{
	struct sched *s = *sp;
	if (!s)
		return;
	loop_timer_cancel(&s->idle);
	loop_timer_cancel(&s->grace);
	sched_drop_spares(s);
	free(s);
	*sp = NULL;
}
