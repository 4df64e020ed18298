/*
 * api.h — the REST API handlers (router.c and api_*.c), one per route of
 * routes.c's table. They run on worker threads with a plain http_req in
 * and an http_resp out. Reads go to the worker's reader (app_read_begin);
 * a write is one unit on the writer (app_write_begin) that builds its
 * answer inside (it sees its own writes) and ends with api_write_end: the
 * answer is sent once the writes are committed.
 *
 *   server.c -> api_dispatch -> token -> route_match -> the route's
 *            handler -> http_resp
 */
#ifndef HTTP_API_H
#define HTTP_API_H

#include "req.h"

struct app;

struct api_ctx {
	struct app *app;
	const char *token; /* NULL: open */
};

/* Answer req into resp (always sets resp->status). Worker thread. */
void api_dispatch(const struct api_ctx *c, struct http_req *req,
		  struct http_resp *resp);

/* End the handler's unit on the writer (app_write_begin): k->resp is sent
 * once the batch holding it is committed (a 503 instead if it is not; the
 * answer is built before this call, and the handler touches k->resp no
 * more). Worker thread. */
struct api_call;
void api_write_end(struct api_call *k);

/* Does req carry the token (Bearer header or ?token=)? Constant time. */
int api_authorized(const struct api_ctx *c, const struct http_req *req);

/* ---- handlers: one per route (routes.c has the table) ---- */
struct api_call {
	const struct api_ctx *c;
	struct http_req *req;
	struct http_resp *resp;
	int64_t id;         /* the route's {id}, 0 if none */
	const char *name;   /* the route's {name} (decoded), "" if none */
};

/* links (api_links.c, api_schedule.c) */
void api_links_list(struct api_call *k);
/* POST /api/links and POST /api/snapshots: add a link, queue a job. */
void api_links_create(struct api_call *k);
void api_link_get(struct api_call *k);
void api_link_patch(struct api_call *k);
void api_link_delete(struct api_call *k);
void api_link_snapshots(struct api_call *k);
void api_link_recapture(struct api_call *k);
void api_link_schedule_get(struct api_call *k);
void api_link_schedule_put(struct api_call *k);
/* snapshots (api_snapshots.c): the JSON, a file (png, thumb.png, mhtml,
 * diff.png) with ETag and Range, or the stored page text (text) */
void api_snapshot_get(struct api_call *k);
void api_snapshot_file(struct api_call *k);
/* the browsable copy (api_page.c): …/page is the main HTML (part -1),
 * …/page/{n} part n of the MHTML, URLs rewritten, under a CSP that allows
 * no script */
void api_snapshot_page(struct api_call *k, int part);
void api_snapshot_page_part(struct api_call *k);
/* jobs (api_jobs.c) */
void api_jobs_list(struct api_call *k);
void api_jobs_retry_failed(struct api_call *k);
void api_job_get(struct api_call *k);
void api_job_cancel(struct api_call *k);
void api_job_retry(struct api_call *k);
/* tags (api_tags.c, api_schedule.c) */
void api_tags_list(struct api_call *k);
void api_tag_rename(struct api_call *k);
void api_tag_delete(struct api_call *k);
/* GET and PUT /api/tags/{name}/schedule */
void api_tag_schedule(struct api_call *k);
/* GET /api/browsers: the browser pool (api_browsers.c) */
void api_browsers(struct api_call *k);
/* import, export, backup (api_io.c, api_export.c) */
void api_import(struct api_call *k);
void api_imports_list(struct api_call *k);
void api_import_get(struct api_call *k);
void api_export(struct api_call *k);
void api_backup_start(struct api_call *k);
void api_backup_get(struct api_call *k);
/* webhooks (api_hooks.c) */
void api_webhooks_list(struct api_call *k);
void api_webhook_create(struct api_call *k);
void api_webhook_get(struct api_call *k);
void api_webhook_patch(struct api_call *k);
void api_webhook_delete(struct api_call *k);
void api_webhook_deliveries(struct api_call *k);
void api_webhook_test(struct api_call *k);
/* The body cap of a request (server.c): API_IMPORT_BODY_MAX for
 * POST /api/import, HTTP_BODY_MAX otherwise. */
#define API_IMPORT_BODY_MAX (64u << 20)
size_t api_body_cap(const struct http_req *req);
/* /api/links/{id}/schedule and /api/tags/{name}/schedule (api_schedule.c) */
struct catalog_link;
cJSON *api_link_schedule_json(const struct catalog_link *l);

/* JSON of catalog objects (api_json.c). */
struct catalog;
struct catalog_link;
struct catalog_job;
struct catalog_snapshot;
cJSON *api_link_json(struct catalog *c, const struct catalog_link *l);
/* A link's own fields (id, url, title, tags, times): the start of
 * api_link_json, and a link in an export. */
cJSON *api_link_base_json(const struct catalog_link *l);
cJSON *api_job_json(const struct catalog_job *j);
cJSON *api_snapshot_json(const struct catalog_snapshot *s);

/* Keep only the fields named in keep (NULL-terminated) of object o, in
 * o's order; returns o. */
cJSON *api_json_pick(cJSON *o, const char *const *keep);

/* {"items": items, "next_cursor": cursor or null} (items consumed). */
cJSON *api_page_json(cJSON *items, const char *cursor);

/* Parse a positive id ("12"); 0 if not one. */
int64_t api_parse_id(const char *s);

#endif
