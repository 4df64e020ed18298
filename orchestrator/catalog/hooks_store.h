/*
 * hooks_store.h — webhooks and their delivery log, persisted in the
 * catalog's SQLite file (tables webhooks, webhook_deliveries, webhook_meta)
 * so that pending retries survive a restart.
 *
 *   start-up:  hooks_store_init (the ingest cursor; deliveries left
 *              "sending" by a stop or crash go back to "pending")
 *   events:    hooks.c (sender thread) -> hooks_store_ingest: one pending
 *              delivery per active webhook subscribed to the type, and the
 *              ingest cursor, in one transaction
 *   sending:   hooks_store_claim (due ones -> "sending", attempts + 1) ->
 *              HTTP -> hooks_store_record (ok | pending again with a
 *              back-off | failed) ... hooks_store_release at shutdown
 *   REST:      hooks_store_add/get/list/update/delete, hooks_store_ping,
 *              hooks_store_deliveries
 *
 * DESIGN
 * The tables are the catalog's (migration 6, catalog_schema.c) and the
 * module runs on the catalog's db layer (catalog_int.h): every call takes
 * the struct catalog and is used like any catalog_* call (the writer
 * inside a unit for writes, a reader for the lists: service/app.h); statements are prepared once per connection, every write is a
 * transaction (BEGIN IMMEDIATE ... COMMIT, or a savepoint inside a
 * caller's), refused on a damaged file, and faults reach the catalog's
 * fault hook. Deleting a webhook deletes its deliveries (ON DELETE
 * CASCADE).
 *
 * Delivery states: pending (waits for next_at), sending (claimed; only
 * between claim and record), ok (a 2xx), failed (attempts used up, 410
 * Gone, or the webhook was refused). The log is bounded: finished
 * deliveries beyond the newest HOOKS_LOG_KEEP are pruned.
 *
 * Strings passed in are borrowed; structs returned are owned by the
 * caller (free with the matching *_free). Errors: SC_ERR_DB (logged),
 * SC_ERR_BUSY, SC_ERR_NOT_FOUND as documented per call.
 */
#ifndef HOOKS_STORE_H
#define HOOKS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct catalog;

#define HOOKS_LOG_KEEP 10000  /* finished deliveries kept */
#define HOOKS_MAX 100         /* webhooks at most */

/* The event types a webhook can subscribe to, as bits. */
enum hooks_event_bit {
	HOOKS_EV_JOB_DONE = 1,
	HOOKS_EV_JOB_FAILED = 2,
	HOOKS_EV_SNAPSHOT_CHANGED = 4,
	HOOKS_EV_ALL = 7,
};
/* The bit of an event type, 0 if it is not one of them. */
unsigned hooks_store_event_bit(const char *type);
/* The name of bit i (0..2), NULL past the last. Static. */
const char *hooks_store_event_name(int i);

struct hooks_webhook {
	int64_t id;
	char *url;
	char *secret;         /* never in an API answer */
	unsigned events;      /* HOOKS_EV_* */
	int active;
	int64_t created_at, updated_at;
	int64_t pending;      /* deliveries pending or sending */
	char *last_state;     /* of the newest delivery; NULL if none */
	int64_t last_at;      /* its updated_at */
};
struct hooks_webhook_list {
	struct hooks_webhook *items; /* by id */
	size_t n;
};
/* NULL-safe; *w = NULL. */
void hooks_webhook_free(struct hooks_webhook **w);
void hooks_webhook_list_free(struct hooks_webhook_list **l);

/* Set the ingest cursor if there is none yet (the sender's first run: it
 * starts at the newest event, no history is replayed) and put deliveries
 * left "sending" back to "pending" (*recovered of them; may be NULL). */
sc_result hooks_store_init(struct catalog *c, int64_t *recovered)
	SC_MUST_CHECK;

/* Set the ingest cursor if there is none yet, nothing else (cheap once
 * it is set): for the REST API on a server whose sender never ran
 * hooks_store_init (tests, fuzzing). */
sc_result hooks_store_ready(struct catalog *c) SC_MUST_CHECK;

/* A new active webhook (url checked by the caller). Sets *id.
 * SC_ERR_BUSY if there are HOOKS_MAX already. */
sc_result hooks_store_add(struct catalog *c, const char *url,
			  const char *secret, unsigned events, int64_t *id)
	SC_MUST_CHECK;
/* SC_ERR_NOT_FOUND if none (*out NULL). */
sc_result hooks_store_get(struct catalog *c, int64_t id,
			  struct hooks_webhook **out) SC_MUST_CHECK;
