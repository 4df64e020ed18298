/*
 * test_io_import.c — the import parsers (orchestrator/io/io_import.c): the
 * real Chrome export and a Firefox export (tests/fixtures/import/), hand-made
 * HTML edge cases, CSV quoting and column order, URL lists, snapcat's JSON,
 * detection, the reasons of rejected records, duplicate merging and order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_import.h"
#include "testhelp.h"

/* The bytes of tests/fixtures/import/<name> (next to this file's dir). */
static char *fixture(const char *name, size_t *len)
{
	char path[4096];
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 1;
	snprintf(path, sizeof(path), "%.*s/../fixtures/import/%s", dir,
		 slash ? __FILE__ : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static struct io_import *parse(const char *s, enum io_format f)
{
	struct io_import *r = NULL;
	char err[300];
	if (io_import_parse(s, strlen(s), f, &r, err, sizeof(err))) {
		fprintf(stderr, "parse failed: %s\n", err);
		return NULL;
	}
	return r;
}

/* The item with this URL, or NULL. */
static const struct io_item *item(const struct io_import *r, const char *url)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (!strcmp(r->items[i].url, url))
			return &r->items[i];
	return NULL;
}

/* "a,b,c" of an item's tags, into buf. */
static const char *tags(const struct io_item *it, char *buf, size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; it && i < it->ntags; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
			 it->tags[i]);
	return buf;
}

/* The code of the reject on this line, or "". */
static const char *reject_at(const struct io_import *r, int line)
{
	for (size_t i = 0; i < r->nrejects; i++)
		if (r->rejects[i].line == line)
			return r->rejects[i].code;
	return "";
}

TEST(chrome_export)
{
	size_t len;
	char *s = fixture("chrome-bookmarks.html", &len), t[512];
	REQUIRE(s);
	REQUIRE(io_detect(s, len) == IO_FMT_HTML);
	struct io_import *r = NULL;
	char err[300];
	REQUIRE(io_import_parse(s, len, IO_FMT_AUTO, &r, err, sizeof(err)) == SC_OK);
	CHECK_EQ_INT(r->format, IO_FMT_HTML);
	CHECK_EQ_INT(r->nitems, 6);
	CHECK_EQ_INT(r->nrejects, 5);
	const struct io_item *ex = item(r, "https://example.org/");
	REQUIRE(ex);
	CHECK_STR(ex->title, "Example Domain");
	CHECK_EQ_INT(ex->ntags, 0); /* the bookmark bar is not a tag */
	CHECK(ex->add_date > 1600000000000LL);
	CHECK_STR(tags(item(r, "https://developer.mozilla.org/en-US/"), t, sizeof(t)),
		  "reading,dev docs");
	/* filed in two folders: both folders' tags */
	CHECK_STR(tags(item(r, "https://www.sqlite.org/backup.html"), t, sizeof(t)),
		  "reading,dev docs,nouvelles été");
	const struct io_item *tom = item(r, "https://example.com/search?q=tom&lang=en");
	REQUIRE(tom);
	CHECK_STR(tom->title, "Tom & Jerry <\"quotes\"> and 'apostrophes'");
	CHECK_STR(item(r, "https://en.wikipedia.org/wiki/Bookmark_(digital)")->title,
		  "Bookmark (digital) — Wikipedia");
	int scheme = 0, dup = 0;
	for (size_t i = 0; i < r->nrejects; i++) {
		scheme += !strcmp(r->rejects[i].code, "unsupported_scheme");
		dup += !strcmp(r->rejects[i].code, "duplicate");
		CHECK(r->rejects[i].line > 8 && r->rejects[i].reason[0]);
	}
	CHECK_EQ_INT(scheme, 3); /* javascript:, chrome:, ftp: */
	CHECK_EQ_INT(dup, 2);
	io_import_free(&r);
	free(s);
}

TEST(firefox_export)
{
	size_t len;
	char *s = fixture("firefox-bookmarks.html", &len), t[512];
	REQUIRE(s);
	struct io_import *r = NULL;
	char err[300];
	REQUIRE(io_import_parse(s, len, IO_FMT_HTML, &r, err, sizeof(err)) == SC_OK);
	CHECK_EQ_INT(r->nitems, 6);
	CHECK_EQ_INT(r->nrejects, 5);
	CHECK_STR(reject_at(r, 12), "unsupported_scheme"); /* place: */
	CHECK_STR(tags(item(r, "https://lwn.net/"), t, sizeof(t)), "linux,news,reading");
	CHECK_STR(tags(item(r, "https://git.example.net/snapcat/"), t, sizeof(t)),
		  "work & projects,code");
	CHECK_STR(tags(item(r, "https://support.mozilla.org/products/firefox"), t,
		       sizeof(t)), "mozilla firefox");
	CHECK_STR(item(r, "https://www.openstreetmap.org/")->title, "OpenStreetMap");
	int invalid = 0;
	for (size_t i = 0; i < r->nrejects; i++)
		invalid += !strcmp(r->rejects[i].code, "invalid_url");
	CHECK_EQ_INT(invalid, 1); /* user:secret@ */
	/* dated: oldest first */
	for (size_t i = 1; i < r->nitems; i++)
		CHECK(r->items[i - 1].add_date <= r->items[i].add_date);
	CHECK_EQ_INT(r->items[0].add_date, 1700000002000LL);
	io_import_free(&r);
	free(s);
}

