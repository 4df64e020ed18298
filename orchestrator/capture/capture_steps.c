/*
 * capture_steps.c — the steps of a capture job, in order. This table is the
 * job: each step begins with its function (in the file that owns it) and
 * ends with cap_next(), which begins the next step the job wants, reports
 * a new stage when it changes (progress events, per-stage timings), and
 * finishes the job after the last one.
 *
 *   context -> target -> attach -> setup -> [park] -> emulate -> navigate
 *   -> load -> viewport -> settle -> [delay] -> tidy -> viewport -> metrics
 *   -> screenshot
 *   -> [mhtml] -> [pdf] -> metadata -> cap_finish
 *
 * Adding a step: a value in enum cap_step_id (capture_int.h, in order), a
 * row here, a begin function that ends in cap_next() or cap_fail().
 */
#include "capture_int.h"

struct cap_step {
	const char *name;
	enum capture_stage stage;              /* reported when it begins */
	int (*wanted)(const struct capture *c); /* NULL: always */
	void (*begin)(struct capture *c);
};

static int want_park(const struct capture *c) { return c->spare; }
static int want_delay(const struct capture *c) { return c->o.delay_ms > 0; }
static int want_mhtml(const struct capture *c) { return !c->o.no_mhtml; }
static int want_pdf(const struct capture *c) { return c->o.pdf; }

static const struct cap_step cap_steps[CAP_S_COUNT] = {
	[CAP_S_CONTEXT] = {"context", CAPTURE_STARTING, NULL, NULL},
	[CAP_S_TARGET] = {"target", CAPTURE_STARTING, NULL, cap_step_target},
	[CAP_S_ATTACH] = {"attach", CAPTURE_STARTING, NULL, cap_step_attach},
	[CAP_S_SETUP] = {"setup", CAPTURE_STARTING, NULL, cap_step_setup},
	[CAP_S_PARK] = {"park", CAPTURE_STARTING, want_park, cap_step_park},
	[CAP_S_EMULATE] = {"emulate", CAPTURE_STARTING, NULL, cap_step_emulate},
	[CAP_S_NAVIGATE] = {"navigate", CAPTURE_NAVIGATING, NULL,
			    cap_step_navigate},
	[CAP_S_LOAD] = {"load", CAPTURE_LOADING, NULL, cap_step_load},
	[CAP_S_VIEWPORT] = {"viewport", CAPTURE_LOADING, NULL,
			    cap_step_viewport},
	[CAP_S_SETTLE] = {"settle", CAPTURE_SETTLING, NULL, cap_step_settle},
	[CAP_S_DELAY] = {"delay", CAPTURE_SETTLING, want_delay, cap_step_delay},
	[CAP_S_TIDY] = {"tidy", CAPTURE_SETTLING, NULL, cap_step_tidy},
	[CAP_S_VIEWPORT2] = {"viewport", CAPTURE_SETTLING, NULL,
			     cap_step_viewport},
	[CAP_S_METRICS] = {"metrics", CAPTURE_SCREENSHOT, NULL,
			   cap_step_metrics},
	[CAP_S_SCREENSHOT] = {"screenshot", CAPTURE_SCREENSHOT, NULL,
			      cap_step_screenshot},
	[CAP_S_MHTML] = {"mhtml", CAPTURE_MHTML, want_mhtml, cap_step_mhtml},
	[CAP_S_PDF] = {"pdf", CAPTURE_PDF, want_pdf, cap_step_pdf},
	[CAP_S_METADATA] = {"metadata", CAPTURE_METADATA, NULL,
			    cap_step_metadata},
};

void cap_next(struct capture *c)
{
	const struct cap_step *s;
	do {
		if (++c->step >= CAP_S_COUNT) {
			cap_finish(c);
			return;
		}
		s = &cap_steps[c->step];
	} while (s->wanted && !s->wanted(c));
	if (s->stage != c->stage)
		cap_stage(c, s->stage);
	s->begin(c);
}

int cap_in_step(const struct capture *c, enum cap_step_id s)
{
	return c->step == (int)s;
}

const char *cap_step_name(const struct capture *c)
{
	return c->step >= 0 && c->step < CAP_S_COUNT ? cap_steps[c->step].name
						     : "none";
}
