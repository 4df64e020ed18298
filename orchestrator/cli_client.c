/*
 * cli_client.c — `snapcat add` and `snapcat ls`: command-line clients of a
 * running `snapcat serve`, over its REST API (libcurl, easy interface).
 *
 *   add: argv -> cc_parse -> cc_client_open (server URL, token, one curl
 *        handle) -> per URL: POST /api/links {"url","tags"} -> 201 new /
 *        200 known {link, job} -> one human line, or the JSON on one line
 *   ls:  argv -> cc_parse -> cc_client_open -> GET /api/links?tag=…&match=any
 *        &q=…&limit=…&cursor=… -> {items, next_cursor} -> a table (cut to the
 *        terminal's width) or tab-separated fields when stdout is not a
 *        terminal, or one JSON line per item; --all follows next_cursor
 *
 * Everything the server sends is untrusted: bodies are capped (CC_BODY_CAP),
 * and text printed for a human goes through cc_put()/cc_clean(), which turn
 * control characters (C0, DEL, C1: ESC and CSI included), invisible
 * line/bidi controls and malformed UTF-8 into '?', so a page title cannot
 * drive the terminal. JSON output keeps the data but escapes those same
 * characters as \uXXXX (cc_print_json).
 *
 * Not thread-safe (getopt_long's globals); one command per process is the
 * intended use. curl_global_init() is main.c's job.
 */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "sc.h"

#define CC_DEFAULT_SERVER "http://127.0.0.1:8080"
#define CC_BODY_CAP (16u << 20)  /* largest answer we read (16 MiB) */
#define CC_PATH_CAP (64u << 10)  /* longest path + query we send */
#define CC_CONNECT_MS 5000L
#define CC_TOTAL_MS 30000L
#define CC_LIMIT_MAX 1000
/* the table on a terminal: fixed columns, then title and URL share the rest */
#define CC_ID_W 5
#define CC_STATE_W 8
#define CC_TAGS_W 20
#define CC_FIXED_W (CC_ID_W + 2 + CC_STATE_W + 2 + CC_TAGS_W + 2)

/* What one request came to. */
enum cc_outcome {
	CC_OK,    /* 2xx with a JSON body */
	CC_FAIL,  /* this request failed (message printed); others may work */
	CC_FATAL  /* no request can work (unreachable, bad token): stop */
};

/* The parsed command line; strings point into argv. */
struct cc_args {
	const char *server, *token, *q;
	const char **tags; /* owned array (of argv strings), ntags used */
	int ntags;
	long limit;        /* 0: the server's default */
	int json, any, all;
	int first;         /* index of the first positional argument */
};

/* One command's connection to the server. */
struct cc_client {
	const char *cmd;   /* "add" / "ls", for messages */
	char *base;        /* server URL without trailing '/' (owned) */
	const char *token; /* NULL: send no Authorization */
	CURL *h;           /* reused, so that --all and several URLs keep alive */
	char errbuf[CURL_ERROR_SIZE];
};

/* One answer. */
struct cc_resp {
	long status;
	sc_result rc;      /* SC_ERR_TOO_LARGE when the body passed the cap */
	struct sc_buf body;
	cJSON *json;       /* the parsed body, or NULL */
};

/* ---- text for humans: no terminal controls ---- */

/* One UTF-8 sequence at s (n > 0 bytes left): returns its length and puts
 * the code point in *cp, or -1 there (length 1) for a malformed, overlong,
 * surrogate or truncated sequence. */
static size_t cc_utf8(const unsigned char *s, size_t n, long *cp)
{
	static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned c = s[0];
	size_t len;
	long v;
	*cp = -1;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, v = c & 0x07;
	else
		return 1;
	if (n < len)
		return 1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 1;
	*cp = v;
	return len;
}

/* Characters that must not reach a terminal: C0 and C1 controls, DEL, and
 * the invisible ones that break lines or reorder text (LS, PS, bidi marks,
 * embeddings, overrides and isolates). Malformed UTF-8 (-1) too. */
