/*
 * catalog.h — the catalog: links, tags, snapshots, the persisted job queue
 * and the bounded event log, in one SQLite file (data/catalog.db).
 *
 *   POST /api/links -> url_normalize -> catalog_link_add
 *        -> catalog_link_set_tags -> catalog_job_enqueue
 *        -> catalog_event_append("job.queued")
 *   scheduler: catalog_job_claim -> catalog_snapshot_create -> capture (cdp_*)
 *        -> catalog_job_progress ... -> output_write (files)
 *        -> catalog_snapshot_finish + catalog_job_done | catalog_job_requeue
 *   start-up:  catalog_open (migrations) -> catalog_jobs_recover
 *   GET /api/...: catalog_links_list, catalog_*_get, catalog_events_list
 *
 * DESIGN
 * One struct catalog is one sqlite3 connection plus its cache of prepared
 * statements. It is NOT thread-safe: give each thread its own catalog (open
 * the same file again). The writer (catalog_open) applies the migrations
 * and takes every call; readers (catalog_open_reader) take the read calls
 * only. WAL mode lets any number of readers run alongside one writer;
 * writers wait for each other up to the busy timeout (CATALOG_BUSY_MS),
 * after which a call fails with SC_ERR_BUSY. The layer's files:
 * catalog_db.c (connections, statements, transactions, faults),
 * catalog_schema.c (every migration), then one file per entity.
 *
 * Every write runs in a transaction (BEGIN IMMEDIATE, so that two writers
 * never deadlock upgrading read locks), and a multi-statement operation either
 * happens completely or not at all. A caller that needs several calls to be
 * atomic (add a link + set its tags + enqueue a job) wraps them in
 * catalog_tx_begin/commit: the calls then nest as savepoints.
 *
 * Every call blocks on the disk (a durable commit waits for an fsync):
 * the event loop must not call anything but cheap reads itself; writes and
 * searches go to a worker (workers.h), each worker with its own catalog.
 *
 * Durability ("never lose a job"). The file runs in WAL mode. With
 * synchronous=NORMAL a commit survives a crash of the process (the WAL is
 * written before COMMIT returns) but the last commits can be lost on power
 * loss or an OS crash; with FULL the WAL is fsynced at each commit. The
 * catalog uses FULL for every write that somebody was promised (a link
 * added, a job enqueued, finished, canceled or retried, a snapshot finished,
 * tags, deletes, catalog_tx_*) and NORMAL for the frequent machine writes
 * whose loss is harmless: job progress, claims (a claim lost on power loss
 * leaves the job queued, exactly as if the crash came before it) and events
 * (a bounded resume log). A FULL commit also makes every earlier NORMAL
 * commit durable. The database is never corrupted by either.
 *
 * Job states and who moves them:
 *   queued --claim--> running --done--> done
 *                       |  \--fail--> failed --retry--> queued
 *                       |   \--requeue(backoff)--> queued (or failed when
 *                       |   |                      attempts are used up)
 *                       |    \--release (graceful stop)--> queued, the
 *                       |                          attempt given back
 *   queued|running --cancel--> canceled --retry--> queued
 *   running --recover (start-up, after a crash)--> queued
 * A done job is never claimed again.
 *
 * Faults. A full disk or an I/O error fails the call (SC_ERR_DB) and
 * changes nothing; the fault hook (catalog_set_fault_hook) hears it, and
 * hears again when a write commits. A damaged file (SQLITE_CORRUPT or
 * SQLITE_NOTADB from any statement, or catalog_set_damaged) makes the
 * connection refuse every write from then on; reads go on. The start-up
 * and background checks of the file are in catalog_verify.h.
 *
 * Timestamps are integer milliseconds since the epoch (sc_wall_ms, or the
 * clock set with catalog_set_clock). Ids are > 0; 0 means "none".
 * Strings passed in are borrowed (copied by SQLite); strings and structs
 * returned are owned by the caller and freed with the matching *_free.
 * Detailed error text for the last failed call: catalog_errmsg(). Database
 * errors (SC_ERR_DB) are also logged with sc_log.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct catalog;

/* Schema version this code writes; opening a newer file fails. */
#define CATALOG_SCHEMA_VERSION 7
/* How long a call waits for another connection's write lock. */
#define CATALOG_BUSY_MS 5000
/* Longest URL stored (matches url.h URL_MAX_LEN). */
#define CATALOG_URL_MAX 8192
/* A tag is 1..64 characters (code points) once trimmed. */
#define CATALOG_TAG_MAX 64
/* Room for any normalized tag, NUL included (64 x 4-byte UTF-8 + 1). */
#define CATALOG_TAG_BUF (CATALOG_TAG_MAX * 4 + 1)
/* Defensive caps applied when binding (callers cap first; longer values
 * are cut at a UTF-8 character boundary, never rejected). */
#define CATALOG_TITLE_MAX 4096      /* bytes of a title */
#define CATALOG_MESSAGE_MAX 4096    /* bytes of an error message */
#define CATALOG_TEXT_MAX (1 << 20)  /* bytes of captured page text */
#define CATALOG_JSON_MAX 65536      /* bytes of snapshot timings JSON */
/* Most tags on one link, and in one list filter. */
#define CATALOG_TAGS_MAX 100
/* Search text: longest q in bytes, and most words in it. */
#define CATALOG_QUERY_MAX 1024
#define CATALOG_QUERY_TERMS 32
/* List calls: default and largest page size. */
#define CATALOG_LIST_DEFAULT 50
#define CATALOG_LIST_MAX 1000
/* Room for any cursor string, NUL included. */
#define CATALOG_CURSOR_SIZE 48
/* Default attempts of a job (first run + retries after failures). */
#define CATALOG_JOB_MAX_ATTEMPTS 3

