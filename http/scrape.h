/*
 * scrape.h — GET /metrics: the Prometheus text exposition (format 0.0.4)
 * of snapcat's metrics (orchestrator/service/metrics.h), behind the API token.
 *
 *   server.c (loop): scrape_start -> method, token -> feed stats and
 *   metrics_scrape_begin (what only the loop may read) -> worker:
 *   metrics_scrape_collect (catalog on a reader, /proc) into a
 *   scratch registry + the feeds' figures -> exposition of the scratch and
 *   the global registry into resp -> loop: done(ud) -> WRITEABLE
 */
#ifndef HTTP_SCRAPE_H
#define HTTP_SCRAPE_H

#include "feed.h"
#include "req.h"

struct loop;
struct api_ctx;

/*
 * Answer GET or HEAD /metrics into resp. Returns 0 when resp is answered
 * at once (405, or 401 without the token when one is set); 1 when a worker
 * fills resp: done(ud) then runs on the loop thread, and req and resp must
 * stay alive until it does. fs: the feeds' counters, read now. Loop thread.
 */
int scrape_start(struct loop *l, const struct api_ctx *api,
		 const struct http_req *req, struct http_resp *resp,
		 const struct feed_stats *fs, void (*done)(void *), void *ud);

#endif
