/*
 * capture.h — one capture job: a URL in, a full-page PNG, an MHTML document,
 * title, final URL, HTTP status, page text and per-stage timings out.
 *
 *   capture_start -> Target.createBrowserContext -> createTarget about:blank
 *     -> attachToTarget (flatten) -> Page/Network enable, lifecycle events,
 *        viewport, readiness probe (ready.js)
 *     -> the job's emulation: mobile, touch, user agent, color scheme,
 *        extra headers, cookies (capture_emulate.c) -> Page.navigate
 *     -> load (lifecycle "load" of our loaderId) -> settle (capture_ready.c)
 *     -> delay, consent banners, hidden selectors (capture_consent.c,
 *        consent.js)
 *     -> getLayoutMetrics -> captureScreenshot (one, or tiles past
 *        shot_px) (capture_shot.c)
 *     -> captureSnapshot mhtml -> title/URL/text -> on_done(result)
 *     -> closeTarget + disposeBrowserContext (fire and forget)
 *
 * The job does CDP work on the loop thread only; the result carries the raw
 * payloads (base64 PNG tiles, MHTML text) for output_write() to decode and
 * store on a worker thread.
 */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct cdp_conn;
struct egress;
struct loop;
struct capture;

/* Error classes, shared by the API, the catalog and the admin page. */
enum capture_error {
	CAPERR_NONE = 0,
	CAPERR_INVALID_URL,
	CAPERR_DNS,
	CAPERR_CONNECT,
	CAPERR_TLS,
	CAPERR_HTTP_STATUS,
	CAPERR_NAVIGATION, /* any other net::ERR_* (aborted, redirects, ...) */
	CAPERR_TIMEOUT,
	CAPERR_BLOCKED,
	CAPERR_TOO_LARGE,
	CAPERR_BROWSER_CRASH,
	CAPERR_IO,
	CAPERR_CANCELED,
	CAPERR_INTERNAL,
};
/* "dns", "connect", ...; "" for CAPERR_NONE. Static. */
const char *capture_error_name(enum capture_error e);

enum capture_stage {
	CAPTURE_QUEUED = 0,
	CAPTURE_STARTING,
	CAPTURE_NAVIGATING,
	CAPTURE_LOADING,
	CAPTURE_SETTLING,
	CAPTURE_SCREENSHOT,
	CAPTURE_MHTML,
	CAPTURE_PDF,
	CAPTURE_METADATA,
	CAPTURE_WRITING,
	CAPTURE_DONE,
};
/* A stage's name ("navigating": in events and a job's "stage") and the
 * progress shown when it begins. Static; "unknown"/0 out of range. */
const char *capture_stage_name(enum capture_stage s);
int capture_stage_percent(enum capture_stage s);

