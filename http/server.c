/*
 * server.c — the lws HTTP protocol of `snapcat serve` (see server.h).
 *
 *   LWS_CALLBACK_HTTP            -> hreq from URI, args and headers; the
 *                                   body's framing (body.c): none, a length,
 *                                   chunked, or refused at once (400, 501)
 *   LWS_CALLBACK_HTTP_BODY       -> append, or decode chunks (capped:
 *                                   api_body_cap), under a deadline
 *   body complete / no body      -> srv_dispatch: the connection is held
 *                                   (hold.c) -> loop_work(api_dispatch)
 *   worker done                  -> (a write: once its batch committed,
 *                                   resp.on_commit) -> srv_answer: head +
 *                                   body to hold_send
 *   answer sent (loop timer)     -> srv_held_done: transaction completed
 *                                   (or closed), reading resumes
 *   LWS_CALLBACK_HTTP_WRITEABLE  -> SSE streams only (feed.c)
 *   LWS_CALLBACK_HTTP_DROP_PROTOCOL / CLOSED_HTTP -> free, or orphan the
 *                                   hreq if a worker still holds it
 *
 * DESIGN
 * One struct hreq per transaction, owned by the request's pss until a
 * worker takes it (busy); if the connection closes meanwhile the hreq is
 * marked orphan and the worker's done callback frees it. A handler that
 * wrote leaves its answer waiting for its batch's commit (api_write_end):
 * the hreq stays busy until the bus reports it on the loop, and a failed
 * commit turns the answer into a 503 (nothing was stored). From the end of
 * the request to the end of its answer the connection is held: lws reads
 * nothing more, and the answer, files included, is sent by hold.c. A
 * request lws then parses from bytes it had read ahead (pipelined) closes
 * the connection unanswered (srv_read_ahead says why), so pipelining
 * clients get the first answer, then EOF. An SSE stream releases the hold
 * (it is written in WRITEABLE callbacks) and marks the connection: any
 * request after a stream closes it. Bodies lws 4.1.6 cannot frame
 * (chunked, or none on a POST) are read here and the connection closes
 * after the answer.
 * /healthz is answered on the loop thread (no SQL); /metrics takes the
 * loop's figures there and the catalog's on a worker (scrape.c).
 * Host and Origin (origin.c) are checked before anything else: for the
 * callback routes when the request is dispatched (after its body, which
 * a refused request discards), for the file mounts (the admin page) in
 * FILTER_HTTP_CONNECTION and for WebSocket upgrades in
 * HTTP_CONFIRM_UPGRADE, both answered at once from there.
 */
#include "server.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "api.h"
#include "app.h"
#include "body.h"
#include "hold.h"
#include "loop.h"
#include "req.h"
#include "routes.h"
#include "tls.h"
#include "wire.h"
#include "feed.h"
#include "metrics.h"
#include "origin.h"
#include "scrape.h"
#include "ws.h"

#define SRV_LOG "http"
#define SRV_VERSION "0.1.0"
#define SRV_SEND_STALL_S 30 /* a client that reads nothing for this long */

/* lws_set_opaque_user_data of a connection that carried an event stream */
static char srv_streamed;

struct server {
	struct loop *loop;
	struct app *app;
	struct lws_vhost *vh;
	struct api_ctx api;
	char *token, *assets;
	char *tls_cert, *tls_key; /* --tls-cert, --tls-key, or NULL */
	int port, quiesced;
	int64_t requests;
	struct lws_http_mount mounts[5];
	struct lws_protocol_vhost_options headers[4];
	struct lws_protocols protocols[3];
	struct body_limits body;  /* how long a request body may take */
	struct feed *feed;
	struct origin_policy *origin; /* Host, Origin, --cors-origin */
	struct pss_http *conns;   /* connections holding a request or a ws */
};

struct hreq {
	struct server *srv;
	struct lws *wsi;
	struct pss_http *pss;     /* NULL once orphaned */
	struct http_req req;
	struct http_resp resp;
	int busy, orphan, body_too_large;
	enum origin_verdict refuse; /* answered with origin_refuse */
	int dispatched;           /* the request is complete: being answered */
	int close_after;          /* close the connection after the answer */
	int stream;               /* POST /api/snapshots as an event stream */
	struct feed_sub *sse;     /* this request is an SSE stream */
	int frame;                /* ... a forever frame (own frame headers) */
	struct feed_sub *poll;    /* a long-poll waiting for events */
	struct hold *hold;        /* from dispatch to the answer's end */
	enum body_kind framing;
	struct body_chunked chunked;
	uint64_t got;             /* body bytes received, framing included */
	struct loop_timer *body_timer;
	int64_t t0;
};

