/*
 * body.c — request body framing, the chunked decoder and body deadlines
 * (see body.h).
 */
#include "body.h"

#include <string.h>
#include <strings.h>

#define BODY_LINE_MAX 4096      /* a chunk-size line with its extensions */
#define BODY_TRAILERS_MAX 8192  /* the trailer section */
#define BODY_DIGITS_MAX 15      /* chunk sizes below 2^60 */

/* ---- framing ---- */

static int body_ows(char c) { return c == ' ' || c == '\t'; }

/* s without leading and trailing spaces/tabs: [*b, *b + return). */
static size_t body_trim(const char *s, const char **b)
{
	size_t n = strlen(s);
	while (n && body_ows(*s))
		s++, n--;
	while (n && body_ows(s[n - 1]))
		n--;
	*b = s;
	return n;
}

/* Content-Length: 1 to 19 digits and nothing else. 0 ok, -1 not one. */
static int body_length(const char *v, uint64_t *len)
{
	const char *s;
	size_t n = body_trim(v, &s);
	uint64_t x = 0;
	if (!n || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*len = x;
	return 0;
}

enum body_kind body_framing(enum http_method m, const char *content_length,
			    const char *transfer_encoding, uint64_t *len)
{
	/* the methods lws 4.1.6 reads a body for without a Content-Length */
	int bodied = m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH;
	*len = 0;
	if (content_length && transfer_encoding)
		return BODY_BAD;
	if (transfer_encoding) {
		const char *s;
		size_t n = body_trim(transfer_encoding, &s);
		if (n != 7 || strncasecmp(s, "chunked", 7))
			return BODY_UNSUPPORTED;
		return bodied ? BODY_CHUNKED : BODY_BAD;
	}
	if (content_length) {
		if (body_length(content_length, len))
			return BODY_BAD;
		return *len ? BODY_LENGTH : BODY_NONE;
	}
	return bodied ? BODY_UNFRAMED : BODY_NONE;
}

/* ---- the chunked decoder ---- */

enum {
	CH_SIZE = 0,    /* the first hex digit of a chunk size */
	CH_SIZE_MORE,   /* more digits, ';', spaces or CR */
	CH_SIZE_WS,     /* spaces after the digits: ';' or CR */
	CH_EXT,         /* chunk extensions, up to CR */
	CH_SIZE_LF,     /* LF ending the size line */
	CH_DATA,        /* `left` data bytes */
	CH_DATA_CR,     /* CR after the data */
	CH_DATA_LF,     /* LF after the data */
	CH_TRAILER,     /* start of a trailer line, or CR of the end */
	CH_TRAILER_LINE,
	CH_TRAILER_LF,
	CH_END_LF,      /* LF of the final empty line */
	CH_DONE,
	CH_ERROR
};

void body_chunked_init(struct body_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

static int body_hex(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A byte of the size line (CH_SIZE .. CH_SIZE_LF): the next state. */
static int body_size_byte(struct body_chunked *c, unsigned char ch)
{
	int h = body_hex(ch);
	if (++c->line > BODY_LINE_MAX)
		return CH_ERROR;
	switch (c->state) {
	case CH_SIZE:
	case CH_SIZE_MORE:
		if (h >= 0) {
			if (++c->digits > BODY_DIGITS_MAX)
				return CH_ERROR;
			c->left = c->left * 16 + (uint64_t)h;
			return CH_SIZE_MORE;
		}
		if (c->state == CH_SIZE)
			return CH_ERROR;
		SC_FALLTHROUGH;
	case CH_SIZE_WS:
		if (body_ows((char)ch))
			return CH_SIZE_WS;
		return ch == ';' ? CH_EXT : ch == '\r' ? CH_SIZE_LF : CH_ERROR;
	case CH_EXT:
		if (ch == '\r')
			return CH_SIZE_LF;
		return ch == '\n' || ch == 0 || ch == 0x7f ? CH_ERROR : CH_EXT;
	default: /* CH_SIZE_LF */
		if (ch != '\n')
			return CH_ERROR;
		c->line = 0;
		c->digits = 0;
		return c->left ? CH_DATA : CH_TRAILER;
	}
}

/* A byte after the data or of the trailer section: the next state. */
static int body_tail_byte(struct body_chunked *c, unsigned char ch)
{
	if (c->state >= CH_TRAILER && ++c->trailers > BODY_TRAILERS_MAX)
		return CH_ERROR;
	switch (c->state) {
	case CH_DATA_CR:
		return ch == '\r' ? CH_DATA_LF : CH_ERROR;
	case CH_DATA_LF:
		return ch == '\n' ? CH_SIZE : CH_ERROR;
	case CH_TRAILER:
		if (ch == '\r')
			return CH_END_LF;
		return ch == '\n' || ch == 0 ? CH_ERROR : CH_TRAILER_LINE;
	case CH_TRAILER_LINE:
		if (ch == '\r')
			return CH_TRAILER_LF;
		return ch == '\n' || ch == 0 ? CH_ERROR : CH_TRAILER_LINE;
	case CH_TRAILER_LF:
		return ch == '\n' ? CH_TRAILER : CH_ERROR;
	default: /* CH_END_LF */
		return ch == '\n' ? CH_DONE : CH_ERROR;
	}
}

/* Copy what is there of the current chunk's data; returns bytes taken. */
static size_t body_data(struct body_chunked *c, const char *in, size_t len,
			struct sc_buf *out, int *over)
{
	size_t n = c->left < len ? (size_t)c->left : len;
	if (!*over && sc_buf_append(out, in, n))
		*over = 1;
	c->left -= n;
	if (!c->left)
		c->state = CH_DATA_CR;
	return n;
}

enum body_chunk_rc body_chunked_feed(struct body_chunked *c, const char *in,
				     size_t len, struct sc_buf *out, int *over,
				     size_t *used)
{
	size_t i = 0;
	while (i < len && c->state != CH_DONE && c->state != CH_ERROR) {
		if (c->state == CH_DATA) {
			i += body_data(c, in + i, len - i, out, over);
			continue;
		}
		unsigned char ch = (unsigned char)in[i++];
		if (c->state <= CH_SIZE_LF) {
			if (c->state == CH_SIZE)
				c->left = 0;
			c->state = body_size_byte(c, ch);
		} else {
			c->state = body_tail_byte(c, ch);
		}
	}
	*used = i;
	if (c->state == CH_ERROR)
		return BODY_ERROR;
	return c->state == CH_DONE ? BODY_DONE : BODY_MORE;
}

/* ---- deadlines ---- */

int64_t body_deadline(const struct body_limits *l, int64_t t0, uint64_t got)
{
	uint64_t ms = l->timeout_ms > 0 ? (uint64_t)l->timeout_ms : 0;
	if (l->min_rate > 0) {
		uint64_t r = (uint64_t)l->min_rate;
		uint64_t allow = got / r > UINT64_MAX / 2000
					 ? UINT64_MAX / 2
					 : got / r * 1000 + got % r * 1000 / r;
		ms = allow > UINT64_MAX / 2 - ms ? UINT64_MAX / 2 : ms + allow;
	}
	if (ms > (uint64_t)(INT64_MAX - (t0 > 0 ? t0 : 0)))
		return INT64_MAX;
	return t0 + (int64_t)ms;
}
