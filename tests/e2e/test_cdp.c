/*
 * test_cdp.c — the DevTools client against a real Chromium: launch and read
 * the DevTools line, discovery through /json/version, flattened sessions,
 * command/response matching with interleaved commands, events by session,
 * per-command deadlines, a 100+ MB message, and a browser killed with
 * commands in flight (every pending command must fail at once).
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_sync.h"
#include "discover.h"
#include "launch.h"
#include "testhelp.h"

static struct loop *L;
static struct cdp_process *B;

struct opener {
	int done;
	sc_result rc;
	int closed;
	char why[300];
};

static void on_open(struct cdp_conn *c, void *ud, sc_result rc, const char *e)
{
	struct opener *o = ud;
	o->done = 1;
	o->rc = rc;
	if (e)
		snprintf(o->why, sizeof(o->why), "%s", e);
}

static void on_close(struct cdp_conn *c, void *ud, const char *reason)
{
	struct opener *o = ud;
	o->closed = 1;
	snprintf(o->why, sizeof(o->why), "%s", reason);
}

static struct cdp_conn *connect_to(const char *url, struct opener *o)
{
	struct cdp_conn_cbs cbs = {.on_open = on_open, .on_close = on_close, .ud = o};
	struct cdp_conn *c = NULL;
	memset(o, 0, sizeof(*o));
	if (cdp_conn_open(loop_ctx(L), url, NULL, &cbs, &c))
		return NULL;
	csync_spin(L, &o->done, 30000);
	return c;
}

/* Create a target, attach flattened; returns the sessionId (malloc'd). */
static char *new_session(struct cdp_conn *c)
{
	struct csync s = {0};
	if (csync_call(L, c, NULL, "Target.createTarget",
		       cJSON_Parse("{\"url\":\"about:blank\"}"), 30000, &s))
		return NULL;
	const char *tid = cJSON_GetObjectItem(s.result, "targetId")->valuestring;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "targetId", tid);
	cJSON_AddBoolToObject(p, "flatten", 1);
	csync_clear(&s);
	if (csync_call(L, c, NULL, "Target.attachToTarget", p, 30000, &s))
		return NULL;
	char *sid = strdup(cJSON_GetObjectItem(s.result, "sessionId")->valuestring);
	csync_clear(&s);
	return sid;
}

static cJSON *eval_params(const char *expr, int await)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "expression", expr);
	cJSON_AddBoolToObject(p, "returnByValue", 1);
	cJSON_AddBoolToObject(p, "awaitPromise", await);
	return p;
}

TEST(launch_and_discover)
{
	char err[512];
	const char *ws = cdp_process_ws_url(B);
	REQUIRE(!strncmp(ws, "ws://127.0.0.1:", 15));
	char endpoint[64], *found = NULL;
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%.*s",
		 (int)strcspn(ws + 15, "/"), ws + 15);
	REQUIRE(cdp_discover(endpoint, 30000, &found, err, sizeof(err)) == SC_OK);
	CHECK_STR(found, ws);
	free(found);
	CHECK(cdp_discover("ftp://x", 1000, &found, err, sizeof(err)) == SC_ERR_INVALID);
	CHECK(cdp_discover("http://127.0.0.1:1", 2000, &found, err, sizeof(err)) == SC_ERR_BROWSER);
	CHECK(strstr(err, "127.0.0.1:1") != NULL);
}

TEST(connect_refused_reports_error)
{
	struct opener o;
	struct cdp_conn *c = connect_to("ws://127.0.0.1:1/devtools/browser/x", &o);
	REQUIRE(c);
	CHECK(o.done);
	CHECK(o.rc == SC_ERR_BROWSER);
	CHECK(strlen(o.why) > 0);
	struct csync s = {0};
	CHECK(csync_call(L, c, NULL, "Browser.getVersion", NULL, 1000, &s) == SC_ERR_DISCONNECTED);
	cdp_conn_close(&c);
	CHECK(c == NULL);
}

struct evcount {
	int n;
	char session[64];
};

static void count_event(void *owner, const char *session, const char *method,
			const cJSON *params)
{
	struct evcount *e = owner;
	e->n++;
	snprintf(e->session, sizeof(e->session), "%s", session ? session : "");
}

