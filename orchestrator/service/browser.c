/*
 * browser.c — start, connect, supervise and restart one browser (see
 * browser.h for the states).
 */
#include "browser.h"
#include "browser_job.h"
#include "cdplog.h"
#include "testhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "discover.h"
#include "launch.h"
#include "loop.h"

#define BR_LOG "browser"
#define BR_PING_MS 5000           /* a ready browser is asked this often ... */
#define BR_PING_DEADLINE_MS 10000 /* ... and is unresponsive when two in
				     a row get no answer within this and
				     nothing at all came from it meanwhile */
#define BR_MEM_GRACE_MS 60000 /* over max_pss_mb while jobs run: so long
				 before it is recycled (br_mem_done) */

enum br_state { BR_DOWN, BR_STARTING, BR_CONNECTING, BR_READY };

struct br_waiter {
	struct br_waiter *next;
	browser_cb cb;
	void *ud;
};

/* Hand-over between the loop and the worker that starts a browser. */
struct br_start {
	struct browser *b;
	struct cdp_process *proc; /* out: local browser */
	char *ws_url;             /* out */
	int per_job;              /* out: a connection per job (browser_job.h) */
	char err[600];            /* out */
};

enum br_session { BR_SESSION_AUTO, BR_SESSION_JOB, BR_SESSION_SHARED };

struct browser {
	struct loop *loop;
	struct browser_opts o;
	char *endpoint, *chromium; /* the copies o.endpoint, o.chromium point to */
	char **args; /* copy of o.extra_args */
	enum br_state state;
	struct cdp_process *proc;
	struct cdp_conn *conn;
	struct br_waiter *waiters;
	struct loop_timer *retry, *ready_timer;
	struct loop_timer *ping_timer; /* the next Browser.getVersion */
	int pinging;        /* one is out */
	int ping_misses;    /* unanswered in a row with the socket silent */
	uint64_t ping_rx;   /* cdp_conn_rx_bytes at the first miss */
	char hung[256];     /* why it was found unresponsive, "" if not */
	int starts, failures;
	int destroying;     /* browser_destroy ran while a start or a memory
			       reading was on a worker: the last to finish
			       frees b */
	int mem_reading;    /* br_mem_work is on a worker */
	int users;          /* jobs holding the connection (acquire..release) */
	int pages;          /* jobs run on this browser process */
	int recycling;      /* kill it when users reaches 0 */
	int64_t over_since; /* first reading over max_pss_mb taken while
			       jobs ran (0: the last was under it) */
	int64_t started_at;
	browser_watch_cb watch; /* browser_watch */
	void *watch_ud;
	enum br_session session; /* ",session=" of the endpoint */
	int per_job;             /* this start: a connection per job */
	struct bj_set *jobs;     /* their connections (remote endpoints) */
	char *job_url;           /* what they connect to */
};

static void br_tell(struct browser *b, enum browser_event ev, const char *why)
{
	if (b->watch)
		b->watch(b->watch_ud, b, ev, why);
}

static void br_start(struct browser *b);
static void br_ping_stop(struct browser *b);
static void br_free(struct browser *b);

static void br_call_waiters(struct browser *b, struct cdp_conn *conn,
			    const char *err)
{
	struct br_waiter *w = b->waiters;
	b->waiters = NULL;
	for (struct br_waiter *x = w; conn && x; x = x->next)
		b->users++;
	while (w) {
		struct br_waiter *n = w->next;
		w->cb(w->ud, conn, err);
		free(w);
		w = n;
	}
}

/* Kill and reap on a worker: reaping may take a moment. */
static void br_reap_work(void *arg)
{
	struct cdp_process *p = arg;
	cdp_process_free(&p);
}

static void br_drop_process(struct browser *b)
{
	if (b->proc)
		loop_work(b->loop, br_reap_work, NULL, b->proc);
	b->proc = NULL;
}

static void br_failed(struct browser *b, const char *err)
{
	br_ping_stop(b);
	sc_log(SC_LOG_ERROR, BR_LOG, "browser unavailable: %s", err);
	cdp_conn_close(&b->conn);
	br_drop_process(b);
	b->state = BR_DOWN;
	b->failures++;
	br_tell(b, BROWSER_EV_FAILED, err);
	br_call_waiters(b, NULL, err);
}

