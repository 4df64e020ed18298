/*
 * metrics.h — counters, gauges and histograms, and their Prometheus text
 * exposition (format 0.0.4), for GET /metrics.
 *
 *   sched.c (capture finished) -> metrics_capture_finished -> the global
 *   registry (histogram per stage, counters); server.c (response sent) ->
 *   metrics_http_response.
 *   GET /metrics (http/scrape.c): loop: metrics_scrape_begin (scheduler and
 *   browser figures) -> worker: metrics_scrape_collect (catalog counts
 *   on a reader, /proc) into a scratch registry -> metrics_expose of
 *   the scratch registry, then of the global one.
 *
 * DESIGN
 * A registry (metrics.c) is a list of families; a family has a type, a name,
 * a help text, at most one label, and one series per label value (created
 * on first use, at most METRICS_SERIES_MAX). A histogram has fixed upper
 * bounds given at registration. One mutex per registry guards all of it:
 * every operation is a few comparisons and additions, so any thread may
 * record, and exposition copies nothing. Values are doubles (exact for
 * integer counts up to 2^53).
 *
 * Figures that exist elsewhere (catalog rows, the pool's counters, /proc)
 * are not mirrored: metrics_app.c reads them at scrape time into a scratch
 * registry. Only what happens once and is gone (a capture's stage timings,
 * HTTP status classes) is recorded as it happens, in the global registry.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

#include "sc.h"

struct metrics;
struct metrics_family;

#define METRICS_SERIES_MAX 256 /* label values per family; more are dropped */
#define METRICS_BUCKETS_MAX 32

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/* ---- the registry (metrics.c) ---- */

/* A new, empty registry. Free with metrics_destroy. */
struct metrics *metrics_create(void);
/* Free the registry and its families. NULL-safe; *m = NULL. */
void metrics_destroy(struct metrics **m);

/*
 * Register a family (name, help and label are copied). label: the label's
 * name, or NULL for an unlabelled family (which then has its one series,
 * at 0, at once). buckets: a histogram's upper bounds, strictly increasing,
 * at most METRICS_BUCKETS_MAX, without +Inf (added). Registering a name
 * again returns the existing family if the type matches. Returns NULL for
 * an invalid name or label, bad buckets, or a clash of types: a bug of
 * the caller (it is logged); every function below accepts a NULL family
 * and then does nothing.
 */
struct metrics_family *metrics_family(struct metrics *m, enum metrics_type t,
				      const char *name, const char *help,
				      const char *label, const double *buckets,
				      int nbuckets);

/* Counter or gauge: add v (a counter ignores v < 0). lv: the label's value
 * (NULL for an unlabelled family). */
void metrics_add(struct metrics_family *f, const char *lv, double v);
/* Counter or gauge: set to v (a counter read from a total kept elsewhere). */
void metrics_set(struct metrics_family *f, const char *lv, double v);
/* Histogram: one observation of v. */
void metrics_observe(struct metrics_family *f, const char *lv, double v);
/* Create the series of lv at 0 if missing, so it is exposed before its
 * first event. */
void metrics_touch(struct metrics_family *f, const char *lv);
/* The value of a counter or gauge series, or a histogram's count; 0 if
 * there is no such series. For tests. */
double metrics_value(struct metrics_family *f, const char *lv);

/*
 * Append the text exposition (format 0.0.4) of every family, in
 * registration order, to out: # HELP, # TYPE, then the samples (a
 * histogram's _bucket series cumulative with le="+Inf", then _sum and
 * _count). SC_ERR_TOO_LARGE / SC_ERR_NOMEM from out (then out holds a
 * part).
 */
sc_result metrics_expose(struct metrics *m, struct sc_buf *out) SC_MUST_CHECK;

/* ---- snapcat's own figures (metrics_app.c) ---- */

struct app;
struct capture_result;
struct catalog_snapshot;
struct metrics_scrape;

/* The process's registry of things recorded as they happen. Created on
 * first use, lives until exit. Any thread. */
struct metrics *metrics_global(void);

/*
 * A capture job finished: r its result (timings in r->t, t.write set),
 * sn the snapshot as recorded, version_ms the hash/dedupe/diff time,
 * pruned: the link's retention dropped snapshots. Counts the outcome,
 * observes every stage's duration when a PNG was stored, and adds the
 * stored bytes. Called by sched.c once the end is committed (its unit's
 * after-commit hook), so the stored-bytes figure moves in step with the
 * catalog. Any thread.
 */
void metrics_capture_finished(const struct capture_result *r,
			      const struct catalog_snapshot *sn,
			      int64_t version_ms, int pruned);

/* An HTTP response with this status was sent (by class: 2xx ...). Any
 * thread. */
void metrics_http_response(int status);

/*
 * GET /metrics, first half, on the loop thread: copy what only the loop may
 * read (scheduler counters, local browser pids). Never NULL; hand it to
 * metrics_scrape_collect.
 */
struct metrics_scrape *metrics_scrape_begin(struct app *a);

/*
 * Second half, on a worker: catalog counts (jobs per state, queue,
 * stored snapshots and bytes, on a reader), the browser pool,
 * Chromium processes and this process (/proc), as families of out (a
 * scratch registry). Frees *sc and sets it to NULL. Returns SC_OK, or the
 * catalog's error (the other families are still there).
 */
sc_result metrics_scrape_collect(struct metrics_scrape **sc,
				 struct metrics *out);

#endif
