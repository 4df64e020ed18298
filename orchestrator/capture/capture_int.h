/*
 * capture_int.h — private to the capture module (capture.c, capture_emulate.c,
 * capture_ready.c, capture_consent.c, capture_shot.c, capture_warm.c,
 * capture_guard.c, capture_stealth.c, capture_pdf.c, capture_eta.c): the job's state and the steps the files hand over to
 * each other. Fields are private.
 *
 * DESIGN
 * A job is the ordered list of steps in capture_steps.c (context, target,
 * attach, set-up, park, emulate, navigate, load, settle, delay, tidy,
 * metrics, screenshot, mhtml, pdf, metadata). A step begins with its function
 * and ends by calling cap_next() (the next wanted step begins) or
 * cap_fail(); each reply callback checks its result (cap_ok). A step that
 * sends several commands at once counts the replies outstanding in
 * `waiting`. Events of the job's session arrive in cap_on_event. Every path
 * ends in cap_finish(), which runs once: it drops the job's callbacks
 * (cdp_forget), cancels its timers, closes the tab and the browser context
 * without waiting, hands the result to on_done and frees the job.
 */
#ifndef CAPTURE_INT_H
#define CAPTURE_INT_H

#include <cjson/cJSON.h>

#include "capopts.h"
#include "capture.h"
#include "cdp.h"
#include "loop.h"
#include "url.h"

#define CAP_FRAMES_MAX 16 /* out-of-process iframes asked for readiness */

/* The steps of a job, in order (capture_steps.c). */
enum cap_step_id {
	CAP_S_CONTEXT,    /* Target.createBrowserContext (begun by cap_open) */
	CAP_S_TARGET,     /* Target.createTarget about:blank */
	CAP_S_ATTACH,     /* Target.attachToTarget {flatten} */
	CAP_S_SETUP,      /* enable domains, viewport, probe, guard */
	CAP_S_PARK,       /* a spare page waits for its job */
	CAP_S_EMULATE,    /* the job's emulation (capture_emulate.c) */
	CAP_S_NAVIGATE,   /* Page.navigate */
	CAP_S_LOAD,       /* the load event of our document */
	CAP_S_VIEWPORT,   /* the job's metrics still there? (capture_emulate.c) */
	CAP_S_SETTLE,     /* readiness (capture_ready.c) */
	CAP_S_DELAY,      /* the job's extra delay (capture_consent.c) */
	CAP_S_TIDY,       /* consent banners, hidden selectors */
	CAP_S_VIEWPORT2,  /* again, right before the shot */
	CAP_S_METRICS,    /* the page's size (capture_shot.c) */
	CAP_S_SCREENSHOT, /* one shot, or tiles */
	CAP_S_MHTML,      /* Page.captureSnapshot */
	CAP_S_PDF,        /* Page.printToPDF, read as a stream (capture_pdf.c) */
	CAP_S_METADATA,   /* title, URL, text */
	CAP_S_COUNT
};

struct capture {
	struct loop *loop;
	struct cdp_conn *conn;
	struct capture_opts o;
	struct capture_cbs cbs;
	void *ud;
	struct capture **self_ref; /* capture_cancel's handle, if any */
	char *ctx_id, *target_id, *session, *frame_id, *loader_id;
	enum capture_stage stage;
	int step;            /* enum cap_step_id; -1 before the first */
	int waiting;         /* replies outstanding in a parallel step */
	int loaded, navigated;
	char early_load[64]; /* a load event's loaderId before navigated */
	struct loop_timer *deadline, *timer;
	int64_t t_start, t_stage;
	/* network activity of the page (requests in flight: capture_net.c) */
	struct cap_req {
		char *id;
		char type[16];   /* Document, Fetch, Media, ... */
		int64_t resp_at; /* its answer began (ms), 0 not yet */
		char url[160];
	} *inflight;
	size_t ninflight, inflight_alloc;
	uint64_t net_started, net_seen; /* requests started or ended (a
					   response may run the page's JS);
					   at the last round's start */
	int64_t net_quiet_since;
	struct {
		char key[160]; /* URL without query */
		int count;
	} seen[16];            /* recent URLs, to recognise polling */
	unsigned seen_next;
	int settle_round;
	int64_t settle_deadline;
	/* screenshot tiles */
	int shot_w, shot_h, next_tile_y;
	/* the screenshot's progress within its stage (capture_eta.c) */
	struct loop_timer *eta_timer; /* armed only for a long shot */
	int64_t eta_t0, eta_est, eta_last; /* began, estimate, last report */
	uint64_t eta_px, eta_done_px; /* device px: the page, shot so far */
	size_t eta_ntiles;
	int eta_pct;                  /* last percent reported */
	int64_t eta_secs;             /* last whole seconds left reported */
	char eta_detail[32];          /* last note reported */
	char *pdf_stream;    /* the PDF's IO stream handle while it is read */
	uint64_t pdf_read;   /* its bytes read so far */
	size_t pdf_cap;      /* bytes allocated for res->pdf */
	struct capture_result *res;
	struct cap_guard *guard; /* block_private: capture_guard.c */
	struct egress_port *egress; /* block_private: the context's proxy */
	int nchildren;           /* targets auto-attached (capture_targets.c) */
	char *frames[CAP_FRAMES_MAX]; /* their sessions that are iframes:
				     readiness asks them too */
	size_t nframes;
	char hdr_origin[300];    /* o.headers go only to this origin, "" none */
	int64_t t_tidy;          /* the clean-up began (capture_consent.c) */
	struct capopts_hold own; /* the job's copies of o's strings */
	char *browser_ua;        /* Browser.getVersion's userAgent, or NULL */
	char *browser_version;   /* ... and its full version ("156.0.8078.129")
				    (capture_stealth.c) */
	int spare;   /* prepared ahead, no job yet (capture_warm.c) */
	int parked;  /* ... and set up: waiting for capture_adopt */
};

