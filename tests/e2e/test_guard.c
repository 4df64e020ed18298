/*
 * test_guard.c — the SSRF guard attacked from outside: every way a
 * captured page can try to reach a private address, against the real
 * `snapcat serve` and `snapcat capture --block-private` with a real
 * Chromium.
 *
 *   "public" pages: the fixture server on the loopback alias 127.0.0.2,
 *     which a test build judges public (SNAPCAT_TEST_PUBLIC), under the
 *     test names a.test and b.test (SNAPCAT_TEST_HOSTS; b.test is another
 *     site, so its iframes run out of process)
 *   the canary: 127.0.0.1:C and [::1]:C over TCP, 127.0.0.1:C over UDP;
 *     it records every connection and datagram. Every test asserts that it
 *     saw none — preconnects and WebRTC included — and that the capture
 *     itself worked (the page's own blue block is in the PNG)
 *
 * Attacks: a *.localhost name at submission, through an import, a
 * redirect and a sub-resource; a sub-resource, fetch, nested iframe and
 * worker inside a cross-site (out-of-process) iframe; WebSockets and
 * preconnects from the page and from the iframe; a navigation by script;
 * DNS rebinding (rebind.test answers 127.0.0.2 first, then 127.0.0.1);
 * STUN/TURN over UDP and TCP.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "fixture.h"
#include "img.h"
#include "px_check.h"
#include "srv_harness.h"
#include "testhelp.h"

static struct fixture F;  /* the "public" pages: 127.0.0.2 */
static struct srv S;
static char Data[256], Tmp[256];
static int C;             /* the canary's port */

/* ---- the canary ---- */

static struct {
	int tcp4, tcp6, udp4, stop[2];
	atomic_int contacts;
	pthread_t thread;
} Can = {.tcp4 = -1, .tcp6 = -1, .udp4 = -1, .stop = {-1, -1}};

static int can_socket(int family, int type, int port)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = family == AF_INET ? sizeof(a4) : sizeof(a6);
	struct sockaddr *sa = family == AF_INET ? (struct sockaddr *)&a4
						: (struct sockaddr *)&a6;
	a4.sin_port = a6.sin6_port = htons((uint16_t)port);
	int one = 1, fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, len) || (type == SOCK_STREAM && listen(fd, 64)) ||
	    getsockname(fd, sa, &len)) {
		close(fd);
		return -1;
	}
	C = ntohs(family == AF_INET ? a4.sin_port : a6.sin6_port);
	return fd;
}

static void can_note(int fd, int tcp)
{
	char buf[512];
	int c = tcp ? accept(fd, NULL, NULL) : fd;
	ssize_t n = c >= 0 ? recv(c, buf, sizeof(buf) - 1, MSG_DONTWAIT) : -1;
	buf[n > 0 ? n : 0] = 0;
	fprintf(stderr, "CANARY CONTACTED (%s): %.80s\n", tcp ? "tcp" : "udp",
		buf);
	if (tcp && c >= 0)
		close(c);
	atomic_fetch_add(&Can.contacts, 1);
}

static void *can_main(void *arg)
{
	for (;;) {
		struct pollfd p[4] = {{Can.tcp4, POLLIN, 0}, {Can.tcp6, POLLIN, 0},
				      {Can.udp4, POLLIN, 0},
				      {Can.stop[0], POLLIN, 0}};
		if (poll(p, 4, -1) < 0)
			continue;
		if (p[3].revents)
			return NULL;
		for (int i = 0; i < 3; i++)
			if (p[i].revents & POLLIN)
				can_note(p[i].fd, i < 2);
	}
}

