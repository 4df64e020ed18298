/*
 * catalog_jobs.c — the persisted job queue: enqueue, claim, the state
 * transitions, start-up recovery, lists and counts (see catalog.h for the
 * states and who moves them).
 *
 *   catalog_job_enqueue (queued) -> scheduler: catalog_job_claim (running)
 *     -> catalog_job_progress ... -> catalog_job_done | _fail | _requeue
 *        (back-off) | _release (graceful stop)
 *   REST: catalog_job_cancel, catalog_job_retry, catalog_jobs_list
 *   start-up: catalog_jobs_recover; GET /metrics: catalog_jobs_count_by_state
 *
 * A transition is one UPDATE guarded by the state it leaves (WHERE state =
 * 'running'); when it matches no row, cat_job_why says why.
 */
#include "catalog_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Columns read by cat_job_read(), in this order. */
#define JOB_SELECT                                                           \
	"SELECT j.id, j.link_id, l.url, j.state, j.attempts, j.max_attempts, " \
	"j.options, j.created_at, coalesce(j.started_at, 0), "               \
	"coalesce(j.finished_at, 0), j.run_after, j.error_class, "           \
	"j.error_message, coalesce(j.snapshot_id, 0), j.progress, j.stage "  \
	"FROM jobs j JOIN links l ON l.id = j.link_id "

static const char SQL_JOB_INSERT[] =
	"INSERT INTO jobs(link_id, options, max_attempts, created_at, "
	"run_after) VALUES (?1, ?2, ?3, ?4, ?4)";
static const char SQL_JOB_GET[] = JOB_SELECT "WHERE j.id = ?1";
static const char SQL_JOB_CLAIM[] =
	"UPDATE jobs SET state = 'running', attempts = attempts + 1, "
	"started_at = ?1, finished_at = NULL, progress = 0, stage = NULL "
	"WHERE id = (SELECT id FROM jobs WHERE state = 'queued' "
	"AND run_after <= ?1 ORDER BY id LIMIT 1) RETURNING id";
static const char SQL_JOB_STATE[] = "SELECT state FROM jobs WHERE id = ?1";
static const char SQL_JOB_PROGRESS[] =
	"UPDATE jobs SET progress = ?2, stage = coalesce(?3, stage) "
	"WHERE id = ?1 AND state = 'running'";
static const char SQL_JOB_DONE[] =
	"UPDATE jobs SET state = 'done', progress = 100, finished_at = ?3, "
	"snapshot_id = coalesce(?2, snapshot_id), stage = NULL, "
	"error_class = NULL, error_message = NULL "
	"WHERE id = ?1 AND state = 'running'";
static const char SQL_JOB_FAIL[] =
	"UPDATE jobs SET state = 'failed', finished_at = ?2, "
	"error_class = ?3, error_message = ?4, stage = NULL "
	"WHERE id = ?1 AND state = 'running'";
static const char SQL_JOB_REQUEUE[] =
	"UPDATE jobs SET state = 'queued', run_after = ?2, error_class = ?3, "
	"error_message = ?4, started_at = NULL, progress = 0, stage = NULL "
	"WHERE id = ?1 AND state = 'running' AND attempts < max_attempts";
static const char SQL_JOB_RELEASE[] =
	"UPDATE jobs SET state = 'queued', attempts = max(attempts - 1, 0), "
	"run_after = ?2, error_class = ?3, error_message = ?4, "
	"started_at = NULL, progress = 0, stage = NULL "
	"WHERE id = ?1 AND state = 'running'";
static const char SQL_JOB_CANCEL[] =
	"UPDATE jobs SET state = 'canceled', finished_at = ?2, stage = NULL "
	"WHERE id = ?1 AND state IN ('queued', 'running')";
static const char SQL_JOB_RETRY[] =
	"UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?2, "
	"started_at = NULL, finished_at = NULL, error_class = NULL, "
	"error_message = NULL, snapshot_id = NULL, progress = 0, "
	"stage = NULL WHERE id = ?1 AND state IN ('failed', 'canceled')";
static const char SQL_JOBS_RECOVER_FAIL[] =
	"UPDATE jobs SET state = 'failed', finished_at = ?1, "
	"error_class = 'interrupted', error_message = 'snapcat stopped "
	"while the job was running and it has no attempts left', "
	"stage = NULL WHERE state = 'running' AND attempts >= max_attempts";
static const char SQL_JOBS_RECOVER_QUEUE[] =
	"UPDATE jobs SET state = 'queued', run_after = ?1, "
	"started_at = NULL, progress = 0, stage = NULL "
	"WHERE state = 'running'";
