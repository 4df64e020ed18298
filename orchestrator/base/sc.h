/*
 * sc.h — the project's base: one result type, the out-of-memory policy,
 * capped growable buffers, clocks, logging and base64.
 *
 * Every module (cdp/, orchestrator/, http/) builds on this file. It lives in
 * cdp/ because cdp is the lowest library in the link order (cdp <- orchestrator
 * <- http <- snapcat) and may include nothing from the others.
 *
 * Out-of-memory policy (decided once; docs/STYLE.md, "Errors and memory"):
 *   - small internal allocations use sc_xmalloc() & co., which abort on
 *     failure: there is no sane recovery from a 64-byte malloc failing;
 *   - anything sized by the network or by a page (CDP frames, base64
 *     screenshots, PNG bytes, request bodies) goes into a struct sc_buf with a
 *     hard cap; growing past the cap or failing to allocate returns
 *     SC_ERR_TOO_LARGE / SC_ERR_NOMEM to the caller.
 */
#ifndef SC_H
#define SC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SC_MUST_CHECK __attribute__((warn_unused_result))
#define SC_PRINTF(a, b) __attribute__((format(printf, a, b)))
/* A switch case that goes on into the next one, on purpose (gcc and clang
 * both check -Wimplicit-fallthrough; clang ignores comments) */
#define SC_FALLTHROUGH __attribute__((fallthrough))
#else
#define SC_MUST_CHECK
#define SC_PRINTF(a, b)
#define SC_FALLTHROUGH
#endif

/* The one result type of the project. 0 is success. */
typedef enum sc_result {
	SC_OK = 0,
	SC_ERR_NOMEM,        /* an allocation sized by input failed */
	SC_ERR_TOO_LARGE,    /* input over a configured cap */
	SC_ERR_INVALID,      /* bad argument / malformed input */
	SC_ERR_IO,           /* file system or socket error (see errno) */
	SC_ERR_TIMEOUT,      /* a deadline passed */
	SC_ERR_DISCONNECTED, /* the peer (browser, client) went away */
	SC_ERR_CDP,          /* the browser answered a command with an error */
	SC_ERR_PROTOCOL,     /* a peer sent something we cannot parse */
	SC_ERR_NOT_FOUND,    /* an id or a file that does not exist */
	SC_ERR_BUSY,         /* a limit on concurrent work was reached */
	SC_ERR_CANCELED,     /* the operation was canceled by its owner */
	SC_ERR_DB,           /* SQLite reported an error */
	SC_ERR_BROWSER,      /* the browser could not be launched or reached */
	SC_ERR_INTERNAL      /* a bug: an invariant did not hold */
} sc_result;

/* Static, never NULL: "timeout", "disconnected", ... */
const char *sc_strerror(sc_result rc);

/* ---- allocation: abort on failure (small, internal sizes only) ---- */
void *sc_xmalloc(size_t n);
void *sc_xcalloc(size_t n, size_t size);
void *sc_xrealloc(void *p, size_t n);
char *sc_xstrdup(const char *s);               /* s may be NULL -> NULL */
char *sc_xstrndup(const char *s, size_t n);
char *sc_xasprintf(const char *fmt, ...) SC_PRINTF(1, 2);

/*
 * ---- struct sc_buf: a growable byte buffer with a hard cap ----
 * Fields are public so that callers can read data/len; grow it only through
 * the functions. data is always NUL-terminated after a successful append
 * (the terminator is not counted in len), so text can be used as a C string.
 */
struct sc_buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap; /* maximum len; 0 means SIZE_MAX/2 */
};

void sc_buf_init(struct sc_buf *b, size_t cap);
/* Ensure room for len+extra bytes (+1 for the NUL). SC_ERR_TOO_LARGE past the
 * cap, SC_ERR_NOMEM if realloc fails; b is unchanged on error. */
sc_result sc_buf_reserve(struct sc_buf *b, size_t extra) SC_MUST_CHECK;
sc_result sc_buf_append(struct sc_buf *b, const void *p, size_t n) SC_MUST_CHECK;
sc_result sc_buf_appends(struct sc_buf *b, const char *s) SC_MUST_CHECK;
sc_result sc_buf_printf(struct sc_buf *b, const char *fmt, ...)
	SC_PRINTF(2, 3) SC_MUST_CHECK;
/* Drop the contents, keep the allocation. */
void sc_buf_reset(struct sc_buf *b);
/* Free the contents; b can be reused after sc_buf_init. NULL is fine. */
void sc_buf_free(struct sc_buf *b);
/* Hand the data to the caller (who frees it with free()); b is reset to
 * empty. Returns NULL if b is empty and never allocated. */
char *sc_buf_take(struct sc_buf *b, size_t *len);

/* ---- clocks ---- */
int64_t sc_now_ms(void);   /* CLOCK_MONOTONIC, milliseconds */
int64_t sc_now_us(void);   /* CLOCK_MONOTONIC, microseconds */
int64_t sc_wall_ms(void);  /* CLOCK_REALTIME, ms since the epoch */
/* ISO 8601 UTC with milliseconds, "2026-01-02T03:04:05.678Z"; out >= 25. */
void sc_iso8601(int64_t wall_ms, char *out, size_t outlen);

/* ---- logging: one line to stderr, "2026-...Z level module: message" ---- */
enum sc_log_level { SC_LOG_DEBUG, SC_LOG_INFO, SC_LOG_WARN, SC_LOG_ERROR };
/* Length of the valid UTF-8 character at s (n > 0 bytes left): 1-4, or 0
 * if it is not valid (overlong, surrogate, past U+10FFFF, cut short). */
size_t sc_utf8_char(const unsigned char *s, size_t n);

void sc_log_set_level(enum sc_log_level lvl);
/* 1: log JSON lines {"ts","level","module","msg"} instead of text. */
void sc_log_set_json(int on);
void sc_log(enum sc_log_level lvl, const char *module, const char *fmt, ...)
	SC_PRINTF(3, 4);

/* ---- base64 ---- */
/*
 * Decode standard base64 in place: the decoded bytes overwrite the start of
 * buf (decoding never grows data). Whitespace is not accepted. Returns
 * SC_OK and sets *outlen, or SC_ERR_INVALID on a bad character or length.
 */
sc_result sc_base64_decode_inplace(char *buf, size_t len, size_t *outlen)
	SC_MUST_CHECK;

/* ---- strings ---- */
/* snprintf that never truncates silently: SC_ERR_TOO_LARGE if it would. */
sc_result sc_snprintf(char *dst, size_t dstlen, const char *fmt, ...)
	SC_PRINTF(3, 4) SC_MUST_CHECK;
/* Parse a whole decimal integer in [min,max]; SC_ERR_INVALID otherwise. */
sc_result sc_parse_long(const char *s, long min, long max, long *out)
	SC_MUST_CHECK;
sc_result sc_parse_double(const char *s, double min, double max, double *out)
	SC_MUST_CHECK;
/* A byte size: digits with an optional k, m or g suffix (powers of 1024),
 * e.g. "500m"; from 1 to 2^50. */
sc_result sc_parse_size(const char *s, uint64_t *out) SC_MUST_CHECK;

/* ---- files ---- */
/* rm -rf of dir without following symlinks (nftw FTW_PHYS|FTW_DEPTH).
 * SC_OK if dir does not exist; SC_ERR_IO (errno set) if something stays. */
sc_result sc_remove_tree(const char *dir) SC_MUST_CHECK;

#endif
