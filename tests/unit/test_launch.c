/*
 * test_launch.c — cdp/launch.c's memory reading, cdp_pgroup_pss_kb: a
 * process group whose processes share their pages (as Chromium's do) is
 * counted once per page, where a sum of RSS counts each shared page once
 * per process.
 *
 *   fork: a group leader touches 64 MiB, forks a child that shares them
 *   (copy on write, untouched) -> both wait on a pipe
 *   -> cdp_pgroup_pss_kb(leader) ~ 64 MiB; VmRSS summed ~ 128 MiB (both
 *   plus valgrind's own memory under valgrind)
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "testhelp.h"

#define MIB (1024L * 1024)

/* VmRSS of pid in KiB, or -1. */
static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

/* The leader: 64 MiB touched, one child sharing them, then both wait for
 * the pipe to close. Says "ready" by writing the child's pid. */
static void leader(int go, int ready)
{
	setpgid(0, 0);
	char *mem = malloc(64 * MIB);
	if (!mem)
		_exit(1);
	memset(mem, 0x5a, 64 * MIB);
	pid_t kid = fork();
	if (kid < 0)
		_exit(1);
	if (kid == 0) {
		char c;
		(void)!read(go, &c, 1); /* shares mem until the end */
		int bad = mem[12345] != 0x5a;
		free(mem);
		_exit(bad);
	}
	if (write(ready, &kid, sizeof(kid)) != sizeof(kid))
		_exit(1);
	char c;
	(void)!read(go, &c, 1);
	waitpid(kid, NULL, 0);
	int bad = mem[54321] != 0x5a;
	free(mem);
	_exit(bad);
}

TEST(pss_counts_shared_pages_once)
{
	int go[2], ready[2];
	REQUIRE(pipe(go) == 0 && pipe(ready) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		leader(go[0], ready[1]);
	}
	close(go[0]);
	close(ready[1]);
	setpgid(pid, pid); /* whichever of the two runs first */
	pid_t kid = 0;
	REQUIRE(read(ready[0], &kid, sizeof(kid)) == sizeof(kid));
	int n = 0;
	long pss = cdp_pgroup_pss_kb(pid, &n);
	long rss = rss_kb(pid) + rss_kb(kid);
	fprintf(stderr, "   2 processes sharing 64 MiB: PSS %ld KiB, RSS summed "
		"%ld KiB\n", pss, rss);
	CHECK_EQ_INT(n, 2);
	CHECK(rss >= 2 * 64 * 1024);
	/* the 64 MiB once, not twice (under valgrind both processes carry
	 * its own memory too: bounds relative to the RSS sum) */
	CHECK(pss >= 64 * 1024);
	CHECK(pss < rss * 6 / 10);
	close(go[1]); /* both exit */
	int st = 0;
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(ready[0]);
	/* a group that does not exist (any more) */
	CHECK_EQ_INT(cdp_pgroup_pss_kb(pid, &n), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(cdp_pgroup_pss_kb(0, NULL), -1);
}

int main(void)
{
	RUN(pss_counts_shared_pages_once);
	return test_report();
}
