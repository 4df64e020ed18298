/*
 * pool.c — endpoint selection and health for `snapcat serve` (see pool.h).
 *
 *   pool_acquire -> pool_dispatch -> pool_pick -> browser_acquire
 *     -> pool_on_conn: conn -> the job's cb; none -> back to the pool queue
 *   browser events -> pool_on_event -> healthy / unhealthy + probe timer
 *     -> pool_probe -> browser_connect -> READY -> pool_dispatch + on_room
 */
#include "pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browser.h"
#include "loop.h"

#define POOL_LOG "pool"
#define POOL_RETRY_MS 1000       /* first back-off after a failed start */
#define POOL_RETRY_MAX_MS 60000  /* default ceiling */

/* An endpoint's status as GET /api/browsers shows it; copied under the
 * pool's lock for readers on other threads. */
struct pool_pub {
	char state[16];
	int healthy, running, max, jobs, starts, failures, losses;
	char error[256];
	int64_t error_at, retry_at; /* wall clock ms; 0: none */
};

/* One endpoint; lives as long as the pool. */
struct pool_ep {
	struct pool *p;
	struct browser *b;
	int index, max, running;
	int healthy;  /* in the rotation */
	int fails;    /* failed starts in a row: the back-off */
	int failures, losses;
	int jobs;     /* jobs that got a connection here */
	char kind[8], shown[256]; /* "local"/"remote"; endpoint, no secrets */
	char error[256];
	int64_t error_at, retry_at;
	struct loop_timer *probe;
	struct pool_pub pub; /* under p->lock */
};

/* A job's request; ep is NULL while it waits in the pool. */
struct pool_req {
	struct pool_req *next;
	struct pool_ep *ep;
	pool_cb cb;
	void *ud;
	int delivered; /* cb ran: the job holds the browser */
	struct cdp_conn *conn; /* the one it was given */
};

struct pool {
	struct loop *loop;
	struct pool_opts o;
	struct pool_ep *eps;
	int n;
	struct pool_req *reqs; /* in arrival order */
	pthread_mutex_t lock;  /* eps[].pub */
};

static void pool_publish(struct pool_ep *e)
{
	struct pool_pub x = {.healthy = e->healthy, .running = e->running,
			     .max = e->max, .jobs = e->jobs, .starts = browser_starts(e->b),
			     .failures = e->failures, .losses = e->losses,
			     .error_at = e->error_at, .retry_at = e->retry_at};
	snprintf(x.state, sizeof(x.state), "%s", browser_state_name(e->b));
	snprintf(x.error, sizeof(x.error), "%s", e->error);
	pthread_mutex_lock(&e->p->lock);
	e->pub = x;
	pthread_mutex_unlock(&e->p->lock);
}

/* The endpoint without "user:pass@" and without its query (tokens). */
static void pool_shown(const char *ep, char *out, size_t len)
{
	const char *scheme = strstr(ep, "://");
	const char *host = scheme ? scheme + 3 : ep;
	size_t auth = strcspn(host, "@/?#");
	if (host[auth] == '@')
		snprintf(out, len, "%.*s%s", (int)(host - ep), ep, host + auth + 1);
	else
		snprintf(out, len, "%s", ep);
	char *q = strpbrk(out, "?#");
	if (q && (size_t)(q - out) + 4 < len)
		memcpy(q, "?…", sizeof("?…"));
}

/* ---- requests ---- */

/* The healthy endpoint with room whose running/max is lowest (ties: fewer
 * running, then the first given). NULL if none. */
static struct pool_ep *pool_pick(struct pool *p)
{
	struct pool_ep *best = NULL;
	for (int i = 0; i < p->n; i++) {
		struct pool_ep *e = &p->eps[i];
		if (!e->healthy || e->running >= e->max)
			continue;
		long l = (long)e->running * (best ? best->max : 1);
		long r = best ? (long)best->running * e->max : 0;
		if (!best || l < r || (l == r && e->running < best->running))
			best = e;
	}
	return best;
}

static void pool_on_conn(void *ud, struct cdp_conn *conn, const char *err);

/* Give waiting requests to endpoints with room, oldest first. */
static void pool_dispatch(struct pool *p)
{
	for (struct pool_req *r = p->reqs; r; r = r->next) {
		if (r->ep)
			continue;
		struct pool_ep *e = pool_pick(p);
		if (!e)
			return;
		r->ep = e;
		e->running++;
		pool_publish(e);
		browser_acquire(e->b, pool_on_conn, r);
	}
}

