/*
 * test_url.c — url_normalize (accept/refuse, canonical form), url_split,
 * url_ip_literal (every IPv4 spelling browsers accept) and the private-range
 * classifier (both sides of each boundary).
 */
#include <arpa/inet.h>
#include <string.h>

#include "testhelp.h"
#include "url.h"

struct norm_case {
	const char *in;
	const char *out; /* expected normalized URL, or NULL if refused */
	const char *err; /* when refused: a substring of the message */
};

static const struct norm_case norm_cases[] = {
	/* accepted, already canonical or nearly */
	{"http://example.com/", "http://example.com/", NULL},
	{"https://example.com/a/b?x=1&y=2", "https://example.com/a/b?x=1&y=2", NULL},
	{"http://example.com", "http://example.com/", NULL},
	{"https://example.com?q", "https://example.com/?q", NULL},
	{"  http://example.com/ \n", "http://example.com/", NULL},
	/* case */
	{"HTTP://Example.COM/Path", "http://example.com/Path", NULL},
	{"HtTpS://EXAMPLE.com", "https://example.com/", NULL},
	/* ports */
	{"http://example.com:80/", "http://example.com/", NULL},
	{"https://example.com:443/", "https://example.com/", NULL},
	{"http://example.com:443/", "http://example.com:443/", NULL},
	{"https://example.com:80/", "https://example.com:80/", NULL},
	{"http://example.com:8080", "http://example.com:8080/", NULL},
	{"http://example.com:0080/", "http://example.com/", NULL},
	{"http://example.com:/", "http://example.com/", NULL},
	{"http://example.com:65535/", "http://example.com:65535/", NULL},
	{"http://example.com:0/", NULL, "invalid port \"0\""},
	{"http://example.com:65536/", NULL, "from 1 to 65535"},
	{"http://example.com:8x/", NULL, "invalid port"},
	{"http://example.com:-1/", NULL, "invalid port"},
	/* fragment, query */
	{"http://example.com/a#frag", "http://example.com/a", NULL},
	{"http://example.com/a?b=1#frag?x", "http://example.com/a?b=1", NULL},
	{"http://example.com#x", "http://example.com/", NULL},
	{"http://example.com/?", "http://example.com/", NULL},
	{"http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1", NULL},
	{"http://example.com/?a=/../x", "http://example.com/?a=/../x", NULL},
	{"http://example.com/?a=\\b", "http://example.com/?a=\\b", NULL},
	/* dot segments */
	{"http://example.com/a/./b/../c", "http://example.com/a/c", NULL},
	{"http://example.com/a/b/..", "http://example.com/a/", NULL},
	{"http://example.com/a/.", "http://example.com/a/", NULL},
	{"http://example.com/../../x", "http://example.com/x", NULL},
	{"http://example.com/..", "http://example.com/", NULL},
	{"http://example.com/a//b/../c", "http://example.com/a//c", NULL},
	{"http://example.com/a/%2e%2E/b", "http://example.com/b", NULL},
	{"http://example.com/a/.b/..c", "http://example.com/a/.b/..c", NULL},
	{"http://example.com\\a\\..\\b", "http://example.com/b", NULL},
	{"http:\\\\example.com\\x", "http://example.com/x", NULL},
	/* percent-escapes */
	{"http://example.com/%7euser", "http://example.com/~user", NULL},
	{"http://example.com/%41%2f%2F", "http://example.com/A%2F%2F", NULL},
	{"http://example.com/a%3fb", "http://example.com/a%3Fb", NULL},
	{"http://example.com/?q=%7e%2b", "http://example.com/?q=~%2B", NULL},
	{"http://example.com/100%", "http://example.com/100%", NULL},
	{"http://example.com/%zz", "http://example.com/%zz", NULL},
	{"http://example.com/%%41", "http://example.com/%%41", NULL},
	{"http://example.com/%a%42x", "http://example.com/%a%42x", NULL},
	{"http://example.com/%a%47x", "http://example.com/%aGx", NULL},
	{"http://example.com/caf\xc3\xa9", "http://example.com/caf%C3%A9", NULL},
	{"http://example.com/?q=\xc3\xa9", "http://example.com/?q=%C3%A9", NULL},
	{"http://example.com/a\"<>`{}", "http://example.com/a%22%3C%3E%60%7B%7D", NULL},
	{"http://example.com/?a\"<>'", "http://example.com/?a%22%3C%3E'", NULL},
	/* host names */
	{"http://example.com./", "http://example.com/", NULL},
	{"http://ex%41mple.com/", "http://example.com/", NULL},
	{"http://my_host-1.example/", "http://my_host-1.example/", NULL},
	{"http://localhost:3000", "http://localhost:3000/", NULL},
	{"http://example..com/", NULL, "empty label"},
	{"http://.example.com/", NULL, "empty label"},
	{"http://example.com../", NULL, "empty label"},
	{"http://exa!mple.com/", NULL, "invalid character '!'"},
	{"http://ex%zzample.com/", NULL, "malformed percent-escape"},
	{"http://ex%00ample.com/", NULL, "byte 0x00"},
	{"http://b\xc3\xbc" "cher.de/", NULL, "punycode"},
	{"http://b%C3%BCcher.de/", NULL, "punycode"},
	{"http://xn--bcher-kva.de/", "http://xn--bcher-kva.de/", NULL},
	{"http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/",
	 NULL, "longer than 63"},
	/* IPv4 spellings -> dotted quad */
	{"http://2130706433/", "http://127.0.0.1/", NULL},
	{"http://0177.0.0.1/", "http://127.0.0.1/", NULL},
	{"http://0x7f.1/", "http://127.0.0.1/", NULL},
	{"http://0X7F000001/", "http://127.0.0.1/", NULL},
	{"http://127.1/", "http://127.0.0.1/", NULL},
	{"http://10.0.258/", "http://10.0.1.2/", NULL},
	{"http://1.2.3.4./", "http://1.2.3.4/", NULL},
	{"http://0/", "http://0.0.0.0/", NULL},
	{"http://0x/", "http://0.0.0.0/", NULL},
	{"http://1.2.3.256/", NULL, "invalid IPv4 address \"1.2.3.256\""},
	{"http://256.1/", NULL, "invalid IPv4"},
	{"http://1.2.3.4.5/", NULL, "invalid IPv4"},
	{"http://4294967296/", NULL, "invalid IPv4"},
	{"http://08.1.2.3/", NULL, "invalid IPv4"},
	{"http://1..2/", NULL, "invalid IPv4"},
	{"http://foo.123/", NULL, "invalid IPv4"},
	{"http://foo.0x1g/", "http://foo.0x1g/", NULL},
	{"http://1.2.3.4../", NULL, "empty label"},
	/* IPv6 */
	{"http://[::1]/", "http://[::1]/", NULL},
	{"http://[::1]:8080/x", "http://[::1]:8080/x", NULL},
	{"http://[2001:DB8:0:0:0:0:0:1]/", "http://[2001:db8::1]/", NULL},
	{"http://[0:0:1:0:0:0:0:0]/", "http://[0:0:1::]/", NULL},
	{"http://[1:0:1:0:1:0:1:0]/", "http://[1:0:1:0:1:0:1:0]/", NULL},
	{"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", NULL},
	{"http://[::1]:443/", "http://[::1]:443/", NULL},
	{"https://[::1]:443/", "https://[::1]/", NULL},
	{"http://[::1/", NULL, "invalid IPv6"},
	{"http://[::1]x/", NULL, "invalid IPv6"},
	{"http://[::g]/", NULL, "invalid IPv6 address \"[::g]\""},
	{"http://[fe80::1%25eth0]/", NULL, "zone"},
	{"http://::1/", NULL, "missing host"},
	/* refused schemes and shapes */
	{"file:///etc/passwd", NULL, "scheme \"file\" is not allowed: only http and https URLs can be captured"},
	{"javascript:alert(1)", NULL, "scheme \"javascript\" is not allowed"},
	{"JavaScript:alert(1)", NULL, "scheme \"javascript\" is not allowed"},
	{"data:text/html,<b>x</b>", NULL, "scheme \"data\""},
	{"chrome://settings", NULL, "scheme \"chrome\""},
	{"about:blank", NULL, "scheme \"about\""},
	{"ftp://example.com/", NULL, "scheme \"ftp\""},
	{"ws://example.com/", NULL, "scheme \"ws\""},
	{"example.com/path", NULL, "missing scheme"},
	{"/relative/path", NULL, "missing scheme"},
	{"//example.com/", NULL, "missing scheme"},
	{"1http://x/", NULL, "missing scheme"},
	{"http:example.com", NULL, "expected \"//\" after \"http:\""},
	{"http:/example.com", NULL, "expected \"//\""},
	{"http:", NULL, "expected \"//\""},
	{"http://", NULL, "missing host"},
	{"http:///path", NULL, "missing host"},
	{"http://:80/", NULL, "missing host"},
	{"http://./", NULL, "missing host"},
	{"http://?x", NULL, "missing host"},
	{"", NULL, "empty URL"},
	{" \t\n", NULL, "empty URL"},
	/* credentials, characters */
	{"http://user:pass@example.com/", NULL, "credentials"},
	{"http://user@example.com/", NULL, "credentials"},
	{"http://@example.com/", NULL, "credentials"},
	{"http://example.com/@foo", "http://example.com/@foo", NULL},
	{"http://exa mple.com/", NULL, "contains a space"},
	{"http://example.com/a b", NULL, "%20"},
	{"http://example.com/a\tb", NULL, "control character (byte 0x09"},
	{"http://example.com/\x7f", NULL, "control character (byte 0x7f"},
};

