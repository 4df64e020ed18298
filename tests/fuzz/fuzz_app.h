/*
 * fuzz_app.h — the service the HTTP-layer fuzz targets (fuzz_api.c,
 * fuzz_ws.c, fuzz_sse.c, fuzz_http.c) run against; included by exactly one
 * file of each.
 *
 *   first input: mkdtemp $TMPDIR/snapcat-<target>-<pid>-XXXXXX (default
 *     /tmp), a loop (loop_create), and template/: a catalog seeded
 *     through api_dispatch and the catalog (links 1-4 with tags; job 1
 *     done with snapshot 1 and its PNG, thumbnail and MHTML files; job 2
 *     failed "dns"; job 3 canceled; job 4 queued; snapshot 2 failed with
 *     timings)
 *   every input (fuzz_app_get): work/ = a fresh copy of template/,
 *     app_create on it, app_drain at once (so the scheduler never claims a
 *     job and no browser starts; app_start is never called); the
 *     request(s); loop_settle (the posted events and kicks run and are
 *     freed). The app and work/ are kept for the next input only if the
 *     input changed nothing (fuzz_app_dirty not called: GET and HEAD
 *     requests), as a fresh app costs a few ms.
 * Each input thus starts from the same state: a crash replays alone.
 * fuzz_api.c and fuzz_http.c, which write requests as text, share the
 * helpers that fill a struct http_req from it (fuzz_req_args,
 * fuzz_header_split, fuzz_req_header), the call of api_dispatch
 * (fuzz_dispatch) and the checks of its answer (fuzz_check_status,
 * fuzz_check_file).
 * The directory (snapcat-<target>-<pid>-XXXXXX) is removed at exit, and
 * those of crashed runs by the next run of the same target.
 *
 * getaddrinfo is replaced by a fixed table (fuzz_dns below) so that the
 * SSRF guard (app_opts.allow_private = 0) can be fuzzed without a network:
 *   *.internal 10.0.0.7 | *.mapped ::ffff:127.0.0.1 | *.v6local ::1
 *   *.meta 169.254.169.254 | *.mixed 93.184.216.34 + 192.168.1.1
 *   *.public 93.184.216.34 + 2606:2800:220:1::1 | localhost 127.0.0.1
 *   anything else: EAI_NONAME
 */
#ifndef FUZZ_APP_H
#define FUZZ_APP_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "browser.h"
#include "catalog.h"
#include "loop.h"
#include "req.h"
#include "store.h"
#include "url.h"

#include "fuzz.h"

#define FUZZ_FN static __attribute__((unused))

#define FUZZ_TOKEN "fuzz-token"

/* ---- the fake resolver ---- */

struct fuzz_dns_row {
	const char *suffix;
	const char *addr[2];
	int private_; /* some address is private */
};

static const struct fuzz_dns_row fuzz_dns[] = {
	{".internal", {"10.0.0.7", NULL}, 1},
	{".mapped", {"::ffff:127.0.0.1", NULL}, 1},
	{".v6local", {"::1", NULL}, 1},
	{".meta", {"169.254.169.254", NULL}, 1},
	{".mixed", {"93.184.216.34", "192.168.1.1"}, 1},
	{".public", {"93.184.216.34", "2606:2800:220:1::1"}, 0},
};

/* The row host resolves by, or NULL (does not resolve). */
FUZZ_FN const struct fuzz_dns_row *fuzz_dns_find(const char *host)
{
	static const struct fuzz_dns_row localhost = {"", {"127.0.0.1", NULL}, 1};
	if (!host)
		return NULL;
	if (!strcmp(host, "localhost"))
		return &localhost;
	size_t hl = strlen(host);
	for (size_t i = 0; i < sizeof(fuzz_dns) / sizeof(fuzz_dns[0]); i++) {
		size_t sl = strlen(fuzz_dns[i].suffix);
		if (hl > sl && !strcmp(host + hl - sl, fuzz_dns[i].suffix))
			return &fuzz_dns[i];
	}
	return NULL;
}