struct capture_opts {
	int width, height;  /* viewport in CSS px; default 1280x800 */
	double scale;       /* device scale factor; default 1 */
	int timeout_ms;     /* hard deadline for the whole job; default 60000 */
	int settle_ms;      /* readiness budget after load; default 10000 */
	int max_height;     /* CSS px; taller pages are cut and flagged; 200000 */
	int tile_px;        /* device px per screenshot tile (--tile); 0:
			       tiles only past shot_px (the default) */
	uint64_t shot_px;   /* device pixels one screenshot may hold; a page
			       with more is shot in tiles of at most that
			       many, joined by output_write; default
			       CAPTURE_SHOT_PX */
	size_t text_cap;    /* characters of page text kept; default 262144 */
	int fast_png;       /* Chromium's optimizeForSpeed PNG; default 1 */
	int no_mhtml;       /* skip the MHTML capture */
	int pdf;            /* also print the page to PDF (capture_pdf.c) */
	uint64_t max_file;  /* bytes per output file (PNG, MHTML, PDF); larger
			       ones are not written (too_large); default
			       1 GiB */
	int block_private;  /* refuse every request (navigation, redirects,
			       sub-resources) and every connection of the
			       page to a private/local address */
	struct egress *egress; /* with block_private: the egress proxy
				  the page's connections go through
				  (borrowed; must outlive the job) */
	/* emulation and page clean-up (capture_emulate.c, capture_consent.c);
	 * the strings are borrowed: they must outlive the job */
	int mobile;         /* touch, a mobile user agent, mobile viewport */
	int viewport_only;  /* the viewport, not the full page */
	int color_scheme;   /* CAPTURE_SCHEME_*: prefers-color-scheme */
	int delay_ms;       /* extra wait once the page is ready */
	const char *wait_for; /* CSS selector readiness waits for, or NULL */
	int no_perpetual;   /* wait for every short timer: judge no activity
			       perpetual (readiness as before) */
	int no_consent;     /* leave cookie/consent banners alone */
	int no_stealth;     /* let pages see the automated headless browser
			       (capture_stealth.c) */
	const char *hide;       /* JSON array of CSS selectors to hide, NULL */
	const char *user_agent; /* NULL: the browser's (or a mobile one) */
	const char *headers;    /* JSON object {"Name":"value"}, NULL; secret */
	const char *cookies;    /* JSON array [{name,value,path?}], NULL;
				   secret; set for the page's URL */
};
enum { CAPTURE_SCHEME_AUTO = 0, CAPTURE_SCHEME_LIGHT, CAPTURE_SCHEME_DARK };
/* 1280 x 80,000 device pixels: Chromium's memory for one screenshot grows
 * by about 13 bytes per pixel, so about 1.3 GB at most with this budget,
 * and above some 86,000 rows its shot comes back blank at the bottom
 * (capture_shot.c). */
#define CAPTURE_SHOT_PX (1280ull * 80000)
/* Fill the zero fields of o with the defaults above. */
void capture_opts_defaults(struct capture_opts *o);

/* A payload taken from a CDP reply: data[0..len) inside mem (free(mem)). */
struct capture_blob {
	void *mem;
	char *data;
	size_t len;
};

struct capture_timings { /* milliseconds */
	int64_t setup, navigate, load, settle, screenshot, mhtml, pdf, meta,
		write, total;
};

/*
 * The one shape of timings (a `snapcat capture` line, a snapshot's
 * timings, the metrics): each stage's timing ("setup", "navigate", "load",
 * "settle", "screenshot", "mhtml", "pdf", "metadata", "write"), then
 * "version"
 * if version_ms >= 0 (the server's versioning step; the CLI has none:
 * -1), then "total" = the job + write + version. Added to object o.
 */
struct cJSON;
void capture_timings_json(struct cJSON *o, const struct capture_timings *t,
			  int64_t version_ms);
/* Those keys, in that order, NULL-terminated. */
extern const char *const capture_timing_keys[];

struct capture_result {
	char *url;           /* as asked */
	char *final_url;     /* after redirects (location.href) */
	char *title;
	char *text;          /* innerText, capped */
	int http_status;     /* of the main document; 0 if none */
	int css_width, css_height; /* page size captured, CSS px */
	int page_height;     /* full page height before the cap, CSS px */
	int truncated;       /* page taller than max_height */
	double scale;
	size_t ntiles;
	struct capture_blob *tiles; /* base64 PNG, top to bottom */
	int tile_css;        /* CSS px per tile (last may be shorter) */
	struct capture_blob mhtml;  /* MHTML text */
	struct capture_blob pdf;    /* PDF bytes (decoded), with opts.pdf */
	uint64_t pdf_over;   /* the PDF was over max_file: bytes read when
				reading stopped (pdf is then empty), else 0 */
	char pdf_err[200];   /* the browser could not print it, or "" */
	char settle_note[512]; /* why readiness was cut short, what was
				  judged perpetual, or "" */
	int blocked;           /* requests refused by block_private */
	char blocked_first[600]; /* the first of them and why, or "" */
	/* consent-banner handling (capture_consent.c): the first rule that
	 * acted ("onetrust", ...) or ""; its action: "accepted", "hidden",
	 * "none" (nothing found), "off" (disabled), "error" */
	char consent_rule[32], consent_action[16];
	char consent_matched[160]; /* every rule that acted, comma-separated */
	int64_t consent_ms;        /* spent in the step */
	struct capture_timings t;
	enum capture_error error;
	char message[512];   /* human-readable error, or "" */
};