static int contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

TEST(normalize_table)
{
	size_t n = sizeof(norm_cases) / sizeof(norm_cases[0]);
	for (size_t i = 0; i < n; i++) {
		const struct norm_case *c = &norm_cases[i];
		char out[URL_BUF_SIZE], err[256];
		sc_result rc = url_normalize(c->in, out, sizeof(out), err,
					     sizeof(err));
		if (c->out) {
			if (rc != SC_OK)
				fprintf(stderr, "  [%zu] %s: %s\n", i, c->in, err);
			CHECK_EQ_INT(rc, SC_OK);
			CHECK_STR(out, c->out);
			/* idempotent */
			char again[URL_BUF_SIZE];
			CHECK_EQ_INT(url_normalize(out, again, sizeof(again),
						   err, sizeof(err)), SC_OK);
			CHECK_STR(again, out);
		} else {
			if (rc != SC_ERR_INVALID || !contains(err, c->err))
				fprintf(stderr, "  [%zu] %s -> rc %d \"%s\" "
					"(out \"%s\"), want \"%s\"\n", i, c->in,
					rc, err, out, c->err);
			CHECK_EQ_INT(rc, SC_ERR_INVALID);
			CHECK(contains(err, c->err));
			CHECK_STR(out, "");
		}
	}
}

