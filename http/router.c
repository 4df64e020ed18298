/*
 * router.c — api_dispatch (on a worker): the token, then the route's
 * handler (routes.c), or 404 / 405 with Allow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "routes.h"

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

/* The bus reports the commit of a handler's unit (loop thread). */
static void api_committed(void *arg, sc_result rc)
{
	struct http_resp *rs = arg;
	rs->commit_rc = rc;
	rs->commit_wait = 0;
	if (rs->on_commit)
		rs->on_commit(rs->on_commit_arg);
}

void api_write_end(struct api_call *k)
{
	struct http_resp *rs = k->resp;
	rs->commit_wait = 1; /* before: the report may come at once */
	if (app_write_end_async(k->c->app, api_committed, rs))
		rs->commit_wait = 0; /* nothing was written */
}

void api_dispatch(const struct api_ctx *c, struct http_req *req,
		  struct http_resp *resp)
{
	struct route_params p;
	unsigned allow;
	if (!api_authorized(c, req)) {
		http_resp_error(resp, 401, "unauthorized", NULL,
				"a valid token is required (Authorization: "
				"Bearer <token>, or ?token=)");
		http_resp_header(resp, "WWW-Authenticate", "Bearer");
		return;
	}
	const struct route *r = route_match(req->method, req->path, &allow, &p);
	if (r && r->where == ROUTE_WORKER) {
		struct api_call k = {.c = c, .req = req, .resp = resp,
				     .id = p.id, .name = p.name};
		r->handler(&k);
	} else if (allow) {
		char text[128];
		route_allow_text(allow, text, sizeof(text));
		http_resp_error(resp, 405, "method_not_allowed", NULL,
				"%s is not allowed here; use %s",
				http_method_name(req->method), text);
		http_resp_header(resp, "Allow", "%s", text);
	} else {
		http_resp_error(resp, 404, "not_found", NULL, "no such %s",
				route_noun(req->path));
	}
	if (!resp->status)
		http_resp_error(resp, 500, "internal", NULL, "no answer");
	if (resp->ctype && !strcmp(resp->ctype, "application/json"))
		http_resp_header(resp, "Cache-Control", "no-store");
}
