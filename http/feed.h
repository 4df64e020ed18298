/*
 * feed.h — live event subscribers: SSE streams, long-poll waiters and
 * WebSocket clients, fed from the app's event bus, resumable by event id.
 *
 *   app_event (worker, under the db lock) -> loop: feed_on_event -> every
 *   subscriber whose filter matches -> its bounded queue -> WRITEABLE
 *   subscribe(after=X) -> registered live at once (events buffered), then
 *   worker: catalog_events_list(after X) -> loop: replay, then the live
 *   events with a larger id: none lost, none twice.
 *
 * DESIGN
 * Everything here runs on the loop thread except feed_replay_work. A
 * subscriber's queue is bounded in records and bytes; one that stops
 * reading overflows it and is dropped (it can resume by id later), so a
 * slow client never blocks the loop, other clients, or grows memory.
 */
#ifndef HTTP_FEED_H
#define HTTP_FEED_H

#include <stdint.h>

#include "req.h"

struct loop;
struct app;
struct lws;
struct feed;
struct feed_sub;

struct feed_opts {
	int ping_ms;        /* SSE heartbeat; 0 = 15000 */
	int retry_ms;       /* SSE retry: hint; 0 = 2000 */
	int max_subs;       /* per channel; 0 = 10000 */
	size_t queue_bytes; /* per subscriber; 0 = 1 MiB */
};

struct feed *feed_create(struct loop *l, struct app *a,
			 const struct feed_opts *o);
/* Free the feed. A subscriber belongs to its connection, not to the feed:
 * any still registered is only forgotten (its calls then do nothing) and
 * is freed by its connection's feed_sub_close. NULL-safe. */
void feed_destroy(struct feed **f);

enum feed_kind { FEED_SSE = 0, FEED_POLL, FEED_WS, FEED_FRAME, FEED_KINDS };

/* Counters for /metrics. */
struct feed_stats {
	int subs[FEED_KINDS];
	int64_t sent[FEED_KINDS], dropped[FEED_KINDS];
};
void feed_stats(const struct feed *f, struct feed_stats *s);

/* ---- SSE (GET /api/events, and POST /api/snapshots streams) ---- */

/*
 * Start an SSE stream on wsi for req (filters ?job= ?link= ?types=, resume
 * from Last-Event-ID / ?last_event_id=). On a bad filter or the limit, fills
 * resp with the error and returns NULL; the caller answers it normally.
 * until_done: end the stream after the job's job.done / job.failed with
 * "data: [DONE]" (the POST stream).
 */
struct feed_sub *feed_sse_open(struct feed *f, struct lws *wsi,
			       const struct http_req *req,
			       struct http_resp *resp, int64_t job_until_done);

/* ---- forever frame (GET /api/events/frame) ---- */

/*
 * Start a forever frame on wsi: a text/html response that never ends, one
 * <script nonce>p(event)</script> per event (same filters and resume as
 * SSE). Its WRITEABLE and TIMER go through feed_sse_writeable and
 * feed_sse_timer like an SSE stream's. NULL and resp filled on a bad
 * filter or the limit.
 */
struct feed_sub *feed_frame_open(struct feed *f, struct lws *wsi,
				 const struct http_req *req,
				 struct http_resp *resp);

/* WRITEABLE on an SSE stream (or forever frame): -1 to close it. */
int feed_sse_writeable(struct feed_sub *s);
/* LWS_CALLBACK_TIMER on it: queue a ping. */
void feed_sse_timer(struct feed_sub *s);

/* ---- long-poll (GET /api/events/poll?after=&timeout=) ---- */

/*
 * Answer resp with a JSON array of the events after ?after= (at once if
 * there are some, else at the first one or after ?timeout= seconds, default
 * 25, max 60), then call ready(ud) on the loop thread. NULL and resp filled
 * on a bad argument.
 */
struct feed_sub *feed_poll_open(struct feed *f, const struct http_req *req,
				struct http_resp *resp, void (*ready)(void *),
				void *ud);

/* ---- WebSocket (/api/ws) ---- */
struct feed_sub *feed_ws_open(struct feed *f, struct lws *wsi);
/* A text message from the client (JSON op). */
void feed_ws_message(struct feed_sub *s, const char *msg, size_t len);
int feed_ws_writeable(struct feed_sub *s);
/* Queue one message (JSON text) to a WebSocket subscriber. */
void feed_ws_send(struct feed_sub *s, const char *json);

/* The connection is gone (any kind): unregister and free its subscriber
 * (later, if a replay query is still out). The connection owns s; this is
 * the only way it is freed. NULL-safe; *s = NULL. */
void feed_sub_close(struct feed_sub **s);

#endif
