/*
 * url.c — accept or refuse a submitted URL and write its canonical form
 * (see url.h); classify IP addresses for the SSRF guard.
 *
 *   user URL -> url_normalize -> catalog key and Page.navigate target
 *
 * DESIGN: one left-to-right pass. The trimmed input is cut into scheme,
 * authority, path, query and fragment; the authority is checked and its host
 * canonicalized into a small buffer (IPv4 by the WHATWG number rules, IPv6
 * through inet_pton and re-serialized); then scheme, host, port, path and
 * query are written into the caller's buffer through a capped writer, and the
 * path's dot segments are resolved in place there (resolution only shrinks).
 * Nothing is allocated.
 *
 * Percent-escapes are normalized in path and query. A '%' that does not start
 * a valid escape is kept as it is (browsers do the same); so that decoding
 * can never build a new escape out of it ("%%41" must not become "%A"), an
 * escape that would decode to a hex digit right after such a '%' is kept.
 */
#include "url.h"

#include "testhooks.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define URL_HOST_MAX 253 /* DNS limit, trailing dot excluded */

/* A capped string writer over the caller's buffer. */
struct url_w {
	char *buf;
	size_t len;
	size_t cap; /* most bytes that may be written, NUL excluded */
	int full;   /* a write did not fit */
};

/* The trimmed input, cut into its components. */
struct url_in {
	const char *s;
	size_t n;
	int https;
	const char *auth, *path, *query; /* query NULL when there is no '?' */
	size_t auth_len, path_len, query_len;
};

static void url_fail(char *err, size_t errlen, const char *fmt, ...)
	SC_PRINTF(3, 4);

static void url_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy s[0..n) for an error message: printable ASCII only, shortened. */
static const char *url_excerpt(const char *s, size_t n, char *buf,
			       size_t buflen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 4 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[o++] = c > 0x20 && c < 0x7f ? (char)c : '?';
		if (i + 1 < n && o + 4 == buflen) {
			memcpy(buf + o, "...", 3);
			o += 3;
		}
	}
	buf[o] = '\0';
	return buf;
}

