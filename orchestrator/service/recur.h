/*
 * recur.h — recapture schedules: parse a spec, compute the next run.
 *
 *   "hourly" | "daily" | "weekly"       every 1 h / 24 h / 7 d
 *   "every 15m" | "every 6h" | "every 2d" | "every 90s"...  an interval
 *       (s, m, h, d, w; at least 10 seconds, at most 365 days)
 *   "M H DOM MON DOW"                   cron's five fields, in the server's
 *       local time: '*', numbers, ranges a-b, lists a,b, steps * /n, a-b/n;
 *       DOW 0-7 (0 and 7 are Sunday); DOM and DOW both restricted: either
 *       matches (as cron does)
 *
 * Intervals are spread: a link's runs fall at its own offset inside the
 * interval (a hash of the link id), so a thousand links "hourly" do not all
 * start on the hour. Cron specs run on the minute they name.
 *
 * Pure functions, any thread.
 */
#ifndef RECUR_H
#define RECUR_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

#define RECUR_SPEC_MAX 64

/* A parsed spec; opaque fields, filled by recur_parse. */
struct recur {
	int64_t interval_ms;     /* > 0: an interval spec */
	uint64_t min;            /* cron: bit i = minute i allowed */
	uint32_t hour, dom, mon; /* bit i = hour i / day i (1-31) / month i
				    (1-12) */
	uint8_t dow;             /* bit i = weekday i (0 = Sunday) */
	int dom_any, dow_any;    /* the field was '*' */
};

/* Parse spec. SC_ERR_INVALID with a reason in err if it is not one of the
 * forms above. */
sc_result recur_parse(const char *spec, struct recur *out, char *err,
		      size_t errlen) SC_MUST_CHECK;

/* The first run strictly after now_ms (ms since the epoch) for the thing
 * with this id (the spreading offset of intervals). 0 if a cron spec never
 * matches within 5 years (e.g. "0 0 31 2 *"). */
int64_t recur_next(const struct recur *r, int64_t id, int64_t now_ms);

#endif
