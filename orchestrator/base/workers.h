/*
 * workers.h — a small pool of threads for work that must not run on the
 * event loop: base64 decoding, file writes + fsync, PNG encode/decode,
 * thumbnails, stitching, slow SQL, launching a browser.
 *
 *   loop thread: workers_submit(work, done, arg)
 *   worker:      work(arg)                       (no lws calls, ever)
 *   worker:      push onto the done queue, call notify()  (lws_cancel_service)
 *   loop thread: workers_drain() -> done(arg)    (in EVENT_WAIT_CANCELLED)
 *
 * DESIGN (after Redis bio.c): a job is a (work, done, arg) triple; one FIFO
 * of pending jobs under a mutex + condition variable, one FIFO of finished
 * jobs under a second mutex. Threads never touch the loop's state: work()
 * gets only its arg, and done() runs on the loop thread.
 */
#ifndef WORKERS_H
#define WORKERS_H

#include <stddef.h>

#include "sc.h"

struct workers;

typedef void (*workers_fn)(void *arg);

/*
 * Start n threads (n >= 1). notify(ud) is called from a worker thread each
 * time a job finishes; it must be thread-safe (lws_cancel_service is).
 */
sc_result workers_create(int n, void (*notify)(void *ud), void *ud,
			 struct workers **out) SC_MUST_CHECK;

/* Queue a job. work runs on a worker; done (may be NULL) later runs on the
 * thread that calls workers_drain(). Never fails (allocation aborts). */
void workers_submit(struct workers *w, workers_fn work, workers_fn done,
		    void *arg);

/* Run the done callbacks of every finished job; returns how many ran. */
size_t workers_drain(struct workers *w);

/* The calling thread's index in w (0 .. workers_count(w) - 1), or -1 if
 * it is not one of w's threads: per-thread state kept by index (each
 * worker's catalog reader, service/app.c). Any thread. */
int workers_index(const struct workers *w);
/* Threads of w (as asked of workers_create). */
int workers_count(const struct workers *w);

/* Jobs queued or running (for metrics and shutdown). */
size_t workers_busy(struct workers *w);

/*
 * Wait for every queued job to finish, stop the threads, run the remaining
 * done callbacks, free. NULL-safe; sets *w to NULL.
 */
void workers_destroy(struct workers **w);

#endif
