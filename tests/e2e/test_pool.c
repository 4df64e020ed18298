/*
 * test_pool.c — the browser pool of `snapcat serve` against real Chromium
 * processes the test starts itself (each in its own process group, reached
 * over its DevTools port like a remote host):
 *
 *   1. failover: `--browser ws://A,max=2 --browser ws://B`, 8 jobs on slow
 *      pages; kill -9 A's whole group while its jobs navigate -> A is
 *      unhealthy in GET /api/browsers with its error, /healthz degraded;
 *      A's jobs are queued again at once (no 5 s back-off) and every job
 *      finishes once on B (one ok snapshot per link, PNGs decode); a new
 *      Chromium on A's port (new browser id) -> A is healthy again by itself
 *      and takes jobs.
 *   2. all down: two endpoints nobody answers -> jobs stay queued (no
 *      attempt used), /healthz degraded "no healthy browser"; a Chromium
 *      comes up on one of them -> the jobs finish.
 *
 *   3. a stopped Chromium (SIGSTOP: its socket stays open): the liveness
 *      ping finds it long before the job's deadline -> /healthz degraded
 *      ("unresponsive"), the browser killed and launched again, its job
 *      queued again at once and done; /healthz ok again.
 *
 * Every wait polls under a deadline. Every Chromium started here is killed
 * (its process group) at the end, also when a check fails (atexit).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "fixture.h"
#include "img.h"
#include "srv_harness.h"
#include "testhelp.h"
#include "srv_links.h"

static struct fixture F;
static char Data[256], Tmp[256];

/* ---- Chromium processes of our own ---- */

struct chrome {
	pid_t pid; /* also its process group */
	int port;
	char dir[300];
	char ws[256]; /* ws://127.0.0.1:PORT/devtools/browser/ID */
};

#define CHROMES_MAX 8
static pid_t Started[CHROMES_MAX];

static void chrome_kill(struct chrome *c)
{
	if (c->pid <= 0)
		return;
	kill(-c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	for (int i = 0; i < CHROMES_MAX; i++)
		if (Started[i] == c->pid)
			Started[i] = 0;
	c->pid = 0;
	(void)!sc_remove_tree(c->dir);
}

static struct srv S; /* the server of the running test */

static void chrome_kill_all(void)
{
	if (S.pid)
		srv_stop(&S, SIGKILL);
	for (int i = 0; i < CHROMES_MAX; i++)
		if (Started[i] > 0) {
			kill(-Started[i], SIGKILL);
			waitpid(Started[i], NULL, 0);
			Started[i] = 0;
		}
}

static void chrome_exec(const char *dir, int port)
{
	char udd[400], rdp[64];
	const char *exe = getenv("SNAPCAT_CHROMIUM");
	snprintf(udd, sizeof(udd), "--user-data-dir=%s", dir);
	snprintf(rdp, sizeof(rdp), "--remote-debugging-port=%d", port);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	execlp(exe ? exe : "chromium", "chromium", "--headless", "--no-sandbox",
	       "--disable-gpu", "--disable-dev-shm-usage",
	       "--disable-background-networking",
	       "--disable-component-update", "--no-first-run",
	       "--disable-sync", "--disable-breakpad", "--hide-scrollbars",
	       "--mute-audio", udd, rdp, "about:blank", (char *)NULL);
	_exit(127);
}

/* Read DevToolsActivePort ("PORT\n/devtools/browser/ID\n"); 0 if not yet. */
static int chrome_read_port(struct chrome *c)
{
	char path[400], line[200];
	snprintf(path, sizeof(path), "%s/DevToolsActivePort", c->dir);
	FILE *f = fopen(path, "r");
	int ok = 0;
	if (f && fgets(line, sizeof(line), f) &&
	    (c->port = (int)strtol(line, NULL, 10)) > 0 &&
	    fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		snprintf(c->ws, sizeof(c->ws), "ws://127.0.0.1:%d%s", c->port,
			 line);
		ok = !strncmp(line, "/devtools/browser/", 18);
	}
	if (f)
		fclose(f);
	return ok;
}

/* With a fixed port Chromium writes no DevToolsActivePort: ask
 * GET /json/version instead. 1 once it answers. */
static int chrome_ask_port(struct chrome *c, int port)
{
	char url[64];
	struct sc_buf b;
	sc_buf_init(&b, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/json/version", port);
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, srv_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
	int ok = curl_easy_perform(h) == CURLE_OK;
	curl_easy_cleanup(h);
	cJSON *j = ok ? cJSON_ParseWithLength(b.data, b.len) : NULL;
	const char *ws = srv_jstr(j, "webSocketDebuggerUrl");
	if (ws) {
		c->port = port;
		snprintf(c->ws, sizeof(c->ws), "%s", ws);
	}
	cJSON_Delete(j);
	sc_buf_free(&b);
	return ws != NULL;
}

/* Start Chromium on port (0: any) in its own group; 0 once it listens. */
static int chrome_start(struct chrome *c, const char *name, int port)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "%s/%s-XXXXXX", Tmp, name);
	if (!mkdtemp(c->dir))
		return -1;
	c->pid = fork();
	if (c->pid == 0)
		chrome_exec(c->dir, port);
	for (int i = 0; i < CHROMES_MAX; i++)
		if (!Started[i]) {
			Started[i] = c->pid;
			break;
		}
	for (int64_t until = sc_now_ms() + 60000; sc_now_ms() < until;) {
		if (port ? chrome_ask_port(c, port) : chrome_read_port(c))
			return 0;
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			fprintf(stderr, "chromium exited at start (port %d)\n", port);
			c->pid = 0;
			return -1;
		}
		poll(NULL, 0, 50);
	}
	fprintf(stderr, "chromium: no DevToolsActivePort in 60 s\n");
	chrome_kill(c);
	return -1;
}