static int cc_unsafe(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* Terminal columns of a safe code point: 2 for the common East Asian wide
 * and emoji ranges, else 1 (combining marks are over-counted: a line comes
 * out shorter, never longer). */
static int cc_cp_width(long cp)
{
	static const long wide[][2] = {
		{0x1100, 0x115f}, {0x2e80, 0x303e}, {0x3041, 0x33ff},
		{0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xa000, 0xa4cf},
		{0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe30, 0xfe4f},
		{0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x1f300, 0x1f64f},
		{0x1f900, 0x1f9ff}, {0x20000, 0x3fffd},
	};
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

/* Columns s takes once cleaned (unsafe characters become one '?'). */
static int cc_cols(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int cols = 0;
	while (n) {
		long cp;
		size_t len = cc_utf8(p, n, &cp);
		cols += cc_unsafe(cp) ? 1 : cc_cp_width(cp);
		p += len;
		n -= len;
	}
	return cols;
}

/*
 * Print s to f with every unsafe character as '?', in at most width columns
 * (width < 0: no limit); a cut string ends with "…". With pad, fill with
 * spaces up to width. Returns the columns printed.
 */
static int cc_put(FILE *f, const char *s, int width, int pad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int room = width < 0 || cc_cols(s) <= width ? INT_MAX : width - 1;
	int used = 0;
	while (n) {
		long cp;
		size_t len = cc_utf8(p, n, &cp);
		int bad = cc_unsafe(cp), w = bad ? 1 : cc_cp_width(cp);
		if (used + w > room)
			break;
		if (bad)
			fputc('?', f);
		else
			fwrite(p, 1, len, f);
		used += w;
		p += len;
		n -= len;
	}
	if (n && width > 0) {
		fputs("\xe2\x80\xa6", f); /* … */
		used++;
	}
	while (pad && used < width) {
		fputc(' ', f);
		used++;
	}
	return used;
}

/* Copy s into out (outlen > 0) cleaned as cc_put does, cut at a character
 * boundary if it does not fit. For messages built with printf. */
static void cc_clean(const char *s, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	while (n) {
		long cp;
		size_t len = cc_utf8(p, n, &cp);
		size_t w = cc_unsafe(cp) ? 1 : len;
		if (o + w >= outlen)
			break;
		if (w == 1 && cc_unsafe(cp))
			out[o] = '?';
		else
			memcpy(out + o, p, len);
		o += w;
		p += len;
		n -= len;
	}
	out[o] = '\0';
}

/* Print the JSON text js and a newline; the characters cc_unsafe() refuses
 * (only possible inside strings: cJSON escapes C0 already) are written as
 * \uXXXX escapes and malformed bytes as \ufffd, so the line stays valid
 * JSON, means the same, and is safe on a terminal. */
static void cc_print_json(const char *js)
{
	const unsigned char *p = (const unsigned char *)js;
	size_t n = strlen(js);
	while (n) {
		long cp;
		size_t len = cc_utf8(p, n, &cp);
		if (cp < 0)
			fputs("\\ufffd", stdout);
		else if (cc_unsafe(cp))
			printf("\\u%04lx", cp);
		else
			fwrite(p, 1, len, stdout);
		p += len;
		n -= len;
	}
	putchar('\n');
}

/* ---- messages ---- */

/* "snapcat <cmd>: [<what>: ]<message>" on stderr; what is cleaned, the
 * message must be clean already (server text through cc_clean). */
static void cc_err(const struct cc_client *c, const char *what,
		   const char *fmt, ...) SC_PRINTF(3, 4);

static void cc_err(const struct cc_client *c, const char *what,
		   const char *fmt, ...)
{
	char msg[1024], w[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (what) {
		cc_clean(what, w, sizeof(w));
		fprintf(stderr, "snapcat %s: %s: %s\n", c->cmd, w, msg);
	} else {
		fprintf(stderr, "snapcat %s: %s\n", c->cmd, msg);
	}
}

/* The string member k of object o, or NULL. */
static const char *cc_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The integer member k of object o as text into out ("?" if absent). */
static void cc_num(const cJSON *o, const char *k, char *out, size_t outlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsNumber(v) && v->valuedouble > -1e15 && v->valuedouble < 1e15)
		snprintf(out, outlen, "%lld", (long long)v->valuedouble);
	else
		snprintf(out, outlen, "?");
}

/* ---- HTTP ---- */

static void cc_resp_init(struct cc_resp *r)
{
	memset(r, 0, sizeof(*r));
	sc_buf_init(&r->body, CC_BODY_CAP);
}

static void cc_resp_free(struct cc_resp *r)
{
	sc_buf_free(&r->body);
	cJSON_Delete(r->json);
	r->json = NULL;
}

static size_t cc_write(char *p, size_t sz, size_t n, void *ud)
{
	struct cc_resp *r = ud;
	sc_result rc = sc_buf_append(&r->body, p, sz * n);
	if (rc) {
		r->rc = rc;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	return sz * n;
}

/* The request headers (caller frees with curl_slist_free_all), or NULL if
 * an allocation failed. "Expect:" stops curl from waiting for a
 * 100-continue the server never sends. */
static struct curl_slist *cc_headers(const struct cc_client *c, int json_body)
{
	struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json");
	struct curl_slist *t = l;
	if (t && json_body)
		t = curl_slist_append(l, "Content-Type: application/json");
	if (t)
		t = curl_slist_append(l, "Expect:");
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

/* A transport failure (no HTTP answer): say why. Fatal when no other
 * request can do better (the server cannot be reached). */
static enum cc_outcome cc_transport_error(const struct cc_client *c,
					  CURLcode cc, const char *what,
					  const struct cc_resp *r)
{
	char detail[CURL_ERROR_SIZE];
	cc_clean(c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc), detail,
		 sizeof(detail));
	if (cc == CURLE_WRITE_ERROR && r->rc == SC_ERR_TOO_LARGE) {
		cc_err(c, what, "the server's answer is over %u MiB",
		       CC_BODY_CAP >> 20);
		return CC_FAIL;
	}
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		cc_err(c, NULL, "cannot reach the server at %s "
		       "(is \"snapcat serve\" running?)", c->base);
		return CC_FATAL;
	case CURLE_OPERATION_TIMEDOUT:
		cc_err(c, NULL, "no answer from the server at %s in time: %s",
		       c->base, detail);
		return CC_FATAL;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		cc_err(c, NULL, "cannot reach the server at %s: %s", c->base,
		       detail);
		return CC_FATAL;
	default:
		cc_err(c, what, "request to %s failed: %s", c->base, detail);
		return CC_FAIL;
	}
}

/* A non-2xx answer: the error object's message and field, or the status
 * and the start of the body when it is not an API error. */
static void cc_server_error(const struct cc_client *c, const char *what,
			    const struct cc_resp *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	const char *msg = cc_str(e, "message"), *field = cc_str(e, "field");
	const char *code = cc_str(e, "code");
	char m[512], f[128], k[64];
	if (!msg) {
		const char *b = r->body.data ? r->body.data : "";
		char line[201];
		size_t n = strcspn(b, "\r\n");
		n = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
		memcpy(line, b, n); /* the first line, at most 200 bytes */
		line[n] = '\0';
		cc_clean(line, m, sizeof(m));
		cc_err(c, what, "HTTP %ld from the server%s%s", r->status,
		       m[0] ? ": " : "", m);
		return;
	}
	cc_clean(msg, m, sizeof(m));
	cc_clean(field ? field : "", f, sizeof(f));
	cc_clean(code ? code : "", k, sizeof(k));
	cc_err(c, what, "%s (%s%s%sHTTP %ld%s%s)", m, f[0] ? "field \"" : "",
	       f, f[0] ? "\", " : "", r->status, k[0] ? " " : "", k);
}

/* Read the answer of a completed exchange: parse the JSON, explain
 * failures. 401 is fatal: the next request would carry the same token. */
static enum cc_outcome cc_check_answer(const struct cc_client *c,
				       const char *what, struct cc_resp *r)
{
	if (r->status == 401) {
		if (c->token)
			cc_err(c, NULL, "the server refused the token "
			       "(check --token or $SNAPCAT_TOKEN)");
		else
			cc_err(c, NULL, "the server wants a token: pass "
			       "--token T or set SNAPCAT_TOKEN");
		return CC_FATAL;
	}
	if (r->body.len)
		r->json = cJSON_ParseWithLength(r->body.data, r->body.len);
	if (r->status < 200 || r->status > 299) {
		cc_server_error(c, what, r);
		return CC_FAIL;
	}
	if (!cJSON_IsObject(r->json)) {
		cc_err(c, what, "the server's answer is not a JSON object "
		       "(HTTP %ld)", r->status);
		return CC_FAIL;
	}
	return CC_OK;
}

/*
 * One request: path ("/api/links?…") is appended to the server URL; a body
 * (JSON text) makes it a POST, NULL a GET. what prefixes per-request
 * messages (NULL: none). r must be cc_resp_init'ed; the caller frees it
 * with cc_resp_free whatever the outcome. Messages go to stderr.
 */
static enum cc_outcome cc_request(struct cc_client *c, const char *path,
				  const char *body, const char *what,
				  struct cc_resp *r)
{
	struct curl_slist *hdrs = cc_headers(c, body != NULL);
	if (!hdrs) {
		cc_err(c, what, "out of memory");
		return CC_FAIL;
	}
	char *url = sc_xasprintf("%s%s", c->base, path);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, r);
	c->errbuf[0] = '\0';
	CURLcode cc = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	free(url);
	if (cc != CURLE_OK)
		return cc_transport_error(c, cc, what, r);
	return cc_check_answer(c, what, r);
}

/* ---- the client ---- */

/* The server's base URL from --server, $SNAPCAT_SERVER or the default,
 * without trailing '/'; NULL (message printed) unless it is an http(s) URL
 * with a host and no query, fragment, space or control character. Caller
 * frees. */
static char *cc_server_base(const char *cmd, const char *opt)
{
	const char *s = opt ? opt : getenv("SNAPCAT_SERVER");
	if (!s || !*s)
		s = CC_DEFAULT_SERVER;
	size_t skip = !strncasecmp(s, "http://", 7)    ? 7
		      : !strncasecmp(s, "https://", 8) ? 8
						       : 0;
	int ok = skip && s[skip] && s[skip] != '/' && !strpbrk(s, "?#");
	for (const char *p = s; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && *p != 0x7f;
	if (!ok) {
		char clean[256];
		cc_clean(s, clean, sizeof(clean));
		fprintf(stderr, "snapcat %s: the server must be an http:// or "
			"https:// URL (like %s), not \"%s\"\n", cmd,
			CC_DEFAULT_SERVER, clean);
		return NULL;
	}
	size_t n = strlen(s);
	while (n > skip && s[n - 1] == '/')
		n--;
	return sc_xstrndup(s, n);
}

/* Set up c for the command cmd. Returns 0, or the exit status after a
 * message: 2 for a bad server URL or token, 1 if curl cannot start.
 * Release with cc_client_close (also after a failure). */
static int cc_client_open(struct cc_client *c, const char *cmd,
			  const struct cc_args *a)
{
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->base = cc_server_base(cmd, a->server);
	if (!c->base)
		return 2;
	c->token = a->token ? a->token : getenv("SNAPCAT_TOKEN");
	if (c->token && !*c->token)
		c->token = NULL;
	for (const char *p = c->token; p && *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			cc_err(c, NULL, "the token contains spaces or control "
			       "characters");
			return 2;
		}
	}
	c->h = curl_easy_init();
	if (!c->h) {
		cc_err(c, NULL, "cannot start libcurl");
		return 1;
	}
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, CC_CONNECT_MS);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, CC_TOTAL_MS);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "snapcat-cli");
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, cc_write);
	return 0;
}

