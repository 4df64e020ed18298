/*
 * queue.h — the one way a capture gets queued, whoever asks for it:
 *
 *   POST /api/links, POST /api/snapshots, the WebSocket "capture"
 *     -> queue_link: the link (added or found), its tags and a job, in one
 *        transaction -> job.queued
 *   scheduled recapture, POST /api/links/{id}/snapshots -> queue_job
 *     -> job.queued [{scheduled: true}]
 *   import (its own batch transaction) -> catalog_job_enqueue per link,
 *     then queue_announce for each after the commit
 *   retry (one job, or all failed) -> queue_retry -> job.queued
 *   then the caller, after its unit ended: app_kick -> the scheduler
 *
 * Every function here runs inside a unit on the writer (app_write_begin),
 * on a worker; job.queued commits with the job. The job.queued event always has the same fields: the URL (when
 * known), progress 0, and scheduled: true for a scheduled run.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct app;
struct catalog;

/* Announce a job just queued: job.queued {url, progress: 0[, scheduled]}.
 * url may be NULL (not known to the caller). */
void queue_announce(struct app *a, struct catalog *c, int64_t job,
		    int64_t link, const char *url, int scheduled);

/*
 * Add the link url (or find it: *created says which), attach tags and
 * queue a job with options opts (JSON text or NULL), in one transaction;
 * then announce the job. SC_ERR_BUSY if the queue is full (nothing
 * written); a catalog error otherwise (rolled back).
 */
sc_result queue_link(struct app *a, struct catalog *c, const char *url,
		     const char *const *tags, size_t ntags, const char *opts,
		     int64_t *link, int *created, int64_t *job) SC_MUST_CHECK;

/* Queue a job for link with options opts (JSON text or NULL; url for the
 * event) and announce it; scheduled marks a scheduled run. The caller has checked the queue's room (it may
 * queue many at once: app_queue_full counts). A catalog error otherwise. */
sc_result queue_job(struct app *a, struct catalog *c, int64_t link,
		    const char *url, const char *opts, int scheduled,
		    int64_t *job) SC_MUST_CHECK;

/* Queue a failed or canceled job again and announce it. SC_ERR_INVALID if
 * it is neither (catalog_job_retry). */
sc_result queue_retry(struct app *a, struct catalog *c, int64_t job,
		      int64_t link) SC_MUST_CHECK;

#endif
