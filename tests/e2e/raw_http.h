/*
 * raw_http.h — HTTP/1.1 and WebSocket over plain sockets, for tests that
 * need exact bytes on the wire (pipelining, chunked bodies, slow bodies,
 * long-lived streams) where libcurl would hide them. Header-only.
 *
 *   fd = raw_connect(port) -> raw_send(fd, bytes) -> raw_read_until(fd, &buf,
 *   "needle", ms) or raw_read_eof(fd, &buf, ms) -> raw_responses(buf)
 * Every read waits on the socket (poll) under a deadline, never a sleep.
 */
#ifndef RAW_HTTP_H
#define RAW_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc.h"

/* A TCP connection to 127.0.0.1:port, or -1. */
static __attribute__((unused)) int raw_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Write all of p (n bytes; n = 0: strlen). 0, or -1. */
static __attribute__((unused)) int raw_send(int fd, const char *p, size_t n)
{
	if (!n)
		n = strlen(p);
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One read into b, waiting up to ms. 1 got bytes, 0 EOF, -1 timeout or
 * error. */
static int raw_read_some(int fd, struct sc_buf *b, int64_t ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char tmp[16384];
	if (poll(&p, 1, ms > 0 ? (int)ms : 0) <= 0)
		return -1;
	ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	return sc_buf_append(b, tmp, (size_t)n) ? -1 : 1;
}

/* Read until needle is in b (1), EOF came first (0), or ms passed (-1). */
static __attribute__((unused)) int raw_read_until(int fd, struct sc_buf *b,
						  const char *needle, int64_t ms)
{
	int64_t until = sc_now_ms() + ms;
	for (;;) {
		if (b->len && memmem(b->data, b->len, needle, strlen(needle)))
			return 1;
		int rc = raw_read_some(fd, b, until - sc_now_ms());
		if (rc <= 0)
			return rc;
	}
}

/* Read until EOF (0), or ms passed / a reset (-1). */
static __attribute__((unused)) int raw_read_eof(int fd, struct sc_buf *b,
						int64_t ms)
{
	int64_t until = sc_now_ms() + ms;
	for (;;) {
		int rc = raw_read_some(fd, b, until - sc_now_ms());
		if (rc <= 0)
			return rc;
	}
}

/* The responses in b: up to max statuses into st[], bodies framed by
 * Content-Length (a response without one ends the parse). Returns how many
 * complete responses b holds. */
static __attribute__((unused)) int raw_responses(const struct sc_buf *b,
						 int *st, int max)
{
	const char *p = b->data, *end = b->data + b->len;
	int n = 0;
	while (p && p < end && n < max) {
		const char *eoh = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		char line[64]; /* sscanf on b itself would strlen all of it */
		long cl = -1;
		if (!eoh)
			break;
		snprintf(line, sizeof(line), "%.*s", (int)(eoh - p < 63 ? eoh - p : 63),
			 p);
		if (sscanf(line, "HTTP/1.%*d %d", &st[n]) != 1)
			break;
		for (const char *h = p; h < eoh;
		     h = (const char *)memmem(h, (size_t)(eoh + 2 - h), "\r\n", 2) + 2)
			if (!strncasecmp(h, "Content-Length:", 15))
				cl = strtol(h + 15, NULL, 10);
		if (st[n] >= 200 && cl < 0)
			break;
		if (st[n] < 200) /* an interim answer (100 Continue) */
			cl = 0;
		if (cl > end - (eoh + 4))
			break;
		p = eoh + 4 + cl;
		if (st[n] >= 200)
			n++;
	}
	return n;
}

/* Upgrade fd to a WebSocket on path; 0 when 101 came. */
static __attribute__((unused)) int raw_ws_open(int fd, const char *path)
{
	char req[512];
	struct sc_buf b;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n", path);
	sc_buf_init(&b, 1 << 20);
	int ok = !raw_send(fd, req, 0) &&
		 raw_read_until(fd, &b, "\r\n\r\n", 30000) == 1 &&
		 strstr(b.data, " 101 ");
	sc_buf_free(&b);
	return ok ? 0 : -1;
}

/* One masked text frame (a client's) of text under 126 bytes into f: its
 * length, or 0 if the text is too long. */
#define RAW_WS_FRAME_MAX (2 + 4 + 125)
static __attribute__((unused)) size_t raw_ws_frame(unsigned char *f,
						   const char *text)
{
	size_t n = strlen(text);
	const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
	if (n > 125)
		return 0;
	f[0] = 0x81;
	f[1] = (unsigned char)(0x80 | n);
	memcpy(f + 2, mask, 4);
	for (size_t i = 0; i < n; i++)
		f[6 + i] = (unsigned char)text[i] ^ mask[i % 4];
	return 6 + n;
}

/* Send one masked text frame (a client's), text under 126 bytes. */
static __attribute__((unused)) int raw_ws_text(int fd, const char *text)
{
	unsigned char f[RAW_WS_FRAME_MAX];
	size_t n = raw_ws_frame(f, text);
	return n ? raw_send(fd, (const char *)f, n) : -1;
}

#endif