static void cc_client_close(struct cc_client *c)
{
	curl_easy_cleanup(c->h);
	c->h = NULL;
	free(c->base);
	c->base = NULL;
}

/* ---- options ---- */

enum { CC_O_TAG = 1, CC_O_SERVER, CC_O_TOKEN, CC_O_JSON, CC_O_ANY, CC_O_Q,
       CC_O_LIMIT, CC_O_ALL };

static const struct option cc_add_opts[] = {
	{"tag", 1, 0, CC_O_TAG},     {"server", 1, 0, CC_O_SERVER},
	{"token", 1, 0, CC_O_TOKEN}, {"json", 0, 0, CC_O_JSON},
	{"help", 0, 0, 'h'},         {0, 0, 0, 0},
};

static const struct option cc_ls_opts[] = {
	{"tag", 1, 0, CC_O_TAG},     {"any", 0, 0, CC_O_ANY},
	{"q", 1, 0, CC_O_Q},         {"limit", 1, 0, CC_O_LIMIT},
	{"all", 0, 0, CC_O_ALL},     {"server", 1, 0, CC_O_SERVER},
	{"token", 1, 0, CC_O_TOKEN}, {"json", 0, 0, CC_O_JSON},
	{"help", 0, 0, 'h'},         {0, 0, 0, 0},
};

