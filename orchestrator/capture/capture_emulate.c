/*
 * capture_emulate.c — the job's own emulation, sent on its page right
 * before Page.navigate (a spare page is set up before its job is known, so
 * nothing here may happen in the set-up):
 *
 *   the emulate step -> pipelined, only what the options ask for:
 *     Emulation.clearDeviceMetricsOverride +
 *       Emulation.setDeviceMetricsOverride           (always: the job's
 *                                                     width, height, scale)
 *     Emulation.setTouchEmulationEnabled             (mobile)
 *     Emulation.setUserAgentOverride      (user_agent, mobile, stealth:
 *                                          capture_stealth.c)
 *     stealth.js, or the automation override          (always: stealth)
 *     Browser.setPermission notifications (browser session; stealth)
 *     Emulation.setEmulatedMedia prefers-color-scheme (color_scheme)
 *     Fetch.enable (unless the guard has it on)       (headers)
 *     Network.setCookies, each with url = the page's URL (cookies)
 *   -> all answered -> cap_next (the navigate step)
 *   the viewport step (after the load) -> the two metrics calls again
 *
 * Headers and cookies are secrets: they are sent to Chromium and nowhere
 * else (no log line, no error message carries them). Extra headers go only
 * to the page's own origin (scheme, host, port of the submitted URL): each
 * request pauses in the Fetch domain and continues with them added
 * (cap_fetch_headers), so a login token never reaches a third-party CDN,
 * analytics or a redirect to another site. (Network.setExtraHTTPHeaders,
 * the obvious call, adds them to every request of the page.) Cookies are
 * scoped by the browser to the page's site.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture_int.h"

struct emu_step {
	const char *method;
	cJSON *params;
	cdp_reply_cb cb; /* NULL: emu_on_reply (an error fails the job) */
};

static void emu_on_reply(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (r->rc != SC_OK) {
		/* never echo the command's params: they may hold secrets */
		cap_fail(c, r->rc == SC_ERR_DISCONNECTED ? CAPERR_BROWSER_CRASH
			 : r->rc == SC_ERR_TIMEOUT ? CAPERR_TIMEOUT
						   : CAPERR_INTERNAL,
			 "%s failed: %s", r->method,
			 r->error ? r->error : sc_strerror(r->rc));
		return;
	}
	if (--c->waiting == 0)
		cap_next(c);
}

static cJSON *emu_media(const struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *f = cJSON_AddArrayToObject(p, "features");
	cJSON *it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "name", "prefers-color-scheme");
	cJSON_AddStringToObject(it, "value", c->o.color_scheme ==
					 CAPTURE_SCHEME_DARK ? "dark" : "light");
	cJSON_AddItemToArray(f, it);
	return p;
}

/* Is name one of the job's extra headers (HTTP names are caseless)? */
static int emu_is_extra(const cJSON *extra, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, extra)
		if (!strcasecmp(it->string, name))
			return 1;
	return 0;
}

static void emu_add_entry(cJSON *arr, const char *name, const char *value)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "value", value);
	cJSON_AddItemToArray(arr, e);
}

cJSON *cap_fetch_headers(const struct capture *c, const cJSON *request,
			 const char *origin)
{
	if (!c->hdr_origin[0] || strcmp(origin, c->hdr_origin))
		return NULL;
	cJSON *extra = cJSON_Parse(c->o.headers);
	if (!cJSON_IsObject(extra)) {
		cJSON_Delete(extra);
		return NULL;
	}
	cJSON *arr = cJSON_CreateArray();
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(request, "headers"))
		if (cJSON_IsString(it) && !emu_is_extra(extra, it->string))
			emu_add_entry(arr, it->string, it->valuestring);
	cJSON_ArrayForEach(it, extra)
		if (cJSON_IsString(it))
			emu_add_entry(arr, it->string, it->valuestring);
	cJSON_Delete(extra);
	return arr;
}

/* Extra headers: the page's origin is where they go; the Fetch domain is
 * turned on for them unless the guard has it on already. */
static cJSON *emu_headers(struct capture *c)
{
	static __thread struct url_parts u; /* 8.5 KiB, off the stack */
	if (url_split(c->res->url, &u))
		return NULL;
	cap_origin_key(&u, c->hdr_origin, sizeof(c->hdr_origin));
	if (c->guard)
		return NULL;
	return cJSON_Parse("{\"patterns\":[{\"urlPattern\":\"*\"}]}");
}

/* Each cookie {name, value, path?} gets the page's URL (its site). */
static cJSON *emu_cookies(const struct capture *c)
{
	cJSON *list = cJSON_Parse(c->o.cookies);
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		return NULL;
	}
	for (cJSON *it = list->child; it; it = it->next)
		cJSON_AddStringToObject(it, "url", c->res->url);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddItemToObject(p, "cookies", list);
	return p;
}

