/*
 * fuzz_sse.c — libFuzzer target for the event feeds of http/feed.c seen from
 * the wire: the SSE encoder (GET /api/events, and the POST stream that ends
 * with [DONE]) and the long-poll answer (GET /api/events/poll), with their
 * query filters and resume points.
 *
 *   tests/fuzz/run-fuzzers 60 sse      (libFuzzer, clang, ASan+UBSan)
 *   ctest -R fuzz.sse                  (corpus replay, any compiler)
 *
 * No socket: fuzz_lws.h stands in for lws (headers, writes, timers), so the
 * real feed_sse_open / feed_sse_writeable / feed_sse_timer / feed_poll_open
 * run inside the service of fuzz_app.h (its seeded catalog has 7 events).
 *
 * Input: the first line picks the feed and its request:
 *   e?QUERY       GET /api/events?QUERY (SSE)
 *   p?QUERY       GET /api/events/poll?QUERY (long-poll)
 *   dN?QUERY      the POST stream of job N (until its job.done/failed)
 *   QUERY: job=, link=, types=a,b, after=, last_event_id=, timeout= ...
 *   (args split on '&' and '=', not decoded)
 * then lines:
 *   L value       the Last-Event-ID header (only as the second line)
 *   e type job link {fields}   (only right after the above) an event
 *                 committed, and handed to the feed by the loop, while the
 *                 subscriber is registered but before its replay worker
 *                 reads the catalog: the harness holds the db lock across
 *                 the open, these events and a loop_settle(loop, 0)
 *   E type job link {fields}   an event through app_event
 *   S             settle (replays, posted events)
 *   Y             wait until the workers are idle, without running their
 *                 done callbacks (a replay has read the catalog, its
 *                 result is not delivered yet)
 *   W             write: serve the writable requests
 *   T             the SSE heartbeat timer fires (feed_sse_timer)
 *   C             the client goes away (feed_sub_close); later lines only
 *                 add events
 * At the end: settle, write, close, settle.
 *
 * Properties checked on every input (abort() on violation):
 *   - a refused request (NULL) is answered 400 or 503 with an error JSON;
 *   - SSE: headers first and once (status 200, text/event-stream, no length,
 *     well-formed lines); the body is whole records "name: value" lines
 *     ending in an empty line: first "retry: N", then events (id, event,
 *     one data line of JSON whose id and type are the record's), pings,
 *     resets, and for the POST stream "event: error" + "data: [DONE]" last;
 *     ids strictly increase (none twice); after [DONE] the stream ends;
 *   - long-poll: ready() once, 200 with a JSON array of events, ids
 *     strictly increasing;
 *   - filters: every event delivered matches ?job=, ?link= and ?types=
 *     (as the client wrote them: a non-empty list of names);
 *   - none lost: every event the input emits while the stream is open, that
 *     matches the filters, is delivered (if the subscriber was not dropped,
 *     and its resume point was not past the newest event: one from another
 *     catalog, which feed.c judges when its replay worker runs, so an event
 *     committed meanwhile may be taken as seen: reported, not checked);
 *   - nothing leaked (LeakSanitizer).
 * FUZZ_VERBOSE=1 in the environment prints what was written.
 */
#define FUZZ_NAME "fuzz_sse"
#include "fuzz_app.h"

#include <stdint.h>

#include "feed.h"
#include "fuzz_lws.h"

#define FUZZ_EMIT_MAX 256

/* Product bugs found here keep their input as corpus_sse/crash-* (all
 * fixed in feed.c by now: they stay as regression inputs). */

struct fuzz_sse {
	int mode;                  /* 'e', 'p', 'd' */
	struct sc_buf body;        /* everything written after the headers */
	int64_t job, link;         /* the filters, as the client meant them */
	char types[256][64];
	int ntypes, types_given;
	int open, closed, ended;   /* open; client gone; writeable said -1 */
	int ready;                 /* long-poll answered (calls) */
	int future;                /* resume point past the newest event */
	int64_t emitted[FUZZ_EMIT_MAX]; /* ids emitted while open, matching */
	int nemitted;
};
static struct fuzz_sse fs;

