/*
 * test_server.c — `snapcat serve` end to end: the real binary, a real
 * Chromium it launches, the real SQLite file, real sockets, pages from the
 * fixture server.
 *
 *   links: add (normalised, deduped, tagged) -> job runs -> snapshot files
 *   (png/thumb/mhtml with types, ETag, Range) -> list filters, search,
 *   cursor -> tags rename/merge/delete -> patch -> delete removes files
 *   bad input: JSON, types, sizes, routes, methods, ids, traversal
 *   jobs: cancel a running job, retry it; auth by token
 *   restarts: kill -9 mid-job -> the job runs again and finishes once;
 *   SIGTERM lets a running job finish; a short grace re-queues it
 *   limits: --max-file (too_large, the other outputs kept); disk full (a
 *   1 MiB tmpfs under snapshots/, filled): the job fails with io and the
 *   message, /healthz is degraded, the server keeps serving, "retry
 *   failed" by class finishes it once there is room again; the whole data
 *   directory on a full tmpfs (the catalog's COMMIT fails too): job ends
 *   wait, nothing stays running once there is room, metrics agree
 *   events the catalog cannot store still reach live subscribers
 *   retry-failed retries each link's newest job only; ERR_UNSAFE_PORT is
 *   blocked; a graceful stop gives the attempt back
 */
#include <errno.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fixture.h"
#include "srv_harness.h"
#include "testhelp.h"

static struct fixture F;
static struct srv S;
static char Data[256];

/* The fixture server's URL of path. */
static const char *fx(const char *path)
{
	return srv_fx(&F, path);
}

/* POST /api/links {url, tags}; returns the status, fills ids. */
static long add_link(const char *url, const char *tags_json, long long *link,
		     long long *job)
{
	char body[2048];
	struct srv_resp r;
	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"tags\":%s}", url,
		 tags_json ? tags_json : "[]");
	long st = srv_req(&S, "POST", "/api/links", body, NULL, &r);
	if (link)
		*link = (long long)srv_jnum(r.json, "link.id");
	if (job)
		*job = (long long)srv_jnum(r.json, "job.id");
	srv_resp_free(&r);
	return st;
}

static int file_exists(const char *rel)
{
	char p[1024];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", Data, rel);
	return stat(p, &st) == 0;
}

/* One GET of path with "Range: <range>": the status; the body's length
 * in *len. */
static long get_range(const char *path, const char *range, size_t *len,
		      char *cr, size_t crlen)
{
	char h[128];
	struct srv_resp r;
	snprintf(h, sizeof(h), "Range: %s", range);
	long st = srv_req(&S, "GET", path, NULL, (const char *[]){h, NULL}, &r);
	*len = r.body.len;
	snprintf(cr, crlen, "%s", srv_header(&r, "Content-Range"));
	srv_resp_free(&r);
	return st;
}

/* RFC 9110 ranges on a file of full bytes: invalid ones and several
 * ranges get the whole file (200); none satisfiable 416 bytes * /full
 * (bytes=--1 was 206 with the whole file: sscanf read -1 as a huge
 * suffix length). */
static void check_ranges(const char *path, size_t full)
{
	static const char *const whole[] = {
		"bytes=--1", "bytes=-+5", "bytes=+1-2", "bytes=5-2", "bytes=",
		"bytes=1-2x", "bytes=a-b", "items=0-1", "bytes=0-1,4-5",
		"bytes 0-1", "bytes=0x10-"};
	size_t len;
	char cr[96], want[96];
	for (size_t i = 0; i < sizeof(whole) / sizeof(*whole); i++) {
		long st = get_range(path, whole[i], &len, cr, sizeof(cr));
		if (st != 200 || len != full)
			fprintf(stderr, "Range: %s -> %ld, %zu of %zu bytes\n",
				whole[i], st, len, full);
		CHECK(st == 200 && len == full);
	}
	CHECK_EQ_INT(get_range(path, "Bytes=0-0", &len, cr, sizeof(cr)), 206);
	CHECK_EQ_INT(len, 1);
	CHECK_EQ_INT(get_range(path, "bytes= 2-3 ,", &len, cr, sizeof(cr)), 206);
	CHECK_EQ_INT(len, 2);
	CHECK_EQ_INT(get_range(path, "bytes=-5", &len, cr, sizeof(cr)), 206);
	snprintf(want, sizeof(want), "bytes %zu-%zu/%zu", full - 5, full - 1, full);
	CHECK_STR(cr, want);
	CHECK_EQ_INT(get_range(path, "bytes=0-99999999999999999999999", &len, cr,
			       sizeof(cr)), 206);
	CHECK_EQ_INT(len, full);
	snprintf(want, sizeof(want), "bytes */%zu", full);
	CHECK_EQ_INT(get_range(path, "bytes=-0", &len, cr, sizeof(cr)), 416);
	CHECK_STR(cr, want);
	CHECK_EQ_INT(get_range(path, "bytes=99999999-,88888888-99999999", &len, cr,
			       sizeof(cr)), 416);
	CHECK_EQ_INT(get_range(path, "bytes=99999999999999999999999-", &len, cr,
			       sizeof(cr)), 416);
	CHECK_STR(cr, want);
}

