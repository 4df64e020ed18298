/*
 * hold.c — a held connection's answer, written with send(2), and the
 * watcher that waits for room or a hang-up (see hold.h).
 *
 * DESIGN
 * The watcher is adopted only when needed (the socket is full, or
 * hold_watch): most answers go out in one sendmsg. It is a child of the
 * connection, so lws closes it first whenever the connection closes; its
 * opaque user data points back at the hold until hold_end detaches it.
 * done is deferred to a zero-delay loop timer so that the caller may
 * complete or close the connection (and free the watcher) from a clean
 * context, never from inside the watcher's own callback.
 *
 * A file body is read on the workers, never on the loop (issue 15): a
 * chunk (HOLD_CHUNK) is read ahead while the one before it is sent, so a
 * connection holds at most two. The read job has its own dup of the file
 * and its own buffer: if the hold ends while it runs, its done callback
 * frees them (hold_read_done).
 */
#include "hold.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "loop.h"
#include "sc.h"

#define HOLD_PROTOCOL "snapcat-hold"
#define HOLD_TURN (1u << 20)    /* bytes per turn, then others get theirs */
#define HOLD_CHUNK (256 * 1024) /* file bytes read at a time, on a worker */
#define HOLD_TLS_PIECE 16384    /* body bytes per lws_write under TLS */

struct hold;

/* One chunk of the file read on a worker (hold_read_start). */
struct hold_read {
	struct hold *h;           /* NULL: the hold ended meanwhile */
	int fd;                   /* a dup of the body's fd */
	uint64_t off;
	size_t want;
	char *buf;                /* HOLD_CHUNK bytes */
	int ok;                   /* all want bytes were read */
};

struct hold {
	struct loop *loop;
	struct lws *wsi, *watch;
	void (*done)(void *ud, int ok);
	void *ud;
	struct loop_timer *fire;  /* done, pending */
	struct loop_timer *settle; /* clears the lws timeout once more */
	struct loop_timer *again; /* asks for POLLOUT outside the callback */
	int in_cb;                /* inside the watcher's callback */
	int ok, finished, sending, watching, stall_s;
	char *head;
	size_t hlen, hoff;
	struct hold_body body;
	uint64_t bread, bsent;    /* body bytes asked of the reads (fd); sent */
	char *chunk;              /* fd bytes read, [coff, clen) not sent */
	size_t clen, coff;
	int rfd;                  /* dup of body.fd for the reads; -1 none */
	struct hold_read *rd;     /* the read in flight, or NULL */
	struct hold_read *ready;  /* the chunk read ahead, not taken yet */
	int rerr;                 /* a read failed: the file shrank */
	int via_lws;              /* TLS: lws writes it (hold_writeable) */
};

static void hold_pump(struct hold *h);

static void hold_read_free(struct hold_read *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}

/* Worker: the chunk. */
static void hold_read_work(void *arg)
{
	struct hold_read *r = arg;
	r->ok = pread(r->fd, r->buf, r->want, (off_t)r->off) ==
		(ssize_t)r->want;
}

/* Loop: the chunk is read; on to the hold (or freed: it ended). */
static void hold_read_done(void *arg)
{
	struct hold_read *r = arg;
	struct hold *h = r->h;
	if (!h) {
		hold_read_free(r);
		return;
	}
	h->rd = NULL;
	if (!r->ok) {
		h->rerr = 1;
		hold_read_free(r);
	} else {
		h->ready = r;
	}
	if (h->sending && !h->finished)
		hold_pump(h);
}

/* The next chunk of the file on a worker, if one is left and none is in
 * flight or waiting. buf: a buffer to reuse (consumed), or NULL. */
static void hold_read_start(struct hold *h, char *buf)
{
	if (h->rd || h->ready || h->rfd < 0 || h->bread >= h->body.len) {
		free(buf);
		return;
	}
	struct hold_read *r = sc_xcalloc(1, sizeof(*r));
	r->h = h;
	r->fd = fcntl(h->rfd, F_DUPFD_CLOEXEC, 0);
	r->off = h->body.off + h->bread;
	r->want = h->body.len - h->bread > HOLD_CHUNK
			  ? HOLD_CHUNK : (size_t)(h->body.len - h->bread);
	r->buf = buf ? buf : sc_xmalloc(HOLD_CHUNK);
	if (r->fd < 0) {
		hold_read_free(r);
		h->rerr = 1;
		return;
	}
	h->bread += r->want;
	h->rd = r;
	loop_work(h->loop, hold_read_work, hold_read_done, r);
}

