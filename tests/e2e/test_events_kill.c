/*
 * test_events_kill.c — the event bus across a kill -9 of `snapcat serve`
 * (issue 15): no browser runs (--browser names a closed port: jobs wait).
 *
 *   links created -> an SSE subscriber reads GET /api/events while two
 *   writer processes PATCH links as fast as they are answered (events
 *   committed in batches) -> kill -9 once it saw EVENTS events; it reads
 *   what had reached its socket -> restart -> it resumes with
 *   Last-Event-ID (the newest it saw) while a few more PATCHes run
 *   -> checks:
 *     every event it saw is in the events table, same id and type;
 *     the resumed stream is every id after the one it saw, once, in order,
 *       up to the newest stored (no gap, no duplicate);
 *     the table's ids are gapless (1 .. newest).
 */
#include <sqlite3.h>

#include "fixture.h"
#include "raw_http.h"
#include "srv_harness.h"
#include "testhelp.h"

#define LINKS 20
#define EVENTS 400    /* seen before the kill */
#define MAX_IDS 100000

static struct fixture F;
static char Data[256];
static const char *const Args[] = {"--browser", "http://127.0.0.1:9", NULL};

struct seen {
	int64_t id[MAX_IDS];
	char type[MAX_IDS][24];
	int n;
};
static struct seen Before, After;

/* REQUIRE for the helpers that return a value: the test cannot go on. */
#define MUST(expr)                                                          \
	do {                                                                \
		if (!(expr)) {                                              \
			fprintf(stderr, "%s:%d: MUST(%s) failed\n", __FILE__, \
				__LINE__, #expr);                           \
			abort();                                            \
		}                                                           \
	} while (0)

/* The SSE records of b from *off on: "id: N\nevent: T\n..." pairs into s
 * (a record still incomplete is left for the next call). */
static void sse_parse(const struct sc_buf *b, size_t *off, struct seen *s)
{
	for (;;) {
		const char *p = b->data + *off, *end = b->data + b->len;
		const char *eor = memmem(p, (size_t)(end - p), "\n\n", 2);
		if (!eor)
			return;
		long long id = 0;
		char type[24] = "";
		if (!strncmp(p, "id: ", 4) &&
		    sscanf(p, "id: %lld\nevent: %23[^\n]", &id, type) == 2 &&
		    s->n < MAX_IDS) {
			s->id[s->n] = id;
			snprintf(s->type[s->n], sizeof(s->type[0]), "%s", type);
			s->n++;
		}
		*off = (size_t)(eor + 2 - b->data);
	}
}

/* A subscriber on GET /api/events (Last-Event-ID: after, if > 0). */
static int sse_open(struct srv *s, int64_t after, struct sc_buf *b)
{
	int fd = raw_connect(s->port);
	char req[256];
	MUST(fd >= 0);
	if (after > 0)
		snprintf(req, sizeof(req), "GET /api/events HTTP/1.1\r\nHost: "
			 "127.0.0.1\r\nLast-Event-ID: %lld\r\n\r\n",
			 (long long)after);
	else
		snprintf(req, sizeof(req), "GET /api/events HTTP/1.1\r\nHost: "
			 "127.0.0.1\r\n\r\n");
	MUST(!raw_send(fd, req, 0));
	MUST(raw_read_until(fd, b, "\r\n\r\n", 30000) == 1);
	MUST(!strncmp(b->data, "HTTP/1.1 200", 12));
	return fd;
}

/* Read records into s until it holds want (1), EOF (0) or ms passed. */
static int sse_read(int fd, struct sc_buf *b, size_t *off, struct seen *s,
		    int want, int64_t ms)
{
	int64_t until = sc_now_ms() + ms;
	for (;;) {
		sse_parse(b, off, s);
		if (want > 0 && s->n >= want)
			return 1;
		int rc = raw_read_some(fd, b, until - sc_now_ms());
		if (rc <= 0)
			return rc;
	}
}

/* A writer process: PATCHes links until the server stops answering. */
static pid_t writer_start(struct srv *s, int k)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	for (int i = 0;; i++) {
		char path[64], body[64];
		struct srv_resp r;
		snprintf(path, sizeof(path), "/api/links/%d", 1 + (i + k) % LINKS);
		snprintf(body, sizeof(body), "{\"title\":\"w%d-%d\"}", k, i);
		long st = srv_req(s, "PATCH", path, body, NULL, &r);
		srv_resp_free(&r);
		if (st != 200)
			_exit(0);
	}
}

