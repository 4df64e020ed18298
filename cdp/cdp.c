/*
 * cdp.c — the DevTools-protocol connection (see cdp.h for the contract).
 *
 *   cdp_call -> struct cdp_pending (id, deadline sul) + tx queue
 *            -> WRITEABLE: one message per callback
 *   RECEIVE  -> rx buffer until the final fragment -> conn_dispatch
 *            -> reply: pending by id -> cb   | event: listeners
 *   CLOSED   -> conn_closed: every pending cb gets SC_ERR_DISCONNECTED
 *
 * DESIGN
 * Lifetime: the struct is freed either by cdp_conn_close() when no wsi is
 * attached, or at LWS_CALLBACK_WSI_DESTROY after cdp_conn_close() asked lws to
 * kill the wsi. `depth` counts nested dispatches (reply/event/close
 * callbacks): while it is non-zero nothing is freed, so a callback may close
 * the connection or forget owners freely; conn_leave() does the deferred work.
 * Listeners are removed by marking them dead; they are unlinked at depth 0.
 */
#include "cdp.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define CDP_LOG "cdp"

struct cdp_pending {
	struct cdp_pending *next, **pprev;
	struct cdp_conn *conn;
	uint64_t id;
	char method[64];
	cdp_reply_cb cb;
	void *owner;
	lws_sorted_usec_list_t sul; /* the command's deadline */
};

struct cdp_listener {
	struct cdp_listener *next;
	char *session, *method; /* NULL = any */
	cdp_event_cb cb;        /* NULL once forgotten (dead) */
	void *owner;
};

struct cdp_tx {
	struct cdp_tx *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE headroom, then len bytes of JSON */
};

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_CLOSED };

struct cdp_conn {
	struct lws_context *ctx;
	struct lws *wsi; /* NULL once lws has destroyed it */
	struct cdp_conn_cbs cbs;
	struct cdp_conn_opts opts;
	enum conn_state state;
	int closing; /* the owner called cdp_conn_close */
	int opening; /* inside lws_client_connect_via_info */
	char open_err[300];
	lws_sorted_usec_list_t open_sul; /* reports a synchronous failure */
	int depth;   /* nested dispatches; no free while > 0 */
	int has_dead_listeners;
	uint64_t next_id;
	size_t npending;
	struct cdp_pending *pending;
	struct cdp_listener *listeners, **listeners_tail;
	struct cdp_tx *tx, **tx_tail;
	struct sc_buf rx;
	int rx_in_msg, rx_overflow;
	size_t rx_total;
	uint64_t rx_bytes; /* every byte received, for liveness */
	char rx_prefix[128];
	size_t rx_prefix_len;
	char address[256], path[1024];
	int port;
	struct cdp_transport tp; /* tp.send set: not a WebSocket */
	cdp_tap_fn tap;
	void *tap_ud;
};

static void conn_init(struct cdp_conn *c, struct lws_context *ctx,
		      const struct cdp_conn_opts *opts,
		      const struct cdp_conn_cbs *cbs);

/* ---- small helpers ---- */

static void pending_unlink(struct cdp_pending *p)
{
	lws_sul_cancel(&p->sul);
	if (p->next)
		p->next->pprev = p->pprev;
	*p->pprev = p->next;
	p->conn->npending--;
}

static void conn_free(struct cdp_conn *c)
{
	lws_sul_cancel(&c->open_sul);
	while (c->pending) {
		struct cdp_pending *p = c->pending;
		pending_unlink(p);
		free(p);
	}
	for (struct cdp_listener *l = c->listeners, *n; l; l = n) {
		n = l->next;
		free(l->session);
		free(l->method);
		free(l);
	}
	for (struct cdp_tx *t = c->tx, *n; t; t = n) {
		n = t->next;
		free(t);
	}
	sc_buf_free(&c->rx);
	free(c);
}

