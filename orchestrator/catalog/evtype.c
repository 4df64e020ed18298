/*
 * evtype.c — the event types' names (see evtype.h).
 */
#include "evtype.h"

#include <string.h>

static const char *const evtype_names[EV__COUNT] = {
	[EV_JOB_QUEUED] = "job.queued",
	[EV_JOB_STARTED] = "job.started",
	[EV_JOB_PROGRESS] = "job.progress",
	[EV_JOB_DONE] = "job.done",
	[EV_JOB_FAILED] = "job.failed",
	[EV_LINK_UPDATED] = "link.updated",
	[EV_LINK_DELETED] = "link.deleted",
	[EV_SNAPSHOT_CHANGED] = "snapshot.changed",
	[EV_IMPORT_PROGRESS] = "import.progress",
	[EV_IMPORT_DONE] = "import.done",
	[EV_BACKUP_PROGRESS] = "backup.progress",
	[EV_BACKUP_DONE] = "backup.done",
	[EV_BACKUP_FAILED] = "backup.failed",
};

const char *evtype_name(enum evtype t)
{
	return (unsigned)t < EV__COUNT ? evtype_names[t] : "";
}

enum evtype evtype_parse(const char *s)
{
	for (int t = 0; s && t < EV__COUNT; t++)
		if (!strcmp(s, evtype_names[t]))
			return (enum evtype)t;
	return EV__COUNT;
}

int evtype_hookable(enum evtype t)
{
	return t == EV_JOB_DONE || t == EV_JOB_FAILED ||
	       t == EV_SNAPSHOT_CHANGED;
}
