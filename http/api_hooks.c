/*
 * api_hooks.c — /api/webhooks: the webhooks (list, create, read, change,
 * delete), their delivery log, and a test delivery.
 *
 *   POST /api/webhooks {url, secret?, events?, active?} -> hooks_sign_url
 *     (http/https; loopback or public addresses) -> hooks_store_add ->
 *     201 {webhook, secret only if generated here}
 *   GET /api/webhooks[/{id}], PATCH|DELETE /api/webhooks/{id}
 *   GET /api/webhooks/{id}/deliveries?limit=&cursor= (newest first)
 *   POST /api/webhooks/{id}/test -> hooks_store_ping -> hooks_wake -> 202
 *
 * The secret is never part of an answer except the 201 that generated it.
 * Reads on this worker's reader; changes are units on the writer that
 * answer with what they wrote, sent once committed (api_write_end).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "catalog.h"
#include "hooks.h"
#include "hooks_sign.h"
#include "hooks_store.h"
#include "url.h"

#define AH_LIMIT_DEFAULT 20
#define AH_LIMIT_MAX 100

static cJSON *ah_events_json(unsigned bits)
{
	cJSON *a = cJSON_CreateArray();
	const char *n;
	for (int i = 0; (n = hooks_store_event_name(i)); i++)
		if (bits & (1u << i))
			cJSON_AddItemToArray(a, cJSON_CreateString(n));
	return a;
}

static cJSON *ah_hook_json(const struct hooks_webhook *w)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)w->id);
	cJSON_AddStringToObject(o, "url", w->url);
	cJSON_AddItemToObject(o, "events", ah_events_json(w->events));
	cJSON_AddBoolToObject(o, "active", w->active);
	cJSON_AddBoolToObject(o, "has_secret", w->secret && w->secret[0]);
	http_json_time(o, "created_at", w->created_at);
	http_json_time(o, "updated_at", w->updated_at);
	cJSON_AddNumberToObject(o, "pending", (double)w->pending);
	if (w->last_state) {
		cJSON *l = cJSON_AddObjectToObject(o, "last_delivery");
		cJSON_AddStringToObject(l, "state", w->last_state);
		http_json_time(l, "at", w->last_at);
	} else {
		cJSON_AddNullToObject(o, "last_delivery");
	}
	return o;
}

static void ah_null_or_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* JSON text stored by us, as JSON (or as a string if it does not parse). */
static void ah_raw(cJSON *o, const char *key, const char *text)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	if (j)
		cJSON_AddItemToObject(o, key, j);
	else
		ah_null_or_str(o, key, text);
}

static cJSON *ah_delivery_json(const struct hooks_delivery *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)d->id);
	cJSON_AddNumberToObject(o, "webhook", (double)d->webhook_id);
	if (d->event_id)
		cJSON_AddNumberToObject(o, "event", (double)d->event_id);
	else
		cJSON_AddNullToObject(o, "event");
	cJSON_AddStringToObject(o, "type", d->type);
	cJSON_AddStringToObject(o, "state", d->state);
	cJSON_AddNumberToObject(o, "attempts", d->attempts);
	cJSON_AddNumberToObject(o, "max_attempts", hooks_max_attempts());
	if (d->last_status)
		cJSON_AddNumberToObject(o, "status", d->last_status);
	else
		cJSON_AddNullToObject(o, "status");
	ah_null_or_str(o, "error", d->last_error);
	cJSON_AddNumberToObject(o, "duration_ms", (double)d->duration_ms);
	http_json_time(o, "next_attempt_at",
		       strcmp(d->state, "pending") ? 0 : d->next_at);
	http_json_time(o, "created_at", d->created_at);
	http_json_time(o, "updated_at", d->updated_at);
	ah_raw(o, "tries", d->history);
	ah_raw(o, "payload", d->payload);
	return o;
}

/* A unit on the writer, with the webhook tables ready. */
static struct catalog *ah_write(struct api_call *k)
{
	struct catalog *c = app_write_begin(k->c->app);
	(void)!hooks_store_ready(c); /* an error shows in the call after */
	return c;
}

/* ---- request fields ---- */

