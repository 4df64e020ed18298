/*
 * test_endurance.c — 300 captures through `snapcat serve`, crashes and
 * restarts included, then nothing is left over (issue 5, "No zombie or
 * runaway Chromium"):
 *
 *   this process is a child subreaper, so that any process orphaned by a
 *   Chromium that died (renderers, zygotes, crashpad handlers) is re-parented
 *   here, where the test can see it, instead of to init;
 *   warm-up: 30 captures -> the Chromium process count and snapcat's RSS
 *   are the baseline;
 *   270 more captures with --recycle-pages 60 (restarts between jobs) while
 *   the browser is killed with SIGKILL twice (the jobs it held are retried);
 *   then: every job done exactly once; one browser (the pool's size); every
 *   Chromium process belongs to the current browser's process group and
 *   there are no more of them than at the baseline; nothing orphaned here
 *   still alive, no zombie anywhere under this test (what was re-parented
 *   here and died is reaped, as init would); snapcat's RSS has not grown (optimised build only: ASan's
 *   quarantine holds freed memory by design).
 */
#include <dirent.h>
#include <sys/prctl.h>

#include "fixture.h"
#include "srv_harness.h"
#include "testhelp.h"

#define WARMUP 30
#define TOTAL 300
#define KILL_AT_1 100
#define KILL_AT_2 200

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif

static struct fixture F;
static char Data[256];

struct proc {
	pid_t pid, ppid, pgid;
	char state;
	char comm[32];
};

/* Read /proc/<pid>/stat; 0 if the process exists. */
static int proc_read(pid_t pid, struct proc *p)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *l = strchr(buf, '('), *r = strrchr(buf, ')');
	if (!l || !r || r < l)
		return -1;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(r - l - 1), l + 1);
	int ppid = 0, pgid = 0;
	if (sscanf(r + 2, "%c %d %d", &p->state, &ppid, &pgid) != 3)
		return -1;
	p->pid = pid;
	p->ppid = ppid;
	p->pgid = pgid;
	return 0;
}