static void url_put(struct url_w *w, const char *s, size_t n)
{
	if (n > w->cap - w->len) {
		w->full = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void url_putc(struct url_w *w, char c)
{
	url_put(w, &c, 1);
}

static int url_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int url_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int url_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int url_is_unreserved(unsigned char c)
{
	return url_is_alpha(c) || url_is_digit(c) || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

static char url_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- IPv4: the WHATWG URL host parser's number rules ---- */

/* One dot-separated part: decimal, 0-prefixed octal, 0x-prefixed hex ("0x"
 * alone is 0). Saturates above 2^32. Returns 0, or -1 if not a number. */
static int url_ipv4_num(const char *p, size_t n, uint64_t *out)
{
	unsigned radix = 10;
	if (n == 0)
		return -1;
	if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		radix = 16;
		p += 2;
		n -= 2;
	} else if (n >= 2 && p[0] == '0') {
		radix = 8;
		p++;
		n--;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = url_hexval((unsigned char)p[i]);
		if (d < 0 || (unsigned)d >= radix)
			return -1;
		v = v * radix + (unsigned)d;
		if (v > 0xFFFFFFFFull)
			v = 0x100000000ull;
	}
	*out = v;
	return 0;
}

/* Does the host (trailing dot already removed) end in a number? Then it
 * must be an IPv4 address (WHATWG "ends in a number checker"). */
static int url_ends_in_number(const char *s, size_t n)
{
	size_t i = n;
	while (i > 0 && s[i - 1] != '.')
		i--;
	const char *last = s + i;
	size_t len = n - i;
	uint64_t v;
	size_t k = 0;
	while (k < len && url_is_digit((unsigned char)last[k]))
		k++;
	if (len > 0 && k == len)
		return 1;
	return url_ipv4_num(last, len, &v) == 0;
}

/* Parse s[0..n) as IPv4. Returns 1 and *out (host order) if valid, 0 if it
 * is not numeric (a name), -1 if it ends in a number but is not valid. */
static int url_ipv4(const char *s, size_t n, uint32_t *out)
{
	uint64_t part[4];
	size_t count = 0, start = 0;
	if (n > 1 && s[n - 1] == '.')
		n--;
	if (n == 0 || !url_ends_in_number(s, n))
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (count == 4 || url_ipv4_num(s + start, i - start,
					       &part[count]))
			return -1;
		count++;
		start = i + 1;
	}
	for (size_t i = 0; i + 1 < count; i++)
		if (part[i] > 255)
			return -1;
	if (part[count - 1] >= (1ull << (8 * (5 - count))))
		return -1;
	uint64_t v = part[count - 1];
	for (size_t i = 0; i + 1 < count; i++)
		v += part[i] << (8 * (3 - i));
	*out = (uint32_t)v;
	return 1;
}

static void url_v4_mapped(uint32_t v4, struct in6_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = a->s6_addr[11] = 0xff;
	a->s6_addr[12] = (uint8_t)(v4 >> 24);
	a->s6_addr[13] = (uint8_t)(v4 >> 16);
	a->s6_addr[14] = (uint8_t)(v4 >> 8);
	a->s6_addr[15] = (uint8_t)v4;
}

/* ---- IPv6 ---- */

/* Parse the text of an IPv6 address (no brackets). 1 if valid, else 0. */
static int url_ipv6(const char *s, size_t n, struct in6_addr *out)
{
	char tmp[INET6_ADDRSTRLEN];
	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/* WHATWG IPv6 serializer: lowercase hex, no leading zeros, the first longest
 * run of two or more zero pieces as "::", no embedded dotted quad. */
static void url_ipv6_text(const struct in6_addr *a, char *buf, size_t buflen)
{
	unsigned piece[8];
	int best = -1, bestlen = 1;
	for (int i = 0; i < 8; i++)
		piece[i] = (unsigned)a->s6_addr[2 * i] << 8 | a->s6_addr[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && piece[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t o = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o += (size_t)snprintf(buf + o, buflen - o, "%s",
					      i == 0 ? "::" : ":");
			i += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(buf + o, buflen - o, "%x%s", piece[i],
				      i < 7 ? ":" : "");
	}
}

int url_ip_literal(const char *host, struct in6_addr *out)
{
	struct in6_addr a;
	uint32_t v4;
	if (!host)
		return 0;
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		return url_ipv6(host + 1, n - 2, out ? out : &a) ? 6 : 0;
	if (memchr(host, ':', n))
		return url_ipv6(host, n, out ? out : &a) ? 6 : 0;
	if (n > URL_HOST_MAX + 1)
		return 0;
	char low[URL_HOST_MAX + 2];
	for (size_t i = 0; i < n; i++)
		low[i] = url_lower(host[i]);
	if (url_ipv4(low, n, &v4) != 1)
		return 0;
	if (out)
		url_v4_mapped(v4, out);
	return 4;
}

/* ---- private and special-purpose ranges ---- */

struct url_v4_range {
	uint32_t net;
	int bits;
	const char *reason;
};

/* Specific entries first: the first match gives the reason. */
static const struct url_v4_range url_v4_ranges[] = {
	{0xA9FEA9FE, 32, "cloud metadata service 169.254.169.254"},
	{0x646464C8, 32, "cloud metadata service 100.100.100.200 (Alibaba)"},
	{0xC00000C0, 32, "cloud metadata service 192.0.0.192 (Oracle)"},
	{0x00000000, 8, "\"this network\" 0.0.0.0/8 (reaches this host)"},
	{0x0A000000, 8, "private network 10.0.0.0/8 (RFC 1918)"},
	{0x64400000, 10, "carrier-grade NAT 100.64.0.0/10 (RFC 6598)"},
	{0x7F000000, 8, "loopback 127.0.0.0/8"},
	{0xA9FE0000, 16, "link-local 169.254.0.0/16"},
	{0xAC100000, 12, "private network 172.16.0.0/12 (RFC 1918)"},
	{0xC0000000, 24, "IETF protocol assignments 192.0.0.0/24"},
	{0xC0000200, 24, "documentation 192.0.2.0/24 (RFC 5737)"},
	{0xC0586300, 24, "6to4 relay anycast 192.88.99.0/24 (deprecated)"},
	{0xC0A80000, 16, "private network 192.168.0.0/16 (RFC 1918)"},
	{0xC6120000, 15, "benchmarking 198.18.0.0/15 (RFC 2544)"},
	{0xC6336400, 24, "documentation 198.51.100.0/24 (RFC 5737)"},
	{0xCB007100, 24, "documentation 203.0.113.0/24 (RFC 5737)"},
	{0xE0000000, 4, "multicast 224.0.0.0/4"},
	{0xFFFFFFFF, 32, "broadcast 255.255.255.255"},
	{0xF0000000, 4, "reserved 240.0.0.0/4"},
};

static const char *url_v4_reason(uint32_t v)
{
	size_t n = sizeof(url_v4_ranges) / sizeof(url_v4_ranges[0]);
	for (size_t i = 0; i < n; i++) {
		const struct url_v4_range *r = &url_v4_ranges[i];
		uint32_t mask = r->bits ? 0xFFFFFFFFu << (32 - r->bits) : 0;
		if ((v & mask) == r->net)
			return r->reason;
	}
	return NULL;
}

struct url_v6_range {
	uint8_t prefix[16];
	int bits;
	int v4_at; /* >= 0: judge by the IPv4 address at this byte offset */
	const char *reason;
};

static const struct url_v6_range url_v6_ranges[] = {
	{{0}, 128, -1, "unspecified address ::"},
	{{[15] = 1}, 128, -1, "loopback ::1"},
	{{[10] = 0xff, [11] = 0xff}, 96, 12, NULL},
	{{0}, 96, -1, "IPv4-compatible IPv6 ::/96 (deprecated)"},
	{{0, 0x64, 0xff, 0x9b}, 96, 12, NULL},
	{{0, 0x64, 0xff, 0x9b, 0, 1}, 48, -1, "local-use NAT64 64:ff9b:1::/48"},
	{{1}, 64, -1, "discard-only 100::/64"},
	{{0xfd, 0, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02}, 128, -1,
	 "cloud metadata service fd00:ec2::254 (AWS)"},
	{{0x20, 0x01, 0x0d, 0xb8}, 32, -1, "documentation 2001:db8::/32"},
	{{0x20, 0x01}, 32, -1, "Teredo 2001::/32"},
	{{0x20, 0x01}, 23, -1, "IETF protocol assignments 2001::/23"},
	{{0x20, 0x02}, 16, 2, NULL},
	{{0x3f, 0xff}, 20, -1, "documentation 3fff::/20"},
	{{0x5f}, 16, -1, "SRv6 SIDs 5f00::/16"},
	{{0xfc}, 7, -1, "unique-local fc00::/7"},
	{{0xfe, 0x80}, 10, -1, "link-local fe80::/10"},
	{{0xfe, 0xc0}, 10, -1, "site-local fec0::/10 (deprecated)"},
	{{0xff}, 8, -1, "multicast ff00::/8"},
};

static int url_v6_match(const struct in6_addr *a, const uint8_t *p, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a->s6_addr, p, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	uint8_t mask = (uint8_t)(0xFF << (8 - rest));
	return (a->s6_addr[full] & mask) == (p[full] & mask);
}

const char *url_ip_private_reason(const struct in6_addr *a)
{
	if (testhooks_public(a)) /* a test build's "public" loopback alias */
		return NULL;
	size_t n = sizeof(url_v6_ranges) / sizeof(url_v6_ranges[0]);
	for (size_t i = 0; i < n; i++) {
		const struct url_v6_range *r = &url_v6_ranges[i];
		if (!url_v6_match(a, r->prefix, r->bits))
			continue;
		if (r->v4_at < 0)
			return r->reason;
		const uint8_t *b = a->s6_addr + r->v4_at;
		return url_v4_reason((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
				     (uint32_t)b[2] << 8 | b[3]);
	}
	if ((a->s6_addr[0] & 0xe0) != 0x20)
		return "not global unicast (outside 2000::/3)";
	return NULL;
}

int url_addr_is_private(const struct sockaddr *sa)
{
	struct in6_addr a;
	if (!sa)
		return 1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		url_v4_mapped(ntohl(in->sin_addr.s_addr), &a);
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
	} else {
		return 1;
	}
	return url_ip_private_reason(&a) != NULL;
}

/* ---- normalization: cutting the input ---- */

static sc_result url_trim_check(const char *in, struct url_in *u, char *err,
				size_t errlen)
{
	const char *s = in, *e = in + strlen(in);
	while (s < e && (unsigned char)*s <= 0x20)
		s++;
	while (e > s && (unsigned char)e[-1] <= 0x20)
		e--;
	u->s = s;
	u->n = (size_t)(e - s);
	if (u->n == 0) {
		url_fail(err, errlen, "empty URL");
		return SC_ERR_INVALID;
	}
	if (u->n > URL_MAX_LEN) {
		url_fail(err, errlen, "URL is longer than %d bytes", URL_MAX_LEN);
		return SC_ERR_TOO_LARGE;
	}
	for (size_t i = 0; i < u->n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ') {
			url_fail(err, errlen, "URL contains a space (at offset "
				 "%zu): percent-encode spaces as %%20", i);
			return SC_ERR_INVALID;
		}
		if (c < 0x20 || c == 0x7f) {
			url_fail(err, errlen, "URL contains a control "
				 "character (byte 0x%02x at offset %zu)", c, i);
			return SC_ERR_INVALID;
		}
	}
	return SC_OK;
}

/* Scheme, "//", then where the authority starts. */
static sc_result url_cut_scheme(struct url_in *u, size_t *pos, char *err,
				size_t errlen)
{
	const char *s = u->s;
	size_t i = 0;
	if (url_is_alpha((unsigned char)s[0]))
		while (i < u->n && (url_is_alpha((unsigned char)s[i]) ||
				    url_is_digit((unsigned char)s[i]) ||
				    s[i] == '+' || s[i] == '-' || s[i] == '.'))
			i++;
	if (i == 0 || i >= u->n || s[i] != ':') {
		url_fail(err, errlen, "not a URL: missing scheme (an absolute "
			 "URL starts with http:// or https://)");
		return SC_ERR_INVALID;
	}
	char scheme[40];
	for (size_t k = 0; k < i && k + 1 < sizeof(scheme); k++)
		scheme[k] = url_lower(s[k]);
	scheme[i < sizeof(scheme) ? i : sizeof(scheme) - 1] = '\0';
	if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		url_fail(err, errlen, "scheme \"%s\" is not allowed: only http "
			 "and https URLs can be captured", scheme);
		return SC_ERR_INVALID;
	}
	u->https = i == 5;
	if (i + 2 >= u->n || (s[i + 1] != '/' && s[i + 1] != '\\') ||
	    (s[i + 2] != '/' && s[i + 2] != '\\')) {
		url_fail(err, errlen, "not a URL: expected \"//\" after "
			 "\"%s:\"", scheme);
		return SC_ERR_INVALID;
	}
	*pos = i + 3;
	return SC_OK;
}

/* Authority up to / \ ? #; path up to ? #; query up to #; drop fragment. */
static void url_cut_rest(struct url_in *u, size_t i)
{
	const char *s = u->s;
	size_t n = u->n, a = i;
	while (i < n && !strchr("/\\?#", s[i]))
		i++;
	u->auth = s + a;
	u->auth_len = i - a;
	a = i;
	while (i < n && s[i] != '?' && s[i] != '#')
		i++;
	u->path = s + a;
	u->path_len = i - a;
	u->query = NULL;
	u->query_len = 0;
	if (i < n && s[i] == '?') {
		a = ++i;
		while (i < n && s[i] != '#')
			i++;
		u->query = s + a;
		u->query_len = i - a;
	}
}

/* ---- normalization: the host ---- */

static sc_result url_host_v6(const char *h, size_t n, char *out,
			     size_t outlen, char *err, size_t errlen)
{
	struct in6_addr a;
	char ex[64];
	if (memchr(h, '%', n)) {
		url_fail(err, errlen, "IPv6 zone identifiers (\"%%25...\") are "
			 "not supported");
		return SC_ERR_INVALID;
	}
	if (!url_ipv6(h + 1, n - 2, &a)) {
		url_fail(err, errlen, "invalid IPv6 address \"%s\"",
			 url_excerpt(h, n, ex, sizeof(ex)));
		return SC_ERR_INVALID;
	}
	char text[INET6_ADDRSTRLEN];
	url_ipv6_text(&a, text, sizeof(text));
	return sc_snprintf(out, outlen, "[%s]", text);
}

/* Percent-decode the host name into out (URL_HOST_MAX + 2 bytes). */
static sc_result url_host_decode(const char *h, size_t n, char *out,
				 size_t *outn, char *err, size_t errlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)h[i];
		if (c == '%') {
			int a = i + 2 < n ? url_hexval((unsigned char)h[i + 1])
					  : -1;
			int b = a >= 0 ? url_hexval((unsigned char)h[i + 2]) : -1;
			if (b < 0) {
				url_fail(err, errlen, "host name contains a "
					 "malformed percent-escape");
				return SC_ERR_INVALID;
			}
			c = a * 16 + b;
			i += 2;
		}
		if (o > URL_HOST_MAX) {
			url_fail(err, errlen, "host name is longer than %d "
				 "characters", URL_HOST_MAX);
			return SC_ERR_INVALID;
		}
		out[o++] = (char)c;
	}
	*outn = o;
	return SC_OK;
}