TEST(normalize_limits)
{
	static char big[URL_MAX_LEN + 64];
	char out[URL_BUF_SIZE], err[128];
	/* exactly URL_MAX_LEN bytes: accepted */
	memcpy(big, "http://example.com/", 19);
	memset(big + 19, 'a', URL_MAX_LEN - 19);
	big[URL_MAX_LEN] = '\0';
	CHECK_EQ_INT(url_normalize(big, out, sizeof(out), err, sizeof(err)),
		     SC_OK);
	CHECK_EQ_INT(strlen(out), URL_MAX_LEN);
	/* one more: refused */
	big[URL_MAX_LEN] = 'a';
	big[URL_MAX_LEN + 1] = '\0';
	CHECK_EQ_INT(url_normalize(big, out, sizeof(out), err, sizeof(err)),
		     SC_ERR_TOO_LARGE);
	CHECK(contains(err, "longer than 8192"));
	/* short enough, but too long once non-ASCII is percent-encoded */
	memset(big + 19, '\xff', 3000);
	big[19 + 3000] = '\0';
	CHECK_EQ_INT(url_normalize(big, out, sizeof(out), err, sizeof(err)),
		     SC_ERR_TOO_LARGE);
	CHECK_STR(out, "");
	/* surrounding whitespace does not count */
	char padded[URL_MAX_LEN + 8];
	padded[0] = ' ';
	memcpy(padded + 1, "http://example.com/", 19);
	memset(padded + 20, 'b', URL_MAX_LEN - 19);
	memcpy(padded + URL_MAX_LEN + 1, " \n", 3);
	CHECK_EQ_INT(url_normalize(padded, out, sizeof(out), NULL, 0), SC_OK);
	/* small output buffer */
	CHECK_EQ_INT(url_normalize("http://example.com/abc", out, 10, err,
				   sizeof(err)), SC_ERR_TOO_LARGE);
	CHECK_STR(out, "");
	CHECK_EQ_INT(url_normalize("http://a/", out, 10, NULL, 0), SC_OK);
	CHECK_STR(out, "http://a/");
	CHECK_EQ_INT(url_normalize("http://ab/", out, 10, NULL, 0),
		     SC_ERR_TOO_LARGE);
	/* a short error buffer is truncated, not overflowed */
	char tiny[8];
	CHECK_EQ_INT(url_normalize("file:///x", out, sizeof(out), tiny,
				   sizeof(tiny)), SC_ERR_INVALID);
	CHECK_STR(tiny, "scheme ");
	CHECK_EQ_INT(url_normalize(NULL, out, sizeof(out), err, sizeof(err)),
		     SC_ERR_INVALID);
	/* a hostile scheme is shortened in the message */
	memset(big, 'x', 200);
	memcpy(big + 200, "://a/", 6);
	CHECK_EQ_INT(url_normalize(big, out, sizeof(out), err, sizeof(err)),
		     SC_ERR_INVALID);
	CHECK(strlen(err) < 120);
}

