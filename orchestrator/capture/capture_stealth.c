/*
 * capture_stealth.c — what the page sees of the browser: by default an
 * ordinary Chrome on Linux, not an automated headless one (option
 * `stealth`, on unless a job says false), on the page and on every target
 * below it (out-of-process iframes, workers: capture_targets.c).
 *
 *   set-up: Browser.getVersion (browser session, pipelined with the rest;
 *     spares do it ahead) -> the browser's user agent and full version
 *   emulate step (capture_emulate.c), on the page's session:
 *     Emulation.setUserAgentOverride {userAgent without "Headless",
 *       userAgentMetadata: brands, fullVersionList, platform Linux, ...}
 *       (the job's user_agent, or mobile, win over it)
 *     stealth:  Page.addScriptToEvaluateOnNewDocument stealth.js
 *     off:      Emulation.setAutomationOverride {enabled: true}
 *     stealth:  Browser.setPermission notifications "denied" (browser
 *               session, the job's browser context): a headless browser
 *               denies notifications (Notification.permission "denied")
 *               while permissions.query says "prompt" in workers, a
 *               classic tell; denied by the user is an ordinary state
 *   Target.attachedToTarget (an iframe, a worker): the same override on
 *     its session; an iframe also gets stealth.js (or the automation
 *     override), before Runtime.runIfWaitingForDebugger resumes it
 *
 * navigator.webdriver: a local browser is launched with
 * --disable-blink-features=AutomationControlled (cdp/launch.c), which makes
 * it false natively; Emulation.setAutomationOverride {enabled: false} does
 * NOT (Chromium 156: it only ever forces true), so a job with stealth off
 * forces it true again, and a remote browser without the flag gets
 * stealth.js's getter. The user agent override is per target and works on
 * remote endpoints alike; it reaches the page's HTTP requests, its
 * same-process iframes and dedicated workers (which inherit the page's),
 * and the other targets through their own sessions. Service and shared
 * workers are not children of the page: they keep the browser's own.
 *
 * Client hints: Emulation.setUserAgentOverride without userAgentMetadata
 * empties navigator.userAgentData.brands (a tell), so the metadata is
 * always given: Chromium's brand list, derived like Chromium does from
 * the major version (a GREASE brand "Not?A?Brand" whose punctuation and
 * version depend on it, and "Chromium"); tests/e2e/test_stealth.c checks
 * that it equals what the browser reports without the override.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

#define ST_LOG "capture"

/* Android Chrome's reduced user agent (what a phone sends), for mobile
 * captures without a user_agent of their own; %d is the major version. */
static const char st_mobile_ua[] =
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
	"Gecko) Chrome/%d.0.0.0 Mobile Safari/537.36";
#define ST_MOBILE_MAJOR 130 /* when the browser's version is unknown */

static void st_noop(void *owner, const struct cdp_reply *r) {}

/* ---- the browser's version (set-up) ---- */

static void st_on_version(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	const cJSON *ua = cJSON_GetObjectItem(r->result, "userAgent");
	const cJSON *product = cJSON_GetObjectItem(r->result, "product");
	if (r->rc == SC_OK && cJSON_IsString(ua) && cJSON_IsString(product)) {
		free(c->browser_ua);
		c->browser_ua = sc_xstrdup(ua->valuestring);
		const char *slash = strchr(product->valuestring, '/');
		free(c->browser_version);
		c->browser_version = sc_xstrdup(slash ? slash + 1 : "");
	} else if (r->rc != SC_ERR_DISCONNECTED) {
		sc_log(SC_LOG_WARN, ST_LOG, "Browser.getVersion: %s: the page "
		       "sees the browser's own user agent",
		       r->error ? r->error : "no userAgent");
	}
	if (r->rc == SC_ERR_DISCONNECTED) { /* the other replies say it too */
		cap_ok(c, r);
		return;
	}
	if (--c->waiting == 0)
		cap_next(c);
}

int cap_stealth_setup(struct capture *c)
{
	return cdp_call(c->conn, NULL, "Browser.getVersion", NULL,
			cap_left_ms(c) + 2000, st_on_version, c) == SC_OK;
}

/* ---- the user agent and its client hints ---- */

/* The major version (156), or 0 if unknown. */
static int st_major(const struct capture *c)
{
	char major[8];
	long m;
	if (!c->browser_version)
		return 0;
	snprintf(major, sizeof(major), "%.*s",
		 (int)strcspn(c->browser_version, "."), c->browser_version);
	return sc_parse_long(major, 1, 9999, &m) ? 0 : (int)m;
}

static void st_brand(cJSON *list, const char *brand, const char *version)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "brand", brand);
	cJSON_AddStringToObject(b, "version", version);
	cJSON_AddItemToArray(list, b);
}

/* Chromium's brands for major version m: a GREASE brand, whose two
 * punctuation characters and version are picked by m, and "Chromium",
 * in an order picked by m. full: the fullVersionList form. */
static cJSON *st_brands(const struct capture *c, int full)
{
	static const char grease_chars[] = " (:-./);=?_";
	static const char *const grease_versions[] = {"8", "99", "24"};
	int m = st_major(c);
	char grease[32], gver[16], ver[32];
	snprintf(grease, sizeof(grease), "Not%cA%cBrand",
		 grease_chars[m % 11], grease_chars[(m + 1) % 11]);
	snprintf(gver, sizeof(gver), "%s%s", grease_versions[m % 3],
		 full ? ".0.0.0" : "");
	if (full)
		snprintf(ver, sizeof(ver), "%s", c->browser_version);
	else
		snprintf(ver, sizeof(ver), "%d", m);
	cJSON *list = cJSON_CreateArray();
	if (m % 2 == 0)
		st_brand(list, grease, gver);
	st_brand(list, "Chromium", ver);
	if (m % 2)
		st_brand(list, grease, gver);
	return list;
}

