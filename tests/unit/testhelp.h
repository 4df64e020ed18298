/*
 * testhelp.h — a tiny assertion kit for the C tests (after Redis testhelp.h).
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_STR(s, "x"); }
 *   int main(void) { RUN(name); return test_report(); }
 *
 * A failed CHECK prints file:line and the expression, marks the test failed
 * and continues; REQUIRE returns from the test function at once. SKIP("why")
 * marks the test skipped (it cannot run here: a build option, a privilege)
 * and returns from it. A CHECK outside any test that fails counts too.
 * TEST_ONLY=name1,name2 in the environment runs only those tests.
 *
 * test_report()'s exit status, for ctest: 1 if a test failed or if no test
 * ran at all (a misspelt TEST_ONLY), TEST_SKIPPED (77: ctest's
 * SKIP_RETURN_CODE, "Skipped") if every test that ran was skipped, else 0.
 */
#ifndef TESTHELP_H
#define TESTHELP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SKIPPED 77

static int test_failed_total, test_run_total, test_skipped_total;
static int test_failed_now, test_skipped_now;
static int test_failed_outside;  /* a CHECK between tests failed */
static const char *test_name_now = "(no test)";

/* Is name selected by $TEST_ONLY (a comma-separated list; unset: all)? */
static __attribute__((unused)) int test_selected(const char *name)
{
	const char *only = getenv("TEST_ONLY");
	size_t n = strlen(name);
	for (const char *p = only; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
		if (strcspn(p, ",") == n && !strncmp(p, name, n))
			return 1;
	return !only || !*only;
}

/* Count the test that just ran (RUN's tail): failed wins over skipped. */
static __attribute__((unused)) void test_count(const char *name)
{
	const char *word = "ok";
	if (test_failed_now) {
		test_failed_total++;
		word = "FAIL";
	} else if (test_skipped_now) {
		test_skipped_total++;
		word = "skipped";
	}
	fprintf(stderr, "%s %s\n", word, name);
	test_failed_now = test_skipped_now = 0;
	test_name_now = "(no test)";
}

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                           \
	if (test_selected(#name)) do {                                      \
		test_failed_outside |= test_failed_now;                     \
		test_failed_now = test_skipped_now = 0;                     \
		test_name_now = #name;                                      \
		test_run_total++;                                           \
		fprintf(stderr, "-- %s\n", #name);                          \
		test_##name();                                              \
		test_count(#name);                                          \
	} while (0)
#define SKIP(why)                                                          \
	do {                                                               \
		fprintf(stderr, "%s:%d: SKIP %s: %s\n", __FILE__, __LINE__, \
			test_name_now, (why));                             \
		test_skipped_now = 1;                                      \
		return;                                                    \
	} while (0)
#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #expr);                          \
			test_failed_now = 1;                               \
		}                                                          \
	} while (0)
#define REQUIRE(expr)                                                      \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n",     \
				__FILE__, __LINE__, #expr);                \
			test_failed_now = 1;                               \
			return;                                            \
		}                                                          \
	} while (0)
#define CHECK_EQ_INT(a, b)                                                  \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_) {                                             \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);        \
			test_failed_now = 1;                                \
		}                                                           \
	} while (0)
#define CHECK_STR(a, b)                                                     \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (!a_ || !b_ || strcmp(a_, b_)) {                         \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", \
				b_ ? b_ : "(null)");                        \
			test_failed_now = 1;                                \
		}                                                           \
	} while (0)

/* Print the counts; the exit status for main (see the top). */
/* 1 when run under valgrind (it preloads its core into the client): tests
 * that do much work do less there, where it costs tens of times more. */
static __attribute__((unused)) int test_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");
	return p && strstr(p, "vgpreload") != NULL;
}

static inline int test_report(void)
{
	test_failed_outside |= test_failed_now;
	fprintf(stderr, "%d of %d tests failed", test_failed_total,
		test_run_total);
	if (test_skipped_total)
		fprintf(stderr, ", %d skipped", test_skipped_total);
	fputc('\n', stderr);
	if (test_failed_outside) {
		fprintf(stderr, "a CHECK outside the tests failed\n");
		return 1;
	}
	if (!test_run_total) {
		fprintf(stderr, "no test ran (TEST_ONLY=\"%s\" names none?)\n",
			getenv("TEST_ONLY") ? getenv("TEST_ONLY") : "");
		return 1;
	}
	if (test_failed_total)
		return 1;
	return test_skipped_total == test_run_total ? TEST_SKIPPED : 0;
}

/* A test program's exit status rc says nothing failed (passed or every
 * test skipped): its temporary files can go. */
static inline int test_passed(int rc)
{
	return rc == 0 || rc == TEST_SKIPPED;
}

#endif
