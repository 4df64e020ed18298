/*
 * loop.c — the lws context, the worker pool's way back to the loop, posted
 * callbacks and timers (see loop.h).
 *
 * DESIGN
 * lws_cancel_service() is the only lws call other threads make. It wakes the
 * loop, which calls every protocol with LWS_CALLBACK_EVENT_WAIT_CANCELLED on
 * a fake wsi; our "snapcat-loop" protocol then drains the worker pool's done
 * queue and the posted-callback queue. That callback must return 0 (lws 4.1
 * crashes otherwise).
 */
#include "loop.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>


struct loop_post {
	struct loop_post *next;
	workers_fn fn;
	void *arg;
};

struct loop_timer {
	lws_sorted_usec_list_t sul; /* first: container_of is a cast */
	workers_fn fn;
	void *arg;
};

struct loop {
	struct lws_context *ctx;
	struct workers *wp;
	volatile int stop;
	pthread_mutex_t post_lock;
	struct loop_post *posts, **posts_tail;
	struct lws_protocols protocols[3]; /* lws keeps a pointer to these */
	workers_fn wake_fn;                /* loop_set_wake */
	void *wake_arg;
};

void loop_set_wake(struct loop *l, workers_fn fn, void *arg)
{
	l->wake_fn = fn;
	l->wake_arg = arg;
}

static void loop_drain_posts(struct loop *l)
{
	pthread_mutex_lock(&l->post_lock);
	struct loop_post *p = l->posts;
	l->posts = NULL;
	l->posts_tail = &l->posts;
	pthread_mutex_unlock(&l->post_lock);
	while (p) {
		struct loop_post *n = p->next;
		p->fn(p->arg);
		free(p);
		p = n;
	}
}

static int loop_callback(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len)
{
	if (reason != LWS_CALLBACK_EVENT_WAIT_CANCELLED)
		return 0;
	struct loop *l = lws_context_user(lws_get_context(wsi));
	if (l && l->wp) {
		workers_drain(l->wp);
		loop_drain_posts(l);
		if (l->wake_fn)
			l->wake_fn(l->wake_arg);
	}
	return 0;
}

static const struct lws_protocols loop_protocols[] = {
	{.name = "snapcat-loop", .callback = loop_callback},
	{0}, /* the caller's protocol is copied in at index 1 by loop_create */
	{0},
};

static void loop_notify(void *ud)
{
	struct loop *l = ud;
	if (l->ctx)
		lws_cancel_service(l->ctx);
}

/* lws logs only errors and warnings, through sc_log (one format, stderr). */
static void loop_lws_log(int level, const char *line)
{
	size_t n = strlen(line);
	if (strstr(line, "lws_mux_mark_immortal"))
		return; /* lws_http_mark_sse on HTTP/1.1: expected, harmless */
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	sc_log(level == LLL_ERR ? SC_LOG_ERROR : SC_LOG_WARN, "lws", "%.*s",
	       (int)n, line);
}

sc_result loop_create(const struct loop_opts *opts, struct loop **out)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, loop_lws_log);
	*out = NULL;
	struct loop *l = sc_xcalloc(1, sizeof(*l));
	l->protocols[0] = loop_protocols[0];
	if (opts && opts->protocol)
		l->protocols[1] = *opts->protocol;
	l->protocols[2] = loop_protocols[2];
	pthread_mutex_init(&l->post_lock, NULL);
	l->posts_tail = &l->posts;
	struct lws_context_creation_info info = {
		.port = CONTEXT_PORT_NO_LISTEN,
		.protocols = l->protocols,
		.user = l,
		.pt_serv_buf_size = opts && opts->protocol &&
				    opts->protocol->rx_buffer_size
					    ? opts->protocol->rx_buffer_size
					    : 4096,
		.timeout_secs = 30,
		.connect_timeout_secs = 10,
	};
	l->ctx = lws_create_context(&info);
	int n = opts && opts->workers > 0 ? opts->workers : 2;
	if (!l->ctx || workers_create(n, loop_notify, l, &l->wp)) {
		loop_destroy(&l);
		return SC_ERR_INTERNAL;
	}
	*out = l;
	return SC_OK;
}

struct lws_context *loop_ctx(struct loop *l) { return l->ctx; }
struct workers *loop_workers(struct loop *l) { return l->wp; }

void loop_work(struct loop *l, workers_fn work, workers_fn done, void *arg)
{
	workers_submit(l->wp, work, done, arg);
}

void loop_post(struct loop *l, workers_fn fn, void *arg)
{
	struct loop_post *p = sc_xmalloc(sizeof(*p));
	p->next = NULL;
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_lock(&l->post_lock);
	*l->posts_tail = p;
	l->posts_tail = &p->next;
	pthread_mutex_unlock(&l->post_lock);
	lws_cancel_service(l->ctx);
}

static void loop_timer_fire(lws_sorted_usec_list_t *sul)
{
	struct loop_timer *t = (struct loop_timer *)sul;
	workers_fn fn = t->fn;
	void *arg = t->arg;
	free(t);
	fn(arg);
}

struct loop_timer *loop_timer(struct loop *l, int64_t ms, workers_fn fn,
			      void *arg)
{
	struct loop_timer *t = sc_xcalloc(1, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
	lws_sul_schedule(l->ctx, 0, &t->sul, loop_timer_fire,
			 (lws_usec_t)(ms > 0 ? ms : 0) * 1000 + 1);
	return t;
}

void loop_timer_cancel(struct loop_timer **pt)
{
	if (!pt || !*pt)
		return;
	lws_sul_cancel(&(*pt)->sul);
	free(*pt);
	*pt = NULL;
}

int loop_run(struct loop *l)
{
	while (!l->stop)
		if (lws_service(l->ctx, 0) < 0)
			return -1;
	l->stop = 0; /* it may run again (the tests run one job at a time) */
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
	lws_cancel_service(l->ctx);
}

void loop_run_posts(struct loop *l) { loop_drain_posts(l); }

void loop_settle(struct loop *l, int64_t max_ms)
{
	int64_t until = sc_now_ms() + max_ms;
	while (workers_busy(l->wp) && sc_now_ms() < until)
		lws_service(l->ctx, 0); /* a finished job wakes it */
	workers_drain(l->wp);
	loop_drain_posts(l);
}

void loop_destroy(struct loop **pl)
{
	struct loop *l = pl ? *pl : NULL;
	if (!l)
		return;
	*pl = NULL;
	/* workers first: their notify() needs the context alive */
	workers_destroy(&l->wp);
	loop_drain_posts(l);
	if (l->ctx)
		lws_context_destroy(l->ctx);
	l->ctx = NULL;
	pthread_mutex_destroy(&l->post_lock);
	free(l);
}
