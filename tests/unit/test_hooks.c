/*
 * test_hooks.c — webhooks without the network: the signature (a known
 * HMAC-SHA256 vector), secrets, the receiver URL and address policy, the
 * retry schedule, and the delivery log in a real catalog file (ingest and
 * its cursor, claim, record, release, start-up recovery, paging, prune,
 * delete cascades, the catalog's transactions and damage).
 */
#include "hooks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "catalog.h"
#include "hooks_sign.h"
#include "hooks_store.h"
#include "testhelp.h"
#include "url.h"

static char tmpdir[512];

static struct catalog *open_fresh(const char *name)
{
	char path[640], err[256];
	struct catalog *c = NULL;
	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
	if (catalog_open(path, &c, err, sizeof(err)))
		fprintf(stderr, "open %s: %s\n", path, err);
	return c;
}

TEST(sign_vector)
{
	char sig[HOOKS_SIGN_HEX];
	const char *body = "{\"a\":1}";
	/* python3: hmac.new(b"s3cret-key", b'1700000000.{"a":1}', sha256) */
	REQUIRE(hooks_sign("s3cret-key", 1700000000, body, strlen(body), sig) ==
		SC_OK);
	CHECK_STR(sig, "8f205229f41e37cd3099c55f73d92a9a4d4c67bd7ae337b802d1723bd83a2a50");
	REQUIRE(hooks_sign("s3cret-key", 1700000001, body, strlen(body), sig) ==
		SC_OK);
	CHECK(strcmp(sig, "8f205229f41e37cd3099c55f73d92a9a4d4c67bd7ae337b802d1723bd83a2a50"));
}

TEST(secrets)
{
	char a[HOOKS_SECRET_BUF], b[HOOKS_SECRET_BUF];
	REQUIRE(hooks_sign_secret(a) == SC_OK && hooks_sign_secret(b) == SC_OK);
	CHECK_EQ_INT(strlen(a), 64);
	CHECK(strcmp(a, b));
	CHECK(hooks_sign_secret_ok(a));
	CHECK(!hooks_sign_secret_ok("short"));
	CHECK(!hooks_sign_secret_ok("has a space in it"));
	CHECK(!hooks_sign_secret_ok(NULL));
}

TEST(url_policy)
{
	char out[URL_BUF_SIZE], err[512];
	CHECK(hooks_sign_url("http://127.0.0.1:9/x", 0, out, sizeof(out), err,
			     sizeof(err)) == SC_OK);
	CHECK_STR(out, "http://127.0.0.1:9/x");
	CHECK(hooks_sign_url("https://example.org/h", 0, out, sizeof(out), err,
			     sizeof(err)) == SC_OK);
	CHECK(hooks_sign_url("http://[::1]/", 0, out, sizeof(out), err,
			     sizeof(err)) == SC_OK);
	CHECK(hooks_sign_url("ftp://example.org/", 0, out, sizeof(out), err,
			     sizeof(err)) == SC_ERR_INVALID);
	CHECK(strstr(err, "http://") != NULL);
	CHECK(hooks_sign_url("example.org", 0, out, sizeof(out), err,
			     sizeof(err)) == SC_ERR_INVALID);
	CHECK(hooks_sign_url("http://169.254.169.254/", 0, out, sizeof(out),
			     err, sizeof(err)) == SC_ERR_INVALID);
	CHECK(strstr(err, "--allow-private") != NULL);
	CHECK(hooks_sign_url("http://169.254.169.254/", 1, out, sizeof(out),
			     err, sizeof(err)) == SC_OK);
	CHECK(hooks_sign_url("http://10.1.2.3/", 0, out, sizeof(out), err,
			     sizeof(err)) == SC_ERR_INVALID);
}

TEST(addr_policy)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
	CHECK(hooks_sign_addr_refused((struct sockaddr *)&a4, 0) == NULL);
	inet_pton(AF_INET, "192.168.1.5", &a4.sin_addr);
	CHECK(hooks_sign_addr_refused((struct sockaddr *)&a4, 0) != NULL);
	CHECK(hooks_sign_addr_refused((struct sockaddr *)&a4, 1) == NULL);
	inet_pton(AF_INET, "93.184.215.14", &a4.sin_addr);
	CHECK(hooks_sign_addr_refused((struct sockaddr *)&a4, 0) == NULL);
	inet_pton(AF_INET6, "::1", &a6.sin6_addr);
	CHECK(hooks_sign_addr_refused((struct sockaddr *)&a6, 0) == NULL);
	inet_pton(AF_INET6, "fd00:ec2::254", &a6.sin6_addr);
	CHECK(hooks_sign_addr_refused((struct sockaddr *)&a6, 0) != NULL);
}

