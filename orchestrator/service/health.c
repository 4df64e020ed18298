/*
 * health.c — is the data writable? The data directory's probes and the
 * catalog's faults (see health.h).
 */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_verify.h"
#include "loop.h"

#define HEALTH_LOG "health"
#define HEALTH_PROBE_BYTES 4096 /* one page: a full file system refuses it */

struct health {
	struct loop *loop;
	struct health_opts o;
	char *dirs[2];           /* DATA and DATA/snapshots */
	struct loop_timer *timer;
	int started;
	pthread_mutex_t mu;      /* everything below */
	pthread_cond_t idle;     /* busy went to 0 (health_destroy waits) */
	int busy;                /* a probe runs on a worker */
	int pending;             /* loop callbacks queued that use h */
	int stopping, orphan;    /* health_destroy ran: the last one frees */
	char dir_err[256];       /* "" while the directory takes writes */
	char cat_err[256];       /* an IO fault of the catalog, "" if none */
	char damaged[256];       /* the catalog is damaged, "" if not */
	int ends_waiting;
	int kick_posted;
	/* the background check of the catalog (health_check_catalog) */
	pthread_t checker;
	int checking;
	atomic_int check_stop;
	char *check_path;
};

/* One probe's result, from the worker. */
struct health_probe {
	struct health *h;
	int check_catalog;
	char dir_err[256], cat_err[256];
	sc_result dir_rc, cat_rc;
};

static void health_arm(struct health *h);

static void health_free(struct health *h)
{
	free(h->check_path);
	free(h->dirs[0]);
	free(h->dirs[1]);
	pthread_cond_destroy(&h->idle);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* A queued loop callback ran: 1 if h is orphaned (and freed when it was
 * the last): the caller returns at once. Loop thread. */
static int health_unref(struct health *h)
{
	pthread_mutex_lock(&h->mu);
	h->pending--;
	int orphan = h->orphan, last = !h->pending;
	pthread_mutex_unlock(&h->mu);
	if (orphan && last)
		health_free(h);
	return orphan;
}

/* Create, write a page to and remove a probe file in dir; SC_OK or
 * SC_ERR_IO with err saying why. */
static sc_result health_probe_dir(const char *dir, char *err, size_t len)
{
	static const char page[HEALTH_PROBE_BYTES];
	char path[4200];
	snprintf(path, sizeof(path), "%s/.health-probe.tmp.%ld.0", dir,
		 (long)getpid()); /* a temp name store_sweep_tmp knows */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, len, "%s: %s", dir, strerror(errno));
		return SC_ERR_IO;
	}
	ssize_t w = write(fd, page, sizeof(page));
	int e = w < 0 ? errno : ENOSPC;
	close(fd);
	unlink(path);
	if (w == (ssize_t)sizeof(page))
		return SC_OK;
	snprintf(err, len, "%s: %s", dir, strerror(e));
	return SC_ERR_IO;
}

static void health_probe_work(void *arg)
{
	struct health_probe *p = arg;
	struct health *h = p->h;
	for (int i = 0; i < 2 && !p->dir_rc; i++)
		p->dir_rc = health_probe_dir(h->dirs[i], p->dir_err,
					     sizeof(p->dir_err));
	if (!p->dir_rc && p->check_catalog && h->o.catalog_probe)
		p->cat_rc = h->o.catalog_probe(h->o.ud, p->cat_err,
					       sizeof(p->cat_err));
	pthread_mutex_lock(&h->mu);
	h->busy = 0;
	pthread_cond_broadcast(&h->idle);
	pthread_mutex_unlock(&h->mu);
}

/* Apply a probe's result (loop thread); 1 if all is writable again after
 * a degraded spell. */
