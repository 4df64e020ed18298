/*
 * wire.h — writing an HTTP response head with lws (server.c and feed.c).
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

#endif
