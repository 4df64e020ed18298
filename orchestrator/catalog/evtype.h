/*
 * evtype.h — the event types, in one place: the events table's `type`
 * column, the feeds' `types` filters, the event JSON's "type", the
 * webhooks' subscriptions.
 *
 *   app_event(a, c, EV_JOB_DONE, ...) -> row {type: "job.done"} -> feeds,
 *   webhooks (job.done, job.failed, snapshot.changed), metrics
 *
 * Adding one: a value here (before EV__COUNT), its name in evtype.c,
 * docs/ARCHITECTURE.md's list and the README's.
 */
#ifndef EVTYPE_H
#define EVTYPE_H

enum evtype {
	EV_JOB_QUEUED,
	EV_JOB_STARTED,
	EV_JOB_PROGRESS,
	EV_JOB_DONE,
	EV_JOB_FAILED,
	EV_LINK_UPDATED,
	EV_LINK_DELETED,
	EV_SNAPSHOT_CHANGED,
	EV_IMPORT_PROGRESS,
	EV_IMPORT_DONE,
	EV_BACKUP_PROGRESS,
	EV_BACKUP_DONE,
	EV_BACKUP_FAILED,
	EV__COUNT
};

/* "job.done", ...; "" out of range. Static. */
const char *evtype_name(enum evtype t);

/* The type named s, or EV__COUNT if none (s may be NULL). */
enum evtype evtype_parse(const char *s);

/* 1 for the types a webhook may subscribe to (job.done, job.failed,
 * snapshot.changed). */
int evtype_hookable(enum evtype t);

#endif