TEST(split)
{
	static struct url_parts p;
	REQUIRE(url_split("HTTPS://Example.com:8443/a/../b?x=1#f", &p) == SC_OK);
	CHECK_STR(p.scheme, "https");
	CHECK_STR(p.host, "example.com");
	CHECK_EQ_INT(p.port, 8443);
	CHECK_EQ_INT(p.ip, 0);
	CHECK_STR(p.path_query, "/b?x=1");

	REQUIRE(url_split("http://example.com", &p) == SC_OK);
	CHECK_STR(p.scheme, "http");
	CHECK_EQ_INT(p.port, 80);
	CHECK_STR(p.path_query, "/");
	REQUIRE(url_split("https://example.com", &p) == SC_OK);
	CHECK_EQ_INT(p.port, 443);

	REQUIRE(url_split("http://2130706433:81/", &p) == SC_OK);
	CHECK_STR(p.host, "127.0.0.1");
	CHECK_EQ_INT(p.port, 81);
	CHECK_EQ_INT(p.ip, 4);
	CHECK(url_ip_private_reason(&p.addr) != NULL);

	REQUIRE(url_split("http://[::FFFF:10.0.0.1]:9/x", &p) == SC_OK);
	CHECK_STR(p.host, "::ffff:a00:1");
	CHECK_EQ_INT(p.port, 9);
	CHECK_EQ_INT(p.ip, 6);
	CHECK_STR(p.path_query, "/x");
	CHECK(url_ip_private_reason(&p.addr) != NULL);

	REQUIRE(url_split("https://[2606:4700::1111]/", &p) == SC_OK);
	CHECK_STR(p.host, "2606:4700::1111");
	CHECK_EQ_INT(p.port, 443);
	CHECK(url_ip_private_reason(&p.addr) == NULL);

	CHECK_EQ_INT(url_split("file:///etc/passwd", &p), SC_ERR_INVALID);
	CHECK_STR(p.host, "");
	CHECK_EQ_INT(p.port, 0);
}

