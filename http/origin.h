/*
 * origin.h — which browser requests `snapcat serve` accepts: the Host
 * check (against DNS rebinding) and the Origin / Sec-Fetch-Site check
 * (against cross-site requests from pages the user visits). Pure: no lws;
 * server.c fills an origin_req from the request's headers.
 *
 *   request -> origin_check -> ORIGIN_OK
 *                           -> ORIGIN_BAD_HOST   (421 misdirected)
 *                           -> ORIGIN_CROSS_SITE (403 cross_origin)
 *
 * DESIGN
 * Host: the name part must be one the server is reachable as: localhost,
 * 127.0.0.1, ::1, the --listen address, an address of a local interface
 * when listening on all, or a --host name ("*": any). The port is not
 * compared (NAT and port mappings change it; rebinding needs a name).
 * A request without Host (not a browser) passes. /healthz skips it.
 * Origin: requests that change state (any method but GET, HEAD,
 * OPTIONS), the live feeds (/api/events, /api/events/poll) and WebSocket
 * upgrades must come from the server's own origin (the Origin's host:port
 * is the Host header), from a --cors-origin, or carry no Origin and no
 * Sec-Fetch-Site of cross-site / same-site (curl, the CLI, scripts).
 * Both checks apply with and without --token.
 */
#ifndef HTTP_ORIGIN_H
#define HTTP_ORIGIN_H

#include "req.h"

struct origin_policy;

struct origin_opts {
	const char *listen_host;  /* --listen's host: "", "0.0.0.0", "::", a
				   * name or an address ("[::1]" too) */
	const char *const *hosts; /* --host values (each may be a comma list;
				   * "*": any Host); may be NULL */
	int nhosts;
	const char *cors;         /* --cors-origin list ("*": any) or NULL */
};

/* What the checks look at; every string may be NULL (header absent). */
struct origin_req {
	enum http_method method;
	const char *path;         /* decoded, no query */
	const char *host, *origin, *fetch_site; /* Sec-Fetch-Site */
	int upgrade;              /* a WebSocket upgrade */
};

enum origin_verdict { ORIGIN_OK = 0, ORIGIN_BAD_HOST, ORIGIN_CROSS_SITE };

/* The policy of these options (copied). Free with origin_destroy. */
struct origin_policy *origin_create(const struct origin_opts *o);

/* NULL-safe; *p is set to NULL. */
void origin_destroy(struct origin_policy **p);

/* May this request be served? Any thread (reads the interfaces with
 * getifaddrs when listening on all and Host is an unknown address). */
enum origin_verdict origin_check(const struct origin_policy *p,
				 const struct origin_req *q);

/* Is origin named by --cors-origin (or is the list "*")? */
int origin_cors_listed(const struct origin_policy *p, const char *origin);

/* The project's JSON error for a refusal v (421 misdirected or 403
 * cross_origin) into rs. */
void origin_refuse(enum origin_verdict v, const struct origin_req *q,
		   struct http_resp *rs);

#endif
