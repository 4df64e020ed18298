/*
 * fuzz_http.c — libFuzzer target for the HTTP request path from the bytes
 * on the wire to the API's answer: body framing (http/body.c body_framing:
 * Content-Length, Transfer-Encoding), the chunked decoder (body_chunked_feed,
 * fed in pieces), body deadlines (body_deadline), then the request routed by
 * api_dispatch (router.c, Range on snapshot files in api_snapshots.c)
 * against the seeded catalog of fuzz_app.h.
 *
 *   tests/fuzz/run-fuzzers 60 http     (libFuzzer, clang, ASan+UBSan)
 *   ctest -R fuzz.http                 (corpus replay, any compiler)
 *
 * No socket: the harness plays libwebsockets' part (it splits the request
 * line, the query and the header lines, as lws hands them to server.c).
 *
 * Input: an HTTP/1.1 request as sent: "METHOD TARGET HTTP/1.1", header lines
 * up to an empty line (CRLF or LF line ends), then the body bytes as framed
 * by the head. Headers read: Content-Length, Transfer-Encoding (repeated
 * lines joined with ","), Range, Authorization, If-None-Match, Accept,
 * Origin, Last-Event-ID; and the harness's own
 *   Fuzz-Split: N      the body reaches the chunked decoder in pieces of
 *                      1..N bytes (sizes from the input's bytes; default 7)
 *   Fuzz-Cap: N        the decoded body's cap for a second decoding (the
 *                      first uses the route's cap, as server.c does)
 *   Fuzz-Limits: T R G body_deadline(timeout_ms T, min_rate R) at t0 = 1000
 *                      for G and G + 1 bytes received
 *
 * Properties checked on every input (abort() on violation):
 *   - framing: both headers -> 400; a Transfer-Encoding other than
 *     "chunked" (trimmed, any case) -> 501, chunked on GET/HEAD/DELETE/
 *     OPTIONS -> 400; a Content-Length that is not 1-19 digits -> 400, else
 *     its value (0: no body); POST/PUT/PATCH with neither: unframed;
 *   - chunked: the decoder fed in pieces and fed at once agree (verdict,
 *     bytes, where the body ends) with an independent decoder written here
 *     from RFC 9112 7.1 (same limits: 15 hex digits, 4 KiB size lines, 8 KiB
 *     of trailers, CRLF only); with a smaller cap the output is a prefix and
 *     the overflow flag says exactly whether bytes were dropped; `used`
 *     never passes the input;
 *   - deadline: at least t0 + timeout, never smaller for more bytes, no
 *     overflow (UBSan);
 *   - routing: a complete request under /api/ (not the feeds, which
 *     server.c serves) gets a status 100..599 and never 500; a file answer
 *     is 200 or 206 with a type and no body bytes and lies inside a regular
 *     file (fuzz_check_file, as in fuzz_api.c); 206 has "Content-Range:
 *     bytes A-B/T" matching
 *     the part sent, and answers a Range that is one byte range of digits
 *     (RFC 9110 14.1.2; spaces around the numbers tolerated) with exactly
 *     the part it names; 200 sends the whole file;
 *   - nothing leaked (LeakSanitizer).
 * FUZZ_SKIP_KNOWN (see run-fuzzers) checks only strictly formed Range
 * values (a sscanf-based Range parser answers malformed ones with 206).
 * FUZZ_VERBOSE=1 in the environment prints each request and its answer.
 */
#define FUZZ_NAME "fuzz_http"
#include "fuzz_app.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>

#include "body.h"

struct fuzz_msg {
	enum http_method method;
	int known_method;
	char *cl, *te;           /* raw header values, or NULL */
	size_t split;            /* Fuzz-Split */
	size_t cap;              /* Fuzz-Cap, 0: none */
	int limits;              /* Fuzz-Limits given */
	long long lim[3];
	const char *body;        /* the bytes after the head */
	size_t body_len;
};