TEST(add_capture_and_files)
{
	long long link, job, link2, job2;
	CHECK_EQ_INT(add_link(fx("/tall?h=5000"), "[\"Docs\",\" Test \"]",
			      &link, &job), 201);
	REQUIRE(link > 0 && job > 0);
	/* the same URL, spelled differently: same link, new job */
	char alt[512];
	snprintf(alt, sizeof(alt), "HTTP://127.0.0.1:%d/tall?h=5000#frag", F.port);
	CHECK_EQ_INT(add_link(alt, "[\"docs\"]", &link2, &job2), 200);
	CHECK_EQ_INT(link2, link);
	CHECK(job2 > job);
	cJSON *j = srv_wait_job(&S, job, NULL, 90000, NULL);
	REQUIRE(j);
	CHECK_STR(srv_jstr(j, "state"), "done");
	long long snap = (long long)srv_jnum(j, "snapshot_id");
	cJSON_Delete(j);
	cJSON_Delete(srv_wait_job(&S, job2, NULL, 90000, NULL));
	REQUIRE(snap > 0);

	struct srv_resp r;
	char path[128];
	snprintf(path, sizeof(path), "/api/links/%lld", link);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 200);
	CHECK_STR(srv_jstr(r.json, "title"), "Tall page 5000");
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "tags")), 2);
	CHECK_EQ_INT(srv_jnum(r.json, "last_snapshot.height"), 5000);
	srv_resp_free(&r);

	snprintf(path, sizeof(path), "/api/snapshots/%lld/png", snap);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 200);
	CHECK_STR(srv_header(&r, "Content-Type"), "image/png");
	CHECK(r.body.len > 1000 && !memcmp(r.body.data, "\x89PNG", 4));
	char etag[128], inm[160];
	snprintf(etag, sizeof(etag), "%s", srv_header(&r, "ETag"));
	size_t full = r.body.len;
	srv_resp_free(&r);
	CHECK(etag[0] == '"');
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL,
			     (const char *[]){inm, NULL}, &r), 304);
	CHECK_EQ_INT(r.body.len, 0);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL,
			     (const char *[]){"Range: bytes=10-19", NULL}, &r), 206);
	CHECK_EQ_INT(r.body.len, 10);
	char cr[64];
	snprintf(cr, sizeof(cr), "bytes 10-19/%zu", full);
	CHECK_STR(srv_header(&r, "Content-Range"), cr);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL,
			     (const char *[]){"Range: bytes=999999999-", NULL}, &r),
		     416);
	snprintf(cr, sizeof(cr), "bytes */%zu", full);
	CHECK_STR(srv_header(&r, "Content-Range"), cr);
	srv_resp_free(&r);
	check_ranges(path, full);

	snprintf(path, sizeof(path), "/api/snapshots/%lld/thumb.png", snap);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 200);
	CHECK_STR(srv_header(&r, "Content-Type"), "image/png");
	srv_resp_free(&r);
	snprintf(path, sizeof(path), "/api/snapshots/%lld/mhtml", snap);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 200);
	CHECK(strstr(srv_header(&r, "Content-Disposition"), "attachment") != NULL);
	CHECK(strstr(r.body.data, "multipart/related") != NULL);
	srv_resp_free(&r);
}

TEST(bad_input)
{
	struct srv_resp r;
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/links", "{not json", NULL, &r), 400);
	CHECK_STR(srv_jstr(r.json, "error.code"), "bad_json");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/links", "{\"url\":5}", NULL, &r), 400);
	CHECK_STR(srv_jstr(r.json, "error.field"), "url");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/links", "{}", NULL, &r), 400);
	CHECK_STR(srv_jstr(r.json, "error.code"), "missing_field");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/links",
			     "{\"url\":\"http://x.example/\",\"tags\":\"a\"}",
			     NULL, &r), 400);
	CHECK_STR(srv_jstr(r.json, "error.field"), "tags");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/links",
			     "{\"url\":\"javascript:alert(1)\"}", NULL, &r), 400);
	CHECK_STR(srv_jstr(r.json, "error.code"), "invalid_url");
	srv_resp_free(&r);
	char *big = malloc(2 << 20);
	memset(big, 'a', (2 << 20) - 1);
	big[(2 << 20) - 1] = 0;
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/links", big, NULL, &r), 413);
	srv_resp_free(&r);
	free(big);
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/nothing", NULL, NULL, &r), 404);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "PUT", "/api/links", "{}", NULL, &r), 405);
	CHECK(strstr(srv_header(&r, "Allow"), "POST") != NULL);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/links/999999", NULL, NULL, &r), 404);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/snapshots/abc/png", NULL, NULL, &r), 404);
	srv_resp_free(&r);
	long st = srv_req(&S, "GET", "/api/snapshots/1/../../../etc/passwd", NULL,
			  NULL, &r);
	CHECK(st == 404 || st == 400 || st == 403);
	CHECK(!r.body.data || !strstr(r.body.data, "root:"));
	srv_resp_free(&r);
	st = srv_req(&S, "GET", "/..%2f..%2f..%2fetc%2fpasswd", NULL, NULL, &r);
	CHECK(st == 404 || st == 400 || st == 403);
	CHECK(!r.body.data || !strstr(r.body.data, "root:"));
	srv_resp_free(&r);
	/* nothing half-written: the failed adds left no link behind */
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/links?q=x.example", NULL, NULL, &r), 200);
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 0);
	srv_resp_free(&r);
}

