/*
 * health.h — can `snapcat serve` write its data? The data directory (its
 * files) and the catalog (a full disk, I/O errors, a damaged file), for
 * /healthz, /metrics and the scheduler.
 *
 *   a write under DATA failed (sched.c, any thread) -> health_write_failed
 *     -> degraded, and a probe on a worker at once
 *   the catalog's fault hook (catalog_set_fault_hook, any thread)
 *     -> health_catalog_fault: IO = degraded until a write commits again;
 *        DAMAGED = degraded for good (the catalog refuses writes)
 *   loop timer: a probe every HEALTH_PROBE_MS, every HEALTH_PROBE_BAD_MS
 *     while a write is refused -> worker: write and remove a small file in
 *     DATA and in DATA/snapshots; while the catalog had an IO fault, also
 *     catalog_probe_write (through the caller's catalog_probe callback)
 *     -> loop: on_ok(ud) when everything can be written again
 *   health_check_catalog (after a start that sampled a large catalog): a
 *     thread runs catalog_verify_full -> damage: on_damaged(ud, why)
 *
 * DESIGN
 * The state lives under one mutex, so health_status is cheap and safe from
 * any thread (the loop answers /healthz without SQL or disk). Nothing here
 * blocks the loop: probes run on the worker pool, one at a time.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include <stddef.h>

#include "catalog.h"
#include "sc.h"

struct loop;
struct health;

#define HEALTH_PROBE_MS 30000    /* probe period while healthy */
#define HEALTH_PROBE_BAD_MS 1000 /* ... and while a write is refused */

struct health_opts {
	const char *data_dir;
	/* write to the catalog (catalog_probe_write under its lock): SC_OK if
	 * it takes writes; err says why not. On a worker. */
	sc_result (*catalog_probe)(void *ud, char *err, size_t errlen);
	/* everything can be written again (after a degraded spell); loop
	 * thread */
	void (*on_ok)(void *ud);
	/* health_check_catalog found the file damaged (why: SQLite's first
	 * finding): stop writing into it. On the checker's thread. */
	void (*on_damaged)(void *ud, const char *why);
	void *ud;
};

/* The monitor; probes start with health_start. */
sc_result health_create(struct loop *l, const struct health_opts *o,
			struct health **out) SC_MUST_CHECK;

/* Start the periodic probe. Loop thread. */
void health_start(struct health *h);

/* Check the whole catalog file at path (catalog_verify_full) on a thread
 * of its own, once; damage goes to on_damaged and makes /healthz degraded.
 * health_destroy stops and joins it. Loop thread. */
void health_check_catalog(struct health *h, const char *path);

/* A write under the data directory failed (what: "png: write ...: No space
 * left on device"): degraded until a probe succeeds. Any thread. */
void health_write_failed(struct health *h, const char *what);

/* The catalog's fault hook (catalog_fault_fn); ud is the health. Any
 * thread. */
void health_catalog_fault(void *ud, enum catalog_fault f, const char *why);

/* Job ends the catalog has not taken yet (sched.c): part of the reason
 * while non-zero. Any thread. */
void health_ends_waiting(struct health *h, int n);

/* 0 if the data can be written (reason ""), 1 if degraded (reason says why:
 * "data directory not writable: ...; catalog ..."). Any thread. */
int health_status(struct health *h, char *reason, size_t len);

/* Stop the probes and free (a probe in flight finishes first: call before
 * the loop's workers are gone, after loop_settle). NULL-safe; *h = NULL. */
void health_destroy(struct health **h);

#endif