struct ip_case {
	const char *host;
	int family;
	const char *text; /* inet_ntop of the result (v4: the IPv4 part) */
};

static const struct ip_case ip_cases[] = {
	{"127.0.0.1", 4, "127.0.0.1"},
	{"2130706433", 4, "127.0.0.1"},
	{"0177.0.0.1", 4, "127.0.0.1"},
	{"0x7f.1", 4, "127.0.0.1"},
	{"0x7F.0.0.0x1", 4, "127.0.0.1"},
	{"0x7f000001", 4, "127.0.0.1"},
	{"127.1", 4, "127.0.0.1"},
	{"127.0.1", 4, "127.0.0.1"},
	{"017700000001", 4, "127.0.0.1"},
	{"0", 4, "0.0.0.0"},
	{"0x", 4, "0.0.0.0"},
	{"4294967295", 4, "255.255.255.255"},
	{"0xffffffff", 4, "255.255.255.255"},
	{"169.254.43518", 4, "169.254.169.254"},
	{"0251.0376.0251.0376", 4, "169.254.169.254"},
	{"1.2.3.4.", 4, "1.2.3.4"},
	{"00000000000000000000000000001.2.3.4", 4, "1.2.3.4"},
	{"4294967296", 0, NULL},
	{"1.2.3.256", 0, NULL},
	{"1.2.65536", 0, NULL},
	{"256.0.0.1", 0, NULL},
	{"1.2.3.4.5", 0, NULL},
	{"08", 0, NULL},
	{"0x1g", 0, NULL},
	{"1..2", 0, NULL},
	{".1.2.3", 0, NULL},
	{"1.2.3.4..", 0, NULL},
	{"example.com", 0, NULL},
	{"", 0, NULL},
	{"::1", 6, "::1"},
	{"[::1]", 6, "::1"},
	{"[::ffff:127.0.0.1]", 6, "::ffff:127.0.0.1"},
	{"::ffff:7f00:1", 6, "::ffff:127.0.0.1"},
	{"2001:DB8::1", 6, "2001:db8::1"},
	{"fe80::1%eth0", 0, NULL},
	{"[::1", 0, NULL},
	{":::1", 0, NULL},
	{"1:2:3:4:5:6:7:8:9", 0, NULL},
};

TEST(ip_literal)
{
	size_t n = sizeof(ip_cases) / sizeof(ip_cases[0]);
	for (size_t i = 0; i < n; i++) {
		const struct ip_case *c = &ip_cases[i];
		struct in6_addr a;
		char text[INET6_ADDRSTRLEN] = "";
		memset(&a, 0xAA, sizeof(a));
		int fam = url_ip_literal(c->host, &a);
		if (fam != c->family)
			fprintf(stderr, "  [%zu] \"%s\" -> %d\n", i, c->host, fam);
		CHECK_EQ_INT(fam, c->family);
		if (fam == 4) {
			static const unsigned char mapped[12] = {
				[10] = 0xff, [11] = 0xff};
			CHECK(memcmp(a.s6_addr, mapped, 12) == 0);
			inet_ntop(AF_INET, a.s6_addr + 12, text, sizeof(text));
		} else if (fam == 6) {
			inet_ntop(AF_INET6, &a, text, sizeof(text));
		}
		if (c->text)
			CHECK_STR(text, c->text);
	}
	CHECK_EQ_INT(url_ip_literal("10.1", NULL), 4);
	CHECK_EQ_INT(url_ip_literal(NULL, NULL), 0);
}