/* Lowercase and check each byte of a decoded host name. */
static sc_result url_host_chars(char *h, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c >= 0x80) {
			url_fail(err, errlen, "host name contains non-ASCII "
				 "characters: write internationalized domain "
				 "names in punycode (xn--...)");
			return SC_ERR_INVALID;
		}
		h[i] = url_lower((char)c);
		if (url_is_alpha(c) || url_is_digit(c) || c == '-' ||
		    c == '_' || c == '.')
			continue;
		if (c > 0x20 && c < 0x7f)
			url_fail(err, errlen, "host name contains an invalid "
				 "character '%c'", c);
		else
			url_fail(err, errlen, "host name contains an invalid "
				 "character (byte 0x%02x)", c);
		return SC_ERR_INVALID;
	}
	return SC_OK;
}

static sc_result url_host_labels(const char *h, size_t n, char *err,
				 size_t errlen)
{
	size_t start = 0;
	if (n > URL_HOST_MAX) {
		url_fail(err, errlen, "host name is longer than %d characters",
			 URL_HOST_MAX);
		return SC_ERR_INVALID;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && h[i] != '.')
			continue;
		if (i == start) {
			url_fail(err, errlen, "host name has an empty label "
				 "(a leading dot or \"..\")");
			return SC_ERR_INVALID;
		}
		if (i - start > 63) {
			url_fail(err, errlen, "host name has a label longer "
				 "than 63 characters");
			return SC_ERR_INVALID;
		}
		start = i + 1;
	}
	return SC_OK;
}

