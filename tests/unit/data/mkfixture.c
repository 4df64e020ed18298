/*
 * mkfixture.c — make a small catalog.db with a bit of everything, and the
 * text catalog_dump.h reads back from it, for test_catalog_upgrade.c.
 *
 *   mkfixture OUT.db OUT.expected
 *   links, tags, schedules, jobs in every state, snapshots (ok, partial,
 *   failed, pending, a diff), events (some pruned), webhooks and their
 *   deliveries -> catalog_close (the WAL is folded in) -> catalog_dump
 *
 * Build it against the catalog of the commit whose on-disk format is to be
 * kept (see README in this folder for the command and which commit made
 * the committed fixture). It uses only the public API, so it still builds
 * against later code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_dump.h"
#include "hooks_store.h"

static int64_t now_ms = 1700000000000;

static int64_t clock_fn(void *ud)
{
	(void)ud;
	return now_ms += 1000;
}

static void must(sc_result rc, struct catalog *c, const char *what)
{
	if (rc) {
		fprintf(stderr, "mkfixture: %s: %s (%s)\n", what,
			sc_strerror(rc), c ? catalog_errmsg(c) : "");
		exit(1);
	}
}

static int64_t link(struct catalog *c, const char *url, const char *t1,
		    const char *t2)
{
	int64_t id = 0;
	const char *tags[] = {t1, t2};
	must(catalog_link_add(c, url, &id, NULL), c, url);
	must(catalog_link_set_tags(c, id, tags, t2 ? 2 : t1 ? 1 : 0), c, "tags");
	return id;
}

/* Enqueue, claim and return a running job of link. */
static int64_t running(struct catalog *c, int64_t link_id, const char *opt)
{
	int64_t id = 0;
	struct catalog_job *j = NULL;
	must(catalog_job_enqueue(c, link_id, opt, 0, &id), c, "enqueue");
	must(catalog_job_claim(c, &j), c, "claim");
	if (j->id != id) {
		fprintf(stderr, "mkfixture: claimed %lld, not %lld\n",
			(long long)j->id, (long long)id);
		exit(1);
	}
	catalog_job_free(&j);
	return id;
}

static int64_t snapshot(struct catalog *c, int64_t link_id, int64_t job,
			struct catalog_snapshot *s)
{
	must(catalog_snapshot_create(c, link_id, job, &s->id), c, "snapshot");
	if (s->state != CATALOG_SNAP_PENDING)
		must(catalog_snapshot_finish(c, s), c, "finish");
	return s->id;
}

static void links_and_jobs(struct catalog *c)
{
	int64_t a = link(c, "https://example.com/news/1", "news", "Tech");
	int64_t b = link(c, "https://example.org/%C3%A9t%C3%A9", "été", "news");
	int64_t r = link(c, "https://example.net/", "Reading List", NULL);
	int64_t gone = link(c, "https://deleted.example/", "gone", NULL);
	int64_t run = link(c, "https://example.com/running", NULL, NULL);
	int64_t j = running(c, a, "{\"full_page\":true}");
	struct catalog_snapshot s1 = {
		.state = CATALOG_SNAP_OK, .final_url = "https://example.com/news/1",
		.title = "News one", .http_status = 200, .width = 1280,
		.height = 2400, .dir = "snapshots/1", .png_path = "snapshots/1/page.png",
		.mhtml_path = "snapshots/1/page.mhtml",
		.thumb_path = "snapshots/1/thumb.png", .png_bytes = 1000,
		.mhtml_bytes = 2000,
		.text = "The quick brown xylophone jumps. Café au lait.",
		.timings = "{\"total\":1234,\"load\":800}",
		.png_status = CATALOG_OUT_OK, .mhtml_status = CATALOG_OUT_OK,
		.thumb_status = CATALOG_OUT_OK, .text_status = CATALOG_OUT_OK,
		.png_sha256 = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11",
	};
	must(catalog_job_progress(c, j, 40, "navigating"), c, "progress");
	must(catalog_job_done(c, j, snapshot(c, a, j, &s1)), c, "done");
	/* b: two versions with a diff, a failed one, a failed and a
	 * canceled job; its own title, options, schedule and retention */
	j = running(c, b, NULL);
	struct catalog_snapshot s2 = s1;
	s2.final_url = "https://example.org/été";
	s2.title = "Été", s2.dir = "snapshots/2", s2.png_path = "snapshots/2/page.png";
	s2.text = "summer example page";
	must(catalog_job_done(c, j, snapshot(c, b, j, &s2)), c, "done b");
	j = running(c, b, NULL);
	struct catalog_snapshot s3 = s2;
	s3.dir = "snapshots/3", s3.png_path = "snapshots/3/page.png";
	s3.png_shared = 1, s3.diff_against = s2.id, s3.diff_ratio = 0.125;
	s3.diff_changed = 4242, s3.diff_boxes = "[[0,0,10,20],[5,5,1,1]]";
	s3.diff_path = "snapshots/3/diff.png";
	must(catalog_job_done(c, j, snapshot(c, b, j, &s3)), c, "done b2");
	j = running(c, b, NULL);
	struct catalog_snapshot s4 = {
		.state = CATALOG_SNAP_FAILED, .error_class = "timeout",
		.error_message = "navigation took over 30 s",
		.png_status = CATALOG_OUT_FAILED, .mhtml_status = CATALOG_OUT_SKIPPED,
		.thumb_status = CATALOG_OUT_SKIPPED, .text_status = CATALOG_OUT_FAILED,
	};
	(void)snapshot(c, b, j, &s4);
	must(catalog_job_fail(c, j, "timeout", "navigation took over 30 s"), c,
	     "fail");
	must(catalog_job_enqueue(c, b, NULL, 0, &j), c, "enqueue b");
	must(catalog_job_cancel(c, j, NULL), c, "cancel");
	must(catalog_link_set_title(c, b, "Hand title"), c, "title");
	must(catalog_link_set_bookmarked(c, b, 1600000000000), c, "bookmarked");
	must(catalog_link_set_options(c, b, "{\"delay_ms\":500}"), c, "options");
	struct catalog_schedule own = {.spec = "every 6h",
				       .next_at = 1700000500000,
				       .keep_last = 2, .keep_changed = 1};
	must(catalog_link_set_schedule(c, b, &own), c, "schedule");
	/* r: a partial snapshot, then a job waiting out a back-off */
	j = running(c, r, NULL);
	struct catalog_snapshot s5 = {
		.state = CATALOG_SNAP_PARTIAL, .title = "Reading",
		.text = "a list of things to read", .dir = "snapshots/5",
		.png_path = "snapshots/5/page.png", .png_bytes = 77,
		.png_status = CATALOG_OUT_OK, .mhtml_status = CATALOG_OUT_FAILED,
		.thumb_status = CATALOG_OUT_OK, .text_status = CATALOG_OUT_OK,
		.png_sha256 = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11",
	};
	must(catalog_job_done(c, j, snapshot(c, r, j, &s5)), c, "done r");
	j = running(c, r, NULL);
	must(catalog_job_requeue(c, j, 3600000, "net", "connection reset",
				 NULL), c, "requeue");
	struct catalog_schedule daily = {.spec = "daily", .keep_last = 5};
	must(catalog_tag_set_schedule(c, "reading list", &daily), c, "tag sched");
	/* run: left running with a pending snapshot (a crash) */
	j = running(c, run, NULL);
	must(catalog_job_progress(c, j, 60, "capturing"), c, "progress");
	struct catalog_snapshot s6 = {.state = CATALOG_SNAP_PENDING};
	(void)snapshot(c, run, j, &s6);
	must(catalog_link_delete(c, gone, NULL), c, "delete");
	now_ms -= 100000; /* the clock went back: created_at is clamped */
	(void)link(c, "https://x.example/late", NULL, NULL);
}

