/* tests/bench/channels/floor.c — the floor of one live-progress delivery
 * (issue 15, item 4): what a plain C loop pays to hand one event-sized
 * message to each of N loopback TCP sockets, with no event loop, no
 * framing code and no per-subscriber bookkeeping in the way.
 *
 *   listener 127.0.0.1:0 -> N x (connect + accept) = N socket pairs
 *   main thread (sender): R rounds x N sockets, one send() per socket per
 *     event ("send"), or one writev() of 4 events per socket ("writev4")
 *   receiver thread: epoll over the N accepted ends, read() and discard,
 *     counting the bytes of each socket; it signals the sender once all the
 *     bytes of a trial have arrived
 *
 * The message is a real snapcat SSE frame of a job.progress event (the
 * richest one: a tall page's screenshot with a tile, an estimate and the
 * time spent), as http/feed.c writes it: "id: …\nevent: …\ndata: {…}\n\n",
 * 220 bytes (the channel benchmark's link.updated frames are ~110 bytes).
 *
 * Reports per delivery (one event to one socket), per trial:
 *   sender CPU  getrusage(RUSAGE_THREAD) user+sys of the sending thread over
 *               the send loop. On loopback the receiving side's TCP work
 *               (softirq) runs in the sender's send() and is charged to it,
 *               so this is about what one delivery costs a server
 *   wall        the send loop's wall time
 *   +receivers  getrusage(RUSAGE_SELF) over the trial up to the last byte
 *               received: the sender plus the receiver thread's epoll/read
 * One untimed warm-up trial of each variant runs first; the variants then
 * alternate, and the table gives the median of the trials.
 * The received bytes are checked against what was sent, per socket; any
 * difference, or 10 s without a byte while some are missing, fails the
 * run (exit 1). Sender sockets have
 * TCP_NODELAY, as libwebsockets sets on its connections.
 *
 * Run: tests/bench/channels/floor-run [-n sockets] [-r rounds] [-t trials]
 * (it raises `ulimit -n` and compiles this file with cc -O2), or by hand:
 *   cc -O2 -std=c11 -Wall -Wextra -pthread floor.c -o floor && ./floor -n 4000
 * Needs 2N + 16 descriptors (it raises its soft limit when the hard one
 * allows, else says so). Not part of the test suite: it measures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH 4 /* events per writev() in the "writev4" variant */

static const char frame[] =
	"id: 123456\n"
	"event: job.progress\n"
	"data: {\"id\":123456,\"type\":\"job.progress\","
	"\"ts\":\"2026-12-07T20:06:49.014Z\",\"job\":4711,\"link\":1234,"
	"\"stage\":\"screenshot\",\"progress\":63,\"detail\":\"tile 2 of 4\","
	"\"eta_ms\":8700,\"elapsed_ms\":12900}\n\n";
#define FRAME_LEN (sizeof(frame) - 1)

struct opts {
	long n;      /* socket pairs */
	long rounds; /* events per socket per trial (a multiple of BATCH) */
	long trials; /* trials per variant, alternating the variants */
};

/* Shared by the sender (main thread) and the receiver thread. The byte
 * counters are written by the receiver only; `target` and `stop` by the
 * sender only; `lock` guards the wait on `done`. */
struct pairs {
	int *tx, *rx;              /* sender ends, receiver ends */
	unsigned long long *got;   /* bytes received per socket (receiver) */
	int ep;                    /* epoll set of rx (receiver) */
	long n;
	_Atomic unsigned long long total;  /* bytes received so far */
	_Atomic unsigned long long target; /* wake the sender at this total */
	atomic_int stop;
	pthread_mutex_t lock;
	pthread_cond_t done;
};

struct figures {
	double sender_us, wall_us, all_us, drain_us;
	long full; /* sends that found the buffer full and waited */
};

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_us(int who)
{
	struct rusage u;
	if (getrusage(who, &u))
		die("getrusage");
	return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
	       u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

static long parse_num(const char *s, const char *flag)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v <= 0) {
		fprintf(stderr, "floor: %s wants a positive number, not '%s'\n",
			flag, s);
		exit(2);
	}
	return v;
}

static struct opts parse_opts(int argc, char **argv)
{
	struct opts o = {.n = 4000, .rounds = 48, .trials = 3};
	int c;
	while ((c = getopt(argc, argv, "n:r:t:")) != -1) {
		if (c == 'n')
			o.n = parse_num(optarg, "-n");
		else if (c == 'r')
			o.rounds = parse_num(optarg, "-r");
		else if (c == 't')
			o.trials = parse_num(optarg, "-t");
		else {
			fprintf(stderr, "usage: floor [-n sockets] [-r rounds]"
					" [-t trials]\n");
			exit(2);
		}
	}
	o.rounds = (o.rounds + BATCH - 1) / BATCH * BATCH;
	return o;
}

