/*
 * test_http.c — `snapcat serve` against the browser it runs beside, and
 * strict request bodies, over real sockets. No capture runs: the server's
 * only --browser is a closed port (jobs stay queued).
 *
 *   cross-site: POST text/plain to /api/links, /api/import, /api/backup
 *   with a foreign Origin, or with Sec-Fetch-Site cross-site / same-site
 *   and no Origin -> 403 and nothing done; the feeds too; without Origin
 *   (curl, the CLI) and from the server's own origin -> done
 *   Host: evil.example:PORT -> 421 on the API, the admin page, the SSE
 *   feed, /metrics (not /healthz); localhost, 127.0.0.1, [::1], a --host
 *   name (command line or --config) -> served
 *   WebSocket upgrades: foreign Origin or Host refused, own origin, a
 *   --cors-origin and no Origin accepted
 *   JSON: data after the value, \u0000 in url / tags / title / options /
 *   webhook / tag fields, a JSON import with \u0000 -> 400, nothing stored
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fixture.h"
#include "srv_harness.h"
#include "testhelp.h"

static struct fixture F;
static struct srv S;
static char Data[256];

/* One request with a Content-Type of its own (NULL: none) and up to two
 * more header lines (NULL: none). */
static long req(struct srv *s, const char *method, const char *path,
		const char *body, const char *ctype, const char *h1,
		const char *h2, struct srv_resp *r)
{
	const char *hdrs[3] = {h1 ? h1 : h2, h1 ? h2 : NULL, NULL};
	return srv_req_ct(s, method, path, body, ctype, hdrs, r);
}

/* The status and error code of one request; frees the answer. */
static long status_code(struct srv *s, const char *method, const char *path,
			const char *body, const char *ctype, const char *h1,
			const char *h2, char *code, size_t clen)
{
	struct srv_resp r;
	long st = req(s, method, path, body, ctype, h1, h2, &r);
	if (code)
		snprintf(code, clen, "%s", srv_jstr(r.json, "error.code")
				 ? srv_jstr(r.json, "error.code") : "");
	srv_resp_free(&r);
	return st;
}

/* Send raw request text on a new connection; the status of the answer's
 * first line (0 if none within 30 s). Does not wait for a body: an SSE
 * stream or an upgraded WebSocket stays open. */
static int raw_status(int port, const char *text)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), st = 0;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	char buf[256];
	size_t got = 0;
	int64_t until = sc_now_ms() + 30000;
	while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got) &&
	       sc_now_ms() < until) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1000) <= 0)
			continue;
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	close(fd);
	if (sscanf(buf, "HTTP/1.%*d %d", &st) != 1)
		st = 0;
	return st;
}

/* GET path with the given Host (and optional extra header line). */
static int raw_get(int port, const char *path, const char *host,
		   const char *extra)
{
	char t[1024];
	snprintf(t, sizeof(t), "GET %s HTTP/1.1\r\nHost: %s\r\n%s%s"
		 "Accept: text/event-stream\r\n\r\n", path, host,
		 extra ? extra : "", extra ? "\r\n" : "");
	return raw_status(port, t);
}

/* A WebSocket upgrade of /api/ws; origin and host may be NULL (absent). */
static int ws_upgrade(int port, const char *host, const char *origin)
{
	char t[1024], hl[300] = "", ol[300] = "";
	if (host)
		snprintf(hl, sizeof(hl), "Host: %s\r\n", host);
	if (origin)
		snprintf(ol, sizeof(ol), "Origin: %s\r\n", origin);
	snprintf(t, sizeof(t), "GET /api/ws HTTP/1.1\r\n%s%sUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: "
		 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		 hl, ol);
	return raw_status(port, t);
}

static int count(struct srv *s, const char *path, const char *key)
{
	struct srv_resp r;
	srv_req(s, "GET", path, NULL, NULL, &r);
	int n = r.status == 200 ? cJSON_GetArraySize(cJSON_GetObjectItem(
					  r.json, key))
				: -1;
	srv_resp_free(&r);
	return n;
}

static const char LINK_BODY[] = "{\"url\":\"http://cross.example/\"}";
static const char IMPORT_BODY[] = "[{\"url\":\"http://imported.example/\"}]";

/* The three state-changing routes of the issue, each with the headers. */
static void post_three(const char *h1, const char *h2, long want)
{
	char code[64];
	CHECK_EQ_INT(status_code(&S, "POST", "/api/links", LINK_BODY,
				 "text/plain", h1, h2, code, sizeof(code)), want);
	if (want == 403)
		CHECK_STR(code, "cross_origin");
	CHECK_EQ_INT(status_code(&S, "POST", "/api/import", IMPORT_BODY,
				 "text/plain", h1, h2, code, sizeof(code)),
		     want == 403 ? 403 : 202);
	CHECK_EQ_INT(status_code(&S, "POST", "/api/backup", NULL, "text/plain",
				 h1, h2, code, sizeof(code)),
		     want == 403 ? 403 : 202);
}

