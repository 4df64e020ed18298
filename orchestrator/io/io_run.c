/*
 * io_run.c — background imports and backups of a running server (see
 * io_run.h for the data flow and DESIGN).
 *
 *   io_import_start -> reg_add -> loop_work(ir_batch_work, ir_batch_done)
 *     ir_batch_work (worker): db lock -> tx -> ir_add_one x IO_BATCH ->
 *       commit -> job.queued events, import.progress [, import.done]
 *     ir_batch_done (loop): next batch, or ir_stop_work when stopping
 *   io_backup_start -> reg_add -> loop_work(bt_work): io_backup_run ->
 *     backup.done | backup.failed
 */
#include "io_run.h"
#include "queue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "evtype.h"
#include "catalog.h"
#include "io_backup.h"
#include "loop.h"

#define IO_EVENT_EVERY_MS 200  /* backup.progress at most this often */

enum io_state { IO_S_RUNNING = 0, IO_S_DONE, IO_S_FAILED, IO_S_STOPPED };
static const char *const io_state_names[] = {"running", "done", "failed",
					     "stopped"};
enum io_kind { IO_K_IMPORT = 0, IO_K_BACKUP };

/* One import or backup and its report. Counters and state change under
 * reg.mu; imp->items and next are the batch chain's alone. */
struct io_task {
	int64_t id;
	enum io_kind kind;
	enum io_state state;
	int held;                    /* a work item still uses it: kept */
	struct app *app;
	int64_t started_at, finished_at, t0; /* wall ms, wall ms, monotonic */
	char error[512];
	/* import */
	struct io_import *imp;
	size_t next;                 /* the next item to add */
	char **tags;                 /* extra tags, normalized */
	size_t ntags;
	int capture;
	int64_t total, done, added, existing, skipped, queued, not_queued;
	int64_t lock_ms_max;         /* longest catalog lock hold of a batch */
	struct io_reject *late;      /* skipped while adding */
	size_t nlate;
	/* backup */
	char name[128];
	struct io_backup_stats st;
	int64_t last_event;          /* monotonic ms of the last progress
					event (imports and backups) */
};

static struct {
	pthread_mutex_t mu;
	int64_t next_id[2];                /* per kind */
	struct io_task *tasks[2][IO_KEEP]; /* per kind, oldest first */
	size_t n[2];
	int stopping;
} reg = {.mu = PTHREAD_MUTEX_INITIALIZER, .next_id = {1, 1}};

static void task_free(struct io_task *t)
{
	if (!t)
		return;
	io_import_free(&t->imp);
	for (size_t i = 0; i < t->ntags; i++)
		free(t->tags[i]);
	free(t->tags);
	for (size_t i = 0; i < t->nlate; i++) {
		free(t->late[i].text);
		free(t->late[i].reason);
	}
	free(t->late);
	free(t);
}

/* Keep t (reg.mu held): evict the oldest finished report of its kind if
 * the list is full. -1 if every kept one still runs. */
static int reg_add(struct io_task *t)
{
	struct io_task **v = reg.tasks[t->kind];
	size_t *n = &reg.n[t->kind];
	if (*n == IO_KEEP) {
		size_t i = 0;
		while (i < *n && (v[i]->state == IO_S_RUNNING || v[i]->held))
			i++;
		if (i == *n)
			return -1;
		task_free(v[i]);
		memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
		(*n)--;
	}
	t->id = reg.next_id[t->kind]++;
	v[(*n)++] = t;
	return 0;
}

static struct io_task *reg_find(enum io_kind k, int64_t id)
{
	for (size_t i = 0; i < reg.n[k]; i++)
		if (reg.tasks[k][i]->id == id)
			return reg.tasks[k][i];
	return NULL;
}

static int reg_running(enum io_kind k)
{
	int n = 0;
	for (size_t i = 0; i < reg.n[k]; i++)
		n += reg.tasks[k][i]->state == IO_S_RUNNING;
	return n;
}

