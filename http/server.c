/*
 * server.c — the lws HTTP protocol of `snapcat serve` (see server.h).
 *
 *   LWS_CALLBACK_HTTP            -> hreq from URI, args and headers
 *   LWS_CALLBACK_HTTP_BODY       -> append (capped: api_body_cap)
 *   LWS_CALLBACK_HTTP_BODY_COMPLETION / no body -> loop_work(api_dispatch)
 *   worker done                  -> lws_callback_on_writable
 *   LWS_CALLBACK_HTTP_WRITEABLE  -> headers; then one chunk per callback
 *   LWS_CALLBACK_HTTP_DROP_PROTOCOL / CLOSED_HTTP -> free, or orphan the
 *                                   hreq if a worker still holds it
 *
 * DESIGN
 * One struct hreq per transaction, owned by the connection's pss until a
 * worker takes it (busy); if the connection closes meanwhile the hreq is
 * marked orphan and the worker's done callback frees it. Files are
 * streamed from an fd opened by the handler, 64 KiB per WRITEABLE.
 * /healthz is answered on the loop thread (no SQL); /metrics takes the
 * loop's figures there and the catalog's on a worker (scrape.c).
 */
#include "server.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "loop.h"
#include "req.h"
#include "wire.h"
#include "feed.h"
#include "metrics.h"
#include "scrape.h"
#include "ws.h"

#define SRV_LOG "http"
#define SRV_CHUNK (64 * 1024)
#define SRV_VERSION "0.1.0"

struct server {
	struct loop *loop;
	struct app *app;
	struct lws_vhost *vh;
	struct api_ctx api;
	char *token, *assets;
	int port, quiesced;
	int64_t requests;
	struct lws_http_mount mounts[5];
	struct lws_protocol_vhost_options headers[4];
	struct lws_protocols protocols[2];
	struct feed *feed;
	char *cors;               /* allowed origins, comma-separated */
	struct pss_http *conns;   /* connections holding a request or a ws */
};

struct hreq {
	struct server *srv;
	struct lws *wsi;
	struct http_req req;
	struct http_resp resp;
	int busy, orphan, headers_sent, body_too_large;
	int stream;               /* POST /api/snapshots as an event stream */
	struct feed_sub *sse;     /* this request is an SSE stream */
	struct feed_sub *poll;    /* a long-poll waiting for events */
	uint64_t sent;
	int64_t t0;
};

/*
 * Per request (lws binds the mount's protocol, and so a fresh pss, for each
 * request on a connection), or per WebSocket connection after the upgrade.
 * Listed in server.conns while it holds r or ws, so that server_destroy can
 * close those connections while the feed they use still exists.
 */
struct pss_http {
	struct hreq *r;
	struct ws_conn *ws;       /* when the connection became a WebSocket */
	struct lws *wsi;
	struct pss_http *prev, *next;
	int listed;
};

static void srv_track(struct server *s, struct pss_http *pss, struct lws *wsi)
{
	pss->wsi = wsi;
	if (pss->listed)
		return;
	pss->listed = 1;
	pss->prev = NULL;
	pss->next = s->conns;
	if (s->conns)
		s->conns->prev = pss;
	s->conns = pss;
}

static void srv_untrack(struct server *s, struct pss_http *pss)
{
	if (!pss->listed)
		return;
	pss->listed = 0;
	if (pss->prev)
		pss->prev->next = pss->next;
	else
		s->conns = pss->next;
	if (pss->next)
		pss->next->prev = pss->prev;
	pss->prev = pss->next = NULL;
}

static void hreq_free(struct hreq *r)
{
	feed_sub_close(&r->sse);
	feed_sub_close(&r->poll);
	http_req_free(&r->req);
	http_resp_free(&r->resp);
	free(r);
}

/* ---- reading the request ---- */