/* A host name or IPv4 address; the canonical text goes to out. */
static sc_result url_host_name(const char *h, size_t n, char *out,
			       size_t outlen, char *err, size_t errlen)
{
	char buf[URL_HOST_MAX + 2];
	size_t len;
	uint32_t v4;
	sc_result rc;
	if ((rc = url_host_decode(h, n, buf, &len, err, errlen)) ||
	    (rc = url_host_chars(buf, len, err, errlen)))
		return rc;
	if (len == 0 || (len == 1 && buf[0] == '.')) {
		url_fail(err, errlen, "not a URL: missing host");
		return SC_ERR_INVALID;
	}
	int ip = url_ipv4(buf, len, &v4); /* strips one trailing dot */
	if (ip < 0) {
		char ex[64];
		url_fail(err, errlen, "invalid IPv4 address \"%s\"",
			 url_excerpt(buf, len, ex, sizeof(ex)));
		return SC_ERR_INVALID;
	}
	if (ip > 0)
		return sc_snprintf(out, outlen, "%u.%u.%u.%u", v4 >> 24,
				   (v4 >> 16) & 255, (v4 >> 8) & 255, v4 & 255);
	if (buf[len - 1] == '.')
		len--;
	if ((rc = url_host_labels(buf, len, err, errlen)))
		return rc;
	return sc_snprintf(out, outlen, "%.*s", (int)len, buf);
}

