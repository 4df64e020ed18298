/*
 * test_egress.c — the guard's egress proxy (orchestrator/net/egress.c) over
 * real loopback sockets, speaking SOCKS5 to it byte by byte as Chromium
 * does: refusals (private literals, localhost names, names that do not
 * resolve), a relay to a "public" echo server (the loopback alias
 * 127.0.0.2, public in a build with SNAPCAT_TEST_HOOKS) with 4 MiB each
 * way and half-closes, malformed handshakes, and closing a port with a
 * connection open. Tests that need the public alias skip (77) in a build
 * without the hooks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "egress.h"
#include "testhelp.h"
#include "testhooks.h"

static struct egress *E;
static int Public; /* 127.0.0.2 is public here */

/* A blocking client connected to the port's listener. */
static int connect_port(struct egress_port *p)
{
	long port = 0;
	if (sc_parse_long(strrchr(egress_port_url(p), ':') + 1, 1, 65535, &port))
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {.tv_sec = 20};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int read_n(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Greeting + CONNECT to a name; the reply code, or -1. */
static int socks_connect(int fd, const char *host, int port)
{
	unsigned char req[300] = {5, 1, 0}, rep[10];
	size_t n = strlen(host);
	if (send(fd, req, 3, 0) != 3 || read_n(fd, rep, 2) || rep[1] != 0)
		return -1;
	req[0] = 5, req[1] = 1, req[2] = 0, req[3] = 3, req[4] = (unsigned char)n;
	memcpy(req + 5, host, n);
	req[5 + n] = (unsigned char)(port >> 8);
	req[6 + n] = (unsigned char)port;
	if (send(fd, req, 7 + n, 0) != (ssize_t)(7 + n) || read_n(fd, rep, 10))
		return -1;
	return rep[1];
}

static int refused_to(const char *host, int port, int want)
{
	struct egress_port *p;
	if (egress_open(E, &p))
		return 0;
	int fd = connect_port(p);
	int rep = socks_connect(fd, host, port);
	char buf[1];
	int closed = recv(fd, buf, 1, 0) == 0; /* the proxy hangs up */
	close(fd);
	egress_close(&p);
	if (rep != want || !closed)
		fprintf(stderr, "%s: reply %d closed %d\n", host, rep, closed);
	return rep == want && closed;
}

TEST(refuses_private_and_local)
{
	CHECK(refused_to("127.0.0.1", 80, 2));
	CHECK(refused_to("10.1.2.3", 80, 2));
	CHECK(refused_to("::1", 80, 2));
	CHECK(refused_to("169.254.169.254", 80, 2));
	CHECK(refused_to("localhost", 80, 2));
	CHECK(refused_to("Foo.LocalHost.", 80, 2));
	CHECK(refused_to("2130706433", 80, 2)); /* 127.0.0.1 */
	if (Public) /* a test name that does not resolve */
		CHECK(refused_to("no-such-name.test", 80, 4));
}

TEST(records_outcomes)
{
	struct egress_port *p;
	char msg[256], first[320];
	REQUIRE(egress_open(E, &p) == SC_OK);
	int fd = connect_port(p);
	CHECK_EQ_INT(socks_connect(fd, "x.localhost", 9), 2);
	close(fd);
	CHECK_EQ_INT(egress_port_outcome(p, "x.localhost", 9, msg, sizeof(msg)),
		     EGRESS_REFUSED);
	CHECK_EQ_INT(egress_port_outcome(p, "x.localhost", 10, msg, sizeof(msg)),
		     EGRESS_NONE);
	CHECK_EQ_INT(egress_port_refused(p, first, sizeof(first)), 1);
	CHECK(strstr(first, "x.localhost:9") != NULL);
	egress_close(&p);
}

TEST(malformed_handshakes)
{
	static const struct {
		const char *bytes;
		size_t n;
	} bad[] = {
		{"\x04\x01\x00\x50\x7f\x00\x00\x01\x00", 9}, /* SOCKS4 */
		{"\x05\x01\x02", 3},                         /* no "no auth" */
		{"\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", 13},
		{"\x05\x01\x00\x05\x01\x00\x09", 7},         /* bad address type */
		{"\x05\x01\x00\x05\x01\x00\x03\x00\x00\x50", 10}, /* empty name */
		{"\x05\x01\x00\x05\x01\x00\x03\x03\x61\x00\x62\x00\x50", 13},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct egress_port *p;
		REQUIRE(egress_open(E, &p) == SC_OK);
		int fd = connect_port(p);
		char buf[64];
		CHECK(send(fd, bad[i].bytes, bad[i].n, 0) == (ssize_t)bad[i].n);
		ssize_t r;
		while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
			; /* an error reply, then the end */
		CHECK_EQ_INT(r, 0);
		close(fd);
		egress_close(&p);
	}
}

/* ---- a "public" echo server on 127.0.0.2 ---- */

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	shutdown(fd, SHUT_WR); /* pass the half-close back */
	close(fd);
	return NULL;
}

static void *echo_main(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd;
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		pthread_t t;
		pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
	return NULL;
}

static int echo_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	pthread_t t;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 16) || getsockname(fd, (struct sockaddr *)&a, &len) ||
	    pthread_create(&t, NULL, echo_main, (void *)(intptr_t)fd))
		return -1;
	pthread_detach(t);
	return ntohs(a.sin_port);
}