static void cc_add_usage(FILE *f)
{
	fputs("usage: snapcat add [options] URL...\n"
	      "Add each URL to the catalog of a running \"snapcat serve\" and queue\n"
	      "a capture (a URL already known gets a new capture). Prints one line\n"
	      "per URL: link ID URL (new|known) — job ID STATE.\n\n"
	      "  --tag T          tag the link (repeatable)\n"
	      "  --server URL     the server (default $SNAPCAT_SERVER, else\n"
	      "                   " CC_DEFAULT_SERVER ")\n"
	      "  --token T        API token (default $SNAPCAT_TOKEN)\n"
	      "  --json           print the server's answer, one JSON line per URL\n"
	      "Exit status: 0 if every URL was added, 1 if any failed, 2 on usage errors.\n",
	      f);
}

static void cc_ls_usage(FILE *f)
{
	fputs("usage: snapcat ls [options]\n"
	      "List the links of a running \"snapcat serve\": id, state of the last\n"
	      "capture job, tags, title (or URL) and URL. On a terminal the table is\n"
	      "cut to its width; otherwise the fields are separated by tabs.\n\n"
	      "  --tag T          links with this tag (repeatable: with all of them)\n"
	      "  --any            with several --tag: links with any of them\n"
	      "  --q TEXT         full-text search (URL, title, page text)\n"
	      "  --limit N        links per page, 1-1000 (default: the server's)\n"
	      "  --all            follow the pages to the end (default: first page)\n"
	      "  --server URL     the server (default $SNAPCAT_SERVER, else\n"
	      "                   " CC_DEFAULT_SERVER ")\n"
	      "  --token T        API token (default $SNAPCAT_TOKEN)\n"
	      "  --json           one JSON object per link and line\n"
	      "Exit status: 0 ok, 1 if a request failed, 2 on usage errors.\n",
	      f);
}

