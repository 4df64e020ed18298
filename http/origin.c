/*
 * origin.c — the Host and Origin checks of origin.h: names normalised once
 * at start (lowercase, addresses in inet_ntop form), each request's Host
 * and Origin compared against them.
 */
#include "origin.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ORIGIN_NAME_MAX 256
#define ORIGIN_NAMES_MAX 64

struct origin_policy {
	char listen[ORIGIN_NAME_MAX]; /* "" when listening on all */
	int any_host;                 /* --host '*' */
	char *names[ORIGIN_NAMES_MAX]; /* --host names, normalised */
	int nnames;
	char *cors;
};

/* An address in its one text form ("0:0::1" -> "::1"); names unchanged. */
static void origin_canon(char *name, size_t len)
{
	unsigned char a[16];
	char t[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET6, name, a) == 1 &&
	    inet_ntop(AF_INET6, a, t, sizeof(t)))
		snprintf(name, len, "%s", t);
	else if (inet_pton(AF_INET, name, a) == 1 &&
		 inet_ntop(AF_INET, a, t, sizeof(t)))
		snprintf(name, len, "%s", t);
}

/* Lowercase n bytes of s into out; -1 on a character no host name or
 * address has (ipv6: ':' allowed, inside brackets). */
static int origin_lower(const char *s, size_t n, int ipv6, char *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || (ipv6 && c == ':')))
			return -1;
		out[i] = c;
	}
	out[n] = 0;
	return 0;
}

/* The name part of a Host value ("Name:8080", "[::1]:80", "10.0.0.1"),
 * lowercased, an address in canonical form. 0, or -1 if malformed. */
static int origin_host_name(const char *h, char *out, size_t len)
{
	const char *end;
	size_t n;
	int v6 = *h == '[';
	if (v6) {
		if (!(end = strchr(++h, ']')))
			return -1;
		n = (size_t)(end++ - h);
	} else {
		end = h + strcspn(h, ":");
		n = (size_t)(end - h);
	}
	if (*end == ':') {
		if (strspn(end + 1, "0123456789") != strlen(end + 1) ||
		    strlen(end + 1) > 5)
			return -1;
	} else if (*end) {
		return -1;
	}
	if (!n || n >= len || origin_lower(h, n, v6, out))
		return -1;
	unsigned char a[16];
	if (v6 && inet_pton(AF_INET6, out, a) != 1)
		return -1;
	origin_canon(out, len);
	return 0;
}

/* A name of the command line ("name", "name:port", "[::1]", "::1",
 * surrounding blanks): 0 with the normalised name, or -1. */
static int origin_conf_name(const char *v, size_t n, char *out, size_t len)
{
	char tmp[ORIGIN_NAME_MAX];
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!n || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = 0;
	unsigned char a[16];
	if (inet_pton(AF_INET6, tmp, a) == 1) { /* a bare IPv6 address */
		snprintf(out, len, "%s", tmp);
		origin_canon(out, len);
		return 0;
	}
	return origin_host_name(tmp, out, len);
}

static void origin_add_hosts(struct origin_policy *p, const char *v)
{
	char name[ORIGIN_NAME_MAX];
	for (const char *s = v; s && *s;) {
		size_t n = strcspn(s, ",");
		if (n == 1 && *s == '*')
			p->any_host = 1;
		else if (!origin_conf_name(s, n, name, sizeof(name)) &&
			 p->nnames < ORIGIN_NAMES_MAX)
			p->names[p->nnames++] = sc_xstrdup(name);
		s += n + (s[n] == ',');
	}
}

struct origin_policy *origin_create(const struct origin_opts *o)
{
	struct origin_policy *p = sc_xcalloc(1, sizeof(*p));
	const char *l = o->listen_host ? o->listen_host : "";
	if (origin_conf_name(l, strlen(l), p->listen, sizeof(p->listen)) ||
	    !strcmp(p->listen, "0.0.0.0") || !strcmp(p->listen, "::"))
		p->listen[0] = 0; /* all interfaces */
	for (int i = 0; i < o->nhosts; i++)
		origin_add_hosts(p, o->hosts[i]);
	p->cors = o->cors ? sc_xstrdup(o->cors) : NULL;
	return p;
}

void origin_destroy(struct origin_policy **pp)
{
	struct origin_policy *p = *pp;
	if (!p)
		return;
	for (int i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->cors);
	free(p);
	*pp = NULL;
}

/* Is the address text name one of this machine's interfaces? */
static int origin_local_addr(const char *name)
{
	struct ifaddrs *ifs = NULL;
	char t[INET6_ADDRSTRLEN];
	int hit = 0;
	if (getifaddrs(&ifs))
		return 0;
	for (struct ifaddrs *i = ifs; i && !hit; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		int fam = i->ifa_addr->sa_family;
		const void *a =
			fam == AF_INET
				? (const void *)&((struct sockaddr_in *)(void *)
							  i->ifa_addr)->sin_addr
			: fam == AF_INET6
				? (const void *)&((struct sockaddr_in6 *)(void *)
							  i->ifa_addr)->sin6_addr
				: NULL;
		hit = a && inet_ntop(fam, a, t, sizeof(t)) && !strcmp(t, name);
	}
	freeifaddrs(ifs);
	return hit;
}