/* A TCP port nobody listens on now. */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- the server's view ---- */

/* The fixture server's URL of path. */
static const char *fx(const char *path)
{
	return srv_fx(&F, path);
}

static long long add_job(struct srv *s, const char *path)
{
	char body[700];
	struct srv_resp r;
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", fx(path));
	long st = srv_req(s, "POST", "/api/links", body, NULL, &r);
	long long id = st == 201 || st == 200 ? (long long)srv_jnum(r.json, "job.id") : 0;
	srv_resp_free(&r);
	return id;
}

/* GET /api/browsers item i (a copy; caller deletes), or NULL. */
static cJSON *browser_item(struct srv *s, int i)
{
	struct srv_resp r;
	srv_req(s, "GET", "/api/browsers", NULL, NULL, &r);
	cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), i);
	cJSON *copy = it ? cJSON_Duplicate(it, 1) : NULL;
	srv_resp_free(&r);
	return copy;
}

/* Wait until browser i's "healthy" is want; its item, or NULL. */
static cJSON *wait_health(struct srv *s, int i, int want, int64_t ms)
{
	for (int64_t until = sc_now_ms() + ms; sc_now_ms() < until;) {
		cJSON *it = browser_item(s, i);
		if (it && cJSON_IsTrue(cJSON_GetObjectItem(it, "healthy")) == want)
			return it;
		cJSON_Delete(it);
		poll(NULL, 0, 100);
	}
	fprintf(stderr, "browser %d: healthy is not %d after %lld ms\n", i,
		want, (long long)ms);
	return NULL;
}

static void print_json(const char *what, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	fprintf(stderr, "%s: %s\n", what, s ? s : "null");
	cJSON_free(s);
}

/* GET /healthz (caller deletes). */
static cJSON *healthz(struct srv *s)
{
	struct srv_resp r;
	srv_req(s, "GET", "/healthz", NULL, NULL, &r);
	cJSON *j = r.json;
	r.json = NULL;
	srv_resp_free(&r);
	return j;
}

/* Jobs (newest first) as returned by GET /api/jobs; caller deletes. */
static cJSON *jobs(struct srv *s)
{
	struct srv_resp r;
	srv_req(s, "GET", "/api/jobs?limit=100", NULL, NULL, &r);
	cJSON *items = cJSON_DetachItemFromObject(r.json, "items");
	srv_resp_free(&r);
	return items ? items : cJSON_CreateArray();
}