TEST(sessions_events_and_matching)
{
	struct opener o;
	struct cdp_conn *c = connect_to(cdp_process_ws_url(B), &o);
	REQUIRE(c && o.rc == SC_OK);
	struct csync s = {0};
	REQUIRE(csync_call(L, c, NULL, "Browser.getVersion", NULL, 30000, &s) == SC_OK);
	CHECK(strstr(cJSON_GetObjectItem(s.result, "product")->valuestring, "Chrome") != NULL);
	csync_clear(&s);
	char *s1 = new_session(c), *s2 = new_session(c);
	REQUIRE(s1 && s2);
	/* events of s1 only reach the listener on s1 */
	struct evcount e1 = {0}, e2 = {0};
	cdp_on(c, s1, "Runtime.executionContextCreated", count_event, &e1);
	cdp_on(c, s2, "Runtime.", count_event, &e2);
	REQUIRE(csync_call(L, c, s1, "Runtime.enable", NULL, 30000, &s) == SC_OK);
	csync_clear(&s);
	CHECK(e1.n >= 1);
	CHECK_STR(e1.session, s1);
	CHECK_EQ_INT(e2.n, 0);
	/* interleaved commands on two sessions come back to the right caller */
	struct csync a = {0}, b = {0};
	/* a waits for a promise that only a later command resolves: no
	 * timing assumption, so it holds on a loaded machine too */
	REQUIRE(cdp_call(c, s1, "Runtime.evaluate",
			 eval_params("new Promise(r=>{globalThis.go=r})", 1),
			 30000, csync_cb, &a) == SC_OK);
	REQUIRE(cdp_call(c, s2, "Runtime.evaluate", eval_params("'two'", 0), 30000,
			 csync_cb, &b) == SC_OK);
	csync_spin(L, &b.done, 30000);
	CHECK(!a.done); /* b answered first */
	REQUIRE(csync_call(L, c, s1, "Runtime.evaluate", eval_params("go('one')", 0),
			   30000, &s) == SC_OK);
	csync_clear(&s);
	csync_spin(L, &a.done, 30000);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(a.result, "result"), "value")->valuestring, "one");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(b.result, "result"), "value")->valuestring, "two");
	csync_clear(&a);
	csync_clear(&b);
	/* a CDP error is SC_ERR_CDP with the browser's message */
	CHECK(csync_call(L, c, s1, "No.suchMethod", NULL, 30000, &s) == SC_ERR_CDP);
	CHECK(strstr(s.error, "wasn't found") != NULL);
	/* per-command deadline */
	int64_t t0 = sc_now_ms();
	CHECK(csync_call(L, c, s1, "Runtime.evaluate", eval_params("new Promise(()=>{})", 1),
			 300, &s) == SC_ERR_TIMEOUT);
	fprintf(stderr, "300 ms deadline fired after %lld ms\n", (long long)(sc_now_ms() - t0));
	CHECK(sc_now_ms() - t0 < 5000);
	CHECK_EQ_INT(cdp_conn_pending(c), 0);
	/* the connection still works after a timeout */
	CHECK(csync_call(L, c, s2, "Runtime.evaluate", eval_params("1+1", 0), 30000, &s) == SC_OK);
	csync_clear(&s);
	cdp_forget(c, &e1);
	cdp_forget(c, &e2);
	free(s1);
	free(s2);
	cdp_conn_close(&c);
}

