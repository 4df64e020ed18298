/*
 * capture.c — a capture job's life: browser context, tab, session set-up,
 * navigation, the load event, failure paths and the end (see capture.h and
 * capture_int.h for the design). Readiness is in capture_ready.c, the
 * screenshot, MHTML and metadata in capture_shot.c, the PDF in capture_pdf.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"
#include "egress.h"

#define CAP_LOG "capture"

static const char *const cap_error_names[] = {
	[CAPERR_NONE] = "",
	[CAPERR_INVALID_URL] = "invalid_url",
	[CAPERR_DNS] = "dns",
	[CAPERR_CONNECT] = "connect",
	[CAPERR_TLS] = "tls",
	[CAPERR_HTTP_STATUS] = "http_status",
	[CAPERR_NAVIGATION] = "navigation",
	[CAPERR_TIMEOUT] = "timeout",
	[CAPERR_BLOCKED] = "blocked",
	[CAPERR_TOO_LARGE] = "too_large",
	[CAPERR_BROWSER_CRASH] = "browser_crash",
	[CAPERR_IO] = "io",
	[CAPERR_CANCELED] = "canceled",
	[CAPERR_INTERNAL] = "internal",
};

const char *capture_error_name(enum capture_error e)
{
	return (unsigned)e <= CAPERR_INTERNAL ? cap_error_names[e] : "internal";
}

/* The one stage table: a stage's name (in events and a job's "stage"), the
 * progress shown when it begins, and the timing it adds to (its key in
 * every timings object; none for queued and done). */
#define CAP_T(f) offsetof(struct capture_timings, f)
static const struct {
	const char *name;
	int percent;
	const char *timing;
	size_t off;
} cap_stages[] = {
	[CAPTURE_QUEUED] = {"queued", 0, NULL, 0},
	[CAPTURE_STARTING] = {"starting", 5, "setup", CAP_T(setup)},
	[CAPTURE_NAVIGATING] = {"navigating", 15, "navigate", CAP_T(navigate)},
	[CAPTURE_LOADING] = {"loading", 25, "load", CAP_T(load)},
	[CAPTURE_SETTLING] = {"settling", 40, "settle", CAP_T(settle)},
	[CAPTURE_SCREENSHOT] = {"screenshot", 55, "screenshot",
				CAP_T(screenshot)},
	[CAPTURE_MHTML] = {"mhtml", 75, "mhtml", CAP_T(mhtml)},
	[CAPTURE_PDF] = {"pdf", 80, "pdf", CAP_T(pdf)},
	[CAPTURE_METADATA] = {"metadata", 85, "metadata", CAP_T(meta)},
	[CAPTURE_WRITING] = {"writing", 90, "write", CAP_T(write)},
	[CAPTURE_DONE] = {"done", 100, NULL, 0},
};

const char *const capture_timing_keys[] = {
	"setup", "navigate", "load", "settle", "screenshot", "mhtml", "pdf",
	"metadata", "write", "version", "total", NULL};

void capture_timings_json(cJSON *o, const struct capture_timings *t,
			  int64_t version_ms)
{
	for (int s = CAPTURE_STARTING; s < CAPTURE_DONE; s++)
		cJSON_AddNumberToObject(o, cap_stages[s].timing, (double)*(
			const int64_t *)((const char *)t + cap_stages[s].off));
	if (version_ms >= 0)
		cJSON_AddNumberToObject(o, "version", (double)version_ms);
	cJSON_AddNumberToObject(o, "total", (double)(t->total + t->write +
						     (version_ms > 0 ? version_ms
								     : 0)));
}

const char *capture_stage_name(enum capture_stage s)
{
	return (unsigned)s <= CAPTURE_DONE ? cap_stages[s].name : "unknown";
}

int capture_stage_percent(enum capture_stage s)
{
	return (unsigned)s <= CAPTURE_DONE ? cap_stages[s].percent : 0;
}

void capture_opts_defaults(struct capture_opts *o)
{
	if (o->width <= 0)
		o->width = 1280;
	if (o->height <= 0)
		o->height = 800;
	if (!(o->scale > 0))
		o->scale = 1;
	if (o->timeout_ms <= 0)
		o->timeout_ms = 60000;
	if (o->settle_ms <= 0)
		o->settle_ms = 10000;
	if (o->max_height <= 0)
		o->max_height = 200000;
	if (o->tile_px < 0)
		o->tile_px = 0;
	if (!o->shot_px)
		o->shot_px = CAPTURE_SHOT_PX;
	if (!o->max_file)
		o->max_file = (uint64_t)1 << 30;
	if (!o->text_cap)
		o->text_cap = 256 * 1024;
}

