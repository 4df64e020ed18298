/*
 * api_jobs.c — /api/jobs (list by state/link, cursor), /api/jobs/{id},
 * POST /api/jobs/{id}/cancel and /retry.
 *
 *   cancel -> catalog_job_cancel (was running? app_abort_job stops the
 *   capture) -> job.failed event with error class "canceled" (the event
 *   types of the contract are kept).
 *   POST /api/jobs/retry-failed {class?, tag?} -> every matching link whose
 *   newest job failed: that job queued again, one job.queued event each
 *   (older failed jobs of a link that was captured again are history).
 * Reads on this worker's reader; cancel and retries are units on the
 * writer, answered once committed (api_write_end).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "evtype.h"
#include "catalog.h"
#include "queue.h"

void api_jobs_list(struct api_call *k)
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
	struct catalog *c = app_read_begin(k->c->app);
	sc_result rc = catalog_jobs_list(c, &q, &l);
	app_read_end(k->c->app, c);
	if (rc) {
		http_resp_error(k->resp, 400, "invalid_field", "cursor",
				"bad cursor");
		return;
	}
	cJSON *items = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(items, api_job_json(&l->items[i]));
	cJSON *o = api_page_json(items, l->next_cursor);
	catalog_job_list_free(&l);
	http_resp_json(k->resp, 200, o);
}

/* Answer with the job as c has it. */
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
	struct catalog *c = app_write_begin(a);
	struct catalog_job *j = NULL;
	enum catalog_job_state was = CATALOG_JOB_QUEUED;
	sc_result rc = catalog_job_get(c, k->id, &j);
	if (!rc)
		rc = cancel ? catalog_job_cancel(c, k->id, &was)
			    : queue_retry(a, c, k->id, j->link_id);
	if (rc == SC_ERR_INVALID) {
		http_resp_error(k->resp, 409, "conflict", NULL,
				cancel ? "only a queued or running job can be "
					 "canceled" : "only a failed or canceled "
					 "job can be retried");
	} else {
		if (!rc && cancel) {
			cJSON *f = cJSON_CreateObject();
			cJSON *e = cJSON_AddObjectToObject(f, "error");
			cJSON_AddStringToObject(e, "class", "canceled");
			cJSON_AddStringToObject(e, "message", "canceled");
			app_event(a, c, EV_JOB_FAILED, k->id, j->link_id, f);
		}
		aj_reply(k, c, rc);
	}
	api_write_end(k);
	catalog_job_free(&j);
	if (!rc && cancel && was == CATALOG_JOB_RUNNING)
		app_abort_job(a, k->id);
	if (!rc && !cancel)
		app_kick(a);
}

/* Does the job's link carry tag (c: the writer, in the unit)? */
static int aj_has_tag(struct catalog *c, int64_t link, const char *tag)
{
	struct catalog_link *l = NULL;
	char norm[CATALOG_TAG_BUF];
	int has = 0;
	if (catalog_tag_normalize(tag, norm, sizeof(norm)) ||
	    catalog_link_get(c, link, &l))
		return 0;
	for (size_t i = 0; i < l->ntags && !has; i++)
		has = !strcmp(l->tags[i], norm);
	catalog_link_free(&l);
	return has;
}

/* Retry the failed jobs of one page that match; returns how many. */
static int aj_retry_page(struct api_call *k, struct catalog *c,
			 const struct catalog_job_list *l, const char *cls,
			 const char *tag)
{
	int n = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct catalog_job *j = &l->items[i];
		if ((cls && (!j->error_class || strcmp(j->error_class, cls))) ||
		    (tag && !aj_has_tag(c, j->link_id, tag)) ||
		    queue_retry(k->c->app, c, j->id, j->link_id))
			continue;
		n++;
	}
	return n;
}

/* POST /api/jobs/retry-failed {class?, tag?}: the newest job of each link,
 * when it failed, again. */
void api_jobs_retry_failed(struct api_call *k)
{
	cJSON *body = k->req->body.len ? http_body_object(k->req, k->resp)
				       : cJSON_CreateObject();
	if (!body)
		return;
	const cJSON *cls = cJSON_GetObjectItem(body, "class");
	const cJSON *tag = cJSON_GetObjectItem(body, "tag");
	if ((cls && !cJSON_IsString(cls)) || (tag && !cJSON_IsString(tag))) {
		http_resp_error(k->resp, 400, "invalid_field", cls && !cJSON_IsString(cls)
				? "class" : "tag", "class and tag must be strings");
		cJSON_Delete(body);
		return;
	}
	struct catalog_job_query q = {.state = CATALOG_JOB_FAILED,
				      .limit = CATALOG_LIST_MAX, .latest = 1};
	int total = 0;
	char cursor[CATALOG_CURSOR_SIZE] = "";
	struct catalog *c = app_write_begin(k->c->app);
	for (;;) {
		struct catalog_job_list *l = NULL;
		q.cursor = cursor[0] ? cursor : NULL;
		if (catalog_jobs_list(c, &q, &l))
			break;
		total += aj_retry_page(k, c, l, cls ? cls->valuestring : NULL,
				       tag ? tag->valuestring : NULL);
		snprintf(cursor, sizeof(cursor), "%s", l->next_cursor);
		catalog_job_list_free(&l);
		if (!cursor[0])
			break;
	}
	cJSON_Delete(body);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "retried", total);
	http_resp_json(k->resp, 200, o);
	api_write_end(k);
	if (total)
		app_kick(k->c->app);
}

void api_job_get(struct api_call *k)
{
	struct catalog *c = app_read_begin(k->c->app);
	aj_reply(k, c, SC_OK);
	app_read_end(k->c->app, c);
}

void api_job_cancel(struct api_call *k) { aj_action(k, 1); }

void api_job_retry(struct api_call *k) { aj_action(k, 0); }
