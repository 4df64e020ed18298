/*
 * browser_job.c — a DevTools connection per job (see browser_job.h).
 */
#include "browser_job.h"

#include <stdio.h>
#include <stdlib.h>

#include "cdp.h"
#include "loop.h"

struct bj_conn {
	struct bj_conn *next;
	struct bj_set *s;
	struct cdp_conn *conn;
	browser_cb cb;
	void *ud;
	int delivered; /* cb(conn) ran: the job holds it */
	struct loop_timer *fail_timer; /* cdp_conn_open refused at once */
	char err[160];
};

struct bj_set {
	struct loop *loop;
	bj_lost_cb lost;
	void *owner;
	struct bj_conn *list;
};

struct bj_set *bj_create(struct loop *l, bj_lost_cb lost, void *owner)
{
	struct bj_set *s = sc_xcalloc(1, sizeof(*s));
	s->loop = l;
	s->lost = lost;
	s->owner = owner;
	return s;
}

static void bj_unlink(struct bj_conn *c)
{
	struct bj_conn **pp = &c->s->list;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
}

static void bj_free(struct bj_conn *c)
{
	loop_timer_cancel(&c->fail_timer);
	cdp_conn_close(&c->conn);
	free(c);
}

/* Not opened: the job hears why (it waits for another endpoint), then the
 * owner (the endpoint is looked at again). */
static void bj_failed(struct bj_conn *c, const char *why)
{
	struct bj_set *s = c->s;
	browser_cb cb = c->cb;
	void *ud = c->ud;
	char msg[200];
	snprintf(msg, sizeof(msg), "%s", why ? why : "cannot connect");
	bj_unlink(c);
	bj_free(c);
	s->lost(s->owner, 1, msg);
	cb(ud, NULL, msg);
}

static void bj_on_open(struct cdp_conn *conn, void *ud, sc_result rc,
		       const char *err)
{
	struct bj_conn *c = ud;
	(void)conn;
	if (rc) {
		bj_failed(c, err ? err : sc_strerror(rc));
		return;
	}
	c->delivered = 1;
	c->cb(c->ud, c->conn, NULL);
}

/* Dropped under the job (browserless gone, or its TIMEOUT): the job's
 * capture has failed already; it still releases the connection. */
static void bj_on_close(struct cdp_conn *conn, void *ud, const char *reason)
{
	struct bj_conn *c = ud;
	(void)conn;
	c->s->lost(c->s->owner, 0, reason ? reason : "connection closed");
}

static void bj_fail_fire(void *arg)
{
	struct bj_conn *c = arg;
	c->fail_timer = NULL;
	bj_failed(c, c->err);
}

void bj_open(struct bj_set *s, const char *ws_url, browser_cb cb, void *ud)
{
	struct bj_conn *c = sc_xcalloc(1, sizeof(*c));
	*c = (struct bj_conn){.next = s->list, .s = s, .cb = cb, .ud = ud};
	s->list = c;
	struct cdp_conn_cbs cbs = {bj_on_open, bj_on_close, c};
	if (cdp_conn_open(loop_ctx(s->loop), ws_url, NULL, &cbs, &c->conn)) {
		snprintf(c->err, sizeof(c->err), "cannot open a WebSocket to "
			 "the browser");
		c->fail_timer = loop_timer(s->loop, 0, bj_fail_fire, c);
	}
}

int bj_release(struct bj_set *s, struct cdp_conn *conn)
{
	for (struct bj_conn *c = s->list; c && conn; c = c->next)
		if (c->conn == conn && c->delivered) {
			bj_unlink(c);
			bj_free(c);
			return 1;
		}
	return 0;
}

void bj_forget(struct bj_set *s, void *ud)
{
	struct bj_conn **pp = &s->list;
	while (*pp) {
		struct bj_conn *c = *pp;
		if (c->ud == ud && !c->delivered) {
			*pp = c->next;
			bj_free(c);
		} else {
			pp = &c->next;
		}
	}
}

int bj_count(const struct bj_set *s)
{
	int n = 0;
	for (const struct bj_conn *c = s->list; c; c = c->next)
		n++;
	return n;
}

void bj_destroy(struct bj_set **ps)
{
	struct bj_set *s = ps ? *ps : NULL;
	if (!s)
		return;
	*ps = NULL;
	while (s->list) {
		struct bj_conn *c = s->list;
		s->list = c->next;
		bj_free(c);
	}
	free(s);
}
