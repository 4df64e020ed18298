/*
 * cli_term.c — server text made safe for a terminal (see cli_term.h): the
 * command-line clients print every string from a server through here.
 *
 *   string -> term_char (one UTF-8 character: sc_utf8_char validates it,
 *   a bad byte is one character of its own) -> term_unsafe -> '?', an
 *   escape, or the bytes as they are -> the FILE or the buffer
 */
#include "cli_term.h"

#include <limits.h>
#include <string.h>

#include "sc.h"

/* One character at s (n > 0 bytes left): returns its length and puts its
 * code point in *cp, or -1 there (length 1) for a byte that does not start
 * a valid UTF-8 sequence. */
static size_t term_char(const unsigned char *s, size_t n, long *cp)
{
	static const unsigned char lead_bits[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	size_t len = sc_utf8_char(s, n);
	if (!len) {
		*cp = -1;
		return 1;
	}
	long v = s[0] & lead_bits[len];
	for (size_t i = 1; i < len; i++)
		v = v << 6 | (s[i] & 0x3f);
	*cp = v;
	return len;
}

/* The characters cli_term.h lists as unsafe; -1 (a bad byte) too. */
static int term_unsafe(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* Terminal columns of a safe code point: 2 for the common East Asian wide
 * and emoji ranges, else 1 (combining marks are over-counted: a line comes
 * out shorter, never longer). */
static int term_cp_width(long cp)
{
	static const long wide[][2] = {
		{0x1100, 0x115f}, {0x2e80, 0x303e}, {0x3041, 0x33ff},
		{0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xa000, 0xa4cf},
		{0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe30, 0xfe4f},
		{0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x1f300, 0x1f64f},
		{0x1f900, 0x1f9ff}, {0x20000, 0x3fffd},
	};
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

/* Columns s takes once cleaned (an unsafe character becomes one '?'). */
static int term_cols(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int cols = 0;
	while (n) {
		long cp;
		size_t len = term_char(p, n, &cp);
		cols += term_unsafe(cp) ? 1 : term_cp_width(cp);
		p += len;
		n -= len;
	}
	return cols;
}

int cli_term_put(FILE *f, const char *s, int width, int pad)
{
	if (!s)
		s = "";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int room = width < 0 || term_cols(s) <= width ? INT_MAX : width - 1;
	int used = 0;
	while (n) {
		long cp;
		size_t len = term_char(p, n, &cp);
		int bad = term_unsafe(cp), w = bad ? 1 : term_cp_width(cp);
		if (used + w > room)
			break;
		if (bad)
			fputc('?', f);
		else
			fwrite(p, 1, len, f);
		used += w;
		p += len;
		n -= len;
	}
	if (n && width > 0) {
		fputs("\xe2\x80\xa6", f); /* … */
		used++;
	}
	while (pad && used < width) {
		fputc(' ', f);
		used++;
	}
	return used;
}

void cli_term_clean(const char *s, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), o = 0;
	while (n) {
		long cp;
		size_t len = term_char(p, n, &cp);
		int bad = term_unsafe(cp);
		size_t w = bad ? 1 : len;
		if (o + w >= outlen)
			break;
		if (bad)
			out[o] = '?';
		else
			memcpy(out + o, p, len);
		o += w;
		p += len;
		n -= len;
	}
	out[o] = '\0';
}

void cli_term_json(FILE *f, const char *js)
{
	const unsigned char *p = (const unsigned char *)js;
	size_t n = strlen(js);
	while (n) {
		long cp;
		size_t len = term_char(p, n, &cp);
		if (cp < 0)
			fputs("\\ufffd", f);
		else if (term_unsafe(cp))
			fprintf(f, "\\u%04lx", cp);
		else
			fwrite(p, 1, len, f);
		p += len;
		n -= len;
	}
	fputc('\n', f);
}