void io_run_stop(void)
{
	pthread_mutex_lock(&reg.mu);
	reg.stopping = 1;
	pthread_mutex_unlock(&reg.mu);
}

static int reg_stopping(void)
{
	pthread_mutex_lock(&reg.mu);
	int s = reg.stopping;
	pthread_mutex_unlock(&reg.mu);
	return s;
}

/* ======================= imports ======================= */

struct ir_job {
	int64_t job, link;
	size_t item;
};

/* What one batch did, applied to the task after the commit. */
struct ir_batch {
	int64_t added, existing, queued, not_queued;
	int queue_full;
	struct ir_job jobs[IO_BATCH];
	size_t njobs;
	struct io_reject skips[IO_BATCH];
	size_t nskips;
};

static void ir_skip(struct ir_batch *b, const struct io_item *it,
		    const char *code, const char *why)
{
	struct io_reject *r = &b->skips[b->nskips++];
	r->line = it->line;
	r->code = code;
	r->text = sc_xstrndup(it->url, IO_REJECT_TEXT_MAX);
	r->reason = sc_xstrdup(why);
}

/* A title from the file: on a new link, or one that has none yet. */
static void ir_title(struct catalog *c, int64_t id, int created,
		     const char *title)
{
	if (!created) {
		struct catalog_link *l = NULL;
		int has = catalog_link_get(c, id, &l) != SC_OK || l->title;
		catalog_link_free(&l);
		if (has)
			return;
	}
	(void)!catalog_link_set_title(c, id, title);
}

/* Add item i of t (inside the batch's transaction). */
static void ir_add_one(struct io_task *t, struct catalog *c, size_t i,
		       struct ir_batch *b)
{
	const struct io_item *it = &t->imp->items[i];
	int64_t id = 0, job = 0;
	int created = 0;
	if (catalog_link_add(c, it->url, &id, &created)) {
		ir_skip(b, it, "catalog_error", catalog_errmsg(c));
		return;
	}
	created ? b->added++ : b->existing++;
	if (it->title)
		ir_title(c, id, created, it->title);
	(void)!catalog_link_set_bookmarked(c, id, it->bookmarked_at
							  ? it->bookmarked_at
							  : it->add_date);
	for (size_t k = 0; k < it->ntags; k++) /* past CATALOG_TAGS_MAX: dropped */
		(void)!catalog_link_add_tag(c, id, it->tags[k]);
	for (size_t k = 0; k < t->ntags; k++)
		(void)!catalog_link_add_tag(c, id, t->tags[k]);
	if (!t->capture || !created)
		return;
	if (!b->queue_full)
		b->queue_full = app_queue_full(t->app, c);
	if (b->queue_full || catalog_job_enqueue(c, id, NULL, 0, &job)) {
		b->not_queued++;
		return;
	}
	b->jobs[b->njobs++] = (struct ir_job){job, id, i};
	b->queued++;
}

/* The batch failed as a whole (rolled back): every item is skipped. */
static void ir_batch_failed(struct io_task *t, size_t from, size_t to,
			    struct ir_batch *b, const char *why)
{
	for (size_t i = 0; i < b->nskips; i++) {
		free(b->skips[i].text);
		free(b->skips[i].reason);
	}
	memset(b, 0, sizeof(*b));
	for (size_t i = from; i < to; i++)
		ir_skip(b, &t->imp->items[i], "catalog_error", why);
}

static void ir_add_counts(cJSON *f, const struct io_task *t)
{
	cJSON_AddNumberToObject(f, "done", (double)t->done);
	cJSON_AddNumberToObject(f, "total", (double)t->total);
	cJSON_AddNumberToObject(f, "added", (double)t->added);
	cJSON_AddNumberToObject(f, "existing", (double)t->existing);
	cJSON_AddNumberToObject(f, "skipped", (double)t->skipped);
	cJSON_AddNumberToObject(f, "queued", (double)t->queued);
	cJSON_AddNumberToObject(f, "not_queued", (double)t->not_queued);
}

