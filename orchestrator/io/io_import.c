/*
 * io_import.c — the import parsers (see io_import.h for the formats).
 *
 *   bytes -> io_detect -> io_html / io_csv / io_urls / io_json
 *         -> per record: ib_commit (url_normalize, dedupe, tags) or
 *            ib_reject -> io_sort (by add_date when every item has one)
 *
 * DESIGN
 * Each format parser walks the bytes once and hands finished records to
 * the builder (struct ib), which owns every rule shared by the formats:
 * URL checks and their reasons, tag normalisation, duplicate detection (an
 * open-addressing hash set of the normalized URLs, item index + 1 per
 * slot), the record cap. The HTML parser is a tolerant tag scanner, not an
 * HTML parser: a bookmark file is a flat run of <DT>, <H3>, <A> and <DL>
 * tags, and browsers disagree about closing tags (<p>, <DT>), so only those
 * four elements matter and everything else is skipped.
 */
#include "io_import.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "catalog.h"
#include "jsontext.h"
#include "url.h"

#define IO_HTML_DEPTH 64   /* folder nesting kept (deeper: no more tags) */
#define IO_CSV_FIELDS 256  /* columns read per CSV record */

static const char *const io_format_names[] = {"auto", "html", "csv", "urls",
					      "json"};

const char *io_format_name(enum io_format f)
{
	return f >= IO_FMT_AUTO && f <= IO_FMT_JSON ? io_format_names[f] : "?";
}

sc_result io_format_parse(const char *s, enum io_format *out)
{
	for (int i = 0; s && i <= IO_FMT_JSON; i++) {
		if (!strcmp(s, io_format_names[i])) {
			*out = (enum io_format)i;
			return SC_OK;
		}
	}
	return SC_ERR_INVALID;
}

/* ======================= text helpers ======================= */

/* Length of the valid UTF-8 character at s (n bytes left), 0 if invalid. */
static size_t io_utf8(const unsigned char *s, size_t n)
{
	return sc_utf8_char(s, n);
}

/*
 * A clean copy of s[0..n) (caller frees): invalid UTF-8 and DEL become
 * '?', runs of white space and other C0 controls one space, no leading or
 * trailing space; cut at cap bytes (at a character boundary) and at
 * maxchars characters (0: no limit). NULL if nothing is left.
 */
static char *io_text(const char *s, size_t n, size_t cap, size_t maxchars)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = sc_xmalloc((n < cap ? n : cap) + 1);
	size_t o = 0, chars = 0;
	int space = 0;
	for (size_t i = 0, len; i < n; i += len) {
		len = io_utf8(p + i, n - i);
		if (p[i] < 0x20) {
			space = o > 0;
			len = 1;
			continue;
		}
		size_t w = len ? len : 1;
		if (p[i] == ' ') {
			space = o > 0;
			continue;
		}
		if (o + space + w > cap ||
		    (maxchars && chars + space + 1 > maxchars))
			break;
		if (space)
			out[o++] = ' ', chars++;
		space = 0;
		if (!len || p[i] == 0x7f)
			out[o++] = '?', len = 1;
		else
			memcpy(out + o, p + i, len), o += len;
		chars++;
	}
	out[o] = '\0';
	if (!o) {
		free(out);
		return NULL;
	}
	return out;
}

/* Trim ASCII white space off [*s, *s + *n). */
static void io_trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* ======================= the builder ======================= */

struct ib {
	struct io_import *r;
	size_t ialloc, ralloc;
	size_t *slots;   /* hash set of items' URLs: index + 1, 0 = empty */
	size_t nslots;   /* a power of two */
	size_t records;
	int full;        /* IO_IMPORT_MAX_RECORDS passed */
	char *url;       /* URL_BUF_SIZE scratch for url_normalize */
};

static uint64_t io_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void io_item_clear(struct io_item *it)
{
	free(it->url);
	free(it->title);
	for (size_t i = 0; i < it->ntags; i++)
		free(it->tags[i]);
	free(it->tags);
	memset(it, 0, sizeof(*it));
}

static int io_count(struct ib *b)
{
	if (++b->records > IO_IMPORT_MAX_RECORDS)
		b->full = 1;
	return !b->full;
}

static void ib_reject(struct ib *b, int line, const char *code,
		      const char *text, size_t tlen, const char *fmt, ...)
	SC_PRINTF(6, 7);

