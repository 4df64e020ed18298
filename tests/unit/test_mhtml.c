/*
 * test_mhtml.c — the MHTML parser and rewriter (orchestrator/io/mhtml.h):
 * Chromium's shape (a folded boundary, quoted-printable HTML and CSS, base64
 * images, cid: parts), URL rewriting in attributes, style, url() and
 * @import, and hostile input (no boundary, cut short, bad base64, too many
 * parts, random bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mhtml.h"
#include "testhelp.h"

#define B "----MultipartBoundary--abc----"

static const char sample[] =
	"From: <Saved by Blink>\r\n"
	"Snapshot-Content-Location: http://h.test/dir/page.html\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/related;\r\n"
	"\ttype=\"text/html\";\r\n"
	"\tboundary=\"" B "\"\r\n"
	"\r\n"
	"\r\n"
	"--" B "\r\n"
	"Content-Type: text/html\r\n"
	"Content-ID: <frame-1@mhtml.blink>\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"Content-Location: http://h.test/dir/page.html\r\n"
	"\r\n"
	"<html><head><link rel=3D\"stylesheet\" href=3D\"cid:css-1@mhtml.blink\"=\r\n"
	" /></head><body><img src=3D\"http://h.test/a.png?x=3D1&amp;y=3D2\">\r\n"
	"<div style=3D\"background:url('/a.png?x=3D1&amp;y=3D2')\"></div>\r\n"
	"<iframe src=3D\"cid:frame-2@mhtml.blink\"></iframe>\r\n"
	"<a href=3D\"https://else.test/\">out</a><a href=3D\"page.html#top\">t</a>=\r\n"
	"<img src=3D\"/missing.png\"><img src=3D\"../x/./../a.png?x=3D1&amp;y=3D2\">=\r\n"
	"<img src=3D\"./sub/../../../../a.png?x=3D1&amp;y=3D2\"></body></html>\r\n"
	"--" B "\r\n"
	"Content-Type: image/png\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Location: http://h.test/a.png?x=1&y=2\r\n"
	"\r\n"
	"iVBORw0K\r\n"
	"GgoA\r\n"
	"--" B "\r\n"
	"Content-Type: text/css\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"Content-Location: cid:css-1@mhtml.blink\r\n"
	"\r\n"
	"@import \"http://h.test/dir/s.css\"; b { background: url(/a.png?x=3D1&y=3D2) }\r\n"
	"--" B "\r\n"
	"Content-Type: text/html\r\n"
	"Content-ID: <frame-2@mhtml.blink>\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"Content-Location: http://h.test/f.html\r\n"
	"\r\n"
	"<p>frame =E2=9C=93</p>\r\n"
	"--" B "\r\n"
	"Content-Type: text/css\r\n"
	"Content-Location: http://h.test/dir/s.css\r\n"
	"\r\n"
	"i { color: red }\r\n"
	"--" B "--\r\n";

static char *render(const struct mhtml *m, int i)
{
	struct sc_buf b;
	sc_buf_init(&b, 1 << 20);
	if (mhtml_render(m, i, "/p/", "?token=t", &b)) {
		sc_buf_free(&b);
		return NULL;
	}
	return sc_buf_take(&b, NULL);
}

TEST(chromium_shape)
{
	struct mhtml *m = NULL;
	REQUIRE(!mhtml_parse(sample, sizeof(sample) - 1, &m));
	CHECK_EQ_INT(mhtml_count(m), 5);
	CHECK_STR(mhtml_type(m, 0), "text/html");
	CHECK_STR(mhtml_type(m, 1), "image/png");
	char *html = render(m, 0);
	REQUIRE(html);
	CHECK(strstr(html, "href=\"/p/2?token=t\" />") != NULL); /* cid: css, soft break */
	CHECK(strstr(html, "<img src=\"/p/1?token=t\">") != NULL); /* &amp; decoded */
	CHECK(strstr(html, "url('/p/1?token=t')") != NULL);        /* relative */
	CHECK(strstr(html, "<iframe src=\"/p/3?token=t\">") != NULL);
	CHECK(strstr(html, "href=\"https://else.test/\"") != NULL);
	CHECK(strstr(html, "href=\"/p/0?token=t#top\"") != NULL);
	/* a URL that names no part is written absolute: the CSP refuses it */
	CHECK(strstr(html, "src=\"http://h.test/missing.png\"") != NULL);
	/* dot segments: dir/../x/./../a.png is /a.png; ".." never climbs past / */
	CHECK(strstr(html, "<img src=\"/p/1?token=t\"><img src=\"/p/1?token=t\">") != NULL);
	CHECK(strstr(html, "<img src=\"/p/1?token=t\"></body>") != NULL);
	free(html);
	char *css = render(m, 2); /* cid: css resolves against the main page */
	REQUIRE(css);
	CHECK(strstr(css, "@import \"/p/4?token=t\"") != NULL);
	CHECK(strstr(css, "url(/p/1?token=t)") != NULL);
	free(css);
	char *png = render(m, 1);
	REQUIRE(png);
	CHECK(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	free(png);
	char *frame = render(m, 3);
	REQUIRE(frame);
	CHECK_STR(frame, "<p>frame \xe2\x9c\x93</p>");
	free(frame);
	char *plain = render(m, 4);
	REQUIRE(plain);
	CHECK_STR(plain, "i { color: red }");
	free(plain);
	struct sc_buf b;
	sc_buf_init(&b, 0);
	CHECK_EQ_INT(mhtml_render(m, 5, "/p/", "", &b), SC_ERR_NOT_FOUND);
	CHECK_EQ_INT(mhtml_render(m, -1, "/p/", "", &b), SC_ERR_NOT_FOUND);
	sc_buf_free(&b);
	mhtml_free(&m);
	CHECK(m == NULL);
	mhtml_free(&m);
}

