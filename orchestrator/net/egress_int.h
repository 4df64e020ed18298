/*
 * egress_int.h — private to egress.c (the thread, ports, DNS) and
 * egress_tunnel.c (one SOCKS5 connection: handshake, connect, relay).
 * Fields are private. Everything here runs on the egress thread unless a
 * comment says otherwise.
 */
#ifndef EGRESS_INT_H
#define EGRESS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "egress.h"
#include "resolve.h"
#include "workers.h"

#define EG_OUTCOMES 32        /* host:port outcomes kept per port */
#define EG_BUF (32 * 1024)    /* relay buffer per direction */
#define EG_HS_MAX 600         /* SOCKS5 greeting + request */

/* What an epoll event's data.ptr points to: the first member says which. */
enum eg_kind { EG_WAKE, EG_LISTEN, EG_CLIENT, EG_UPSTREAM };
struct eg_tag {
	enum eg_kind kind;
};

struct egress {
	struct eg_tag wake_tag; /* the eventfd */
	int epfd, evfd;
	pthread_t thread;
	struct egress_opts o;
	char address[64];
	struct workers *dns;
	pthread_mutex_t lock;   /* cmds, stopping */
	struct eg_cmd *cmds;
	int stopping;
	struct egress_port *ports; /* thread only */
	struct eg_tunnel *grave;   /* closed in this round: freed after it */
};

struct eg_outcome {
	char host[256];
	int port;
	enum egress_outcome kind;
	char msg[200];
};

struct eg_tunnel;

struct egress_port {
	struct eg_tag tag; /* EG_LISTEN */
	struct egress *e;
	int lfd, port;
	char url[96];
	atomic_int refs;       /* the caller's handle + the thread's */
	struct egress_port *next; /* thread list */
	struct eg_tunnel *tunnels; /* thread only */
	int ntunnels;
	pthread_mutex_t lock;  /* the report below */
	unsigned refused;
	char first[320];
	struct eg_outcome out[EG_OUTCOMES];
	unsigned nout;
};

/* egress.c */
void eg_port_unref(struct egress_port *p);
void eg_record(struct egress_port *p, const char *host, int port,
	       enum egress_outcome kind, const char *msg);
/* (Re)register fd with epoll for events, tagged tag. */
int eg_watch(struct egress *e, int fd, uint32_t events, struct eg_tag *tag,
	     int add);
/* Look host up on a DNS thread; eg_tunnel_resolved() gets the result. */
void eg_lookup(struct egress *e, struct eg_tunnel *t, const char *host,
	       int port);

/* egress_tunnel.c */
void eg_tunnel_accept(struct egress_port *p, int fd);
void eg_tunnel_event(struct eg_tag *tag, uint32_t events);
void eg_tunnel_resolved(struct eg_tunnel *t, sc_result rc,
			const struct resolve_result *r, const char *err);
/* Close every tunnel of p (port closing or egress stopping). */
void eg_tunnels_close_all(struct egress_port *p);
/* Free the tunnels closed in this round of events (e->grave). */
void eg_tunnels_free_closed(struct egress *e);
/* Fail tunnels whose handshake, lookup or connect deadline passed;
 * returns ms until the next deadline (-1: none). */
int eg_tunnels_expire(struct egress_port *p, int64_t now);

#endif