static void emu_add(struct emu_step *s, size_t *n, const char *method,
		    cJSON *params, cdp_reply_cb cb)
{
	s[*n] = (struct emu_step){.method = method, .params = params, .cb = cb};
	(*n)++;
}

/* The job's metrics, set again even if the set-up sent them: another
 * client of the same browser (browserless's own puppeteer session on every
 * page) makes Chromium drop them, seen with Chromium 156 when a second
 * DevTools session is attached: the page falls back to its window's size
 * (800x600 there) before the navigation and again once the new document
 * commits. Chromium ignores a set equal to the session's current one,
 * hence the clear first. */
static void emu_metrics(const struct capture *c, struct emu_step *s, size_t *n)
{
	emu_add(s, n, "Emulation.clearDeviceMetricsOverride", NULL, NULL);
	emu_add(s, n, "Emulation.setDeviceMetricsOverride",
		cap_metrics_params(c, c->o.mobile), NULL);
}

/* The steps the options ask for, into s[]; returns how many. */
static size_t emu_steps(struct capture *c, struct emu_step *s)
{
	size_t n = 0;
	emu_metrics(c, s, &n);
	cJSON *p;
	if (c->o.mobile)
		emu_add(s, &n, "Emulation.setTouchEmulationEnabled",
			cJSON_Parse("{\"enabled\":true,\"maxTouchPoints\":5}"),
			NULL);
	if ((p = cap_stealth_ua(c)))
		emu_add(s, &n, "Emulation.setUserAgentOverride", p, NULL);
	const char *method = cap_stealth_page(c, &p);
	emu_add(s, &n, method, p, cap_stealth_reply);
	if (c->o.color_scheme != CAPTURE_SCHEME_AUTO)
		emu_add(s, &n, "Emulation.setEmulatedMedia", emu_media(c), NULL);
	if (c->o.headers && (p = emu_headers(c)))
		emu_add(s, &n, "Fetch.enable", p, NULL);
	if (c->o.cookies && (p = emu_cookies(c)))
		emu_add(s, &n, "Network.setCookies", p, NULL);
	return n;
}

/* Send steps[0..n) pipelined; extra: replies counted besides them (the
 * browser session's call of capture_stealth.c). */
static void emu_send(struct capture *c, struct emu_step *steps, size_t n,
		     int extra)
{
	c->waiting = (int)n + extra;
	for (size_t i = 0; i < n; i++)
		if (cap_call(c, steps[i].method, steps[i].params,
			     steps[i].cb ? steps[i].cb : emu_on_reply)) {
			for (size_t k = i + 1; k < n; k++)
				cJSON_Delete(steps[k].params);
			return;
		}
}

static void emu_on_check(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(r->result,
							       "result"), "value");
	if (cJSON_IsTrue(v)) {
		cap_next(c);
		return;
	}
	sc_log(SC_LOG_DEBUG, "capture", "%s: the page lost its metrics (another "
	       "DevTools client?): set again", c->res->url);
	struct emu_step steps[2] = {{0}};
	size_t n = 0;
	emu_metrics(c, steps, &n);
	emu_send(c, steps, n, 0);
}

/* After the load and right before the shot: are the job's metrics still
 * there (the screen the page sees)? If not (lost when the document
 * committed in a new renderer, or later, with another DevTools session
 * attached: emu_metrics), set them again. A plain Chromium keeps them:
 * then this is one evaluate and the page is not resized. (The screen the
 * page sees does not follow the override: the window's size is what
 * tells; a mobile page's layout width follows its meta viewport, so there
 * only the pixel ratio is checked.) */
void cap_step_viewport(struct capture *c)
{
	char expr[160];
	if (c->o.mobile) /* the layout viewport follows the page's meta tag */
		snprintf(expr, sizeof(expr), "Math.abs(devicePixelRatio-%g)<1e-6",
			 c->o.scale);
	else
		snprintf(expr, sizeof(expr), "innerWidth===%d&&innerHeight===%d"
			 "&&Math.abs(devicePixelRatio-%g)<1e-6", c->o.width,
			 c->o.height, c->o.scale);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "expression", expr);
	cJSON_AddBoolToObject(p, "returnByValue", 1);
	cap_call(c, "Runtime.evaluate", p, emu_on_check);
}

void cap_step_emulate(struct capture *c)
{
	struct emu_step steps[10] = {{0}};
	size_t n = emu_steps(c, steps);
	int browser = cap_stealth_browser(c); /* counted before any reply */
	emu_send(c, steps, n, browser);
}
