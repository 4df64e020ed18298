/*
 * api_links.c — /api/links: add (normalise, dedupe, tag, queue a job), list
 * (tags all/any, full-text q, cursor), get, patch (title, tags), delete
 * (with the files), the snapshot history and recapture.
 *
 *   POST /api/links -> url_normalize -> SSRF guard -> a unit on the writer:
 *   queue_link (link, tags, job, job.queued), the answer {link, job} read
 *   inside it -> api_write_end (sent once committed) -> kick
 *   GET /api/links, one link, its snapshots -> this worker's reader
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api.h"
#include "app.h"
#include "evtype.h"
#include "capopts.h"
#include "queue.h"
#include "catalog.h"
#include "resolve.h"
#include "url.h"

/* ---- input checks ---- */

/* tags: absent, or an array of strings. Fills tags[] (borrowed). */
static int al_tags(struct api_call *k, const cJSON *body, const char **tags,
		   size_t *n)
{
	const cJSON *t = cJSON_GetObjectItem(body, "tags");
	*n = 0;
	if (!t || cJSON_IsNull(t))
		return 0;
	if (!cJSON_IsArray(t)) {
		http_resp_error(k->resp, 400, "invalid_field", "tags",
				"tags must be an array of strings");
		return -1;
	}
	for (const cJSON *it = t->child; it; it = it->next) {
		char norm[CATALOG_TAG_BUF];
		if (*n == CATALOG_TAGS_MAX) {
			http_resp_error(k->resp, 400, "invalid_field", "tags",
					"at most %d tags", CATALOG_TAGS_MAX);
			return -1;
		}
		if (!cJSON_IsString(it) ||
		    catalog_tag_normalize(it->valuestring, norm, sizeof(norm))) {
			http_resp_error(k->resp, 400, "invalid_field", "tags",
					"each tag must be a string of 1 to %d "
					"characters without control characters",
					CATALOG_TAG_MAX);
			return -1;
		}
		tags[(*n)++] = it->valuestring;
	}
	return 0;
}

/* Why host must not be captured (a private address, a localhost name),
 * or NULL. A name that does not resolve now is accepted: the capture's
 * guard refuses it then if it still does not (class "dns"). */
static const char *al_private_reason(const struct url_parts *p)
{
	static __thread struct resolve_result r;
	char err[256];
	int lookup;
	const char *why = resolve_quick_reason(p->host, &lookup);
	if (!lookup || resolve_host(p->host, p->port, &r, err, sizeof(err)))
		return why;
	return resolve_private_reason(&r) ? "a private or local address" : NULL;
}

/* url: required string, normalised into out; the SSRF guard. */
static int al_url(struct api_call *k, const cJSON *body, char *out,
		  size_t outlen)
{
	const cJSON *u = cJSON_GetObjectItem(body, "url");
	char err[300];
	if (!cJSON_IsString(u)) {
		http_resp_error(k->resp, 400, u ? "invalid_field" : "missing_field",
				"url", "url must be a string (the page to capture)");
		return -1;
	}
	if (url_normalize(u->valuestring, out, outlen, err, sizeof(err))) {
		http_resp_error(k->resp, 400, "invalid_url", "url", "%s", err);
		return -1;
	}
	static __thread struct url_parts tp; /* 8.5 KiB: off the stack */
	if (!app_allow_private(k->c->app) && !url_split(out, &tp)) {
		const char *why = al_private_reason(&tp);
		if (why) {
			http_resp_error(k->resp, 400, "private_address", "url",
					"%s is %s; start the server with "
					"--allow-private to capture it", tp.host,
					why);
			return -1;
		}
	}
	return 0;
}

/* options: absent, null, or an object of known, typed fields (capopts.c),
 * copied as JSON into *json (NULL if absent). A secret given as "***"
 * keeps its value from stored (the link's options, or NULL). */