TEST(huge_message)
{
	struct opener o;
	struct cdp_conn *c = connect_to(cdp_process_ws_url(B), &o);
	REQUIRE(c && o.rc == SC_OK);
	char *sid = new_session(c);
	REQUIRE(sid);
	/* 110 MiB string with a marker at each end and an escape in the middle */
	const char *expr = "(()=>{const n=110*1024*1024;const m='x'.repeat(n/2-8);"
			   "return 'BEGIN'+m+'\"\\n'+m+'END';})()";
	struct csync s = {.big_path = "result.value"};
	int64_t t0 = sc_now_ms();
	sc_result rc = csync_call(L, c, sid, "Runtime.evaluate", eval_params(expr, 0), 240000, &s);
	if (rc)
		fprintf(stderr, "huge message: %s (%s)\n", sc_strerror(rc),
			s.error[0] ? s.error : "");
	REQUIRE(rc == SC_OK);
	fprintf(stderr, "110 MiB reply in %lld ms\n", (long long)(sc_now_ms() - t0));
	size_t want = 2 * (110 * 1024 * 1024 / 2 - 8) + 5 + 2 + 3;
	CHECK_EQ_INT(s.big_len, want);
	REQUIRE(s.big);
	CHECK(!strncmp(s.big, "BEGINxxx", 8));
	CHECK(!strcmp(s.big + s.big_len - 6, "xxxEND"));
	CHECK(memmem(s.big, s.big_len, "x\"\nx", 4) != NULL);
	csync_clear(&s);
	/* the connection is healthy afterwards */
	CHECK(csync_call(L, c, sid, "Runtime.evaluate", eval_params("2+2", 0), 30000, &s) == SC_OK);
	csync_clear(&s);
	free(sid);
	cdp_conn_close(&c);
}

TEST(message_over_cap_fails_its_command)
{
	struct opener o = {0};
	struct cdp_conn_cbs cbs = {.on_open = on_open, .on_close = on_close, .ud = &o};
	struct cdp_conn_opts opts = {.max_message = 1 << 20};
	struct cdp_conn *c = NULL;
	REQUIRE(cdp_conn_open(loop_ctx(L), cdp_process_ws_url(B), &opts, &cbs, &c) == SC_OK);
	csync_spin(L, &o.done, 30000);
	char *sid = new_session(c);
	REQUIRE(sid);
	struct csync s = {0};
	CHECK(csync_call(L, c, sid, "Runtime.evaluate", eval_params("'y'.repeat(3<<20)", 0),
			 30000, &s) == SC_ERR_TOO_LARGE);
	CHECK(csync_call(L, c, sid, "Runtime.evaluate", eval_params("3+3", 0), 30000, &s) == SC_OK);
	csync_clear(&s);
	free(sid);
	cdp_conn_close(&c);
}

TEST(browser_death_fails_pending_at_once)
{
	char err[512];
	struct cdp_process *b2 = NULL;
	struct cdp_launch_opts lo = {0};
	REQUIRE(cdp_launch(&lo, &b2, err, sizeof(err)) == SC_OK);
	struct opener o;
	struct cdp_conn *c = connect_to(cdp_process_ws_url(b2), &o);
	REQUIRE(c && o.rc == SC_OK);
	char *sid = new_session(c);
	REQUIRE(sid);
	struct csync s[3] = {{0}};
	for (int i = 0; i < 3; i++)
		REQUIRE(cdp_call(c, sid, "Runtime.evaluate", eval_params("new Promise(()=>{})", 1),
				 120000, csync_cb, &s[i]) == SC_OK);
	lws_service(loop_ctx(L), 0);
	int64_t t0 = sc_now_ms();
	cdp_process_kill(b2);
	csync_spin(L, &s[2].done, 30000);
	int64_t took = sc_now_ms() - t0;
	for (int i = 0; i < 3; i++) {
		CHECK(s[i].done);
		CHECK(s[i].rc == SC_ERR_DISCONNECTED);
	}
	CHECK(took < 20000);
	csync_spin(L, &o.closed, 10000);
	CHECK(o.closed);
	CHECK(cdp_call(c, sid, "Browser.getVersion", NULL, 1000, csync_cb, &s[0]) == SC_ERR_DISCONNECTED);
	free(sid);
	cdp_conn_close(&c);
	cdp_process_free(&b2);
	CHECK(b2 == NULL);
}

int main(void)
{
	char err[512];
	struct cdp_launch_opts lo = {0};
	if (loop_create(&(struct loop_opts){.protocol = &cdp_protocol}, &L) || cdp_launch(&lo, &B, err, sizeof(err))) {
		fprintf(stderr, "setup failed: %s\n", err);
		return 1;
	}
	RUN(launch_and_discover);
	RUN(connect_refused_reports_error);
	RUN(sessions_events_and_matching);
	RUN(huge_message);
	RUN(message_over_cap_fails_its_command);
	RUN(browser_death_fails_pending_at_once);
	cdp_process_free(&B);
	loop_destroy(&L);
	return test_report();
}
