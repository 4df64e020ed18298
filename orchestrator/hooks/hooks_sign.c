/*
 * hooks_sign.c — webhook signatures, secrets and the receiver URL policy
 * (see hooks_sign.h).
 */
#include "hooks_sign.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "url.h"

static void hs_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* One EVP_MAC "HMAC" with SHA-256 (OpenSSL 3: HMAC_CTX is deprecated). */
static int hs_mac(EVP_MAC_CTX *m, const char *secret, const char *pre,
		  const char *body, size_t len, unsigned char *mac,
		  size_t *maclen)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_init(m, (const unsigned char *)secret, strlen(secret),
			    params) &&
	       EVP_MAC_update(m, (const unsigned char *)pre, strlen(pre)) &&
	       EVP_MAC_update(m, (const unsigned char *)body, len) &&
	       EVP_MAC_final(m, mac, maclen, EVP_MAX_MD_SIZE);
}

sc_result hooks_sign(const char *secret, int64_t ts, const char *body,
		     size_t len, char out[HOOKS_SIGN_HEX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	char pre[32];
	sc_result rc = SC_ERR_INTERNAL;
	snprintf(pre, sizeof(pre), "%lld.", (long long)ts);
	out[0] = '\0';
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *m = alg ? EVP_MAC_CTX_new(alg) : NULL;
	if (m && hs_mac(m, secret, pre, body, len, mac, &maclen) &&
	    maclen == 32) {
		hs_hex(mac, maclen, out);
		rc = SC_OK;
	}
	EVP_MAC_CTX_free(m);
	EVP_MAC_free(alg);
	return rc;
}

sc_result hooks_sign_secret(char out[HOOKS_SECRET_BUF])
{
	unsigned char b[32];
	out[0] = '\0';
	if (RAND_bytes(b, sizeof(b)) != 1)
		return SC_ERR_INTERNAL;
	hs_hex(b, sizeof(b), out);
	return SC_OK;
}

int hooks_sign_secret_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < HOOKS_SECRET_MIN || n > HOOKS_SECRET_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* 127.0.0.0/8 (mapped) or ::1. */
static int hs_loopback(const struct in6_addr *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
						 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a->s6_addr, mapped, 12))
		return a->s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(a);
}

static const char *hs_refused(const struct in6_addr *a, int allow_private)
{
	const char *why = url_ip_private_reason(a);
	if (!why || allow_private || hs_loopback(a))
		return NULL;
	return why;
}

const char *hooks_sign_addr_refused(const struct sockaddr *sa,
				    int allow_private)
{
	struct in6_addr a;
	if (!sa)
		return "no address";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		memset(&a, 0, sizeof(a));
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	} else {
		return "not an IP address";
	}
	return hs_refused(&a, allow_private);
}

sc_result hooks_sign_url(const char *url, int allow_private, char *out,
			 size_t outlen, char *err, size_t errlen)
{
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		snprintf(err, errlen, "url must be an absolute http:// or "
			 "https:// URL");
		return SC_ERR_INVALID;
	}
	sc_result rc = url_normalize(url, out, outlen, err, errlen);
	if (rc)
		return rc;
	struct url_parts *p = sc_xmalloc(sizeof(*p)); /* ~8.5 KiB */
	const char *why = NULL;
	if (!(rc = url_split(out, p)) && p->ip)
		why = hs_refused(&p->addr, allow_private);
	if (why) {
		snprintf(err, errlen, "url: %s is not allowed (%s): webhooks "
			 "go to loopback or public addresses, others only "
			 "with --allow-private", p->host, why);
		rc = SC_ERR_INVALID;
	}
	free(p);
	return rc;
}
