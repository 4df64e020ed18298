/*
 * test_options.c — the capture options of `snapcat capture` (flags) against
 * a real Chromium and the fixture pages, with the PNGs decoded and checked:
 * mobile emulation at scale 3, headers and cookies that reach the page (and
 * are not printed), hidden selectors, consent banners handled or left
 * alone, dark mode, viewport-only, screenshots in tiles (--shot-pixels),
 * and bad flag values.
 *
 *   fixture_start -> popen("snapcat capture --out DIR FLAGS URL") -> the
 *   JSON line -> img_decode_file -> colours at known places
 * (the server side — link options, masking in the API — is in
 * tests/node/options.test.js)
 */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixture.h"
#include "img.h"
#include "px_check.h"
#include "sc.h"
#include "testhelp.h"

static struct fixture F;
static cJSON *Line;  /* the one JSON line of the last run */
static char *Stdout; /* its whole stdout */
static int Exit;

/* `snapcat capture --out TEST_TMP/optN args` with one URL (path). */
static void run(const char *flags, const char *path)
{
	static int n;
	char cmd[8192], url[512];
	if (fixture_url(&F, path, url, sizeof(url)))
		abort();
	cJSON_Delete(Line);
	Line = NULL;
	free(Stdout);
	snprintf(cmd, sizeof(cmd), "'%s' capture --out '%s/opt%d' %s '%s'",
		 SNAPCAT_BIN, getenv("TEST_TMP"), ++n, flags, url);
	fprintf(stderr, "$ %s\n", cmd);
	FILE *p = popen(cmd, "r");
	if (!p)
		abort();
	size_t cap = 0;
	Stdout = NULL;
	if (getdelim(&Stdout, &cap, '\0', p) < 0) {
		free(Stdout);
		Stdout = sc_xstrdup("");
	}
	int st = pclose(p);
	Exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	Line = cJSON_Parse(Stdout);
	fprintf(stderr, "exit %d: %.600s\n", Exit, Stdout);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num(const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(Line, key);
	return cJSON_IsNumber(v) ? v->valueint : -1;
}

static int png(struct img_rgba *im)
{
	const char *path = str(Line, "png");
	return path && img_decode_file(path, im) == SC_OK ? 0 : -1;
}

/* Undo MHTML's quoted-printable in place: soft line breaks, "=3D". */
static void unqp(char *s)
{
	char *w = s;
	for (const char *r = s; *r;) {
		if (!strncmp(r, "=\r\n", 3))
			r += 3;
		else if (!strncmp(r, "=3D", 3))
			*w++ = '=', r += 3;
		else
			*w++ = *r++;
	}
	*w = 0;
}

/* The whole of a file (NUL-terminated; caller frees), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	char *s = NULL;
	size_t cap = 0;
	if (!f)
		return NULL;
	if (getdelim(&s, &cap, '\0', f) < 0) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

TEST(mobile_headers_cookies_hide)
{
	run("--mobile --width 390 --height 844 --scale 3 "
	    "--header 'Authorization: Bearer tok3131secret' "
	    "--header 'X-Snapcat-Test: hello' --cookie sid=ck2121val "
	    "--hide '#chat-widget'", "/whoami");
	REQUIRE(Line);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(Line, "error")));
	CHECK_EQ_INT(num("width"), 1170);
	CHECK_EQ_INT(num("height"), 844 * 3);
	CHECK(!strstr(Stdout, "tok3131secret") && !strstr(Stdout, "ck2121val"));
	char *mhtml = slurp(str(Line, "mhtml"));
	REQUIRE(mhtml);
	unqp(mhtml);
	/* the fixture echoed what it received into the page */
	CHECK(strstr(mhtml, "Bearer tok3131secret") != NULL);
	CHECK(strstr(mhtml, "sid=ck2121val") != NULL);
	CHECK(strstr(mhtml, "X-Snapcat-Test: hello") != NULL);
	CHECK(strstr(mhtml, "Android") != NULL);
	free(mhtml);
	struct img_rgba im = {0};
	REQUIRE(!png(&im));
	/* #chat-widget (fixed 120x120 #ff00ff, 20 px from the bottom right)
	 * is hidden: the page's white there */
	CHECK(px_is(&im, (390 - 80) * 3, (844 - 80) * 3, 0xffffff));
	img_rgba_free(&im);
}