/* The fields of import.progress / import.done. */
static cJSON *ir_counts(const struct io_task *t)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "import", (double)t->id);
	ir_add_counts(f, t);
	return f;
}

/* Fold a committed (or failed) batch into t and say so (import.progress
 * and import.done carry no state of the catalog: events of their own). */
static void ir_apply(struct io_task *t, size_t to, struct ir_batch *b)
{
	pthread_mutex_lock(&reg.mu);
	t->added += b->added;
	t->existing += b->existing;
	t->queued += b->queued;
	t->not_queued += b->not_queued;
	t->skipped += (int64_t)b->nskips;
	t->done += (int64_t)(to - t->next);
	t->next = to;
	size_t room = t->nlate + b->nskips;
	t->late = sc_xrealloc(t->late, (room ? room : 1) * sizeof(*t->late));
	memcpy(t->late + t->nlate, b->skips, b->nskips * sizeof(*b->skips));
	t->nlate += b->nskips;
	int last = t->next >= t->imp->nitems;
	if (last) {
		t->state = IO_S_DONE;
		t->finished_at = sc_wall_ms();
	}
	int64_t now = sc_now_ms();
	int say = last || now - t->last_event >= IO_EVENT_EVERY_MS;
	if (say)
		t->last_event = now;
	cJSON *f = say ? ir_counts(t) : NULL;
	pthread_mutex_unlock(&reg.mu);
	if (say)
		app_event(t->app, NULL, EV_IMPORT_PROGRESS, 0, 0, f);
	if (last) {
		pthread_mutex_lock(&reg.mu);
		f = ir_counts(t);
		cJSON_AddStringToObject(f, "state", "done");
		cJSON_AddNumberToObject(f, "ms", (double)(sc_now_ms() - t->t0));
		pthread_mutex_unlock(&reg.mu);
		app_event(t->app, NULL, EV_IMPORT_DONE, 0, 0, f);
	}
}

static void ir_queued_events(struct io_task *t, struct catalog *c,
			     const struct ir_batch *b)
{
	for (size_t i = 0; i < b->njobs; i++)
		queue_announce(t->app, c, b->jobs[i].job, b->jobs[i].link,
			       t->imp->items[b->jobs[i].item].url, 0);
}

static void ir_batch_work(void *arg)
{
	struct io_task *t = arg;
	struct ir_batch *b = sc_xcalloc(1, sizeof(*b));
	size_t from = t->next, to = from + IO_BATCH;
	char why[600];
	if (to > t->imp->nitems)
		to = t->imp->nitems;
	struct catalog *c = app_write_begin(t->app);
	int64_t held = sc_now_ms();
	sc_result rc = catalog_tx_begin(c);
	for (size_t i = from; !rc && i < to; i++) {
		ir_add_one(t, c, i, b);
		if (sc_now_ms() - held >= IO_BATCH_MS)
			to = i + 1; /* the writer was held long enough */
	}
	if (!rc)
		rc = catalog_tx_commit(c);
	if (rc) {
		snprintf(why, sizeof(why), "not added: %s (%s)", sc_strerror(rc),
			 catalog_errmsg(c));
		catalog_tx_rollback(c);
		ir_batch_failed(t, from, to, b, why);
	}
	ir_queued_events(t, c, b);
	held = sc_now_ms() - held;
	sc_result crc = app_write_end(t->app); /* the links, jobs, events */
	if (!rc && crc) {
		snprintf(why, sizeof(why), "not added: the catalog did not "
			 "commit the batch (%s)", sc_strerror(crc));
		ir_batch_failed(t, from, to, b, why);
	}
	pthread_mutex_lock(&reg.mu);
	if (held > t->lock_ms_max)
		t->lock_ms_max = held;
	pthread_mutex_unlock(&reg.mu);
	ir_apply(t, to, b);
	if (b->njobs)
		app_kick(t->app);
	free(b);
}

/* Let the registry free t (reg.mu not held). */
static void io_release(struct io_task *t)
{
	pthread_mutex_lock(&reg.mu);
	t->held = 0;
	pthread_mutex_unlock(&reg.mu);
}

