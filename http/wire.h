/*
 * wire.h — an HTTP response head built with lws: written (feed.c) or as
 * bytes (server.c, for hold.c).
 */
#ifndef HTTP_WIRE_H
#define HTTP_WIRE_H

#include <stdint.h>

#include "sc.h"

struct lws;

/*
 * Write the status line and headers: Content-Type ctype (may be NULL),
 * Content-Length len (UINT64_MAX: none, for streams), then every
 * "Name: value\r\n" line of extra (may be NULL). Loop thread, in a
 * WRITEABLE callback. Returns 0, or -1 (close the connection).
 */
int wire_headers(struct lws *wsi, int status, const char *ctype, uint64_t len,
		 const struct sc_buf *extra);

/*
 * The same head as bytes appended to out instead of written (the answer of
 * a held connection is sent by hold.c). Loop thread. 0, or -1 (too large).
 */
int wire_head(struct lws *wsi, int status, const char *ctype, uint64_t len,
	      const struct sc_buf *extra, struct sc_buf *out);

#endif
