/*
 * capture_consent.c — between "ready" and the screenshot: the extra delay,
 * then the page clean-up of consent.js (cookie/consent banners, the
 * selectors to hide), in one Runtime.evaluate.
 *
 *   the delay step: delay_ms (a timer; the job's deadline still rules)
 *   the tidy step: Runtime.evaluate consent.js + __snapcatTidy({consent,
 *     hide}) -> result.consent_* (reported on the snapshot)
 *
 * With consent handling off and nothing to hide no script runs. A failing
 * clean-up (the page navigated away when "accept" was clicked, a script
 * error) never fails the capture: the result says action "error".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

static void tidy_result(struct capture *c, const cJSON *v)
{
	struct capture_result *res = c->res;
	const cJSON *h = cJSON_GetObjectItem(v, "handled");
	const cJSON *a = cJSON_GetObjectItem(v, "action");
	const cJSON *m = cJSON_GetObjectItem(v, "matched");
	snprintf(res->consent_rule, sizeof(res->consent_rule), "%s",
		 cJSON_IsString(h) ? h->valuestring : "");
	snprintf(res->consent_action, sizeof(res->consent_action), "%s",
		 cJSON_IsString(a) ? a->valuestring : "error");
	size_t off = 0;
	for (const cJSON *it = m ? m->child : NULL; it; it = it->next) {
		if (!cJSON_IsString(it) || off >= sizeof(res->consent_matched))
			continue;
		int n = snprintf(res->consent_matched + off,
				 sizeof(res->consent_matched) - off, "%s%s",
				 off ? "," : "", it->valuestring);
		if (n > 0)
			off += (size_t)n;
	}
}

static void tidy_on_eval(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	c->res->consent_ms = sc_now_ms() - c->t_tidy;
	if (r->rc == SC_ERR_DISCONNECTED || r->rc == SC_ERR_TIMEOUT) {
		cap_ok(c, r); /* the job ends here */
		return;
	}
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(r->result,
								 "result"),
					     "value");
	if (r->rc == SC_OK && cJSON_IsObject(v)) {
		tidy_result(c, v);
	} else {
		snprintf(c->res->consent_action, sizeof(c->res->consent_action),
			 "error");
		sc_log(SC_LOG_DEBUG, "capture", "%s: page clean-up failed: %s",
		       c->res->url, r->error ? r->error : "no result");
	}
	cap_next(c);
}

void cap_step_tidy(struct capture *c)
{
	c->t_tidy = sc_now_ms();
	if (c->o.no_consent) {
		snprintf(c->res->consent_action, sizeof(c->res->consent_action),
			 "off");
		if (!c->o.hide) {
			cap_next(c);
			return;
		}
	}
	char *call = sc_xasprintf(";\nwindow.__snapcatTidy({consent: %s, "
				  "hide: %s})",
				  c->o.no_consent ? "false" : "true",
				  c->o.hide ? c->o.hide : "[]");
	char *expr = sc_xasprintf("%s%s", capture_consent_js, call);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "expression", expr);
	cJSON_AddBoolToObject(p, "awaitPromise", 1);
	cJSON_AddBoolToObject(p, "returnByValue", 1);
	free(call);
	free(expr);
	cap_call(c, "Runtime.evaluate", p, tidy_on_eval);
}

static void tidy_on_delay(void *arg)
{
	struct capture *c = arg;
	c->timer = NULL;
	cap_next(c);
}

void cap_step_delay(struct capture *c)
{
	c->timer = loop_timer(c->loop, c->o.delay_ms, tidy_on_delay, c);
}

cJSON *capture_consent_json(const struct capture_result *r)
{
	if (!r->consent_action[0])
		return NULL;
	cJSON *o = cJSON_CreateObject();
	if (r->consent_rule[0])
		cJSON_AddStringToObject(o, "handled", r->consent_rule);
	else
		cJSON_AddNullToObject(o, "handled");
	cJSON_AddStringToObject(o, "action", r->consent_action);
	cJSON *m = cJSON_AddArrayToObject(o, "matched");
	char buf[sizeof(r->consent_matched)];
	snprintf(buf, sizeof(buf), "%s", r->consent_matched);
	for (char *p = buf, *e; *p; p = e) {
		e = p + strcspn(p, ",");
		if (*e)
			*e++ = 0;
		cJSON_AddItemToArray(m, cJSON_CreateString(p));
	}
	cJSON_AddNumberToObject(o, "ms", (double)r->consent_ms);
	return o;
}
