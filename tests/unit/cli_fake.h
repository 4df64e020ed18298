/*
 * cli_fake.h — what the tests of the command-line clients share
 * (test_cli_client.c: add, ls; test_cli_io.c: import, export, backup): a
 * fake `snapcat serve` inside the test process, and a way to run a command
 * with its output captured.
 *
 * DESIGN: struct fake is a one-thread HTTP/1.1 server on 127.0.0.1:<any>.
 * It accepts one connection at a time, reads one request (headers and a
 * Content-Length body), records it, answers with the next canned reply
 * (status + body, "Connection: close") and closes. The test thread queues
 * replies, runs the command with stdout and stderr redirected to temporary
 * files (run, run_cap), then stops the server (stop flag + join) and checks
 * what it recorded and what was printed. One fake per test; every fd is
 * closed and the thread joined, which the tests' main() checks by counting
 * /proc/self/fd (count_fds; cli_fake_begin and cli_fake_end around the
 * tests). Header-only; include once per test program.
 */
#ifndef CLI_FAKE_H
#define CLI_FAKE_H

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sc.h"

#define FAKE_MAX 8

struct fake_req {
	char method[16];
	char target[4096];
	char auth[512];  /* the Authorization value, "" if none */
	char ctype[128]; /* the Content-Type value */
	char body[8192];
};

struct fake {
	int lfd, port;
	pthread_t thr;
	atomic_int stop;
	pthread_mutex_t mu; /* guards everything below */
	int nreplies, next;
	struct {
		int status;
		const char *body;  /* not owned */
		const char *ctype; /* not owned */
	} replies[FAKE_MAX];
	int nreqs;
	struct fake_req reqs[FAKE_MAX];
};

/* ---- the fake server ---- */

/* The value of header name in the request head h (ends at "\r\n\r\n"). */
static void fake_header(const char *h, const char *name, char *out, size_t n)
{
	char key[64];
	snprintf(key, sizeof(key), "\r\n%s:", name);
	const char *p = strcasestr(h, key);
	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	p += strspn(p, " ");
	size_t len = strcspn(p, "\r\n");
	snprintf(out, n, "%.*s", (int)len, p);
}

/* Read one request into buf; returns the length of the head (up to and
 * including "\r\n\r\n") and sets *total, or -1. */
static long fake_read(int fd, char *buf, size_t cap, size_t *total)
{
	size_t len = 0;
	char *end = NULL, cl[32];
	while (!end) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	long head = end + 4 - buf;
	fake_header(buf, "Content-Length", cl, sizeof(cl));
	size_t want = (size_t)head + (size_t)strtol(cl, NULL, 10);
	while (len < want && len < cap - 1) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*total = len;
	return head;
}

static void fake_send(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the client gave up (e.g. over its cap) */
		p += w;
		n -= (size_t)w;
	}
}

static const char *fake_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	default: return "Error";
	}
}

static void fake_serve(struct fake *f, int fd)
{
	static char buf[65536];
	size_t total = 0;
	long head = fake_read(fd, buf, sizeof(buf), &total);
	if (head < 0)
		return;
	pthread_mutex_lock(&f->mu);
	if (f->nreqs < FAKE_MAX) {
		struct fake_req *q = &f->reqs[f->nreqs++];
		sscanf(buf, "%15s %4095s", q->method, q->target);
		fake_header(buf, "Authorization", q->auth, sizeof(q->auth));
		fake_header(buf, "Content-Type", q->ctype, sizeof(q->ctype));
		snprintf(q->body, sizeof(q->body), "%s", buf + head);
	}
	int status = 500;
	const char *body = "{\"error\":{\"code\":\"internal\",\"message\":\"no reply queued\"}}";
	const char *ctype = "application/json";
	if (f->next < f->nreplies) {
		status = f->replies[f->next].status;
		body = f->replies[f->next].body;
		ctype = f->replies[f->next].ctype;
		f->next++;
	}
	pthread_mutex_unlock(&f->mu);
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, fake_reason(status), ctype, strlen(body));
	fake_send(fd, hdr, (size_t)n);
	fake_send(fd, body, strlen(body));
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	while (!atomic_load(&f->stop)) {
		struct pollfd p = {.fd = f->lfd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = 5};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		fake_serve(f, fd);
		close(fd);
	}
	return NULL;
}

