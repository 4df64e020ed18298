/*
 * api_json.c — catalog objects as the JSON of the API contract (link,
 * snapshot, job). Pure; the caller holds the db lock for api_link_json,
 * which looks up the link's last snapshot and job.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "capopts.h"
#include "catalog.h"

static void aj_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void aj_id(cJSON *o, const char *k, int64_t v)
{
	if (v > 0)
		cJSON_AddNumberToObject(o, k, (double)v);
	else
		cJSON_AddNullToObject(o, k);
}

static void aj_error(cJSON *o, const char *cls, const char *msg)
{
	if (!cls) {
		cJSON_AddNullToObject(o, "error");
		return;
	}
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "class", cls);
	cJSON_AddStringToObject(e, "message", msg ? msg : "");
}

static void aj_file_url(cJSON *o, const char *k, int64_t id, int ok,
			const char *name)
{
	char u[96];
	snprintf(u, sizeof(u), "/api/snapshots/%lld/%s", (long long)id, name);
	aj_str(o, k, ok ? u : NULL);
}

/* "outputs": {png, mhtml, thumb, text, pdf}: ok | failed | skipped |
 * pending */
static void aj_outputs(cJSON *o, const struct catalog_snapshot *s)
{
	cJSON *st = cJSON_AddObjectToObject(o, "outputs");
	cJSON_AddStringToObject(st, "png", catalog_out_name(s->png_status));
	cJSON_AddStringToObject(st, "mhtml", catalog_out_name(s->mhtml_status));
	cJSON_AddStringToObject(st, "thumb", catalog_out_name(s->thumb_status));
	cJSON_AddStringToObject(st, "text", catalog_out_name(s->text_status));
	cJSON_AddStringToObject(st, "pdf", catalog_out_name(s->pdf_status));
}

/* sha256; png_reused: the PNG is a hard link to an identical one stored
 * before; diff: against the link's previous PNG (null if none). */
static void aj_version(cJSON *o, const struct catalog_snapshot *s)
{
	aj_str(o, "sha256", s->png_sha256[0] ? s->png_sha256 : NULL);
	cJSON_AddBoolToObject(o, "png_reused", s->png_shared);
	if (!s->diff_against) {
		cJSON_AddNullToObject(o, "diff");
		return;
	}
	cJSON *d = cJSON_AddObjectToObject(o, "diff");
	cJSON_AddNumberToObject(d, "against", (double)s->diff_against);
	cJSON_AddNumberToObject(d, "ratio", s->diff_ratio);
	cJSON_AddNumberToObject(d, "changed_pixels", (double)s->diff_changed);
	cJSON *b = s->diff_boxes ? cJSON_Parse(s->diff_boxes) : NULL;
	cJSON_AddItemToObject(d, "boxes", b ? b : cJSON_CreateArray());
	aj_file_url(d, "image_url", s->id, s->diff_path != NULL, "diff.png");
}

cJSON *api_snapshot_json(const struct catalog_snapshot *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)s->id);
	cJSON_AddNumberToObject(o, "link_id", (double)s->link_id);
	aj_id(o, "job_id", s->job_id);
	cJSON_AddStringToObject(o, "state", catalog_snap_state_name(s->state));
	http_json_time(o, "created_at", s->created_at);
	http_json_time(o, "finished_at", s->finished_at);
	aj_str(o, "final_url", s->final_url);
	aj_str(o, "title", s->title);
	cJSON_AddNumberToObject(o, "http_status", s->http_status);
	cJSON_AddNumberToObject(o, "width", s->width);
	cJSON_AddNumberToObject(o, "height", s->height);
	cJSON_AddBoolToObject(o, "truncated", s->truncated);
	cJSON *b = cJSON_AddObjectToObject(o, "bytes");
	cJSON_AddNumberToObject(b, "png", (double)s->png_bytes);
	cJSON_AddNumberToObject(b, "mhtml", (double)s->mhtml_bytes);
	cJSON_AddNumberToObject(b, "pdf", (double)s->pdf_bytes);
	aj_outputs(o, s);
	aj_file_url(o, "png_url", s->id, s->png_path != NULL, "png");
	aj_file_url(o, "thumb_url", s->id, s->thumb_path != NULL, "thumb.png");
	aj_file_url(o, "mhtml_url", s->id, s->mhtml_path != NULL, "mhtml");
	aj_file_url(o, "pdf_url", s->id, s->pdf_path != NULL, "pdf");
	aj_file_url(o, "text_url", s->id, s->text_status == CATALOG_OUT_OK,
		    "text");
	aj_file_url(o, "page_url", s->id, s->mhtml_path != NULL, "page");
	cJSON *t = s->timings ? cJSON_Parse(s->timings) : NULL;
	/* the timings JSON also carries the guard's refusals and the
	 * readiness note: lift them to fields of their own */
	cJSON *blocked = cJSON_DetachItemFromObject(t, "blocked");
	cJSON *first = cJSON_DetachItemFromObject(t, "blocked_first");
	cJSON *note = cJSON_DetachItemFromObject(t, "note");
	cJSON *consent = cJSON_DetachItemFromObject(t, "consent");
	if (blocked) {
		cJSON *bo = cJSON_AddObjectToObject(o, "blocked");
		cJSON_AddItemToObject(bo, "count", blocked);
		cJSON_AddItemToObject(bo, "first", first ? first : cJSON_CreateNull());
	} else {
		cJSON_Delete(first);
		cJSON_AddNullToObject(o, "blocked");
	}
	cJSON_AddItemToObject(o, "note", note ? note : cJSON_CreateNull());
	/* consent banners: {handled, action, matched, ms}, null if not run */
	cJSON_AddItemToObject(o, "consent", consent ? consent : cJSON_CreateNull());
	if (t)
		cJSON_AddItemToObject(o, "timings", t);
	else
		cJSON_AddNullToObject(o, "timings");
	aj_error(o, s->error_class, s->error_message);
	aj_version(o, s);
	return o;
}