struct priv_case {
	const char *addr;
	int is_private;
	const char *reason; /* substring, when private */
};

/* Each range with the addresses just inside and just outside it. */
static const struct priv_case priv_cases[] = {
	{"0.0.0.0", 1, "this network"},
	{"0.255.255.255", 1, "this network"},
	{"1.0.0.0", 0, NULL},
	{"9.255.255.255", 0, NULL},
	{"10.0.0.0", 1, "10.0.0.0/8"},
	{"10.255.255.255", 1, "RFC 1918"},
	{"11.0.0.0", 0, NULL},
	{"100.63.255.255", 0, NULL},
	{"100.64.0.0", 1, "carrier-grade NAT"},
	{"100.127.255.255", 1, "carrier-grade NAT"},
	{"100.128.0.0", 0, NULL},
	{"100.100.100.200", 1, "metadata"},
	{"126.255.255.255", 0, NULL},
	{"127.0.0.0", 1, "loopback"},
	{"127.255.255.255", 1, "loopback"},
	{"128.0.0.0", 0, NULL},
	{"169.253.255.255", 0, NULL},
	{"169.254.0.0", 1, "link-local"},
	{"169.254.169.254", 1, "metadata"},
	{"169.254.255.255", 1, "link-local"},
	{"169.255.0.0", 0, NULL},
	{"172.15.255.255", 0, NULL},
	{"172.16.0.0", 1, "172.16.0.0/12"},
	{"172.31.255.255", 1, "172.16.0.0/12"},
	{"172.32.0.0", 0, NULL},
	{"191.255.255.255", 0, NULL},
	{"192.0.0.0", 1, "IETF"},
	{"192.0.0.192", 1, "metadata"},
	{"192.0.0.255", 1, "IETF"},
	{"192.0.1.0", 0, NULL},
	{"192.0.2.0", 1, "documentation"},
	{"192.0.2.255", 1, "documentation"},
	{"192.0.3.0", 0, NULL},
	{"192.88.98.255", 0, NULL},
	{"192.88.99.0", 1, "6to4"},
	{"192.88.99.255", 1, "6to4"},
	{"192.88.100.0", 0, NULL},
	{"192.167.255.255", 0, NULL},
	{"192.168.0.0", 1, "192.168.0.0/16"},
	{"192.168.255.255", 1, "192.168.0.0/16"},
	{"192.169.0.0", 0, NULL},
	{"198.17.255.255", 0, NULL},
	{"198.18.0.0", 1, "benchmarking"},
	{"198.19.255.255", 1, "benchmarking"},
	{"198.20.0.0", 0, NULL},
	{"198.51.99.255", 0, NULL},
	{"198.51.100.0", 1, "documentation"},
	{"198.51.100.255", 1, "documentation"},
	{"198.51.101.0", 0, NULL},
	{"203.0.112.255", 0, NULL},
	{"203.0.113.0", 1, "documentation"},
	{"203.0.113.255", 1, "documentation"},
	{"203.0.114.0", 0, NULL},
	{"223.255.255.255", 0, NULL},
	{"224.0.0.0", 1, "multicast"},
	{"239.255.255.255", 1, "multicast"},
	{"240.0.0.0", 1, "reserved"},
	{"255.255.255.254", 1, "reserved"},
	{"255.255.255.255", 1, "broadcast"},
	{"8.8.8.8", 0, NULL},
	{"93.184.216.34", 0, NULL},
	/* IPv6 */
	{"::", 1, "unspecified"},
	{"::1", 1, "loopback"},
	{"::2", 1, "IPv4-compatible"},
	{"::8.8.8.8", 1, "IPv4-compatible"},
	{"::ffff:127.0.0.1", 1, "loopback"},
	{"::ffff:10.1.2.3", 1, "RFC 1918"},
	{"::ffff:169.254.169.254", 1, "metadata"},
	{"::ffff:8.8.8.8", 0, NULL},
	{"::fffe:8.8.8.8", 1, "outside 2000::/3"},
	{"64:ff9b::8.8.8.8", 0, NULL},
	{"64:ff9b::127.0.0.1", 1, "loopback"},
	{"64:ff9b::192.168.1.1", 1, "RFC 1918"},
	{"64:ff9b:1::1", 1, "NAT64"},
	{"100::", 1, "discard"},
	{"100::ffff:ffff:ffff:ffff", 1, "discard"},
	{"100:0:0:1::", 1, "outside 2000::/3"},
	{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, "outside 2000::/3"},
	{"2000::", 0, NULL},
	{"2000:ffff::1", 0, NULL},
	{"2001::", 1, "Teredo"},
	{"2001:0:ffff:ffff::", 1, "Teredo"},
	{"2001:1::1", 1, "IETF"},
	{"2001:1ff:ffff::", 1, "IETF"},
	{"2001:200::", 0, NULL},
	{"2001:db7:ffff::", 0, NULL},
	{"2001:db8::", 1, "documentation"},
	{"2001:db8:ffff:ffff::", 1, "documentation"},
	{"2001:db9::", 0, NULL},
	{"2001:4860:4860::8888", 0, NULL},
	{"2002:7f00:1::", 1, "loopback"},
	{"2002:c0a8:101::1", 1, "RFC 1918"},
	{"2002:808:808::1", 0, NULL},
	{"2606:4700:4700::1111", 0, NULL},
	{"3ffe:ffff::", 0, NULL},
	{"3fff::", 1, "documentation"},
	{"3fff:fff:ffff::", 1, "documentation"},
	{"3fff:1000::", 0, NULL},
	{"3fff:ffff::", 0, NULL},
	{"4000::", 1, "outside 2000::/3"},
	{"5f00::", 1, "SRv6"},
	{"5fff::", 1, "outside 2000::/3"},
	{"fbff:ffff::", 1, "outside 2000::/3"},
	{"fc00::", 1, "unique-local"},
	{"fd00:ec2::254", 1, "metadata"},
	{"fd00:ec2::253", 1, "unique-local"},
	{"fdff:ffff::", 1, "unique-local"},
	{"fe00::", 1, "outside 2000::/3"},
	{"fe7f:ffff::", 1, "outside 2000::/3"},
	{"fe80::", 1, "link-local"},
	{"febf:ffff::", 1, "link-local"},
	{"fec0::", 1, "site-local"},
	{"feff:ffff::", 1, "site-local"},
	{"ff00::", 1, "multicast"},
	{"ff02::1", 1, "multicast"},
};

