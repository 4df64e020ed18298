/*
 * catalog_dump.h — everything a catalog holds, read back through the public
 * API (catalog.h, hooks_store.h) and printed as text, one fact a line.
 *
 *   tests/unit/data/mkfixture.c: fill a catalog -> catalog_dump -> .expected
 *   test_catalog_upgrade.c: open the fixture (migrations) -> catalog_dump
 *        -> compared with .expected byte for byte
 *
 * It uses only the public API, so that the same text comes out of the code
 * that wrote a fixture and of the code that reads it years later: a change
 * in what a call returns for old data shows as a diff. Keep it that way
 * (no sqlite3 here); add lines at the end of a section, never reorder.
 */
#ifndef CATALOG_DUMP_H
#define CATALOG_DUMP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"
#include "hooks_store.h"

#define DUMP_S(s) ((s) ? (s) : "(null)")

static void dump_link(FILE *f, const struct catalog_link *l)
{
	fprintf(f, "link %" PRId64 " url=%s title=%s locked=%d created=%" PRId64
		" updated=%" PRId64 " last_snap=%" PRId64 " last_job=%" PRId64
		" last_job_state=%s\n", l->id, l->url, DUMP_S(l->title),
		l->title_locked, l->created_at, l->updated_at,
		l->last_snapshot_id, l->last_job_id,
		l->last_job_id ? catalog_job_state_name(l->last_job_state) : "-");
	fprintf(f, "  options=%s schedule=%s effective=%s next=%" PRId64
		" keep_last=%d keep_changed=%d bookmarked=%" PRId64 " tags=",
		DUMP_S(l->options), DUMP_S(l->schedule),
		DUMP_S(l->schedule_effective), l->next_capture_at, l->keep_last,
		l->keep_changed, l->bookmarked_at);
	for (size_t i = 0; i < l->ntags; i++)
		fprintf(f, "%s%s", i ? "," : "", l->tags[i]);
	fputc('\n', f);
}

/* Every page of a link query, limit 2 so that cursors are walked. */
static void dump_links_query(FILE *f, struct catalog *c, const char *what,
			     struct catalog_link_query q)
{
	char cur[CATALOG_CURSOR_SIZE] = "";
	q.limit = 2;
	fprintf(f, "query %s:", what);
	do {
		struct catalog_link_list *l = NULL;
		q.cursor = cur[0] ? cur : NULL;
		sc_result rc = catalog_links_list(c, &q, &l);
		if (rc) {
			fprintf(f, " error %s\n", sc_strerror(rc));
			return;
		}
		for (size_t i = 0; i < l->n; i++)
			fprintf(f, " %" PRId64, l->items[i].id);
		fprintf(f, " |%s", l->next_cursor);
		snprintf(cur, sizeof(cur), "%s", l->next_cursor);
		catalog_link_list_free(&l);
	} while (cur[0]);
	fputc('\n', f);
}

static void dump_snapshot(FILE *f, const struct catalog_snapshot *s)
{
	fprintf(f, "snapshot %" PRId64 " link=%" PRId64 " job=%" PRId64
		" created=%" PRId64 " finished=%" PRId64 " state=%s final=%s"
		" title=%s http=%d %dx%d trunc=%d dir=%s png=%s mhtml=%s"
		" thumb=%s bytes=%" PRId64 "/%" PRId64 "\n", s->id, s->link_id,
		s->job_id, s->created_at, s->finished_at,
		catalog_snap_state_name(s->state), DUMP_S(s->final_url),
		DUMP_S(s->title), s->http_status, s->width, s->height,
		s->truncated, DUMP_S(s->dir), DUMP_S(s->png_path),
		DUMP_S(s->mhtml_path), DUMP_S(s->thumb_path), s->png_bytes,
		s->mhtml_bytes);
	fprintf(f, "  text=%s timings=%s error=%s/%s outs=%s,%s,%s,%s sha=%s"
		" shared=%d diff=%" PRId64 " ratio=%.6f changed=%" PRId64
		" boxes=%s diff_path=%s\n", DUMP_S(s->text), DUMP_S(s->timings),
		DUMP_S(s->error_class), DUMP_S(s->error_message),
		catalog_out_name(s->png_status), catalog_out_name(s->mhtml_status),
		catalog_out_name(s->thumb_status), catalog_out_name(s->text_status),
		s->png_sha256, s->png_shared, s->diff_against, s->diff_ratio,
		s->diff_changed, DUMP_S(s->diff_boxes), DUMP_S(s->diff_path));
}

static void dump_job(FILE *f, const struct catalog_job *j)
{
	fprintf(f, "job %" PRId64 " link=%" PRId64 " url=%s state=%s"
		" attempts=%d/%d options=%s created=%" PRId64 " started=%" PRId64
		" finished=%" PRId64 " run_after=%" PRId64 " error=%s/%s snap=%"
		PRId64 " progress=%d stage=%s\n", j->id, j->link_id, j->url,
		catalog_job_state_name(j->state), j->attempts, j->max_attempts,
		j->options, j->created_at, j->started_at, j->finished_at,
		j->run_after, DUMP_S(j->error_class), DUMP_S(j->error_message),
		j->snapshot_id, j->progress, DUMP_S(j->stage));
}

