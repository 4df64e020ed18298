/*
 * egress_tunnel.c — one connection through the egress proxy (egress.h):
 *
 *   accepted -> HELLO: SOCKS5 greeting, answer "no authentication"
 *            -> REQUEST: CONNECT host:port (name, IPv4 or IPv6)
 *            -> the verdict: resolve_quick_reason (literal, local name),
 *               else RESOLVING on a DNS thread -> resolve_private_reason
 *               refused: reply 2 "not allowed by ruleset", record it
 *            -> CONNECTING to the checked address (each in turn)
 *            -> reply 0 -> RELAY: bytes both ways, half-closes passed on,
 *               until both sides have ended
 *
 * Everything runs on the egress thread. Sockets are non-blocking and
 * level-triggered; an end is in the epoll set only while it has something
 * to wait for (a hung-up socket with nothing to wait for would wake the
 * thread for ever otherwise). A closed tunnel goes to the egress's grave
 * list and is freed after the round of events, or when its lookup comes
 * back if one is out.
 */
#include "egress_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum eg_state { T_HELLO, T_REQUEST, T_RESOLVING, T_CONNECTING, T_RELAY };

/* SOCKS5 replies (RFC 1928 section 6) */
enum { SK_OK = 0, SK_NOT_ALLOWED = 2, SK_HOST_UNREACHABLE = 4, SK_REFUSED = 5,
       SK_TTL = 6, SK_COMMAND = 7, SK_ADDRESS_TYPE = 8 };

struct eg_end {
	struct eg_tag tag; /* EG_CLIENT or EG_UPSTREAM */
	struct eg_tunnel *t;
	int fd;
	int eof;           /* it sent FIN */
	int shut;          /* we sent it FIN */
	uint32_t ev;       /* events it is in the epoll set for; 0: not in */
};

struct eg_pipe { /* bytes read from one end, to be written to the other */
	char *buf;
	size_t off, len;
};

struct eg_tunnel {
	struct egress_port *p;
	struct eg_tunnel *next, *prev; /* p->tunnels */
	struct eg_tunnel *grave_next;
	enum eg_state st;
	int dead, dns_pending;
	struct eg_end cli, up;
	unsigned char hs[EG_HS_MAX];
	size_t hslen;
	char host[256];
	int port, last_errno;
	struct resolve_result addrs;
	size_t next_addr;
	int64_t deadline;
	struct eg_pipe c2u, u2c;
};

static struct egress *eg_of(struct eg_tunnel *t) { return t->p->e; }

/* Put e in the epoll set for ev (0: take it out). */
static void eg_end_want(struct eg_tunnel *t, struct eg_end *e, uint32_t ev)
{
	if (e->fd < 0 || e->ev == ev)
		return;
	if (eg_watch(eg_of(t), e->fd, ev, &e->tag, e->ev == 0) && ev)
		sc_log(SC_LOG_WARN, "egress", "epoll: %s", strerror(errno));
	e->ev = ev;
}

static void eg_close(struct eg_tunnel *t)
{
	if (t->dead)
		return;
	t->dead = 1;
	if (t->cli.fd >= 0)
		close(t->cli.fd);
	if (t->up.fd >= 0)
		close(t->up.fd);
	t->cli.fd = t->up.fd = -1;
	if (t->prev)
		t->prev->next = t->next;
	else
		t->p->tunnels = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->p->ntunnels--;
	if (!t->dns_pending) { /* else freed when the lookup comes back */
		t->grave_next = eg_of(t)->grave;
		eg_of(t)->grave = t;
	}
}

void eg_tunnels_free_closed(struct egress *e)
{
	while (e->grave) {
		struct eg_tunnel *t = e->grave;
		e->grave = t->grave_next;
		free(t->c2u.buf);
		free(t->u2c.buf);
		eg_port_unref(t->p);
		free(t);
	}
}

void eg_tunnels_close_all(struct egress_port *p)
{
	while (p->tunnels)
		eg_close(p->tunnels);
}

/* Answer the CONNECT and, unless it succeeded, close. */
static void eg_reply(struct eg_tunnel *t, int rep)
{
	unsigned char r[10] = {5, (unsigned char)rep, 0, 1};
	if (send(t->cli.fd, r, sizeof(r), MSG_NOSIGNAL) != (ssize_t)sizeof(r) ||
	    rep != SK_OK)
		eg_close(t);
}

static void eg_refuse(struct eg_tunnel *t, const char *why)
{
	sc_log(SC_LOG_INFO, "egress", "refused %s:%d: %s", t->host, t->port,
	       why);
	eg_record(t->p, t->host, t->port, EGRESS_REFUSED, why);
	eg_reply(t, SK_NOT_ALLOWED);
}