struct fuzz_ai {
	struct addrinfo ai; /* first: freeaddrinfo frees through it */
	struct sockaddr_storage ss;
};

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	(void)service;
	(void)hints;
	*res = NULL;
	const struct fuzz_dns_row *row = fuzz_dns_find(node);
	if (!row)
		return EAI_NONAME;
	struct addrinfo **tail = res;
	for (int i = 0; i < 2 && row->addr[i]; i++) {
		struct fuzz_ai *x = calloc(1, sizeof(*x));
		if (!x)
			return EAI_MEMORY;
		struct sockaddr_in *v4 = (struct sockaddr_in *)&x->ss;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&x->ss;
		if (inet_pton(AF_INET, row->addr[i], &v4->sin_addr) == 1) {
			v4->sin_family = AF_INET;
			x->ai.ai_addrlen = sizeof(*v4);
		} else {
			FUZZ_ASSERT(inet_pton(AF_INET6, row->addr[i],
					      &v6->sin6_addr) == 1);
			v6->sin6_family = AF_INET6;
			x->ai.ai_addrlen = sizeof(*v6);
		}
		x->ai.ai_family = x->ss.ss_family;
		x->ai.ai_socktype = SOCK_STREAM;
		x->ai.ai_addr = (struct sockaddr *)&x->ss;
		*tail = &x->ai;
		tail = &x->ai.ai_next;
	}
	return 0;
}

void freeaddrinfo(struct addrinfo *ai)
{
	while (ai) {
		struct addrinfo *next = ai->ai_next;
		free(ai);
		ai = next;
	}
}

/* ---- files ---- */

/* Copy src to dst (mode 0644); parents of dst must exist. */
FUZZ_FN void fuzz_copy(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 && errno == ENOENT)
		return;
	FUZZ_ASSERT(in >= 0);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FUZZ_ASSERT(out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		FUZZ_ASSERT(write(out, buf, (size_t)n) == n);
	FUZZ_ASSERT(n == 0);
	close(in);
	FUZZ_ASSERT(close(out) == 0);
}

FUZZ_FN void fuzz_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	FUZZ_ASSERT(f && fwrite(data, 1, len, f) == len && fclose(f) == 0);
}

/* ---- the environment ---- */

struct fuzz_env {
	char root[200], tmpl[256], work[256];
	struct loop *loop;
	int ready;
};
static struct fuzz_env fz;

/* Files of template/ (relative), copied into work/ before every input. */
static const char *const fuzz_files[] = {
	"catalog.db", "catalog.db-wal", "snapshots/1/1/page.png",
	"snapshots/1/1/thumb.png", "snapshots/1/1/page.mhtml",
};