static int can_start(void)
{
	if ((Can.tcp4 = can_socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    (Can.udp4 = can_socket(AF_INET, SOCK_DGRAM, C)) < 0 ||
	    pipe(Can.stop))
		return -1;
	Can.tcp6 = can_socket(AF_INET6, SOCK_STREAM, C); /* -1: no IPv6 */
	return pthread_create(&Can.thread, NULL, can_main, NULL) ? -1 : 0;
}

static void can_stop(void)
{
	(void)!write(Can.stop[1], "x", 1);
	pthread_join(Can.thread, NULL);
}

/* ---- pages ---- */

/* "http://HOST:PORT/page?html=..." with html percent-encoded; %C in html
 * becomes the canary's port. Static buffers, 4 in rotation. */
static const char *page(const char *host, const char *html)
{
	static char bufs[4][16384];
	static int k;
	char raw[4096], *out = bufs[k++ % 4];
	size_t o = 0;
	for (const char *s = html; *s && o < sizeof(raw) - 8; s++)
		if (s[0] == '%' && s[1] == 'C') {
			o += (size_t)snprintf(raw + o, sizeof(raw) - o, "%d", C);
			s++;
		} else {
			raw[o++] = *s;
		}
	raw[o] = 0;
	o = (size_t)snprintf(out, 512, "http://%s:%d/page?html=", host, F.port);
	for (const unsigned char *s = (const unsigned char *)raw; *s; s++)
		o += (size_t)(isalnum(*s) || strchr("-._~", *s)
			? snprintf(out + o, 4, "%c", *s)
			: snprintf(out + o, 4, "%%%02X", *s));
	return out;
}

/* The page's own content: a blue 400x200 block at (40,100). */
#define BLUE "<div style='position:absolute;left:40px;top:100px;" \
	     "width:400px;height:200px;background:#0000ff'></div>"

/* ---- helpers ---- */

static long add(const char *url, long long *link, long long *job)
{
	char body[16384];
	struct srv_resp r;
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	long st = srv_req(&S, "POST", "/api/links", body, NULL, &r);
	*link = (long long)srv_jnum(r.json, "link.id");
	*job = (long long)srv_jnum(r.json, "job.id");
	if (st != 201)
		fprintf(stderr, "POST /api/links: %ld %.*s\n", st,
			(int)r.body.len, r.body.data);
	srv_resp_free(&r);
	return st;
}

/* The job's end: its state, error class (or ""), and the snapshot JSON
 * (caller deletes; NULL if none). */
static cJSON *finish(long long job, char *state, char *cls)
{
	cJSON *j = srv_wait_job(&S, job, NULL, 120000, NULL);
	const char *st = srv_jstr(j, "state"), *ec = srv_jstr(j, "error.class");
	snprintf(state, 16, "%s", st ? st : "?");
	snprintf(cls, 32, "%s", ec ? ec : "");
	long long snap = (long long)srv_jnum(j, "snapshot_id");
	cJSON_Delete(j);
	if (snap <= 0)
		return NULL;
	char path[64];
	struct srv_resp r;
	snprintf(path, sizeof(path), "/api/snapshots/%lld", snap);
	srv_req(&S, "GET", path, NULL, NULL, &r);
	cJSON *sn = r.json;
	r.json = NULL;
	srv_resp_free(&r);
	return sn;
}

/* The snapshot's PNG shows the page's blue block; its MHTML names no
 * canary URL. */
static void check_files(const cJSON *sn)
{
	struct srv_resp r;
	struct img_rgba im = {0};
	char canary[64];
	srv_req(&S, "GET", srv_jstr(sn, "png_url"), NULL, NULL, &r);
	CHECK(img_decode_mem(r.body.data, r.body.len, &im) == SC_OK);
	CHECK(px_is(&im, 240, 200, 0x0000ff));
	img_rgba_free(&im);
	srv_resp_free(&r);
	/* the page's source names the canary; no part may come from it */
	srv_req(&S, "GET", srv_jstr(sn, "mhtml_url"), NULL, NULL, &r);
	snprintf(canary, sizeof(canary), ":%d", C);
	CHECK(r.body.len > 0);
	for (const char *p = r.body.data; p && (p = strstr(p, "Content-Location:"));
	     p++) {
		size_t eol = strcspn(p, "\r\n");
		const char *hit = strstr(p, canary);
		if (hit && hit < p + eol)
			fprintf(stderr, "a part from the canary: %.*s\n", (int)eol, p);
		CHECK(!hit || hit >= p + eol);
	}
	srv_resp_free(&r);
}

/* After each test: the canary has heard nothing, ever. */
static void check_canary(const char *name)
{
	int n = atomic_load(&Can.contacts);
	if (n) {
		fprintf(stderr, "after %s: the canary was contacted %d time(s)\n",
			name, n);
		test_failed_total++;
	}
}
#define RUN_G(name) do { RUN(name); check_canary(#name); } while (0)

/* Capture url; it must end done with at least min_blocked refusals. */
static void capture_ok(const char *url, int min_blocked)
{
	long long link, job;
	char st[16], cls[32];
	REQUIRE(add(url, &link, &job) == 201);
	cJSON *sn = finish(job, st, cls);
	CHECK_STR(st, "done");
	REQUIRE(sn);
	int blocked = (int)srv_jnum(sn, "blocked.count");
	if (blocked < min_blocked)
		fprintf(stderr, "blocked %d, want >= %d: %s\n", blocked,
			min_blocked, srv_jstr(sn, "blocked.first"));
	CHECK(blocked >= min_blocked);
	check_files(sn);
	cJSON_Delete(sn);
}

/* Capture url; it must fail with class cls, within ms. */
static void capture_fails(const char *url, const char *want, int64_t ms)
{
	long long link, job;
	char st[16], cls[32];
	int64_t t0 = sc_now_ms();
	REQUIRE(add(url, &link, &job) == 201);
	cJSON_Delete(finish(job, st, cls));
	CHECK_STR(st, "failed");
	CHECK_STR(cls, want);
	CHECK(sc_now_ms() - t0 < ms);
}

/* ---- the attacks ---- */

TEST(submission_refuses_localhost_names)
{
	const char *hosts[] = {"foo.localhost", "localhost", "LOCALHOST.",
			       "a.b.localhost", "localhost.localdomain",
			       "127.0.0.1", "[::1]", "2130706433"};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char url[256], body[300];
		struct srv_resp r;
		snprintf(url, sizeof(url), "http://%s:%d/", hosts[i], C);
		snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
		long st = srv_req(&S, "POST", "/api/links", body, NULL, &r);
		if (st != 400)
			fprintf(stderr, "%s: %ld\n", url, st);
		CHECK_EQ_INT(st, 400);
		CHECK_STR(srv_jstr(r.json, "error.code"), "private_address");
		srv_resp_free(&r);
	}
}

