/*
 * mhtml.c — finding and decoding an MHTML file's parts (see mhtml.h);
 * the URL rewriting of HTML and CSS is mhtml_rewrite.c.
 *
 *   buf -> top headers (boundary) -> "--boundary" lines -> parts
 *   (headers: type, encoding, location, id; body: [off, off+len) of buf)
 */
#include "mhtml.h"
#include "mhtml_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The line at p (up to end): its length without CR LF; *next past it. */
static size_t mh_line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end;
	*next = nl ? nl + 1 : end;
	return (size_t)(e - p) - (e > p && e[-1] == '\r');
}

/* Header name (case-insensitive) at the start of line l (n bytes): the
 * value's start (blanks skipped) or NULL. */
static const char *mh_header(const char *l, size_t n, const char *name,
			     size_t *vlen)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(l, name, k) || l[k] != ':')
		return NULL;
	const char *v = l + k + 1, *e = l + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	*vlen = (size_t)(e - v);
	return v;
}

/* The boundary parameter in the top header block [p, end). */
static sc_result mh_boundary(const char *p, const char *end, struct mhtml *m,
			     const char **body)
{
	const char *hdr_end = NULL;
	for (const char *q = p, *next; q < end; q = next) {
		if (mh_line(q, end, &next) == 0) {
			hdr_end = q;
			*body = next;
			break;
		}
	}
	if (!hdr_end)
		return SC_ERR_PROTOCOL;
	size_t n = (size_t)(hdr_end - p);
	for (size_t i = 0; i + 9 < n; i++) {
		if (strncasecmp(p + i, "boundary=", 9))
			continue;
		const char *b = p + i + 9, *e;
		if (*b == '"') {
			b++;
			e = memchr(b, '"', (size_t)(hdr_end - b));
		} else {
			e = b;
			while (e < hdr_end && !strchr(" \t\r\n;", *e))
				e++;
		}
		if (!e || e == b || e - b > 200)
			return SC_ERR_PROTOCOL;
		m->bnd = b;
		m->bndlen = (size_t)(e - b);
		return SC_OK;
	}
	return SC_ERR_PROTOCOL;
}

/* Is line l (n bytes) "--boundary" or "--boundary--"? 1, 2 (last), 0. */
static int mh_is_bnd(const struct mhtml *m, const char *l, size_t n)
{
	if (n < m->bndlen + 2 || l[0] != '-' || l[1] != '-' ||
	    memcmp(l + 2, m->bnd, m->bndlen))
		return 0;
	size_t r = n - 2 - m->bndlen;
	const char *t = l + 2 + m->bndlen;
	if (r >= 2 && t[0] == '-' && t[1] == '-')
		return 2;
	while (r && (*t == ' ' || *t == '\t'))
		t++, r--;
	return r == 0;
}

/* The headers of the part starting at p; *body is where its body starts. */
static void mh_part_headers(struct mhtml_part *pt, const char *p,
			    const char *end, const char **body)
{
	const char *next;
	for (; p < end; p = next) {
		size_t n = mh_line(p, end, &next), vl;
		const char *v;
		if (n == 0)
			break;
		if ((v = mh_header(p, n, "Content-Type", &vl))) {
			size_t k = 0;
			for (; k < vl && k + 1 < sizeof(pt->type) &&
			       !strchr("; \t", v[k]); k++)
				pt->type[k] = (char)(v[k] >= 'A' && v[k] <= 'Z'
							     ? v[k] + 32 : v[k]);
			pt->type[k] = 0;
		} else if ((v = mh_header(p, n, "Content-Transfer-Encoding", &vl))) {
			pt->b64 = vl >= 6 && !strncasecmp(v, "base64", 6);
			pt->qp = vl >= 16 && !strncasecmp(v, "quoted-printable", 16);
		} else if ((v = mh_header(p, n, "Content-Location", &vl))) {
			pt->loc = v;
			pt->loclen = vl;
		} else if ((v = mh_header(p, n, "Content-ID", &vl))) {
			pt->cid = v;
			pt->cidlen = vl;
		}
	}
	*body = next < end ? next : end;
	if (p >= end)
		*body = end;
}