static int al_options(struct api_call *k, const cJSON *body,
		      const char *stored, char **json)
{
	const cJSON *o = cJSON_GetObjectItem(body, "options");
	char err[300];
	*json = NULL;
	if (!o || cJSON_IsNull(o))
		return 0;
	if (capopts_check(o, stored, json, err, sizeof(err)) == SC_OK)
		return 0;
	http_resp_error(k->resp, 400, "invalid_field", "options", "%s", err);
	return -1;
}

/* ---- POST /api/links ---- */

/* {link, job} of a link and job just written (c: the writer, in the
 * unit that wrote them). */
static cJSON *al_link_and_job(struct catalog *c, int64_t link, int64_t job)
{
	struct catalog_link *l = NULL;
	struct catalog_job *j = NULL;
	cJSON *o = cJSON_CreateObject();
	if (catalog_link_get(c, link, &l) == SC_OK)
		cJSON_AddItemToObject(o, "link", api_link_json(c, l));
	if (job && catalog_job_get(c, job, &j) == SC_OK)
		cJSON_AddItemToObject(o, "job", api_job_json(j));
	catalog_link_free(&l);
	catalog_job_free(&j);
	return o;
}

void api_links_create(struct api_call *k)
{
	static __thread char url[URL_BUF_SIZE];
	const char *tags[CATALOG_TAGS_MAX];
	size_t ntags;
	char *opts = NULL;
	cJSON *body = http_body_object(k->req, k->resp);
	if (!body || al_url(k, body, url, sizeof(url)) ||
	    al_tags(k, body, tags, &ntags) || al_options(k, body, NULL, &opts)) {
		cJSON_Delete(body);
		return;
	}
	int64_t link = 0, job = 0;
	int created = 0;
	struct app *a = k->c->app;
	struct catalog *c = app_write_begin(a);
	sc_result rc = queue_link(a, c, url, tags, ntags, opts, &link,
				  &created, &job);
	if (rc == SC_ERR_BUSY) {
		http_resp_error(k->resp, 503, "queue_full", NULL,
				"the capture queue is full; try again later");
		http_resp_header(k->resp, "Retry-After", "30");
	} else if (rc) {
		http_resp_result(k->resp, rc, "link");
	} else {
		http_resp_json(k->resp, created ? 201 : 200,
			       al_link_and_job(c, link, job));
		http_resp_header(k->resp, "Location", "/api/links/%lld",
				 (long long)link);
	}
	api_write_end(k);
	if (!rc)
		app_kick(a);
	cJSON_free(opts);
	cJSON_Delete(body);
}

/* ---- GET /api/links ---- */

void api_links_list(struct api_call *k)
{
	const char *tags[CATALOG_TAGS_MAX];
	const char *match = http_arg(k->req, "match"), *lim = http_arg(k->req, "limit");
	long limit = 0;
	struct catalog_link_query q = {
		.tags = tags, .ntags = (size_t)http_args(k->req, "tag", tags,
							 CATALOG_TAGS_MAX),
		.q = http_arg(k->req, "q"), .cursor = http_arg(k->req, "cursor")};
	if (match && strcmp(match, "all") && strcmp(match, "any"))
		{
			http_resp_error(k->resp, 400, "invalid_field", "match",
					       "match must be all or any");
			return;
		}
	if (lim && sc_parse_long(lim, 1, CATALOG_LIST_MAX, &limit))
		{
			http_resp_error(k->resp, 400, "invalid_field", "limit",
					       "limit must be 1 to %d", CATALOG_LIST_MAX);
			return;
		}
	q.match = match && !strcmp(match, "any") ? CATALOG_MATCH_ANY
						 : CATALOG_MATCH_ALL;
	q.limit = (int)limit;
	struct catalog_link_list *l = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	int reading = catalog_read_begin(c) == SC_OK; /* one lock, not 100 */
	sc_result rc = catalog_links_list(c, &q, &l);
	if (rc) {
		if (reading)
			catalog_read_end(c);
		if (rc == SC_ERR_DB || rc == SC_ERR_BUSY) /* not the query's fault */
			http_resp_result(k->resp, rc, "links");
		else
			http_resp_error(k->resp, rc == SC_ERR_TOO_LARGE ? 413 : 400,
					"invalid_query", NULL, "bad filter: %s",
					catalog_errmsg(c));
		app_read_end(k->c->app, c);
		return;
	}
	cJSON *items = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(items, api_link_json(c, &l->items[i]));
	/* The newest event this page already reflects (same read
	 * transaction: an event commits with its state change): subscribing
	 * with last_event_id=it misses nothing. */
	int64_t newest = 0;
	(void)!catalog_events_bounds(c, NULL, &newest);
	if (reading)
		catalog_read_end(c);
	app_read_end(k->c->app, c);
	cJSON *o = api_page_json(items, l->next_cursor);
	cJSON_AddNumberToObject(o, "event_id", (double)newest);
	catalog_link_list_free(&l);
	http_resp_json(k->resp, 200, o);
}

