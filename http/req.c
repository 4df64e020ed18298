/*
 * req.c — the request/response data of req.h and the JSON answer helpers
 * every API handler uses.
 */
#include "req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsontext.h"

static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

const char *http_method_name(enum http_method m)
{
	return m <= HTTP_OTHER ? method_names[m] : "OTHER";
}

void http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	sc_buf_init(&r->body, HTTP_BODY_MAX);
}

void http_req_free(struct http_req *r)
{
	free(r->path);
	for (int i = 0; i < r->nargs; i++) {
		free(r->args[i].name);
		free(r->args[i].value);
	}
	free(r->auth);
	free(r->if_none_match);
	free(r->range);
	free(r->accept);
	free(r->origin);
	free(r->last_event_id);
	free(r->host);
	free(r->fetch_site);
	sc_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

void http_resp_init(struct http_resp *r)
{
	memset(r, 0, sizeof(*r));
	sc_buf_init(&r->headers, 64 * 1024);
	sc_buf_init(&r->body, 0);
	r->fd = -1;
}

void http_resp_free(struct http_resp *r)
{
	sc_buf_free(&r->headers);
	sc_buf_free(&r->body);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

const char *http_arg(const struct http_req *r, const char *name)
{
	for (int i = 0; i < r->nargs; i++)
		if (!strcmp(r->args[i].name, name))
			return r->args[i].value;
	return NULL;
}

int http_args(const struct http_req *r, const char *name, const char **out,
	      int max)
{
	int n = 0;
	for (int i = 0; i < r->nargs && n < max; i++)
		if (!strcmp(r->args[i].name, name))
			out[n++] = r->args[i].value;
	return n;
}

void http_resp_header(struct http_resp *r, const char *name,
		      const char *fmt, ...)
{
	char v[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	(void)!sc_buf_printf(&r->headers, "%s: %s\r\n", name, v);
}

void http_resp_json(struct http_resp *r, int status, cJSON *j)
{
	r->status = status;
	sc_buf_reset(&r->body);
	if (!j)
		return;
	r->ctype = "application/json";
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		abort(); /* out of memory for a small reply: policy is abort */
	(void)!sc_buf_appends(&r->body, s);
	(void)!sc_buf_appends(&r->body, "\n");
	cJSON_free(s);
}

void http_resp_error(struct http_resp *r, int status, const char *code,
		     const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	if (field)
		cJSON_AddStringToObject(e, "field", field);
	http_resp_json(r, status, o);
}

void http_resp_result(struct http_resp *r, sc_result rc, const char *what)
{
	switch (rc) {
	case SC_ERR_NOT_FOUND:
		http_resp_error(r, 404, "not_found", NULL, "no such %s", what);
		break;
	case SC_ERR_INVALID:
		http_resp_error(r, 400, "invalid", NULL, "invalid %s", what);
		break;
	case SC_ERR_TOO_LARGE:
		http_resp_error(r, 413, "too_large", NULL, "%s too large", what);
		break;
	case SC_ERR_BUSY:
		http_resp_error(r, 503, "busy", NULL, "busy (the queue is full, "
				"or the catalog is locked); try again later");
		http_resp_header(r, "Retry-After", "30");
		break;
	default:
		http_resp_error(r, 500, "internal", NULL, "%s: %s", what,
				sc_strerror(rc));
	}
}

/* Is [p, end) only JSON whitespace? */
static int http_json_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p >= end;
}

/* NULL when d[0..n) is one JSON value and nothing else, else why not. */
static const char *http_json_why(const char *d, size_t n, cJSON **out)
{
	const char *end = NULL;
	*out = NULL;
	if (!n)
		return "a JSON body is required";
	cJSON *j = cJSON_ParseWithLengthOpts(d, n, &end, 0);
	if (!j)
		return "the body is not valid JSON";
	if (!end || !http_json_blank(end, d + n)) {
		cJSON_Delete(j);
		return "the body has data after its JSON value";
	}
	if (jsontext_has_nul(d, n)) {
		cJSON_Delete(j);
		return "the body's strings may not contain NUL (\\u0000)";
	}
	*out = j;
	return NULL;
}

cJSON *http_body_object(const struct http_req *req, struct http_resp *resp)
{
	cJSON *j;
	const char *why = http_json_why(req->body.data, req->body.len, &j);
	if (why) {
		http_resp_error(resp, 400, "bad_json", NULL, "%s", why);
		return NULL;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		http_resp_error(resp, 400, "bad_json", NULL,
				"the body must be a JSON object");
		return NULL;
	}
	return j;
}

void http_json_time(cJSON *o, const char *key, int64_t ms)
{
	if (ms <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	char t[40];
	sc_iso8601(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}