static void fuzz_sse_on_write(const unsigned char *buf, size_t len,
			      enum lws_write_protocol wp)
{
	FUZZ_ASSERT(fw.head_done == 1); /* headers first */
	FUZZ_ASSERT(wp == LWS_WRITE_HTTP);
	FUZZ_ASSERT(sc_buf_append(&fs.body, buf, len) == SC_OK);
}

/* The client's filters from the query (independently of feed.c). */
static void fuzz_sse_filters(const struct http_req *req)
{
	const char *job = http_arg(req, "job"), *link = http_arg(req, "link");
	const char *types = http_arg(req, "types");
	fs.job = job ? strtoll(job, NULL, 10) : 0;
	fs.link = link ? strtoll(link, NULL, 10) : 0;
	for (const char *p = types; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n && fs.ntypes < 256)
			snprintf(fs.types[fs.ntypes++], sizeof(fs.types[0]),
				 "%.*s", (int)(n < 63 ? n : 63), p);
		p += n + (p[n] == ',');
	}
	fs.types_given = fs.ntypes > 0;
}

static int fuzz_sse_match(int64_t job, int64_t link, const char *type)
{
	if ((fs.job && job != fs.job) || (fs.link && link != fs.link))
		return 0;
	if (!fs.types_given)
		return 1;
	for (int i = 0; i < fs.ntypes; i++)
		if (!strcmp(fs.types[i], type))
			return 1;
	return 0;
}

static int64_t fuzz_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return 0;
	/* ids near INT64_MAX come back as the double 2^63: no UB cast */
	if (v->valuedouble >= 9223372036854775807.0)
		return INT64_MAX;
	return v->valuedouble <= -9223372036854775807.0 ? INT64_MIN
							 : (int64_t)v->valuedouble;
}

/* One delivered event (SSE data or long-poll item): the filters. */
static void fuzz_sse_event(const cJSON *ev, int64_t id, const char *type)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "type");
	FUZZ_ASSERT(cJSON_IsObject(ev) && cJSON_IsString(t));
	FUZZ_ASSERT(fuzz_num(ev, "id") == id && id > 0);
	FUZZ_ASSERT(!type || !strcmp(t->valuestring, type));
	if (!fuzz_sse_match(fuzz_num(ev, "job"), fuzz_num(ev, "link"),
			    t->valuestring)) {
		char *s = cJSON_PrintUnformatted(ev);
		fprintf(stderr, "event outside the filters (job %lld link %lld, "
			"%d types): %s\n", (long long)fs.job, (long long)fs.link,
			fs.ntypes, s ? s : "?");
		abort();
	}
	for (int i = 0; i < fs.nemitted; i++)
		if (fs.emitted[i] == id)
			fs.emitted[i] = 0; /* delivered */
}

