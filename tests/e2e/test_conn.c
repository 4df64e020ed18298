/*
 * test_conn.c — `snapcat serve` connections over raw sockets, no browser
 * (the --browser endpoint is unreachable: jobs stay queued):
 *
 *   1. stop with a live subscriber of every channel (SSE, WebSocket,
 *      long-poll, a POST /api/snapshots event stream), five rounds: SIGTERM,
 *      SIGINT, and two signals at once (the "stop now" path): each exits 0
 *      (under ASan too: no double free, no use after free, no leak).
 *   2. keep-alive: requests one after the other on one connection (GET,
 *      POST with a body, HEAD, PATCH with Content-Length: 0, /healthz);
 *      pipelining: several requests in one write get the first answer, then
 *      EOF at once, the others not run (GETs; a POST behind a GET; a DELETE
 *      behind a POST; a long-poll behind a GET), and the server keeps
 *      answering others (no busy loop); a request behind an event stream
 *      closes it at once.
 *   3. chunked bodies (Transfer-Encoding: chunked, what curl -T - sends):
 *      POST /api/links and /api/import decoded and answered at once (split
 *      writes, extensions, trailers), 100 Continue for Expect, libcurl's
 *      upload; malformed framing 400, Content-Length with it 400, another
 *      coding 501; an announced body over the cap 413 before it is sent.
 *   4. slow bodies (--body-timeout 2 --body-min-rate 1000): a stalled body
 *      (Content-Length or chunked) gets 408 and EOF after ~2 s; a body that
 *      keeps the rate is answered past the 2 s.
 *   5. an answer larger than the socket buffers and than one turn of the
 *      sender (a 15 MB export to a client with a 4 KiB receive buffer)
 *      arrives whole, and the connection is kept; an answer later than
 *      lws's 30 s timeout (a long-poll of 33 s) is still delivered.
 */
#include <signal.h>
#include <sys/wait.h>

#include "raw_http.h"
#include "srv_harness.h"
#include "testhelp.h"

static char Data[256];
static struct srv S; /* tests 2-5 share one server */