static int list_count(const char *query)
{
	struct srv_resp r;
	char path[512];
	snprintf(path, sizeof(path), "/api/links?%s", query);
	srv_req(&S, "GET", path, NULL, NULL, &r);
	int n = r.status == 200
			? cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items"))
			: -1;
	srv_resp_free(&r);
	return n;
}

TEST(tags_search_and_paging)
{
	long long a, b, c, ja, jb, jc;
	CHECK_EQ_INT(add_link(fx("/text?w=zebracorn"), "[\"alpha\",\"common\"]", &a, &ja), 201);
	CHECK_EQ_INT(add_link(fx("/text?w=quokkafish"), "[\"Beta\",\"common\"]", &b, &jb), 201);
	CHECK_EQ_INT(add_link(fx("/title?t=Gamma+page"), "[\"gamma\"]", &c, &jc), 201);
	cJSON_Delete(srv_wait_job(&S, ja, NULL, 90000, NULL));
	cJSON_Delete(srv_wait_job(&S, jb, NULL, 90000, NULL));
	cJSON_Delete(srv_wait_job(&S, jc, NULL, 90000, NULL));
	CHECK_EQ_INT(list_count("tag=common"), 2);
	CHECK_EQ_INT(list_count("tag=common&tag=alpha"), 1);
	CHECK_EQ_INT(list_count("tag=alpha&tag=gamma&match=any"), 2);
	CHECK_EQ_INT(list_count("q=quokkafish"), 1); /* page text */
	CHECK_EQ_INT(list_count("q=gamma"), 1);      /* title */
	CHECK_EQ_INT(list_count("match=some"), -1);

	/* paging: limit 2, follow the cursor, each link once */
	struct srv_resp r;
	int seen = 0, pages = 0;
	char path[256] = "/api/links?limit=2";
	while (pages++ < 10) {
		srv_req(&S, "GET", path, NULL, NULL, &r);
		seen += cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items"));
		const char *cur = srv_jstr(r.json, "next_cursor");
		if (cur)
			snprintf(path, sizeof(path), "/api/links?limit=2&cursor=%s", cur);
		srv_resp_free(&r);
		if (!cur)
			break;
	}
	CHECK_EQ_INT(seen, 4); /* tall + the three above */

	/* tags: counts, rename, merge, delete */
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/tags", NULL, NULL, &r), 200);
	CHECK(strstr(r.body.data, "{\"name\":\"common\",\"count\":2}") != NULL);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "PATCH", "/api/tags/beta", "{\"name\":\"Alpha\"}",
			     NULL, &r), 200);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "merged")));
	srv_resp_free(&r);
	CHECK_EQ_INT(list_count("tag=alpha"), 2);
	CHECK_EQ_INT(srv_req(&S, "DELETE", "/api/tags/common", NULL, NULL, &r), 204);
	srv_resp_free(&r);
	CHECK_EQ_INT(list_count("tag=common"), 0);
	CHECK_EQ_INT(srv_req(&S, "DELETE", "/api/tags/common", NULL, NULL, &r), 404);
	srv_resp_free(&r);

	/* patch title and tags */
	snprintf(path, sizeof(path), "/api/links/%lld", c);
	CHECK_EQ_INT(srv_req(&S, "PATCH", path,
			     "{\"title\":\"My title\",\"tags\":[\"x\",\"Y\"]}",
			     NULL, &r), 200);
	CHECK_STR(srv_jstr(r.json, "title"), "My title");
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "tags")), 2);
	srv_resp_free(&r);

	/* delete removes the files */
	char rel[128];
	snprintf(rel, sizeof(rel), "snapshots/%lld", c);
	CHECK(file_exists(rel));
	CHECK_EQ_INT(srv_req(&S, "DELETE", path, NULL, NULL, &r), 204);
	srv_resp_free(&r);
	CHECK(!file_exists(rel));
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 404);
	srv_resp_free(&r);
}

TEST(cancel_and_retry)
{
	long long link, job;
	CHECK_EQ_INT(add_link(fx("/hold?ms=120000"), NULL, &link, &job), 201);
	cJSON_Delete(srv_wait_job(&S, job, "running", 60000, NULL));
	struct srv_resp r;
	char path[128];
	snprintf(path, sizeof(path), "/api/jobs/%lld/cancel", job);
	CHECK_EQ_INT(srv_req(&S, "POST", path, NULL, NULL, &r), 200);
	CHECK_STR(srv_jstr(r.json, "state"), "canceled");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "POST", path, NULL, NULL, &r), 200); /* again */
	srv_resp_free(&r);
	snprintf(path, sizeof(path), "/api/jobs/%lld/retry", job);
	CHECK_EQ_INT(srv_req(&S, "POST", path, NULL, NULL, &r), 200);
	CHECK_STR(srv_jstr(r.json, "state"), "queued");
	srv_resp_free(&r);
	cJSON_Delete(srv_wait_job(&S, job, "running", 60000, NULL));
	snprintf(path, sizeof(path), "/api/jobs/%lld/cancel", job);
	CHECK_EQ_INT(srv_req(&S, "POST", path, NULL, NULL, &r), 200);
	srv_resp_free(&r);
	snprintf(path, sizeof(path), "/api/jobs/%lld/cancel", 99999LL);
	CHECK_EQ_INT(srv_req(&S, "POST", path, NULL, NULL, &r), 404);
	srv_resp_free(&r);
	/* the browser is free again: a new capture goes through */
	CHECK_EQ_INT(add_link(fx("/final"), NULL, &link, &job), 201);
	cJSON *j = srv_wait_job(&S, job, NULL, 90000, NULL);
	CHECK_STR(srv_jstr(j, "state"), "done");
	cJSON_Delete(j);
}