/* Apply option c (a CC_O_* value) with value v. -1 after a message. */
static int cc_opt(const char *cmd, struct cc_args *a, int c, const char *v)
{
	switch (c) {
	case CC_O_TAG: a->tags[a->ntags++] = v; return 0;
	case CC_O_SERVER: a->server = v; return 0;
	case CC_O_TOKEN: a->token = v; return 0;
	case CC_O_JSON: a->json = 1; return 0;
	case CC_O_ANY: a->any = 1; return 0;
	case CC_O_ALL: a->all = 1; return 0;
	case CC_O_Q: a->q = v; return 0;
	case CC_O_LIMIT:
		if (sc_parse_long(v, 1, CC_LIMIT_MAX, &a->limit) == SC_OK)
			return 0;
		fprintf(stderr, "snapcat %s: --limit wants a number from 1 to "
			"%d, not \"%s\"\n", cmd, CC_LIMIT_MAX, v);
		return -1;
	default: return -1;
	}
}

/* Parse argv (argv[0] is the command) with the options lo. Returns 0, 1
 * after printing the usage for --help, or -1 after a message (usage
 * error). a->tags is allocated in every case: free it with free(). */
static int cc_parse(int argc, char **argv, const struct option *lo,
		    struct cc_args *a)
{
	const char *cmd = argv[0];
	memset(a, 0, sizeof(*a));
	a->tags = sc_xcalloc((size_t)argc, sizeof(*a->tags));
	int c;
	optind = 0; /* full reset: permutation state included (GNU) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			const char *bad = optopt && c == '?' ? NULL : argv[optind - 1];
			if (bad)
				fprintf(stderr, "snapcat %s: %s \"%s\"\n", cmd,
					c == '?' ? "unknown option" : "no value for",
					bad);
			else
				fprintf(stderr, "snapcat %s: unknown option "
					"\"-%c\"\n", cmd, optopt);
			return -1;
		}
		if (cc_opt(cmd, a, c, optarg))
			return -1;
	}
	a->first = optind;
	return 0;
}

/* ---- add ---- */

/* {"url":url,"tags":[...]} ("tags" only when --tag was given, so that a
 * known link keeps its tags); cJSON_free it. NULL if out of memory. */
static char *cc_add_body(const char *url, const struct cc_args *a)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	if (!o || !cJSON_AddStringToObject(o, "url", url))
		goto out;
	if (a->ntags) {
		cJSON *t = cJSON_AddArrayToObject(o, "tags");
		for (int i = 0; t && i < a->ntags; i++)
			if (!cJSON_AddItemToArray(t, cJSON_CreateString(a->tags[i])))
				goto out;
		if (!t)
			goto out;
	}
	s = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return s;
}

