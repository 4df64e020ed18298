/*
 * msg.c — one CDP message in, a small cJSON tree plus in-place big strings out
 * (see msg.h). A single pass over the raw JSON finds string values of at least
 * `threshold` bytes; everything else is copied into a small text that cJSON
 * parses, with "" in place of each big string. The big strings are then
 * unescaped where they lie, so a 100 MB message costs its own buffer and
 * nothing more.
 */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msg_scan {
	const char *base, *end;
	size_t threshold;
	size_t nspan;
	struct {
		size_t start, end; /* raw string body: base[start..end) */
		char path[128];
	} span[CDP_MSG_MAX_BIG];
};

static const char *msg_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns the position after the closing quote. */
static const char *msg_string(const char *p, const char *end,
			      const char **body, const char **body_end)
{
	const char *q = p + 1;
	for (;;) {
		const char *hit = memchr(q, '"', (size_t)(end - q));
		if (!hit)
			return NULL;
		/* count the backslashes before the quote */
		const char *b = hit;
		while (b > q && b[-1] == '\\')
			b--;
		if (((hit - b) & 1) == 0) {
			*body = p + 1;
			*body_end = hit;
			return hit + 1;
		}
		q = hit + 1;
	}
}

static const char *msg_value(struct msg_scan *s, const char *p, int depth,
			     char *path, size_t plen);

static int msg_path_push(char *path, size_t plen, const char *key,
			 size_t klen)
{
	size_t cur = strlen(path);
	size_t need = cur + (cur ? 1 : 0) + klen + 1;
	if (need > plen)
		return -1;
	if (cur)
		path[cur++] = '.';
	memcpy(path + cur, key, klen);
	path[cur + klen] = '\0';
	return (int)(cur - (cur ? 1 : 0));
}

static const char *msg_object(struct msg_scan *s, const char *p, int depth,
			      char *path, size_t plen)
{
	p = msg_ws(p + 1, s->end);
	if (p < s->end && *p == '}')
		return p + 1;
	for (;;) {
		const char *k, *kend;
		if (p >= s->end || *p != '"' || !(p = msg_string(p, s->end, &k, &kend)))
			return NULL;
		p = msg_ws(p, s->end);
		if (p >= s->end || *p != ':')
			return NULL;
		size_t saved = path ? strlen(path) : 0;
		int pushed = path ? msg_path_push(path, plen, k,
						  (size_t)(kend - k))
				  : -1;
		p = msg_value(s, msg_ws(p + 1, s->end), depth + 1,
			      pushed < 0 ? NULL : path, plen);
		if (path)
			path[saved] = '\0';
		if (!p)
			return NULL;
		p = msg_ws(p, s->end);
		if (p < s->end && *p == '}')
			return p + 1;
		if (p >= s->end || *p != ',')
			return NULL;
		p = msg_ws(p + 1, s->end);
	}
}

static const char *msg_array(struct msg_scan *s, const char *p, int depth,
			     char *path, size_t plen)
{
	p = msg_ws(p + 1, s->end);
	if (p < s->end && *p == ']')
		return p + 1;
	for (unsigned i = 0;; i++) {
		char idx[16];
		size_t saved = path ? strlen(path) : 0;
		int n = snprintf(idx, sizeof(idx), "%u", i);
		int pushed = path ? msg_path_push(path, plen, idx, (size_t)n) : -1;
		p = msg_value(s, p, depth + 1, pushed < 0 ? NULL : path, plen);
		if (path)
			path[saved] = '\0';
		if (!p)
			return NULL;
		p = msg_ws(p, s->end);
		if (p < s->end && *p == ']')
			return p + 1;
		if (p >= s->end || *p != ',')
			return NULL;
		p = msg_ws(p + 1, s->end);
	}
}

static void msg_note_big(struct msg_scan *s, const char *body,
			 const char *body_end, const char *path)
{
	if ((size_t)(body_end - body) < s->threshold || !path ||
	    s->nspan >= CDP_MSG_MAX_BIG)
		return;
	s->span[s->nspan].start = (size_t)(body - s->base);
	s->span[s->nspan].end = (size_t)(body_end - s->base);
	snprintf(s->span[s->nspan].path, sizeof(s->span[0].path), "%s", path);
	s->nspan++;
}

/* path NULL: too deep a path to name, nothing below is detached. */
static const char *msg_value(struct msg_scan *s, const char *p, int depth,
			     char *path, size_t plen)
{
	if (depth > CDP_MSG_MAX_DEPTH || p >= s->end)
		return NULL;
	if (*p == '{')
		return msg_object(s, p, depth, path, plen);
	if (*p == '[')
		return msg_array(s, p, depth, path, plen);
	if (*p == '"') {
		const char *b, *e;
		p = msg_string(p, s->end, &b, &e);
		if (p)
			msg_note_big(s, b, e, path);
		return p;
	}
	const char *start = p;
	while (p < s->end && !strchr(",]} \t\r\n", *p))
		p++;
	return p > start ? p : NULL;
}