static const unsigned char fuzz_png_2x2[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00,
	0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a, 0x73,
	0x00, 0x00, 0x00, 0x12, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63,
	0xf8, 0xcf, 0xc0, 0xc0, 0x00, 0xc2, 0x0c, 0xff, 0x81, 0x00, 0x00,
	0x1f, 0xee, 0x05, 0xfb, 0xf1, 0xab, 0xba, 0x77, 0x00, 0x00, 0x00,
	0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

static const char fuzz_mhtml[] =
	"From: <Saved by Blink>\r\nSnapshot-Content-Location: "
	"https://example.com/\r\nSubject: Example Domain\r\nMIME-Version: "
	"1.0\r\nContent-Type: multipart/related;\r\n\ttype=\"text/html\";\r\n"
	"\tboundary=\"----b----\"\r\n\r\n------b----\r\nContent-Type: "
	"text/html\r\n\r\n<html><body>hello</body></html>\r\n------b------\r\n";

static void fuzz_noop(void *ud) { (void)ud; }

/* An app over dir; its scheduler drained at once (never runs a job). */
FUZZ_FN struct app *fuzz_app_open(const char *dir, int allow_private)
{
	static const struct browser_opts bo = {.launch_timeout_ms = 1};
	struct app_opts o = {.data_dir = dir, .bopts = &bo, .nbrowsers = 1,
			     .allow_private = allow_private};
	struct app *a = NULL;
	char err[512];
	if (app_create(fz.loop, &o, &a, err, sizeof(err))) {
		fprintf(stderr, FUZZ_NAME ": app_create(%s): %s\n", dir, err);
		abort();
	}
	app_drain(a, 0, fuzz_noop, NULL);
	return a;
}

/* Run the posted callbacks (events, kicks) and the workers' done
 * callbacks, then free the app. */
FUZZ_FN void fuzz_app_close(struct app **a)
{
	loop_settle(fz.loop, 10000);
	app_destroy(a);
}

/* A handler that wrote answers once its batch is committed (api_write_end,
 * reported on the loop): commit now and run the report, so that resp is
 * final (and no report comes after resp is gone). */
FUZZ_FN void fuzz_committed(struct app *a, struct http_resp *resp)
{
	while (resp->commit_wait) {
		app_flush(a);
		loop_settle(fz.loop, 0);
	}
}

static void fuzz_mark_work(void *arg)
{
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
}

/* Wait (up to ~10 s) until the worker jobs submitted so far have run,
 * leaving their done callbacks pending until the next loop_settle: a
 * marker job goes after them (one worker thread: first in, first out).
 * (workers_busy cannot tell: it counts undrained jobs too.) */
FUZZ_FN void fuzz_workers_idle(void)
{
	static int ran;
	__atomic_store_n(&ran, 0, __ATOMIC_RELEASE);
	loop_work(fz.loop, fuzz_mark_work, fuzz_noop, &ran);
	for (int i = 0; i < 20000 && !__atomic_load_n(&ran, __ATOMIC_ACQUIRE); i++)
		usleep(500);
}

/* One request through api_dispatch (for seeding); returns the status. */
FUZZ_FN int fuzz_call(struct app *a, enum http_method m, const char *path,
		      const char *body, cJSON **out)
{
	struct api_ctx ctx = {.app = a};
	struct http_req req;
	struct http_resp resp;
	http_req_init(&req);
	http_resp_init(&resp);
	req.method = m;
	req.path = sc_xstrdup(path);
	if (body)
		FUZZ_ASSERT(sc_buf_appends(&req.body, body) == SC_OK);
	api_dispatch(&ctx, &req, &resp);
	fuzz_committed(ctx.app, &resp);
	int status = resp.status;
	if (out)
		*out = resp.body.len ? cJSON_ParseWithLength(resp.body.data,
							     resp.body.len)
				     : NULL;
	http_req_free(&req);
	http_resp_free(&resp);
	return status;
}

/* The app of the inputs: kept from one input to the next while no input
 * changed anything (fuzz_app_dirty), so read-only inputs skip the reset. */
static struct app *fz_app;
static int fz_app_private, fz_dirty = 1;

static void fuzz_cleanup(void)
{
	if (fz_app)
		fuzz_app_close(&fz_app);
	if (fz.ready && fz.root[0])
		(void)!sc_remove_tree(fz.root);
}

static void fuzz_seed_snapshots(struct app *a)
{
	char path[512];
	struct catalog *c = app_write_begin(a);
	struct catalog_job *j = NULL;
	int64_t snap = 0, snap2 = 0;
	/* job 1: done, snapshot 1 with every file */
	FUZZ_ASSERT(catalog_job_claim(c, &j) == SC_OK && j->id == 1);
	FUZZ_ASSERT(catalog_snapshot_create(c, 1, 1, &snap) == SC_OK);
	struct catalog_snapshot s = {
		.id = snap, .state = CATALOG_SNAP_OK,
		.final_url = "https://example.com/", .title = "Example Domain",
		.http_status = 200, .width = 2, .height = 2,
		.png_path = "snapshots/1/1/page.png",
		.mhtml_path = "snapshots/1/1/page.mhtml",
		.thumb_path = "snapshots/1/1/thumb.png",
		.png_bytes = sizeof(fuzz_png_2x2),
		.mhtml_bytes = sizeof(fuzz_mhtml) - 1,
		.text = "Example Domain This domain is for use in examples",
		.timings = "{\"navigate\":120,\"ready\":300,\"blocked\":2,"
			   "\"blocked_first\":\"http://10.0.0.1/x.png\","
			   "\"note\":\"network idle\"}",
		.png_status = CATALOG_OUT_OK, .mhtml_status = CATALOG_OUT_OK,
		.thumb_status = CATALOG_OUT_OK, .text_status = CATALOG_OUT_OK};
	FUZZ_ASSERT(catalog_snapshot_finish(c, &s) == SC_OK);
	FUZZ_ASSERT(catalog_job_done(c, 1, snap) == SC_OK);
	catalog_job_free(&j);
	/* job 2: failed (dns), snapshot 2 failed */
	FUZZ_ASSERT(catalog_job_claim(c, &j) == SC_OK && j->id == 2);
	FUZZ_ASSERT(catalog_snapshot_create(c, 2, 2, &snap2) == SC_OK);
	struct catalog_snapshot s2 = {
		.id = snap2, .state = CATALOG_SNAP_FAILED,
		.timings = "{\"navigate\":5}", .error_class = "dns",
		.error_message = "net::ERR_NAME_NOT_RESOLVED",
		.png_status = CATALOG_OUT_FAILED,
		.mhtml_status = CATALOG_OUT_SKIPPED,
		.thumb_status = CATALOG_OUT_FAILED,
		.text_status = CATALOG_OUT_FAILED};
	FUZZ_ASSERT(catalog_snapshot_finish(c, &s2) == SC_OK);
	FUZZ_ASSERT(catalog_job_fail(c, 2, "dns",
				     "net::ERR_NAME_NOT_RESOLVED") == SC_OK);
	catalog_job_free(&j);
	/* job 3: canceled; job 4 stays queued */
	FUZZ_ASSERT(catalog_job_cancel(c, 3, NULL) == SC_OK);
	app_event(a, c, EV_JOB_DONE, 1, 1, NULL);
	app_event(a, c, EV_JOB_FAILED, 2, 2, NULL);
	FUZZ_ASSERT(app_write_end(a) == SC_OK);
	snprintf(path, sizeof(path), "%s/snapshots/1/1", fz.tmpl);
	FUZZ_ASSERT(store_mkdirs(path, NULL, 0) == SC_OK);
	snprintf(path, sizeof(path), "%s/snapshots/1/1/page.png", fz.tmpl);
	fuzz_write(path, fuzz_png_2x2, sizeof(fuzz_png_2x2));
	snprintf(path, sizeof(path), "%s/snapshots/1/1/thumb.png", fz.tmpl);
	fuzz_write(path, fuzz_png_2x2, sizeof(fuzz_png_2x2));
	snprintf(path, sizeof(path), "%s/snapshots/1/1/page.mhtml", fz.tmpl);
	fuzz_write(path, fuzz_mhtml, sizeof(fuzz_mhtml) - 1);
}

static void fuzz_seed(void)
{
	static const char *const links[] = {
		"{\"url\":\"https://example.com/\",\"tags\":[\"news\",\"tech\"]}",
		("{\"url\":\"http://dead.example/\",\"tags\":[\"news\"],"
		 "\"options\":{\"width\":800,\"mhtml\":false}}"),
		"{\"url\":\"https://example.org/a?b=c\",\"tags\":[\"Read Later\"]}",
		"{\"url\":\"https://example.net/\"}",
	};
	struct app *a = fuzz_app_open(fz.tmpl, 1);
	for (size_t i = 0; i < 4; i++)
		FUZZ_ASSERT(fuzz_call(a, HTTP_POST, "/api/links", links[i],
				      NULL) == 201);
	FUZZ_ASSERT(fuzz_call(a, HTTP_PATCH, "/api/links/3",
			      "{\"title\":\"Kept title\"}", NULL) == 200);
	fuzz_seed_snapshots(a);
	fuzz_app_close(&a);
}

/* Remove the directories left by runs that crashed (an abort skips the
 * atexit cleanup): snapcat-<name>-<pid>-* of a pid that is gone. */
static void fuzz_sweep(const char *tmp)
{
	DIR *d = opendir(tmp);
	char path[512];
	for (struct dirent *e; d && (e = readdir(d));) {
		long pid = 0;
		int n = 0;
		if (sscanf(e->d_name, "snapcat-" FUZZ_NAME "-%ld-%n", &pid, &n) != 1 ||
		    !n || pid <= 0 || !(kill((pid_t)pid, 0) && errno == ESRCH))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		(void)!sc_remove_tree(path);
	}
	if (d)
		closedir(d);
}

/* Once: the loop and the template. Lazily from the first input, so that
 * replay.c (which has no LLVMFuzzerInitialize) works the same. */
FUZZ_FN void fuzz_env_init(void)
{
	if (fz.ready)
		return;
	sc_log_set_level(SC_LOG_ERROR);
	const char *tmp = getenv("TMPDIR");
	tmp = tmp && *tmp ? tmp : "/tmp";
	fuzz_sweep(tmp);
	snprintf(fz.root, sizeof(fz.root), "%s/snapcat-" FUZZ_NAME "-%ld-XXXXXX",
		 tmp, (long)getpid());
	FUZZ_ASSERT(mkdtemp(fz.root));
	fz.ready = 1;
	atexit(fuzz_cleanup);
	snprintf(fz.tmpl, sizeof(fz.tmpl), "%s/template", fz.root);
	snprintf(fz.work, sizeof(fz.work), "%s/work", fz.root);
	struct loop_opts lo = {.workers = 1};
	FUZZ_ASSERT(loop_create(&lo, &fz.loop) == SC_OK);
	FUZZ_ASSERT(store_mkdirs(fz.tmpl, NULL, 0) == SC_OK);
	fuzz_seed();
}

/* work/ as template/ was. */
FUZZ_FN void fuzz_env_reset(void)
{
	char src[512], dst[512];
	FUZZ_ASSERT(sc_remove_tree(fz.work) == SC_OK);
	/* plain mkdir: store_mkdirs fsyncs every parent it adds to */
	static const char *const dirs[] = {"", "/snapshots", "/snapshots/1",
					   "/snapshots/1/1"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(dst, sizeof(dst), "%s%s", fz.work, dirs[i]);
		FUZZ_ASSERT(mkdir(dst, 0755) == 0);
	}
	for (size_t i = 0; i < sizeof(fuzz_files) / sizeof(fuzz_files[0]); i++) {
		snprintf(src, sizeof(src), "%s/%s", fz.tmpl, fuzz_files[i]);
		snprintf(dst, sizeof(dst), "%s/%s", fz.work, fuzz_files[i]);
		fuzz_copy(src, dst);
	}
}

/* The app for an input, over a data directory as template/ was. */
FUZZ_FN struct app *fuzz_app_get(int allow_private)
{
	if (fz_app && !fz_dirty && fz_app_private == allow_private)
		return fz_app;
	if (fz_app)
		fuzz_app_close(&fz_app);
	fuzz_env_reset();
	fz_app = fuzz_app_open(fz.work, allow_private);
	fz_app_private = allow_private;
	fz_dirty = 0;
	return fz_app;
}

/* This input may have changed the catalog or the files. */
FUZZ_FN void fuzz_app_dirty(void) { fz_dirty = 1; }

/* ---- requests written as text (fuzz_api.c, fuzz_http.c) ---- */

/* The query q (len bytes after the '?') into req->args, as server.c gets
 * it from lws: "name=value" pairs split at '&', a name alone has the value
 * "", at most HTTP_ARGS_MAX. */
FUZZ_FN void fuzz_req_args(struct http_req *req, const char *q, size_t len)
{
	const char *end = q + len;
	while (q < end && req->nargs < HTTP_ARGS_MAX) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *e = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(e - q));
		struct http_arg *a = &req->args[req->nargs++];
		a->name = sc_xstrndup(q, (size_t)((eq ? eq : e) - q));
		a->value = eq ? sc_xstrndup(eq + 1, (size_t)(e - eq - 1))
			      : sc_xstrdup("");
		q = amp ? amp + 1 : end;
	}
}