TEST(token_auth)
{
	struct srv t;
	char dir[300];
	snprintf(dir, sizeof(dir), "%s-auth", Data);
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--token", "s3cret", NULL}));
	struct srv_resp r;
	CHECK_EQ_INT(srv_req(&t, "GET", "/api/links", NULL, NULL, &r), 401);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&t, "GET", "/api/links", NULL,
			     (const char *[]){"Authorization: Bearer nope", NULL},
			     &r), 401);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&t, "GET", "/api/links", NULL,
			     (const char *[]){"Authorization: Bearer s3cret", NULL},
			     &r), 200);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&t, "GET", "/api/links?token=s3cret", NULL, NULL, &r), 200);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&t, "GET", "/", NULL, NULL, &r), 200); /* admin page */
	CHECK(r.body.data && strstr(r.body.data, "<html") != NULL);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
}

/* A port Chromium refuses by itself (1: tcpmux) fails as blocked with a
 * sentence that names the port, not as a bare navigation error. */
TEST(unsafe_port)
{
	long long link, job;
	CHECK_EQ_INT(add_link("http://127.0.0.1:1/", NULL, &link, &job), 201);
	cJSON *j = srv_wait_job(&S, job, NULL, 90000, NULL);
	REQUIRE(j);
	CHECK_STR(srv_jstr(j, "state"), "failed");
	CHECK_STR(srv_jstr(j, "error.class"), "blocked");
	const char *msg = srv_jstr(j, "error.message");
	CHECK(msg && strstr(msg, "the browser refuses port 1 (unsafe port"));
	CHECK_EQ_INT(srv_jnum(j, "attempts"), 1); /* not retried */
	cJSON_Delete(j);
}

/* "Retry all failed" retries each link once, its newest job: three broken
 * links captured twice each are three retries, not six. */
TEST(retry_failed_latest_only)
{
	long long link[3], old[3], job[3];
	char url[64];
	for (int i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), "/status?code=500&broken=%d", i);
		CHECK_EQ_INT(add_link(fx(url), "[\"broken3\"]", &link[i], &old[i]), 201);
		cJSON_Delete(srv_wait_job(&S, old[i], NULL, 90000, NULL));
		CHECK_EQ_INT(add_link(fx(url), "[\"broken3\"]", NULL, &job[i]), 200);
		cJSON *j = srv_wait_job(&S, job[i], NULL, 90000, NULL);
		CHECK_STR(srv_jstr(j, "state"), "failed");
		cJSON_Delete(j);
	}
	struct srv_resp r;
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/jobs/retry-failed",
			     "{\"tag\":\"broken3\"}", NULL, &r), 200);
	CHECK_EQ_INT(srv_jnum(r.json, "retried"), 3);
	srv_resp_free(&r);
	for (int i = 0; i < 3; i++) {
		cJSON *j = srv_wait_job(&S, job[i], NULL, 90000, NULL);
		CHECK_STR(srv_jstr(j, "state"), "failed"); /* ran again */
		cJSON_Delete(j);
		char path[64];
		snprintf(path, sizeof(path), "/api/jobs/%lld", old[i]);
		srv_req(&S, "GET", path, NULL, NULL, &r);
		CHECK_STR(srv_jstr(r.json, "state"), "failed"); /* history */
		CHECK_EQ_INT(srv_jnum(r.json, "attempts"), 1);
		srv_resp_free(&r);
	}
}

/* A full queue answers 503 + Retry-After; "retry all failed" by class. */
TEST(queue_limit_and_retry_failed)
{
	struct srv t;
	char dir[300], body[512];
	snprintf(dir, sizeof(dir), "%s-queue", Data);
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--max-queue", "1",
		"--concurrency", "1", NULL}));
	struct srv_resp r;
	long long j1, j2;
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", fx("/status?code=500"));
	CHECK_EQ_INT(srv_req(&t, "POST", "/api/links", body, NULL, &r), 201);
	j1 = (long long)srv_jnum(r.json, "job.id");
	srv_resp_free(&r);
	cJSON *j = srv_wait_job(&t, j1, NULL, 90000, NULL);
	CHECK_STR(srv_jstr(j, "state"), "failed");
	CHECK_STR(srv_jstr(j, "error.class"), "http_status");
	cJSON_Delete(j);
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", fx("/hold?ms=60000"));
	CHECK_EQ_INT(srv_req(&t, "POST", "/api/links", body, NULL, &r), 201);
	j2 = (long long)srv_jnum(r.json, "job.id");
	srv_resp_free(&r);
	cJSON_Delete(srv_wait_job(&t, j2, "running", 60000, NULL));
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", fx("/final?q=1"));
	CHECK_EQ_INT(srv_req(&t, "POST", "/api/links", body, NULL, &r), 201);
	srv_resp_free(&r); /* queued: 1 */
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", fx("/final?q=2"));
	CHECK_EQ_INT(srv_req(&t, "POST", "/api/links", body, NULL, &r), 503);
	CHECK_STR(srv_header(&r, "Retry-After"), "30");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&t, "POST", "/api/jobs/retry-failed",
			     "{\"class\":\"dns\"}", NULL, &r), 200);
	CHECK_EQ_INT(srv_jnum(r.json, "retried"), 0);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&t, "POST", "/api/jobs/retry-failed",
			     "{\"class\":\"http_status\"}", NULL, &r), 200);
	CHECK_EQ_INT(srv_jnum(r.json, "retried"), 1);
	srv_resp_free(&r);
	char path[64];
	snprintf(path, sizeof(path), "/api/jobs/%lld", j1);
	srv_req(&t, "GET", path, NULL, NULL, &r);
	CHECK_STR(srv_jstr(r.json, "state"), "queued");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_stop(&t, SIGKILL), 128 + SIGKILL);
}

