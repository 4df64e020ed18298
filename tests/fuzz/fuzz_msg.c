/*
 * fuzz_msg.c — libFuzzer target for cdp/msg.c, the parser of every
 * DevTools-protocol message Chromium sends (cdp_msg_parse, which detaches
 * big strings in place), and for cdp_json_path / cdp_json_unescape.
 *
 *   tests/fuzz/run-fuzzers 60 msg      (libFuzzer, clang, ASan+UBSan)
 *   ctest -R fuzz.msg                  (corpus replay, any compiler)
 *
 * Input: byte 0 picks the big-string threshold: (b & 63) + 1 bytes, or
 * 0 (the default, 256 KiB: the plain cJSON path) when b >= 0xC0; the rest is
 * the message.
 *
 * Properties checked on every input (abort() on violation):
 *   - the result is SC_OK or SC_ERR_PROTOCOL; on error *out is all zero;
 *   - on SC_OK: a tree; nbig <= CDP_MSG_MAX_BIG; the msg owns the buffer
 *     exactly when it has big strings; every big string lies inside that
 *     buffer, is NUL-terminated, no longer than its raw text (>= the
 *     threshold), has a NUL-terminated path that cdp_msg_find_big finds;
 *   - differential, against cJSON parsing the whole message (strict: only
 *     whitespace after the value) when the input has no control byte but
 *     \t \n \r (cJSON takes any byte <= ' ' for whitespace), no "\u"
 *     without 4 hex digits (cJSON reads bad digits as 0), every
 *     number is finite (cJSON_Compare says inf != inf) and every object
 *     key is plain ([A-Za-z0-9_-], unique in its object) so a dotted path
 *     names one node (a key written with escapes, e.g. "k\u0065y", gets
 *     its raw text in the path, which names no node: not compared):
 *       . a message cJSON accepts, nested at most CDP_MSG_MAX_DEPTH deep,
 *         is accepted;
 *       . when both accept: each big string's node in the small tree is ""
 *         and, put back in place, the small tree equals cJSON's tree;
 *   - cdp_json_unescape never grows a string and NUL-terminates it;
 *   - cdp_msg_free leaves a zeroed msg; nothing leaks (LeakSanitizer).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define FUZZ_NAME "fuzz_msg"
#include "fuzz.h"

/* Every key [A-Za-z0-9_-]+ and unique in its object, every number finite;
 * depth of the tree. */
static int fuzz_plain(const cJSON *j, int depth, int *maxdepth)
{
	if (depth > *maxdepth)
		*maxdepth = depth;
	/* cJSON_Compare says inf != inf (1e999): not comparable */
	if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
		return 0;
	for (const cJSON *c = j->child; c; c = c->next) {
		if (cJSON_IsObject(j)) {
			const char *k = c->string;
			if (!k || !*k || k[strspn(k, "abcdefghijklmnopqrstuvwxyz"
						     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						     "0123456789_-")])
				return 0;
			for (const cJSON *d = j->child; d != c; d = d->next)
				if (!strcmp(d->string, k))
					return 0;
		}
		if (!fuzz_plain(c, depth + 1, maxdepth))
			return 0;
	}
	return 1;
}

/* No control byte but \t \n \r: cJSON skips any byte <= ' ' as
 * whitespace, JSON (and msg.c) only those four. */
static int fuzz_no_ctl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t' &&
		    s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

/* A "\u" not followed by 4 hex digits: cJSON reads bad digits as 0
 * ("\u000%" is U+0000 to it), JSON and msg.c reject them. Conservative:
 * also counts an escaped backslash followed by 'u'. */
static int fuzz_bad_u(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\' || s[i + 1] != 'u')
			continue;
		for (size_t k = i + 2; k < i + 6; k++)
			if (k >= len || !strchr("0123456789abcdefABCDEF", s[k]) ||
			    !s[k])
				return 1;
	}
	return 0;
}

static int fuzz_zeroed(const struct cdp_msg *m)
{
	static const struct cdp_msg zero;
	return !memcmp(m, &zero, sizeof(zero));
}

/* The fields of a parsed message (buf/len: the input it was parsed from). */
static void fuzz_check_fields(const struct cdp_msg *m, const char *buf,
			      size_t len, size_t threshold)
{
	FUZZ_ASSERT(m->root);
	FUZZ_ASSERT(m->nbig <= CDP_MSG_MAX_BIG);
	FUZZ_ASSERT((m->buf != NULL) == (m->nbig > 0));
	for (size_t i = 0; i < m->nbig; i++) {
		const struct cdp_msg_big *b = &m->big[i];
		FUZZ_ASSERT(memchr(b->path, '\0', sizeof(b->path)));
		FUZZ_ASSERT(b->s >= m->buf && b->s + b->len <= m->buf + len);
		FUZZ_ASSERT(b->s[b->len] == '\0');
		/* the raw body began at b->s: unescaping only shrinks */
		size_t raw = (size_t)(b->s - m->buf);
		FUZZ_ASSERT(raw > 0 && buf[raw - 1] == '"');
		const char *close = buf + raw;
		for (;;) { /* the raw body's closing quote */
			close = memchr(close, '"', (size_t)(buf + len - close));
			FUZZ_ASSERT(close);
			size_t bs = 0;
			while (close - bs > buf + raw && close[-1 - (long)bs] == '\\')
				bs++;
			if (!(bs & 1))
				break;
			close++;
		}
		FUZZ_ASSERT((size_t)(close - (buf + raw)) >= threshold);
		FUZZ_ASSERT(b->len <= (size_t)(close - (buf + raw)));
		const struct cdp_msg_big *f = cdp_msg_find_big(m, b->path);
		FUZZ_ASSERT(f && f <= b && !strcmp(f->path, b->path));
	}
}

