/*
 * feed_int.h — private to the feed (feed.c: the registry, filters, queues,
 * framing, replay; feed_sse.c, feed_poll.c, feed_ws.c, feed_frame.c: one
 * channel each).
 * Fields are private. Everything here runs on the loop thread, but for
 * the replay's catalog query (a worker).
 */
#ifndef HTTP_FEED_INT_H
#define HTTP_FEED_INT_H

#include <libwebsockets.h>

#include "app.h"
#include "feed.h"
#include "loop.h"
#include "wire.h"

#define FEED_LOG "feed"
#define FEED_TYPES_MAX 16
#define FEED_QUEUE_RECS 4096
#define FEED_REPLAY_MAX 10000 /* events replayed at most (retention) */

/* One framed message, shared by every subscriber it goes to (the same
 * event is framed once per channel kind, not once per subscriber). */
struct feed_frame {
	int refs;
	int64_t id;    /* the event's id, 0 for other messages */
	size_t len;
	char data[];
};

/* A subscriber's queue entry. */
struct feed_rec {
	struct feed_rec *next;
	struct feed_frame *f;
};

struct feed_queue {
	struct feed_rec *head, **tail;
	size_t bytes;
	int n;
};

struct feed_filter {
	int64_t job, link;
	char types[FEED_TYPES_MAX][32];
	int ntypes;
};

struct feed_sub {
	struct feed *f;
	struct feed_sub *prev, *next;
	enum feed_kind kind;
	struct lws *wsi;
	struct feed_filter flt;
	int64_t last_id;          /* newest event id queued */
	int replaying;            /* replay not over: live events -> pending */
	int replay_busy, orphan;  /* worker query out; closed meanwhile */
	struct replay *rp;        /* replayed events not yet queued */
	size_t rp_next;
	int answer_due;           /* long-poll timed out during the replay */
	int muted;                /* WebSocket after "unsubscribe" */
	int headers_sent, finishing, overflow, active;
	int64_t until_job;        /* POST stream: end after this job ends */
	struct feed_queue q, pending;
	/* long-poll */
	struct http_resp *resp;
	void (*ready)(void *);
	void *ud;
	struct loop_timer *timer;
	char cors[512];           /* extra header lines for SSE */
	char nonce[33];           /* forever frame: its scripts' CSP nonce */
};

struct feed {
	struct loop *loop;
	struct app *app;
	struct feed_opts o;
	struct feed_sub *subs;
	struct feed_stats st;
	int64_t newest_seen; /* the newest event id handed to the sinks */
};

/* shared between the channels */
int64_t feed_after(const struct http_req *req);
void feed_drop(struct feed_sub *s, const char *why);
int feed_filter_parse(const struct http_req *req, struct feed_filter *f,
			     struct http_resp *resp);
int feed_full(struct feed *f, enum feed_kind k, struct http_resp *resp);
void feed_replay(struct feed_sub *s, int64_t after, int from_start);
void feed_replay_refill(struct feed_sub *s);
void feed_written(struct feed_sub *s, int more);
struct feed_sub *feed_sub_open(struct feed *f, enum feed_kind k,
			       struct lws *wsi, const struct http_req *req,
			       struct http_resp *resp);
struct feed_sub *feed_sub_new(struct feed *f, enum feed_kind k);
void feed_unlink(struct feed_sub *s);
struct feed_rec *feed_queue_pop(struct feed_queue *q);
int feed_queue_push(struct feed_queue *q, const char *data, size_t len,
		   size_t max_bytes);
struct feed_frame *feed_frame_new(const char *data, size_t len, int64_t id);
void feed_rec_free(struct feed_rec *r);
int feed_write_queue(struct feed_sub *s, enum lws_write_protocol wp);
/* max, or 16 KiB on an HTTP/2 stream (one DATA frame per write). */
size_t feed_write_cap(struct lws *wsi, size_t max);
void feed_poll_answer(struct feed_sub *s);
/* forever frame (feed_frame.c): the escaped JSON of an event; WRITEABLE
 * and TIMER of a frame subscriber (called from feed_sse.c's) */
struct feed_frame *feed_frame_html(const char *json, int64_t id);
int feed_frame_writeable(struct feed_sub *s);
void feed_frame_timer(struct feed_sub *s);

#endif
