/*
 * api_tags.c — /api/tags (with counts), PATCH /api/tags/{name} (rename; a
 * name that exists already means merge), DELETE /api/tags/{name}.
 * The list on this worker's reader; renames and deletes are units on the
 * writer, answered once committed (api_write_end).
 */
#include <string.h>

#include "api.h"
#include "app.h"
#include "catalog.h"

void api_tags_list(struct api_call *k)
{
	struct catalog_tag_list *l = NULL;
	struct catalog *c = app_read_begin(k->c->app);
	sc_result rc = catalog_tags_list(c, &l);
	app_read_end(k->c->app, c);
	if (rc) {
		http_resp_result(k->resp, rc, "tags");
		return;
	}
	cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
	for (size_t i = 0; i < l->n; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", l->items[i].name);
		cJSON_AddNumberToObject(t, "count", (double)l->items[i].count);
		cJSON_AddItemToArray(items, t);
	}
	catalog_tag_list_free(&l);
	http_resp_json(k->resp, 200, o);
}

static void at_rename(struct api_call *k, const char *from)
{
	cJSON *body = http_body_object(k->req, k->resp);
	if (!body)
		return;
	const cJSON *to = cJSON_GetObjectItem(body, "name");
	char norm[CATALOG_TAG_BUF];
	if (!cJSON_IsString(to) ||
	    catalog_tag_normalize(to->valuestring, norm, sizeof(norm))) {
		http_resp_error(k->resp, 400, to ? "invalid_field" : "missing_field",
				"name", "name must be a tag of 1 to %d characters",
				CATALOG_TAG_MAX);
		cJSON_Delete(body);
		return;
	}
	int merged = 0;
	struct catalog *c = app_write_begin(k->c->app);
	sc_result rc = catalog_tag_rename(c, from, norm, &merged);
	cJSON_Delete(body);
	if (rc) {
		http_resp_result(k->resp, rc, "tag");
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", norm);
		cJSON_AddBoolToObject(o, "merged", merged);
		http_resp_json(k->resp, 200, o);
	}
	api_write_end(k);
}

void api_tag_rename(struct api_call *k) { at_rename(k, k->name); }

void api_tag_delete(struct api_call *k)
{
	struct catalog *c = app_write_begin(k->c->app);
	sc_result rc = catalog_tag_delete(c, k->name);
	if (rc)
		http_resp_result(k->resp, rc, "tag");
	else
		http_resp_json(k->resp, 204, NULL);
	api_write_end(k);
}