static void pool_on_conn(void *ud, struct cdp_conn *conn, const char *err)
{
	struct pool_req *r = ud;
	struct pool_ep *e = r->ep;
	if (conn) {
		r->delivered = 1;
		r->conn = conn;
		e->jobs++;
		pool_publish(e);
		r->cb(r->ud, e->b, conn);
		return;
	}
	/* the endpoint failed before the job had it: it waits for another */
	sc_log(SC_LOG_INFO, POOL_LOG, "browser %d (%s) failed before the job "
	       "started (%s): it waits for another", e->index, e->shown,
	       err ? err : "?");
	e->running--;
	r->ep = NULL;
	pool_publish(e);
	pool_dispatch(e->p);
}

void pool_acquire(struct pool *p, pool_cb cb, void *ud)
{
	struct pool_req *r = sc_xcalloc(1, sizeof(*r));
	r->cb = cb;
	r->ud = ud;
	struct pool_req **pp = &p->reqs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
	pool_dispatch(p);
}

void pool_done(struct pool *p, void *ud)
{
	struct pool_req **pp = &p->reqs, *r;
	while ((r = *pp) && r->ud != ud)
		pp = &r->next;
	if (!r)
		return;
	*pp = r->next;
	struct pool_ep *e = r->ep;
	if (e) {
		if (r->delivered)
			browser_release(e->b, r->conn);
		else
			browser_forget(e->b, r);
		e->running--;
		pool_publish(e);
	}
	free(r);
	pool_dispatch(p);
}

int pool_room(struct pool *p)
{
	int room = 0;
	for (int i = 0; i < p->n; i++)
		if (p->eps[i].healthy && p->eps[i].running < p->eps[i].max)
			room += p->eps[i].max - p->eps[i].running;
	for (struct pool_req *r = p->reqs; r; r = r->next)
		room -= !r->ep;
	return room;
}

/* ---- health ---- */

static void pool_probe(void *arg)
{
	struct pool_ep *e = arg;
	e->probe = NULL;
	e->retry_at = 0;
	browser_connect(e->b);
	pool_publish(e);
}

static void pool_probe_in(struct pool_ep *e, int64_t ms)
{
	loop_timer_cancel(&e->probe);
	e->retry_at = sc_wall_ms() + ms;
	e->probe = loop_timer(e->p->loop, ms, pool_probe, e);
}

/* Out of the rotation, with why; probed again after ms. */
static void pool_unhealthy(struct pool_ep *e, const char *why, int64_t ms)
{
	if (e->healthy)
		sc_log(SC_LOG_WARN, POOL_LOG, "browser %d (%s) unhealthy: %s",
		       e->index, e->shown, why ? why : "?");
	e->healthy = 0;
	snprintf(e->error, sizeof(e->error), "%s", why ? why : "unknown");
	e->error_at = sc_wall_ms();
	pool_probe_in(e, ms);
}

static void pool_ready(struct pool_ep *e)
{
	struct pool *p = e->p;
	if (!e->healthy)
		sc_log(SC_LOG_INFO, POOL_LOG, "browser %d (%s) healthy (start "
		       "#%d)", e->index, e->shown, browser_starts(e->b));
	e->healthy = 1;
	e->fails = 0;
	loop_timer_cancel(&e->probe);
	e->retry_at = 0;
	pool_publish(e);
	pool_dispatch(p);
	if (p->o.on_room)
		p->o.on_room(p->o.ud);
}

static void pool_on_event(void *ud, struct browser *b, enum browser_event ev,
			  const char *why)
{
	struct pool_ep *e = ud;
	(void)b;
	int64_t max = e->p->o.retry_max_ms;
	switch (ev) {
	case BROWSER_EV_READY:
		pool_ready(e);
		return;
	case BROWSER_EV_FAILED: {
		int sh = e->fails < 16 ? e->fails : 16;
		int64_t ms = (int64_t)POOL_RETRY_MS << sh;
		e->fails++;
		e->failures++;
		pool_unhealthy(e, why, ms < max ? ms : max);
		break;
	}
	case BROWSER_EV_LOST: /* try again at once: a local one relaunches */
		e->losses++;
		pool_unhealthy(e, why, 0);
		break;
	case BROWSER_EV_RECYCLED: /* stays in the rotation */
		pool_probe_in(e, 0);
		break;
	default:
		break;
	}
	pool_publish(e);
}

/* ---- life ---- */

static void pool_ep_init(struct pool *p, struct pool_ep *e, int i,
			 struct browser *b, int max)
{
	const char *ep = browser_endpoint(b);
	e->p = p;
	e->b = b;
	e->index = i;
	e->max = max > 0 ? max : p->o.concurrency;
	snprintf(e->kind, sizeof(e->kind), "%s", ep ? "remote" : "local");
	if (ep)
		pool_shown(ep, e->shown, sizeof(e->shown));
	else
		snprintf(e->shown, sizeof(e->shown), "local");
	browser_watch(b, pool_on_event, e);
	pool_publish(e);
}

