/*
 * api_snapshots.c — /api/snapshots/{id}[/png|/thumb.png|/mhtml|/pdf|/diff.png|
 * /text]: a snapshot's JSON, its files and its stored page text, with ETag / If-None-Match and single
 * byte ranges (lws 4.1.6 in Debian is built without LWS_WITH_RANGES):
 * an invalid Range or several ranges get the whole file (200), no
 * satisfiable range 416 (Content-Range gives the size).
 *
 *   GET …/png -> catalog_snapshot_get -> data_dir/<png_path> opened here
 *   (worker) -> http_resp.fd + off/len -> server.c streams it
 *   GET …/text -> catalog_snapshot_get(with_text) -> text/plain body
 *   (a CSP that allows nothing: the text is never HTML)
 * File paths come from the catalog only, never from the request: a path in
 * the URL cannot reach the file system.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "catalog.h"

enum as_kind { AS_PNG, AS_THUMB, AS_MHTML, AS_DIFF, AS_TEXT, AS_PDF };

/* 1*DIGIT at *pp (saturating); 0 and advances, or -1 if no digit. */
static int as_digits(const char **pp, uint64_t *v)
{
	const char *p = *pp;
	*v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		*v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX
						 : *v * 10 + (uint64_t)(*p - '0');
	*pp = p;
	return 0;
}

/* One range-spec (RFC 9110 14.1.1: first-pos "-" [last-pos] or "-"
 * suffix-length) at *pp, resolved against size: 0 with *sat (and off,
 * len when satisfiable), or -1 if it is not one. */
static int as_spec(const char **pp, uint64_t size, int *sat, uint64_t *off,
		   uint64_t *len)
{
	uint64_t a, b = UINT64_MAX;
	const char *p = *pp;
	if (*p == '-') {
		p++;
		if (as_digits(&p, &b))
			return -1;
		*sat = b > 0 && size > 0;
		*len = b < size ? b : size;
		*off = size - *len;
	} else {
		if (as_digits(&p, &a) || *p++ != '-' ||
		    (*p >= '0' && *p <= '9' && (as_digits(&p, &b) || b < a)))
			return -1;
		*sat = a < size;
		*off = a;
		*len = *sat ? (b < size ? b : size - 1) - a + 1 : 0;
	}
	*pp = p;
	return 0;
}

/* A Range header against a file of size bytes: 1 one satisfiable range
 * (off, len: 206), 0 ignore it (not bytes, not valid, or several ranges:
 * the whole file, 200), -1 none satisfiable (416). */
static int as_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	int count = 0, any = 0, sat;
	uint64_t o, l;
	if (strncasecmp(h, "bytes=", 6))
		return 0;
	for (const char *p = h + 6;;) {
		p += strspn(p, " \t");
		if (*p == ',') { /* 1#range-spec allows empty elements */
			p++;
			continue;
		}
		if (!*p)
			break;
		if (as_spec(&p, size, &sat, &o, &l))
			return 0;
		if (++count == 1) {
			*off = o;
			*len = l;
		}
		any |= sat;
		p += strspn(p, " \t");
		if (*p && *p != ',')
			return 0;
	}
	if (!count)
		return 0;
	return !any ? -1 : count == 1;
}

static int as_etag_match(const char *inm, const char *etag)
{
	return inm && (strstr(inm, etag) || !strcmp(inm, "*"));
}

/* The PDF opens inline, and only this route may be framed, by the admin
 * page's own origin (its PDF view); everything else stays unframeable. */
static void as_pdf_headers(struct api_call *k)
{
	struct http_resp *rs = k->resp;
	http_resp_header(rs, "Content-Disposition", "inline; filename=\"snapshot-"
			 "%" PRId64 ".pdf\"", k->id);
	http_resp_header(rs, "X-Frame-Options", "SAMEORIGIN");
	http_resp_header(rs, "Content-Security-Policy",
			 "default-src 'none'; frame-ancestors 'self'");
}

