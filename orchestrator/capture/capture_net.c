/*
 * capture_net.c — the page's requests in flight, for readiness
 * (capture_ready.c): what the page is still waiting for from the network.
 *
 *   Network.requestWillBeSent (page and child sessions) -> cap_net_add,
 *     unless it is not worth waiting for: an EventSource, a beacon (Ping),
 *     the favicon, a URL fetched POLL_REPEATS times already (polling)
 *   Network.responseReceived -> when its answer started
 *   Network.loadingFinished / loadingFailed -> gone
 *   cap_net_streams: a Fetch/XHR/Other/Media request whose answer started
 *     STREAM_MS ago and has not ended is a stream (a streamed response, a
 *     media loop): perpetual, no longer waited for, named in the note
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

#define POLL_REPEATS 3
#define STREAM_MS 300

static ssize_t net_find(const struct capture *c, const char *id)
{
	for (size_t i = 0; i < c->ninflight; i++)
		if (!strcmp(c->inflight[i].id, id))
			return (ssize_t)i;
	return -1;
}

/* Count requests per URL-without-query; 1 once it looks like polling. */
static int net_is_polling(struct capture *c, const char *url)
{
	char key[sizeof(c->seen[0].key)];
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(url, "?#"), url);
	size_t n = sizeof(c->seen) / sizeof(c->seen[0]);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c->seen[i].key, key))
			return ++c->seen[i].count > POLL_REPEATS;
	size_t slot = c->seen_next++ % n;
	memcpy(c->seen[slot].key, key, sizeof(key));
	c->seen[slot].count = 1;
	return 0;
}

/* Requests that never hold readiness. */
static int net_ignored(struct capture *c, const char *type, const char *url)
{
	size_t n = strcspn(url, "?#");
	if (!strcmp(type, "EventSource") || !strcmp(type, "Ping"))
		return 1; /* streams never finish; beacons change nothing */
	if (n >= 12 && !strncmp(url + n - 12, "/favicon.ico", 12))
		return 1; /* the tab's icon, not the page */
	return net_is_polling(c, url);
}

static void net_add(struct capture *c, const cJSON *p)
{
	const cJSON *id = cJSON_GetObjectItem(p, "requestId");
	const cJSON *type = cJSON_GetObjectItem(p, "type");
	const cJSON *url = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "request"), "url");
	const char *t = cJSON_IsString(type) ? type->valuestring : "";
	if (!cJSON_IsString(id) || net_find(c, id->valuestring) >= 0)
		return; /* a redirect continues the same request */
	if (cJSON_IsString(url) && net_ignored(c, t, url->valuestring))
		return;
	if (c->ninflight == c->inflight_alloc) {
		c->inflight_alloc = c->inflight_alloc ? c->inflight_alloc * 2 : 16;
		c->inflight = sc_xrealloc(c->inflight,
					  c->inflight_alloc * sizeof(*c->inflight));
	}
	struct cap_req *r = &c->inflight[c->ninflight++];
	memset(r, 0, sizeof(*r));
	r->id = sc_xstrdup(id->valuestring);
	snprintf(r->type, sizeof(r->type), "%s", t);
	snprintf(r->url, sizeof(r->url), "%s",
		 cJSON_IsString(url) ? url->valuestring : "");
	c->net_started++;
}

static void net_remove_at(struct capture *c, size_t i)
{
	free(c->inflight[i].id);
	c->inflight[i] = c->inflight[--c->ninflight];
}

static void net_response(struct capture *c, const cJSON *p)
{
	const cJSON *id = cJSON_GetObjectItem(p, "requestId");
	ssize_t i = cJSON_IsString(id) ? net_find(c, id->valuestring) : -1;
	if (i >= 0 && !c->inflight[i].resp_at)
		c->inflight[i].resp_at = sc_now_ms();
}

/* 0 nothing changed, 1 a request was added or ended */
int cap_net_update(struct capture *c, const char *method, const cJSON *p)
{
	size_t before = c->ninflight;
	uint64_t started = c->net_started;
	if (!strcmp(method, "Network.requestWillBeSent")) {
		net_add(c, p);
	} else if (!strcmp(method, "Network.responseReceived")) {
		net_response(c, p);
		return 0;
	} else if (!strcmp(method, "Network.loadingFinished") ||
		   !strcmp(method, "Network.loadingFailed")) {
		const cJSON *id = cJSON_GetObjectItem(p, "requestId");
		ssize_t i = cJSON_IsString(id) ? net_find(c, id->valuestring) : -1;
		if (i >= 0) {
			net_remove_at(c, (size_t)i);
			c->net_started++; /* its answer may schedule more work */
		}
	}
	return c->ninflight != before || c->net_started != started;
}

static int net_streamable(const char *type)
{
	return !strcmp(type, "Fetch") || !strcmp(type, "XHR") ||
	       !strcmp(type, "Other") || !strcmp(type, "Media");
}

static void net_note_stream(struct capture *c, const struct cap_req *r)
{
	char what[200];
	snprintf(what, sizeof(what), "%s %.120s",
		 !strcmp(r->type, "Media") ? "media" : "stream", r->url);
	cap_ready_note_perpetual(c, what);
}

int64_t cap_net_streams(struct capture *c)
{
	int64_t now = sc_now_ms(), next = -1;
	for (size_t i = 0; i < c->ninflight;) {
		struct cap_req *r = &c->inflight[i];
		if (!r->resp_at || !net_streamable(r->type)) {
			i++;
			continue;
		}
		int64_t due = r->resp_at + STREAM_MS - now;
		if (due > 0) {
			next = next < 0 || due < next ? due : next;
			i++;
			continue;
		}
		net_note_stream(c, r);
		net_remove_at(c, i);
	}
	return next;
}

void cap_net_free(struct capture *c)
{
	for (size_t i = 0; i < c->ninflight; i++)
		free(c->inflight[i].id);
	free(c->inflight);
	c->inflight = NULL;
	c->ninflight = c->inflight_alloc = 0;
}