static void ib_reject(struct ib *b, int line, const char *code,
		      const char *text, size_t tlen, const char *fmt, ...)
{
	if (!io_count(b))
		return;
	struct io_import *r = b->r;
	if (r->nrejects == b->ralloc) {
		b->ralloc = b->ralloc ? b->ralloc * 2 : 64;
		r->rejects = sc_xrealloc(r->rejects, b->ralloc * sizeof(*r->rejects));
	}
	struct io_reject *j = &r->rejects[r->nrejects++];
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j->line = line;
	j->code = code;
	j->text = io_text(text ? text : "", text ? tlen : 0, IO_REJECT_TEXT_MAX, 0);
	j->reason = sc_xstrdup(msg);
}

/* Add tag s[0..n) to it (cut to CATALOG_TAG_MAX characters, normalized);
 * bad, duplicate or surplus tags are dropped. */
static void ib_tag(struct io_item *it, const char *s, size_t n)
{
	char norm[CATALOG_TAG_BUF];
	char *t = io_text(s, n, CATALOG_TAG_BUF - 1, CATALOG_TAG_MAX);
	int ok = t && catalog_tag_normalize(t, norm, sizeof(norm)) == SC_OK;
	free(t);
	if (!ok || it->ntags >= CATALOG_TAGS_MAX)
		return;
	for (size_t i = 0; i < it->ntags; i++)
		if (!strcasecmp(it->tags[i], norm))
			return;
	it->tags = sc_xrealloc(it->tags, (it->ntags + 1) * sizeof(*it->tags));
	it->tags[it->ntags++] = sc_xstrdup(norm);
}

/* Split s[0..n) at any of seps and add each part as a tag. */
static void ib_tags_split(struct io_item *it, const char *s, size_t n,
			  const char *seps)
{
	while (n) {
		size_t k = 0;
		while (k < n && !strchr(seps, s[k]))
			k++;
		ib_tag(it, s, k);
		s += k + (k < n);
		n -= k + (k < n);
	}
}

/* The scheme of s if it starts with one ("javascript"), else "". */
static void io_scheme(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i = 0;
	out[0] = '\0';
	if (!n || !isalpha((unsigned char)s[0]))
		return;
	while (i < n && (isalnum((unsigned char)s[i]) || strchr("+-.", s[i])))
		i++;
	if (i >= n || s[i] != ':' || i >= outlen)
		return;
	for (size_t k = 0; k < i; k++)
		out[k] = (char)tolower((unsigned char)s[k]);
	out[i] = '\0';
}

/* Normalize raw[0..n) into b->url; 0, or -1 after rejecting the record. */
static int ib_url(struct ib *b, int line, const char *raw, size_t n)
{
	char scheme[32], err[300];
	io_trim(&raw, &n);
	if (!n) {
		ib_reject(b, line, "missing_url", NULL, 0, "no URL");
		return -1;
	}
	io_scheme(raw, n, scheme, sizeof(scheme));
	if (scheme[0] && strcmp(scheme, "http") && strcmp(scheme, "https")) {
		ib_reject(b, line, "unsupported_scheme", raw, n,
			  "scheme \"%s\" is not supported: only http and "
			  "https pages can be captured", scheme);
		return -1;
	}
	if (n > URL_MAX_LEN) {
		ib_reject(b, line, "too_long", raw, n, "the URL is over %d "
			  "bytes", URL_MAX_LEN);
		return -1;
	}
	char *s = sc_xstrndup(raw, n);
	sc_result rc = url_normalize(s, b->url, URL_BUF_SIZE, err, sizeof(err));
	free(s);
	if (rc == SC_ERR_TOO_LARGE)
		ib_reject(b, line, "too_long", raw, n, "%s", err);
	else if (rc)
		ib_reject(b, line, "invalid_url", raw, n, "%s", err);
	return rc ? -1 : 0;
}

static void ib_grow_set(struct ib *b)
{
	size_t n = b->nslots ? b->nslots * 2 : 1024;
	size_t *s = sc_xcalloc(n, sizeof(*s));
	for (size_t i = 0; i < b->r->nitems; i++) {
		size_t h = (size_t)io_hash(b->r->items[i].url) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = i + 1;
	}
	free(b->slots);
	b->slots = s;
	b->nslots = n;
}

/* The slot of url: the item holding it, or the empty slot to use. */
static size_t *ib_slot(struct ib *b, const char *url)
{
	size_t h = (size_t)io_hash(url) & (b->nslots - 1);
	while (b->slots[h] && strcmp(b->r->items[b->slots[h] - 1].url, url))
		h = (h + 1) & (b->nslots - 1);
	return &b->slots[h];
}

/* A finished record: its URL raw[0..n), title and tags in *it (taken over
 * in every case; *it is cleared). */
