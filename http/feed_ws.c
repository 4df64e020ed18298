/*
 * feed_ws.c — the WebSocket channel of the feed (/api/ws): subscribe,
 * unsubscribe and capture messages, events as text frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_int.h"

/* ---- WebSocket ---- */

struct feed_sub *feed_ws_open(struct feed *f, struct lws *wsi)
{
	if (f->st.subs[FEED_WS] >= f->o.max_subs)
		return NULL;
	struct feed_sub *s = feed_sub_new(f, FEED_WS);
	s->wsi = wsi;
	s->muted = 1; /* nothing until "subscribe" */
	return s;
}

void feed_ws_send(struct feed_sub *s, const char *json)
{
	if (!s->f)
		return;
	if (feed_queue_push(&s->q, json, strlen(json), s->f->o.queue_bytes))
		feed_drop(s, "its queue is full");
	else
		lws_callback_on_writable(s->wsi);
}

/* Queue {"type":type} or {"type":"error","error":{code,message}}; built
 * with cJSON so that text from the client is escaped. */
static void feed_ws_reply(struct feed_sub *s, const char *type,
			  const char *code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", type);
	if (!strcmp(type, "subscribed") || !strcmp(type, "unsubscribed"))
		cJSON_AddStringToObject(o, "op", type[0] == 's' ? "subscribe"
							       : "unsubscribe");
	if (code) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", msg);
	}
	char *m = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (m)
		feed_ws_send(s, m);
	cJSON_free(m);
}

/* A JSON number as an id: an integer 0..2^53, else fallback (casting
 * 1e300, inf or NaN to int64_t is undefined behaviour). */
static int64_t feed_json_id(const cJSON *v, int64_t fallback)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 9007199254740992.0)
		return fallback;
	return (int64_t)v->valuedouble;
}

static void feed_ws_subscribe(struct feed_sub *s, const cJSON *j)
{
	const cJSON *v;
	memset(&s->flt, 0, sizeof(s->flt));
	s->muted = 0;
	if ((v = cJSON_GetObjectItem(j, "job")) && cJSON_IsNumber(v))
		s->flt.job = feed_json_id(v, -1); /* -1: matches nothing */
	if ((v = cJSON_GetObjectItem(j, "link")) && cJSON_IsNumber(v))
		s->flt.link = feed_json_id(v, -1);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, "types"))
		if (cJSON_IsString(v) && s->flt.ntypes < FEED_TYPES_MAX)
			snprintf(s->flt.types[s->flt.ntypes++],
				 sizeof(s->flt.types[0]), "%s",
				 strlen(v->valuestring) < sizeof(s->flt.types[0])
					 ? v->valuestring : "");
	v = cJSON_GetObjectItem(j, "after");
	feed_ws_reply(s, "subscribed", NULL, NULL);
	feed_replay(s, feed_json_id(v, INT64_MAX), 0);
}

void feed_ws_message(struct feed_sub *s, const char *msg, size_t len)
{
	if (!s->f)
		return;
	cJSON *j = cJSON_ParseWithLength(msg, len);
	const cJSON *op = cJSON_GetObjectItem(j, "op");
	if (!cJSON_IsString(op)) {
		feed_ws_reply(s, "error", "bad_message",
			      "send a JSON object with an op");
	} else if (!strcmp(op->valuestring, "subscribe") && s->replaying) {
		feed_ws_reply(s, "error", "busy", "a replay is still running; "
			      "subscribe again after it");
	} else if (!strcmp(op->valuestring, "subscribe")) {
		feed_ws_subscribe(s, j);
	} else if (!strcmp(op->valuestring, "unsubscribe")) {
		s->muted = 1;
		feed_ws_reply(s, "unsubscribed", NULL, NULL);
	} else {
		feed_ws_reply(s, "error", "unknown_op", "unknown op (known: "
			      "subscribe, unsubscribe, capture)");
	}
	cJSON_Delete(j);
}

int feed_ws_writeable(struct feed_sub *s)
{
	if (s->overflow || !s->f)
		return -1;
	if (feed_write_queue(s, LWS_WRITE_TEXT))
		return -1;
	feed_written(s, 0);
	return 0;
}
