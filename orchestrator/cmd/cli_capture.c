/*
 * cli_capture.c — `snapcat capture [options] URL…`: one-shot captures with no
 * server and no catalog.
 *
 *   argv -> url_normalize each (bad ones answered at once, no browser work)
 *        -> loop + browser (launched, or --browser ENDPOINT)
 *        -> up to N jobs at once, each: browser_acquire -> capture_start
 *           -> on_done -> worker: output_write <n>.png/.mhtml[/.pdf] -> print a JSON
 *              line -> next job; all done -> loop_stop
 * A job cut short by a browser crash is run once more on a new browser.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "browser.h"
#include "capopts.h"
#include "capture.h"
#include "cdp.h"
#include "cdplog.h"
#include "egress.h"
#include "loop.h"
#include "output.h"
#include "store.h"
#include "url.h"

#define CLI_LOG "capture"
#define CLI_MAX_ATTEMPTS 2
#define CLI_CAPOPT 0x100 /* a capture option of capopts_flag */

struct cli_job {
	struct cli_run *run;
	int n;            /* 1-based position on the command line */
	char *url;        /* normalised, or NULL if invalid */
	const char *arg;  /* as given */
	char bad[256];    /* why the URL was refused */
	int attempts;
	char *png, *mhtml, *pdf;
	struct capture *cap;
	struct cdp_conn *conn; /* the browser's, while the capture runs */
	struct capture_result *res;
	struct output_report rep;
};

struct cli_run {
	struct loop *loop;
	struct browser *browser;
	struct capture_opts copts;
	const char *out;
	int concurrency, running, next, njobs, finished, failed;
	int prewarm;            /* keep a spare page ready (capture_warm.c) */
	struct capture *spare;
	struct cli_job *jobs;
	const char *egress_address; /* --egress-address */
};

static void cli_pump(struct cli_run *run);

/* ---- the JSON line ---- */

static void cli_add_timings(cJSON *o, const struct capture_timings *t)
{
	capture_timings_json(cJSON_AddObjectToObject(o, "timings"), t, -1);
}

static void cli_add_error(cJSON *o, const char *cls, const char *msg)
{
	if (!cls) {
		cJSON_AddNullToObject(o, "error");
		return;
	}
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "class", cls);
	cJSON_AddStringToObject(e, "message", msg);
}

static void cli_add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* The first failing output, when the capture itself succeeded. */
static const struct output_file *cli_output_error(const struct cli_job *j)
{
	if (j->rep.png.rc)
		return &j->rep.png;
	if (j->rep.mhtml.rc && !j->run->copts.no_mhtml)
		return &j->rep.mhtml;
	if (j->rep.pdf.rc && j->run->copts.pdf)
		return &j->rep.pdf;
	return NULL;
}

static int cli_print(struct cli_job *j)
{
	const struct capture_result *r = j->res;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n", j->n);
	cli_add_str(o, "url", j->url ? j->url : j->arg);
	cli_add_str(o, "final_url", r ? r->final_url : NULL);
	cJSON_AddNumberToObject(o, "status", r ? r->http_status : 0);
	cli_add_str(o, "title", r ? r->title : NULL);
	cli_add_str(o, "png", j->rep.png.written ? j->png : NULL);
	cli_add_str(o, "mhtml", j->rep.mhtml.written ? j->mhtml : NULL);
	if (j->pdf)
		cli_add_str(o, "pdf", j->rep.pdf.written ? j->pdf : NULL);
	cJSON_AddNumberToObject(o, "width", j->rep.png_w);
	cJSON_AddNumberToObject(o, "height", j->rep.png_h);
	cJSON *b = cJSON_AddObjectToObject(o, "bytes");
	cJSON_AddNumberToObject(b, "png", (double)j->rep.png.bytes);
	cJSON_AddNumberToObject(b, "mhtml", (double)j->rep.mhtml.bytes);
	if (j->pdf)
		cJSON_AddNumberToObject(b, "pdf", (double)j->rep.pdf.bytes);
	cJSON_AddBoolToObject(o, "truncated", r && r->truncated);
	if (r && r->settle_note[0])
		cJSON_AddStringToObject(o, "note", r->settle_note);
	cJSON *consent = r ? capture_consent_json(r) : NULL;
	if (consent)
		cJSON_AddItemToObject(o, "consent", consent);
	if (r && r->blocked) {
		cJSON *bl = cJSON_AddObjectToObject(o, "blocked");
		cJSON_AddNumberToObject(bl, "count", r->blocked);
		cJSON_AddStringToObject(bl, "first", r->blocked_first);
	}
	if (r)
		cli_add_timings(o, &r->t);
	const struct output_file *of = r && !r->error ? cli_output_error(j) : NULL;
	if (!r)
		cli_add_error(o, "invalid_url", j->bad);
	else if (r->error)
		cli_add_error(o, capture_error_name(r->error), r->message);
	else if (of)
		cli_add_error(o, output_error_class(of), of->err);
	else
		cli_add_error(o, NULL, NULL);
	char *line = cJSON_PrintUnformatted(o);
	printf("%s\n", line);
	fflush(stdout);
	cJSON_free(line);
	cJSON_Delete(o);
	return !r || r->error || of;
}

