/*
 * loop.h — the one event loop: an lws context whose default vhost carries the
 * loop's own protocol and the caller's (the DevTools client's), plus the
 * worker pool whose results come back to this thread.
 *
 *   worker thread -> workers notify -> lws_cancel_service()
 *   loop thread   -> LWS_CALLBACK_EVENT_WAIT_CANCELLED -> workers_drain()
 *                    and loop_post() callbacks
 *
 * The HTTP server (http/) adds its own listening vhost to loop_ctx().
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>

#include "sc.h"
#include "workers.h"

struct lws_context;
struct loop;

struct lws_protocols;

struct loop_opts {
	int workers; /* worker threads; 0 = 2 */
	/* a protocol of the default vhost besides the loop's own: the
	 * DevTools client's (cdp_protocol), or NULL; its rx_buffer_size also
	 * sizes the context's receive buffer */
	const struct lws_protocols *protocol;
};

/* Create the lws context and the worker pool. NULL *out on error. */
sc_result loop_create(const struct loop_opts *opts, struct loop **out)
	SC_MUST_CHECK;

struct lws_context *loop_ctx(struct loop *l);
struct workers *loop_workers(struct loop *l);

/* Run work(arg) on a worker, then done(arg) on the loop thread. */
void loop_work(struct loop *l, workers_fn work, workers_fn done, void *arg);

/* Run fn(arg) on the loop thread soon. Thread-safe. */
void loop_post(struct loop *l, workers_fn fn, void *arg);

/* Run the callbacks loop_post queued so far, now. Loop thread (e.g. at
 * shutdown, before the objects they use are freed). */
void loop_run_posts(struct loop *l);

/* Run one-shot fn(arg) on the loop thread after ms milliseconds. Loop thread
 * only. Returns a handle for loop_timer_cancel, owned by the loop and freed
 * just before fn runs: fn's owner must drop its copy of the handle in fn. */
struct loop_timer;
struct loop_timer *loop_timer(struct loop *l, int64_t ms, workers_fn fn,
			      void *arg);
/* Cancel a timer that has not fired yet; NULL-safe, sets *t to NULL. */
void loop_timer_cancel(struct loop_timer **t);

/* Call fn(arg) on the loop thread every time the loop is woken by
 * lws_cancel_service() (e.g. from a signal handler that set a flag). */
void loop_set_wake(struct loop *l, workers_fn fn, void *arg);

/* Serve until loop_stop(); returns 0, or -1 if lws failed. It can be run
 * again after it returned. */
int loop_run(struct loop *l);

/* Make loop_run() return after the current iteration. Thread-safe. */
void loop_stop(struct loop *l);

/* After loop_run returned: keep serving until the worker pool is idle (at
 * most max_ms), then run the pending done callbacks and posts. Lets work in
 * flight finish before the objects it uses are freed. */
void loop_settle(struct loop *l, int64_t max_ms);

/* Destroy the context (closing every connection), wait for the workers to
 * finish and free. NULL-safe; sets *l to NULL. */
void loop_destroy(struct loop **l);

#endif