/* ---- liveness: a stopped or hung browser keeps its socket open ---- */

static void br_ping_arm(struct browser *b);
static void br_ping_fire(void *arg);

/* No answer: the browser is dropped as if it had crashed (a local one is
 * killed, SIGKILL works on a stopped process): jobs on it fail as
 * browser_crash and go back to the queue, the pool marks it unhealthy
 * with the reason, a local one is launched again. */
static void br_hung_fire(void *arg)
{
	struct browser *b = arg;
	b->ping_timer = NULL;
	if (b->state != BR_READY || !b->conn)
		return;
	snprintf(b->hung, sizeof(b->hung), "unresponsive: no answer to "
		 "Browser.getVersion twice within %d s and nothing received "
		 "(stopped or hung)", BR_PING_DEADLINE_MS / 1000);
	sc_log(SC_LOG_WARN, BR_LOG, "browser %s: dropped%s", b->hung,
	       b->proc ? " and killed" : "");
	if (b->proc)
		cdp_process_kill(b->proc);
	cdp_conn_drop(b->conn, b->hung); /* br_on_close runs now */
}

static void br_on_pong(void *owner, const struct cdp_reply *r)
{
	struct browser *b = owner;
	b->pinging = 0;
	if (b->state != BR_READY)
		return;
	loop_timer_cancel(&b->ping_timer);
	if (r->rc == SC_ERR_DISCONNECTED)
		return;
	if (r->rc != SC_ERR_TIMEOUT) {
		b->ping_misses = 0;
		br_ping_arm(b);
		return;
	}
	/* A browser busy with a huge screenshot on a loaded machine may be
	 * late: hung only at the second miss in a row with no byte received
	 * since the first miss (a reply streaming in is life). */
	uint64_t rx = cdp_conn_rx_bytes(b->conn);
	if (!b->ping_misses || rx != b->ping_rx) {
		b->ping_misses = 1;
		b->ping_rx = rx;
		b->ping_timer = loop_timer(b->loop, 0, br_ping_fire, b);
		return;
	}
	b->ping_timer = loop_timer(b->loop, 0, br_hung_fire, b); /* out of
							cdp's callback first */
}

static void br_ping_fire(void *arg)
{
	struct browser *b = arg;
	b->ping_timer = NULL;
	if (b->state != BR_READY || b->pinging || !b->conn)
		return;
	if (cdp_call(b->conn, NULL, "Browser.getVersion", NULL,
		     BR_PING_DEADLINE_MS, br_on_pong, b) == SC_OK)
		b->pinging = 1;
}

static void br_ping_arm(struct browser *b)
{
	if (!b->ping_timer && !b->pinging)
		b->ping_timer = loop_timer(b->loop, BR_PING_MS, br_ping_fire, b);
}

static void br_ping_stop(struct browser *b)
{
	loop_timer_cancel(&b->ping_timer);
	if (b->conn && b->pinging)
		cdp_forget(b->conn, b);
	b->pinging = 0;
	b->ping_misses = 0;
}

static void br_on_open(struct cdp_conn *c, void *ud, sc_result rc,
		       const char *err)
{
	struct browser *b = ud;
	if (rc) {
		br_failed(b, err ? err : sc_strerror(rc));
		return;
	}
	b->state = BR_READY;
	b->failures = 0;
	b->hung[0] = 0;
	br_ping_arm(b);
	sc_log(SC_LOG_INFO, BR_LOG, "browser ready (start #%d, %lld ms)",
	       b->starts, (long long)(sc_now_ms() - b->started_at));
	br_tell(b, BROWSER_EV_READY, NULL);
	br_call_waiters(b, b->conn, NULL);
}

static void br_on_close(struct cdp_conn *c, void *ud, const char *reason)
{
	struct browser *b = ud;
	br_ping_stop(b);
	sc_log(SC_LOG_WARN, BR_LOG, "browser connection lost: %s", reason);
	/* the conn is freed once lws is done with it; we only drop our ref */
	struct cdp_conn *old = b->conn;
	b->conn = NULL;
	cdp_conn_close(&old);
	br_drop_process(b);
	b->state = BR_DOWN;
	int recycled = b->recycling;
	b->users = b->pages = b->recycling = 0;
	b->over_since = 0;
	br_tell(b, recycled ? BROWSER_EV_RECYCLED : BROWSER_EV_LOST, reason);
	if (b->waiters)
		br_start(b);
}

