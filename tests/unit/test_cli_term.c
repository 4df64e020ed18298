/*
 * test_cli_term.c — the command-line clients' terminal sanitiser
 * (cli_term.c): which characters never reach a terminal (C0 with tab and
 * newline, ANSI escapes, DEL, C1, bidi and line controls, bytes that are
 * not UTF-8), which pass, cutting to a width, and JSON lines that stay
 * valid. Output goes to a memory stream (open_memstream).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_term.h"
#include "testhelp.h"

static char Out[4096]; /* the last put()'s output */
static int Cols;       /* and the columns it returned */

/* cli_term_put(s, width, pad) into Out. */
static const char *put(const char *s, int width, int pad)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	Cols = -1;
	Out[0] = '\0';
	if (!f)
		return Out;
	Cols = cli_term_put(f, s, width, pad);
	fclose(f);
	snprintf(Out, sizeof(Out), "%s", mem);
	free(mem);
	return Out;
}

/* cli_term_json(js) into Out, its newline dropped. */
static const char *json_line(const char *js)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	Out[0] = '\0';
	if (!f)
		return Out;
	cli_term_json(f, js);
	fclose(f);
	if (len && mem[len - 1] == '\n')
		mem[--len] = '\0';
	snprintf(Out, sizeof(Out), "%s", mem);
	free(mem);
	return Out;
}

/* The UTF-8 of code point cp (below U+10000) into out (4 bytes). */
static const char *utf8(long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp, out[1] = '\0';
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f)), out[2] = '\0';
	} else {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f)), out[3] = '\0';
	}
	return out;
}

/* cp is replaced by one '?' (text, one column) and escaped (JSON). */
static int refused(long cp)
{
	char s[8], clean[8], want[16];
	cli_term_clean(utf8(cp, s), clean, sizeof(clean));
	snprintf(want, sizeof(want), "\\u%04lx", cp);
	return !strcmp(put(s, -1, 0), "?") && Cols == 1 &&
	       !strcmp(clean, "?") && !strcmp(json_line(s), want);
}

/* cp passes as it is. */
static int kept(long cp)
{
	char s[8], clean[8];
	cli_term_clean(utf8(cp, s), clean, sizeof(clean));
	return !strcmp(put(s, -1, 0), s) && !strcmp(clean, s) &&
	       !strcmp(json_line(s), s);
}

TEST(c0_and_ansi_escapes)
{
	/* colours, a title change (OSC), a bell, tab, CR/LF, DEL, backspace */
	CHECK_STR(put("a\x1b[31mred\x1b[0m \x1b]0;pwned\x07|\t|\r\n|\x7f|\b", -1, 0),
		  "a?[31mred?[0m ?]0;pwned?|?|??|?|?");
	CHECK_EQ_INT(Cols, 33);
	for (long cp = 1; cp < 0x20; cp++)
		CHECK(refused(cp));
	CHECK(refused(0x7f));
	CHECK(kept(' ') && kept('~') && kept('a'));
}

TEST(c1_controls)
{
	for (long cp = 0x80; cp <= 0x9f; cp++) {
		if (!refused(cp))
			fprintf(stderr, "U+%04lX got through\n", cp);
		CHECK(refused(cp));
	}
	CHECK(kept(0xa0)); /* no-break space: the first after C1 */
	CHECK(kept(0xe9)); /* é */
	/* a CSI by its one-character C1 form */
	CHECK_STR(put("x\xc2\x9b" "31mred", -1, 0), "x?31mred");
}

TEST(bidi_and_line_controls)
{
	static const long bad[] = {0x061c, 0x200e, 0x200f, 0x2028, 0x2029,
				   0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
				   0x2066, 0x2067, 0x2068, 0x2069};
	static const long good[] = {0x061b, 0x200d, 0x2027, 0x202f, 0x2065,
				    0x206a, 0x6f22};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (!refused(bad[i]))
			fprintf(stderr, "U+%04lX got through\n", bad[i]);
		CHECK(refused(bad[i]));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECK(kept(good[i]));
	/* "txt.exe" shown reversed by a right-to-left override */
	CHECK_STR(put("file\xe2\x80\xae" "exe.txt", -1, 0), "file?exe.txt");
}