TEST(consent_banner_accepted_or_left)
{
	struct img_rgba im = {0};
	run("", "/consent?fw=onetrust");
	REQUIRE(Line);
	const cJSON *c = cJSON_GetObjectItem(Line, "consent");
	CHECK_STR(str(c, "handled"), "onetrust");
	CHECK_STR(str(c, "action"), "accepted");
	REQUIRE(!png(&im));
	CHECK(px_is(&im, 640, 700, 0xffffff)); /* the banner band is gone */
	CHECK(px_is(&im, 650, 120, 0x00ff00)); /* the page saw "accept" */
	img_rgba_free(&im);

	run("--no-consent", "/consent?fw=onetrust");
	REQUIRE(Line);
	c = cJSON_GetObjectItem(Line, "consent");
	CHECK_STR(str(c, "action"), "off");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "handled")));
	REQUIRE(!png(&im));
	CHECK(px_is(&im, 640, 700, 0x1f3a93)); /* the banner stays */
	img_rgba_free(&im);
}

TEST(dark_and_viewport_only)
{
	struct img_rgba im = {0};
	run("--color-scheme dark", "/media");
	REQUIRE(Line && !png(&im));
	CHECK(px_is(&im, 600, 400, 0x000000));
	img_rgba_free(&im);
	run("", "/media");
	REQUIRE(Line && !png(&im));
	CHECK(px_is(&im, 600, 400, 0xffffff));
	img_rgba_free(&im);
	run("--viewport-only", "/tall?h=3000");
	REQUIRE(Line);
	CHECK_EQ_INT(num("width"), 1280);
	CHECK_EQ_INT(num("height"), 800);
}

/* --shot-pixels 1m: a 1280 x 3000 page (3.8 Mpx) is shot in 4 tiles of
 * 819 rows (1m / 1280), joined at the compression level; the bands of the
 * fixture's /tall page are where they belong, across the seams too. */
TEST(shot_pixels_tiles)
{
	char flags[600], log[400], *text;
	struct img_rgba im = {0};
	snprintf(log, sizeof(log), "%s/shot.log", getenv("TEST_TMP"));
	snprintf(flags, sizeof(flags), "--verbose --no-mhtml --shot-pixels 1m "
		 "2>'%s'", log);
	run(flags, "/tall?h=3000");
	REQUIRE(Line);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(Line, "error")));
	CHECK_EQ_INT(num("height"), 3000);
	text = slurp(log);
	REQUIRE(text);
	CHECK(strstr(text, "4 tiles joined (3 first rows re-encoded") != NULL);
	free(text);
	REQUIRE(!png(&im));
	static const struct {
		uint32_t x, y;
		unsigned rgb;
	} probe[] = {{10, 10, 0x00ff00}, {10, 818, 0xf4f4f4}, {10, 819, 0xf4f4f4},
		     {10, 860, 0xe0e0e0}, {1270, 1000, 0xcccccc},
		     {10, 1638, 0xf4f4f4}, {10, 1660, 0xe0e0e0},
		     {1270, 2000, 0xcccccc}, {10, 2440, 0xf4f4f4},
		     {10, 2457, 0xe0e0e0}, {10, 2899, 0xe0e0e0},
		     {10, 2950, 0xff00ff}, {1270, 2999, 0xff00ff}};
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
		CHECK(px_is(&im, probe[i].x, probe[i].y, probe[i].rgb));
	img_rgba_free(&im);
}

TEST(bad_flag_values)
{
	static const char *const bad[] = {"--color-scheme blue", "--header nocolon",
					  "--delay 99999999", "--cookie '=x'",
					  "--hide 'a{b}'", "--shot-pixels 1000",
					  "--shot-pixels 5g"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run(bad[i], "/final");
		CHECK_EQ_INT(Exit, 2);
		CHECK(Line == NULL);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-e2e-XXXXXX";
	if (!getenv("TEST_TMP"))
		setenv("TEST_TMP", mkdtemp(tmpl), 1);
	signal(SIGPIPE, SIG_IGN);
	if (fixture_start(NULL, &F))
		return 1;
	RUN(mobile_headers_cookies_hide);
	RUN(consent_banner_accepted_or_left);
	RUN(dark_and_viewport_only);
	RUN(shot_pixels_tiles);
	RUN(bad_flag_values);
	cJSON_Delete(Line);
	free(Stdout);
	fixture_stop(&F);
	int rc = test_report();
	if (test_passed(rc) && tmpl[0] &&
	    !strncmp(getenv("TEST_TMP"), "/tmp/snapcat-e2e-", 17))
		(void)!sc_remove_tree(getenv("TEST_TMP"));
	return rc;
}
