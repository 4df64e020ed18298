/*
 * body.h — request bodies: how a request frames its body (Content-Length,
 * Transfer-Encoding: chunked, or none), the chunked decoder, and how long a
 * body may take to arrive. Plain functions of bytes and numbers (server.c
 * calls them; the fuzz target tests/fuzz/fuzz_http.c drives them directly).
 *
 *   headers -> body_framing -> BODY_NONE / BODY_LENGTH (lws reads it)
 *           / BODY_CHUNKED (lws 4.1.6 does not decode chunks: it hands the
 *             raw framing over as a 100 MiB body) -> body_chunked_feed per
 *             HTTP_BODY callback until BODY_DONE
 *           / an error status (400, 501) answered at once
 *   deadline = start + timeout + received / min_rate (body_deadline)
 */
#ifndef HTTP_BODY_H
#define HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "req.h"
#include "sc.h"

enum body_kind {
	BODY_NONE = 0,    /* no body: answer once the headers are in */
	BODY_LENGTH,      /* Content-Length bytes */
	BODY_CHUNKED,     /* Transfer-Encoding: chunked */
	BODY_UNFRAMED,    /* POST/PUT/PATCH with neither: no body (RFC 9112
			   * 6.3), but lws 4.1.6 waits for 100 MiB of one, so
			   * the connection closes after the answer */
	BODY_BAD,         /* 400: a Content-Length that is not one number, or
			   * both headers (request smuggling) */
	BODY_UNSUPPORTED  /* 501: a transfer coding other than chunked */
};

/*
 * The framing of a request's body from its method and the values of its
 * Content-Length and Transfer-Encoding headers (NULL when absent). *len gets
 * the length for BODY_LENGTH. GET, HEAD, DELETE and OPTIONS bodies are
 * framed the same way (lws reads a Content-Length body for any method).
 */
enum body_kind body_framing(enum http_method m, const char *content_length,
			    const char *transfer_encoding, uint64_t *len);

/* ---- the chunked decoder (RFC 9112 section 7.1) ---- */

enum body_chunk_rc { BODY_MORE = 0, BODY_DONE = 1, BODY_ERROR = -1 };

struct body_chunked {
	int state;
	uint64_t left;     /* data bytes left in this chunk */
	size_t line;       /* bytes of the current size or trailer line */
	size_t trailers;   /* bytes of trailer section so far */
	int digits;        /* hex digits of the size so far */
};

void body_chunked_init(struct body_chunked *c);

/*
 * Decode the next len bytes of the chunked framing in `in`, appending the
 * data to out. Data past out's cap is dropped and *over set (the caller
 * answers 413 once the body ended). *used gets how many bytes of in belong
 * to the body: all of them while BODY_MORE, up to the end of the last chunk
 * and its trailers with BODY_DONE (what follows is the next request). Strict:
 * CRLF line ends, 1-15 hex digits, chunk extensions skipped, lines and
 * trailers capped (8 KiB); anything else is BODY_ERROR (400). After
 * BODY_DONE or BODY_ERROR it returns the same again.
 */
enum body_chunk_rc body_chunked_feed(struct body_chunked *c, const char *in,
				     size_t len, struct sc_buf *out, int *over,
				     size_t *used);

/* ---- how long a body may take ---- */

struct body_limits {
	int timeout_ms;    /* for the whole body, before the allowance */
	int min_rate;      /* bytes per second: each byte received adds
			    * 1000/min_rate ms; 0 = no allowance */
};

/* The time (ms, the clock of t0) by which a body that started at t0 and has
 * brought `got` bytes so far must be complete: t0 + timeout + got/min_rate
 * seconds, saturating (never overflows). */
int64_t body_deadline(const struct body_limits *l, int64_t t0, uint64_t got);

#endif
