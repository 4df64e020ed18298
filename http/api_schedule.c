/*
 * api_schedule.c — recapture schedules and retention, of a link or a tag:
 *
 *   GET|PUT /api/links/{id}/schedule   {schedule, keep_last, keep_changed}
 *   GET|PUT /api/tags/{name}/schedule  (for its links without their own)
 *
 *   PUT -> validate (recur_parse) -> catalog_*_set_schedule (a link's first
 *   run: recur_next) -> app_schedules_changed -> the schedule's JSON
 * schedule null (or absent) clears it; keep_last null or 0 keeps all.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "catalog.h"
#include "recur.h"

#define AS_KEEP_MAX 100000

/* The body's fields into s (spec points into body). 0 ok, -1 answered. */
static int as_body(struct api_call *k, const cJSON *body,
		   struct catalog_schedule *s)
{
	const cJSON *sp = cJSON_GetObjectItem(body, "schedule");
	const cJSON *kl = cJSON_GetObjectItem(body, "keep_last");
	const cJSON *kc = cJSON_GetObjectItem(body, "keep_changed");
	char err[200];
	struct recur r;
	if (sp && !cJSON_IsNull(sp) &&
	    (!cJSON_IsString(sp) || recur_parse(sp->valuestring, &r, err,
						sizeof(err)))) {
		http_resp_error(k->resp, 400, "invalid_field", "schedule", "%s",
				cJSON_IsString(sp) ? err : "schedule must be a "
				"string or null");
		return -1;
	}
	if (kl && !cJSON_IsNull(kl) &&
	    (!cJSON_IsNumber(kl) || kl->valuedouble < 0 ||
	     kl->valuedouble > AS_KEEP_MAX ||
	     kl->valuedouble != (double)(int)kl->valuedouble)) {
		http_resp_error(k->resp, 400, "invalid_field", "keep_last",
				"keep_last must be 0 to %d or null", AS_KEEP_MAX);
		return -1;
	}
	if (kc && !cJSON_IsBool(kc)) {
		http_resp_error(k->resp, 400, "invalid_field", "keep_changed",
				"keep_changed must be true or false");
		return -1;
	}
	s->spec = cJSON_IsString(sp) ? sp->valuestring : NULL;
	s->keep_last = cJSON_IsNumber(kl) ? kl->valueint : 0;
	s->keep_changed = cJSON_IsTrue(kc);
	return 0;
}

static cJSON *as_json(const char *spec, int keep_last, int keep_changed)
{
	cJSON *o = cJSON_CreateObject();
	if (spec)
		cJSON_AddStringToObject(o, "schedule", spec);
	else
		cJSON_AddNullToObject(o, "schedule");
	if (keep_last > 0)
		cJSON_AddNumberToObject(o, "keep_last", keep_last);
	else
		cJSON_AddNullToObject(o, "keep_last");
	cJSON_AddBoolToObject(o, "keep_changed", keep_changed);
	return o;
}

cJSON *api_link_schedule_json(const struct catalog_link *l)
{
	cJSON *o = as_json(l->schedule, l->keep_last, l->keep_changed);
	if (l->schedule_effective && !l->schedule)
		cJSON_AddStringToObject(o, "from_tags", l->schedule_effective);
	else
		cJSON_AddNullToObject(o, "from_tags");
	if (l->next_capture_at)
		http_json_time(o, "next_capture_at", l->next_capture_at);
	else
		cJSON_AddNullToObject(o, "next_capture_at");
	return o;
}

/* The link's schedule JSON after a change (or for GET). */
static void as_link_answer(struct api_call *k, struct catalog *c)
{
	struct catalog_link *l = NULL;
	sc_result rc = catalog_link_get(c, k->id, &l);
	if (rc)
		http_resp_result(k->resp, rc, "link");
	else
		http_resp_json(k->resp, 200, api_link_schedule_json(l));
	catalog_link_free(&l);
}

void api_link_schedule_put(struct api_call *k)
{
	cJSON *body = http_body_object(k->req, k->resp);
	struct catalog_schedule s = {0};
	if (!body || as_body(k, body, &s)) {
		cJSON_Delete(body);
		return;
	}
	struct recur r;
	if (s.spec && recur_parse(s.spec, &r, NULL, 0) == SC_OK)
		s.next_at = recur_next(&r, k->id, sc_wall_ms());
	struct app *a = k->c->app;
	struct catalog *c = app_write_begin(a);
	sc_result rc = catalog_link_set_schedule(c, k->id, &s);
	if (rc)
		http_resp_result(k->resp, rc, "link");
	else
		as_link_answer(k, c);
	api_write_end(k);
	cJSON_Delete(body);
	if (!rc)
		app_schedules_changed(a);
}

void api_link_schedule_get(struct api_call *k)
{
	struct catalog *c = app_read_begin(k->c->app);
	as_link_answer(k, c);
	app_read_end(k->c->app, c);
}
/* The tag's schedule JSON, with how many links it has. */
static void as_tag_answer(struct api_call *k, struct catalog *c,
			  const char *name)
{
	struct catalog_schedule s = {0};
	char *spec = NULL;
	int64_t n = 0;
	sc_result rc = catalog_tag_schedule(c, name, &s, &spec, &n);
	if (rc) {
		http_resp_result(k->resp, rc, "tag");
		return;
	}
	cJSON *o = as_json(spec, s.keep_last, s.keep_changed);
	cJSON_AddStringToObject(o, "tag", name);
	cJSON_AddNumberToObject(o, "links", (double)n);
	http_resp_json(k->resp, 200, o);
	free(spec);
}

void api_tag_schedule(struct api_call *k)
{
	enum http_method m = k->req->method;
	const char *name = k->name;
	cJSON *body = m == HTTP_PUT ? http_body_object(k->req, k->resp) : NULL;
	struct catalog_schedule s = {0};
	if (m == HTTP_PUT && (!body || as_body(k, body, &s))) {
		cJSON_Delete(body);
		return;
	}
	struct app *a = k->c->app;
	int put = m == HTTP_PUT;
	struct catalog *c = put ? app_write_begin(a) : app_read_begin(a);
	sc_result rc = put ? catalog_tag_set_schedule(c, name, &s) : SC_OK;
	if (rc)
		http_resp_result(k->resp, rc, "tag");
	else
		as_tag_answer(k, c, name);
	if (put)
		api_write_end(k);
	else
		app_read_end(a, c);
	cJSON_Delete(body);
	if (m == HTTP_PUT && !rc)
		app_schedules_changed(a);
}