/* Port text after ':' (may be empty: the default). *port = -1 if none. */
static sc_result url_port(const char *p, size_t n, int *port, char *err,
			  size_t errlen)
{
	long v = 0;
	*port = -1;
	if (n == 0)
		return SC_OK;
	for (size_t i = 0; i < n; i++) {
		if (!url_is_digit((unsigned char)p[i])) {
			v = 0;
			break;
		}
		v = v * 10 + (p[i] - '0');
		if (v > 65535)
			break;
	}
	if (v < 1 || v > 65535) {
		char ex[24];
		url_fail(err, errlen, "invalid port \"%s\": must be a number "
			 "from 1 to 65535", url_excerpt(p, n, ex, sizeof(ex)));
		return SC_ERR_INVALID;
	}
	*port = (int)v;
	return SC_OK;
}

/* Check the authority; canonical host to host[], port or -1 to *port. */
static sc_result url_authority(const struct url_in *u, char *host,
			       size_t hostlen, int *port, char *err,
			       size_t errlen)
{
	const char *a = u->auth, *end = a + u->auth_len, *colon;
	sc_result rc;
	if (memchr(a, '@', u->auth_len)) {
		url_fail(err, errlen, "URLs with credentials (user:password@) "
			 "are not accepted: they would be stored in the "
			 "archive; remove them from the URL");
		return SC_ERR_INVALID;
	}
	if (u->auth_len > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', u->auth_len);
		if (!close || (close + 1 < end && close[1] != ':')) {
			url_fail(err, errlen, "invalid IPv6 address: expected "
				 "\"[address]\" or \"[address]:port\"");
			return SC_ERR_INVALID;
		}
		colon = close + 1 < end ? close + 1 : NULL;
		rc = url_host_v6(a, (size_t)(close + 1 - a), host, hostlen,
				 err, errlen);
	} else {
		colon = memchr(a, ':', u->auth_len);
		size_t hn = colon ? (size_t)(colon - a) : u->auth_len;
		if (hn == 0) {
			url_fail(err, errlen, "not a URL: missing host");
			return SC_ERR_INVALID;
		}
		rc = url_host_name(a, hn, host, hostlen, err, errlen);
	}
	if (rc)
		return rc;
	if (!colon) {
		*port = -1;
		return SC_OK;
	}
	return url_port(colon + 1, (size_t)(end - colon - 1), port, err,
			errlen);
}

