/*
 * test_tls.c — `snapcat serve --tls-cert --tls-key` with a self-signed
 * certificate made by `openssl req -x509` now: HTTPS answers with HTTP/2
 * (ALPN h2) and HTTP/1.1, ten SSE streams on one HTTP/2 connection all
 * receiving events, plain HTTP not served on the port, a bad pair refused
 * at start, and new files + SIGHUP -> the new certificate is served by the
 * same process while a stream opened before keeps receiving; the forever
 * frame on HTTP/2 with its own frame headers, beside other streams; the
 * WebSocket feed over wss:// (HTTP/1.1 upgrade). No capture runs:
 * --browser is a closed port.
 */
#include "srv_harness.h"
#include "tls_ws.h"

#define TLS_STREAMS 10

static struct fixture F;
static struct srv S;
static char Tmp[] = "/tmp/snapcat-tls-XXXXXX";
static char Data[256], Cert[300], Key[300], Cert2[300], Key2[300];

/* A self-signed certificate for localhost (CN cn) into cert, key. */
static int tls_make(const char *cert, const char *key, const char *cn)
{
	char cmd[1500];
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 -nodes "
		 "-keyout '%s' -out '%s' -days 2 -subj /CN=%s -addext "
		 "subjectAltName=DNS:localhost 2>/dev/null", key, cert, cn);
	return system(cmd) == 0 ? 0 : -1;
}

struct tls_get {
	CURL *c;
	struct sc_buf body, head;
	int pings;   /* "event: ping" lines seen (SSE) */
	long status, version;
	CURLcode rc;
};

static size_t tls_head(char *p, size_t sz, size_t n, void *ud)
{
	struct tls_get *g = ud;
	return sc_buf_append(&g->head, p, sz * n) ? 0 : sz * n;
}

static size_t tls_body(char *p, size_t sz, size_t n, void *ud)
{
	struct tls_get *g = ud;
	if (sc_buf_append(&g->body, p, sz * n))
		return 0;
	g->pings = 0;
	for (const char *q = g->body.data; (q = strstr(q, "event: ping")); q++)
		g->pings++;
	return sz * n;
}

