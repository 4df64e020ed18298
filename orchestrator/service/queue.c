/*
 * queue.c — queuing captures (see queue.h).
 */
#include "queue.h"

#include <cjson/cJSON.h>

#include "app.h"
#include "evtype.h"
#include "catalog.h"

void queue_announce(struct app *a, struct catalog *c, int64_t job,
		    int64_t link, const char *url, int scheduled)
{
	cJSON *f = cJSON_CreateObject();
	if (url)
		cJSON_AddStringToObject(f, "url", url);
	cJSON_AddNumberToObject(f, "progress", 0);
	if (scheduled)
		cJSON_AddBoolToObject(f, "scheduled", 1);
	app_event(a, c, EV_JOB_QUEUED, job, link, f);
}

static sc_result queue_link_tx(struct catalog *c, const char *url,
			       const char *const *tags, size_t ntags,
			       const char *opts, int64_t *link, int *created,
			       int64_t *job)
{
	sc_result rc;
	if ((rc = catalog_tx_begin(c)))
		return rc;
	if ((rc = catalog_link_add(c, url, link, created)))
		goto out;
	for (size_t i = 0; i < ntags && !rc; i++)
		rc = catalog_link_add_tag(c, *link, tags[i]);
	if (!rc)
		rc = catalog_job_enqueue(c, *link, opts, 0, job);
out:
	if (rc) {
		catalog_tx_rollback(c);
		return rc;
	}
	return catalog_tx_commit(c);
}

sc_result queue_link(struct app *a, struct catalog *c, const char *url,
		     const char *const *tags, size_t ntags, const char *opts,
		     int64_t *link, int *created, int64_t *job)
{
	if (app_queue_full(a, c))
		return SC_ERR_BUSY;
	sc_result rc = queue_link_tx(c, url, tags, ntags, opts, link, created,
				     job);
	if (!rc)
		queue_announce(a, c, *job, *link, url, 0);
	return rc;
}

sc_result queue_job(struct app *a, struct catalog *c, int64_t link,
		    const char *url, const char *opts, int scheduled,
		    int64_t *job)
{
	sc_result rc = catalog_job_enqueue(c, link, opts, 0, job);
	if (!rc)
		queue_announce(a, c, *job, link, url, scheduled);
	return rc;
}

sc_result queue_retry(struct app *a, struct catalog *c, int64_t job,
		      int64_t link)
{
	sc_result rc = catalog_job_retry(c, job);
	if (!rc)
		queue_announce(a, c, job, link, NULL, 0);
	return rc;
}