TEST(hostile)
{
	struct mhtml *m = NULL;
	static const char *const bad[] = {
		"", "no headers at all", "Content-Type: text/html\r\n\r\n<p>",
		"Content-Type: multipart/related; boundary=\"\"\r\n\r\n--\r\n",
		"Content-Type: multipart/related; boundary=x\r\n\r\nno part\r\n",
		NULL};
	for (int i = 0; bad[i]; i++) {
		CHECK_EQ_INT(mhtml_parse(bad[i], strlen(bad[i]), &m), SC_ERR_PROTOCOL);
		CHECK(m == NULL);
	}
	/* cut short: the parts that are there */
	REQUIRE(!mhtml_parse(sample, 700, &m));
	CHECK(mhtml_count(m) >= 1);
	char *html = render(m, 0);
	free(html);
	mhtml_free(&m);
	/* base64 that does not decode */
	static const char b64[] =
		"Content-Type: multipart/related; boundary=x\r\n\r\n"
		"--x\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
		"\r\n!!!!\r\n--x--\r\n";
	REQUIRE(!mhtml_parse(b64, sizeof(b64) - 1, &m));
	struct sc_buf b;
	sc_buf_init(&b, 0);
	CHECK_EQ_INT(mhtml_render(m, 0, "/p/", "", &b), SC_ERR_PROTOCOL);
	/* a cap on the output */
	sc_buf_free(&b);
	mhtml_free(&m);
	REQUIRE(!mhtml_parse(sample, sizeof(sample) - 1, &m));
	sc_buf_init(&b, 16);
	CHECK_EQ_INT(mhtml_render(m, 0, "/p/", "", &b), SC_ERR_TOO_LARGE);
	sc_buf_free(&b);
	mhtml_free(&m);
	/* a dangling '=' and a truncated url( */
	static const char edge[] =
		"Content-Type: multipart/related; boundary=x\r\n\r\n"
		"--x\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: "
		"quoted-printable\r\nContent-Location: rel\r\n\r\n<a href=3D\"//x\">url( src=3D=";
	REQUIRE(!mhtml_parse(edge, sizeof(edge) - 1, &m));
	html = render(m, 0);
	CHECK(html != NULL);
	free(html);
	mhtml_free(&m);
}

TEST(too_many_parts)
{
	struct sc_buf f;
	sc_buf_init(&f, 0);
	REQUIRE(!sc_buf_appends(&f, "Content-Type: multipart/related; boundary=x\r\n\r\n"));
	for (int i = 0; i <= MHTML_PARTS_MAX; i++)
		REQUIRE(!sc_buf_appends(&f, "--x\r\n\r\np\r\n"));
	struct mhtml *m = NULL;
	CHECK_EQ_INT(mhtml_parse(f.data, f.len, &m), SC_ERR_TOO_LARGE);
	CHECK(m == NULL);
	sc_buf_free(&f);
}

TEST(random_bytes)
{
	unsigned seed = 17;
	char buf[2048];
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		size_t k = sizeof(sample) - 1 < n ? sizeof(sample) - 1 : n;
		memcpy(buf, sample, k); /* a real head, then noise in it */
		for (int j = 0; j < 12 && n; j++)
			buf[(size_t)rand_r(&seed) % n] = (char)rand_r(&seed);
		for (size_t j = k; j < n; j++)
			buf[j] = "=<>\"' url(src=--\r\n"[rand_r(&seed) % 19];
		struct mhtml *m = NULL;
		if (mhtml_parse(buf, n, &m))
			continue;
		for (int i = 0; i < mhtml_count(m); i++)
			free(render(m, i));
		mhtml_free(&m);
	}
	CHECK(1);
}

int main(void)
{
	RUN(chromium_shape);
	RUN(hostile);
	RUN(too_many_parts);
	RUN(random_bytes);
	return test_report();
}