/* POST /api/links {url} on server t; returns the job id (0 on error). */
static long long t_add(struct srv *t, const char *url)
{
	char body[1024];
	struct srv_resp r;
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	srv_req(t, "POST", "/api/links", body, NULL, &r);
	long long job = (long long)srv_jnum(r.json, "job.id");
	srv_resp_free(&r);
	return job > 0 ? job : 0;
}

/* Fill the file system of dir: one file written until ENOSPC. */
static int fill_disk(const char *path)
{
	static char block[65536];
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	setvbuf(f, NULL, _IONBF, 0);
	while (fwrite(block, 1, sizeof(block), f) == sizeof(block))
		;
	while (fwrite(block, 1, 512, f) == 512)
		;
	int full = errno == ENOSPC;
	fclose(f);
	return full ? 0 : -1;
}

/* The snapshot of a finished job (caller deletes), by its link. */
static cJSON *job_snapshot(struct srv *t, const cJSON *job)
{
	char path[96];
	struct srv_resp r;
	snprintf(path, sizeof(path), "/api/links/%lld/snapshots",
		 (long long)srv_jnum(job, "link_id"));
	srv_req(t, "GET", path, NULL, NULL, &r);
	cJSON *it = cJSON_DetachItemFromArray(cJSON_GetObjectItem(r.json, "items"), 0);
	srv_resp_free(&r);
	return it;
}

/* GET path on the fixture server (e.g. /gate?open=K); the status. */
static long fx_get(const char *path)
{
	struct srv f = {0};
	struct srv_resp r;
	snprintf(f.base, sizeof(f.base), "http://127.0.0.1:%d", F.port);
	long st = srv_req(&f, "GET", path, NULL, NULL, &r);
	srv_resp_free(&r);
	return st;
}

/* Wait up to ms for /healthz's status to be want; the last answer's
 * reason goes to reason. 1 if it was. */
static int health_within(struct srv *t, const char *want, int64_t ms,
			 char *reason, size_t len)
{
	int64_t until = sc_now_ms() + ms;
	for (;;) {
		struct srv_resp r;
		srv_req(t, "GET", "/healthz", NULL, NULL, &r);
		const char *st = srv_jstr(r.json, "status");
		const char *why = srv_jstr(r.json, "reason");
		snprintf(reason, len, "%s", why ? why : "");
		int ok = st && !strcmp(st, want);
		srv_resp_free(&r);
		if (ok)
			return 1;
		if (sc_now_ms() > until) {
			fprintf(stderr, "healthz: not %s after %lld ms (%s)\n",
				want, (long long)ms, reason);
			return 0;
		}
		poll(NULL, 0, 100);
	}
}

/* A sample's value in GET /metrics (the line that starts with "sample "),
 * or -1. */
static double metric(struct srv *t, const char *sample)
{
	struct srv_resp r;
	double v = -1;
	size_t n = strlen(sample);
	srv_req(t, "GET", "/metrics", NULL, NULL, &r);
	for (const char *p = r.body.data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, sample, n) && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	srv_resp_free(&r);
	return v;
}

/* Wait up to ms for a metric to be v. */
static int metric_within(struct srv *t, const char *sample, double v,
			 int64_t ms)
{
	int64_t until = sc_now_ms() + ms;
	while (metric(t, sample) != v) {
		if (sc_now_ms() > until) {
			fprintf(stderr, "%s: %g, not %g after %lld ms\n", sample,
				metric(t, sample), v, (long long)ms);
			return 0;
		}
		poll(NULL, 0, 200);
	}
	return 1;
}

/* PNG over --max-file: not written, too_large, not retried; MHTML and
 * thumbnail kept. */
static void check_max_file(struct srv *t)
{
	cJSON *j = srv_wait_job(t, t_add(t, fx("/tall?h=9000")), NULL, 90000, NULL);
	REQUIRE(j);
	CHECK_STR(srv_jstr(j, "state"), "failed");
	CHECK_STR(srv_jstr(j, "error.class"), "too_large");
	const char *msg = srv_jstr(j, "error.message");
	CHECK(msg && strstr(msg, "--max-file"));
	CHECK_EQ_INT(srv_jnum(j, "attempts"), 1);
	cJSON *sn = job_snapshot(t, j);
	CHECK_STR(srv_jstr(sn, "outputs.png"), "failed");
	CHECK_STR(srv_jstr(sn, "outputs.mhtml"), "ok");
	CHECK_STR(srv_jstr(sn, "outputs.thumb"), "ok");
	struct srv_resp r;
	CHECK_EQ_INT(srv_req(t, "GET", srv_jstr(sn, "mhtml_url"), NULL, NULL, &r), 200);
	srv_resp_free(&r);
	cJSON_Delete(sn);
	cJSON_Delete(j);
}

