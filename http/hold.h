/*
 * hold.h — answering a request while its connection is held: lws reads
 * nothing more from it until the answer is on the wire.
 *
 * libwebsockets 4.1.6 reads ahead: the bytes of requests pipelined behind
 * this one sit in its buffer, and if it services that buffer before
 * lws_http_transaction_completed, it re-parses into the header table it has
 * not reset: the current request is dispatched a second time, the pipelined
 * ones are lost and the connection never gets a WRITEABLE again (it hung
 * until a 30 s timeout). Answers that come from a worker (and so after the
 * HTTP callback returned) hit this. So from the moment a request is complete
 * until its answer is written, reading is paused (rx flow control); as lws
 * 4.1.6 then delivers no WRITEABLE either, the answer is written here with
 * send(2), and when the socket is full a watcher (a raw-file wsi on a dup of
 * the socket, a child of the connection) waits for room. lws parses what
 * follows once the caller completed the transaction. (Plain TCP only:
 * snapcat serves no TLS itself.)
 *
 *   hold_start (paused) -> [hold_watch: a hang-up ends it] -> hold_send:
 *   send(2) ... socket full -> watcher POLLOUT -> send(2) ... all out ->
 *   loop timer -> done(ud, ok) -> caller: lws_http_transaction_completed or
 *   close -> hold_end (reading resumes)
 */
#ifndef HTTP_HOLD_H
#define HTTP_HOLD_H

#include <stddef.h>
#include <stdint.h>

struct lws;
struct lws_protocols;
struct loop;
struct hold;

/* The watcher's protocol: the server lists it in its vhost (never first). */
extern const struct lws_protocols hold_protocol;

/* What follows the head: mem (len bytes), or, when mem is NULL and fd >= 0,
 * len bytes of fd from off. Both must stay valid until done is called. A
 * file is read on the loop's workers, a chunk ahead of the one being sent
 * (at most two chunks per connection): the loop only writes. */
struct hold_body {
	const char *mem;
	int fd;
	uint64_t off, len;
};

/*
 * Pause reading on wsi (an HTTP connection, loop thread) and clear its lws
 * timeout: the caller's own limits apply while it works. done(ud, ok) is
 * called exactly once, later, from a loop timer (never inside a call of
 * this API): ok 1 when the answer is all sent, 0 when the client is gone
 * (hang-up seen while watching, a send error, no descriptor for the
 * watcher). It is not called after hold_end.
 */
struct hold *hold_start(struct loop *l, struct lws *wsi,
			void (*done)(void *ud, int ok), void *ud);

/*
 * Send head (hlen bytes, copied) then body (may be NULL). A client that
 * takes nothing for send_stall_s seconds is disconnected by lws (the
 * connection closes; done is not called). Once per hold.
 */
void hold_send(struct hold *h, const char *head, size_t hlen,
	       const struct hold_body *body, int send_stall_s);

/* Until hold_send: end with done(ud, 0) if the client hangs up (for answers
 * that wait long, such as a long-poll). A client that sends more bytes
 * (pipelining) is not watched any further. */
void hold_watch(struct hold *h);

/* Is wsi's connection TLS (then its answer goes out through lws_write in
 * WRITEABLE callbacks: see hold_writeable; no watcher, no pause)? */
int hold_tls(struct lws *wsi);

/* LWS_CALLBACK_HTTP_WRITEABLE of a held TLS connection: the head (the
 * HEADERS frame on HTTP/2), then a body piece per call, the last one FINAL
 * (END_STREAM). Asks for the next call itself. Returns 0. */
int hold_writeable(struct hold *h);

/* Resume reading on the connection (after lws_http_transaction_completed,
 * or before closing it) and free. NULL-safe; *h = NULL. */
void hold_end(struct hold **h);

#endif
