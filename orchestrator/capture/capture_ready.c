/*
 * capture_ready.c — from the load event to "ready to capture": the page has
 * what it is waiting for, not "the page stopped moving".
 *
 *   load -> round 0: __snapcatSettle({scroll, perpetual, waitFor}) in the
 *           page and in every out-of-process iframe, at once (ready.js:
 *           fonts, lazy media, scroll pass, images, one-shot timers,
 *           finite animations, the selector, two frames; timer chains
 *           judged perpetual are not waited for)
 *        -> network quiet: no request in flight for QUIET_MS (requests
 *           that never end — streams, media loops, EventSources, beacons,
 *           polling — are not waited for: capture_net.c)
 *        -> did the round start new requests (lazy images, fetches)?
 *             yes: another round without scrolling; no: ready
 *   The settle budget (opts.settle_ms) caps it all: when it runs out the
 *   capture goes ahead and says why in settle_note, which also names the
 *   activity judged perpetual.
 *
 * DESIGN
 * Requests are tracked from the Network events of the job's session and
 * of its children (capture_net.c). Blink's own networkIdle needs 500 ms of
 * silence; counting requests ourselves lets us wait QUIET_MS instead. A
 * child frame's probe that fails (the frame went away) never fails the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

#define QUIET_MS 100
#define MAX_ROUNDS 4

static void ready_round(struct capture *c);

static void ready_done(struct capture *c, const char *note)
{
	loop_timer_cancel(&c->timer);
	if (note)
		cap_ready_note(c, note);
	cap_next(c);
}

static int64_t ready_left(const struct capture *c)
{
	return c->settle_deadline - sc_now_ms();
}

void cap_ready_note(struct capture *c, const char *what)
{
	char *n = c->res->settle_note;
	size_t len = strlen(n), cap = sizeof(c->res->settle_note);
	if (strstr(n, what) || len + 3 >= cap)
		return;
	snprintf(n + len, cap - len, "%s%s", len ? "; " : "", what);
}

void cap_ready_note_perpetual(struct capture *c, const char *what)
{
	char note[240];
	snprintf(note, sizeof(note), "not waited for (perpetual): %s", what);
	cap_ready_note(c, note);
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
	int64_t stream = cap_net_streams(c);
	if (c->ninflight) {
		/* woken by loadingFinished, or when a stream may be judged */
		int64_t wait = ready_left(c);
		int judge = stream >= 0 && stream < wait;
		c->timer = loop_timer(c->loop, judge ? stream : wait,
				      judge ? ready_on_quiet : ready_on_budget, c);
		return;
	}
	int64_t quiet_for = sc_now_ms() - c->net_quiet_since;
	if (quiet_for < QUIET_MS) {
		c->timer = loop_timer(c->loop, QUIET_MS - quiet_for,
				      ready_on_quiet, c);
		return;
	}
	if (c->net_started != c->net_seen && c->settle_round < MAX_ROUNDS) {
		/* requests started or ended meanwhile: their content (or the
		 * timers their answers armed) must settle too */
		ready_round(c);
		return;
	}
	ready_done(c, c->net_started != c->net_seen
			      ? "page kept starting requests; captured anyway"
			      : NULL);
}

void cap_net_event(struct capture *c, const char *method, const cJSON *p)
{
	size_t before = c->ninflight;
	if (!cap_net_update(c, method, p))
		return;
	c->net_quiet_since = sc_now_ms();
	/* waiting on the network (not inside the probe): re-check */
	if (cap_in_step(c, CAP_S_SETTLE) && c->waiting == 0 && c->timer &&
	    c->ninflight == 0 && before)
		ready_check_net(c);
}

/* ---- the in-page probe ---- */

/* What a probe said: what it judged perpetual, a selector never found. */
static void ready_read_probe(struct capture *c, const struct cdp_reply *r)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(r->result,
								 "result"),
					     "value");
	const cJSON *it, *wf = cJSON_GetObjectItem(v, "waitFor");
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(v, "perpetual"))
		if (cJSON_IsString(it))
			cap_ready_note_perpetual(c, it->valuestring);
	if (cJSON_IsString(wf) && strcmp(wf->valuestring, "found")) {
		char note[320];
		snprintf(note, sizeof(note), "the selector %s %s", c->o.wait_for,
			 strcmp(wf->valuestring, "bad") ? "never appeared"
							: "is not valid CSS");
		cap_ready_note(c, note);
	}
	if (cJSON_GetObjectItem(r->result, "exceptionDetails"))
		cap_ready_note(c, "readiness probe unavailable in this document");
}

static void ready_probe_back(struct capture *c)
{
	if (--c->waiting == 0)
		ready_check_net(c);
}

static void ready_on_probe(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	ready_read_probe(c, r);
	ready_probe_back(c);
}

/* A child frame's probe: an error (the frame went away) is no failure. */
static void ready_on_child_probe(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (r->rc == SC_OK)
		ready_read_probe(c, r);
	ready_probe_back(c);
}

/* Runtime.evaluate of __snapcatSettle(opts) */
static cJSON *ready_probe_params(struct capture *c, int64_t budget, int scroll)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "budgetMs", (double)(budget > 0 ? budget : 1));
	cJSON_AddBoolToObject(o, "scroll", scroll);
	cJSON_AddBoolToObject(o, "perpetual", !c->o.no_perpetual);
	if (c->o.wait_for)
		cJSON_AddStringToObject(o, "waitFor", c->o.wait_for);
	char *json = cJSON_PrintUnformatted(o);
	char *expr = sc_xasprintf("window.__snapcatSettle ? "
				  "window.__snapcatSettle(%s) : null", json);
	cJSON_Delete(o);
	cJSON_free(json);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "expression", expr);
	cJSON_AddBoolToObject(p, "awaitPromise", 1);
	cJSON_AddBoolToObject(p, "returnByValue", 1);
	free(expr);
	return p;
}

static void ready_round(struct capture *c)
{
	c->net_seen = c->net_started;
	int64_t budget = ready_left(c);
	if (budget > cap_left_ms(c))
		budget = cap_left_ms(c);
	int scroll = c->settle_round++ == 0;
	c->waiting = 1 + (int)c->nframes;
	for (size_t i = 0; i < c->nframes; i++) /* a hung frame: the budget */
		if (cdp_call(c->conn, c->frames[i], "Runtime.evaluate",
			     ready_probe_params(c, budget, 0), budget + 1000,
			     ready_on_child_probe, c))
			c->waiting--;
	cap_call(c, "Runtime.evaluate", ready_probe_params(c, budget, scroll),
		 ready_on_probe);
}

void cap_step_settle(struct capture *c)
{
	c->settle_deadline = sc_now_ms() + c->o.settle_ms;
	c->net_quiet_since = sc_now_ms();
	ready_round(c);
}