/* ---- one job ---- */

static void cli_job_end(struct cli_job *j)
{
	struct cli_run *run = j->run;
	run->failed += cli_print(j);
	capture_result_free(&j->res);
	run->finished++;
	if (j->url)
		run->running--;
	if (run->finished == run->njobs) {
		capture_cancel(&run->spare);
		loop_stop(run->loop);
	}
	else
		cli_pump(run);
}

static void cli_write_work(void *arg)
{
	struct cli_job *j = arg;
	struct output_paths p = {.png = j->png, .mhtml = j->mhtml,
				 .pdf = j->pdf, .max_bytes = j->run->copts.max_file};
	output_write(j->res, &p, &j->rep);
}

static void cli_write_done(void *arg)
{
	cli_job_end(arg);
}

static void cli_start(struct cli_job *j);

static void cli_on_done(void *ud, struct capture_result *res)
{
	struct cli_job *j = ud;
	j->cap = NULL;
	browser_release(j->run->browser, j->conn); /* its own one: closed */
	j->conn = NULL;
	if (res->error == CAPERR_BROWSER_CRASH && j->attempts < CLI_MAX_ATTEMPTS) {
		sc_log(SC_LOG_WARN, CLI_LOG, "%s: %s; retrying on a new browser",
		       j->url, res->message);
		capture_result_free(&res);
		cli_start(j);
		return;
	}
	j->res = res;
	if (res->error && res->error != CAPERR_HTTP_STATUS) {
		cli_job_end(j);
		return;
	}
	loop_work(j->run->loop, cli_write_work, cli_write_done, j);
}

static void cli_on_browser(void *ud, struct cdp_conn *conn, const char *err)
{
	struct cli_job *j = ud;
	struct cli_run *run = j->run;
	struct capture_cbs cbs = {.on_done = cli_on_done};
	int more = run->prewarm && run->next < run->njobs &&
		   !browser_per_job(run->browser);
	j->conn = conn;
	if (conn && capture_start_warm(run->loop, conn, &run->spare, more,
				       j->url, &run->copts, &cbs, j,
				       &j->cap) == SC_OK)
		return;
	if (conn)
		browser_release(run->browser, conn);
	j->conn = NULL;
	j->res = capture_result_failed(j->url, CAPERR_BROWSER_CRASH, err);
	cli_job_end(j);
}

static void cli_start(struct cli_job *j)
{
	j->attempts++;
	browser_acquire(j->run->browser, cli_on_browser, j);
}

static void cli_pump(struct cli_run *run)
{
	while (run->running < run->concurrency && run->next < run->njobs) {
		struct cli_job *j = &run->jobs[run->next++];
		if (!j->url)
			continue; /* answered before the loop started */
		run->running++;
		cli_start(j);
	}
}

/* ---- options ---- */