/* ---- connection ---- */

/*
 * Open (creating if needed) the catalog at path, set WAL, foreign keys and
 * the busy timeout, and apply every pending migration, each in its own
 * transaction. On success *out is the new connection (close it with
 * catalog_close). On error *out is NULL, err holds one sentence (if errlen
 * > 0) and the result is SC_ERR_DB (cannot open, not a snapcat catalog,
 * migration failed: the file is left at the last good version) or
 * SC_ERR_INVALID (the file's schema version is newer than
 * CATALOG_SCHEMA_VERSION: written by a newer snapcat, left untouched).
 */
sc_result catalog_open(const char *path, struct catalog **out, char *err,
		       size_t errlen) SC_MUST_CHECK;

/*
 * Open the catalog at path as a read-only connection (a reader): the file
 * must exist and already be at CATALOG_SCHEMA_VERSION (a writer opened it
 * with catalog_open: readers never migrate). Every read call works as on
 * the writer, on the reader's own statement cache; a write call fails with
 * SC_ERR_INVALID and changes nothing (PRAGMA query_only; the fault hook does
 * not hear it). Under WAL a reader never waits for the writer; each read
 * sees the last commit made before it began, and a catalog_read_begin span
 * the one made before its first read. A reader has its own clock, fault
 * hook and damaged flag (a damage it finds is the caller's to pass on to
 * the writer: catalog_set_damaged). Any thread may open one; it is then
 * used by one thread at a time, like the writer. Close it with
 * catalog_close. Errors as catalog_open; SC_ERR_INVALID also for a file at
 * an older version.
 */
sc_result catalog_open_reader(const char *path, struct catalog **out,
			      char *err, size_t errlen) SC_MUST_CHECK;

/* Finalize the statements and close the connection. NULL-safe; *c = NULL.
 * An open catalog_tx is rolled back. */
void catalog_close(struct catalog **c);

/* Text of the last error on this connection ("" if there was none yet);
 * valid until the next call on c. Not cleared by successful calls. */
const char *catalog_errmsg(const struct catalog *c);

/* The schema version of the open file (CATALOG_SCHEMA_VERSION after
 * open); -1 if it cannot be read. */
int catalog_schema_version(struct catalog *c);

/*
 * Replace the clock used for every timestamp the catalog writes or
 * compares (created_at, run_after, ...). now_ms(ud) must return ms since
 * the epoch; NULL restores sc_wall_ms. For tests.
 */
void catalog_set_clock(struct catalog *c, int64_t (*now_ms)(void *ud),
		       void *ud);

/* ---- faults: a full disk, I/O errors, a damaged file ---- */

enum catalog_fault {
	CATALOG_FAULT_NONE = 0, /* a write was committed again after a fault */
	CATALOG_FAULT_IO,       /* the file could not be written or read: disk
				   full, I/O error, read-only (SQLITE_FULL,
				   SQLITE_IOERR*, SQLITE_READONLY*) */
	CATALOG_FAULT_DAMAGED,  /* SQLITE_CORRUPT or SQLITE_NOTADB from any
				   statement: the file is damaged */
};

/*
 * fn(ud, fault, why) is called on the thread that uses c, with c's lock held
 * (keep it short; never call back into c): at each statement that fails
 * with an IO or DAMAGED fault, and with CATALOG_FAULT_NONE once a write
 * transaction that changed rows commits after an IO fault. why: the SQLite
 * message (valid during the call). After a DAMAGED fault c refuses every
 * write (catalog_damaged). NULL fn: no hook.
 */
typedef void (*catalog_fault_fn)(void *ud, enum catalog_fault fault,
				 const char *why);
void catalog_set_fault_hook(struct catalog *c, catalog_fault_fn fn, void *ud);

/* The file is damaged: every write from now on fails with SC_ERR_DB and a
 * message that names the way back (snapcat restore). Reads go on. why is
 * kept for that message; the hook is called with CATALOG_FAULT_DAMAGED
 * (e.g. a background check on another connection found the damage). */
void catalog_set_damaged(struct catalog *c, const char *why);

/* 1 if c refuses writes because the file is damaged. */
int catalog_damaged(const struct catalog *c);

/*
 * Does the file take writes now? Rewrites one page (the header's
 * user_version, unchanged) in a transaction of its own: SC_OK and, after an
 * IO fault, the hook's CATALOG_FAULT_NONE; else the error (a full disk:
 * SC_ERR_DB). For health probes; on a worker.
 */
sc_result catalog_probe_write(struct catalog *c) SC_MUST_CHECK;

/*
 * Group several catalog calls into one durable transaction. Calls made
 * in between become savepoints: a failing call undoes only its own part and
 * returns its error; the caller then usually calls catalog_tx_rollback.
 * begin: SC_ERR_BUSY if the write lock cannot be had, SC_ERR_INVALID if a
 * transaction is already open. commit: SC_ERR_INVALID without begin; on
 * any other error everything is rolled back. rollback: NULL-safe, no-op
 * without begin.
 */
sc_result catalog_tx_begin(struct catalog *c) SC_MUST_CHECK;
sc_result catalog_tx_commit(struct catalog *c) SC_MUST_CHECK;
void catalog_tx_rollback(struct catalog *c);

