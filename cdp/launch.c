/*
 * launch.c — start and stop a local headless Chromium (see launch.h).
 *
 * DESIGN
 * fork() -> child: setpgid(0,0) so the browser and every helper process it
 * spawns share one group that cdp_process_kill() takes down with one signal;
 * PDEATHSIG so that a snapcat crash takes the browser along; stderr to a pipe.
 * The parent reads that pipe with poll() until Chromium prints its DevTools
 * line, then hands the pipe to a detached drain thread that logs what
 * Chromium says until the group exits (EOF).
 */
#include "launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LAUNCH_LOG "browser"

struct cdp_process {
	pid_t pid;
	int exited;
	char *ws_url;
	char *udd;
	int own_udd;
};

/* The flags a headless Chromium needs here (as root, no network look-ups
 * of its own, a fresh profile), and the ones that keep parallel background
 * tabs rendering at full speed. */
static const char *const launch_flags[] = {
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-dev-shm-usage",
	"--disable-background-networking",
	"--disable-component-update",
	"--no-first-run",
	"--disable-sync",
	"--no-default-browser-check",
	"--disable-background-timer-throttling",
	"--disable-backgrounding-occluded-windows",
	"--disable-renderer-backgrounding",
	"--disable-breakpad",
	"--disable-extensions",
	"--disable-default-apps",
	"--disable-quic",
	"--hide-scrollbars",
	"--mute-audio",
	"--password-store=basic",
	"--use-mock-keychain",
	"--remote-debugging-port=0",
	/* navigator.webdriver false, natively (issue 16; a job with stealth
	 * off forces it true again: orchestrator/capture/capture_stealth.c) */
	"--disable-blink-features=AutomationControlled",
};

static void launch_child(const char *exe, char **argv, int errfd)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
	}
	dup2(errfd, 2);
	/* close every other inherited descriptor (sockets of the server) */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	execv(exe, argv);
	dprintf(2, "exec %s: %s\n", exe, strerror(errno));
	_exit(127);
}

static char **launch_argv(const struct cdp_launch_opts *o, const char *exe,
			  const char *udd)
{
	size_t nflags = sizeof(launch_flags) / sizeof(launch_flags[0]);
	size_t nextra = 0;
	while (o->extra_args && o->extra_args[nextra])
		nextra++;
	char **argv = sc_xcalloc(nflags + nextra + 4, sizeof(char *));
	size_t n = 0;
	argv[n++] = sc_xstrdup(exe);
	for (size_t i = 0; i < nflags; i++)
		argv[n++] = sc_xstrdup(launch_flags[i]);
	for (size_t i = 0; i < nextra; i++)
		argv[n++] = sc_xstrdup(o->extra_args[i]);
	argv[n++] = sc_xasprintf("--user-data-dir=%s", udd);
	argv[n++] = sc_xstrdup("about:blank");
	return argv;
}

static void launch_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void *launch_drain(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0 || (n < 0 && errno == EINTR)) {
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		sc_log(SC_LOG_DEBUG, LAUNCH_LOG, "chromium: %s", buf);
	}
	close(fd);
	return NULL;
}

static void launch_start_drain(int fd)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, launch_drain, (void *)(intptr_t)fd))
		close(fd); /* Chromium then gets EPIPE on stderr; harmless */
	pthread_attr_destroy(&a);
}

/* Find "DevTools listening on ws://…" in the text read so far. */
static char *launch_find_url(const char *text)
{
	const char *p = strstr(text, "DevTools listening on ");
	if (!p)
		return NULL;
	p += strlen("DevTools listening on ");
	size_t n = strcspn(p, "\r\n");
	if (!p[n])
		return NULL; /* line not complete yet */
	return sc_xstrndup(p, n);
}