TEST(cross_site_posts_refused)
{
	post_three("Origin: http://evil.example", NULL, 403);
	post_three("Origin: null", NULL, 403);
	/* another port of this host is another origin (same site) */
	post_three("Origin: http://127.0.0.1:1", NULL, 403);
	post_three("Sec-Fetch-Site: cross-site", NULL, 403);
	post_three("Sec-Fetch-Site: same-site", NULL, 403);
	CHECK_EQ_INT(status_code(&S, "DELETE", "/api/links/1", NULL, NULL,
				 "Origin: http://evil.example", NULL, NULL, 0),
		     403);
	CHECK_EQ_INT(count(&S, "/api/links", "items"), 0);
	CHECK_EQ_INT(count(&S, "/api/imports", "items"), 0);
	/* the feeds stream private data: refused too; plain reads are left
	 * to the browser's same-origin policy (no CORS headers are sent) */
	char o[64];
	CHECK_EQ_INT(raw_get(S.port, "/api/events", "127.0.0.1",
			     "Origin: http://evil.example"), 403);
	CHECK_EQ_INT(raw_get(S.port, "/api/events/poll", "127.0.0.1",
			     "Sec-Fetch-Site: cross-site"), 403);
	char h[64];
	snprintf(o, sizeof(o), "Origin: http://127.0.0.1:%d", S.port);
	snprintf(h, sizeof(h), "127.0.0.1:%d", S.port);
	CHECK_EQ_INT(raw_get(S.port, "/api/events", h, o), 200);
	CHECK_EQ_INT(status_code(&S, "GET", "/api/links", NULL, NULL,
				 "Origin: http://evil.example", NULL, NULL, 0),
		     200);
}

TEST(non_browser_and_same_origin_accepted)
{
	char own[96], host[96];
	post_three(NULL, NULL, 201); /* curl, the CLI: no Origin */
	snprintf(own, sizeof(own), "Origin: http://127.0.0.1:%d", S.port);
	CHECK_EQ_INT(status_code(&S, "POST", "/api/links",
				 "{\"url\":\"http://own.example/\"}",
				 "text/plain", own, "Sec-Fetch-Site: same-origin",
				 NULL, 0), 201);
	snprintf(own, sizeof(own), "Origin: http://LOCALHOST:%d", S.port);
	snprintf(host, sizeof(host), "Host: localhost:%d", S.port);
	CHECK_EQ_INT(status_code(&S, "POST", "/api/links",
				 "{\"url\":\"http://own2.example/\"}",
				 "application/json", own, host, NULL, 0), 201);
	struct srv_resp r;
	CHECK_EQ_INT(req(&S, "POST", "/api/links",
			 "{\"url\":\"http://typed.example/\"}",
			 "application/json", "Sec-Fetch-Site: none", NULL, &r),
		     201);
	CHECK(srv_jnum(r.json, "job.id") > 0);
	srv_resp_free(&r);
	CHECK_EQ_INT(count(&S, "/api/links?q=own2.example", "items"), 1);
}

/* tmpl with its first "%d" (if any) replaced by port, into out: the
 * tables below read like formats without being passed to printf. */
static void host_of(char *out, size_t n, const char *tmpl, int port)
{
	const char *d = strstr(tmpl, "%d");
	if (d)
		snprintf(out, n, "%.*s%d%s", (int)(d - tmpl), tmpl, port, d + 2);
	else
		snprintf(out, n, "%s", tmpl);
}

TEST(host_checked)
{
	char evil[96], h[160];
	snprintf(evil, sizeof(evil), "evil.example:%d", S.port);
	/* (lws answers "/compare" with its redirect to "/compare/" before
	 * any callback: a 301 that shows nothing) */
	static const char *const paths[] = {"/api/links", "/", "/index.html",
					    "/js/main.js", "/compare/", "/metrics",
					    "/api/events", "/api/browsers"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		int st = raw_get(S.port, paths[i], evil, NULL);
		if (st != 421)
			fprintf(stderr, "Host %s: GET %s -> %d\n", evil, paths[i], st);
		CHECK_EQ_INT(st, 421);
	}
	snprintf(h, sizeof(h), "Host: %s", evil);
	char code[64];
	CHECK_EQ_INT(status_code(&S, "POST", "/api/links",
				 "{\"url\":\"http://rebound.example/\"}",
				 "application/json", h, NULL, code, sizeof(code)),
		     421);
	CHECK_STR(code, "misdirected");
	CHECK_EQ_INT(count(&S, "/api/links?q=rebound", "items"), 0);
	static const char *const bad[] = {
		"evil.example", "localhost.evil.example:%d", "127.0.0.1.nip.io:%d",
		"foo.localhost:%d", "127.0.0.2:%d", "[::2]:%d", "local host:%d",
		"localhost:%dx", "[::1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		host_of(h, sizeof(h), bad[i], S.port);
		CHECK_EQ_INT(raw_get(S.port, "/api/links", h, NULL), 421);
	}
	/* a health probe may name the server anything: documented */
	CHECK_EQ_INT(raw_get(S.port, "/healthz", evil, NULL), 200);
	static const char *const good[] = {
		"localhost:%d", "127.0.0.1:%d", "[::1]:%d", "LocalHost:%d",
		"127.0.0.1", "[0:0::1]:%d"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		host_of(h, sizeof(h), good[i], S.port);
		CHECK_EQ_INT(raw_get(S.port, "/api/links", h, NULL), 200);
		CHECK_EQ_INT(raw_get(S.port, "/", h, NULL), 200);
		CHECK_EQ_INT(raw_get(S.port, "/api/events", h, NULL), 200);
	}
}