/* lws re-arms its body timeout after an HTTP_BODY callback returns: when
 * the hold started inside one (a chunked body ended), clear it again. */
static void hold_settle(void *arg)
{
	struct hold *h = arg;
	h->settle = NULL;
	if (!h->sending && !h->finished)
		lws_set_timeout(h->wsi, NO_PENDING_TIMEOUT, 0);
}

/* lws clears the watcher's POLLOUT after its WRITEABLE callback returns,
 * undoing a request made inside it: ask again from a timer. */
static void hold_again(void *arg)
{
	struct hold *h = arg;
	h->again = NULL;
	if (h->via_lws && !h->finished)
		lws_callback_on_writable(h->wsi);
	else if (h->watch && !h->finished)
		lws_callback_on_writable(h->watch);
}

static void hold_fire(void *arg)
{
	struct hold *h = arg;
	h->fire = NULL;
	h->done(h->ud, h->ok);
}

/* The end, good or bad: stop watching, report from a loop timer. */
static void hold_finish(struct hold *h, int ok)
{
	if (h->finished)
		return;
	h->finished = 1;
	h->ok = ok;
	if (h->watch)
		lws_rx_flow_control(h->watch, 0);
	lws_set_timeout(h->wsi, NO_PENDING_TIMEOUT, 0);
	h->fire = loop_timer(h->loop, 0, hold_fire, h);
}

/* The watcher, adopted now if there is none. 0 ok, -1 none to be had. */
static int hold_watcher(struct hold *h)
{
	if (h->watch)
		return 0;
	int fd = fcntl(lws_get_socket_fd(h->wsi), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	lws_adopt_desc_t info = {
		.vh = lws_get_vhost(h->wsi), .type = LWS_ADOPT_RAW_FILE_DESC,
		.fd = {.filefd = fd}, .vh_prot_name = HOLD_PROTOCOL,
		.parent = h->wsi, .opaque = h};
	h->watch = lws_adopt_descriptor_vhost_via_info(&info);
	if (!h->watch) {
		close(fd);
		return -1;
	}
	lws_rx_flow_control(h->watch, h->watching); /* POLLIN: hang-ups */
	return 0;
}

/* The chunk sent: take the one read ahead and ask for the next. */
static void hold_take_chunk(struct hold *h)
{
	if (h->coff < h->clen || !h->ready)
		return;
	char *old = h->chunk;
	struct hold_read *r = h->ready;
	h->ready = NULL;
	h->chunk = r->buf;
	h->clen = r->want;
	h->coff = 0;
	r->buf = NULL;
	hold_read_free(r);
	hold_read_start(h, old);
}

/* The next bytes to send into iov (1 or 2 parts); 1 some, 0 when all is
 * sent, 2 when the next file chunk is still being read, -1 when the file
 * could not be read. */
static int hold_next(struct hold *h, struct iovec *iov, int *n)
{
	*n = 0;
	if (h->hoff < h->hlen)
		iov[(*n)++] = (struct iovec){h->head + h->hoff, h->hlen - h->hoff};
	if (h->body.mem && h->bsent < h->body.len)
		iov[(*n)++] = (struct iovec){(char *)(uintptr_t)h->body.mem + h->bsent,
					     (size_t)(h->body.len - h->bsent)};
	if (!h->body.mem && h->body.fd >= 0 && h->body.len) {
		hold_take_chunk(h);
		if (h->coff < h->clen)
			iov[(*n)++] = (struct iovec){h->chunk + h->coff,
						     h->clen - h->coff};
		else if (h->rerr)
			return -1; /* the file shrank or vanished */
		else if (h->rd && !*n)
			return 2;
	}
	return *n > 0;
}

/* Account for w bytes sent from the parts hold_next gave. */
static void hold_advance(struct hold *h, size_t w)
{
	size_t k = h->hlen - h->hoff < w ? h->hlen - h->hoff : w;
	h->hoff += k;
	w -= k;
	if (h->body.mem)
		h->bsent += w;
	else
		h->coff += w;
}

/* Send until done, the socket is full or this turn's budget is spent. */
static void hold_pump(struct hold *h)
{
	size_t budget = HOLD_TURN;
	int progress = 0;
	if (h->via_lws) { /* hold_writeable writes it; asked from a timer:
			   * a request made inside an lws callback of the
			   * HTTP/2 stream may be undone when it returns */
		if (!h->finished && !h->again)
			h->again = loop_timer(h->loop, 0, hold_again, h);
		return;
	}
	while (!h->finished) {
		struct iovec iov[2];
		int n, more = hold_next(h, iov, &n);
		if (more == 2) { /* hold_read_done pumps again */
			if (progress)
				lws_set_timeout(h->wsi, PENDING_TIMEOUT_HTTP_CONTENT,
						h->stall_s);
			return;
		}
		if (more <= 0) {
			hold_finish(h, more == 0);
			return;
		}
		if (!budget)
			break;
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(lws_get_socket_fd(h->wsi), &m,
				    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			      errno == EINTR))
			break;
		if (w <= 0) {
			hold_finish(h, 0); /* reset, broken pipe: gone */
			return;
		}
		hold_advance(h, (size_t)w);
		budget = (size_t)w < budget ? budget - (size_t)w : 0;
		progress = 1;
	}
	if (progress)
		lws_set_timeout(h->wsi, PENDING_TIMEOUT_HTTP_CONTENT, h->stall_s);
	if (hold_watcher(h))
		hold_finish(h, 0);
	else if (!h->in_cb)
		lws_callback_on_writable(h->watch);
	else if (!h->again)
		h->again = loop_timer(h->loop, 0, hold_again, h);
}

