/*
 * api_page.c — GET /api/snapshots/{id}/page and …/page/{n}: the browsable
 * copy of a snapshot, served from its MHTML's parts (orchestrator/io/mhtml.h).
 *
 *   GET …/page -> catalog_snapshot_get -> DATA/<mhtml_path>.idx read
 *   (worker; checked, or built again) -> the main part's bytes read ->
 *   mhtml_idx_render(URLs of parts -> /api/snapshots/{id}/page/<n>)
 *   -> text/html body
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
 * a server that wants a token.
 *
 * The MHTML is parsed once: at capture its index is written beside it
 * (page.mhtml.idx, orchestrator/io/mhtml_idx.h); a request reads the index
 * and only the bytes of the part it serves. A snapshot without an index
 * (captured before it existed) or with a damaged or stale one gets it
 * built by its first request (on this worker) and stored. The main HTML's
 * URLs are rewritten per request from that one part: the rewrite depends on
 * the request's ?token=, and the part is small beside the file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "catalog.h"
#include "mhtml.h"
#include "mhtml_idx.h"

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

/* The token of the request, carried into the rewritten URLs. */
static void page_suffix(struct api_call *k, char *suffix, size_t n)
{
	const char *tok = http_arg(k->req, "token");
	if (tok && strlen(tok) < 128 &&
	    strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789-._~") == strlen(tok))
		snprintf(suffix, n, "?token=%s", tok);
}

/* Part n (-1: the main HTML) of the indexed MHTML x into the answer. */
static void page_render(struct api_call *k, struct mhtml_idx *x, int n)
{
	struct http_resp *rs = k->resp;
	char prefix[96], suffix[160] = "";
	snprintf(prefix, sizeof(prefix), "/api/snapshots/%" PRId64 "/page/", k->id);
	page_suffix(k, suffix, sizeof(suffix));
	if (n < 0)
		n = mhtml_idx_main(x);
	if (n >= mhtml_idx_count(x)) {
		http_resp_error(rs, 404, "not_found", NULL, "no such part");
		return;
	}
	sc_buf_init(&rs->body, MHTML_FILE_MAX);
	if (mhtml_idx_render(x, n, prefix, suffix, &rs->body)) {
		sc_buf_free(&rs->body);
		http_resp_error(rs, 500, "bad_mhtml", NULL,
				"this part of the MHTML cannot be decoded");
		return;
	}
	rs->status = 200;
	rs->ctype = page_ctype(mhtml_idx_type(x, n));
	http_resp_header(rs, "Cache-Control", "private, max-age=86400");
}

/* Part n of the MHTML at path into the answer, through its index. */
static void page_part(struct api_call *k, const char *path, int n)
{
	struct http_resp *rs = k->resp;
	struct mhtml_idx *x = NULL;
	int built;
	sc_result rc = mhtml_idx_open(path, &x, &built);
	if (built)
		sc_log(SC_LOG_INFO, "page", "snapshot %" PRId64 ": MHTML index "
		       "%s", k->id, rc ? "cannot be built" : "built");
	if (rc == SC_ERR_NOT_FOUND)
		http_resp_error(rs, 404, "not_found", NULL,
				"the MHTML of this snapshot is missing");
	else if (rc)
		http_resp_error(rs, 500, "bad_mhtml", NULL,
				rc == SC_ERR_TOO_LARGE ? "the MHTML is too large"
				: "the MHTML of this snapshot cannot be read");
	else
		page_render(k, x, n);
	http_resp_header(rs, "Content-Security-Policy", "%s", PAGE_CSP);
	/* an answer with its own X-Frame-Options: the server leaves out its
	 * DENY pair (server.c, srv_frame_headers) */
	http_resp_header(rs, "X-Frame-Options", "SAMEORIGIN");
	mhtml_idx_free(&x);
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