/* The header line [line, line + len) split at its first ':' into a name
 * (*nl bytes from line) and a value (*v, *vl bytes) without the leading
 * bytes found in ws. -1 when there is no ':'. */
FUZZ_FN int fuzz_header_split(const char *line, size_t len, const char *ws,
			      size_t *nl, const char **v, size_t *vl)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return -1;
	*nl = (size_t)(colon - line);
	*v = colon + 1;
	while (*v < line + len && memchr(ws, **v, strlen(ws)))
		(*v)++;
	*vl = (size_t)(line + len - *v);
	return 0;
}

/* A header line's name (nl bytes) and value (vl bytes) into the field of
 * req that holds it, when the handlers read it (Authorization,
 * If-None-Match, Range, Accept, Origin, Last-Event-ID; any case); the last
 * line of a name wins. Other names are left to the caller. */
FUZZ_FN void fuzz_req_header(struct http_req *req, const char *name,
			     size_t nl, const char *v, size_t vl)
{
	static const char *const names[] = {"authorization", "if-none-match",
					    "range", "accept", "origin",
					    "last-event-id"};
	char **fields[] = {&req->auth, &req->if_none_match, &req->range,
			   &req->accept, &req->origin, &req->last_event_id};
	for (size_t i = 0; i < 6; i++)
		if (strlen(names[i]) == nl && !strncasecmp(name, names[i], nl)) {
			free(*fields[i]);
			*fields[i] = sc_xstrndup(v, vl);
		}
}