/* ---- normalization: path and query ---- */

/* Copy path or query text with escapes normalized; '\' becomes '/' in the
 * path; bytes of `encode` and non-ASCII are percent-encoded. */
static void url_put_text(struct url_w *w, const char *p, size_t n,
			 int is_path, const char *encode)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t stray = SIZE_MAX; /* where the last lone '%' was written */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int hi = c == '%' && i + 2 < n
				 ? url_hexval((unsigned char)p[i + 1]) : -1;
		int lo = hi >= 0 ? url_hexval((unsigned char)p[i + 2]) : -1;
		if (lo >= 0) {
			unsigned char d = (unsigned char)(hi * 16 + lo);
			int guard = stray != SIZE_MAX && w->len - stray <= 2 &&
				    url_hexval(d) >= 0;
			if (url_is_unreserved(d) && !guard) {
				url_putc(w, (char)d);
			} else {
				char e[3] = {'%', hex[hi], hex[lo]};
				url_put(w, e, 3);
			}
			i += 2;
		} else if (c == '%') {
			stray = w->len;
			url_putc(w, '%');
		} else if (c == '\\' && is_path) {
			url_putc(w, '/');
		} else if (c >= 0x80 || strchr(encode, c)) {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			url_put(w, e, 3);
		} else {
			url_putc(w, (char)c);
		}
	}
}

/* Resolve "." and ".." segments of the path at w->buf[start..w->len) in
 * place, as the WHATWG path state does; the path starts with '/'. */
