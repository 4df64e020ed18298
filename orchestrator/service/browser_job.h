/*
 * browser_job.h — a DevTools connection per job, for endpoints where each
 * WebSocket connection is a browser session of its own (browserless: a
 * connection is one session, counted against its CONCURRENT limit, queued
 * or answered 429 past it, ended after its TIMEOUT). browser.c uses it for
 * such an endpoint instead of one shared connection:
 *
 *   browser_acquire -> READY -> bj_open(url) -> cdp_conn_open
 *     -> open: cb(conn) (the job's own)  | failed: cb(NULL), lost(at_open)
 *   the job ends -> browser_release(conn) -> bj_release: closed, freed
 *   the connection drops under the job -> lost(!at_open): the endpoint is
 *     looked at again (browser.c: LOST); the job's capture fails as a
 *     browser crash and moves
 *
 * Loop thread only.
 */
#ifndef BROWSER_JOB_H
#define BROWSER_JOB_H

#include "browser.h"

struct loop;
struct bj_set;

/* What the set tells its owner: a connection could not be opened (at_open)
 * or dropped while a job held it; why: a sentence. */
typedef void (*bj_lost_cb)(void *owner, int at_open, const char *why);

/* An empty set reporting to lost(owner). Never fails. */
struct bj_set *bj_create(struct loop *l, bj_lost_cb lost, void *owner);

/* Open a connection to ws_url for job ud: cb(ud, conn, NULL) once it is up,
 * or cb(ud, NULL, why) (then lost(at_open) runs first). Never calls back
 * before returning. */
void bj_open(struct bj_set *s, const char *ws_url, browser_cb cb, void *ud);

/* The job holding conn is over: its connection is closed and freed. Returns
 * 1 if conn was one of the set's, else 0 (nothing done). */
int bj_release(struct bj_set *s, struct cdp_conn *conn);

/* Job ud no longer waits: a connection still opening for it is closed,
 * its cb never called. */
void bj_forget(struct bj_set *s, void *ud);

/* Connections open or opening (jobs holding one, or about to). */
int bj_count(const struct bj_set *s);

/* Close every connection (no callback) and free the set. NULL-safe. */
void bj_destroy(struct bj_set **s);

#endif