/* "link 3 https://example.org/ (new) — job 7 queued" from {link, job}. */
static enum cc_outcome cc_add_print(const struct cc_client *c,
				    const char *what, const struct cc_resp *r)
{
	const cJSON *link = cJSON_GetObjectItemCaseSensitive(r->json, "link");
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(r->json, "job");
	if (!cJSON_IsObject(link)) {
		cc_err(c, what, "the server's answer has no link");
		return CC_FAIL;
	}
	char id[32];
	const char *url = cc_str(link, "url");
	cc_num(link, "id", id, sizeof(id));
	printf("link %s ", id);
	cc_put(stdout, url ? url : what, -1, 0);
	printf(" (%s) \xe2\x80\x94 ", r->status == 201 ? "new" : "known");
	if (cJSON_IsObject(job)) {
		const char *state = cc_str(job, "state");
		cc_num(job, "id", id, sizeof(id));
		printf("job %s ", id);
		cc_put(stdout, state ? state : "?", -1, 0);
		putchar('\n');
	} else {
		puts("no capture queued");
	}
	return CC_OK;
}

/* POST one URL and print the result. */
static enum cc_outcome cc_add_one(struct cc_client *c, const struct cc_args *a,
				  const char *url)
{
	char *body = cc_add_body(url, a);
	if (!body) {
		cc_err(c, url, "out of memory");
		return CC_FAIL;
	}
	struct cc_resp r;
	cc_resp_init(&r);
	enum cc_outcome o = cc_request(c, "/api/links", body, url, &r);
	if (o == CC_OK && a->json) {
		char *line = cJSON_PrintUnformatted(r.json);
		if (line)
			cc_print_json(line);
		cJSON_free(line);
	} else if (o == CC_OK) {
		o = cc_add_print(c, url, &r);
	}
	fflush(stdout);
	cc_resp_free(&r);
	cJSON_free(body);
	return o;
}

int cli_add(int argc, char **argv)
{
	struct cc_args a;
	struct cc_client c = {0};
	int rc = cc_parse(argc, argv, cc_add_opts, &a), failed = 0;
	if (rc > 0) {
		cc_add_usage(stdout);
		rc = 0;
		goto out;
	}
	if (rc == 0 && a.first >= argc) {
		fprintf(stderr, "snapcat add: no URL given\n");
		rc = -1;
	}
	if (rc < 0) {
		cc_add_usage(stderr);
		rc = 2;
		goto out;
	}
	if ((rc = cc_client_open(&c, "add", &a)))
		goto out;
	for (int i = a.first; i < argc; i++) {
		enum cc_outcome o = cc_add_one(&c, &a, argv[i]);
		failed += o != CC_OK;
		if (o == CC_FATAL && i + 1 < argc) {
			cc_err(&c, NULL, "%d more URL(s) not sent", argc - i - 1);
			failed += argc - i - 1;
			break;
		}
	}
	rc = failed ? 1 : 0;
out:
	cc_client_close(&c);
	free(a.tags);
	return rc;
}

/* ---- ls ---- */

/* How rows are printed. */
struct cc_table {
	int json;    /* one JSON line per item */
	int cols;    /* terminal width, or -1: not a terminal (tab-separated) */
	int title_w; /* title column on a terminal */
	int rows;    /* rows printed so far */
};

