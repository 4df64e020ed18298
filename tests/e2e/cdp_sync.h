/*
 * cdp_sync.h — test-only: call CDP commands synchronously by running the event
 * loop until the reply (or error) arrives. Tests wait on events, not sleeps:
 * every wait here ends when a callback fires; the only bound is a generous
 * safety deadline that turns a hang into a failure.
 */
#ifndef CDP_SYNC_H
#define CDP_SYNC_H

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "loop.h"

struct csync {
	int done;
	sc_result rc;
	cJSON *result; /* a copy; caller frees */
	char error[512];
	char *big;     /* "data"-like big string when asked */
	size_t big_len;
	const char *big_path;
};

/* lws 4.1 runs due timers at the start of lws_service() and then polls until
 * the next event: a flag set by a timer callback (a command's deadline) would
 * not end lws_service(). Callbacks that end a wait therefore also wake the
 * loop with lws_cancel_service(). */
static struct lws_context *csync_ctx;

static void csync_cb(void *owner, const struct cdp_reply *r)
{
	struct csync *s = owner;
	s->done = 1;
	if (csync_ctx)
		lws_cancel_service(csync_ctx);
	s->rc = r->rc;
	if (r->error)
		snprintf(s->error, sizeof(s->error), "%s", r->error);
	if (r->result)
		s->result = cJSON_Duplicate(r->result, 1);
	const char *p;
	size_t n;
	if (s->big_path && cdp_reply_str(r, s->big_path, &p, &n)) {
		s->big = malloc(n + 1);
		memcpy(s->big, p, n);
		s->big[n] = '\0';
		s->big_len = n;
	}
}

/* Spin the loop until *flag or the safety deadline (returns 0 on timeout). */
static inline int csync_spin(struct loop *l, volatile int *flag, int64_t ms)
{
	int64_t end = sc_now_ms() + ms;
	csync_ctx = loop_ctx(l);
	while (!*flag && sc_now_ms() < end)
		lws_service(loop_ctx(l), 0);
	return *flag;
}

/* Call and wait. Returns the rc; s->result holds a copy of the result. */
static inline sc_result csync_call(struct loop *l, struct cdp_conn *c,
				   const char *session, const char *method,
				   cJSON *params, int64_t timeout_ms,
				   struct csync *s)
{
	const char *bp = s->big_path;
	memset(s, 0, sizeof(*s));
	s->big_path = bp;
	sc_result rc = cdp_call(c, session, method, params, timeout_ms,
				csync_cb, s);
	if (rc)
		return rc;
	if (!csync_spin(l, &s->done, timeout_ms + 60000))
		return SC_ERR_INTERNAL;
	return s->rc;
}

static inline void csync_clear(struct csync *s)
{
	cJSON_Delete(s->result);
	free(s->big);
	s->result = NULL;
	s->big = NULL;
}

#endif
