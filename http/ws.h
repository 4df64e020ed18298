/*
 * ws.h — the WebSocket channel /api/ws: JSON messages in, events out.
 *
 *   client -> {"op":"subscribe","types":[…],"job":7,"after":41}
 *          -> feed (replay + live, same guarantees as SSE)
 *   client -> {"op":"capture","url":"…","tags":[…]} -> worker: the same
 *             handler as POST /api/links -> {"type":"captured",…} back
 *   client -> {"op":"unsubscribe"}
 * Messages over 64 KiB or not JSON get an {"type":"error"} answer.
 */
#ifndef HTTP_WS_H
#define HTTP_WS_H

#include <stddef.h>

struct loop;
struct feed;
struct api_ctx;
struct lws;
struct ws_conn;

struct ws_conn *ws_conn_open(struct loop *l, struct feed *f,
			     const struct api_ctx *api, struct lws *wsi);
/* A received fragment (reassembled here). */
void ws_conn_receive(struct ws_conn *c, const void *in, size_t len);
/* SERVER_WRITEABLE: -1 to close. */
int ws_conn_writeable(struct ws_conn *c);
/* The connection closed. NULL-safe; *c = NULL. */
void ws_conn_close(struct ws_conn **c);

#endif