static void cli_capture_usage(FILE *f)
{
	fputs("usage: snapcat capture [options] URL...\n"
	      "Capture each URL as a full-page PNG and an MHTML file, writing\n"
	      "<n>.png and <n>.mhtml into the output directory (n = position on\n"
	      "the command line), and print one JSON line per URL.\n\n"
	      "  --out DIR            output directory (default .)\n"
	      "  --concurrency N      tabs in parallel on one browser (default 2)\n"
	      "  --width W --height H viewport in CSS px (default 1280x800)\n"
	      "  --scale S            device scale factor (default 1)\n"
	      "  --timeout SEC        hard deadline per URL (default 60)\n"
	      "  --settle MS          readiness budget after load (default 10000)\n"
	      "  --max-height PX      cut pages taller than this (default 200000)\n"
	      "  --shot-pixels N      device pixels one screenshot may hold (default\n"
	      "                       102400000: 1280 x 80,000; never more than\n"
	      "                       80,000 rows); bigger pages are shot in tiles\n"
	      "                       and joined\n"
	      "  --tile PX            shoot in tiles of PX device px (default: one shot,\n"
	      "                       see --shot-pixels)\n"
	      "  --no-mhtml           skip the MHTML file\n"
	      "  --pdf                also print the page to <n>.pdf (its print CSS)\n"
	      "  --mobile             emulate a phone: touch, mobile user agent and\n"
	      "                       viewport (e.g. --width 390 --height 844 --scale 3)\n"
	      "  --viewport-only      capture the viewport, not the full page\n"
	      "  --color-scheme S     prefers-color-scheme: light, dark or auto (default)\n"
	      "  --delay MS           wait this long once the page is ready (0-60000)\n"
	      "  --wait-for SELECTOR  ready only once this element is there\n"
	      "  --no-perpetual       wait for every short timer: judge no activity\n"
	      "                       perpetual (carousels, pollers then use the budget)\n"
	      "  --hide SELECTOR      hide these elements (display:none), repeatable\n"
	      "  --no-consent         leave cookie/consent banners as they are\n"
	      "  --no-stealth         let the page see an automated headless browser\n"
	      "                       (default: an ordinary Chrome on Linux)\n"
	      "  --user-agent UA      user agent of the page's requests\n"
	      "  --header 'N: V'      extra HTTP header for the page, repeatable\n"
	      "  --cookie NAME=VALUE  cookie for the page's URL, repeatable\n"
	      "  --max-file SIZE      largest PNG, MHTML or PDF written, e.g. 512m (default 1g)\n"
	      "  --no-prewarm         no spare page set up ahead for the next URL\n"
	      "  --png-best           smaller PNGs, slower (Chromium's full zlib)\n"
	      "  --browser ENDPOINT   use a running browser (ws://... or http://host:port;\n"
	      "                       a ?token=T query is kept; ,session=job|shared)\n"
	      "  --browser-arg ARG    extra Chromium flag (repeatable)\n"
	      "  --block-private      refuse every request and connection of the page to\n"
	      "                       private/local addresses (see the README's Security)\n"
	      "  --egress-address A   where the guard's proxy listens (default 127.0.0.1;\n"
	      "                       must be reachable from a remote --browser's host)\n"
	      "  --cdp-log FILE       write every DevTools message to FILE (JSON lines;\n"
	      "                       it holds the pages' content: debugging only)\n"
	      "  --verbose            log debug details to stderr\n"
	      "Exit status: 0 if every URL was captured, 1 if any failed, 2 on usage errors.\n",
	      f);
}

struct cli_args {
	struct capture_opts copts;
	struct capopts_hold hold; /* copts' strings (--hide, --header, ...) */
	struct browser_opts bopts;
	const char *out;
	int concurrency;
	int no_prewarm;
	const char *egress_address;
	const char *cdp_log;
	const char *extra[64];
	int nextra;
};

static int cli_num(const char *opt, const char *v, long min, long max, long *out)
{
	if (sc_parse_long(v, min, max, out) == SC_OK)
		return 0;
	fprintf(stderr, "snapcat capture: %s wants a number from %ld to %ld, "
		"not \"%s\"\n", opt, min, max, v);
	return -1;
}

