/*
 * app_db.c — the catalog as the service uses it (see app.h): units on the
 * one writer through the event bus (bus.h), a read connection per worker,
 * and the events' way from a commit to the sinks.
 *
 *   app_write_begin -> bus_begin -> writes, app_event -> bus_event ->
 *     app_write_end* -> bus_end* ... bus commit -> app_deliver (committing
 *     thread) -> loop_post -> app_batch_loop: sinks, then bus_batch_finish
 *     (app_write_end_async callbacks)
 *   app_read_begin -> workers_index -> this worker's reader (opened on
 *     first use) | the shared reader (other threads) | the writer
 *
 * DESIGN
 * A worker's reader is used by that worker only (slot workers_index), so
 * it needs no lock; the slots are filled by their workers and emptied by
 * app_db_stop once no worker runs app work. Readers are read-only SQLite
 * connections on the same file (catalog_open_reader); their fault hook
 * passes faults to health.c, and a damaged file to the writer through
 * rd.damage (set by any reader, applied at the writer's next unit: a
 * reader never takes the writer's lock, which its thread may hold).
 */
#include "app_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "health.h"
#include "loop.h"

#define APP_DB_LOG "app"

/* ---- events: commit -> loop -> sinks ---- */

struct app_posted {
	struct app *a;
	struct bus_batch *bt;
};

/* Loop thread: every event of the batch to every sink, in id order; then
 * the callers waiting on the loop. */
static void app_events_loop(void *arg)
{
	struct app_posted *p = arg;
	struct app *a = p->a;
	for (const struct bus_event *e = p->bt->events; e; e = e->next) {
		struct app_event ev = {.id = e->id, .job_id = e->job_id,
				       .link_id = e->link_id, .t = e->t,
				       .type = evtype_name(e->t),
				       .json = e->json};
		a->n_events++;
		for (int i = 0; i < a->nsinks; i++)
			a->sinks[i].fn(a->sinks[i].ud, &ev);
	}
	bus_batch_finish(&p->bt);
	free(p);
}

/* The bus's deliver (the committing thread): on to the loop. */
static void app_deliver(void *ud, struct bus_batch *bt)
{
	struct app *a = ud;
	struct app_posted *p = sc_xmalloc(sizeof(*p));
	p->a = a;
	p->bt = bt;
	loop_post(a->loop, app_events_loop, p);
}

void app_event(struct app *a, struct catalog *c, enum evtype t,
	       int64_t job_id, int64_t link_id, cJSON *fields)
{
	char *fj = fields ? cJSON_PrintUnformatted(fields) : NULL;
	cJSON_Delete(fields);
	bus_event(a->bus, c != NULL, t, job_id, link_id, sc_wall_ms(), fj);
}

int64_t app_event_last(struct app *a) { return bus_last_id(a->bus); }

char *app_event_json(int64_t id, const char *type, int64_t ts_ms,
		     int64_t job_id, int64_t link_id, const char *fields_json)
{
	return bus_event_json(id, type, ts_ms, job_id, link_id, fields_json);
}

void app_add_sink(struct app *a, app_event_sink fn, void *ud)
{
	if (a->nsinks < APP_SINKS_MAX) {
		a->sinks[a->nsinks].fn = fn;
		a->sinks[a->nsinks].ud = ud;
		a->nsinks++;
	}
}

/* ---- units on the writer ---- */

/* A damage a reader found reaches the writer (inside a unit). */
static void app_damage_to_writer(struct app *a, struct catalog *w)
{
	char why[sizeof(a->rd.damage)];
	pthread_mutex_lock(&a->rd.damage_mu);
	int now = a->rd.damage_new;
	a->rd.damage_new = 0;
	memcpy(why, a->rd.damage, sizeof(why));
	pthread_mutex_unlock(&a->rd.damage_mu);
	if (now)
		catalog_set_damaged(w, why);
}

struct catalog *app_write_begin(struct app *a)
{
	struct catalog *w = bus_begin(a->bus);
	app_damage_to_writer(a, w);
	return w;
}

sc_result app_write_end(struct app *a) { return bus_end(a->bus); }

void app_write_done(struct app *a) { bus_end_nowait(a->bus); }

int app_write_end_async(struct app *a, void (*fn)(void *arg, sc_result rc),
			void *arg)
{
	return bus_end_async(a->bus, fn, arg);
}