/*
 * Group commit (the event bus: orchestrator/service/bus.c). From
 * catalog_group_mode(c, 1) on, the writer's first write call opens a
 * transaction that stays open when the call returns: the calls after it,
 * catalog_tx_begin/commit included, nest in it as savepoints (a failing
 * call still undoes only its own part), and nothing is durable or visible
 * to readers until catalog_group_commit commits them all at once, with
 * synchronous FULL (one fsync for the whole group). The caller serialises
 * the calls (one thread at a time, as always) and decides when to commit.
 * If SQLite rolls the group back by itself (SQLITE_FULL, IOERR, BUSY or
 * NOMEM inside a statement), later calls of the group fail with SC_ERR_DB
 * and so does its commit: nothing of the group was stored.
 *
 * mode: SC_ERR_INVALID on a reader or with a transaction open; on = 0
 * goes back to a transaction per call (synchronous NORMAL).
 * open: 1 if a group is open (some write call ran since the last commit).
 * commit: SC_OK if none is open; SC_ERR_INVALID if a call's savepoint is
 * still open; otherwise the COMMIT's result: on error the whole group is
 * rolled back (catalog_errmsg says why). The fault hook hears
 * CATALOG_FAULT_NONE when a group commits after an IO fault.
 * rollback: drop the open group (NULL-safe, no-op without one).
 */
sc_result catalog_group_mode(struct catalog *c, int on) SC_MUST_CHECK;
int catalog_group_open(const struct catalog *c);
sc_result catalog_group_commit(struct catalog *c) SC_MUST_CHECK;
void catalog_group_rollback(struct catalog *c);

/*
 * Group several reads into one read transaction: they see one state of the
 * file and take its lock once instead of once per call (a page of links
 * and each link's snapshot and job is a hundred calls). Only reads may
 * run in between: a write call fails with SC_ERR_INVALID. begin:
 * SC_ERR_INVALID if any transaction is open. end: NULL-safe, no-op without
 * begin; catalog_close ends it too.
 */
sc_result catalog_read_begin(struct catalog *c) SC_MUST_CHECK;
void catalog_read_end(struct catalog *c);

/*
 * Run SQLite's integrity checks (PRAGMA integrity_check, foreign key check,
 * FTS index check). SC_OK if all pass, SC_ERR_DB with the first problem in
 * catalog_errmsg() otherwise. Reads the whole file: call on a worker. A
 * writer's call (the FTS check is a write statement): SC_ERR_INVALID on a
 * reader.
 */
sc_result catalog_check(struct catalog *c) SC_MUST_CHECK;

/* ---- string lists ---- */

struct catalog_strv {
	char **v;
	size_t n;
};
/* Free every string and the list. NULL-safe; *sv = NULL. */
void catalog_strv_free(struct catalog_strv **sv);

/* ---- jobs: states ---- */

enum catalog_job_state {
	CATALOG_JOB_ANY = -1, /* list/count filter only */
	CATALOG_JOB_QUEUED = 0,
	CATALOG_JOB_RUNNING,
	CATALOG_JOB_DONE,
	CATALOG_JOB_FAILED,
	CATALOG_JOB_CANCELED,
};
/* "queued", "running", ...; "any" for CATALOG_JOB_ANY. Static. */
const char *catalog_job_state_name(enum catalog_job_state s);
/* Parse a state name (exact, lowercase). SC_ERR_INVALID if unknown. */
sc_result catalog_job_state_parse(const char *s, enum catalog_job_state *out)
	SC_MUST_CHECK;

/* ---- links ---- */

struct catalog_link {
	int64_t id;
	char *url;              /* normalized */
	char *title;            /* NULL until known */
	int title_locked;       /* 1 once set by catalog_link_set_title: page
				   titles no longer replace it */
	int64_t created_at, updated_at;
	int64_t last_snapshot_id; /* newest ok/partial snapshot, 0 = none */
	int64_t last_job_id;    /* newest job, 0 = none */
	enum catalog_job_state last_job_state; /* valid if last_job_id */
	char **tags;            /* sorted, normalized names */
	size_t ntags;
	char *options;          /* capture options of its jobs (JSON object
				   text over the server's defaults), NULL */
	char *schedule;         /* its own recapture schedule, NULL = none */
	char *schedule_effective; /* its own, else its first tag's by name */
	int64_t next_capture_at;  /* ms; 0 = not scheduled */
	int keep_last;          /* its own retention: newest N, 0 = all */
	int keep_changed;       /* 1: unchanged versions are dropped */
	int64_t bookmarked_at;  /* ms: when it was bookmarked (an imported
				   file's date), 0 = unknown */
};
/* Free a link from catalog_link_get. NULL-safe; *l = NULL. */
void catalog_link_free(struct catalog_link **l);

/*
 * Add the link with this URL, or find it. url must already be normalized
 * (url_normalize): the catalog dedupes on the exact string. Sets *id and
 * *created (1 if the row is new, 0 if the URL was known; created may be
 * NULL). A new link's created_at is now, or the newest link's created_at if
 * the clock is behind it: links are dated in the order they are added
 * (the lists rely on it). SC_ERR_INVALID for an empty URL,
 * SC_ERR_TOO_LARGE over CATALOG_URL_MAX bytes.
 */
sc_result catalog_link_add(struct catalog *c, const char *url, int64_t *id,
			   int *created) SC_MUST_CHECK;

/* Fetch a link with its tags into *out (free with catalog_link_free).
 * SC_ERR_NOT_FOUND if there is no such link (*out = NULL). */
sc_result catalog_link_get(struct catalog *c, int64_t id,
			   struct catalog_link **out) SC_MUST_CHECK;

