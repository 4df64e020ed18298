/*
 * hooks_sign.h — the cryptography and URL policy of webhooks: the
 * HMAC-SHA256 signature of a delivery, random secrets, and which receiver
 * URLs and addresses are accepted. Pure functions over OpenSSL's libcrypto
 * and url.c; thread-safe.
 *
 *   hooks.c (sender thread): hooks_sign(secret, timestamp, body)
 *        -> "X-Snapcat-Signature: sha256=<hex>"
 *   POST /api/webhooks: hooks_sign_secret (none given), hooks_sign_url
 *   curl's opensocket callback: hooks_sign_addr_refused
 *
 * The signed text is "<timestamp>.<body>": the decimal Unix time in
 * seconds of X-Snapcat-Timestamp, a dot, and the request body's bytes. The
 * key is the secret string's bytes. A receiver recomputes it and compares
 * in constant time (README "Webhooks").
 */
#ifndef HOOKS_SIGN_H
#define HOOKS_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct sockaddr;

/* Hex of a SHA-256 MAC plus the NUL. */
#define HOOKS_SIGN_HEX 65
/* A generated secret: 32 random bytes as hex, plus the NUL. */
#define HOOKS_SECRET_BUF 65
/* A given secret: 8 to 256 printable ASCII characters. */
#define HOOKS_SECRET_MIN 8
#define HOOKS_SECRET_MAX 256

/* HMAC-SHA256(key = secret, "<ts>.<body>") as lowercase hex into out
 * (HOOKS_SIGN_HEX bytes). SC_ERR_INTERNAL if libcrypto fails (out ""). */
sc_result hooks_sign(const char *secret, int64_t ts, const char *body,
		     size_t len, char out[HOOKS_SIGN_HEX]) SC_MUST_CHECK;

/* A new random secret (RAND_bytes) into out. SC_ERR_INTERNAL if the
 * random generator fails (out ""). */
sc_result hooks_sign_secret(char out[HOOKS_SECRET_BUF]) SC_MUST_CHECK;

/* Is s an acceptable secret (length and characters above)? 1 yes. */
int hooks_sign_secret_ok(const char *s);

/*
 * Check a receiver URL: absolute http:// or https:// (url_normalize), and
 * if its host is an IP literal, not a refused address (see
 * hooks_sign_addr_refused). On success out (outlen >= URL_BUF_SIZE) holds
 * the normalized URL. SC_ERR_INVALID (or SC_ERR_TOO_LARGE) with one
 * sentence for the user in err otherwise.
 */
sc_result hooks_sign_url(const char *url, int allow_private, char *out,
			 size_t outlen, char *err, size_t errlen) SC_MUST_CHECK;

/*
 * Why a receiver at this address is refused, or NULL if it is allowed.
 * Loopback (127.0.0.0/8, ::1) is always allowed: a receiver on the same
 * host is the usual self-hosted set-up. Other non-public addresses
 * (private networks, link-local and cloud metadata, ...; see
 * url_ip_private_reason) only with allow_private. Static string.
 */
const char *hooks_sign_addr_refused(const struct sockaddr *sa,
				    int allow_private);

#endif
