/*
 * egress.c — the egress proxy's thread, its ports and its DNS threads
 * (see egress.h for the design; one connection is egress_tunnel.c).
 *
 *   any thread: egress_open -> socket, bind, listen (the port is known at
 *               once) -> command "add" -> eventfd
 *   egress thread: epoll_wait -> listener: accept -> eg_tunnel_accept
 *                             -> a tunnel's socket -> eg_tunnel_event
 *                             -> eventfd: commands (add, close a port),
 *                                finished lookups (workers_drain)
 *                  -> deadlines (eg_tunnels_expire) -> free closed tunnels
 *
 * A port lives while its caller's handle, the thread's list and any of its
 * tunnels hold it (refs). Commands are applied after the round's socket
 * events, and tunnels closed in a round are freed after it, so no event of
 * the round can reach freed memory.
 */
#include "egress_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EG_LOG "egress"

enum eg_op { EG_ADD, EG_CLOSE };
struct eg_cmd {
	struct eg_cmd *next;
	enum eg_op op;
	struct egress_port *p;
};

struct eg_dns {
	struct eg_tunnel *t;
	char host[256];
	int port;
	sc_result rc;
	struct resolve_result r;
	char err[200];
};

static void eg_wake(struct egress *e)
{
	uint64_t one = 1;
	if (write(e->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		sc_log(SC_LOG_WARN, EG_LOG, "eventfd: %s", strerror(errno));
}

static void eg_dns_notify(void *ud) { eg_wake(ud); }

static void eg_push(struct egress *e, enum eg_op op, struct egress_port *p)
{
	struct eg_cmd *c = sc_xcalloc(1, sizeof(*c));
	c->op = op;
	c->p = p;
	pthread_mutex_lock(&e->lock);
	struct eg_cmd **tail = &e->cmds;
	while (*tail)
		tail = &(*tail)->next;
	*tail = c;
	pthread_mutex_unlock(&e->lock);
	eg_wake(e);
}

int eg_watch(struct egress *e, int fd, uint32_t events, struct eg_tag *tag,
	     int add)
{
	struct epoll_event ev = {.events = events, .data.ptr = tag};
	if (!add && !events)
		return epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
	return epoll_ctl(e->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

void eg_port_unref(struct egress_port *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ---- the report (any thread) ---- */

void eg_record(struct egress_port *p, const char *host, int port,
	       enum egress_outcome kind, const char *msg)
{
	pthread_mutex_lock(&p->lock);
	struct eg_outcome *o = NULL;
	for (unsigned i = 0; i < p->nout && i < EG_OUTCOMES && !o; i++)
		if (p->out[i].port == port && !strcmp(p->out[i].host, host))
			o = &p->out[i];
	if (!o)
		o = &p->out[p->nout++ % EG_OUTCOMES];
	snprintf(o->host, sizeof(o->host), "%s", host);
	o->port = port;
	o->kind = kind;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
	if (kind == EGRESS_REFUSED && p->refused++ == 0)
		snprintf(p->first, sizeof(p->first), "%s:%d (%s)", host, port,
			 msg ? msg : "refused");
	pthread_mutex_unlock(&p->lock);
}

enum egress_outcome egress_port_outcome(struct egress_port *p,
					const char *host, int port,
					char *msg, size_t msglen)
{
	enum egress_outcome k = EGRESS_NONE;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->nout && i < EG_OUTCOMES; i++)
		if (p->out[i].port == port && !strcmp(p->out[i].host, host)) {
			k = p->out[i].kind;
			snprintf(msg, msglen, "%s", p->out[i].msg);
		}
	pthread_mutex_unlock(&p->lock);
	return k;
}

unsigned egress_port_refused(struct egress_port *p, char *first,
			     size_t firstlen)
{
	pthread_mutex_lock(&p->lock);
	unsigned n = p->refused;
	if (firstlen)
		snprintf(first, firstlen, "%s", p->first);
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* ---- name lookups on the DNS threads ---- */

static void eg_dns_work(void *arg)
{
	struct eg_dns *d = arg;
	d->rc = resolve_host(d->host, d->port, &d->r, d->err, sizeof(d->err));
}

static void eg_dns_done(void *arg)
{
	struct eg_dns *d = arg;
	eg_tunnel_resolved(d->t, d->rc, &d->r, d->err);
	free(d);
}

void eg_lookup(struct egress *e, struct eg_tunnel *t, const char *host,
	       int port)
{
	struct eg_dns *d = sc_xcalloc(1, sizeof(*d));
	d->t = t;
	d->port = port;
	snprintf(d->host, sizeof(d->host), "%s", host);
	workers_submit(e->dns, eg_dns_work, eg_dns_done, d);
}

/* ---- ports ---- */

static int eg_listen(const char *address, int *port)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	struct sockaddr_in a4 = {.sin_family = AF_INET};
	int v6 = inet_pton(AF_INET6, address, &a6.sin6_addr) == 1;
	if (!v6 && inet_pton(AF_INET, address, &a4.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	int fd = socket(v6 ? AF_INET6 : AF_INET,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	if (fd < 0)
		return -1;
	if ((v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		: bind(fd, (struct sockaddr *)&a4, sizeof(a4))) ||
	    listen(fd, 256) ||
	    getsockname(fd, (struct sockaddr *)&got, &len)) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	*port = ntohs(got.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&got)->sin6_port
			      : ((struct sockaddr_in *)&got)->sin_port);
	return fd;
}

sc_result egress_open(struct egress *e, struct egress_port **out)
{
	*out = NULL;
	int port = 0, fd = eg_listen(e->address, &port);
	if (fd < 0) {
		sc_log(SC_LOG_ERROR, EG_LOG, "cannot listen on %s: %s",
		       e->address, strerror(errno));
		return SC_ERR_IO;
	}
	struct egress_port *p = sc_xcalloc(1, sizeof(*p));
	p->tag.kind = EG_LISTEN;
	p->e = e;
	p->lfd = fd;
	p->port = port;
	atomic_init(&p->refs, 2); /* the caller's handle, the thread's list */
	pthread_mutex_init(&p->lock, NULL);
	snprintf(p->url, sizeof(p->url), strchr(e->address, ':')
		 ? "socks5://[%s]:%d" : "socks5://%s:%d", e->address, port);
	eg_push(e, EG_ADD, p);
	*out = p;
	return SC_OK;
}

const char *egress_port_url(const struct egress_port *p) { return p->url; }

void egress_close(struct egress_port **pp)
{
	struct egress_port *p = pp ? *pp : NULL;
	if (!p)
		return;
	*pp = NULL;
	eg_push(p->e, EG_CLOSE, p); /* the thread's list ref keeps p alive */
	eg_port_unref(p);           /* the caller's */
}

static void eg_port_add(struct egress *e, struct egress_port *p)
{
	p->next = e->ports;
	e->ports = p;
	if (eg_watch(e, p->lfd, EPOLLIN, &p->tag, 1))
		sc_log(SC_LOG_ERROR, EG_LOG, "epoll: %s", strerror(errno));
}

/* Unlink p, stop listening, end its tunnels, drop the thread's ref. */
static void eg_port_drop(struct egress *e, struct egress_port *p)
{
	for (struct egress_port **pp = &e->ports; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	close(p->lfd);
	p->lfd = -1;
	eg_tunnels_close_all(p);
	eg_port_unref(p);
}

static void eg_accept(struct egress_port *p)
{
	for (;;) {
		int fd = accept4(p->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				sc_log(SC_LOG_WARN, EG_LOG, "accept: %s",
				       strerror(errno));
			return;
		}
		int max = p->e->o.max_tunnels;
		if (p->ntunnels >= max) {
			close(fd); /* Chromium sees a failed proxy connect */
			continue;
		}
		eg_tunnel_accept(p, fd);
	}
}

/* ---- the thread ---- */

/* Apply the queued commands and finished lookups; 1 if stopping. */
static int eg_commands(struct egress *e)
{
	uint64_t n;
	if (read(e->evfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		sc_log(SC_LOG_WARN, EG_LOG, "eventfd: %s", strerror(errno));
	pthread_mutex_lock(&e->lock);
	struct eg_cmd *c = e->cmds;
	int stopping = e->stopping;
	e->cmds = NULL;
	pthread_mutex_unlock(&e->lock);
	while (c) {
		struct eg_cmd *next = c->next;
		if (c->op == EG_ADD)
			eg_port_add(e, c->p);
		else
			eg_port_drop(e, c->p);
		free(c);
		c = next;
	}
	workers_drain(e->dns);
	return stopping;
}

static int eg_expire(struct egress *e)
{
	int64_t now = sc_now_ms();
	int next = -1;
	for (struct egress_port *p = e->ports; p; p = p->next) {
		int ms = eg_tunnels_expire(p, now);
		if (ms >= 0 && (next < 0 || ms < next))
			next = ms;
	}
	return next;
}

static void *eg_main(void *arg)
{
	struct egress *e = arg;
	struct epoll_event ev[64];
	int timeout = -1, stopping = 0;
	while (!stopping) {
		int n = epoll_wait(e->epfd, ev, 64, timeout), woken = 0;
		for (int i = 0; i < n; i++) {
			struct eg_tag *tag = ev[i].data.ptr;
			if (tag->kind == EG_WAKE)
				woken = 1;
			else if (tag->kind == EG_LISTEN)
				eg_accept((struct egress_port *)tag);
			else
				eg_tunnel_event(tag, ev[i].events);
		}
		if (woken)
			stopping = eg_commands(e);
		timeout = eg_expire(e);
		eg_tunnels_free_closed(e);
	}
	while (e->ports)
		eg_port_drop(e, e->ports);
	eg_tunnels_free_closed(e);
	return NULL;
}

static void eg_free(struct egress *e)
{
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->evfd >= 0)
		close(e->evfd);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

sc_result egress_start(const struct egress_opts *o, struct egress **out)
{
	struct egress *e = sc_xcalloc(1, sizeof(*e));
	e->o = *o;
	if (e->o.connect_timeout_ms <= 0)
		e->o.connect_timeout_ms = 15000;
	if (e->o.max_tunnels <= 0)
		e->o.max_tunnels = 256;
	snprintf(e->address, sizeof(e->address), "%s",
		 o->address ? o->address : "127.0.0.1");
	pthread_mutex_init(&e->lock, NULL);
	e->wake_tag.kind = EG_WAKE;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	*out = NULL;
	if (e->epfd < 0 || e->evfd < 0 ||
	    eg_watch(e, e->evfd, EPOLLIN, &e->wake_tag, 1) ||
	    workers_create(2, eg_dns_notify, e, &e->dns)) {
		eg_free(e);
		return SC_ERR_IO;
	}
	if (pthread_create(&e->thread, NULL, eg_main, e)) {
		workers_destroy(&e->dns);
		eg_free(e);
		return SC_ERR_IO;
	}
	*out = e;
	return SC_OK;
}

void egress_stop(struct egress **ep)
{
	struct egress *e = ep ? *ep : NULL;
	if (!e)
		return;
	*ep = NULL;
	pthread_mutex_lock(&e->lock);
	e->stopping = 1;
	pthread_mutex_unlock(&e->lock);
	eg_wake(e);
	pthread_join(e->thread, NULL);
	/* lookups still out finish here: their tunnels are closed already */
	workers_destroy(&e->dns);
	eg_tunnels_free_closed(e);
	for (struct eg_cmd *c = e->cmds, *next; c; c = next) {
		next = c->next; /* ports opened or closed after the stop */
		if (c->op == EG_ADD) { /* never listed: drop the list's ref */
			close(c->p->lfd);
			eg_port_unref(c->p);
		}
		free(c);
	}
	eg_free(e);
}
