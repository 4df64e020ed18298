/*
 * app_int.h — what app.c and sched.c share (private to the orchestrator).
 */
#ifndef APP_INT_H
#define APP_INT_H

#include <pthread.h>

#include "app.h"

struct browser;
struct health;
struct sched;

#define APP_SINKS_MAX 8

struct bus;

/* The catalog's read connections (app.c): one per worker of the loop's
 * pool, opened by that worker on its first read and used by it alone;
 * one more, under a lock, for any other thread. */
struct app_readers {
	struct catalog **per;  /* workers_count of them; slot i: worker i's */
	int n;
	pthread_mutex_t shared_mu; /* shared, and its use */
	struct catalog *shared;
	pthread_mutex_t damage_mu; /* damage */
	char damage[256];      /* a reader found the file damaged: the writer
				  refuses writes from its next unit on */
	int damage_new;
};

struct app {
	struct loop *loop;
	struct catalog *db;    /* the writer: reached through the bus only */
	struct bus *bus;       /* units, events, group commit (bus.h) */
	struct app_readers rd;
	char *data_dir;
	int allow_private;
	struct egress *egress; /* the SSRF guard's proxy; NULL if allowed */
	int prewarm; /* keep a spare page per browser (capture_warm.c) */
	double change_threshold; /* snapshot.changed from this share */
	sc_result (*mhtml_index)(const char *, const char *, size_t, uint64_t,
				 char *, size_t); /* app_opts.mhtml_index */
	int64_t events_keep, max_queue;
	struct browser *browsers[APP_BROWSERS_MAX];
	int nbrowsers;
	struct pool *pool; /* endpoint choice and health (pool.c) */
	struct health *health; /* can the data be written? (health.c) */
	int check_catalog;  /* the start sampled a large catalog: the full
			       check runs after the start (health.c) */
	struct sched *sched;
	struct recapture *recap; /* scheduled recapture (recapture.c) */
	struct { /* app_drain: the scheduler drains once recapture stopped */
		int grace_ms;
		void (*done)(void *);
		void *ud;
	} drain;
	struct {
		app_event_sink fn;
		void *ud;
	} sinks[APP_SINKS_MAX];
	int nsinks;
	int64_t n_events; /* loop thread */
};

/* app_db.c: the readers' and the bus's state (init: before anything; start:
 * the writer is open, the bus runs; stop: loop thread, after every
 * producer of units stopped: the last batch is committed and handed to
 * the sinks, the readers are closed). */
void app_db_init(struct app *a);
sc_result app_db_start(struct app *a) SC_MUST_CHECK;
void app_db_stop(struct app *a);

/* sched.c */
sc_result sched_create(struct app *a, int concurrency,
		       const struct capture_opts *defaults,
		       struct sched **out);
void sched_start(struct sched *s);
void sched_kick(struct sched *s);           /* loop thread */
void sched_abort(struct sched *s, int64_t job_id); /* loop thread */
void sched_drain(struct sched *s, int grace_ms, void (*done)(void *),
		 void *ud);
void sched_stats(struct sched *s, struct app_stats *st);
/* The data can be written again: job ends waiting for the catalog are
 * retried now. Loop thread. */
void sched_storage_ok(struct sched *s);
void sched_destroy(struct sched **s);

#endif