/* The disk is full: the job fails with io and why; the rest still works;
 * once there is room, retry-failed by class finishes it. */
static void check_disk_full(struct srv *t, const char *filler)
{
	REQUIRE(!fill_disk(filler));
	long long id = t_add(t, fx("/text?w=diskfull"));
	cJSON *j = srv_wait_job(t, id, NULL, 90000, NULL);
	REQUIRE(j);
	CHECK_STR(srv_jstr(j, "state"), "failed");
	CHECK_STR(srv_jstr(j, "error.class"), "io");
	const char *msg = srv_jstr(j, "error.message");
	CHECK(msg && strstr(msg, "No space left on device"));
	cJSON_Delete(j);
	struct srv_resp r;
	char why[1024];
	CHECK(health_within(t, "degraded", 10000, why, sizeof(why)));
	CHECK(strstr(why, "data directory not writable") &&
	      strstr(why, "No space left on device"));
	CHECK_EQ_INT(srv_req(t, "GET", "/healthz", NULL, NULL, &r), 200);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(t, "GET", "/api/links?limit=10", NULL, NULL, &r), 200);
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 3);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(t, "GET", "/", NULL, NULL, &r), 200);
	srv_resp_free(&r);
	unlink(filler);
	CHECK(health_within(t, "ok", 15000, why, sizeof(why)));
	CHECK_EQ_INT(srv_req(t, "POST", "/api/jobs/retry-failed",
			     "{\"class\":\"io\"}", NULL, &r), 200);
	CHECK_EQ_INT(srv_jnum(r.json, "retried"), 1);
	srv_resp_free(&r);
	j = srv_wait_job(t, id, NULL, 90000, NULL);
	CHECK_STR(srv_jstr(j, "state"), "done");
	cJSON_Delete(j);
}

TEST(limits_file_size_and_disk_full)
{
	char dir[300], snaps[340], filler[360];
	snprintf(dir, sizeof(dir), "%s-disk", Data);
	snprintf(snaps, sizeof(snaps), "%s/snapshots", dir);
	snprintf(filler, sizeof(filler), "%s/filler", snaps);
	REQUIRE(!mkdir(dir, 0755) && !mkdir(snaps, 0755));
	if (mount("tmpfs", snaps, "tmpfs", 0, "size=1m")) {
		fprintf(stderr, "cannot mount a tmpfs: %s\n", strerror(errno));
		SKIP("disk full needs a tmpfs: run as root with CAP_SYS_ADMIN");
	}
	struct srv t;
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--max-file", "50k",
		"--attempts", "1", NULL}));
	cJSON *j = srv_wait_job(&t, t_add(&t, fx("/final")), NULL, 90000, NULL);
	CHECK_STR(srv_jstr(j, "state"), "done");
	cJSON_Delete(j);
	check_max_file(&t);
	check_disk_full(&t, filler);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
	CHECK(!umount2(snaps, MNT_DETACH));
}

/* Both jobs' ends refused: each is running in the catalog and in the
 * scheduler (the metrics agree), and /healthz says why. */
static void check_ends_waiting(struct srv *t, const long long job[2])
{
	char why[1024];
	CHECK(metric_within(t, "snapcat_job_ends_waiting", 2, 60000));
	CHECK(health_within(t, "degraded", 10000, why, sizeof(why)));
	CHECK(strstr(why, "No space left on device") != NULL);
	CHECK(strstr(why, "catalog not writable") != NULL);
	CHECK(strstr(why, "2 job ends wait for the catalog") != NULL);
	CHECK_EQ_INT(metric(t, "snapcat_jobs{state=\"running\"}"), 2);
	CHECK_EQ_INT(metric(t, "snapcat_jobs_running"), 2);
	CHECK_EQ_INT(metric(t, "snapcat_storage_degraded"), 1);
	for (int i = 0; i < 2; i++) {
		char path[64];
		struct srv_resp r;
		snprintf(path, sizeof(path), "/api/jobs/%lld", job[i]);
		srv_req(t, "GET", path, NULL, NULL, &r);
		CHECK_STR(srv_jstr(r.json, "state"), "running");
		srv_resp_free(&r);
	}
}

/* The whole data directory (catalog included) on a 24 MiB tmpfs, filled
 * while two jobs run: the PNG writes fail, then the catalog refuses the
 * COMMIT of their ends. Nothing is forgotten: both stay running in the
 * catalog and in the scheduler until space comes back, then their ends
 * are written (io, retried with back-off) and they finish, without a
 * restart; /healthz is degraded then ok; the metrics agree throughout. */
