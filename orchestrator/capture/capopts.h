/*
 * capopts.h — capture options as JSON: the `options` object of POST
 * /api/links, POST /api/links/{id}/snapshots and PATCH /api/links/{id}
 * (checked here), stored per link and per job, laid over the server's
 * defaults when a job runs, and shown back with their secrets masked.
 *
 *   API body -> capopts_check (types, ranges; "***" keeps a stored secret)
 *     -> catalog (link.options / job.options, JSON text)
 *   sched: server defaults < capopts_apply(link) < capopts_apply(job)
 *     -> struct capture_opts -> capture_start
 *   any answer (link, job) -> capopts_masked: header and cookie values
 *     are "***"; they never leave the server and are never logged
 *
 * Fields: width, height (100-10000), scale (0.1-5), timeout (1-3600 s),
 * mobile, full_page, consent, stealth, mhtml, pdf (booleans; pdf off by
 * default), color_scheme ("light",
 * "dark", "auto"), delay (0-60000 ms), wait_for (a CSS selector
 * readiness waits for), perpetual (false: judge no activity perpetual, wait
 * for every short timer), hide (array of CSS selectors),
 * user_agent (string), headers ({"Name": "value"}), cookies ([{name,
 * value, path?}]). The secrets are headers' and cookies' values.
 */
#ifndef CAPOPTS_H
#define CAPOPTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "capture.h"
#include "sc.h"

#define CAPOPTS_MASK "***"

/*
 * Check an options object. On success *out is its canonical JSON text to
 * store (caller frees with cJSON_free). A header or cookie value "***"
 * means "keep the stored one": it is taken from stored (a JSON object text
 * or NULL), matched by header name (any case) or cookie name; with nothing
 * stored under that name it is an error. On error SC_ERR_INVALID, *out =
 * NULL, and err says which field and why ("options.delay: ...").
 */
sc_result capopts_check(const cJSON *opts, const char *stored, char **out,
			char *err, size_t errlen) SC_MUST_CHECK;

/* The strings capopts_apply points a capture_opts at (fields private). */
struct capopts_hold {
	char *hide, *user_agent, *headers, *cookies, *wait_for;
};
/* Free the strings; the struct itself is the caller's. NULL-safe. */
void capopts_hold_free(struct capopts_hold *h);

/*
 * Lay the fields of a stored options object (JSON text; NULL or invalid:
 * nothing changes) over o. String fields are copied into h, which must
 * outlive o's use (a field set again frees its previous copy in h).
 */
void capopts_apply(struct capture_opts *o, const char *json,
		   struct capopts_hold *h);

/*
 * One command-line flag (or config-file key) of a capture option, by its
 * long name without "--": width, height, scale, mobile, viewport-only,
 * full-page, color-scheme, delay, wait-for, no-perpetual, hide (adds one
 * selector), no-consent,
 * consent, no-stealth, stealth, user-agent, no-mhtml, pdf, no-pdf, header ("Name:
 * value", adds one), cookie ("name=value", adds one), shot-pixels (a count,
 * k/m/g suffixes). v is the value (NULL for the booleans).
 * Returns 0 (set in o, strings kept in h), 1 if name is not one of these,
 * -1 with err set if v is bad.
 */
int capopts_flag(struct capture_opts *o, struct capopts_hold *h,
		 const char *name, const char *v, char *err, size_t errlen);

/*
 * getopt_long entries for the capture option flags of names (a
 * NULL-terminated list of capopts_flag's names, in the order the caller
 * wants them): {name, has_arg, NULL, val} each, then the {0} that ends a
 * table, into lo (cap entries). Returns the entries written before the
 * {0}, or -1 if a name is not one of capopts_flag's or lo is too small.
 */
struct option;
int capopts_longopts(struct option *lo, size_t cap, const char *const *names,
		     int val);

/* The options object with every header and cookie value replaced by
 * "***" (JSON text; NULL or invalid: {}). Caller deletes. */
cJSON *capopts_masked(const char *json);

#endif