TEST(html_edges)
{
	char t[256];
	/* lowercase tags, unquoted and single-quoted attributes, no </A>,
	 * numeric entities, a comment with a fake bookmark, deep nesting */
	struct io_import *r = parse(
		"<dl><dt><h3>A</h3><dl><p>\n"
		"<dt><a href=https://a.example/x add_date=1>&#x41;&#66;&amp;c\n"
		"<!-- <DT><A HREF=\"https://hidden.example/\">no</A> -->\n"
		"<dt><a HREF='https://b.example/' TAGS=' X , y,,x '>B</a>\n"
		"</dl><dt><a href=\"https://c.example/\">C</a><dt><a>no href</a>"
		"<dt><a href=\"\">empty</a></dl>", IO_FMT_AUTO);
	REQUIRE(r);
	CHECK_EQ_INT(r->format, IO_FMT_HTML);
	CHECK_EQ_INT(r->nitems, 3);
	CHECK(!item(r, "https://hidden.example/"));
	CHECK_STR(item(r, "https://a.example/x")->title, "AB&c");
	CHECK_STR(tags(item(r, "https://a.example/x"), t, sizeof(t)), "a");
	CHECK_STR(tags(item(r, "https://b.example/"), t, sizeof(t)), "a,x,y");
	CHECK_EQ_INT(item(r, "https://c.example/")->ntags, 0);
	CHECK_EQ_INT(r->nrejects, 2);
	CHECK_STR(r->rejects[0].code, "missing_url");
	io_import_free(&r);
	/* nesting deeper than kept, unbalanced closers, a lone '<' */
	struct sc_buf b;
	sc_buf_init(&b, 0);
	for (int i = 0; i < 80; i++)
		(void)!sc_buf_printf(&b, "<DT><H3>f%d</H3><DL>", i);
	(void)!sc_buf_appends(&b, "<A HREF=\"https://deep.example/\">a < b</A>");
	for (int i = 0; i < 90; i++)
		(void)!sc_buf_appends(&b, "</DL>");
	(void)!sc_buf_appends(&b, "<A HREF=\"https://top.example/\">t</A>");
	r = parse(b.data, IO_FMT_HTML);
	REQUIRE(r);
	CHECK_EQ_INT(r->nitems, 2);
	CHECK_EQ_INT(item(r, "https://deep.example/")->ntags, 64);
	CHECK_STR(item(r, "https://deep.example/")->title, "a < b");
	CHECK_EQ_INT(item(r, "https://top.example/")->ntags, 0);
	io_import_free(&r);
	sc_buf_free(&b);
}

/* A date column: ISO 8601 or a number (s, ms, µs); bookmarked_at wins
 * over created_at when given; anything else is "unknown" (0), not an
 * error. */
TEST(csv_dates)
{
	struct io_import *r = parse(
		"url,created_at,bookmarked_at\n"
		"https://d1.example/,2026-01-02T03:04:05.678Z,2020-05-06T07:08:09Z\n"
		"https://d2.example/,2026-01-02T03:04:05Z,\n"
		"https://d3.example/,,1700000000\n"
		"https://d4.example/,,1700000000123\n"
		"https://d5.example/,yesterday,\n", IO_FMT_CSV);
	REQUIRE(r);
	CHECK_EQ_INT(r->nitems, 5);
	CHECK(item(r, "https://d1.example/")->add_date == 1588748889000LL);
	CHECK(item(r, "https://d2.example/")->add_date == 1767323045000LL);
	CHECK(item(r, "https://d3.example/")->add_date == 1700000000000LL);
	CHECK(item(r, "https://d4.example/")->add_date == 1700000000123LL);
	CHECK(item(r, "https://d5.example/")->add_date == 0);
	io_import_free(&r);
	r = parse("URL,Date\nhttps://d6.example/,2026-01-02T03:04:05.678Z\n",
		  IO_FMT_CSV);
	REQUIRE(r);
	CHECK(item(r, "https://d6.example/")->add_date == 1767323045678LL);
	io_import_free(&r);
}