/* ---- one link ---- */

/* Answer with link k->id as c has it. */
static void al_answer(struct api_call *k, struct catalog *c, int status)
{
	struct catalog_link *l = NULL;
	sc_result rc = catalog_link_get(c, k->id, &l);
	if (rc)
		http_resp_result(k->resp, rc, "link");
	else
		http_resp_json(k->resp, status, api_link_json(c, l));
	catalog_link_free(&l);
}

static void al_get(struct api_call *k, int status)
{
	struct catalog *c = app_read_begin(k->c->app);
	al_answer(k, c, status);
	app_read_end(k->c->app, c);
}

/* The link's stored options (JSON text, caller frees), or NULL. */
static char *al_stored_options(struct api_call *k)
{
	struct catalog_link *l = NULL;
	char *o = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	if (catalog_link_get(c, k->id, &l) == SC_OK && l->options)
		o = sc_xstrdup(l->options);
	app_read_end(k->c->app, c);
	catalog_link_free(&l);
	return o;
}

/* What PATCH changes; title/opts NULL and set_* 0 leave a field alone. */
struct api_link_patch {
	const cJSON *title;
	const char **tags;
	size_t ntags;
	int set_tags, set_opts;
	char *opts; /* NULL with set_opts: cleared */
};

static sc_result al_patch_tx(struct catalog *c, int64_t id,
			     const struct api_link_patch *p)
{
	sc_result rc;
	if ((rc = catalog_tx_begin(c)))
		return rc;
	if (p->title)
		rc = catalog_link_set_title(c, id, cJSON_IsString(p->title)
							   ? p->title->valuestring
							   : NULL);
	if (!rc && p->set_tags)
		rc = catalog_link_set_tags(c, id, p->tags, p->ntags);
	if (!rc && p->set_opts)
		rc = catalog_link_set_options(c, id, p->opts);
	if (rc) {
		catalog_tx_rollback(c);
		return rc;
	}
	return catalog_tx_commit(c);
}

void api_link_patch(struct api_call *k)
{
	const char *tags[CATALOG_TAGS_MAX];
	struct api_link_patch p = {.tags = tags};
	char *stored = NULL;
	cJSON *body = http_body_object(k->req, k->resp);
	if (!body)
		return;
	p.title = cJSON_GetObjectItem(body, "title");
	p.set_tags = cJSON_GetObjectItem(body, "tags") != NULL;
	p.set_opts = cJSON_GetObjectItem(body, "options") != NULL;
	if (p.set_opts)
		stored = al_stored_options(k);
	if (p.title && !cJSON_IsString(p.title) && !cJSON_IsNull(p.title)) {
		http_resp_error(k->resp, 400, "invalid_field", "title",
				"title must be a string or null");
	} else if (!al_tags(k, body, tags, &p.ntags) &&
		   !al_options(k, body, stored, &p.opts)) {
		struct app *a = k->c->app;
		struct catalog *c = app_write_begin(a);
		sc_result rc = al_patch_tx(c, k->id, &p);
		if (!rc)
			app_event(a, c, EV_LINK_UPDATED, 0, k->id, NULL);
		if (rc)
			http_resp_result(k->resp, rc, "link");
		else
			al_answer(k, c, 200); /* as written: on the writer */
		api_write_end(k);
	}
	cJSON_free(p.opts);
	free(stored);
	cJSON_Delete(body);
}