static void listeners_purge(struct cdp_conn *c)
{
	struct cdp_listener **pp = &c->listeners;
	c->listeners_tail = &c->listeners;
	while (*pp) {
		struct cdp_listener *l = *pp;
		if (l->cb) {
			c->listeners_tail = &l->next;
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		free(l->session);
		free(l->method);
		free(l);
	}
	c->has_dead_listeners = 0;
}

/* Leave a dispatch; returns 1 if c was freed (the caller must not touch it). */
static int conn_leave(struct cdp_conn *c)
{
	if (--c->depth > 0)
		return 0;
	if (c->closing && !c->wsi) {
		conn_free(c);
		return 1;
	}
	if (c->has_dead_listeners)
		listeners_purge(c);
	return 0;
}

static void reply_fail(struct cdp_pending *p, sc_result rc, const char *why)
{
	struct cdp_reply r = {.rc = rc, .error = why, .method = p->method};
	p->cb(p->owner, &r);
}

/* The socket is gone: fail every pending command, tell the owner. */
static void conn_closed(struct cdp_conn *c, const char *reason)
{
	if (c->state == CONN_CLOSED)
		return;
	int was_open = c->state == CONN_OPEN;
	c->state = CONN_CLOSED; /* the caller holds c->depth */
	while (c->pending) {
		struct cdp_pending *p = c->pending;
		pending_unlink(p);
		reply_fail(p, SC_ERR_DISCONNECTED, reason);
		free(p);
	}
	for (struct cdp_tx *t = c->tx, *n; t; t = n) {
		n = t->next;
		free(t);
	}
	c->tx = NULL;
	c->tx_tail = &c->tx;
	/* listeners of every method learn it too: an owner that waits for an
	 * event, with no command out, must not wait for ever */
	for (struct cdp_listener *l = c->listeners; l; l = l->next)
		if (l->cb && !l->method)
			l->cb(l->owner, NULL, CDP_EVENT_DISCONNECTED, NULL);
	if (c->opening) {
		snprintf(c->open_err, sizeof(c->open_err), "%s", reason);
	} else if (!c->closing) {
		if (was_open && c->cbs.on_close)
			c->cbs.on_close(c, c->cbs.ud, reason);
		else if (!was_open && c->cbs.on_open)
			c->cbs.on_open(c, c->cbs.ud, SC_ERR_BROWSER, reason);
	}
}

/* ---- incoming messages ---- */

static void dispatch_reply(struct cdp_conn *c, const cJSON *root,
			   struct cdp_msg *msg)
{
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(root, "id");
	uint64_t id = (uint64_t)jid->valuedouble;
	struct cdp_pending *p = c->pending;
	while (p && p->id != id)
		p = p->next;
	if (!p)
		return; /* timed out or forgotten: ignore the late reply */
	pending_unlink(p);
	struct cdp_reply r = {.method = p->method, .msg = msg};
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (err) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
		r.rc = SC_ERR_CDP;
		r.error = cJSON_IsString(m) ? m->valuestring : "browser error";
		r.cdp_code = cJSON_IsNumber(code) ? code->valueint : 0;
	} else {
		r.result = cJSON_GetObjectItemCaseSensitive(root, "result");
	}
	p->cb(p->owner, &r);
	free(p);
}

static int listener_matches(const struct cdp_listener *l, const char *session,
			    const char *method)
{
	if (!l->cb)
		return 0;
	if (l->session && (!session || strcmp(l->session, session)))
		return 0;
	if (!l->method)
		return 1;
	size_t n = strlen(l->method);
	if (n && l->method[n - 1] == '.')
		return !strncmp(l->method, method, n);
	return !strcmp(l->method, method);
}

static void dispatch_event(struct cdp_conn *c, const cJSON *root)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "method");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "sessionId");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
	const char *session = cJSON_IsString(s) ? s->valuestring : NULL;
	for (struct cdp_listener *l = c->listeners; l; l = l->next)
		if (listener_matches(l, session, m->valuestring))
			l->cb(l->owner, session, m->valuestring, params);
}

static void dispatch(struct cdp_conn *c, struct cdp_msg *msg)
{
	const cJSON *root = msg->root;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (cJSON_IsNumber(id))
		dispatch_reply(c, root, msg);
	else if (cJSON_IsString(method))
		dispatch_event(c, root);
	else
		sc_log(SC_LOG_WARN, CDP_LOG, "message with neither id nor method");
}

/* A message over the cap: fail the command it answers (its id is near the
 * start of the text, where Chromium puts it). */
