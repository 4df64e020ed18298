/*
 * testhelp.h — a tiny assertion kit for the C tests (after Redis testhelp.h).
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_STR(s, "x"); }
 *   int main(void) { RUN(name); return test_report(); }
 *
 * A failed CHECK prints file:line and the expression, marks the test failed
 * and continues; REQUIRE returns from the test function at once.
 * TEST_ONLY=name1,name2 in the environment runs only those tests.
 */
#ifndef TESTHELP_H
#define TESTHELP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_total, test_run_total, test_failed_now;

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

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                           \
	if (test_selected(#name)) do {                                      \
		test_failed_now = 0;                                        \
		test_run_total++;                                           \
		fprintf(stderr, "-- %s\n", #name);                          \
		test_##name();                                              \
		if (test_failed_now)                                        \
			test_failed_total++;                                \
		fprintf(stderr, "%s %s\n", test_failed_now ? "FAIL" : "ok", \
			#name);                                             \
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

static inline int test_report(void)
{
	fprintf(stderr, "%d of %d tests failed\n", test_failed_total,
		test_run_total);
	return test_failed_total ? 1 : 0;
}

#endif
