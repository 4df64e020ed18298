/*
 * test_testhelp.c — the test kit itself (testhelp.h): what a test program
 * reports to ctest when tests pass, fail, skip, or none runs.
 *
 * DESIGN: each case forks; the child forgets the parent's counts, runs a
 * few small tests of its own with RUN (TEST_ONLY set as the case says)
 * and exits with test_report(). The parent reads the child's stderr
 * through a pipe, waits for it, and checks the exit status and the lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testhelp.h"

static char Err[8192]; /* the last child's stderr */
static int Reached;    /* a child's test went past its SKIP */

/* ---- the child's tests ---- */

TEST(kit_pass)
{
	CHECK(1 + 1 == 2);
}

TEST(kit_fail)
{
	CHECK_EQ_INT(1 + 1, 3);
}

TEST(kit_skip)
{
	SKIP("not on this machine");
	Reached = 1; /* never: SKIP returns */
}

TEST(kit_skip_too)
{
	SKIP("nor this");
}

TEST(kit_fail_then_skip)
{
	CHECK_STR("a", "b");
	SKIP("too late: it failed already");
}

/* ---- the cases (run in the child) ---- */

static void kit_pass_and_skip(void)
{
	RUN(kit_pass);
	RUN(kit_skip);
	if (Reached)
		test_failed_total++; /* makes the exit status 1 */
}

static void kit_all_skip(void)
{
	RUN(kit_skip);
	RUN(kit_skip_too);
}

static void kit_skip_and_fail(void)
{
	RUN(kit_skip);
	RUN(kit_fail);
}

static void kit_failed_skip(void)
{
	RUN(kit_fail_then_skip);
}

static void kit_check_outside(void)
{
	RUN(kit_pass);
	CHECK(0); /* between tests, as a main's clean-up check may be */
}

static void kit_one_of_each(void)
{
	RUN(kit_pass);
	RUN(kit_skip);
	RUN(kit_fail);
}

/* Run a case in a child with TEST_ONLY=only (NULL: unset); its stderr in
 * Err. Returns its exit status, or -1. */
static int kit_run(void (*fn)(void), const char *only)
{
	int p[2];
	size_t len = 0;
	ssize_t n;
	if (pipe(p))
		return -1;
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		test_failed_total = test_run_total = test_skipped_total = 0;
		test_failed_now = test_skipped_now = test_failed_outside = 0;
		if (only)
			setenv("TEST_ONLY", only, 1);
		else
			unsetenv("TEST_ONLY");
		fn();
		_exit(test_report());
	}
	close(p[1]);
	while (len < sizeof(Err) - 1 &&
	       (n = read(p[0], Err + len, sizeof(Err) - 1 - len)) > 0)
		len += (size_t)n;
	Err[len] = '\0';
	close(p[0]);
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* ---- the parent's tests ---- */

TEST(passing_and_skipped_tests_pass)
{
	CHECK_EQ_INT(kit_run(kit_pass_and_skip, NULL), 0);
	CHECK(strstr(Err, "\nok kit_pass\n") != NULL);
	CHECK(strstr(Err, ": SKIP kit_skip: not on this machine\n") != NULL);
	CHECK(strstr(Err, "\nskipped kit_skip\n") != NULL);
	CHECK(strstr(Err, "0 of 2 tests failed, 1 skipped\n") != NULL);
}

TEST(all_skipped_is_ctest_skip)
{
	CHECK_EQ_INT(kit_run(kit_all_skip, NULL), TEST_SKIPPED);
	CHECK(strstr(Err, "0 of 2 tests failed, 2 skipped\n") != NULL);
	/* only the skipping tests selected: skipped as well */
	CHECK_EQ_INT(kit_run(kit_pass_and_skip, "kit_skip"), TEST_SKIPPED);
	CHECK(test_passed(TEST_SKIPPED) && test_passed(0) && !test_passed(1));
}

TEST(no_test_ran_fails)
{
	CHECK_EQ_INT(kit_run(kit_pass_and_skip, "kit_pas"), 1); /* a typo */
	CHECK(strstr(Err, "0 of 0 tests failed\n") != NULL);
	CHECK(strstr(Err, "no test ran (TEST_ONLY=\"kit_pas\"") != NULL);
	CHECK_EQ_INT(kit_run(kit_pass_and_skip, ","), 1);
	CHECK_EQ_INT(kit_run(kit_pass_and_skip, "kit_pass"), 0);
	CHECK_EQ_INT(kit_run(kit_pass_and_skip, "x,kit_pass"), 0);
}

TEST(failures_win_over_skips)
{
	CHECK_EQ_INT(kit_run(kit_skip_and_fail, NULL), 1);
	CHECK(strstr(Err, "\nFAIL kit_fail\n") != NULL);
	CHECK(strstr(Err, "1 of 2 tests failed, 1 skipped\n") != NULL);
	CHECK_EQ_INT(kit_run(kit_failed_skip, NULL), 1);
	CHECK(strstr(Err, "\nFAIL kit_fail_then_skip\n") != NULL);
	CHECK(strstr(Err, "1 of 1 tests failed\n") != NULL);
	CHECK_EQ_INT(kit_run(kit_one_of_each, NULL), 1);
	CHECK(strstr(Err, "1 of 3 tests failed, 1 skipped\n") != NULL);
}

TEST(check_outside_a_test_fails)
{
	CHECK_EQ_INT(kit_run(kit_check_outside, NULL), 1);
	CHECK(strstr(Err, "0 of 1 tests failed\n") != NULL);
	CHECK(strstr(Err, "a CHECK outside the tests failed\n") != NULL);
}

int main(void)
{
	RUN(passing_and_skipped_tests_pass);
	RUN(all_skipped_is_ctest_skip);
	RUN(no_test_ran_fails);
	RUN(failures_win_over_skips);
	RUN(check_outside_a_test_fails);
	return test_report();
}
