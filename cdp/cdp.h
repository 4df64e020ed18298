/*
 * cdp.h — a DevTools-protocol client on libwebsockets. Knows nothing about
 * snapshots: it carries commands, replies and events between the program and
 * one browser.
 *
 * Data flow:
 *   cdp_call(method, params) -> tx queue -> lws WRITEABLE -> Chromium
 *   Chromium -> lws CLIENT_RECEIVE fragments -> rx buffer (capped) -> cdp_msg
 *     -> reply: matched by id -> the caller's cdp_reply_cb (exactly once)
 *     -> event: dispatched by (sessionId, method) -> cdp_event_cb listeners
 *
 * DESIGN
 * The connection lives on the lws service thread; every function here must be
 * called on that thread. A command gets exactly one answer: the browser's
 * reply, SC_ERR_TIMEOUT when its deadline passes (an lws_sul timer per
 * command), or SC_ERR_DISCONNECTED when the socket closes — on disconnect every
 * pending command is failed at once, so nobody waits forever. Owners that go
 * away first (a job that hit its deadline) call cdp_forget(owner): their
 * pending callbacks and listeners are dropped without being called.
 *
 * Messages of any size: lws delivers a frame in chunks; they are appended to
 * one buffer (preallocated from lws_remaining_packet_payload) up to a cap.
 * String values of 256 KiB and more (a screenshot's base64, an MHTML document)
 * are unescaped in place and never copied into the cJSON tree: the caller
 * reads them with cdp_reply_str() and may take the buffer with
 * cdp_reply_take(), so a 60 MB screenshot costs one 60 MB buffer.
 */
#ifndef CDP_H
#define CDP_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct lws_context;
struct lws_protocols;
struct cdp_conn;
struct cdp_msg;

/* The lws protocol that carries CDP connections. Put it in the protocol list
 * of the context (any vhost) that cdp_conn_open() is given. Its name is
 * "snapcat-cdp". Its rx_buffer_size is CDP_RX_CHUNK. */
extern const struct lws_protocols cdp_protocol;
#define CDP_RX_CHUNK (256 * 1024)

/* Connection events, for the owner of the connection. */
struct cdp_conn_cbs {
	/* The WebSocket is up (rc SC_OK) or could not be opened (rc != 0,
	 * err says why; on_close is not called then). */
	void (*on_open)(struct cdp_conn *c, void *ud, sc_result rc,
			const char *err);
	/* The connection closed after it was open (browser exited, crashed,
	 * or cdp_conn_close). Pending commands have been failed already. */
	void (*on_close)(struct cdp_conn *c, void *ud, const char *reason);
	void *ud;
};

struct cdp_conn_opts {
	size_t max_message;     /* bytes; 0 = 512 MiB */
	int64_t default_timeout_ms; /* for cdp_call with timeout 0; 0 = 30 s */
};

/*
 * Open a connection to a browser endpoint "ws://host:port/devtools/browser/…"
 * (see cdp_discover() for other endpoint forms). Asynchronous: the result
 * comes through cbs->on_open. Returns SC_ERR_INVALID for a malformed URL,
 * SC_ERR_BROWSER if lws refuses to start the connection; *out is then NULL.
 * The connection is freed by cdp_conn_close(). No Origin header is sent.
 */
sc_result cdp_conn_open(struct lws_context *ctx, const char *ws_url,
			const struct cdp_conn_opts *opts,
			const struct cdp_conn_cbs *cbs, struct cdp_conn **out)
	SC_MUST_CHECK;

/*
 * Close and free the connection, and set *c to NULL. Pending commands are
 * dropped without calling their callbacks; the owner's on_close is not
 * called. Safe to call from any cdp callback, and with NULL or *c == NULL.
 */
void cdp_conn_close(struct cdp_conn **c);

/*
 * Drop the connection as if the browser had gone away (it stopped
 * answering): every pending command fails with SC_ERR_DISCONNECTED and
 * reason, listeners of every method get CDP_EVENT_DISCONNECTED, then the
 * owner's on_close(reason) runs, all before this returns; the socket is
 * closed. The owner still frees c with cdp_conn_close. No-op if c is
 * already closed or NULL. Safe from any cdp callback.
 */
void cdp_conn_drop(struct cdp_conn *c, const char *reason);

/* 1 while the WebSocket is established and not closing. */
int cdp_conn_is_open(const struct cdp_conn *c);

/* Bytes received on the connection so far, fragments of messages not yet
 * whole included (a sign of life while a big reply streams in). */
uint64_t cdp_conn_rx_bytes(const struct cdp_conn *c);

/* Number of commands awaiting a reply (for tests and metrics). */
size_t cdp_conn_pending(const struct cdp_conn *c);

/* ---- other transports: the seam for scripted browsers (tests) ---- */

