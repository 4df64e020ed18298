/*
 * feed_poll.c — the long-poll channel of the feed (GET /api/events/poll): an
 * answer with what came after ?after=, or an empty one at the timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_int.h"

/* ---- long-poll ---- */

void feed_poll_answer(struct feed_sub *s)
{
	if (!s->resp)
		return;
	if (s->replay_busy) { /* the timeout came first: answer after it */
		s->answer_due = 1;
		return;
	}
	struct http_resp *rs = s->resp;
	s->resp = NULL;
	loop_timer_cancel(&s->timer);
	rs->status = 200;
	rs->ctype = "application/json";
	(void)!sc_buf_appends(&rs->body, "[");
	struct feed_rec *r;
	for (int i = 0; (r = feed_queue_pop(&s->q)); i++) {
		if (i)
			(void)!sc_buf_appends(&rs->body, ",");
		(void)!sc_buf_append(&rs->body, r->f->data, r->f->len);
		feed_rec_free(r);
	}
	(void)!sc_buf_appends(&rs->body, "]\n");
	http_resp_header(rs, "Cache-Control", "no-store");
	feed_unlink(s);
	s->ready(s->ud);
}

static void feed_poll_timeout(void *arg)
{
	struct feed_sub *s = arg;
	s->timer = NULL;
	feed_poll_answer(s);
}

struct feed_sub *feed_poll_open(struct feed *f, const struct http_req *req,
				struct http_resp *resp, void (*ready)(void *),
				void *ud)
{
	struct feed_filter flt;
	const char *to = http_arg(req, "timeout");
	long timeout = 25;
	if (to && sc_parse_long(to, 0, 60, &timeout)) {
		http_resp_error(resp, 400, "invalid_field", "timeout",
				"timeout must be 0 to 60 seconds");
		return NULL;
	}
	if (feed_filter_parse(req, &flt, resp) || feed_full(f, FEED_POLL, resp))
		return NULL;
	int64_t after = feed_after(req);
	struct feed_sub *s = feed_sub_new(f, FEED_POLL);
	s->flt = flt;
	s->resp = resp;
	s->ready = ready;
	s->ud = ud;
	s->timer = loop_timer(f->loop, timeout * 1000, feed_poll_timeout, s);
	feed_replay(s, after >= 0 ? after : INT64_MAX, 0);
	return s;
}
