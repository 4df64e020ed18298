/*
 * fuzz_url.c — libFuzzer target for orchestrator/net/url.c, the parser of the
 * URLs users submit.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -fsanitize=fuzzer,address,undefined \
 *     -Iorchestrator/base -Iorchestrator/net tests/fuzz/fuzz_url.c orchestrator/net/url.c \
 *     orchestrator/net/testhooks.c orchestrator/base/sc.c -o fuzz_url && ./fuzz_url tests/fuzz/corpus_url
 *
 * Properties checked on every input (abort() on violation):
 *   - errors are SC_ERR_INVALID or SC_ERR_TOO_LARGE, with a message and "" out;
 *   - an accepted URL is at most URL_MAX_LEN bytes of printable ASCII with no
 *     space, '#', '"', '<' or '>', and starts with http:// or https://;
 *   - normalize is idempotent: normalize(normalize(x)) == normalize(x);
 *   - url_split of the output succeeds, and scheme://host[:port]path_query
 *     rebuilt from the parts is the output again;
 *   - parts.ip agrees with url_ip_literal(parts.host), and an IP literal
 *     host is exactly the address's canonical text.
 * url_ip_literal and url_ip_private_reason also run on the raw input.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

#define FUZZ_NAME "fuzz_url"
#include "fuzz.h"

static void fuzz_check_chars(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		FUZZ_ASSERT(c > 0x20 && c < 0x7f);
		FUZZ_ASSERT(!strchr("#\"<>", c));
	}
}

static void fuzz_check_parts(const char *norm)
{
	static struct url_parts p;
	static char rebuilt[URL_BUF_SIZE + 300];
	FUZZ_ASSERT(url_split(norm, &p) == SC_OK);
	int https = !strcmp(p.scheme, "https");
	FUZZ_ASSERT(https || !strcmp(p.scheme, "http"));
	FUZZ_ASSERT(p.port >= 1 && p.port <= 65535);
	FUZZ_ASSERT(p.path_query[0] == '/');
	char port[8] = "";
	if (p.port != (https ? 443 : 80))
		snprintf(port, sizeof(port), ":%d", p.port);
	int v6 = strchr(p.host, ':') != NULL;
	snprintf(rebuilt, sizeof(rebuilt), "%s://%s%s%s%s%s", p.scheme,
		 v6 ? "[" : "", p.host, v6 ? "]" : "", port, p.path_query);
	FUZZ_ASSERT(!strcmp(rebuilt, norm));

	struct in6_addr a;
	FUZZ_ASSERT(url_ip_literal(p.host, &a) == p.ip);
	if (p.ip) {
		char text[INET6_ADDRSTRLEN];
		FUZZ_ASSERT(!memcmp(&a, &p.addr, sizeof(a)));
		(void)url_ip_private_reason(&a);
		if (p.ip == 4)
			inet_ntop(AF_INET, a.s6_addr + 12, text, sizeof(text));
		else
			inet_ntop(AF_INET6, &a, text, sizeof(text));
		/* v4: the dotted quad; v6: a valid address text */
		FUZZ_ASSERT(p.ip == 6 || !strcmp(text, p.host));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[URL_BUF_SIZE], again[URL_BUF_SIZE];
	char err[256], err2[256];
	if (size > 3 * URL_MAX_LEN)
		return 0;
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	struct in6_addr a;
	if (url_ip_literal(in, &a))
		(void)url_ip_private_reason(&a);

	sc_result rc = url_normalize(in, out, sizeof(out), err, sizeof(err));
	if (rc != SC_OK) {
		FUZZ_ASSERT(rc == SC_ERR_INVALID || rc == SC_ERR_TOO_LARGE);
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(out[0] == '\0');
		goto out;
	}
	FUZZ_ASSERT(strlen(out) <= URL_MAX_LEN);
	FUZZ_ASSERT(!strncmp(out, "http://", 7) || !strncmp(out, "https://", 8));
	fuzz_check_chars(out);
	rc = url_normalize(out, again, sizeof(again), err2, sizeof(err2));
	if (rc != SC_OK || strcmp(out, again)) {
		fprintf(stderr, "in:    %s\nout:   %s\nagain: %s (%s)\n", in,
			out, again, err2);
		abort();
	}
	fuzz_check_parts(out);
out:
	free(in);
	return 0;
}