static sc_result msg_build_small(const char *buf, size_t len,
				 const struct msg_scan *s, cJSON **root)
{
	size_t detached = 0;
	for (size_t i = 0; i < s->nspan; i++)
		detached += s->span[i].end - s->span[i].start;
	char *small = malloc(len - detached + 1);
	if (!small)
		return SC_ERR_NOMEM;
	size_t o = 0, from = 0;
	for (size_t i = 0; i < s->nspan; i++) {
		memcpy(small + o, buf + from, s->span[i].start - from);
		o += s->span[i].start - from;
		from = s->span[i].end;
	}
	memcpy(small + o, buf + from, len - from);
	o += len - from;
	small[o] = '\0';
	*root = cJSON_ParseWithLength(small, o);
	free(small);
	return *root ? SC_OK : SC_ERR_PROTOCOL;
}

static sc_result msg_detach(struct cdp_msg *m, struct msg_scan *s)
{
	for (size_t i = 0; i < s->nspan; i++) {
		char *body = m->buf + s->span[i].start;
		size_t n = cdp_json_unescape(body, s->span[i].end - s->span[i].start);
		if (n == (size_t)-1)
			return SC_ERR_PROTOCOL;
		memcpy(m->big[i].path, s->span[i].path, sizeof(m->big[i].path));
		m->big[i].s = body;
		m->big[i].len = n;
	}
	m->nbig = s->nspan;
	return SC_OK;
}

sc_result cdp_msg_parse(char *buf, size_t len, size_t threshold,
			struct cdp_msg *out)
{
	sc_result rc = SC_OK;
	memset(out, 0, sizeof(*out));
	struct msg_scan *s = NULL;
	if (!threshold)
		threshold = CDP_MSG_BIG_STRING;
	if (len < threshold) {
		out->root = cJSON_ParseWithLength(buf, len);
		rc = out->root ? SC_OK : SC_ERR_PROTOCOL;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = SC_ERR_NOMEM;
		goto out;
	}
	*s = (struct msg_scan){.base = buf, .end = buf + len,
			       .threshold = threshold};
	char path[128] = "";
	const char *p = msg_value(s, msg_ws(buf, buf + len), 0, path, sizeof(path));
	if (!p || msg_ws(p, buf + len) != buf + len) {
		rc = SC_ERR_PROTOCOL;
		goto out;
	}
	if ((rc = msg_build_small(buf, len, s, &out->root)))
		goto out;
	if (s->nspan) {
		out->buf = buf;
		buf = NULL;
		rc = msg_detach(out, s);
	}
out:
	free(s);
	free(buf);
	if (rc)
		cdp_msg_free(out);
	return rc;
}

void cdp_msg_free(struct cdp_msg *m)
{
	if (!m)
		return;
	cJSON_Delete(m->root);
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

const struct cdp_msg_big *cdp_msg_find_big(const struct cdp_msg *m,
					   const char *path)
{
	for (size_t i = 0; i < m->nbig; i++)
		if (!strcmp(m->big[i].path, path))
			return &m->big[i];
	return NULL;
}

const cJSON *cdp_json_path(const cJSON *root, const char *path)
{
	const cJSON *cur = root;
	while (cur && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		char key[128];
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (cJSON_IsArray(cur)) {
			char *end;
			long i = strtol(key, &end, 10);
			cur = (*end || i < 0) ? NULL : cJSON_GetArrayItem(cur, (int)i);
		} else {
			cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		}
		path += n + (dot ? 1 : 0);
	}
	return cur;
}

static int msg_hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t msg_utf8(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* \uXXXX at s[i] (i at the 'u'); handles surrogate pairs. Returns the bytes
 * consumed after the backslash, or 0 on error. */
static size_t msg_unicode(const char *s, size_t i, size_t len, unsigned *cp)
{
	if (i + 5 > len || msg_hex4(s + i + 1, cp))
		return 0;
	if (*cp >= 0xD800 && *cp <= 0xDBFF && i + 11 <= len &&
	    s[i + 5] == '\\' && s[i + 6] == 'u') {
		unsigned lo;
		if (!msg_hex4(s + i + 7, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
			*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
			return 11;
		}
	}
	if (*cp >= 0xD800 && *cp <= 0xDFFF)
		*cp = 0xFFFD; /* lone surrogate */
	return 5;
}

size_t cdp_json_unescape(char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		char *bs = memchr(s + i, '\\', len - i);
		size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
		memmove(s + o, s + i, run);
		o += run;
		i += run;
		if (i >= len)
			break;
		if (++i >= len)
			return (size_t)-1;
		char c = s[i];
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = strchr(from, c);
		if (c && k) {
			s[o++] = to[k - from];
			i++;
			continue;
		}
		unsigned cp;
		size_t used = c == 'u' ? msg_unicode(s, i, len, &cp) : 0;
		if (!used)
			return (size_t)-1;
		o += msg_utf8(cp, s + o);
		i += used;
	}
	s[o] = '\0';
	return o;
}