/* api_dispatch(ctx, req, resp); a request other than GET or HEAD marks
 * the app dirty (fuzz_app_dirty). FUZZ_VERBOSE=1 in the environment
 * prints the request and the start of the answer. */
FUZZ_FN void fuzz_dispatch(struct api_ctx *ctx, struct http_req *req,
			   struct http_resp *resp)
{
	static int verbose = -1;
	if (req->method != HTTP_GET && req->method != HTTP_HEAD)
		fuzz_app_dirty();
	api_dispatch(ctx, req, resp);
	fuzz_committed(ctx->app, resp);
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "%s %s -> %d %.*s\n",
			http_method_name(req->method), req->path, resp->status,
			(int)(resp->body.len > 300 ? 300 : resp->body.len),
			resp->body.data ? resp->body.data : "");
}

/* ---- checks on an answer ---- */

/* Header lines "Name: value\r\n": a token name, no CR/LF in the value. */
FUZZ_FN void fuzz_check_headers(const struct sc_buf *h)
{
	const char *p = h->data ? h->data : "";
	FUZZ_ASSERT(!h->data || strlen(h->data) == h->len);
	while (*p) {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		FUZZ_ASSERT(n > 0 && p[n] == ':' && p[n + 1] == ' ');
		p += n + 2;
		size_t v = strcspn(p, "\r\n");
		FUZZ_ASSERT(p[v] == '\r' && p[v + 1] == '\n');
		p += v + 2;
	}
}

