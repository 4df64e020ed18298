/*
 * browser.h — one Chromium that capture jobs share: launched locally and
 * supervised, or reached at a remote endpoint.
 *
 *   browser_acquire(cb) -> READY? cb(conn) on the next loop turn
 *                       -> else start: worker thread cdp_launch / cdp_discover
 *                          -> loop: cdp_conn_open -> on_open -> READY -> cb(conn)
 *   connection lost (crash, kill -9, remote gone) -> DOWN: the process group
 *   is killed and reaped on a worker; the next acquire starts a new one.
 *
 * DESIGN
 * States: DOWN -> STARTING (worker) -> CONNECTING (loop) -> READY -> DOWN.
 * Waiters queue while the browser starts; a failed start fails every waiter
 * with the reason. Start-ups that fail in a row back off (0.5 s, doubling,
 * up to 10 s) so a broken Chromium does not spin the machine.
 * Everything but the worker's launch runs on the loop thread.
 * Liveness: a stopped or hung browser keeps its socket open, so while READY
 * a Browser.getVersion goes out every 5 s and must answer within 10 s; if
 * not, the browser is dropped as if it had crashed (a local one killed,
 * the connection dropped with cdp_conn_drop): jobs on it fail as
 * browser_crash and the watcher hears BROWSER_EV_LOST ("unresponsive: ...").
 * A watcher (browser_watch; the pool, pool.c) learns every state change,
 * and whether a drop was a deliberate recycle or a loss. A ws:// endpoint
 * of the form ws://host:port/devtools/browser/ID is looked up again via
 * http://host:port/json/version at each start (a restarted Chromium has a
 * new ID); if that fails the URL is used as given.
 *
 * Session per connection (browserless: each WebSocket connection is one
 * browser session, counted against its CONCURRENT limit and ended after
 * its TIMEOUT): an endpoint whose WebSocket URL is not Chromium's own
 * /devtools/browser/ID (ws://host:port?token=T, ws://host:port/chromium,
 * or what http://host:port?token=T answers), or declared with
 * ",session=job" after the URL (",session=shared" says the opposite), gets
 * no shared connection: a start is GET /json/version (the token kept) and
 * READY means it answered; each job then opens a connection of its own
 * (browser_job.h), closed by browser_release. A connection that cannot be
 * opened (browserless down, or 429 past its queue) fails that job's
 * acquire (the pool gives it to another endpoint) and the holder
 * (BROWSER_EV_FAILED); one that drops under a job makes it
 * BROWSER_EV_LOST. No liveness ping then: there is nothing to ping.
 */
#ifndef BROWSER_H
#define BROWSER_H

#include "sc.h"

struct loop;
struct cdp_conn;
struct browser;

struct browser_opts {
	const char *endpoint;          /* NULL or "auto": launch locally */
	const char *chromium;          /* NULL: launch.h default */
	const char *const *extra_args; /* NULL-terminated; copied */
	struct cdp_log *cdp_log;       /* every DevTools message is written
					  here (cdplog.h), or NULL; borrowed */
	int launch_timeout_ms;         /* 0: 30000 */
	int recycle_pages;             /* restart a local browser after this
					  many jobs; 0: never */
	int max_pss_mb;                /* ... or above this many MB in its
					  processes (PSS, read between
					  jobs); 0: no ceiling */
	int max_jobs;                  /* not used here: the pool's cap on
					  jobs at once on it (0: none of its
					  own) */
};

/* What a watcher learns (why: a message for FAILED and LOST, else NULL). */
enum browser_event {
	BROWSER_EV_STARTING,   /* a start began (launch or discovery) */
	BROWSER_EV_CONNECTING, /* the WebSocket is being opened */
	BROWSER_EV_READY,      /* connected */
	BROWSER_EV_FAILED,     /* a start or connect failed */
	BROWSER_EV_LOST,       /* an open connection dropped (crash, kill,
				  remote gone) */
	BROWSER_EV_RECYCLED,   /* dropped on purpose between jobs */
};
typedef void (*browser_watch_cb)(void *ud, struct browser *b,
				 enum browser_event ev, const char *why);

/* Called with a connected browser, or conn == NULL and err saying why. */
typedef void (*browser_cb)(void *ud, struct cdp_conn *conn, const char *err);

/* Create the holder; nothing starts until the first browser_acquire. */
sc_result browser_create(struct loop *l, const struct browser_opts *o,
			 struct browser **out) SC_MUST_CHECK;

/* Ask for the connection. cb runs later on the loop thread, exactly once,
 * unless browser_forget(ud) or browser_destroy comes first. */
void browser_acquire(struct browser *b, browser_cb cb, void *ud);

/* A job that got conn from browser_acquire is over (whatever its outcome).
 * Counts pages; may restart a local browser between jobs (recycle_pages,
 * max_pss_mb); closes conn if it was the job's own (browser_per_job). */
void browser_release(struct browser *b, struct cdp_conn *conn);

/* 1 if each job gets a DevTools connection of its own (a session per
 * connection: browserless), so no spare page may be set up ahead on one. */
int browser_per_job(const struct browser *b);

/* Drop the waiters registered with ud. */
void browser_forget(struct browser *b, void *ud);

/* One watcher: called on the loop thread at each event, before the
 * waiters hear of it. It may call browser_connect but not destroy b. */
void browser_watch(struct browser *b, browser_watch_cb cb, void *ud);

/* Start now if DOWN, with no waiter and none of the holder's own back-off
 * (the caller paces retries). No-op while starting or connected. */
void browser_connect(struct browser *b);

/* 1 if READY and its WebSocket is open (not yet seen to drop). */
int browser_alive(struct browser *b);

/* "down", "starting", "connecting", "ready". Static. */
const char *browser_state_name(const struct browser *b);

/* The endpoint as given, or NULL for a local browser. Owned by b. */
const char *browser_endpoint(const struct browser *b);

/* The connection if READY, else NULL. */
struct cdp_conn *browser_conn(struct browser *b);

/* Browsers started so far (1 after the first start; more after crashes). */
int browser_starts(const struct browser *b);

/* PID of the local browser, or 0 (remote, or not running). */
int browser_pid(const struct browser *b);

/* Kill the browser (tests and recycling); jobs on it fail as crashes. */
void browser_kill(struct browser *b);

/* Close the connection, kill and reap a local browser, free. Waiters are not
 * called. NULL-safe; *b = NULL. Blocks up to a few seconds for the reap. */
void browser_destroy(struct browser **b);

#endif