/*
 * Per request (lws binds the mount's protocol, and so a fresh pss, for each
 * request on a connection), or per WebSocket connection after the upgrade.
 * Listed in server.conns while it holds r or ws, so that server_destroy can
 * close those connections while the feed they use still exists. lws may
 * free a pss it never bound (a request a file mount could not serve comes
 * to LWS_CALLBACK_HTTP on it) without a DROP_PROTOCOL: so it is unlisted
 * whenever it lets go of r, not only at DROP.
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
	loop_timer_cancel(&r->body_timer);
	hold_end(&r->hold);
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

/* Method, path and the headers origin_check reads, into q. */
static void srv_read_head(struct lws *wsi, struct http_req *q)
{
	char *uri = NULL, site[32];
	int ulen = 0;
	int mi = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	static const char *const mnames[] = {
		"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "CONNECT",
		"HEAD"};
	q->method = mi >= 0 && mi < 8 ? srv_method(mnames[mi]) : HTTP_OTHER;
	q->path = sc_xstrndup(uri ? uri : "/", uri ? (size_t)ulen : 1);
	q->origin = srv_hdr(wsi, WSI_TOKEN_ORIGIN);
	q->host = srv_hdr(wsi, WSI_TOKEN_HOST);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) > 0 && !q->host)
		q->host = sc_xstrdup("?"); /* unreadable: never a known name */
	/* -1: absent, or longer than any of its values */
	if (lws_hdr_custom_copy(wsi, site, sizeof(site), "sec-fetch-site:",
				15) > 0)
		q->fetch_site = sc_xstrdup(site);
}

static enum origin_verdict srv_verdict(struct server *s,
				       const struct http_req *q, int upgrade)
{
	struct origin_req o = {.method = q->method, .path = q->path,
			       .host = q->host, .origin = q->origin,
			       .fetch_site = q->fetch_site, .upgrade = upgrade};
	return origin_check(s->origin, &o);
}