/* Does the header block have a line "name: ..."? */
FUZZ_FN int fuzz_has_header(const struct sc_buf *h, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = h->data; p && *p;) {
		if (!strncasecmp(p, name, nl) && p[nl] == ':')
			return 1;
		const char *e = strstr(p, "\r\n");
		p = e ? e + 2 : "";
	}
	return 0;
}

/* Any answer of api_dispatch: a status 100..599 that is not 500 (else
 * the body is printed and it aborts), and well-formed header lines. */
FUZZ_FN void fuzz_check_status(const struct http_resp *rs)
{
	int st = rs->status;
	if (st < 100 || st > 599 || st == 500) {
		fprintf(stderr, "status %d: %.*s\n", st, (int)rs->body.len,
			rs->body.data ? rs->body.data : "");
		abort();
	}
	fuzz_check_headers(&rs->headers);
}

/* A file answer (rs->fd >= 0): 200 or 206 with a type and no body bytes,
 * total the size of the regular file, [off, off + len) inside it; 200
 * sends all of it, 206 has a Content-Range. */
FUZZ_FN void fuzz_check_file(const struct http_resp *rs)
{
	struct stat st;
	FUZZ_ASSERT(rs->status == 200 || rs->status == 206);
	FUZZ_ASSERT(rs->ctype && rs->body.len == 0);
	FUZZ_ASSERT(fstat(rs->fd, &st) == 0 && S_ISREG(st.st_mode));
	FUZZ_ASSERT(rs->total == (uint64_t)st.st_size);
	FUZZ_ASSERT(rs->off <= rs->total && rs->len <= rs->total - rs->off);
	FUZZ_ASSERT(rs->status == 200 || fuzz_has_header(&rs->headers,
							 "Content-Range"));
	FUZZ_ASSERT(rs->status == 206 || (rs->off == 0 && rs->len == rs->total));
}