TEST(csv)
{
	char t[256];
	struct io_import *r = parse(
		"\xef\xbb\xbfTags,Title,extra,URL\r\n"
		"\"news; tech|x\",\"Hello, \"\"world\"\"\",1,https://a.example/\r\n"
		"\r\n"
		",\"multi\nline\",2,https://b.example/\r\n"
		"a,t,3,javascript:alert(1)\r\n"
		"a,t,4,\r\n"
		"b,,5,https://a.example/#frag\r\n"
		"c,\"open,6,https://c.example/\r\n", IO_FMT_AUTO);
	REQUIRE(r);
	CHECK_EQ_INT(r->format, IO_FMT_CSV);
	CHECK_EQ_INT(r->nitems, 2);
	const struct io_item *a = item(r, "https://a.example/");
	REQUIRE(a);
	CHECK_STR(a->title, "Hello, \"world\"");
	CHECK_STR(tags(a, t, sizeof(t)), "news,tech,x,b");
	CHECK_EQ_INT(a->line, 2);
	CHECK_STR(item(r, "https://b.example/")->title, "multi line");
	CHECK_EQ_INT(item(r, "https://b.example/")->line, 4);
	CHECK_STR(reject_at(r, 6), "unsupported_scheme");
	CHECK_STR(reject_at(r, 7), "missing_url");
	CHECK_STR(reject_at(r, 8), "duplicate");
	CHECK_STR(reject_at(r, 9), "malformed");
	io_import_free(&r);
	/* no url column: the whole file is refused */
	struct io_import *bad = NULL;
	char err[300];
	const char *s = "title,tags\nx,y\n";
	CHECK(io_import_parse(s, strlen(s), IO_FMT_CSV, &bad, err, sizeof(err)) ==
	      SC_ERR_INVALID);
	CHECK(!bad && strstr(err, "url"));
}

TEST(url_list)
{
	struct io_import *r = parse(
		"# my links\n"
		"https://a.example/  A title here\n"
		"\n"
		"   http://B.example:80/x\r\n"
		"not a url\n"
		"file:///etc/passwd\n"
		"https://a.example/\n", IO_FMT_AUTO);
	REQUIRE(r);
	CHECK_EQ_INT(r->format, IO_FMT_URLS);
	CHECK_EQ_INT(r->nitems, 2);
	CHECK_STR(r->items[0].url, "https://a.example/");
	CHECK_STR(r->items[0].title, "A title here");
	CHECK_EQ_INT(r->items[0].line, 2);
	CHECK_STR(r->items[1].url, "http://b.example/x");
	CHECK(!r->items[1].title);
	CHECK_STR(reject_at(r, 5), "invalid_url");
	CHECK_STR(reject_at(r, 6), "unsupported_scheme");
	CHECK_STR(reject_at(r, 7), "duplicate");
	io_import_free(&r);
}

TEST(json)
{
	char t[256];
	struct io_import *r = parse(
		"{\"snapcat_export\":1,\"links\":["
		"{\"url\":\"https://n.example/\",\"title\":\"New\",\"tags\":[\"B\",\"a\"],"
		"\"created_at\":\"2026-01-02T03:04:05.678Z\"},"
		"{\"url\":\"https://o.example/\",\"tags\":\"x,y\",\"created_at\":1600000000000},"
		"3,{\"title\":\"no url\"},"
		"{\"url\":\"ftp://x/\",\"created_at\":5}]}", IO_FMT_AUTO);
	REQUIRE(r);
	CHECK_EQ_INT(r->format, IO_FMT_JSON);
	REQUIRE(r->nitems == 2);
	/* every item dated: oldest first */
	CHECK_STR(r->items[0].url, "https://o.example/");
	CHECK_EQ_INT(r->items[0].add_date, 1600000000000LL);
	CHECK_STR(tags(&r->items[0], t, sizeof(t)), "x,y");
	CHECK_EQ_INT(r->items[1].add_date, 1767323045678LL);
	CHECK_STR(tags(&r->items[1], t, sizeof(t)), "b,a");
	CHECK_STR(reject_at(r, 3), "malformed");
	CHECK_STR(reject_at(r, 4), "missing_url");
	CHECK_STR(reject_at(r, 5), "unsupported_scheme");
	io_import_free(&r);
	r = parse("[{\"url\":\"https://x.example/\"}]", IO_FMT_AUTO);
	REQUIRE(r);
	CHECK_EQ_INT(r->nitems, 1);
	io_import_free(&r);
	struct io_import *bad = NULL;
	char err[300];
	CHECK(io_import_parse("{\"a\":1}", 7, IO_FMT_JSON, &bad, err, sizeof(err)) ==
	      SC_ERR_INVALID);
	CHECK(io_import_parse("{", 1, IO_FMT_JSON, &bad, err, sizeof(err)) ==
	      SC_ERR_INVALID);
	CHECK(!bad);
}

