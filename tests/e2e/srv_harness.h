/*
 * srv_harness.h — start the real `snapcat serve` from a test and talk to it
 * over real sockets (libcurl). Header-only; include once per test program.
 *
 *   srv_start(&s, data_dir, extra args) -> fork/exec snapcat serve
 *     --listen 127.0.0.1:0, read "LISTENING port=N" from its stdout
 *   srv_req(&s, "POST", "/api/links", body, headers, &resp) -> status
 *     (srv_req_ct: a body of another Content-Type, or none)
 *   srv_wait_job(&s, id, ms) -> waits until the job is done/failed/canceled
 *   srv_stop(&s, SIGTERM) -> waits for the exit status
 */
#ifndef SRV_HARNESS_H
#define SRV_HARNESS_H

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "sc.h"
#include "testhelp.h"

struct srv {
	pid_t pid;
	int port;
	FILE *out; /* its stdout */
	char base[64];
};

struct srv_resp {
	long status;
	struct sc_buf body, headers;
	cJSON *json; /* parsed body, or NULL */
};

static void srv_resp_free(struct srv_resp *r)
{
	sc_buf_free(&r->body);
	sc_buf_free(&r->headers);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/* snapcat serve --listen 127.0.0.1:0 --data DIR [--allow-private] + extra;
 * its environment is ours. */
static int srv_start_as(struct srv *s, const char *data, int allow_private,
			const char *const *extra)
{
	int p[2];
	const char *fixed[] = {SNAPCAT_BIN, "serve", "--listen", "127.0.0.1:0",
			       "--data", data, "--allow-private"};
	char *argv[40] = {0}; /* copies: execv wants char *const[] */
	int n = 0;
	for (; n < (allow_private ? 7 : 6); n++)
		argv[n] = sc_xstrdup(fixed[n]);
	for (; extra && *extra && n < 38; extra++)
		argv[n++] = sc_xstrdup(*extra);
	if (pipe(p))
		goto fail;
	memset(s, 0, sizeof(*s));
	s->pid = fork();
	if (s->pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < n; i++)
		free(argv[i]);
	close(p[1]);
	s->out = fdopen(p[0], "r");
	char line[256];
	while (fgets(line, sizeof(line), s->out))
		if (sscanf(line, "LISTENING port=%d", &s->port) == 1)
			break;
	if (!s->port) {
		fprintf(stderr, "snapcat serve did not start\n");
		return -1;
	}
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	return 0;
fail:
	for (int i = 0; i < n; i++)
		free(argv[i]);
	return -1;
}

/* The test servers capture the fixture pages on 127.0.0.1: private
 * addresses allowed. */
static __attribute__((unused)) int srv_start(struct srv *s, const char *data,
					     const char *const *extra)
{
	return srv_start_as(s, data, 1, extra);
}

/* A server as shipped: the SSRF guard on. */
static __attribute__((unused)) int srv_start_guarded(struct srv *s,
						     const char *data,
						     const char *const *extra)
{
	return srv_start_as(s, data, 0, extra);
}

/* Signal it and wait for its exit; returns the exit status (128+sig if
 * killed). */
static int srv_stop(struct srv *s, int sig)
{
	int st = 0;
	if (!s->pid)
		return -1;
	kill(s->pid, sig);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
	if (s->out)
		fclose(s->out);
	s->out = NULL;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static size_t srv_write_cb(char *p, size_t sz, size_t n, void *ud)
{
	return sc_buf_append(ud, p, sz * n) ? 0 : sz * n;
}

/* One request. hdrs: NULL-terminated "Name: value" lines, may be NULL.
 * body may be NULL; with a body, ctype is its Content-Type (NULL: none
 * sent). Returns the status (0 if no answer). */
static long srv_req_ct(struct srv *s, const char *method, const char *path,
		       const char *body, const char *ctype,
		       const char *const *hdrs, struct srv_resp *r)
{
	char url[4096];
	memset(r, 0, sizeof(*r));
	sc_buf_init(&r->body, 0);
	sc_buf_init(&r->headers, 0);
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char ct[256];
	for (; hdrs && *hdrs; hdrs++)
		h = curl_slist_append(h, *hdrs);
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "");
	if (body && ctype)
		h = curl_slist_append(h, ct);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, srv_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, srv_write_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (r->body.len)
		r->json = cJSON_ParseWithLength(r->body.data, r->body.len);
	return r->status;
}

/* One request, a body sent as JSON (srv_req_ct). */
static long srv_req(struct srv *s, const char *method, const char *path,
		    const char *body, const char *const *hdrs,
		    struct srv_resp *r)
{
	return srv_req_ct(s, method, path, body, "application/json", hdrs, r);
}

/* A test program's start: a temp dir from tmpl (".../name-XXXXXX", changed
 * in place) with data = tmpl/data, SIGPIPE ignored, libcurl ready, the
 * fixture server f started. 0 on success. */
static __attribute__((unused)) int srv_test_begin(char *tmpl, char *data, size_t len,
						  struct fixture *f)
{
	if (!mkdtemp(tmpl))
		return -1;
	snprintf(data, len, "%s/data", tmpl);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return fixture_start(NULL, f);
}

/* A test program's end: the fixture stopped, libcurl cleaned up, and the
 * temp dir removed if no test failed (test_passed(rc)). Returns rc. */
static __attribute__((unused)) int srv_test_end(const char *tmpl, struct fixture *f, int rc)
{
	fixture_stop(f);
	curl_global_cleanup();
	if (test_passed(rc))
		(void)!sc_remove_tree(tmpl);
	return rc;
}

/* A test program's end when one server s ran through its tests: s
 * stopped with SIGTERM (an exit status other than 0 counts as a failed
 * test), then srv_test_end with test_report()'s status. */
static __attribute__((unused)) int srv_test_finish(struct srv *s, const char *tmpl,
						   struct fixture *f)
{
	int st = srv_stop(s, SIGTERM);
	if (st != 0) {
		fprintf(stderr, "snapcat serve exited with %d\n", st);
		test_failed_total++;
	}
	return srv_test_end(tmpl, f, test_report());
}

/* The URL of path on the fixture server f, in one of 8 static buffers
 * used in turn (so that a call can take several). Aborts if it does not
 * fit. */
static __attribute__((unused)) const char *srv_fx(const struct fixture *f,
						  const char *path)
{
	static char buf[8][512];
	static int i;
	char *u = buf[i++ % 8];
	if (fixture_url(f, path, u, sizeof(buf[0])))
		abort();
	return u;
}

/* The value of response header name (case-insensitive), or "". */
static __attribute__((unused)) const char *srv_header(const struct srv_resp *r, const char *name)
{
	static char v[512];
	size_t nl = strlen(name);
	v[0] = 0;
	for (const char *p = r->headers.data; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *s = p + nl + 1 + (p[nl + 1] == ' ');
			snprintf(v, sizeof(v), "%.*s", (int)(eol - s), s);
		}
		p = eol + 2;
	}
	return v;
}