/* capture.c */
/* A job's state, not started yet: no callbacks, no timers. */
struct capture *cap_new(struct loop *l, struct cdp_conn *conn,
			const struct capture_opts *opts, const char *url);
/* Start its chain (context -> target -> attach -> set-up) under a deadline
 * of deadline_ms; *out (if given) is cleared when the job ends. On error
 * the job is freed. */
sc_result cap_open(struct capture *c, int64_t deadline_ms,
		   struct capture **out);
void cap_on_deadline(void *arg);
/* c->o = *o, with c's own copies of its strings. */
void cap_set_opts(struct capture *c, const struct capture_opts *o);
/* capture_steps.c: the next wanted step begins (or the job finishes). */
void cap_next(struct capture *c);
/* 1 if c is in step s. */
int cap_in_step(const struct capture *c, enum cap_step_id s);
/* The current step's name ("settle"), for messages. Static. */
const char *cap_step_name(const struct capture *c);

/* The steps' beginnings, by file. capture.c: */
void cap_step_target(struct capture *c);
void cap_step_attach(struct capture *c);
void cap_step_setup(struct capture *c);
void cap_step_navigate(struct capture *c);
void cap_step_load(struct capture *c);
int cap_ok(struct capture *c, const struct cdp_reply *r);
void cap_fail(struct capture *c, enum capture_error e, const char *fmt, ...)
	SC_PRINTF(3, 4);
void cap_finish(struct capture *c);
void cap_stage(struct capture *c, enum capture_stage s);
/* Milliseconds left before the job's deadline (>= 1). */
int64_t cap_left_ms(const struct capture *c);
/* Emulation.setDeviceMetricsOverride's params: the job's viewport. */
cJSON *cap_metrics_params(const struct capture *c, int mobile);
/* Send a command on the job's session with the job's remaining time. */
int cap_call(struct capture *c, const char *method, cJSON *params,
	     cdp_reply_cb cb);

/* capture.c: a Network event of the page's session or a child's */
void cap_network_event(struct capture *c, const char *method,
		       const cJSON *params);

/* capture_ready.c: from the load event to "ready to capture" */
void cap_step_settle(struct capture *c);
void cap_net_event(struct capture *c, const char *method,
		   const cJSON *params);
/* Add what to the settle note ("; "-separated, once). */
void cap_ready_note(struct capture *c, const char *what);
/* Add what (a perpetual activity) to the settle note. */
void cap_ready_note_perpetual(struct capture *c, const char *what);

/* capture_net.c: requests in flight. 1 if a request was added or ended. */
int cap_net_update(struct capture *c, const char *method, const cJSON *p);
/* Drop the requests judged streams (named in the note); ms until the next
 * one may be judged, -1 if none. */
int64_t cap_net_streams(struct capture *c);
void cap_net_free(struct capture *c);

/* capture_warm.c: a set-up spare page has nothing to do until adopted */
void cap_step_park(struct capture *c);

