/*
 * test_stealth.c — what pages see of the browser (issue 16): the fixture
 * tests/fixtures/stealth/signals.html tests the common headless signals
 * (signals.js: navigator.webdriver, "Headless" in the user agent, its
 * request header and client hints, empty languages or plugins, no
 * window.chrome, the notifications permission's mismatch) in six contexts:
 * the page, its dedicated worker, a same-site iframe and its worker, a
 * cross-site (out-of-process) iframe and its worker. Each paints a block
 * green (#00c000) for an ordinary browser, red (#ff0000) for a headless one.
 *
 *   default      every block green in the PNG, the title says all "ok"
 *   --no-stealth every block red (the page sees the automated headless
 *                browser): the test fails if stealth is not what made the
 *                blocks green
 *   --user-agent the job's own user agent wins over stealth's
 *   brands       client hints brands with stealth equal the browser's own
 *                (tests/fixtures/stealth/ua.html), the user agent has no
 *                "Headless" on the page and in an out-of-process iframe
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "img.h"
#include "px_check.h"
#include "sc.h"
#include "testhelp.h"

#define GREEN 0x00c000
#define RED 0xff0000

static const char *const Ctx[] = {"page", "worker", "frame", "frame-worker",
				  "oopif", "oopif-worker"};
#define NCTX (sizeof(Ctx) / sizeof(Ctx[0]))

static struct fixture F;
static char Tmp[256];

/* `snapcat capture` of path with flags: its JSON line (NULL if none). */
static cJSON *capture(const char *flags, const char *path)
{
	static int n;
	char cmd[4096], url[512];
	if (fixture_url(&F, path, url, sizeof(url)))
		return NULL;
	snprintf(cmd, sizeof(cmd), "'%s' capture --out '%s/s%d' %s '%s'",
		 SNAPCAT_BIN, Tmp, ++n, flags, url);
	fprintf(stderr, "$ %s\n", cmd);
	FILE *p = popen(cmd, "r");
	char *line = NULL;
	size_t cap = 0;
	cJSON *j = NULL;
	if (p && getline(&line, &cap, p) > 0)
		j = cJSON_Parse(line);
	fprintf(stderr, "%.800s", line ? line : "(no line)\n");
	free(line);
	if (p)
		pclose(p);
	return j;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* How many of the six blocks in the line's PNG are rgb. */
static size_t blocks(const cJSON *line, unsigned rgb)
{
	struct img_rgba im = {0};
	size_t n = 0;
	if (img_decode_file(str(line, "png"), &im) != SC_OK)
		return 0;
	for (size_t i = 0; i < NCTX; i++) {
		int ok = px_is(&im, (uint32_t)(120 + 200 * i), 150, rgb);
		if (!ok)
			fprintf(stderr, "  %s: not %06x\n", Ctx[i], rgb);
		n += (size_t)ok;
	}
	img_rgba_free(&im);
	return n;
}

static const char Page[] = "/file?name=stealth/signals.html";

TEST(an_ordinary_browser_by_default)
{
	cJSON *l = capture("", Page);
	REQUIRE(l != NULL);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(l, "error")));
	CHECK_EQ_INT((int)blocks(l, GREEN), (int)NCTX);
	for (size_t i = 0; i < NCTX; i++) {
		char want[64];
		snprintf(want, sizeof(want), " %s=ok", Ctx[i]);
		CHECK(strstr(str(l, "title"), want) != NULL);
	}
	cJSON_Delete(l);
}

TEST(headless_with_stealth_off)
{
	cJSON *l = capture("--no-stealth", Page);
	REQUIRE(l != NULL);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(l, "error")));
	CHECK_EQ_INT((int)blocks(l, RED), (int)NCTX);
	/* the page and its iframes are told they are automated */
	CHECK(strstr(str(l, "title"), " page=webdriver") != NULL);
	CHECK(strstr(str(l, "title"), " oopif=webdriver") != NULL);
	cJSON_Delete(l);
}

/* A job's own user agent is sent as it is (no client hints of Chrome's),
 * on the page's requests and an out-of-process iframe's. */
TEST(own_user_agent_wins)
{
	cJSON *l = capture("--user-agent 'Snapcat-Test/1.0'",
			   "/file?name=stealth/ua.html");
	REQUIRE(l != NULL);
	CHECK(!strncmp(str(l, "title"), "page=Snapcat-Test/1.0 "
		       "oopif=Snapcat-Test/1.0 brands=", 50));
	cJSON_Delete(l);
}

/* The user agent without "Headless", the same on the page and in an
 * out-of-process iframe, and client hints brands equal to the browser's
 * own (capture_stealth.c derives them from its version). */
TEST(brands_as_the_browser_has_them)
{
	cJSON *on = capture("", "/file?name=stealth/ua.html");
	cJSON *off = capture("--no-stealth", "/file?name=stealth/ua.html");
	REQUIRE(on && off);
	const char *b_on = strstr(str(on, "title"), " brands=");
	const char *b_off = strstr(str(off, "title"), " brands=");
	REQUIRE(b_on && b_off);
	CHECK_STR(b_on, b_off);
	CHECK(strstr(b_on, "Chromium/") != NULL);
	CHECK(strstr(str(off, "title"), "HeadlessChrome/") != NULL);
	CHECK(!strstr(str(on, "title"), "Headless"));
	CHECK(!strstr(str(on, "title"), "mismatch"));
	CHECK(!strncmp(str(on, "title"), "page=Mozilla/5.0 (X11; Linux ", 29));
	cJSON_Delete(on);
	cJSON_Delete(off);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-stealth-XXXXXX";
	if (!mkdtemp(tmpl) || fixture_start(NULL, &F))
		return 1;
	snprintf(Tmp, sizeof(Tmp), "%s", tmpl);
	RUN(an_ordinary_browser_by_default);
	RUN(headless_with_stealth_off);
	RUN(own_user_agent_wins);
	RUN(brands_as_the_browser_has_them);
	fixture_stop(&F);
	int rc = test_report();
	if (test_passed(rc))
		(void)!sc_remove_tree(Tmp);
	return rc;
}