/* A result for a job that never reached the page: url, error class e and
 * message (NULL: a generic one for e). Caller owns it. */
struct capture_result *capture_result_failed(const char *url,
					     enum capture_error e,
					     const char *message);

/* The consent-banner report of a result (capture_consent.c): {"handled":
 * rule or null, "action", "matched": [rules], "ms"}; NULL if the step did
 * not run. Caller deletes. */
struct cJSON;
struct cJSON *capture_consent_json(const struct capture_result *r);

/* Free everything the result holds, and the struct; NULL-safe, *r = NULL. */
void capture_result_free(struct capture_result **r);

/* Progress within a stage (capture_eta.c: the screenshot of a tall page):
 * the stage, a percent between the stage's and the next one's (never
 * reaching it), a note ("tile 3 of 7", or ""), the milliseconds left by
 * the estimate (-1: unknown, the estimate is passed) and those spent in
 * the shot so far (-1: not within a stage). */
struct capture_within {
	enum capture_stage stage;
	int percent;
	char detail[32];
	int64_t eta_ms, elapsed_ms;
};

struct capture_cbs {
	/* A stage began. Optional. */
	void (*on_progress)(void *ud, enum capture_stage stage);
	/* Progress within the current stage: only in a long screenshot stage,
	 * at most every CAPTURE_WITHIN_MS. Optional. */
	void (*on_within)(void *ud, const struct capture_within *w);
	/* The job ended (success or error): the callee owns res. After this
	 * call the struct capture is gone. */
	void (*on_done)(void *ud, struct capture_result *res);
};

/*
 * Start capturing url (already validated and normalised) on conn. Returns
 * SC_OK and the job (for capture_cancel) in *out; on_done will be called
 * exactly once, never from inside capture_start. On error nothing started.
 */
sc_result capture_start(struct loop *l, struct cdp_conn *conn, const char *url,
			const struct capture_opts *opts,
			const struct capture_cbs *cbs, void *ud,
			struct capture **out) SC_MUST_CHECK;

/*
 * Spare pages (capture_warm.c): prepare the page of the next job ahead —
 * its own browser context, tab, session and set-up, as capture_start would —
 * so that a job adopting it navigates at once. *out is the spare; it is set
 * to NULL if the spare fails (browser gone) or is adopted. Drop an unused
 * one with capture_cancel.
 */
sc_result capture_prepare(struct loop *l, struct cdp_conn *conn,
			  const struct capture_opts *opts,
			  struct capture **out) SC_MUST_CHECK;

/* Start url on the spare *spare as capture_start would (same callbacks and
 * guarantees). SC_ERR_INVALID if it does not fit (another connection, or
 * another viewport, scale or guard): the spare is closed, *spare = NULL. */
sc_result capture_adopt(struct capture **spare, struct cdp_conn *conn,
			const char *url, const struct capture_opts *opts,
			const struct capture_cbs *cbs, void *ud,
			struct capture **out) SC_MUST_CHECK;

/* capture_adopt if *spare fits, else capture_start; then, if keep_spare,
 * prepare the next spare in *spare for conn. */
sc_result capture_start_warm(struct loop *l, struct cdp_conn *conn,
			     struct capture **spare, int keep_spare,
			     const char *url, const struct capture_opts *opts,
			     const struct capture_cbs *cbs, void *ud,
			     struct capture **out) SC_MUST_CHECK;

/* Abort a job: its tab is closed, on_done is NOT called. NULL-safe. */
void capture_cancel(struct capture **c);

#endif
