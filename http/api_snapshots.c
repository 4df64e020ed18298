/*
 * api_snapshots.c — /api/snapshots/{id}[/png|/thumb.png|/mhtml|/diff.png]: a
 * snapshot's JSON and its files, with ETag / If-None-Match and single
 * byte ranges (lws 4.1.6 in Debian is built without LWS_WITH_RANGES).
 *
 *   GET …/png -> catalog_snapshot_get -> data_dir/<png_path> opened here
 *   (worker) -> http_resp.fd + off/len -> server.c streams it
 * File paths come from the catalog only, never from the request: a path in
 * the URL cannot reach the file system.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "catalog.h"

enum as_kind { AS_PNG, AS_THUMB, AS_MHTML, AS_DIFF };

/* "bytes=a-b" | "bytes=a-" | "bytes=-n" against size. 0 ok, -1 bad. */
static int as_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a = 0, b = 0;
	int n = 0;
	if (strncmp(h, "bytes=", 6) || strchr(h, ',') || size == 0)
		return -1;
	h += 6;
	if (*h == '-') {
		if (sscanf(h + 1, "%llu%n", &b, &n) != 1 || h[1 + n] || b == 0)
			return -1;
		*len = b > size ? size : b;
		*off = size - *len;
		return 0;
	}
	if (sscanf(h, "%llu-%n", &a, &n) != 1 || a >= size)
		return -1;
	h += n;
	if (!*h) {
		b = size - 1;
	} else if (sscanf(h, "%llu%n", &b, &n) != 1 || h[n] || b < a) {
		return -1;
	}
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return 0;
}

static int as_etag_match(const char *inm, const char *etag)
{
	return inm && (strstr(inm, etag) || !strcmp(inm, "*"));
}

/* Answer with the file at path (ETag from snapshot id + kind + size). */
static void as_file(struct api_call *k, const char *path, enum as_kind kind)
{
	static const char *const names[] = {[AS_PNG] = "png", [AS_THUMB] = "thumb",
					    [AS_MHTML] = "mhtml", [AS_DIFF] = "diff"};
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
	if (as_etag_match(k->req->if_none_match, etag)) {
		close(fd);
		rs->status = 304;
		return;
	}
	rs->ctype = kind == AS_MHTML ? "multipart/related" : "image/png";
	rs->fd = fd;
	rs->total = (uint64_t)st.st_size;
	rs->off = 0;
	rs->len = rs->total;
	rs->status = 200;
	if (!k->req->range)
		return;
	if (as_range(k->req->range, rs->total, &rs->off, &rs->len)) {
		close(fd);
		rs->fd = -1;
		http_resp_error(rs, 416, "range_not_satisfiable", NULL,
				"bad or unsatisfiable Range");
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

void api_snapshots(struct api_call *k)
{
	enum http_method m = k->req->method;
	if (k->nseg < 2 || k->nseg > 3 || !k->id) {
		if (k->nseg == 1 && m == HTTP_POST)
			api_links_create(k); /* {url, tags}: a link and its job */
		else if (k->nseg == 1)
			api_method_not_allowed(k, "POST");
		else
			http_resp_error(k->resp, 404, "not_found", NULL,
					"no such snapshot");
		return;
	}
	int kind = -1;
	if (k->nseg == 3)
		kind = !strcmp(k->seg[2], "png")         ? AS_PNG
		       : !strcmp(k->seg[2], "thumb.png") ? AS_THUMB
		       : !strcmp(k->seg[2], "mhtml")     ? AS_MHTML
		       : !strcmp(k->seg[2], "diff.png")  ? AS_DIFF : -2;
	if (kind == -2) {
		http_resp_error(k->resp, 404, "not_found", NULL, "no such file");
		return;
	}
	if (m != HTTP_GET && m != HTTP_HEAD) {
		api_method_not_allowed(k, "GET, HEAD");
		return;
	}
	struct catalog_snapshot *s = NULL;
	struct catalog *c = app_db_lock(k->c->app);
	sc_result rc = catalog_snapshot_get(c, k->id, 0, &s);
	app_db_unlock(k->c->app);
	if (rc) {
		http_resp_result(k->resp, rc, "snapshot");
		return;
	}
	if (kind < 0) {
		http_resp_json(k->resp, 200, api_snapshot_json(s));
	} else {
		const char *rel = kind == AS_PNG     ? s->png_path
				  : kind == AS_THUMB ? s->thumb_path
				  : kind == AS_DIFF  ? s->diff_path
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
