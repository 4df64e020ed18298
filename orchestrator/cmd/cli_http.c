/*
 * cli_http.c — the command-line clients' HTTP client (see cli_http.h):
 *
 *   cli_http_open -> ch_server_base, ch_token_ok, curl_easy_init
 *   cli_http_request -> ch_headers -> curl_easy_perform -> ch_write (the
 *     body into a capped buffer, or a 2xx body to the caller's FILE)
 *     -> ch_transport_error (no answer) | ch_check_answer (401, non-2xx:
 *     ch_server_error; 2xx: a JSON object)
 */
#include "cli_http.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_term.h"

#define CH_CONNECT_MS 5000L

/* The transfer in progress: where ch_write puts the body. */
struct ch_xfer {
	struct cli_http *c;
	struct cli_http_resp *r;
	FILE *out;
};

/* ---- messages and answers ---- */

void cli_http_err(const struct cli_http *c, const char *what,
		  const char *fmt, ...)
{
	char msg[1024], w[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (what) {
		cli_term_clean(what, w, sizeof(w));
		fprintf(stderr, "snapcat %s: %s: %s\n", c->cmd, w, msg);
	} else {
		fprintf(stderr, "snapcat %s: %s\n", c->cmd, msg);
	}
}

const char *cli_http_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member k of o when it is within what a long long holds
 * exactly (|v| < 1e15): 1 and *out, else 0. */
static int ch_int(const cJSON *o, const char *k, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v) || !(v->valuedouble > -1e15 && v->valuedouble < 1e15))
		return 0;
	*out = (long long)v->valuedouble;
	return 1;
}

void cli_http_num(const cJSON *o, const char *k, char *out, size_t outlen)
{
	long long v;
	if (ch_int(o, k, &v))
		snprintf(out, outlen, "%lld", v);
	else
		snprintf(out, outlen, "?");
}

long long cli_http_int(const cJSON *o, const char *k)
{
	long long v;
	return ch_int(o, k, &v) ? v : 0;
}

void cli_http_opt_error(const char *cmd, int c, char *const *argv)
{
	const char *bad = optopt && c == '?' ? NULL : argv[optind - 1];
	if (bad)
		fprintf(stderr, "snapcat %s: %s \"%s\"\n", cmd,
			c == '?' ? "unknown option" : "no value for", bad);
	else
		fprintf(stderr, "snapcat %s: unknown option \"-%c\"\n", cmd,
			optopt);
}

/* ---- the client ---- */

/* The server's base URL from --server, $SNAPCAT_SERVER or the default,
 * without trailing '/'; NULL (message printed) unless it is an http(s) URL
 * with a host and no query, fragment, space or control character. Caller
 * frees. */
static char *ch_server_base(const char *cmd, const char *opt)
{
	const char *s = opt ? opt : getenv("SNAPCAT_SERVER");
	if (!s || !*s)
		s = CLI_HTTP_DEFAULT_SERVER;
	size_t skip = !strncasecmp(s, "http://", 7)    ? 7
		      : !strncasecmp(s, "https://", 8) ? 8
						       : 0;
	int ok = skip && s[skip] && s[skip] != '/' && !strpbrk(s, "?#");
	for (const char *p = s; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && *p != 0x7f;
	if (!ok) {
		char clean[256];
		cli_term_clean(s, clean, sizeof(clean));
		fprintf(stderr, "snapcat %s: the server must be an http:// or "
			"https:// URL (like %s), not \"%s\"\n", cmd,
			CLI_HTTP_DEFAULT_SERVER, clean);
		return NULL;
	}
	size_t n = strlen(s);
	while (n > skip && s[n - 1] == '/')
		n--;
	return sc_xstrndup(s, n);
}

static size_t ch_write(char *p, size_t sz, size_t n, void *ud)
{
	struct ch_xfer *x = ud;
	long status = 0;
	if (x->out) {
		curl_easy_getinfo(x->c->h, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status <= 299) {
			size_t w = fwrite(p, 1, sz * n, x->out);
			if (w < sz * n) { /* curl stops: CURLE_WRITE_ERROR */
				x->r->rc = SC_ERR_IO;
				x->r->err = errno;
			}
			return w;
		}
	}
	sc_result rc = sc_buf_append(&x->r->body, p, sz * n);
	if (rc) {
		x->r->rc = rc;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	return sz * n;
}

int cli_http_open(struct cli_http *c, const char *cmd, const char *server,
		  const char *token, long timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->base = ch_server_base(cmd, server);
	if (!c->base)
		return 2;
	c->token = token ? token : getenv("SNAPCAT_TOKEN");
	if (c->token && !*c->token)
		c->token = NULL;
	for (const char *p = c->token; p && *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			cli_http_err(c, NULL, "the token contains spaces or "
				     "control characters");
			return 2;
		}
	}
	c->h = curl_easy_init();
	if (!c->h) {
		cli_http_err(c, NULL, "cannot start libcurl");
		return 1;
	}
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, CH_CONNECT_MS);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "snapcat-cli");
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, ch_write);
	return 0;
}