static int health_apply(struct health *h, const struct health_probe *p)
{
	pthread_mutex_lock(&h->mu);
	int was = h->dir_err[0] || h->cat_err[0], dir_was = h->dir_err[0];
	if (p->dir_rc)
		snprintf(h->dir_err, sizeof(h->dir_err), "%s", p->dir_err);
	else
		h->dir_err[0] = 0;
	if (!p->dir_rc && p->check_catalog && !p->cat_rc)
		h->cat_err[0] = 0;
	int now = h->dir_err[0] || h->cat_err[0];
	pthread_mutex_unlock(&h->mu);
	if (p->dir_rc && !dir_was)
		sc_log(SC_LOG_WARN, HEALTH_LOG, "data directory not writable: "
		       "%s", p->dir_err);
	if (!now && was)
		sc_log(SC_LOG_INFO, HEALTH_LOG, "data writable again");
	return was && !now;
}

static void health_probe_done(void *arg)
{
	struct health_probe *p = arg;
	struct health *h = p->h;
	if (health_unref(h)) { /* health_destroy ran meanwhile */
		free(p);
		return;
	}
	int back = health_apply(h, p);
	free(p);
	health_arm(h);
	if (back && h->o.on_ok)
		h->o.on_ok(h->o.ud);
}

/* Probe now (unless one is in flight). Loop thread. */
static void health_probe_now(struct health *h)
{
	pthread_mutex_lock(&h->mu);
	int skip = h->busy || h->stopping;
	if (!skip) {
		h->busy = 1;
		h->pending++;
	}
	struct health_probe *p = NULL;
	if (!skip) {
		p = sc_xcalloc(1, sizeof(*p));
		p->h = h;
		p->check_catalog = h->cat_err[0] != 0;
	}
	pthread_mutex_unlock(&h->mu);
	if (!p)
		return;
	loop_timer_cancel(&h->timer);
	loop_work(h->loop, health_probe_work, health_probe_done, p);
}

static void health_timer_fired(void *arg)
{
	struct health *h = arg;
	h->timer = NULL;
	health_probe_now(h);
}

/* The next periodic probe: soon while a write was refused (a damaged
 * catalog stays damaged: no hurry for that). Loop thread. */
static void health_arm(struct health *h)
{
	if (!h->started || h->timer)
		return;
	pthread_mutex_lock(&h->mu);
	int bad = h->dir_err[0] || h->cat_err[0];
	pthread_mutex_unlock(&h->mu);
	h->timer = loop_timer(h->loop, bad ? HEALTH_PROBE_BAD_MS
					   : HEALTH_PROBE_MS,
			      health_timer_fired, h);
}

static void health_kick_loop(void *arg)
{
	struct health *h = arg;
	pthread_mutex_lock(&h->mu);
	h->kick_posted = 0;
	pthread_mutex_unlock(&h->mu);
	if (!health_unref(h) && h->started)
		health_probe_now(h);
}

/* A probe soon, from any thread (one post at a time). */
static void health_kick(struct health *h)
{
	pthread_mutex_lock(&h->mu);
	int post = !h->kick_posted && !h->stopping;
	h->kick_posted |= post;
	h->pending += post;
	pthread_mutex_unlock(&h->mu);
	if (post)
		loop_post(h->loop, health_kick_loop, h);
}

sc_result health_create(struct loop *l, const struct health_opts *o,
			struct health **out)
{
	struct health *h = sc_xcalloc(1, sizeof(*h));
	h->loop = l;
	h->o = *o;
	h->dirs[0] = sc_xstrdup(o->data_dir);
	h->dirs[1] = sc_xasprintf("%s/snapshots", o->data_dir);
	h->o.data_dir = h->dirs[0];
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->idle, NULL);
	*out = h;
	return SC_OK;
}

void health_start(struct health *h)
{
	h->started = 1;
	health_arm(h);
}

static void *health_checker(void *arg)
{
	struct health *h = arg;
	char why[512] = "";
	int64_t t0 = sc_now_ms();
	sc_result rc = catalog_verify_full(h->check_path, &h->check_stop, why,
					   sizeof(why));
	long long ms = (long long)(sc_now_ms() - t0);
	if (rc == SC_OK)
		sc_log(SC_LOG_INFO, HEALTH_LOG, "catalog: the full check passed "
		       "(%lld ms)", ms);
	else if (rc == SC_ERR_DB && h->o.on_damaged)
		h->o.on_damaged(h->o.ud, why);
	else if (rc != SC_ERR_CANCELED)
		sc_log(SC_LOG_WARN, HEALTH_LOG, "catalog: the full check did "
		       "not run: %s", why);
	return NULL;
}

