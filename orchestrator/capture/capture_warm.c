/*
 * capture_warm.c — spare pages: the set-up of the next job done ahead.
 *
 *   capture_prepare(conn) -> a capture with no job: context -> target ->
 *       attach -> set-up (capture.c's chain) -> parked (cap_park)
 *   capture_adopt(spare, url) -> the job takes the spare: its deadline
 *       starts, and it navigates at once (or as soon as the set-up is done)
 *   capture_start_warm() -> adopt the spare if it fits, else a fresh page;
 *       then prepare the next spare
 *
 * DESIGN
 * A spare is used once, like any capture: a fresh browser context per job
 * stays the rule, only its creation moves off the job's critical path
 * (setup was 0.5-2 s of every job, most of it waiting for Chromium to make
 * the renderer). A spare fits a job when the page set-up is the same
 * (viewport, scale, SSRF guard); otherwise it is closed and the job starts
 * a fresh page. A spare that fails (browser gone, deadline of its set-up)
 * ends silently and clears its holder's pointer (cap_finish).
 */
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

#define WARM_SETUP_MS 30000 /* a spare's set-up must finish within this */

/* The park step of a spare: no deadline until capture_adopt continues. */
void cap_step_park(struct capture *c)
{
	c->parked = 1;
	loop_timer_cancel(&c->deadline); /* parked: no deadline until adopted */
}

sc_result capture_prepare(struct loop *l, struct cdp_conn *conn,
			  const struct capture_opts *opts,
			  struct capture **out)
{
	*out = NULL;
	if (!cdp_conn_is_open(conn))
		return SC_ERR_DISCONNECTED;
	struct capture *c = cap_new(l, conn, opts, "about:blank");
	c->spare = 1;
	c->stage = CAPTURE_STARTING;
	return cap_open(c, WARM_SETUP_MS, out);
}

/* Does a page set up with a serve a job with b? */
static int warm_fits(const struct capture_opts *a, const struct capture_opts *b)
{
	return a->width == b->width && a->height == b->height &&
	       a->scale == b->scale && !a->block_private == !b->block_private;
}

static void warm_go(void *arg)
{
	struct capture *c = arg;
	c->timer = NULL;
	cap_next(c); /* from the park step */
}

sc_result capture_adopt(struct capture **spare, struct cdp_conn *conn,
			const char *url, const struct capture_opts *opts,
			const struct capture_cbs *cbs, void *ud,
			struct capture **out)
{
	struct capture *c = *spare;
	struct capture_opts o = *opts;
	capture_opts_defaults(&o);
	if (!c || c->conn != conn || !cdp_conn_is_open(conn) ||
	    !warm_fits(&c->o, &o)) {
		capture_cancel(spare);
		return SC_ERR_INVALID;
	}
	*spare = NULL;
	c->self_ref = NULL;
	c->spare = 0;
	cap_set_opts(c, &o);
	c->cbs = *cbs;
	c->ud = ud;
	free(c->res->url);
	c->res->url = sc_xstrdup(url);
	c->t_start = c->t_stage = sc_now_ms();
	loop_timer_cancel(&c->deadline);
	c->deadline = loop_timer(c->loop, o.timeout_ms, cap_on_deadline, c);
	cap_stage(c, CAPTURE_STARTING);
	if (c->parked) /* never call back from inside adopt: next turn */
		c->timer = loop_timer(c->loop, 0, warm_go, c);
	if (out) {
		*out = c;
		c->self_ref = out;
	}
	return SC_OK;
}

sc_result capture_start_warm(struct loop *l, struct cdp_conn *conn,
			     struct capture **spare, int keep_spare,
			     const char *url, const struct capture_opts *opts,
			     const struct capture_cbs *cbs, void *ud,
			     struct capture **out)
{
	sc_result rc = SC_ERR_NOT_FOUND;
	if (*spare)
		rc = capture_adopt(spare, conn, url, opts, cbs, ud, out);
	if (rc)
		rc = capture_start(l, conn, url, opts, cbs, ud, out);
	if (rc == SC_OK && keep_spare && !*spare &&
	    capture_prepare(l, conn, opts, spare))
		sc_log(SC_LOG_DEBUG, "capture", "no spare page: browser gone");
	return rc;
}