static struct hreq *srv_read_request(struct server *s, struct lws *wsi)
{
	struct hreq *r = sc_xcalloc(1, sizeof(*r));
	r->srv = s;
	r->wsi = wsi;
	r->t0 = sc_now_ms();
	http_req_init(&r->req);
	http_resp_init(&r->resp);
	srv_read_head(wsi, &r->req);
	srv_args(wsi, &r->req);
	r->req.auth = srv_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	r->req.if_none_match = srv_hdr(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH);
	r->req.range = srv_hdr(wsi, WSI_TOKEN_HTTP_RANGE);
	r->req.accept = srv_hdr(wsi, WSI_TOKEN_HTTP_ACCEPT);
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

static void srv_held_done(void *arg, int ok);

/* A head that brings its own frame headers goes without the house's two
 * (X-Frame-Options DENY, CSP frame-ancestors 'none'), the last of
 * srv_vhost_headers' list: a browser would enforce both. lws reads that
 * list (ours) as it builds each head, HTTP/1 or HTTP/2, on this thread:
 * cut it short for that one head, then whole again. */
static void srv_house_policy(struct server *s, int house)
{
	s->headers[1].next = house ? &s->headers[2] : NULL;
}

/* An answer with its own X-Frame-Options (the PDF route,
 * http/api_snapshots.c; the browsable copy, http/api_page.c). */
static void srv_frame_headers(struct hreq *r, int house)
{
	const char *h = r->resp.headers.data;
	if (h && strcasestr(h, "x-frame-options:"))
		srv_house_policy(r->srv, house);
}

/* Send the answer in r->resp on the held connection (loop thread). */
static void srv_answer(struct hreq *r)
{
	struct http_resp *rs = &r->resp;
	struct sc_buf head;
	uint64_t len = rs->fd >= 0 ? rs->len : rs->body.len;
	if (r->close_after)
		http_resp_header(rs, "Connection", "close");
	sc_buf_init(&head, 32 * 1024);
	srv_frame_headers(r, 0);
	int bad = wire_head(r->wsi, rs->status, rs->ctype, len, &rs->headers,
			    &head);
	srv_frame_headers(r, 1);
	if (bad) {
		sc_log(SC_LOG_ERROR, SRV_LOG, "%s %s: the answer's headers are "
		       "too large", http_method_name(r->req.method), r->req.path);
		http_resp_free(rs);
		http_resp_init(rs);
		http_resp_error(rs, 500, "internal", NULL, "headers too large");
		len = rs->body.len;
		sc_buf_reset(&head);
		(void)!wire_head(r->wsi, rs->status, rs->ctype, len, NULL, &head);
	}
	struct hold_body b = {.mem = rs->fd >= 0 ? NULL : rs->body.data,
			      .fd = rs->fd, .off = rs->off, .len = len};
	hold_send(r->hold, head.data ? head.data : "", head.len,
		  r->req.method == HTTP_HEAD ? NULL : &b, SRV_SEND_STALL_S);
	sc_buf_free(&head);
}

/* The answer is out (ok), or the client is gone: complete the transaction,
 * so that lws parses a pipelined request next, or close. Loop timer. */
static void srv_held_done(void *arg, int ok)
{
	struct hreq *r = arg;
	struct lws *wsi = r->wsi;
	int close = !ok || r->close_after;
	if (r->resp.status)
		srv_log(r);
	r->pss->r = NULL; /* lws frees the pss when the transaction ends, */
	srv_untrack(r->srv, r->pss); /* not always with a DROP_PROTOCOL */
	r->pss = NULL;
	if (!close && lws_http_transaction_completed(wsi))
		close = 1;
	hold_end(&r->hold); /* reading resumes (lws_callback_on_writable) */
	hreq_free(r);
	if (close)
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
}

/* WRITEABLE: SSE streams (answers go through hold.c). -1 closes. */
static int srv_writeable(struct pss_http *pss)
{
	struct hreq *r = pss->r;
	if (r && r->hold) /* a TLS answer (hold.c) */
		return hold_writeable(r->hold);
	if (!r || !r->sse)
		return 0;
	if (!r->frame)
		return feed_sse_writeable(r->sse);
	srv_house_policy(r->srv, 0); /* the forever frame's head: its own */
	int rc = feed_sse_writeable(r->sse);
	srv_house_policy(r->srv, 1);
	return rc;
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

/* Turn r into an SSE stream (job: the POST stream's job, else 0). The hold
 * ends first: a stream is written in WRITEABLE callbacks, which lws 4.1.6
 * does not deliver to a held connection. 1 if streaming; 0 if refused
 * (r->resp has the error and the connection is held again to answer it). */
static int srv_open_sse(struct hreq *r, int64_t job, int frame)
{
	hold_end(&r->hold);
	r->sse = frame ? feed_frame_open(r->srv->feed, r->wsi, &r->req, &r->resp)
		       : feed_sse_open(r->srv->feed, r->wsi, &r->req, &r->resp, job);
	if (!r->sse) {
		r->hold = hold_start(r->srv->loop, r->wsi, srv_held_done, r);
		return 0;
	}
	r->frame = frame;
	lws_set_opaque_user_data(r->wsi, &srv_streamed);
	srv_log(r);
	return 1;
}

/* POST /api/snapshots with Accept: text/event-stream: the link and job are
 * made; now stream that job's events until it ends. 1 if streaming. */
static int srv_stream_job(struct hreq *r)
{
	cJSON *j = cJSON_ParseWithLength(r->resp.body.data, r->resp.body.len);
	const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "job"), "id");
	int64_t job = cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
	cJSON_Delete(j);
	if (!job)
		return 0;
	sc_buf_reset(&r->resp.body);
	r->resp.status = 0;
	return srv_open_sse(r, job, 0);
}

/* The worker is done and the answer's writes are committed (loop). */
static void srv_work_answer(struct hreq *r)
{
	r->busy = 0;
	if (r->orphan) {
		hreq_free(r);
		return;
	}
	if (r->resp.commit_rc) { /* the batch failed: nothing was stored */
		sc_result rc = r->resp.commit_rc;
		http_resp_free(&r->resp);
		http_resp_init(&r->resp);
		http_resp_error(&r->resp, 503, "not_stored", NULL, "the catalog "
				"did not store the change (%s); try again later",
				sc_strerror(rc));
		http_resp_header(&r->resp, "Retry-After", "5");
	}
	if (r->stream && (r->resp.status == 201 || r->resp.status == 200) &&
	    srv_stream_job(r))
		return;
	srv_answer(r);
}

