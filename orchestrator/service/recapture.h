/*
 * recapture.h — scheduled recapture: links with a schedule (their own or a
 * tag's, recur.h syntax) get a job when due; the due times live in the
 * catalog (links.next_capture_at), so they survive restarts.
 *
 *   loop timer (every RECAPTURE_TICK_MS, and recapture_poke) -> worker:
 *     adopt: links that follow a tag schedule and have no next run yet
 *            -> next run = recur_next(spec)
 *     due:   next_capture_at <= now, the most overdue first, at most
 *            RECAPTURE_BATCH a tick -> a job + job.queued ("scheduled":
 *            true), unless the link has a job queued or running (skipped,
 *            not stacked) or the queue is full (tried again next tick);
 *            next run = recur_next(spec) after now: runs missed while the
 *            server was down happen once, not once per missed period
 *   -> loop: app_kick if jobs were queued
 *
 * Load is spread by recur's per-link offsets and by the batch cap.
 */
#ifndef RECAPTURE_H
#define RECAPTURE_H

#include "sc.h"

struct app;
struct recapture;

#define RECAPTURE_TICK_MS 1000
#define RECAPTURE_BATCH 50

sc_result recapture_create(struct app *a, struct recapture **out)
	SC_MUST_CHECK;
/* Start ticking (loop thread). */
void recapture_start(struct recapture *r);
/* A schedule changed: tick now rather than within a second. Loop thread. */
void recapture_poke(struct recapture *r);
/* Stop ticking; done(ud) once no tick is in flight. Loop thread. */
void recapture_stop(struct recapture *r, void (*done)(void *), void *ud);
/* Free (after recapture_stop's done). NULL-safe; *r = NULL. */
void recapture_destroy(struct recapture **r);

#endif