void capture_result_free(struct capture_result **pr)
{
	struct capture_result *r = pr ? *pr : NULL;
	if (!r)
		return;
	*pr = NULL;
	free(r->url);
	free(r->final_url);
	free(r->title);
	free(r->text);
	for (size_t i = 0; i < r->ntiles; i++)
		free(r->tiles[i].mem);
	free(r->tiles);
	free(r->mhtml.mem);
	free(r->pdf.mem);
	free(r);
}

/* ---- timing and stages ---- */

/* The timing the current stage adds to (writing is timed by output.c). */
static int64_t *cap_stage_slot(struct capture *c)
{
	if (c->stage <= CAPTURE_QUEUED || c->stage >= CAPTURE_WRITING)
		return NULL;
	return (int64_t *)((char *)&c->res->t + cap_stages[c->stage].off);
}

void cap_stage(struct capture *c, enum capture_stage s)
{
	int64_t now = sc_now_ms();
	int64_t *slot = cap_stage_slot(c);
	if (slot)
		*slot += now - c->t_stage;
	c->t_stage = now;
	c->stage = s;
	if (c->cbs.on_progress && s < CAPTURE_DONE)
		c->cbs.on_progress(c->ud, s);
}

int64_t cap_left_ms(const struct capture *c)
{
	int64_t left = c->t_start + c->o.timeout_ms - sc_now_ms();
	return left > 0 ? left : 1;
}

/* ---- the end ---- */

static void cap_noop(void *owner, const struct cdp_reply *r) {}

/* Close the tab and drop the browser context; nobody waits for replies. */
static void cap_cleanup_browser(struct capture *c)
{
	if (!cdp_conn_is_open(c->conn))
		return;
	if (c->target_id) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "targetId", c->target_id);
		if (cdp_call(c->conn, NULL, "Target.closeTarget", p, 10000,
			     cap_noop, NULL))
			sc_log(SC_LOG_WARN, CAP_LOG, "cannot close the tab");
	}
	if (c->ctx_id) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "browserContextId", c->ctx_id);
		if (cdp_call(c->conn, NULL, "Target.disposeBrowserContext", p,
			     30000, cap_noop, NULL))
			sc_log(SC_LOG_WARN, CAP_LOG, "cannot dispose the context");
	}
}

static void cap_free(struct capture *c)
{
	cap_guard_detach(c);
	egress_close(&c->egress);
	cap_net_free(c);
	for (size_t i = 0; i < c->nframes; i++)
		free(c->frames[i]);
	free(c->ctx_id);
	free(c->pdf_stream);
	free(c->target_id);
	free(c->session);
	free(c->frame_id);
	free(c->loader_id);
	free(c->browser_ua);
	free(c->browser_version);
	capopts_hold_free(&c->own);
	capture_result_free(&c->res);
	free(c);
}

/* Stop everything the job has going; no callback of it runs afterwards. */
static void cap_detach(struct capture *c)
{
	loop_timer_cancel(&c->deadline);
	loop_timer_cancel(&c->timer);
	cap_eta_end(c);
	cdp_forget(c->conn, c);
	cap_cleanup_browser(c);
	if (c->self_ref)
		*c->self_ref = NULL;
}

struct capture_result *capture_result_failed(const char *url,
					     enum capture_error e,
					     const char *message)
{
	struct capture_result *r = sc_xcalloc(1, sizeof(*r));
	r->url = sc_xstrdup(url);
	r->error = e;
	snprintf(r->message, sizeof(r->message), "%s",
		 message ? message : e == CAPERR_BROWSER_CRASH
					     ? "the browser connection closed"
					     : capture_error_name(e));
	return r;
}

void cap_finish(struct capture *c)
{
	if (c->spare) { /* a prepared page that was never used: just go */
		sc_log(SC_LOG_DEBUG, CAP_LOG, "spare page dropped: %s",
		       c->res->message);
		cap_detach(c);
		cap_free(c);
		return;
	}
	cap_stage(c, CAPTURE_DONE);
	cap_guard_report(c);
	c->res->t.total = sc_now_ms() - c->t_start;
	cap_detach(c);
	struct capture_result *res = c->res;
	c->res = NULL;
	sc_log(SC_LOG_DEBUG, CAP_LOG, "%s: %s %s", res->url,
	       res->error ? capture_error_name(res->error) : "ok", res->message);
	c->cbs.on_done(c->ud, res);
	cap_free(c);
}

