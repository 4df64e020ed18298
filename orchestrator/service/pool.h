/*
 * pool.h — the browser pool of `snapcat serve`: which endpoint a job runs
 * on, and which endpoints are healthy.
 *
 *   sched_kick -> pool_room > 0? -> claim a job -> pool_acquire
 *     -> pool_pick: the healthy endpoint least loaded relative to its max
 *     -> browser_acquire -> cb(ud, browser, conn) -> capture ... -> pool_done
 *   browser_watch events -> health: READY = in the rotation; a failed start
 *     or a dropped connection = out of it, probed again later (browser_connect)
 *     with back-off: at once after a drop, then 1 s doubling to retry_max
 *   GET /api/browsers, /healthz -> pool_status_json (any thread)
 *
 * DESIGN
 * One browser holder (browser.c) per endpoint; the pool owns none of them
 * (app.c creates and destroys them) but watches each. Everything runs on
 * the loop thread except pool_status_json, which reads a copy of
 * each endpoint's status that the loop publishes under a mutex. An
 * endpoint is healthy once connected and stays so through a deliberate
 * recycle; it leaves the rotation when a start or connect fails or its
 * connection drops, and comes back by itself when a probe connects. Jobs
 * are only claimed from the queue while a healthy endpoint has room
 * (pool_room), so with no healthy endpoint they wait in the queue. A request
 * whose endpoint fails before it got a connection goes back to the pool's
 * own queue and is given to the next endpoint with room: pool_acquire never
 * fails. Jobs that had a connection when it dropped fail in their capture
 * (browser_crash); the scheduler puts them back in the queue at once.
 */
#ifndef POOL_H
#define POOL_H

#include <cjson/cJSON.h>

#include "sc.h"

struct loop;
struct browser;
struct cdp_conn;
struct pool;

struct pool_opts {
	int concurrency;  /* max of an endpoint whose max_jobs is 0 */
	int retry_max_ms; /* back-off ceiling for probes; 0: 60000 */
	const int *max;   /* per endpoint (n entries), 0: concurrency; may be
			     NULL */
	void (*on_room)(void *ud); /* an endpoint became healthy; loop thread */
	void *ud;
};

/* Watch the n browsers (not owned; they must outlive the pool). Nothing
 * starts before pool_start. */
sc_result pool_create(struct loop *l, struct browser *const *b, int n,
		      const struct pool_opts *o, struct pool **out)
	SC_MUST_CHECK;

/* Connect every endpoint (launch the local ones). Loop thread. */
void pool_start(struct pool *p);

/* Job slots free on healthy endpoints, less the requests waiting in the
 * pool. Loop thread. */
int pool_room(struct pool *p);

/* Called once with a connected browser of the pool. */
typedef void (*pool_cb)(void *ud, struct browser *b, struct cdp_conn *conn);

/* Ask for a browser for job ud (one request per ud). cb runs later on the
 * loop thread, exactly once, unless pool_done(ud) comes first; until an
 * endpoint is healthy and has room the request waits. Loop thread. */
void pool_acquire(struct pool *p, pool_cb cb, void *ud);

/* Job ud is over (or stops waiting): its slot is given back, its browser
 * released. No-op if ud holds nothing. Loop thread. */
void pool_done(struct pool *p, void *ud);

/* The pool as JSON: {status: "ok" | "degraded" (an endpoint is not
 * healthy), reason (null, or which endpoints and why; "no healthy browser"
 * first when none is), total, healthy, running} and, with items, items:
 * [{index, kind, endpoint, state, healthy, running, max, jobs (started
 * there), starts, failures, losses, last_error, last_error_at, next_retry_at}] — endpoints shown
 * without user info or query string (tokens). Caller deletes. Any thread. */
cJSON *pool_status_json(struct pool *p, int with_items);

/* Stop watching, drop waiting requests without calling them, free.
 * NULL-safe; *p = NULL. Before the browsers are destroyed. */
void pool_destroy(struct pool **p);

#endif