TEST(retry_schedule)
{
	CHECK_EQ_INT(hooks_retry_delay(5000, 1), 5000);
	CHECK_EQ_INT(hooks_retry_delay(5000, 2), 30000);
	CHECK_EQ_INT(hooks_retry_delay(5000, 3), 120000);
	CHECK_EQ_INT(hooks_retry_delay(5000, 4), 600000);
	CHECK_EQ_INT(hooks_retry_delay(5000, 5), 3600000);
	CHECK_EQ_INT(hooks_retry_delay(5000, 9), 3600000);
	CHECK_EQ_INT(hooks_retry_delay(200, 1), 200);
	CHECK_EQ_INT(hooks_retry_delay(200, 2), 1200);
	CHECK_EQ_INT(hooks_retry_delay(0, 1), HOOKS_BACKOFF_MS);
}

/* Claim what is due far in the future: everything pending. */
static struct hooks_claim_list *claim_all(struct catalog *c, int max)
{
	struct hooks_claim_list *l = NULL;
	if (hooks_store_claim(c, sc_wall_ms() + 86400000, max, &l))
		return NULL;
	return l;
}

TEST(store_ingest_claim_record)
{
	struct catalog *c = open_fresh("store");
	REQUIRE(c);
	int64_t ev0 = 0, a = 0, b = 0, made = 0, cur = 0;
	REQUIRE(catalog_event_append(c, "job.done", 0, 1, 1, NULL, &ev0) == SC_OK);
	REQUIRE(hooks_store_init(c, NULL) == SC_OK);
	REQUIRE(hooks_store_cursor(c, &cur) == SC_OK);
	CHECK_EQ_INT(cur, ev0); /* first run: no history replayed */
	REQUIRE(hooks_store_add(c, "http://127.0.0.1:1/a", "secret-aaaa",
				HOOKS_EV_JOB_DONE, &a) == SC_OK);
	REQUIRE(hooks_store_add(c, "http://127.0.0.1:1/b", "secret-bbbb",
				HOOKS_EV_ALL, &b) == SC_OK);
	struct hooks_event ev[] = {
		{.id = ev0, .type = "job.done", .payload = "{\"old\":1}"},
		{.id = ev0 + 1, .type = "job.done", .payload = "{\"n\":1}"},
		{.id = ev0 + 2, .type = "job.failed", .payload = "{\"n\":2}"},
	};
	REQUIRE(hooks_store_ingest(c, ev, 3, &made) == SC_OK);
	CHECK_EQ_INT(made, 3); /* a: 1, b: 2; the event at the cursor skipped */
	REQUIRE(hooks_store_ingest(c, ev, 3, &made) == SC_OK);
	CHECK_EQ_INT(made, 0); /* the same events again: nothing */
	struct hooks_claim_list *l = claim_all(c, 2);
	REQUIRE(l && l->n == 2);
	CHECK_EQ_INT(l->items[0].attempt, 1);
	CHECK_STR(l->items[0].payload, "{\"n\":1}");
	CHECK(l->items[0].secret && l->items[0].url);
	struct hooks_outcome fail = {.state = "pending", .status = 500,
				     .error = "HTTP 500", .next_at = 1,
				     .at = sc_wall_ms()};
	CHECK(hooks_store_record(c, l->items[0].id, &fail) == SC_OK);
	CHECK(hooks_store_release(c, l->items[1].id) == SC_OK);
	int64_t first = l->items[0].id;
	hooks_claim_list_free(&l);
	l = claim_all(c, 10);
	REQUIRE(l && l->n == 3);
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].id == first)
			CHECK_EQ_INT(l->items[i].attempt, 2);
		else
			CHECK_EQ_INT(l->items[i].attempt, 1); /* release: not counted */
	struct hooks_outcome ok = {.state = "ok", .status = 200,
				   .duration_ms = 3, .at = sc_wall_ms()};
	CHECK(hooks_store_record(c, first, &ok) == SC_OK);
	CHECK(hooks_store_record(c, first, &ok) == SC_ERR_NOT_FOUND);
	hooks_claim_list_free(&l);
	/* two left "sending": a restart puts them back to pending */
	int64_t rec = 0;
	REQUIRE(hooks_store_init(c, &rec) == SC_OK);
	CHECK_EQ_INT(rec, 2);
	struct hooks_delivery_list *d = NULL;
	REQUIRE(hooks_store_deliveries(c, a, 0, 10, &d) == SC_OK);
	REQUIRE(d->n == 1);
	CHECK_STR(d->items[0].state, "ok");
	CHECK_EQ_INT(d->items[0].attempts, 2);
	CHECK(strstr(d->items[0].history, "\"status\":500") != NULL);
	CHECK(strstr(d->items[0].history, "\"status\":200") != NULL);
	hooks_delivery_list_free(&d);
	/* paging of b's two deliveries */
	REQUIRE(hooks_store_deliveries(c, b, 0, 1, &d) == SC_OK);
	REQUIRE(d->n == 1 && d->next_cursor);
	int64_t next = d->next_cursor;
	hooks_delivery_list_free(&d);
	REQUIRE(hooks_store_deliveries(c, b, next, 1, &d) == SC_OK);
	CHECK(d->n == 1 && !d->next_cursor);
	hooks_delivery_list_free(&d);
	/* delete cascades to the log */
	CHECK(hooks_store_delete(c, b) == SC_OK);
	CHECK(hooks_store_deliveries(c, b, 0, 1, &d) == SC_ERR_NOT_FOUND);
	CHECK(hooks_store_delete(c, b) == SC_ERR_NOT_FOUND);
	int64_t again = 0, pid = 0; /* ids are never reused */
	REQUIRE(hooks_store_add(c, "http://127.0.0.1:1/c", "secret-cccc",
				HOOKS_EV_ALL, &again) == SC_OK);
	CHECK(again > b);
	REQUIRE(hooks_store_ping(c, again, "{}", &pid) == SC_OK);
	CHECK(pid > next);
	catalog_close(&c);
}

