/*
 * test_capture.c — `snapcat capture` as a user runs it: the real binary, a
 * real Chromium, pages from the fixture server (tests/fixtures/), and the
 * captured PNGs decoded and checked pixel by pixel.
 *
 *   fixture_start -> popen("snapcat capture --out DIR URL…") -> JSON lines
 *   -> for each: status, error class, files; img_decode_file -> colours at
 *      known places (the fixture's "block" is 400x200 at 40,100)
 *
 * Every wait is on an event (a line from snapcat, a counter of the fixture
 * server) with a deadline; none is a sleep that hopes something happened.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "img.h"
#include "px_check.h"
#include "launch.h"
#include "sc.h"
#include "testhelp.h"

#define MAX_LINES 32

static struct fixture F;
static char Out[256]; /* the run's output folder */
static cJSON *Line[MAX_LINES + 1]; /* by "n" */
static int Exit;                   /* snapcat's exit status */
static int64_t Took;               /* ms of the last run */

static const char *url_of(const char *path)
{
	static char buf[16][256];
	static int i;
	char *u = buf[i++ % 16];
	if (fixture_url(&F, path, u, 256))
		abort();
	return u;
}

static void lines_clear(void)
{
	for (int i = 0; i <= MAX_LINES; i++) {
		cJSON_Delete(Line[i]);
		Line[i] = NULL;
	}
}

/* Read JSON lines from snapcat's stdout into Line[n] until EOF. */
static void lines_read(FILE *p)
{
	char *buf = NULL;
	size_t cap = 0;
	while (getline(&buf, &cap, p) > 0) {
		cJSON *o = cJSON_Parse(buf);
		cJSON *n = cJSON_GetObjectItem(o, "n");
		if (!cJSON_IsNumber(n) || n->valueint < 1 ||
		    n->valueint > MAX_LINES || Line[n->valueint]) {
			fprintf(stderr, "unexpected output line: %s", buf);
			test_failed_now = 1;
			cJSON_Delete(o);
			continue;
		}
		Line[n->valueint] = o;
	}
	free(buf);
}

/* Start `env snapcat capture --out Out args` with stdout to a pipe. */
static FILE *capture_start(const char *env, const char *args)
{
	static int run;
	char cmd[8192];
	lines_clear();
	snprintf(Out, sizeof(Out), "%s/out%d", getenv("TEST_TMP"), ++run);
	snprintf(cmd, sizeof(cmd), "%s '%s' capture --out '%s' %s",
		 env ? env : "", SNAPCAT_BIN, Out, args);
	fprintf(stderr, "$ %s\n", cmd);
	Took = sc_now_ms();
	return popen(cmd, "r");
}

static void capture_end(FILE *p)
{
	lines_read(p);
	int st = pclose(p);
	Exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	Took = sc_now_ms() - Took;
	fprintf(stderr, "exit %d after %lld ms\n", Exit, (long long)Took);
}

static void capture_run(const char *env, const char *args)
{
	FILE *p = capture_start(env, args);
	if (!p) {
		perror("popen");
		abort();
	}
	capture_end(p);
}