static void url_dots(struct url_w *w, size_t start)
{
	char *p = w->buf + start;
	size_t n = w->len - start, o = 0, i = 0;
	while (i < n) {
		size_t j = i + 1;
		while (j < n && p[j] != '/')
			j++;
		size_t sl = j - i - 1;
		int last = j >= n, dot = sl == 1 && p[i + 1] == '.';
		int dotdot = sl == 2 && p[i + 1] == '.' && p[i + 2] == '.';
		if (dotdot)
			while (o > 0 && p[--o] != '/')
				;
		if ((dot || dotdot) && last) {
			p[o++] = '/';
		} else if (!dot && !dotdot) {
			memmove(p + o + 1, p + i + 1, sl);
			p[o] = '/';
			o += sl + 1;
		}
		i = j;
	}
	if (o == 0)
		p[o++] = '/';
	w->len = start + o;
}

static void url_put_path_query(struct url_w *w, const struct url_in *u)
{
	size_t start = w->len;
	if (u->path_len == 0) {
		url_putc(w, '/');
	} else {
		url_put_text(w, u->path, u->path_len, 1, "\"<>`{}");
		if (!w->full)
			url_dots(w, start);
	}
	if (u->query_len > 0) {
		url_putc(w, '?');
		url_put_text(w, u->query, u->query_len, 0, "\"<>");
	}
}

sc_result url_normalize(const char *in, char *out, size_t outlen, char *err,
			size_t errlen)
{
	struct url_in u;
	char host[URL_HOST_MAX + 3], portbuf[8] = "";
	size_t pos;
	int port;
	sc_result rc;
	if (err && errlen)
		err[0] = '\0';
	if (!out || !outlen) {
		url_fail(err, errlen, "no room for the normalized URL");
		return SC_ERR_TOO_LARGE;
	}
	out[0] = '\0';
	if (!in) {
		url_fail(err, errlen, "empty URL");
		return SC_ERR_INVALID;
	}
	if ((rc = url_trim_check(in, &u, err, errlen)) ||
	    (rc = url_cut_scheme(&u, &pos, err, errlen)))
		return rc;
	url_cut_rest(&u, pos);
	if ((rc = url_authority(&u, host, sizeof(host), &port, err, errlen)))
		return rc;
	if (port > 0 && port != (u.https ? 443 : 80))
		rc = sc_snprintf(portbuf, sizeof(portbuf), ":%d", port);
	struct url_w w = {out, 0, outlen - 1 < URL_MAX_LEN ? outlen - 1
							   : URL_MAX_LEN, 0};
	url_put(&w, u.https ? "https://" : "http://", u.https ? 8 : 7);
	url_put(&w, host, strlen(host));
	url_put(&w, portbuf, strlen(portbuf));
	url_put_path_query(&w, &u);
	if (rc || w.full) {
		out[0] = '\0';
		url_fail(err, errlen, "URL is longer than %zu bytes after "
			 "normalization", w.cap);
		return SC_ERR_TOO_LARGE;
	}
	out[w.len] = '\0';
	return SC_OK;
}

/* ---- splitting a normalized URL ---- */

sc_result url_split(const char *url, struct url_parts *parts)
{
	char buf[URL_BUF_SIZE];
	sc_result rc;
	memset(parts, 0, sizeof(*parts));
	if ((rc = url_normalize(url, buf, sizeof(buf), NULL, 0)))
		return rc;
	int https = buf[4] == 's';
	const char *h = buf + (https ? 8 : 7);
	const char *path = strchr(h, '/'); /* never NULL once normalized */
	const char *hend = path, *colon = NULL;
	if (h[0] == '[') {
		hend = strchr(h, ']');
		colon = hend[1] == ':' ? hend + 1 : NULL;
		h++;
	} else {
		colon = memchr(h, ':', (size_t)(path - h));
		if (colon)
			hend = colon;
	}
	memcpy(parts->scheme, https ? "https" : "http", https ? 6 : 5);
	memcpy(parts->host, h, (size_t)(hend - h));
	parts->port = https ? 443 : 80;
	if (colon) {
		parts->port = 0;
		for (const char *p = colon + 1; p < path; p++)
			parts->port = parts->port * 10 + (*p - '0');
	}
	parts->ip = url_ip_literal(parts->host, &parts->addr);
	memcpy(parts->path_query, path, strlen(path) + 1);
	return SC_OK;
}