struct pump {
	int fd;
	size_t n;
};

static void *send_all(void *arg)
{
	struct pump *p = arg;
	char buf[8192];
	for (size_t off = 0; off < p->n;) {
		size_t k = p->n - off < sizeof(buf) ? p->n - off : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = (char)((off + i) * 7);
		ssize_t w = send(p->fd, buf, k, MSG_NOSIGNAL);
		if (w <= 0)
			return NULL;
		off += (size_t)w;
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

TEST(relays_both_ways)
{
	if (!Public)
		SKIP("no public alias in this build (SNAPCAT_TEST_HOOKS)");
	int port = echo_start();
	REQUIRE(port > 0);
	struct egress_port *p;
	REQUIRE(egress_open(E, &p) == SC_OK);
	int fd = connect_port(p);
	CHECK_EQ_INT(socks_connect(fd, "127.0.0.2", port), 0);
	struct pump pu = {fd, 4u << 20};
	pthread_t t;
	pthread_create(&t, NULL, send_all, &pu);
	size_t got = 0, bad = 0;
	char buf[65536];
	ssize_t r;
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			bad += buf[i] != (char)((got + (size_t)i) * 7);
		got += (size_t)r;
	}
	pthread_join(t, NULL);
	CHECK_EQ_INT(r, 0);       /* the echo's half-close came through */
	CHECK_EQ_INT(got, 4u << 20);
	CHECK_EQ_INT(bad, 0);
	char msg[256];
	CHECK_EQ_INT(egress_port_outcome(p, "127.0.0.2", port, msg, sizeof(msg)),
		     EGRESS_ALLOWED);
	close(fd);
	egress_close(&p);
}

TEST(closing_the_port_ends_its_connections)
{
	if (!Public)
		SKIP("no public alias in this build (SNAPCAT_TEST_HOOKS)");
	int port = echo_start();
	struct egress_port *p;
	REQUIRE(egress_open(E, &p) == SC_OK);
	int fd = connect_port(p);
	CHECK_EQ_INT(socks_connect(fd, "127.0.0.2", port), 0);
	CHECK(send(fd, "ping", 4, 0) == 4);
	char buf[8];
	CHECK(read_n(fd, buf, 4) == 0 && !memcmp(buf, "ping", 4));
	egress_close(&p);
	struct pollfd pf = {fd, POLLIN, 0};
	CHECK(poll(&pf, 1, 10000) == 1);
	CHECK(recv(fd, buf, sizeof(buf), 0) <= 0);
	close(fd);
}

TEST(refused_connect_is_reported)
{
	if (!Public)
		SKIP("no public alias in this build (SNAPCAT_TEST_HOOKS)");
	struct egress_port *p;
	char msg[256];
	REQUIRE(egress_open(E, &p) == SC_OK);
	int fd = connect_port(p);
	CHECK_EQ_INT(socks_connect(fd, "127.0.0.2", 1), 5); /* nobody there */
	close(fd);
	CHECK_EQ_INT(egress_port_outcome(p, "127.0.0.2", 1, msg, sizeof(msg)),
		     EGRESS_CONNECT);
	CHECK(strstr(msg, "refused") != NULL);
	egress_close(&p);
}

int main(void)
{
	char err[256];
	setenv("SNAPCAT_TEST_PUBLIC", "127.0.0.2", 1);
	setenv("SNAPCAT_TEST_HOSTS", "no-such-name.test=!", 1);
	Public = testhooks_init(err, sizeof(err)) == SC_OK;
	if (egress_start(&(struct egress_opts){0}, &E))
		return 1;
	RUN(refuses_private_and_local);
	RUN(records_outcomes);
	RUN(malformed_handshakes);
	RUN(relays_both_ways);
	RUN(closing_the_port_ends_its_connections);
	RUN(refused_connect_is_reported);
	egress_stop(&E);
	return test_report();
}