/*
 * Set the title of a link by hand (PATCH). The title is then locked: later
 * snapshots no longer replace it. NULL or "" clears the title and unlocks
 * it. Cut at CATALOG_TITLE_MAX bytes. SC_ERR_NOT_FOUND if no such link.
 */
sc_result catalog_link_set_title(struct catalog *c, int64_t id,
				 const char *title) SC_MUST_CHECK;

/* When the link was bookmarked (ms, an imported file's date): the earliest
 * date given is kept; ms <= 0 does nothing. SC_ERR_NOT_FOUND if no link. */
sc_result catalog_link_set_bookmarked(struct catalog *c, int64_t id,
				      int64_t ms) SC_MUST_CHECK;

/* Set (json: a JSON object's text) or clear (NULL) the capture options of
 * a link's jobs. SC_ERR_INVALID if json is not valid JSON; SC_ERR_NOT_FOUND
 * if no such link. The caller validates the fields. */
sc_result catalog_link_set_options(struct catalog *c, int64_t id,
				   const char *json) SC_MUST_CHECK;

/*
 * Delete a link with its snapshots, jobs, tag links and search entry, in
 * one transaction; tags left on no link are deleted too. If files is not
 * NULL, *files receives what the caller should now remove from disk (each
 * with sc_remove_tree): every png/mhtml/thumb path, then every snapshot
 * directory, as stored (free with catalog_strv_free). A job of this link
 * that is running keeps running in the scheduler: its later catalog_job_*
 * calls return SC_ERR_NOT_FOUND, and the caller should cancel the capture.
 * SC_ERR_NOT_FOUND if no such link (*files = NULL).
 */
sc_result catalog_link_delete(struct catalog *c, int64_t id,
			      struct catalog_strv **files) SC_MUST_CHECK;

enum catalog_match { CATALOG_MATCH_ALL = 0, CATALOG_MATCH_ANY };

struct catalog_link_query {
	const char *const *tags; /* filter; normalized here (see tags) */
	size_t ntags;            /* 0: no tag filter */
	enum catalog_match match; /* all of the tags, or any of them */
	const char *q;           /* search words, NULL/"": none (see below) */
	const char *cursor;      /* next_cursor of the previous page, or NULL */
	int limit;               /* 0: CATALOG_LIST_DEFAULT; max LIST_MAX */
};

struct catalog_link_list {
	struct catalog_link *items;
	size_t n;
	char next_cursor[CATALOG_CURSOR_SIZE]; /* "" on the last page */
};
/* NULL-safe; *l = NULL. */
void catalog_link_list_free(struct catalog_link_list **l);

/*
 * One page of links, newest first (created_at, then id, descending), that
 * match every filter given. The cursor is opaque; paging visits each link
 * exactly once even when many share a created_at, and links added while
 * paging appear on no later page. A page costs about the rows it skips, not
 * the size of the catalog: see cat_plan() in catalog_search.c (and
 * tests/bench/catalog/ for figures).
 *
 * Search: q is plain text, never FTS syntax. It is split at white space;
 * each word must occur (AND) in the link's URL, title or the page text of
 * its newest snapshot, case- and accent-insensitively; a word ending in '*'
 * is a prefix ("snap*"). Quotes, parentheses, AND/OR/NOT/NEAR are matched
 * as text or ignored, never parsed. A q with no letters or digits at all
 * filters nothing.
 *
 * Returns SC_OK with *out (free with catalog_link_list_free);
 * SC_ERR_INVALID for a bad cursor, a bad tag or limit out of range;
 * SC_ERR_TOO_LARGE for q over CATALOG_QUERY_MAX bytes or
 * CATALOG_QUERY_TERMS words, or over CATALOG_TAGS_MAX tags. *out is NULL
 * on error.
 */
sc_result catalog_links_list(struct catalog *c,
			     const struct catalog_link_query *q,
			     struct catalog_link_list **out) SC_MUST_CHECK;

/* ---- tags ---- */

/*
 * The canonical form of a tag: ASCII white space trimmed, ASCII letters
 * lowercased (other characters are kept as they are: "Été" and "été" are
 * different tags), 1..CATALOG_TAG_MAX characters, valid UTF-8, no control
 * characters. Writes the result to out (outlen >= CATALOG_TAG_BUF always
 * suffices). SC_ERR_INVALID (empty, control character, bad UTF-8) or
 * SC_ERR_TOO_LARGE (over CATALOG_TAG_MAX characters); out is "" then.
 * Pure, thread-safe. Every tag argument below goes through it.
 */
sc_result catalog_tag_normalize(const char *in, char *out, size_t outlen)
	SC_MUST_CHECK;

/*
 * Replace the tags of a link by tags[0..n) (normalized, duplicates
 * dropped; n = 0 removes all; at most CATALOG_TAGS_MAX). All or nothing:
 * one bad tag fails the call (SC_ERR_INVALID / SC_ERR_TOO_LARGE) and
 * changes nothing.
 * SC_ERR_NOT_FOUND if no such link. Tags left on no link are deleted.
 */
sc_result catalog_link_set_tags(struct catalog *c, int64_t link_id,
				const char *const *tags, size_t n)
	SC_MUST_CHECK;
/* Add one tag to a link (no-op if it has it). Errors as set_tags. */
sc_result catalog_link_add_tag(struct catalog *c, int64_t link_id,
			       const char *tag) SC_MUST_CHECK;
/* Remove one tag from a link (no-op if it lacks it). Errors as set_tags. */
sc_result catalog_link_remove_tag(struct catalog *c, int64_t link_id,
				  const char *tag) SC_MUST_CHECK;

