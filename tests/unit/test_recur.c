/* unit.recur: schedule specs (intervals, cron) and their next runs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recur.h"
#include "testhelp.h"

/* ms since the epoch of a local time. */
static int64_t at(int y, int mon, int d, int h, int m)
{
	struct tm t = {.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
		       .tm_hour = h, .tm_min = m, .tm_isdst = -1};
	return (int64_t)mktime(&t) * 1000;
}

static int64_t next(const char *spec, int64_t now)
{
	struct recur r;
	char err[160];
	if (recur_parse(spec, &r, err, sizeof(err)) != SC_OK) {
		fprintf(stderr, "parse %s: %s\n", spec, err);
		return -1;
	}
	return recur_next(&r, 42, now);
}

TEST(intervals_spread)
{
	struct recur r;
	REQUIRE(recur_parse("hourly", &r, NULL, 0) == SC_OK);
	CHECK_EQ_INT(r.interval_ms, 3600000);
	REQUIRE(recur_parse("every 15m", &r, NULL, 0) == SC_OK);
	CHECK_EQ_INT(r.interval_ms, 900000);
	REQUIRE(recur_parse("every 2d", &r, NULL, 0) == SC_OK);
	CHECK_EQ_INT(r.interval_ms, 2 * 86400000LL);
	REQUIRE(recur_parse("daily", &r, NULL, 0) == SC_OK);
	int64_t now = at(2026, 11, 26, 12, 0);
	int64_t n1 = recur_next(&r, 1, now), n2 = recur_next(&r, 2, now);
	CHECK(n1 > now && n1 <= now + 86400000LL);
	CHECK(n2 > now && n2 <= now + 86400000LL);
	CHECK(n1 != n2); /* spread by id */
	CHECK_EQ_INT(recur_next(&r, 1, n1), n1 + 86400000LL); /* strictly after */
	CHECK_EQ_INT(recur_next(&r, 1, n1 - 1), n1);
	/* 1000 links hourly: their offsets cover the hour */
	REQUIRE(recur_parse("hourly", &r, NULL, 0) == SC_OK);
	int buckets[12] = {0};
	for (int id = 1; id <= 1000; id++)
		buckets[(recur_next(&r, id, 0) % 3600000) / 300000]++;
	for (int i = 0; i < 12; i++)
		CHECK(buckets[i] > 40 && buckets[i] < 130);
}

TEST(cron)
{
	int64_t now = at(2026, 11, 26, 12, 34); /* a Thursday */
	CHECK_EQ_INT(next("0 * * * *", now), at(2026, 11, 26, 13, 0));
	CHECK_EQ_INT(next("*/15 * * * *", now), at(2026, 11, 26, 12, 45));
	CHECK_EQ_INT(next("30 3 * * *", now), at(2026, 11, 27, 3, 30));
	CHECK_EQ_INT(next("0 9 * * 1-5", now), at(2026, 11, 27, 9, 0));
	CHECK_EQ_INT(next("0 9 * * 0", now), at(2026, 11, 29, 9, 0));
	CHECK_EQ_INT(next("0 9 * * 7", now), at(2026, 11, 29, 9, 0));
	CHECK_EQ_INT(next("0 0 1 1 *", now), at(2027, 1, 1, 0, 0));
	CHECK_EQ_INT(next("0 0 29 2 *", now), at(2028, 2, 29, 0, 0));
	CHECK_EQ_INT(next("5,35 12 * * *", now), at(2026, 11, 26, 12, 35));
	CHECK_EQ_INT(next("34 12 * * *", now), at(2026, 11, 27, 12, 34));
	/* day of month OR day of week when both are given (cron) */
	CHECK_EQ_INT(next("0 0 1 * 5", now), at(2026, 11, 27, 0, 0));
	CHECK_EQ_INT(next("0 0 31 2 *", now), 0); /* never */
}

TEST(bad_specs)
{
	const char *bad[] = {"", "often", "every", "every 0m", "every 5s",
			     "every 5x", "every 400d", "every -1h", "every 1h2",
			     "60 * * * *", "* 24 * * *", "* * 0 * *",
			     "* * * 13 *", "* * * * 8", "* * * *",
			     "* * * * * *", "5-1 * * * *", "*/0 * * * *",
			     "a * * * *", "1,,2 * * * *"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recur r;
		char err[160] = "";
		if (recur_parse(bad[i], &r, err, sizeof(err)) != SC_ERR_INVALID)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK_EQ_INT(recur_parse(bad[i], &r, err, sizeof(err)),
			     SC_ERR_INVALID);
		CHECK(err[0]);
	}
	char long_spec[100];
	memset(long_spec, '*', sizeof(long_spec) - 1);
	long_spec[99] = '\0';
	struct recur r;
	CHECK_EQ_INT(recur_parse(long_spec, &r, NULL, 0), SC_ERR_INVALID);
	CHECK_EQ_INT(recur_parse(NULL, &r, NULL, 0), SC_ERR_INVALID);
}

int main(void)
{
	setenv("TZ", "Europe/Paris", 1); /* a zone with DST */
	tzset();
	RUN(intervals_spread);
	RUN(cron);
	RUN(bad_specs);
	return test_report();
}