/* ---- the head, as lws would split it ---- */

/* The next line of [*p, end) without its CR LF / LF; 0 at the end. */
static int fuzz_next_line(const char **p, const char *end, const char **l,
			  size_t *n)
{
	if (*p >= end)
		return 0;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*l = *p;
	*n = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
	if (*n && (*l)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

/* Append ",value" (or "value") to *field, as lws joins repeated headers. */
static void fuzz_join(char **field, const char *v, size_t n)
{
	char *old = *field;
	*field = old ? sc_xasprintf("%s,%.*s", old, (int)n, v)
		     : sc_xstrndup(v, n);
	free(old);
}

static void fuzz_harness_header(struct fuzz_msg *m, const char *name,
				size_t nl, const char *v, size_t vl)
{
	char t[96];
	snprintf(t, sizeof(t), "%.*s", (int)(vl < 95 ? vl : 95), v);
	if (nl == 10 && !strncasecmp(name, "fuzz-split", nl))
		m->split = (size_t)strtoul(t, NULL, 10) % 4096;
	else if (nl == 8 && !strncasecmp(name, "fuzz-cap", nl))
		m->cap = (size_t)strtoul(t, NULL, 10) % (1 << 20);
	else if (nl == 11 && !strncasecmp(name, "fuzz-limits", nl))
		m->limits = sscanf(t, "%lld %lld %lld", &m->lim[0], &m->lim[1],
				   &m->lim[2]) == 3;
}

static void fuzz_header(struct http_req *req, struct fuzz_msg *m,
			const char *line, size_t len)
{
	const char *v;
	size_t nl, vl;
	if (fuzz_header_split(line, len, " \t", &nl, &v, &vl))
		return;
	if (nl == 14 && !strncasecmp(line, "content-length", nl))
		fuzz_join(&m->cl, v, vl);
	else if (nl == 17 && !strncasecmp(line, "transfer-encoding", nl))
		fuzz_join(&m->te, v, vl);
	else if (nl > 5 && !strncasecmp(line, "fuzz-", 5))
		fuzz_harness_header(m, line, nl, v, vl);
	fuzz_req_header(req, line, nl, v, vl);
}

/* "METHOD TARGET VERSION": method, path and args. 0 ok. */
static int fuzz_request_line(struct http_req *req, struct fuzz_msg *m,
			     const char *l, size_t n)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT",
					      "PATCH", "DELETE", "OPTIONS"};
	const char *sp = memchr(l, ' ', n);
	if (!sp)
		return -1;
	size_t ml = (size_t)(sp - l);
	req->method = HTTP_OTHER;
	for (int i = 0; i < 7; i++)
		if (strlen(methods[i]) == ml && !strncmp(l, methods[i], ml)) {
			req->method = (enum http_method)i;
			m->known_method = 1;
		}
	m->method = req->method;
	const char *t = sp + 1, *end = l + n;
	const char *sp2 = memchr(t, ' ', (size_t)(end - t));
	const char *te = sp2 ? sp2 : end;
	const char *q = memchr(t, '?', (size_t)(te - t));
	req->path = sc_xstrndup(t, (size_t)((q ? q : te) - t));
	if (q)
		fuzz_req_args(req, q + 1, (size_t)(te - q - 1));
	return 0;
}

/* The head of data into req and m; m->body is what follows it. 0 when
 * there is a request line and an empty line ending the head. */
static int fuzz_parse(const uint8_t *data, size_t size, struct http_req *req,
		      struct fuzz_msg *m)
{
	const char *p = (const char *)data, *end = p + size, *l;
	size_t n;
	m->split = 7;
	if (!fuzz_next_line(&p, end, &l, &n) ||
	    fuzz_request_line(req, m, l, n))
		return -1;
	while (fuzz_next_line(&p, end, &l, &n)) {
		if (!n) {
			m->body = p;
			m->body_len = (size_t)(end - p);
			return 0;
		}
		fuzz_header(req, m, l, n);
	}
	return -1;
}

