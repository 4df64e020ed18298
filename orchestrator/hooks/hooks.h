/*
 * hooks.h — webhooks: job.done, job.failed and snapshot.changed events
 * POSTed as signed JSON to the configured URLs, retried with back-off, each
 * attempt in a persisted delivery log (hooks_store.h).
 *
 *   app_event -> (loop thread) hooks sink: the event is queued for the
 *     sender thread -> hooks_store_ingest (one pending delivery per
 *     subscribed webhook, in event order) -> hooks_store_claim (due) ->
 *     libcurl multi POST, signed (hooks_sign) -> hooks_store_record:
 *     ok | pending again after a back-off | failed
 *   POST/PATCH/DELETE /api/webhooks... -> hooks_store_* -> hooks_wake
 *
 * DESIGN
 * One sender thread owns a curl multi handle and every transfer; the event
 * loop never waits on a receiver. The loop-thread sink only copies the
 * event onto a mutex-protected FIFO and wakes the thread
 * (curl_multi_wakeup). The thread loops: take the FIFO -> ingest it (one unit
 * on the writer, committed before it goes on) -> claim due deliveries up to
 * HOOKS_INFLIGHT -> curl_multi_perform -> record finished attempts ->
 * curl_multi_poll until the next due delivery, curl's own timers, or a
 * wake-up.
 *
 * Nothing is lost across a restart: deliveries live in the catalog's file;
 * the ingest cursor (the last event id turned into deliveries) is stored
 * with them, and at start the thread first replays the events log after
 * it, so events that were committed but not yet ingested when the process
 * stopped (or was killed) are delivered too. At shutdown (hooks_stop) the
 * FIFO is ingested and transfers still in flight are put back to pending
 * (the attempt not counted): delivery is at least once, receivers dedupe
 * on X-Snapcat-Delivery.
 */
#ifndef HOOKS_H
#define HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct app;
struct hooks;

#define HOOKS_ATTEMPTS 6           /* default attempts per delivery */
#define HOOKS_ATTEMPTS_MAX 20
#define HOOKS_BACKOFF_MS 5000      /* the first retry's delay */
#define HOOKS_TIMEOUT_MS 10000     /* per attempt, connection included */
#define HOOKS_INFLIGHT 8           /* transfers at once */
#define HOOKS_USER_AGENT "snapcat-webhooks/1"

struct hooks_opts {
	int max_attempts;     /* 0: HOOKS_ATTEMPTS */
	int64_t backoff_ms;   /* 0: HOOKS_BACKOFF_MS (see hooks_retry_delay) */
	int timeout_ms;       /* 0: HOOKS_TIMEOUT_MS */
	int allow_private;    /* receivers at private addresses too */
};

/*
 * Create the tables (hooks_store_init), register the event sink and start
 * the sender thread. Call after app_create, before app_start, on the loop
 * thread. One per process (the API finds it through hooks_wake). On error
 * err says why and *out is NULL.
 */
sc_result hooks_create(struct app *a, const struct hooks_opts *o,
		       struct hooks **out, char *err, size_t errlen)
	SC_MUST_CHECK;

/*
 * Stop the sender: ingest the queued events, put transfers in flight back
 * to pending, join the thread. Events the sink gets afterwards are left to
 * the next start's replay. Loop thread (after loop_settle: every event has
 * reached the sink). NULL-safe; idempotent.
 */
void hooks_stop(struct hooks *h);

/* Stop (if not yet) and free; after loop_destroy. NULL-safe; *h = NULL. */
void hooks_destroy(struct hooks **h);

/* The webhooks or their deliveries changed (REST API): look for due
 * deliveries now. Any thread; a no-op without a running sender. */
void hooks_wake(struct app *a);

/* Attempts per delivery of the running sender (HOOKS_ATTEMPTS if none). */
int hooks_max_attempts(void);

/*
 * The delay before attempt n + 1 after attempt n (n >= 1) failed, for a
 * first delay of base ms: the schedule 5 s, 30 s, 2 min, 10 min, 1 h, then
 * 1 h, scaled by base / 5 s. Pure.
 */
int64_t hooks_retry_delay(int64_t base, int n);

#endif
