/*
 * bus.c — the event bus with group commit (see bus.h for the design).
 *
 *   bus_begin (wlock) -> writes, bus_event -> bus_end* (the batch is
 *   marked dirty; a waiter joins it) -> bus_main: bus_due ->
 *   bus_commit_locked (ids, rows, COMMIT) -> bus_finish (after hooks,
 *   deliver, waiters)
 */
#include "bus.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "catalog.h"

#define BUS_LOG "bus"
#define BUS_PRUNE_EVERY 500 /* stored events between two prunes */

/* A bus_end caller waiting on its thread. */
struct bus_wait {
	struct bus_wait *next;
	int done;
	sc_result rc;
};

/* A bus_end_async caller, told by bus_batch_finish. */
struct bus_done {
	struct bus_done *next;
	void (*fn)(void *arg, sc_result rc);
	void *arg;
};

/* A bus_after hook. */
struct bus_after {
	struct bus_after *next;
	void (*fn)(void *arg, int committed);
	void *arg;
};

/* What one commit takes from the queue (wlock held while it is made). */
struct bus_take {
	struct bus_event *events;
	size_t n;
	struct bus_wait *waits;
	struct bus_done *dones;
	struct bus_after *afters;
};

struct bus {
	struct catalog *w;
	struct bus_opts o;
	pthread_mutex_t wlock;      /* the writer: one unit or one commit */
	pthread_mutex_t deliver_mu; /* deliveries in commit order */
	pthread_mutex_t mu;         /* everything below but the wlock part */
	pthread_cond_t cv;          /* the bus thread: work or stop */
	pthread_cond_t cv_done;     /* waiters; units waiting for a commit */
	struct bus_event *q, **qtail; /* the open batch's events */
	size_t nq;
	struct bus_take pend;       /* its waiters, dones, afters */
	int active;                 /* units begun and not ended */
	int dirty;                  /* the open batch has writes */
	int64_t t0;                 /* monotonic ms of its first content */
	int64_t last_end;           /* monotonic ms: the last commit ended */
	int committing;             /* the bus thread wants the writer */
	int stop, running;
	int64_t last_id;            /* the newest id given */
	struct bus_stats st;
	pthread_t th;
	/* wlock: */
	int64_t next_id;            /* the id the next event gets */
	int64_t since_prune;
	int unit_need;              /* the unit in progress queued a bound
				       event or an after hook */
};

static int64_t bus_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- events ---- */

char *bus_event_json(int64_t id, const char *type, int64_t ts_ms,
		     int64_t job_id, int64_t link_id, const char *fields_json)
{
	char ts[40];
	sc_iso8601(ts_ms, ts, sizeof(ts));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "ts", ts);
	if (job_id)
		cJSON_AddNumberToObject(o, "job", (double)job_id);
	if (link_id)
		cJSON_AddNumberToObject(o, "link", (double)link_id);
	cJSON *f = fields_json ? cJSON_Parse(fields_json) : NULL;
	for (cJSON *it = f ? f->child : NULL; it; it = it->next)
		if (!cJSON_GetObjectItem(o, it->string))
			cJSON_AddItemReferenceToObject(o, it->string, it);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cJSON_Delete(f);
	return s ? s : sc_xstrdup("{}");
}

static void bus_event_free(struct bus_event *e)
{
	cJSON_free(e->fields);
	cJSON_free(e->json);
	free(e);
}

static void bus_events_free(struct bus_event *e)
{
	while (e) {
		struct bus_event *n = e->next;
		bus_event_free(e);
		e = n;
	}
}

/* The newest queued event of job, or NULL (mu held). */
static struct bus_event *bus_last_of_job(struct bus *b, int64_t job)
{
	struct bus_event *last = NULL;
	for (struct bus_event *e = b->q; e; e = e->next)
		if (e->job_id == job)
			last = e;
	return last;
}

/* A job.progress after a job.progress of its job: the newest wins. */
static int bus_coalesce(struct bus *b, struct bus_event *e)
{
	if (e->t != EV_JOB_PROGRESS || !e->job_id)
		return 0;
	struct bus_event *last = bus_last_of_job(b, e->job_id);
	if (!last || last->t != EV_JOB_PROGRESS || last->bound != e->bound)
		return 0;
	cJSON_free(last->fields);
	last->fields = e->fields;
	last->ts = e->ts;
	e->fields = NULL;
	b->st.coalesced++;
	return 1;
}