static void srv_committed(void *arg) { srv_work_answer(arg); }

static void srv_work_done(void *arg)
{
	struct hreq *r = arg;
	if (r->resp.commit_wait) { /* answered once the writes are stored */
		r->resp.on_commit = srv_committed;
		r->resp.on_commit_arg = r;
		return;
	}
	srv_work_answer(r);
}

/* status and reason of /healthz: "degraded" (with the reasons, "; "
 * between them) while a browser is unhealthy (jobs then wait in the
 * queue) or the data cannot be written (the data directory, the catalog);
 * and the details as browsers {...} and storage {status, reason}. */
static void srv_health_status(struct server *s, cJSON *o, int draining)
{
	char sr[1024], why[2048];
	int bad = app_storage_status(s->app, sr, sizeof(sr));
	cJSON *b = app_browsers_json(s->app, 0);
	const char *pst = cJSON_GetStringValue(cJSON_GetObjectItem(b, "status"));
	const char *pr = cJSON_GetStringValue(cJSON_GetObjectItem(b, "reason"));
	int degraded = bad || !pst || strcmp(pst, "ok");
	cJSON_AddStringToObject(o, "status", draining ? "stopping"
				: degraded ? "degraded" : "ok");
	snprintf(why, sizeof(why), "%s%s%s", pr ? pr : "", pr && bad ? "; " : "",
		 bad ? sr : "");
	if (why[0])
		cJSON_AddStringToObject(o, "reason", why);
	else
		cJSON_AddNullToObject(o, "reason");
	cJSON_AddItemToObject(o, "browsers", b);
	cJSON *st = cJSON_AddObjectToObject(o, "storage");
	cJSON_AddStringToObject(st, "status", bad ? "degraded" : "ok");
	if (bad)
		cJSON_AddStringToObject(st, "reason", sr);
	else
		cJSON_AddNullToObject(st, "reason");
}

static void srv_stats_json(struct server *s, struct http_resp *rs);
static int srv_metrics(struct server *s, struct hreq *r);

static void srv_poll_ready(void *arg)
{
	srv_answer(arg);
}

/* GET /api/events (SSE) and /api/events/poll: 1 answered later (a
 * stream, a long-poll), 0 r->resp is the answer. */
static int srv_feed(struct server *s, struct hreq *r, enum route_loop lr)
{
	if (!api_authorized(&s->api, &r->req)) {
		http_resp_error(&r->resp, 401, "unauthorized", NULL,
				"a valid token is required");
	} else if (lr != RL_POLL) { /* SSE, or the forever frame */
		return srv_open_sse(r, 0, lr == RL_FRAME);
	} else {
		r->poll = feed_poll_open(s->feed, &r->req, &r->resp,
					 srv_poll_ready, r);
		if (r->poll) { /* a hang-up while it waits frees it at once */
			hold_watch(r->hold);
			return 1;
		}
	}
	return 0;
}

/* CORS headers for allowed origins; answers preflights (1 if answered). */
static int srv_cors(struct server *s, struct hreq *r)
{
	const char *o = r->req.origin;
	int ok = o && origin_cors_listed(s->origin, o);
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
	return 1;
}

/* Route a complete request: 0 when r->resp is its answer now, 1 when it
 * comes later (a worker, a feed). */
static int srv_route(struct server *s, struct hreq *r)
{
	if (r->refuse) {
		struct origin_req o = {.host = r->req.host,
				       .origin = r->req.origin,
				       .fetch_site = r->req.fetch_site};
		origin_refuse(r->refuse, &o, &r->resp);
		return 0;
	}
	unsigned allow;
	const struct route *rt = route_match(r->req.method, r->req.path,
					     &allow, NULL);
	enum route_loop lr = rt && rt->where == ROUTE_LOOP ? rt->loop : RL_NONE;
	if (lr == RL_HEALTH) {
		srv_stats_json(s, &r->resp);
		return 0;
	}
	if (lr == RL_METRICS)
		return srv_metrics(s, r);
	if (!strncmp(r->req.path, "/api/", 5) && srv_cors(s, r))
		return 0;
	if (s->quiesced) {
		http_resp_error(&r->resp, 503, "stopping", NULL,
				"the server is shutting down");
		http_resp_header(&r->resp, "Retry-After", "5");
		return 0;
	}
	if (lr == RL_SSE || lr == RL_POLL || lr == RL_FRAME)
		return srv_feed(s, r, lr);
	r->stream = r->req.method == HTTP_POST &&
		    !strcmp(r->req.path, "/api/snapshots") && r->req.accept &&
		    strstr(r->req.accept, "text/event-stream");
	r->busy = 1;
	loop_work(s->loop, srv_work, srv_work_done, r);
	return 1;
}