static void ib_commit(struct ib *b, struct io_item *it, const char *raw,
		      size_t n)
{
	if (b->full || ib_url(b, it->line, raw, n)) {
		io_item_clear(it);
		return;
	}
	if ((b->r->nitems + 1) * 2 > b->nslots)
		ib_grow_set(b);
	size_t *slot = ib_slot(b, b->url);
	if (*slot) {
		struct io_item *first = &b->r->items[*slot - 1];
		for (size_t i = 0; i < it->ntags; i++)
			ib_tag(first, it->tags[i], strlen(it->tags[i]));
		ib_reject(b, it->line, "duplicate", b->url, strlen(b->url),
			  "duplicate of line %d (its tags were merged there)",
			  first->line);
		io_item_clear(it);
		return;
	}
	if (!io_count(b)) {
		io_item_clear(it);
		return;
	}
	struct io_import *r = b->r;
	if (r->nitems == b->ialloc) {
		b->ialloc = b->ialloc ? b->ialloc * 2 : 64;
		r->items = sc_xrealloc(r->items, b->ialloc * sizeof(*r->items));
	}
	it->url = sc_xstrdup(b->url);
	*slot = r->nitems + 1;
	r->items[r->nitems++] = *it;
	memset(it, 0, sizeof(*it));
}

/* Set it->title from s[0..n) (cleaned; none if empty). */
static void ib_title(struct io_item *it, const char *s, size_t n)
{
	free(it->title);
	it->title = io_text(s, n, CATALOG_TITLE_MAX, 0);
}

/* A date as a number: seconds, milliseconds or microseconds since the
 * epoch (guessed from its size) -> ms; 0 if not a plausible date. */
static int64_t io_date_num(double v)
{
	if (!(v > 0) || v > 9e18)
		return 0;
	if (v > 1e14)
		return (int64_t)(v / 1000);  /* microseconds (Firefox JSON) */
	if (v > 1e11)
		return (int64_t)v;           /* milliseconds */
	return (int64_t)(v * 1000);          /* seconds (ADD_DATE) */
}

/* ======================= HTML (Netscape bookmark file) ======================= */

struct hp {
	struct ib *b;
	const char *d;
	size_t n, pos;
	int line;                       /* line of d[lpos] */
	size_t lpos;
	char *stack[IO_HTML_DEPTH];     /* folder tags; NULL = no tag */
	int depth, deep;                /* deep: levels past IO_HTML_DEPTH */
	char *pending;                  /* the last </H3>'s tag */
	int pending_set;
	enum { HP_NONE, HP_H3, HP_A } in;
	int h3_root;                    /* the H3 is a browser's own root */
	struct sc_buf text;             /* text of the H3 or A */
	struct sc_buf href;             /* decoded HREF of the A */
	struct io_item cur;             /* the A being read */
};

/* The line number of d[pos] (pos never goes back). */
static int hp_line(struct hp *h, size_t pos)
{
	for (; h->lpos < pos && h->lpos < h->n; h->lpos++)
		if (h->d[h->lpos] == '\n')
			h->line++;
	return h->line;
}

/* Append code point cp to out as UTF-8 (U+FFFD for invalid ones). */
static void io_put_cp(struct sc_buf *out, unsigned long cp)
{
	unsigned char u[4];
	size_t n;
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80)
		u[0] = (unsigned char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (unsigned char)(0xc0 | cp >> 6),
		u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		u[0] = (unsigned char)(0xe0 | cp >> 12),
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
	else
		u[0] = (unsigned char)(0xf0 | cp >> 18),
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		u[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
	(void)!sc_buf_append(out, u, n);
}

/* Decode the entity at s[0..n) (s[0] == '&') into out; returns the bytes
 * used (1 and a literal '&' if it is not one we know). */
static size_t io_entity(const char *s, size_t n, struct sc_buf *out)
{
	static const struct { const char *name; const char *text; } named[] = {
		{"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""},
		{"apos;", "'"}, {"nbsp;", " "}};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t k = strlen(named[i].name);
		if (n > k && !strncasecmp(s + 1, named[i].name, k)) {
			(void)!sc_buf_appends(out, named[i].text);
			return k + 1;
		}
	}
	if (n > 3 && s[1] == '#') {
		int hex = s[2] == 'x' || s[2] == 'X';
		size_t i = 2 + (size_t)hex;
		unsigned long cp = 0;
		size_t digits = 0;
		for (; i < n && digits < 8 && (hex ? isxdigit((unsigned char)s[i])
					    : isdigit((unsigned char)s[i]));
		     i++, digits++)
			cp = cp * (hex ? 16 : 10) +
			     (unsigned long)(isdigit((unsigned char)s[i])
						     ? s[i] - '0'
						     : (tolower((unsigned char)s[i]) - 'a' + 10));
		if (digits && i < n && s[i] == ';') {
			io_put_cp(out, cp);
			return i + 1;
		}
	}
	(void)!sc_buf_append(out, "&", 1);
	return 1;
}

/* Append s[0..n) to out with entities decoded. */
static void io_decode(const char *s, size_t n, struct sc_buf *out)
{
	for (size_t i = 0; i < n;) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t k = amp ? (size_t)(amp - s) - i : n - i;
		(void)!sc_buf_append(out, s + i, k);
		i += k;
		if (amp)
			i += io_entity(s + i, n - i, out);
	}
}