static int count_jobs(cJSON *items, const char *state, int min_progress,
		      int min_attempts)
{
	int n = 0;
	cJSON *it;
	cJSON_ArrayForEach(it, items) {
		const char *st = srv_jstr(it, "state");
		n += st && (!state || !strcmp(st, state)) &&
		     srv_jnum(it, "progress") >= min_progress &&
		     srv_jnum(it, "attempts") >= min_attempts;
	}
	return n;
}

/* Wait until n jobs are in state (progress, attempts at least ...). */
static int wait_jobs(struct srv *s, int n, const char *state, int progress,
		     int attempts, int64_t ms)
{
	for (int64_t until = sc_now_ms() + ms; sc_now_ms() < until;) {
		cJSON *items = jobs(s);
		int k = count_jobs(items, state, progress, attempts);
		cJSON_Delete(items);
		if (k >= n)
			return 1;
		poll(NULL, 0, 50);
	}
	fprintf(stderr, "not %d jobs %s (progress >= %d, attempts >= %d) after "
		"%lld ms\n", n, state ? state : "any", progress, attempts,
		(long long)ms);
	return 0;
}

/* The fixture's page: 1280 wide, its #008000 block at (100, 150). */
static void fixture_block(const struct img_rgba *im)
{
	CHECK(im->w == 1280 && im->h >= 800);
	const uint8_t *px = im->px ? im->px + (150 * im->w + 100) * 4 : NULL;
	CHECK(px && px[0] == 0 && px[1] == 0x80 && px[2] == 0);
}

/* ---- tests ---- */

#define FAIL_JOBS 8

/* kill -9 A while its jobs navigate (at *t_kill); returns A's "jobs" count
 * at the kill, -1 if the set-up failed. */
static int kill_a_mid_jobs(struct srv *s, struct chrome *a, int64_t *t_kill)
{
	for (int i = 0; i < FAIL_JOBS; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/slow?ms=8000&f=%d", i);
		if (!add_job(s, path))
			return -1;
	}
	/* 4 at once (2 on A: max=2), each past its set-up: navigating */
	if (!wait_jobs(s, 4, "running", 15, 1, 120000))
		return -1;
	cJSON *ia = browser_item(s, 0);
	int running = (int)srv_jnum(ia, "running"), n = (int)srv_jnum(ia, "jobs");
	CHECK_EQ_INT(running, 2);
	CHECK_EQ_INT(srv_jnum(ia, "max"), 2);
	cJSON_Delete(ia);
	*t_kill = sc_now_ms();
	chrome_kill(a);
	return n;
}

static void check_a_unhealthy(struct srv *s)
{
	cJSON *ia = wait_health(s, 0, 0, 30000);
	REQUIRE(ia);
	print_json("A after the kill", ia);
	CHECK(srv_jstr(ia, "last_error") && *srv_jstr(ia, "last_error"));
	CHECK(srv_jnum(ia, "losses") >= 1);
	CHECK_STR(srv_jstr(ia, "kind"), "remote");
	cJSON_Delete(ia);
	cJSON *h = healthz(s);
	CHECK_STR(srv_jstr(h, "status"), "degraded");
	CHECK(srv_jstr(h, "reason") && strstr(srv_jstr(h, "reason"), "browser 0"));
	CHECK_EQ_INT(srv_jnum(h, "browsers.healthy"), 1);
	cJSON_Delete(h);
}

