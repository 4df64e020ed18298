/*
 * fuzz_ws.c — libFuzzer target for the WebSocket channel /api/ws: message
 * reassembly and the command parser (http/ws.c), the WebSocket side of the
 * feed (http/feed.c: subscribe / unsubscribe, replay, live events, the
 * queue) and the capture op (api_dispatch POST /api/links on a worker).
 *
 *   tests/fuzz/run-fuzzers 60 ws       (libFuzzer, clang, ASan+UBSan)
 *   ctest -R fuzz.ws                   (corpus replay, any compiler)
 *
 * No socket: fuzz_lws.h stands in for the few lws calls ws.c and feed.c
 * make (writable requests, final-fragment flag, lws_write), so the real
 * ws_conn_open / ws_conn_receive / ws_conn_writeable / ws_conn_close run
 * against a fake wsi, inside the service of fuzz_app.h (seeded catalog with
 * events, app not started). What lws itself does with frames (masking,
 * opcodes, control frames, UTF-8 validation) is not reached: that is lws's
 * code, below ws_conn_receive.
 *
 * Input: lines, each an operation on one connection:
 *   .TEXT   a message fragment, final     +TEXT   a fragment, not final
 *   *TEXT   TEXT repeated to 70,000 bytes, one fragment, not final
 *   S       settle: run the workers (replays, captures) and posted events
 *   Y       wait until the workers are idle, without running their done
 *           callbacks (a replay has read the catalog, not delivered yet)
 *   W       write: serve the writable requests (ws_conn_writeable)
 *   E type job link {fields}   an event through app_event (type one of
 *           job.queued/started/progress/done/failed, link.updated/deleted)
 *   C       close the connection (ws_conn_close) and open a new one
 *   other   the whole line is one final message
 * At the end: settle, write, close, settle.
 *
 * Properties checked on every input (abort() on violation):
 *   - every frame written is LWS_WRITE_TEXT and exactly one JSON object
 *     with a string "type";
 *   - "error" frames have error.code and error.message; "captured" frames a
 *     status and a result (an error object for a status >= 400);
 *   - events (frames with an id) come with strictly increasing ids after
 *     each "subscribed" (none twice), and none after "unsubscribed" until
 *     the next "subscribed";
 *   - no crash, no UB, nothing leaked, nothing left running at the end.
 * FUZZ_VERBOSE=1 in the environment prints every frame written.
 */
#define FUZZ_NAME "fuzz_ws"
#include "fuzz_app.h"

#include <stdint.h>

#include "feed.h"
#include "fuzz_lws.h"
#include "ws.h"

#define FUZZ_BIG 70000

/* Product bugs found here keep their input as corpus_ws/crash-*. The one
 * not fixed yet (a "job" of 1e300 or an "after" of 1e3000 cast to int64_t:
 * UB) is passed over by run-fuzzers' FUZZ_SKIP_KNOWN build
 * (-fno-sanitize=float-cast-overflow). */

struct fuzz_ws {
	int64_t last_id;  /* last event id since "subscribed" */
	int unsubscribed; /* "unsubscribed" seen, no "subscribed" since */
	int frames;
};
static struct fuzz_ws fws;

static void fuzz_ws_captured(const cJSON *j)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
	FUZZ_ASSERT(cJSON_IsNumber(st) && res);
	FUZZ_ASSERT(st->valuedouble >= 100 && st->valuedouble <= 599);
	if (st->valuedouble >= 400)
		fuzz_check_error(res);
}