/* Stopping: the report says so. */
static void ir_stop_work(void *arg)
{
	struct io_task *t = arg;
	struct app *a = t->app;
	pthread_mutex_lock(&reg.mu);
	t->state = IO_S_STOPPED;
	t->finished_at = sc_wall_ms();
	snprintf(t->error, sizeof(t->error), "the server stopped after %lld "
		 "of %lld records", (long long)t->done, (long long)t->total);
	cJSON *f = ir_counts(t);
	pthread_mutex_unlock(&reg.mu);
	cJSON_AddStringToObject(f, "state", "stopped");
	app_event(a, NULL, EV_IMPORT_DONE, 0, 0, f);
	io_release(t);
}

/* Loop thread, after a batch: the next one, unless done or stopping. The
 * items are freed once done (the report keeps the counts and skips). */
static void ir_batch_done(void *arg)
{
	struct io_task *t = arg;
	struct app_stats st;
	if (t->state != IO_S_RUNNING) {
		pthread_mutex_lock(&reg.mu);
		io_import_shrink(t->imp, IO_SKIPS_MAX);
		t->held = 0;
		pthread_mutex_unlock(&reg.mu);
		return;
	}
	app_stats(t->app, &st);
	if (st.draining || reg_stopping())
		loop_work(app_loop(t->app), ir_stop_work, NULL, t);
	else
		loop_work(app_loop(t->app), ir_batch_work, ir_batch_done, t);
}

static sc_result ir_tags(struct io_task *t, const struct io_import_opts *o,
			 char *err, size_t errlen)
{
	if (o->ntags > CATALOG_TAGS_MAX) {
		snprintf(err, errlen, "at most %d tags", CATALOG_TAGS_MAX);
		return SC_ERR_INVALID;
	}
	t->tags = sc_xcalloc(o->ntags + 1, sizeof(*t->tags));
	for (size_t i = 0; i < o->ntags; i++) {
		char norm[CATALOG_TAG_BUF];
		if (catalog_tag_normalize(o->tags[i], norm, sizeof(norm))) {
			snprintf(err, errlen, "bad tag \"%.80s\": a tag is 1 to %d "
				 "characters without control characters",
				 o->tags[i], CATALOG_TAG_MAX);
			return SC_ERR_INVALID;
		}
		t->tags[t->ntags++] = sc_xstrdup(norm);
	}
	return SC_OK;
}

sc_result io_import_start(struct app *a, struct io_import **imp,
			  const struct io_import_opts *o, int64_t *id,
			  char *err, size_t errlen)
{
	struct io_task *t = sc_xcalloc(1, sizeof(*t));
	sc_result rc = ir_tags(t, o, err, errlen);
	if (rc) {
		task_free(t);
		return rc;
	}
	t->kind = IO_K_IMPORT;
	t->held = 1;
	t->app = a;
	t->capture = o->capture;
	t->imp = *imp;
	*imp = NULL;
	t->total = (int64_t)(t->imp->nitems + t->imp->nrejects);
	t->done = t->skipped = (int64_t)t->imp->nrejects;
	t->started_at = sc_wall_ms();
	t->t0 = sc_now_ms();
	pthread_mutex_lock(&reg.mu);
	int busy = reg.stopping || reg_running(IO_K_IMPORT) >= IO_RUNNING_MAX ||
		   reg_add(t);
	*id = busy ? 0 : t->id;
	pthread_mutex_unlock(&reg.mu);
	if (busy) {
		snprintf(err, errlen, "%d imports are running already; try "
			 "again later", IO_RUNNING_MAX);
		task_free(t);
		return SC_ERR_BUSY;
	}
	loop_work(app_loop(a), ir_batch_work, ir_batch_done, t);
	return SC_OK;
}

/* ======================= reports ======================= */

