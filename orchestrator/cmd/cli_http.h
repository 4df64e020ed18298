/*
 * cli_http.h — the one HTTP client of the command-line clients
 * (cli_client.c: add, ls; cli_io.c: import, export, backup): requests to a
 * running `snapcat serve` over its REST API, with libcurl's easy interface.
 *
 *   cli_http_open: the server (--server, else $SNAPCAT_SERVER, else
 *     CLI_HTTP_DEFAULT_SERVER), the token (--token, else $SNAPCAT_TOKEN),
 *     one curl handle (reused: several requests keep the connection)
 *   -> cli_http_request: path + query (cli_http_query); a body makes it a
 *     POST -> the answer: a JSON object, parsed (capped at
 *     CLI_HTTP_BODY_CAP), or a 2xx body written to a FILE as it comes
 *   -> every failure explained on stderr, "snapcat <cmd>: [<what>: ]<why>",
 *     server text through cli_term_clean (cli_term.h)
 *   -> cli_http_close
 *
 * Everything the server sends is untrusted: bodies are capped, strings are
 * printed through cli_term.h, numbers read with cli_http_num/cli_http_int.
 * Not thread-safe (one command per process); curl_global_init() is main.c's
 * job.
 */
#ifndef CLI_HTTP_H
#define CLI_HTTP_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "sc.h"

#define CLI_HTTP_DEFAULT_SERVER "http://127.0.0.1:8080"
#define CLI_HTTP_BODY_CAP (16u << 20) /* largest answer read (16 MiB) */

/* What one request came to. */
enum cli_http_outcome {
	CLI_HTTP_OK,   /* a 2xx answer (a JSON object unless streamed) */
	CLI_HTTP_FAIL, /* this request failed (message printed); others may
			  work */
	CLI_HTTP_FATAL /* no request can work (unreachable, refused token):
			  message printed, stop */
};

/* One command's connection to the server (fields private to cli_http.c
 * but cmd, for the command's own messages). */
struct cli_http {
	const char *cmd;   /* "add", "import", ...: for messages */
	char *base;        /* server URL without trailing '/' (owned) */
	const char *token; /* NULL: no Authorization header */
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
};

/* One request. */
struct cli_http_req {
	const char *path; /* "/api/links?tag=a": appended to the server URL */
	const char *body; /* NULL: GET; else a POST of len bytes */
	size_t len;
	int json_body;    /* 1: body is JSON (Content-Type: application/json) */
	FILE *out;        /* NULL: the answer must be a JSON object; else a
			     2xx body is written here, not parsed */
	const char *what; /* prefix of this request's messages, or NULL */
};

/* One answer. */
struct cli_http_resp {
	long status;        /* the HTTP status, 0 if none came */
	sc_result rc;       /* SC_ERR_TOO_LARGE: the body passed the cap;
			       SC_ERR_IO: writing to req.out failed */
	int err;            /* errno of that failed write */
	struct sc_buf body; /* the answer, unless it went to req.out */
	cJSON *json;        /* body parsed, or NULL */
};

/*
 * Set up c for the command cmd with the --server and --token values (NULL
 * when not given: then the environment, then the default) and a total
 * time limit per request. Returns 0, or the exit status after a message:
 * 2 for a server that is not an http(s) URL with a host (and no query,
 * fragment, space or control character) or a token with spaces or control
 * characters, 1 if libcurl cannot start. server and token must outlive c.
 * Release with cli_http_close, also after a failure.
 */
int cli_http_open(struct cli_http *c, const char *cmd, const char *server,
		  const char *token, long timeout_ms);

/* Release c (safe on a zeroed or failed c, and twice). */
void cli_http_close(struct cli_http *c);

/* An empty answer; release with cli_http_resp_free (also on failure). */
void cli_http_resp_init(struct cli_http_resp *r);
void cli_http_resp_free(struct cli_http_resp *r);

/*
 * Send q and read the answer into r (cli_http_resp_init'ed). Returns
 * CLI_HTTP_OK for a 2xx answer that is a JSON object (r->json), or any 2xx
 * with q->out (the body written there). Otherwise prints why (the server's
 * error message and field, the status, or the transport's reason) and
 * returns CLI_HTTP_FATAL when no later request could do better (server
 * unreachable, timeout, token refused with 401), else CLI_HTTP_FAIL.
 */
enum cli_http_outcome cli_http_request(struct cli_http *c,
				       const struct cli_http_req *q,
				       struct cli_http_resp *r);

/* Append "&key=val" (val percent-encoded; '?' instead of '&' for the
 * first) to the path in b (not empty). SC_ERR_NOMEM, or the cap of b. */
sc_result cli_http_query(const struct cli_http *c, struct sc_buf *b,
			 const char *key, const char *val) SC_MUST_CHECK;

/* "snapcat <cmd>: [<what>: ]<message>" on stderr; what is cleaned
 * (cli_term_clean), the message must be clean already. */
void cli_http_err(const struct cli_http *c, const char *what,
		  const char *fmt, ...) SC_PRINTF(3, 4);

/* The string member k of object o (NULL-safe), or NULL. */
const char *cli_http_str(const cJSON *o, const char *k);

/* The integer member k of object o as text into out, "?" when absent or
 * not an integer below 1e15 in magnitude. */
void cli_http_num(const cJSON *o, const char *k, char *out, size_t outlen);

/* The integer member k of object o, 0 when absent or out of range. */
long long cli_http_int(const cJSON *o, const char *k);

/* The message for getopt_long's '?' (unknown option) or ':' (no value)
 * return c, on stderr: "snapcat <cmd>: unknown option "--x"". */
void cli_http_opt_error(const char *cmd, int c, char *const *argv);

#endif