static const char *str(int n, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(Line[n], key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(int n, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(Line[n], key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The error class of line n, or "" when error is null. */
static const char *err_class(int n)
{
	const cJSON *e = cJSON_GetObjectItem(Line[n], "error");
	const cJSON *c = cJSON_GetObjectItem(e, "class");
	return cJSON_IsString(c) ? c->valuestring : "";
}

/* Decode line n's PNG into *im; checks the file matches width/height. */
static int png_of(int n, struct img_rgba *im)
{
	const char *path = str(n, "png");
	if (!path || img_decode_file(path, im)) {
		fprintf(stderr, "line %d: no decodable png (%s)\n", n,
			path ? path : "null");
		return -1;
	}
	if (im->w != (uint32_t)num(n, "width") ||
	    im->h != (uint32_t)num(n, "height")) {
		fprintf(stderr, "line %d: png %ux%u, json %gx%g\n", n, im->w,
			im->h, num(n, "width"), num(n, "height"));
		return -1;
	}
	return 0;
}

/* The fixture's block (400x200 at 40,100) is solid rgb. */
static int block_is(int n, unsigned rgb)
{
	struct img_rgba im = {0};
	int ok = !png_of(n, &im) && px_is(&im, 240, 200, rgb) &&
		 px_is(&im, 45, 105, rgb) && px_is(&im, 435, 295, rgb);
	img_rgba_free(&im);
	return ok;
}

/* A loopback port with nothing listening (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		abort();
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- the main batch: many pages, two tabs at a time ---- */

TEST(pages_in_parallel)
{
	char args[4096], https[256], base[64];
	snprintf(https, sizeof(https), "https://127.0.0.1:%d/final", F.port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", F.port);
	snprintf(args, sizeof(args),
		 "--concurrency 2 --timeout 180 --browser-arg='--host-resolver-rules=MAP "
		 "*.invalid ~NOTFOUND' '%s' '%s' '%s' '%s' '%s' '%s' '%s' '%s' "
		 "'%s' 'file:///etc/passwd' 'javascript:alert(1)' "
		 "'http://127.0.0.1:%d/' '%s' 'http://no-such-host.invalid/' "
		 "'%s/embed?url=%s'",
		 url_of("/tall?h=82630"), url_of("/lazy"), url_of("/font"),
		 url_of("/delayed?ms=1500"), url_of("/transition"),
		 url_of("/redirect?n=3"), url_of("/status?code=404"),
		 url_of("/status?code=500"), url_of("/poll"), closed_port(), https,
		 base, url_of("/img?c=ff0000&w=100&h=100"));
	capture_run(NULL, args);
	CHECK_EQ_INT(Exit, 1); /* some URLs failed, as they should */
	for (int n = 1; n <= 15; n++)
		if (!Line[n]) {
			fprintf(stderr, "no line for URL %d\n", n);
			test_failed_now = 1;
		}
}

/* The bands of the fixture's /tall?h=H page at their rows (tall_css in
 * tests/fixtures/fixture_server.c): #top #00ff00 rows 0-99; stripes from
 * the top, #f4f4f4 then #e0e0e0, 50 px each; a 40 px #cccccc row at every
 * 1000 px; #last #ff00ff the last 100 rows. A page repeated or shifted past
 * some height (older Chromiums repeated it past 16,384 px), or a tile put
 * at the wrong place, fails at its first row of bands. Returns the number
 * of wrong probes. */
static int tall_bands_bad(const struct img_rgba *im, uint32_t h)
{
	int bad = !px_is(im, 10, 10, 0x00ff00) + !px_is(im, 1270, 99, 0x00ff00) +
		  !px_is(im, 10, 120, 0xf4f4f4) + !px_is(im, 10, 199, 0xe0e0e0) +
		  !px_is(im, 10, h - 100, 0xff00ff) + !px_is(im, 1270, h - 1, 0xff00ff);
	for (uint32_t y = 1000; y + 40 <= h - 100 && bad < 10; y += 1000)
		bad += !px_is(im, 10, y - 1, 0xe0e0e0) +
		       !px_is(im, 1270, y, 0xcccccc) +
		       !px_is(im, 1270, y + 39, 0xcccccc) +
		       !px_is(im, 10, y + 45, 0xf4f4f4) +
		       !px_is(im, 10, y + 75, 0xe0e0e0);
	return bad;
}

/* FNV-1a of the pixels: two captures of the same page, compared without
 * holding both (423 MB each at 1280 x 82,630). */
static uint64_t px_hash(const struct img_rgba *im)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < (size_t)im->w * im->h * 4; i++)
		h = (h ^ im->px[i]) * 1099511628211ull;
	return h;
}

static uint64_t Tall_hash; /* of the one-shot capture of /tall?h=82630 */

/* 82,630 px: one screenshot (under --shot-pixels' 2^27), written as
 * Chromium sent it: every band at its row. */
TEST(tall_page_is_whole)
{
	struct img_rgba im = {0};
	REQUIRE(Line[1]);
	CHECK_STR(err_class(1), "");
	CHECK_EQ_INT(num(1, "status"), 200);
	CHECK_STR(str(1, "title"), "Tall page 82630");
	REQUIRE(!png_of(1, &im));
	CHECK_EQ_INT(im.w, 1280);
	CHECK_EQ_INT(im.h, 82630);
	CHECK_EQ_INT(tall_bands_bad(&im, 82630), 0);
	Tall_hash = px_hash(&im);
	img_rgba_free(&im);
}

/* Capture /tall?h=H alone with extra arguments and a verbose log: 1 if
 * the log says `joined` and every band of the PNG is at its row; the
 * pixels' hash in *hash. */
static int tall_tiles(long h, const char *extra, const char *joined,
		      uint64_t *hash)
{
	char args[1024], log[600], path[64];
	struct img_rgba im = {0};
	snprintf(log, sizeof(log), "%s/tiles%ld.log", getenv("TEST_TMP"), h);
	snprintf(path, sizeof(path), "/tall?h=%ld", h);
	snprintf(args, sizeof(args), "--verbose --no-mhtml --timeout 180 %s "
		 "'%s' 2>'%s'", extra, url_of(path), log);
	capture_run(NULL, args);
	if (!Line[1] || strcmp(err_class(1), "") || num(1, "height") != h)
		return 0;
	char *text = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f = fopen(log, "r");
	while (f && getline(&text, &cap, f) > 0)
		found |= strstr(text, joined) != NULL;
	free(text);
	if (f)
		fclose(f);
	if (!found || png_of(1, &im))
		return 0;
	int ok = im.h == (uint32_t)h && !tall_bands_bad(&im, (uint32_t)h);
	*hash = px_hash(&im);
	img_rgba_free(&im);
	return ok;
}

/* 100,000 px with the defaults: over the 80,000 rows Chromium shoots whole
 * (one shot of it came back white below row ~86,615), so two tiles,
 * joined; the magenta last band at the bottom. */
TEST(taller_page_in_default_tiles)
{
	uint64_t hash;
	CHECK(tall_tiles(100000, "", "2 tiles joined", &hash));
}

/* The same page in tiles of 32,768 px (--tile): Chromium's tiles joined at
 * the compression level (imgjoin.c; their first rows are filtered Up, so
 * re-encoded), with the pixels of the one shot. */
TEST(tall_page_in_tiles)
{
	uint64_t hash = 0;
	CHECK(tall_tiles(82630, "--tile 32768",
			 "3 tiles joined (2 first rows re-encoded", &hash));
	CHECK(Tall_hash && hash == Tall_hash);
}

TEST(lazy_content_loaded)
{
	struct img_rgba im = {0};
	REQUIRE(Line[2]);
	CHECK_STR(err_class(2), "");
	REQUIRE(!png_of(2, &im));
	/* four loading=lazy images at top 1500 + i*700, 600x300 at left 40 */
	CHECK(px_is(&im, 340, 1650, 0xff0000));
	CHECK(px_is(&im, 340, 2350, 0x0000ff));
	CHECK(px_is(&im, 340, 3050, 0xffa500));
	CHECK(px_is(&im, 340, 3750, 0x00ffff));
	/* the IntersectionObserver target turned purple when scrolled to */
	CHECK(px_is(&im, 900, 3050, 0x800080));
	img_rgba_free(&im);
}

TEST(web_font_rendered)
{
	struct img_rgba im = {0};
	REQUIRE(Line[3]);
	CHECK_STR(err_class(3), "");
	REQUIRE(!png_of(3, &im));
	size_t black = 0;
	for (size_t i = 0; i < (size_t)im.w * im.h; i++)
		black += im.px[i * 4] < 40 && im.px[i * 4 + 1] < 40;
	fprintf(stderr, "font page: %zu dark pixels\n", black);
	CHECK(black > 20000); /* the big bold WWWWW glyphs */
	img_rgba_free(&im);
}

TEST(late_content_and_transitions)
{
	REQUIRE(Line[4] && Line[5]);
	CHECK_STR(err_class(4), "");
	CHECK(block_is(4, 0x0000ff)); /* added by setTimeout(1500) */
	CHECK_STR(err_class(5), "");
	CHECK(block_is(5, 0x008000)); /* a 1 s transition, finished */
}

TEST(redirects_and_http_errors)
{
	REQUIRE(Line[6] && Line[7] && Line[8] && Line[9]);
	CHECK_STR(err_class(6), "");
	CHECK_STR(str(6, "final_url"), url_of("/final"));
	CHECK_STR(str(6, "title"), "Final");
	/* a 404 page is captured, with its status and the reason */
	CHECK_EQ_INT(num(7, "status"), 404);
	CHECK_STR(err_class(7), "http_status");
	CHECK(str(7, "png") && str(7, "mhtml"));
	struct img_rgba im = {0};
	CHECK(!png_of(7, &im));
	img_rgba_free(&im);
	CHECK_EQ_INT(num(8, "status"), 500);
	CHECK_STR(err_class(8), "http_status");
	/* a page that polls its API for ever still settles */
	CHECK_STR(err_class(9), "");
	CHECK_EQ_INT(num(9, "status"), 200);
}

TEST(bad_urls_and_network_errors)
{
	REQUIRE(Line[10] && Line[11] && Line[12] && Line[13] && Line[14]);
	CHECK_STR(err_class(10), "invalid_url");
	char *line10 = cJSON_PrintUnformatted(Line[10]);
	CHECK(strstr(line10, "file") != NULL);
	cJSON_free(line10);
	CHECK_STR(err_class(11), "invalid_url");
	CHECK(str(10, "png") == NULL && str(11, "png") == NULL);
	CHECK_STR(err_class(12), "connect");
	CHECK_STR(err_class(13), "tls");
	CHECK_STR(err_class(14), "dns");
	REQUIRE(Line[15]); /* /embed without the guard: the image shows */
	struct img_rgba im = {0};
	REQUIRE(!png_of(15, &im));
	CHECK(px_is(&im, 90, 450, 0xff0000));
	img_rgba_free(&im);
}

/* The MHTML reopens in Chromium, offline, with the page's content. */
TEST(mhtml_reopens)
{
	REQUIRE(Line[4] && str(4, "mhtml"));
	char cmd[2048], png[300];
	snprintf(png, sizeof(png), "%s/reopened.png", Out);
	snprintf(cmd, sizeof(cmd),
		 "cp '%s' '%s/page.mhtml' && chromium --headless --no-sandbox "
		 "--disable-gpu --disable-dev-shm-usage --no-first-run "
		 "--disable-sync --disable-background-networking "
		 "--disable-component-update --user-data-dir='%s/reopen-prof' "
		 "--window-size=1280,800 --hide-scrollbars --screenshot='%s' "
		 "'file://%s/page.mhtml' 2>/dev/null",
		 str(4, "mhtml"), Out, Out, png, Out);
	fixture_stop(&F); /* offline: nothing may come from the server */
	CHECK_EQ_INT(system(cmd), 0);
	struct img_rgba im = {0};
	REQUIRE(!img_decode_file(png, &im));
	CHECK(px_is(&im, 240, 200, 0x0000ff));
	img_rgba_free(&im);
	REQUIRE(!fixture_start(NULL, &F));
}

/* A page that never finishes and one that spins for ever each fail at the
 * deadline, and the same browser goes on with the next URL. */
TEST(deadlines_free_the_tab)
{
	char args[1024];
	snprintf(args, sizeof(args),
		 "--concurrency 1 --timeout 5 '%s' '%s' '%s'",
		 url_of("/never"), url_of("/loop"), url_of("/final"));
	capture_run(NULL, args);
	REQUIRE(Line[1] && Line[2] && Line[3]);
	CHECK_STR(err_class(1), "timeout");
	CHECK_STR(err_class(2), "timeout");
	CHECK_STR(err_class(3), "");
	CHECK_STR(str(3, "title"), "Final");
	CHECK(Took < 40000);
}

/* --block-private: every request to a private address is refused inside
 * Chromium: the navigation, a redirect hop, a sub-resource. public.test is
 * a second fixture server on 127.0.0.2, which a test build judges public
 * (SNAPCAT_TEST_PUBLIC, SNAPCAT_TEST_HOSTS); tests/e2e/test_guard.c
 * attacks the guard harder. */
TEST(private_addresses_blocked)
{
	char args[4096], pub[128], redir[512], embed[512], lh[128], v6[128],
		dec[128];
#if !SNAPCAT_TEST_HOOKS
	SKIP("needs a build with SNAPCAT_TEST_HOOKS");
#endif
	struct fixture pf = {0};
	REQUIRE(!fixture_start_on(NULL, "127.0.0.2", &pf));
	snprintf(pub, sizeof(pub), "http://public.test:%d", pf.port);
	snprintf(redir, sizeof(redir), "%s/redirect-to?url=%s", pub,
		 url_of("/final"));
	snprintf(embed, sizeof(embed), "%s/embed?url=%s", pub,
		 url_of("/img?c=ff0000&w=100&h=100"));
	snprintf(lh, sizeof(lh), "http://localhost:%d/final", F.port);
	snprintf(v6, sizeof(v6), "http://[::ffff:127.0.0.1]:%d/final", F.port);
	snprintf(dec, sizeof(dec), "http://2130706433:%d/final", F.port);
	snprintf(args, sizeof(args), "--block-private '%s' '%s' '%s' '%s' '%s' "
		 "'%s'", url_of("/final"), lh, v6, dec, redir, embed);
	capture_run("SNAPCAT_TEST_PUBLIC=127.0.0.2 "
		    "SNAPCAT_TEST_HOSTS=public.test=127.0.0.2", args);
	fixture_stop(&pf);
	for (int n = 1; n <= 5; n++) {
		REQUIRE(Line[n]);
		CHECK_STR(err_class(n), "blocked");
		CHECK(str(n, "png") == NULL);
	}
	REQUIRE(Line[6]);
	CHECK_STR(err_class(6), "");
	const cJSON *bl = cJSON_GetObjectItem(Line[6], "blocked");
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(bl, "count")) &&
	      cJSON_GetObjectItem(bl, "count")->valueint == 1);
	struct img_rgba im = {0};
	REQUIRE(!png_of(6, &im));
	CHECK(px_is(&im, 240, 200, 0x008000)); /* the page itself */
	CHECK(!px_is(&im, 90, 450, 0xff0000)); /* not the private image */
	img_rgba_free(&im);
	/* the control: without the guard that image is there (URL 15 of the
	 * first batch) */
}

/* Only bad URLs: answered without any browser (there is none to run). */
TEST(invalid_urls_need_no_browser)
{
	capture_run("SNAPCAT_CHROMIUM=/nonexistent",
		    "'chrome://settings' 'data:text/html,x' 'http://' "
		    "'ftp://127.0.0.1/'");
	CHECK_EQ_INT(Exit, 1);
	for (int n = 1; n <= 4; n++) {
		REQUIRE(Line[n]);
		CHECK_STR(err_class(n), "invalid_url");
	}
}

/* ---- Chromium dies mid-capture ---- */

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct sc_buf *b = ud;
	return sc_buf_append(b, p, sz * n) ? 0 : sz * n;
}