static const char SQL_SNAPS_RECOVER[] =
	"UPDATE snapshots SET state = 'failed', finished_at = ?1, "
	"error_class = 'interrupted', error_message = 'snapcat stopped "
	"during the capture' WHERE state = 'pending'";
static const char SQL_JOBS_LIST[] =
	JOB_SELECT "WHERE j.id < ?1 AND (?2 IS NULL OR j.state = ?2) "
	"AND (?3 = 0 OR j.link_id = ?3) AND (?5 = 0 OR j.id = (SELECT "
	"max(id) FROM jobs WHERE link_id = j.link_id)) "
	"ORDER BY j.id DESC LIMIT ?4";
static const char SQL_JOBS_COUNT[] =
	"SELECT count(*) FROM jobs WHERE ?1 IS NULL OR state = ?1";
/* GET /metrics */
static const char SQL_JOBS_BY_STATE[] =
	"SELECT state, count(*) FROM jobs GROUP BY state";
static const char SQL_JOBS_BACKOFF[] =
	"SELECT count(*) FROM jobs WHERE state = 'queued' AND run_after > ?1";

static const char *const cat_job_states[] = {
	"queued", "running", "done", "failed", "canceled",
};

/* ================================ states =============================== */

const char *catalog_job_state_name(enum catalog_job_state s)
{
	if (s >= 0 && (size_t)s < CAT_COUNT(cat_job_states))
		return cat_job_states[s];
	return "any";
}

sc_result catalog_job_state_parse(const char *s, enum catalog_job_state *out)
{
	int i = cat_lookup(cat_job_states, CAT_COUNT(cat_job_states), s);
	if (i < 0)
		return SC_ERR_INVALID;
	*out = (enum catalog_job_state)i;
	return SC_OK;
}

enum catalog_job_state cat_job_state_col(sqlite3_stmt *st, int i)
{
	int s = cat_lookup(cat_job_states, CAT_COUNT(cat_job_states),
			   (const char *)sqlite3_column_text(st, i));
	return s < 0 ? CATALOG_JOB_QUEUED : (enum catalog_job_state)s;
}

/* ================================= a job =============================== */

#define JC(f, k) CAT_COL(struct catalog_job, f, k)
/* JOB_SELECT's columns (state: cat_job_state_col) */
static const struct cat_col cat_job_cols[] = {
	JC(id, I64), JC(link_id, I64), JC(url, STR), CAT_COL_SKIP,
	JC(attempts, INT), JC(max_attempts, INT), JC(options, STR),
	JC(created_at, I64), JC(started_at, I64), JC(finished_at, I64),
	JC(run_after, I64), JC(error_class, STR), JC(error_message, STR),
	JC(snapshot_id, I64), JC(progress, INT), JC(stage, STR),
};
#undef JC

static void cat_job_read(sqlite3_stmt *st, void *job)
{
	struct catalog_job *j = job;
	cat_cols_read(st, j, cat_job_cols, CAT_COUNT(cat_job_cols));
	j->state = cat_job_state_col(st, 3);
	if (!j->options)
		j->options = sc_xstrdup("{}");
}

static void cat_job_clear(void *job)
{
	cat_cols_clear(job, cat_job_cols, CAT_COUNT(cat_job_cols));
}

void catalog_job_free(struct catalog_job **j)
{
	CAT_ITEM_FREE(j, cat_job_clear);
}

sc_result catalog_job_get(struct catalog *c, int64_t id,
			  struct catalog_job **out)
{
	sqlite3_stmt *st = NULL;
	void *j;
	sc_result rc = cat_stmt(c, SQL_JOB_GET, &st, "i", id);
	rc = cat_get(c, rc, st, sizeof(**out), cat_job_read, &j, "job", id);
	*out = j;
	return rc;
}

void catalog_set_max_attempts(struct catalog *c, int n)
{
	c->max_attempts = n;
}

sc_result catalog_job_enqueue(struct catalog *c, int64_t link_id,
			      const char *options_json, int max_attempts,
			      int64_t *id)
{
	if (max_attempts <= 0)
		max_attempts = c->max_attempts > 0 ? c->max_attempts
						   : CATALOG_JOB_MAX_ATTEMPTS;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, link_id)))
		rc = cat_exec(c, SQL_JOB_INSERT, "itii", link_id,
			      options_json ? options_json : "{}",
			      (int64_t)max_attempts, cat_now(c));
	if (rc == SC_ERR_INVALID)
		cat_errf(c, rc, "job options are not valid JSON");
	if (!rc)
		*id = sqlite3_last_insert_rowid(c->db);
	return cat_end(c, rc);
}

