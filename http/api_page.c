/*
 * api_page.c — GET /api/snapshots/{id}/page and …/page/{n}: the browsable
 * copy of a snapshot, served from its MHTML's parts (orchestrator/io/mhtml.h).
 *
 *   GET …/page -> catalog_snapshot_get -> DATA/<mhtml_path> read (worker,
 *   capped at MHTML_FILE_MAX) -> mhtml_parse -> mhtml_render(part 0, URLs
 *   of parts -> /api/snapshots/{id}/page/<n>) -> text/html body
 *   GET …/page/<n> -> the same -> part n with its stored type (a known
 *   one; any other is application/octet-stream)
 *
 * The archived page must not run or phone home: every answer carries a CSP
 * that allows no script and no request outside 'self' (the snapshot's own
 * parts), with sandbox (allow-same-origin only: without it the copy is an
 * opaque origin and its own frames, answers of this file, fail their
 * frame-ancestors 'self'; no allow-scripts); it may be framed by the admin page only
 * (frame-ancestors 'self', X-Frame-Options SAMEORIGIN: its own headers,
 * which server.c honours for these answers alone). A ?token= in the request
 * is carried into the rewritten URLs, so an <iframe> can load the copy from
 * a server that wants a token. The file is parsed on every request; nothing
 * is written beside it, so old snapshots need nothing done.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "catalog.h"
#include "mhtml.h"

#define PAGE_CSP                                                             \
	"default-src 'none'; img-src 'self' data:; style-src 'self' "        \
	"'unsafe-inline'; font-src 'self' data:; frame-src 'self'; "         \
	"media-src 'self' data:; form-action 'none'; base-uri 'none'; "      \
	"frame-ancestors 'self'; sandbox allow-same-origin"

/* The stored type as one of ours (a static string). */
static const char *page_ctype(const char *t)
{
	static const char *const known[] = {
		"text/html", "text/css", "image/png", "image/jpeg", "image/gif",
		"image/webp", "image/avif", "image/svg+xml", "image/x-icon",
		"image/vnd.microsoft.icon", "image/bmp", "font/woff",
		"font/woff2", "font/ttf", "font/otf", "application/font-woff",
		"application/x-font-ttf", "video/mp4", "video/webm",
		"audio/mpeg", "audio/ogg", NULL};
	for (int i = 0; known[i]; i++)
		if (!strcmp(t, known[i]))
			return known[i];
	return "application/octet-stream";
}

/* The whole file at path into b (capped). */
static sc_result page_read(const char *path, struct sc_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	sc_result rc = SC_OK;
	if (fd < 0)
		return SC_ERR_NOT_FOUND;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		rc = SC_ERR_NOT_FOUND;
	else if ((uint64_t)st.st_size > MHTML_FILE_MAX)
		rc = SC_ERR_TOO_LARGE;
	else
		rc = sc_buf_reserve(b, (size_t)st.st_size);
	while (!rc && b->len < (size_t)st.st_size) {
		ssize_t n = read(fd, b->data + b->len, (size_t)st.st_size - b->len);
		if (n <= 0)
			rc = SC_ERR_IO;
		else
			b->len += (size_t)n;
	}
	if (!rc)
		b->data[b->len] = 0;
	close(fd);
	return rc;
}

/* Part n of the MHTML at path into the answer. */
static void page_part(struct api_call *k, const char *path, int n)
{
	struct http_resp *rs = k->resp;
	struct sc_buf file;
	struct mhtml *m = NULL;
	char prefix[96], suffix[160] = "";
	const char *tok = http_arg(k->req, "token");
	snprintf(prefix, sizeof(prefix), "/api/snapshots/%" PRId64 "/page/", k->id);
	if (tok && strlen(tok) < 128 &&
	    strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789-._~") == strlen(tok))
		snprintf(suffix, sizeof(suffix), "?token=%s", tok);
	sc_buf_init(&file, MHTML_FILE_MAX);
	sc_result rc = page_read(path, &file);
	if (rc == SC_ERR_NOT_FOUND)
		http_resp_error(rs, 404, "not_found", NULL,
				"the MHTML of this snapshot is missing");
	else if (rc || (rc = mhtml_parse(file.data, file.len, &m)))
		http_resp_error(rs, 500, "bad_mhtml", NULL,
				rc == SC_ERR_TOO_LARGE ? "the MHTML is too large"
				: "the MHTML of this snapshot cannot be read");
	else if (n >= mhtml_count(m))
		http_resp_error(rs, 404, "not_found", NULL, "no such part");
	else {
		sc_buf_init(&rs->body, MHTML_FILE_MAX);
		if ((rc = mhtml_render(m, n, prefix, suffix, &rs->body))) {
			sc_buf_free(&rs->body);
			http_resp_error(rs, 500, "bad_mhtml", NULL,
					"this part of the MHTML cannot be decoded");
		} else {
			rs->status = 200;
			rs->ctype = page_ctype(mhtml_type(m, n));
			http_resp_header(rs, "Cache-Control", "private, max-age=86400");
		}
	}
	http_resp_header(rs, "Content-Security-Policy", "%s", PAGE_CSP);
	/* an answer with its own X-Frame-Options: the server leaves out its
	 * DENY pair (server.c, srv_frame_headers) */
	http_resp_header(rs, "X-Frame-Options", "SAMEORIGIN");
	mhtml_free(&m);
	sc_buf_free(&file);
}

void api_snapshot_page(struct api_call *k, int part)
{
	struct catalog_snapshot *s = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	sc_result rc = catalog_snapshot_get(c, k->id, 0, &s);
	app_read_end(k->c->app, c);
	if (rc) {
		http_resp_result(k->resp, rc, "snapshot");
		return;
	}
	if (!s->mhtml_path) {
		http_resp_error(k->resp, 404, "not_found", NULL,
				"this snapshot has no MHTML");
	} else {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", app_data_dir(k->c->app),
			 s->mhtml_path);
		page_part(k, path, part);
	}
	catalog_snapshot_free(&s);
}

void api_snapshot_page_part(struct api_call *k)
{
	long n;
	if (sc_parse_long(k->name, 0, MHTML_PARTS_MAX - 1, &n)) {
		http_resp_error(k->resp, 404, "not_found", NULL, "no such part");
		return;
	}
	api_snapshot_page(k, (int)n);
}
