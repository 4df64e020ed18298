/*
 * req.h — one HTTP request and its response as plain data, so that API
 * handlers run on a worker thread without touching lws.
 *
 *   lws (loop thread): LWS_CALLBACK_HTTP -> http_req filled from headers,
 *     URI args and body -> worker: router -> handler(req, resp)
 *   loop thread: WRITEABLE -> headers from resp -> body or file chunks
 *
 * A response carries either a body in memory or an open file (fd, offset,
 * length) that the server streams in chunks.
 */
#ifndef HTTP_REQ_H
#define HTTP_REQ_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "sc.h"

#define HTTP_BODY_MAX (1u << 20) /* request bodies over this get 413 */
#define HTTP_ARGS_MAX 64

enum http_method {
	HTTP_GET = 0, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH,
	HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER
};
const char *http_method_name(enum http_method m);

struct http_arg {
	char *name, *value; /* url-decoded */
};

/* Fields are public: the server fills them, handlers read them. */
struct http_req {
	enum http_method method;
	char *path;                        /* decoded, no query */
	struct http_arg args[HTTP_ARGS_MAX];
	int nargs;
	char *auth, *if_none_match, *range, *accept, *origin, *last_event_id;
	char *host, *fetch_site;           /* Host, Sec-Fetch-Site */
	struct sc_buf body;                /* capped at HTTP_BODY_MAX */
	char peer[64];
};

struct http_resp {
	int status;                /* 0: not answered yet */
	const char *ctype;         /* static string */
	struct sc_buf headers;     /* extra "Name: value\r\n" lines */
	struct sc_buf body;
	int fd;                    /* >= 0: stream this file instead of body */
	uint64_t off, len;         /* the part of fd to send */
	uint64_t total;            /* file size (Content-Range) */
	/* 1: the browsable copy (api_page.c), framed by the admin page: its
	 * own CSP replaces the server's, X-Frame-Options is SAMEORIGIN */
	int framed;
	/* an answer that waits for its writes' commit (api_write_end): set
	 * by the handler's worker before the unit ends, then by the loop */
	int commit_wait;           /* 1: the commit is not reported yet */
	sc_result commit_rc;       /* its result, once reported */
	void (*on_commit)(void *arg); /* server.c: called when reported */
	void *on_commit_arg;
};

void http_req_init(struct http_req *r);
void http_req_free(struct http_req *r);
void http_resp_init(struct http_resp *r);
/* Free buffers, close fd. */
void http_resp_free(struct http_resp *r);

/* The first value of query argument name, or NULL. */
const char *http_arg(const struct http_req *r, const char *name);
/* Every value of name, up to max, into out; returns how many. */
int http_args(const struct http_req *r, const char *name, const char **out,
	      int max);

/* Append a response header line ("Name: value"). */
void http_resp_header(struct http_resp *r, const char *name,
		      const char *fmt, ...) SC_PRINTF(3, 4);

/* status + the JSON text of j (j is deleted; NULL: no body, e.g. 204). */
void http_resp_json(struct http_resp *r, int status, cJSON *j);

/* status + {"error":{"code","message"[,"field"]}}; field may be NULL. */
void http_resp_error(struct http_resp *r, int status, const char *code,
		     const char *field, const char *fmt, ...) SC_PRINTF(5, 6);

/* 400/404/409/413/500 for a catalog or other sc_result (what of "link"...). */
void http_resp_result(struct http_resp *r, sc_result rc, const char *what);

/*
 * Parse the request body as a JSON object. On error answers 400 bad_json
 * (no body, not JSON, anything but whitespace after the value, a NUL
 * character -- \u0000 or a raw 0 byte -- anywhere in the text, or not an
 * object) and returns NULL. Caller deletes.
 */
cJSON *http_body_object(const struct http_req *req, struct http_resp *resp);

/* Milliseconds since the epoch to "2026-01-02T03:04:05.678Z" or null. */
void http_json_time(cJSON *o, const char *key, int64_t ms);

#endif
