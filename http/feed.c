/*
 * feed.c — event subscribers (see feed.h): registry, filters, replay from
 * the catalog, bounded queues and the framing shared by the channels; each
 * channel is a file of its own (feed_sse.c, feed_poll.c, feed_ws.c,
 * feed_frame.c).
 *
 *   feed_*_open -> sub registered (replaying: live events go to pending)
 *     -> worker feed_replay_work (its reader, one read transaction):
 *        catalog_events_bounds + events_list
 *     -> loop feed_replay_done: reset? + replayed events + pending (id >
 *        last sent) -> live
 *   app sink feed_on_event -> match -> enqueue -> writable / poll answer
 */
#include "feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

/* ---- queues ---- */

struct feed_frame *feed_frame_new(const char *data, size_t len, int64_t id)
{
	struct feed_frame *f = sc_xmalloc(sizeof(*f) + len + 1);
	f->refs = 1;
	f->id = id;
	f->len = len;
	memcpy(f->data, data, len);
	f->data[len] = 0;
	return f;
}

static void feed_frame_unref(struct feed_frame *f)
{
	if (f && --f->refs == 0)
		free(f);
}

void feed_rec_free(struct feed_rec *r)
{
	feed_frame_unref(r->f);
	free(r);
}

static void feed_queue_init(struct feed_queue *q)
{
	memset(q, 0, sizeof(*q));
	q->tail = &q->head;
}

static void feed_queue_clear(struct feed_queue *q)
{
	for (struct feed_rec *r = q->head, *n; r; r = n) {
		n = r->next;
		feed_rec_free(r);
	}
	feed_queue_init(q);
}

struct feed_rec *feed_queue_pop(struct feed_queue *q)
{
	struct feed_rec *r = q->head;
	if (!r)
		return NULL;
	q->head = r->next;
	if (!q->head)
		q->tail = &q->head;
	q->bytes -= r->f->len;
	q->n--;
	return r;
}

/* Append a shared frame; -1 if the bounds would be passed (not added). */
static int feed_queue_push_frame(struct feed_queue *q, struct feed_frame *f,
			 size_t max_bytes)
{
	if (q->n >= FEED_QUEUE_RECS || q->bytes + f->len > max_bytes)
		return -1;
	struct feed_rec *r = sc_xmalloc(sizeof(*r));
	r->next = NULL;
	r->f = f;
	f->refs++;
	*q->tail = r;
	q->tail = &r->next;
	q->bytes += f->len;
	q->n++;
	return 0;
}

/* Append a copy of data as a frame of its own. */
int feed_queue_push(struct feed_queue *q, const char *data, size_t len,
		   size_t max_bytes)
{
	struct feed_frame *f = feed_frame_new(data, len, 0);
	int rc = feed_queue_push_frame(q, f, max_bytes);
	feed_frame_unref(f);
	return rc;
}

/* ---- filters ---- */

int feed_filter_parse(const struct http_req *req, struct feed_filter *f,
			     struct http_resp *resp)
{
	memset(f, 0, sizeof(*f));
	const char *job = http_arg(req, "job"), *link = http_arg(req, "link");
	const char *types = http_arg(req, "types");
	long v;
	if (job && sc_parse_long(job, 1, 0x7fffffffL, &v) == SC_OK)
		f->job = v;
	else if (job)
		goto bad;
	if (link && sc_parse_long(link, 1, 0x7fffffffL, &v) == SC_OK)
		f->link = v;
	else if (link)
		goto bad;
	for (const char *p = types; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n && f->ntypes < FEED_TYPES_MAX) /* too long: matches none */
			snprintf(f->types[f->ntypes++], sizeof(f->types[0]),
				 "%.*s", n < sizeof(f->types[0]) ? (int)n : 0,
				 n < sizeof(f->types[0]) ? p : "");
		p += n + (p[n] == ',');
	}
	return 0;
bad:
	http_resp_error(resp, 400, "invalid_field", job && !f->job ? "job" : "link",
			"job and link must be ids");
	return -1;
}

