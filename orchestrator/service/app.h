/*
 * app.h — the running service behind `snapcat serve`: the catalog (one
 * writer behind the event bus, a reader per worker), the data directory,
 * the browsers, the job scheduler (sched.c) and the events.
 *
 *   read:  http/ handler (worker) -> app_read_begin (this worker's reader)
 *          -> catalog_* reads -> app_read_end
 *   write: handler, scheduler step, webhook sender -> app_write_begin (the
 *          writer) -> catalog_* writes -> app_event (queued) ->
 *          app_write_end (wait for the commit) | app_write_end_async (an
 *          answer sent on the loop once committed) | app_write_done
 *   bus.c: the batch of units commits (one transaction, ids given) -> the
 *          events go to the loop thread -> every sink (SSE, WebSocket,
 *          long-poll, webhooks, metrics) in id order
 *
 * DESIGN
 * SQLite work runs on worker threads (and the webhook sender's), never on
 * the loop. Reads run side by side, each worker on its own read-only
 * connection (catalog_open_reader, opened on the worker's first read,
 * closed by app_destroy); under WAL a reader sees the last commit made
 * before it started, so a write is visible to every read that starts after
 * its unit's commit returned (read-your-own-write holds for a client that
 * waits for the answer). Writes are units on the one writer connection,
 * serialised by the bus (bus.h): a unit is short (no network, no file work
 * inside), its writes and its events commit together in the next batch,
 * and a caller whose answer or next step depends on them waits for that
 * commit. A reader that meets a damaged file says so to /healthz and to
 * the writer (writes stop). The scheduler and the webhook sender read on
 * the writer inside their units (they see their own uncommitted writes).
 */
#ifndef APP_H
#define APP_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "capture.h"
#include "evtype.h"
#include "sc.h"

struct loop;
struct catalog;
struct browser_opts;
struct app;

#define APP_BROWSERS_MAX 8

struct app_opts {
	const char *data_dir;              /* created if missing */
	const struct browser_opts *bopts;  /* the browsers to use: each one
					      launched locally or remote */
	int nbrowsers;                     /* 0 = 1 */
	int concurrency;                   /* captures at once; 0 = 2 */
	struct capture_opts copts;         /* defaults for every job */
	int allow_private;                 /* capture private addresses */
	const char *egress_address;        /* the guard's proxy listens here
					      (egress.h); NULL: 127.0.0.1 */
	int64_t events_keep;               /* events retained; 0 = 10000 */
	int64_t max_queue;                 /* queued jobs at most; 0 = 10000 */
	int max_attempts;                  /* per job; 0 = 3 */
	int no_prewarm;                    /* no spare page per browser */
	int browser_retry_max_ms;          /* probe back-off ceiling of an
					      unhealthy browser; 0 = 60 s */
	double change_threshold;           /* snapshot.changed from this
					      changed share; 0 = 0.001 */
	/* a capture's MHTML indexed beside it (output_paths.mhtml_index;
	 * the browsable copy's, given by the layer that serves it); NULL:
	 * none, the copy builds the index when first asked */
	sc_result (*mhtml_index)(const char *path, const char *data,
				 size_t len, uint64_t max, char *err,
				 size_t errlen);
};

/* Check data_dir/catalog.db (catalog_verify_quick: a damaged file is
 * refused, SC_ERR_DB, err naming snapcat restore), open it (migrating it),
 * recover jobs left running by a crash, and get the scheduler ready (it
 * starts on app_start, with the full check of a large catalog). On error
 * err says why and *out is NULL. */
sc_result app_create(struct loop *l, const struct app_opts *o,
		     struct app **out, char *err, size_t errlen) SC_MUST_CHECK;

/* Start running queued jobs. Loop thread. */
void app_start(struct app *a);

/* Stop taking jobs; let running ones finish for up to grace_ms, then cancel
 * them and put them back in the queue; then call done(ud). Loop thread. */
void app_drain(struct app *a, int grace_ms, void (*done)(void *), void *ud);

/* Free everything (after app_drain finished). NULL-safe; *a = NULL. */
void app_destroy(struct app **a);

/* ---- the catalog: units on the writer, reads on readers ---- */

/*
 * Begin a unit of work on the writer (any thread but the loop; a thread
 * runs one unit at a time): the catalog is the caller's until it ends the
 * unit with one of the three app_write_end* calls. Reads made inside see
 * the unit's own writes and those of the batch it joins.
 */
struct catalog *app_write_begin(struct app *a);

/* End the unit and wait until its writes and events are committed (a few
 * ms). SC_OK, also when it wrote nothing; else the commit's error (a full
 * disk: SC_ERR_DB), and nothing of the unit was stored (its events are
 * not sent). */
sc_result app_write_end(struct app *a) SC_MUST_CHECK;

/* End the unit without waiting: for steps nobody answers for (progress,
 * scheduled queuing): they commit with the next batch. */