TEST(disk_full_catalog)
{
	char dir[300], filler[340], why[1024];
	snprintf(dir, sizeof(dir), "%s-full", Data);
	snprintf(filler, sizeof(filler), "%s/filler", dir);
	REQUIRE(!mkdir(dir, 0755));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=24m")) {
		fprintf(stderr, "SKIP disk full: cannot mount a tmpfs (%s); "
			"run as root with CAP_SYS_ADMIN\n", strerror(errno));
		return;
	}
	struct srv t;
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--concurrency", "2", NULL}));
	cJSON *j = srv_wait_job(&t, t_add(&t, fx("/final?full=1")), NULL, 90000, NULL);
	CHECK_STR(srv_jstr(j, "state"), "done");
	cJSON_Delete(j);
	long long job[2] = {t_add(&t, fx("/gate?id=501")), t_add(&t, fx("/gate?id=502"))};
	for (int i = 0; i < 2; i++)
		cJSON_Delete(srv_wait_job(&t, job[i], "running", 60000, NULL));
	REQUIRE(!fill_disk(filler));
	CHECK_EQ_INT(fx_get("/gate?open=501"), 200);
	CHECK_EQ_INT(fx_get("/gate?open=502"), 200);
	check_ends_waiting(&t, job);
	unlink(filler);
	CHECK(health_within(&t, "ok", 15000, why, sizeof(why)));
	for (int i = 0; i < 2; i++) {
		j = srv_wait_job(&t, job[i], NULL, 90000, NULL);
		CHECK_STR(srv_jstr(j, "state"), "done"); /* after an io retry */
		CHECK_EQ_INT(srv_jnum(j, "attempts"), 2);
		cJSON_Delete(j);
	}
	CHECK(metric_within(&t, "snapcat_jobs{state=\"running\"}", 0, 10000));
	CHECK_EQ_INT(metric(&t, "snapcat_jobs_running"), 0);
	CHECK_EQ_INT(metric(&t, "snapcat_job_ends_waiting"), 0);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
	CHECK(!umount2(dir, MNT_DETACH));
}

/* Run sql on the server's catalog from outside (fault injection). */
static int catalog_sql(const char *data, const char *sql)
{
	char path[400];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/catalog.db", data);
	int r = sqlite3_open(path, &db);
	if (r == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		r = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return r;
}

/* The id of the SSE frame "id: N\nevent: type" in text, 0 if none. */
static long long sse_id(const char *text, const char *type)
{
	char want[64];
	snprintf(want, sizeof(want), "\nevent: %s\n", type);
	const char *e = text ? strstr(text, want) : NULL;
	const char *id = e;
	while (id && id > text && id[-1] != '\n')
		id--;
	while (id && id > text && strncmp(id, "id: ", 4))
		for (id--; id > text && id[-1] != '\n'; id--)
			;
	return id && !strncmp(id, "id: ", 4) ? strtoll(id + 4, NULL, 10) : 0;
}

/* While the events table cannot be written (here a trigger refuses every
 * insert, as a full disk refuses a COMMIT), events still reach live
 * subscribers, job.failed included, with ids above every id given; they
 * are missing from replays (a gap), and stored events go on after them. */
TEST(events_live_when_not_stored)
{
	REQUIRE(catalog_sql(Data, "CREATE TRIGGER test_refuse_events BEFORE "
			    "INSERT ON events BEGIN SELECT RAISE(FAIL, "
			    "'database or disk is full (test)'); END") == SQLITE_OK);
	char body[512];
	struct srv_resp r;
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}",
		 fx("/status?code=500&unstored=1"));
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/snapshots", body,
			     (const char *[]){"Accept: text/event-stream", NULL},
			     &r), 200);
	long long failed = sse_id(r.body.data, "job.failed");
	CHECK(failed > 0);
	CHECK(r.body.data && strstr(r.body.data, "data: [DONE]"));
	srv_resp_free(&r);
	REQUIRE(catalog_sql(Data, "DROP TRIGGER test_refuse_events") == SQLITE_OK);
	long long job;
	CHECK_EQ_INT(add_link(fx("/final?after_gap=1"), NULL, NULL, &job), 201);
	char path[96];
	snprintf(path, sizeof(path), "/api/events/poll?after=%lld&timeout=5",
		 failed - 1);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 200);
	cJSON *queued = NULL, *it; /* (a "reset" may come first: ids missed) */
	cJSON_ArrayForEach(it, r.json) {
		CHECK(srv_jnum(it, "id") != failed); /* the gap is not replayed */
		if (!queued && srv_jnum(it, "job") == job)
			queued = it;
	}
	CHECK_STR(srv_jstr(queued, "type"), "job.queued");
	CHECK(srv_jnum(queued, "id") > failed); /* stored ids go on above */
	srv_resp_free(&r);
	cJSON_Delete(srv_wait_job(&S, job, NULL, 90000, NULL));
}