static sc_result mh_add(struct mhtml *m, const char *start, const char *stop)
{
	if (m->n == MHTML_PARTS_MAX)
		return SC_ERR_TOO_LARGE;
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->parts = sc_xrealloc(m->parts, (size_t)m->alloc * sizeof(*m->parts));
	}
	struct mhtml_part *pt = &m->parts[m->n++];
	memset(pt, 0, sizeof(*pt));
	const char *body;
	mh_part_headers(pt, start, stop, &body);
	pt->body = body;
	pt->len = (size_t)(stop - body);
	return SC_OK;
}

sc_result mhtml_parse(const char *buf, size_t len, struct mhtml **out)
{
	struct mhtml *m = sc_xcalloc(1, sizeof(*m));
	const char *end = buf + len, *p, *next, *start = NULL;
	sc_result rc = mh_boundary(buf, end, m, &p);
	int last = 0;
	for (; !rc && p < end && !last; p = next) {
		size_t n = mh_line(p, end, &next);
		int b = mh_is_bnd(m, p, n);
		if (!b)
			continue;
		/* the CR LF before a boundary line belongs to the boundary */
		const char *stop = p;
		if (stop > buf && stop[-1] == '\n')
			stop--;
		if (stop > buf && stop[-1] == '\r')
			stop--;
		if (start)
			rc = mh_add(m, start, stop > start ? stop : start);
		start = next;
		last = b == 2;
	}
	if (!rc && start && !last && start < end)
		rc = mh_add(m, start, end); /* cut short: keep what is there */
	if (!rc && m->n == 0)
		rc = SC_ERR_PROTOCOL;
	if (rc)
		mhtml_free(&m);
	*out = m;
	return rc;
}

void mhtml_free(struct mhtml **m)
{
	if (!m || !*m)
		return;
	free((*m)->parts);
	free(*m);
	*m = NULL;
}

int mhtml_count(const struct mhtml *m) { return m->n; }

const char *mhtml_type(const struct mhtml *m, int i)
{
	return m->parts[i].type[0] ? m->parts[i].type : "application/octet-stream";
}

static int mh_hex(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Quoted-printable (RFC 2045 6.7): "=XX" a byte, "=" CR LF a soft break. */
static sc_result mh_qp(const char *s, size_t n, struct sc_buf *out)
{
	size_t i = 0, from = 0;
	sc_result rc = SC_OK;
	while (!rc && i < n) {
		if (s[i] != '=') {
			i++;
			continue;
		}
		rc = sc_buf_append(out, s + from, i - from);
		int hi = i + 2 < n ? mh_hex((unsigned char)s[i + 1]) : -1;
		int lo = i + 2 < n ? mh_hex((unsigned char)s[i + 2]) : -1;
		if (hi >= 0 && lo >= 0) {
			char c = (char)(hi * 16 + lo);
			rc = rc ? rc : sc_buf_append(out, &c, 1);
			i += 3;
		} else if (i + 1 < n && (s[i + 1] == '\r' || s[i + 1] == '\n')) {
			i += 2 + (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');
		} else {
			rc = rc ? rc : sc_buf_append(out, "=", 1);
			i++;
		}
		from = i;
	}
	return rc ? rc : sc_buf_append(out, s + from, n - from);
}

/* Base64 with line breaks: the base64 characters copied, then decoded. */
static sc_result mh_b64(const char *s, size_t n, struct sc_buf *out)
{
	size_t at = out->len, k = 0;
	sc_result rc = sc_buf_reserve(out, n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			out->data[at + k++] = s[i];
	size_t dl;
	if (sc_base64_decode_inplace(out->data + at, k, &dl))
		return SC_ERR_PROTOCOL;
	out->len = at + dl;
	out->data[out->len] = 0;
	return SC_OK;
}

sc_result mhtml_part_decode(const struct mhtml_part *pt, struct sc_buf *out)
{
	return pt->b64  ? mh_b64(pt->body, pt->len, out)
	       : pt->qp ? mh_qp(pt->body, pt->len, out)
			: sc_buf_append(out, pt->body, pt->len);
}