struct catalog_tag {
	char *name;
	int64_t count; /* links carrying it, >= 1 */
};
struct catalog_tag_list {
	struct catalog_tag *items; /* sorted by name */
	size_t n;
};
/* NULL-safe; *l = NULL. */
void catalog_tag_list_free(struct catalog_tag_list **l);
/* Every tag with its link count (free with catalog_tag_list_free). */
sc_result catalog_tags_list(struct catalog *c, struct catalog_tag_list **out)
	SC_MUST_CHECK;

/*
 * Rename tag from to to. If to already exists (case-insensitively), the two
 * merge: every link of from gets to, and from is deleted; *merged (may be
 * NULL) is then 1. Renaming to the same normalized name is a no-op.
 * SC_ERR_NOT_FOUND if from does not exist; SC_ERR_INVALID/TOO_LARGE for a
 * bad name.
 */
sc_result catalog_tag_rename(struct catalog *c, const char *from,
			     const char *to, int *merged) SC_MUST_CHECK;
/* Delete a tag from every link. SC_ERR_NOT_FOUND if it does not exist. */
sc_result catalog_tag_delete(struct catalog *c, const char *name)
	SC_MUST_CHECK;

/* ---- jobs ---- */

struct catalog_job {
	int64_t id, link_id;
	char *url;                 /* the link's URL (what to capture) */
	enum catalog_job_state state;
	int attempts, max_attempts; /* attempts counts claims */
	char *options;             /* JSON object text, never NULL */
	int64_t created_at;
	int64_t started_at, finished_at; /* 0 = not yet */
	int64_t run_after;         /* not claimed before this time */
	char *error_class, *error_message; /* last error, NULL if none */
	int64_t snapshot_id;       /* 0 = none */
	int progress;              /* 0..100 */
	char *stage;               /* "navigating", ...; NULL if none */
};
/* NULL-safe; *j = NULL. */
void catalog_job_free(struct catalog_job **j);

/*
 * Queue a capture of link_id. options_json is a JSON object (NULL: "{}");
 * max_attempts <= 0 means CATALOG_JOB_MAX_ATTEMPTS. Sets *id. Runnable at
 * once. SC_ERR_NOT_FOUND if no such link; SC_ERR_INVALID if options_json
 * is not valid JSON.
 */
/* The attempts of jobs enqueued with max_attempts 0 (n <= 0: the default,
 * CATALOG_JOB_MAX_ATTEMPTS). */
void catalog_set_max_attempts(struct catalog *c, int n);

sc_result catalog_job_enqueue(struct catalog *c, int64_t link_id,
			      const char *options_json, int max_attempts,
			      int64_t *id) SC_MUST_CHECK;

/*
 * Take the oldest runnable job (queued, run_after <= now; smallest id
 * first) and mark it running (attempts + 1, started_at = now, progress 0)
 * in one statement: two connections never claim the same job. *out is the
 * job after the change (free with catalog_job_free). SC_ERR_NOT_FOUND if
 * nothing is runnable (*out = NULL).
 */
sc_result catalog_job_claim(struct catalog *c, struct catalog_job **out)
	SC_MUST_CHECK;

/* Fetch a job. SC_ERR_NOT_FOUND if none (*out = NULL). */
sc_result catalog_job_get(struct catalog *c, int64_t id,
			  struct catalog_job **out) SC_MUST_CHECK;

/*
 * Progress of a running job: progress is clamped to 0..100, stage may be
 * NULL (kept). Not fsynced (see DESIGN). SC_ERR_CANCELED if the job was
 * canceled (stop the capture), SC_ERR_INVALID if in another state,
 * SC_ERR_NOT_FOUND if it does not exist.
 */
sc_result catalog_job_progress(struct catalog *c, int64_t id, int progress,
			       const char *stage) SC_MUST_CHECK;

/*
 * A running job succeeded: state done, progress 100, finished_at now,
 * snapshot_id set (0 keeps the one catalog_snapshot_create recorded).
 * Errors as catalog_job_progress.
 */
sc_result catalog_job_done(struct catalog *c, int64_t id,
			   int64_t snapshot_id) SC_MUST_CHECK;

/*
 * A running job failed for good: state failed with the error (class like
 * capture_error_name(): "dns", "timeout"...; message cut at
 * CATALOG_MESSAGE_MAX). Errors as catalog_job_progress.
 */
sc_result catalog_job_fail(struct catalog *c, int64_t id,
			   const char *error_class, const char *error_message)
	SC_MUST_CHECK;

/*
 * A running job failed but may succeed later: if it has attempts left it
 * goes back to queued with run_after = now + delay_ms (the back-off) and
 * keeps the error as its last one; if not, it fails as catalog_job_fail.
 * *state (may be NULL) says which: CATALOG_JOB_QUEUED or _FAILED. Errors
 * as catalog_job_progress.
 */
sc_result catalog_job_requeue(struct catalog *c, int64_t id, int64_t delay_ms,
			      const char *error_class,
			      const char *error_message,
			      enum catalog_job_state *state) SC_MUST_CHECK;

/*
 * A running job stopped through no fault of its own (a graceful stop of the
 * server): back to queued, runnable now, with the attempt its claim counted
 * given back (attempts - 1), so that a restart never uses up a job's
 * attempts; its last error becomes error_class/error_message (e.g.
 * "interrupted"). Errors as catalog_job_progress.
 */
sc_result catalog_job_release(struct catalog *c, int64_t id,
			      const char *error_class,
			      const char *error_message) SC_MUST_CHECK;

