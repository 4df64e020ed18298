/*
 * routes.c — the route table and its matcher (see routes.h).
 */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "api.h"

#define G (ROUTE_M(HTTP_GET) | ROUTE_M(HTTP_HEAD))
#define P ROUTE_M(HTTP_POST)
#define U ROUTE_M(HTTP_PUT)
#define A ROUTE_M(HTTP_PATCH)
#define D ROUTE_M(HTTP_DELETE)
#define W(m, pat, fn) {m, pat, ROUTE_WORKER, RL_NONE, fn}
#define L(m, pat, which) {m, pat, ROUTE_LOOP, which, NULL}

static const struct route routes[] = {
	L(G, "/healthz", RL_HEALTH),
	L(G, "/metrics", RL_METRICS),
	L(ROUTE_M(HTTP_GET), "/api/events", RL_SSE),
	L(ROUTE_M(HTTP_GET), "/api/events/poll", RL_POLL),
	L(ROUTE_M(HTTP_GET), "/api/events/frame", RL_FRAME),
	W(G, "/api/links", api_links_list),
	W(P, "/api/links", api_links_create),
	W(G, "/api/links/{id}", api_link_get),
	W(A, "/api/links/{id}", api_link_patch),
	W(D, "/api/links/{id}", api_link_delete),
	W(G, "/api/links/{id}/snapshots", api_link_snapshots),
	W(P, "/api/links/{id}/snapshots", api_link_recapture),
	W(G, "/api/links/{id}/schedule", api_link_schedule_get),
	W(U, "/api/links/{id}/schedule", api_link_schedule_put),
	/* the POST stream (Accept: text/event-stream) is this route too */
	W(P, "/api/snapshots", api_links_create),
	W(G, "/api/snapshots/{id}", api_snapshot_get),
	W(G, "/api/snapshots/{id}/{name}", api_snapshot_file),
	W(G, "/api/snapshots/{id}/page/{name}", api_snapshot_page_part),
	W(G, "/api/jobs", api_jobs_list),
	W(P, "/api/jobs/retry-failed", api_jobs_retry_failed),
	W(G, "/api/jobs/{id}", api_job_get),
	W(P, "/api/jobs/{id}/cancel", api_job_cancel),
	W(P, "/api/jobs/{id}/retry", api_job_retry),
	W(G, "/api/tags", api_tags_list),
	W(A, "/api/tags/{name}", api_tag_rename),
	W(D, "/api/tags/{name}", api_tag_delete),
	W(G | U, "/api/tags/{name}/schedule", api_tag_schedule),
	W(ROUTE_M(HTTP_GET), "/api/browsers", api_browsers),
	W(P, "/api/import", api_import),
	W(G, "/api/imports", api_imports_list),
	W(G, "/api/imports/{id}", api_import_get),
	W(G, "/api/export", api_export),
	W(P, "/api/backup", api_backup_start),
	W(G, "/api/backups/{id}", api_backup_get),
	W(G, "/api/webhooks", api_webhooks_list),
	W(P, "/api/webhooks", api_webhook_create),
	W(G, "/api/webhooks/{id}", api_webhook_get),
	W(A, "/api/webhooks/{id}", api_webhook_patch),
	W(D, "/api/webhooks/{id}", api_webhook_delete),
	W(G, "/api/webhooks/{id}/deliveries", api_webhook_deliveries),
	W(P, "/api/webhooks/{id}/test", api_webhook_test),
};

/* Does the path's segment s (n bytes) fit the pattern's p (m bytes)? */
static int route_seg(const char *p, size_t m, const char *s, size_t n,
		     struct route_params *out)
{
	if (m == 4 && !memcmp(p, "{id}", 4)) {
		char num[24];
		if (n == 0 || n >= sizeof(num))
			return 0;
		memcpy(num, s, n);
		num[n] = 0;
		return (out->id = api_parse_id(num)) != 0;
	}
	if (m == 6 && !memcmp(p, "{name}", 6)) {
		if (n == 0 || n >= sizeof(out->name))
			return 0;
		memcpy(out->name, s, n);
		out->name[n] = 0;
		return 1;
	}
	return m == n && !memcmp(p, s, n);
}

/* Does path fit pattern (segment by segment, no trailing slash)? */
static int route_fits(const char *pattern, const char *path,
		      struct route_params *out)
{
	const char *p = pattern, *s = path;
	while (*p == '/' && *s == '/') {
		size_t m = strcspn(++p, "/"), n = strcspn(++s, "/");
		if (!route_seg(p, m, s, n, out))
			return 0;
		p += m;
		s += n;
	}
	return !*p && !*s;
}

const struct route *route_match(enum http_method method, const char *path,
				unsigned *allow, struct route_params *p)
{
	struct route_params scratch;
	unsigned m = method <= HTTP_OPTIONS ? ROUTE_M(method) : 0;
	*allow = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		memset(&scratch, 0, sizeof(scratch));
		if (!route_fits(routes[i].pattern, path, &scratch))
			continue;
		if (routes[i].methods & m) {
			if (p)
				*p = scratch;
			return &routes[i];
		}
		*allow |= routes[i].methods;
	}
	return NULL;
}

void route_allow_text(unsigned allow, char *out, size_t len)
{
	size_t o = 0;
	out[0] = 0;
	for (int m = HTTP_GET; m <= HTTP_OPTIONS; m++)
		if (allow & ROUTE_M(m)) {
			int w = snprintf(out + o, len - o, "%s%s", o ? ", " : "",
					 http_method_name((enum http_method)m));
			if (w < 0 || (size_t)w >= len - o)
				break;
			o += (size_t)w;
		}
}

const char *route_noun(const char *path)
{
	static const struct {
		const char *prefix, *noun;
	} nouns[] = {
		{"/api/links/", "link"},     {"/api/snapshots/", "snapshot"},
		{"/api/jobs/", "job"},       {"/api/tags/", "tag"},
		{"/api/webhooks/", "webhook route"},
	};
	for (size_t i = 0; i < sizeof(nouns) / sizeof(nouns[0]); i++)
		if (!strncmp(path, nouns[i].prefix, strlen(nouns[i].prefix)))
			return nouns[i].noun;
	return "route";
}