void cap_fail(struct capture *c, enum capture_error e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	c->res->error = e;
	vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
	va_end(ap);
	/* failed jobs keep nothing half-made */
	for (size_t i = 0; i < c->res->ntiles; i++)
		free(c->res->tiles[i].mem);
	free(c->res->tiles);
	c->res->tiles = NULL;
	c->res->ntiles = 0;
	free(c->res->mhtml.mem);
	memset(&c->res->mhtml, 0, sizeof(c->res->mhtml));
	free(c->res->pdf.mem);
	memset(&c->res->pdf, 0, sizeof(c->res->pdf));
	cap_finish(c);
}

/* Check a reply; on error fail the job with a class fitting the cause. */
int cap_ok(struct capture *c, const struct cdp_reply *r)
{
	if (r->rc == SC_OK)
		return 1;
	enum capture_error e = CAPERR_INTERNAL;
	if (r->rc == SC_ERR_DISCONNECTED)
		e = CAPERR_BROWSER_CRASH;
	else if (r->rc == SC_ERR_TIMEOUT)
		e = CAPERR_TIMEOUT;
	else if (r->rc == SC_ERR_TOO_LARGE)
		e = CAPERR_TOO_LARGE;
	if (e == CAPERR_BROWSER_CRASH)
		cap_fail(c, e, "the browser went away during %s (%s)", r->method,
			 r->error ? r->error : "disconnected");
	else
		cap_fail(c, e, "%s failed: %s", r->method,
			 r->error ? r->error : sc_strerror(r->rc));
	return 0;
}

int cap_call(struct capture *c, const char *method, cJSON *params,
	     cdp_reply_cb cb)
{
	/* a little past the job's deadline, so that the deadline speaks first */
	sc_result rc = cdp_call(c->conn, c->session, method, params,
				cap_left_ms(c) + 2000, cb, c);
	if (rc == SC_OK)
		return 0;
	cap_fail(c, rc == SC_ERR_DISCONNECTED ? CAPERR_BROWSER_CRASH
					      : CAPERR_INTERNAL,
		 "%s: %s", method, sc_strerror(rc));
	return -1;
}

void cap_on_deadline(void *arg)
{
	struct capture *c = arg;
	c->deadline = NULL;
	cap_fail(c, CAPERR_TIMEOUT, "no result within %d s (stage: %s)",
		 c->o.timeout_ms / 1000, capture_stage_name(c->stage));
}

/* ---- navigation errors ---- */

static enum capture_error cap_net_error_class(const char *t)
{
	if (strstr(t, "NAME_NOT_RESOLVED") || strstr(t, "NAME_RESOLUTION"))
		return CAPERR_DNS;
	if (strstr(t, "CERT") || strstr(t, "SSL"))
		return CAPERR_TLS;
	if (strstr(t, "CONNECTION") || strstr(t, "ADDRESS") ||
	    strstr(t, "NETWORK_") || strstr(t, "EMPTY_RESPONSE") ||
	    strstr(t, "INTERNET_DISCONNECTED") || strstr(t, "TIMED_OUT"))
		return CAPERR_CONNECT;
	if (strstr(t, "BLOCKED"))
		return CAPERR_BLOCKED;
	return CAPERR_NAVIGATION;
}

/* URLs the browser itself refuses to load, whatever the network says: the
 * job fails as blocked with a sentence instead of a bare net:: code. */
static const struct {
	const char *code, *why;
} cap_refusals[] = {
	{"ERR_UNSAFE_REDIRECT", "the browser refuses to follow that redirect "
				"(unsafe redirect)"},
	{"ERR_DISALLOWED_URL_SCHEME", "the browser refuses that URL scheme"},
	{"ERR_UNKNOWN_URL_SCHEME", "the browser refuses that URL scheme"},
};

/* 1 if the navigation error t is a refusal by the browser (the job then
 * failed as blocked), else 0. */