TEST(invalid_utf8)
{
	static const char *const cases[][2] = {
		{"\xff", "?"},                /* never in UTF-8 */
		{"a\x80z", "a?z"},            /* a lone continuation byte */
		{"\xc0\xaf", "??"},           /* overlong '/' */
		{"\xe0\x80\xaf", "???"},      /* overlong, 3 bytes */
		{"\xed\xa0\x80", "???"},      /* a surrogate */
		{"\xf4\x90\x80\x80", "????"}, /* past U+10FFFF */
		{"x\xe2\x80", "x??"},         /* cut short at the end */
		{"\xe2\x80y", "??y"},         /* cut short by an ASCII byte */
		{"\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80", "\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80"},
	};
	char clean[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_STR(put(cases[i][0], -1, 0), cases[i][1]);
		cli_term_clean(cases[i][0], clean, sizeof(clean));
		CHECK_STR(clean, cases[i][1]);
	}
	CHECK_STR(json_line("\"a\xff\xc0\xaf\""), "\"a\\ufffd\\ufffd\\ufffd\"");
}

TEST(width_cut_and_pad)
{
	CHECK_STR(put("abcdef", 4, 0), "abc\xe2\x80\xa6");
	CHECK_EQ_INT(Cols, 4);
	CHECK_STR(put("abc", 5, 1), "abc  ");
	CHECK_EQ_INT(Cols, 5);
	CHECK_STR(put("abcd", 4, 0), "abcd"); /* fits: not cut */
	/* wide characters take two columns and are never cut in half */
	CHECK_STR(put("\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 5, 0),
		  "\xe6\xbc\xa2\xe5\xad\x97\xe2\x80\xa6");
	CHECK_EQ_INT(Cols, 5);
	CHECK_STR(put("\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 4, 1),
		  "\xe6\xbc\xa2\xe2\x80\xa6 ");
	CHECK_EQ_INT(Cols, 4);
	/* an unsafe character is one column: '?' */
	CHECK_STR(put("\x1b\x1b\x1b", 2, 0), "?\xe2\x80\xa6");
	CHECK_STR(put(NULL, 3, 1), "   ");
	CHECK_STR(put("", -1, 0), "");
	CHECK_EQ_INT(Cols, 0);
}

TEST(clean_cuts_at_a_character)
{
	char out[8];
	cli_term_clean("ab\xe6\xbc\xa2z", out, 5); /* 漢 needs 3 of the 4 */
	CHECK_STR(out, "ab");
	cli_term_clean("ab\xe6\xbc\xa2z", out, 6);
	CHECK_STR(out, "ab\xe6\xbc\xa2");
	cli_term_clean("a\x1b" "b\xc2\x9b", out, sizeof(out));
	CHECK_STR(out, "a?b?");
	cli_term_clean("abc", out, 1);
	CHECK_STR(out, "");
	cli_term_clean(NULL, out, sizeof(out));
	CHECK_STR(out, "");
}

/* A JSON line from cJSON keeps its meaning: parsed back, the same string;
 * and no unsafe byte is in it. */
TEST(json_stays_valid)
{
	static const char title[] = "t\x1b[2J\xc2\x9b\xe2\x80\xae\xe2\x80\xa8"
				    "\xe2\x81\xa6x\t\n\xc2\xa0\xe6\xbc\xa2";
	cJSON *o = cJSON_CreateObject();
	REQUIRE(o && cJSON_AddStringToObject(o, "title", title));
	char *js = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	REQUIRE(js);
	const char *line = json_line(js);
	cJSON_free(js);
	CHECK_STR(line, "{\"title\":\"t\\u001b[2J\\u009b\\u202e\\u2028\\u2066x"
			"\\t\\n\xc2\xa0\xe6\xbc\xa2\"}");
	cJSON *back = cJSON_Parse(line);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(back, "title");
	CHECK(cJSON_IsString(t) && !strcmp(t->valuestring, title));
	cJSON_Delete(back);
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f && !(*p == 0xc2 && p[1] < 0xa0));
}

int main(void)
{
	RUN(c0_and_ansi_escapes);
	RUN(c1_controls);
	RUN(bidi_and_line_controls);
	RUN(invalid_utf8);
	RUN(width_cut_and_pad);
	RUN(clean_cuts_at_a_character);
	RUN(json_stays_valid);
	return test_report();
}