/* b's text ("" when nothing came). */
static const char *txt(const struct sc_buf *b)
{
	return b->data ? b->data : "";
}

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
		const char *p = strstr(txt(&r.body), key);
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
	snprintf(req, sizeof(req), "POST /api/snapshots HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Accept: text/event-stream\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s", sizeof(post) - 1, post);
	ok = !raw_send(fds[0], "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 0) &&
	     raw_read_until(fds[0], &b, "retry:", 30000) == 1;
	sc_buf_reset(&b);
	ok = ok && !raw_send(fds[1], req, 0) &&
	     raw_read_until(fds[1], &b, "retry:", 30000) == 1;
	sc_buf_reset(&b);
	ok = ok && !raw_ws_open(fds[2], "/api/ws") &&
	     !raw_ws_text(fds[2], "{\"op\":\"subscribe\"}") &&
	     raw_read_until(fds[2], &b, "\"subscribed\"", 30000) == 1;
	ok = ok && !raw_send(fds[3], "GET /api/events/poll?timeout=60 HTTP/1.1\r\n"
			     "Host: 127.0.0.1\r\n\r\n", 0);
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

/* ---- raw exchanges ---- */

/* Send req (len 0: strlen) on a new connection, then read until n answers
 * are complete, EOF (*eof = 1) or ms passed. Statuses into st, the bytes
 * into b. Returns the socket (the caller closes it), or -1. */
static int exchange(const char *req, size_t len, int n, int *st, int *eof,
		    struct sc_buf *b, int64_t ms)
{
	int fd = raw_connect(S.port);
	int64_t until = sc_now_ms() + ms;
	*eof = 0;
	if (fd < 0 || raw_send(fd, req, len))
		return fd;
	while (raw_responses(b, st, n) < n) {
		int rc = raw_read_some(fd, b, until - sc_now_ms());
		if (rc <= 0) {
			*eof = rc == 0;
			break;
		}
	}
	return fd;
}

/* Read on fd until EOF: 1 if it came within ms. */
static int eof_within(int fd, struct sc_buf *b, int64_t ms)
{
	return raw_read_eof(fd, b, ms) == 0;
}

/* The n-th (0-based) answer body in b: after its blank line. */
static const char *body_of(const struct sc_buf *b, int n)
{
	const char *p = txt(b);
	for (int i = 0; p && i <= n; i++) {
		p = strstr(p, "\r\n\r\n");
		if (p)
			p += 4;
		if (p && i < n)
			p = strstr(p, "HTTP/1.");
	}
	return p ? p : "";
}

/* GET /healthz answers 200 within ms. */
static int healthy_within(int64_t ms)
{
	struct srv_resp r;
	int64_t t0 = sc_now_ms();
	long st = srv_req(&S, "GET", "/healthz", NULL, NULL, &r);
	srv_resp_free(&r);
	return st == 200 && sc_now_ms() - t0 <= ms;
}

/* Links whose URL contains needle (GET /api/links?q=), or -1. */
static int links_with(const char *needle)
{
	struct srv_resp r;
	char path[256];
	snprintf(path, sizeof(path), "/api/links?q=%s", needle);
	int n = srv_req(&S, "GET", path, NULL, NULL, &r) == 200
			? cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items"))
			: -1;
	srv_resp_free(&r);
	return n;
}

#define H "Host: 127.0.0.1\r\n"
#define LINK_JSON(name) "{\"url\":\"http://127.0.0.1:9/" name "\"}"

/* "POST /api/links" with json as a Content-Length body, into buf. */
static const char *post_link(char *buf, size_t len, const char *json)
{
	snprintf(buf, len, "POST /api/links HTTP/1.1\r\n" H "Content-Length: "
		 "%zu\r\n\r\n%s", strlen(json), json);
	return buf;
}

/* data as one chunk ("SIZE[ext]\r\ndata\r\n"), into buf. */
static const char *chunk(char *buf, size_t len, const char *ext,
			 const char *data)
{
	snprintf(buf, len, "%zx%s\r\n%s\r\n", strlen(data), ext, data);
	return buf;
}

/* One request on fd, its answer read: the status, or 0 (none in ms). */
static int one(int fd, const char *req, struct sc_buf *b, int64_t ms)
{
	int st[2] = {0};
	int64_t until = sc_now_ms() + ms;
	sc_buf_reset(b);
	if (raw_send(fd, req, 0))
		return 0;
	if (!strncmp(req, "HEAD ", 5)) /* a head, and no body after it */
		return raw_read_until(fd, b, "\r\n\r\n", ms) == 1 &&
		       sscanf(txt(b), "HTTP/1.1 %d", &st[0]) == 1 ? st[0] : 0;
	while (raw_responses(b, st, 1) < 1 &&
	       raw_read_some(fd, b, until - sc_now_ms()) > 0)
		;
	return raw_responses(b, st, 1) == 1 ? st[0] : 0;
}

TEST(keep_alive)
{
	struct sc_buf b;
	char post[512];
	sc_buf_init(&b, 4 << 20);
	int fd = raw_connect(S.port);
	REQUIRE(fd >= 0);
	/* one after the other on one connection, each after the last answer */
	CHECK_EQ_INT(one(fd, "GET /api/tags HTTP/1.1\r\n" H "\r\n", &b, 10000), 200);
	CHECK_EQ_INT(one(fd, post_link(post, sizeof(post), LINK_JSON("kept")),
			 &b, 10000), 201);
	CHECK_EQ_INT(one(fd, "HEAD /api/links HTTP/1.1\r\n" H "\r\n", &b, 10000),
		     200);
	CHECK_EQ_INT(one(fd, "PATCH /api/links/1 HTTP/1.1\r\n" H
			 "Content-Length: 0\r\n\r\n", &b, 10000), 400);
	CHECK_EQ_INT(one(fd, "GET /healthz HTTP/1.1\r\n" H "\r\n", &b, 10000), 200);
	close(fd);
	/* first on a connection, a file the admin page's mount does not have:
	 * lws hands it to the API's protocol without binding it (and frees
	 * its pss unannounced when the transaction ends) */
	fd = raw_connect(S.port);
	CHECK_EQ_INT(one(fd, "GET /no-such-file.txt HTTP/1.1\r\n" H "\r\n", &b,
			 10000), 404);
	CHECK_EQ_INT(one(fd, "GET /api/tags HTTP/1.1\r\n" H "\r\n", &b, 10000),
		     200);
	close(fd);
	fd = raw_connect(S.port); /* a new connection after it */
	CHECK_EQ_INT(one(fd, "GET /api/tags HTTP/1.1\r\n" H "\r\n", &b, 10000),
		     200);
	close(fd);
	sc_buf_free(&b);
}

/* req (several requests in one write): the first answered with status,
 * then EOF soon; the rest neither answered nor run. */
static void first_then_close(const char *req, int status)
{
	struct sc_buf b;
	int st[4] = {0}, eof;
	sc_buf_init(&b, 4 << 20);
	int64_t t0 = sc_now_ms();
	int fd = exchange(req, 0, 2, st, &eof, &b, 10000);
	CHECK_EQ_INT(raw_responses(&b, st, 4), 1);
	CHECK_EQ_INT(st[0], status);
	CHECK(eof || eof_within(fd, &b, 10000)); /* was: silence for 30 s */
	CHECK(sc_now_ms() - t0 < 10000);
	close(fd);
	sc_buf_free(&b);
	CHECK(healthy_within(5000)); /* was: a busy loop, no answer at all */
}

TEST(pipelining)
{
	char req[1024], post[512];
	first_then_close("GET /api/tags HTTP/1.1\r\n" H "\r\n"
			 "GET /healthz HTTP/1.1\r\n" H "\r\n"
			 "GET /api/links?limit=1 HTTP/1.1\r\n" H "\r\n", 200);
	snprintf(req, sizeof(req), "GET /api/tags HTTP/1.1\r\n" H "\r\n%s",
		 post_link(post, sizeof(post), LINK_JSON("behind-a-get")));
	first_then_close(req, 200);
	CHECK_EQ_INT(links_with("behind-a-get"), 0);
	snprintf(req, sizeof(req), "%sDELETE /api/links/1 HTTP/1.1\r\n" H "\r\n",
		 post_link(post, sizeof(post), LINK_JSON("before-a-delete")));
	first_then_close(req, 201);
	CHECK_EQ_INT(links_with("before-a-delete"), 1);
	CHECK_EQ_INT(links_with("kept"), 1); /* not deleted */
	first_then_close("GET /api/tags HTTP/1.1\r\n" H "\r\n"
			 "GET /api/events/poll?timeout=30 HTTP/1.1\r\n" H "\r\n",
			 200);

	/* a request behind an event stream: closed at once, not in 30 s */
	struct sc_buf b;
	int st[2], eof;
	sc_buf_init(&b, 1 << 20);
	int64_t t0 = sc_now_ms();
	int fd = exchange("GET /api/events HTTP/1.1\r\n" H "\r\n"
			  "GET /api/tags HTTP/1.1\r\n" H "\r\n", 0, 2, st, &eof,
			  &b, 10000);
	CHECK(eof || eof_within(fd, &b, 10000));
	CHECK(sc_now_ms() - t0 < 10000);
	close(fd);
	sc_buf_free(&b);
}

/* POST path with a chunked body made of the parts (NULL-terminated), each
 * its own write; the answer's status, and its body into b. */
static int post_chunked(const char *path, const char *const *parts,
			struct sc_buf *b, int *eof)
{
	char head[256];
	int st[2] = {0};
	snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\n" H
		 "Transfer-Encoding: chunked\r\n\r\n", path);
	int fd = raw_connect(S.port);
	if (fd < 0 || raw_send(fd, head, 0))
		return -1;
	for (; *parts; parts++)
		if (raw_send(fd, *parts, 0))
			return -1;
	int64_t until = sc_now_ms() + 10000;
	while (raw_responses(b, st, 1) < 1 &&
	       raw_read_some(fd, b, until - sc_now_ms()) > 0)
		;
	*eof = raw_responses(b, st, 1) == 1 && eof_within(fd, b, 10000);
	close(fd);
	return st[0];
}