TEST(websocket_origin)
{
	char own[96], host[96];
	snprintf(host, sizeof(host), "127.0.0.1:%d", S.port);
	snprintf(own, sizeof(own), "http://127.0.0.1:%d", S.port);
	CHECK_EQ_INT(ws_upgrade(S.port, host, "http://evil.example"), 403);
	CHECK_EQ_INT(ws_upgrade(S.port, host, "http://127.0.0.1:1"), 403);
	CHECK_EQ_INT(ws_upgrade(S.port, host, "null"), 403);
	CHECK_EQ_INT(ws_upgrade(S.port, host, own), 101);
	CHECK_EQ_INT(ws_upgrade(S.port, host, NULL), 101); /* not a browser */
	snprintf(host, sizeof(host), "evil.example:%d", S.port);
	snprintf(own, sizeof(own), "http://evil.example:%d", S.port);
	CHECK_EQ_INT(ws_upgrade(S.port, host, own), 421); /* DNS rebinding */
}

/* --host (from the command line and from --config) and --cors-origin. */
TEST(host_flag_and_cors_origin)
{
	char dir[300], conf[300], h[96], o[96];
	snprintf(conf, sizeof(conf), "%s-conf", Data);
	FILE *f = fopen(conf, "w");
	REQUIRE(f);
	fputs("host = from-config.test\n", f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s-hosts", Data);
	struct srv t;
	REQUIRE(!srv_start(&t, dir, (const char *[]){
		"--browser", "http://127.0.0.1:1", "--config", conf,
		"--cors-origin", "http://allowed.example:8000, http://b.example",
		NULL}));
	snprintf(h, sizeof(h), "from-config.test:%d", t.port);
	CHECK_EQ_INT(raw_get(t.port, "/api/links", h, NULL), 200);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
	REQUIRE(!srv_start(&t, dir, (const char *[]){
		"--browser", "http://127.0.0.1:1", "--config", conf,
		"--host", "snap.test", "--host", "a.test, [fd00::1]",
		"--cors-origin", "http://allowed.example:8000, http://b.example",
		NULL}));
	static const char *const good[] = {"snap.test:%d", "SNAP.test",
					   "a.test:%d", "[fd00::1]:%d",
					   "localhost:%d"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		host_of(h, sizeof(h), good[i], t.port);
		CHECK_EQ_INT(raw_get(t.port, "/", h, NULL), 200);
	}
	/* the command line's --host replaces the file's */
	snprintf(h, sizeof(h), "from-config.test:%d", t.port);
	CHECK_EQ_INT(raw_get(t.port, "/", h, NULL), 421);
	CHECK_EQ_INT(raw_get(t.port, "/", "other.test", NULL), 421);
	/* its own origin under a --host name, and the --cors-origin ones */
	snprintf(h, sizeof(h), "Host: snap.test:%d", t.port);
	snprintf(o, sizeof(o), "Origin: http://snap.test:%d", t.port);
	CHECK_EQ_INT(status_code(&t, "POST", "/api/links",
				 "{\"url\":\"http://a.example/\"}", "text/plain",
				 h, o, NULL, 0), 201);
	CHECK_EQ_INT(status_code(&t, "POST", "/api/links",
				 "{\"url\":\"http://b.example/\"}", "text/plain",
				 "Origin: http://allowed.example:8000", NULL, NULL,
				 0), 201);
	CHECK_EQ_INT(status_code(&t, "POST", "/api/links",
				 "{\"url\":\"http://c.example/\"}", "text/plain",
				 "Origin: http://b.example", NULL, NULL, 0), 201);
	CHECK_EQ_INT(status_code(&t, "POST", "/api/links",
				 "{\"url\":\"http://d.example/\"}", "text/plain",
				 "Origin: http://allowed.example:8001", NULL, NULL,
				 0), 403);
	snprintf(h, sizeof(h), "127.0.0.1:%d", t.port);
	CHECK_EQ_INT(ws_upgrade(t.port, h, "http://allowed.example:8000"), 101);
	CHECK_EQ_INT(ws_upgrade(t.port, h, "http://evil.example"), 403);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
}

/* A token does not lift the checks (the token may sit in a URL). */
TEST(token_mode_checks_too)
{
	char dir[300], h[96];
	snprintf(dir, sizeof(dir), "%s-token", Data);
	struct srv t;
	REQUIRE(!srv_start(&t, dir, (const char *[]){
		"--browser", "http://127.0.0.1:1", "--token", "tok", NULL}));
	snprintf(h, sizeof(h), "evil.example:%d", t.port);
	CHECK_EQ_INT(raw_get(t.port, "/api/links?token=tok", h, NULL), 421);
	CHECK_EQ_INT(status_code(&t, "POST", "/api/links?token=tok", LINK_BODY,
				 "text/plain", "Origin: http://evil.example",
				 NULL, NULL, 0), 403);
	CHECK_EQ_INT(status_code(&t, "POST", "/api/links?token=tok", LINK_BODY,
				 "text/plain", NULL, NULL, NULL, 0), 201);
	CHECK_EQ_INT(srv_stop(&t, SIGTERM), 0);
}

/* 400 bad_json for body, and no link of url_part stored. */
static void bad_json(const char *method, const char *path, const char *body,
		     const char *q)
{
	char code[64];
	long st = status_code(&S, method, path, body, "application/json", NULL,
			      NULL, code, sizeof(code));
	if (st != 400)
		fprintf(stderr, "%s %s %s -> %ld\n", method, path, body, st);
	CHECK_EQ_INT(st, 400);
	CHECK_STR(code, "bad_json");
	if (q) {
		char p[128];
		snprintf(p, sizeof(p), "/api/links?q=%s", q);
		CHECK_EQ_INT(count(&S, p, "items"), 0);
	}
}

TEST(json_strict)
{
	bad_json("POST", "/api/links", "{\"url\":\"http://trail.example/\"} xyz", "trail");
	bad_json("POST", "/api/links", "{\"url\":\"http://trail2.example/\"}}", "trail2");
	bad_json("POST", "/api/links", "{\"url\":\"http://trail3.example/\"}{}", "trail3");
	bad_json("POST", "/api/links", "{\"url\":\"http://nul.example/\\u0000.evil/\"}",
		 "nul");
	bad_json("POST", "/api/links", "{\"url\":\"http://nul2.example/\",\"tags\":"
		 "[\"a\\u0000b\"]}", "nul2");
	bad_json("PATCH", "/api/links/1", "{\"title\":\"t\\u0000\"}", NULL);
	bad_json("POST", "/api/links", "{\"url\":\"http://nul4.example/\",\"options\":"
		 "{\"user_agent\":\"x\\u0000y\"}}", "nul4");
	bad_json("POST", "/api/webhooks", "{\"url\":\"http://127.0.0.1:1/\\u0000x\"}",
		 NULL);
	bad_json("PATCH", "/api/tags/x", "{\"name\":\"n\\u0000\"}", NULL);
	CHECK_EQ_INT(count(&S, "/api/webhooks", "items"), 0);
	char code[64]; /* an import file is not a JSON body: its own code */
	CHECK_EQ_INT(status_code(&S, "POST", "/api/import",
				 "[{\"url\":\"http://imp-nul.example/\\u0000x\"}]",
				 "application/json", NULL, NULL, code,
				 sizeof(code)), 400);
	CHECK_STR(code, "invalid_import");
	/* an escaped backslash before u0000 is text, not a NUL; blanks
	 * after the value are fine */
	CHECK_EQ_INT(status_code(&S, "POST", "/api/links",
				 "{\"url\":\"http://esc.example/\",\"tags\":"
				 "[\"a\\\\u0000\"]} \r\n", "application/json",
				 NULL, NULL, NULL, 0), 201);
	struct srv_resp r;
	srv_req(&S, "GET", "/api/links?q=esc.example", NULL, NULL, &r);
	const cJSON *tag = cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), 0),
		"tags"), 0);
	CHECK(cJSON_IsString(tag) && !strcmp(tag->valuestring, "a\\u0000"));
	srv_resp_free(&r);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-http-XXXXXX";
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F) ||
	    srv_start(&S, Data, (const char *[]){"--browser",
						 "http://127.0.0.1:1", NULL}))
		return 1;
	RUN(cross_site_posts_refused);
	RUN(non_browser_and_same_origin_accepted);
	RUN(host_checked);
	RUN(websocket_origin);
	RUN(json_strict);
	RUN(host_flag_and_cors_origin);
	RUN(token_mode_checks_too);
	return srv_test_finish(&S, tmpl, &F);
}