/* The SSE body: whole records; see the header comment. */
static void fuzz_sse_parse(void)
{
	const char *p = fs.body.data ? fs.body.data : "";
	const char *end = p + fs.body.len;
	int64_t last = 0;
	int n = 0, done = 0, error = 0;
	while (p < end) {
		const char *rec_end = strstr(p, "\n\n");
		FUZZ_ASSERT(rec_end && !done);
		char id[32] = "", event[64] = "";
		const char *data = NULL;
		size_t data_len = 0;
		int retry = 0;
		for (const char *l = p; l < rec_end + 1;) {
			const char *nl = memchr(l, '\n', (size_t)(rec_end + 1 - l));
			size_t ll = (size_t)(nl - l);
			const char *colon = memchr(l, ':', ll);
			FUZZ_ASSERT(colon && colon[1] == ' ');
			size_t nn = (size_t)(colon - l), vl = ll - nn - 2;
			const char *v = colon + 2;
			if (nn == 2 && !strncmp(l, "id", 2)) {
				FUZZ_ASSERT(!id[0] && vl && vl < sizeof(id));
				memcpy(id, v, vl);
			} else if (nn == 5 && !strncmp(l, "event", 5)) {
				FUZZ_ASSERT(!event[0] && vl && vl < sizeof(event));
				memcpy(event, v, vl);
			} else if (nn == 4 && !strncmp(l, "data", 4)) {
				FUZZ_ASSERT(!data);
				data = v;
				data_len = vl;
			} else {
				FUZZ_ASSERT(nn == 5 && !strncmp(l, "retry", 5) && !n);
				retry = 1;
			}
			l = nl + 1;
		}
		FUZZ_ASSERT(retry == !n); /* "retry:" alone, first */
		if (!retry && data_len == 6 && !strncmp(data, "[DONE]", 6)) {
			FUZZ_ASSERT(fs.mode == 'd' && !id[0] && !event[0]);
			done = 1;
		} else if (!retry) {
			FUZZ_ASSERT(data);
			cJSON *j = fuzz_json(data, data_len);
			if (!strcmp(event, "ping")) {
				FUZZ_ASSERT(!id[0] && cJSON_IsString(
					cJSON_GetObjectItemCaseSensitive(j, "time")));
			} else if (!strcmp(event, "reset")) {
				FUZZ_ASSERT(!id[0] && cJSON_IsNumber(
					cJSON_GetObjectItemCaseSensitive(j, "newest")));
			} else if (!strcmp(event, "error")) {
				FUZZ_ASSERT(fs.mode == 'd' && !id[0] && !error);
				error = 1;
			} else {
				char *e = NULL;
				long long v = strtoll(id, &e, 10);
				FUZZ_ASSERT(id[0] && !*e && v > last && !error);
				last = v;
				fuzz_sse_event(j, v, event);
			}
			cJSON_Delete(j);
		}
		n++;
		p = rec_end + 2;
	}
	FUZZ_ASSERT(!error || done);
}

static void fuzz_sse_poll_ready(void *ud)
{
	struct http_resp *rs = ud;
	fs.ready++;
	FUZZ_ASSERT(fs.ready == 1 && rs->status == 200);
	FUZZ_ASSERT(rs->ctype && !strcmp(rs->ctype, "application/json"));
	fuzz_check_headers(&rs->headers);
	cJSON *j = fuzz_json(rs->body.data, rs->body.len);
	FUZZ_ASSERT(cJSON_IsArray(j));
	int64_t last = 0;
	for (const cJSON *e = j->child; e; e = e->next) {
		int64_t id = fuzz_num(e, "id");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
		if (cJSON_IsString(t) && !strcmp(t->valuestring, "reset"))
			continue;
		FUZZ_ASSERT(id > last);
		last = id;
		fuzz_sse_event(e, id, NULL);
	}
	cJSON_Delete(j);
}

/* An event through app_event; c: the db lock is held already. */
static void fuzz_sse_emit(struct app *a, const char *s, size_t len)
{
	const char *t;
	long long job, link;
	sc_result rc;
	/* one unit per event, committed before the next: ids in order, none
	 * coalesced, and the newest id is this one's */
	if (fuzz_event_put(a, s, len, &t, &job, &link, &rc))
		return;
	int64_t id = rc == SC_OK ? app_event_last(a) : 0;
	if (id > 0 && fs.open && !fs.closed && fuzz_sse_match(job, link, t) &&
	    fs.nemitted < FUZZ_EMIT_MAX)
		fs.emitted[fs.nemitted++] = id;
}

struct fuzz_sub {
	struct feed *feed;
	struct feed_sub *sub;
	struct http_req req;
	struct http_resp resp;
};

static void fuzz_sse_write(struct fuzz_sub *k)
{
	if (fs.mode == 'p' || !k->sub || fs.ended)
		return;
	for (int i = 0; i < 100000 && fw.writable; i++) {
		fw.writable = 0;
		if (feed_sse_writeable(k->sub) < 0) {
			fs.ended = 1;
			fw.writable = 0;
			return;
		}
	}
	FUZZ_ASSERT(!fw.writable);
}