/* events: a non-empty array of known types into *bits; 0 or a 400. */
static int ah_events(struct api_call *k, const cJSON *v, unsigned *bits)
{
	const cJSON *it;
	*bits = 0;
	int bad = !cJSON_IsArray(v) || !cJSON_GetArraySize(v);
	cJSON_ArrayForEach(it, v) {
		unsigned b = cJSON_IsString(it)
				     ? hooks_store_event_bit(it->valuestring)
				     : 0;
		bad |= !b;
		*bits |= b;
	}
	if (bad)
		http_resp_error(k->resp, 400, "invalid_field", "events",
				"events must be a non-empty array of "
				"\"%s\", \"%s\", \"%s\"",
				hooks_store_event_name(0),
				hooks_store_event_name(1),
				hooks_store_event_name(2));
	return bad ? -1 : 0;
}

/* url: checked and normalized into out (URL_BUF_SIZE); 0 or a 400. */
static int ah_url(struct api_call *k, const cJSON *v, char *out)
{
	char err[512];
	if (!cJSON_IsString(v)) {
		http_resp_error(k->resp, 400, v ? "invalid_field"
						: "missing_field",
				"url", "url must be an http:// or https:// URL "
				"string");
		return -1;
	}
	if (hooks_sign_url(v->valuestring, app_allow_private(k->c->app), out,
			   URL_BUF_SIZE, err, sizeof(err))) {
		http_resp_error(k->resp, 400, "invalid_url", "url", "%s", err);
		return -1;
	}
	return 0;
}

static int ah_secret(struct api_call *k, const cJSON *v)
{
	if (cJSON_IsString(v) && hooks_sign_secret_ok(v->valuestring))
		return 0;
	http_resp_error(k->resp, 400, "invalid_field", "secret",
			"secret must be %d to %d printable ASCII characters "
			"without spaces", HOOKS_SECRET_MIN, HOOKS_SECRET_MAX);
	return -1;
}

/* The fields of a POST or PATCH body into ch (pointing into body/url);
 * 0, or -1 with a 400 answered. */
static int ah_fields(struct api_call *k, const cJSON *body, char *url,
		     struct hooks_change *ch)
{
	const cJSON *v;
	*ch = (struct hooks_change){.active = -1};
	if ((v = cJSON_GetObjectItem(body, "url")) && ah_url(k, v, url))
		return -1;
	ch->url = v ? url : NULL;
	if ((v = cJSON_GetObjectItem(body, "secret")) && ah_secret(k, v))
		return -1;
	ch->secret = v ? v->valuestring : NULL;
	if ((v = cJSON_GetObjectItem(body, "events")) &&
	    ah_events(k, v, &ch->events))
		return -1;
	if ((v = cJSON_GetObjectItem(body, "active"))) {
		if (!cJSON_IsBool(v)) {
			http_resp_error(k->resp, 400, "invalid_field", "active",
					"active must be true or false");
			return -1;
		}
		ch->active = cJSON_IsTrue(v);
	}
	return 0;
}

/* ---- handlers ---- */

/* Answer with webhook id (status) as c has it, plus a generated secret. */
static void ah_answer(struct api_call *k, struct catalog *c, int64_t id,
		      int status, const char *secret)
{
	struct hooks_webhook *w = NULL;
	sc_result rc = hooks_store_get(c, id, &w);
	if (rc) {
		http_resp_result(k->resp, rc, "webhook");
		return;
	}
	cJSON *o = ah_hook_json(w);
	if (secret)
		cJSON_AddStringToObject(o, "secret", secret);
	hooks_webhook_free(&w);
	if (status == 201)
		http_resp_header(k->resp, "Location", "/api/webhooks/%lld",
				 (long long)id);
	http_resp_json(k->resp, status, o);
}

void api_webhook_create(struct api_call *k)
{
	char url[URL_BUF_SIZE], gen[HOOKS_SECRET_BUF];
	struct hooks_change ch;
	int64_t id = 0;
	cJSON *body = http_body_object(k->req, k->resp);
	if (!body)
		return;
	if (!ah_fields(k, body, url, &ch) && !ch.url)
		ah_url(k, NULL, url); /* 400: url is required */
	if (k->resp->status) {
		cJSON_Delete(body);
		return;
	}
	const char *made = NULL;
	if (!ch.secret && !hooks_sign_secret(gen))
		ch.secret = made = gen;
	struct catalog *c = ah_write(k);
	sc_result rc = !ch.secret ? SC_ERR_INTERNAL
		       : hooks_store_add(c, ch.url, ch.secret,
					 ch.events ? ch.events : HOOKS_EV_ALL, &id);
	if (!rc && ch.active == 0)
		rc = hooks_store_update(c, id, &ch);
	cJSON_Delete(body);
	if (rc == SC_ERR_BUSY)
		http_resp_error(k->resp, 409, "too_many", NULL,
				"at most %d webhooks", HOOKS_MAX);
	else if (rc)
		http_resp_result(k->resp, rc, "webhook");
	else
		ah_answer(k, c, id, 201, made);
	api_write_end(k);
}