/* ---- an independent chunked decoder (RFC 9112 7.1) ---- */

/* Written from the RFC's grammar with the product's limits, line by line
 * over the whole input (the product is a byte-at-a-time state machine).
 * A truncated input is BODY_MORE unless what is there is already wrong. */

struct fuzz_ref {
	int verdict;        /* BODY_MORE, BODY_DONE, BODY_ERROR */
	size_t end;         /* BODY_DONE: where the body ended */
	struct sc_buf out;
};

static int fuzz_hex(unsigned char c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (c | 0x20) - 'a' + 10 : -1;
}

/* "CRLF" at [*i, n): 1 and past it, 0 truncated, -1 wrong. */
static int fuzz_crlf(const unsigned char *b, size_t n, size_t *i)
{
	if (*i < n && b[*i] != '\r')
		return -1;
	if (*i + 1 < n && b[*i + 1] != '\n')
		return -1;
	if (*i + 1 >= n)
		return 0;
	*i += 2;
	return 1;
}

/* chunk-size [ BWS ] [ ";" ext ] CRLF at [*i, n), at most 4096 bytes with
 * its CRLF: 1 (*size set), 0 truncated, -1 wrong. */
static int fuzz_ref_size(const unsigned char *b, size_t n, size_t *i,
			 uint64_t *size)
{
	size_t k = *i, s = *i;
	int digits = 0, rc;
	for (*size = 0; k < n && fuzz_hex(b[k]) >= 0; k++, digits++) {
		if (digits == 15)
			return -1;
		*size = *size * 16 + (uint64_t)fuzz_hex(b[k]);
	}
	if (k < n && !digits)
		return -1;
	while (k < n && (b[k] == ' ' || b[k] == '\t'))
		k++;
	if (k < n && b[k] == ';')
		for (k++; k < n && b[k] != '\r'; k++)
			if (b[k] == '\n' || b[k] == 0 || b[k] == 0x7f)
				return -1;
	rc = fuzz_crlf(b, n, &k);
	if (rc < 0 || (rc ? k : n) - s > 4096)
		return -1;
	if (rc)
		*i = k;
	return rc;
}

/* The trailer lines and the empty line ending them, at most 8192 bytes in
 * all, at [*i, n): 1 (*i past them), 0 truncated, -1 wrong. */
static int fuzz_ref_trailers(const unsigned char *b, size_t n, size_t *i)
{
	size_t k = *i;
	for (;;) {
		size_t line = k;
		while (k < n && b[k] != '\r') {
			if (b[k] == '\n' || b[k] == 0)
				return -1;
			k++;
		}
		int rc = fuzz_crlf(b, n, &k);
		if (rc < 0 || (rc ? k : n) - *i > 8192)
			return -1;
		if (!rc)
			return 0;
		if (k - line == 2) {
			*i = k;
			return 1;
		}
	}
}

static void fuzz_ref_decode(const unsigned char *b, size_t n,
			    struct fuzz_ref *r)
{
	size_t i = 0;
	uint64_t size;
	int rc;
	sc_buf_init(&r->out, 0);
	r->end = 0;
	while ((rc = fuzz_ref_size(b, n, &i, &size)) > 0 && size) {
		size_t take = n - i < size ? n - i : (size_t)size;
		FUZZ_ASSERT(sc_buf_append(&r->out, b + i, take) == SC_OK);
		i += take;
		if (take < size) {
			rc = 0;
			break;
		}
		if ((rc = fuzz_crlf(b, n, &i)) <= 0)
			break;
	}
	if (rc > 0) /* the last chunk: trailers */
		rc = fuzz_ref_trailers(b, n, &i);
	r->verdict = rc < 0 ? BODY_ERROR : rc ? BODY_DONE : BODY_MORE;
	r->end = i;
}

/* ---- the checks ---- */

