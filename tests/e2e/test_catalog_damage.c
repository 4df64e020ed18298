/*
 * test_catalog_damage.c — `snapcat serve` on a damaged catalog.db: real
 * SQLite files damaged on disk, the real binary, real sockets. No capture
 * runs: the browser endpoint is a port nothing listens on.
 *
 *   random bytes in the middle of a small catalog -> serve refuses to
 *     start, says so and names `snapcat restore`; the file is unchanged
 *   a 40 MB catalog with a damaged index page (the start's sample reads
 *     tables only) -> serve starts at once, the full check after the start
 *     finds it -> /healthz storage degraded, writes refused, reads served
 *   a leaf of links damaged while serving -> the request that reads it
 *     fails -> from then on /healthz degraded and writes refused
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "catalog.h"
#include "fixture.h"
#include "srv_harness.h"
#include "testhelp.h"
#include "test_files.h"

#define NO_BROWSER "ws://127.0.0.1:9/devtools/browser/none"

static struct fixture F;
static char Data[256];

/* A stopped server's catalog at dir/catalog.db: links (and their jobs),
 * and events_bytes of events of job 1 (4 KB each). */
static int make_catalog(const char *dir, int links, int64_t events_bytes)
{
	char path[400], err[256], url[80];
	static char json[4200];
	struct catalog *c = NULL;
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	if (catalog_open(path, &c, err, sizeof(err)))
		return -1;
	int rc = catalog_tx_begin(c);
	int64_t id = 0, job = 0, ev;
	for (int i = 0; !rc && i < links; i++) {
		snprintf(url, sizeof(url), "https://damage.example/%d/page", i);
		rc = catalog_link_add(c, url, &id, NULL) ||
		     catalog_job_enqueue(c, id, NULL, 0, &job) ||
		     catalog_job_cancel(c, job, NULL);
	}
	snprintf(json, sizeof(json), "{\"pad\":\"%04000d\"}", 1);
	for (int64_t n = 0; !rc && n < events_bytes; n += 4096)
		rc = catalog_event_append(c, "job.progress", 0, 1, 1, json, &ev);
	if (!rc)
		rc = catalog_tx_commit(c);
	catalog_close(&c); /* checkpointed: no WAL left */
	return rc;
}

/* The middle leaf page of b-tree name (dbstat), 0 if none. */
static int64_t middle_leaf(const char *dir, const char *name)
{
	char path[400];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t page = 0;
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT pageno FROM dbstat WHERE name = ?1 AND "
			       "pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET "
			       "(SELECT count(*) / 2 FROM dbstat WHERE name = ?1 "
			       "AND pagetype = 'leaf')", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		page = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return page;
}

/* Overwrite n bytes of dir/catalog.db at off with seeded random bytes. */
static int scribble(const char *dir, off_t off, size_t n, unsigned seed)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	return tf_scribble(path, off, n, seed);
}

/* The whole file (caller frees), its length in *n. */
static char *slurp(const char *path, size_t *n)
{
	struct sc_buf b;
	char chunk[65536];
	sc_buf_init(&b, 0);
	FILE *f = fopen(path, "rb");
	for (size_t r; f && (r = fread(chunk, 1, sizeof(chunk), f)) > 0;)
		(void)!sc_buf_append(&b, chunk, r);
	if (f)
		fclose(f);
	*n = b.len;
	return b.data;
}

/* Run `snapcat serve` on dir and wait (up to 30 s) for it to exit; its
 * exit status (-1: still running after 30 s, then killed), stderr in log. */