static int origin_host_ok(const struct origin_policy *p, const char *host)
{
	char name[ORIGIN_NAME_MAX];
	if (p->any_host)
		return 1;
	if (origin_host_name(host, name, sizeof(name)))
		return 0;
	if (!strcmp(name, "localhost") || !strcmp(name, "127.0.0.1") ||
	    !strcmp(name, "::1") || (p->listen[0] && !strcmp(name, p->listen)))
		return 1;
	for (int i = 0; i < p->nnames; i++)
		if (!strcmp(name, p->names[i]))
			return 1;
	unsigned char a[16];
	return !p->listen[0] && (inet_pton(AF_INET, name, a) == 1 ||
				 inet_pton(AF_INET6, name, a) == 1) &&
	       origin_local_addr(name);
}

/* Length of an authority without the scheme's default port (":80"). */
static size_t origin_auth_len(const char *a, const char *dport)
{
	size_t n = strlen(a), d = strlen(dport);
	return n > d && !strcasecmp(a + n - d, dport) ? n - d : n;
}

/* Is origin ("http://host:port") the page's own: its authority is Host? */
static int origin_is_own(const char *origin, const char *host)
{
	const char *auth, *dport;
	if (!host)
		return 0;
	if (!strncasecmp(origin, "http://", 7))
		auth = origin + 7, dport = ":80";
	else if (!strncasecmp(origin, "https://", 8))
		auth = origin + 8, dport = ":443";
	else
		return 0;
	size_t an = origin_auth_len(auth, dport);
	return an && strcspn(auth, "/@ \t") == strlen(auth) &&
	       an == origin_auth_len(host, dport) && !strncasecmp(auth, host, an);
}

int origin_cors_listed(const struct origin_policy *p, const char *origin)
{
	size_t ol = origin ? strlen(origin) : 0;
	for (const char *s = p->cors; ol && s && *s;) {
		size_t n = strcspn(s, ","), skip = n + (s[n] == ',');
		while (n && *s == ' ')
			s++, n--, skip--;
		size_t m = n;
		while (m && s[m - 1] == ' ')
			m--;
		if ((m == ol && !strncmp(s, origin, m)) || (m == 1 && *s == '*'))
			return 1;
		s += skip;
	}
	return 0;
}

/* Must this request come from the server's own origin? */
static int origin_guarded(const struct origin_req *q)
{
	if (q->upgrade || (q->method != HTTP_GET && q->method != HTTP_HEAD &&
			   q->method != HTTP_OPTIONS))
		return 1;
	return q->path && (!strcmp(q->path, "/api/events") ||
			   !strcmp(q->path, "/api/events/poll") ||
			   !strcmp(q->path, "/api/events/frame"));
}

enum origin_verdict origin_check(const struct origin_policy *p,
				 const struct origin_req *q)
{
	int health = q->path && !strcmp(q->path, "/healthz");
	if (q->host && *q->host && !health && !origin_host_ok(p, q->host))
		return ORIGIN_BAD_HOST;
	if (!origin_guarded(q))
		return ORIGIN_OK;
	if (q->origin)
		return origin_is_own(q->origin, q->host) ||
				       origin_cors_listed(p, q->origin)
			       ? ORIGIN_OK : ORIGIN_CROSS_SITE;
	if (q->fetch_site && (!strcasecmp(q->fetch_site, "cross-site") ||
			      !strcasecmp(q->fetch_site, "same-site")))
		return ORIGIN_CROSS_SITE;
	return ORIGIN_OK;
}

/* s with only printable ASCII, cut to len - 1 (for messages and logs). */
static void origin_printable(const char *s, char *out, size_t len)
{
	size_t n = 0;
	for (; s && *s && n + 1 < len; s++)
		out[n++] = *s > 0x20 && *s < 0x7f ? *s : '?';
	out[n] = 0;
}

void origin_refuse(enum origin_verdict v, const struct origin_req *q,
		   struct http_resp *rs)
{
	char h[96];
	if (v == ORIGIN_BAD_HOST) {
		origin_printable(q->host, h, sizeof(h));
		http_resp_error(rs, 421, "misdirected", NULL,
				"this server does not answer to the Host \"%s\" "
				"(name it with snapcat serve --host)", h);
	} else {
		origin_printable(q->origin ? q->origin : q->fetch_site, h,
				 sizeof(h));
		http_resp_error(rs, 403, "cross_origin", NULL,
				"a request from another site (%s%s) may not do "
				"this (allow an origin with snapcat serve "
				"--cors-origin)", q->origin ? "Origin " :
				"Sec-Fetch-Site ", h);
	}
	http_resp_header(rs, "Cache-Control", "no-store");
}
