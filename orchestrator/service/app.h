/*
 * app.h — the running service behind `snapcat serve`: the catalog (one
 * SQLite connection behind a mutex), the data directory, the browser, the
 * job scheduler (sched.c) and the event bus.
 *
 *   http/ handler (worker) -> app_db_lock -> catalog_* -> app_event ->
 *   app_db_unlock -> app_kick (a job was queued) -> scheduler (loop thread)
 *   app_event: row in the catalog's events table (resume), then the JSON
 *   line is posted to the loop thread and handed to every event sink
 *   (SSE, WebSocket, long-poll) in id order.
 *
 * DESIGN
 * SQLite work runs on worker threads; the connection is shared, so a
 * caller holds app_db_lock for the whole of one unit of work (a handler or
 * a scheduler step). Events are appended under that lock, so their ids are
 * in commit order, and posted to the loop in the same order.
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

/* ---- any thread ---- */

/* Lock and return the catalog; every catalog call goes between these. */
struct catalog *app_db_lock(struct app *a);
void app_db_unlock(struct app *a);

const char *app_data_dir(const struct app *a);
/* Is the queue full (caller holds the db lock)? 1: answer 503. */
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
 * Record an event (caller holds the db lock and passes the catalog): append
 * it to the events log and post it to the sinks. fields (may be NULL) is a
 * JSON object of the type's extra fields (stage, progress, error...); it is
 * consumed. Returns the event id. If the catalog cannot store it (a full
 * disk, an I/O error, a damaged file) it still goes to the sinks, with the
 * next id (above every id given; the table has a gap there: it is live
 * only, never replayed), and the failure is logged.
 */
int64_t app_event(struct app *a, struct catalog *c, enum evtype type,
		  int64_t job_id, int64_t link_id, cJSON *fields);

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
