/*
 * io_run.h — imports and backups of a running server, in the background,
 * with their reports.
 *
 *   POST /api/import -> io_import_parse (the handler's worker) ->
 *     io_import_start -> loop_work(batch) -> batch: a unit on the writer
 *     (app_write_begin), one transaction of up to IO_BATCH links or
 *     IO_BATCH_MS of work (link_add, title, tags, job?) + job.queued
 *     events -> its commit (waited for) -> import.progress (at most every
 *     200 ms, and the last) -> app_kick -> (loop thread) next batch ...
 *     -> import.done
 *   POST /api/backup -> io_backup_start -> loop_work: io_backup_run with
 *     the writer held per catalog step (app_write_hold: no batch open) ->
 *     backup.progress ... -> backup.done | backup.failed
 *   GET /api/imports/{id}, /api/backups/{id} -> io_*_report
 *
 * DESIGN
 * An import is a chain of work items, one batch each: the writer is held
 * for one batch (IO_BATCH_MS; its commit is the bus's, shared with whatever
 * else wrote meanwhile), and between batches every other request and the
 * scheduler get their turn in the worker queue, so a
 * 20,000-link import never stalls the server. New links get a job only
 * with capture=1 and only while the queue is not full (app_queue_full):
 * the rest are added without one and counted as not_queued. Links already
 * in the catalog get the file's and the extra tags merged and keep their
 * title (a title from the file is set only on links without one) and no
 * new job.
 *
 * Reports live in memory: the last IO_KEEP imports and IO_KEEP backups
 * (a running one is never evicted), each import with its first
 * IO_SKIPS_MAX skipped records. They are gone after a restart.
 * Thread-safe: a mutex guards the registry and every report's counters.
 */
#ifndef IO_RUN_H
#define IO_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "io_import.h"
#include "sc.h"

struct app;

#define IO_BATCH 250       /* links per lock hold at most ... */
#define IO_BATCH_MS 50     /* ... and no longer than this (then commit) */
#define IO_KEEP 20         /* reports kept per kind */
#define IO_SKIPS_MAX 1000  /* skipped records listed per report */
#define IO_RUNNING_MAX 4   /* imports running at once */

struct io_import_opts {
	const char *const *tags; /* extra tags for every link (normalized
				    here; bad ones are SC_ERR_INVALID) */
	size_t ntags;
	int capture;             /* queue a capture of each new link */
};

/*
 * Start adding the links of *imp (taken over: *imp is set to NULL, freed
 * with the report). Sets *id. SC_ERR_BUSY when IO_RUNNING_MAX imports run
 * or the server is stopping; SC_ERR_INVALID for a bad extra tag (err says
 * which). Any thread.
 */
sc_result io_import_start(struct app *a, struct io_import **imp,
			  const struct io_import_opts *o, int64_t *id,
			  char *err, size_t errlen) SC_MUST_CHECK;

/* {id, state, format, capture, tags, total, done, added, existing,
 * skipped, queued, not_queued, started_at, finished_at, ms, error[,
 * skipped_lines: [{line, code, reason, text}], skipped_lines_truncated]}
 * (the list with full), or NULL if no such import is kept. Caller deletes. */
cJSON *io_import_report(int64_t id, int full);
/* {"items": [summaries, newest first]}. Caller deletes. */
cJSON *io_imports_list(void);

/*
 * Start a backup of the app's data directory into DATA/backups/<name>
 * (name NULL: the UTC time; else one path component of letters, digits,
 * '.', '_' and '-'). Sets *id. SC_ERR_BUSY while another backup runs,
 * SC_ERR_INVALID for a bad name. Any thread.
 */
sc_result io_backup_start(struct app *a, const char *name, int64_t *id,
			  char *err, size_t errlen) SC_MUST_CHECK;
/* {id, state, path, catalog_bytes, files, files_bytes, linked, copied,
 * missing, ms, error, started_at, finished_at}, or NULL. Caller deletes. */
cJSON *io_backup_report(int64_t id);

/* The server is stopping: running imports stop after their batch, a
 * running backup at its next step (state "stopped"). Any thread. */
void io_run_stop(void);

#endif