static void cc_table_init(struct cc_table *t, int json)
{
	struct winsize ws;
	long n;
	const char *env = getenv("COLUMNS");
	memset(t, 0, sizeof(*t));
	t->json = json;
	t->cols = -1;
	if (json || !isatty(STDOUT_FILENO))
		return;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		t->cols = ws.ws_col;
	else if (env && sc_parse_long(env, 1, 10000, &n) == SC_OK)
		t->cols = (int)n;
	else
		t->cols = 80;
	int avail = t->cols - CC_FIXED_W;
	t->title_w = avail > 2 ? (avail - 2) / 2 : 0;
}

/* A row being printed on a terminal. */
struct cc_line {
	int left;   /* columns still free */
	int spaces; /* padding owed, written only before more text, so that
		       rows end without blanks */
};

/* One cell of a terminal row: s padded to width columns (< 0: as wide as
 * it is), never past the columns left; then, with sep, a two-space gap. */
static void cc_cell(struct cc_line *l, const char *s, int width, int sep)
{
	int w = width < 0 || width > l->left ? l->left : width;
	int used = 0;
	if (*s && w > 0) {
		printf("%*s", l->spaces, "");
		l->spaces = 0;
		used = cc_put(stdout, s, w, 0);
		l->left -= used;
	}
	int gap = (width >= 0 ? w - used : 0) + (sep ? 2 : 0);
	gap = gap < l->left ? gap : l->left;
	l->spaces += gap;
	l->left -= gap;
}

/* A row: on a terminal aligned and cut to its width, else tab-separated. */
static void cc_row(const struct cc_table *t, const char *id, const char *state,
		   const char *tags, const char *title, const char *url)
{
	if (t->cols < 0) {
		const char *f[] = {id, state, tags, title, url};
		for (int i = 0; i < 5; i++) {
			cc_put(stdout, f[i], -1, 0);
			putchar(i < 4 ? '\t' : '\n');
		}
		return;
	}
	char idcol[40];
	struct cc_line l = {.left = t->cols};
	snprintf(idcol, sizeof(idcol), "%*s", CC_ID_W, id);
	cc_cell(&l, idcol, -1, 1);
	cc_cell(&l, state, CC_STATE_W, 1);
	cc_cell(&l, tags, CC_TAGS_W, 1);
	cc_cell(&l, title, t->title_w, 1);
	cc_cell(&l, url, -1, 0);
	putchar('\n');
}

/* "a,b,c" from a tags array, "-" when there are none; caller frees. */
static char *cc_join_tags(const cJSON *tags)
{
	struct sc_buf b;
	const cJSON *t;
	sc_buf_init(&b, CC_BODY_CAP);
	cJSON_ArrayForEach(t, tags) {
		if (!cJSON_IsString(t))
			continue;
		if ((b.len && sc_buf_appends(&b, ",")) ||
		    sc_buf_appends(&b, t->valuestring))
			break;
	}
	if (!b.len) {
		sc_buf_free(&b);
		return sc_xstrdup("-");
	}
	return sc_buf_take(&b, NULL);
}

/* Print one link object as a row. */
static void cc_ls_item(struct cc_table *t, const cJSON *link)
{
	if (t->json) {
		char *line = cJSON_PrintUnformatted(link);
		if (line)
			cc_print_json(line);
		cJSON_free(line);
		t->rows++;
		return;
	}
	if (t->cols >= 0 && !t->rows)
		cc_row(t, "ID", "STATE", "TAGS", "TITLE", "URL");
	char id[32];
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(link, "last_job");
	const char *state = cc_str(job, "state"), *url = cc_str(link, "url");
	const char *title = cc_str(link, "title");
	char *tags = cc_join_tags(cJSON_GetObjectItemCaseSensitive(link, "tags"));
	cc_num(link, "id", id, sizeof(id));
	if (!url)
		url = "";
	cc_row(t, id, state ? state : "-", tags, title && *title ? title : url,
	       url);
	free(tags);
	t->rows++;
}

/* Append "&key=escaped(val)" ('?' for the first) to the path in b. */
static sc_result cc_query_add(CURL *h, struct sc_buf *b, const char *key,
			      const char *val)
{
	char *e = curl_easy_escape(h, val, 0);
	if (!e)
		return SC_ERR_NOMEM;
	sc_result rc = sc_buf_printf(b, "%c%s=%s", strchr(b->data, '?') ? '&' : '?',
				     key, e);
	curl_free(e);
	return rc;
}