static void rx_overflowed(struct cdp_conn *c)
{
	c->rx_prefix[c->rx_prefix_len] = '\0';
	const char *p = strstr(c->rx_prefix, "\"id\":");
	uint64_t id = p ? strtoull(p + 5, NULL, 10) : 0;
	struct cdp_pending *q = c->pending;
	while (q && (!p || q->id != id))
		q = q->next;
	sc_log(SC_LOG_WARN, CDP_LOG, "dropped a %zu-byte message (cap %zu)",
	       c->rx_total, c->opts.max_message);
	if (!q)
		return;
	pending_unlink(q);
	char why[128];
	snprintf(why, sizeof(why), "reply of %zu bytes is over the %zu-byte cap",
		 c->rx_total, c->opts.max_message);
	reply_fail(q, SC_ERR_TOO_LARGE, why);
	free(q);
}

static void rx_message(struct cdp_conn *c)
{
	struct cdp_msg msg = {0};
	sc_result rc;
	if (c->tap)
		c->tap(c->tap_ud, 0, c->rx.data, c->rx.len);
	if (c->rx.len < CDP_MSG_BIG_STRING) {
		msg.root = cJSON_ParseWithLength(c->rx.data, c->rx.len);
		rc = msg.root ? SC_OK : SC_ERR_PROTOCOL;
		sc_buf_reset(&c->rx);
	} else {
		size_t len;
		char *buf = sc_buf_take(&c->rx, &len);
		rc = cdp_msg_parse(buf, len, 0, &msg);
	}
	if (rc) {
		sc_log(SC_LOG_WARN, CDP_LOG, "unparsable message: %s",
		       sc_strerror(rc));
		return;
	}
	dispatch(c, &msg);
	cdp_msg_free(&msg);
}

static void rx_chunk(struct cdp_conn *c, struct lws *wsi, const void *in,
		     size_t len)
{
	if (!c->rx_in_msg) {
		c->rx_in_msg = 1;
		c->rx_overflow = 0;
		c->rx_total = 0;
		c->rx_prefix_len = 0;
		sc_buf_reset(&c->rx);
		c->rx.cap = c->opts.max_message;
		size_t expect = len + lws_remaining_packet_payload(wsi);
		if (expect > c->rx.alloc && expect <= c->opts.max_message &&
		    sc_buf_reserve(&c->rx, expect))
			c->rx_overflow = 1;
	}
	size_t keep = sizeof(c->rx_prefix) - 1 - c->rx_prefix_len;
	keep = len < keep ? len : keep;
	memcpy(c->rx_prefix + c->rx_prefix_len, in, keep);
	c->rx_prefix_len += keep;
	c->rx_total += len;
	if (!c->rx_overflow && sc_buf_append(&c->rx, in, len)) {
		c->rx_overflow = 1;
		sc_buf_free(&c->rx);
		sc_buf_init(&c->rx, c->opts.max_message);
	}
	if (!lws_is_final_fragment(wsi))
		return;
	c->rx_in_msg = 0;
	if (c->rx_overflow)
		rx_overflowed(c);
	else
		rx_message(c);
}

/* ---- outgoing ---- */

static int tx_one(struct cdp_conn *c, struct lws *wsi)
{
	struct cdp_tx *t = c->tx;
	if (!t)
		return 0;
	c->tx = t->next;
	if (!c->tx)
		c->tx_tail = &c->tx;
	if (c->tap)
		c->tap(c->tap_ud, 1, (const char *)t->buf + LWS_PRE, t->len);
	int n = lws_write(wsi, t->buf + LWS_PRE, t->len, LWS_WRITE_TEXT);
	free(t);
	if (n < 0)
		return -1;
	if (c->tx)
		lws_callback_on_writable(wsi);
	return 0;
}

/* ---- the lws protocol ---- */

/* lws is about to destroy wsi: forget it, so that nothing touches it later */
static void conn_detach_wsi(struct cdp_conn *c, struct lws *wsi)
{
	lws_set_opaque_user_data(wsi, NULL);
	if (c->wsi == wsi)
		c->wsi = NULL;
}

static int cdp_callback(struct lws *wsi, enum lws_callback_reasons reason,
			void *user, void *in, size_t len)
{
	struct cdp_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	if (!c)
		return 0;
	int rc = 0;
	c->depth++;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[300];
		snprintf(why, sizeof(why), "cannot connect to the browser: %s",
			 in ? (const char *)in : "unknown error");
		conn_detach_wsi(c, wsi);
		conn_closed(c, why);
		break;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = CONN_OPEN;
		if (c->tx)
			lws_callback_on_writable(wsi);
		if (c->cbs.on_open && !c->closing)
			c->cbs.on_open(c, c->cbs.ud, SC_OK, NULL);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		c->rx_bytes += len;
		if (!c->closing)
			rx_chunk(c, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		rc = c->closing ? -1 : tx_one(c, wsi);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_detach_wsi(c, wsi);
		conn_closed(c, "the browser closed the connection");
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		conn_detach_wsi(c, wsi);
		conn_closed(c, "the browser connection was destroyed");
		break;
	default:
		break;
	}
	conn_leave(c);
	return rc;
}