/* The request is complete (or refused): hold the connection and answer. */
static void srv_dispatch(struct hreq *r)
{
	if (r->dispatched)
		return;
	r->dispatched = 1;
	loop_timer_cancel(&r->body_timer);
	r->hold = hold_start(r->srv->loop, r->wsi, srv_held_done, r);
	r->srv->requests++;
	if (!srv_route(r->srv, r))
		srv_answer(r);
}

/* Answer status at once, before or instead of reading the body, and close
 * the connection after it (what the client sends next cannot be framed). */
static void srv_refuse(struct hreq *r, int status, const char *code,
		       const char *msg)
{
	if (r->dispatched)
		return;
	r->dispatched = 1;
	r->close_after = 1;
	loop_timer_cancel(&r->body_timer);
	r->hold = hold_start(r->srv->loop, r->wsi, srv_held_done, r);
	http_resp_error(&r->resp, status, code, NULL, "%s", msg);
	srv_answer(r);
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
	r->pss = NULL;
	hold_end(&r->hold); /* reading resumes: lws may be closing it */
	if (r->busy)
		r->orphan = 1;
	else
		hreq_free(r);
}

/* ---- the request body ---- */

/* The body deadline passed? 408 and close; else check again at it. */
static void srv_body_check(void *arg)
{
	struct hreq *r = arg;
	struct server *s = r->srv;
	int64_t now = sc_now_ms(), until = body_deadline(&s->body, r->t0, r->got);
	r->body_timer = NULL;
	if (now < until) {
		r->body_timer = loop_timer(s->loop, until - now, srv_body_check, r);
		return;
	}
	sc_log(SC_LOG_WARN, SRV_LOG, "%s %s %s: the body came too slowly (%llu "
	       "bytes in %lld ms): 408, closing", r->req.peer,
	       http_method_name(r->req.method), r->req.path,
	       (unsigned long long)r->got, (long long)(now - r->t0));
	srv_refuse(r, 408, "body_timeout", "the request body came too slowly");
}

/* Expect: 100-continue: the interim answer now (or 413 instead when the
 * announced body is over the cap), so that the client sends the body. */
static void srv_expect(struct hreq *r)
{
	static const char c100[] = "HTTP/1.1 100 Continue\r\n\r\n";
	char v[32];
	if (lws_hdr_copy(r->wsi, v, sizeof(v), WSI_TOKEN_HTTP_EXPECT) <= 0 ||
	    strcasecmp(v, "100-continue") || hold_tls(r->wsi))
		return; /* TLS: the client sends the body after its wait */
	if (r->body_too_large) {
		srv_refuse(r, 413, "too_large", "the request body is too large");
		return;
	}
	/* the socket is idle between transactions: 25 bytes go at once, else
	 * none do and the client sends the body after its own wait */
	ssize_t n = send(lws_get_socket_fd(r->wsi), c100, sizeof(c100) - 1,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0 && n < (ssize_t)sizeof(c100) - 1)
		r->close_after = 1; /* cannot happen on an idle socket */
}

/*
 * Is lws parsing this request from bytes it read ahead (a request
 * pipelined behind the previous one)? 1 yes, 0 no, -1 cannot tell (another
 * connection has unread input too). lws 4.1.6 has no call for it, but
 * lws_service_adjust_timeout says whether any connection whose reading is
 * not paused has buffered input: ask with this one paused, then not.
 *
 * Such a request is not served: lws 4.1.6 frames a body it read ahead
 * wrongly (part of the head taken as body, then a busy loop), and holding
 * a connection that has input buffered makes lws ask for a WRITEABLE it
 * never delivers while the connection is paused: poll() returns at once
 * until the hold ends, a busy loop for as long as the answer takes.
 */
static int srv_read_ahead(struct lws *wsi)
{
	struct lws_context *cx = lws_get_context(wsi);
	if (lws_get_network_wsi(wsi) != wsi)
		return 0; /* an HTTP/2 stream: no pipelining; the connection's
			   * buffered frames belong to other streams */
	lws_rx_flow_control(wsi, 0);
	int others = !lws_service_adjust_timeout(cx, 1, 0);
	lws_rx_flow_control(wsi, 1);
	int any = !lws_service_adjust_timeout(cx, 1, 0);
	return others ? -1 : any;
}

