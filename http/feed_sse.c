/*
 * feed_sse.c — the SSE channel of the feed (GET /api/events, the POST stream of
 * POST /api/snapshots): headers, heartbeats, one frame per WRITEABLE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_int.h"

/* ---- SSE ---- */

/* Keep only the CORS lines of the headers prepared for this request. */
static void feed_cors_lines(struct feed_sub *s, const struct http_resp *resp)
{
	size_t n = 0;
	for (const char *l = resp->headers.data; l && *l;) {
		const char *eol = strstr(l, "\r\n");
		if (!eol)
			break;
		size_t len = (size_t)(eol - l) + 2;
		if ((!strncmp(l, "Access-Control-", 15) || !strncmp(l, "Vary:", 5)) &&
		    n + len < sizeof(s->cors)) {
			memcpy(s->cors + n, l, len);
			n += len;
		}
		l = eol + 2;
	}
	s->cors[n] = 0;
}

struct feed_sub *feed_sse_open(struct feed *f, struct lws *wsi,
			       const struct http_req *req,
			       struct http_resp *resp, int64_t job_until_done)
{
	struct feed_sub *s = feed_sub_open(f, FEED_SSE, wsi, req, resp);
	if (!s)
		return NULL;
	s->until_job = job_until_done;
	if (job_until_done)
		s->flt.job = job_until_done;
	feed_cors_lines(s, resp);
	int64_t after = feed_after(req);
	if (job_until_done)
		after = 0; /* the new job's events, from its first one */
	feed_replay(s, after >= 0 ? after : INT64_MAX, job_until_done != 0);
	lws_callback_on_writable(wsi); /* the headers go out at once */
	return s;
}

static int feed_sse_head(struct feed_sub *s)
{
	struct sc_buf h;
	sc_buf_init(&h, 8192);
	(void)!sc_buf_printf(&h, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n%s",
			     s->cors);
	int rc = wire_headers(s->wsi, 200, "text/event-stream", UINT64_MAX, &h);
	sc_buf_free(&h);
	if (rc)
		return -1;
	lws_http_mark_sse(s->wsi);
	s->headers_sent = 1;
	char retry[64];
	snprintf(retry, sizeof(retry), "retry: %d\n\n", s->f->o.retry_ms);
	struct feed_rec *r = sc_xmalloc(sizeof(*r));
	r->f = feed_frame_new(retry, strlen(retry), 0);
	r->next = s->q.head; /* first on the wire */
	s->q.head = r;
	if (!r->next)
		s->q.tail = &r->next;
	s->q.n++;
	s->q.bytes += r->f->len;
	lws_set_timer_usecs(s->wsi, (lws_usec_t)s->f->o.ping_ms * 1000);
	return 0;
}

/* Write one record alone (a WebSocket message, or SSE text over 64 KiB). */
static int feed_write_one(struct feed_sub *s, enum lws_write_protocol wp)
{
	static unsigned char small[LWS_PRE + 4096];
	struct feed_rec *r = feed_queue_pop(&s->q);
	size_t len = r->f->len;
	unsigned char *m = len <= sizeof(small) - LWS_PRE
				   ? small : sc_xmalloc(LWS_PRE + len);
	memcpy(m + LWS_PRE, r->f->data, len);
	int w = lws_write(s->wsi, m + LWS_PRE, len, wp);
	if (m != small)
		free(m);
	feed_rec_free(r);
	return w < (int)len ? -1 : 0;
}

/* The most bytes one lws_write may carry on wsi: lws 4.1.6 sends each
 * write on an HTTP/2 stream as one DATA frame, and a frame over 16 KiB
 * (the peer's default SETTINGS_MAX_FRAME_SIZE) is a connection error that
 * ends every stream on it (ERR_HTTP2_SESSION_ERROR in node:http2). */
size_t feed_write_cap(struct lws *wsi, size_t max)
{
	return lws_get_network_wsi(wsi) != wsi && max > 16384 ? 16384 : max;
}

/*
 * Write queued records. SSE: as many as fit in 64 KiB, in one write.
 * WebSocket: one message per write, and more while the socket takes them
 * (lws_send_pipe_choked), at most 64 per WRITEABLE so others get a turn.
 */
int feed_write_queue(struct feed_sub *s, enum lws_write_protocol wp)
{
	static unsigned char buf[LWS_PRE + 65536];
	size_t n = 0, cap = feed_write_cap(s->wsi, sizeof(buf) - LWS_PRE);
	if (wp == LWS_WRITE_TEXT) {
		for (int i = 0; i < 64 && s->q.head; i++) {
			if (i && lws_send_pipe_choked(s->wsi))
				break;
			if (feed_write_one(s, LWS_WRITE_TEXT))
				return -1;
		}
		return 0;
	}
	while (s->q.head && n + s->q.head->f->len <= cap) {
		struct feed_rec *r = feed_queue_pop(&s->q);
		memcpy(buf + LWS_PRE + n, r->f->data, r->f->len);
		n += r->f->len;
		feed_rec_free(r);
	}
	if (!n && s->q.head) /* one record over the cap */
		return feed_write_one(s, LWS_WRITE_HTTP);
	if (n && lws_write(s->wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP) < (int)n)
		return -1;
	return 0;
}

int feed_sse_writeable(struct feed_sub *s)
{
	if (s->kind == FEED_FRAME)
		return feed_frame_writeable(s);
	if (s->overflow || !s->f)
		return -1;
	if (!s->headers_sent && feed_sse_head(s))
		return -1;
	if (s->finishing && !s->q.n)
		return -1; /* [DONE] is out: end the stream */
	if (feed_write_queue(s, LWS_WRITE_HTTP))
		return -1;
	feed_written(s, s->finishing);
	return 0;
}

void feed_sse_timer(struct feed_sub *s)
{
	char t[40], *m;
	if (s->kind == FEED_FRAME) {
		feed_frame_timer(s);
		return;
	}
	if (s->finishing || !s->f)
		return; /* [DONE] is queued: nothing may follow it */
	sc_iso8601(sc_wall_ms(), t, sizeof(t));
	m = sc_xasprintf("event: ping\ndata: {\"time\":\"%s\"}\n\n", t);
	(void)feed_queue_push(&s->q, m, strlen(m), SIZE_MAX);
	free(m);
	lws_callback_on_writable(s->wsi);
	lws_set_timer_usecs(s->wsi, (lws_usec_t)s->f->o.ping_ms * 1000);
}
