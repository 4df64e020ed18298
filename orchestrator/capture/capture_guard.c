/*
 * capture_guard.c — the SSRF guard of a capture (block_private). Two
 * layers, one rule (resolve.h):
 *
 * 1. The egress proxy (egress.h) is the guard: the job's browser context
 *    sends every connection of every target (page, out-of-process iframes,
 *    workers, service workers, WebSockets, preconnects) to the job's own
 *    SOCKS5 port, which refuses local names and private addresses and
 *    connects only to the address it checked (so DNS rebinding cannot
 *    reach a private address):
 *      Target.createBrowserContext {proxyServer: egress port,
 *                                   proxyBypassList: "<-loopback>"}
 *
 * 2. The Fetch domain, on the page's session and on every session
 *    auto-attached below it (capture_targets.c), refuses requests early
 *    and counts them per URL on the result:
 *      Fetch.requestPaused -> URL's host: IP literal or local name
 *                             -> resolve_quick_reason
 *                          -> other names: cached verdict, or resolve_host
 *                             on a worker (every address must be public)
 *      -> Fetch.continueRequest, Fetch.failRequest BlockedByClient (a
 *         blocked navigation ends the job with class "blocked"; blocked
 *         sub-resources are counted), or NameNotResolved for a name that
 *         does not resolve
 *    What only the proxy saw (WebSockets, preconnects, service workers, a
 *    name whose answer changed) is added to the count at the end
 *    (cap_guard_report).
 *
 * The same pause adds the job's extra headers to requests for the page's
 * origin (cap_fetch_headers); a job with headers and no guard has the
 * Fetch domain on for that alone (capture_emulate.c) and every request
 * continues at once.
 *
 * DESIGN
 * Resolution runs on a worker. The job may end while a lookup is out, so
 * lookups hold the guard (refcounted), not the job: guard->c is NULL once
 * the job is gone, and the last reference frees it. A paused request is
 * answered on the session it paused on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"
#include "egress.h"
#include "resolve.h"
#include "url.h"

#define GUARD_CACHE 32
#define GUARD_UNRESOLVED "\001" /* a cached verdict: no address */

struct cap_guard {
	struct capture *c; /* NULL once the job ended */
	int refs;
	struct {
		char host[256];
		const char *why; /* NULL: public */
	} cache[GUARD_CACHE];
	unsigned ncache;
};

/* A paused request. */
struct guard_req {
	char request_id[128], url[512], session[128];
	int main_nav; /* the page's own frame navigating after the job's
			 navigation (a script or a meta refresh) */
};

struct guard_lookup {
	struct cap_guard *g;
	struct guard_req q;
	char host[256];
	const char *why;
	cJSON *headers; /* to continue with (secret), or NULL */
};

static void guard_unref(struct cap_guard *g)
{
	if (--g->refs == 0)
		free(g);
}

void cap_guard_attach(struct capture *c)
{
	c->guard = sc_xcalloc(1, sizeof(*c->guard));
	c->guard->c = c;
	c->guard->refs = 1;
}

void cap_guard_detach(struct capture *c)
{
	if (!c->guard)
		return;
	c->guard->c = NULL;
	guard_unref(c->guard);
	c->guard = NULL;
}

sc_result cap_guard_context(struct capture *c, cJSON *p)
{
	if (!c->o.block_private)
		return SC_OK;
	if (!c->o.egress) {
		sc_log(SC_LOG_ERROR, "guard", "block_private without an egress");
		return SC_ERR_INTERNAL;
	}
	sc_result rc = egress_open(c->o.egress, &c->egress);
	if (rc)
		return rc;
	cJSON_AddStringToObject(p, "proxyServer", egress_port_url(c->egress));
	cJSON_AddStringToObject(p, "proxyBypassList", "<-loopback>");
	return SC_OK;
}

void cap_guard_report(struct capture *c)
{
	char first[320];
	if (!c->egress)
		return;
	unsigned n = egress_port_refused(c->egress, first, sizeof(first));
	if (n && c->res->blocked == 0)
		snprintf(c->res->blocked_first, sizeof(c->res->blocked_first),
			 "connection to %s", first);
	c->res->blocked += (int)n;
}

int cap_guard_nav_error(struct capture *c, const char *error_text,
			enum capture_error *e, char *msg, size_t msglen)
{
	static __thread struct url_parts u; /* 8.5 KiB, off the stack */
	if (!c->egress || (!strstr(error_text, "SOCKS") &&
			   !strstr(error_text, "PROXY") &&
			   !strstr(error_text, "TUNNEL")))
		return 0;
	if (url_split(c->res->url, &u))
		return 0;
	switch (egress_port_outcome(c->egress, u.host, u.port, msg, msglen)) {
	case EGRESS_REFUSED: *e = CAPERR_BLOCKED; return 1;
	case EGRESS_DNS: *e = CAPERR_DNS; return 1;
	case EGRESS_CONNECT: *e = CAPERR_CONNECT; return 1;
	default: return 0;
	}
}

static void guard_noop(void *owner, const struct cdp_reply *r) {}

/* Refuse a paused request: counted as blocked (why), or failed as a name
 * that does not resolve (why NULL). The page navigating itself there ends
 * the job (it would capture Chromium's error page). */
