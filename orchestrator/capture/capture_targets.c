/*
 * capture_targets.c — the targets below the page: out-of-process iframes
 * and dedicated workers (and theirs, recursively) have their own DevTools
 * sessions; the page's Fetch and Network domains do not see their
 * requests, nor does the page's readiness probe see their timers. Each is
 * auto-attached paused, so that the guard, the request tracking and the
 * probe are on before its first request:
 *
 *   page session: Target.setAutoAttach {autoAttach, waitForDebuggerOnStart,
 *                                       flatten}           (cap_setup)
 *   Target.attachedToTarget {sessionId} on a parent's session
 *     -> on the child's session, pipelined and in this order:
 *        Network.enable; for an iframe Page.enable and the readiness probe
 *        (ready.js, and its session is kept for capture_ready.c); with the
 *        guard or extra headers Fetch.enable (all URLs);
 *        Target.setAutoAttach (its children); Runtime.runIfWaitingForDebugger
 *     -> its events: Fetch.requestPaused -> cap_guard_event (answered on
 *        the child's session); Target.attachedToTarget -> the same again
 *
 * Service and shared workers are not children of the page; their
 * connections go through the job's egress proxy like everything else in
 * its browser context (capture_guard.c), they are just not counted per URL.
 *
 * DESIGN
 * A child's commands are fire and forget (owned by the job, so forgotten
 * with it): a child that refuses one (a worker without a Fetch domain) is
 * still resumed, because Runtime.runIfWaitingForDebugger is sent whatever
 * the others answer — a paused iframe would hold the page's load event
 * until the job's deadline. Listeners of child sessions are dropped with
 * the job's (cdp_forget).
 */
#include <string.h>

#include "capture_int.h"

#define TARGETS_MAX 64 /* children attached per job; more run unguarded
			  by Fetch (the egress proxy still guards them) */

static void targets_noop(void *owner, const struct cdp_reply *r) {}

cJSON *cap_auto_attach_params(void)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "autoAttach", 1);
	cJSON_AddBoolToObject(p, "waitForDebuggerOnStart", 1);
	cJSON_AddBoolToObject(p, "flatten", 1);
	return p;
}

static void targets_send(struct capture *c, const char *session,
			 const char *method, cJSON *params)
{
	(void)!cdp_call(c->conn, session, method, params, cap_left_ms(c) + 2000,
			targets_noop, c);
}

static void targets_on_child_event(void *owner, const char *session,
				   const char *method, const cJSON *params)
{
	struct capture *c = owner;
	if (!strcmp(method, "Fetch.requestPaused"))
		cap_guard_event(c, session, params);
	else if (!strncmp(method, "Network.", 8))
		cap_network_event(c, method, params);
	else if (!strcmp(method, "Target.attachedToTarget"))
		cap_target_attached(c, params);
}

/* An iframe runs the readiness probe too, and is asked by readiness. */
static void targets_frame(struct capture *c, const char *sid)
{
	cJSON *script = cJSON_CreateObject();
	cJSON_AddStringToObject(script, "source", capture_ready_js);
	targets_send(c, sid, "Page.enable", NULL);
	targets_send(c, sid, "Page.addScriptToEvaluateOnNewDocument", script);
	if (c->nframes < CAP_FRAMES_MAX)
		c->frames[c->nframes++] = sc_xstrdup(sid);
}

void cap_target_attached(struct capture *c, const cJSON *params)
{
	const cJSON *s = cJSON_GetObjectItem(params, "sessionId");
	const cJSON *w = cJSON_GetObjectItem(params, "waitingForDebugger");
	const cJSON *type = cJSON_GetObjectItem(
		cJSON_GetObjectItem(params, "targetInfo"), "type");
	if (!cJSON_IsString(s))
		return;
	const char *sid = s->valuestring;
	if (c->nchildren++ < TARGETS_MAX) {
		cdp_on(c->conn, sid, NULL, targets_on_child_event, c);
		/* a cross-process iframe's own requests end on its session */
		targets_send(c, sid, "Network.enable", NULL);
		if (cJSON_IsString(type) && !strcmp(type->valuestring, "iframe"))
			targets_frame(c, sid);
		if (c->guard || c->o.headers)
			targets_send(c, sid, "Fetch.enable", cJSON_Parse(
				"{\"patterns\":[{\"urlPattern\":\"*\"}]}"));
		targets_send(c, sid, "Target.setAutoAttach",
			     cap_auto_attach_params());
	}
	if (cJSON_IsTrue(w) || !cJSON_IsBool(w))
		targets_send(c, sid, "Runtime.runIfWaitingForDebugger", NULL);
}
