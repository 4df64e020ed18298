/*
 * capture_eta.c — progress within the screenshot stage, so that a tall
 * page's capture does not sit at "screenshot · 55%" for seconds:
 *
 *   metrics -> cap_eta_begin: the shot's estimate from its device pixels
 *     (and tiles); a long one (>= ETA_SLOW_MS) arms a loop timer
 *   every ETA_TICK_MS, and after each tile written (cap_eta_tile):
 *     on_within {screenshot, percent in [55, 75), "tile k of n", eta_ms,
 *     elapsed_ms} when the percent, the note or the whole seconds shown
 *     (left, or past the estimate spent) changed
 *   the last tile's reply, or the job's end -> cap_eta_end (timer off)
 *
 * DESIGN
 * Loop thread only, like the rest of the job. The percent follows the
 * elapsed time against the estimate, linearly up to 80 % of the band, then
 * ever more slowly (an exponential tail, 74 at 1.5 times the estimate),
 * so it keeps moving when the
 * estimate is short and never reaches the next stage's percent; with tiles
 * it is at least the share of the pixels already shot. A page whose shot
 * is estimated under ETA_SLOW_MS gets no extra events at all (the decision
 * is the estimate's, not the clock's: deterministic for a page).
 *
 * The estimate (measured on Chromium 156, --headless --disable-gpu,
 * 1280 px wide, the fixture's /tall?h=H page, `snapcat capture
 * --no-mhtml`'s "screenshot" timing: Page.getLayoutMetrics, then
 * Page.captureScreenshot from the command to the whole reply received; two
 * runs on the 2-core machine shared with other builds, load 8..14):
 *
 *     rows      device px    run 1      run 2
 *     2,000       2.6 M      0.55 s     1.3 s
 *     5,000       6.4 M        -        2.3 s
 *     10,000     12.8 M        -        3.6 s
 *     20,000     25.6 M      8.8 s      7.4 s
 *     40,000     51.2 M     14.2 s     23.4 s
 *     60,000     76.8 M     16.7 s     31.4 s
 *     80,000    102.4 M     20.2 s     56.1 s
 *
 * It grows about linearly with the pixel count, 1,800 to 5,000 device
 * pixels a millisecond by the load; the model takes the middle:
 *     ms = ETA_SHOT_MS per shot + device px / ETA_PX_PER_MS
 * (60,000 rows: about 22 s). ETA_SLOW_MS = 1.5 s is some 5,000 rows at
 * 1280 px: pages shorter than that report no progress within the stage.
 * An estimate too short is harmless (the tail keeps moving, eta_ms goes
 * to -1 and the seconds spent are reported instead); one too long makes
 * the bar jump to the next stage.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "capture_int.h"

#define ETA_TICK_MS 500    /* the timer's period */
#define ETA_SLOW_MS 1500   /* shorter estimates: no progress within */
#define ETA_GAP_MS 250     /* a tile's report: at least this after the last */
#define ETA_SHOT_MS 100    /* per Page.captureScreenshot (above) */
#define ETA_PX_PER_MS 3500 /* device pixels shot per millisecond (above) */

int64_t cap_eta_estimate(uint64_t px, size_t nshots)
{
	return (int64_t)nshots * ETA_SHOT_MS + (int64_t)(px / ETA_PX_PER_MS);
}

static uint64_t eta_px(const struct capture *c, int css_h)
{
	double s = c->o.scale;
	return (uint64_t)(ceil(c->res->css_width * s) * ceil(css_h * s));
}

/* The share of the band: time against the estimate (linear to 0.8, then
 * an exponential tail that never reaches 1), at least the pixels shot. */
static double eta_frac(const struct capture *c, int64_t elapsed)
{
	double est = (double)c->eta_est, e = (double)elapsed, f;
	if (e <= 0.8 * est)
		f = e / est;
	else
		f = 0.8 + 0.2 * (1 - exp(-(e - 0.8 * est) / (0.5 * est)));
	double done = c->eta_px ? (double)c->eta_done_px / (double)c->eta_px
				: 0;
	return f > done ? f : done;
}

static void eta_report(struct capture *c)
{
	int64_t now = sc_now_ms(), e = now - c->eta_t0;
	int lo = capture_stage_percent(CAPTURE_SCREENSHOT);
	int hi = capture_stage_percent(CAPTURE_MHTML);
	int pct = lo + (int)floor(eta_frac(c, e) * (hi - lo));
	struct capture_within w = {.stage = CAPTURE_SCREENSHOT,
				   .percent = pct < hi ? pct : hi - 1,
				   .eta_ms = e < c->eta_est ? c->eta_est - e
							     : -1,
				   .elapsed_ms = e};
	if (c->eta_ntiles > 1)
		snprintf(w.detail, sizeof(w.detail), "tile %zu of %zu",
			 c->res->ntiles + 1, c->eta_ntiles);
	/* the whole seconds shown: left, or past the estimate spent */
	int64_t secs = w.eta_ms < 0 ? -1 - e / 1000 : (w.eta_ms + 999) / 1000;
	if (w.percent <= c->eta_pct && secs == c->eta_secs &&
	    !strcmp(w.detail, c->eta_detail))
		return; /* nothing new to show */
	c->eta_pct = w.percent;
	c->eta_secs = secs;
	snprintf(c->eta_detail, sizeof(c->eta_detail), "%s", w.detail);
	c->eta_last = now;
	c->cbs.on_within(c->ud, &w);
}

static void eta_tick(void *arg)
{
	struct capture *c = arg;
	c->eta_timer = NULL; /* freed by the loop */
	eta_report(c);
	c->eta_timer = loop_timer(c->loop, ETA_TICK_MS, eta_tick, c);
}

void cap_eta_begin(struct capture *c)
{
	const struct capture_result *res = c->res;
	c->eta_ntiles = (size_t)((res->css_height + res->tile_css - 1) /
				 res->tile_css);
	c->eta_px = eta_px(c, res->css_height);
	c->eta_done_px = 0;
	c->eta_est = cap_eta_estimate(c->eta_px, c->eta_ntiles);
	c->eta_pct = capture_stage_percent(CAPTURE_SCREENSHOT);
	c->eta_secs = -2;
	c->eta_detail[0] = '\0';
	if (!c->cbs.on_within || c->eta_est < ETA_SLOW_MS)
		return;
	c->eta_t0 = sc_now_ms();
	c->eta_last = c->eta_t0;
	c->eta_timer = loop_timer(c->loop, ETA_TICK_MS, eta_tick, c);
}

void cap_eta_tile(struct capture *c, int css_h)
{
	c->eta_done_px += eta_px(c, css_h);
	if (c->eta_timer && sc_now_ms() - c->eta_last >= ETA_GAP_MS)
		eta_report(c);
}

void cap_eta_end(struct capture *c)
{
	loop_timer_cancel(&c->eta_timer);
}
