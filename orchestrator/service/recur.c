/*
 * recur.c — recapture schedules (see recur.h).
 *
 * DESIGN: cron's next run walks forward from the next minute and skips a
 * whole month, day or hour at a time when that field does not match, so
 * even "once a year" needs a few hundred steps; mktime() normalises each
 * jump in local time (DST included).
 */
#include "recur.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECUR_MIN_MS 10000LL
#define RECUR_MAX_MS (365LL * 86400000LL)
#define RECUR_STEPS_MAX 20000 /* cron walk: ~5 years of day/hour steps */

/* Put the message in err (if given); returns SC_ERR_INVALID. */
static sc_result recur_bad(char *err, size_t errlen, const char *fmt, ...)
	SC_PRINTF(3, 4);

static sc_result recur_bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return SC_ERR_INVALID;
}

/* "every N<unit>" or a named interval. 1: matched (maybe bad), 0: not one. */
static int recur_interval(const char *s, struct recur *r, sc_result *rc,
			  char *err, size_t errlen)
{
	static const struct { const char *name; int64_t ms; } named[] = {
		{"hourly", 3600000LL}, {"daily", 86400000LL},
		{"weekly", 7 * 86400000LL}};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strcmp(s, named[i].name)) {
			r->interval_ms = named[i].ms;
			return 1;
		}
	if (strncmp(s, "every ", 6))
		return 0;
	char *end;
	long long n = strtoll(s + 6, &end, 10);
	const char *units = "smhdw";
	const int64_t per[] = {1000, 60000, 3600000, 86400000, 604800000};
	const char *u = *end ? strchr(units, *end) : NULL;
	if (n <= 0 || !u || end[1] || n > RECUR_MAX_MS / per[u - units] ||
	    n * per[u - units] < RECUR_MIN_MS || !isdigit((unsigned char)s[6])) {
		*rc = recur_bad(err, errlen, "bad interval \"%s\": use e.g. "
				"\"every 15m\", \"every 6h\", \"every 2d\" "
				"(10 seconds to 365 days)", s);
		return 1;
	}
	r->interval_ms = n * per[u - units];
	return 1;
}

/* One number of a cron field, in [lo, hi]. NULL if none. */
static const char *recur_num(const char *p, int lo, int hi, int *out)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	long v = 0;
	while (isdigit((unsigned char)*p) && v <= hi)
		v = v * 10 + (*p++ - '0');
	if (v < lo || v > hi)
		return NULL;
	*out = (int)v;
	return p;
}

/* One comma-separated item: *, a, a-b, each with an optional /step. */
static const char *recur_item(const char *p, int lo, int hi, uint64_t *bits,
			      int *any)
{
	int a = lo, b = hi, step = 1;
	if (*p == '*') {
		p++;
		*any = 1;
	} else if ((p = recur_num(p, lo, hi, &a))) {
		b = a;
		if (*p == '-' && !(p = recur_num(p + 1, lo, hi, &b)))
			return NULL;
		if (b < a)
			return NULL;
	} else {
		return NULL;
	}
	if (*p == '/') {
		if (!(p = recur_num(p + 1, 1, hi - lo + 1, &step)))
			return NULL;
		if (a == b && !*any)
			b = hi; /* "5/15" = 5-hi/15 */
		*any = 0;
	}
	for (int v = a; v <= b; v += step)
		*bits |= 1ULL << v;
	return p;
}

/* A whole field (up to the next space or the end). */
static const char *recur_field(const char *p, int lo, int hi, uint64_t *bits,
			       int *any)
{
	*bits = 0;
	*any = 0;
	for (;;) {
		int item_any = 0;
		if (!(p = recur_item(p, lo, hi, bits, &item_any)))
			return NULL;
		*any |= item_any;
		if (*p != ',')
			break;
		p++;
	}
	return *p == ' ' || !*p ? p : NULL;
}