TEST(failover_and_recovery)
{
	struct chrome a, b;
	char dir[300], wa[300];
	REQUIRE(!chrome_start(&a, "a", 0) && !chrome_start(&b, "b", 0));
	int port_a = a.port;
	snprintf(dir, sizeof(dir), "%s-failover", Data);
	snprintf(wa, sizeof(wa), "%s,max=2", a.ws);
	REQUIRE(!srv_start(&S, dir, (const char *[]){"--browser", wa,
		"--browser", b.ws, "--concurrency", "4",
		"--browser-retry-max", "2", NULL}));
	cJSON_Delete(wait_health(&S, 0, 1, 60000));
	cJSON_Delete(wait_health(&S, 1, 1, 60000));
	int64_t t_kill = 0;
	int a_jobs = kill_a_mid_jobs(&S, &a, &t_kill);
	REQUIRE(a_jobs >= 2);
	/* the two jobs A had are queued again at once (the retry back-off
	 * would be 5 s) and run on B */
	CHECK(wait_jobs(&S, 1, NULL, 0, 2, 60000));
	int64_t moved_ms = sc_now_ms() - t_kill;
	fprintf(stderr, "a moved job ran again %lld ms after the kill\n",
		(long long)moved_ms);
	CHECK(moved_ms < 4500);
	check_a_unhealthy(&S);
	CHECK(wait_jobs(&S, FAIL_JOBS, "done", 100, 1, 240000));
	cJSON *items = jobs(&S);
	CHECK_EQ_INT(count_jobs(items, "done", 100, 2), 2); /* A's two */
	cJSON_Delete(items);
	cJSON *ia = browser_item(&S, 0);
	CHECK_EQ_INT(srv_jnum(ia, "jobs"), a_jobs); /* none ran on A meanwhile */
	CHECK(!cJSON_IsTrue(cJSON_GetObjectItem(ia, "healthy")));
	cJSON_Delete(ia);
	char png[400];
	snprintf(png, sizeof(png), "%s/failover.png", Tmp);
	CHECK_EQ_INT(srv_check_links(&S, fixture_block, png), FAIL_JOBS);
	/* A comes back on its port (a new browser id): healthy by itself */
	REQUIRE(!chrome_start(&a, "a2", port_a));
	cJSON_Delete(wait_health(&S, 0, 1, 60000));
	for (int i = 0; i < 4; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/slow?ms=1500&back=%d", i);
		CHECK(add_job(&S, path));
	}
	CHECK(wait_jobs(&S, FAIL_JOBS + 4, "done", 100, 1, 120000));
	ia = browser_item(&S, 0);
	print_json("A back", ia);
	CHECK(srv_jnum(ia, "jobs") > a_jobs); /* it takes jobs again */
	cJSON_Delete(ia);
	cJSON *h = healthz(&S);
	CHECK_STR(srv_jstr(h, "status"), "ok");
	cJSON_Delete(h);
	CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
	chrome_kill(&a);
	chrome_kill(&b);
}

TEST(all_down_jobs_wait)
{
	char dir[300], e0[128], e1[128];
	int p0 = free_port(), p1 = free_port();
	REQUIRE(p0 && p1 && p0 != p1);
	snprintf(dir, sizeof(dir), "%s-down", Data);
	snprintf(e0, sizeof(e0), "http://127.0.0.1:%d", p0);
	/* an id no browser will have: found again through /json/version */
	snprintf(e1, sizeof(e1), "ws://127.0.0.1:%d/devtools/browser/gone", p1);
	REQUIRE(!srv_start(&S, dir, (const char *[]){"--browser", e0,
		"--browser", e1, "--browser-retry-max", "2", NULL}));
	long long id[3];
	for (int i = 0; i < 3; i++)
		CHECK((id[i] = add_job(&S, i == 1 ? "/slow?ms=300"
				       : i ? "/slow?ms=400" : "/final")));
	/* both endpoints failed twice: the jobs are still queued, untried */
	for (int i = 0; i < 2; i++) {
		cJSON *it = NULL;
		for (int64_t until = sc_now_ms() + 30000; sc_now_ms() < until;) {
			cJSON_Delete(it);
			it = browser_item(&S, i);
			if (srv_jnum(it, "failures") >= 2)
				break;
			poll(NULL, 0, 100);
		}
		CHECK(srv_jnum(it, "failures") >= 2);
		CHECK(srv_jstr(it, "last_error") != NULL);
		cJSON_Delete(it);
	}
	cJSON *items = jobs(&S);
	CHECK_EQ_INT(count_jobs(items, "queued", 0, 0), 3);
	CHECK_EQ_INT(count_jobs(items, NULL, 0, 1), 0); /* no attempt used */
	cJSON_Delete(items);
	cJSON *h = healthz(&S);
	print_json("healthz, all down", h);
	CHECK_STR(srv_jstr(h, "status"), "degraded");
	CHECK(srv_jstr(h, "reason") &&
	      strstr(srv_jstr(h, "reason"), "no healthy browser"));
	CHECK_EQ_INT(srv_jnum(h, "browsers.healthy"), 0);
	cJSON_Delete(h);
	struct chrome c;
	REQUIRE(!chrome_start(&c, "c", p1));
	for (int i = 0; i < 3; i++) {
		cJSON *j = srv_wait_job(&S, id[i], NULL, 90000, NULL);
		CHECK_STR(srv_jstr(j, "state"), "done");
		CHECK_EQ_INT(srv_jnum(j, "attempts"), 1);
		cJSON_Delete(j);
	}
	h = healthz(&S);
	CHECK_EQ_INT(srv_jnum(h, "browsers.healthy"), 1);
	CHECK(strstr(srv_jstr(h, "reason"), "browser 0") != NULL);
	cJSON_Delete(h);
	CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
	chrome_kill(&c);
}