TEST(localhost_name_through_redirect_and_subresource)
{
	char to[128];
	snprintf(to, sizeof(to), "http://foo.localhost:%d/", C);
	char u[512];
	snprintf(u, sizeof(u), "http://a.test:%d/redirect-to?url=%s", F.port,
		 to);
	capture_fails(u, "blocked", 60000);
	capture_ok(page("a.test", BLUE "<img src='http://foo.localhost:%C/i'>"
				   "<img src='http://localhost:%C/i'>"), 2);
}

TEST(localhost_name_through_import)
{
	char body[256];
	struct srv_resp r;
	snprintf(body, sizeof(body), "http://bar.localhost:%d/\n", C);
	CHECK_EQ_INT(srv_req(&S, "POST", "/api/import?format=urls&capture=1", body, NULL,
			     &r), 202);
	srv_resp_free(&r);
	/* the imported link's job: refused by the capture's guard */
	int64_t until = sc_now_ms() + 60000;
	const char *st = NULL;
	while (sc_now_ms() < until) {
		srv_req(&S, "GET", "/api/jobs?state=failed", NULL, NULL, &r);
		cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
			if (strstr(srv_jstr(it, "url"), "bar.localhost"))
				st = srv_jstr(it, "error.class");
		if (st && !strcmp(st, "blocked"))
			break;
		srv_resp_free(&r);
		st = NULL;
		poll(NULL, 0, 200);
	}
	CHECK(st && !strcmp(st, "blocked"));
	srv_resp_free(&r);
}

TEST(cross_site_iframe)
{
	/* b.test is another site: its iframe is a target of its own */
	const char *inner = page("b.test",
		"<img src='http://127.0.0.1:%C/img'>"
		"<img src='http://[::1]:%C/img6'>"
		"<iframe src='http://127.0.0.1:%C/nested'></iframe>"
		"<script>fetch('http://127.0.0.1:%C/fetch').catch(()=>0);"
		"new Worker(URL.createObjectURL(new Blob(["
		"\"fetch('http://127.0.0.1:%C/worker').catch(()=>0)\"])));"
		"</script>");
	char html[8192];
	snprintf(html, sizeof(html), BLUE "<iframe src='%s'></iframe>", inner);
	capture_ok(page("a.test", html), 4);
}

TEST(websockets_and_preconnects)
{
	const char *inner = page("b.test",
		"<script>new WebSocket('ws://127.0.0.1:%C/ws-inner')</script>");
	char html[8192];
	snprintf(html, sizeof(html), BLUE
		 "<link rel=preconnect href='http://127.0.0.1:%%C/'>"
		 "<link rel=dns-prefetch href='http://evil.localhost:%%C/'>"
		 "<script>for (const u of ['ws://127.0.0.1:%%C/ws',"
		 "'ws://localhost:%%C/ws','ws://[::1]:%%C/ws',"
		 "'ws://x.localhost:%%C/ws']) try { new WebSocket(u) }"
		 " catch (e) {}</script><iframe src='%s'></iframe>", inner);
	capture_ok(page("a.test", html), 1);
}