/* "/api/links?tag=…&match=any&q=…&limit=…&cursor=…" (caller frees), or
 * NULL if it would pass CC_PATH_CAP. */
static char *cc_ls_path(const struct cc_client *c, const struct cc_args *a,
			const char *cursor)
{
	struct sc_buf b;
	char limit[24];
	sc_result rc;
	sc_buf_init(&b, CC_PATH_CAP);
	rc = sc_buf_appends(&b, "/api/links");
	for (int i = 0; !rc && i < a->ntags; i++)
		rc = cc_query_add(c->h, &b, "tag", a->tags[i]);
	if (!rc && a->any)
		rc = cc_query_add(c->h, &b, "match", "any");
	if (!rc && a->q)
		rc = cc_query_add(c->h, &b, "q", a->q);
	snprintf(limit, sizeof(limit), "%ld", a->limit);
	if (!rc && a->limit)
		rc = cc_query_add(c->h, &b, "limit", limit);
	if (!rc && cursor)
		rc = cc_query_add(c->h, &b, "cursor", cursor);
	if (rc) {
		sc_buf_free(&b);
		return NULL;
	}
	return sc_buf_take(&b, NULL);
}

/* Fetch and print one page. Returns 0 and sets *next to the next cursor
 * (caller frees; NULL on the last page), or 1 after a message. */
static int cc_ls_page(struct cc_client *c, const struct cc_args *a,
		      const char *cursor, struct cc_table *t, char **next)
{
	char *path = cc_ls_path(c, a, cursor);
	struct cc_resp r;
	const cJSON *items, *item;
	const char *nc;
	int rc = 1;
	*next = NULL;
	cc_resp_init(&r);
	if (!path) {
		cc_err(c, NULL, "the query is too long");
		goto out;
	}
	if (cc_request(c, path, NULL, NULL, &r) != CC_OK)
		goto out;
	items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
	if (!cJSON_IsArray(items)) {
		cc_err(c, NULL, "the server's answer has no \"items\" list");
		goto out;
	}
	cJSON_ArrayForEach(item, items)
		if (cJSON_IsObject(item))
			cc_ls_item(t, item);
	nc = cc_str(r.json, "next_cursor");
	*next = nc && *nc ? sc_xstrdup(nc) : NULL;
	rc = 0;
out:
	cc_resp_free(&r);
	free(path);
	return rc;
}

/* Page through the links (once unless --all). Returns the exit status. */
static int cc_ls_run(struct cc_client *c, const struct cc_args *a)
{
	struct cc_table t;
	char *cursor = NULL;
	int rc;
	cc_table_init(&t, a->json);
	do {
		char *next = NULL;
		rc = cc_ls_page(c, a, cursor, &t, &next);
		if (!rc && next && cursor && !strcmp(next, cursor)) {
			cc_err(c, NULL, "the server sent the same cursor twice");
			rc = 1;
		}
		free(cursor);
		cursor = next;
		if (fflush(stdout)) {
			rc = 1; /* stdout closed (a pipe's reader quit): stop */
			break;
		}
	} while (!rc && cursor && a->all);
	if (!rc && t.cols >= 0 && !t.rows)
		fprintf(stderr, "snapcat ls: no links\n");
	if (!rc && t.cols >= 0 && cursor)
		fprintf(stderr, "snapcat ls: more links: use --all, or "
			"--limit N\n");
	free(cursor);
	return rc;
}

int cli_ls(int argc, char **argv)
{
	struct cc_args a;
	struct cc_client c = {0};
	int rc = cc_parse(argc, argv, cc_ls_opts, &a);
	if (rc > 0) {
		cc_ls_usage(stdout);
		rc = 0;
		goto out;
	}
	if (rc == 0 && a.first < argc) {
		fprintf(stderr, "snapcat ls: unexpected argument \"%s\"\n",
			argv[a.first]);
		rc = -1;
	}
	if (rc < 0) {
		cc_ls_usage(stderr);
		rc = 2;
		goto out;
	}
	if (!(rc = cc_client_open(&c, "ls", &a)))
		rc = cc_ls_run(&c, &a);
out:
	cc_client_close(&c);
	free(a.tags);
	return rc;
}