/* A tag's text: its name (lowercase), whether it closes, its attributes. */
struct hp_tag {
	char name[12];
	int closing;
	const char *attrs;
	size_t alen;
};

/* The value of attribute name in t, decoded into out (reset first);
 * 1 if present. Attribute names are case-insensitive. */
static int hp_attr(const struct hp_tag *t, const char *name, struct sc_buf *out)
{
	const char *s = t->attrs, *e = t->attrs + t->alen;
	size_t nl = strlen(name);
	sc_buf_reset(out);
	while (s < e) {
		while (s < e && (isspace((unsigned char)*s) || *s == '/'))
			s++;
		const char *an = s;
		while (s < e && !isspace((unsigned char)*s) && *s != '=' && *s != '/')
			s++;
		size_t anl = (size_t)(s - an);
		while (s < e && isspace((unsigned char)*s))
			s++;
		const char *v = s;
		size_t vl = 0;
		if (s < e && *s == '=') {
			for (s++; s < e && isspace((unsigned char)*s); s++)
				;
			char q = s < e && (*s == '"' || *s == '\'') ? *s : 0;
			v = s + (q != 0);
			for (s = v; s < e && (q ? *s != q : !isspace((unsigned char)*s)); s++)
				;
			vl = (size_t)(s - v);
			s += q && s < e;
		}
		if (anl == nl && !strncasecmp(an, name, nl)) {
			io_decode(v, vl, out);
			return 1;
		}
		if (!anl && s < e)
			s++;
	}
	return 0;
}

/* Read the tag starting at d[pos] == '<' into t; returns the position
 * after its '>' (quotes respected), or 0 if it is not a tag. */
static size_t hp_read_tag(const struct hp *h, size_t pos, struct hp_tag *t)
{
	size_t i = pos + 1, k = 0;
	memset(t, 0, sizeof(*t));
	if (i < h->n && h->d[i] == '/')
		t->closing = 1, i++;
	if (i >= h->n || !isalpha((unsigned char)h->d[i]))
		return 0;
	while (i < h->n && isalnum((unsigned char)h->d[i])) {
		if (k + 1 < sizeof(t->name))
			t->name[k++] = (char)tolower((unsigned char)h->d[i]);
		i++;
	}
	t->attrs = h->d + i;
	char q = 0;
	for (; i < h->n; i++) {
		char c = h->d[i];
		if (q) {
			q = c == q ? 0 : q;
		} else if (c == '"' || c == '\'') {
			if (i > pos && (h->d[i - 1] == '=' || isspace((unsigned char)h->d[i - 1])))
				q = c;
		} else if (c == '>') {
			t->alen = (size_t)(h->d + i - t->attrs);
			return i + 1;
		}
	}
	return 0; /* no '>': not a tag; the rest is text */
}

/* Finish the <A> being read: title from its text, tags from the folders
 * and its TAGS attribute (already in cur). */
static void hp_end_a(struct hp *h)
{
	if (h->in != HP_A)
		return;
	h->in = HP_NONE;
	ib_title(&h->cur, h->text.data ? h->text.data : "", h->text.len);
	ib_commit(h->b, &h->cur, h->href.data ? h->href.data : "", h->href.len);
}

static void hp_start_a(struct hp *h, const struct hp_tag *t, int line)
{
	struct sc_buf v;
	hp_end_a(h);
	h->in = HP_A;
	sc_buf_reset(&h->text);
	memset(&h->cur, 0, sizeof(h->cur));
	h->cur.line = line;
	for (int i = 0; i < h->depth && i < IO_HTML_DEPTH; i++)
		if (h->stack[i])
			ib_tag(&h->cur, h->stack[i], strlen(h->stack[i]));
	if (!hp_attr(t, "href", &h->href))
		sc_buf_reset(&h->href);
	sc_buf_init(&v, 1 << 20);
	if (hp_attr(t, "tags", &v) && v.len)
		ib_tags_split(&h->cur, v.data, v.len, ",");
	long secs;
	if (hp_attr(t, "add_date", &v) && v.len &&
	    sc_parse_long(v.data, 1, 0x7fffffffffffffffL, &secs) == SC_OK)
		h->cur.add_date = io_date_num((double)secs);
	sc_buf_free(&v);
}