static int cap_browser_refusal(struct capture *c, const char *t)
{
	if (strstr(t, "ERR_UNSAFE_PORT")) {
		struct url_parts *u = sc_xmalloc(sizeof(*u));
		if (url_split(c->res->url, u) == SC_OK)
			cap_fail(c, CAPERR_BLOCKED, "the browser refuses port "
				 "%d (unsafe port; %s)", u->port, t);
		else
			cap_fail(c, CAPERR_BLOCKED, "the browser refuses that "
				 "port (unsafe port; %s)", t);
		free(u);
		return 1;
	}
	for (size_t i = 0; i < sizeof(cap_refusals) / sizeof(cap_refusals[0]);
	     i++)
		if (strstr(t, cap_refusals[i].code)) {
			cap_fail(c, CAPERR_BLOCKED, "%s (%s)", cap_refusals[i].why,
				 t);
			return 1;
		}
	return 0;
}

/* A navigation that did not reach a document: its class from the error,
 * or from what the egress proxy saw when the error is the proxy's. */
static void cap_nav_failed(struct capture *c, const char *error_text)
{
	enum capture_error e;
	char msg[300];
	if (cap_browser_refusal(c, error_text))
		return;
	if (cap_guard_nav_error(c, error_text, &e, msg, sizeof(msg)))
		cap_fail(c, e, "navigation failed: %s (%s)", msg, error_text);
	else
		cap_fail(c, cap_net_error_class(error_text),
			 "navigation failed: %s", error_text);
}

/* ---- events of our session ---- */

/* The load event of our document (matched on the loaderId that
 * Page.navigate answers). It may come before that answer: it is kept. */
static void cap_on_lifecycle(struct capture *c, const cJSON *p)
{
	const cJSON *name = cJSON_GetObjectItem(p, "name");
	const cJSON *loader = cJSON_GetObjectItem(p, "loaderId");
	if (c->loaded || !cJSON_IsString(name) ||
	    strcmp(name->valuestring, "load") || !cJSON_IsString(loader))
		return;
	if (!c->navigated) {
		snprintf(c->early_load, sizeof(c->early_load), "%s",
			 loader->valuestring);
		return;
	}
	if (strcmp(loader->valuestring, c->loader_id))
		return;
	c->loaded = 1;
	if (cap_in_step(c, CAP_S_LOAD))
		cap_next(c);
}

/* The main document's response: its status (the last of a redirect chain). */
static void cap_on_response(struct capture *c, const cJSON *p)
{
	const cJSON *type = cJSON_GetObjectItem(p, "type");
	const cJSON *frame = cJSON_GetObjectItem(p, "frameId");
	const cJSON *resp = cJSON_GetObjectItem(p, "response");
	const cJSON *status = cJSON_GetObjectItem(resp, "status");
	const cJSON *url = cJSON_GetObjectItem(resp, "url");
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "Document") ||
	    !cJSON_IsString(frame) || !c->frame_id ||
	    strcmp(frame->valuestring, c->frame_id) || !cJSON_IsNumber(status))
		return;
	c->res->http_status = status->valueint;
	if (cJSON_IsString(url)) {
		free(c->res->final_url);
		c->res->final_url = sc_xstrdup(url->valuestring);
	}
}

void cap_network_event(struct capture *c, const char *method,
		       const cJSON *params)
{
	if (!strcmp(method, "Network.responseReceived"))
		cap_on_response(c, params);
	cap_net_event(c, method, params);
}

static void cap_on_event(void *owner, const char *session, const char *method,
			 const cJSON *params)
{
	struct capture *c = owner;
	if (!strcmp(method, "Page.lifecycleEvent"))
		cap_on_lifecycle(c, params);
	else if (!strncmp(method, "Network.", 8))
		cap_network_event(c, method, params);
	else if (!strcmp(method, "Fetch.requestPaused"))
		cap_guard_event(c, session, params);
	else if (!strcmp(method, "Target.attachedToTarget"))
		cap_target_attached(c, params);
	else if (!strcmp(method, CDP_EVENT_DISCONNECTED))
		cap_fail(c, CAPERR_BROWSER_CRASH, "the browser went away (%s)",
			 capture_stage_name(c->stage));
	else if (!strcmp(method, "Inspector.targetCrashed"))
		cap_fail(c, CAPERR_BROWSER_CRASH, "the page's renderer crashed");
}