const struct lws_protocols cdp_protocol = {
	.name = "snapcat-cdp",
	.callback = cdp_callback,
	.per_session_data_size = 0,
	.rx_buffer_size = CDP_RX_CHUNK,
};

/* ---- public API ---- */

static sc_result conn_parse_url(struct cdp_conn *c, const char *ws_url)
{
	char tmp[1280];
	const char *prot, *addr, *path;
	int port;
	if (sc_snprintf(tmp, sizeof(tmp), "%s", ws_url))
		return SC_ERR_INVALID;
	/* The query (a token, as in ws://host:port?token=T) is kept apart:
	 * lws_parse_uri reads "host:port?q" as a host and a path of "/". */
	char *q = strchr(tmp, '?');
	const char *query = q ? q + 1 : "";
	if (q)
		*q = 0;
	if (lws_parse_uri(tmp, &prot, &addr, &port, &path) ||
	    (strcmp(prot, "ws") && strcmp(prot, "http")) || !*addr)
		return SC_ERR_INVALID;
	c->port = port;
	while (*path == '/')
		path++;
	if (sc_snprintf(c->address, sizeof(c->address), "%s", addr) ||
	    sc_snprintf(c->path, sizeof(c->path), "/%s%s%s", path,
			q ? "?" : "", query))
		return SC_ERR_INVALID;
	return SC_OK;
}

static void conn_open_failed(lws_sorted_usec_list_t *sul)
{
	struct cdp_conn *c = lws_container_of(sul, struct cdp_conn, open_sul);
	c->depth++;
	if (!c->closing && c->cbs.on_open)
		c->cbs.on_open(c, c->cbs.ud, SC_ERR_BROWSER, c->open_err);
	conn_leave(c);
}

sc_result cdp_conn_open(struct lws_context *ctx, const char *ws_url,
			const struct cdp_conn_opts *opts,
			const struct cdp_conn_cbs *cbs, struct cdp_conn **out)
{
	*out = NULL;
	struct cdp_conn *c = sc_xcalloc(1, sizeof(*c));
	conn_init(c, ctx, opts, cbs);
	if (conn_parse_url(c, ws_url)) {
		conn_free(c);
		return SC_ERR_INVALID;
	}
	struct lws_client_connect_info i = {
		.context = ctx,
		.address = c->address,
		.port = c->port,
		.path = c->path,
		.host = c->address,
		.origin = NULL, /* Chrome >= 111 rejects unknown origins */
		.protocol = NULL,
		.local_protocol_name = cdp_protocol.name,
		.opaque_user_data = c,
		.pwsi = &c->wsi,
	};
	c->opening = 1;
	struct lws *wsi = lws_client_connect_via_info(&i);
	c->opening = 0;
	if (!wsi) {
		if (c->wsi)
			lws_set_opaque_user_data(c->wsi, NULL);
		conn_free(c);
		return SC_ERR_BROWSER;
	}
	if (c->state == CONN_CLOSED) /* failed inside the call: report later */
		lws_sul_schedule(ctx, 0, &c->open_sul, conn_open_failed, 1);
	*out = c;
	return SC_OK;
}

void cdp_conn_close(struct cdp_conn **pc)
{
	struct cdp_conn *c = pc ? *pc : NULL;
	if (!c)
		return;
	*pc = NULL;
	c->closing = 1;
	while (c->pending) {
		struct cdp_pending *p = c->pending;
		pending_unlink(p);
		free(p);
	}
	for (struct cdp_listener *l = c->listeners; l; l = l->next)
		l->cb = NULL;
	c->has_dead_listeners = 1;
	if (c->tp.send && c->tp.close) {
		c->tp.close(c->tp.ud);
		c->tp.close = NULL;
	}
	if (c->wsi) {
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
				LWS_TO_KILL_ASYNC);
		return;
	}
	if (!c->depth)
		conn_free(c);
}