sc_result hooks_store_list(struct catalog *c,
			   struct hooks_webhook_list **out) SC_MUST_CHECK;

/* Change what is given: url/secret NULL, events 0 and active < 0 keep
 * the current value. SC_ERR_NOT_FOUND if none. */
struct hooks_change {
	const char *url, *secret;
	unsigned events;
	int active;
};
sc_result hooks_store_update(struct catalog *c, int64_t id,
			     const struct hooks_change *ch) SC_MUST_CHECK;
/* Delete a webhook and its deliveries. SC_ERR_NOT_FOUND if none. */
sc_result hooks_store_delete(struct catalog *c, int64_t id) SC_MUST_CHECK;

/* ---- deliveries ---- */

/* An event to deliver: its id in the events log, type, and the body. */
struct hooks_event {
	int64_t id;
	const char *type;
	const char *payload;
};

/* The newest event id already turned into deliveries. */
sc_result hooks_store_cursor(struct catalog *c, int64_t *id) SC_MUST_CHECK;

/*
 * One pending delivery, due now, per active webhook subscribed to each
 * event's type, for the events with an id above the cursor; the cursor
 * becomes the highest id. One transaction. *created (may be NULL): how
 * many deliveries.
 */
sc_result hooks_store_ingest(struct catalog *c, const struct hooks_event *ev,
			     size_t n, int64_t *created) SC_MUST_CHECK;

/* A "ping" delivery of webhook id, due now (POST .../test). Sets
 * *delivery. SC_ERR_NOT_FOUND if no such webhook. */
sc_result hooks_store_ping(struct catalog *c, int64_t id, const char *payload,
			   int64_t *delivery) SC_MUST_CHECK;

/* A claimed delivery: what the sender needs. */
struct hooks_claim {
	int64_t id, webhook_id;
	int attempt;          /* this attempt's number, from 1 */
	char *url, *secret, *type, *payload;
};
struct hooks_claim_list {
	struct hooks_claim *items;
	size_t n;
};
void hooks_claim_list_free(struct hooks_claim_list **l);

/* Claim up to max deliveries due at now (oldest due first) of active
 * webhooks: state sending, attempts + 1. *out may be empty. */
sc_result hooks_store_claim(struct catalog *c, int64_t now, int max,
			    struct hooks_claim_list **out) SC_MUST_CHECK;

/* When the next pending delivery of an active webhook is due (ms), 0 if
 * none. */
sc_result hooks_store_next_due(struct catalog *c, int64_t *at) SC_MUST_CHECK;

/* The outcome of one attempt. */
struct hooks_outcome {
	const char *state;    /* "ok", "pending" (retry at next_at), "failed" */
	int64_t next_at;      /* pending only */
	int status;           /* HTTP status, 0 if no answer */
	const char *error;    /* NULL if none */
	int64_t duration_ms;
	int64_t at;           /* when the attempt started */
};
/* Record it on a sending delivery (also appended to its history).
 * SC_ERR_NOT_FOUND if the delivery is gone (its webhook was deleted). */
sc_result hooks_store_record(struct catalog *c, int64_t id,
			     const struct hooks_outcome *o) SC_MUST_CHECK;

/* A sending delivery that was not finished (shutdown): pending again,
 * due now, the attempt not counted. */
sc_result hooks_store_release(struct catalog *c, int64_t id) SC_MUST_CHECK;

/* Pause a webhook (410 Gone): active = 0. */
sc_result hooks_store_pause(struct catalog *c, int64_t id) SC_MUST_CHECK;

/* Drop finished deliveries beyond the newest keep. */
sc_result hooks_store_prune(struct catalog *c, int64_t keep) SC_MUST_CHECK;

/* A delivery as the API shows it. */
struct hooks_delivery {
	int64_t id, webhook_id, event_id;
	char *type, *state, *payload, *last_error, *history;
	int attempts, last_status;
	int64_t duration_ms, next_at, created_at, updated_at;
};
struct hooks_delivery_list {
	struct hooks_delivery *items; /* newest first */
	size_t n;
	int64_t next_cursor;          /* 0 on the last page */
};
void hooks_delivery_list_free(struct hooks_delivery_list **l);
/* A page of webhook id's deliveries with ids below before (0: from the
 * newest), at most limit. SC_ERR_NOT_FOUND if no such webhook. */
sc_result hooks_store_deliveries(struct catalog *c, int64_t id,
				 int64_t before, int limit,
				 struct hooks_delivery_list **out) SC_MUST_CHECK;

#endif
