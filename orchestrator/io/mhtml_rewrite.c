/*
 * mhtml_rewrite.c — mhtml_render: a part decoded and, for HTML and CSS,
 * every URL that names a part of the same file rewritten (see mhtml.h).
 *
 *   part -> decode -> scan: attribute values (HTML), url(...), @import "..."
 *   -> resolve against the part's Content-Location -> look up the parts'
 *   Content-Location / Content-ID -> PREFIX/<n>SUFFIX#fragment
 */
#include "mhtml.h"
#include "mhtml_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MH_URL_MAX 8192

struct mh_rw {
	const struct mhtml *m;
	const struct mhtml_part *self;
	const char *prefix, *suffix;
	int html;
	struct sc_buf *out;
};

/* The part whose Content-Location is u (n bytes), or whose Content-ID is
 * the cid: URL u; -1 if none. */
static int mh_find(const struct mhtml *m, const char *u, size_t n)
{
	int cid = n > 4 && !strncasecmp(u, "cid:", 4);
	for (int i = 0; i < m->n; i++) {
		const struct mhtml_part *p = &m->parts[i];
		if (p->loclen == n && !memcmp(p->loc, u, n))
			return i;
		if (cid && p->cidlen == n - 4 + 2 && p->cid[0] == '<' &&
		    !memcmp(p->cid + 1, u + 4, n - 4))
			return i;
	}
	return -1;
}

/* The dot segments of r's path removed in place (RFC 3986 5.2.4: "/./"
 * and "/seg/../"); r's new length. */
static size_t mh_dots(char *r, size_t n)
{
	char *p = strstr(r, "://");
	if (!p || !(p = strchr(p + 3, '/')))
		return n;
	size_t end = strcspn(p, "?#"), w = 0, i = 0;
	while (i < end) {
		size_t k = 1 + strcspn(p + i + 1, "/?#");
		if (i + k > end)
			k = end - i;
		int last = i + k >= end;
		if ((k == 2 && p[i + 1] == '.') ||
		    (k == 3 && p[i + 1] == '.' && p[i + 2] == '.')) {
			if (k == 3)
				while (w > 0 && p[--w] != '/')
					;
			if (last)
				p[w++] = '/';
		} else {
			memmove(p + w, p + i, k);
			w += k;
		}
		i += k;
	}
	size_t tail = strlen(p + end);
	memmove(p + w, p + end, tail + 1);
	return (size_t)(p - r) + w + tail;
}

/* u (n bytes) resolved against base (bn bytes) into r; its length or 0. */
static size_t mh_resolve(const char *base, size_t bn, const char *u, size_t n,
			 char *r, size_t rsz)
{
	size_t s = 0, keep;
	if (!base) /* a part without Content-Location */
		base = "", bn = 0;
	while (s < n && (isalnum((unsigned char)u[s]) || strchr("+-.", u[s])))
		s++;
	if (s > 0 && s < n && u[s] == ':') /* absolute */
		keep = 0;
	else if (n >= 2 && u[0] == '/' && u[1] == '/') { /* scheme-relative */
		const char *c = memchr(base, ':', bn);
		if (!c)
			return 0;
		keep = (size_t)(c - base) + 1;
	} else if (n >= 1 && u[0] == '/') { /* the origin's root */
		const char *h = memchr(base, ':', bn);
		if (!h || (size_t)(h - base) + 3 > bn || h[1] != '/' || h[2] != '/')
			return 0;
		const char *e = h + 3;
		while (e < base + bn && !strchr("/?#", *e))
			e++;
		keep = (size_t)(e - base);
	} else { /* the base's folder */
		keep = 0;
		while (keep < bn && base[keep] != '?' && base[keep] != '#')
			keep++;
		while (keep && base[keep - 1] != '/')
			keep--;
	}
	if ((keep && !memchr(base, ':', bn)) || keep + n + 1 > rsz)
		return 0;
	memcpy(r, base, keep);
	memcpy(r + keep, u, n);
	r[keep + n] = 0;
	return mh_dots(r, keep + n);
}

/* A URL that names no part, written absolute (abs, n bytes, then the
 * fragment): a relative one would reach snapcat's own origin, which the
 * copy's CSP allows; an absolute one elsewhere is refused. */
static sc_result mh_absolute(struct mh_rw *w, const char *abs, size_t n,
			     const char *frag)
{
	sc_result rc = SC_OK;
	for (size_t i = 0, from = 0; !rc && i <= n; i++) {
		if (i < n && !(w->html && abs[i] == '&') && abs[i] != '"' &&
		    abs[i] != '\'' && abs[i] != ')')
			continue;
		rc = sc_buf_append(w->out, abs + from, i - from);
		if (!rc && i < n)
			rc = sc_buf_printf(w->out, abs[i] == '&' ? "&amp;" : "%%%02X",
					   (unsigned char)abs[i]);
		from = i + 1;
	}
	return rc ? rc : sc_buf_appends(w->out, frag);
}

