/*
 * scrape.c — GET /metrics (see scrape.h): the loop gathers what is its own,
 * a worker reads the catalog and /proc and writes the exposition.
 */
#include "scrape.h"

#include <stdlib.h>

#include "api.h"
#include "loop.h"
#include "metrics.h"

#define SCRAPE_LOG "metrics"
#define SCRAPE_CTYPE "text/plain; version=0.0.4; charset=utf-8"
#define SCRAPE_MAX (16u << 20) /* exposition bytes at most */

struct scrape {
	struct http_resp *resp;
	struct metrics_scrape *ms;
	struct feed_stats fs;
	void (*done)(void *);
	void *ud;
};

/* The feeds' families (counters read on the loop thread). */
static void scrape_feeds(const struct feed_stats *fs, struct metrics *out)
{
	static const char *const chan[FEED_KINDS] = {
		[FEED_SSE] = "sse", [FEED_POLL] = "longpoll", [FEED_WS] = "ws",
		[FEED_FRAME] = "frame"};
	struct metrics_family *subs = metrics_family(
		out, METRICS_GAUGE, "snapcat_subscribers",
		"Event subscribers connected now, by channel", "channel", NULL, 0);
	struct metrics_family *sent = metrics_family(
		out, METRICS_COUNTER, "snapcat_subscriber_events_total",
		"Events queued to subscribers since start, by channel",
		"channel", NULL, 0);
	struct metrics_family *drop = metrics_family(
		out, METRICS_COUNTER, "snapcat_subscribers_dropped_total",
		"Subscribers dropped for not reading (queue full), by channel",
		"channel", NULL, 0);
	for (int k = 0; k < FEED_KINDS; k++) {
		metrics_set(subs, chan[k], fs->subs[k]);
		metrics_set(sent, chan[k], (double)fs->sent[k]);
		metrics_set(drop, chan[k], (double)fs->dropped[k]);
	}
}

static void scrape_work(void *arg)
{
	struct scrape *x = arg;
	struct metrics *m = metrics_create();
	int64_t t0 = sc_now_us();
	(void)!metrics_scrape_collect(&x->ms, m); /* logged; the rest stands */
	scrape_feeds(&x->fs, m);
	sc_buf_init(&x->resp->body, SCRAPE_MAX);
	sc_result rc = metrics_expose(m, &x->resp->body);
	if (!rc)
		rc = metrics_expose(metrics_global(), &x->resp->body);
	metrics_destroy(&m);
	if (rc) {
		sc_buf_free(&x->resp->body);
		sc_buf_init(&x->resp->body, 0);
		http_resp_error(x->resp, 500, "internal", NULL,
				"the metrics text: %s", sc_strerror(rc));
		return;
	}
	x->resp->status = 200;
	x->resp->ctype = SCRAPE_CTYPE;
	http_resp_header(x->resp, "Cache-Control", "no-store");
	sc_log(SC_LOG_DEBUG, SCRAPE_LOG, "scrape: %zu bytes in %lld us",
	       x->resp->body.len, (long long)(sc_now_us() - t0));
}

static void scrape_done(void *arg)
{
	struct scrape *x = arg;
	void (*done)(void *) = x->done;
	void *ud = x->ud;
	free(x);
	done(ud);
}

int scrape_start(struct loop *l, const struct api_ctx *api,
		 const struct http_req *req, struct http_resp *resp,
		 const struct feed_stats *fs, void (*done)(void *), void *ud)
{
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_resp_error(resp, 405, "method_not_allowed", NULL, "use GET");
		http_resp_header(resp, "Allow", "GET, HEAD");
		return 0;
	}
	if (!api_authorized(api, req)) {
		http_resp_error(resp, 401, "unauthorized", NULL,
				"a valid token is required (Authorization: "
				"Bearer <token>, or ?token=)");
		http_resp_header(resp, "WWW-Authenticate", "Bearer");
		return 0;
	}
	struct scrape *x = sc_xcalloc(1, sizeof(*x));
	*x = (struct scrape){.resp = resp, .fs = *fs, .done = done, .ud = ud,
			     .ms = metrics_scrape_begin(api->app)};
	loop_work(l, scrape_work, scrape_done, x);
	return 1;
}