static const char *srv_jstr(const cJSON *o, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o;
	     k = strtok_r(NULL, ".", &save))
		o = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(o) ? o->valuestring : NULL;
}

static __attribute__((unused)) double srv_jnum(const cJSON *o, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o;
	     k = strtok_r(NULL, ".", &save))
		o = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(o) ? o->valuedouble : -1;
}

/* Wait until job id leaves queued/running (or the state is want, if
 * given); returns the final job JSON (caller deletes) or NULL at the
 * deadline. Uses the long-poll-free way: GET /api/jobs/{id} on each
 * job.* event would be better; the job API is what we test here, so the
 * wait re-reads it every 100 ms under a deadline. */
static __attribute__((unused)) cJSON *srv_wait_job(struct srv *s, long long id, const char *want,
			   int64_t ms, const char *const *hdrs)
{
	char path[64];
	snprintf(path, sizeof(path), "/api/jobs/%lld", id);
	int64_t until = sc_now_ms() + ms;
	while (sc_now_ms() < until) {
		struct srv_resp r;
		srv_req(s, "GET", path, NULL, hdrs, &r);
		const char *st = srv_jstr(r.json, "state");
		if (st && (want ? !strcmp(st, want)
				: strcmp(st, "queued") && strcmp(st, "running"))) {
			cJSON *j = r.json;
			r.json = NULL;
			srv_resp_free(&r);
			return j;
		}
		srv_resp_free(&r);
		poll(NULL, 0, 100);
	}
	fprintf(stderr, "job %lld: still not %s after %lld ms\n", id,
		want ? want : "finished", (long long)ms);
	return NULL;
}

#endif