static void hp_end_h3(struct hp *h)
{
	if (h->in != HP_H3)
		return;
	h->in = HP_NONE;
	struct io_item tmp = {0};
	if (!h->h3_root && h->text.len)
		ib_tag(&tmp, h->text.data, h->text.len);
	free(h->pending);
	h->pending = tmp.ntags ? sc_xstrdup(tmp.tags[0]) : NULL;
	h->pending_set = 1;
	io_item_clear(&tmp);
}

static void hp_dl(struct hp *h, int closing)
{
	hp_end_a(h);
	hp_end_h3(h);
	if (closing) {
		if (h->deep)
			h->deep--;
		else if (h->depth)
			free(h->stack[--h->depth]);
		return;
	}
	if (h->depth == IO_HTML_DEPTH) {
		h->deep++;
		free(h->pending);
	} else {
		h->stack[h->depth++] = h->pending; /* NULL: no folder name */
	}
	h->pending = NULL;
	h->pending_set = 0;
}

static void hp_tag(struct hp *h, const struct hp_tag *t, int line)
{
	struct sc_buf v;
	if (!strcmp(t->name, "a")) {
		if (t->closing)
			hp_end_a(h);
		else
			hp_start_a(h, t, line);
	} else if (!strcmp(t->name, "h3")) {
		hp_end_a(h);
		if (t->closing) {
			hp_end_h3(h);
			return;
		}
		h->in = HP_H3;
		sc_buf_reset(&h->text);
		sc_buf_init(&v, 4096);
		h->h3_root = hp_attr(t, "personal_toolbar_folder", &v) ||
			     hp_attr(t, "unfiled_bookmarks_folder", &v);
		sc_buf_free(&v);
	} else if (!strcmp(t->name, "dl")) {
		hp_dl(h, t->closing);
	} else if (!strcmp(t->name, "dt") || !strcmp(t->name, "dd") ||
		   !strcmp(t->name, "h1")) {
		hp_end_a(h);
		hp_end_h3(h);
	}
}

/* Skip a comment or declaration at d[pos] ("<!--...-->", "<!DOCTYPE>");
 * returns the position after it, or 0 if there is none. */
static size_t hp_skip_markup(const struct hp *h, size_t pos)
{
	if (h->n - pos >= 4 && !memcmp(h->d + pos, "<!--", 4)) {
		const char *e = memmem(h->d + pos + 4, h->n - pos - 4, "-->", 3);
		return e ? (size_t)(e - h->d) + 3 : h->n;
	}
	if (h->n - pos >= 2 && h->d[pos + 1] == '!') {
		const char *e = memchr(h->d + pos, '>', h->n - pos);
		return e ? (size_t)(e - h->d) + 1 : h->n;
	}
	return 0;
}

static void io_html(struct ib *b, const char *d, size_t n)
{
	struct hp h = {.b = b, .d = d, .n = n, .line = 1};
	sc_buf_init(&h.text, 1 << 20);
	sc_buf_init(&h.href, 1 << 20);
	while (h.pos < n && !b->full) {
		const char *lt = memchr(d + h.pos, '<', n - h.pos);
		size_t next = lt ? (size_t)(lt - d) : n;
		if (h.in != HP_NONE)
			io_decode(d + h.pos, next - h.pos, &h.text);
		if (!lt)
			break;
		struct hp_tag t;
		size_t end = hp_skip_markup(&h, next);
		if (!end && (end = hp_read_tag(&h, next, &t)))
			hp_tag(&h, &t, hp_line(&h, next));
		if (!end) { /* a lone '<': text */
			if (h.in != HP_NONE)
				(void)!sc_buf_append(&h.text, "<", 1);
			end = next + 1;
		}
		h.pos = end;
	}
	hp_end_a(&h);
	io_item_clear(&h.cur);
	while (h.depth)
		free(h.stack[--h.depth]);
	free(h.pending);
	sc_buf_free(&h.text);
	sc_buf_free(&h.href);
}

/* ======================= CSV (RFC 4180) ======================= */

struct csv {
	const char *d;
	size_t n, pos;
	int line;
	struct sc_buf buf;          /* the fields, each NUL-terminated */
	size_t off[IO_CSV_FIELDS];  /* field starts in buf */
	size_t len[IO_CSV_FIELDS];
	int nf;
	int unterminated;           /* a quoted field ran to the end */
};

static void csv_end_field(struct csv *c, size_t start)
{
	if (c->nf < IO_CSV_FIELDS) {
		c->off[c->nf] = start;
		c->len[c->nf] = c->buf.len - start;
		c->nf++;
	}
	(void)!sc_buf_append(&c->buf, "", 1);
}

/* A quoted field's body from d[pos] (after the opening quote); returns
 * with pos after the closing quote. */