static void guard_fail(struct capture *c, const struct guard_req *q,
		       cJSON *p, const char *why)
{
	cJSON_AddStringToObject(p, "errorReason",
				why ? "BlockedByClient" : "NameNotResolved");
	(void)!cdp_call(c->conn, q->session, "Fetch.failRequest", p, 10000,
			guard_noop, NULL);
	if (why && c->res->blocked++ == 0)
		snprintf(c->res->blocked_first, sizeof(c->res->blocked_first),
			 "%s (%s)", q->url, why);
	if (why)
		sc_log(SC_LOG_INFO, "guard", "%s: blocked %s: %s", c->res->url,
		       q->url, why);
	if (q->main_nav && why)
		cap_fail(c, CAPERR_BLOCKED, "the page navigated to %s, which "
			 "is refused: %s", q->url, why);
	else if (q->main_nav)
		cap_fail(c, CAPERR_DNS, "the page navigated to %s, whose name "
			 "does not resolve", q->url);
}

/* Continue the request (with headers, taken, if any) or fail it. */
static void guard_answer(struct capture *c, const struct guard_req *q,
			 const char *why, cJSON *headers)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "requestId", q->request_id);
	if (!why) {
		if (headers)
			cJSON_AddItemToObject(p, "headers", headers);
		(void)!cdp_call(c->conn, q->session, "Fetch.continueRequest",
				p, 10000, guard_noop, NULL);
		return;
	}
	cJSON_Delete(headers);
	guard_fail(c, q, p, strcmp(why, GUARD_UNRESOLVED) ? why : NULL);
}

static const char *guard_cached(struct cap_guard *g, const char *host, int *hit)
{
	for (unsigned i = 0; i < g->ncache && i < GUARD_CACHE; i++)
		if (!strcmp(g->cache[i].host, host)) {
			*hit = 1;
			return g->cache[i].why;
		}
	*hit = 0;
	return NULL;
}

static void guard_remember(struct cap_guard *g, const char *host,
			   const char *why)
{
	unsigned i = g->ncache++ % GUARD_CACHE;
	snprintf(g->cache[i].host, sizeof(g->cache[i].host), "%s", host);
	g->cache[i].why = why;
}

static void guard_resolve_work(void *arg)
{
	struct guard_lookup *l = arg;
	static __thread struct resolve_result r;
	char err[200];
	if (resolve_host(l->host, 80, &r, err, sizeof(err)))
		l->why = GUARD_UNRESOLVED;
	else if (resolve_private_reason(&r))
		l->why = "the name resolves to a private or local address";
}

static void guard_resolve_done(void *arg)
{
	struct guard_lookup *l = arg;
	struct cap_guard *g = l->g;
	if (g->c) {
		guard_remember(g, l->host, l->why);
		guard_answer(g->c, &l->q, l->why, l->headers);
	} else {
		cJSON_Delete(l->headers);
	}
	guard_unref(g);
	free(l);
}

void cap_origin_key(const struct url_parts *u, char *out, size_t len)
{
	snprintf(out, len, "%s://%s:%d", u->scheme, u->host, u->port);
}

/* A host: judged at once, or its cached verdict, else a lookup on a
 * worker. */
static void guard_host(struct capture *c, const struct guard_req *q,
		       const char *host, cJSON *headers)
{
	int hit, lookup;
	const char *why = resolve_quick_reason(host, &lookup);
	if (!lookup || (why = guard_cached(c->guard, host, &hit), hit)) {
		guard_answer(c, q, why, headers);
		return;
	}
	struct guard_lookup *l = sc_xcalloc(1, sizeof(*l));
	l->g = c->guard;
	l->g->refs++;
	l->headers = headers;
	l->q = *q;
	snprintf(l->host, sizeof(l->host), "%s", host);
	loop_work(c->loop, guard_resolve_work, guard_resolve_done, l);
}

static void guard_req(struct capture *c, const char *session,
		      const cJSON *p, struct guard_req *q)
{
	const cJSON *rid = cJSON_GetObjectItem(p, "requestId");
	const cJSON *url = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "request"),
					       "url");
	const cJSON *type = cJSON_GetObjectItem(p, "resourceType");
	const cJSON *frame = cJSON_GetObjectItem(p, "frameId");
	snprintf(q->request_id, sizeof(q->request_id), "%s", rid->valuestring);
	snprintf(q->url, sizeof(q->url), "%s", url->valuestring);
	snprintf(q->session, sizeof(q->session), "%s", session);
	q->main_nav = c->navigated && c->frame_id && cJSON_IsString(type) &&
		      !strcmp(type->valuestring, "Document") &&
		      cJSON_IsString(frame) &&
		      !strcmp(frame->valuestring, c->frame_id);
}

/* Fetch.requestPaused, on the page's session or a child's */
void cap_guard_event(struct capture *c, const char *session, const cJSON *p)
{
	const cJSON *rid = cJSON_GetObjectItem(p, "requestId");
	const cJSON *req = cJSON_GetObjectItem(p, "request");
	const cJSON *url = cJSON_GetObjectItem(req, "url");
	if (!cJSON_IsString(rid) || !cJSON_IsString(url) || !session)
		return;
	static __thread struct url_parts parts; /* 8.5 KiB, off the stack */
	struct guard_req q;
	char origin[300];
	guard_req(c, session, p, &q);
	if (url_split(url->valuestring, &parts)) { /* data:, blob:, ... */
		guard_answer(c, &q, NULL, NULL);
		return;
	}
	cap_origin_key(&parts, origin, sizeof(origin));
	cJSON *headers = cap_fetch_headers(c, req, origin);
	if (!c->guard) /* on for the headers only */
		guard_answer(c, &q, NULL, headers);
	else
		guard_host(c, &q, parts.host, headers);
}