static void io_times(cJSON *o, const struct io_task *t)
{
	char s[40];
	sc_iso8601(t->started_at, s, sizeof(s));
	cJSON_AddStringToObject(o, "started_at", s);
	if (t->finished_at) {
		sc_iso8601(t->finished_at, s, sizeof(s));
		cJSON_AddStringToObject(o, "finished_at", s);
		cJSON_AddNumberToObject(o, "ms", (double)(t->finished_at - t->started_at));
	} else {
		cJSON_AddNullToObject(o, "finished_at");
		cJSON_AddNumberToObject(o, "ms", (double)(sc_wall_ms() - t->started_at));
	}
	if (t->error[0])
		cJSON_AddStringToObject(o, "error", t->error);
	else
		cJSON_AddNullToObject(o, "error");
}

static void ir_skip_json(cJSON *arr, const struct io_reject *r)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "line", r->line);
	cJSON_AddStringToObject(s, "code", r->code);
	cJSON_AddStringToObject(s, "reason", r->reason ? r->reason : "");
	if (r->text)
		cJSON_AddStringToObject(s, "text", r->text);
	else
		cJSON_AddNullToObject(s, "text");
	cJSON_AddItemToArray(arr, s);
}

/* The first IO_SKIPS_MAX skipped records: the file's, then the late ones. */
static void ir_skips_json(cJSON *o, const struct io_task *t)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "skipped_lines");
	size_t n = 0, parse = t->imp ? t->imp->nrejects : 0;
	for (size_t i = 0; i < parse && n < IO_SKIPS_MAX; i++, n++)
		ir_skip_json(arr, &t->imp->rejects[i]);
	for (size_t i = 0; i < t->nlate && n < IO_SKIPS_MAX; i++, n++)
		ir_skip_json(arr, &t->late[i]);
	cJSON_AddBoolToObject(o, "skipped_lines_truncated",
			      parse + t->nlate > IO_SKIPS_MAX);
}

static cJSON *ir_json(const struct io_task *t, int full)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)t->id);
	cJSON_AddStringToObject(o, "state", io_state_names[t->state]);
	ir_add_counts(o, t);
	cJSON_AddStringToObject(o, "format",
				io_format_name(t->imp ? t->imp->format : IO_FMT_AUTO));
	cJSON_AddBoolToObject(o, "capture", t->capture);
	cJSON_AddNumberToObject(o, "lock_ms_max", (double)t->lock_ms_max);
	cJSON *tags = cJSON_AddArrayToObject(o, "tags");
	for (size_t i = 0; i < t->ntags; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(t->tags[i]));
	io_times(o, t);
	if (full)
		ir_skips_json(o, t);
	return o;
}

cJSON *io_import_report(int64_t id, int full)
{
	pthread_mutex_lock(&reg.mu);
	struct io_task *t = reg_find(IO_K_IMPORT, id);
	cJSON *o = t ? ir_json(t, full) : NULL;
	pthread_mutex_unlock(&reg.mu);
	return o;
}

cJSON *io_imports_list(void)
{
	cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
	pthread_mutex_lock(&reg.mu);
	for (size_t i = reg.n[IO_K_IMPORT]; i-- > 0;)
		cJSON_AddItemToArray(items, ir_json(reg.tasks[IO_K_IMPORT][i], 0));
	pthread_mutex_unlock(&reg.mu);
	return o;
}

/* ======================= backups ======================= */

static void bt_hold(void *ud, int on)
{
	struct io_task *t = ud;
	(void)app_write_hold(t->app, on);
}

static int bt_progress(void *ud, const char *stage, int64_t done,
		       int64_t total)
{
	struct io_task *t = ud;
	int64_t now = sc_now_ms();
	if (done < total && now - t->last_event < IO_EVENT_EVERY_MS)
		return reg_stopping();
	t->last_event = now;
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "backup", (double)t->id);
	cJSON_AddStringToObject(f, "stage", stage);
	cJSON_AddNumberToObject(f, "done", (double)done);
	cJSON_AddNumberToObject(f, "total", (double)total);
	app_event(t->app, NULL, EV_BACKUP_PROGRESS, 0, 0, f);
	return reg_stopping();
}

