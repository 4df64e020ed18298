/*
 * api_jobs.c — /api/jobs (list by state/link, cursor), /api/jobs/{id},
 * POST /api/jobs/{id}/cancel and /retry.
 *
 *   cancel -> catalog_job_cancel (was running? app_abort_job stops the
 *   capture) -> job.failed-like event "job.canceled"? No: the contract's
 *   types are kept: a canceled job emits job.failed with error "canceled".
 */
#include <string.h>

#include "api.h"
#include "app.h"
#include "catalog.h"

static void aj_list(struct api_call *k)
{
	const char *st = http_arg(k->req, "state"), *lim = http_arg(k->req, "limit");
	const char *link = http_arg(k->req, "link");
	long limit = 0;
	struct catalog_job_query q = {.state = CATALOG_JOB_ANY,
				      .cursor = http_arg(k->req, "cursor")};
	if (st && strcmp(st, "any") && catalog_job_state_parse(st, &q.state)) {
		http_resp_error(k->resp, 400, "invalid_field", "state",
				"state must be queued, running, done, failed "
				"or canceled");
		return;
	}
	if (lim && sc_parse_long(lim, 1, CATALOG_LIST_MAX, &limit)) {
		http_resp_error(k->resp, 400, "invalid_field", "limit",
				"limit must be 1 to %d", CATALOG_LIST_MAX);
		return;
	}
	if (link && !(q.link_id = api_parse_id(link))) {
		http_resp_error(k->resp, 400, "invalid_field", "link",
				"link must be a link id");
		return;
	}
	q.limit = (int)limit;
	struct catalog_job_list *l = NULL;
	struct catalog *c = app_db_lock(k->c->app);
	sc_result rc = catalog_jobs_list(c, &q, &l);
	app_db_unlock(k->c->app);
	if (rc) {
		http_resp_error(k->resp, 400, "invalid_field", "cursor",
				"bad cursor");
		return;
	}
	cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(items, api_job_json(&l->items[i]));
	if (l->next_cursor[0])
		cJSON_AddStringToObject(o, "next_cursor", l->next_cursor);
	else
		cJSON_AddNullToObject(o, "next_cursor");
	catalog_job_list_free(&l);
	http_resp_json(k->resp, 200, o);
}

/* Answer with the job (lock held). */
static void aj_reply(struct api_call *k, struct catalog *c, sc_result rc)
{
	struct catalog_job *j = NULL;
	if (!rc)
		rc = catalog_job_get(c, k->id, &j);
	if (rc)
		http_resp_result(k->resp, rc, "job");
	else
		http_resp_json(k->resp, 200, api_job_json(j));
	catalog_job_free(&j);
}

static void aj_action(struct api_call *k, int cancel)
{
	struct app *a = k->c->app;
	struct catalog *c = app_db_lock(a);
	struct catalog_job *j = NULL;
	enum catalog_job_state was = CATALOG_JOB_QUEUED;
	sc_result rc = catalog_job_get(c, k->id, &j);
	if (!rc)
		rc = cancel ? catalog_job_cancel(c, k->id, &was)
			    : catalog_job_retry(c, k->id);
	if (rc == SC_ERR_INVALID) {
		http_resp_error(k->resp, 409, "conflict", NULL,
				cancel ? "only a queued or running job can be "
					 "canceled" : "only a failed or canceled "
					 "job can be retried");
	} else {
		if (!rc) {
			cJSON *f = cJSON_CreateObject();
			if (cancel) {
				cJSON *e = cJSON_AddObjectToObject(f, "error");
				cJSON_AddStringToObject(e, "class", "canceled");
				cJSON_AddStringToObject(e, "message", "canceled");
			}
			app_event(a, c, cancel ? "job.failed" : "job.queued",
				  k->id, j->link_id, f);
		}
		aj_reply(k, c, rc);
	}
	app_db_unlock(a);
	catalog_job_free(&j);
	if (!rc && cancel && was == CATALOG_JOB_RUNNING)
		app_abort_job(a, k->id);
	if (!rc && !cancel)
		app_kick(a);
}

void api_jobs(struct api_call *k)
{
	enum http_method m = k->req->method;
	int get = m == HTTP_GET || m == HTTP_HEAD;
	if (k->nseg == 1) {
		if (get)
			aj_list(k);
		else
			api_method_not_allowed(k, "GET, HEAD");
		return;
	}
	int cancel = k->nseg == 3 && !strcmp(k->seg[2], "cancel");
	int retry = k->nseg == 3 && !strcmp(k->seg[2], "retry");
	if (!k->id || k->nseg > 3 || (k->nseg == 3 && !cancel && !retry)) {
		http_resp_error(k->resp, 404, "not_found", NULL, "no such job");
		return;
	}
	if (k->nseg == 2 && !get) {
		api_method_not_allowed(k, "GET, HEAD");
	} else if (k->nseg == 3 && m != HTTP_POST) {
		api_method_not_allowed(k, "POST");
	} else if (k->nseg == 2) {
		struct catalog *c = app_db_lock(k->c->app);
		aj_reply(k, c, SC_OK);
		app_db_unlock(k->c->app);
	} else {
		aj_action(k, cancel);
	}
}
