/*
 * test_consent_libs.c — consent banners as real libraries ship them (issue
 * 16): the pages of tests/fixtures/consent-libs/, each made as its
 * library's docs show (vanilla-cookieconsent 3 bar, box and a modal with
 * disablePageInteraction; klaro notice and mustConsent modal; Osano's
 * cookieconsent banner and opt-in box; orejime banner and forceModal;
 * tarteaucitron middle and bottom; cookies-eu-banner), and three banners
 * no rule names (generic-*.html: a fixed German banner over a see-through
 * overlay with a scroll lock, an aria dialog in French that is not fixed,
 * a sticky Spanish bar whose button does nothing), the libraries
 * installed from npm by `npm ci` in that folder when node_modules is
 * missing (tests/fixtures/consent-libs/package.json).
 *
 * Each page is white with a #00c000 block at 40,100 (400x200) and a
 * #0000ff block at 40,2200 (400x100), 2400 px tall, and nothing else: so
 *   default       every pixel of the PNG is one of those three colours (the
 *                 banner and any overlay are gone), the PNG is 2400 px
 *                 tall with the blue block in it (nothing scroll-locked),
 *                 and consent.action is "accepted" or "hidden"
 *   --no-consent  the banner is there: over 1,000 other pixels (the page
 *                 shows it to snapcat at all: hideFromBots, stealth)
 * Both runs wait for the libraries' root elements (--wait-for WAIT):
 * tarteaucitron shows its banner after a chain of script loads (its
 * language file, its services) that readiness does not always wait for,
 * and this test is about the clean-up, not readiness.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "capture_batch.h"
#include "fixture.h"
#include "img.h"
#include "px_check.h"
#include "sc.h"
#include "testhelp.h"

#ifndef LIBS_DIR
#define LIBS_DIR "tests/fixtures/consent-libs"
#endif
#define PAGES_MAX 32
#define WAIT "--wait-for '#cc-main, .klaro, .orejime-Env, .cc-window, " \
	     "#tarteaucitronAlertBig, #cookies-eu-banner, " \
	     "[data-fx-banner]'"

static struct fixture F;
static char Tmp[256];
static char *Names[PAGES_MAX];
static int NNames;
static cJSON *Lines[PAGES_MAX + 1];

/* node_modules there, or `npm ci` makes it: 0, 77 without npm, 1. */
static int install(void)
{
	struct stat st;
	if (!stat(LIBS_DIR "/node_modules/vanilla-cookieconsent", &st))
		return 0;
	if (system("command -v npm >/dev/null 2>&1"))
		return 77;
	int rc = system("cd '" LIBS_DIR "' && npm ci --no-audit --no-fund "
			"--ignore-scripts >&2");
	return rc ? 1 : 0;
}

/* snapcat capture flags, every page: Lines[1..NNames] by position. */
static void capture(const char *flags)
{
	char cmd[8192];
	size_t o = cb_cmd(cmd, sizeof(cmd), SNAPCAT_BIN, Tmp, flags);
	for (int i = 0; i < NNames && o < sizeof(cmd) - 200; i++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o,
				      " 'http://127.0.0.1:%d/file?name="
				      "consent-libs/%s'", F.port, Names[i]);
	cb_run(cmd, Lines, NNames);
}

static const char *str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(b ? cJSON_GetObjectItem(o, a) : o,
					     b ? b : a);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int near(const uint8_t *p, unsigned rgb)
{
	return abs(p[0] - (int)((rgb >> 16) & 255)) <= 8 &&
	       abs(p[1] - (int)((rgb >> 8) & 255)) <= 8 &&
	       abs(p[2] - (int)(rgb & 255)) <= 8;
}

/* Pixels of line i's PNG that are not the page's own (white, the green
 * and the blue block); -1 if no PNG. *h: its height; *first: where the
 * first one is (y * w + x). */
static long foreign(int i, uint32_t *h, long *first)
{
	struct img_rgba im = {0};
	long n = 0;
	*first = -1;
	if (img_decode_file(str(Lines[i], "png", NULL), &im) != SC_OK)
		return -1;
	*h = im.h;
	for (size_t k = 0; k < (size_t)im.w * im.h; k++) {
		const uint8_t *p = im.px + k * 4;
		if (near(p, 0xffffff) || near(p, 0x00c000) || near(p, 0x0000ff))
			continue;
		if (*first < 0)
			*first = (long)k;
		n++;
	}
	if (!px_is(&im, 240, 200, 0x00c000) || !px_is(&im, 240, 2250, 0x0000ff))
		n += 1000000; /* the page's own blocks are not where they were */
	img_rgba_free(&im);
	return n;
}

TEST(banners_and_overlays_gone)
{
	capture(WAIT);
	for (int i = 1; i <= NNames; i++) {
		uint32_t h = 0;
		long first;
		long n = foreign(i, &h, &first);
		const char *action = str(Lines[i], "consent", "action");
		fprintf(stderr, "%-24s %-9s %-14s h %u, other pixels %ld "
			"(first at %ld)\n", Names[i - 1], action,
			str(Lines[i], "consent", "handled"), h, n, first);
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(Lines[i], "error")));
		CHECK(!strcmp(action, "accepted") || !strcmp(action, "hidden"));
		CHECK(h >= 2400);
		CHECK(n == 0);
	}
}

TEST(banners_there_without_consent)
{
	capture("--no-consent " WAIT);
	for (int i = 1; i <= NNames; i++) {
		uint32_t h = 0;
		long first;
		long n = foreign(i, &h, &first);
		fprintf(stderr, "%-24s off: other pixels %ld\n", Names[i - 1], n);
		CHECK(n > 1000);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-consentlibs-XXXXXX";
	int rc = install();
	if (rc)
		return rc;
	if (!mkdtemp(tmpl) || fixture_start(NULL, &F))
		return 1;
	snprintf(Tmp, sizeof(Tmp), "%s", tmpl);
	NNames = cb_load_names(LIBS_DIR, Names, PAGES_MAX);
	if (NNames < 10)
		return 1;
	RUN(banners_and_overlays_gone);
	RUN(banners_there_without_consent);
	fixture_stop(&F);
	for (int i = 0; i <= PAGES_MAX; i++)
		cJSON_Delete(Lines[i]);
	for (int i = 0; i < NNames; i++)
		free(Names[i]);
	rc = test_report();
	if (test_passed(rc))
		(void)!sc_remove_tree(Tmp);
	return rc;
}