/* libcurl uploading a body of unknown size: chunked, with Expect. */
static size_t upload_cb(char *p, size_t sz, size_t n, void *ud)
{
	const char **src = ud;
	size_t len = strlen(*src) < sz * n ? strlen(*src) : sz * n;
	memcpy(p, *src, len);
	*src += len;
	return len;
}

static long curl_upload(const char *path, const char *body)
{
	char url[256];
	long st = 0;
	snprintf(url, sizeof(url), "%s%s", S.base, path);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, srv_write_cb);
	struct sc_buf out;
	sc_buf_init(&out, 1 << 20);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	sc_buf_free(&out);
	return st;
}

TEST(chunked_bodies)
{
	struct sc_buf b;
	int eof, st[2] = {0}, fd;
	char c1[256], c2[256], c3[256];
	sc_buf_init(&b, 4 << 20);
	int64_t t0 = sc_now_ms();
	chunk(c2, sizeof(c2), "", "tp://127.0.0.1:9/chunked-1\"}");
	CHECK_EQ_INT(post_chunked("/api/links", (const char *[]){
		chunk(c1, sizeof(c1), ";name=\"x\"", "{\"url\":\"ht"),
		"1", c2 + 1, /* the size line split in two writes */
		"0\r\nX-Trailer: t\r\n\r\n", NULL}, &b, &eof), 201);
	CHECK(eof); /* chunked: the connection closes after the answer */
	fprintf(stderr, "chunked POST /api/links answered in %lld ms\n",
		(long long)(sc_now_ms() - t0));
	CHECK(sc_now_ms() - t0 < 10000); /* was: no answer in 30 s */
	CHECK_EQ_INT(links_with("chunked-1"), 1);

	sc_buf_reset(&b);
	CHECK_EQ_INT(post_chunked("/api/import?format=urls&capture=0",
		(const char *[]){
			chunk(c1, sizeof(c1), "", "http://127.0.0.1:9/imp-1\n"),
			chunk(c2, sizeof(c2), "", "http://127.0.0.1:9/imp-2\n"),
			"0\r\n\r\n", NULL}, &b, &eof), 202);
	cJSON *j = cJSON_Parse(body_of(&b, 0));
	CHECK(srv_jnum(j, "import.total") == 2);
	cJSON_Delete(j);

	/* Expect: 100-continue: the interim answer comes before the body */
	sc_buf_reset(&b);
	fd = raw_connect(S.port);
	CHECK(!raw_send(fd, "POST /api/links HTTP/1.1\r\n" H "Transfer-Encoding:"
			" chunked\r\nExpect: 100-continue\r\n\r\n", 0));
	CHECK(raw_read_until(fd, &b, "HTTP/1.1 100 Continue\r\n\r\n", 10000) == 1);
	CHECK(!raw_send(fd, chunk(c3, sizeof(c3), "", LINK_JSON("chunked-2")), 0) &&
	      !raw_send(fd, "0\r\n\r\n", 0));
	CHECK(raw_read_until(fd, &b, "chunked-2", 10000) == 1 &&
	      strstr(txt(&b), "HTTP/1.1 201"));
	close(fd);
	CHECK_EQ_INT(curl_upload("/api/links", LINK_JSON("chunked-3")), 201);

	/* framing refused at once, and the connection closed */
	static const struct { const char *req; int status; } bad[] = {
		{"POST /api/links HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
		 "\r\nzz\r\n", 400},
		{"POST /api/links HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
		 "Content-Length: 5\r\n\r\n0\r\n\r\n", 400},
		{"POST /api/links HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n"
		 "\r\n", 501},
		{"POST /api/links HTTP/1.1\r\n" H "Content-Length: 9999999\r\n"
		 "Expect: 100-continue\r\n\r\n", 413}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sc_buf_reset(&b);
		fd = exchange(bad[i].req, 0, 1, st, &eof, &b, 10000);
		CHECK_EQ_INT(st[0], bad[i].status);
		CHECK(eof || eof_within(fd, &b, 10000));
		close(fd);
	}
	sc_buf_free(&b);
}