/* The fixture's count of /hold requests being held right now. */
static int hold_active(void)
{
	struct sc_buf b;
	sc_buf_init(&b, 4096);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url_of("/api/stats"));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	int v = -1;
	if (curl_easy_perform(c) == CURLE_OK && sc_buf_append(&b, "", 1) == 0) {
		cJSON *o = cJSON_Parse(b.data);
		cJSON *h = cJSON_GetObjectItem(o, "hold_active");
		v = cJSON_IsNumber(h) ? h->valueint : -1;
		cJSON_Delete(o);
	}
	curl_easy_cleanup(c);
	sc_buf_free(&b);
	return v;
}

TEST(browser_killed_mid_run)
{
	char dir[300], err[256], args[1024];
	struct cdp_process *b = NULL;
	snprintf(dir, sizeof(dir), "%s/crash-prof", getenv("TEST_TMP"));
	struct cdp_launch_opts lo = {.user_data_dir = dir, .timeout_ms = 30000};
	REQUIRE(cdp_launch(&lo, &b, err, sizeof(err)) == SC_OK);
	snprintf(args, sizeof(args), "--browser '%s' '%s' '%s'",
		 cdp_process_ws_url(b), url_of("/hold?ms=120000"),
		 url_of("/final"));
	FILE *p = capture_start(NULL, args);
	REQUIRE(p);
	int64_t until = sc_now_ms() + 60000;
	while (hold_active() < 1 && sc_now_ms() < until)
		poll(NULL, 0, 50); /* waiting on the server's counter */
	CHECK(hold_active() >= 1);
	cdp_process_kill(b);
	capture_end(p);
	cdp_process_free(&b);
	REQUIRE(Line[1] && Line[2]);
	CHECK_STR(err_class(1), "browser_crash");
	CHECK_STR(err_class(2), "browser_crash");
	CHECK_EQ_INT(Exit, 1);
	CHECK(Took < 60000);
}

int main(void)
{
	char tmpl[] = "/tmp/snapcat-e2e-XXXXXX";
	if (!getenv("TEST_TMP"))
		setenv("TEST_TMP", mkdtemp(tmpl), 1);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (fixture_start(NULL, &F))
		return 1;
	RUN(pages_in_parallel);
	RUN(tall_page_is_whole);
	RUN(lazy_content_loaded);
	RUN(web_font_rendered);
	RUN(late_content_and_transitions);
	RUN(redirects_and_http_errors);
	RUN(bad_urls_and_network_errors);
	RUN(mhtml_reopens);
	RUN(tall_page_in_tiles);
	RUN(taller_page_in_default_tiles); /* after every use of the batch's lines */
	RUN(deadlines_free_the_tab);
	RUN(invalid_urls_need_no_browser);
	RUN(private_addresses_blocked);
	RUN(browser_killed_mid_run);
	lines_clear();
	fixture_stop(&F);
	curl_global_cleanup();
	int rc = test_report();
	if (test_passed(rc) && tmpl[0] &&
	    !strncmp(getenv("TEST_TMP"), "/tmp/snapcat-e2e-", 17))
		(void)!sc_remove_tree(getenv("TEST_TMP"));
	return rc;
}