/* Links, one by one and through every kind of list. */
static void dump_links(FILE *f, struct catalog *c, int64_t max_id)
{
	for (int64_t id = 1; id <= max_id; id++) {
		struct catalog_link *l = NULL;
		if (catalog_link_get(c, id, &l) == SC_OK)
			dump_link(f, l);
		else
			fprintf(f, "link %" PRId64 " none\n", id);
		catalog_link_free(&l);
	}
	const char *one[] = {"news"}, *two[] = {"news", "été"};
	dump_links_query(f, c, "all", (struct catalog_link_query){0});
	dump_links_query(f, c, "tag news",
			 (struct catalog_link_query){.tags = one, .ntags = 1});
	dump_links_query(f, c, "all of news,été",
			 (struct catalog_link_query){.tags = two, .ntags = 2});
	dump_links_query(f, c, "any of news,été",
			 (struct catalog_link_query){.tags = two, .ntags = 2,
						     .match = CATALOG_MATCH_ANY});
	dump_links_query(f, c, "q xylophone",
			 (struct catalog_link_query){.q = "xylophone"});
	dump_links_query(f, c, "q cafe",
			 (struct catalog_link_query){.q = "cafe"});
	dump_links_query(f, c, "q exam*",
			 (struct catalog_link_query){.q = "exam*"});
	dump_links_query(f, c, "tag news q example",
			 (struct catalog_link_query){.tags = one, .ntags = 1,
						     .q = "example"});
}

static void dump_tags(FILE *f, struct catalog *c)
{
	struct catalog_tag_list *t = NULL;
	if (catalog_tags_list(c, &t)) {
		fprintf(f, "tags error\n");
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct catalog_schedule s = {0};
		char *spec = NULL;
		int64_t nlinks = 0;
		sc_result rc = catalog_tag_schedule(c, t->items[i].name, &s,
						    &spec, &nlinks);
		fprintf(f, "tag %s count=%" PRId64 " rc=%d schedule=%s keep=%d/%d"
			" nlinks=%" PRId64 "\n", t->items[i].name,
			t->items[i].count, (int)rc, DUMP_S(spec), s.keep_last,
			s.keep_changed, nlinks);
		free(spec);
	}
	catalog_tag_list_free(&t);
}

static void dump_jobs(FILE *f, struct catalog *c)
{
	struct catalog_job_query q = {.state = CATALOG_JOB_ANY, .limit = 3};
	char cur[CATALOG_CURSOR_SIZE] = "";
	do {
		struct catalog_job_list *l = NULL;
		q.cursor = cur[0] ? cur : NULL;
		if (catalog_jobs_list(c, &q, &l)) {
			fprintf(f, "jobs error\n");
			return;
		}
		for (size_t i = 0; i < l->n; i++)
			dump_job(f, &l->items[i]);
		snprintf(cur, sizeof(cur), "%s", l->next_cursor);
		fprintf(f, "jobs page |%s\n", cur);
		catalog_job_list_free(&l);
	} while (cur[0]);
	struct catalog_job_query latest = {.state = CATALOG_JOB_ANY,
					   .latest = 1};
	struct catalog_job_list *l = NULL;
	if (!catalog_jobs_list(c, &latest, &l)) {
		fprintf(f, "latest jobs:");
		for (size_t i = 0; i < l->n; i++)
			fprintf(f, " %" PRId64, l->items[i].id);
		fputc('\n', f);
	}
	catalog_job_list_free(&l);
	int64_t counts[CATALOG_JOB_CANCELED + 1], backoff = 0, n = 0;
	if (!catalog_jobs_count_by_state(c, counts, &backoff) &&
	    !catalog_jobs_count(c, CATALOG_JOB_ANY, &n))
		fprintf(f, "jobs by state %" PRId64 " %" PRId64 " %" PRId64
			" %" PRId64 " %" PRId64 " backoff=%" PRId64 " all=%"
			PRId64 "\n", counts[0], counts[1], counts[2], counts[3],
			counts[4], backoff, n);
}