TEST(text_cleaning)
{
	char t[512];
	/* invalid UTF-8 and controls in titles and tags; an over-long tag is
	 * cut to 64 characters; an over-long URL is too_long */
	struct sc_buf b;
	sc_buf_init(&b, 0);
	(void)!sc_buf_appends(&b, "url,title,tags\nhttps://t.example/,\"a\xff\x01\tb\x7f\",");
	for (int i = 0; i < 70; i++)
		(void)!sc_buf_appends(&b, "é");
	(void)!sc_buf_appends(&b, ";ok\nhttps://long.example/");
	for (int i = 0; i < 9000; i++)
		(void)!sc_buf_appends(&b, "x");
	(void)!sc_buf_appends(&b, ",,\n");
	struct io_import *r = parse(b.data, IO_FMT_AUTO);
	REQUIRE(r);
	REQUIRE(r->nitems == 1);
	CHECK_STR(r->items[0].title, "a? b?");
	REQUIRE(r->items[0].ntags == 2);
	CHECK_EQ_INT(strlen(r->items[0].tags[0]), 128); /* 64 x 2 bytes */
	CHECK_STR(r->items[0].tags[1], "ok");
	CHECK_STR(reject_at(r, 3), "too_long");
	CHECK(strlen(r->rejects[0].text) <= IO_REJECT_TEXT_MAX);
	(void)t;
	io_import_free(&r);
	sc_buf_free(&b);
}

TEST(formats)
{
	enum io_format f;
	CHECK(io_format_parse("csv", &f) == SC_OK && f == IO_FMT_CSV);
	CHECK(io_format_parse("CSV", &f) == SC_ERR_INVALID);
	CHECK_STR(io_format_name(IO_FMT_URLS), "urls");
	CHECK_EQ_INT(io_detect("", 0), IO_FMT_URLS);
	CHECK_EQ_INT(io_detect("  [", 3), IO_FMT_JSON);
	CHECK_EQ_INT(io_detect("url\nhttps://x/", 14), IO_FMT_URLS);
	CHECK_EQ_INT(io_detect("title,url\n", 10), IO_FMT_CSV);
	struct io_import *r = parse("", IO_FMT_AUTO);
	REQUIRE(r);
	CHECK_EQ_INT(r->nitems + r->nrejects, 0);
	io_import_free(&r);
	io_import_free(&r); /* NULL-safe */
}

/* A NUL would cut a URL or title short (cJSON's strings and the parsers'
 * end there): the file is refused, not imported with shortened URLs. */
TEST(nul_refused)
{
	static const char json[] = "[{\"url\":\"http://a.example/\\u0000.evil/\"}]";
	static const char title[] = "[{\"url\":\"http://a.example/\",\"title\":"
				    "\"t\\u0000\"}]";
	static const char raw[] = "http://b.example/\0.evil/\nhttp://c.example/\n";
	static const char html[] = "<DT><A HREF=\"http://d.example/\0x\">d</A>\n";
	struct io_import *r = NULL;
	char err[300] = "";
	CHECK_EQ_INT(io_import_parse(json, strlen(json), IO_FMT_AUTO, &r, err,
				     sizeof(err)), SC_ERR_INVALID);
	CHECK(r == NULL && strstr(err, "NUL") != NULL);
	CHECK_EQ_INT(io_import_parse(title, strlen(title), IO_FMT_JSON, &r, err,
				     sizeof(err)), SC_ERR_INVALID);
	CHECK_EQ_INT(io_import_parse(raw, sizeof(raw) - 1, IO_FMT_URLS, &r, err,
				     sizeof(err)), SC_ERR_INVALID);
	CHECK(strstr(err, "NUL byte") != NULL);
	CHECK_EQ_INT(io_import_parse(html, sizeof(html) - 1, IO_FMT_AUTO, &r, err,
				     sizeof(err)), SC_ERR_INVALID);
	CHECK(r == NULL);
	/* an escaped backslash before u0000 is text */
	r = parse("[{\"url\":\"http://e.example/\",\"title\":\"a\\\\u0000\"}]",
		  IO_FMT_JSON);
	REQUIRE(r);
	CHECK_EQ_INT(r->nitems, 1);
	io_import_free(&r);
}

int main(void)
{
	RUN(chrome_export);
	RUN(firefox_export);
	RUN(html_edges);
	RUN(csv);
	RUN(csv_dates);
	RUN(url_list);
	RUN(json);
	RUN(text_cleaning);
	RUN(formats);
	RUN(nul_refused);
	return test_report();
}