static sc_result recur_cron(const char *s, struct recur *r, char *err,
			    size_t errlen)
{
	static const struct { int lo, hi; const char *name; } f[5] = {
		{0, 59, "minute"}, {0, 23, "hour"}, {1, 31, "day of month"},
		{1, 12, "month"}, {0, 7, "day of week"}};
	uint64_t bits[5];
	int any[5];
	const char *p = s;
	for (int i = 0; i < 5; i++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return recur_bad(err, errlen, "bad schedule \"%s\": use "
					 "hourly, daily, weekly, \"every 6h\" "
					 "or cron's five fields", s);
		if (!(p = recur_field(p, f[i].lo, f[i].hi, &bits[i], &any[i]))) {
			if (err && errlen)
				snprintf(err, errlen, "bad %s field (%d-%d) in "
					 "\"%s\"", f[i].name, f[i].lo, f[i].hi, s);
			return SC_ERR_INVALID;
		}
	}
	while (*p == ' ')
		p++;
	if (*p)
		return recur_bad(err, errlen, "\"%s\": more than five cron "
				 "fields", s);
	r->min = bits[0];
	r->hour = (uint32_t)bits[1];
	r->dom = (uint32_t)bits[2];
	r->mon = (uint32_t)bits[3];
	r->dow = (uint8_t)(bits[4] | (bits[4] >> 7)); /* 7 is Sunday too */
	r->dom_any = any[2];
	r->dow_any = any[4];
	return SC_OK;
}

sc_result recur_parse(const char *spec, struct recur *out, char *err,
		      size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!spec || !*spec || strlen(spec) >= RECUR_SPEC_MAX)
		return recur_bad(err, errlen, "a schedule is 1 to 63 "
				 "characters");
	sc_result rc = SC_OK;
	if (recur_interval(spec, out, &rc, err, errlen))
		return rc;
	return recur_cron(spec, out, err, errlen);
}

static uint64_t recur_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Does the day of tm match (cron: either of DOM/DOW if both are set)? */
static int recur_day_ok(const struct recur *r, const struct tm *t)
{
	int dom = (r->dom >> t->tm_mday) & 1, dow = (r->dow >> t->tm_wday) & 1;
	if (r->dom_any || r->dow_any)
		return dom && dow;
	return dom || dow;
}

/* Advance tm to the next candidate; 1 if it matches completely. */
static int recur_step(const struct recur *r, struct tm *t)
{
	if (!((r->mon >> (t->tm_mon + 1)) & 1)) {
		t->tm_mon++;
		t->tm_mday = 1;
		t->tm_hour = t->tm_min = 0;
	} else if (!recur_day_ok(r, t)) {
		t->tm_mday++;
		t->tm_hour = t->tm_min = 0;
	} else if (!((r->hour >> t->tm_hour) & 1)) {
		t->tm_hour++;
		t->tm_min = 0;
	} else if (!((r->min >> t->tm_min) & 1)) {
		t->tm_min++;
	} else {
		return 1;
	}
	t->tm_isdst = -1;
	mktime(t);
	return 0;
}

static int64_t recur_cron_next(const struct recur *r, int64_t now_ms)
{
	time_t s = (time_t)(now_ms / 60000 + 1) * 60;
	struct tm t;
	localtime_r(&s, &t);
	for (int i = 0; i < RECUR_STEPS_MAX; i++)
		if (recur_step(r, &t))
			return (int64_t)mktime(&t) * 1000;
	return 0;
}

int64_t recur_next(const struct recur *r, int64_t id, int64_t now_ms)
{
	if (r->interval_ms <= 0)
		return recur_cron_next(r, now_ms);
	int64_t iv = r->interval_ms;
	int64_t off = (int64_t)(recur_mix((uint64_t)id) % (uint64_t)iv);
	int64_t k = (now_ms - off) / iv;
	if (now_ms - off < 0 && (now_ms - off) % iv)
		k--; /* floor for negatives */
	return off + (k + 1) * iv;
}