static void fuzz_ws_on_write(const unsigned char *buf, size_t len,
			     enum lws_write_protocol wp)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "frame: %.*s\n", (int)len, (const char *)buf);
	FUZZ_ASSERT(wp == LWS_WRITE_TEXT);
	cJSON *j = fuzz_json((const char *)buf, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	FUZZ_ASSERT(cJSON_IsObject(j) && cJSON_IsString(type));
	const char *t = type->valuestring;
	fws.frames++;
	if (!strcmp(t, "subscribed")) {
		fws.last_id = -1;
		fws.unsubscribed = 0;
	} else if (!strcmp(t, "unsubscribed")) {
		fws.unsubscribed = 1;
	} else if (!strcmp(t, "error")) {
		fuzz_check_error(j);
	} else if (!strcmp(t, "captured")) {
		fuzz_ws_captured(j);
	} else if (strcmp(t, "reset")) { /* an event */
		FUZZ_ASSERT(cJSON_IsNumber(id));
		if (fws.unsubscribed || id->valuedouble <= (double)fws.last_id) {
			fprintf(stderr, "event %.0f after %s (last id %lld)\n",
				id->valuedouble,
				fws.unsubscribed ? "unsubscribed" : "subscribed",
				(long long)fws.last_id);
			abort();
		}
		fws.last_id = (int64_t)id->valuedouble;
	}
	cJSON_Delete(j);
}

struct fuzz_conn {
	struct loop *loop;
	struct feed *feed;
	struct api_ctx api;
	struct ws_conn *c;
};

static void fuzz_ws_open(struct fuzz_conn *k)
{
	k->c = ws_conn_open(k->loop, k->feed, &k->api, FUZZ_WSI);
	FUZZ_ASSERT(k->c);
	fws.last_id = -1;
	fws.unsubscribed = 0;
}

/* Serve writable requests like lws would; a -1 closes the connection. */
static void fuzz_ws_write(struct fuzz_conn *k)
{
	for (int i = 0; i < 100000 && fw.writable; i++) {
		fw.writable = 0;
		if (ws_conn_writeable(k->c) < 0) {
			ws_conn_close(&k->c);
			fw.writable = 0;
			fuzz_ws_open(k);
			return;
		}
	}
	FUZZ_ASSERT(!fw.writable);
}

static void fuzz_ws_event(struct app *a, const char *s, size_t len)
{
	const char *t;
	long long job, link;
	sc_result rc;
	if (!fuzz_event_put(a, s, len, &t, &job, &link, &rc))
		FUZZ_ASSERT(rc == SC_OK);
}

static void fuzz_ws_op(struct fuzz_conn *k, struct app *a, const char *l,
		       size_t len)
{
	switch (len ? l[0] : 0) {
	case '.':
	case '+':
		fw.final = l[0] == '.';
		ws_conn_receive(k->c, l + 1, len - 1);
		break;
	case '*': {
		char *big = sc_xmalloc(FUZZ_BIG);
		for (size_t i = 0; i < FUZZ_BIG; i++)
			big[i] = len > 1 ? l[1 + i % (len - 1)] : ' ';
		fw.final = 0;
		ws_conn_receive(k->c, big, FUZZ_BIG);
		free(big);
		break;
	}
	case 'S':
		loop_settle(k->loop, 10000);
		break;
	case 'Y':
		fuzz_workers_idle();
		break;
	case 'W':
		fuzz_ws_write(k);
		break;
	case 'E':
		fuzz_ws_event(a, l + 1, len - 1);
		break;
	case 'C':
		ws_conn_close(&k->c);
		fw.writable = 0;
		fuzz_ws_open(k);
		break;
	default:
		fw.final = 1;
		ws_conn_receive(k->c, l, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	fuzz_env_init();
	memset(&fws, 0, sizeof(fws));
	sc_buf_init(&fw.head, 65536);
	fw.on_write = fuzz_ws_on_write;
	fw.writable = 0;

	struct app *a = fuzz_app_get(1);
	fuzz_app_dirty(); /* events, captures: always */
	struct fuzz_conn k = {.loop = fz.loop, .api = {.app = a}};
	k.feed = feed_create(fz.loop, a, NULL);
	fuzz_ws_open(&k);

	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		fuzz_ws_op(&k, a, p, (size_t)(e - p));
		p = nl ? nl + 1 : end;
	}
	loop_settle(fz.loop, 10000);
	fuzz_ws_write(&k);
	ws_conn_close(&k.c);
	loop_settle(fz.loop, 10000); /* orphaned replays and captures end */
	app_flush(a); /* the last batch's events reach the feed now */
	loop_settle(fz.loop, 10000);
	fw.writable = 0;
	feed_destroy(&k.feed);
	fuzz_app_close(&fz_app); /* its sinks point to the feed */
	sc_buf_free(&fw.head);
	return 0;
}
