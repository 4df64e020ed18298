/*
 * api_io.c — bulk in and out: POST /api/import (a bookmark file, CSV, URL
 * list or snapcat JSON as the body), GET /api/imports[/{id}] (the
 * reports), POST /api/backup and GET /api/backups/{id}. Export is
 * api_export.c.
 *
 *   POST /api/import?format=&tags=&capture= -> io_import_parse (this
 *     worker) -> io_import_start (batches in the background, io_run.c) ->
 *     202 {import} -> import.progress ... import.done events
 *   POST /api/backup {name?} -> io_backup_start -> 202 {backup} ->
 *     backup.progress ... backup.done | backup.failed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "catalog.h"
#include "io_run.h"

size_t api_body_cap(const struct http_req *req)
{
	if (req->method == HTTP_POST && req->path &&
	    !strcmp(req->path, "/api/import"))
		return API_IMPORT_BODY_MAX;
	return HTTP_BODY_MAX;
}

/* ?tags=a,b and/or ?tag=a&tag=b into tags[] (pointers into buf). */
static size_t aio_tags(const struct http_req *req, char *buf, size_t buflen,
		       const char **tags, size_t max)
{
	const char *one[CATALOG_TAGS_MAX];
	size_t n = 0;
	const char *list = http_arg(req, "tags");
	snprintf(buf, buflen, "%s", list ? list : "");
	for (char *p = buf; *p && n < max;) {
		size_t len = strcspn(p, ",");
		char *next = p + len + (p[len] == ',');
		p[len] = '\0';
		if (strspn(p, " \t") < len)
			tags[n++] = p;
		p = next;
	}
	int k = http_args(req, "tag", one, CATALOG_TAGS_MAX);
	for (int i = 0; i < k && n < max; i++)
		tags[n++] = one[i];
	return n;
}

/* capture=1|0|true|false|yes|no (absent: 0). -1 if bad. */
static int aio_bool(const char *v)
{
	if (!v || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !*v)
		return 1;
	return -1;
}

void api_import(struct api_call *k)
{
	static __thread char tagbuf[8192];
	const char *tags[CATALOG_TAGS_MAX + 1];
	const char *f = http_arg(k->req, "format");
	enum io_format fmt = IO_FMT_AUTO;
	int capture = aio_bool(http_arg(k->req, "capture"));
	char err[600];
	if (f && io_format_parse(f, &fmt)) {
		http_resp_error(k->resp, 400, "invalid_field", "format",
				"format must be auto, html, csv, urls or json");
		return;
	}
	if (capture < 0) {
		http_resp_error(k->resp, 400, "invalid_field", "capture",
				"capture must be 1 or 0");
		return;
	}
	if (!k->req->body.len) {
		http_resp_error(k->resp, 400, "missing_body", NULL, "send the file "
				"to import as the request body");
		return;
	}
	struct io_import_opts o = {.tags = tags, .capture = capture,
		.ntags = aio_tags(k->req, tagbuf, sizeof(tagbuf), tags,
				  CATALOG_TAGS_MAX + 1)};
	struct io_import *imp = NULL;
	sc_result rc = io_import_parse(k->req->body.data, k->req->body.len, fmt,
				       &imp, err, sizeof(err));
	int64_t id = 0;
	if (!rc)
		rc = io_import_start(k->c->app, &imp, &o, &id, err, sizeof(err));
	io_import_free(&imp);
	if (rc == SC_ERR_BUSY) {
		http_resp_error(k->resp, 503, "busy", NULL, "%s", err);
		http_resp_header(k->resp, "Retry-After", "10");
		return;
	}
	if (rc) {
		http_resp_error(k->resp, rc == SC_ERR_TOO_LARGE ? 413 : 400,
				"invalid_import", NULL, "%s", err);
		return;
	}
	cJSON *o2 = cJSON_CreateObject();
	cJSON_AddItemToObject(o2, "import", io_import_report(id, 0));
	http_resp_json(k->resp, 202, o2);
	http_resp_header(k->resp, "Location", "/api/imports/%lld", (long long)id);
}


void api_imports_list(struct api_call *k)
{
	http_resp_json(k->resp, 200, io_imports_list());
}

/* {what: report}, or 404 when the report is gone (r NULL). */
static void aio_report(struct api_call *k, const char *what, cJSON *r)
{
	if (!r) {
		http_resp_error(k->resp, 404, "not_found", NULL, "no such %s "
				"(the last %d are kept, until a restart)", what,
				IO_KEEP);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, what, r);
	http_resp_json(k->resp, 200, o);
}

void api_import_get(struct api_call *k)
{
	aio_report(k, "import", io_import_report(k->id, 1));
}
/* POST /api/backup {name?} */
void api_backup_start(struct api_call *k)
{
	cJSON *body = k->req->body.len ? http_body_object(k->req, k->resp)
				       : cJSON_CreateObject();
	if (!body)
		return;
	const cJSON *name = cJSON_GetObjectItem(body, "name");
	char err[300];
	int64_t id = 0;
	sc_result rc = name && !cJSON_IsString(name) && !cJSON_IsNull(name)
		? SC_ERR_INVALID
		: io_backup_start(k->c->app, cJSON_GetStringValue(name), &id, err,
				  sizeof(err));
	if (rc == SC_ERR_INVALID) {
		http_resp_error(k->resp, 400, "invalid_field", "name", "name must "
				"be a string of 1 to 99 letters, digits, '.', '_' "
				"or '-'");
	} else if (rc) {
		http_resp_error(k->resp, 409, "busy", NULL, "%s", err);
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "backup", io_backup_report(id));
		http_resp_json(k->resp, 202, o);
		http_resp_header(k->resp, "Location", "/api/backups/%lld",
				 (long long)id);
	}
	cJSON_Delete(body);
}

void api_backup_get(struct api_call *k)
{
	aio_report(k, "backup", io_backup_report(k->id));
}