static void fuzz_sse_close(struct fuzz_sub *k)
{
	feed_sub_close(&k->sub);
	fs.closed = 1;
	fw.writable = 0;
}

/* First line: the request; opens the subscriber. */
/* The client's resume point (Last-Event-ID, ?last_event_id=, ?after=)
 * is past the newest event: not from this catalog. */
static int fuzz_sse_future(const struct http_req *req, struct catalog *c)
{
	const char *v = req->last_event_id ? req->last_event_id
					   : http_arg(req, "last_event_id");
	int64_t newest = 0;
	if (!v)
		v = http_arg(req, "after");
	char *e = NULL;
	long long after = v ? strtoll(v, &e, 10) : -1;
	FUZZ_ASSERT(catalog_events_bounds(c, NULL, &newest) == SC_OK);
	return v && *v && !*e && after > newest;
}

/* Opened with a read connection (c). */
static void fuzz_sse_open(struct fuzz_sub *k, struct catalog *c,
			  const char *l, size_t len, const char *lei,
			  size_t lei_len)
{
	fs.mode = len && strchr("epd", l[0]) ? l[0] : 'e';
	const char *q = memchr(l, '?', len);
	int64_t job = 0;
	if (fs.mode == 'd') {
		char num[24]; /* the line is not NUL-terminated */
		size_t nl = (size_t)((q ? q : l + len) - l - 1);
		snprintf(num, sizeof(num), "%.*s", (int)(nl < 23 ? nl : 23),
			 l + 1);
		job = strtoll(num, NULL, 10);
		if (job <= 0 || job > 0x7fffffff)
			job = 4;
	}
	const char *qe = l + len;
	for (const char *a = q ? q + 1 : qe; a < qe && k->req.nargs < HTTP_ARGS_MAX;) {
		const char *amp = memchr(a, '&', (size_t)(qe - a));
		const char *e = amp ? amp : qe;
		const char *eq = memchr(a, '=', (size_t)(e - a));
		struct http_arg *arg = &k->req.args[k->req.nargs++];
		arg->name = sc_xstrndup(a, (size_t)((eq ? eq : e) - a));
		arg->value = eq ? sc_xstrndup(eq + 1, (size_t)(e - eq - 1))
				: sc_xstrdup("");
		a = amp ? amp + 1 : qe;
	}
	if (lei)
		k->req.last_event_id = sc_xstrndup(lei, lei_len);
	k->req.path = sc_xstrdup(fs.mode == 'p' ? "/api/events/poll"
						: "/api/events");
	fuzz_sse_filters(&k->req);
	fs.future = fs.mode != 'd' && fuzz_sse_future(&k->req, c);
	if (fs.mode == 'd')
		fs.job = job; /* ?link= and ?types= still apply */
	if (fs.mode == 'p')
		k->sub = feed_poll_open(k->feed, &k->req, &k->resp,
					fuzz_sse_poll_ready, &k->resp);
	else
		k->sub = feed_sse_open(k->feed, FUZZ_WSI, &k->req, &k->resp,
				       job);
	if (!k->sub) {
		FUZZ_ASSERT(k->resp.status == 400 || k->resp.status == 503);
		cJSON *j = fuzz_json(k->resp.body.data, k->resp.body.len);
		fuzz_check_error(j);
		cJSON_Delete(j);
		fs.closed = 1;
		return;
	}
	FUZZ_ASSERT(k->resp.status == 0 || fs.mode == 'p');
	fs.open = 1;
}