static int serve_exit(const char *dir, char *log, size_t len)
{
	char errf[400];
	snprintf(errf, sizeof(errf), "%s.stderr", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		dup2(nul, 1);
		execl(SNAPCAT_BIN, SNAPCAT_BIN, "serve", "--listen",
		      "127.0.0.1:0", "--data", dir, "--browser", NO_BROWSER,
		      (char *)NULL);
		_exit(127);
	}
	int st = 0, done = 0;
	for (int64_t until = sc_now_ms() + 30000; !done && sc_now_ms() < until;)
		if (!(done = waitpid(pid, &st, WNOHANG) == pid))
			poll(NULL, 0, 50);
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	size_t n;
	char *text = slurp(errf, &n);
	snprintf(log, len, "%s", text ? text : "");
	free(text);
	return done && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The case: random bytes in the middle of catalog.db. */
TEST(damaged_catalog_refused_at_start)
{
	char dir[300], path[400], log[4096];
	snprintf(dir, sizeof(dir), "%s-small", Data);
	REQUIRE(!make_catalog(dir, 2000, 1 << 20));
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	struct stat st;
	REQUIRE(!stat(path, &st));
	REQUIRE(!scribble(dir, st.st_size / 2, 16384, 12));
	size_t n0, n1;
	char *before = slurp(path, &n0);
	int rc = serve_exit(dir, log, sizeof(log));
	CHECK(rc > 0);
	CHECK(strstr(log, "is damaged") != NULL);
	CHECK(strstr(log, "snapcat restore") != NULL);
	CHECK(strstr(log, "LISTENING") == NULL);
	char *after = slurp(path, &n1); /* nothing written into it */
	CHECK(n0 == n1 && before && after && !memcmp(before, after, n0));
	free(before);
	free(after);
	if (rc <= 0)
		fprintf(stderr, "serve said: %s\n", log);
}

/* storage.status and storage.reason of /healthz. */
static int storage_degraded(struct srv *t, char *why, size_t len)
{
	struct srv_resp r;
	srv_req(t, "GET", "/healthz", NULL, NULL, &r);
	const char *st = srv_jstr(r.json, "storage.status");
	const char *rs = srv_jstr(r.json, "storage.reason");
	snprintf(why, len, "%s", rs ? rs : "");
	int bad = st && !strcmp(st, "degraded");
	srv_resp_free(&r);
	return bad;
}

static int storage_degraded_within(struct srv *t, int64_t ms, char *why,
				   size_t len)
{
	for (int64_t until = sc_now_ms() + ms; sc_now_ms() < until;
	     poll(NULL, 0, 100))
		if (storage_degraded(t, why, len))
			return 1;
	return 0;
}

/* A write through the API: 201 while the catalog takes writes. */
static long add_link(struct srv *t, const char *url)
{
	char body[256];
	struct srv_resp r;
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	long st = srv_req(t, "POST", "/api/links", body, NULL, &r);
	srv_resp_free(&r);
	return st;
}

/* A large catalog starts at once (the start samples it); the full check
 * after the start finds the damaged index page and writes stop. */
TEST(large_catalog_checked_after_start)
{
	char dir[300], why[1024];
	snprintf(dir, sizeof(dir), "%s-large", Data);
	REQUIRE(!make_catalog(dir, 1000, 40LL << 20));
	int64_t page = middle_leaf(dir, "events_job");
	REQUIRE(page > 1);
	REQUIRE(!scribble(dir, (off_t)(page - 1) * 4096, 4096, 34));
	struct srv t;
	int64_t t0 = sc_now_ms();
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--browser", NO_BROWSER,
		NULL}));
	int64_t ms = sc_now_ms() - t0;
	fprintf(stderr, "40 MB damaged catalog: LISTENING after %lld ms\n",
		(long long)ms);
	CHECK(ms < 5000); /* ~50 ms alone; a loaded 2-core box is slower */
	CHECK(storage_degraded_within(&t, 60000, why, sizeof(why)));
	CHECK(strstr(why, "catalog damaged") && strstr(why, "snapcat restore"));
	CHECK(add_link(&t, "http://127.0.0.1:1/after-damage") >= 500);
	struct srv_resp r; /* reads go on */
	CHECK_EQ_INT(srv_req(&t, "GET", "/api/links?limit=5", NULL, NULL, &r), 200);
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 5);
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
}

/* Damage met by a statement while serving stops writes too. */
TEST(damage_found_while_serving)
{
	char dir[300], why[1024], path[96];
	snprintf(dir, sizeof(dir), "%s-serving", Data);
	REQUIRE(!make_catalog(dir, 3000, 0));
	int64_t page = middle_leaf(dir, "links");
	REQUIRE(page > 1);
	struct srv t;
	REQUIRE(!srv_start(&t, dir, (const char *[]){"--browser", NO_BROWSER,
		NULL}));
	CHECK(!storage_degraded(&t, why, sizeof(why)));
	CHECK_EQ_INT(add_link(&t, "http://127.0.0.1:1/before"), 201);
	REQUIRE(!scribble(dir, (off_t)(page - 1) * 4096, 4096, 56));
	int failed = 0; /* page through every link: one page meets it */
	snprintf(path, sizeof(path), "/api/links?limit=1000");
	for (int i = 0; i < 10 && !failed && path[0]; i++) {
		struct srv_resp r;
		failed = srv_req(&t, "GET", path, NULL, NULL, &r) >= 500;
		const char *cur = srv_jstr(r.json, "next_cursor");
		if (cur)
			snprintf(path, sizeof(path), "/api/links?limit=1000&"
				 "cursor=%s", cur);
		else
			path[0] = 0;
		srv_resp_free(&r);
	}
	CHECK(failed);
	CHECK(storage_degraded_within(&t, 5000, why, sizeof(why)));
	CHECK(strstr(why, "catalog damaged") != NULL);
	CHECK(add_link(&t, "http://127.0.0.1:1/after") >= 500);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-dmg-XXXXXX";
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F))
		return 1;
	RUN(damaged_catalog_refused_at_start);
	RUN(large_catalog_checked_after_start);
	RUN(damage_found_while_serving);
	return srv_test_end(tmpl, &F, test_report());
}