TEST(slow_bodies)
{
	struct sc_buf b;
	int eof, st[2] = {0}, fd;
	sc_buf_init(&b, 1 << 20);
	static const char *const stalls[] = {
		"POST /api/links HTTP/1.1\r\n" H "Content-Length: 1048000\r\n\r\n"
		"{\"url\":",
		"POST /api/links HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
		"400\r\n{\"url\":"};
	for (int i = 0; i < 2; i++) { /* ~10 bytes, then nothing */
		sc_buf_reset(&b);
		int64_t t0 = sc_now_ms();
		fd = exchange(stalls[i], 0, 1, st, &eof, &b, 30000);
		int64_t ms = sc_now_ms() - t0;
		fprintf(stderr, "stalled body %d: %d after %lld ms\n", i, st[0],
			(long long)ms);
		CHECK_EQ_INT(st[0], 408);
		CHECK(ms >= 1900 && ms < 30000);
		CHECK(eof || eof_within(fd, &b, 10000));
		close(fd);
	}
	/* 2000 B/s for 3 s: past the 2 s, within its allowance (1 s/1000 B) */
	char part[501], head[256];
	memset(part, ' ', 500);
	part[500] = 0;
	sc_buf_reset(&b);
	fd = raw_connect(S.port);
	snprintf(head, sizeof(head), "POST /api/links HTTP/1.1\r\n" H
		 "Content-Length: %zu\r\n\r\n", sizeof(LINK_JSON("steady")) - 1
		 + 12 * 500);
	CHECK(!raw_send(fd, head, 0) && !raw_send(fd, LINK_JSON("steady"), 0));
	for (int i = 0; i < 12; i++) { /* the client's pace: 500 B / 250 ms */
		CHECK(raw_read_some(fd, &b, 250) < 0); /* no answer meanwhile */
		CHECK(!raw_send(fd, part, 500));
	}
	CHECK(raw_read_until(fd, &b, "\r\n\r\n", 10000) == 1);
	CHECK(!strncmp(txt(&b), "HTTP/1.1 201", 12));
	close(fd);
	sc_buf_free(&b);
}