/*
 * Cancel a queued or running job (state canceled, finished_at now). *was
 * (may be NULL) is the state before: RUNNING means the caller must abort the
 * capture. Canceling a canceled job is SC_OK. SC_ERR_INVALID for a done or
 * failed job, SC_ERR_NOT_FOUND if none.
 */
sc_result catalog_job_cancel(struct catalog *c, int64_t id,
			     enum catalog_job_state *was) SC_MUST_CHECK;

/*
 * Run a failed or canceled job again: queued, runnable now, attempts 0,
 * error, progress, snapshot and times cleared. SC_ERR_INVALID for a job
 * queued, running or done (a new capture of a done link is a new job),
 * SC_ERR_NOT_FOUND if none.
 */
sc_result catalog_job_retry(struct catalog *c, int64_t id) SC_MUST_CHECK;

/*
 * Start-up, before any claim: every job left running by a crash goes back
 * to queued, runnable now (its interrupted run counted as an attempt); a job
 * that has used all its attempts becomes failed with error class
 * "interrupted" instead, so a page that crashes snapcat cannot crash it
 * forever. Snapshots left pending are marked failed ("interrupted"). Done
 * jobs are not touched. Only the process that runs the jobs may call it.
 * Sets *requeued and *failed (either may be NULL).
 */
sc_result catalog_jobs_recover(struct catalog *c, int64_t *requeued,
			       int64_t *failed) SC_MUST_CHECK;

struct catalog_job_query {
	enum catalog_job_state state; /* CATALOG_JOB_ANY: every state */
	int64_t link_id;              /* 0: every link */
	const char *cursor;           /* NULL: first page */
	int limit;                    /* 0: default, max CATALOG_LIST_MAX */
	int latest;                   /* 1: only each link's newest job
					 (its last_job), on the jobs_link
					 index */
};
struct catalog_job_list {
	struct catalog_job *items; /* newest first (id descending) */
	size_t n;
	char next_cursor[CATALOG_CURSOR_SIZE]; /* "" on the last page */
};
/* NULL-safe; *l = NULL. */
void catalog_job_list_free(struct catalog_job_list **l);
/* One page of jobs. SC_ERR_INVALID for a bad cursor, state or limit. */
sc_result catalog_jobs_list(struct catalog *c,
			    const struct catalog_job_query *q,
			    struct catalog_job_list **out) SC_MUST_CHECK;

/* Number of jobs in state (CATALOG_JOB_ANY: all), e.g. for a queue cap. */
sc_result catalog_jobs_count(struct catalog *c, enum catalog_job_state state,
			     int64_t *n) SC_MUST_CHECK;

/* For GET /metrics: jobs per state (counts[CATALOG_JOB_QUEUED...]) from the
 * jobs_state index, and of the queued ones how many wait out a retry
 * back-off (run_after later than now). A few ms per 100,000 jobs. */
sc_result catalog_jobs_count_by_state(struct catalog *c,
				      int64_t counts[CATALOG_JOB_CANCELED + 1],
				      int64_t *backoff) SC_MUST_CHECK;

/* For GET /metrics: ok/partial snapshots, and the bytes of their stored PNG,
 * MHTML and PDF files (catalog figures: a deduplicated PNG counts for each
 * snapshot). Scans the snapshots table: about 0.15 s per 100,000, so call
 * it rarely (metrics_app.c keeps a running total). */
sc_result catalog_snapshots_stored(struct catalog *c, int64_t *n,
				   int64_t *png_bytes,
				   int64_t *mhtml_bytes,
				   int64_t *pdf_bytes) SC_MUST_CHECK;

/* ---- snapshots ---- */

enum catalog_snap_state {
	CATALOG_SNAP_PENDING = 0, /* capture under way */
	CATALOG_SNAP_OK,          /* every requested output written */
	CATALOG_SNAP_PARTIAL,     /* some outputs written, some failed */
	CATALOG_SNAP_FAILED,      /* nothing usable */
};
/* Per output (png, mhtml, thumb, text, pdf). */
enum catalog_out {
	CATALOG_OUT_PENDING = 0,
	CATALOG_OUT_OK,
	CATALOG_OUT_FAILED,
	CATALOG_OUT_SKIPPED, /* not requested */
};
/* "pending", "ok", "partial", "failed". Static. */
const char *catalog_snap_state_name(enum catalog_snap_state s);
/* "pending", "ok", "failed", "skipped". Static. */
const char *catalog_out_name(enum catalog_out o);

/*
 * A snapshot. Returned by get/list (owned, free with
 * catalog_snapshot_free) and also the input of catalog_snapshot_finish
 * (borrowed: the catalog only reads it). Paths are stored as given
 * (relative to the data directory, by convention).
 */
struct catalog_snapshot {
	int64_t id, link_id, job_id; /* job_id 0: none */
	int64_t created_at, finished_at; /* finished_at 0: pending */
	enum catalog_snap_state state;
	char *final_url, *title;
	int http_status;      /* 0 = none */
	int width, height;    /* PNG pixels */
	int truncated;        /* page taller than the capture cap */
	char *dir;            /* the snapshot's directory, NULL = none */
	char *png_path, *mhtml_path, *thumb_path; /* NULL = none */
	int64_t png_bytes, mhtml_bytes;
	char *text;           /* page text; NULL if not loaded or none */
	char *timings;        /* JSON object text, or NULL */
	char *error_class, *error_message; /* NULL if none */
	enum catalog_out png_status, mhtml_status, thumb_status, text_status;
	/* the visual archive (schema 3) */
	char png_sha256[65];  /* the PNG's SHA-256 (hex), "" = none */
	int png_shared;       /* the PNG is a hard link to an identical one */
	int64_t diff_against; /* the previous PNG compared with, 0 = none */
	double diff_ratio;    /* changed pixels / pixels (if diff_against) */
	int64_t diff_changed; /* changed pixels */
	char *diff_boxes;     /* changed regions, JSON [[x,y,w,h],...] */
	char *diff_path;      /* the diff image, NULL = none */
	/* the PDF (schema 7): skipped unless the job asked for one */
	char *pdf_path;       /* NULL = none */
	int64_t pdf_bytes;
	enum catalog_out pdf_status;
};
/* NULL-safe; *s = NULL. */
void catalog_snapshot_free(struct catalog_snapshot **s);