static char *srv_hdr(struct lws *wsi, enum lws_token_indexes t)
{
	int n = lws_hdr_total_length(wsi, t);
	if (n <= 0)
		return NULL;
	char *s = sc_xmalloc((size_t)n + 1);
	if (lws_hdr_copy(wsi, s, n + 1, t) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void srv_args(struct lws *wsi, struct http_req *q)
{
	char buf[4096];
	for (int i = 0; q->nargs < HTTP_ARGS_MAX; i++) {
		if (lws_hdr_copy_fragment(wsi, buf, sizeof(buf),
					  WSI_TOKEN_HTTP_URI_ARGS, i) <= 0)
			break;
		char *eq = strchr(buf, '=');
		struct http_arg *a = &q->args[q->nargs++];
		a->name = sc_xstrndup(buf, eq ? (size_t)(eq - buf) : strlen(buf));
		a->value = sc_xstrdup(eq ? eq + 1 : "");
	}
}

static enum http_method srv_method(const char *m)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT",
					    "PATCH", "DELETE", "OPTIONS"};
	for (int i = 0; i < 7; i++)
		if (!strcmp(m, names[i]))
			return (enum http_method)i;
	return HTTP_OTHER;
}

static struct hreq *srv_read_request(struct server *s, struct lws *wsi)
{
	char *uri = NULL;
	int ulen = 0;
	int mi = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	static const char *const mnames[] = {
		"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "CONNECT",
		"HEAD"};
	struct hreq *r = sc_xcalloc(1, sizeof(*r));
	r->srv = s;
	r->wsi = wsi;
	r->t0 = sc_now_ms();
	http_req_init(&r->req);
	http_resp_init(&r->resp);
	r->req.method = mi >= 0 && mi < 8 ? srv_method(mnames[mi]) : HTTP_OTHER;
	r->req.path = sc_xstrndup(uri ? uri : "/", uri ? (size_t)ulen : 1);
	srv_args(wsi, &r->req);
	r->req.auth = srv_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	r->req.if_none_match = srv_hdr(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH);
	r->req.range = srv_hdr(wsi, WSI_TOKEN_HTTP_RANGE);
	r->req.accept = srv_hdr(wsi, WSI_TOKEN_HTTP_ACCEPT);
	r->req.origin = srv_hdr(wsi, WSI_TOKEN_ORIGIN);
	char lei[64];
	if (lws_hdr_custom_copy(wsi, lei, sizeof(lei), "last-event-id:", 14) > 0)
		r->req.last_event_id = sc_xstrdup(lei);
	lws_get_peer_simple(wsi, r->req.peer, sizeof(r->req.peer));
	return r;
}

/* ---- answering ---- */

static void srv_log(struct hreq *r)
{
	uint64_t bytes = r->resp.fd >= 0 ? r->resp.len : r->resp.body.len;
	metrics_http_response(r->resp.status);
	sc_log(SC_LOG_INFO, SRV_LOG, "%s %s %s %d %llu B %lld ms", r->req.peer,
	       http_method_name(r->req.method), r->req.path, r->resp.status,
	       (unsigned long long)bytes, (long long)(sc_now_ms() - r->t0));
}

static int srv_write_headers(struct hreq *r)
{
	struct http_resp *rs = &r->resp;
	uint64_t len = rs->fd >= 0 ? rs->len : rs->body.len;
	if (wire_headers(r->wsi, rs->status, rs->ctype, len, &rs->headers))
		return -1;
	r->headers_sent = 1;
	return 0;
}