/* Answer with the file at path (ETag from snapshot id + kind + size). */
static void as_file(struct api_call *k, const char *path, enum as_kind kind)
{
	static const char *const names[] = {[AS_PNG] = "png", [AS_THUMB] = "thumb",
					    [AS_MHTML] = "mhtml", [AS_DIFF] = "diff",
					    [AS_PDF] = "pdf"};
	struct http_resp *rs = k->resp;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_resp_error(rs, 404, "not_found", NULL,
				"the file of this snapshot is missing");
		return;
	}
	char etag[96];
	snprintf(etag, sizeof(etag), "\"s%" PRId64 "-%s-%llx\"", k->id,
		 names[kind], (unsigned long long)st.st_size);
	http_resp_header(rs, "ETag", "%s", etag);
	http_resp_header(rs, "Cache-Control", "private, max-age=86400");
	http_resp_header(rs, "Accept-Ranges", "bytes");
	if (kind == AS_MHTML) {
		http_resp_header(rs, "Content-Disposition",
				 "attachment; filename=\"snapshot-%" PRId64
				 ".mhtml\"", k->id);
		http_resp_header(rs, "Content-Security-Policy", "sandbox");
	}
	if (kind == AS_PDF)
		as_pdf_headers(k);
	if (as_etag_match(k->req->if_none_match, etag)) {
		close(fd);
		rs->status = 304;
		return;
	}
	rs->ctype = kind == AS_MHTML ? "multipart/related"
		    : kind == AS_PDF ? "application/pdf"
				     : "image/png";
	rs->fd = fd;
	rs->total = (uint64_t)st.st_size;
	rs->off = 0;
	rs->len = rs->total;
	rs->status = 200;
	int rg = k->req->range && k->req->method == HTTP_GET /* RFC 9110 */
			 ? as_range(k->req->range, rs->total, &rs->off, &rs->len)
			 : 0;
	if (!rg) {
		rs->off = 0;
		rs->len = rs->total;
		return;
	}
	if (rg < 0) {
		close(fd);
		rs->fd = -1;
		http_resp_error(rs, 416, "range_not_satisfiable", NULL,
				"no range of the Range header is satisfiable");
		http_resp_header(rs, "Content-Range", "bytes */%llu",
				 (unsigned long long)st.st_size);
		return;
	}
	rs->status = 206;
	http_resp_header(rs, "Content-Range", "bytes %llu-%llu/%llu",
			 (unsigned long long)rs->off,
			 (unsigned long long)(rs->off + rs->len - 1),
			 (unsigned long long)rs->total);
}

/* The stored page text of s as text/plain (never HTML: server.c adds
 * nosniff to every answer, and a CSP here allows nothing), with an ETag; 404 if the capture kept none. */
static void as_text(struct api_call *k, const struct catalog_snapshot *s)
{
	struct http_resp *rs = k->resp;
	if (s->text_status != CATALOG_OUT_OK || !s->text) {
		http_resp_error(rs, 404, "not_found", NULL,
				"this snapshot has no stored text");
		return;
	}
	size_t n = strlen(s->text);
	char etag[96];
	snprintf(etag, sizeof(etag), "\"s%" PRId64 "-text-%zx\"", k->id, n);
	http_resp_header(rs, "ETag", "%s", etag);
	http_resp_header(rs, "Cache-Control", "private, max-age=86400");
	http_resp_header(rs, "Content-Security-Policy",
			 "default-src 'none'; sandbox");
	if (as_etag_match(k->req->if_none_match, etag)) {
		rs->status = 304;
		return;
	}
	sc_buf_init(&rs->body, n + 1);
	if (sc_buf_append(&rs->body, s->text, n)) {
		http_resp_error(rs, 500, "internal", NULL, "out of memory");
		return;
	}
	rs->ctype = "text/plain; charset=utf-8";
	rs->status = 200;
}

/* The snapshot JSON (kind -1), its text or one of its files. */
static void as_answer(struct api_call *k, int kind)
{
	struct catalog_snapshot *s = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	sc_result rc = catalog_snapshot_get(c, k->id, kind == AS_TEXT, &s);
	app_read_end(k->c->app, c);
	if (rc) {
		http_resp_result(k->resp, rc, "snapshot");
		return;
	}
	if (kind < 0) {
		http_resp_json(k->resp, 200, api_snapshot_json(s));
	} else if (kind == AS_TEXT) {
		as_text(k, s);
	} else {
		const char *rel = kind == AS_PNG     ? s->png_path
				  : kind == AS_THUMB ? s->thumb_path
				  : kind == AS_DIFF  ? s->diff_path
				  : kind == AS_PDF   ? s->pdf_path
						     : s->mhtml_path;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", app_data_dir(k->c->app),
			 rel ? rel : "");
		if (rel)
			as_file(k, path, (enum as_kind)kind);
		else
			http_resp_error(k->resp, 404, "not_found", NULL,
					"this snapshot has no such file");
	}
	catalog_snapshot_free(&s);
}

void api_snapshot_get(struct api_call *k) { as_answer(k, -1); }

void api_snapshot_file(struct api_call *k)
{
	const char *f = k->name;
	int kind = !strcmp(f, "png")         ? AS_PNG
		   : !strcmp(f, "thumb.png") ? AS_THUMB
		   : !strcmp(f, "mhtml")     ? AS_MHTML
		   : !strcmp(f, "diff.png")  ? AS_DIFF
		   : !strcmp(f, "text")      ? AS_TEXT
		   : !strcmp(f, "pdf")       ? AS_PDF : -1;
	if (!strcmp(f, "page"))
		api_snapshot_page(k, -1); /* api_page.c: the main HTML */
	else if (kind < 0)
		http_resp_error(k->resp, 404, "not_found", NULL, "no such file");
	else
		as_answer(k, kind);
}
