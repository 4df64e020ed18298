/*
 * bus.h — the event bus with group commit: the catalog's one writer
 * connection, the units of work that run on it, and the events they emit,
 * stored together in batches and handed on once durable.
 *
 *   a unit (a worker, the sender thread; never the loop):
 *     bus_begin -> catalog_* writes (catalog group mode: savepoints in the
 *     open batch) -> bus_event (queued, no id yet) -> bus_end (wait for the
 *     commit) | bus_end_async (told on the loop) | bus_end_nowait
 *   an event without a unit (a backup's progress): bus_event(bound 0)
 *   the bus thread, when a batch is due (the writers are idle, it is
 *   gather_ms old while busy, window_ms old, or max_events wait):
 *     writer lock -> each queued event gets the next id and its row
 *     (catalog_event_put) -> catalog_group_commit (one fsync for the whole
 *     batch) -> unlock -> after-commit hooks -> deliver(batch): the app
 *     posts it to the loop (the sinks, in id order, then the async waiters)
 *     -> waiters of bus_end wake with the commit's result
 *
 * DESIGN
 * Atomicity: a unit's writes and its events are in the same transaction,
 * the batch's; nothing of a batch is visible to readers, to subscribers or
 * to the unit's caller before its COMMIT returned. So an event is in the
 * events table iff the state change that emitted it is, and a subscriber
 * never sees an event that a kill -9 could take back: what it saw is in
 * the table after a restart.
 *
 * Ids are given at commit, consecutively in queue order (= the order the
 * units ran on the writer), by the thread that commits, under the writer
 * lock. A batch lost to a crash gave no id to anybody, so the next start
 * goes on from the last stored id: ids stay gapless across a kill -9.
 *
 * Coalescing: a job.progress of a job whose newest queued event (in the
 * open batch) is a job.progress replaces it in place (the newest wins);
 * every other event, and a progress with another event of its job after
 * it, keeps its own place. The job's progress column holds the newest
 * value anyway.
 *
 * The disk-full rule (issue 12). An event whose row the catalog refuses
 * while its batch still commits (the events table alone refuses it: a
 * trigger, a constraint) keeps its id and goes to the subscribers live
 * only: the table has a gap there, replays skip it, later ids are above
 * it. If the whole batch's commit fails (a full disk), its writes are
 * gone: a bound event (emitted by a unit, bus_event bound 1) is dropped,
 * as its state change did not happen and the unit's caller is told the
 * commit failed (the scheduler writes a refused job end again later and
 * emits its event then); an event without state (bound 0: import, backup
 * progress) is still sent live with the next id, not stored. A restart
 * before the next stored event may give such a live-only id again (the
 * ids are the table's).
 *
 * Threads and locks. wlock is the writer connection: held by one unit
 * (bus_begin .. bus_end*) or by a commit; mu guards the queue, the unit
 * count, the waiters and the flags; deliver_mu keeps deliveries in commit
 * order when two threads commit one after the other (a bus_hold). Order:
 * wlock, then deliver_mu, then mu. The after-commit hooks and deliver run
 * without wlock and must never begin a unit. A unit must not begin another
 * (one thread, one unit). While the bus waits for the writer to commit,
 * new units wait for the commit (the committer is not starved).
 */
#ifndef BUS_H
#define BUS_H

#include <stddef.h>
#include <stdint.h>

#include "evtype.h"
#include "sc.h"

struct catalog;
struct bus;

/* One event, queued then delivered. Fields are private to bus.c until
 * delivery; then read-only for the sinks. */
struct bus_event {
	struct bus_event *next;
	int64_t id;        /* given at commit */
	int64_t ts;        /* wall ms, when it was emitted */
	int64_t job_id, link_id; /* 0: none */
	enum evtype t;
	int bound;         /* emitted by a unit: stored iff its writes are */
	int stored;        /* its row is in the events table; 0: live only */
	char *fields;      /* the type's fields, JSON object text; NULL none */
	char *json;        /* the whole event as sent (bus_event_json) */
};

/* What a commit hands on: its events (in id order) and the waiters told
 * on the loop (bus_end_async). Owned by the deliver callback: it calls
 * bus_batch_finish once the sinks have had the events. */