static cJSON *bt_json(const struct io_task *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)t->id);
	cJSON_AddStringToObject(o, "state", io_state_names[t->state]);
	if (t->st.dir[0])
		cJSON_AddStringToObject(o, "path", t->st.dir);
	else
		cJSON_AddNullToObject(o, "path");
	cJSON_AddNumberToObject(o, "catalog_bytes", (double)t->st.catalog_bytes);
	cJSON_AddNumberToObject(o, "files", (double)t->st.files);
	cJSON_AddNumberToObject(o, "files_bytes", (double)t->st.files_bytes);
	cJSON_AddNumberToObject(o, "linked", (double)t->st.linked);
	cJSON_AddNumberToObject(o, "copied", (double)t->st.copied);
	cJSON_AddNumberToObject(o, "missing", (double)t->st.missing);
	io_times(o, t);
	return o;
}

static void bt_work(void *arg)
{
	struct io_task *t = arg;
	char dest[4096], err[512] = "";
	struct io_backup_stats st;
	/* the writer's pointer: each step holds it (bt_hold) */
	struct catalog *c = app_write_hold(t->app, 1);
	(void)app_write_hold(t->app, 0);
	snprintf(dest, sizeof(dest), "%.3000s/backups/%s", app_data_dir(t->app),
		 t->name);
	struct io_backup_opts o = {.catalog = c, .hold = bt_hold,
		.progress = bt_progress, .ud = t, .data_dir = app_data_dir(t->app),
		.dest_dir = t->name[0] ? dest : NULL};
	sc_result rc = io_backup_run(&o, &st, err, sizeof(err));
	if (!rc && !realpath(st.dir, dest))
		snprintf(dest, sizeof(dest), "%s", st.dir);
	pthread_mutex_lock(&reg.mu);
	if (!rc) {
		t->st = st;
		snprintf(t->st.dir, sizeof(t->st.dir), "%s", dest);
	}
	t->state = !rc ? IO_S_DONE : rc == SC_ERR_CANCELED ? IO_S_STOPPED
							   : IO_S_FAILED;
	if (rc)
		snprintf(t->error, sizeof(t->error), "%s", err);
	t->finished_at = sc_wall_ms();
	cJSON *f = bt_json(t);
	pthread_mutex_unlock(&reg.mu);
	cJSON_DeleteItemFromObject(f, "id");
	cJSON_AddNumberToObject(f, "backup", (double)t->id);
	struct app *a = t->app;
	app_event(a, NULL, rc ? EV_BACKUP_FAILED : EV_BACKUP_DONE, 0, 0, f);
	io_release(t);
}

static int bt_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= 100 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

sc_result io_backup_start(struct app *a, const char *name, int64_t *id,
			  char *err, size_t errlen)
{
	*id = 0;
	if (name && !bt_name_ok(name)) {
		snprintf(err, errlen, "name must be 1 to 99 letters, digits, "
			 "'.', '_' or '-'");
		return SC_ERR_INVALID;
	}
	struct io_task *t = sc_xcalloc(1, sizeof(*t));
	t->kind = IO_K_BACKUP;
	t->held = 1;
	t->app = a;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	t->started_at = sc_wall_ms();
	t->t0 = sc_now_ms();
	pthread_mutex_lock(&reg.mu);
	int busy = reg.stopping || reg_running(IO_K_BACKUP) > 0 || reg_add(t);
	*id = busy ? 0 : t->id;
	pthread_mutex_unlock(&reg.mu);
	if (busy) {
		snprintf(err, errlen, "a backup is running already");
		task_free(t);
		return SC_ERR_BUSY;
	}
	loop_work(app_loop(a), bt_work, NULL, t);
	return SC_OK;
}

cJSON *io_backup_report(int64_t id)
{
	pthread_mutex_lock(&reg.mu);
	struct io_task *t = reg_find(IO_K_BACKUP, id);
	cJSON *o = t ? bt_json(t) : NULL;
	pthread_mutex_unlock(&reg.mu);
	return o;
}