void app_write_done(struct app *a);

/* End the unit; 0: fn(arg, rc) is called on the loop thread once the batch
 * committed (rc SC_OK) or failed, after its events went to the sinks; 1:
 * the unit wrote nothing, fn is not called. For answers sent on the loop. */
int app_write_end_async(struct app *a, void (*fn)(void *arg, sc_result rc),
			void *arg) SC_MUST_CHECK;

/* Inside a unit: fn(arg, committed) once the unit's batch committed (1) or
 * failed (0), before its events reach the sinks (e.g. files removed before
 * the event that says they are gone). On the committing thread: short. */
void app_write_after(struct app *a, void (*fn)(void *arg, int committed),
		     void *arg);

/* The writer with no batch open (on = 1: returned; queued work is
 * committed first), for a backup's step on the writer connection; on = 0
 * gives it back (returns NULL). Not inside a unit. */
struct catalog *app_write_hold(struct app *a, int on);

/* Commit what is queued now and wait (tests, shutdown). Not in a unit,
 * not on the loop thread while a unit waits on it. */
void app_flush(struct app *a);

/* A read connection for this thread (a worker's own, opened lazily; other
 * threads share one under a lock; the writer if no reader can be opened).
 * Reads only (writes fail with SC_ERR_INVALID). Give it back with
 * app_read_end(a, c) before the thread takes another. */
struct catalog *app_read_begin(struct app *a);
void app_read_end(struct app *a, struct catalog *c);

/* app_read_begin with a read transaction pinned at a commit: it sees every
 * batch committed so far and none after; at_pin(ud) runs at that point,
 * when every app_write_after hook of the batches it sees has run and none
 * of the later ones has (e.g. a running total that hooks keep, recounted
 * on the reader: metrics_app.c). A worker; not inside a unit. */
struct catalog *app_read_pinned(struct app *a, void (*at_pin)(void *ud),
				void *ud);

/* ---- any thread ---- */

const char *app_data_dir(const struct app *a);
/* Is the queue full (c: the writer inside a unit, or a reader)? 1: 503. */
int app_queue_full(struct app *a, struct catalog *c);
int app_allow_private(const struct app *a);
struct loop *app_loop(struct app *a);

/* A job was queued or retried: the scheduler looks for work. */
void app_kick(struct app *a);

/* A link's or tag's recapture schedule changed: look for due links now. */
void app_schedules_changed(struct app *a);

/* Job job_id was canceled or its link deleted: stop its capture if it runs. */
void app_abort_job(struct app *a, int64_t job_id);

/*
 * Emit an event. c: the writer inside a unit (app_write_begin): the event
 * is stored iff the unit's writes are, in the same batch; NULL: an event
 * without state (a backup's progress), from any thread. fields (may be
 * NULL) is a JSON object of the type's extra fields (stage, progress,
 * error...); it is consumed. The id is given at commit (bus.h). If the
 * catalog refuses the event's row while its batch commits, or its batch
 * fails and it has no state (c NULL), it still goes to the sinks, live
 * only, with the next id (the table has a gap there: never replayed), and
 * the failure is logged; an event whose unit's batch fails is not sent.
 */
void app_event(struct app *a, struct catalog *c, enum evtype type,
	       int64_t job_id, int64_t link_id, cJSON *fields);

/* The newest event id given so far (0: none). Any thread. */
int64_t app_event_last(struct app *a);

/* One event as it goes to subscribers: the id, its type, ids, and the
 * whole event as one line of JSON (DESIGN "Event JSON"). */
struct app_event {
	int64_t id, job_id, link_id;
	enum evtype t;
	const char *type; /* its name */
	const char *json;
};
typedef void (*app_event_sink)(void *ud, const struct app_event *ev);

/* Register a sink, called on the loop thread for every event (max 8). */
void app_add_sink(struct app *a, app_event_sink fn, void *ud);

/* Build the event JSON (shared by live and replayed events). Caller frees. */
char *app_event_json(int64_t id, const char *type, int64_t ts_ms,
		     int64_t job_id, int64_t link_id, const char *fields_json);

/* The browser pool (pool_status_json): {status, reason, total, healthy,
 * running[, items]}. Caller deletes. Any thread. */
cJSON *app_browsers_json(struct app *a, int with_items);

/* Can the data be written? 0: yes (reason ""); 1: degraded, reason says
 * why (the data directory or the catalog refuses writes, the catalog is
 * damaged, job ends wait for the catalog). Any thread, no I/O. */
int app_storage_status(struct app *a, char *reason, size_t len);

/* Counters for /healthz and /metrics. Loop thread. */
struct app_stats {
	int running, concurrency, draining;
	int ends_waiting;     /* of running: ends the catalog has not taken */
	int storage_degraded; /* app_storage_status */
	int64_t jobs_done, jobs_failed, events;
	int browser_starts, browser_pid;
};
void app_stats(struct app *a, struct app_stats *s);

#endif