cJSON *api_job_json(const struct catalog_job *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)j->id);
	cJSON_AddNumberToObject(o, "link_id", (double)j->link_id);
	aj_str(o, "url", j->url);
	cJSON_AddStringToObject(o, "state", catalog_job_state_name(j->state));
	cJSON_AddNumberToObject(o, "attempts", j->attempts);
	cJSON_AddNumberToObject(o, "max_attempts", j->max_attempts);
	cJSON_AddNumberToObject(o, "progress", j->progress);
	aj_str(o, "stage", j->stage);
	http_json_time(o, "created_at", j->created_at);
	http_json_time(o, "started_at", j->started_at);
	http_json_time(o, "finished_at", j->finished_at);
	aj_id(o, "snapshot_id", j->snapshot_id);
	aj_error(o, j->error_class, j->error_message);
	/* header and cookie values never leave the server */
	cJSON_AddItemToObject(o, "options", capopts_masked(j->options));
	return o;
}

cJSON *api_page_json(cJSON *items, const char *cursor)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", items);
	aj_str(o, "next_cursor", cursor && cursor[0] ? cursor : NULL);
	return o;
}

cJSON *api_link_base_json(const struct catalog_link *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)l->id);
	cJSON_AddStringToObject(o, "url", l->url);
	aj_str(o, "title", l->title);
	cJSON *tags = cJSON_AddArrayToObject(o, "tags");
	for (size_t i = 0; i < l->ntags; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(l->tags[i]));
	http_json_time(o, "created_at", l->created_at);
	http_json_time(o, "updated_at", l->updated_at);
	http_json_time(o, "bookmarked_at", l->bookmarked_at);
	return o;
}

cJSON *api_link_json(struct catalog *c, const struct catalog_link *l)
{
	cJSON *o = api_link_base_json(l);
	cJSON_AddItemToObject(o, "schedule", api_link_schedule_json(l));
	cJSON_AddItemToObject(o, "options", l->options ? capopts_masked(l->options)
						       : cJSON_CreateNull());
	struct catalog_snapshot *s = NULL;
	if (l->last_snapshot_id &&
	    catalog_snapshot_get(c, l->last_snapshot_id, 0, &s) == SC_OK)
		cJSON_AddItemToObject(o, "last_snapshot", api_snapshot_json(s));
	else
		cJSON_AddNullToObject(o, "last_snapshot");
	catalog_snapshot_free(&s);
	struct catalog_job *j = NULL;
	if (l->last_job_id && catalog_job_get(c, l->last_job_id, &j) == SC_OK)
		cJSON_AddItemToObject(o, "last_job", api_job_json(j));
	else
		cJSON_AddNullToObject(o, "last_job");
	catalog_job_free(&j);
	return o;
}

cJSON *api_json_pick(cJSON *o, const char *const *keep)
{
	for (cJSON *it = o ? o->child : NULL, *next; it; it = next) {
		next = it->next;
		size_t i = 0;
		while (keep[i] && strcmp(keep[i], it->string))
			i++;
		if (!keep[i])
			cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
	}
	return o;
}