static int feed_match(const struct feed_filter *f, const struct app_event *e)
{
	if ((f->job && e->job_id != f->job) || (f->link && e->link_id != f->link))
		return 0;
	if (!f->ntypes)
		return 1;
	for (int i = 0; i < f->ntypes; i++)
		if (f->types[i][0] && !strcmp(f->types[i], e->type))
			return 1;
	return 0;
}

/* ---- framing ---- */

/* An event and its frames, made on first use: SSE text, or the bare JSON
 * (WebSocket, long-poll). */
struct feed_ev {
	const struct app_event *e;
	struct feed_frame *sse, *json, *html;
};

static struct feed_frame *feed_ev_frame(struct feed_ev *ev, enum feed_kind k)
{
	const struct app_event *e = ev->e;
	if (k == FEED_FRAME) {
		if (!ev->html)
			ev->html = feed_frame_html(e->json, e->id);
		return ev->html;
	}
	if (k != FEED_SSE) {
		if (!ev->json)
			ev->json = feed_frame_new(e->json, strlen(e->json), e->id);
		return ev->json;
	}
	if (!ev->sse) {
		char *t = sc_xasprintf("id: %lld\nevent: %s\ndata: %s\n\n",
				       (long long)e->id, e->type, e->json);
		ev->sse = feed_frame_new(t, strlen(t), e->id);
		free(t);
	}
	return ev->sse;
}

static void feed_ev_done(struct feed_ev *ev)
{
	feed_frame_unref(ev->sse);
	feed_frame_unref(ev->json);
	feed_frame_unref(ev->html);
}

static int feed_frame(struct feed_sub *s, struct feed_queue *q,
		      struct feed_ev *ev)
{
	return feed_queue_push_frame(q, feed_ev_frame(ev, s->kind), s->f->o.queue_bytes);
}

static void feed_replay_free(struct replay *r);

/* An event for s (live or replayed); ids at or below last_id are skipped. */
static void feed_deliver(struct feed_sub *s, struct feed_ev *ev)
{
	const struct app_event *e = ev->e;
	if (s->overflow || s->muted || s->finishing || e->id <= s->last_id ||
	    !feed_match(&s->flt, e))
		return;
	if (feed_frame(s, &s->q, ev)) {
		feed_drop(s, "its queue is full (a client that does not read)");
		return;
	}
	s->last_id = e->id;
	s->f->st.sent[s->kind]++;
	if (s->until_job && e->job_id == s->until_job &&
	    (e->t == EV_JOB_DONE || e->t == EV_JOB_FAILED)) {
		if (e->t == EV_JOB_FAILED) {
			char *t = sc_xasprintf("event: error\ndata: %s\n\n", e->json);
			(void)feed_queue_push(&s->q, t, strlen(t), SIZE_MAX);
			free(t);
		}
		(void)feed_queue_push(&s->q, "data: [DONE]\n\n", 14, SIZE_MAX);
		s->finishing = 1;
	}
	if (s->kind == FEED_POLL) {
		if (!s->replaying) /* replayed ones are answered together */
			feed_poll_answer(s);
	} else if (s->wsi) {
		lws_callback_on_writable(s->wsi);
	}
}

static void feed_on_event(void *ud, const struct app_event *e)
{
	struct feed *f = ud;
	struct feed_ev ev = {.e = e};
	if (e->id > f->newest_seen)
		f->newest_seen = e->id;
	for (struct feed_sub *s = f->subs, *n; s; s = n) {
		n = s->next;
		if (!s->replaying) {
			feed_deliver(s, &ev);
		} else if (feed_match(&s->flt, e) &&
			   feed_frame(s, &s->pending, &ev) == 0) {
			/* queued after the replay (feed_flush_pending) */
		} else if (feed_match(&s->flt, e)) {
			feed_drop(s, "too many events during its replay");
		}
	}
	feed_ev_done(&ev);
}

/* ---- registry ---- */