/* What carries the messages when it is not a WebSocket to a browser. */
struct cdp_transport {
	/* One outgoing message: JSON text of len bytes (not NUL-terminated,
	 * valid only during the call). Called from inside cdp_call: it must
	 * not deliver anything back synchronously (cdp_call never calls back
	 * from inside itself); deliver on a later loop turn. */
	void (*send)(void *ud, const char *text, size_t len);
	/* The owner closed the connection (cdp_conn_close). Optional. After
	 * it, cdp_conn_receive and cdp_conn_transport_closed must not be
	 * called any more. */
	void (*close)(void *ud);
	void *ud;
};

/*
 * Open a connection on transport t instead of a WebSocket: the same
 * contract as cdp_conn_open (on_open SC_OK comes on a later loop turn;
 * deadlines are lws timers of ctx), with every outgoing message given to
 * t->send. The transport hands incoming messages to cdp_conn_receive and
 * reports the end of the peer with cdp_conn_transport_closed.
 */
sc_result cdp_conn_open_transport(struct lws_context *ctx,
				  const struct cdp_transport *t,
				  const struct cdp_conn_opts *opts,
				  const struct cdp_conn_cbs *cbs,
				  struct cdp_conn **out) SC_MUST_CHECK;

/* One whole incoming message (JSON text; buf is malloc'd with a NUL at
 * buf[len], and is taken). Messages over the connection's max_message
 * fail the command they answer with SC_ERR_TOO_LARGE, as on a WebSocket.
 * Loop thread, never from inside t->send. */
void cdp_conn_receive(struct cdp_conn *c, char *buf, size_t len);

/* The transport's peer is gone: pending commands fail with
 * SC_ERR_DISCONNECTED, listeners get CDP_EVENT_DISCONNECTED, the owner's
 * on_close runs. Loop thread. */
void cdp_conn_transport_closed(struct cdp_conn *c, const char *reason);

/* Watch every message in (out = 0) and out (out = 1) as JSON text, on any
 * transport: a DevTools log (snapcat capture --cdp-log). NULL fn stops. */
typedef void (*cdp_tap_fn)(void *ud, int out, const char *text, size_t len);
void cdp_conn_set_tap(struct cdp_conn *c, cdp_tap_fn fn, void *ud);

/* ---- commands ---- */

/* What a command's callback receives; valid only during the callback. */
struct cdp_reply {
	sc_result rc;          /* SC_OK, SC_ERR_CDP, SC_ERR_TIMEOUT, ... */
	const cJSON *result;   /* the "result" object on SC_OK, else NULL */
	const char *error;     /* non-NULL when rc != SC_OK: a message */
	int cdp_code;          /* the browser's error code for SC_ERR_CDP */
	const char *method;    /* the command's method */
	struct cdp_msg *msg;   /* private: big strings (cdp_reply_str) */
};

typedef void (*cdp_reply_cb)(void *owner, const struct cdp_reply *r);

/*
 * Send a command. session may be NULL (browser target) or a flattened
 * sessionId. params is consumed (freed by this call, also on error); NULL
 * means {}. timeout_ms 0 uses the connection default. cb is called exactly
 * once, later, from the event loop — never from inside cdp_call — unless the
 * call returns an error (then it is never called) or the owner is forgotten.
 * Returns SC_ERR_DISCONNECTED if the connection is not open.
 */
sc_result cdp_call(struct cdp_conn *c, const char *session, const char *method,
		   cJSON *params, int64_t timeout_ms, cdp_reply_cb cb,
		   void *owner) SC_MUST_CHECK;

/*
 * Get a string in the reply's result by a dotted path relative to "result"
 * ("data", "result.value"); works for big detached strings and ordinary
 * ones alike. The bytes are unescaped (UTF-8) and NUL-terminated; valid until
 * the callback returns (or forever after cdp_reply_take). 0 if absent.
 */
int cdp_reply_str(const struct cdp_reply *r, const char *path,
		  const char **s, size_t *len);

/*
 * Take ownership of the reply's receive buffer so that strings obtained with
 * cdp_reply_str() stay valid after the callback. Returns a pointer to free()
 * when done with them, or NULL if the message holds no detached strings
 * (the ordinary strings die with the callback: copy those). Once per reply.
 */
void *cdp_reply_take(const struct cdp_reply *r);

/* ---- events ---- */

typedef void (*cdp_event_cb)(void *owner, const char *session,
			     const char *method, const cJSON *params);

/*
 * Listen for events. session NULL matches events of every session (and of the
 * browser target); method NULL matches every method, a string ending in "."
 * ("Network.") matches a domain. Listeners run in the order they were added.
 * Strings are copied. Removing listeners: cdp_forget(owner).
 */
void cdp_on(struct cdp_conn *c, const char *session, const char *method,
	    cdp_event_cb cb, void *owner);

/* When the connection closes, every listener registered with method NULL
 * (whatever its session) gets this pseudo-event (session and params NULL),
 * after the pending commands have failed. */
#define CDP_EVENT_DISCONNECTED "Snapcat.disconnected"

/* Drop every pending command callback and listener of owner. Safe inside
 * callbacks. The commands themselves stay in flight; replies are ignored. */
void cdp_forget(struct cdp_conn *c, void *owner);

#endif
