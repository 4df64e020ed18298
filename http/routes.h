/*
 * routes.h — every route of the server, in one table (routes.c):
 *
 *   {methods, pattern, where, handler}
 *   server.c: a complete request -> route_match(method, path)
 *     -> a loop route (health, metrics, the SSE and long-poll feeds): run
 *        there, on the loop thread
 *     -> an API route: loop_work(api_dispatch) -> token -> the handler on a
 *        worker (api.h), with {id} and {name} in the api_call
 *     -> no route: 404, or 405 with Allow when the path exists
 *
 * Patterns are paths whose segments are literals, {id} (a positive
 * decimal id) or {name} (any one segment). A GET route answers HEAD too.
 * The admin page's files are lws mounts, not routes; WebSocket upgrades
 * go to the ws protocol (ws.c).
 */
#ifndef HTTP_ROUTES_H
#define HTTP_ROUTES_H

#include <stdint.h>

#include "req.h"

struct api_call;

enum route_where { ROUTE_WORKER, ROUTE_LOOP };
/* The loop routes, run by server.c */
enum route_loop { RL_NONE, RL_HEALTH, RL_METRICS, RL_SSE, RL_POLL,
		  RL_FRAME };

#define ROUTE_M(m) (1u << (m))

struct route {
	unsigned methods;  /* ROUTE_M(HTTP_GET) | ... */
	const char *pattern;
	enum route_where where;
	enum route_loop loop;                /* ROUTE_LOOP */
	void (*handler)(struct api_call *k); /* ROUTE_WORKER */
};

/* What a match found in the path. */
struct route_params {
	int64_t id;       /* {id}, or 0 */
	char name[256];   /* {name} (decoded), or "" */
};

/*
 * The route for method and path, or NULL. When NULL and the path matches
 * some route's pattern, *allow has those routes' methods (a 405); 0 if
 * the path matches none (a 404). p may be NULL.
 */
const struct route *route_match(enum http_method method, const char *path,
				unsigned *allow, struct route_params *p);

/* "GET, HEAD, POST" for an allow mask. */
void route_allow_text(unsigned allow, char *out, size_t len);

/* What a 404 under path names: "link", "job", ... or "route". Static. */
const char *route_noun(const char *path);

#endif
