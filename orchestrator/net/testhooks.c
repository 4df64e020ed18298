/*
 * testhooks.c — the test-only public alias and test names (see testhooks.h).
 */
#include "testhooks.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

#ifdef SNAPCAT_TEST_HOOKS
static struct {
	struct in6_addr pub[TESTHOOKS_MAX];
	size_t npub;
	struct {
		char name[128];
		struct in6_addr first, later;
		int nx; /* "NAME=!": does not resolve */
		atomic_uint lookups;
	} host[TESTHOOKS_MAX];
	size_t nhost;
	char rules[TESTHOOKS_MAX * 160];
} th;

/* An IP literal into a (IPv4 mapped). */
static int th_addr(const char *s, size_t n, struct in6_addr *a)
{
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return url_ip_literal(buf, a) ? 0 : -1;
}

static int th_add_public(const char *s, size_t n)
{
	if (th.npub == TESTHOOKS_MAX || th_addr(s, n, &th.pub[th.npub]))
		return -1;
	th.npub++;
	return 0;
}

/* "name=A" or "name=A>B" */
static int th_add_host(const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n), *gt;
	if (!eq || eq == s || th.nhost == TESTHOOKS_MAX ||
	    (size_t)(eq - s) >= sizeof(th.host[0].name))
		return -1;
	size_t i = th.nhost;
	memcpy(th.host[i].name, s, (size_t)(eq - s));
	th.host[i].name[eq - s] = 0;
	const char *v = eq + 1, *end = s + n;
	if (end - v == 1 && *v == '!') {
		th.host[th.nhost++].nx = 1;
		return 0;
	}
	gt = memchr(v, '>', (size_t)(end - v));
	if (th_addr(v, (size_t)((gt ? gt : end) - v), &th.host[i].first))
		return -1;
	th.host[i].later = th.host[i].first;
	if (gt && th_addr(gt + 1, (size_t)(end - gt - 1), &th.host[i].later))
		return -1;
	th.nhost++;
	return 0;
}

static int th_list(const char *s, int (*add)(const char *, size_t))
{
	while (s && *s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		if (add(s, n))
			return -1;
		s = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* The first answer of test name i, as text for a resolver rule. */
static void th_answer(size_t i, char *ip, size_t len)
{
	const struct in6_addr *a = &th.host[i].first;
	if (th.host[i].nx)
		snprintf(ip, len, "~NOTFOUND");
	else if (IN6_IS_ADDR_V4MAPPED(a))
		inet_ntop(AF_INET, &a->s6_addr[12], ip, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, ip, (socklen_t)len);
}

static void th_rules(void)
{
	size_t off = 0;
	for (size_t i = 0; i < th.nhost; i++) {
		char ip[INET6_ADDRSTRLEN];
		th_answer(i, ip, sizeof(ip));
		int w = snprintf(th.rules + off, sizeof(th.rules) - off,
				 "%sMAP %s %s", off ? "," : "",
				 th.host[i].name, ip);
		if (w > 0 && (size_t)w < sizeof(th.rules) - off)
			off += (size_t)w;
	}
}

sc_result testhooks_init(char *err, size_t errlen)
{
	const char *pub = getenv("SNAPCAT_TEST_PUBLIC");
	const char *hosts = getenv("SNAPCAT_TEST_HOSTS");
	if (th_list(pub, th_add_public)) {
		snprintf(err, errlen, "SNAPCAT_TEST_PUBLIC: want IP[,IP...]");
		return SC_ERR_INVALID;
	}
	if (th_list(hosts, th_add_host)) {
		snprintf(err, errlen,
			 "SNAPCAT_TEST_HOSTS: want NAME=IP[>IP][,...]");
		return SC_ERR_INVALID;
	}
	th_rules();
	if (th.npub || th.nhost)
		sc_log(SC_LOG_WARN, "testhooks", "TEST BUILD: %zu public "
		       "alias(es), %zu test name(s)", th.npub, th.nhost);
	return SC_OK;
}

int testhooks_public(const struct in6_addr *a)
{
	for (size_t i = 0; i < th.npub; i++)
		if (!memcmp(a, &th.pub[i], sizeof(*a)))
			return 1;
	return 0;
}

int testhooks_lookup(const char *name, struct in6_addr *out)
{
	for (size_t i = 0; i < th.nhost; i++)
		if (!strcmp(name, th.host[i].name)) {
			if (th.host[i].nx)
				return -1;
			unsigned n = atomic_fetch_add(&th.host[i].lookups, 1);
			*out = n ? th.host[i].later : th.host[i].first;
			return 1;
		}
	return 0;
}

const char *testhooks_resolver_rules(void)
{
	return th.nhost ? th.rules : NULL;
}

#else /* a production build: the switches are refused */

sc_result testhooks_init(char *err, size_t errlen)
{
	const char *names[] = {"SNAPCAT_TEST_PUBLIC", "SNAPCAT_TEST_HOSTS"};
	for (size_t i = 0; i < 2; i++)
		if (getenv(names[i])) {
			snprintf(err, errlen, "%s is a test-only switch; this "
				 "build refuses it (build with "
				 "-DSNAPCAT_TEST_HOOKS=ON for the tests)",
				 names[i]);
			return SC_ERR_INVALID;
		}
	return SC_OK;
}

int testhooks_public(const struct in6_addr *a) { return 0; }

int testhooks_lookup(const char *name, struct in6_addr *out) { return 0; }

const char *testhooks_resolver_rules(void) { return NULL; }
#endif
