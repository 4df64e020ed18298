/*
 * sc.c — the project's base (see sc.h): results, allocation policy, buffers,
 * clocks, logging and base64. No state but the log level.
 */
#include "sc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static const char *const sc_errnames[] = {
	[SC_OK] = "ok",
	[SC_ERR_NOMEM] = "out of memory",
	[SC_ERR_TOO_LARGE] = "too large",
	[SC_ERR_INVALID] = "invalid input",
	[SC_ERR_IO] = "i/o error",
	[SC_ERR_TIMEOUT] = "timeout",
	[SC_ERR_DISCONNECTED] = "disconnected",
	[SC_ERR_CDP] = "browser error",
	[SC_ERR_PROTOCOL] = "protocol error",
	[SC_ERR_NOT_FOUND] = "not found",
	[SC_ERR_BUSY] = "busy",
	[SC_ERR_CANCELED] = "canceled",
	[SC_ERR_DB] = "database error",
	[SC_ERR_BROWSER] = "browser unavailable",
	[SC_ERR_INTERNAL] = "internal error",
};

const char *sc_strerror(sc_result rc)
{
	if ((unsigned)rc < sizeof(sc_errnames) / sizeof(sc_errnames[0]) &&
	    sc_errnames[rc])
		return sc_errnames[rc];
	return "unknown error";
}

static void sc_oom(size_t n)
{
	fprintf(stderr, "snapcat: out of memory allocating %zu bytes\n", n);
	abort();
}

void *sc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		sc_oom(n);
	return p;
}

void *sc_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		sc_oom(n * size);
	return p;
}

void *sc_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		sc_oom(n);
	return q;
}

char *sc_xstrdup(const char *s)
{
	return s ? sc_xstrndup(s, strlen(s)) : NULL;
}

char *sc_xstrndup(const char *s, size_t n)
{
	char *p = sc_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *sc_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0)
		sc_oom(0);
	return out;
}

/* ---- sc_buf ---- */

void sc_buf_init(struct sc_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap ? cap : SIZE_MAX / 2;
}

sc_result sc_buf_reserve(struct sc_buf *b, size_t extra)
{
	if (extra > b->cap || b->len > b->cap - extra)
		return SC_ERR_TOO_LARGE;
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return SC_OK;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need)
		n = n > SIZE_MAX / 4 ? need : n * 2;
	if (n > b->cap + 1)
		n = b->cap + 1;
	char *p = realloc(b->data, n);
	if (!p)
		return SC_ERR_NOMEM;
	b->data = p;
	b->alloc = n;
	return SC_OK;
}

sc_result sc_buf_append(struct sc_buf *b, const void *p, size_t n)
{
	sc_result rc = sc_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SC_OK;
}

sc_result sc_buf_appends(struct sc_buf *b, const char *s)
{
	return sc_buf_append(b, s, strlen(s));
}

sc_result sc_buf_printf(struct sc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SC_ERR_INVALID;
	sc_result rc = sc_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return SC_OK;
}

void sc_buf_reset(struct sc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sc_buf_free(struct sc_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

char *sc_buf_take(struct sc_buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	return p;
}

/* ---- clocks ---- */

static int64_t sc_clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sc_now_us(void) { return sc_clock_us(CLOCK_MONOTONIC); }
int64_t sc_now_ms(void) { return sc_clock_us(CLOCK_MONOTONIC) / 1000; }
int64_t sc_wall_ms(void) { return sc_clock_us(CLOCK_REALTIME) / 1000; }

void sc_iso8601(int64_t wall_ms, char *out, size_t outlen)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03dZ", base, (int)(wall_ms % 1000));
}

/* ---- logging ---- */

static enum sc_log_level sc_log_level = SC_LOG_INFO;

static int sc_log_json;

void sc_log_set_level(enum sc_log_level lvl) { sc_log_level = lvl; }
void sc_log_set_json(int on) { sc_log_json = on; }

/* {"ts","level","module","msg"} on one line (JSON escapes the message). */
static void sc_log_json_line(const char *ts, const char *lvl,
			     const char *module, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddStringToObject(o, "level", lvl);
	cJSON_AddStringToObject(o, "module", module);
	cJSON_AddStringToObject(o, "msg", msg);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s)
		fprintf(stderr, "%s\n", s);
	cJSON_free(s);
}

void sc_log(enum sc_log_level lvl, const char *module, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	if (lvl < sc_log_level)
		return;
	char ts[32], msg[1024];
	sc_iso8601(sc_wall_ms(), ts, sizeof(ts));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one write per line so that lines from threads do not interleave */
	if (sc_log_json)
		sc_log_json_line(ts, names[lvl], module, msg);
	else
		fprintf(stderr, "%s %s %s: %s\n", ts, names[lvl], module, msg);
}

/* ---- UTF-8 ---- */

size_t sc_utf8_char(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* ---- base64 ---- */

static int sc_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

sc_result sc_base64_decode_inplace(char *buf, size_t len, size_t *outlen)
{
	if (len % 4)
		return SC_ERR_INVALID;
	size_t pad = 0;
	if (len && buf[len - 1] == '=')
		pad++;
	if (len > 1 && buf[len - 2] == '=')
		pad++;
	unsigned char *out = (unsigned char *)buf;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)buf[i + k];
			int last = i + 4 == len;
			v[k] = (c == '=' && last && k >= 4 - (int)pad) ? 0
								       : sc_b64val(c);
			if (v[k] < 0)
				return SC_ERR_INVALID;
		}
		uint32_t n = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		out[o++] = (unsigned char)(n >> 16);
		out[o++] = (unsigned char)(n >> 8);
		out[o++] = (unsigned char)n;
	}
	*outlen = o - pad;
	return SC_OK;
}

/* ---- strings ---- */

sc_result sc_snprintf(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= dstlen)
		return SC_ERR_TOO_LARGE;
	return SC_OK;
}

sc_result sc_parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return SC_ERR_INVALID;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return SC_ERR_INVALID;
	*out = v;
	return SC_OK;
}

sc_result sc_parse_size(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return SC_ERR_INVALID;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = 0;
	switch (*end | 0x20) {
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	default: break;
	}
	if (errno || *end || v == 0 || v > (1ULL << 50) >> shift)
		return SC_ERR_INVALID;
	*out = (uint64_t)v << shift;
	return SC_OK;
}

sc_result sc_parse_double(const char *s, double min, double max, double *out)
{
	if (!s || !*s)
		return SC_ERR_INVALID;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !(v >= min && v <= max))
		return SC_ERR_INVALID;
	*out = v;
	return SC_OK;
}

/* ---- files ---- */

static int sc_rm_entry(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int r = type == FTW_DP ? rmdir(path) : unlink(path);
	return r && errno != ENOENT ? -1 : 0;
}

sc_result sc_remove_tree(const char *dir)
{
	if (access(dir, F_OK) && errno == ENOENT)
		return SC_OK;
	return nftw(dir, sc_rm_entry, 16, FTW_DEPTH | FTW_PHYS) ? SC_ERR_IO
								: SC_OK;
}