struct bus_batch {
	struct bus_event *events;
	size_t n;
	sc_result rc;      /* the commit's result */
	struct bus_done *dones; /* private */
};

/* Call each bus_end_async callback of the batch (rc), then free it and its
 * events. NULL-safe; *b = NULL. The thread the callbacks are meant for
 * (the app: the loop). */
void bus_batch_finish(struct bus_batch **b);

struct bus_opts {
	int window_ms;     /* a batch is committed at most this long after
			      its first write or event; 0 = 5 */
	int gather_ms;     /* while busy (the last commit ended less than
			      window_ms ago) an idle writer's batch still
			      waits this long for more; 0 = 2, < 0 = none */
	int max_events;    /* ... or as soon as this many events wait;
			      0 = 256 */
	int64_t events_keep; /* the events table keeps this many; 0 = 10000 */
	/* The batch after its commit (ownership passes). Called on the
	 * committing thread, in commit order, without the writer lock. */
	void (*deliver)(void *ud, struct bus_batch *b);
	void *ud;
};

/*
 * Put the writer w (catalog_open'd, no transaction open) in group mode and
 * start the bus thread. w stays the caller's (closed after bus_stop). Ids
 * go on from the newest stored. SC_ERR_DB (group mode refused),
 * SC_ERR_INTERNAL (no thread); *out NULL then.
 */
sc_result bus_create(struct catalog *w, const struct bus_opts *o,
		     struct bus **out) SC_MUST_CHECK;

/* Commit what is queued, stop the thread, leave group mode. The last
 * batch is delivered (deliver) before it returns. NULL-safe; *b = NULL. */
void bus_stop(struct bus **b);

/* ---- units (any thread but the loop) ---- */

/* Begin a unit: the writer, locked for this thread until its bus_end*. */
struct catalog *bus_begin(struct bus *b);

/*
 * Queue an event (fields: JSON object text or NULL, consumed). bound 1:
 * inside a unit (between bus_begin and bus_end*), stored iff the unit's
 * writes are; bound 0: from any thread, no unit needed.
 */
void bus_event(struct bus *b, int bound, enum evtype t, int64_t job_id,
	       int64_t link_id, int64_t ts, char *fields);

/* Inside a unit: fn(arg, committed) runs once the unit's batch was
 * committed (1) or not (0), before its events are delivered, on the
 * committing thread (keep it short: a few unlinks). */
void bus_after(struct bus *b, void (*fn)(void *arg, int committed),
	       void *arg);

/* End the unit and wait until its writes and events are committed: SC_OK
 * (also when it wrote nothing), or the commit's error (nothing of the unit
 * was stored; catalog_errmsg of the writer is not to be read then: the
 * error was logged). */
sc_result bus_end(struct bus *b) SC_MUST_CHECK;

/* End the unit without waiting (its writes commit with the batch). */
void bus_end_nowait(struct bus *b);

/* End the unit; 0: fn(arg, rc) will be called by bus_batch_finish (the
 * app: on the loop thread, after the sinks had the batch's events); 1:
 * nothing to commit, fn is not called. */
int bus_end_async(struct bus *b, void (*fn)(void *arg, sc_result rc),
		  void *arg) SC_MUST_CHECK;

/* The writer with no batch open (what was queued is committed first), for
 * work that must see the file as committed on the same connection (a
 * backup step); bus_release gives it back. Not inside a unit. */
void bus_hold(struct bus *b);
void bus_release(struct bus *b);

/* Commit what is queued now and wait for its delivery. Not in a unit. */
void bus_flush(struct bus *b);

/* The newest id given (0: none). Any thread. */
int64_t bus_last_id(struct bus *b);

struct bus_stats {
	int64_t batches, events, unstored, dropped, coalesced, failed;
	int64_t largest; /* events in the largest batch */
};
void bus_stats(struct bus *b, struct bus_stats *st);

/* The event JSON (DESIGN "Event JSON" of app.h): shared by live and
 * replayed events. Caller frees (cJSON_free). */
char *bus_event_json(int64_t id, const char *type, int64_t ts_ms,
		     int64_t job_id, int64_t link_id, const char *fields_json);

#endif