static void dump_snapshots(FILE *f, struct catalog *c, int64_t max_link)
{
	for (int64_t id = 1; id <= max_link; id++) {
		char cur[CATALOG_CURSOR_SIZE] = "";
		do {
			struct catalog_snapshot_list *l = NULL;
			if (catalog_snapshots_list(c, id, cur[0] ? cur : NULL, 2,
						   &l))
				return;
			for (size_t i = 0; i < l->n; i++) {
				struct catalog_snapshot *s = NULL;
				dump_snapshot(f, &l->items[i]);
				if (!catalog_snapshot_get(c, l->items[i].id, 1,
							  &s))
					dump_snapshot(f, s);
				catalog_snapshot_free(&s);
			}
			snprintf(cur, sizeof(cur), "%s", l->next_cursor);
			catalog_snapshot_list_free(&l);
		} while (cur[0]);
		struct catalog_png p;
		if (!catalog_snapshot_prev(c, id, INT64_MAX, &p)) {
			char *other = NULL;
			sc_result rc = catalog_png_by_sha(c, p.sha256, p.id,
							  &other);
			fprintf(f, "prev png of %" PRId64 ": %" PRId64 " %s %s"
				" same=%d %s\n", id, p.id, p.path, p.sha256,
				(int)rc, DUMP_S(other));
			free(p.path);
			free(other);
		}
	}
	int64_t n = 0, png = 0, mhtml = 0, pdf = 0;
	if (!catalog_snapshots_stored(c, &n, &png, &mhtml, &pdf))
		fprintf(f, "stored %" PRId64 " png=%" PRId64 " mhtml=%" PRId64
			"\n", n, png, mhtml);
}

static void dump_events(FILE *f, struct catalog *c)
{
	int64_t after = 0, lo = 0, hi = 0;
	for (;;) {
		struct catalog_event_list *l = NULL;
		if (catalog_events_list(c, after, NULL, 3, &l))
			return;
		for (size_t i = 0; i < l->n; i++) {
			const struct catalog_event *e = &l->items[i];
			fprintf(f, "event %" PRId64 " %s ts=%" PRId64 " job=%"
				PRId64 " link=%" PRId64 " %s\n", e->id, e->type,
				e->ts, e->job_id, e->link_id, e->json);
			after = e->id;
		}
		size_t n = l->n;
		catalog_event_list_free(&l);
		if (!n)
			break;
	}
	if (!catalog_events_bounds(c, &lo, &hi))
		fprintf(f, "events bounds %" PRId64 "..%" PRId64 "\n", lo, hi);
}

static void dump_due(FILE *f, struct catalog *c)
{
	for (int adopt = 0; adopt < 2; adopt++) {
		struct catalog_due_list *l = NULL;
		if (catalog_links_due(c, INT64_MAX / 2, 100, adopt, &l))
			return;
		fprintf(f, "due adopt=%d:", adopt);
		for (size_t i = 0; i < l->n; i++)
			fprintf(f, " %" PRId64 "(%s,%s,%d)", l->items[i].link_id,
				DUMP_S(l->items[i].url), DUMP_S(l->items[i].spec),
				l->items[i].job_active);
		fputc('\n', f);
		catalog_due_list_free(&l);
	}
}

static void dump_hooks(FILE *f, struct catalog *c)
{
	struct hooks_webhook_list *w = NULL;
	int64_t cursor = -1, due = -1;
	if (hooks_store_list(c, &w)) {
		fprintf(f, "webhooks error\n");
		return;
	}
	for (size_t i = 0; i < w->n; i++) {
		const struct hooks_webhook *h = &w->items[i];
		fprintf(f, "webhook %" PRId64 " %s secret=%s events=%u active=%d"
			" created=%" PRId64 " updated=%" PRId64 " pending=%"
			PRId64 " last=%s@%" PRId64 "\n", h->id, h->url,
			h->secret, h->events, h->active, h->created_at,
			h->updated_at, h->pending, DUMP_S(h->last_state),
			h->last_at);
		int64_t before = 0;
		do {
			struct hooks_delivery_list *d = NULL;
			if (hooks_store_deliveries(c, h->id, before, 2, &d))
				break;
			for (size_t k = 0; k < d->n; k++) {
				const struct hooks_delivery *x = &d->items[k];
				fprintf(f, "  delivery %" PRId64 " hook=%" PRId64
					" event=%" PRId64 " %s %s %s err=%s"
					" history=%s attempts=%d status=%d ms=%"
					PRId64 " next=%" PRId64 " at=%" PRId64
					"/%" PRId64 "\n", x->id, x->webhook_id,
					x->event_id, x->type, x->state,
					x->payload, DUMP_S(x->last_error),
					x->history, x->attempts, x->last_status,
					x->duration_ms, x->next_at,
					x->created_at, x->updated_at);
			}
			before = d->next_cursor;
			hooks_delivery_list_free(&d);
		} while (before);
	}
	hooks_webhook_list_free(&w);
	(void)!hooks_store_cursor(c, &cursor);
	(void)!hooks_store_next_due(c, &due);
	fprintf(f, "hooks cursor=%" PRId64 " next_due=%" PRId64 "\n", cursor,
		due);
}

/* The whole catalog (links 1..max_id) as text into f. */
static __attribute__((unused)) void catalog_dump(FILE *f, struct catalog *c,
						 int64_t max_id)
{
	dump_links(f, c, max_id);
	dump_tags(f, c);
	dump_jobs(f, c);
	dump_snapshots(f, c, max_id);
	dump_events(f, c);
	dump_due(f, c);
	dump_hooks(f, c);
}

#endif
