/*
 * ws.c — the /api/ws WebSocket connection (see ws.h): message reassembly,
 * the "capture" op run on a worker, everything else handed to the feed.
 *
 * DESIGN
 * A capture op is a POST /api/links made on a worker through api_dispatch,
 * so both channels share one code path. If the connection closes while the
 * worker runs, the op is orphaned and freed when it returns.
 */
#include "ws.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "feed.h"
#include "loop.h"

#define WS_MSG_MAX (64 * 1024)

struct ws_op;

struct ws_conn {
	struct loop *loop;
	const struct api_ctx *api;
	struct lws *wsi;
	struct feed_sub *sub;
	struct sc_buf msg;
	int too_big;
	struct ws_op *op; /* a capture in flight (one at a time) */
};

struct ws_op {
	struct ws_conn *c; /* NULL once the connection is gone */
	const struct api_ctx *api;
	struct http_req req;
	struct http_resp resp;
};

struct ws_conn *ws_conn_open(struct loop *l, struct feed *f,
			     const struct api_ctx *api, struct lws *wsi)
{
	struct feed_sub *sub = feed_ws_open(f, wsi);
	if (!sub)
		return NULL;
	struct ws_conn *c = sc_xcalloc(1, sizeof(*c));
	c->loop = l;
	c->api = api;
	c->wsi = wsi;
	c->sub = sub;
	sc_buf_init(&c->msg, WS_MSG_MAX);
	return c;
}

static void ws_op_work(void *arg)
{
	struct ws_op *op = arg;
	api_dispatch(op->api, &op->req, &op->resp);
}

/* The answer, once final (the capture's writes committed). */
static void ws_op_answer(void *arg)
{
	struct ws_op *op = arg;
	struct ws_conn *c = op->c;
	if (c && op->resp.commit_rc) { /* the batch failed: nothing stored */
		c->op = NULL;
		feed_ws_send(c->sub, "{\"type\":\"captured\",\"status\":503,"
			     "\"result\":{\"error\":{\"code\":\"not_stored\","
			     "\"message\":\"the catalog did not store the "
			     "change; try again later\"}}}");
	} else if (c) {
		c->op = NULL;
		char *m = sc_xasprintf("{\"type\":\"captured\",\"status\":%d,"
				       "\"result\":%.*s}", op->resp.status,
				       (int)(op->resp.body.len ? op->resp.body.len - 1 : 4),
				       op->resp.body.len ? op->resp.body.data : "null");
		feed_ws_send(c->sub, m);
		free(m);
	}
	http_req_free(&op->req);
	http_resp_free(&op->resp);
	free(op);
}

/* The worker is done; a capture that wrote answers once committed. */
static void ws_op_done(void *arg)
{
	struct ws_op *op = arg;
	if (op->resp.commit_wait) {
		op->resp.on_commit = ws_op_answer;
		op->resp.on_commit_arg = op;
		return;
	}
	ws_op_answer(op);
}

/* {"op":"capture","url":…,"tags":[…]}: POST /api/links on a worker. */
static void ws_capture(struct ws_conn *c, const char *msg, size_t len)
{
	if (c->op) {
		feed_ws_send(c->sub, "{\"type\":\"error\",\"error\":{\"code\":"
			     "\"busy\",\"message\":\"one capture op at a time\"}}");
		return;
	}
	struct ws_op *op = sc_xcalloc(1, sizeof(*op));
	op->c = c;
	op->api = c->api;
	http_req_init(&op->req);
	http_resp_init(&op->resp);
	op->req.method = HTTP_POST;
	op->req.path = sc_xstrdup("/api/links");
	op->req.auth = c->api->token ? sc_xasprintf("Bearer %s", c->api->token)
				     : NULL; /* authorized at the upgrade */
	(void)!sc_buf_append(&op->req.body, msg, len);
	c->op = op;
	loop_work(c->loop, ws_op_work, ws_op_done, op);
}

static void ws_message(struct ws_conn *c, const char *msg, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(msg, len);
	const cJSON *op = cJSON_GetObjectItem(j, "op");
	int capture = cJSON_IsString(op) && !strcmp(op->valuestring, "capture");
	cJSON_Delete(j);
	if (capture)
		ws_capture(c, msg, len);
	else
		feed_ws_message(c->sub, msg, len);
}

void ws_conn_receive(struct ws_conn *c, const void *in, size_t len)
{
	if (!c->too_big && sc_buf_append(&c->msg, in, len))
		c->too_big = 1;
	if (!lws_is_final_fragment(c->wsi))
		return;
	if (c->too_big)
		feed_ws_send(c->sub, "{\"type\":\"error\",\"error\":{\"code\":"
			     "\"too_large\",\"message\":\"messages are limited "
			     "to 64 KiB\"}}");
	else
		ws_message(c, c->msg.data ? c->msg.data : "", c->msg.len);
	sc_buf_reset(&c->msg);
	c->too_big = 0;
}

int ws_conn_writeable(struct ws_conn *c) { return feed_ws_writeable(c->sub); }

void ws_conn_close(struct ws_conn **cp)
{
	struct ws_conn *c = *cp;
	if (!c)
		return;
	*cp = NULL;
	if (c->op)
		c->op->c = NULL;
	feed_sub_close(&c->sub);
	sc_buf_free(&c->msg);
	free(c);
}