/* POLLIN on the watcher: a hang-up (EOF, reset) or pipelined bytes. */
static void hold_peek(struct hold *h)
{
	char c;
	ssize_t n = recv(lws_get_socket_fd(h->wsi), &c, 1,
			 MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) { /* the next request: stays unread until the answer */
		h->watching = 0;
		lws_rx_flow_control(h->watch, 0);
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
			      errno != EINTR)) {
		hold_finish(h, 0);
	}
}

static int hold_callback(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len)
{
	struct hold *h = lws_get_opaque_user_data(wsi);
	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (!h)
			return -1; /* detached by hold_end: close */
		if (h->sending && !h->finished) {
			h->in_cb = 1;
			hold_pump(h);
			h->in_cb = 0;
		}
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		if (!h)
			return -1;
		if (!h->finished)
			hold_peek(h);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE: /* its connection is closing */
		if (h) {
			h->watch = NULL;
			hold_finish(h, 0);
		}
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return -1; /* not a WebSocket subprotocol */
	default:
		return 0;
	}
}

const struct lws_protocols hold_protocol = {
	.name = HOLD_PROTOCOL, .callback = hold_callback};

struct hold *hold_start(struct loop *l, struct lws *wsi,
			void (*done)(void *ud, int ok), void *ud)
{
	struct hold *h = sc_xcalloc(1, sizeof(*h));
	h->loop = l;
	h->wsi = wsi;
	h->done = done;
	h->ud = ud;
	h->body.fd = -1;
	h->rfd = -1;
	h->via_lws = hold_tls(wsi);
	if (!h->via_lws)
		lws_rx_flow_control(wsi, 0);
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	h->settle = loop_timer(l, 0, hold_settle, h);
	return h;
}

void hold_send(struct hold *h, const char *head, size_t hlen,
	       const struct hold_body *body, int send_stall_s)
{
	if (h->sending || h->finished)
		return;
	h->sending = 1;
	size_t pre = h->via_lws ? LWS_PRE : 0; /* lws_write's room */
	h->head = sc_xmalloc(pre + (hlen ? hlen : 1)) + pre;
	memcpy(h->head, head, hlen);
	h->hlen = hlen;
	if (body)
		h->body = *body;
	if (!h->body.mem && h->body.fd >= 0 && h->body.len) {
		/* the reads' own descriptor: the caller may close body.fd as
		 * soon as done is called or the hold ends */
		h->rfd = fcntl(h->body.fd, F_DUPFD_CLOEXEC, 0);
		if (h->rfd < 0)
			h->rerr = 1;
		hold_read_start(h, NULL);
	}
	h->stall_s = send_stall_s > 0 ? send_stall_s : 30;
	if (h->watch && h->watching) { /* the answer came: stop watching */
		h->watching = 0;
		lws_rx_flow_control(h->watch, 0);
	}
	hold_pump(h);
}