static void cap_on_target_event(void *owner, const char *session,
				const char *method, const cJSON *params)
{
	struct capture *c = owner;
	const cJSON *tid = cJSON_GetObjectItem(params, "targetId");
	if (!c->target_id || !cJSON_IsString(tid) ||
	    strcmp(tid->valuestring, c->target_id))
		return;
	if (!strcmp(method, "Target.targetCrashed"))
		cap_fail(c, CAPERR_BROWSER_CRASH, "the page's renderer crashed");
	else if (!strcmp(method, "Target.targetDestroyed") ||
		 !strcmp(method, "Target.detachedFromTarget"))
		cap_fail(c, CAPERR_BROWSER_CRASH, "the tab was closed");
}

/* ---- the chain: context -> target -> attach -> set-up -> navigate ---- */

static void cap_on_navigate(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	const cJSON *err = cJSON_GetObjectItem(r->result, "errorText");
	const cJSON *frame = cJSON_GetObjectItem(r->result, "frameId");
	const cJSON *loader = cJSON_GetObjectItem(r->result, "loaderId");
	if (cJSON_IsString(err) && *err->valuestring) {
		cap_nav_failed(c, err->valuestring);
		return;
	}
	if (!cJSON_IsString(frame) || !cJSON_IsString(loader)) {
		cap_fail(c, CAPERR_NAVIGATION, "navigation did not start a "
			 "document (a download, or a same-document URL)");
		return;
	}
	free(c->frame_id);
	c->frame_id = sc_xstrdup(frame->valuestring);
	c->loader_id = sc_xstrdup(loader->valuestring);
	c->navigated = 1;
	c->loaded = !strcmp(c->early_load, c->loader_id);
	cap_next(c);
}

void cap_step_navigate(struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "url", c->res->url);
	cap_call(c, "Page.navigate", p, cap_on_navigate);
}

/* The load event of our document ends the step (cap_on_lifecycle). */
void cap_step_load(struct capture *c)
{
	if (c->loaded)
		cap_next(c);
}

static void cap_on_setup(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	const cJSON *tree = cJSON_GetObjectItem(r->result, "frameTree");
	const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(tree, "frame"), "id");
	if (cJSON_IsString(id)) {
		free(c->frame_id);
		c->frame_id = sc_xstrdup(id->valuestring);
	}
	if (--c->waiting == 0)
		cap_next(c);
}

cJSON *cap_metrics_params(const struct capture *c, int mobile)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "width", c->o.width);
	cJSON_AddNumberToObject(p, "height", c->o.height);
	cJSON_AddNumberToObject(p, "deviceScaleFactor", c->o.scale);
	cJSON_AddBoolToObject(p, "mobile", mobile);
	return p;
}

/* Pipelined: all sent at once; the step ends when all have answered. */
void cap_step_setup(struct capture *c)
{
	cJSON *script = cJSON_CreateObject();
	cJSON_AddStringToObject(script, "source", capture_ready_js);
	cJSON *life = cJSON_CreateObject();
	cJSON_AddBoolToObject(life, "enabled", 1);
	struct {
		const char *method;
		cJSON *params;
	} steps[] = {
		{"Page.enable", NULL},
		{"Page.setLifecycleEventsEnabled", life},
		{"Network.enable", NULL},
		{"Emulation.setDeviceMetricsOverride", cap_metrics_params(c, 0)},
		{"Page.addScriptToEvaluateOnNewDocument", script},
		{"Page.getFrameTree", NULL},
		{"Target.setAutoAttach", cap_auto_attach_params()},
		{"Fetch.enable", NULL}, /* last: only with block_private */
	};
	size_t n = sizeof(steps) / sizeof(steps[0]);
	if (c->o.block_private) {
		cap_guard_attach(c);
		steps[n - 1].params = cJSON_Parse("{\"patterns\":[{\"urlPattern\":\"*\"}]}");
	} else {
		n--;
	}
	c->waiting = (int)n;
	c->waiting += cap_stealth_setup(c); /* the browser's version */
	cdp_on(c->conn, c->session, NULL, cap_on_event, c);
	for (size_t i = 0; i < n; i++)
		if (cap_call(c, steps[i].method, steps[i].params, cap_on_setup)) {
			for (size_t k = i + 1; k < n; k++)
				cJSON_Delete(steps[k].params);
			return;
		}
}

static void cap_on_attach(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	const cJSON *s = cJSON_GetObjectItem(r->result, "sessionId");
	if (!cJSON_IsString(s)) {
		cap_fail(c, CAPERR_INTERNAL, "attachToTarget gave no sessionId");
		return;
	}
	c->session = sc_xstrdup(s->valuestring);
	cap_next(c);
}

