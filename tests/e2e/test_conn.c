/*
 * test_conn.c — `snapcat serve` connections over raw sockets, no browser
 * (the --browser endpoint is unreachable: jobs stay queued):
 *
 *   1. stop with a live subscriber of every channel (SSE, WebSocket,
 *      long-poll, a POST /api/snapshots event stream), five rounds: SIGTERM,
 *      SIGINT, and two signals at once (the "stop now" path): each exits 0
 *      (under ASan too: no double free, no use after free, no leak).
 */
#include <signal.h>
#include <sys/wait.h>

#include "raw_http.h"
#include "srv_harness.h"
#include "testhelp.h"

static char Data[256];

/* No Chromium: a --browser that refuses connections. */
static const char *const NoBrowser[] = {
	"--browser", "ws://127.0.0.1:1/devtools/browser/none", NULL};

/* The gauge snapcat_subscribers{channel="ch"} now, or -1. */
static int subscribers(struct srv *s, const char *ch)
{
	struct srv_resp r;
	char key[96];
	int n = -1;
	snprintf(key, sizeof(key), "snapcat_subscribers{channel=\"%s\"} ", ch);
	if (srv_req(s, "GET", "/metrics", NULL, NULL, &r) == 200) {
		const char *p = strstr(r.body.data, key);
		if (p)
			n = (int)strtol(p + strlen(key), NULL, 10);
	}
	srv_resp_free(&r);
	return n;
}

/* Wait until the gauges read sse, ws and longpoll subscribers. */
static int subscribers_are(struct srv *s, int sse, int ws, int poll_n)
{
	int64_t until = sc_now_ms() + 30000;
	while (sc_now_ms() < until) {
		if (subscribers(s, "sse") == sse && subscribers(s, "ws") == ws &&
		    subscribers(s, "longpoll") == poll_n)
			return 1;
		poll(NULL, 0, 20); /* a state, re-read under a deadline */
	}
	fprintf(stderr, "subscribers: sse %d ws %d longpoll %d\n",
		subscribers(s, "sse"), subscribers(s, "ws"),
		subscribers(s, "longpoll"));
	return 0;
}

/* Send every signal in sigs (0-terminated) at once, then wait for the exit;
 * the exit status, or 128 + the signal that killed it. */
static int stop_with(struct srv *s, const int *sigs)
{
	int st = 0;
	if (!sigs[1])
		return srv_stop(s, sigs[0]);
	for (; *sigs; sigs++)
		kill(s->pid, *sigs);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
	fclose(s->out);
	s->out = NULL;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One of each subscriber, live; fds[4] get the sockets. */
static int open_subscribers(struct srv *s, int *fds)
{
	static const char post[] = "{\"url\":\"http://127.0.0.1:1/stream\"}";
	char req[512];
	struct sc_buf b;
	int ok = 1;
	sc_buf_init(&b, 1 << 20);
	for (int i = 0; i < 4; i++)
		ok &= (fds[i] = raw_connect(s->port)) >= 0;
	if (!ok)
		goto out;
	snprintf(req, sizeof(req), "POST /api/snapshots HTTP/1.1\r\nHost: x\r\n"
		 "Accept: text/event-stream\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s", sizeof(post) - 1, post);
	ok = !raw_send(fds[0], "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n", 0) &&
	     raw_read_until(fds[0], &b, "retry:", 30000) == 1;
	sc_buf_reset(&b);
	ok = ok && !raw_send(fds[1], req, 0) &&
	     raw_read_until(fds[1], &b, "retry:", 30000) == 1;
	sc_buf_reset(&b);
	ok = ok && !raw_ws_open(fds[2], "/api/ws") &&
	     !raw_ws_text(fds[2], "{\"op\":\"subscribe\"}") &&
	     raw_read_until(fds[2], &b, "\"subscribed\"", 30000) == 1;
	ok = ok && !raw_send(fds[3], "GET /api/events/poll?timeout=60 HTTP/1.1\r\n"
			     "Host: x\r\n\r\n", 0);
	ok = ok && subscribers_are(s, 2, 1, 1);
out:
	sc_buf_free(&b);
	return ok;
}

TEST(stop_with_subscribers)
{
	static const int rounds[][3] = {
		{SIGTERM, 0}, {SIGINT, 0}, {SIGTERM, SIGTERM, 0},
		{SIGINT, SIGINT, 0}, {SIGTERM, 0}};
	for (size_t i = 0; i < sizeof(rounds) / sizeof(rounds[0]); i++) {
		struct srv s;
		int fds[4] = {-1, -1, -1, -1};
		REQUIRE(!srv_start(&s, Data, NoBrowser));
		CHECK(open_subscribers(&s, fds));
		int st = stop_with(&s, rounds[i]);
		if (st)
			fprintf(stderr, "round %zu: exit status %d\n", i + 1, st);
		CHECK_EQ_INT(st, 0);
		for (int k = 0; k < 4; k++)
			if (fds[k] >= 0)
				close(fds[k]);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-conn-XXXXXX";
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(Data, sizeof(Data), "%s/data", tmpl);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	(void)srv_jnum; /* a harness helper these tests do not need */
	RUN(stop_with_subscribers);
	int rc = test_report();
	curl_global_cleanup();
	if (!rc)
		(void)!sc_remove_tree(tmpl);
	return rc;
}