/* A memory reading on a worker: the browser's process group, then the
 * result back on the loop. */
struct br_mem {
	struct browser *b;
	pid_t pgid;
	int starts;     /* b->starts when it was asked: the same process? */
	int busy;       /* jobs held it when it was asked */
	long kb;        /* out: PSS sum, -1 unknown */
};

static void br_mem_work(void *arg)
{
	struct br_mem *m = arg;
	m->kb = cdp_pgroup_pss_kb(m->pgid, NULL);
}

/* Kill a browser that is to be recycled once no job holds it (its
 * connection drops: br_on_close restarts it). */
static void br_recycle_now(struct browser *b)
{
	if (b->recycling && !b->users && b->proc && b->state == BR_READY)
		cdp_process_kill(b->proc);
}

/*
 * A reading over the ceiling taken while jobs held the browser may be
 * their captures' own memory, gone when they end: a screenshot of 1280 x
 * 82,630 px takes over 1 GB in Chromium until it returns (capture_shot.c)
 * and the jobs beside it are released meanwhile. Such a reading recycles
 * only once readings have stayed over the ceiling for BR_MEM_GRACE_MS
 * (the default job deadline: every capture in flight at the first one has
 * ended by then); one taken with no job on the browser recycles at once.
 */
static int br_mem_transient(struct browser *b, int busy)
{
	if (!busy)
		return 0;
	int64_t now = sc_now_ms();
	if (!b->over_since)
		b->over_since = now;
	if (now - b->over_since < BR_MEM_GRACE_MS) {
		sc_log(SC_LOG_DEBUG, BR_LOG, "browser memory over %d MB while "
		       "%d jobs run: read again after the next", b->o.max_pss_mb,
		       b->users);
		return 1;
	}
	return 0;
}

static void br_mem_done(void *arg)
{
	struct br_mem *m = arg;
	struct browser *b = m->b;
	long kb = m->kb;
	int same = m->starts == b->starts, busy = m->busy;
	free(m);
	b->mem_reading = 0;
	if (b->destroying) {
		if (b->state != BR_STARTING) /* else br_start_done frees b */
			br_free(b);
		return;
	}
	if (kb < 0 || !same || b->state != BR_READY)
		return; /* another process by now */
	sc_log(SC_LOG_DEBUG, BR_LOG, "browser memory %ld MB (PSS) after %d "
	       "pages", kb / 1024, b->pages);
	if (kb / 1024 <= b->o.max_pss_mb)
		b->over_since = 0;
	if (b->recycling || kb / 1024 <= b->o.max_pss_mb ||
	    br_mem_transient(b, busy))
		return;
	b->recycling = 1;
	sc_log(SC_LOG_INFO, BR_LOG, "recycling the browser after %d pages: "
	       "%ld MB in its processes (PSS), over %d", b->pages, kb / 1024,
	       b->o.max_pss_mb);
	br_recycle_now(b);
}

/*
 * A local browser that ran too many pages or grew too big is restarted
 * between jobs: Chromium's memory only grows over a long run. The memory
 * is the PSS of its processes (launch.h), read on a worker: meanwhile jobs
 * go on, and one over the ceiling marks it for recycling, done when no
 * job holds it.
 */
static void br_maybe_recycle(struct browser *b)
{
	if (!b->proc || b->state != BR_READY)
		return;
	if (!b->recycling && b->o.recycle_pages > 0 &&
	    b->pages >= b->o.recycle_pages) {
		b->recycling = 1;
		sc_log(SC_LOG_INFO, BR_LOG, "recycling the browser after %d "
		       "pages", b->pages);
	}
	if (!b->recycling && b->o.max_pss_mb > 0 && !b->mem_reading) {
		struct br_mem *m = sc_xcalloc(1, sizeof(*m));
		*m = (struct br_mem){.b = b, .pgid = cdp_process_pid(b->proc),
				     .starts = b->starts, .busy = b->users > 0};
		b->mem_reading = 1;
		loop_work(b->loop, br_mem_work, br_mem_done, m);
	}
	br_recycle_now(b);
}

