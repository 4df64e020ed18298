/*
 * capture_shot.c — the outputs of a ready page:
 *
 *   metrics: Page.getLayoutMetrics (cssContentSize) -> page size, capped
 *      at max_height (the viewport's size with viewport_only)
 *   screenshot: Page.captureScreenshot {png, captureBeyondViewport, clip}:
 *      one shot while the page's device pixels fit shot_px, else tiles of
 *      at most that many pixels (or of --tile's height), joined later by
 *      output_write (imgjoin.h)
 *      (a long shot reports progress within its stage: capture_eta.c)
 *   mhtml: Page.captureSnapshot {mhtml}
 *   metadata: __snapcatMeta: title, URL, text
 *
 * Payloads stay as they arrived (base64 PNG, MHTML text) in the receive
 * buffers taken from the CDP replies: no copy is made here.
 *
 * One shot or tiles (measured on Chromium 156, --disable-gpu, 1280 px wide).
 * Tiles are a matter of memory and of one limit of Chromium's: during a
 * shot its processes grow by about 13 bytes per device pixel of the clip
 * (PSS, summed: 82,630 px 2.0 GB, 150,000 px 3.1 GB; the same page in
 * tiles of 32,768 px: 1.0 GB), and a shot of 1280 x 100,000 came back with
 * every row below about 86,615 blank (white) on the fixture's /tall page,
 * where 82,630 px comes back whole. So a page is shot
 * once while it fits the budget shot_px (1280 x 80,000 device px by
 * default, about 1.3 GB in Chromium) and SHOT_MAX_ROWS, else in tiles of at
 * most that many pixels and rows, joined at the compression level
 * (imgjoin.c); --tile (tile_px) sets the tiles' height instead.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

/* Take a string payload out of a reply without copying big ones. */
static int shot_take(const struct cdp_reply *r, const char *path,
		     struct capture_blob *b)
{
	const char *s;
	size_t n;
	if (!cdp_reply_str(r, path, &s, &n))
		return -1;
	void *mem = cdp_reply_take(r);
	if (mem) { /* s lies in the buffer just taken: point into it */
		b->mem = mem;
		b->data = (char *)mem + (s - (const char *)mem);
	} else {
		b->mem = sc_xmalloc(n + 1);
		b->data = b->mem;
		memcpy(b->data, s, n + 1);
	}
	b->len = n;
	return 0;
}

static char *shot_strdup_capped(const char *s, size_t n, size_t cap)
{
	return sc_xstrndup(s, n < cap ? n : cap);
}

static void shot_on_meta(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	struct capture_result *res = c->res;
	const char *s;
	size_t n;
	if (cdp_reply_str(r, "result.value.title", &s, &n))
		res->title = shot_strdup_capped(s, n, 4096);
	if (cdp_reply_str(r, "result.value.text", &s, &n))
		res->text = shot_strdup_capped(s, n, c->o.text_cap * 4);
	if (cdp_reply_str(r, "result.value.url", &s, &n) &&
	    (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8))) {
		free(res->final_url);
		res->final_url = shot_strdup_capped(s, n, 16384);
	}
	if (!res->final_url)
		res->final_url = sc_xstrdup(res->url);
	if (res->http_status >= 400) {
		/* the page is archived all the same; the job reports it */
		res->error = CAPERR_HTTP_STATUS;
		snprintf(res->message, sizeof(res->message), "HTTP %d",
			 res->http_status);
	}
	cap_next(c);
}

void cap_step_metadata(struct capture *c)
{
	char expr[256];
	snprintf(expr, sizeof(expr),
		 "window.__snapcatMeta ? window.__snapcatMeta(%zu) : "
		 "({title: document.title, url: location.href, text: "
		 "((document.body && document.body.innerText) || '').slice(0, %zu)})",
		 c->o.text_cap, c->o.text_cap);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "expression", expr);
	cJSON_AddBoolToObject(p, "returnByValue", 1);
	cap_call(c, "Runtime.evaluate", p, shot_on_meta);
}

static void shot_on_mhtml(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	if (shot_take(r, "data", &c->res->mhtml)) {
		cap_fail(c, CAPERR_INTERNAL, "captureSnapshot returned no data");
		return;
	}
	cap_next(c);
}