void api_webhooks_list(struct api_call *k)
{
	struct hooks_webhook_list *l = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	sc_result rc = hooks_store_list(c, &l);
	app_read_end(k->c->app, c);
	if (rc) {
		http_resp_result(k->resp, rc, "webhooks");
		return;
	}
	cJSON *items = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(items, ah_hook_json(&l->items[i]));
	hooks_webhook_list_free(&l);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", items);
	http_resp_json(k->resp, 200, o);
}

void api_webhook_patch(struct api_call *k)
{
	char url[URL_BUF_SIZE];
	struct hooks_change ch;
	cJSON *body = http_body_object(k->req, k->resp);
	if (!body)
		return;
	if (ah_fields(k, body, url, &ch)) {
		cJSON_Delete(body);
		return;
	}
	struct catalog *c = ah_write(k);
	sc_result rc = hooks_store_update(c, k->id, &ch);
	cJSON_Delete(body);
	if (rc)
		http_resp_result(k->resp, rc, "webhook");
	else
		ah_answer(k, c, k->id, 200, NULL);
	api_write_end(k);
	if (!rc) /* activated: its pending deliveries are due */
		hooks_wake(k->c->app);
}

void api_webhook_delete(struct api_call *k)
{
	struct catalog *c = ah_write(k);
	sc_result rc = hooks_store_delete(c, k->id);
	if (rc)
		http_resp_result(k->resp, rc, "webhook");
	else
		http_resp_json(k->resp, 204, NULL);
	api_write_end(k);
}

void api_webhook_test(struct api_call *k)
{
	char ts[40];
	int64_t did = 0;
	struct hooks_webhook *w = NULL;
	sc_iso8601(sc_wall_ms(), ts, sizeof(ts));
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "type", "ping");
	cJSON_AddStringToObject(p, "ts", ts);
	cJSON_AddNumberToObject(p, "webhook", (double)k->id);
	cJSON_AddStringToObject(p, "message", "a test delivery from snapcat");
	char *payload = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	struct catalog *c = ah_write(k);
	sc_result rc = hooks_store_get(c, k->id, &w);
	int paused = !rc && !w->active;
	if (!rc && !paused)
		rc = hooks_store_ping(c, k->id, payload, &did);
	hooks_webhook_free(&w);
	cJSON_free(payload);
	if (rc) {
		http_resp_result(k->resp, rc, "webhook");
	} else if (paused) {
		http_resp_error(k->resp, 409, "conflict", NULL, "the webhook "
				"is paused (active: false); activate it first");
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "delivery", (double)did);
		cJSON_AddStringToObject(o, "state", "pending");
		http_resp_json(k->resp, 202, o);
	}
	api_write_end(k);
	if (!rc && !paused)
		hooks_wake(k->c->app);
}

void api_webhook_deliveries(struct api_call *k)
{
	const char *lim = http_arg(k->req, "limit"), *cur = http_arg(k->req, "cursor");
	long limit = AH_LIMIT_DEFAULT;
	int64_t before = cur ? api_parse_id(cur) : 0;
	if (lim && sc_parse_long(lim, 1, AH_LIMIT_MAX, &limit)) {
		http_resp_error(k->resp, 400, "invalid_field", "limit",
				"limit must be 1 to %d", AH_LIMIT_MAX);
		return;
	}
	if (cur && !before) {
		http_resp_error(k->resp, 400, "invalid_field", "cursor",
				"bad cursor");
		return;
	}
	struct hooks_delivery_list *l = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	sc_result rc = hooks_store_deliveries(c, k->id, before, (int)limit, &l);
	app_read_end(k->c->app, c);
	if (rc) {
		http_resp_result(k->resp, rc, "webhook");
		return;
	}
	char next[24] = "";
	cJSON *items = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(items, ah_delivery_json(&l->items[i]));
	if (l->next_cursor)
		snprintf(next, sizeof(next), "%lld", (long long)l->next_cursor);
	hooks_delivery_list_free(&l);
	http_resp_json(k->resp, 200, api_page_json(items, next));
}

/* /api/webhooks/{id}[/deliveries|/test] */

void api_webhook_get(struct api_call *k)
{
	struct catalog *c = app_read_begin(k->c->app);
	ah_answer(k, c, k->id, 200, NULL);
	app_read_end(k->c->app, c);
}