/* The events table: type of id (NULL: no such row); newest; count. */
static sqlite3 *db_open(void)
{
	char path[512];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/catalog.db", Data);
	MUST(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static int64_t db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	MUST(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Every event seen is a row of the table with its id and type. */
static int db_has_all(sqlite3 *db, const struct seen *s)
{
	sqlite3_stmt *st = NULL;
	int missing = 0;
	MUST(sqlite3_prepare_v2(db, "SELECT type FROM events WHERE id = ?1",
				   -1, &st, NULL) == SQLITE_OK);
	for (int i = 0; i < s->n; i++) {
		sqlite3_bind_int64(st, 1, s->id[i]);
		const char *t = sqlite3_step(st) == SQLITE_ROW
				? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (!t || strcmp(t, s->type[i])) {
			if (missing++ < 5)
				fprintf(stderr, "seen event %lld (%s) is %s after "
					"the restart\n", (long long)s->id[i],
					s->type[i], t ? t : "not in the table");
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return missing;
}

/* s's ids are first, first + 1, ... (each once, in order). */
static int consecutive(const struct seen *s, int64_t first)
{
	for (int i = 0; i < s->n; i++)
		if (s->id[i] != first + i) {
			fprintf(stderr, "event %d of the stream is %lld, not "
				"%lld\n", i, (long long)s->id[i],
				(long long)(first + i));
			return 0;
		}
	return 1;
}

TEST(resume_after_kill9_sees_every_event_once)
{
	struct srv s;
	struct sc_buf b;
	size_t off = 0;
	REQUIRE(!srv_start(&s, Data, Args));
	for (int i = 0; i < LINKS; i++) {
		char body[128];
		struct srv_resp r;
		snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:9/%d\"}",
			 i);
		CHECK_EQ_INT(srv_req(&s, "POST", "/api/links", body, NULL, &r),
			     201);
		srv_resp_free(&r);
	}
	sc_buf_init(&b, 0);
	int fd = sse_open(&s, 0, &b);
	pid_t w[2] = {writer_start(&s, 0), writer_start(&s, 7)};
	CHECK(sse_read(fd, &b, &off, &Before, EVENTS, 120000) == 1);
	CHECK_EQ_INT(srv_stop(&s, SIGKILL), 128 + SIGKILL);
	(void)sse_read(fd, &b, &off, &Before, 0, 10000); /* up to EOF */
	close(fd);
	for (int i = 0; i < 2; i++)
		waitpid(w[i], NULL, 0);
	REQUIRE(Before.n > 0);
	CHECK(consecutive(&Before, Before.id[0]));
	int64_t last = Before.id[Before.n - 1];
	fprintf(stderr, "saw %d events (%lld..%lld) before the kill\n",
		Before.n, (long long)Before.id[0], (long long)last);

	REQUIRE(!srv_start(&s, Data, Args));
	sqlite3 *db = db_open();
	CHECK_EQ_INT(db_has_all(db, &Before), 0);
	sc_buf_free(&b);
	sc_buf_init(&b, 0);
	off = 0;
	fd = sse_open(&s, last, &b);
	for (int i = 0; i < 5; i++) { /* new events after the restart */
		struct srv_resp r;
		CHECK_EQ_INT(srv_req(&s, "PATCH", "/api/links/1",
				     "{\"title\":\"after\"}", NULL, &r), 200);
		srv_resp_free(&r);
	}
	int64_t newest = db_int(db, "SELECT max(id) FROM events");
	CHECK(newest >= last + 5);
	CHECK(sse_read(fd, &b, &off, &After, (int)(newest - last), 60000) == 1);
	close(fd);
	CHECK(consecutive(&After, last + 1));
	CHECK(After.n > 0 && After.id[After.n - 1] == newest);
	fprintf(stderr, "resumed: %d events (%lld..%lld)\n", After.n,
		(long long)last + 1, (long long)newest);
	/* gapless: 1 .. newest, each once */
	CHECK_EQ_INT(db_int(db, "SELECT min(id) FROM events"), 1);
	CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM events"), newest);
	sqlite3_close(db);
	sc_buf_free(&b);
	CHECK_EQ_INT(srv_stop(&s, SIGTERM), 0);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-evkill-XXXXXX";
	if (srv_test_begin(tmpl, Data, sizeof(Data), &F))
		return 1;
	RUN(resume_after_kill9_sees_every_event_once);
	return srv_test_end(tmpl, &F, test_report());
}