/* A JSON text (exactly one value, then only a newline). */
FUZZ_FN cJSON *fuzz_json(const char *s, size_t len)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(s, len, &end, 0);
	if (!j) {
		fprintf(stderr, FUZZ_NAME ": not JSON: %.*s\n", (int)len, s);
		abort();
	}
	while (end < s + len && strchr(" \r\n\t", *end))
		end++;
	FUZZ_ASSERT(end == s + len);
	return j;
}

/* {"error":{"code":"…","message":"…"[,"field":"…"]}} */
FUZZ_FN void fuzz_check_error(const cJSON *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	FUZZ_ASSERT(cJSON_IsObject(e));
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	const cJSON *field = cJSON_GetObjectItemCaseSensitive(e, "field");
	FUZZ_ASSERT(cJSON_IsString(code) && code->valuestring[0]);
	FUZZ_ASSERT(cJSON_IsString(msg) && msg->valuestring[0]);
	FUZZ_ASSERT(!field || (cJSON_IsString(field) && field->valuestring[0]));
}

/* An event line of a harness: "TYPE JOB LINK [JSON object]". Unknown types
 * become job.progress; *fields is the object or NULL (caller owns it).
 * 0 if the line has the three words. */
FUZZ_FN int fuzz_event_line(const char *s, size_t len, const char **type,
			    long long *job, long long *link, cJSON **fields)
{
	static const char *const types[] = {
		"job.queued", "job.started", "job.progress", "job.done",
		"job.failed", "link.updated", "link.deleted"};
	char line[4096], word[32];
	int n = 0;
	*job = *link = 0;
	snprintf(line, sizeof(line), "%.*s", (int)len, s);
	if (sscanf(line, " %31s %lld %lld %n", word, job, link, &n) < 3)
		return -1;
	*type = "job.progress";
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(word, types[i]))
			*type = types[i];
	*fields = n ? cJSON_Parse(line + n) : NULL;
	if (*fields && !cJSON_IsObject(*fields)) {
		cJSON_Delete(*fields);
		*fields = NULL;
	}
	return 0;
}

/* An event line through app_event, in a write unit of its own: 0 with the
 * unit's result in *rc; -1 for a line that is not an event snapcat emits
 * (nothing written). */
FUZZ_FN int fuzz_event_put(struct app *a, const char *s, size_t len,
			   const char **type, long long *job, long long *link,
			   sc_result *rc)
{
	cJSON *f;
	if (fuzz_event_line(s, len, type, job, link, &f))
		return -1;
	enum evtype et = evtype_parse(*type);
	if (et == EV__COUNT) { /* not a type snapcat emits */
		cJSON_Delete(f);
		return -1;
	}
	struct catalog *c = app_write_begin(a);
	app_event(a, c, et, *job, *link, f);
	*rc = app_write_end(a);
	return 0;
}

#endif