TEST(navigation_by_script)
{
	capture_fails(page("a.test", BLUE "<script>setTimeout(() => "
			   "location = 'http://127.0.0.1:%C/jsnav', 50)"
			   "</script>"), "blocked", 20000);
	capture_fails(page("a.test", BLUE "<meta http-equiv=refresh "
			   "content='0;url=http://foo.localhost:%C/'>"),
		      "blocked", 20000);
}

TEST(dns_rebinding)
{
	char u[128];
	long long link, job;
	char st[16], cls[32];
	/* the submission's look-up is the first: 127.0.0.2, public */
	snprintf(u, sizeof(u), "http://rebind.test:%d/", C);
	REQUIRE(add(u, &link, &job) == 201);
	cJSON_Delete(finish(job, st, cls));
	CHECK_STR(st, "failed");
	CHECK_STR(cls, "blocked");
}

TEST(webrtc)
{
	/* the ICE servers are contacted as soon as candidates are gathered */
	capture_ok(page("a.test", BLUE "<script>for (const urls of ["
			"'stun:127.0.0.1:%C','turn:127.0.0.1:%C?transport=udp',"
			"'turn:127.0.0.1:%C?transport=tcp']) {"
			"const pc = new RTCPeerConnection({iceServers: [{urls,"
			" username: 'u', credential: 'p'}]});"
			"pc.createDataChannel('x');"
			"pc.createOffer().then(o => pc.setLocalDescription(o)); }"
			"</script>"), 0);
}

/* `snapcat capture --block-private`: the same proxy, without a server. */
TEST(cli_capture)
{
	char html[8192], cmd[16384];
	const char *inner = page("b.test", "<img src='http://127.0.0.1:%C/c'>"
				 "<script>new WebSocket('ws://127.0.0.1:%C/')"
				 "</script>");
	snprintf(html, sizeof(html), BLUE "<iframe src='%s'></iframe>"
		 "<script>new WebSocket('ws://localhost:%%C/')</script>", inner);
	snprintf(cmd, sizeof(cmd), "%s capture --block-private --out %s/cli "
		 "'%s' 2>/dev/null", SNAPCAT_BIN, Tmp, page("a.test", html));
	FILE *p = popen(cmd, "r");
	REQUIRE(p);
	char line[65536] = "";
	CHECK(fgets(line, sizeof(line), p) != NULL);
	CHECK_EQ_INT(pclose(p), 0);
	cJSON *j = cJSON_Parse(line);
	CHECK(j && srv_jnum(j, "blocked.count") >= 2);
	cJSON_Delete(j);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-guard-XXXXXX";
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(Tmp, sizeof(Tmp), "%s", tmpl);
	snprintf(Data, sizeof(Data), "%s/data", tmpl);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (can_start() || fixture_start_on(NULL, "127.0.0.2", &F)) {
		fprintf(stderr, "cannot start the canary or the fixture\n");
		return 1;
	}
	char hosts[256];
	snprintf(hosts, sizeof(hosts), "a.test=127.0.0.2,b.test=127.0.0.2,"
		 "rebind.test=127.0.0.2>127.0.0.1");
	setenv("SNAPCAT_TEST_PUBLIC", "127.0.0.2", 1);
	setenv("SNAPCAT_TEST_HOSTS", hosts, 1);
	if (srv_start_guarded(&S, Data, NULL))
		return 1;
	RUN_G(submission_refuses_localhost_names);
	RUN_G(localhost_name_through_redirect_and_subresource);
	RUN_G(localhost_name_through_import);
	RUN_G(cross_site_iframe);
	RUN_G(websockets_and_preconnects);
	RUN_G(navigation_by_script);
	RUN_G(dns_rebinding);
	RUN_G(webrtc);
	RUN_G(cli_capture);
	CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
	can_stop();
	int contacts = atomic_load(&Can.contacts);
	fprintf(stderr, "canary contacts: %d\n", contacts);
	if (contacts)
		test_failed_total++;
	return srv_test_end(tmpl, &F, test_report());
}