static void csv_quoted(struct csv *c)
{
	while (c->pos < c->n) {
		char ch = c->d[c->pos++];
		if (ch == '"') {
			if (c->pos < c->n && c->d[c->pos] == '"') {
				(void)!sc_buf_append(&c->buf, "\"", 1);
				c->pos++;
				continue;
			}
			return;
		}
		if (ch == '\n')
			c->line++;
		(void)!sc_buf_append(&c->buf, &ch, 1);
	}
	c->unterminated = 1;
}

/* Read the next record; 0 at the end of the data. */
static int csv_record(struct csv *c)
{
	if (c->pos >= c->n)
		return 0;
	sc_buf_reset(&c->buf);
	c->nf = 0;
	c->unterminated = 0;
	size_t start = 0;
	int at_start = 1;
	while (c->pos < c->n) {
		char ch = c->d[c->pos];
		if (at_start && ch == '"') {
			c->pos++;
			csv_quoted(c);
			at_start = 0;
			continue;
		}
		c->pos++;
		if (ch == ',') {
			csv_end_field(c, start);
			start = c->buf.len;
			at_start = 1;
		} else if (ch == '\n' || (ch == '\r' && c->pos < c->n &&
					  c->d[c->pos] == '\n')) {
			c->pos += ch == '\r';
			c->line++;
			break;
		} else {
			(void)!sc_buf_append(&c->buf, &ch, 1);
			at_start = 0;
		}
	}
	csv_end_field(c, start);
	return 1;
}

static const char *csv_field(const struct csv *c, int i, size_t *len)
{
	if (i < 0 || i >= c->nf) {
		*len = 0;
		return "";
	}
	*len = c->len[i];
	return c->buf.data + c->off[i];
}

/* Which column is which, from the header record. -1: none. */
struct csv_cols {
	int url, title, tags, bookmarked, date;
};

static int64_t io_iso_ms(const char *s);

/* A date field: ISO 8601 (snapcat's exports), or a number of seconds,
 * ms or µs since the epoch; 0 if neither. */
static int64_t io_date_text(const char *s, size_t n)
{
	char t[48], *end;
	io_trim(&s, &n);
	if (!n || n >= sizeof(t))
		return 0;
	memcpy(t, s, n);
	t[n] = 0;
	double v = strtod(t, &end);
	return end != t && !*end ? io_date_num(v) : io_iso_ms(t);
}