/* ---- other transports ---- */

static void conn_transport_opened(lws_sorted_usec_list_t *sul)
{
	struct cdp_conn *c = lws_container_of(sul, struct cdp_conn, open_sul);
	c->depth++;
	if (!c->closing && c->state == CONN_OPEN && c->cbs.on_open)
		c->cbs.on_open(c, c->cbs.ud, SC_OK, NULL);
	conn_leave(c);
}

static void conn_init(struct cdp_conn *c, struct lws_context *ctx,
		      const struct cdp_conn_opts *opts,
		      const struct cdp_conn_cbs *cbs)
{
	c->ctx = ctx;
	c->cbs = *cbs;
	if (opts)
		c->opts = *opts;
	if (!c->opts.max_message)
		c->opts.max_message = 512u << 20;
	if (!c->opts.default_timeout_ms)
		c->opts.default_timeout_ms = 30000;
	c->listeners_tail = &c->listeners;
	c->tx_tail = &c->tx;
	c->next_id = 1;
	sc_buf_init(&c->rx, c->opts.max_message);
}

sc_result cdp_conn_open_transport(struct lws_context *ctx,
				  const struct cdp_transport *t,
				  const struct cdp_conn_opts *opts,
				  const struct cdp_conn_cbs *cbs,
				  struct cdp_conn **out)
{
	*out = NULL;
	if (!t || !t->send)
		return SC_ERR_INVALID;
	struct cdp_conn *c = sc_xcalloc(1, sizeof(*c));
	conn_init(c, ctx, opts, cbs);
	c->tp = *t;
	c->state = CONN_OPEN;
	lws_sul_schedule(ctx, 0, &c->open_sul, conn_transport_opened, 1);
	*out = c;
	return SC_OK;
}

void cdp_conn_receive(struct cdp_conn *c, char *buf, size_t len)
{
	if (c->closing || c->state != CONN_OPEN) {
		free(buf);
		return;
	}
	c->depth++;
	c->rx_bytes += len;
	sc_buf_free(&c->rx);
	c->rx = (struct sc_buf){.data = buf, .len = len, .alloc = len + 1,
				.cap = c->opts.max_message};
	c->rx_total = len;
	c->rx_prefix_len = len < sizeof(c->rx_prefix) - 1 ? len
							 : sizeof(c->rx_prefix) - 1;
	memcpy(c->rx_prefix, buf, c->rx_prefix_len);
	if (len > c->opts.max_message) {
		sc_buf_free(&c->rx);
		sc_buf_init(&c->rx, c->opts.max_message);
		rx_overflowed(c);
	} else {
		rx_message(c);
	}
	conn_leave(c);
}

void cdp_conn_transport_closed(struct cdp_conn *c, const char *reason)
{
	c->depth++;
	conn_closed(c, reason ? reason : "the transport closed");
	conn_leave(c);
}

void cdp_conn_set_tap(struct cdp_conn *c, cdp_tap_fn fn, void *ud)
{
	c->tap = fn;
	c->tap_ud = ud;
}


void cdp_conn_drop(struct cdp_conn *c, const char *reason)
{
	if (!c || c->state == CONN_CLOSED || c->closing)
		return;
	c->depth++;
	if (c->wsi) /* lws closes it on its next turn; CLOSED is then a no-op */
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
				LWS_TO_KILL_ASYNC);
	conn_closed(c, reason);
	conn_leave(c);
}

int cdp_conn_is_open(const struct cdp_conn *c)
{
	return c && c->state == CONN_OPEN && !c->closing;
}

uint64_t cdp_conn_rx_bytes(const struct cdp_conn *c)
{
	return c->rx_bytes;
}

size_t cdp_conn_pending(const struct cdp_conn *c)
{
	return c ? c->npending : 0;
}

static void pending_timeout(lws_sorted_usec_list_t *sul)
{
	struct cdp_pending *p = lws_container_of(sul, struct cdp_pending, sul);
	struct cdp_conn *c = p->conn;
	char why[160];
	snprintf(why, sizeof(why), "%s: no reply before the deadline",
		 p->method);
	c->depth++;
	pending_unlink(p);
	reply_fail(p, SC_ERR_TIMEOUT, why);
	free(p);
	conn_leave(c);
}

