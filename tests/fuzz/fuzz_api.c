/*
 * fuzz_api.c — libFuzzer target for the REST API: api_dispatch and every
 * route's request parsing (http/router.c, api_links.c, api_jobs.c,
 * api_snapshots.c, api_tags.c, req.c) against a real catalog (fuzz_app.h:
 * every input starts from the same seeded data directory).
 *
 *   tests/fuzz/run-fuzzers 60 api      (libFuzzer, clang, ASan+UBSan)
 *   ctest -R fuzz.api                  (corpus replay, any compiler)
 *
 * Input:
 *   byte 0     the method: G GET, H HEAD, P POST, U PUT, A PATCH, D DELETE,
 *              O OPTIONS; the same letter in lower case also reads header
 *              lines (below); any other byte: method (byte % 8), no headers
 *   line       the path and query, up to '\n': "/api/links?tag=a&q=b"
 *              (args split on '&' and the first '=', not decoded)
 *   [headers]  lower-case method only: "Name: value" lines up to an empty
 *              line. Authorization, If-None-Match, Range, Accept, Origin,
 *              Last-Event-ID fill the request; two are the harness's own:
 *              "Fuzz-Token: x" makes the server require the token
 *              "fuzz-token"; "Fuzz-Guard: x" turns the SSRF guard on
 *              (allow_private = 0, names resolved by fuzz_app.h's table)
 *   body       the rest
 *
 * Properties checked on every input (abort() on violation):
 *   - resp.status is set, 100..599, and never 500 (nothing in this setup
 *     may fail internally);
 *   - a body has a content type; a JSON body is exactly one JSON value;
 *     204 and 304 have no body; every 4xx/5xx JSON body has error.code and
 *     error.message (non-empty strings; error.field a string if present);
 *   - the extra header lines are well formed ("Name: value\r\n", no CR or LF
 *     in a value: no header injection); 401 has WWW-Authenticate, 405 Allow,
 *     503 Retry-After, a routed JSON answer Cache-Control;
 *   - auth: with a token required, the answer is 401 exactly when neither
 *     "Authorization: Bearer fuzz-token" nor a first ?token=fuzz-token was
 *     given;
 *   - a file answer (fd >= 0) is 200 or 206, its range lies inside the file
 *     (fstat), a 206 has Content-Range (fuzz_check_file, fuzz_app.h);
 *   - a link created (POST, 2xx with link.url) has an http(s) URL that
 *     url_normalize leaves unchanged and, with the guard on, whose host is
 *     neither a private IP literal nor a name resolving to one;
 *   - after a request that changed something, catalog_check passes;
 *   - the posted events and kicks are run (loop_settle) and everything is
 *     freed (LeakSanitizer).
 * FUZZ_VERBOSE=1 in the environment prints each request and its answer.
 */
#define FUZZ_NAME "fuzz_api"
#include "fuzz_app.h"

#include <ctype.h>
#include <stdint.h>
#include <strings.h>

struct fuzz_req {
	int token, guard;
};

/* Take the line at *p (up to '\n' or end) as [*line, *len). */
static void fuzz_line(const char **p, const char *end, const char **line,
		      size_t *len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*len = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
}

static void fuzz_header(struct http_req *req, struct fuzz_req *fr,
			const char *line, size_t len)
{
	const char *v;
	size_t nl, vl;
	if (fuzz_header_split(line, len, " ", &nl, &v, &vl))
		return;
	if (vl && v[vl - 1] == '\r')
		vl--;
	if (nl == 10 && !strncasecmp(line, "fuzz-token", nl))
		fr->token = 1;
	if (nl == 10 && !strncasecmp(line, "fuzz-guard", nl))
		fr->guard = 1;
	fuzz_req_header(req, line, nl, v, vl);
}

/* Fill req from the input (format above). */
static void fuzz_parse(const uint8_t *data, size_t size, struct http_req *req,
		       struct fuzz_req *fr)
{
	static const char letters[] = "GHPUADO";
	static const enum http_method by_letter[] = {
		HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH,
		HTTP_DELETE, HTTP_OPTIONS};
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	const char *l = data[0] ? strchr(letters, toupper(data[0])) : NULL;
	int headers = l && islower(data[0]);
	req->method = l ? by_letter[l - letters] : (enum http_method)(data[0] % 8);