static void fuzz_sse_op(struct fuzz_sub *k, struct app *a, const char *l,
			size_t len)
{
	switch (len ? l[0] : 0) {
	case 'E':
		fuzz_sse_emit(a, l + 1, len - 1);
		break;
	case 'S':
		loop_settle(fz.loop, 10000);
		break;
	case 'Y':
		fuzz_workers_idle();
		break;
	case 'W':
		fuzz_sse_write(k);
		break;
	case 'T':
		if (k->sub && fs.mode != 'p' && !fs.ended)
			feed_sse_timer(k->sub);
		break;
	case 'C':
		fuzz_sse_close(k);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	fuzz_env_init();
	memset(&fs, 0, sizeof(fs));
	sc_buf_init(&fs.body, 64u << 20);
	memset(&fw, 0, sizeof(fw));
	sc_buf_init(&fw.head, 65536);
	fw.on_write = fuzz_sse_on_write;

	struct app *a = fuzz_app_get(1);
	fuzz_app_dirty();
	struct fuzz_sub k = {.feed = feed_create(fz.loop, a, NULL)};
	http_req_init(&k.req);
	http_resp_init(&k.resp);

	const char *p = (const char *)data, *end = p + size;
	const char *first = p, *nl = memchr(p, '\n', size);
	size_t first_len = (size_t)((nl ? nl : end) - p);
	p = nl ? nl + 1 : end;
	const char *lei = NULL;
	size_t lei_len = 0;
	if (p < end && *p == 'L') {
		nl = memchr(p, '\n', (size_t)(end - p));
		lei = p + 1 + (p + 1 < end && p[1] == ' ');
		lei_len = (size_t)((nl ? nl : end) - lei);
		p = nl ? nl + 1 : end;
	}
	/* the open and the "e" lines before the loop runs: their events are
	 * committed, and posted to the loop, while the replay is pending */
	struct catalog *c = app_read_begin(a);
	fuzz_sse_open(&k, c, first, first_len, lei, lei_len);
	app_read_end(a, c);
	int early = 0;
	while (p < end && *p == 'e') {
		nl = memchr(p, '\n', (size_t)(end - p));
		fuzz_sse_emit(a, p + 1, (size_t)((nl ? nl : end) - p - 1));
		p = nl ? nl + 1 : end;
		early = 1;
	}
	if (early) /* the loop hands them to the feed: they go to pending */
		loop_settle(fz.loop, 0);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		fuzz_sse_op(&k, a, p, (size_t)((nl ? nl : end) - p));
		p = nl ? nl + 1 : end;
	}
	loop_settle(fz.loop, 10000);
	fuzz_sse_write(&k);

	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "head:\n%s\nbody:\n%.*s\npoll (%d): %.*s\n",
			fw.head.data ? fw.head.data : "", (int)fs.body.len,
			fs.body.data ? fs.body.data : "", k.resp.status,
			(int)k.resp.body.len, k.resp.body.data ? k.resp.body.data : "");
	/* none lost: still subscribed, not dropped, not ended by [DONE] */
	int intact = fs.open && !fs.closed && !fs.ended && !fs.future &&
		     (fs.mode != 'p' || fs.ready);
	if (fs.mode != 'p') {
		FUZZ_ASSERT(fw.head_done <= 1);
		FUZZ_ASSERT(fw.head_done || !fs.open || fs.closed);
		if (fw.head_done)
			FUZZ_ASSERT(fuzz_check_head() == 200 &&
				    strstr(fw.head.data,
					   "content-type: text/event-stream\r\n") &&
				    !strstr(fw.head.data, "content-length"));
		fuzz_sse_parse();
	}
	for (int i = 0; intact && fs.mode != 'p' && i < fs.nemitted; i++)
		if (fs.emitted[i]) {
			fprintf(stderr, "event %lld lost\n",
				(long long)fs.emitted[i]);
			abort();
		}

	fuzz_sse_close(&k);
	loop_settle(fz.loop, 10000); /* an orphaned replay ends */
	feed_destroy(&k.feed);
	fuzz_app_close(&fz_app); /* its sinks point to the feed */
	http_req_free(&k.req);
	http_resp_free(&k.resp);
	sc_buf_free(&fs.body);
	sc_buf_free(&fw.head);
	return 0;
}