void app_write_after(struct app *a, void (*fn)(void *arg, int committed),
		     void *arg)
{
	bus_after(a->bus, fn, arg);
}

struct catalog *app_write_hold(struct app *a, int on)
{
	if (!on) {
		bus_release(a->bus);
		return NULL;
	}
	bus_hold(a->bus);
	return a->db;
}

void app_flush(struct app *a) { bus_flush(a->bus); }

/* ---- readers ---- */

/* A reader's fault hook (its thread): /healthz hears it; a damaged file
 * stops the writer's writes from its next unit on. */
static void app_reader_fault(void *ud, enum catalog_fault f, const char *why)
{
	struct app *a = ud;
	health_catalog_fault(a->health, f, why);
	if (f != CATALOG_FAULT_DAMAGED)
		return;
	pthread_mutex_lock(&a->rd.damage_mu);
	if (!a->rd.damage[0]) {
		snprintf(a->rd.damage, sizeof(a->rd.damage), "%s", why);
		a->rd.damage_new = 1;
	}
	pthread_mutex_unlock(&a->rd.damage_mu);
}

static struct catalog *app_reader_open(struct app *a)
{
	char path[4096], err[512];
	struct catalog *r = NULL;
	snprintf(path, sizeof(path), "%s/catalog.db", a->data_dir);
	if (catalog_open_reader(path, &r, err, sizeof(err))) {
		sc_log(SC_LOG_WARN, APP_DB_LOG, "no read connection (reads go "
		       "to the writer): %s", err);
		return NULL;
	}
	catalog_set_fault_hook(r, app_reader_fault, a);
	return r;
}

struct catalog *app_read_begin(struct app *a)
{
	int i = workers_index(loop_workers(a->loop));
	if (i >= 0 && i < a->rd.n) {
		if (!a->rd.per[i])
			a->rd.per[i] = app_reader_open(a);
		if (a->rd.per[i])
			return a->rd.per[i];
	} else {
		pthread_mutex_lock(&a->rd.shared_mu);
		if (!a->rd.shared)
			a->rd.shared = app_reader_open(a);
		if (a->rd.shared)
			return a->rd.shared; /* unlocked by app_read_end */
		pthread_mutex_unlock(&a->rd.shared_mu);
	}
	return app_write_begin(a);
}

void app_read_end(struct app *a, struct catalog *c)
{
	if (!c)
		return;
	catalog_read_end(c); /* a read transaction left open */
	if (c == a->db)
		app_write_done(a);
	else if (c == a->rd.shared)
		pthread_mutex_unlock(&a->rd.shared_mu);
}

struct catalog *app_read_pinned(struct app *a, void (*at_pin)(void *ud),
				void *ud)
{
	struct catalog *c = app_read_begin(a);
	int64_t v;
	if (c == a->db) { /* a unit already: nothing commits meanwhile */
		at_pin(ud);
		return c;
	}
	bus_hold(a->bus); /* nothing open, every hook so far has run */
	at_pin(ud);
	if (catalog_read_begin(c) == SC_OK)
		(void)!catalog_events_bounds(c, NULL, &v); /* its first read */
	bus_release(a->bus);
	return c;
}

/* ---- lifecycle ---- */

void app_db_init(struct app *a)
{
	pthread_mutex_init(&a->rd.shared_mu, NULL);
	pthread_mutex_init(&a->rd.damage_mu, NULL);
	a->rd.n = workers_count(loop_workers(a->loop));
	a->rd.per = sc_xcalloc((size_t)a->rd.n + 1, sizeof(*a->rd.per));
}

sc_result app_db_start(struct app *a)
{
	struct bus_opts o = {.events_keep = a->events_keep,
			     .deliver = app_deliver, .ud = a};
	return bus_create(a->db, &o, &a->bus);
}

void app_db_stop(struct app *a)
{
	if (a->bus) {
		bus_stop(&a->bus);
		loop_run_posts(a->loop); /* its batches reach the sinks now */
	}
	for (int i = 0; a->rd.per && i < a->rd.n; i++)
		catalog_close(&a->rd.per[i]);
	free(a->rd.per);
	a->rd.per = NULL;
	catalog_close(&a->rd.shared);
	pthread_mutex_destroy(&a->rd.shared_mu);
	pthread_mutex_destroy(&a->rd.damage_mu);
}
