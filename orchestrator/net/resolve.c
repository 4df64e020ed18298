/*
 * resolve.c — names to addresses and the guard's verdict (see resolve.h).
 */
#include "resolve.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "testhooks.h"
#include "url.h"

static int resolve_ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !strncasecmp(s + n - k, suffix, k);
}

int resolve_is_local_name(const char *host)
{
	static const char *const exact[] = {
		"localhost", "localhost.localdomain", "localhost6",
		"localhost6.localdomain6", "ip6-localhost", "ip6-loopback",
	};
	size_t n = strlen(host);
	if (n && host[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == n && !strncasecmp(host, exact[i], n))
			return 1;
	return resolve_ends_with(host, n, ".localhost") ||
	       resolve_ends_with(host, n, ".localhost.localdomain");
}

static void resolve_put(struct resolve_result *r, const struct in6_addr *a,
			int port)
{
	if (r->n == RESOLVE_MAX)
		return;
	struct sockaddr_in6 *s = &r->addr[r->n++];
	memset(s, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	s->sin6_addr = *a;
}

static void resolve_put_sa(struct resolve_result *r, const struct sockaddr *sa,
			   int port)
{
	struct in6_addr a;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memset(&a, 0, sizeof(a));
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
	} else {
		return;
	}
	resolve_put(r, &a, port);
}

sc_result resolve_host(const char *host, int port, struct resolve_result *r,
		       char *err, size_t errlen)
{
	struct in6_addr a;
	r->n = 0;
	int test = url_ip_literal(host, &a) ? 1 : testhooks_lookup(host, &a);
	if (test > 0) {
		resolve_put(r, &a, port);
		return SC_OK;
	}
	if (test < 0) {
		snprintf(err, errlen, "the name %s does not resolve (a test "
			 "name)", host);
		return SC_ERR_NOT_FOUND;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "the name %s does not resolve (%s)", host,
			 gai_strerror(rc));
		return SC_ERR_NOT_FOUND;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		resolve_put_sa(r, ai->ai_addr, port);
	freeaddrinfo(res);
	if (r->n)
		return SC_OK;
	snprintf(err, errlen, "the name %s has no IPv4 or IPv6 address", host);
	return SC_ERR_NOT_FOUND;
}

const char *resolve_private_reason(const struct resolve_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *why = url_ip_private_reason(&r->addr[i].sin6_addr);
		if (why)
			return why;
	}
	return NULL;
}

const char *resolve_quick_reason(const char *host, int *need_lookup)
{
	struct in6_addr a;
	*need_lookup = 0;
	if (url_ip_literal(host, &a))
		return url_ip_private_reason(&a);
	if (resolve_is_local_name(host))
		return "a localhost name (loopback, resolved by the browser "
		       "itself)";
	*need_lookup = 1;
	return NULL;
}