/* Import n links with long URLs; 1 once the import is done. */
static int import_links(int n)
{
	struct sc_buf body;
	struct srv_resp r;
	sc_buf_init(&body, 64 << 20);
	for (int i = 0; i < n; i++)
		if (sc_buf_printf(&body, "http://127.0.0.1:9/large-%d-%0200d\n", i, 0))
			return 0;
	long st = srv_req(&S, "POST", "/api/import?format=urls&capture=0",
			  body.data, NULL, &r);
	char path[64];
	snprintf(path, sizeof(path), "/api/imports/%lld",
		 (long long)srv_jnum(r.json, "import.id"));
	srv_resp_free(&r);
	sc_buf_free(&body);
	int64_t until = sc_now_ms() + 120000;
	while (st == 202 && sc_now_ms() < until) {
		srv_req(&S, "GET", path, NULL, NULL, &r);
		const char *state = srv_jstr(r.json, "import.state");
		int done = state && strcmp(state, "running");
		srv_resp_free(&r);
		if (done)
			return 1;
		poll(NULL, 0, 100); /* a state, re-read under a deadline */
	}
	return 0;
}

TEST(large_answer)
{
	/* an answer far over the socket buffers and over one turn of hold.c
	 * (1 MiB): sent as the client takes it (the watcher's POLLOUT), whole,
	 * and the connection is kept */
	REQUIRE(import_links(40000));
	int rcv = 4096, fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(S.port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	REQUIRE(!connect(fd, (struct sockaddr *)&a, sizeof(a)));
	struct sc_buf b;
	int st[2] = {0};
	sc_buf_init(&b, 64 << 20);
	CHECK(!raw_send(fd, "GET /api/export?format=json HTTP/1.1\r\n" H "\r\n", 0));
	int64_t until = sc_now_ms() + 120000;
	while (raw_responses(&b, st, 1) < 1 &&
	       raw_read_some(fd, &b, until - sc_now_ms()) > 0)
		;
	CHECK_EQ_INT(raw_responses(&b, st, 1), 1);
	CHECK_EQ_INT(st[0], 200);
	fprintf(stderr, "export: %zu bytes\n", b.len);
	CHECK(b.len > 8u << 20);
	cJSON *j = cJSON_Parse(body_of(&b, 0));
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "links")) >= 40000);
	cJSON_Delete(j);
	CHECK_EQ_INT(one(fd, "GET /healthz HTTP/1.1\r\n" H "\r\n", &b, 10000), 200);
	close(fd);
	sc_buf_free(&b);
}

TEST(answer_after_30s)
{
	struct srv_resp r;
	int64_t t0 = sc_now_ms();
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/events/poll?timeout=33&types=none",
			     NULL, NULL, &r), 200);
	CHECK(sc_now_ms() - t0 >= 32000);
	CHECK(r.body.data && !strcmp(r.body.data, "[]\n"));
	srv_resp_free(&r);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-conn-XXXXXX";
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(Data, sizeof(Data), "%s/data", tmpl);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(stop_with_subscribers);
	if (!srv_start(&S, Data, (const char *const[]){
			"--browser", NoBrowser[1], "--body-timeout", "2",
			"--body-min-rate", "1000", NULL})) {
		RUN(keep_alive);
		RUN(pipelining);
		RUN(chunked_bodies);
		RUN(slow_bodies);
		RUN(large_answer);
		RUN(answer_after_30s);
		CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
	} else {
		test_failed_total++;
	}
	int rc = test_report();
	curl_global_cleanup();
	if (!rc)
		(void)!sc_remove_tree(tmpl);
	return rc;
}