/*
 * A new pending snapshot of link_id for job_id (0: no job), created now.
 * When job_id is given the job must belong to the link, and its
 * snapshot_id is set to the new id. Sets *id. SC_ERR_NOT_FOUND if the
 * link or job does not exist, SC_ERR_INVALID if the job is another link's.
 */
sc_result catalog_snapshot_create(struct catalog *c, int64_t link_id,
				  int64_t job_id, int64_t *id) SC_MUST_CHECK;

/*
 * Record the outcome of the pending snapshot s->id: s->state (OK, PARTIAL
 * or FAILED) and every result field of s (final_url ... text_status);
 * link_id, job_id and created_at are ignored; finished_at = now. Texts
 * over the CATALOG_*_MAX caps are cut. If the state is OK or PARTIAL, in the
 * same transaction the link's last_snapshot_id becomes s->id, its title
 * becomes s->title (unless locked or s->title is NULL), and its search
 * entry is rebuilt from the URL, title and s->text. SC_ERR_NOT_FOUND if no
 * such snapshot; SC_ERR_INVALID if it is not pending, s->state is PENDING,
 * or s->timings is not valid JSON (or over CATALOG_JSON_MAX bytes).
 */
sc_result catalog_snapshot_finish(struct catalog *c,
				  const struct catalog_snapshot *s)
	SC_MUST_CHECK;

/* Fetch a snapshot; the page text only if with_text. SC_ERR_NOT_FOUND if
 * none (*out = NULL). */
sc_result catalog_snapshot_get(struct catalog *c, int64_t id, int with_text,
			       struct catalog_snapshot **out) SC_MUST_CHECK;

struct catalog_snapshot_list {
	struct catalog_snapshot *items; /* newest first; text NULL */
	size_t n;
	char next_cursor[CATALOG_CURSOR_SIZE]; /* "" on the last page */
};
/* NULL-safe; *l = NULL. */
void catalog_snapshot_list_free(struct catalog_snapshot_list **l);
/* One page of a link's snapshots (without text). An unknown link gives an
 * empty list. SC_ERR_INVALID for a bad cursor or limit. */
sc_result catalog_snapshots_list(struct catalog *c, int64_t link_id,
				 const char *cursor, int limit,
				 struct catalog_snapshot_list **out)
	SC_MUST_CHECK;

/* A stored PNG: its snapshot, path and content hash. */
struct catalog_png {
	int64_t id;
	char *path;        /* owned (free) */
	char sha256[65];   /* "" if not recorded */
};
/* The newest usable (ok/partial) snapshot of link_id with a PNG, older than
 * before_id: what a new capture is compared with. SC_ERR_NOT_FOUND if
 * none. */
sc_result catalog_snapshot_prev(struct catalog *c, int64_t link_id,
				int64_t before_id, struct catalog_png *out)
	SC_MUST_CHECK;
/* The path of a stored PNG (of any link) with this SHA-256, other than
 * snapshot except_id's; *path owned. SC_ERR_NOT_FOUND if none. */
sc_result catalog_png_by_sha(struct catalog *c, const char *sha256,
			     int64_t except_id, char **path) SC_MUST_CHECK;

/* ---- recapture schedules and retention (see recur.h, recapture.c) ---- */

/* A schedule and retention policy (of a link or a tag). spec NULL: none. */
struct catalog_schedule {
	const char *spec;  /* recur.h syntax, validated by the caller */
	int64_t next_at;   /* links: the first run (ms); ignored for tags */
	int keep_last;     /* keep the newest N snapshots; 0 = all */
	int keep_changed;  /* drop versions unchanged from the one before */
};
/* Set a link's own schedule and retention. SC_ERR_NOT_FOUND if no link. */
sc_result catalog_link_set_schedule(struct catalog *c, int64_t id,
				    const struct catalog_schedule *s)
	SC_MUST_CHECK;
/* Set a tag's; its links without a schedule of their own are scheduled
 * again from it (catalog_links_due adopt). SC_ERR_NOT_FOUND if no tag. */
sc_result catalog_tag_set_schedule(struct catalog *c, const char *name,
				   const struct catalog_schedule *s)
	SC_MUST_CHECK;
/* A tag's schedule (s->spec points into *spec, owned by the caller) and
 * how many links it has. SC_ERR_NOT_FOUND if no tag. */
sc_result catalog_tag_schedule(struct catalog *c, const char *name,
			       struct catalog_schedule *s, char **spec,
			       int64_t *nlinks) SC_MUST_CHECK;

struct catalog_due {
	int64_t link_id;
	char *url;        /* due lists only */
	char *spec;       /* the effective schedule, NULL = none any more */
	int job_active;   /* its newest job is queued or running */
};
struct catalog_due_list {
	struct catalog_due *items;
	size_t n;
};
void catalog_due_list_free(struct catalog_due_list **l);
/* adopt 0: links whose next_capture_at <= now, the most overdue first;
 * adopt 1: links that follow a tag schedule but have no next run yet.
 * At most limit of them. */