sc_result catalog_job_claim(struct catalog *c, struct catalog_job **out)
{
	int64_t id;
	*out = NULL;
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	rc = cat_int(c, SQL_JOB_CLAIM, &id, "i", cat_now(c));
	if (rc == SC_ERR_NOT_FOUND)
		cat_errf(c, rc, "no runnable job");
	if (!rc)
		rc = catalog_job_get(c, id, out);
	if ((rc = cat_end(c, rc)))
		catalog_job_free(out);
	return rc;
}

/* A transition of job id matched no row: say why (inside the tx). */
static sc_result cat_job_why(struct catalog *c, int64_t id, const char *want)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_first(c, SQL_JOB_STATE, &st, &row, "i", id);
	if (rc)
		return rc;
	if (!row) {
		rc = cat_errf(c, SC_ERR_NOT_FOUND, "job %" PRId64 " not found",
			      id);
	} else {
		enum catalog_job_state s = cat_job_state_col(st, 0);
		rc = cat_errf(c, s == CATALOG_JOB_CANCELED ? SC_ERR_CANCELED
							   : SC_ERR_INVALID,
			      "job %" PRId64 " is %s, not %s", id,
			      catalog_job_state_name(s), want);
	}
	cat_reset(st);
	return rc;
}

/* Run one transition statement (bound from the arguments) in a
 * transaction of its own and explain a miss. */
static sc_result cat_job_step(struct catalog *c, int durable, int64_t id,
			      const char *want, const char *sql,
			      const char *fmt, ...)
{
	sc_result rc = cat_begin(c, durable);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = cat_vexec(c, sql, fmt, ap);
	va_end(ap);
	if (!rc && !c->changes)
		rc = cat_job_why(c, id, want);
	return cat_end(c, rc);
}

sc_result catalog_job_progress(struct catalog *c, int64_t id, int progress,
			       const char *stage)
{
	progress = progress < 0 ? 0 : progress > 100 ? 100 : progress;
	return cat_job_step(c, 0, id, "running", SQL_JOB_PROGRESS, "iiT", id,
			    (int64_t)progress, stage, cat_caplen(stage, 64));
}

sc_result catalog_job_done(struct catalog *c, int64_t id, int64_t snapshot_id)
{
	return cat_job_step(c, 1, id, "running", SQL_JOB_DONE, "izi", id,
			    snapshot_id, cat_now(c));
}

sc_result catalog_job_fail(struct catalog *c, int64_t id,
			   const char *error_class, const char *error_message)
{
	return cat_job_step(c, 1, id, "running", SQL_JOB_FAIL, "iiTT", id,
			    cat_now(c), error_class, cat_caplen(error_class, 64),
			    error_message,
			    cat_caplen(error_message, CATALOG_MESSAGE_MAX));
}

sc_result catalog_job_requeue(struct catalog *c, int64_t id, int64_t delay_ms,
			      const char *error_class,
			      const char *error_message,
			      enum catalog_job_state *state)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	int64_t after = cat_now(c) + (delay_ms > 0 ? delay_ms : 0);
	rc = cat_exec(c, SQL_JOB_REQUEUE, "iiTT", id, after, error_class,
		      cat_caplen(error_class, 64), error_message,
		      cat_caplen(error_message, CATALOG_MESSAGE_MAX));
	enum catalog_job_state s = CATALOG_JOB_QUEUED;
	if (!rc && !c->changes) { /* no attempts left, or not running */
		s = CATALOG_JOB_FAILED;
		rc = catalog_job_fail(c, id, error_class, error_message);
	}
	if (!(rc = cat_end(c, rc)) && state)
		*state = s;
	return rc;
}

sc_result catalog_job_release(struct catalog *c, int64_t id,
			      const char *error_class,
			      const char *error_message)
{
	return cat_job_step(c, 1, id, "running", SQL_JOB_RELEASE, "iiTT", id,
			    cat_now(c), error_class, cat_caplen(error_class, 64),
			    error_message,
			    cat_caplen(error_message, CATALOG_MESSAGE_MAX));
}