	const char *line;
	size_t len;
	fuzz_line(&p, end, &line, &len);
	if (len && line[len - 1] == '\r')
		len--;
	const char *q = memchr(line, '?', len);
	req->path = sc_xstrndup(line, (size_t)((q ? q : line + len) - line));
	if (q)
		fuzz_req_args(req, q + 1, (size_t)(line + len - q - 1));
	while (headers && p < end) {
		fuzz_line(&p, end, &line, &len);
		if (!len || (len == 1 && line[0] == '\r'))
			break;
		fuzz_header(req, fr, line, len);
	}
	if (p < end)
		FUZZ_ASSERT(sc_buf_append(&req->body, p, (size_t)(end - p)) ==
			    SC_OK);
}

static int fuzz_authorized(const struct http_req *req)
{
	const char *t = http_arg(req, "token");
	if (req->auth && !strncmp(req->auth, "Bearer ", 7) &&
	    !strcmp(req->auth + 7, FUZZ_TOKEN))
		return 1;
	return t && !strcmp(t, FUZZ_TOKEN);
}

/* A link just made: its URL is canonical, and not private when guarded. */
static void fuzz_check_link(const cJSON *body, int guard)
{
	const cJSON *link = cJSON_GetObjectItemCaseSensitive(body, "link");
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(link, "url");
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(body, "job");
	FUZZ_ASSERT(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(link, "id")));
	FUZZ_ASSERT(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(job, "id")));
	FUZZ_ASSERT(cJSON_IsString(url));
	static char again[URL_BUF_SIZE];
	static struct url_parts parts;
	char err[300];
	FUZZ_ASSERT(url_normalize(url->valuestring, again, sizeof(again), err,
				  sizeof(err)) == SC_OK);
	FUZZ_ASSERT(!strcmp(again, url->valuestring));
	FUZZ_ASSERT(url_split(again, &parts) == SC_OK);
	if (!guard)
		return;
	const struct fuzz_dns_row *row = fuzz_dns_find(parts.host);
	if ((parts.ip && url_ip_private_reason(&parts.addr)) ||
	    (!parts.ip && row && row->private_)) {
		fprintf(stderr, "SSRF guard let a private host in: %s\n",
			url->valuestring);
		abort();
	}
}

static void fuzz_check(const struct http_req *req, const struct http_resp *rs,
		       const struct fuzz_req *fr)
{
	int st = rs->status;
	fuzz_check_status(rs);
	if (fr->token)
		FUZZ_ASSERT((st == 401) == !fuzz_authorized(req));
	FUZZ_ASSERT(st != 401 || fuzz_has_header(&rs->headers, "WWW-Authenticate"));
	FUZZ_ASSERT(st != 405 || fuzz_has_header(&rs->headers, "Allow"));
	FUZZ_ASSERT(st != 503 || fuzz_has_header(&rs->headers, "Retry-After"));
	if (rs->fd >= 0) {
		fuzz_check_file(rs);
		return;
	}
	if (st == 204 || st == 304) {
		FUZZ_ASSERT(rs->body.len == 0);
		return;
	}
	FUZZ_ASSERT(rs->body.len > 0 && rs->ctype);
	if (strcmp(rs->ctype, "application/json"))
		return;
	/* routed answers only: 401 and the 404 of a path outside /api/ are
	 * sent before api_dispatch adds it */
	FUZZ_ASSERT(st == 401 || st == 404 ||
		    fuzz_has_header(&rs->headers, "Cache-Control"));
	FUZZ_ASSERT(rs->body.data[rs->body.len - 1] == '\n');
	cJSON *j = fuzz_json(rs->body.data, rs->body.len);
	if (st >= 400)
		fuzz_check_error(j);
	else if (req->method == HTTP_POST &&
		 cJSON_GetObjectItemCaseSensitive(j, "link"))
		fuzz_check_link(j, fr->guard);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	fuzz_env_init();

	struct fuzz_req fr = {0};
	struct http_req req;
	struct http_resp resp;
	http_req_init(&req);
	http_resp_init(&resp);
	fuzz_parse(data, size, &req, &fr);

	struct app *a = fuzz_app_get(!fr.guard);
	struct api_ctx ctx = {.app = a, .token = fr.token ? FUZZ_TOKEN : NULL};
	fuzz_dispatch(&ctx, &req, &resp);
	fuzz_check(&req, &resp, &fr);

	if (req.method != HTTP_GET && req.method != HTTP_HEAD &&
	    resp.status < 300) {
		struct catalog *c = app_db_lock(a);
		sc_result rc = catalog_check(c);
		if (rc) {
			fprintf(stderr, "catalog_check: %s (%s)\n",
				sc_strerror(rc), catalog_errmsg(c));
			abort();
		}
		app_db_unlock(a);
	}
	http_req_free(&req);
	http_resp_free(&resp);
	loop_settle(fz.loop, 10000);
	return 0;
}
