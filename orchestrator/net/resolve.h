/*
 * resolve.h — host names to addresses, and the SSRF guard's verdict on
 * them: one rule for every place that judges a host (submission in
 * POST /api/links, the Fetch guard, the egress proxy, webhooks).
 *
 *   host -> IP literal?      -> url_ip_private_reason
 *        -> a local name?    -> refused: Chromium and the OS resolve
 *                               "localhost" and "*.localhost" to loopback
 *                               by themselves, whatever DNS says
 *        -> test names (testhooks.h), else getaddrinfo
 *        -> every address must be public (fail closed)
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "sc.h"

#define RESOLVE_MAX 16 /* addresses kept per name */

struct resolve_result {
	struct sockaddr_in6 addr[RESOLVE_MAX]; /* IPv4 as ::ffff:a.b.c.d */
	size_t n;
};

/* 1 for the names a browser or libc maps to loopback without asking DNS:
 * localhost, *.localhost, localhost.localdomain, localhost6,
 * localhost6.localdomain6, ip6-localhost, ip6-loopback (any case, an
 * optional trailing dot). */
int resolve_is_local_name(const char *host);

/*
 * Look up host (a name, or an IP literal in any browser spelling) for
 * port. Blocking (getaddrinfo): call it on a worker, never on the loop.
 * Test names (testhooks.h) are answered first. Returns SC_OK with r->n >= 1
 * addresses (IPv4 mapped into IPv6, port set); SC_ERR_NOT_FOUND if the name
 * does not resolve, with a sentence in err.
 */
sc_result resolve_host(const char *host, int port, struct resolve_result *r,
		       char *err, size_t errlen) SC_MUST_CHECK;

/* Why these addresses must not be contacted: NULL if every one is public,
 * else a static description of the first that is not. */
const char *resolve_private_reason(const struct resolve_result *r);

/*
 * The guard's verdict on host without a lookup: a static reason if it is
 * refused for what it is (a private IP literal, a local name), NULL if it
 * is a public IP literal; *need_lookup = 1 (and NULL) for other names.
 */
const char *resolve_quick_reason(const char *host, int *need_lookup);

#endif