/* Write the URL u (n bytes, as it stands in the text) rewritten, or as it
 * is if it names no part. */
static sc_result mh_url(struct mh_rw *w, const char *u, size_t n)
{
	char plain[MH_URL_MAX], abs[MH_URL_MAX + 512];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(plain); i++) {
		plain[k++] = u[i];
		if (w->html && u[i] == '&' && n - i >= 5 && !memcmp(u + i, "&amp;", 5))
			i += 4;
	}
	plain[k] = 0;
	size_t f = strcspn(plain, "#"), an = 0;
	int hit = -1;
	if (n < MH_URL_MAX && f > 0) {
		/* a generated style sheet (cid:) stands in the main page */
		const struct mhtml_part *base =
			w->self->loclen > 4 && !strncasecmp(w->self->loc, "cid:", 4)
				? &w->m->parts[0] : w->self;
		an = mh_resolve(base->loc, base->loclen, plain, f, abs,
				       sizeof(abs));
		hit = an ? mh_find(w->m, abs, an) : -1;
	}
	if (hit < 0 && an && strncasecmp(abs, "cid:", 4))
		return mh_absolute(w, abs, an, plain + f);
	if (hit < 0)
		return sc_buf_append(w->out, u, n);
	return sc_buf_printf(w->out, "%s%d%s%s", w->prefix, hit, w->suffix,
			     plain + f);
}

/* A URL value starting at s[i] (after an optional quote): its end. */
static size_t mh_value_end(const char *s, size_t n, size_t i, char q)
{
	while (i < n && (q ? s[i] != q : !strchr(" \t\r\n>)", s[i])))
		i++;
	return i;
}

/* Is s[i] the start of a URL-bearing construct? Set vs and ve to the value's
 * span and return 1. */
static int mh_construct(const struct mh_rw *w, const char *s, size_t n,
			size_t i, size_t *vs, size_t *ve)
{
	static const char *const attrs[] = {"src=", "href=", "poster=",
					    "background=", "data=", NULL};
	size_t j = i;
	char q = 0;
	if (n - i > 4 && !strncasecmp(s + i, "url(", 4)) {
		j = i + 4;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
	} else if (n - i > 8 && !strncasecmp(s + i, "@import", 7) &&
		   isspace((unsigned char)s[i + 7])) {
		j = i + 8;
		while (j < n && isspace((unsigned char)s[j]))
			j++;
		if (j >= n || (s[j] != '"' && s[j] != '\''))
			return 0;
	} else if (w->html && i > 0 && isspace((unsigned char)s[i - 1])) {
		int a = 0;
		for (; attrs[a]; a++)
			if ((size_t)(n - i) > strlen(attrs[a]) &&
			    !strncasecmp(s + i, attrs[a], strlen(attrs[a])))
				break;
		if (!attrs[a])
			return 0;
		j = i + strlen(attrs[a]);
	} else {
		return 0;
	}
	if (j < n && (s[j] == '"' || s[j] == '\''))
		q = s[j++];
	*vs = j;
	*ve = mh_value_end(s, n, j, q);
	return *ve > j && *ve < n;
}

static sc_result mh_scan(struct mh_rw *w, const char *s, size_t n)
{
	size_t from = 0, vs, ve;
	sc_result rc = SC_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		if (!mh_construct(w, s, n, i, &vs, &ve))
			continue;
		rc = sc_buf_append(w->out, s + from, vs - from);
		rc = rc ? rc : mh_url(w, s + vs, ve - vs);
		from = ve;
		i = ve - 1;
	}
	return rc ? rc : sc_buf_append(w->out, s + from, n - from);
}

sc_result mhtml_render(const struct mhtml *m, int i, const char *prefix,
		       const char *suffix, struct sc_buf *out)
{
	if (i < 0 || i >= m->n)
		return SC_ERR_NOT_FOUND;
	const struct mhtml_part *p = &m->parts[i];
	int html = !strcmp(p->type, "text/html");
	if (!html && strcmp(p->type, "text/css"))
		return mhtml_part_decode(p, out);
	struct sc_buf t;
	sc_buf_init(&t, out->cap);
	struct mh_rw w = {.m = m, .self = p, .prefix = prefix,
			  .suffix = suffix, .html = html, .out = out};
	sc_result rc = mhtml_part_decode(p, &t);
	if (!rc && t.len)
		rc = mh_scan(&w, t.data, t.len);
	sc_buf_free(&t);
	return rc;
}