sc_result pool_create(struct loop *l, struct browser *const *b, int n,
		      const struct pool_opts *o, struct pool **out)
{
	struct pool *p = sc_xcalloc(1, sizeof(*p));
	p->loop = l;
	p->o = *o;
	p->o.max = NULL; /* the caller's array is not kept */
	if (p->o.concurrency <= 0)
		p->o.concurrency = 2;
	if (p->o.retry_max_ms <= 0)
		p->o.retry_max_ms = POOL_RETRY_MAX_MS;
	pthread_mutex_init(&p->lock, NULL);
	p->n = n;
	p->eps = sc_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*p->eps));
	for (int i = 0; i < n; i++)
		pool_ep_init(p, &p->eps[i], i, b[i], o->max ? o->max[i] : 0);
	*out = p;
	return SC_OK;
}

void pool_start(struct pool *p)
{
	for (int i = 0; i < p->n; i++) {
		browser_connect(p->eps[i].b);
		pool_publish(&p->eps[i]);
	}
}

static void pool_add_time(cJSON *o, const char *k, int64_t ms)
{
	char ts[40];
	if (!ms) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	sc_iso8601(ms, ts, sizeof(ts));
	cJSON_AddStringToObject(o, k, ts);
}

static cJSON *pool_ep_json(const struct pool_ep *e, const struct pool_pub *x)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "index", e->index);
	cJSON_AddStringToObject(o, "kind", e->kind);
	cJSON_AddStringToObject(o, "endpoint", e->shown);
	cJSON_AddStringToObject(o, "state", x->state);
	cJSON_AddBoolToObject(o, "healthy", x->healthy);
	cJSON_AddNumberToObject(o, "running", x->running);
	cJSON_AddNumberToObject(o, "max", x->max);
	cJSON_AddNumberToObject(o, "jobs", x->jobs);
	cJSON_AddNumberToObject(o, "starts", x->starts);
	cJSON_AddNumberToObject(o, "failures", x->failures);
	cJSON_AddNumberToObject(o, "losses", x->losses);
	if (x->error[0])
		cJSON_AddStringToObject(o, "last_error", x->error);
	else
		cJSON_AddNullToObject(o, "last_error");
	pool_add_time(o, "last_error_at", x->error_at);
	pool_add_time(o, "next_retry_at", x->healthy ? 0 : x->retry_at);
	return o;
}

/* "no healthy browser; browser 0 (ws://...): refused; ..." or "". */
static void pool_reason(struct pool *p, const struct pool_pub *x, int healthy,
			char *out, size_t len)
{
	size_t off = 0;
	out[0] = 0;
	if (!healthy && p->n)
		off = (size_t)snprintf(out, len, "no healthy browser");
	for (int i = 0; i < p->n && off < len - 1; i++) {
		if (x[i].healthy)
			continue;
		int w = snprintf(out + off, len - off, "%sbrowser %d (%s): %s",
				 off ? "; " : "", i, p->eps[i].shown,
				 x[i].error[0] ? x[i].error : x[i].state);
		off += w > 0 ? (size_t)w : 0;
	}
}

cJSON *pool_status_json(struct pool *p, int with_items)
{
	struct pool_pub *x = sc_xcalloc((size_t)p->n + 1, sizeof(*x));
	int healthy = 0, running = 0;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->n; i++)
		x[i] = p->eps[i].pub;
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n; i++) {
		healthy += x[i].healthy;
		running += x[i].running;
	}
	char reason[1024];
	pool_reason(p, x, healthy, reason, sizeof(reason));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", healthy < p->n ? "degraded" : "ok");
	if (reason[0])
		cJSON_AddStringToObject(o, "reason", reason);
	else
		cJSON_AddNullToObject(o, "reason");
	cJSON_AddNumberToObject(o, "total", p->n);
	cJSON_AddNumberToObject(o, "healthy", healthy);
	cJSON_AddNumberToObject(o, "running", running);
	cJSON *a = with_items ? cJSON_AddArrayToObject(o, "items") : NULL;
	for (int i = 0; a && i < p->n; i++)
		cJSON_AddItemToArray(a, pool_ep_json(&p->eps[i], &x[i]));
	free(x);
	return o;
}

void pool_destroy(struct pool **pp)
{
	struct pool *p = pp ? *pp : NULL;
	if (!p)
		return;
	*pp = NULL;
	while (p->reqs) {
		struct pool_req *r = p->reqs;
		p->reqs = r->next;
		if (r->ep && !r->delivered)
			browser_forget(r->ep->b, r);
		free(r);
	}
	for (int i = 0; i < p->n; i++) {
		loop_timer_cancel(&p->eps[i].probe);
		browser_watch(p->eps[i].b, NULL, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	free(p->eps);
	free(p);
}