/* A listening socket on 127.0.0.1:<free port>; *port set. -1 on error. */
static int listen_any(int *port, int do_listen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (do_listen && listen(fd, 8)) ||
	    getsockname(fd, (struct sockaddr *)&a, &al)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int fake_start(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->lfd = listen_any(&f->port, 1);
	if (f->lfd < 0)
		return -1;
	if (pthread_create(&f->thr, NULL, fake_main, f)) {
		close(f->lfd);
		return -1;
	}
	return 0;
}

static void fake_stop(struct fake *f)
{
	atomic_store(&f->stop, 1);
	pthread_join(f->thr, NULL);
	close(f->lfd);
	pthread_mutex_destroy(&f->mu);
}

/* Queue the answer to the next request: status, body, its Content-Type. */
static __attribute__((unused)) void fake_reply_ct(struct fake *f, int status,
						  const char *body,
						  const char *ctype)
{
	pthread_mutex_lock(&f->mu);
	if (f->nreplies < FAKE_MAX) {
		f->replies[f->nreplies].status = status;
		f->replies[f->nreplies].body = body;
		f->replies[f->nreplies].ctype = ctype;
		f->nreplies++;
	}
	pthread_mutex_unlock(&f->mu);
}

/* Queue a JSON answer. */
static void fake_reply(struct fake *f, int status, const char *body)
{
	fake_reply_ct(f, status, body, "application/json");
}

static __attribute__((unused)) int fake_nreqs(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	int n = f->nreqs;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* ---- running a command with stdout/stderr captured ---- */

static char out_buf[1 << 16], err_buf[1 << 16];

static void slurp(FILE *f, char *buf, size_t cap)
{
	rewind(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Run fn on the NULL-terminated args; stderr -> err_buf, and with cap_out
 * stdout -> out_buf (else stdout stays where it is). */
static int run_cap(int (*fn)(int, char **), const char *const *args,
		   int cap_out)
{
	char *argv[32]; /* copies: the command may permute them (getopt) */
	int argc = 0;
	while (args[argc] && argc < 31) {
		argv[argc] = sc_xstrdup(args[argc]);
		argc++;
	}
	argv[argc] = NULL;
	FILE *o = cap_out ? tmpfile() : NULL, *e = tmpfile();
	fflush(stdout);
	fflush(stderr);
	int s1 = cap_out ? dup(1) : -1, s2 = dup(2);
	if (cap_out)
		dup2(fileno(o), 1);
	dup2(fileno(e), 2);
	int rc = fn(argc, argv);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	fflush(stdout);
	fflush(stderr);
	if (cap_out) {
		dup2(s1, 1);
		close(s1);
		slurp(o, out_buf, sizeof(out_buf));
	}
	dup2(s2, 2);
	close(s2);
	slurp(e, err_buf, sizeof(err_buf));
	return rc;
}

static int run(int (*fn)(int, char **), const char *const *args)
{
	return run_cap(fn, args, 1);
}

static char server_url[64];

static const char *serv(const struct fake *f)
{
	snprintf(server_url, sizeof(server_url), "http://127.0.0.1:%d", f->port);
	return server_url;
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A server URL where connections are refused: "http://127.0.0.1:PORT"
 * and suffix into url (n bytes), the port bound but never listening.
 * Returns its socket (close it when done) or -1; *port set. */
static int refused_server(char *url, size_t n, const char *suffix, int *port)
{
	int fd = listen_any(port, 0);
	if (fd >= 0)
		snprintf(url, n, "http://127.0.0.1:%d%s", *port, suffix);
	return fd;
}

/* What a command prints when nothing answers at http://127.0.0.1:port
 * (refused_server). A static buffer, overwritten by the next call. */
static const char *refused_msg(const char *cmd, int port)
{
	static char msg[200];
	snprintf(msg, sizeof(msg), "snapcat %s: cannot reach the server at "
		 "http://127.0.0.1:%d (is \"snapcat serve\" running?)\n", cmd,
		 port);
	return msg;
}

/* Unset what would steer the commands elsewhere (proxies, the server and
 * token defaults, the terminal width). */
static void cli_fake_env(void)
{
	static const char *const env[] = {
		"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
		"ALL_PROXY", "all_proxy", "SNAPCAT_SERVER", "SNAPCAT_TOKEN",
		"COLUMNS",
	};
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		unsetenv(env[i]);
}

/* A test program's start: the environment cleaned (cli_fake_env) and
 * libcurl ready. Returns the number of open fds, for cli_fake_end. */
static int cli_fake_begin(void)
{
	cli_fake_env();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return count_fds();
}

/* A test program's end: libcurl cleaned up. 0, or 1 (and a message) when
 * more fds are open than at cli_fake_begin (fds): a test leaked one. */
static int cli_fake_end(int fds)
{
	int leaked = count_fds() - fds;
	curl_global_cleanup();
	if (leaked)
		fprintf(stderr, "%d file descriptors leaked\n", leaked);
	return leaked != 0;
}

#endif