void bus_event(struct bus *b, int bound, enum evtype t, int64_t job_id,
	       int64_t link_id, int64_t ts, char *fields)
{
	struct bus_event *e = sc_xcalloc(1, sizeof(*e));
	*e = (struct bus_event){.t = t, .job_id = job_id, .link_id = link_id,
				.ts = ts, .bound = bound, .fields = fields};
	if (bound)
		b->unit_need = 1; /* wlock held: the unit's */
	pthread_mutex_lock(&b->mu);
	if (bus_coalesce(b, e)) {
		pthread_mutex_unlock(&b->mu);
		bus_event_free(e);
		return;
	}
	*b->qtail = e;
	b->qtail = &e->next;
	if (!b->t0)
		b->t0 = bus_now();
	if (++b->nq >= (size_t)b->o.max_events || !bound)
		pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/* ---- the commit (wlock held) ---- */

/* Take the open batch (mu). */
static void bus_take(struct bus *b, struct bus_take *t)
{
	pthread_mutex_lock(&b->mu);
	*t = b->pend;
	t->events = b->q;
	t->n = b->nq;
	memset(&b->pend, 0, sizeof(b->pend));
	b->q = NULL;
	b->qtail = &b->q;
	b->nq = 0;
	b->dirty = 0;
	b->t0 = 0;
	pthread_mutex_unlock(&b->mu);
}

/* Each event: the next id, then its row (a row refused: live only; why
 * gets the first refusal's reason). */
static void bus_store(struct bus *b, struct bus_event *e, char *why,
		      size_t len)
{
	for (; e; e = e->next) {
		int64_t id = 0;
		if (catalog_event_put(b->w, b->next_id, evtype_name(e->t), e->ts,
				      e->job_id, e->link_id, e->fields,
				      &id) == SC_OK) {
			e->id = id;
			e->stored = 1;
			b->since_prune++;
		} else {
			e->id = b->next_id;
			if (!why[0])
				snprintf(why, len, "%s", catalog_errmsg(b->w));
		}
		b->next_id = e->id + 1;
	}
	if (b->since_prune >= BUS_PRUNE_EVERY) {
		b->since_prune = 0;
		(void)!catalog_events_prune(b->w, b->o.events_keep, NULL);
	}
}

/* The batch did not commit: its writes are gone. Bound events go with
 * them; the others are sent live with fresh ids (from first on). */
static struct bus_event *bus_unstored(struct bus *b, struct bus_event *e,
				      int64_t first, size_t *n)
{
	struct bus_event *keep = NULL, **tail = &keep;
	b->next_id = first;
	*n = 0;
	while (e) {
		struct bus_event *next = e->next;
		e->next = NULL;
		if (e->bound) {
			b->st.dropped++;
			bus_event_free(e);
		} else {
			e->id = b->next_id++;
			e->stored = 0;
			*tail = e;
			tail = &e->next;
			(*n)++;
		}
		e = next;
	}
	return keep;
}

/* Ids, rows and the COMMIT of what was taken. */
static sc_result bus_commit_locked(struct bus *b, struct bus_take *t)
{
	int64_t first = b->next_id;
	char why[256] = "";
	bus_store(b, t->events, why, sizeof(why));
	sc_result rc = catalog_group_commit(b->w);
	if (rc) {
		sc_log(SC_LOG_WARN, BUS_LOG, "a batch (%zu events) was not "
		       "stored: %s", t->n, catalog_errmsg(b->w));
		t->events = bus_unstored(b, t->events, first, &t->n);
	}
	size_t unstored = 0;
	for (struct bus_event *e = t->events; e; e = e->next)
		unstored += !e->stored;
	if (unstored && !rc)
		sc_log(SC_LOG_WARN, BUS_LOG, "%zu events (ids %lld..%lld) not "
		       "stored, sent live only: %s", unstored, (long long)first,
		       (long long)(b->next_id - 1), why);
	pthread_mutex_lock(&b->mu);
	b->st.batches++;
	b->st.failed += rc != SC_OK;
	b->st.events += (int64_t)t->n;
	b->st.unstored += (int64_t)unstored;
	if ((int64_t)t->n > b->st.largest)
		b->st.largest = (int64_t)t->n;
	if (b->next_id - 1 > b->last_id)
		b->last_id = b->next_id - 1;
	pthread_mutex_unlock(&b->mu);
	return rc;
}

/* After the commit (wlock released, deliver_mu held): the hooks, the
 * delivery, the waiters. */
static void bus_finish(struct bus *b, struct bus_take *t, sc_result rc)
{
	for (struct bus_after *a = t->afters, *n; a; a = n) {
		n = a->next;
		a->fn(a->arg, rc == SC_OK);
		free(a);
	}
	for (struct bus_event *e = t->events; e; e = e->next)
		e->json = bus_event_json(e->id, evtype_name(e->t), e->ts,
					 e->job_id, e->link_id, e->fields);
	if (t->events || t->dones) {
		struct bus_batch *bt = sc_xcalloc(1, sizeof(*bt));
		*bt = (struct bus_batch){.events = t->events, .n = t->n,
					 .rc = rc, .dones = t->dones};
		if (b->o.deliver)
			b->o.deliver(b->o.ud, bt);
		else
			bus_batch_finish(&bt);
	}
	pthread_mutex_lock(&b->mu);
	for (struct bus_wait *w = t->waits; w; w = w->next) {
		w->rc = rc;
		w->done = 1;
	}
	b->last_end = bus_now();
	pthread_cond_broadcast(&b->cv_done);
	pthread_mutex_unlock(&b->mu);
}

/* Commit the open batch; called with wlock held, returns without it. */
static void bus_commit(struct bus *b)
{
	struct bus_take t;
	bus_take(b, &t);
	sc_result rc = bus_commit_locked(b, &t);
	pthread_mutex_lock(&b->deliver_mu);
	pthread_mutex_unlock(&b->wlock);
	bus_finish(b, &t, rc);
	pthread_mutex_unlock(&b->deliver_mu);
}

void bus_batch_finish(struct bus_batch **bp)
{
	struct bus_batch *bt = bp ? *bp : NULL;
	if (!bt)
		return;
	for (struct bus_done *d = bt->dones, *n; d; d = n) {
		n = d->next;
		d->fn(d->arg, bt->rc);
		free(d);
	}
	bus_events_free(bt->events);
	free(bt);
	*bp = NULL;
}

/* ---- the thread ---- */

/* Is the open batch to be committed now? (mu held) *wait_ms: else how
 * long at most before it is. */
static int bus_due(struct bus *b, int64_t now, int64_t *wait_ms)
{
	*wait_ms = -1;
	if (!b->dirty && !b->nq)
		return 0;
	if (b->stop || b->nq >= (size_t)b->o.max_events)
		return 1;
	int64_t age = now - b->t0;
	if (age >= b->o.window_ms)
		return 1;
	int busy = b->last_end && now - b->last_end < b->o.window_ms;
	int64_t gather = busy && b->o.gather_ms > 0 ? b->o.gather_ms : 0;
	if (!b->active && age >= gather)
		return 1;
	*wait_ms = (b->active ? b->o.window_ms : gather) - age;
	return 0;
}

static void bus_wait_ms(struct bus *b, int64_t ms)
{
	if (ms < 0) {
		pthread_cond_wait(&b->cv, &b->mu);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000 + 100000; /* +0.1 ms: past it */
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&b->cv, &b->mu, &ts);
}

static void *bus_main(void *arg)
{
	struct bus *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		int64_t wait = -1;
		if (bus_due(b, bus_now(), &wait)) {
			b->committing = 1;
			pthread_mutex_unlock(&b->mu);
			pthread_mutex_lock(&b->wlock);
			bus_commit(b);
			pthread_mutex_lock(&b->mu);
			b->committing = 0;
			pthread_cond_broadcast(&b->cv_done);
			continue;
		}
		if (b->stop)
			break;
		bus_wait_ms(b, wait);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* ---- units ---- */

struct catalog *bus_begin(struct bus *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->committing)
		pthread_cond_wait(&b->cv_done, &b->mu);
	b->active++;
	pthread_mutex_unlock(&b->mu);
	pthread_mutex_lock(&b->wlock);
	b->unit_need = 0;
	return b->w;
}

void bus_after(struct bus *b, void (*fn)(void *arg, int committed),
	       void *arg)
{
	struct bus_after *a = sc_xcalloc(1, sizeof(*a));
	a->fn = fn;
	a->arg = arg;
	b->unit_need = 1; /* wlock held: the unit's */
	pthread_mutex_lock(&b->mu);
	a->next = b->pend.afters;
	b->pend.afters = a;
	pthread_mutex_unlock(&b->mu);
}

/* End the unit (wlock held): 1 if it left anything to commit; w or d (if
 * not NULL) joins the batch's waiters. Releases wlock. */
static int bus_end_unit(struct bus *b, struct bus_wait *w,
			struct bus_done *d)
{
	int need = catalog_group_open(b->w) || b->unit_need;
	pthread_mutex_lock(&b->mu);
	if (need) { /* a waiter or a hook needs a commit, even an empty one */
		b->dirty = 1;
		if (!b->t0)
			b->t0 = bus_now();
	}
	if (need && w) {
		w->next = b->pend.waits;
		b->pend.waits = w;
	}
	if (need && d) {
		d->next = b->pend.dones;
		b->pend.dones = d;
	}
	b->active--;
	int running = b->running;
	if (need || (!b->active && (b->dirty || b->nq)))
		pthread_cond_signal(&b->cv); /* maybe due now */
	pthread_mutex_unlock(&b->mu);
	if (need && !running) { /* stopped: commit it here */
		bus_commit(b);
		return need;
	}
	pthread_mutex_unlock(&b->wlock);
	return need;
}

sc_result bus_end(struct bus *b)
{
	struct bus_wait w = {0};
	if (!bus_end_unit(b, &w, NULL))
		return SC_OK;
	pthread_mutex_lock(&b->mu);
	while (!w.done)
		pthread_cond_wait(&b->cv_done, &b->mu);
	pthread_mutex_unlock(&b->mu);
	return w.rc;
}

void bus_end_nowait(struct bus *b) { (void)bus_end_unit(b, NULL, NULL); }

int bus_end_async(struct bus *b, void (*fn)(void *arg, sc_result rc),
		  void *arg)
{
	struct bus_done *d = sc_xcalloc(1, sizeof(*d));
	d->fn = fn;
	d->arg = arg;
	if (bus_end_unit(b, NULL, d))
		return 0;
	free(d);
	return 1;
}

void bus_hold(struct bus *b)
{
	pthread_mutex_lock(&b->wlock);
	pthread_mutex_lock(&b->mu);
	int any = b->dirty || b->nq || catalog_group_open(b->w);
	pthread_mutex_unlock(&b->mu);
	pthread_mutex_lock(&b->deliver_mu); /* the last commit's finish ran */
	if (any) {
		struct bus_take t;
		bus_take(b, &t);
		bus_finish(b, &t, bus_commit_locked(b, &t)); /* wlock kept */
	}
	pthread_mutex_unlock(&b->deliver_mu);
}

void bus_release(struct bus *b) { pthread_mutex_unlock(&b->wlock); }

void bus_flush(struct bus *b)
{
	bus_hold(b);
	bus_release(b);
}

int64_t bus_last_id(struct bus *b)
{
	pthread_mutex_lock(&b->mu);
	int64_t id = b->last_id;
	pthread_mutex_unlock(&b->mu);
	return id;
}

void bus_stats(struct bus *b, struct bus_stats *st)
{
	pthread_mutex_lock(&b->mu);
	*st = b->st;
	pthread_mutex_unlock(&b->mu);
}

/* ---- lifecycle ---- */

static void bus_opts_defaults(struct bus_opts *o)
{
	if (o->window_ms <= 0)
		o->window_ms = 5;
	if (!o->gather_ms)
		o->gather_ms = 2;
	if (o->max_events <= 0)
		o->max_events = 256;
	if (o->events_keep <= 0)
		o->events_keep = 10000;
}

static void bus_free(struct bus *b)
{
	pthread_mutex_destroy(&b->wlock);
	pthread_mutex_destroy(&b->deliver_mu);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	pthread_cond_destroy(&b->cv_done);
	free(b);
}

sc_result bus_create(struct catalog *w, const struct bus_opts *o,
		     struct bus **out)
{
	*out = NULL;
	int64_t newest = 0;
	if (catalog_events_bounds(w, NULL, &newest) ||
	    catalog_group_mode(w, 1))
		return SC_ERR_DB;
	struct bus *b = sc_xcalloc(1, sizeof(*b));
	b->w = w;
	b->o = *o;
	bus_opts_defaults(&b->o);
	b->next_id = newest + 1;
	b->last_id = newest;
	b->qtail = &b->q;
	pthread_mutex_init(&b->wlock, NULL);
	pthread_mutex_init(&b->deliver_mu, NULL);
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&b->cv_done, NULL);
	b->running = 1;
	if (pthread_create(&b->th, NULL, bus_main, b)) {
		(void)!catalog_group_mode(w, 0);
		bus_free(b);
		return SC_ERR_INTERNAL;
	}
	*out = b;
	return SC_OK;
}

void bus_stop(struct bus **bp)
{
	struct bus *b = bp ? *bp : NULL;
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stop = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->th, NULL);
	pthread_mutex_lock(&b->mu);
	b->running = 0;
	pthread_mutex_unlock(&b->mu);
	bus_flush(b); /* a unit that ended after the thread's last look */
	sc_log(SC_LOG_INFO, BUS_LOG, "%lld events in %lld batches (largest "
	       "%lld), %lld coalesced, %lld live only, %lld dropped with "
	       "%lld failed batches", (long long)b->st.events,
	       (long long)b->st.batches, (long long)b->st.largest,
	       (long long)b->st.coalesced, (long long)b->st.unstored,
	       (long long)b->st.dropped, (long long)b->st.failed);
	catalog_group_rollback(b->w); /* nothing is open: a no-op */
	(void)!catalog_group_mode(b->w, 0);
	bus_free(b);
	*bp = NULL;
}