static int cli_opt(struct cli_args *a, int c, const char *v)
{
	long n = 0;
	double d;
	switch (c) {
	case 'o': a->out = v; return 0;
	case 'c': return cli_num("--concurrency", v, 1, 64, &n) ? -1 : (a->concurrency = (int)n, 0);
	case 'W': return cli_num("--width", v, 100, 10000, &n) ? -1 : (a->copts.width = (int)n, 0);
	case 'H': return cli_num("--height", v, 100, 10000, &n) ? -1 : (a->copts.height = (int)n, 0);
	case 't': return cli_num("--timeout", v, 1, 3600, &n) ? -1 : (a->copts.timeout_ms = (int)n * 1000, 0);
	case 'S': return cli_num("--settle", v, 1, 600000, &n) ? -1 : (a->copts.settle_ms = (int)n, 0);
	case 'M': return cli_num("--max-height", v, 100, 1000000, &n) ? -1 : (a->copts.max_height = (int)n, 0);
	case 'T': return cli_num("--tile", v, 256, 1000000, &n) ? -1 : (a->copts.tile_px = (int)n, 0);
	case 'm': a->copts.no_mhtml = 1; return 0;
	case 'p': a->copts.fast_png = 0; return 0;
	case 'b': a->bopts.endpoint = v; return 0;
	case 'v': sc_log_set_level(SC_LOG_DEBUG); return 0;
	case 'B': a->copts.block_private = 1; return 0;
	case 'P': a->no_prewarm = 1; return 0;
	case 'E': a->egress_address = v; return 0;
	case 'L': a->cdp_log = v; return 0;
	case 'F':
		if (sc_parse_size(v, &a->copts.max_file)) {
			fprintf(stderr, "snapcat capture: --max-file wants a size "
				"such as 512m, not \"%s\"\n", v);
			return -1;
		}
		return 0;
	case 's':
		if (sc_parse_double(v, 0.1, 5, &d)) {
			fprintf(stderr, "snapcat capture: --scale wants 0.1 to 5\n");
			return -1;
		}
		a->copts.scale = d;
		return 0;
	case 'a':
		if (a->nextra >= 63) {
			fprintf(stderr, "snapcat capture: too many --browser-arg\n");
			return -1;
		}
		a->extra[a->nextra++] = v;
		return 0;
	default: return -1;
	}
}

static const struct option cli_own_opts[] = {
	{"out", 1, 0, 'o'}, {"concurrency", 1, 0, 'c'},
	{"width", 1, 0, 'W'}, {"height", 1, 0, 'H'},
	{"scale", 1, 0, 's'}, {"timeout", 1, 0, 't'},
	{"settle", 1, 0, 'S'}, {"max-height", 1, 0, 'M'},
	{"tile", 1, 0, 'T'}, {"no-mhtml", 0, 0, 'm'},
	{"png-best", 0, 0, 'p'}, {"browser", 1, 0, 'b'},
	{"browser-arg", 1, 0, 'a'}, {"verbose", 0, 0, 'v'},
	{"help", 0, 0, 'h'}, {"block-private", 0, 0, 'B'},
	{"max-file", 1, 0, 'F'}, {"no-prewarm", 0, 0, 'P'},
	{"egress-address", 1, 0, 'E'}, {"cdp-log", 1, 0, 'L'},
};
/* capopts_flag's, by name, after cli_own_opts */
static const char *const cli_capopts[] = {
	"mobile", "viewport-only", "color-scheme", "delay", "hide",
	"no-consent", "no-stealth", "stealth", "user-agent", "header",
	"cookie", "wait-for", "no-perpetual", "shot-pixels", "pdf", "no-pdf",
	NULL,
};

static int cli_parse(int argc, char **argv, struct cli_args *a)
{
	struct option longopts[64];
	size_t nown = sizeof(cli_own_opts) / sizeof(*cli_own_opts);
	memcpy(longopts, cli_own_opts, sizeof(cli_own_opts));
	if (capopts_longopts(longopts + nown, 64 - nown, cli_capopts,
			     CLI_CAPOPT) < 0)
		return -1;
	memset(a, 0, sizeof(*a));
	a->out = ".";
	a->concurrency = 2;
	a->copts.fast_png = 1;
	int c, idx = 0;
	char err[256];
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:c:h", longopts, &idx)) != -1) {
		if (c == 'h') {
			cli_capture_usage(stdout);
			return 1;
		}
		if (c == CLI_CAPOPT && capopts_flag(&a->copts, &a->hold,
						    longopts[idx].name, optarg,
						    err, sizeof(err))) {
			fprintf(stderr, "snapcat capture: %s\n", err);
			return -1;
		}
		if (c == '?' || (c != CLI_CAPOPT && cli_opt(a, c, optarg)))
			return -1;
	}
	a->bopts.extra_args = a->extra;
	capture_opts_defaults(&a->copts);
	if (optind >= argc) {
		fprintf(stderr, "snapcat capture: no URL given\n");
		return -1;
	}
	return 0;
}