/* After the headers: how the body comes, and what to do until it has.
 * -1 closes the connection. */
static int srv_body_start(struct server *s, struct hreq *r)
{
	uint64_t len;
	char *cl = srv_hdr(r->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	char *te = srv_hdr(r->wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
	r->framing = body_framing(r->req.method, cl, te, &len);
	free(cl);
	free(te);
	int ahead = srv_read_ahead(r->wsi);
	if (ahead > 0 || (ahead < 0 && (r->framing == BODY_LENGTH ||
					r->framing == BODY_CHUNKED))) {
		sc_log(SC_LOG_INFO, SRV_LOG, "%s %s %s: pipelined behind another "
		       "request: closing the connection (not answered, not run)",
		       r->req.peer, http_method_name(r->req.method), r->req.path);
		return -1;
	}
	switch (r->framing) {
	case BODY_BAD:
		srv_refuse(r, 400, "bad_request", "Content-Length must be one "
			   "number, and not come with Transfer-Encoding");
		return 0;
	case BODY_UNSUPPORTED:
		srv_refuse(r, 501, "not_implemented",
			   "the only transfer coding accepted is chunked");
		return 0;
	case BODY_UNFRAMED:
		r->close_after = 1; /* lws would take what follows as body */
		SC_FALLTHROUGH;
	case BODY_NONE:
		srv_dispatch(r);
		return 0;
	case BODY_CHUNKED:
		body_chunked_init(&r->chunked);
		r->close_after = 1; /* lws reads on as a 100 MiB body */
		break;
	default:
		r->body_too_large = len > r->req.body.cap;
	}
	srv_expect(r);
	if (!r->dispatched)
		r->body_timer = loop_timer(s->loop, s->body.timeout_ms,
					   srv_body_check, r);
	return 0;
}

/* LWS_CALLBACK_HTTP_BODY: raw bytes, or chunked framing to decode. */
static int srv_on_body(struct hreq *r, const char *in, size_t len)
{
	if (!r || r->dispatched)
		return 0;
	r->got += len;
	if (r->framing != BODY_CHUNKED) { /* a refused request's is dropped */
		if (!r->body_too_large && !r->refuse &&
		    sc_buf_append(&r->req.body, in, len))
			r->body_too_large = 1;
		return 0;
	}
	size_t used;
	int over = r->body_too_large;
	enum body_chunk_rc rc = body_chunked_feed(&r->chunked, in, len,
						  &r->req.body, &over, &used);
	r->body_too_large = over;
	if (rc == BODY_ERROR)
		srv_refuse(r, 400, "bad_chunked", "the chunked body is malformed");
	else if (rc == BODY_DONE)
		srv_dispatch(r);
	return 0;
}

/* LWS_CALLBACK_HTTP_BODY_COMPLETION: -1 closes the connection. */
static int srv_on_body_end(struct hreq *r)
{
	if (!r)
		return 0;
	if (r->sse)
		return -1; /* bytes after the POST stream's body: lws would
			    * report this again and again */
	if (r->framing == BODY_CHUNKED)
		srv_refuse(r, 400, "bad_chunked", "the chunked body is too long");
	else
		srv_dispatch(r);
	return 0;
}

static int srv_on_http(struct server *s, struct lws *wsi, struct pss_http *pss)
{
	if (lws_get_opaque_user_data(wsi) == &srv_streamed)
		return -1; /* sent after an event stream: no answer can follow */
	srv_drop(s, pss);
	struct hreq *r = srv_read_request(s, wsi);
	r->req.body.cap = api_body_cap(&r->req); /* per route (api_io.c) */
	r->refuse = srv_verdict(s, &r->req, 0);
	pss->r = r;
	r->pss = pss;
	srv_track(s, pss, wsi);
	return srv_body_start(s, r);
}

/* Answer a refused request at once, outside WRITEABLE (the response is
 * small; lws flushes what the socket did not take before it closes). */
static int srv_refuse_now(struct lws *wsi, const struct http_req *q,
			  enum origin_verdict v)
{
	static unsigned char buf[LWS_PRE + 2048];
	struct origin_req o = {.host = q->host, .origin = q->origin,
			       .fetch_site = q->fetch_site};
	struct http_resp rs;
	http_resp_init(&rs);
	origin_refuse(v, &o, &rs);
	size_t n = rs.body.len < sizeof(buf) - LWS_PRE ? rs.body.len : 0;
	memcpy(buf + LWS_PRE, rs.body.data, n);
	int rc = wire_headers(wsi, rs.status, rs.ctype, n, &rs.headers) ||
		 lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) < (int)n;
	char peer[64];
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	metrics_http_response(rs.status);
	sc_log(SC_LOG_INFO, SRV_LOG, "%s %s %s %d (refused)", peer,
	       http_method_name(q->method), q->path, rs.status);
	http_resp_free(&rs);
	return rc ? -1 : 0;
}

/* The paths of the callback mounts (srv_mounts): served by srv_on_http. */
static const char *const srv_cb_paths[] = {"/api", "/healthz", "/metrics"};

static int srv_cb_path(const char *path)
{
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(srv_cb_paths[i]);
		if (!strncmp(path, srv_cb_paths[i], n) &&
		    (path[n] == 0 || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* FILTER_HTTP_CONNECTION: Host of the file mounts (the admin page); the
 * callback routes are checked in srv_on_http. 0 go on, -1 close. */
static int srv_filter_http(struct server *s, struct lws *wsi,
			   const char *uri)
{
	if (uri && srv_cb_path(uri))
		return 0;
	struct http_req q;
	http_req_init(&q);
	srv_read_head(wsi, &q);
	enum origin_verdict v = srv_cb_path(q.path) ? ORIGIN_OK
						     : srv_verdict(s, &q, 0);
	int rc = 0;
	if (v) {
		srv_refuse_now(wsi, &q, v);
		rc = -1;
	}
	http_req_free(&q);
	return rc;
}

/* HTTP_CONFIRM_UPGRADE: Host and Origin of a WebSocket upgrade. 0 go on,
 * 1 refused (answered here), -1 hang up. */
static int srv_confirm_upgrade(struct server *s, struct lws *wsi)
{
	struct http_req q;
	http_req_init(&q);
	srv_read_head(wsi, &q);
	enum origin_verdict v = srv_verdict(s, &q, 1);
	int rc = v ? (srv_refuse_now(wsi, &q, v) ? -1 : 1) : 0;
	http_req_free(&q);
	return rc;
}

/* Host and Origin of an HTTP/2 WebSocket (RFC 8441): lws calls no
 * HTTP_CONFIRM_UPGRADE for it. 0 go on, -1 refused. */
static int srv_h2_ws_origin(struct server *s, struct lws *wsi)
{
	struct http_req q;
	http_req_init(&q);
	srv_read_head(wsi, &q);
	if (!q.host) /* HTTP/2 names the host in :authority */
		q.host = srv_hdr(wsi, WSI_TOKEN_HTTP_COLON_AUTHORITY);
	enum origin_verdict v = srv_verdict(s, &q, 1);
	if (v)
		sc_log(SC_LOG_WARN, SRV_LOG, "%s: an HTTP/2 WebSocket refused "
		       "(Host %s, Origin %s)", q.path, q.host ? q.host : "-",
		       q.origin ? q.origin : "-");
	http_req_free(&q);
	return v ? -1 : 0;
}

/* A WebSocket upgrade: only /api/ws, and with the token when one is set.
 * An HTTP/1.1 GET + Upgrade, or on HTTP/2 an extended CONNECT (RFC 8441,
 * :path; lws 4.1.6 offers it, SETTINGS_ENABLE_CONNECT_PROTOCOL, and
 * Chromium uses it for wss:// to a host it has an h2 connection to). */
static int srv_ws_filter(struct server *s, struct lws *wsi)
{
	char tok[256], *uri = NULL;
	int ulen = 0;
	struct http_req q;
	http_req_init(&q);
	if (lws_http_get_uri_and_method(wsi, &uri, &ulen) < 0 || !uri ||
	    ulen != 7 || strncmp(uri, "/api/ws", 7)) {
		http_req_free(&q);
		return -1;
	}
	if (lws_get_network_wsi(wsi) != wsi && srv_h2_ws_origin(s, wsi)) {
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
		return srv_on_body(pss->r, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return srv_on_body_end(pss->r);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return srv_writeable(pss);
	case LWS_CALLBACK_TIMER:
		if (pss && pss->r && pss->r->sse)
			feed_sse_timer(pss->r->sse);
		return 0;
	case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
		return srv_filter_http(s, wsi, in); /* in: the URI */
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return srv_confirm_upgrade(s, wsi);
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
	srv_health_status(s, o, st.draining);
	http_resp_json(rs, st.draining ? 503 : 200, o);
	http_resp_header(rs, "Cache-Control", "no-store");
}

/* GET /metrics: the feeds' counters now, the rest on a worker (scrape.c).
 * 1 when the worker answers, 0 when r->resp is the answer (401, 405). */
static int srv_metrics(struct server *s, struct hreq *r)
{
	struct feed_stats fs;
	feed_stats(s->feed, &fs);
	r->busy = scrape_start(s->loop, &s->api, &r->req, &r->resp, &fs,
			       srv_work_done, r);
	return r->busy;
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
	for (int i = 0; i < 3; i++) {
		s->mounts[i] = (struct lws_http_mount){
			.mountpoint = srv_cb_paths[i],
			.mountpoint_len = (unsigned char)strlen(srv_cb_paths[i]),
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
		/* these two last: srv_frame_headers leaves them out */
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
	s->tls_cert = o->tls_cert ? sc_xstrdup(o->tls_cert) : NULL;
	s->tls_key = o->tls_key ? sc_xstrdup(o->tls_key) : NULL;
	s->assets = sc_xstrdup(o->assets_dir);
	s->api = (struct api_ctx){.app = a, .token = s->token};
	s->origin = origin_create(&(struct origin_opts){
		.listen_host = host, .hosts = o->hosts, .nhosts = o->nhosts,
		.cors = o->cors_origins});
	s->body = (struct body_limits){
		.timeout_ms = (o->body_timeout_s > 0 ? o->body_timeout_s
						     : SERVER_BODY_TIMEOUT_S) * 1000,
		.min_rate = o->body_min_rate > 0 ? o->body_min_rate
						 : SERVER_BODY_MIN_RATE};
	/* tx_packet_size: lws 4.1.6 serves a file mount (the admin page,
	 * /compare) in chunks of the context's pt_serv_buf_size, each one
	 * HTTP/2 DATA frame: past 16 KiB, the peer's default largest frame,
	 * Chromium fails it (ERR_HTTP2_FRAME_SIZE_ERROR). One send at most. */
	s->protocols[0] = (struct lws_protocols){
		.name = "snapcat-http", .callback = srv_callback,
		.per_session_data_size = sizeof(struct pss_http),
		.tx_packet_size = 16384};
	s->protocols[1] = hold_protocol; /* never first: see ws upgrades */
	srv_mounts(s);
	srv_vhost_headers(s);
	if ((o->tls_cert || o->tls_key) &&
	    tls_check(o->tls_cert, o->tls_key, err, errlen)) {
		server_destroy(&s);
		return SC_ERR_INVALID;
	}
	struct lws_context_creation_info info = {
		.port = port, .iface = host[0] ? host : NULL,
		.protocols = s->protocols, .mounts = &s->mounts[0],
		.headers = &s->headers[0], .vhost_name = "snapcat",
		.user = s, .keepalive_timeout = 30, .timeout_secs = 30,
		.options = LWS_SERVER_OPTION_VALIDATE_UTF8};
	if (o->tls_cert)
		tls_vhost(&info, o->tls_cert, o->tls_key);
	s->vh = lws_create_vhost(loop_ctx(l), &info);
	if (!s->vh) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not an "
			 "address of this machine?)", o->listen);
		server_destroy(&s);
		return SC_ERR_IO;
	}
	s->port = lws_get_vhost_listen_port(s->vh);
	s->feed = feed_create(l, a, &o->feed);
	*out = s;
	return SC_OK;
}

int server_port(const struct server *s) { return s->port; }
int server_tls(const struct server *s) { return s->tls_cert != NULL; }

sc_result server_tls_reload(struct server *s, char *err, size_t errlen)
{
	if (!s->tls_cert) {
		snprintf(err, errlen, "no --tls-cert");
		return SC_ERR_INVALID;
	}
	return tls_reload(loop_ctx(s->loop), s->tls_cert, s->tls_key, err,
			  errlen);
}
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
	free(s->tls_cert);
	free(s->tls_key);
	origin_destroy(&s->origin);
	free(s);
	*sp = NULL;
}