/* Every process on the machine (up to max). */
static int proc_all(struct proc *out, int max)
{
	DIR *d = opendir("/proc");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d)) && n < max;) {
		long pid = strtol(e->d_name, NULL, 10);
		if (pid > 0 && !proc_read((pid_t)pid, &out[n]))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* Is p a descendant of root (through the ppid chain in all[])? */
static int proc_under(const struct proc *all, int n, pid_t pid, pid_t root)
{
	for (int hops = 0; pid > 1 && hops < 64; hops++) {
		int i = 0;
		while (i < n && all[i].pid != pid)
			i++;
		if (i == n)
			return 0;
		if (all[i].ppid == root)
			return 1;
		pid = all[i].ppid;
	}
	return 0;
}

static int is_chromium(const struct proc *p)
{
	return !strcmp(p->comm, "chromium") || !strcmp(p->comm, "chrome");
}

/* Chromium's crash reporter: started per browser in a session of its own,
 * so it is not in the browser's process group; it must not pile up. */
static int is_crashpad(const struct proc *p)
{
	return !strncmp(p->comm, "chrome_crashpad", 15);
}

struct census {
	int browsers;       /* chromium processes whose parent is snapcat */
	pid_t browser;      /* the last of them */
	int chromium;       /* Chromium processes under this test */
	int stray;          /* ... not in a current browser's process group */
	int crashpad;       /* crash handlers under this test */
	int zombies;        /* zombie processes under this test */
	int orphans;        /* re-parented here: not snapcat, the fixture or
			       a crash handler */
};

/* Is pgid the process group of a browser of server? */
static int browser_group(const struct proc *all, int n, pid_t server,
			 pid_t pgid)
{
	for (int k = 0; k < n; k++)
		if (all[k].ppid == server && is_chromium(&all[k]) &&
		    all[k].pid == pgid)
			return 1;
	return 0;
}

static void census_one(struct census *c, const struct proc *all, int n,
		       const struct proc *p, pid_t server)
{
	pid_t me = getpid();
	if (p->state == 'Z' && p->ppid != me) /* not reaped by its parent */
		c->zombies++;
	if (is_crashpad(p)) {
		c->crashpad++;
		return;
	}
	if (p->ppid == me && p->pid != server && p->pid != F.pid)
		c->orphans++;
	if (is_chromium(p)) {
		c->chromium++;
		c->stray += !browser_group(all, n, server, p->pgid);
	}
}

/* Reap what was re-parented here and died (never the fixture). */
static void reap_orphans(void)
{
	static struct proc all[8192];
	int n = proc_all(all, 8192);
	for (int i = 0; i < n; i++)
		if (all[i].ppid == getpid() && all[i].state == 'Z' &&
		    all[i].pid != F.pid)
			waitpid(all[i].pid, NULL, WNOHANG);
}

/* Reaps first: what died after being re-parented here would be reaped by
 * init at once without the subreaper. */
static struct census census(pid_t server)
{
	static struct proc all[8192];
	struct census c = {0};
	reap_orphans();
	int n = proc_all(all, 8192);
	for (int i = 0; i < n; i++)
		if (server && all[i].ppid == server && is_chromium(&all[i])) {
			c.browsers++;
			c.browser = all[i].pid;
		}
	for (int i = 0; i < n; i++)
		if (proc_under(all, n, all[i].pid, getpid()))
			census_one(&c, all, n, &all[i], server);
	return c;
}


static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int jobs_in(struct srv *s, const char *state)
{
	char path[96];
	struct srv_resp r;
	snprintf(path, sizeof(path), "/api/jobs?state=%s&limit=1000", state);
	srv_req(s, "GET", path, NULL, NULL, &r);
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items"));
	srv_resp_free(&r);
	return n;
}

static void submit(struct srv *s, int from, int to)
{
	for (int i = from; i < to; i++) {
		char body[600], path[64], url[256];
		struct srv_resp r;
		snprintf(path, sizeof(path), "/final?i=%d", i);
		fixture_url(&F, path, url, sizeof(url));
		snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
		CHECK_EQ_INT(srv_req(s, "POST", "/api/links", body, NULL, &r), 201);
		srv_resp_free(&r);
	}
}

/* Wait until n jobs are done (or any failed); kill the browser once when
 * kill_at jobs are done (0: never). */
static int wait_done(struct srv *s, int n, int kill_at, int64_t ms)
{
	int64_t until = sc_now_ms() + ms;
	int done = 0, killed = 0;
	while ((done = jobs_in(s, "done")) < n && sc_now_ms() < until) {
		if (jobs_in(s, "failed"))
			break;
		if (kill_at && !killed && done >= kill_at) {
			struct census c = census(s->pid);
			if (c.browser && !kill(c.browser, SIGKILL)) {
				fprintf(stderr, "killed browser %d at %d done\n",
					(int)c.browser, done);
				killed = 1;
			}
		}
		poll(NULL, 0, 200);
	}
	return done;
}

/* The process tree settles (a recycled or killed browser's processes take
 * a moment to go): wait until the census stops changing and has no
 * strays, up to ms. */
static struct census settle(struct srv *s, int64_t ms)
{
	int64_t until = sc_now_ms() + ms;
	struct census c = census(s->pid), prev;
	int same = 0;
	while (sc_now_ms() < until && same < 10) {
		poll(NULL, 0, 200);
		prev = c;
		c = census(s->pid);
		int stable = !memcmp(&c, &prev, sizeof(c)) && !c.stray &&
			     !c.zombies && !c.orphans && c.browsers == 1;
		same = stable ? same + 1 : 0;
	}
	return c;
}

static void print_census(const char *when, const struct census *c, long rss)
{
	fprintf(stderr, "%s: browsers %d, Chromium processes %d (stray %d), "
		"crash handlers %d, zombies %d, orphans %d, snapcat RSS %ld "
		"KiB\n", when, c->browsers, c->chromium, c->stray, c->crashpad,
		c->zombies, c->orphans, rss);
}

TEST(three_hundred_captures_leave_nothing_behind)
{
	struct srv s;
	REQUIRE(!srv_start(&s, Data, (const char *[]){"--concurrency", "4",
		"--recycle-pages", "60", NULL}));
	submit(&s, 0, WARMUP);
	REQUIRE(wait_done(&s, WARMUP, 0, 300000) == WARMUP);
	struct census base = settle(&s, 30000);
	long rss0 = rss_kib(s.pid);
	print_census("after the warm-up", &base, rss0);
	submit(&s, WARMUP, KILL_AT_2);
	CHECK_EQ_INT(wait_done(&s, KILL_AT_2, KILL_AT_1, 600000), KILL_AT_2);
	submit(&s, KILL_AT_2, TOTAL);
	CHECK_EQ_INT(wait_done(&s, TOTAL, KILL_AT_2 + 20, 600000), TOTAL);
	CHECK_EQ_INT(jobs_in(&s, "failed"), 0);
	struct census end = settle(&s, 60000);
	long rss1 = rss_kib(s.pid);
	print_census("after 300 captures", &end, rss1);
	struct srv_resp r;
	srv_req(&s, "GET", "/healthz", NULL, NULL, &r);
	fprintf(stderr, "healthz: %.*s\n", (int)r.body.len, r.body.data);
	CHECK(srv_jnum(r.json, "browser_starts") >= 6); /* 4 recycles, 2 kills */
	srv_resp_free(&r);
	CHECK_EQ_INT(end.browsers, 1);
	CHECK_EQ_INT(end.stray, 0);
	CHECK_EQ_INT(end.zombies, 0);
	CHECK_EQ_INT(end.orphans, 0);
	CHECK(end.chromium <= base.chromium);
#ifndef ASAN_BUILD
	/* the same work again must not cost more memory: SQLite's page
	 * cache and the allocator's arenas may settle a few MiB higher */
	CHECK(rss1 <= rss0 + 8192);
#endif
	CHECK(end.crashpad <= base.crashpad);
	CHECK_EQ_INT(srv_stop(&s, SIGTERM), 0);
	/* the browser goes with snapcat, and so do its crash handlers */
	int64_t until = sc_now_ms() + 20000;
	struct census after = census(0);
	while ((after.chromium || after.crashpad) && sc_now_ms() < until) {
		poll(NULL, 0, 100);
		after = census(0);
	}
	print_census("after snapcat stopped", &after, 0);
	CHECK_EQ_INT(after.chromium, 0);
	CHECK_EQ_INT(after.crashpad, 0);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-endure-XXXXXX";
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("prctl(PR_SET_CHILD_SUBREAPER)");
		return 1;
	}
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F))
		return 1;
	RUN(three_hundred_captures_leave_nothing_behind);
	return srv_test_end(tmpl, &F, test_report());
}