void cli_http_close(struct cli_http *c)
{
	curl_easy_cleanup(c->h);
	c->h = NULL;
	free(c->base);
	c->base = NULL;
}

void cli_http_resp_init(struct cli_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	sc_buf_init(&r->body, CLI_HTTP_BODY_CAP);
}

void cli_http_resp_free(struct cli_http_resp *r)
{
	sc_buf_free(&r->body);
	cJSON_Delete(r->json);
	r->json = NULL;
}

sc_result cli_http_query(const struct cli_http *c, struct sc_buf *b,
			 const char *key, const char *val)
{
	char *e = curl_easy_escape(c->h, val, 0);
	if (!e)
		return SC_ERR_NOMEM;
	sc_result rc = sc_buf_printf(b, "%c%s=%s",
				     strchr(b->data, '?') ? '&' : '?', key, e);
	curl_free(e);
	return rc;
}

/* ---- one request ---- */

/* The request headers (caller frees with curl_slist_free_all), or NULL if
 * an allocation failed. "Expect:" stops curl from waiting for a
 * 100-continue the server never sends. */
static struct curl_slist *ch_headers(const struct cli_http *c,
				     const struct cli_http_req *q)
{
	struct curl_slist *l = curl_slist_append(NULL, "Expect:");
	struct curl_slist *t = l;
	if (t && !q->out)
		t = curl_slist_append(l, "Accept: application/json");
	if (t && q->body && q->json_body)
		t = curl_slist_append(l, "Content-Type: application/json");
	if (t && c->token) {
		char *auth = sc_xasprintf("Authorization: Bearer %s", c->token);
		t = curl_slist_append(l, auth);
		free(auth);
	}
	if (!t) {
		curl_slist_free_all(l);
		return NULL;
	}
	return l;
}

/* A transport failure (no whole answer): say why. Fatal when no other
 * request can do better (the server cannot be reached). */
static enum cli_http_outcome ch_transport_error(const struct cli_http *c,
						CURLcode cc, const char *what,
						const struct cli_http_resp *r)
{
	char detail[CURL_ERROR_SIZE];
	cli_term_clean(c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc),
		       detail, sizeof(detail));
	if (cc == CURLE_WRITE_ERROR && r->rc == SC_ERR_TOO_LARGE) {
		cli_http_err(c, what, "the server's answer is over %u MiB",
			     CLI_HTTP_BODY_CAP >> 20);
		return CLI_HTTP_FAIL;
	}
	if (cc == CURLE_WRITE_ERROR && r->rc == SC_ERR_IO) {
		cli_http_err(c, what, "cannot write the server's answer: %s",
			     strerror(r->err));
		return CLI_HTTP_FAIL;
	}
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		cli_http_err(c, NULL, "cannot reach the server at %s "
			     "(is \"snapcat serve\" running?)", c->base);
		return CLI_HTTP_FATAL;
	case CURLE_OPERATION_TIMEDOUT:
		cli_http_err(c, NULL, "no answer from the server at %s in "
			     "time: %s", c->base, detail);
		return CLI_HTTP_FATAL;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		cli_http_err(c, NULL, "cannot reach the server at %s: %s",
			     c->base, detail);
		return CLI_HTTP_FATAL;
	default:
		cli_http_err(c, what, "request to %s failed: %s", c->base,
			     detail);
		return CLI_HTTP_FAIL;
	}
}