/* One chunk of the body; 1 when it was the last. -1 on error. */
static int srv_write_chunk(struct hreq *r)
{
	struct http_resp *rs = &r->resp;
	static unsigned char buf[LWS_PRE + SRV_CHUNK];
	uint64_t total = rs->fd >= 0 ? rs->len : rs->body.len;
	size_t n = total - r->sent > SRV_CHUNK ? SRV_CHUNK
					       : (size_t)(total - r->sent);
	if (rs->fd >= 0) {
		ssize_t got = pread(rs->fd, buf + LWS_PRE, n,
				    (off_t)(rs->off + r->sent));
		if (got != (ssize_t)n)
			return -1; /* the file shrank or vanished */
	} else {
		memcpy(buf + LWS_PRE, rs->body.data + r->sent, n);
	}
	int last = r->sent + n == total;
	if (lws_write(r->wsi, buf + LWS_PRE, n,
		      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
		return -1;
	r->sent += n;
	return last;
}

/* WRITEABLE: 0 keep going, -1 close the connection. */
static int srv_writeable(struct pss_http *pss)
{
	struct hreq *r = pss->r;
	if (r && r->sse)
		return feed_sse_writeable(r->sse);
	if (!r || r->busy || !r->resp.status)
		return 0;
	int last;
	if (!r->headers_sent) {
		if (srv_write_headers(r))
			return -1;
		uint64_t total = r->resp.fd >= 0 ? r->resp.len : r->resp.body.len;
		last = r->req.method == HTTP_HEAD || total == 0;
	} else if ((last = srv_write_chunk(r)) < 0) {
		return -1;
	}
	if (!last) {
		lws_callback_on_writable(r->wsi);
		return 0;
	}
	srv_log(r);
	pss->r = NULL;
	struct lws *wsi = r->wsi;
	hreq_free(r);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- dispatch ---- */

static void srv_work(void *arg)
{
	struct hreq *r = arg;
	if (r->body_too_large)
		http_resp_error(&r->resp, 413, "too_large", NULL,
				"the request body is over %zu bytes",
				r->req.body.cap);
	else
		api_dispatch(&r->srv->api, &r->req, &r->resp);
}

/* POST /api/snapshots with Accept: text/event-stream: the link and job are
 * made; now stream that job's events until it ends. */
static void srv_stream_job(struct hreq *r)
{
	cJSON *j = cJSON_ParseWithLength(r->resp.body.data, r->resp.body.len);
	const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "job"), "id");
	int64_t job = cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
	cJSON_Delete(j);
	if (!job)
		return;
	sc_buf_reset(&r->resp.body);
	r->resp.status = 0;
	r->sse = feed_sse_open(r->srv->feed, r->wsi, &r->req, &r->resp, job);
	if (r->sse)
		srv_log(r);
}

static void srv_work_done(void *arg)
{
	struct hreq *r = arg;
	r->busy = 0;
	if (r->orphan) {
		hreq_free(r);
		return;
	}
	if (r->stream && (r->resp.status == 201 || r->resp.status == 200))
		srv_stream_job(r);
	lws_callback_on_writable(r->wsi);
}

static void srv_stats_json(struct server *s, struct http_resp *rs);
static void srv_metrics(struct server *s, struct hreq *r);

static void srv_poll_ready(void *arg)
{
	struct hreq *r = arg;
	lws_callback_on_writable(r->wsi);
}

/* GET /api/events (SSE) and /api/events/poll; 1 if handled here. */
static int srv_feed(struct server *s, struct hreq *r)
{
	int sse = !strcmp(r->req.path, "/api/events");
	int poll = !strcmp(r->req.path, "/api/events/poll");
	if (!sse && !poll)
		return 0;
	if (r->req.method != HTTP_GET) {
		http_resp_error(&r->resp, 405, "method_not_allowed", NULL,
				"use GET");
		http_resp_header(&r->resp, "Allow", "GET");
	} else if (!api_authorized(&s->api, &r->req)) {
		http_resp_error(&r->resp, 401, "unauthorized", NULL,
				"a valid token is required");
	} else if (sse) {
		r->sse = feed_sse_open(s->feed, r->wsi, &r->req, &r->resp, 0);
		if (r->sse) {
			srv_log(r);
			return 1;
		}
	} else {
		r->poll = feed_poll_open(s->feed, &r->req, &r->resp,
					 srv_poll_ready, r);
		if (r->poll)
			return 1;
	}
	lws_callback_on_writable(r->wsi);
	return 1;
}

/* Is origin in the comma-separated list? */
static int srv_origin_ok(const char *list, const char *origin)
{
	size_t ol = strlen(origin);
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		while (n && *p == ' ')
			p++, n--;
		if ((n == ol && !strncmp(p, origin, n)) || (n == 1 && *p == '*'))
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* CORS headers for allowed origins; answers preflights (1 if answered). */
static int srv_cors(struct server *s, struct hreq *r)
{
	const char *o = r->req.origin;
	int ok = o && s->cors && srv_origin_ok(s->cors, o);
	if (ok) {
		http_resp_header(&r->resp, "Access-Control-Allow-Origin", "%s", o);
		http_resp_header(&r->resp, "Access-Control-Allow-Credentials", "true");
		http_resp_header(&r->resp, "Vary", "Origin");
	}
	if (r->req.method != HTTP_OPTIONS)
		return 0;
	r->resp.status = 204;
	if (ok) {
		http_resp_header(&r->resp, "Access-Control-Allow-Methods",
				 "GET, POST, PATCH, DELETE, OPTIONS");
		http_resp_header(&r->resp, "Access-Control-Allow-Headers",
				 "Authorization, Content-Type, Last-Event-ID, Accept");
		http_resp_header(&r->resp, "Access-Control-Max-Age", "600");
	}
	lws_callback_on_writable(r->wsi);
	return 1;
}

static void srv_dispatch(struct hreq *r)
{
	struct server *s = r->srv;
	s->requests++;
	if (!strcmp(r->req.path, "/healthz")) {
		srv_stats_json(s, &r->resp);
		lws_callback_on_writable(r->wsi);
		return;
	}
	if (!strcmp(r->req.path, "/metrics")) {
		srv_metrics(s, r);
		return;
	}
	if (!strncmp(r->req.path, "/api/", 5) && srv_cors(s, r))
		return;
	if (s->quiesced) {
		http_resp_error(&r->resp, 503, "stopping", NULL,
				"the server is shutting down");
		http_resp_header(&r->resp, "Retry-After", "5");
		lws_callback_on_writable(r->wsi);
		return;
	}
	if (srv_feed(s, r))
		return;
	r->stream = r->req.method == HTTP_POST &&
		    !strcmp(r->req.path, "/api/snapshots") && r->req.accept &&
		    strstr(r->req.accept, "text/event-stream");
	r->busy = 1;
	loop_work(s->loop, srv_work, srv_work_done, r);
}

/* The request's pss is dropped (next request, or close). */
static void srv_drop(struct server *s, struct pss_http *pss)
{
	struct hreq *r = pss->r;
	pss->r = NULL;
	if (!pss->ws)
		srv_untrack(s, pss);
	if (!r)
		return;
	if (r->busy)
		r->orphan = 1;
	else
		hreq_free(r);
}

static int srv_on_http(struct server *s, struct lws *wsi, struct pss_http *pss)
{
	srv_drop(s, pss);
	struct hreq *r = srv_read_request(s, wsi);
	r->req.body.cap = api_body_cap(&r->req); /* per route (api_io.c) */
	pss->r = r;
	srv_track(s, pss, wsi);
	if (r->req.method == HTTP_POST || r->req.method == HTTP_PUT ||
	    r->req.method == HTTP_PATCH) {
		if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 ||
		    lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
			return 0; /* the body comes in HTTP_BODY callbacks */
	}
	srv_dispatch(r);
	return 0;
}

/* A WebSocket upgrade: only /api/ws, and with the token when one is set. */
static int srv_ws_filter(struct server *s, struct lws *wsi)
{
	char uri[64], tok[256];
	struct http_req q;
	http_req_init(&q);
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
	    strcmp(uri, "/api/ws")) {
		http_req_free(&q);
		return -1;
	}
	q.auth = srv_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	const char *v = lws_get_urlarg_by_name(wsi, "token=", tok, sizeof(tok));
	if (v) { /* v points at the value inside tok */
		q.args[0].name = sc_xstrdup("token");
		q.args[0].value = sc_xstrdup(v);
		q.nargs = 1;
	}
	int ok = api_authorized(&s->api, &q);
	http_req_free(&q);
	return ok ? 0 : -1;
}

static int srv_callback(struct lws *wsi, enum lws_callback_reasons reason,
			void *user, void *in, size_t len)
{
	struct pss_http *pss = user;
	struct server *s = lws_vhost_user(lws_get_vhost(wsi));
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return srv_on_http(s, wsi, pss);
	case LWS_CALLBACK_HTTP_BODY:
		if (pss->r && !pss->r->body_too_large &&
		    sc_buf_append(&pss->r->req.body, in, len))
			pss->r->body_too_large = 1;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (pss->r && !pss->r->busy && !pss->r->resp.status)
			srv_dispatch(pss->r);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return srv_writeable(pss);
	case LWS_CALLBACK_TIMER:
		if (pss && pss->r && pss->r->sse)
			feed_sse_timer(pss->r->sse);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return srv_ws_filter(s, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		pss->ws = ws_conn_open(s->loop, s->feed, &s->api, wsi);
		if (pss->ws)
			srv_track(s, pss, wsi);
		return pss->ws ? 0 : -1;
	case LWS_CALLBACK_RECEIVE:
		if (pss->ws)
			ws_conn_receive(pss->ws, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->ws ? ws_conn_writeable(pss->ws) : 0;
	case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL: /* first, at any close */
	case LWS_CALLBACK_CLOSED:
		if (pss) {
			ws_conn_close(&pss->ws);
			srv_untrack(s, pss);
		}
		return 0;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss)
			srv_drop(s, pss);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---- /healthz and /metrics ---- */

static void srv_stats_json(struct server *s, struct http_resp *rs)
{
	struct app_stats st;
	app_stats(s->app, &st);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", !st.draining);
	cJSON_AddStringToObject(o, "version", SRV_VERSION);
	cJSON_AddNumberToObject(o, "running", st.running);
	cJSON_AddNumberToObject(o, "concurrency", st.concurrency);
	cJSON_AddNumberToObject(o, "jobs_done", (double)st.jobs_done);
	cJSON_AddNumberToObject(o, "jobs_failed", (double)st.jobs_failed);
	cJSON_AddNumberToObject(o, "browser_starts", st.browser_starts);
	cJSON_AddNumberToObject(o, "browser_pid", st.browser_pid);
	/* the pool: "degraded" (with the reason) while a browser is unhealthy;
	 * jobs then wait in the queue */
	cJSON *b = app_browsers_json(s->app, 0);
	cJSON_AddStringToObject(o, "status", st.draining ? "stopping"
		: cJSON_GetStringValue(cJSON_GetObjectItem(b, "status")));
	cJSON_AddItemToObject(o, "reason", cJSON_DetachItemFromObject(b, "reason"));
	cJSON_AddItemToObject(o, "browsers", b);
	http_resp_json(rs, st.draining ? 503 : 200, o);
	http_resp_header(rs, "Cache-Control", "no-store");
}

/* GET /metrics: the feeds' counters now, the rest on a worker (scrape.c). */
static void srv_metrics(struct server *s, struct hreq *r)
{
	struct feed_stats fs;
	feed_stats(s->feed, &fs);
	r->busy = 1;
	if (!scrape_start(s->loop, &s->api, &r->req, &r->resp, &fs,
			  srv_work_done, r)) {
		r->busy = 0; /* answered at once (401, 405) */
		lws_callback_on_writable(r->wsi);
	}
}

/* ---- set-up ---- */

static int srv_parse_listen(const char *l, char *host, size_t hlen, int *port)
{
	const char *colon = l ? strrchr(l, ':') : NULL;
	long p;
	if (!colon || sc_parse_long(colon + 1, 0, 65535, &p))
		return -1;
	size_t n = (size_t)(colon - l);
	if (n >= hlen)
		return -1;
	memcpy(host, l, n);
	host[n] = 0;
	*port = (int)p;
	return 0;
}

static void srv_mounts(struct server *s)
{
	static const char *const cb_paths[] = {"/api", "/healthz", "/metrics"};
	for (int i = 0; i < 3; i++) {
		s->mounts[i] = (struct lws_http_mount){
			.mountpoint = cb_paths[i],
			.mountpoint_len = (unsigned char)strlen(cb_paths[i]),
			.origin = "snapcat-http",
			.origin_protocol = LWSMPRO_CALLBACK,
			.mount_next = &s->mounts[i + 1]};
	}
	s->mounts[3] = (struct lws_http_mount){
		.mountpoint = "/compare", .mountpoint_len = 8,
		.origin = s->assets, .def = "compare.html",
		.origin_protocol = LWSMPRO_FILE, .mount_next = &s->mounts[4]};
	s->mounts[4] = (struct lws_http_mount){
		.mountpoint = "/", .mountpoint_len = 1, .origin = s->assets,
		.def = "index.html", .origin_protocol = LWSMPRO_FILE,
		.cache_max_age = 0, .cache_reusable = 0};
}

static void srv_vhost_headers(struct server *s)
{
	static const char *const h[][2] = {
		{"x-content-type-options:", "nosniff"},
		{"referrer-policy:", "no-referrer"},
		{"x-frame-options:", "DENY"},
		{"content-security-policy:",
		 "default-src 'self'; img-src 'self' data: blob:; "
		 "style-src 'self' 'unsafe-inline'; script-src 'self'; "
		 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"}};
	for (int i = 0; i < 4; i++)
		s->headers[i] = (struct lws_protocol_vhost_options){
			.next = i < 3 ? &s->headers[i + 1] : NULL,
			.name = h[i][0], .value = h[i][1]};
}

sc_result server_create(struct loop *l, struct app *a,
			const struct server_opts *o, struct server **out,
			char *err, size_t errlen)
{
	char host[256];
	int port;
	*out = NULL;
	if (srv_parse_listen(o->listen, host, sizeof(host), &port)) {
		snprintf(err, errlen, "--listen wants HOST:PORT, not \"%s\"",
			 o->listen ? o->listen : "");
		return SC_ERR_INVALID;
	}
	struct server *s = sc_xcalloc(1, sizeof(*s));
	s->loop = l;
	s->app = a;
	s->token = sc_xstrdup(o->token);
	s->assets = sc_xstrdup(o->assets_dir);
	s->api = (struct api_ctx){.app = a, .token = s->token};
	s->protocols[0] = (struct lws_protocols){
		.name = "snapcat-http", .callback = srv_callback,
		.per_session_data_size = sizeof(struct pss_http)};
	srv_mounts(s);
	srv_vhost_headers(s);
	struct lws_context_creation_info info = {
		.port = port, .iface = host[0] ? host : NULL,
		.protocols = s->protocols, .mounts = &s->mounts[0],
		.headers = &s->headers[0], .vhost_name = "snapcat",
		.user = s, .keepalive_timeout = 30, .timeout_secs = 30,
		.options = LWS_SERVER_OPTION_VALIDATE_UTF8};
	s->vh = lws_create_vhost(loop_ctx(l), &info);
	if (!s->vh) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not an "
			 "address of this machine?)", o->listen);
		server_destroy(&s);
		return SC_ERR_IO;
	}
	s->port = lws_get_vhost_listen_port(s->vh);
	s->feed = feed_create(l, a, &o->feed);
	s->cors = sc_xstrdup(o->cors_origins);
	*out = s;
	return SC_OK;
}

int server_port(const struct server *s) { return s->port; }
void server_quiesce(struct server *s) { s->quiesced = 1; }

/* Close every connection that holds a request or a WebSocket, now: lws
 * calls back DROP_PROTOCOL at once (the socket itself may linger in a
 * graceful shutdown until the context goes), which frees its hreq or
 * ws_conn and their feed subscribers while the feed still exists. */
static void srv_close_all(struct server *s)
{
	int n = 0;
	while (s->conns) {
		struct pss_http *pss = s->conns;
		struct lws *wsi = pss->wsi;
		srv_untrack(s, pss); /* progress even if lws calls nothing */
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
		n++;
	}
	if (n)
		sc_log(SC_LOG_DEBUG, SRV_LOG, "closed %d connections at stop", n);
}

void server_destroy(struct server **sp)
{
	struct server *s = *sp;
	if (!s)
		return;
	srv_close_all(s);
	feed_destroy(&s->feed);
	free(s->token);
	free(s->assets);
	free(s->cors);
	free(s);
	*sp = NULL;
}