/* Read stderr until the DevTools line, EOF or the deadline. */
static sc_result launch_wait_url(struct cdp_process *p, int fd, int timeout_ms,
				 char *err, size_t errlen)
{
	struct sc_buf out;
	sc_buf_init(&out, 64 * 1024);
	int64_t deadline = sc_now_ms() + timeout_ms;
	sc_result rc = SC_ERR_BROWSER;
	for (;;) {
		int64_t left = deadline - sc_now_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			snprintf(err, errlen, "Chromium printed no DevTools "
			       "endpoint within %d ms: %.300s", timeout_ms,
			       out.data ? out.data : "");
			break;
		}
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "Chromium exited at start-up: %.400s",
				 out.data ? out.data : "(no output)");
			break;
		}
		if (sc_buf_append(&out, buf, (size_t)n))
			sc_buf_reset(&out);
		if ((p->ws_url = launch_find_url(out.data))) {
			rc = SC_OK;
			break;
		}
	}
	sc_buf_free(&out);
	return rc;
}

/*
 * The fresh profile's preferences. WebRTC may use UDP only through a proxy:
 * captures of a guarded job go through a SOCKS5 proxy (which carries no
 * UDP), so a page cannot send STUN/TURN packets to private addresses; no
 * launch flag does this (--force-webrtc-ip-handling-policy is ignored by
 * this Chromium). Browser contexts made later inherit it. Best effort: a
 * profile without the file still works.
 */
static void launch_prefs(const char *udd)
{
	static const char prefs[] =
		"{\"webrtc\":{\"ip_handling_policy\":\"disable_non_proxied_udp\","
		"\"multiple_routes_enabled\":false,"
		"\"nonproxied_udp_enabled\":false}}\n";
	char *dir = sc_xasprintf("%s/Default", udd);
	char *file = sc_xasprintf("%s/Preferences", dir);
	FILE *f = mkdir(dir, 0700) ? NULL : fopen(file, "w");
	int ok = f && fputs(prefs, f) != EOF;
	if (f && fclose(f))
		ok = 0;
	if (!ok)
		sc_log(SC_LOG_WARN, LAUNCH_LOG, "cannot write %s: %s", file,
		       strerror(errno));
	free(dir);
	free(file);
}