sc_result catalog_job_cancel(struct catalog *c, int64_t id,
			     enum catalog_job_state *was)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_stmt(c, SQL_JOB_STATE, &st, "i", id)) &&
	    !(rc = cat_step(c, st, &row))) {
		enum catalog_job_state s = row ? cat_job_state_col(st, 0)
					       : CATALOG_JOB_QUEUED;
		cat_reset(st);
		if (!row)
			rc = cat_errf(c, SC_ERR_NOT_FOUND,
				      "job %" PRId64 " not found", id);
		else if (s == CATALOG_JOB_DONE || s == CATALOG_JOB_FAILED)
			rc = cat_errf(c, SC_ERR_INVALID,
				      "job %" PRId64 " is already %s", id,
				      catalog_job_state_name(s));
		else if (s != CATALOG_JOB_CANCELED)
			rc = cat_exec(c, SQL_JOB_CANCEL, "ii", id, cat_now(c));
		if (!rc && was)
			*was = s;
	}
	return cat_end(c, rc);
}

sc_result catalog_job_retry(struct catalog *c, int64_t id)
{
	return cat_job_step(c, 1, id, "failed or canceled", SQL_JOB_RETRY,
			    "ii", id, cat_now(c));
}

sc_result catalog_jobs_recover(struct catalog *c, int64_t *requeued,
			       int64_t *failed)
{
	int64_t now = cat_now(c), nfail = 0, nqueue = 0;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_exec(c, SQL_JOBS_RECOVER_FAIL, "i", now)))
		nfail = c->changes;
	if (!rc && !(rc = cat_exec(c, SQL_JOBS_RECOVER_QUEUE, "i", now)))
		nqueue = c->changes;
	if (!rc)
		rc = cat_exec(c, SQL_SNAPS_RECOVER, "i", now);
	if ((rc = cat_end(c, rc)))
		return rc;
	if (nfail || nqueue)
		sc_log(SC_LOG_INFO, "catalog",
		       "recovered interrupted jobs: %" PRId64 " queued again, "
		       "%" PRId64 " failed", nqueue, nfail);
	if (requeued)
		*requeued = nqueue;
	if (failed)
		*failed = nfail;
	return SC_OK;
}

void catalog_job_list_free(struct catalog_job_list **l)
{
	CAT_LIST_FREE(l, cat_job_clear);
}

sc_result catalog_jobs_list(struct catalog *c,
			    const struct catalog_job_query *q,
			    struct catalog_job_list **out)
{
	struct catalog_job_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_page p = CAT_PAGE_BY_ID(l, cat_job_read);
	int64_t before;
	int limit = q->limit;
	sqlite3_stmt *st = NULL;
	const char *state = q->state == CATALOG_JOB_ANY
				    ? NULL
				    : catalog_job_state_name(q->state);
	sc_result rc;
	if (state && !strcmp(state, "any"))
		rc = cat_errf(c, SC_ERR_INVALID, "bad job state");
	else if (!(rc = cat_page_args(c, &limit, q->cursor, &before)))
		rc = cat_stmt(c, SQL_JOBS_LIST, &st, "itiii", before, state,
			      q->link_id, (int64_t)limit + 1,
			      (int64_t)(q->latest != 0));
	p.limit = (size_t)limit;
	CAT_PAGE_LIST(rc, c, st, p, l, catalog_job_list_free);
	*out = l;
	return rc;
}

sc_result catalog_jobs_count(struct catalog *c, enum catalog_job_state state,
			     int64_t *n)
{
	const char *s = state == CATALOG_JOB_ANY ? NULL
						 : catalog_job_state_name(state);
	if (s && !strcmp(s, "any"))
		return cat_errf(c, SC_ERR_INVALID, "bad job state");
	return cat_int(c, SQL_JOBS_COUNT, n, "t", s);
}


static void cat_tally_state(int64_t *counts, sqlite3_stmt *st)
{
	enum catalog_job_state s;
	if (!catalog_job_state_parse((const char *)sqlite3_column_text(st, 0),
				     &s))
		counts[s] = sqlite3_column_int64(st, 1);
}

sc_result catalog_jobs_count_by_state(struct catalog *c,
				      int64_t counts[CATALOG_JOB_CANCELED + 1],
				      int64_t *backoff)
{
	sqlite3_stmt *st = NULL;
	int row = 1;
	memset(counts, 0, sizeof(int64_t) * (CATALOG_JOB_CANCELED + 1));
	*backoff = 0;
	sc_result rc = cat_stmt(c, SQL_JOBS_BY_STATE, &st, "");
	while (!rc && !(rc = cat_step(c, st, &row)) && row)
		cat_tally_state(counts, st);
	if (rc)
		return rc;
	cat_reset(st);
	return cat_int(c, SQL_JOBS_BACKOFF, backoff, "i", cat_now(c));
}