struct feed_sub *feed_sub_new(struct feed *f, enum feed_kind k)
{
	struct feed_sub *s = sc_xcalloc(1, sizeof(*s));
	s->f = f;
	s->kind = k;
	feed_queue_init(&s->q);
	feed_queue_init(&s->pending);
	s->next = f->subs;
	if (f->subs)
		f->subs->prev = s;
	f->subs = s;
	f->st.subs[k]++;
	s->active = 1;
	return s;
}

void feed_unlink(struct feed_sub *s)
{
	if (!s->active)
		return;
	s->active = 0;
	if (s->prev)
		s->prev->next = s->next;
	else
		s->f->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->f->st.subs[s->kind]--;
}

void feed_drop(struct feed_sub *s, const char *why)
{
	if (s->overflow)
		return;
	s->overflow = 1;
	s->f->st.dropped[s->kind]++;
	sc_log(SC_LOG_WARN, FEED_LOG, "dropping a %s subscriber: %s",
	       s->kind == FEED_SSE ? "SSE" : s->kind == FEED_WS ? "WebSocket"
	       : s->kind == FEED_FRAME ? "forever-frame" : "long-poll", why);
	if (s->wsi)
		lws_callback_on_writable(s->wsi); /* closes it there */
	else if (s->kind == FEED_POLL)
		feed_poll_answer(s);
}

void feed_sub_close(struct feed_sub **sp)
{
	struct feed_sub *s = *sp;
	if (!s)
		return;
	*sp = NULL;
	feed_unlink(s); /* no-op once feed_detach ran */
	loop_timer_cancel(&s->timer);
	s->wsi = NULL;
	if (s->replay_busy) {
		s->orphan = 1; /* feed_replay_done frees it */
		return;
	}
	feed_replay_free(s->rp);
	feed_queue_clear(&s->q);
	feed_queue_clear(&s->pending);
	free(s);
}

/* ---- replay ---- */

struct replay {
	struct feed_sub *s;
	struct app *app;       /* s->f->app, for the worker */
	struct catalog_event_filter cf;
	const char *types[FEED_TYPES_MAX];
	int64_t after, oldest, newest;
	struct catalog_event_list *list;
	int reset, from_start; /* from_start: no reset event (POST streams) */
};

static void feed_replay_free(struct replay *r)
{
	if (!r)
		return;
	catalog_event_list_free(&r->list);
	free(r);
}

static void feed_replay_work(void *arg)
{
	struct replay *r = arg;
	struct catalog *c = app_read_begin(r->app);
	/* one read transaction: the bounds and the pages see one state */
	int reading = catalog_read_begin(c) == SC_OK;
	if (catalog_events_bounds(c, &r->oldest, &r->newest) == SC_OK) {
		/* a resume point older than what is kept, or from the future
		 * (another database): tell the client, replay what is kept */
		if (r->from_start && r->oldest && r->after + 1 < r->oldest)
			r->after = r->oldest - 1; /* nothing older can match */
		else if (r->after > r->newest ||
			 (r->oldest && r->after + 1 < r->oldest)) {
			r->reset = 1;
			r->after = r->oldest ? r->oldest - 1 : r->newest;
		}
		int64_t from = r->after;
		while (from < r->newest) { /* in pages of CATALOG_LIST_MAX */
			struct catalog_event_list *page = NULL;
			if (catalog_events_list(c, from, &r->cf, CATALOG_LIST_MAX,
						&page) || !page->n) {
				catalog_event_list_free(&page);
				break;
			}
			from = page->items[page->n - 1].id;
			if (!r->list) {
				r->list = page;
				continue;
			}
			size_t n = r->list->n + page->n;
			r->list->items = sc_xrealloc(r->list->items,
						     n * sizeof(*r->list->items));
			memcpy(r->list->items + r->list->n, page->items,
			       page->n * sizeof(*page->items));
			r->list->n = n;
			page->n = 0;
			catalog_event_list_free(&page);
			if (n >= FEED_REPLAY_MAX)
				break;
		}
	}
	if (reading)
		catalog_read_end(c);
	app_read_end(r->app, c);
}