static sc_result launch_profile(const struct cdp_launch_opts *o,
				struct cdp_process *p, char *err, size_t errlen)
{
	if (o->user_data_dir) {
		p->udd = sc_xstrdup(o->user_data_dir);
		return SC_OK;
	}
	const char *tmp = getenv("TMPDIR");
	char *tmpl = sc_xasprintf("%s/snapcat-chromium-XXXXXX",
				  tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		snprintf(err, errlen, "cannot create a browser profile in %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(tmpl);
		return SC_ERR_IO;
	}
	p->udd = tmpl;
	p->own_udd = 1;
	launch_prefs(tmpl);
	return SC_OK;
}

sc_result cdp_launch(const struct cdp_launch_opts *o, struct cdp_process **out,
		     char *err, size_t errlen)
{
	*out = NULL;
	const char *exe = o->chromium ? o->chromium : getenv("SNAPCAT_CHROMIUM");
	if (!exe || !*exe)
		exe = "/usr/bin/chromium";
	if (access(exe, X_OK)) {
		snprintf(err, errlen, "no Chromium at %s (%s): install the "
			 "'chromium' package or set SNAPCAT_CHROMIUM", exe,
			 strerror(errno));
		return SC_ERR_BROWSER;
	}
	struct cdp_process *p = sc_xcalloc(1, sizeof(*p));
	sc_result rc = launch_profile(o, p, err, errlen);
	if (rc) {
		free(p);
		return rc;
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		cdp_process_free(&p);
		return SC_ERR_IO;
	}
	char **argv = launch_argv(o, exe, p->udd);
	p->pid = fork();
	if (p->pid == 0)
		launch_child(exe, argv, pfd[1]);
	launch_argv_free(argv);
	close(pfd[1]);
	if (p->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		p->pid = 0;
		cdp_process_free(&p);
		return SC_ERR_BROWSER;
	}
	setpgid(p->pid, p->pid); /* also from the parent: no race with kill */
	rc = launch_wait_url(p, pfd[0], o->timeout_ms > 0 ? o->timeout_ms : 30000,
			     err, errlen);
	if (rc) {
		close(pfd[0]);
		cdp_process_free(&p);
		return rc;
	}
	launch_start_drain(pfd[0]);
	sc_log(SC_LOG_INFO, LAUNCH_LOG, "chromium pid %d at %s", (int)p->pid,
	       p->ws_url);
	*out = p;
	return SC_OK;
}

const char *cdp_process_ws_url(const struct cdp_process *p) { return p->ws_url; }
pid_t cdp_process_pid(const struct cdp_process *p) { return p->pid; }
const char *cdp_process_user_data_dir(const struct cdp_process *p)
{
	return p->udd;
}

int cdp_process_alive(struct cdp_process *p)
{
	if (!p || !p->pid || p->exited)
		return 0;
	int st;
	pid_t r = waitpid(p->pid, &st, WNOHANG);
	if (r == p->pid || (r < 0 && errno == ECHILD))
		p->exited = 1;
	return !p->exited;
}

void cdp_process_kill(struct cdp_process *p)
{
	if (p && p->pid > 0)
		kill(-p->pid, SIGKILL); /* the group: renderers, gpu, zygotes */
}

/* The value of the line "key:" of a /proc file, in kB; -1 if none. */
static long launch_proc_kb(const char *path, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * Sum Pss over /proc/<pid> whose process group is pgid. PSS
 * (proportional set size) counts a page shared by k processes as 1/k in
 * each, so the sum is the group's real footprint; VmRSS counts it k times:
 * Chromium's processes share their code, the zygote's pages and the
 * shared-memory bitmaps of screenshots, and after an 82,630 px screenshot
 * the RSS sum read 3.3 GB where the PSS sum read 1.9 GB. smaps_rollup
 * (Linux 4.14) walks the process's page tables under its mmap lock: a
 * round over a busy browser's group took 200 ms (up to 1 s) on a loaded
 * 2-core machine, where VmRSS takes 0.5 ms — hence a worker's job. VmRSS
 * where smaps_rollup cannot be read.
 */
long cdp_pgroup_pss_kb(pid_t pgid, int *nprocs)
{
	DIR *d = pgid > 0 ? opendir("/proc") : NULL;
	if (!d)
		return -1;
	long total = 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[64];
		long pid, kb;
		if (sc_parse_long(e->d_name, 1, 1L << 30, &pid) ||
		    getpgid((pid_t)pid) != pgid)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
		if ((kb = launch_proc_kb(path, "Pss")) < 0) {
			snprintf(path, sizeof(path), "/proc/%ld/status", pid);
			kb = launch_proc_kb(path, "VmRSS");
		}
		if (kb < 0)
			continue; /* gone meanwhile */
		n++;
		total += kb;
	}
	closedir(d);
	if (nprocs)
		*nprocs = n;
	return total;
}

/* Reap the browser; give it up to 5 s after SIGKILL (it cannot refuse). */
static void launch_reap(struct cdp_process *p)
{
	for (int i = 0; i < 500 && cdp_process_alive(p); i++)
		usleep(10 * 1000);
	if (cdp_process_alive(p))
		sc_log(SC_LOG_ERROR, LAUNCH_LOG, "chromium pid %d did not exit",
		       (int)p->pid);
}

void cdp_process_free(struct cdp_process **pp)
{
	struct cdp_process *p = pp ? *pp : NULL;
	if (!p)
		return;
	*pp = NULL;
	if (p->pid > 0) {
		cdp_process_kill(p);
		launch_reap(p);
	}
	if (p->own_udd && p->udd && sc_remove_tree(p->udd))
		sc_log(SC_LOG_WARN, LAUNCH_LOG, "cannot remove %s: %s", p->udd,
		       strerror(errno));
	free(p->ws_url);
	free(p->udd);
	free(p);
}
