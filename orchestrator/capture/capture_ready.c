/*
 * capture_ready.c — from the load event to "ready to capture".
 *
 *   load -> round 0: __snapcatSettle({scroll:true}) in the page (ready.js:
 *           fonts, lazy media, scroll pass, images, short timers, finite
 *           animations, two frames)
 *        -> network quiet: no request in flight for QUIET_MS
 *        -> did the round start new requests (lazy images, fetches)?
 *             yes: another round without scrolling; no: ready
 *   The settle budget (opts.settle_ms) caps it all: when it runs out the
 *   capture goes ahead and says why in settle_note.
 *
 * DESIGN
 * Requests are tracked from Network.requestWillBeSent / loadingFinished /
 * loadingFailed of the job's session. Blink's own networkIdle needs 500 ms of
 * silence; counting requests ourselves lets us wait QUIET_MS instead. A URL
 * (without its query) fetched POLL_REPEATS times already is polling: its
 * requests no longer hold readiness, so a dashboard that polls every 100 ms is
 * captured as soon as everything else is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

#define QUIET_MS 100
#define MAX_ROUNDS 4
#define POLL_REPEATS 3

static void ready_round(struct capture *c);

static void ready_done(struct capture *c, const char *note)
{
	loop_timer_cancel(&c->timer);
	if (note && !c->res->settle_note[0])
		snprintf(c->res->settle_note, sizeof(c->res->settle_note), "%s",
			 note);
	cap_next(c);
}

static int64_t ready_left(const struct capture *c)
{
	return c->settle_deadline - sc_now_ms();
}

/* ---- network bookkeeping ---- */

static ssize_t net_find(const struct capture *c, const char *id)
{
	for (size_t i = 0; i < c->ninflight; i++)
		if (!strcmp(c->inflight[i], id))
			return (ssize_t)i;
	return -1;
}

/* Count requests per URL-without-query; 1 once it looks like polling. */
static int net_is_polling(struct capture *c, const char *url)
{
	char key[sizeof(c->seen[0].key)];
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(url, "?#"), url);
	size_t n = sizeof(c->seen) / sizeof(c->seen[0]);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c->seen[i].key, key))
			return ++c->seen[i].count > POLL_REPEATS;
	size_t slot = c->seen_next++ % n;
	memcpy(c->seen[slot].key, key, sizeof(key));
	c->seen[slot].count = 1;
	return 0;
}

static void net_add(struct capture *c, const cJSON *p)
{
	const cJSON *id = cJSON_GetObjectItem(p, "requestId");
	const cJSON *type = cJSON_GetObjectItem(p, "type");
	const cJSON *url = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "request"), "url");
	if (!cJSON_IsString(id) || net_find(c, id->valuestring) >= 0)
		return; /* a redirect continues the same request */
	if (cJSON_IsString(type) && !strcmp(type->valuestring, "EventSource"))
		return; /* streams never finish */
	if (cJSON_IsString(url) && net_is_polling(c, url->valuestring))
		return;
	if (c->ninflight == c->inflight_alloc) {
		c->inflight_alloc = c->inflight_alloc ? c->inflight_alloc * 2 : 16;
		c->inflight = sc_xrealloc(c->inflight,
					  c->inflight_alloc * sizeof(char *));
	}
	c->inflight[c->ninflight++] = sc_xstrdup(id->valuestring);
	c->net_started++;
}

static void net_remove(struct capture *c, const cJSON *p)
{
	const cJSON *id = cJSON_GetObjectItem(p, "requestId");
	ssize_t i = cJSON_IsString(id) ? net_find(c, id->valuestring) : -1;
	if (i < 0)
		return;
	free(c->inflight[i]);
	c->inflight[i] = c->inflight[--c->ninflight];
}

/* ---- waiting for the network to be quiet ---- */

static void ready_check_net(struct capture *c);

static void ready_on_quiet(void *arg)
{
	struct capture *c = arg;
	c->timer = NULL;
	ready_check_net(c);
}

static void ready_on_budget(void *arg)
{
	struct capture *c = arg;
	c->timer = NULL;
	char note[160];
	snprintf(note, sizeof(note), "settle budget of %d ms used up with %zu "
		 "request(s) in flight", c->o.settle_ms, c->ninflight);
	ready_done(c, note);
}

/* Quiet for QUIET_MS with nothing in flight ends the round. */
static void ready_check_net(struct capture *c)
{
	loop_timer_cancel(&c->timer);
	if (ready_left(c) <= 0) {
		ready_on_budget(c);
		return;
	}
	if (c->ninflight) {
		/* woken again by loadingFinished; the budget is the limit */
		c->timer = loop_timer(c->loop, ready_left(c), ready_on_budget, c);
		return;
	}
	int64_t quiet_for = sc_now_ms() - c->net_quiet_since;
	if (quiet_for < QUIET_MS) {
		c->timer = loop_timer(c->loop, QUIET_MS - quiet_for,
				      ready_on_quiet, c);
		return;
	}
	if (c->net_started != c->net_seen && c->settle_round < MAX_ROUNDS) {
		ready_round(c); /* new requests came: let their content settle */
		return;
	}
	ready_done(c, c->net_started != c->net_seen
			      ? "page kept starting requests; captured anyway"
			      : NULL);
}

void cap_net_event(struct capture *c, const char *method, const cJSON *p)
{
	size_t before = c->ninflight;
	if (!strcmp(method, "Network.requestWillBeSent"))
		net_add(c, p);
	else if (!strcmp(method, "Network.loadingFinished") ||
		 !strcmp(method, "Network.loadingFailed"))
		net_remove(c, p);
	else
		return;
	if (c->ninflight != before || before)
		c->net_quiet_since = sc_now_ms();
	/* waiting on the network (not inside the probe): re-check */
	if (cap_in_step(c, CAP_S_SETTLE) && c->waiting == 0 && c->timer &&
	    c->ninflight == 0 && before)
		ready_check_net(c);
}

/* ---- the in-page probe ---- */

static void ready_on_probe(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	c->waiting = 0;
	if (!cap_ok(c, r))
		return;
	const cJSON *exc = cJSON_GetObjectItem(r->result, "exceptionDetails");
	if (exc && !c->res->settle_note[0])
		snprintf(c->res->settle_note, sizeof(c->res->settle_note),
			 "readiness probe unavailable in this document");
	ready_check_net(c);
}

static void ready_round(struct capture *c)
{
	c->net_seen = c->net_started;
	int64_t budget = ready_left(c);
	if (budget > cap_left_ms(c))
		budget = cap_left_ms(c);
	char expr[160];
	snprintf(expr, sizeof(expr),
		 "window.__snapcatSettle ? window.__snapcatSettle({budgetMs:%lld,"
		 "scroll:%s}) : null",
		 (long long)(budget > 0 ? budget : 1),
		 c->settle_round == 0 ? "true" : "false");
	c->settle_round++;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "expression", expr);
	cJSON_AddBoolToObject(p, "awaitPromise", 1);
	cJSON_AddBoolToObject(p, "returnByValue", 1);
	c->waiting = 1;
	cap_call(c, "Runtime.evaluate", p, ready_on_probe);
}

void cap_step_settle(struct capture *c)
{
	c->settle_deadline = sc_now_ms() + c->o.settle_ms;
	c->net_quiet_since = sc_now_ms();
	ready_round(c);
}