void hold_watch(struct hold *h)
{
	if (h->via_lws) /* lws sees the hang-up and closes the connection */
		return;
	if (h->sending || h->finished || h->watching)
		return;
	h->watching = 1;
	if (h->watch)
		lws_rx_flow_control(h->watch, 1);
	else if (hold_watcher(h))
		hold_finish(h, 0);
}

void hold_end(struct hold **hp)
{
	struct hold *h = *hp;
	if (!h)
		return;
	*hp = NULL;
	loop_timer_cancel(&h->fire);
	loop_timer_cancel(&h->settle);
	loop_timer_cancel(&h->again);
	if (h->watch) { /* closed at the next service, not inside a callback */
		lws_set_opaque_user_data(h->watch, NULL);
		lws_set_timeout(h->watch, PENDING_TIMEOUT_CLOSE_SEND,
				LWS_TO_KILL_ASYNC);
	}
	if (!h->via_lws)
		lws_rx_flow_control(h->wsi, 1);
	if (h->rd) /* its done callback frees it */
		h->rd->h = NULL;
	hold_read_free(h->ready);
	if (h->rfd >= 0)
		close(h->rfd);
	if (h->head)
		free(h->head - (h->via_lws ? LWS_PRE : 0));
	free(h->chunk);
	free(h);
}

/* ---- TLS: the answer goes through lws (it encrypts; on HTTP/2 it frames
 * the stream), one WRITEABLE callback at a time ---- */

int hold_tls(struct lws *wsi)
{
	return lws_is_ssl(lws_get_network_wsi(wsi));
}

/* How many body bytes one lws_write may carry: on an HTTP/2 stream one
 * DATA frame (16 KiB, the least SETTINGS_MAX_FRAME_SIZE) within the peer's
 * flow-control window (0: lws calls WRITEABLE again once it opens). */
static size_t hold_room(struct hold *h)
{
	if (lws_get_network_wsi(h->wsi) == h->wsi)
		return HOLD_TLS_PIECE;
	lws_fileofs_t w = lws_get_peer_write_allowance(h->wsi);
	return w >= 0 && w < HOLD_TLS_PIECE ? (size_t)w : HOLD_TLS_PIECE;
}

/* One body piece (or the empty last one). 0 ok, -1 gone, 2 wait. */
static int hold_lws_body(struct hold *h)
{
	static unsigned char buf[LWS_PRE + HOLD_TLS_PIECE];
	struct iovec iov[2];
	int n, more = hold_next(h, iov, &n);
	if (more == 2 || more < 0)
		return more < 0 ? -1 : 2;
	size_t len = more ? iov[0].iov_len : 0, room = hold_room(h);
	if (more && !room)
		return 2;
	len = len < room ? len : room;
	memcpy(buf + LWS_PRE, iov[0].iov_base, len);
	hold_advance(h, len);
	int last = !more || (hold_next(h, iov, &n) == 0);
	if (lws_write(h->wsi, buf + LWS_PRE, len, last ? LWS_WRITE_HTTP_FINAL
					      : LWS_WRITE_HTTP) < (int)len)
		return -1;
	return last ? 0 : 1;
}

int hold_writeable(struct hold *h)
{
	if (!h->via_lws || !h->sending || h->finished)
		return 0;
	if (h->hoff < h->hlen) {
		if (lws_write(h->wsi, (unsigned char *)h->head, h->hlen,
			      LWS_WRITE_HTTP_HEADERS) < (int)h->hlen) {
			hold_finish(h, 0);
			return 0;
		}
		h->hoff = h->hlen;
		lws_callback_on_writable(h->wsi);
		return 0;
	}
	int rc = hold_lws_body(h);
	if (rc <= 0)
		hold_finish(h, rc == 0);
	else if (rc == 1 || h->body.mem || !h->rd)
		lws_callback_on_writable(h->wsi); /* else the read's done */
	lws_set_timeout(h->wsi, PENDING_TIMEOUT_HTTP_CONTENT, h->stall_s);
	return 0;
}
