/*
 * egress.h — the guard's egress proxy: every connection a guarded capture's
 * page makes goes through it, and it connects only to public addresses.
 *
 *   capture (guarded) -> egress_open() -> a listening port of its own
 *     -> Target.createBrowserContext {proxyServer: "socks5://127.0.0.1:P",
 *                                     proxyBypassList: "<-loopback>"}
 *   Chromium (any target of that context: page, out-of-process iframes,
 *   workers, service workers, WebSockets, preconnects) -> SOCKS5 CONNECT
 *     host:port (names are sent as names: Chromium resolves nothing)
 *   -> egress thread: local name / private literal? refuse
 *                     name -> resolve_host on a DNS worker -> any address
 *                     private? refuse : connect to THAT address
 *   -> relay bytes both ways until either side closes
 *   capture end -> egress_port_report() (what was refused) -> egress_close()
 *
 * DESIGN
 * One thread with its own epoll set owns every proxy socket, so page
 * traffic never waits behind the HTTP server's loop and the loop never
 * copies page bytes. Name lookups (getaddrinfo blocks) run on two DNS
 * threads of its own (workers.h) whose results wake it through an eventfd.
 * Each capture gets its own listening port: the port says whose connection
 * it is, so refusals are reported to the right job, and closing the port
 * ends every connection the job's page still has. Because the proxy itself
 * connects to the address it checked, a name that changes its answer
 * between two lookups (DNS rebinding) cannot reach a private address, and
 * names Chromium would resolve by itself (localhost, *.localhost) never
 * reach its resolver. <-loopback> removes Chromium's implicit "loopback
 * bypasses the proxy" rule.
 *
 * Everything here is thread-safe unless it says otherwise.
 */
#ifndef EGRESS_H
#define EGRESS_H

#include <stddef.h>

#include "sc.h"

struct egress;
struct egress_port;

struct egress_opts {
	const char *address;    /* ports listen here; NULL: 127.0.0.1. It must
				   be reachable from the browser's host */
	int connect_timeout_ms; /* handshake + lookup + connect; 0: 15000 */
	int max_tunnels;        /* connections per port at once; 0: 256 */
};

/* Start the proxy thread. *out NULL on error (SC_ERR_IO: no epoll, no
 * thread). */
sc_result egress_start(const struct egress_opts *o, struct egress **out)
	SC_MUST_CHECK;

/* Close every port and connection, stop the thread, free. NULL-safe; sets
 * *e to NULL. No port may be used afterwards. */
void egress_stop(struct egress **e);

/* A new listening port for one capture. SC_ERR_IO (errno) if the socket
 * cannot be made. The caller owns the handle until egress_close(). */
sc_result egress_open(struct egress *e, struct egress_port **out)
	SC_MUST_CHECK;

/* "socks5://127.0.0.1:PORT", for Target.createBrowserContext. Owned by p. */
const char *egress_port_url(const struct egress_port *p);

/* Stop listening and end the port's connections (soon, on the proxy
 * thread). NULL-safe; sets *p to NULL. */
void egress_close(struct egress_port **p);

/* How a connection attempt to host:port ended. */
enum egress_outcome {
	EGRESS_NONE = 0,    /* not seen (yet) */
	EGRESS_ALLOWED,     /* connected */
	EGRESS_REFUSED,     /* private/local: refused by the guard */
	EGRESS_DNS,         /* the name did not resolve */
	EGRESS_CONNECT,     /* public, but the connection failed */
};

/* The last outcome for host:port (host as the page named it), with a
 * sentence in msg. EGRESS_NONE if no connection to it was attempted. */
enum egress_outcome egress_port_outcome(struct egress_port *p,
					const char *host, int port,
					char *msg, size_t msglen);

/* Connections refused by the guard so far; the first one ("host:port
 * (why)") in first (if firstlen > 0). */
unsigned egress_port_refused(struct egress_port *p, char *first,
			     size_t firstlen);

#endif