/* ---- the command ---- */

static int cli_prepare_jobs(struct cli_run *run, int argc, char **argv)
{
	run->njobs = argc;
	run->jobs = sc_xcalloc((size_t)argc, sizeof(*run->jobs));
	int valid = 0;
	for (int i = 0; i < argc; i++) {
		struct cli_job *j = &run->jobs[i];
		char norm[8192];
		j->run = run;
		j->n = i + 1;
		j->arg = argv[i];
		if (url_normalize(argv[i], norm, sizeof(norm), j->bad,
				  sizeof(j->bad)) == SC_OK) {
			j->url = sc_xstrdup(norm);
			j->png = sc_xasprintf("%s/%d.png", run->out, j->n);
			j->mhtml = run->copts.no_mhtml
					   ? NULL
					   : sc_xasprintf("%s/%d.mhtml", run->out, j->n);
			j->pdf = run->copts.pdf ? sc_xasprintf("%s/%d.pdf",
							       run->out, j->n)
						: NULL;
			valid++;
		} else {
			run->failed += cli_print(j);
			run->finished++;
		}
	}
	return valid;
}

static void cli_free_jobs(struct cli_run *run)
{
	for (int i = 0; i < run->njobs; i++) {
		free(run->jobs[i].url);
		free(run->jobs[i].png);
		free(run->jobs[i].mhtml);
		free(run->jobs[i].pdf);
		capture_result_free(&run->jobs[i].res);
	}
	free(run->jobs);
}

static int cli_run_jobs(struct cli_run *run, const struct browser_opts *bo)
{
	char err[256];
	if (store_mkdirs(run->out, err, sizeof(err))) {
		fprintf(stderr, "snapcat capture: cannot create %s: %s\n",
			run->out, err);
		return -1;
	}
	if (run->copts.block_private &&
	    egress_start(&(struct egress_opts){.address = run->egress_address},
			 &run->copts.egress)) {
		fprintf(stderr, "snapcat capture: cannot start the egress "
			"proxy on %s\n", run->egress_address ? run->egress_address
						     : "127.0.0.1");
		return -1;
	}
	if (loop_create(&(struct loop_opts){.protocol = &cdp_protocol},
			&run->loop) ||
	    browser_create(run->loop, bo, &run->browser)) {
		fprintf(stderr, "snapcat capture: cannot start the event loop\n");
		loop_destroy(&run->loop);
		egress_stop(&run->copts.egress);
		return -1;
	}
	/* invalid URLs were answered already; skip them */
	while (run->next < run->njobs && !run->jobs[run->next].url)
		run->next++;
	cli_pump(run);
	int rc = loop_run(run->loop);
	browser_destroy(&run->browser);
	loop_destroy(&run->loop);
	egress_stop(&run->copts.egress);
	return rc;
}

int cli_capture(int argc, char **argv)
{
	struct cli_args a;
	int rc = cli_parse(argc, argv, &a);
	if (rc) {
		capopts_hold_free(&a.hold);
		return rc > 0 ? 0 : (cli_capture_usage(stderr), 2);
	}
	if (a.cdp_log && cdp_log_open(a.cdp_log, &a.bopts.cdp_log)) {
		fprintf(stderr, "snapcat capture: cannot write %s: %s\n",
			a.cdp_log, strerror(errno));
		capopts_hold_free(&a.hold);
		return 2;
	}
	struct cli_run run = {.copts = a.copts, .out = a.out,
			      .concurrency = a.concurrency,
			      .prewarm = !a.no_prewarm,
			      .egress_address = a.egress_address};
	capture_opts_defaults(&run.copts);
	int valid = cli_prepare_jobs(&run, argc - optind, argv + optind);
	if (valid && cli_run_jobs(&run, &a.bopts))
		rc = 2;
	cli_free_jobs(&run);
	capopts_hold_free(&a.hold);
	cdp_log_close(&a.bopts.cdp_log);
	if (rc)
		return rc;
	return run.failed ? 1 : 0;
}
