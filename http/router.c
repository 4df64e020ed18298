/*
 * router.c — api_dispatch: auth, CORS preflight, then the resource handler
 * by the first path segment after /api/ (see api.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

int64_t api_parse_id(const char *s)
{
	long v;
	if (!s || sc_parse_long(s, 1, 0x7fffffffL, &v))
		return 0;
	return v;
}

/* Compare without an early exit, so timing does not leak the token. */
static int api_token_eq(const char *given, const char *token)
{
	size_t gl = strlen(given), tl = strlen(token);
	unsigned char d = gl != tl;
	for (size_t i = 0; i < tl; i++)
		d |= (unsigned char)(token[i] ^ given[i < gl ? i : 0]);
	return d == 0;
}

int api_authorized(const struct api_ctx *c, const struct http_req *req)
{
	if (!c->token || !c->token[0])
		return 1;
	const char *q = http_arg(req, "token");
	if (req->auth && !strncmp(req->auth, "Bearer ", 7) &&
	    api_token_eq(req->auth + 7, c->token))
		return 1;
	return q && api_token_eq(q, c->token);
}

void api_method_not_allowed(struct api_call *k, const char *allow)
{
	http_resp_error(k->resp, 405, "method_not_allowed", NULL,
			"%s is not allowed here; use %s",
			http_method_name(k->req->method), allow);
	http_resp_header(k->resp, "Allow", "%s", allow);
}

/* Split /api/a/b/c into segments (in place, in buf). */
static int api_split(char *buf, const char **seg, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *p = strtok_r(buf, "/", &save); p;
	     p = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		seg[n++] = p;
	}
	return n;
}

void api_dispatch(const struct api_ctx *c, struct http_req *req,
		  struct http_resp *resp)
{
	struct api_call k = {.c = c, .req = req, .resp = resp};
	char buf[1024];
	if (!api_authorized(c, req)) {
		http_resp_error(resp, 401, "unauthorized", NULL,
				"a valid token is required (Authorization: "
				"Bearer <token>, or ?token=)");
		http_resp_header(resp, "WWW-Authenticate", "Bearer");
		return;
	}
	if (strlen(req->path) >= sizeof(buf) || strncmp(req->path, "/api/", 5)) {
		http_resp_error(resp, 404, "not_found", NULL, "no such route");
		return;
	}
	snprintf(buf, sizeof(buf), "%s", req->path + 5);
	k.nseg = api_split(buf, k.seg, 6);
	if (k.nseg <= 0) {
		http_resp_error(resp, 404, "not_found", NULL, "no such route");
		return;
	}
	k.id = k.nseg > 1 ? api_parse_id(k.seg[1]) : 0;
	if (!strcmp(k.seg[0], "links"))
		api_links(&k);
	else if (!strcmp(k.seg[0], "snapshots"))
		api_snapshots(&k);
	else if (!strcmp(k.seg[0], "jobs"))
		api_jobs(&k);
	else if (!strcmp(k.seg[0], "tags"))
		api_tags(&k);
	else if (!strcmp(k.seg[0], "browsers"))
		api_browsers(&k);
	else if (!strcmp(k.seg[0], "import"))
		api_import(&k);
	else if (!strcmp(k.seg[0], "imports"))
		api_imports(&k);
	else if (!strcmp(k.seg[0], "export"))
		api_export(&k);
	else if (!strcmp(k.seg[0], "backup") || !strcmp(k.seg[0], "backups"))
		api_backup(&k);
	else if (!strcmp(k.seg[0], "webhooks"))
		api_webhooks(&k);
	else
		http_resp_error(resp, 404, "not_found", NULL, "no such route");
	if (!resp->status)
		http_resp_error(resp, 500, "internal", NULL, "no answer");
	if (resp->ctype && !strcmp(resp->ctype, "application/json"))
		http_resp_header(resp, "Cache-Control", "no-store");
}