/* The node of the tree at t that is want (a const view of it), or NULL. */
static cJSON *fuzz_node(cJSON *t, const cJSON *want)
{
	if (t == want)
		return t;
	for (cJSON *c = t ? t->child : NULL; c; c = c->next) {
		cJSON *n = fuzz_node(c, want);
		if (n)
			return n;
	}
	return NULL;
}

/* Both accepted: the small tree with the big strings put back equals ref. */
static void fuzz_compare(const struct cdp_msg *m, const cJSON *ref)
{
	cJSON *dup = cJSON_Duplicate(m->root, 1);
	FUZZ_ASSERT(dup);
	for (size_t i = 0; i < m->nbig; i++) {
		cJSON *n = fuzz_node(dup, cdp_json_path(dup, m->big[i].path));
		if (!n) { /* a key written with escapes: its path is the raw
			     text ("k\\u0065y"), which names no cJSON node */
			cJSON_Delete(dup);
			return;
		}
		FUZZ_ASSERT(cJSON_IsString(n) && n->valuestring);
		FUZZ_ASSERT(n->valuestring[0] == '\0');
		FUZZ_ASSERT(cJSON_SetValuestring(n, m->big[i].s));
	}
	if (!cJSON_Compare(dup, ref, 1)) {
		char *a = cJSON_PrintUnformatted(dup), *b = cJSON_PrintUnformatted(ref);
		fprintf(stderr, "msg: %s\ncJSON: %s\n", a ? a : "?", b ? b : "?");
		abort();
	}
	cJSON_Delete(dup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	size_t threshold = data[0] >= 0xC0 ? 0 : (size_t)(data[0] & 63) + 1;
	size_t len = size - 1;
	const char *text = (const char *)data + 1;

	/* the reference: strict cJSON over a copy */
	char *copy = malloc(len + 1);
	FUZZ_ASSERT(copy);
	memcpy(copy, text, len);
	copy[len] = '\0';
	const char *end = NULL;
	cJSON *ref = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
	int maxdepth = 0;
	int comparable = ref && fuzz_no_ctl(text, len) && !fuzz_bad_u(text, len) &&
			 fuzz_plain(ref, 0, &maxdepth);

	/* the parser under test owns (and frees) its buffer */
	char *buf = malloc(len + 1);
	FUZZ_ASSERT(buf);
	memcpy(buf, text, len);
	buf[len] = '\0';
	struct cdp_msg m;
	sc_result rc = cdp_msg_parse(buf, len, threshold, &m);
	FUZZ_ASSERT(rc == SC_OK || rc == SC_ERR_PROTOCOL);
	if (rc) {
		FUZZ_ASSERT(fuzz_zeroed(&m));
		/* only the scanning path (len >= threshold) has a depth cap */
		if (comparable && maxdepth <= CDP_MSG_MAX_DEPTH && threshold) {
			fprintf(stderr, "rejected, cJSON accepts: %.*s\n",
				(int)len, text);
			abort();
		}
	} else {
		fuzz_check_fields(&m, text, len, threshold ? threshold
							   : CDP_MSG_BIG_STRING);
		if (comparable && threshold)
			fuzz_compare(&m, ref);
		/* paths from the message itself, and a few fixed ones */
		for (size_t i = 0; i < m.nbig; i++)
			(void)cdp_json_path(m.root, m.big[i].path);
		(void)cdp_json_path(m.root, "result.data");
		(void)cdp_json_path(m.root, "params.0.a");
		(void)cdp_json_path(m.root, "-1");
		(void)cdp_msg_find_big(&m, "");
	}
	cdp_msg_free(&m);
	FUZZ_ASSERT(fuzz_zeroed(&m));
	cdp_msg_free(NULL);
	cJSON_Delete(ref);

	/* the unescaper on the raw bytes */
	memcpy(copy, text, len);
	copy[len] = '\0';
	size_t n = cdp_json_unescape(copy, len);
	FUZZ_ASSERT(n == (size_t)-1 || (n <= len && copy[n] == '\0'));
	free(copy);
	return 0;
}