/* --browser twice: a pool of two; two jobs at once run on both. */
TEST(browser_pool)
{
	struct srv t;
	char dir[300];
	snprintf(dir, sizeof(dir), "%s-pool", Data);
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--browser", "auto",
		"--browser", "auto", "--concurrency", "2", NULL}));
	struct srv_resp r;
	long long job[2];
	for (int i = 0; i < 2; i++) {
		char body[256];
		snprintf(body, sizeof(body), "{\"url\":\"%s\"}",
			 fx(i ? "/hold?ms=2000&n=2" : "/hold?ms=2000&n=1"));
		CHECK_EQ_INT(srv_req(&t, "POST", "/api/links", body, NULL, &r), 201);
		job[i] = (long long)srv_jnum(r.json, "job.id");
		srv_resp_free(&r);
	}
	for (int i = 0; i < 2; i++) {
		cJSON *j = srv_wait_job(&t, job[i], NULL, 90000, NULL);
		CHECK_STR(srv_jstr(j, "state"), "done");
		cJSON_Delete(j);
	}
	CHECK_EQ_INT(srv_req(&t, "GET", "/healthz", NULL, NULL, &r), 200);
	CHECK_EQ_INT(srv_jnum(r.json, "browser_starts"), 2);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
}

/* Once job id runs, s stopped by sig (its exit status must be expect) and
 * started again on dir with args. 0 when it is up again. */
static int restart_while_running(struct srv *s, const char *dir, long long job,
				 int sig, int expect, const char *const *args)
{
	cJSON_Delete(srv_wait_job(s, job, "running", 60000, NULL));
	CHECK_EQ_INT(srv_stop(s, sig), expect);
	return srv_start(s, dir, args);
}

/* kill -9 with a job running; the next start runs it again, once. */
TEST(restart_after_kill9)
{
	long long link, job;
	CHECK_EQ_INT(add_link(fx("/hold?ms=4000"), NULL, &link, &job), 201);
	REQUIRE(!restart_while_running(&S, Data, job, SIGKILL, 128 + SIGKILL,
				       NULL));
	cJSON *j = srv_wait_job(&S, job, NULL, 90000, NULL);
	REQUIRE(j);
	CHECK_STR(srv_jstr(j, "state"), "done");
	CHECK_EQ_INT(srv_jnum(j, "attempts"), 2);
	cJSON_Delete(j);
	struct srv_resp r;
	char path[128];
	snprintf(path, sizeof(path), "/api/links/%lld/snapshots", link);
	srv_req(&S, "GET", path, NULL, NULL, &r);
	int ok = 0;
	cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
		ok += !strcmp(srv_jstr(it, "state"), "ok");
	CHECK_EQ_INT(ok, 1);
	srv_resp_free(&r);
}

/* SIGTERM lets a running job finish; with a short grace it is re-queued
 * and the next start finishes it. */
TEST(sigterm_drains)
{
	long long link, job, job2;
	CHECK_EQ_INT(add_link(fx("/hold?ms=3000"), NULL, &link, &job), 201);
	REQUIRE(!restart_while_running(&S, Data, job, SIGTERM, 0,
				       (const char *[]){"--grace", "1", NULL}));
	cJSON *j = srv_wait_job(&S, job, NULL, 5000, NULL);
	CHECK_STR(srv_jstr(j, "state"), "done"); /* finished before the exit */
	cJSON_Delete(j);
	CHECK_EQ_INT(add_link(fx("/hold?ms=60000"), NULL, &link, &job2), 201);
	REQUIRE(!restart_while_running(&S, Data, job2, SIGTERM, 0,
				       (const char *[]){"--concurrency", "1",
							NULL}));
	struct srv_resp r;
	char path[64];
	snprintf(path, sizeof(path), "/api/jobs/%lld", job2);
	srv_req(&S, "GET", path, NULL, NULL, &r);
	const char *st = srv_jstr(r.json, "state");
	CHECK(st && (!strcmp(st, "queued") || !strcmp(st, "running")));
	srv_resp_free(&r);
	snprintf(path, sizeof(path), "/api/jobs/%lld/cancel", job2);
	srv_req(&S, "POST", path, NULL, NULL, &r);
	srv_resp_free(&r);
}

/* A job sent back to the queue by a graceful stop keeps its attempts: with
 * --attempts 1 it runs again after the restart (it used to fail as
 * "interrupted"). */
TEST(sigterm_requeue_keeps_attempts)
{
	struct srv t;
	char dir[300];
	snprintf(dir, sizeof(dir), "%s-requeue", Data);
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--grace", "1",
		"--attempts", "1", NULL}));
	long long job = t_add(&t, fx("/hold?ms=5000&requeue=1"));
	REQUIRE(job > 0);
	REQUIRE(!restart_while_running(&t, dir, job, SIGTERM, 0, NULL));
	cJSON *j = srv_wait_job(&t, job, NULL, 90000, NULL);
	REQUIRE(j);
	CHECK_STR(srv_jstr(j, "state"), "done");
	CHECK_EQ_INT(srv_jnum(j, "attempts"), 1);
	cJSON_Delete(j);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-srv-XXXXXX";
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F) ||
	    srv_start(&S, Data, NULL))
		return 1;
	RUN(add_capture_and_files);
	RUN(bad_input);
	RUN(tags_search_and_paging);
	RUN(cancel_and_retry);
	RUN(unsafe_port);
	RUN(retry_failed_latest_only);
	RUN(events_live_when_not_stored);
	RUN(token_auth);
	RUN(browser_pool);
	RUN(queue_limit_and_retry_failed);
	RUN(limits_file_size_and_disk_full);
	RUN(disk_full_catalog);
	RUN(restart_after_kill9);
	RUN(sigterm_drains);
	RUN(sigterm_requeue_keeps_attempts);
	return srv_test_finish(&S, tmpl, &F);
}
