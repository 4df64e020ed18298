/*
 * feed_frame.c — the forever-frame channel of the feed (GET
 * /api/events/frame): an HTML document that never ends, meant for a hidden
 * same-origin iframe; one <script nonce=…>p(event)</script> per event,
 * where p calls parent.snapcatFrame(event) (assets/compare.js).
 *
 * Its own headers: the vhost's X-Frame-Options DENY and CSP
 * frame-ancestors 'none' would forbid the framing (server.c leaves them out
 * of this head, srv_house_policy, on HTTP/1.1 and HTTP/2 alike), and its
 * inline scripts need a per-response nonce. Event JSON is escaped (every '<' as
 * \u003c) so no "</script" or "<!--" can end or upset the script element.
 * No automatic reconnect: the page reloads the frame with ?last_event_id=.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_int.h"

#define FRAME_WRITE_MAX 65536

struct feed_frame *feed_frame_html(const char *json, int64_t id)
{
	struct sc_buf b;
	sc_buf_init(&b, 0);
	for (const char *p = json; *p; p++)
		(void)!(*p == '<' ? sc_buf_appends(&b, "\\u003c")
				  : sc_buf_append(&b, p, 1));
	struct feed_frame *f = feed_frame_new(b.data ? b.data : "", b.len, id);
	sc_buf_free(&b);
	return f;
}

static void feed_frame_nonce(struct feed_sub *s)
{
	unsigned char r[16];
	if (lws_get_random(lws_get_context(s->wsi), r, sizeof(r)) != sizeof(r))
		sc_log(SC_LOG_WARN, FEED_LOG, "forever frame: short random read");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(s->nonce + 2 * i, 3, "%02x", r[i]);
}

struct feed_sub *feed_frame_open(struct feed *f, struct lws *wsi,
				 const struct http_req *req,
				 struct http_resp *resp)
{
	struct feed_sub *s = feed_sub_open(f, FEED_FRAME, wsi, req, resp);
	if (!s)
		return NULL;
	feed_frame_nonce(s);
	int64_t after = feed_after(req);
	feed_replay(s, after >= 0 ? after : INT64_MAX, 0);
	lws_callback_on_writable(wsi); /* the headers go out at once */
	return s;
}

/* The head and the document's start: p() hands each event to the parent. */
static int feed_frame_head(struct feed_sub *s)
{
	struct sc_buf h;
	sc_buf_init(&h, 8192);
	(void)!sc_buf_printf(&h,
		"Cache-Control: no-cache, no-store\r\nX-Accel-Buffering: no\r\n"
		"X-Frame-Options: SAMEORIGIN\r\n"
		"Content-Security-Policy: default-src 'none'; script-src "
		"'nonce-%s'; frame-ancestors 'self'; base-uri 'none'; "
		"form-action 'none'\r\n", s->nonce);
	int rc = wire_headers(s->wsi, 200, "text/html; charset=utf-8",
			      UINT64_MAX, &h);
	sc_buf_free(&h);
	if (rc)
		return -1;
	s->headers_sent = 1;
	char doc[512];
	int n = snprintf(doc, sizeof(doc),
		"<!doctype html><html><head><meta charset=\"utf-8\"><title>"
		"snapcat events</title></head><body>\n<script nonce=\"%s\">"
		"function p(e){try{parent.snapcatFrame(e)}catch(x){}}"
		"p({\"type\":\"open\"})</script>\n", s->nonce);
	unsigned char buf[LWS_PRE + 512];
	memcpy(buf + LWS_PRE, doc, (size_t)n);
	if (lws_write(s->wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP) < n)
		return -1;
	lws_set_timer_usecs(s->wsi, (lws_usec_t)s->f->o.ping_ms * 1000);
	return 0;
}

/* Write queued records, each in a script element, up to 64 KiB at once,
 * 16 KiB on HTTP/2 (feed_write_cap; one record more if it alone is
 * larger). */
static int feed_frame_write(struct feed_sub *s)
{
	struct sc_buf b;
	size_t cap = feed_write_cap(s->wsi, FRAME_WRITE_MAX) - 64; /* the tags */
	sc_buf_init(&b, 0);
	(void)!sc_buf_printf(&b, "%*s", LWS_PRE, "");
	while (s->q.head && (b.len == LWS_PRE || b.len + s->q.head->f->len <
						       cap)) {
		struct feed_rec *r = feed_queue_pop(&s->q);
		(void)!sc_buf_printf(&b, "<script nonce=\"%s\">p(", s->nonce);
		(void)!sc_buf_append(&b, r->f->data, r->f->len);
		(void)!sc_buf_appends(&b, ")</script>\n");
		feed_rec_free(r);
	}
	size_t n = b.len - LWS_PRE;
	int w = n ? lws_write(s->wsi, (unsigned char *)b.data + LWS_PRE, n,
			      LWS_WRITE_HTTP) : 0;
	sc_buf_free(&b);
	return w < (int)n ? -1 : 0;
}

int feed_frame_writeable(struct feed_sub *s)
{
	if (s->overflow || !s->f)
		return -1;
	if (!s->headers_sent && feed_frame_head(s))
		return -1;
	if (feed_frame_write(s))
		return -1;
	feed_written(s, 0);
	return 0;
}

/* A heartbeat script now and then: proxies keep the response open. */
void feed_frame_timer(struct feed_sub *s)
{
	char t[40], m[96];
	if (!s->f)
		return;
	sc_iso8601(sc_wall_ms(), t, sizeof(t));
	snprintf(m, sizeof(m), "{\"type\":\"ping\",\"time\":\"%s\"}", t);
	(void)feed_queue_push(&s->q, m, strlen(m), SIZE_MAX);
	lws_callback_on_writable(s->wsi);
	lws_set_timer_usecs(s->wsi, (lws_usec_t)s->f->o.ping_ms * 1000);
}