/* Each column's role from its name. */
static int csv_header(struct csv *c, struct csv_cols *k)
{
	static const char *const names[5][4] = {
		{"url", "link", "href", "uri"},
		{"title", "name", NULL, NULL},
		{"tags", "tag", "labels", NULL},
		{"bookmarked_at", "add_date", NULL, NULL},
		{"created_at", "date", "added", "created"}};
	int *col[5] = {&k->url, &k->title, &k->tags, &k->bookmarked, &k->date};
	k->url = k->title = k->tags = k->bookmarked = k->date = -1;
	for (int i = 0; i < c->nf; i++) {
		size_t n;
		const char *s = csv_field(c, i, &n);
		if (i == 0 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
			s += 3, n -= 3; /* a byte order mark */
		io_trim(&s, &n);
		for (int w = 0; w < 5; w++)
			for (int j = 0; j < 4 && names[w][j]; j++)
				if (*col[w] < 0 && n == strlen(names[w][j]) &&
				    !strncasecmp(s, names[w][j], n))
					*col[w] = i;
	}
	return k->url >= 0 ? 0 : -1;
}

/* The record's date: bookmarked_at when given, else the other date. */
static int64_t csv_date(const struct csv *c, const struct csv_cols *k)
{
	size_t n;
	const char *s = csv_field(c, k->bookmarked, &n);
	int64_t ms = io_date_text(s, n);
	if (!ms) {
		s = csv_field(c, k->date, &n);
		ms = io_date_text(s, n);
	}
	return ms;
}

static sc_result io_csv(struct ib *b, const char *d, size_t n, char *err,
			size_t errlen)
{
	struct csv c = {.d = d, .n = n, .line = 1};
	struct csv_cols k;
	sc_result rc = SC_OK;
	sc_buf_init(&c.buf, 0);
	if (!csv_record(&c) || csv_header(&c, &k)) {
		snprintf(err, errlen, "CSV: the first row must name the columns, "
			 "one of them \"url\" (title, tags and a date are optional)");
		rc = SC_ERR_INVALID;
	}
	for (int line = c.line; !rc && !b->full && csv_record(&c); line = c.line) {
		size_t ul, tl, gl;
		const char *u = csv_field(&c, k.url, &ul);
		if (c.nf == 1 && !ul)
			continue; /* a blank line */
		if (c.unterminated) {
			ib_reject(b, line, "malformed", u, ul, "a quoted field "
				  "is not closed before the end of the file");
			break;
		}
		struct io_item it = {.line = line};
		const char *t = csv_field(&c, k.title, &tl);
		const char *g = csv_field(&c, k.tags, &gl);
		ib_title(&it, t, tl);
		ib_tags_split(&it, g, gl, ";|");
		it.add_date = csv_date(&c, &k);
		ib_commit(b, &it, u, ul);
	}
	sc_buf_free(&c.buf);
	return rc;
}

/* ======================= plain URL lists ======================= */

static void io_urls(struct ib *b, const char *d, size_t n)
{
	int line = 0;
	for (size_t pos = 0; pos < n && !b->full;) {
		const char *nl = memchr(d + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - d) - pos : n - pos;
		const char *s = d + pos;
		pos += len + 1;
		line++;
		if (line == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
			s += 3, len -= 3;
		io_trim(&s, &len);
		if (!len || *s == '#')
			continue;
		size_t ul = 0;
		while (ul < len && !isspace((unsigned char)s[ul]))
			ul++;
		struct io_item it = {.line = line};
		ib_title(&it, s + ul, len - ul);
		ib_commit(b, &it, s, ul);
	}
}

/* ======================= JSON (snapcat's export) ======================= */

/* "2026-01-02T03:04:05.678Z" (or without ms) -> ms; 0 if not that. */
static int64_t io_iso_ms(const char *s)
{
	struct tm tm = {0};
	int ms = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return 0;
	if (s[used] == '.' && sscanf(s + used, ".%3d", &ms) != 1)
		return 0;
	if (ms < 0)
		ms = 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	return t > 0 ? (int64_t)t * 1000 + ms : 0;
}

static void io_json_link(struct ib *b, const cJSON *o, int pos)
{
	struct io_item it = {.line = pos};
	if (!cJSON_IsObject(o)) {
		ib_reject(b, pos, "malformed", NULL, 0, "entry %d is not an "
			  "object", pos);
		return;
	}
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "url");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "title");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "tags");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "created_at");
	const cJSON *bm = cJSON_GetObjectItemCaseSensitive(o, "bookmarked_at");
	if (!cJSON_IsString(u)) {
		ib_reject(b, pos, "missing_url", NULL, 0, "entry %d has no "
			  "\"url\" string", pos);
		return;
	}
	if (cJSON_IsString(t))
		ib_title(&it, t->valuestring, strlen(t->valuestring));
	if (cJSON_IsString(g))
		ib_tags_split(&it, g->valuestring, strlen(g->valuestring), ",");
	for (const cJSON *x = cJSON_IsArray(g) ? g->child : NULL; x; x = x->next)
		if (cJSON_IsString(x))
			ib_tag(&it, x->valuestring, strlen(x->valuestring));
	if (cJSON_IsString(c))
		it.add_date = io_iso_ms(c->valuestring);
	else if (cJSON_IsNumber(c))
		it.add_date = io_date_num(c->valuedouble);
	if (cJSON_IsString(bm)) /* the export's list order stays created_at's */
		it.bookmarked_at = io_iso_ms(bm->valuestring);
	else if (cJSON_IsNumber(bm))
		it.bookmarked_at = io_date_num(bm->valuedouble);
	ib_commit(b, &it, u->valuestring, strlen(u->valuestring));
}

static sc_result io_json(struct ib *b, const char *d, size_t n, char *err,
			 size_t errlen)
{
	cJSON *j = cJSON_ParseWithLength(d, n);
	if (j && jsontext_has_nul(d, n)) { /* cJSON would cut the strings */
		snprintf(err, errlen, "JSON: a string holds a NUL character "
			 "(\\u0000)");
		cJSON_Delete(j);
		return SC_ERR_INVALID;
	}
	const cJSON *list = cJSON_IsArray(j) ? j
			    : cJSON_GetObjectItemCaseSensitive(j, "links");
	if (!cJSON_IsArray(list)) {
		snprintf(err, errlen, "%s", j ? "JSON: expected a list of links, "
			 "or an object with a \"links\" list (snapcat's export)"
			 : "JSON: the file does not parse as JSON");
		cJSON_Delete(j);
		return SC_ERR_INVALID;
	}
	int pos = 0;
	for (const cJSON *o = list->child; o && !b->full; o = o->next)
		io_json_link(b, o, ++pos);
	cJSON_Delete(j);
	return SC_OK;
}

/* ======================= detection, order, entry ======================= */