/* v without the spaces and tabs around it, into t. */
static const char *fuzz_trim(const char *v, char *t, size_t tl)
{
	size_t n = strlen(v);
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	snprintf(t, tl, "%.*s", (int)(n < tl ? n : tl - 1), v);
	return n < tl ? t : "-";
}

/* Content-Length: 1-19 digits between spaces or tabs; its value. */
static int fuzz_length(const char *v, unsigned long long *out)
{
	char t[32];
	v = fuzz_trim(v, t, sizeof(t));
	size_t n = strlen(v);
	if (!n || n > 19 || strspn(v, "0123456789") < n)
		return 0;
	*out = strtoull(v, NULL, 10);
	return 1;
}

static void fuzz_check_framing(const struct fuzz_msg *m, enum body_kind k,
			       uint64_t len)
{
	int bodied = m->method == HTTP_POST || m->method == HTTP_PUT ||
		     m->method == HTTP_PATCH;
	unsigned long long v = 0;
	if (m->cl && m->te) {
		FUZZ_ASSERT(k == BODY_BAD);
	} else if (m->te) {
		char t[16];
		int chunked = !strcasecmp(fuzz_trim(m->te, t, sizeof(t)),
					  "chunked");
		FUZZ_ASSERT(k == (!chunked ? BODY_UNSUPPORTED
				  : bodied ? BODY_CHUNKED : BODY_BAD));
	} else if (m->cl) {
		int ok = fuzz_length(m->cl, &v);
		FUZZ_ASSERT(k == (!ok ? BODY_BAD : v ? BODY_LENGTH : BODY_NONE));
		FUZZ_ASSERT(!ok || len == v);
	} else {
		FUZZ_ASSERT(k == (bodied ? BODY_UNFRAMED : BODY_NONE));
	}
}

/* Feed [body, body+n) to a fresh decoder in pieces of 1..split bytes (sizes
 * from the body's own bytes), capped at cap. */
static enum body_chunk_rc fuzz_feed(const char *body, size_t n, size_t split,
				    size_t cap, struct sc_buf *out, int *over,
				    size_t *used_total)
{
	struct body_chunked c;
	enum body_chunk_rc rc = BODY_MORE;
	size_t at = 0;
	body_chunked_init(&c);
	sc_buf_init(out, cap);
	*over = 0;
	while (at < n && rc == BODY_MORE) {
		size_t piece = split ? 1 + (unsigned char)body[at] % split : n;
		size_t used;
		if (piece > n - at)
			piece = n - at;
		rc = body_chunked_feed(&c, body + at, piece, out, over, &used);
		FUZZ_ASSERT(used <= piece);
		FUZZ_ASSERT(rc != BODY_MORE || used == piece);
		at += used;
	}
	*used_total = at;
	return rc;
}

static void fuzz_check_chunked(const struct fuzz_msg *m, size_t cap,
			       struct sc_buf *decoded, enum body_chunk_rc *rc)
{
	struct fuzz_ref ref;
	struct sc_buf whole, small;
	int over, over_w, over_s;
	size_t used, used_w, used_s;
	fuzz_ref_decode((const unsigned char *)m->body, m->body_len, &ref);
	*rc = fuzz_feed(m->body, m->body_len, m->split, cap, decoded, &over,
			&used);
	enum body_chunk_rc rw = fuzz_feed(m->body, m->body_len, 0, 0, &whole,
					  &over_w, &used_w);
	if ((int)rw != ref.verdict || (int)*rc != ref.verdict) {
		fprintf(stderr, "chunked: pieces %d, whole %d, reference %d\n",
			*rc, rw, ref.verdict);
		abort();
	}
	FUZZ_ASSERT(!over_w && whole.len == ref.out.len);
	FUZZ_ASSERT(!memcmp(whole.data ? whole.data : "",
			    ref.out.data ? ref.out.data : "", whole.len));
	if (rw == BODY_DONE)
		FUZZ_ASSERT(used_w == ref.end && used == ref.end);
	FUZZ_ASSERT(over == (decoded->len < whole.len));
	FUZZ_ASSERT(!memcmp(decoded->data ? decoded->data : "",
			    whole.data ? whole.data : "", decoded->len));
	if (m->cap) { /* another cap: a prefix, and flagged when cut */
		fuzz_feed(m->body, m->body_len, m->split, m->cap, &small,
			  &over_s, &used_s);
		FUZZ_ASSERT(small.len <= m->cap && small.len <= whole.len);
		FUZZ_ASSERT(over_s == (small.len < whole.len));
		FUZZ_ASSERT(!memcmp(small.data ? small.data : "",
				    whole.data ? whole.data : "", small.len));
		sc_buf_free(&small);
	}
	sc_buf_free(&whole);
	sc_buf_free(&ref.out);
}