/* Raises the soft descriptor limit to what 2n sockets need, or says how. */
static void need_fds(long n)
{
	struct rlimit r;
	rlim_t want = (rlim_t)(2 * n + 16);
	if (getrlimit(RLIMIT_NOFILE, &r))
		die("getrlimit");
	if (r.rlim_cur >= want)
		return;
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want) {
		fprintf(stderr, "floor: %ld sockets need %llu descriptors, the"
			" hard limit is %llu: raise it (ulimit -Hn, as root) or"
			" use -n %llu\n", n, (unsigned long long)want,
			(unsigned long long)r.rlim_max,
			(unsigned long long)(r.rlim_max - 16) / 2);
		exit(1);
	}
	r.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &r))
		die("setrlimit RLIMIT_NOFILE");
}

static int listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)a, sizeof(*a)) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)a, &len))
		die("listen on 127.0.0.1");
	return fd;
}

/* One connected pair: tx (TCP_NODELAY) and its accepted end rx. */
static void open_pair(int lfd, const struct sockaddr_in *a, int *tx, int *rx)
{
	int one = 1;
	*tx = socket(AF_INET, SOCK_STREAM, 0);
	if (*tx < 0)
		die("socket (raise ulimit -n?)");
	if (connect(*tx, (const struct sockaddr *)a, sizeof(*a)))
		die("connect to the listener");
	*rx = accept(lfd, NULL, NULL);
	if (*rx < 0)
		die("accept (raise ulimit -n?)");
	if (setsockopt(*tx, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
}

static void open_pairs(struct pairs *p, long n)
{
	struct sockaddr_in a;
	int lfd = listener(&a);
	p->n = n;
	p->tx = calloc((size_t)n, sizeof(int));
	p->rx = calloc((size_t)n, sizeof(int));
	p->got = calloc((size_t)n, sizeof(*p->got));
	if (!p->tx || !p->rx || !p->got)
		die("calloc");
	p->ep = epoll_create1(0);
	if (p->ep < 0)
		die("epoll_create1");
	for (long i = 0; i < n; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
		open_pair(lfd, &a, &p->tx[i], &p->rx[i]);
		if (epoll_ctl(p->ep, EPOLL_CTL_ADD, p->rx[i], &e))
			die("epoll_ctl");
	}
	close(lfd);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->done, NULL);
}

/* Reads socket i until it would block; returns the bytes read. */
static unsigned long long drain_one(struct pairs *p, long i)
{
	static char buf[65536]; /* the receiver thread's only */
	unsigned long long sum = 0;
	for (;;) {
		ssize_t r = recv(p->rx[i], buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0) {
			sum += (unsigned long long)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return sum;
		fprintf(stderr, "floor: socket %ld: %s\n", i,
			r ? strerror(errno) : "closed by the sender");
		exit(1);
	}
}

static void wake_sender(struct pairs *p, unsigned long long total)
{
	if (total < atomic_load(&p->target))
		return;
	pthread_mutex_lock(&p->lock);
	pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
}

static void *receiver(void *arg)
{
	struct pairs *p = arg;
	struct epoll_event ev[256];
	while (!atomic_load(&p->stop)) {
		int k = epoll_wait(p->ep, ev, 256, 100);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		unsigned long long sum = 0;
		for (int j = 0; j < k; j++) {
			long i = (long)ev[j].data.u64;
			unsigned long long r = drain_one(p, i);
			p->got[i] += r;
			sum += r;
		}
		if (sum)
			wake_sender(p, atomic_fetch_add(&p->total, sum) + sum);
	}
	return NULL;
}

/* Sends all of len bytes of iov on fd; waits (poll) when the buffer is
 * full and counts those waits in *full. */
static void send_all(int fd, struct iovec *iov, int cnt, long *full)
{
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
	for (;;) {
		ssize_t w = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			die("send");
		if (w < 0) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			++*full;
			poll(&pf, 1, -1);
			continue;
		}
		while (w > 0 && m.msg_iovlen) { /* a short write: skip what went */
			size_t d = (size_t)w < m.msg_iov->iov_len ?
				(size_t)w : m.msg_iov->iov_len;
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + d;
			m.msg_iov->iov_len -= d;
			w -= (ssize_t)d;
			if (!m.msg_iov->iov_len) {
				m.msg_iov++;
				m.msg_iovlen--;
			}
		}
		if (!m.msg_iovlen)
			return;
	}
}

/* One event per send() (batch 1) or `batch` events per writev(). */
static long send_rounds(struct pairs *p, long rounds, int batch)
{
	struct iovec iov[BATCH];
	long full = 0;
	for (long r = 0; r < rounds; r += batch) {
		for (long i = 0; i < p->n; i++) {
			for (int b = 0; b < batch; b++)
				iov[b] = (struct iovec){(void *)frame, FRAME_LEN};
			send_all(p->tx[i], iov, batch, &full);
		}
	}
	return full;
}

/* Waits until `want` bytes in all have arrived; fails the run when none
 * arrive for 10 s (bytes lost: the counts below would say where). */
static void wait_received(struct pairs *p, unsigned long long want)
{
	unsigned long long seen = atomic_load(&p->total);
	int idle = 0;
	pthread_mutex_lock(&p->lock);
	while (atomic_load(&p->total) < want) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 1;
		if (pthread_cond_timedwait(&p->done, &p->lock, &t) != ETIMEDOUT)
			continue;
		idle = atomic_load(&p->total) == seen ? idle + 1 : 0;
		seen = atomic_load(&p->total);
		if (idle >= 10) {
			fprintf(stderr, "floor: FAILED: %llu of %llu bytes received,"
				" nothing more for 10 s\n", seen, want);
			exit(1);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

/* Every socket must have received exactly `each` bytes in all. */
static void check_counts(const struct pairs *p, unsigned long long each)
{
	long bad = 0;
	for (long i = 0; i < p->n; i++) {
		if (p->got[i] == each)
			continue;
		if (bad++ < 5)
			fprintf(stderr, "floor: socket %ld received %llu bytes,"
				" %llu were sent\n", i, p->got[i], each);
	}
	if (bad || atomic_load(&p->total) != each * (unsigned long long)p->n) {
		fprintf(stderr, "floor: FAILED: %ld sockets with a wrong count;"
			" %llu bytes received in all, %llu sent\n", bad,
			(unsigned long long)atomic_load(&p->total),
			each * (unsigned long long)p->n);
		exit(1);
	}
}

static struct figures trial(struct pairs *p, long rounds, int batch)
{
	struct figures f;
	double deliveries = (double)rounds * (double)p->n;
	unsigned long long want = atomic_load(&p->total) +
		(unsigned long long)deliveries * FRAME_LEN;
	atomic_store(&p->target, want);
	double c0 = cpu_us(RUSAGE_THREAD), a0 = cpu_us(RUSAGE_SELF);
	double t0 = now_us();
	f.full = send_rounds(p, rounds, batch);
	double t1 = now_us(), c1 = cpu_us(RUSAGE_THREAD);
	wait_received(p, want);
	double t2 = now_us(), a1 = cpu_us(RUSAGE_SELF);
	f.sender_us = (c1 - c0) / deliveries;
	f.wall_us = (t1 - t0) / deliveries;
	f.all_us = (a1 - a0) / deliveries;
	f.drain_us = t2 - t1;
	return f;
}

static void print_figures(const char *name, long t, const struct figures *f)
{
	printf("%-8s trial %ld  sender CPU %6.2f us  wall %6.2f us  "
	       "+receivers CPU %6.2f us  (last byte %.0f ms after the last "
	       "send; buffer-full waits %ld)\n", name, t, f->sender_us,
	       f->wall_us, f->all_us, f->drain_us / 1e3, f->full);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, long k)
{
	qsort(v, (size_t)k, sizeof(*v), by_value);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static void summary(const char *name, const struct figures *f, long k)
{
	double s[k], w[k], a[k];
	for (long i = 0; i < k; i++) {
		s[i] = f[i].sender_us;
		w[i] = f[i].wall_us;
		a[i] = f[i].all_us;
	}
	printf("| %s | %.2f | %.2f | %.2f |\n", name, median(s, k),
	       median(w, k), median(a, k));
}

static void print_load(const char *when)
{
	double l[3];
	if (getloadavg(l, 3) == 3)
		printf("load average %s: %.2f %.2f %.2f\n", when, l[0], l[1], l[2]);
}

int main(int argc, char **argv)
{
	struct opts o = parse_opts(argc, argv);
	struct pairs p = {0};
	pthread_t rt;
	need_fds(o.n);
	open_pairs(&p, o.n);
	if (pthread_create(&rt, NULL, receiver, &p))
		die("pthread_create");
	printf("floor: %ld loopback TCP pairs, %zu-byte SSE frame, %ld events "
	       "per socket per trial (%ld deliveries), %ld trials per variant;"
	       " per delivery:\n", o.n, FRAME_LEN, o.rounds, o.rounds * o.n,
	       o.trials);
	print_load("before");
	struct figures *one = calloc((size_t)o.trials, sizeof(*one));
	struct figures *four = calloc((size_t)o.trials, sizeof(*four));
	if (!one || !four)
		die("calloc");
	trial(&p, o.rounds, 1); /* warm-up: buffers, page faults, caches */
	trial(&p, o.rounds, BATCH);
	for (long t = 0; t < o.trials; t++) {
		one[t] = trial(&p, o.rounds, 1);
		print_figures("send", t + 1, &one[t]);
		four[t] = trial(&p, o.rounds, BATCH);
		print_figures("writev4", t + 1, &four[t]);
	}
	print_load("after");
	atomic_store(&p.stop, 1);
	pthread_join(rt, NULL);
	unsigned long long each =
		(unsigned long long)(2 * (o.trials + 1) * o.rounds) * FRAME_LEN;
	check_counts(&p, each);
	printf("bytes check: every socket received all %llu bytes sent to it\n",
	       each);
	printf("\nmedian of %ld trials, us per delivery:\n\n", o.trials);
	printf("| variant | sender CPU | wall | sender + receivers CPU |\n"
	       "|---|---|---|---|\n");
	summary("send() per event", one, o.trials);
	summary("writev() of 4 events", four, o.trials);
	free(one);
	free(four);
	return 0;
}