enum io_format io_detect(const char *data, size_t len)
{
	const char *s = data;
	size_t n = len;
	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3, n -= 3;
	io_trim(&s, &n);
	if (n && (*s == '{' || *s == '['))
		return IO_FMT_JSON;
	size_t head = n < 65536 ? n : 65536;
	static const char *const marks[] = {"<!doctype netscape", "<dl", "<dt>",
					    "<a href"};
	for (size_t i = 0; i < head; i++)
		for (size_t k = 0; s[i] == '<' && k < 4; k++)
			if (head - i >= strlen(marks[k]) &&
			    !strncasecmp(s + i, marks[k], strlen(marks[k])))
				return IO_FMT_HTML;
	size_t line = 0;
	while (line < n && s[line] != '\n')
		line++;
	if (memchr(s, ',', line)) {
		struct csv c = {.d = s, .n = line, .line = 1};
		struct csv_cols k;
		sc_buf_init(&c.buf, 0);
		int ok = csv_record(&c) && !csv_header(&c, &k);
		sc_buf_free(&c.buf);
		if (ok)
			return IO_FMT_CSV;
	}
	return IO_FMT_URLS;
}

struct io_order {
	int64_t date;
	size_t idx;
};

static int io_order_cmp(const void *a, const void *b)
{
	const struct io_order *x = a, *y = b;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Oldest first when every item is dated. Ties keep file order, unless
 * the file lists newest first (dates never rise and sometimes fall, as in
 * snapcat's own export): then ties are taken in reverse too. */
static void io_sort(struct io_import *r)
{
	int falls = 0, rises = 0;
	for (size_t i = 0; i < r->nitems; i++) {
		if (!r->items[i].add_date)
			return;
		if (i && r->items[i].add_date != r->items[i - 1].add_date)
			*(r->items[i].add_date < r->items[i - 1].add_date ? &falls
									  : &rises) = 1;
	}
	int reverse = falls && !rises;
	struct io_order *o = sc_xmalloc((r->nitems + 1) * sizeof(*o));
	for (size_t i = 0; i < r->nitems; i++)
		o[i] = (struct io_order){r->items[i].add_date,
					 reverse ? r->nitems - 1 - i : i};
	qsort(o, r->nitems, sizeof(*o), io_order_cmp);
	struct io_item *sorted = sc_xmalloc((r->nitems + 1) * sizeof(*sorted));
	for (size_t i = 0; i < r->nitems; i++)
		sorted[i] = r->items[reverse ? r->nitems - 1 - o[i].idx : o[i].idx];
	free(r->items);
	r->items = sorted;
	free(o);
}

sc_result io_import_parse(const char *data, size_t len, enum io_format fmt,
			  struct io_import **out, char *err, size_t errlen)
{
	char e[300] = "";
	*out = NULL;
	if (memchr(data, 0, len)) { /* a NUL would cut a URL or title short */
		if (errlen)
			snprintf(err, errlen, "the file holds a NUL byte (not a "
				 "text file, or UTF-16?)");
		return SC_ERR_INVALID;
	}
	struct io_import *r = sc_xcalloc(1, sizeof(*r));
	struct ib b = {.r = r, .url = sc_xmalloc(URL_BUF_SIZE)};
	sc_result rc = SC_OK;
	*out = NULL;
	r->format = fmt == IO_FMT_AUTO ? io_detect(data, len) : fmt;
	switch (r->format) {
	case IO_FMT_HTML: io_html(&b, data, len); break;
	case IO_FMT_CSV: rc = io_csv(&b, data, len, e, sizeof(e)); break;
	case IO_FMT_JSON: rc = io_json(&b, data, len, e, sizeof(e)); break;
	default: io_urls(&b, data, len); break;
	}
	if (!rc && b.full) {
		snprintf(e, sizeof(e), "the file has over %d records",
			 IO_IMPORT_MAX_RECORDS);
		rc = SC_ERR_TOO_LARGE;
	}
	free(b.slots);
	free(b.url);
	if (errlen)
		snprintf(err, errlen, "%s", e);
	if (rc) {
		io_import_free(&r);
		return rc;
	}
	io_sort(r);
	*out = r;
	return SC_OK;
}

static void io_free_rejects(struct io_import *r, size_t from)
{
	for (size_t i = from; i < r->nrejects && r->rejects; i++) {
		free(r->rejects[i].text);
		free(r->rejects[i].reason);
		r->rejects[i].text = r->rejects[i].reason = NULL;
	}
}

void io_import_shrink(struct io_import *r, size_t keep_rejects)
{
	for (size_t i = 0; r->items && i < r->nitems; i++)
		io_item_clear(&r->items[i]);
	free(r->items);
	r->items = NULL;
	io_free_rejects(r, keep_rejects);
}

void io_import_free(struct io_import **p)
{
	if (!p || !*p)
		return;
	struct io_import *r = *p;
	io_import_shrink(r, 0);
	free(r->rejects);
	free(r);
	*p = NULL;
}
