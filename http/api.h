/*
 * api.h — the REST API handlers (router.c and api_*.c). They run on worker
 * threads with a plain http_req in and an http_resp out; the catalog is
 * reached through app_db_lock.
 *
 *   server.c -> api_dispatch -> auth -> route -> api_links_* / api_jobs_*
 *            / api_snapshots_* / api_tags_* -> http_resp
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

/* Does req carry the token (Bearer header or ?token=)? Constant time. */
int api_authorized(const struct api_ctx *c, const struct http_req *req);

/* ---- handlers: path segments after /api/<resource>/ are in seg ---- */
struct api_call {
	const struct api_ctx *c;
	struct http_req *req;
	struct http_resp *resp;
	const char *seg[6]; /* decoded path segments after "api" */
	int nseg;
	int64_t id;         /* seg[1] as a number, 0 if none/invalid */
};

void api_links(struct api_call *k);
/* POST /api/links (also POST /api/snapshots): add a link, queue a job. */
void api_links_create(struct api_call *k);
void api_snapshots(struct api_call *k);
void api_jobs(struct api_call *k);
void api_tags(struct api_call *k);
/* GET /api/browsers: the browser pool (api_browsers.c) */
void api_browsers(struct api_call *k);
/* Import, export, backup (api_io.c, api_export.c): POST /api/import,
 * GET /api/imports[/{id}], GET /api/export, POST /api/backup,
 * GET /api/backups/{id}. */
void api_import(struct api_call *k);
void api_imports(struct api_call *k);
void api_export(struct api_call *k);
void api_backup(struct api_call *k);
/* /api/webhooks[/{id}[/deliveries|/test]] (api_hooks.c) */
void api_webhooks(struct api_call *k);
/* The body cap of a request (server.c): API_IMPORT_BODY_MAX for
 * POST /api/import, HTTP_BODY_MAX otherwise. */
#define API_IMPORT_BODY_MAX (64u << 20)
size_t api_body_cap(const struct http_req *req);
/* /api/links/{id}/schedule and /api/tags/{name}/schedule (api_schedule.c) */
void api_schedule_link(struct api_call *k);
void api_schedule_tag(struct api_call *k);
struct catalog_link;
cJSON *api_link_schedule_json(const struct catalog_link *l);

/* 405 with Allow. */
void api_method_not_allowed(struct api_call *k, const char *allow);

/* JSON of catalog objects (api_json.c). */
struct catalog;
struct catalog_link;
struct catalog_job;
struct catalog_snapshot;
cJSON *api_link_json(struct catalog *c, const struct catalog_link *l);
cJSON *api_job_json(const struct catalog_job *j);
cJSON *api_snapshot_json(const struct catalog_snapshot *s);

/* {"items": items, "next_cursor": cursor or null} (items consumed). */
cJSON *api_page_json(cJSON *items, const char *cursor);

/* Parse a positive id ("12"); 0 if not one. */
int64_t api_parse_id(const char *s);

#endif