static pid_t Stopped; /* a Chromium we stopped: killed at exit */

static void stopped_kill(void)
{
	if (Stopped > 0)
		kill(Stopped, SIGKILL);
}

/* Wait for /healthz's status to be want with reason containing part. */
static int wait_status(struct srv *s, const char *want, const char *part,
		       int64_t ms)
{
	for (int64_t until = sc_now_ms() + ms; sc_now_ms() < until;) {
		cJSON *h = healthz(s);
		const char *st = srv_jstr(h, "status"), *r = srv_jstr(h, "reason");
		int ok = st && !strcmp(st, want) && (!part || (r && strstr(r, part)));
		cJSON_Delete(h);
		if (ok)
			return 1;
		poll(NULL, 0, 100);
	}
	fprintf(stderr, "healthz: not %s (%s) after %lld ms\n", want,
		part ? part : "-", (long long)ms);
	return 0;
}

TEST(sigstop_browser_detected)
{
	char dir[300];
	snprintf(dir, sizeof(dir), "%s-stop", Data);
	REQUIRE(!srv_start(&S, dir, (const char *[]){"--timeout", "180", NULL}));
	long long job = add_job(&S, "/gate?id=901");
	REQUIRE(job > 0);
	REQUIRE(wait_jobs(&S, 1, "running", 15, 1, 60000)); /* at the gate */
	cJSON *h = healthz(&S);
	pid_t pid = (pid_t)srv_jnum(h, "browser_pid");
	CHECK_STR(srv_jstr(h, "status"), "ok");
	cJSON_Delete(h);
	REQUIRE(pid > 0);
	Stopped = pid;
	REQUIRE(!kill(pid, SIGSTOP));
	int64_t t0 = sc_now_ms();
	CHECK(wait_status(&S, "degraded", "unresponsive", 60000));
	int64_t ms = sc_now_ms() - t0;
	fprintf(stderr, "SIGSTOP seen by /healthz after %lld ms (job deadline "
		"180 s)\n", (long long)ms);
	CHECK(ms < 40000);
	struct srv fxs = {0};
	struct srv_resp r;
	snprintf(fxs.base, sizeof(fxs.base), "http://127.0.0.1:%d", F.port);
	CHECK_EQ_INT(srv_req(&fxs, "GET", "/gate?open=901", NULL, NULL, &r), 200);
	srv_resp_free(&r);
	cJSON *j = srv_wait_job(&S, job, NULL, 120000, NULL);
	CHECK_STR(srv_jstr(j, "state"), "done"); /* on the new browser */
	CHECK_EQ_INT(srv_jnum(j, "attempts"), 2);
	cJSON_Delete(j);
	CHECK(wait_status(&S, "ok", NULL, 60000));
	h = healthz(&S);
	CHECK_EQ_INT(srv_jnum(h, "browser_starts"), 2);
	CHECK(srv_jnum(h, "browser_pid") != pid);
	cJSON_Delete(h);
	CHECK(kill(pid, 0) != 0); /* killed and reaped */
	CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-pool-XXXXXX";
	atexit(chrome_kill_all);
	atexit(stopped_kill);
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F))
		return 1;
	snprintf(Tmp, sizeof(Tmp), "%s", tmpl);
	RUN(failover_and_recovery);
	chrome_kill_all(); /* left running by a failed check */
	RUN(all_down_jobs_wait);
	chrome_kill_all();
	RUN(sigstop_browser_detected);
	return srv_test_end(tmpl, &F, test_report());
}