static void fuzz_check_deadline(const struct fuzz_msg *m)
{
	if (!m->limits)
		return;
	struct body_limits l = {
		.timeout_ms = (int)(m->lim[0] % 100000000),
		.min_rate = (int)(m->lim[1] % 2000000000)};
	uint64_t got = (uint64_t)m->lim[2];
	int64_t a = body_deadline(&l, 1000, got);
	int64_t b = body_deadline(&l, 1000, got + 1);
	FUZZ_ASSERT(a >= 1000 + (l.timeout_ms > 0 ? l.timeout_ms : 0) ||
		    a == INT64_MAX);
	FUZZ_ASSERT(b >= a);
	FUZZ_ASSERT(body_deadline(&l, 1000, 0) <= a);
}

/* Digits at *p (OWS around them skipped): 1 and the value, 0 none, -1 too
 * many. */
static int fuzz_num(const char **p, uint64_t *v)
{
	size_t n;
	*p += strspn(*p, " \t");
	n = strspn(*p, "0123456789");
	if (n > 19)
		return -1;
	*v = n ? strtoull(*p, NULL, 10) : 0;
	*p += n;
	*p += strspn(*p, " \t");
	return n > 0;
}

/* Range as a byte range of a size-byte file (RFC 9110 14.1.2), read
 * leniently (spaces and tabs around the numbers): 1 with its part, 0 not
 * satisfiable, -1 not one range of digits (signs, lists, other units). */
static int fuzz_rfc_range(const char *v, uint64_t size, uint64_t *off,
			  uint64_t *len)
{
	uint64_t a = 0, b = 0;
	int fa, fb;
	if (strncasecmp(v, "bytes=", 6))
		return -1;
	v += 6;
	if ((fa = fuzz_num(&v, &a)) < 0 || *v++ != '-' ||
	    (fb = fuzz_num(&v, &b)) < 0 || *v || (!fa && !fb) ||
	    (fa && fb && b < a))
		return -1;
	if (!fa) { /* the last b bytes */
		if (!b || !size)
			return 0;
		*len = b < size ? b : size;
		*off = size - *len;
		return 1;
	}
	if (a >= size)
		return 0;
	*off = a;
	*len = (fb && b < size - 1 ? b : size - 1) - a + 1;
	return 1;
}

/* Is v exactly "bytes=DIGITS-[DIGITS]" or "bytes=-DIGITS"? */
static __attribute__((unused)) int fuzz_strict_range(const char *v)
{
	size_t a, b;
	if (strncmp(v, "bytes=", 6))
		return 0;
	v += 6;
	a = strspn(v, "0123456789");
	if (v[a] != '-')
		return 0;
	b = strspn(v + a + 1, "0123456789");
	return !v[a + 1 + b] && (a || b) && a <= 19 && b <= 19;
}