/* navigator.userAgentData's fields for a desktop (Linux) or the mobile
 * emulation's phone; brands only when the version is known. */
static cJSON *st_metadata(const struct capture *c, int mobile)
{
	cJSON *m = cJSON_CreateObject();
	if (st_major(c) > 0) {
		cJSON_AddItemToObject(m, "brands", st_brands(c, 0));
		cJSON_AddItemToObject(m, "fullVersionList", st_brands(c, 1));
		cJSON_AddStringToObject(m, "fullVersion", c->browser_version);
	}
	const char *ua = c->browser_ua ? c->browser_ua : "";
	int arm = strstr(ua, "aarch64") || strstr(ua, "armv");
	int b64 = !strstr(ua, "i686") && !strstr(ua, "armv7");
	cJSON_AddStringToObject(m, "platform", mobile ? "Android" : "Linux");
	cJSON_AddStringToObject(m, "platformVersion", mobile ? "10" : "");
	cJSON_AddStringToObject(m, "architecture", mobile ? "" : arm ? "arm"
							       : "x86");
	cJSON_AddStringToObject(m, "model", mobile ? "K" : "");
	cJSON_AddBoolToObject(m, "mobile", mobile);
	cJSON_AddStringToObject(m, "bitness", mobile ? "" : b64 ? "64" : "32");
	cJSON_AddBoolToObject(m, "wow64", 0);
	return m;
}

/* The browser's user agent without "Headless" ("HeadlessChrome/156" ->
 * "Chrome/156"); NULL if it has none (a headful remote browser: left as
 * it is). Caller frees. */
static char *st_plain_ua(const struct capture *c)
{
	const char *h = c->browser_ua ? strstr(c->browser_ua, "Headless") : NULL;
	if (!h)
		return NULL;
	return sc_xasprintf("%.*s%s", (int)(h - c->browser_ua), c->browser_ua,
			    h + strlen("Headless"));
}

cJSON *cap_stealth_ua(const struct capture *c)
{
	char *plain = NULL;
	if (!c->o.user_agent && !c->o.mobile &&
	    (c->o.no_stealth || !(plain = st_plain_ua(c))))
		return NULL;
	cJSON *p = cJSON_CreateObject();
	if (c->o.user_agent) {
		cJSON_AddStringToObject(p, "userAgent", c->o.user_agent);
	} else if (c->o.mobile) {
		char ua[256];
		int m = st_major(c);
		snprintf(ua, sizeof(ua), st_mobile_ua, m > 0 ? m : ST_MOBILE_MAJOR);
		cJSON_AddStringToObject(p, "userAgent", ua);
	} else {
		cJSON_AddStringToObject(p, "userAgent", plain);
	}
	free(plain);
	/* a user_agent of the job's own (perhaps not Chrome's) gets no
	 * client hints of Chrome's, unless it asks for a phone */
	if (!c->o.user_agent || c->o.mobile)
		cJSON_AddItemToObject(p, "userAgentMetadata",
				      st_metadata(c, c->o.mobile));
	return p;
}

/* ---- navigator.webdriver and the rest: stealth.js ---- */

const char *cap_stealth_page(const struct capture *c, cJSON **params)
{
	*params = cJSON_CreateObject();
	if (c->o.no_stealth) {
		cJSON_AddBoolToObject(*params, "enabled", 1);
		return "Emulation.setAutomationOverride";
	}
	cJSON_AddStringToObject(*params, "source", capture_stealth_js);
	return "Page.addScriptToEvaluateOnNewDocument";
}

void cap_stealth_reply(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (r->rc == SC_ERR_DISCONNECTED || r->rc == SC_ERR_TIMEOUT) {
		cap_ok(c, r);
		return;
	}
	if (r->rc != SC_OK) /* an older or other browser: go on without */
		sc_log(SC_LOG_WARN, ST_LOG, "%s: %s", r->method,
		       r->error ? r->error : sc_strerror(r->rc));
	if (--c->waiting == 0)
		cap_next(c);
}

int cap_stealth_browser(struct capture *c)
{
	if (c->o.no_stealth)
		return 0;
	cJSON *p = cJSON_CreateObject();
	cJSON *perm = cJSON_AddObjectToObject(p, "permission");
	cJSON_AddStringToObject(perm, "name", "notifications");
	cJSON_AddStringToObject(p, "setting", "denied");
	if (c->ctx_id)
		cJSON_AddStringToObject(p, "browserContextId", c->ctx_id);
	return cdp_call(c->conn, NULL, "Browser.setPermission", p,
			cap_left_ms(c) + 2000, cap_stealth_reply, c) == SC_OK;
}

static void st_send(struct capture *c, const char *sid, const char *method,
		    cJSON *params)
{
	(void)!cdp_call(c->conn, sid, method, params, cap_left_ms(c) + 2000,
			st_noop, c);
}

void cap_stealth_child(struct capture *c, const char *sid, int frame)
{
	cJSON *ua = cap_stealth_ua(c);
	if (ua)
		st_send(c, sid, "Emulation.setUserAgentOverride", ua);
	if (frame) {
		cJSON *p;
		const char *method = cap_stealth_page(c, &p);
		st_send(c, sid, method, p);
	}
}