void health_check_catalog(struct health *h, const char *path)
{
	if (h->checking)
		return;
	free(h->check_path);
	h->check_path = sc_xstrdup(path);
	atomic_store(&h->check_stop, 0);
	h->checking = !pthread_create(&h->checker, NULL, health_checker, h);
	if (!h->checking)
		sc_log(SC_LOG_WARN, HEALTH_LOG, "catalog: no thread for the "
		       "full check");
}

void health_write_failed(struct health *h, const char *what)
{
	pthread_mutex_lock(&h->mu);
	int first = !h->dir_err[0];
	snprintf(h->dir_err, sizeof(h->dir_err), "%s", what);
	pthread_mutex_unlock(&h->mu);
	if (first)
		sc_log(SC_LOG_WARN, HEALTH_LOG, "a write failed: %s", what);
	health_kick(h);
}

void health_catalog_fault(void *ud, enum catalog_fault f, const char *why)
{
	struct health *h = ud;
	pthread_mutex_lock(&h->mu);
	int first = f == CATALOG_FAULT_IO && !h->cat_err[0];
	if (f == CATALOG_FAULT_DAMAGED && !h->damaged[0])
		snprintf(h->damaged, sizeof(h->damaged), "%s", why);
	else if (f == CATALOG_FAULT_IO)
		snprintf(h->cat_err, sizeof(h->cat_err), "%s", why);
	else if (f == CATALOG_FAULT_NONE)
		h->cat_err[0] = 0;
	pthread_mutex_unlock(&h->mu);
	if (first)
		sc_log(SC_LOG_WARN, HEALTH_LOG, "catalog not writable: %s", why);
	if (f == CATALOG_FAULT_IO)
		health_kick(h);
}

void health_ends_waiting(struct health *h, int n)
{
	pthread_mutex_lock(&h->mu);
	h->ends_waiting = n;
	pthread_mutex_unlock(&h->mu);
}

/* Append "; " + text to reason (at off); returns the new offset. */
static size_t health_add(char *reason, size_t len, size_t off,
			 const char *text)
{
	if (off >= len)
		return off;
	int w = snprintf(reason + off, len - off, "%s%s", off ? "; " : "",
			 text);
	return w > 0 ? off + (size_t)w : off;
}

int health_status(struct health *h, char *reason, size_t len)
{
	char t[400];
	size_t off = 0;
	reason[0] = 0;
	pthread_mutex_lock(&h->mu);
	if (h->damaged[0]) {
		snprintf(t, sizeof(t), "catalog damaged (%s): writes stopped; "
			 "restore the last backup (snapcat restore)", h->damaged);
		off = health_add(reason, len, off, t);
	}
	if (h->dir_err[0]) {
		snprintf(t, sizeof(t), "data directory not writable: %s",
			 h->dir_err);
		off = health_add(reason, len, off, t);
	}
	if (h->cat_err[0]) {
		snprintf(t, sizeof(t), "catalog not writable: %s", h->cat_err);
		off = health_add(reason, len, off, t);
	}
	if (h->ends_waiting) {
		snprintf(t, sizeof(t), "%d job ends wait for the catalog",
			 h->ends_waiting);
		off = health_add(reason, len, off, t);
	}
	pthread_mutex_unlock(&h->mu);
	return off > 0;
}

void health_destroy(struct health **hp)
{
	struct health *h = hp ? *hp : NULL;
	if (!h)
		return;
	*hp = NULL;
	if (h->checking) { /* stops within a few thousand SQLite steps */
		atomic_store(&h->check_stop, 1);
		pthread_join(h->checker, NULL);
		h->checking = 0;
	}
	loop_timer_cancel(&h->timer);
	h->started = 0;
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	while (h->busy) /* a probe may be in the catalog: let it finish */
		pthread_cond_wait(&h->idle, &h->mu);
	int pending = h->pending;
	h->orphan = pending > 0; /* the last queued callback frees it */
	pthread_mutex_unlock(&h->mu);
	if (!pending)
		health_free(h);
}
