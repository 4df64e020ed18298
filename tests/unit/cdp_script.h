/*
 * cdp_script.h — a scripted browser for unit tests: a cdp_transport
 * (cdp.h) that answers the capture's DevTools commands from a recording
 * made with real Chromium (tests/unit/cdp-record, `snapcat capture
 * --cdp-log`), with faults injected on request. Header-only; include once.
 *
 *   capture -> cdp_call -> script_send: the command's method (and session)
 *     is matched to the next unused recorded command of that method
 *     -> queued for the next loop turn: the recorded events that came
 *        before its reply, the reply (its id rewritten to the live one),
 *        then the events that came before the next recorded command
 *   a command not in the recording is answered with a DevTools error and
 *   counted (script.unknown): the recording must be remade
 *
 * Faults (set before the capture starts): never answer a method
 * (deadlines), the browser going away when a method is sent, a huge reply,
 * the events that follow a reply delivered before it (out of order), a
 * reply replaced, an extra event injected after a reply.
 */
#ifndef CDP_SCRIPT_H
#define CDP_SCRIPT_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "loop.h"

struct script_entry {
	int out, used;
	cJSON *msg;
};

struct script_item { /* something to deliver on the next turn */
	struct script_item *next;
	char *text;      /* a message, or NULL: the browser goes away */
	size_t len;
};

struct script {
	struct script_entry *e;
	size_t n;
	struct loop *loop;
	struct cdp_conn *conn;
	struct script_item *queue, **tail;
	struct loop_timer *timer;
	int closed;
	int unknown;           /* commands not found in the recording */
	char first_unknown[64];
	/* faults: each names a method, or is NULL */
	const char *drop_reply;     /* never answered */
	const char *close_at;       /* the browser goes away when it is sent */
	const char *huge_reply;     /* answered with huge_bytes of data */
	size_t huge_bytes;
	const char *events_first;   /* its following events come first */
	const char *replace_reply;  /* answered with replace_result instead */
	const char *replace_result; /* a JSON object: the "result" */
	const char *inject_after;   /* after its reply, inject_event comes */
	const char *inject_event;   /* a JSON object: an event message, sent
				       on the session of that reply */
};

static int script_load(struct script *s, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 0;
	char *line = NULL;
	memset(s, 0, sizeof(*s));
	s->tail = &s->queue;
	while (getline(&line, &cap, f) > 0) {
		cJSON *j = cJSON_Parse(line);
		cJSON *m = cJSON_DetachItemFromObject(j, "msg");
		if (m) {
			s->e = realloc(s->e, (s->n + 1) * sizeof(*s->e));
			s->e[s->n++] = (struct script_entry){
				cJSON_IsTrue(cJSON_GetObjectItem(j, "out")), 0, m};
		}
		cJSON_Delete(j);
	}
	free(line);
	fclose(f);
	return s->n ? 0 : -1;
}

static void script_free(struct script *s)
{
	for (size_t i = 0; i < s->n; i++)
		cJSON_Delete(s->e[i].msg);
	free(s->e);
	while (s->queue) {
		struct script_item *it = s->queue;
		s->queue = it->next;
		free(it->text);
		free(it);
	}
	loop_timer_cancel(&s->timer);
}

static void script_flush(void *arg)
{
	struct script *s = arg;
	s->timer = NULL;
	while (s->queue && !s->closed) {
		struct script_item *it = s->queue;
		if (!(s->queue = it->next))
			s->tail = &s->queue;
		if (it->text) {
			cdp_conn_receive(s->conn, it->text, it->len);
		} else {
			s->closed = 1;
			cdp_conn_transport_closed(s->conn, "the scripted "
						  "browser went away");
		}
		free(it);
	}
}

static void script_push_text(struct script *s, char *text, size_t len)
{
	struct script_item *it = calloc(1, sizeof(*it));
	it->text = text;
	it->len = len;
	*s->tail = it;
	s->tail = &it->next;
	if (!s->timer)
		s->timer = loop_timer(s->loop, 0, script_flush, s);
}

static void script_push(struct script *s, const cJSON *msg)
{
	char *t = cJSON_PrintUnformatted(msg);
	script_push_text(s, t, strlen(t));
}

static int script_is_reply(const cJSON *m)
{
	return cJSON_GetObjectItem(m, "id") != NULL;
}