void eg_tunnel_accept(struct egress_port *p, int fd)
{
	struct eg_tunnel *t = sc_xcalloc(1, sizeof(*t));
	t->p = p;
	atomic_fetch_add(&p->refs, 1);
	t->cli = (struct eg_end){.tag.kind = EG_CLIENT, .t = t, .fd = fd};
	t->up = (struct eg_end){.tag.kind = EG_UPSTREAM, .t = t, .fd = -1};
	t->deadline = sc_now_ms() + p->e->o.connect_timeout_ms;
	t->next = p->tunnels;
	if (p->tunnels)
		p->tunnels->prev = t;
	p->tunnels = t;
	p->ntunnels++;
	eg_end_want(t, &t->cli, EPOLLIN);
}

/* ---- connecting ---- */

static int eg_socket_to(const struct sockaddr_in6 *a)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = a->sin6_port};
	int v4 = IN6_IS_ADDR_V4MAPPED(&a->sin6_addr);
	if (v4)
		memcpy(&a4.sin_addr, &a->sin6_addr.s6_addr[12], 4);
	int fd = socket(v4 ? AF_INET : AF_INET6,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = v4 ? connect(fd, (const struct sockaddr *)&a4, sizeof(a4))
		    : connect(fd, (const struct sockaddr *)a, sizeof(*a));
	if (rc && errno != EINPROGRESS) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void eg_connect_next(struct eg_tunnel *t)
{
	while (t->next_addr < t->addrs.n) {
		int fd = eg_socket_to(&t->addrs.addr[t->next_addr++]);
		if (fd >= 0) {
			t->up.fd = fd;
			t->st = T_CONNECTING;
			eg_end_want(t, &t->up, EPOLLOUT);
			return;
		}
		t->last_errno = errno;
	}
	char msg[200];
	snprintf(msg, sizeof(msg), "cannot connect: %s",
		 strerror(t->last_errno ? t->last_errno : ECONNREFUSED));
	eg_record(t->p, t->host, t->port, EGRESS_CONNECT, msg);
	eg_reply(t, t->last_errno == ENETUNREACH || t->last_errno == EHOSTUNREACH
			    ? SK_HOST_UNREACHABLE : SK_REFUSED);
}

static void eg_relay_begin(struct eg_tunnel *t);

static void eg_connected(struct eg_tunnel *t)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(t->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		t->last_errno = err ? err : errno;
		eg_end_want(t, &t->up, 0);
		close(t->up.fd);
		t->up.fd = -1;
		eg_connect_next(t);
		return;
	}
	eg_record(t->p, t->host, t->port, EGRESS_ALLOWED, "connected");
	eg_reply(t, SK_OK);
	if (!t->dead)
		eg_relay_begin(t);
}

void eg_tunnel_resolved(struct eg_tunnel *t, sc_result rc,
			const struct resolve_result *r, const char *err)
{
	t->dns_pending = 0;
	if (t->dead) { /* closed while the lookup was out */
		t->grave_next = eg_of(t)->grave;
		eg_of(t)->grave = t;
		return;
	}
	if (rc) {
		eg_record(t->p, t->host, t->port, EGRESS_DNS, err);
		eg_reply(t, SK_HOST_UNREACHABLE);
		return;
	}
	const char *why = resolve_private_reason(r);
	if (why) {
		eg_refuse(t, why);
		return;
	}
	t->addrs = *r;
	t->next_addr = 0;
	eg_connect_next(t);
}

/* ---- the SOCKS5 handshake ---- */

static void eg_consume(struct eg_tunnel *t, size_t n)
{
	memmove(t->hs, t->hs + n, t->hslen - n);
	t->hslen -= n;
}

/* The greeting: 5, n, n methods. 0 more bytes needed, 1 done, -1 bad. */
static int eg_hello(struct eg_tunnel *t)
{
	if (t->hslen < 2)
		return 0;
	size_t need = 2 + (size_t)t->hs[1];
	if (t->hs[0] != 5)
		return -1;
	if (t->hslen < need)
		return 0;
	int noauth = memchr(t->hs + 2, 0, t->hs[1]) != NULL;
	unsigned char r[2] = {5, noauth ? 0 : 0xff};
	eg_consume(t, need);
	if (send(t->cli.fd, r, 2, MSG_NOSIGNAL) != 2 || !noauth)
		return -1;
	t->st = T_REQUEST;
	return 1;
}

/* The request's destination into t->host / t->port. 0: more bytes
 * needed; 1: done; -1: answered with an error (closed). */
static int eg_request(struct eg_tunnel *t)
{
	const unsigned char *h = t->hs;
	if (t->hslen < 4 || (h[3] == 3 && t->hslen < 5))
		return 0;
	size_t alen = h[3] == 1 ? 4 : h[3] == 4 ? 16 : h[3] == 3 ? 1u + h[4] : 0;
	if (h[0] != 5 || alen <= 1) { /* an unknown type, an empty name */
		eg_reply(t, SK_ADDRESS_TYPE);
		return -1;
	}
	size_t need = 4 + alen + 2;
	if (t->hslen < need)
		return 0;
	if (h[1] != 1) { /* only CONNECT: no BIND, no UDP ASSOCIATE */
		eg_reply(t, SK_COMMAND);
		return -1;
	}
	int name = h[3] == 3;
	size_t namelen = h[4];
	if (name) {
		memcpy(t->host, h + 5, namelen);
		t->host[namelen] = 0;
	} else {
		inet_ntop(h[3] == 1 ? AF_INET : AF_INET6, h + 4, t->host,
			  sizeof(t->host));
	}
	t->port = h[need - 2] << 8 | h[need - 1];
	eg_consume(t, need);
	if (name && strlen(t->host) != namelen) { /* a NUL in the name */
		eg_reply(t, SK_ADDRESS_TYPE);
		return -1;
	}
	return 1;
}