TEST(store_pause_update_prune)
{
	struct catalog *c = open_fresh("pause");
	REQUIRE(c);
	int64_t a = 0, pid = 0, due = 0;
	REQUIRE(hooks_store_init(c, NULL) == SC_OK);
	REQUIRE(hooks_store_add(c, "http://127.0.0.1:1/a", "secret-aaaa",
				HOOKS_EV_JOB_DONE, &a) == SC_OK);
	REQUIRE(hooks_store_ping(c, a, "{}", &pid) == SC_OK);
	CHECK(hooks_store_ping(c, a + 1, "{}", &pid) == SC_ERR_NOT_FOUND);
	REQUIRE(hooks_store_next_due(c, &due) == SC_OK);
	CHECK(due > 0);
	REQUIRE(hooks_store_pause(c, a) == SC_OK);
	REQUIRE(hooks_store_next_due(c, &due) == SC_OK);
	CHECK_EQ_INT(due, 0); /* a paused webhook's deliveries wait */
	struct hooks_claim_list *l = claim_all(c, 4);
	REQUIRE(l);
	CHECK_EQ_INT(l->n, 0);
	hooks_claim_list_free(&l);
	struct hooks_change ch = {.active = 1, .events = HOOKS_EV_JOB_FAILED};
	REQUIRE(hooks_store_update(c, a, &ch) == SC_OK);
	struct hooks_webhook *w = NULL;
	REQUIRE(hooks_store_get(c, a, &w) == SC_OK);
	CHECK_EQ_INT(w->events, HOOKS_EV_JOB_FAILED);
	CHECK_EQ_INT(w->active, 1);
	CHECK_EQ_INT(w->pending, 1);
	CHECK_STR(w->secret, "secret-aaaa");
	hooks_webhook_free(&w);
	l = claim_all(c, 4);
	REQUIRE(l && l->n == 1);
	struct hooks_outcome ok = {.state = "ok", .status = 204, .at = 1};
	CHECK(hooks_store_record(c, l->items[0].id, &ok) == SC_OK);
	hooks_claim_list_free(&l);
	REQUIRE(hooks_store_prune(c, 0) == SC_OK);
	struct hooks_delivery_list *d = NULL;
	REQUIRE(hooks_store_deliveries(c, a, 0, 10, &d) == SC_OK);
	CHECK_EQ_INT(d->n, 0);
	hooks_delivery_list_free(&d);
	catalog_close(&c);
}

/* The store is on the catalog's db layer: its writes nest in a caller's
 * transaction (and go with its rollback) and stop on a damaged file. */
TEST(store_catalog_transactions)
{
	struct catalog *c = open_fresh("store_tx");
	REQUIRE(c);
	int64_t a = 0, b = 0;
	struct hooks_webhook_list *l = NULL;
	REQUIRE(hooks_store_init(c, NULL) == SC_OK);
	REQUIRE(catalog_tx_begin(c) == SC_OK);
	CHECK(hooks_store_add(c, "http://127.0.0.1:1/a", "secret-aaaa",
			      HOOKS_EV_ALL, &a) == SC_OK);
	catalog_tx_rollback(c);
	REQUIRE(hooks_store_list(c, &l) == SC_OK);
	CHECK_EQ_INT(l->n, 0);
	hooks_webhook_list_free(&l);
	REQUIRE(hooks_store_add(c, "http://127.0.0.1:1/b", "secret-bbbb",
				HOOKS_EV_ALL, &b) == SC_OK);
	catalog_set_damaged(c, "test");
	CHECK(hooks_store_add(c, "http://127.0.0.1:1/c", "secret-cccc",
			      HOOKS_EV_ALL, &a) == SC_ERR_DB);
	CHECK(strstr(catalog_errmsg(c), "damaged") != NULL);
	CHECK(hooks_store_delete(c, b) == SC_ERR_DB);
	REQUIRE(hooks_store_list(c, &l) == SC_OK); /* reads go on */
	CHECK_EQ_INT(l->n, 1);
	hooks_webhook_list_free(&l);
	catalog_close(&c);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/snapcat-test-hooks-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	RUN(sign_vector);
	RUN(secrets);
	RUN(url_policy);
	RUN(addr_policy);
	RUN(retry_schedule);
	RUN(store_ingest_claim_record);
	RUN(store_pause_update_prune);
	RUN(store_catalog_transactions);
	int rc = test_report();
	if (sc_remove_tree(tmpdir))
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rc;
}
