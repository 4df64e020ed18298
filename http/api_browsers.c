/*
 * api_browsers.c — GET /api/browsers: the browser pool, one item per
 * --browser endpoint (kind, endpoint without secrets, state, healthy,
 * running jobs, max, starts, failures, losses, last error, next retry).
 *
 *   router.c -> api_browsers -> app_browsers_json (pool.c's published
 *   status, read under its lock: no SQL, any thread) -> http_resp_json
 */
#include "api.h"
#include "app.h"

void api_browsers(struct api_call *k)
{
	http_resp_json(k->resp, 200, app_browsers_json(k->c->app, 1));
}