/* An easy handle for https://localhost:port path, trusting ca. */
static void tls_setup(struct tls_get *g, const char *path, const char *ca,
		      long version, struct curl_slist *h)
{
	char url[600];
	memset(g, 0, sizeof(*g));
	sc_buf_init(&g->body, 0);
	sc_buf_init(&g->head, 0);
	snprintf(url, sizeof(url), "https://localhost:%d%s", S.port, path);
	g->c = curl_easy_init();
	curl_easy_setopt(g->c, CURLOPT_URL, url);
	curl_easy_setopt(g->c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(g->c, CURLOPT_HTTP_VERSION, version);
	curl_easy_setopt(g->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(g->c, CURLOPT_WRITEFUNCTION, tls_body);
	curl_easy_setopt(g->c, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(g->c, CURLOPT_HEADERFUNCTION, tls_head);
	curl_easy_setopt(g->c, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(g->c, CURLOPT_TIMEOUT, 120L);
}

static void tls_done(struct tls_get *g)
{
	curl_easy_getinfo(g->c, CURLINFO_RESPONSE_CODE, &g->status);
	curl_easy_getinfo(g->c, CURLINFO_HTTP_VERSION, &g->version);
}

static void tls_free(struct tls_get *g)
{
	curl_easy_cleanup(g->c);
	sc_buf_free(&g->body);
	sc_buf_free(&g->head);
}

static struct curl_slist *tls_auth(void)
{
	return curl_slist_append(NULL, "Authorization: Bearer tls-token");
}

/* One GET: status, and the HTTP version into *version. */
static long tls_req(const char *path, const char *ca, long want_version,
		    long *version, struct sc_buf *body)
{
	struct tls_get g;
	struct curl_slist *h = tls_auth();
	tls_setup(&g, path, ca, want_version, h);
	g.rc = curl_easy_perform(g.c);
	tls_done(&g);
	if (version)
		*version = g.version;
	if (body)
		(void)!sc_buf_append(body, g.body.data ? g.body.data : "",
				     g.body.len);
	long st = g.rc == CURLE_OK ? g.status : -(long)g.rc;
	tls_free(&g);
	curl_slist_free_all(h);
	return st;
}

TEST(https_answers_on_h2_and_http11)
{
	long v = 0;
	CHECK_EQ_INT(tls_req("/api/links", Cert, CURL_HTTP_VERSION_2TLS, &v,
			     NULL), 200);
	CHECK_EQ_INT(v, CURL_HTTP_VERSION_2_0); /* ALPN chose h2 */
	CHECK_EQ_INT(tls_req("/api/links", Cert, CURL_HTTP_VERSION_1_1, &v,
			     NULL), 200);
	CHECK_EQ_INT(v, CURL_HTTP_VERSION_1_1);
	CHECK_EQ_INT(tls_req("/", Cert, CURL_HTTP_VERSION_2TLS, &v, NULL), 200);
	/* a file of the admin page's mount over 16 KiB, whole on h2 (it
	 * came as one oversized DATA frame before: no body, in curl) */
	struct sc_buf js;
	sc_buf_init(&js, 0);
	CHECK_EQ_INT(tls_req("/compare.js", Cert, CURL_HTTP_VERSION_2TLS, &v,
			     &js), 200);
	CHECK_EQ_INT(v, CURL_HTTP_VERSION_2_0);
	CHECK(js.len > 20000 && strstr(js.data, "snapcatFrame"));
	sc_buf_free(&js);
	/* no token: refused over TLS as over plain HTTP */
	struct tls_get g;
	tls_setup(&g, "/api/links", Cert, CURL_HTTP_VERSION_2TLS, NULL);
	CHECK_EQ_INT(curl_easy_perform(g.c), CURLE_OK);
	tls_done(&g);
	CHECK_EQ_INT(g.status, 401);
	tls_free(&g);
}

/* An API answer of many 16 KiB DATA frames (the link list), whole. */
TEST(large_answer_on_h2)
{
	char body[700], pad[513];
	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (int i = 0; i < 80; i++) {
		snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:9/%d/%s\"}",
			 i, pad);
		/* plain HTTP is not served: a local curl over TLS instead */
		struct tls_get g;
		struct curl_slist *h = tls_auth();
		h = curl_slist_append(h, "Content-Type: application/json");
		tls_setup(&g, "/api/links", Cert, CURL_HTTP_VERSION_2TLS, h);
		curl_easy_setopt(g.c, CURLOPT_POSTFIELDS, body);
		REQUIRE(curl_easy_perform(g.c) == CURLE_OK);
		tls_done(&g);
		CHECK_EQ_INT(g.status, 201);
		tls_free(&g);
		curl_slist_free_all(h);
	}
	struct sc_buf b;
	sc_buf_init(&b, 0);
	long v = 0;
	CHECK_EQ_INT(tls_req("/api/links?limit=100", Cert, CURL_HTTP_VERSION_2TLS,
			     &v, &b), 200);
	CHECK(b.len > 40000);
	cJSON *j = cJSON_ParseWithLength(b.data, b.len);
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 80);
	cJSON_Delete(j);
	sc_buf_free(&b);
}

/* Run m until every stream saw want pings or deadline_ms passed. */
static void tls_pump(CURLM *m, struct tls_get *g, int n, int want,
		     int64_t deadline_ms)
{
	int64_t end = sc_now_ms() + deadline_ms;
	for (;;) {
		int running = 0, ok = 1;
		curl_multi_perform(m, &running);
		for (int i = 0; i < n; i++)
			ok &= g[i].pings >= want;
		if (ok || !running || sc_now_ms() > end)
			return;
		curl_multi_poll(m, NULL, 0, 500, NULL);
	}
}

TEST(ten_sse_streams_on_one_h2_connection)
{
	CURLM *m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	struct tls_get g[TLS_STREAMS];
	struct curl_slist *h = tls_auth();
	for (int i = 0; i < TLS_STREAMS; i++) {
		tls_setup(&g[i], "/api/events", Cert, CURL_HTTP_VERSION_2TLS, h);
		curl_easy_setopt(g[i].c, CURLOPT_PIPEWAIT, 1L);
		curl_multi_add_handle(m, g[i].c);
	}
	tls_pump(m, g, TLS_STREAMS, 2, 90000); /* --ping 1: one a second */
	long conns = 0;
	for (int i = 0; i < TLS_STREAMS; i++) {
		long n = 0;
		tls_done(&g[i]);
		curl_easy_getinfo(g[i].c, CURLINFO_NUM_CONNECTS, &n);
		conns += n;
		CHECK(g[i].pings >= 2);
		CHECK_EQ_INT(g[i].status, 200);
		CHECK_EQ_INT(g[i].version, CURL_HTTP_VERSION_2_0);
		curl_multi_remove_handle(m, g[i].c);
		tls_free(&g[i]);
	}
	CHECK_EQ_INT(conns, 1); /* one connection, ten streams */
	curl_slist_free_all(h);
	curl_multi_cleanup(m);
}

/* How many times needle occurs in b (case-insensitive). */
static int tls_count(const struct sc_buf *b, const char *needle)
{
	int n = 0;
	for (const char *q = b->data; q && (q = strcasestr(q, needle)); q++)
		n++;
	return n;
}

/* Run m until the body of g has want (NULL: for deadline_ms) or
 * deadline_ms passed; the handles
 * that finished meanwhile are counted into *done. */
static int tls_pump_for(CURLM *m, struct tls_get *g, const char *want,
			int *done, int64_t deadline_ms)
{
	int64_t end = sc_now_ms() + deadline_ms;
	for (;;) {
		int running = 0, left = 0;
		curl_multi_perform(m, &running);
		for (CURLMsg *msg; (msg = curl_multi_info_read(m, &left));)
			*done += msg->msg == CURLMSG_DONE;
		if (want && g->body.data && strstr(g->body.data, want))
			return 0;
		if (!running || sc_now_ms() > end)
			return -1;
		curl_multi_poll(m, NULL, 0, 500, NULL);
	}
}

/* The frame's head: exactly one X-Frame-Options (SAMEORIGIN) and one CSP
 * (frame-ancestors 'self', the nonce of the body's scripts), no-store. */
static void tls_frame_head(struct tls_get *g)
{
	CHECK_EQ_INT(tls_count(&g->head, "x-frame-options:"), 1);
	CHECK(strcasestr(g->head.data, "x-frame-options: SAMEORIGIN"));
	CHECK_EQ_INT(tls_count(&g->head, "content-security-policy:"), 1);
	CHECK(strstr(g->head.data, "frame-ancestors 'self'"));
	CHECK(!strstr(g->head.data, "frame-ancestors 'none'"));
	CHECK(strcasestr(g->head.data, "cache-control: no-cache, no-store"));
	const char *n = strstr(g->body.data, "<script nonce=\"");
	REQUIRE(n);
	char want[80];
	snprintf(want, sizeof(want), "'nonce-%.32s'", n + 15);
	CHECK(strlen(want) == 40 && strstr(g->head.data, want));
}

/* The forever frame over HTTP/2: its own headers, an event of a link added
 * through the API on another stream of the same connection, and the
 * connection kept (before, the frame's head could not be built on HTTP/2
 * and its connection was closed). */
TEST(forever_frame_on_h2)
{
	CURLM *m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	struct curl_slist *h = tls_auth();
	struct curl_slist *hj = curl_slist_append(tls_auth(),
		"Content-Type: application/json");
	struct tls_get fr, add;
	int done = 0;
	tls_setup(&fr, "/api/events/frame", Cert, CURL_HTTP_VERSION_2TLS, h);
	curl_multi_add_handle(m, fr.c);
	REQUIRE(tls_pump_for(m, &fr, "p({\"type\":\"open\"})", &done,
			     60000) == 0);
	tls_done(&fr);
	CHECK_EQ_INT(fr.status, 200);
	CHECK_EQ_INT(fr.version, CURL_HTTP_VERSION_2_0);
	tls_frame_head(&fr);
	tls_setup(&add, "/api/links", Cert, CURL_HTTP_VERSION_2TLS, hj);
	curl_easy_setopt(add.c, CURLOPT_POSTFIELDS,
			 "{\"url\":\"http://127.0.0.1:9/frame-h2\"}");
	curl_easy_setopt(add.c, CURLOPT_PIPEWAIT, 1L);
	curl_multi_add_handle(m, add.c);
	CHECK_EQ_INT(tls_pump_for(m, &fr, "frame-h2", &done, 60000), 0);
	CHECK(strstr(fr.body.data, "<script nonce=\""));
	CHECK(strstr(fr.body.data, "\"type\":\"job.queued\""));
	const char *ping = "\"type\":\"ping\"";
	int pings = tls_count(&fr.body, ping);
	int64_t end = sc_now_ms() + 60000; /* --ping 1: the frame goes on */
	while (tls_count(&fr.body, ping) < pings + 2 && sc_now_ms() < end)
		(void)tls_pump_for(m, &fr, NULL, &done, 1000);
	CHECK(tls_count(&fr.body, ping) >= pings + 2);
	tls_done(&add);
	long conns = -1;
	curl_easy_getinfo(add.c, CURLINFO_NUM_CONNECTS, &conns);
	CHECK_EQ_INT(add.status, 201);
	CHECK_EQ_INT(add.version, CURL_HTTP_VERSION_2_0);
	CHECK_EQ_INT(conns, 0); /* a stream of the frame's connection */
	CHECK_EQ_INT(done, 1);  /* the POST ended; the frame did not */
	curl_multi_remove_handle(m, add.c);
	curl_multi_remove_handle(m, fr.c);
	tls_free(&add);
	tls_free(&fr);
	curl_slist_free_all(h);
	curl_slist_free_all(hj);
	curl_multi_cleanup(m);
}

/* Add a link (url) over HTTPS: the status. */
static long tls_add_link(const char *url)
{
	char body[600];
	struct tls_get g;
	struct curl_slist *h = curl_slist_append(tls_auth(),
		"Content-Type: application/json");
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	tls_setup(&g, "/api/links", Cert, CURL_HTTP_VERSION_2TLS, h);
	curl_easy_setopt(g.c, CURLOPT_POSTFIELDS, body);
	g.rc = curl_easy_perform(g.c);
	tls_done(&g);
	long st = g.rc == CURLE_OK ? g.status : -(long)g.rc;
	tls_free(&g);
	curl_slist_free_all(h);
	return st;
}

/* The next message of w that has want, within ms: 0, or -1. */
static int tls_ws_wait(struct tls_ws *w, const char *want, int64_t ms)
{
	struct sc_buf m;
	int64_t end = sc_now_ms() + ms;
	int rc = -1;
	sc_buf_init(&m, 1 << 20);
	while (rc && sc_now_ms() < end &&
	       tls_ws_next(w, &m, end - sc_now_ms()) == 0)
		rc = m.data && strstr(m.data, want) ? 0 : -1;
	sc_buf_free(&m);
	return rc;
}

/* The WebSocket feed over wss://: an HTTP/1.1 upgrade on its own TLS
 * connection (ALPN http/1.1), refused without the token, and with it the
 * event of a link added through the API. */
TEST(websocket_over_wss)
{
	struct tls_ws w;
	REQUIRE(tls_ws_connect(&w, S.port, Cert) == 0);
	CHECK(tls_ws_upgrade(&w, S.port, "/api/ws") != 101);
	tls_ws_close(&w);
	REQUIRE(tls_ws_connect(&w, S.port, Cert) == 0);
	CHECK_STR(w.alpn, "http/1.1");
	CHECK_EQ_INT(tls_ws_upgrade(&w, S.port, "/api/ws?token=tls-token"), 101);
	REQUIRE(tls_ws_text(&w, "{\"op\":\"subscribe\"}") == 0);
	CHECK_EQ_INT(tls_ws_wait(&w, "\"subscribed\"", 30000), 0);
	CHECK_EQ_INT(tls_add_link("http://127.0.0.1:9/over-wss"), 201);
	CHECK_EQ_INT(tls_ws_wait(&w, "over-wss", 60000), 0);
	tls_ws_close(&w);
}

TEST(plain_http_not_served)
{
	struct srv_resp r;
	long st = srv_req(&S, "GET", "/healthz", NULL, NULL, &r); /* http:// */
	CHECK_EQ_INT(st, 0);
	srv_resp_free(&r);
	long v;
	CHECK_EQ_INT(tls_req("/healthz", Cert, CURL_HTTP_VERSION_2TLS, &v, NULL),
		     200); /* still up */
}

/* The new pair + SIGHUP: trusted by the new CA only, same process; a
 * stream opened before keeps its events. */
TEST(sighup_loads_the_new_certificate)
{
	long v;
	REQUIRE(tls_make(Cert2, Key2, "snapcat-renewed") == 0);
	CHECK(tls_req("/healthz", Cert2, CURL_HTTP_VERSION_2TLS, &v, NULL) < 0);
	CURLM *m = curl_multi_init();
	struct curl_slist *h = tls_auth();
	struct tls_get s;
	tls_setup(&s, "/api/events", Cert, CURL_HTTP_VERSION_2TLS, h);
	curl_multi_add_handle(m, s.c);
	tls_pump(m, &s, 1, 1, 60000);
	REQUIRE(s.pings >= 1);
	char cmd[1300];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && cp '%s' '%s'", Cert2, Cert,
		 Key2, Key);
	REQUIRE(system(cmd) == 0);
	REQUIRE(kill(S.pid, SIGHUP) == 0);
	long st = -1;
	int64_t end = sc_now_ms() + 60000; /* the signal is handled soon */
	while ((st = tls_req("/healthz", Cert2, CURL_HTTP_VERSION_2TLS, &v,
			     NULL)) != 200 && sc_now_ms() < end)
		tls_pump(m, &s, 1, 0, 200);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(waitpid(S.pid, NULL, WNOHANG), 0); /* the same process */
	int before = s.pings;
	tls_pump(m, &s, 1, before + 2, 60000);
	CHECK(s.pings >= before + 2); /* the old connection keeps going */
	curl_multi_remove_handle(m, s.c);
	tls_free(&s);
	curl_slist_free_all(h);
	curl_multi_cleanup(m);
}

/* A key that is not the certificate's: serve refuses to start, saying so. */
TEST(mismatched_pair_refused)
{
	char cmd[1500], log[300], other[300];
	snprintf(log, sizeof(log), "%s/bad.log", Tmp);
	snprintf(other, sizeof(other), "%s/other.pem", Tmp);
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm RSA -pkeyopt "
		 "rsa_keygen_bits:2048 -out '%s' 2>/dev/null", other);
	REQUIRE(system(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "'%s' serve --listen 127.0.0.1:0 --data "
		 "'%s/bad' --browser http://127.0.0.1:1 --tls-cert '%s' "
		 "--tls-key '%s' >/dev/null 2>'%s'", SNAPCAT_BIN, Tmp, Cert2,
		 other, log);
	int st = system(cmd);
	CHECK(st != 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
	char text[4096] = {0};
	FILE *f = fopen(log, "r");
	REQUIRE(f);
	size_t got = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[got] = 0;
	CHECK(strstr(text, "--tls-key") && strstr(text, "mismatch"));
}

int main(void)
{
	if (system("openssl version >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: no openssl program (scripts/setup.sh "
			"installs it)\n");
		return TEST_SKIPPED;
	}
	if (srv_test_begin(Tmp, Data, sizeof(Data), &F))
		return 1;
	snprintf(Cert, sizeof(Cert), "%s/cert.pem", Tmp);
	snprintf(Key, sizeof(Key), "%s/key.pem", Tmp);
	snprintf(Cert2, sizeof(Cert2), "%s/cert2.pem", Tmp);
	snprintf(Key2, sizeof(Key2), "%s/key2.pem", Tmp);
	if (tls_make(Cert, Key, "snapcat-test") ||
	    srv_start(&S, Data, (const char *[]){"--browser",
		"http://127.0.0.1:1", "--token", "tls-token", "--ping", "1",
		"--tls-cert", Cert, "--tls-key", Key, NULL}))
		return 1;
	RUN(https_answers_on_h2_and_http11);
	RUN(large_answer_on_h2);
	RUN(ten_sse_streams_on_one_h2_connection);
	RUN(forever_frame_on_h2);
	RUN(websocket_over_wss);
	RUN(plain_http_not_served);
	RUN(sighup_loads_the_new_certificate);
	RUN(mismatched_pair_refused);
	return srv_test_finish(&S, Tmp, &F);
}