static int make_sockaddr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 1;
	}
	return 0;
}

TEST(private_ranges)
{
	size_t n = sizeof(priv_cases) / sizeof(priv_cases[0]);
	for (size_t i = 0; i < n; i++) {
		const struct priv_case *c = &priv_cases[i];
		struct sockaddr_storage ss;
		struct in6_addr a;
		REQUIRE(make_sockaddr(c->addr, &ss));
		REQUIRE(url_ip_literal(c->addr, &a) != 0);
		const char *why = url_ip_private_reason(&a);
		int got = url_addr_is_private((struct sockaddr *)&ss);
		if (got != c->is_private || (c->reason && (!why ||
				!contains(why, c->reason))))
			fprintf(stderr, "  %s -> %d \"%s\"\n", c->addr, got,
				why ? why : "(public)");
		CHECK_EQ_INT(got, c->is_private);
		CHECK_EQ_INT(why != NULL, c->is_private);
		if (c->reason && why)
			CHECK(contains(why, c->reason));
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	CHECK_EQ_INT(url_addr_is_private((struct sockaddr *)&ss), 1);
	CHECK_EQ_INT(url_addr_is_private(NULL), 1);
}

int main(void)
{
	RUN(normalize_table);
	RUN(normalize_limits);
	RUN(split);
	RUN(ip_literal);
	RUN(private_ranges);
	return test_report();
}