static void feed_replay_one(struct feed_sub *s, const struct catalog_event *e)
{
	char *json = app_event_json(e->id, e->type, e->ts, e->job_id,
				    e->link_id, e->json);
	struct app_event ae = {.id = e->id, .job_id = e->job_id,
			       .link_id = e->link_id, .type = e->type,
			       .json = json};
	struct feed_ev ev = {.e = &ae};
	feed_deliver(s, &ev);
	feed_ev_done(&ev);
	free(json);
}

/* Queue the live events that came during the replay: ids above the
 * replayed ones only (each frame carries its event id). */
static void feed_flush_pending(struct feed_sub *s)
{
	struct feed_rec *r;
	while ((r = feed_queue_pop(&s->pending))) {
		if (r->f->id > s->last_id && !s->overflow && !s->muted &&
		    !s->finishing) {
			if (feed_queue_push_frame(&s->q, r->f, s->f->o.queue_bytes))
				feed_drop(s, "its queue is full");
			else
				s->last_id = r->f->id;
		}
		feed_rec_free(r);
	}
}

static void feed_reset_rec(struct feed_sub *s, const struct replay *r)
{
	char t[256];
	if (s->kind == FEED_SSE)
		snprintf(t, sizeof(t), "event: reset\ndata: {\"type\":\"reset\","
			 "\"oldest\":%lld,\"newest\":%lld}\n\n",
			 (long long)r->oldest, (long long)r->newest);
	else
		snprintf(t, sizeof(t), "{\"type\":\"reset\",\"oldest\":%lld,"
			 "\"newest\":%lld}", (long long)r->oldest,
			 (long long)r->newest);
	(void)feed_queue_push(&s->q, t, strlen(t), SIZE_MAX);
}

/* After a channel's write: more of a replay into the queue, and another
 * WRITEABLE while anything is queued (or more is due). */
void feed_written(struct feed_sub *s, int more)
{
	if (s->rp)
		feed_replay_refill(s);
	if (s->q.n || more)
		lws_callback_on_writable(s->wsi);
}

/* A subscriber of kind k on wsi with req's filters, or NULL with resp set
 * (a bad filter, or the channel full). */
struct feed_sub *feed_sub_open(struct feed *f, enum feed_kind k,
			       struct lws *wsi, const struct http_req *req,
			       struct http_resp *resp)
{
	struct feed_filter flt;
	if (feed_filter_parse(req, &flt, resp) || feed_full(f, k, resp))
		return NULL;
	struct feed_sub *s = feed_sub_new(f, k);
	s->wsi = wsi;
	s->flt = flt;
	return s;
}

/* Move replayed events into the queue while it has room (half its
 * bounds), so a long replay is paced by the client instead of overflowing
 * it. When the list is used up: the live events that came meanwhile, then
 * live. */
void feed_replay_refill(struct feed_sub *s)
{
	struct replay *r = s->rp;
	size_t cap = s->f->o.queue_bytes / 2;
	while (r && r->list && s->rp_next < r->list->n && !s->overflow &&
	       s->q.bytes < cap && s->q.n < FEED_QUEUE_RECS / 2)
		feed_replay_one(s, &r->list->items[s->rp_next++]);
	if (r && (!r->list || s->rp_next >= r->list->n || s->overflow)) {
		feed_replay_free(r);
		s->rp = NULL;
	}
	if (s->rp)
		return;
	feed_flush_pending(s);
	s->replaying = 0;
}

