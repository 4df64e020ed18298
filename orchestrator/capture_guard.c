/*
 * capture_guard.c — the SSRF guard inside Chromium: with block_private,
 * every request of the page (the navigation, each redirect hop, every
 * sub-resource) pauses in the Fetch domain until its host is judged:
 *
 *   Fetch.requestPaused -> URL's host: IP literal -> url_ip_private_reason
 *                       -> name: cached verdict, or worker getaddrinfo
 *                          (every address must be public)
 *   -> Fetch.continueRequest, or Fetch.failRequest BlockedByClient
 *      (a blocked navigation ends the job with class "blocked"; blocked
 *      sub-resources are counted on the result)
 *
 * The same pause adds the job's extra headers to requests for the page's
 * origin (cap_fetch_headers); a job with headers and no guard has the
 * Fetch domain on for that alone (capture_emulate.c) and every request
 * continues at once.
 *
 * DESIGN
 * Resolution runs on a worker. The job may end while a lookup is out, so
 * lookups hold the guard (refcounted), not the job: guard->c is NULL once
 * the job is gone, and the last reference frees it.
 * Limit: Chromium resolves the name again itself; a DNS answer that
 * changes between our lookup and Chromium's (DNS rebinding) is not caught.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture_int.h"
#include "url.h"

#define GUARD_CACHE 32

struct cap_guard {
	struct capture *c; /* NULL once the job ended */
	int refs;
	struct {
		char host[256];
		const char *why; /* NULL: public */
	} cache[GUARD_CACHE];
	unsigned ncache;
};

struct guard_lookup {
	struct cap_guard *g;
	char host[256], request_id[128], url[512];
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

static void guard_noop(void *owner, const struct cdp_reply *r) {}

/* Continue the request (with headers, taken, if any) or fail it. */
static void guard_answer(struct capture *c, const char *request_id,
			 const char *url, const char *why, cJSON *headers)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "requestId", request_id);
	if (!why) {
		if (headers)
			cJSON_AddItemToObject(p, "headers", headers);
		(void)!cdp_call(c->conn, c->session, "Fetch.continueRequest", p,
				10000, guard_noop, NULL);
		return;
	}
	cJSON_Delete(headers);
	cJSON_AddStringToObject(p, "errorReason", "BlockedByClient");
	(void)!cdp_call(c->conn, c->session, "Fetch.failRequest", p, 10000,
			guard_noop, NULL);
	if (c->res->blocked++ == 0)
		snprintf(c->res->blocked_first, sizeof(c->res->blocked_first),
			 "%s (%s)", url, why);
	sc_log(SC_LOG_INFO, "guard", "%s: blocked %s: %s", c->res->url, url, why);
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
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	if (getaddrinfo(l->host, NULL, &hints, &res))
		return; /* unresolvable: Chromium fails it with a DNS error */
	for (struct addrinfo *ai = res; ai && !l->why; ai = ai->ai_next)
		if (url_addr_is_private(ai->ai_addr))
			l->why = "the name resolves to a private or local address";
	freeaddrinfo(res);
}

static void guard_resolve_done(void *arg)
{
	struct guard_lookup *l = arg;
	struct cap_guard *g = l->g;
	if (g->c) {
		guard_remember(g, l->host, l->why);
		guard_answer(g->c, l->request_id, l->url, l->why, l->headers);
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

/* A host name: its cached verdict, else a lookup on a worker. */
static void guard_host(struct capture *c, const char *rid, const char *url,
		       const char *host, cJSON *headers)
{
	int hit;
	const char *why = guard_cached(c->guard, host, &hit);
	if (hit) {
		guard_answer(c, rid, url, why, headers);
		return;
	}
	struct guard_lookup *l = sc_xcalloc(1, sizeof(*l));
	l->g = c->guard;
	l->g->refs++;
	l->headers = headers;
	snprintf(l->host, sizeof(l->host), "%s", host);
	snprintf(l->request_id, sizeof(l->request_id), "%s", rid);
	snprintf(l->url, sizeof(l->url), "%s", url);
	loop_work(c->loop, guard_resolve_work, guard_resolve_done, l);
}

/* Fetch.requestPaused */
void cap_guard_event(struct capture *c, const cJSON *p)
{
	const cJSON *rid = cJSON_GetObjectItem(p, "requestId");
	const cJSON *req = cJSON_GetObjectItem(p, "request");
	const cJSON *url = cJSON_GetObjectItem(req, "url");
	if (!cJSON_IsString(rid) || !cJSON_IsString(url))
		return;
	static __thread struct url_parts parts; /* 8.5 KiB, off the stack */
	char origin[300];
	if (url_split(url->valuestring, &parts)) { /* data:, blob:, ... */
		guard_answer(c, rid->valuestring, url->valuestring, NULL, NULL);
		return;
	}
	cap_origin_key(&parts, origin, sizeof(origin));
	cJSON *headers = cap_fetch_headers(c, req, origin);
	if (!c->guard) /* on for the headers only */
		guard_answer(c, rid->valuestring, url->valuestring, NULL, headers);
	else if (parts.ip)
		guard_answer(c, rid->valuestring, url->valuestring,
			     url_ip_private_reason(&parts.addr), headers);
	else
		guard_host(c, rid->valuestring, url->valuestring, parts.host,
			   headers);
}
