/*
 * server.h — the HTTP server of `snapcat serve` on the loop's lws context:
 * one vhost with the REST API (/api/…, a worker thread per request), the
 * admin page (assets/, an lws file mount), /healthz and /metrics.
 *
 *   client -> lws vhost -> server.c (loop thread: headers, body, auth data)
 *          -> worker: api_dispatch (router.c) -> handler -> http_resp
 *          -> loop thread: WRITEABLE -> headers, then body or file chunks
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include "feed.h"
#include "sc.h"

struct loop;
struct app;
struct server;

#define SERVER_BODY_TIMEOUT_S 20  /* a request body's base deadline */
#define SERVER_BODY_MIN_RATE 1024 /* bytes/s: each extends it 1 s */

struct server_opts {
	const char *listen;     /* "127.0.0.1:8080", "0.0.0.0:80", ":8080" */
	const char *assets_dir; /* the admin page files */
	const char *token;      /* NULL: no auth */
	const char *cors_origins; /* comma-separated allowed origins or NULL */
	const char *const *hosts; /* --host names the server answers to, besides
				   * localhost and its addresses (origin.h) */
	int nhosts;
	struct feed_opts feed;    /* SSE ping, queue bounds, subscriber cap */
	/* A request body must be complete within body_timeout_s seconds plus
	 * one second per body_min_rate bytes received (0: the defaults above),
	 * else 408 and the connection closes. */
	int body_timeout_s, body_min_rate;
	/* --tls-cert, --tls-key (PEM files): serve HTTPS only, HTTP/2 or
	 * HTTP/1.1 by ALPN; NULL: plain HTTP/1.1 */
	const char *tls_cert, *tls_key;
};

/* Start listening. On error err says why (port in use...) and *out NULL. */
sc_result server_create(struct loop *l, struct app *a,
			const struct server_opts *o, struct server **out,
			char *err, size_t errlen) SC_MUST_CHECK;

/* The port actually bound (useful with port 0). */
int server_port(const struct server *s);

/* 1 when it serves TLS (--tls-cert). */
int server_tls(const struct server *s);

/* Load the --tls-cert and --tls-key files again (SIGHUP): new handshakes
 * get the new certificate; open connections stay. A bad pair is refused
 * (err says why) and the old one stays. Loop thread. */
sc_result server_tls_reload(struct server *s, char *err, size_t errlen);

/* Stop accepting new API work (answers 503); keeps the vhost. */
void server_quiesce(struct server *s);

/* Close the connections that hold a request, a stream or a WebSocket (their
 * close callbacks run now, while the feed they use exists), then free. The
 * context's destruction closes the remaining sockets. Loop thread, after
 * loop_run returned. NULL-safe. */
void server_destroy(struct server **s);

#endif
