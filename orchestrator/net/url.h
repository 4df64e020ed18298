/*
 * url.h — which URLs snapcat accepts, and their canonical form. No network.
 *
 *   POST /api/links {url} / `snapcat capture URL` -> url_normalize
 *        -> catalog (dedupe on the normalized string) -> job -> capture
 *   SSRF guard (before navigating): url_split -> url_ip_literal or resolve
 *        the host -> url_ip_private_reason on every address
 *
 * url_normalize() accepts only absolute http:// and https:// URLs and writes
 * the form used for dedupe and for navigation:
 *   - scheme and host lowercased; default port (80 for http, 443 for https)
 *     dropped; fragment dropped; empty path -> "/"; an empty query ("?")
 *     dropped; "." and ".." path segments resolved as browsers do;
 *   - in path and query: percent-escape hex digits uppercased, escapes of
 *     unreserved characters (A-Z a-z 0-9 - . _ ~) decoded (RFC 3986 6.2.2),
 *     non-ASCII bytes and the characters a browser would escape (path:
 *     " < > ` { }; query: " < >) percent-encoded; parameter order is kept;
 *     '\' is read as '/' before the query, as browsers do for http(s);
 *   - IPv4 hosts in every spelling a browser accepts (WHATWG URL: 2130706433,
 *     0x7f.1, 0177.0.0.1, 127.1) become dotted quads; IPv6 literals stay
 *     bracketed, in the WHATWG/RFC 5952 text form ("[::ffff:7f00:1]");
 *   - a trailing dot in the host name is removed ("example.com.").
 * Rejected, each with a sentence for the user: other schemes (file:, data:,
 * javascript:, ftp:, ws:, ...), relative URLs, URLs with credentials
 * ("user:pass@host": they would be stored in the archive and shown in the
 * catalog — a leak), non-ASCII host names (write IDNs as punycode, xn--...;
 * snapcat has no IDNA tables), control characters, spaces, hosts that end in
 * a number but are not a valid IPv4 address ("1.2.3.256"), IPv6 zone ids,
 * ports outside 1-65535, and URLs over URL_MAX_LEN bytes.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "sc.h"

/* Longest accepted URL, before and after normalization (bytes, no NUL). */
#define URL_MAX_LEN 8192
/* Room for any normalized URL, NUL included: size url_normalize's out so. */
#define URL_BUF_SIZE (URL_MAX_LEN + 1)

/*
 * Normalize the absolute URL `in` (see above) into out.
 *
 * Returns SC_OK with the NUL-terminated normalized URL in out;
 * SC_ERR_INVALID if the URL is not acceptable; SC_ERR_TOO_LARGE if it is
 * longer than URL_MAX_LEN bytes before or after normalization, or if it does
 * not fit in outlen (never the case with outlen >= URL_BUF_SIZE). On error
 * out is "" and err (if errlen > 0) holds one sentence for the user, e.g.
 * `scheme "file" is not allowed: only http and https URLs can be captured`.
 * Pure function: thread-safe, allocates nothing. Idempotent: normalizing
 * the output again yields the same string.
 */
sc_result url_normalize(const char *in, char *out, size_t outlen, char *err,
			size_t errlen) SC_MUST_CHECK;

/* The parts of a normalized URL, for the capture and the SSRF guard. */
struct url_parts {
	char scheme[8];   /* "http" or "https" */
	char host[256];   /* lowercase name, dotted-quad IPv4, or IPv6 text
			     WITHOUT brackets ("::1"): ready for getaddrinfo */
	int port;         /* always set: explicit port, else 80 / 443 */
	int ip;           /* 0: a name to resolve; 4 or 6: an IP literal */
	struct in6_addr addr; /* when ip != 0; IPv4 as ::ffff:a.b.c.d */
	char path_query[URL_BUF_SIZE]; /* "/path?query", never empty */
};

/*
 * Split url into parts. url is normalized first, so any URL url_normalize
 * accepts is fine and the parts always describe the canonical form.
 * Returns SC_OK, or url_normalize's error (parts then zeroed). The struct is
 * ~8.5 KiB; the caller owns it.
 */
sc_result url_split(const char *url, struct url_parts *parts) SC_MUST_CHECK;

/*
 * Is host an IP literal? Accepts what a browser accepts in a URL host:
 * IPv4 as dotted quad, a single number (2130706433), octal (0177.0.0.1), hex
 * (0x7f.0.0.1, 0x7f000001), short forms (127.1, 10.0.258), an optional
 * trailing dot; IPv6 with or without brackets, including embedded IPv4
 * ("::ffff:127.0.0.1"). Host names are case-insensitive; no percent-decoding.
 *
 * Returns 4 (out = the IPv4-mapped address ::ffff:a.b.c.d), 6 (out = the
 * address), or 0 if host is not a valid IP literal (out untouched). out may
 * be NULL. Note 0 also for invalid numeric hosts such as "1.2.3.256";
 * url_normalize rejects those, so a normalized host is either a valid
 * literal or a name to resolve.
 */
int url_ip_literal(const char *host, struct in6_addr *out);

/*
 * Why an address must not be captured unless private targets are allowed:
 * returns a static description ("loopback 127.0.0.0/8", "private network
 * 10.0.0.0/8 (RFC 1918)", ...) or NULL for a public (globally reachable
 * unicast) address. IPv4 is given in its mapped form ::ffff:a.b.c.d.
 * Covered (fail closed: when unsure, an address is not public):
 *   IPv4: 0/8 "this network" (0.0.0.0 reaches localhost on Linux), 10/8,
 *     172.16/12, 192.168/16 (RFC 1918), 100.64/10 (CGNAT, RFC 6598; also
 *     Alibaba's metadata 100.100.100.200), 127/8, 169.254/16 link-local
 *     (cloud metadata 169.254.169.254), 192.0.0/24 IETF assignments (Oracle
 *     metadata 192.0.0.192), 192.0.2/24, 198.51.100/24, 203.0.113/24
 *     (documentation), 192.88.99/24 (6to4 relay anycast, deprecated),
 *     198.18/15 (benchmarking), 224/4 multicast, 240/4 reserved and
 *     255.255.255.255 broadcast.
 *   IPv6: :: and ::1; ::ffff:0:0/96 mapped, 64:ff9b::/96 NAT64 and
 *     2002::/16 6to4 are judged by the IPv4 address they embed; ::/96
 *     IPv4-compatible (deprecated) is always refused; 64:ff9b:1::/48 local
 *     NAT64; 100::/64 discard; 2001::/32 Teredo and the rest of 2001::/23
 *     (IETF assignments); 2001:db8::/32 and 3fff::/20 (documentation);
 *     5f00::/16 SRv6; fc00::/7 unique-local (AWS metadata fd00:ec2::254);
 *     fe80::/10 link-local; fec0::/10 site-local; ff00::/8 multicast; and
 *     anything else outside 2000::/3 global unicast.
 */
const char *url_ip_private_reason(const struct in6_addr *a);

/*
 * 1 if the AF_INET or AF_INET6 address in sa is not public (see
 * url_ip_private_reason), 0 if public. Any other family (or NULL) is 1.
 */
int url_addr_is_private(const struct sockaddr *sa);

#endif