void cap_step_mhtml(struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "format", "mhtml");
	cap_call(c, "Page.captureSnapshot", p, shot_on_mhtml);
}

static void shot_next(struct capture *c);

static void shot_on_tile(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	struct capture_result *res = c->res;
	if (shot_take(r, "data", &res->tiles[res->ntiles])) {
		cap_fail(c, CAPERR_INTERNAL, "captureScreenshot returned no data");
		return;
	}
	res->ntiles++;
	c->next_tile_y += res->tile_css;
	if (c->next_tile_y < res->css_height) {
		cap_eta_tile(c, res->tile_css);
		shot_next(c);
	} else {
		cap_eta_end(c);
		cap_next(c);
	}
}

static void shot_next(struct capture *c)
{
	struct capture_result *res = c->res;
	int y = c->next_tile_y;
	int h = res->css_height - y < res->tile_css ? res->css_height - y
						    : res->tile_css;
	cJSON *clip = cJSON_CreateObject();
	cJSON_AddNumberToObject(clip, "x", 0);
	cJSON_AddNumberToObject(clip, "y", y);
	cJSON_AddNumberToObject(clip, "width", res->css_width);
	cJSON_AddNumberToObject(clip, "height", h);
	cJSON_AddNumberToObject(clip, "scale", 1);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "format", "png");
	cJSON_AddBoolToObject(p, "captureBeyondViewport", 1);
	cJSON_AddBoolToObject(p, "fromSurface", 1);
	cJSON_AddBoolToObject(p, "optimizeForSpeed", c->o.fast_png);
	cJSON_AddItemToObject(p, "clip", clip);
	cap_call(c, "Page.captureScreenshot", p, shot_on_tile);
}

static double shot_size(const cJSON *result, const char *key)
{
	const cJSON *css = cJSON_GetObjectItem(result, "cssContentSize");
	const cJSON *v = cJSON_GetObjectItem(css, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* CSS rows per screenshot (the top of this file): --tile's if set, else
 * the whole page while its device pixels fit shot_px and its rows
 * SHOT_MAX_ROWS, else as many rows as fit both (at least 256). */
#define SHOT_MAX_ROWS 80000 /* device rows one shot may hold (above) */

static int shot_rows(const struct capture *c, int css_w, int css_h)
{
	double s = c->o.scale;
	if (c->o.tile_px > 0) {
		int t = (int)floor(c->o.tile_px / s);
		return t > 0 ? t : 1;
	}
	double dev_w = ceil(css_w * s), dev_h = ceil(css_h * s);
	if (dev_w * dev_h <= (double)c->o.shot_px && dev_h <= SHOT_MAX_ROWS)
		return css_h;
	double rows = floor((double)c->o.shot_px / dev_w / s);
	double max_rows = floor(SHOT_MAX_ROWS / s);
	rows = rows < max_rows ? rows : max_rows;
	return rows < 256 ? 256 : rows < css_h ? (int)rows : css_h;
}

static void shot_on_metrics(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	struct capture_result *res = c->res;
	double w = ceil(shot_size(r->result, "width"));
	double h = ceil(shot_size(r->result, "height"));
	res->css_width = w >= 1 ? (int)w : c->o.width;
	res->page_height = h >= 1 ? (int)(h < 1e9 ? h : 1e9) : c->o.height;
	res->css_height = res->page_height;
	if (c->o.viewport_only) { /* what a visitor sees first, scrolled to 0 */
		res->css_width = c->o.width;
		res->css_height = c->o.height;
	}
	if (res->css_height > c->o.max_height) {
		res->css_height = c->o.max_height;
		res->truncated = 1;
	}
	int tile = shot_rows(c, res->css_width, res->css_height);
	res->tile_css = res->css_height <= tile ? res->css_height : tile;
	size_t n = (size_t)((res->css_height + res->tile_css - 1) / res->tile_css);
	res->tiles = sc_xcalloc(n, sizeof(*res->tiles));
	c->next_tile_y = 0;
	cap_next(c);
}

void cap_step_metrics(struct capture *c)
{
	cap_call(c, "Page.getLayoutMetrics", NULL, shot_on_metrics);
}

void cap_step_screenshot(struct capture *c)
{
	cap_eta_begin(c); /* a long shot reports progress (capture_eta.c) */
	shot_next(c);
}
