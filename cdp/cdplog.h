/*
 * cdplog.h — a DevTools conversation written to a file, one JSON line per
 * message: {"t": ms since the log opened, "out": true|false, "msg": {...}}.
 *
 *   snapcat capture --cdp-log FILE -> browser opens the connection
 *     -> cdp_conn_set_tap(conn, cdp_log_tap, log) -> every message in/out
 *   tests/unit/cdp-record -> tests/unit/cdp/NAME.jsonl, replayed by
 *     tests/unit/test_capture_steps.c against the capture steps
 *
 * For debugging what snapcat asks Chromium and what it answers. The log
 * holds everything the browser said, page content and screenshots
 * included: treat it like the captures themselves.
 */
#ifndef CDPLOG_H
#define CDPLOG_H

#include <stddef.h>

#include "sc.h"

struct cdp_log;

/* Open (truncate) path. SC_ERR_IO with errno if it cannot be created. */
sc_result cdp_log_open(const char *path, struct cdp_log **out) SC_MUST_CHECK;

/* A cdp_tap_fn: ud is the struct cdp_log. Thread-safe (one lock). */
void cdp_log_tap(void *ud, int out, const char *text, size_t len);

/* Flush, close, free. NULL-safe; *l = NULL. */
void cdp_log_close(struct cdp_log **l);

#endif