void browser_release(struct browser *b, struct cdp_conn *conn)
{
	if (b->jobs && bj_release(b->jobs, conn)) {
		b->pages++;
		return;
	}
	if (b->users > 0)
		b->users--;
	b->pages++;
	br_maybe_recycle(b);
}

/* ws[s]://host:port/devtools/browser/ID[?token=T]: the browser at host:port now
 * (a restarted Chromium has a new ID), else the URL as given. Worker. */
static void br_rediscover(struct br_start *s, const char *ep)
{
	int tls = !strncmp(ep, "wss://", 6);
	if (strncmp(ep, "ws://", 5) && !tls)
		return;
	const char *hp = ep + (tls ? 6 : 5);
	size_t n = strcspn(hp, "/?#");
	char http[1400], err[256];
	if (strncmp(hp + n, "/devtools/browser/", 18) || n > 250)
		return;
	const char *q = strchr(hp + n, '?'); /* a token: asked with it */
	snprintf(http, sizeof(http), "%s://%.*s%.1000s", tls ? "https" : "http",
		 (int)n, hp, q ? q : "");
	if (cdp_discover(http, 5000, &s->ws_url, err, sizeof(err)))
		s->ws_url = NULL;
}

/* Whether the endpoint found is a session per connection: declared
 * (",session=job" / ",session=shared"), else a WebSocket URL that is not
 * Chromium's own /devtools/browser/ID (browserless answers ws://host:port,
 * or is given as ws://host:port/chromium?token=T). Such an endpoint is
 * asked GET /json/version (the token kept) as the health check: nothing
 * else connects until a job does. Worker. */
static void br_session_work(struct br_start *s, const struct browser *b)
{
	if (!s->ws_url || b->session == BR_SESSION_SHARED)
		return;
	const char *hp = s->ws_url + 5; /* "ws://" */
	const char *path = hp + strcspn(hp, "/?#");
	s->per_job = b->session == BR_SESSION_JOB ||
		     strncmp(path, "/devtools/browser/", 18);
	if (!s->per_job || strncmp(b->o.endpoint, "ws://", 5))
		return; /* an http:// endpoint was just asked */
	size_t q = strcspn(path, "?#");
	char http[1200], *found = NULL;
	snprintf(http, sizeof(http), "http://%.*s%s", (int)(path - hp), hp,
		 path[q] == '?' ? path + q : "");
	if (cdp_discover(http, 10000, &found, s->err, sizeof(s->err))) {
		free(s->ws_url);
		s->ws_url = NULL;
	}
	free(found);
}

static void br_start_work(void *arg)
{
	struct br_start *s = arg;
	struct browser *b = s->b;
	if (b->o.endpoint && strcmp(b->o.endpoint, "auto")) {
		br_rediscover(s, b->o.endpoint);
		/* on error ws_url stays NULL and err says why */
		if (!s->ws_url)
			(void)!cdp_discover(b->o.endpoint, 10000, &s->ws_url,
					    s->err, sizeof(s->err));
		br_session_work(s, b);
		return;
	}
	struct cdp_launch_opts lo = {
		.chromium = b->o.chromium,
		.extra_args = (const char *const *)b->args,
		.timeout_ms = b->o.launch_timeout_ms,
	};
	if (cdp_launch(&lo, &s->proc, s->err, sizeof(s->err)) == SC_OK)
		s->ws_url = sc_xstrdup(cdp_process_ws_url(s->proc));
}


/* Every waiter gets a connection of its own (browser_job.h). */
static void br_job_serve(struct browser *b)
{
	struct br_waiter *w = b->waiters;
	b->waiters = NULL;
	while (w) {
		struct br_waiter *n = w->next;
		bj_open(b->jobs, b->job_url, w->cb, w->ud);
		free(w);
		w = n;
	}
}

/* A job's connection failed to open (at_open) or dropped under it: the
 * endpoint is DOWN until looked at again (the pool probes it). */
