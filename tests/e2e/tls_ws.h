/*
 * tls_ws.h — a WebSocket client over TLS (wss://) for e2e.tls: OpenSSL on a
 * socket to 127.0.0.1, ALPN http/1.1 (a WebSocket upgrade is an HTTP/1.1
 * request), the certificate checked against the test's own CA file and
 * the name localhost. Header-only; include once per test program.
 *
 *   tls_ws_connect(&w, port, ca) -> tls_ws_upgrade(&w, port, path) == 101
 *   -> tls_ws_text(&w, json) -> tls_ws_next(&w, &msg, ms) ... -> tls_ws_close
 */
#ifndef E2E_TLS_WS_H
#define E2E_TLS_WS_H

#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "raw_http.h"

struct tls_ws {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct sc_buf in; /* bytes read, not yet taken */
	char alpn[32];    /* the protocol the server chose */
};

/* TCP + TLS handshake, verified against ca for localhost. 0, or -1. */
static int tls_ws_connect(struct tls_ws *w, int port, const char *ca)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	memset(w, 0, sizeof(*w));
	sc_buf_init(&w->in, 1 << 20);
	if ((w->fd = raw_connect(port)) < 0)
		return -1;
	setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	w->ctx = SSL_CTX_new(TLS_client_method());
	if (!w->ctx || SSL_CTX_load_verify_locations(w->ctx, ca, NULL) != 1)
		return -1;
	SSL_CTX_set_verify(w->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_alpn_protos(w->ctx, alpn, sizeof(alpn) - 1);
	w->ssl = SSL_new(w->ctx);
	SSL_set_fd(w->ssl, w->fd);
	SSL_set_tlsext_host_name(w->ssl, "localhost");
	SSL_set1_host(w->ssl, "localhost");
	if (SSL_connect(w->ssl) != 1)
		return -1;
	const unsigned char *p = NULL;
	unsigned n = 0;
	SSL_get0_alpn_selected(w->ssl, &p, &n);
	snprintf(w->alpn, sizeof(w->alpn), "%.*s", (int)n, p ? (const char *)p : "");
	return 0;
}

/* Read what comes within ms into w->in. 1 if some came, 0 if none, -1 at
 * the end of the connection. */
static int tls_ws_read(struct tls_ws *w, int64_t ms)
{
	char buf[16384];
	int64_t end = sc_now_ms() + ms;
	do {
		int n = SSL_read(w->ssl, buf, sizeof(buf));
		if (n > 0)
			return sc_buf_append(&w->in, buf, (size_t)n) ? -1 : 1;
		int e = SSL_get_error(w->ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_SYSCALL)
			return -1;
		if (e == SSL_ERROR_SYSCALL && errno != EAGAIN)
			return -1;
	} while (sc_now_ms() < end);
	return 0;
}

/* Send the upgrade of path; the status of the answer (101), or -1. */
static int tls_ws_upgrade(struct tls_ws *w, int port, const char *path)
{
	char req[700];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: "
			 "localhost:%d\r\nUpgrade: websocket\r\nConnection: "
			 "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
			 "\r\nSec-WebSocket-Version: 13\r\n\r\n", path, port);
	if (SSL_write(w->ssl, req, n) != n)
		return -1;
	int64_t end = sc_now_ms() + 30000;
	const char *eoh = NULL;
	while (!(eoh = w->in.data ? strstr(w->in.data, "\r\n\r\n") : NULL) &&
	       sc_now_ms() < end)
		if (tls_ws_read(w, 1000) < 0)
			break;
	int st = -1;
	if (!eoh || sscanf(w->in.data, "HTTP/1.1 %d", &st) != 1)
		return -1;
	size_t used = (size_t)(eoh + 4 - w->in.data);
	memmove(w->in.data, eoh + 4, w->in.len - used);
	w->in.len -= used;
	w->in.data[w->in.len] = 0;
	return st;
}

/* One masked text frame (a client's), text under 126 bytes. 0, or -1. */
static int tls_ws_text(struct tls_ws *w, const char *text)
{
	unsigned char f[RAW_WS_FRAME_MAX];
	size_t n = raw_ws_frame(f, text);
	return n && SSL_write(w->ssl, f, (int)n) == (int)n ? 0 : -1;
}

/* The length of the whole frame at the start of w->in (and its payload's
 * offset and length), or 0 if it has not all come. */
static size_t tls_ws_frame(const struct tls_ws *w, size_t *off, size_t *len)
{
	const unsigned char *p = (const unsigned char *)w->in.data;
	size_t have = w->in.len, n, h = 2;
	if (have < 2)
		return 0;
	n = p[1] & 0x7f;
	if (n == 126 && have >= 4) {
		n = (size_t)p[2] << 8 | p[3];
		h = 4;
	} else if (n == 127 && have >= 10) {
		n = 0;
		for (int i = 2; i < 10; i++)
			n = n << 8 | p[i];
		h = 10;
	} else if (n >= 126) {
		return 0;
	}
	*off = h;
	*len = n;
	return have >= h + n ? h + n : 0;
}

/* The next text message (unmasked, from the server) into msg, within ms.
 * 0, or -1 (none, or the connection ended). */
static int tls_ws_next(struct tls_ws *w, struct sc_buf *msg, int64_t ms)
{
	int64_t end = sc_now_ms() + ms;
	size_t off = 0, len = 0, all;
	while (!(all = tls_ws_frame(w, &off, &len)))
		if (sc_now_ms() > end || tls_ws_read(w, 1000) < 0)
			return -1;
	int text = (w->in.data[0] & 0x0f) == 1;
	sc_buf_reset(msg);
	(void)!sc_buf_append(msg, w->in.data + off, len);
	memmove(w->in.data, w->in.data + all, w->in.len - all);
	w->in.len -= all;
	w->in.data[w->in.len] = 0;
	return text ? 0 : tls_ws_next(w, msg, end - sc_now_ms());
}

static void tls_ws_close(struct tls_ws *w)
{
	if (w->ssl)
		SSL_free(w->ssl);
	if (w->ctx)
		SSL_CTX_free(w->ctx);
	if (w->fd >= 0)
		close(w->fd);
	sc_buf_free(&w->in);
}

#endif