static void eg_judge(struct eg_tunnel *t)
{
	int lookup;
	const char *why = resolve_quick_reason(t->host, &lookup);
	if (why) {
		eg_refuse(t, why);
		return;
	}
	t->st = T_RESOLVING;
	eg_end_want(t, &t->cli, 0); /* nothing to read until we answer */
	t->dns_pending = 1;
	eg_lookup(eg_of(t), t, t->host, t->port);
}

static void eg_handshake(struct eg_tunnel *t)
{
	ssize_t n = recv(t->cli.fd, t->hs + t->hslen, sizeof(t->hs) - t->hslen,
			 0);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			eg_close(t);
		return;
	}
	t->hslen += (size_t)n;
	int rc = 1;
	if (t->st == T_HELLO)
		rc = eg_hello(t);
	if (rc > 0 && t->st == T_REQUEST && (rc = eg_request(t)) > 0)
		eg_judge(t);
	if (rc < 0)
		eg_close(t);
	else if (rc == 0 && t->hslen == sizeof(t->hs))
		eg_close(t);
}

/* ---- the relay ---- */

/* Move bytes src -> q -> dst as far as they go now; -1 on an error. */
static int eg_pump(struct eg_end *src, struct eg_end *dst, struct eg_pipe *q)
{
	for (;;) {
		if (q->len > q->off) {
			ssize_t w = send(dst->fd, q->buf + q->off,
					 q->len - q->off, MSG_NOSIGNAL);
			if (w < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			q->off += (size_t)w;
			if (q->off < q->len)
				return 0;
			q->off = q->len = 0;
		}
		if (src->eof) {
			if (!dst->shut && shutdown(dst->fd, SHUT_WR) == 0)
				dst->shut = 1;
			return 0;
		}
		ssize_t r = recv(src->fd, q->buf, EG_BUF, 0);
		if (r == 0)
			src->eof = 1;
		else if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		else
			q->len = (size_t)r;
	}
}

static uint32_t eg_interest(const struct eg_end *e, const struct eg_pipe *in,
			    const struct eg_pipe *out)
{
	uint32_t ev = 0;
	if (!e->eof && in->len == 0)
		ev |= EPOLLIN;
	if (out->len > out->off)
		ev |= EPOLLOUT;
	return ev;
}

static void eg_relay(struct eg_tunnel *t)
{
	if (eg_pump(&t->cli, &t->up, &t->c2u) ||
	    eg_pump(&t->up, &t->cli, &t->u2c) ||
	    (t->cli.eof && t->up.eof)) {
		eg_close(t); /* an error, or both sides have ended */
		return;
	}
	eg_end_want(t, &t->cli, eg_interest(&t->cli, &t->c2u, &t->u2c));
	eg_end_want(t, &t->up, eg_interest(&t->up, &t->u2c, &t->c2u));
}

static void eg_relay_begin(struct eg_tunnel *t)
{
	t->st = T_RELAY;
	t->c2u.buf = sc_xmalloc(EG_BUF);
	t->u2c.buf = sc_xmalloc(EG_BUF);
	if (t->hslen) { /* sent before our answer (allowed by RFC 1928) */
		memcpy(t->c2u.buf, t->hs, t->hslen);
		t->c2u.len = t->hslen;
		t->hslen = 0;
	}
	eg_relay(t);
}

void eg_tunnel_event(struct eg_tag *tag, uint32_t events)
{
	struct eg_end *e = (struct eg_end *)tag;
	struct eg_tunnel *t = e->t;
	if (t->dead)
		return;
	if (t->st == T_RELAY)
		eg_relay(t);
	else if (e == &t->cli && (t->st == T_HELLO || t->st == T_REQUEST))
		eg_handshake(t);
	else if (e == &t->up && t->st == T_CONNECTING)
		eg_connected(t);
	else if (events & (EPOLLHUP | EPOLLERR))
		eg_close(t);
}

int eg_tunnels_expire(struct egress_port *p, int64_t now)
{
	int next = -1;
	for (struct eg_tunnel *t = p->tunnels, *n; t; t = n) {
		n = t->next;
		if (t->st == T_RELAY)
			continue;
		if (t->deadline <= now) {
			eg_record(t->p, t->host, t->port, EGRESS_CONNECT,
				  "timed out");
			eg_reply(t, SK_TTL);
			eg_close(t);
			continue;
		}
		int ms = (int)(t->deadline - now);
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}
