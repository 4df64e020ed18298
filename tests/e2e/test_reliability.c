/*
 * test_reliability.c — fault injection on `snapcat serve`:
 *
 *   1. kill -9 with N jobs queued or running -> restart -> all N finish,
 *      none finishes twice (one ok snapshot per link), no temp file left,
 *      every PNG on disk decodes, PRAGMA integrity_check is ok.
 *   2. a hostile client: slowloris headers, 10,000 idle connections,
 *      oversized headers, invalid UTF-8 in JSON, a WebSocket client sending
 *      garbage — other clients keep being answered throughout.
 */
#include <dirent.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include "fixture.h"
#include "img.h"
#include "raw_http.h"
#include "srv_harness.h"
#include "testhelp.h"
#include "srv_links.h"

#define JOBS 100

static struct fixture F;
static char Data[256];

/* Files under dir whose name contains ".tmp" (left-over temp files). */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			n += count_tmp(p);
		else if (strstr(e->d_name, ".tmp"))
			n++;
	}
	closedir(d);
	return n;
}

/* Count finished jobs (done or failed) now. */
static int jobs_finished(struct srv *s)
{
	struct srv_resp r;
	int n = 0;
	srv_req(s, "GET", "/api/jobs?state=done&limit=1000", NULL, NULL, &r);
	n += cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items"));
	srv_resp_free(&r);
	return n;
}

static void check_integrity(void)
{
	char path[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof(path), "%s/catalog.db", Data);
	REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) ==
		SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

TEST(kill9_with_jobs_in_flight)
{
	struct srv s;
	REQUIRE(!srv_start(&s, Data, (const char *[]){"--concurrency", "4", NULL}));
	for (int i = 0; i < JOBS; i++) {
		char body[600], path[64], url[256];
		struct srv_resp r;
		snprintf(path, sizeof(path), "/slow?ms=%d&i=%d", 100 + 10 * i, i);
		fixture_url(&F, path, url, sizeof(url));
		snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
		CHECK_EQ_INT(srv_req(&s, "POST", "/api/links", body, NULL, &r), 201);
		srv_resp_free(&r);
	}
	int64_t until = sc_now_ms() + 120000;
	while (jobs_finished(&s) < 10 && sc_now_ms() < until)
		poll(NULL, 0, 100);
	fprintf(stderr, "killing with %d of %d done\n", jobs_finished(&s), JOBS);
	CHECK_EQ_INT(srv_stop(&s, SIGKILL), 128 + SIGKILL);
	REQUIRE(!srv_start(&s, Data, (const char *[]){"--concurrency", "4", NULL}));
	until = sc_now_ms() + 600000;
	while (jobs_finished(&s) < JOBS && sc_now_ms() < until)
		poll(NULL, 0, 200);
	CHECK_EQ_INT(jobs_finished(&s), JOBS);
	CHECK_EQ_INT(srv_check_links(&s, NULL, NULL), JOBS);
	CHECK_EQ_INT(srv_stop(&s, SIGTERM), 0);
	char snaps[512];
	snprintf(snaps, sizeof(snaps), "%s/snapshots", Data);
	CHECK_EQ_INT(count_tmp(snaps), 0);
	check_integrity();
}

/* ---- hostile clients ---- */

/* /healthz answers within max_ms. */
static int healthy_within(struct srv *s, int64_t max_ms)
{
	struct srv_resp r;
	int64_t t0 = sc_now_ms();
	long st = srv_req(s, "GET", "/healthz", NULL, NULL, &r);
	srv_resp_free(&r);
	int64_t ms = sc_now_ms() - t0;
	if (st != 200 || ms > max_ms)
		fprintf(stderr, "healthz: %ld after %lld ms\n", st, (long long)ms);
	return st == 200 && ms <= max_ms;
}

/* 5 s: beside 10,000 idle connections on a loaded 2-core machine (a
 * build of four other trees beside it) one answer took 2.5 s. */
static int healthy(struct srv *s)
{
	return healthy_within(s, 5000);
}

TEST(hostile_clients)
{
	struct srv s;
	char dir[300];
	snprintf(dir, sizeof(dir), "%s-hostile", Data);
	REQUIRE(!srv_start(&s, dir, NULL));
	enum { IDLE = 10000 };
	static int fds[IDLE];
	int n = 0;
	for (; n < IDLE; n++) /* idle connections, and slowloris halves */
		if ((fds[n] = raw_connect(s.port)) < 0)
			break;
		else if (n % 2)
			(void)!write(fds[n], "GET /api/links HTTP/1.1\r\nX-a: ", 30);
	fprintf(stderr, "%d idle/slow connections open\n", n);
	CHECK(n == IDLE);
	CHECK(healthy(&s));
	/* oversized headers */
	struct srv_resp r;
	char *big = malloc(70000), hdr[70100];
	memset(big, 'a', 69999);
	big[69999] = 0;
	snprintf(hdr, sizeof(hdr), "X-Big: %s", big);
	srv_req(&s, "GET", "/api/links", NULL, (const char *[]){hdr, NULL}, &r);
	CHECK(r.status != 200);
	srv_resp_free(&r);
	free(big);
	CHECK(healthy(&s));
	/* invalid UTF-8 in JSON */
	CHECK_EQ_INT(srv_req(&s, "POST", "/api/links",
			     "{\"url\":\"http://a.example/\xff\xfe\",\"tags\":[\"\xc3\x28\"]}",
			     NULL, &r), 400);
	srv_resp_free(&r);
	/* garbage on a WebSocket upgrade and raw garbage */
	int g = raw_connect(s.port);
	const char up[] = "GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			  "Sec-WebSocket-Version: 13\r\n\r\n";
	(void)!write(g, up, sizeof(up) - 1);
	char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 % 251);
	for (int i = 0; i < 20; i++)
		(void)!write(g, junk, sizeof(junk));
	int g2 = raw_connect(s.port);
	(void)!write(g2, junk, sizeof(junk));
	CHECK(healthy(&s));
	close(g);
	close(g2);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	/* 10,000 hang-ups at once: the loop closes them all (~0.1 ms each on
	 * an idle core; seen 6 s on a 2-core machine at load 20) */
	CHECK(healthy_within(&s, 15000));
	CHECK_EQ_INT(srv_stop(&s, SIGTERM), 0);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-rel-XXXXXX";
	struct rlimit rl; /* 10,000 idle connections: as many descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_max < 10500) {
		fprintf(stderr, "the hard limit on open files is under 10500: "
			"raise it (ulimit -Hn) to run this test\n");
		return 1;
	}
	rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F))
		return 1;
	RUN(hostile_clients);
	RUN(kill9_with_jobs_in_flight);
	return srv_test_end(tmpl, &F, test_report());
}