static void br_job_lost(void *owner, int at_open, const char *why)
{
	struct browser *b = owner;
	if (b->state != BR_READY || !b->per_job)
		return;
	sc_log(SC_LOG_WARN, BR_LOG, "browser session %s: %s",
	       at_open ? "not opened" : "lost", why);
	b->state = BR_DOWN;
	if (at_open)
		b->failures++;
	br_tell(b, at_open ? BROWSER_EV_FAILED : BROWSER_EV_LOST, why);
}

static void br_job_ready(struct browser *b)
{
	if (!b->jobs)
		b->jobs = bj_create(b->loop, br_job_lost, b);
	b->state = BR_READY;
	b->failures = 0;
	sc_log(SC_LOG_INFO, BR_LOG, "browser ready: a session per job (start "
	       "#%d, %lld ms)", b->starts,
	       (long long)(sc_now_ms() - b->started_at));
	br_tell(b, BROWSER_EV_READY, NULL);
	br_job_serve(b);
}

static void br_start_done(void *arg)
{
	struct br_start *s = arg;
	struct browser *b = s->b;
	if (b->destroying) { /* browser_destroy ran meanwhile: finish it */
		cdp_process_free(&s->proc);
		free(s->ws_url);
		free(s);
		b->state = BR_DOWN;
		if (!b->mem_reading) /* else br_mem_done frees b */
			br_free(b);
		return;
	}
	b->proc = s->proc;
	b->per_job = s->per_job && s->ws_url;
	if (!s->ws_url) {
		br_failed(b, s->err[0] ? s->err : "browser start failed");
	} else if (b->per_job) {
		free(b->job_url);
		b->job_url = s->ws_url;
		s->ws_url = NULL;
		br_job_ready(b);
	} else {
		struct cdp_conn_cbs cbs = {br_on_open, br_on_close, b};
		b->state = BR_CONNECTING;
		br_tell(b, BROWSER_EV_CONNECTING, NULL);
		if (cdp_conn_open(loop_ctx(b->loop), s->ws_url, NULL, &cbs,
				  &b->conn))
			br_failed(b, "cannot open a WebSocket to the browser");
		else if (b->o.cdp_log)
			cdp_conn_set_tap(b->conn, cdp_log_tap, b->o.cdp_log);
	}
	free(s->ws_url);
	free(s);
}

static void br_retry_fire(void *arg)
{
	struct browser *b = arg;
	b->retry = NULL;
	br_start(b);
}

static void br_start(struct browser *b)
{
	if (b->state != BR_DOWN || b->retry)
		return;
	if (b->failures) {
		int64_t delay = 500LL << (b->failures > 5 ? 5 : b->failures - 1);
		if (delay > 10000)
			delay = 10000;
		b->failures = 0; /* counted again if this start fails */
		b->retry = loop_timer(b->loop, delay, br_retry_fire, b);
		return;
	}
	b->state = BR_STARTING;
	b->starts++;
	b->started_at = sc_now_ms();
	struct br_start *s = sc_xcalloc(1, sizeof(*s));
	s->b = b;
	br_tell(b, BROWSER_EV_STARTING, NULL);
	loop_work(b->loop, br_start_work, br_start_done, s);
}

void browser_watch(struct browser *b, browser_watch_cb cb, void *ud)
{
	b->watch = cb;
	b->watch_ud = ud;
}

void browser_connect(struct browser *b)
{
	if (b->state != BR_DOWN)
		return;
	loop_timer_cancel(&b->retry);
	b->failures = 0;
	br_start(b);
}

int browser_alive(struct browser *b)
{
	return b->state == BR_READY && (b->per_job || cdp_conn_is_open(b->conn));
}

int browser_per_job(const struct browser *b)
{
	return b->per_job;
}

const char *browser_state_name(const struct browser *b)
{
	static const char *const names[] = {
		[BR_DOWN] = "down", [BR_STARTING] = "starting",
		[BR_CONNECTING] = "connecting", [BR_READY] = "ready"};
	return names[b->state];
}

const char *browser_endpoint(const struct browser *b)
{
	return b->o.endpoint && strcmp(b->o.endpoint, "auto") ? b->o.endpoint
							       : NULL;
}