sc_result catalog_links_due(struct catalog *c, int64_t now, int limit,
			    int adopt, struct catalog_due_list **out)
	SC_MUST_CHECK;
/* Set (0: clear) a link's next run. */
sc_result catalog_link_set_next(struct catalog *c, int64_t id, int64_t next)
	SC_MUST_CHECK;
/* Apply the link's retention (its own, else its tags'): drop unchanged
 * versions (diff ratio below threshold; never the newest) if keep_changed,
 * then all but the newest keep_last snapshots; the link's last usable
 * snapshot is never dropped. *dirs: the dropped snapshots' directories,
 * for the caller to remove. */
sc_result catalog_snapshots_prune(struct catalog *c, int64_t link_id,
				  double threshold, struct catalog_strv **dirs)
	SC_MUST_CHECK;

/* ---- events (a bounded log for resuming subscribers) ---- */

struct catalog_event {
	int64_t id;       /* strictly increasing, never reused, even after a
			     prune removed every row */
	char *type;       /* "job.progress", ... */
	int64_t ts;
	int64_t job_id, link_id; /* 0 = none */
	char *json;       /* the type-specific fields, a JSON object text */
};

/*
 * Append an event; ts_ms 0 means now. json: a JSON object (NULL: "{}").
 * Sets *id. Not fsynced (see DESIGN). SC_ERR_INVALID for an empty type or
 * invalid JSON.
 */
sc_result catalog_event_append(struct catalog *c, const char *type,
			       int64_t ts_ms, int64_t job_id, int64_t link_id,
			       const char *json, int64_t *id) SC_MUST_CHECK;

/*
 * Append an event with the id the caller chose (the event bus assigns ids
 * in commit order, service/bus.c): want_id if it is above every id given
 * so far (sqlite_sequence), else the next one; *id is the id stored.
 * Errors as catalog_event_append.
 */
sc_result catalog_event_put(struct catalog *c, int64_t want_id,
			    const char *type, int64_t ts_ms, int64_t job_id,
			    int64_t link_id, const char *json, int64_t *id)
	SC_MUST_CHECK;

struct catalog_event_filter {
	int64_t job_id, link_id;  /* 0: any */
	const char *const *types; /* NULL or ntypes == 0: any type */
	size_t ntypes;
};
struct catalog_event_list {
	struct catalog_event *items; /* oldest first */
	size_t n;
};
/* NULL-safe; *l = NULL. */
void catalog_event_list_free(struct catalog_event_list **l);

/*
 * Events with id > after_id matching f (NULL: all), oldest first, at most
 * limit (0: default, max CATALOG_LIST_MAX). A subscriber that resumes after
 * id X has missed events if X + 1 < the oldest retained id (see
 * catalog_events_bounds). SC_ERR_INVALID for a bad limit.
 */
sc_result catalog_events_list(struct catalog *c, int64_t after_id,
			      const struct catalog_event_filter *f, int limit,
			      struct catalog_event_list **out) SC_MUST_CHECK;

/*
 * The oldest retained id (0 if the log is empty) and the newest id ever
 * given (0 if none; still set after a prune emptied the log). Either
 * pointer may be NULL.
 */
sc_result catalog_events_bounds(struct catalog *c, int64_t *oldest,
				int64_t *newest) SC_MUST_CHECK;

/*
 * Event id was given to an event that could not be stored (the disk was
 * full): ids appended from now on are above it, so that ids stay strictly
 * increasing for subscribers who saw it live. Kept by this connection only
 * (a restart before the next stored event may give id again).
 */
void catalog_events_skip(struct catalog *c, int64_t id);

/* Keep only the newest keep events (keep >= 0); *deleted (may be NULL)
 * receives how many went. */
sc_result catalog_events_prune(struct catalog *c, int64_t keep,
			       int64_t *deleted) SC_MUST_CHECK;

/* ---- online backup (io_backup.c) ---- */

struct catalog_backup_opts {
	int pages_per_step;  /* pages copied per step; <= 0: all in one */
	/* hold(ud, 1) before each step that touches c, hold(ud, 0) after it
	 * (e.g. app_write_hold(a, 1) / (a, 0), so that other threads use the
	 * connection between steps); NULL: the caller holds c throughout */
	void (*hold)(void *ud, int on);
	/* after each step: pages left and in all; non-zero stops the copy
	 * (SC_ERR_CANCELED). May be NULL. */
	int (*progress)(void *ud, int remaining, int total);
	void *ud;
};

/*
 * Copy the open catalog c into a new file dest_path with SQLite's online
 * backup API, in steps. The copy is one consistent state of the catalog:
 * writes made through c between steps are carried into the copy as they
 * happen (same connection), so it is the state at the last step. Call
 * WITHOUT holding c when o->hold is set. Then, if files is not NULL,
 * *files receives every file path the COPY references (png, mhtml, thumb
 * and diff of every snapshot, as stored: relative to the data directory;
 * free with catalog_strv_free). dest_path must not exist (SC_ERR_INVALID).
 * On error err says why and dest_path is removed. SC_ERR_DB, SC_ERR_IO,
 * SC_ERR_CANCELED.
 */
sc_result catalog_backup(struct catalog *c, const char *dest_path,
			 const struct catalog_backup_opts *o,
			 struct catalog_strv **files, char *err, size_t errlen)
	SC_MUST_CHECK;

#endif