void api_link_delete(struct api_call *k)
{
	struct catalog_strv *files = NULL;
	struct catalog_job_query jq = {.state = CATALOG_JOB_RUNNING,
				       .link_id = k->id};
	struct catalog_job_list *running = NULL;
	struct app *a = k->c->app;
	struct catalog *c = app_write_begin(a);
	(void)!catalog_jobs_list(c, &jq, &running);
	sc_result rc = catalog_link_delete(c, k->id, &files);
	if (!rc)
		app_event(a, c, EV_LINK_DELETED, 0, k->id, NULL);
	sc_result crc = app_write_end(a); /* the files go once it is stored */
	if (!rc && crc) {
		rc = crc;
		catalog_strv_free(&files);
	}
	for (size_t i = 0; running && !rc && i < running->n; i++)
		app_abort_job(a, running->items[i].id);
	catalog_job_list_free(&running);
	for (size_t i = 0; files && i < files->n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", app_data_dir(a), files->v[i]);
		(void)!sc_remove_tree(path);
	}
	catalog_strv_free(&files);
	if (!rc) { /* the link's own folder, now empty */
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/snapshots/%lld", app_data_dir(a),
			 (long long)k->id);
		(void)!sc_remove_tree(dir);
	}
	if (rc)
		http_resp_result(k->resp, rc, "link");
	else
		http_resp_json(k->resp, 204, NULL);
}

/* ---- /api/links/{id}/snapshots ---- */

void api_link_snapshots(struct api_call *k)
{
	const char *lim = http_arg(k->req, "limit");
	long limit = 0;
	if (lim && sc_parse_long(lim, 1, CATALOG_LIST_MAX, &limit))
		{
			http_resp_error(k->resp, 400, "invalid_field", "limit",
					       "limit must be 1 to %d", CATALOG_LIST_MAX);
			return;
		}
	struct catalog_snapshot_list *l = NULL;
	struct catalog_link *link = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	sc_result rc = catalog_link_get(c, k->id, &link);
	if (!rc)
		rc = catalog_snapshots_list(c, k->id, http_arg(k->req, "cursor"),
					    (int)limit, &l);
	app_read_end(k->c->app, c);
	catalog_link_free(&link);
	if (rc)
		{
			http_resp_result(k->resp, rc, rc == SC_ERR_NOT_FOUND
								     ? "link" : "cursor");
			return;
		}
	cJSON *items = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(items, api_snapshot_json(&l->items[i]));
	cJSON *o = api_page_json(items, l->next_cursor);
	catalog_snapshot_list_free(&l);
	http_resp_json(k->resp, 200, o);
}

void api_link_recapture(struct api_call *k)
{
	char *opts = NULL, *stored = NULL;
	cJSON *body = k->req->body.len ? http_body_object(k->req, k->resp)
				       : cJSON_CreateObject();
	if (body && cJSON_GetObjectItem(body, "options"))
		stored = al_stored_options(k);
	int bad = !body || al_options(k, body, stored, &opts);
	free(stored);
	if (bad) {
		cJSON_Delete(body);
		return;
	}
	int64_t job = 0;
	struct app *a = k->c->app;
	struct catalog *c = app_write_begin(a);
	struct catalog_link *l = NULL;
	sc_result rc = catalog_link_get(c, k->id, &l);
	if (!rc && app_queue_full(a, c))
		rc = SC_ERR_BUSY;
	if (!rc)
		rc = queue_job(a, c, k->id, l->url, opts, 0, &job);
	if (!rc) {
		cJSON *o = al_link_and_job(c, k->id, job);
		cJSON_DeleteItemFromObject(o, "link");
		http_resp_json(k->resp, 202, o);
	} else {
		http_resp_result(k->resp, rc, "link");
	}
	api_write_end(k);
	catalog_link_free(&l);
	if (!rc)
		app_kick(a);
	cJSON_free(opts);
	cJSON_Delete(body);
}

void api_link_get(struct api_call *k) { al_get(k, 200); }