void cap_step_attach(struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "targetId", c->target_id);
	cJSON_AddBoolToObject(p, "flatten", 1);
	cap_call(c, "Target.attachToTarget", p, cap_on_attach);
}

static void cap_on_target(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	const cJSON *t = cJSON_GetObjectItem(r->result, "targetId");
	if (!cJSON_IsString(t)) {
		cap_fail(c, CAPERR_INTERNAL, "createTarget gave no targetId");
		return;
	}
	c->target_id = sc_xstrdup(t->valuestring);
	cap_next(c);
}

void cap_step_target(struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "url", "about:blank");
	cJSON_AddStringToObject(p, "browserContextId", c->ctx_id);
	cJSON_AddNumberToObject(p, "width", c->o.width);
	cJSON_AddNumberToObject(p, "height", c->o.height);
	cap_call(c, "Target.createTarget", p, cap_on_target);
}

static void cap_on_context(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	const cJSON *id = cJSON_GetObjectItem(r->result, "browserContextId");
	if (!cJSON_IsString(id)) {
		cap_fail(c, CAPERR_INTERNAL, "createBrowserContext gave no id");
		return;
	}
	c->ctx_id = sc_xstrdup(id->valuestring);
	cap_next(c);
}

static const char *cap_own(char **slot, const char *s)
{
	free(*slot);
	*slot = s ? sc_xstrdup(s) : NULL;
	return *slot;
}

void cap_set_opts(struct capture *c, const struct capture_opts *o)
{
	c->o = *o;
	c->o.hide = cap_own(&c->own.hide, o->hide);
	c->o.user_agent = cap_own(&c->own.user_agent, o->user_agent);
	c->o.headers = cap_own(&c->own.headers, o->headers);
	c->o.cookies = cap_own(&c->own.cookies, o->cookies);
	c->o.wait_for = cap_own(&c->own.wait_for, o->wait_for);
}

struct capture *cap_new(struct loop *l, struct cdp_conn *conn,
			const struct capture_opts *opts, const char *url)
{
	struct capture *c = sc_xcalloc(1, sizeof(*c));
	c->loop = l;
	c->conn = conn;
	cap_set_opts(c, opts);
	capture_opts_defaults(&c->o);
	c->res = sc_xcalloc(1, sizeof(*c->res));
	c->res->url = sc_xstrdup(url);
	c->res->scale = c->o.scale;
	c->t_start = c->t_stage = sc_now_ms();
	c->stage = CAPTURE_QUEUED;
	c->step = -1;
	return c;
}

/* Begin the first step (a new context): errors are returned, not
 * reported through on_done. On error c is freed. */
sc_result cap_open(struct capture *c, int64_t deadline_ms,
		   struct capture **out)
{
	c->step = CAP_S_CONTEXT;
	c->deadline = loop_timer(c->loop, deadline_ms, cap_on_deadline, c);
	cdp_on(c->conn, NULL, "Target.targetCrashed", cap_on_target_event, c);
	cdp_on(c->conn, NULL, "Target.detachedFromTarget", cap_on_target_event,
	       c);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "disposeOnDetach", 1);
	sc_result rc = cap_guard_context(c, p);
	if (rc)
		cJSON_Delete(p);
	else
		rc = cdp_call(c->conn, NULL, "Target.createBrowserContext", p,
			      cap_left_ms(c), cap_on_context, c);
	if (rc) {
		cap_detach(c);
		cap_free(c);
		return rc;
	}
	if (out) {
		*out = c;
		c->self_ref = out;
	}
	return SC_OK;
}

sc_result capture_start(struct loop *l, struct cdp_conn *conn, const char *url,
			const struct capture_opts *opts,
			const struct capture_cbs *cbs, void *ud,
			struct capture **out)
{
	if (out)
		*out = NULL;
	if (!cdp_conn_is_open(conn))
		return SC_ERR_DISCONNECTED;
	struct capture *c = cap_new(l, conn, opts, url);
	c->cbs = *cbs;
	c->ud = ud;
	cap_stage(c, CAPTURE_STARTING);
	return cap_open(c, c->o.timeout_ms, out);
}

void capture_cancel(struct capture **pc)
{
	struct capture *c = pc ? *pc : NULL;
	if (!c)
		return;
	*pc = NULL;
	c->self_ref = NULL;
	cap_detach(c);
	cap_free(c);
}