static int script_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The next unused recorded command of method on session, or -1. */
static long script_find(struct script *s, const char *method,
			const char *session)
{
	for (size_t i = 0; i < s->n; i++) {
		const cJSON *m = s->e[i].msg;
		const cJSON *sid = cJSON_GetObjectItem(m, "sessionId");
		if (s->e[i].out && !s->e[i].used &&
		    !strcmp(cJSON_GetObjectItem(m, "method")->valuestring,
			    method) &&
		    script_same(cJSON_IsString(sid) ? sid->valuestring : NULL,
				session))
			return (long)i;
	}
	return -1;
}

/* Unused events in [from, to) into the queue, in order. */
static void script_events(struct script *s, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < s->n; i++)
		if (!s->e[i].out && !s->e[i].used &&
		    !script_is_reply(s->e[i].msg)) {
			s->e[i].used = 1;
			script_push(s, s->e[i].msg);
		}
}

static size_t script_next_out(struct script *s, size_t from)
{
	while (from < s->n && !s->e[from].out)
		from++;
	return from;
}

static void script_reply(struct script *s, const char *method, double id,
			 cJSON *rec)
{
	cJSON *r = cJSON_Duplicate(rec, 1);
	cJSON_ReplaceItemInObject(r, "id", cJSON_CreateNumber(id));
	if (s->replace_reply && !strcmp(method, s->replace_reply))
		cJSON_ReplaceItemInObject(r, "result",
					  cJSON_Parse(s->replace_result));
	if (s->huge_reply && !strcmp(method, s->huge_reply)) {
		size_t n = s->huge_bytes;
		char *t = malloc(n + 64);
		int k = snprintf(t, 64, "{\"id\":%.0f,\"result\":{\"data\":\"", id);
		memset(t + k, 'A', n);
		memcpy(t + k + n, "\"}}", 4);
		script_push_text(s, t, (size_t)k + n + 3);
	} else if (!s->drop_reply || strcmp(method, s->drop_reply)) {
		script_push(s, r);
	}
	cJSON_Delete(r);
	if (s->inject_after && !strcmp(method, s->inject_after)) {
		cJSON *ev = cJSON_Parse(s->inject_event);
		const cJSON *sid = cJSON_GetObjectItem(rec, "sessionId");
		if (cJSON_IsString(sid))
			cJSON_AddStringToObject(ev, "sessionId", sid->valuestring);
		script_push(s, ev);
		cJSON_Delete(ev);
	}
}

/* A command matched to recorded entry j: what the browser said then. */
static void script_answer(struct script *s, size_t j, const char *method,
			  double id)
{
	double rid = cJSON_GetObjectItem(s->e[j].msg, "id")->valuedouble;
	size_t r = j + 1;
	while (r < s->n && (s->e[r].out || !script_is_reply(s->e[r].msg) ||
			    cJSON_GetObjectItem(s->e[r].msg, "id")->valuedouble
				    != rid))
		r++;
	size_t next = script_next_out(s, r + 1);
	int swap = s->events_first && !strcmp(method, s->events_first);
	script_events(s, 0, r);
	if (swap)
		script_events(s, r + 1, next);
	if (r < s->n) {
		s->e[r].used = 1;
		script_reply(s, method, id, s->e[r].msg);
	}
	script_events(s, r + 1, next);
}

static void script_send(void *ud, const char *text, size_t len)
{
	struct script *s = ud;
	cJSON *m = cJSON_ParseWithLength(text, len);
	const char *method = cJSON_GetObjectItem(m, "method")->valuestring;
	const cJSON *sid = cJSON_GetObjectItem(m, "sessionId");
	double id = cJSON_GetObjectItem(m, "id")->valuedouble;
	if (s->close_at && !strcmp(method, s->close_at)) {
		script_push_text(s, NULL, 0); /* the browser goes away */
		cJSON_Delete(m);
		return;
	}
	long j = script_find(s, method, cJSON_IsString(sid) ? sid->valuestring
							     : NULL);
	if (j < 0) {
		if (!s->unknown++)
			snprintf(s->first_unknown, sizeof(s->first_unknown),
				 "%s", method);
		char *t = malloc(200);
		int k = snprintf(t, 200, "{\"id\":%.0f,\"error\":{\"code\":-32000,"
				 "\"message\":\"not in the recording\"}}", id);
		script_push_text(s, t, (size_t)k);
	} else {
		s->e[j].used = 1;
		script_answer(s, (size_t)j, method, id);
	}
	cJSON_Delete(m);
}

/* Recorded commands the capture never sent (its calls changed). */
static int script_unused_commands(const struct script *s, char *first,
				  size_t len)
{
	int n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].out && !s->e[i].used && n++ == 0)
			snprintf(first, len, "%s", cJSON_GetObjectItem(
				s->e[i].msg, "method")->valuestring);
	return n;
}

#endif
