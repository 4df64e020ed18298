/*
 * discover.h — turn a browser endpoint as a user writes it into the
 * WebSocket URL that cdp_conn_open() takes.
 *
 *   "ws://host:port/devtools/browser/ID"  -> itself
 *   "http://host:port" (or host:port)     -> GET /json/version (libcurl)
 *                                            -> webSocketDebuggerUrl, with its
 *                                               host:port replaced by the one
 *                                               asked (the browser reports its
 *                                               own bind address)
 * A query ("http://host:port?token=T", browserless) is kept: it goes on the
 * GET and on the WebSocket URL found when that has no query of its own.
 * Blocking (bounded by timeout_ms): call it from a worker or before the loop.
 */
#ifndef CDP_DISCOVER_H
#define CDP_DISCOVER_H

#include "sc.h"

/*
 * On SC_OK *ws_url is a malloc'd string the caller frees. On error *ws_url is
 * NULL and err says why: SC_ERR_INVALID (not an endpoint), SC_ERR_BROWSER
 * (no answer, HTTP error, no webSocketDebuggerUrl in the answer).
 */
sc_result cdp_discover(const char *endpoint, int timeout_ms, char **ws_url,
		       char *err, size_t errlen) SC_MUST_CHECK;

#endif