static void events_and_hooks(struct catalog *c)
{
	int64_t id = 0, a = 0, b = 0, made = 0, ping = 0;
	must(catalog_event_append(c, "job.queued", 0, 1, 1, "{\"n\":0}", &id),
	     c, "event");
	must(hooks_store_init(c, NULL), c, "hooks init");
	must(hooks_store_add(c, "http://127.0.0.1:9/a", "secret-aaaa-aaaa",
			     HOOKS_EV_JOB_DONE, &a), c, "hook a");
	must(hooks_store_add(c, "http://127.0.0.1:9/b", "secret-bbbb-bbbb",
			     HOOKS_EV_ALL, &b), c, "hook b");
	struct hooks_event ev[4];
	const char *types[] = {"job.done", "job.failed", "job.progress",
			       "snapshot.changed"};
	char payload[4][32];
	for (int i = 0; i < 4; i++) {
		snprintf(payload[i], sizeof(payload[i]), "{\"i\":%d}", i);
		must(catalog_event_append(c, types[i], 0, i + 1, 2, payload[i],
					  &id), c, "event");
		ev[i] = (struct hooks_event){id, types[i], payload[i]};
	}
	must(hooks_store_ingest(c, ev, 4, &made), c, "ingest");
	struct hooks_claim_list *l = NULL;
	must(hooks_store_claim(c, 4102444800000, 2, &l), c, "claim");
	struct hooks_outcome ok = {.state = "ok", .status = 200,
				   .duration_ms = 12, .at = 1700000100000};
	struct hooks_outcome retry = {.state = "pending", .status = 503,
				      .error = "HTTP 503", .duration_ms = 30,
				      .next_at = 1700000200000,
				      .at = 1700000110000};
	must(hooks_store_record(c, l->items[0].id, &ok), c, "record");
	must(hooks_store_record(c, l->items[1].id, &retry), c, "record");
	hooks_claim_list_free(&l);
	must(hooks_store_ping(c, a, "{\"ping\":true}", &ping), c, "ping");
	struct hooks_change ch = {.events = HOOKS_EV_JOB_FAILED, .active = 0};
	must(hooks_store_update(c, b, &ch), c, "update");
	for (int i = 0; i < 3; i++)
		must(catalog_event_append(c, "link.added", 0, 0, 6, NULL, &id),
		     c, "event");
	int64_t deleted = 0;
	must(catalog_events_prune(c, 5, &deleted), c, "prune");
}

int main(int argc, char **argv)
{
	struct catalog *c = NULL;
	char err[512];
	if (argc != 3) {
		fprintf(stderr, "usage: mkfixture OUT.db OUT.expected\n");
		return 2;
	}
	must(catalog_open(argv[1], &c, err, sizeof(err)), NULL, err);
	catalog_set_clock(c, clock_fn, NULL);
	links_and_jobs(c);
	events_and_hooks(c);
	catalog_close(&c);
	must(catalog_open(argv[1], &c, err, sizeof(err)), NULL, err);
	FILE *f = fopen(argv[2], "w");
	if (!f)
		return 1;
	catalog_dump(f, c, 8);
	fclose(f);
	catalog_close(&c);
	return 0;
}
