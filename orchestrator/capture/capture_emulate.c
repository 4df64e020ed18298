/*
 * capture_emulate.c — the job's own emulation, sent on its page right
 * before Page.navigate (a spare page is set up before its job is known, so
 * nothing here may happen in the set-up):
 *
 *   the emulate step -> pipelined, only what the options ask for:
 *     Emulation.setDeviceMetricsOverride {mobile:true} +
 *       Emulation.setTouchEmulationEnabled           (mobile)
 *     Emulation.setUserAgentOverride      (user_agent, mobile, stealth:
 *                                          capture_stealth.c)
 *     stealth.js, or the automation override          (always: stealth)
 *     Browser.setPermission notifications (browser session; stealth)
 *     Emulation.setEmulatedMedia prefers-color-scheme (color_scheme)
 *     Fetch.enable (unless the guard has it on)       (headers)
 *     Network.setCookies, each with url = the page's URL (cookies)
 *   -> all answered -> cap_next (the navigate step)
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

/* The steps the options ask for, into s[]; returns how many. */
static size_t emu_steps(struct capture *c, struct emu_step *s)
{
	size_t n = 0;
	cJSON *p;
	if (c->o.mobile) {
		emu_add(s, &n, "Emulation.setDeviceMetricsOverride",
			cap_metrics_params(c, 1), NULL);
		emu_add(s, &n, "Emulation.setTouchEmulationEnabled",
			cJSON_Parse("{\"enabled\":true,\"maxTouchPoints\":5}"),
			NULL);
	}
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

void cap_step_emulate(struct capture *c)
{
	struct emu_step steps[8] = {{0}};
	size_t n = emu_steps(c, steps);
	int browser = cap_stealth_browser(c); /* counted before any reply */
	if (!n && !browser) {
		cap_next(c);
		return;
	}
	c->waiting = (int)n + browser;
	for (size_t i = 0; i < n; i++)
		if (cap_call(c, steps[i].method, steps[i].params,
			     steps[i].cb ? steps[i].cb : emu_on_reply)) {
			for (size_t k = i + 1; k < n; k++)
				cJSON_Delete(steps[k].params);
			return;
		}
}