static struct cdp_tx *tx_build(struct cdp_conn *c, uint64_t id,
			       const char *session, const char *method,
			       cJSON *params)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "id", (double)id);
	cJSON_AddStringToObject(m, "method", method);
	cJSON_AddItemToObject(m, "params", params ? params : cJSON_CreateObject());
	if (session)
		cJSON_AddStringToObject(m, "sessionId", session);
	char *text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	struct cdp_tx *t = sc_xmalloc(sizeof(*t) + LWS_PRE + n);
	t->next = NULL;
	t->len = n;
	memcpy(t->buf + LWS_PRE, text, n);
	cJSON_free(text);
	return t;
}

/* A transport that is not a WebSocket takes the queued messages now. */
static void tx_transport(struct cdp_conn *c)
{
	while (c->tx) {
		struct cdp_tx *t = c->tx;
		if (!(c->tx = t->next))
			c->tx_tail = &c->tx;
		const char *text = (const char *)t->buf + LWS_PRE;
		if (c->tap)
			c->tap(c->tap_ud, 1, text, t->len);
		c->tp.send(c->tp.ud, text, t->len);
		free(t);
	}
}

sc_result cdp_call(struct cdp_conn *c, const char *session, const char *method,
		   cJSON *params, int64_t timeout_ms, cdp_reply_cb cb,
		   void *owner)
{
	if (!cdp_conn_is_open(c)) {
		cJSON_Delete(params);
		return SC_ERR_DISCONNECTED;
	}
	uint64_t id = c->next_id++;
	struct cdp_tx *t = tx_build(c, id, session, method, params);
	if (!t)
		return SC_ERR_NOMEM;
	*c->tx_tail = t;
	c->tx_tail = &t->next;
	struct cdp_pending *p = sc_xcalloc(1, sizeof(*p));
	p->conn = c;
	p->id = id;
	p->cb = cb;
	p->owner = owner;
	snprintf(p->method, sizeof(p->method), "%s", method);
	p->next = c->pending;
	if (p->next)
		p->next->pprev = &p->next;
	p->pprev = &c->pending;
	c->pending = p;
	c->npending++;
	if (timeout_ms <= 0)
		timeout_ms = c->opts.default_timeout_ms;
	lws_sul_schedule(c->ctx, 0, &p->sul, pending_timeout,
			 (lws_usec_t)timeout_ms * 1000);
	if (c->tp.send)
		tx_transport(c);
	else
		lws_callback_on_writable(c->wsi);
	return SC_OK;
}

int cdp_reply_str(const struct cdp_reply *r, const char *path, const char **s,
		  size_t *len)
{
	if (r->msg) {
		char full[160];
		if (!sc_snprintf(full, sizeof(full), "result.%s", path)) {
			const struct cdp_msg_big *b = cdp_msg_find_big(r->msg, full);
			if (b) {
				*s = b->s;
				*len = b->len;
				return 1;
			}
		}
	}
	const cJSON *v = r->result ? cdp_json_path(r->result, path) : NULL;
	if (!cJSON_IsString(v))
		return 0;
	*s = v->valuestring;
	*len = strlen(v->valuestring);
	return 1;
}

void *cdp_reply_take(const struct cdp_reply *r)
{
	if (!r->msg || !r->msg->nbig || !r->msg->buf)
		return NULL;
	void *b = r->msg->buf;
	r->msg->buf = NULL;
	return b;
}

void cdp_on(struct cdp_conn *c, const char *session, const char *method,
	    cdp_event_cb cb, void *owner)
{
	struct cdp_listener *l = sc_xcalloc(1, sizeof(*l));
	l->session = sc_xstrdup(session);
	l->method = sc_xstrdup(method);
	l->cb = cb;
	l->owner = owner;
	*c->listeners_tail = l;
	c->listeners_tail = &l->next;
}

void cdp_forget(struct cdp_conn *c, void *owner)
{
	if (!c)
		return;
	for (struct cdp_pending *p = c->pending, *n; p; p = n) {
		n = p->next;
		if (p->owner == owner) {
			pending_unlink(p);
			free(p);
		}
	}
	for (struct cdp_listener *l = c->listeners; l; l = l->next)
		if (l->owner == owner) {
			l->cb = NULL;
			c->has_dead_listeners = 1;
		}
	if (!c->depth && c->has_dead_listeners)
		listeners_purge(c);
}