/* A non-2xx answer: the error object's message and field, or the status
 * and the start of the body when it is not an API error. */
static void ch_server_error(const struct cli_http *c, const char *what,
			    const struct cli_http_resp *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	const char *msg = cli_http_str(e, "message");
	const char *field = cli_http_str(e, "field"), *code = cli_http_str(e, "code");
	char m[512], f[128], k[64];
	if (!msg) {
		const char *b = r->body.data ? r->body.data : "";
		char line[201];
		size_t n = strcspn(b, "\r\n");
		n = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
		memcpy(line, b, n); /* the first line, at most 200 bytes */
		line[n] = '\0';
		cli_term_clean(line, m, sizeof(m));
		cli_http_err(c, what, "HTTP %ld from the server%s%s", r->status,
			     m[0] ? ": " : "", m);
		return;
	}
	cli_term_clean(msg, m, sizeof(m));
	cli_term_clean(field, f, sizeof(f));
	cli_term_clean(code, k, sizeof(k));
	cli_http_err(c, what, "%s (%s%s%sHTTP %ld%s%s)", m,
		     f[0] ? "field \"" : "", f, f[0] ? "\", " : "", r->status,
		     k[0] ? " " : "", k);
}

/* Read the answer of a completed exchange: parse the JSON, explain
 * failures. 401 is fatal: the next request would carry the same token. */
static enum cli_http_outcome ch_check_answer(const struct cli_http *c,
					     const struct cli_http_req *q,
					     struct cli_http_resp *r)
{
	int ok = r->status >= 200 && r->status <= 299;
	if (r->status == 401) {
		if (c->token)
			cli_http_err(c, NULL, "the server refused the token "
				     "(check --token or $SNAPCAT_TOKEN)");
		else
			cli_http_err(c, NULL, "the server wants a token: pass "
				     "--token T or set SNAPCAT_TOKEN");
		return CLI_HTTP_FATAL;
	}
	if (ok && q->out)
		return CLI_HTTP_OK;
	if (r->body.len)
		r->json = cJSON_ParseWithLength(r->body.data, r->body.len);
	if (!ok) {
		ch_server_error(c, q->what, r);
		return CLI_HTTP_FAIL;
	}
	if (!cJSON_IsObject(r->json)) {
		cli_http_err(c, q->what, "the server's answer is not a JSON "
			     "object (HTTP %ld)", r->status);
		return CLI_HTTP_FAIL;
	}
	return CLI_HTTP_OK;
}

enum cli_http_outcome cli_http_request(struct cli_http *c,
				       const struct cli_http_req *q,
				       struct cli_http_resp *r)
{
	struct ch_xfer x = {.c = c, .r = r, .out = q->out};
	struct curl_slist *hdrs = ch_headers(c, q);
	if (!hdrs) {
		cli_http_err(c, q->what, "out of memory");
		return CLI_HTTP_FAIL;
	}
	char *url = sc_xasprintf("%s%s", c->base, q->path);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	if (q->body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)q->len);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &x);
	c->errbuf[0] = '\0';
	CURLcode cc = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(hdrs);
	free(url);
	if (cc != CURLE_OK)
		return ch_transport_error(c, cc, q->what, r);
	return ch_check_answer(c, q, r);
}