/* capture_guard.c: the SSRF guard (Fetch domain; the egress proxy) */
/* With block_private: open the job's egress port and add it to
 * Target.createBrowserContext's params p. SC_OK (also without the guard);
 * an error if there is no egress or no port (the job cannot start). */
sc_result cap_guard_context(struct capture *c, cJSON *p);
/* Connections the egress refused, added to the result (at the end). */
void cap_guard_report(struct capture *c);
/* The class and message of a navigation that failed with a proxy error
 * (net::ERR_SOCKS_..., ERR_PROXY_...): what the egress saw. 0 if the
 * error is not a proxy error. */
int cap_guard_nav_error(struct capture *c, const char *error_text,
			enum capture_error *e, char *msg, size_t msglen);
void cap_guard_attach(struct capture *c);
void cap_guard_detach(struct capture *c);
/* Fetch.requestPaused on session (the page's or a child's) */
void cap_guard_event(struct capture *c, const char *session,
		     const cJSON *params);

/* capture_targets.c: the targets below the page (iframes, workers) */
/* {autoAttach, waitForDebuggerOnStart, flatten}: new object */
cJSON *cap_auto_attach_params(void);
/* Target.attachedToTarget: guard the child, then resume it */
void cap_target_attached(struct capture *c, const cJSON *params);
/* "scheme://host:port" of a split URL, the key cap_fetch_headers compares */
void cap_origin_key(const struct url_parts *u, char *out, size_t len);

/* capture_emulate.c: the job's emulation (viewport mobile, touch, user
 * agent, media, headers, cookies) */
void cap_step_emulate(struct capture *c);
void cap_step_viewport(struct capture *c);
/* The headers a paused request (Fetch.requestPaused's request, its origin
 * key) continues with: its own plus the job's extra headers when it goes
 * to the page's origin; NULL (continue unchanged) otherwise. */
cJSON *cap_fetch_headers(const struct capture *c, const cJSON *request,
			 const char *origin);

/* capture_stealth.c: what the page sees of the browser */
/* Ask the browser's version (set-up): 1 if asked (c->waiting counts the
 * reply), 0 if not. */
int cap_stealth_setup(struct capture *c);
/* Emulation.setUserAgentOverride's params for the job (its user_agent, a
 * phone's with mobile, or the browser's without "Headless"), or NULL:
 * the browser's own. New object. */
cJSON *cap_stealth_ua(const struct capture *c);
/* The command for a page or iframe target: stealth.js, or with stealth
 * off the automation override; its new params in *params. Static name. */
const char *cap_stealth_page(const struct capture *c, cJSON **params);
/* A reply of cap_stealth_page's command in a step that counts `waiting`:
 * a refusal does not fail the job. */
void cap_stealth_reply(void *owner, const struct cdp_reply *r);
/* With stealth, notifications denied in the job's browser context
 * (browser session; its reply counts in c->waiting like
 * cap_stealth_reply's): 1 if sent, 0 if not. */
int cap_stealth_browser(struct capture *c);
/* A child target (frame: an iframe) gets the same, fire and forget. */
void cap_stealth_child(struct capture *c, const char *sid, int frame);

/* capture_consent.c: the extra delay; consent banners, hidden selectors */
void cap_step_delay(struct capture *c);
void cap_step_tidy(struct capture *c);

/* capture_shot.c: the outputs of a ready page */
void cap_step_metrics(struct capture *c);
void cap_step_screenshot(struct capture *c);
void cap_step_mhtml(struct capture *c);
void cap_step_metadata(struct capture *c);

/* capture_eta.c: progress within the screenshot stage (on_within) */
/* The estimate of nshots screenshots of px device pixels in all, ms. */
int64_t cap_eta_estimate(uint64_t px, size_t nshots);
/* The shot begins (res's size and tiles known): a long one arms the
 * timer that reports progress. */
void cap_eta_begin(struct capture *c);
/* A tile of css_h CSS rows was shot and more follow. */
void cap_eta_tile(struct capture *c, int css_h);
/* The shot is over (or the job): no more reports. */
void cap_eta_end(struct capture *c);

/* capture_pdf.c: the page printed to PDF (with opts.pdf) */
void cap_step_pdf(struct capture *c);

/* The in-page probe, generated from ready.js. */
extern const char capture_ready_js[];
/* The page clean-up (consent rules, hiding), generated from consent.js. */
extern const char capture_consent_js[];
/* What scripts see of the browser, generated from stealth.js. */
extern const char capture_stealth_js[];

#endif