/* ",session=job" or ",session=shared" on the endpoint: taken off it. */
static enum br_session br_session_opt(char *ep)
{
	char *p = ep ? strstr(ep, ",session=") : NULL;
	if (!p)
		return BR_SESSION_AUTO;
	enum br_session s = !strncmp(p + 9, "job", 3) ? BR_SESSION_JOB
			  : !strncmp(p + 9, "shared", 6) ? BR_SESSION_SHARED
							  : BR_SESSION_AUTO;
	char *end = strchr(p + 1, ',');
	if (end)
		memmove(p, end, strlen(end) + 1);
	else
		*p = 0;
	return s;
}

sc_result browser_create(struct loop *l, const struct browser_opts *o,
			 struct browser **out)
{
	struct browser *b = sc_xcalloc(1, sizeof(*b));
	b->loop = l;
	b->o = *o;
	b->o.endpoint = b->endpoint = sc_xstrdup(o->endpoint);
	b->session = br_session_opt(b->endpoint);
	b->o.chromium = b->chromium = sc_xstrdup(o->chromium);
	size_t n = 0;
	while (o->extra_args && o->extra_args[n])
		n++;
	b->args = sc_xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		b->args[i] = sc_xstrdup(o->extra_args[i]);
	if (testhooks_resolver_rules()) /* a test build's test names */
		b->args[n] = sc_xasprintf("--host-resolver-rules=%s",
					  testhooks_resolver_rules());
	b->o.extra_args = NULL;
	*out = b;
	return SC_OK;
}

static void br_ready_later(void *arg);

void browser_acquire(struct browser *b, browser_cb cb, void *ud)
{
	struct br_waiter *w = sc_xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->ud = ud;
	struct br_waiter **pp = &b->waiters;
	while (*pp)
		pp = &(*pp)->next;
	*pp = w;
	if (b->recycling) {
		return; /* served by the next browser, after br_on_close */
	} else if (b->state == BR_READY) {
		if (!b->ready_timer) /* never call back synchronously */
			b->ready_timer = loop_timer(b->loop, 0, br_ready_later, b);
	} else
		br_start(b);
}

static void br_ready_later(void *arg)
{
	struct browser *b = arg;
	b->ready_timer = NULL;
	if (b->state == BR_READY && b->per_job)
		br_job_serve(b);
	else if (b->state == BR_READY)
		br_call_waiters(b, b->conn, NULL);
}

void browser_forget(struct browser *b, void *ud)
{
	if (b->jobs)
		bj_forget(b->jobs, ud);
	struct br_waiter **pp = &b->waiters;
	while (*pp) {
		struct br_waiter *w = *pp;
		if (w->ud == ud) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

struct cdp_conn *browser_conn(struct browser *b)
{
	return b->state == BR_READY ? b->conn : NULL;
}

int browser_starts(const struct browser *b) { return b->starts; }

int browser_pid(const struct browser *b)
{
	return b->proc ? (int)cdp_process_pid(b->proc) : 0;
}

void browser_kill(struct browser *b)
{
	if (b->proc)
		cdp_process_kill(b->proc);
}

void browser_destroy(struct browser **pb)
{
	struct browser *b = pb ? *pb : NULL;
	if (!b)
		return;
	*pb = NULL;
	while (b->waiters) {
		struct br_waiter *w = b->waiters;
		b->waiters = w->next;
		free(w);
	}
	loop_timer_cancel(&b->retry);
	loop_timer_cancel(&b->ready_timer);
	br_ping_stop(b);
	bj_destroy(&b->jobs);
	cdp_conn_close(&b->conn);
	cdp_process_free(&b->proc);
	if (b->state == BR_STARTING || b->mem_reading) {
		/* a worker is launching or reading its memory: br_start_done
		 * or br_mem_done, the last of them, frees it all (at the
		 * latest when loop_destroy drains the pool) */
		b->destroying = 1;
		return;
	}
	br_free(b);
}

static void br_free(struct browser *b)
{
	for (size_t i = 0; b->args[i]; i++)
		free(b->args[i]);
	free(b->args);
	free(b->endpoint);
	free(b->chromium);
	free(b->job_url);
	free(b);
}