static void feed_replay_done(void *arg)
{
	struct replay *r = arg;
	struct feed_sub *s = r->s;
	s->replay_busy = 0;
	if (s->orphan) {
		feed_replay_free(r);
		feed_queue_clear(&s->q);
		feed_queue_clear(&s->pending);
		free(s);
		return;
	}
	if (!s->f) { /* the feed is gone; its connection still holds s */
		feed_replay_free(r);
		return;
	}
	s->last_id = r->after;
	if (r->reset)
		feed_reset_rec(s, r);
	s->rp = r;
	s->rp_next = 0;
	feed_replay_refill(s);
	if (s->kind == FEED_POLL) {
		if (s->q.n || s->overflow || s->answer_due)
			feed_poll_answer(s);
	} else if (s->wsi) {
		lws_callback_on_writable(s->wsi);
	}
}

void feed_replay(struct feed_sub *s, int64_t after, int from_start)
{
	struct replay *r = sc_xcalloc(1, sizeof(*r));
	r->s = s;
	r->app = s->f->app;
	/* live only: from the newest event the loop has handed out, so an
	 * event committed after this subscription but before the replay
	 * query is still delivered */
	if (after == INT64_MAX)
		after = s->f->newest_seen;
	r->after = after;
	r->from_start = from_start;
	r->cf.job_id = s->flt.job;
	r->cf.link_id = s->flt.link;
	for (int i = 0; i < s->flt.ntypes; i++)
		r->types[i] = s->flt.types[i];
	r->cf.types = r->types;
	r->cf.ntypes = (size_t)s->flt.ntypes;
	s->replaying = 1;
	s->replay_busy = 1;
	loop_work(s->f->loop, feed_replay_work, feed_replay_done, r);
}

/* The resume point of a request: Last-Event-ID, ?last_event_id=, ?after=;
 * -1 when none (start live from now). */
int64_t feed_after(const struct http_req *req)
{
	const char *v = req->last_event_id ? req->last_event_id
					   : http_arg(req, "last_event_id");
	if (!v)
		v = http_arg(req, "after");
	long n;
	return v && sc_parse_long(v, 0, 0x7fffffffffffL, &n) == SC_OK ? n : -1;
}

int feed_full(struct feed *f, enum feed_kind k, struct http_resp *resp)
{
	if (f->st.subs[k] < f->o.max_subs)
		return 0;
	http_resp_error(resp, 503, "too_many_subscribers", NULL,
			"the server has %d subscribers of this kind; try later",
			f->o.max_subs);
	http_resp_header(resp, "Retry-After", "10");
	return 1;
}


/* ---- the feed ---- */

struct feed *feed_create(struct loop *l, struct app *a, const struct feed_opts *o)
{
	struct feed *f = sc_xcalloc(1, sizeof(*f));
	f->loop = l;
	f->app = a;
	if (o)
		f->o = *o;
	if (f->o.ping_ms <= 0)
		f->o.ping_ms = 15000;
	if (f->o.retry_ms <= 0)
		f->o.retry_ms = 2000;
	if (f->o.max_subs <= 0)
		f->o.max_subs = 10000;
	if (!f->o.queue_bytes)
		f->o.queue_bytes = 1 << 20;
	f->newest_seen = app_event_last(a); /* the bus's: stored or not */
	app_add_sink(a, feed_on_event, f);
	return f;
}

void feed_stats(const struct feed *f, struct feed_stats *s) { *s = f->st; }

/* Forget s without freeing it: its connection owns it and frees it with
 * feed_sub_close when lws closes that connection, which may be after the
 * feed is gone. */
static void feed_detach(struct feed_sub *s)
{
	feed_unlink(s);
	loop_timer_cancel(&s->timer);
	s->f = NULL;
	s->wsi = NULL;
	s->resp = NULL;
}

void feed_destroy(struct feed **fp)
{
	struct feed *f = *fp;
	if (!f)
		return;
	if (f->subs)
		sc_log(SC_LOG_WARN, FEED_LOG, "%d subscribers still connected "
		       "at stop", f->st.subs[FEED_SSE] + f->st.subs[FEED_POLL] +
		       f->st.subs[FEED_WS] + f->st.subs[FEED_FRAME]);
	while (f->subs)
		feed_detach(f->subs);
	free(f);
	*fp = NULL;
}