/* A 206 answers a Range that is one byte range, with exactly its part. */
static void fuzz_check_range(const struct http_req *req,
			     const struct http_resp *rs)
{
	uint64_t off, len;
	if (rs->status != 206)
		return;
	FUZZ_ASSERT(req->range);
#ifdef FUZZ_SKIP_KNOWN
	/* a Range parser that reads its numbers with sscanf takes malformed
	 * values ("bytes=--1" was the whole file, "bytes=3" byte 3): only
	 * strict ones are checked */
	if (!fuzz_strict_range(req->range))
		return;
#endif
	int rc = fuzz_rfc_range(req->range, rs->total, &off, &len);
	if (rc != 1 || off != rs->off || len != rs->len) {
		fprintf(stderr, "Range \"%s\" of %" PRIu64 " bytes: 206 with "
			"%" PRIu64 "+%" PRIu64 " (RFC 9110: %s)\n", req->range,
			rs->total, rs->off, rs->len, rc < 0 ? "not one range"
			: rc == 0 ? "not satisfiable" : "another part");
		abort();
	}
}

/* The part of a file answer and its Content-Range agree. */
static void fuzz_check_answer(const struct http_req *req,
			      const struct http_resp *rs)
{
	fuzz_check_status(rs);
	if (rs->fd < 0)
		return;
	fuzz_check_file(rs);
	if (rs->status == 200)
		return;
	FUZZ_ASSERT(rs->len > 0);
	char want[128];
	snprintf(want, sizeof(want), "Content-Range: bytes %" PRIu64 "-%" PRIu64
		 "/%" PRIu64 "\r\n", rs->off, rs->off + rs->len - 1, rs->total);
	FUZZ_ASSERT(rs->headers.data && strstr(rs->headers.data, want));
	fuzz_check_range(req, rs);
}

/* ---- one input ---- */

/* The body of a complete request into req->body: 0 when it can be routed
 * (what server.c would dispatch), -1 when server.c answers it itself. */
static int fuzz_body(struct http_req *req, struct fuzz_msg *m)
{
	uint64_t len;
	enum body_kind k = body_framing(m->method, m->cl, m->te, &len);
	fuzz_check_framing(m, k, len);
	req->body.cap = api_body_cap(req);
	if (k == BODY_BAD || k == BODY_UNSUPPORTED)
		return -1; /* 400, 501 */
	if (k == BODY_LENGTH) {
		if (len > m->body_len || len > req->body.cap)
			return -1; /* incomplete (408 one day), or 413 */
		FUZZ_ASSERT(sc_buf_append(&req->body, m->body, (size_t)len) ==
			    SC_OK);
	}
	if (k != BODY_CHUNKED)
		return 0;
	enum body_chunk_rc rc;
	struct sc_buf dec;
	fuzz_check_chunked(m, req->body.cap, &dec, &rc);
	if (rc == BODY_DONE) /* under the cap: the input is at most 64 KiB */
		FUZZ_ASSERT(sc_buf_append(&req->body, dec.data ? dec.data : "",
					  dec.len) == SC_OK);
	sc_buf_free(&dec);
	return rc == BODY_DONE ? 0 : -1;
}

static void fuzz_route(struct http_req *req)
{
	if (strncmp(req->path, "/api/", 5) || !strcmp(req->path, "/api/ws") ||
	    !strncmp(req->path, "/api/events", 11))
		return; /* served by server.c itself, or by lws */
	struct http_resp resp;
	http_resp_init(&resp);
	struct api_ctx ctx = {.app = fuzz_app_get(1), .token = NULL};
	fuzz_dispatch(&ctx, req, &resp);
	fuzz_check_answer(req, &resp);
	http_resp_free(&resp);
	loop_settle(fz.loop, 10000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	fuzz_env_init();
	struct fuzz_msg m = {0};
	struct http_req req;
	http_req_init(&req);
	if (!fuzz_parse(data, size, &req, &m)) {
		fuzz_check_deadline(&m);
		if (!fuzz_body(&req, &m) && m.known_method)
			fuzz_route(&req);
	}
	free(m.cl);
	free(m.te);
	http_req_free(&req);
	return 0;
}
