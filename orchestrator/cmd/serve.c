/*
 * serve.c — `snapcat serve`: options, then loop + app (catalog, browser,
 * scheduler) + HTTP server on one lws context, until SIGTERM/SIGINT.
 *
 *   main -> serve_main -> loop_create -> app_create (catalog, recovery)
 *        -> hooks_create (webhook sender thread) -> server_create (listen)
 *        -> app_start -> loop_run
 *   SIGTERM -> flag + lws_cancel_service -> serve_wake (loop thread):
 *        server_quiesce (new API calls get 503), app_drain(grace) ->
 *        loop_stop; a second signal stops at once (jobs left running are
 *        queued again by the next start).
 */
#include "serve.h"

#include <errno.h>
#include <getopt.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "app.h"
#include "cdp.h"
#include "browser.h"
#include "capopts.h"
#include "hooks.h"
#include "io_run.h"
#include "loop.h"
#include "mhtml_idx.h"
#include "serve_conf.h"
#include "server.h"

#define SERVE_CAPOPT 0x100 /* a capture option of capopts_flag, by name */
#define SERVE_HOOK_ATTEMPTS 0x101 /* --webhook-attempts */
#define SERVE_HOOK_BACKOFF 0x102  /* --webhook-backoff-ms */
#define SERVE_HOSTS_MAX 16         /* --host */
#define SERVE_BODY_TIMEOUT 0x103  /* --body-timeout */
#define SERVE_BODY_RATE 0x104     /* --body-min-rate */
#define SERVE_TLS_CERT 0x105      /* --tls-cert */
#define SERVE_TLS_KEY 0x106       /* --tls-key */

#ifndef SNAPCAT_ASSETS_DIR
#define SNAPCAT_ASSETS_DIR "assets"
#endif

struct serve_args {
	struct server_opts so;
	struct app_opts ao;
	struct hooks_opts ho;      /* webhooks */
	struct browser_opts bo[APP_BROWSERS_MAX];
	char bep[APP_BROWSERS_MAX][512]; /* --browser without ",max=N" */
	int nbo;
	const char *extra[64];
	const char *hosts[SERVE_HOSTS_MAX]; /* --host */
	int nhosts;
	int nextra, grace_s, recycle, max_mb;
	struct capopts_hold hold;  /* ao.copts' strings (--hide, --user-agent) */
	struct serve_conf conf;    /* --config FILE as arguments */
	int phase;                 /* 0: the config file, 1: the command line */
	int cli_browser, cli_extra, cli_hide, cli_host; /* seen on the
							 * command line */
};

static volatile sig_atomic_t serve_signals, serve_hups;
static struct lws_context *serve_ctx;

static void serve_on_signal(int sig)
{
	if (sig == SIGHUP)
		serve_hups++;
	else
		serve_signals++;
	if (serve_ctx)
		lws_cancel_service(serve_ctx); /* writes to lws's wake pipe */
}

struct serve_run {
	struct loop *loop;
	struct app *app;
	struct server *srv;
	struct hooks *hooks;
	int seen, grace_s, hups;
};

/* SIGHUP: the --tls-cert and --tls-key files again (renewed). */
static void serve_hup(struct serve_run *r)
{
	char err[512];
	if (r->hups == serve_hups)
		return;
	r->hups = serve_hups;
	if (!server_tls(r->srv))
		return;
	if (server_tls_reload(r->srv, err, sizeof(err)))
		sc_log(SC_LOG_ERROR, "serve", "SIGHUP: the certificate stays the "
		       "old one: %s", err);
	else
		sc_log(SC_LOG_INFO, "serve", "SIGHUP: TLS certificate reloaded");
}

static void serve_drained(void *arg)
{
	struct serve_run *r = arg;
	sc_log(SC_LOG_INFO, "serve", "stopped");
	loop_stop(r->loop);
}

static void serve_wake(void *arg)
{
	struct serve_run *r = arg;
	serve_hup(r);
	int n = serve_signals;
	if (n == r->seen)
		return;
	r->seen = n;
	if (n > 1) {
		sc_log(SC_LOG_WARN, "serve", "second signal: stopping now");
		loop_stop(r->loop);
		return;
	}
	sc_log(SC_LOG_INFO, "serve", "signal: no new work; letting running "
	       "jobs finish (up to %d s)", r->grace_s);
	server_quiesce(r->srv);
	app_drain(r->app, r->grace_s * 1000, serve_drained, r);
}

static void serve_usage(FILE *f)
{
	fputs("usage: snapcat serve [options]\n"
	      "  --listen HOST:PORT   address to serve on (default 127.0.0.1:8080)\n"
	      "  --data DIR           catalog and files (default ./data)\n"
	      "  --browser auto|URL[,max=N]  launch a local Chromium (auto, default)\n"
	      "                       or use a running one (ws://... or http://host:port);\n"
	      "                       repeat for a pool: jobs go to the healthy one\n"
	      "                       least loaded for its max (N jobs at once; default\n"
	      "                       --concurrency, which caps the total);\n"
	      "                       ,session=job|shared before ,max=: a connection\n"
	      "                       per job (browserless; detected for a URL that is\n"
	      "                       not ws://.../devtools/browser/ID) or one shared\n"
	      "  --browser-retry-max SEC  an unhealthy browser is tried again after\n"
	      "                       1 s, doubling up to this (default 60)\n"
	      "  --browser-arg ARG    extra Chromium flag (repeatable)\n"
	      "  --concurrency N      captures at once (default 2)\n"
	      "  --timeout SEC        deadline per capture (default 60)\n"
	      "  --attempts N         tries per job before it fails (default 3)\n"
	      "  --max-file SIZE      largest PNG, MHTML or PDF kept, e.g. 512m (default 1g)\n"
	      "  --no-prewarm         no spare page set up ahead per browser\n"
	      "  --change-threshold PCT  snapshot.changed when this share of a\n"
	      "                       link's PNG changed (default 0.1)\n"
	      "  --token T            require Authorization: Bearer T on /api\n"
	      "                       (default: $SNAPCAT_TOKEN, else no auth)\n"
	      "  --allow-private      allow capturing loopback/private addresses\n"
	      "  --egress-address A   where the guard's proxy listens (default 127.0.0.1;\n"
	      "                       must be reachable from remote browser hosts)\n"
	      "  --grace SEC          on SIGTERM, wait this long for jobs (default 30)\n"
	      "  --webhook-attempts N tries per webhook delivery (default 6)\n"
	      "  --webhook-backoff-ms MS  first retry delay of a delivery, the later\n"
	      "                       ones scaled (default 5000: 5 s, 30 s ... 1 h)\n"
	      "  --assets DIR         admin page files (default: the source's assets/)\n"
	      "  --cors-origin LIST   origins allowed cross-origin (comma-separated, or *)\n"
	      "  --host NAME          a name the server is reached by (repeatable or\n"
	      "                       comma-separated; '*' any): other Host headers get\n"
	      "                       421 (localhost, 127.0.0.1, ::1, the --listen address\n"
	      "                       and, listening on all, the interfaces' are known)\n"
	      "  --tls-cert FILE      serve HTTPS (HTTP/2 or HTTP/1.1) with this PEM\n"
	      "                       certificate chain; needs --tls-key\n"
	      "  --tls-key FILE       its PEM private key (both read again on SIGHUP)\n"
	      "  --ping SEC           SSE heartbeat interval (default 15)\n"
	      "  --max-subscribers N  per channel: SSE, WebSocket, long-poll, frame\n"
	      "                       (default 10000)\n"
	      "  --max-queue N        queued jobs at most; more get 503 (default 10000)\n"
	      "  --body-timeout SEC   a request body must arrive within SEC seconds\n"
	      "                       (default 20) plus one second per\n"
	      "  --body-min-rate B    B bytes received (default 1024); else 408\n"
	      "  --recycle-pages N    restart a local Chromium after N captures (default\n"
	      "                       200; 0 never), between jobs\n"
	      "  --browser-max-mb MB  ... or when its processes use more (PSS, default\n"
	      "                       2048)\n"
	      "  --config FILE        read options from FILE (`key = value` lines, keys\n"
	      "                       as these long names; command-line flags win)\n"
	      "capture defaults (a link's or a request's options override them):\n"
	      "  --width W --height H viewport in CSS px (default 1280x800)\n"
	      "  --scale S            device scale factor (default 1)\n"
	      "  --mobile             touch, a mobile user agent and viewport\n"
	      "  --viewport-only      the viewport, not the full page (--full-page undoes)\n"
	      "  --color-scheme S     prefers-color-scheme: light, dark, auto (default)\n"
	      "  --delay MS           extra wait once a page is ready (default 0)\n"
	      "  --wait-for SEL       a page is ready only once this element is there\n"
	      "  --no-perpetual       judge no activity perpetual: wait for every short timer\n"
	      "  --hide SELECTOR      elements hidden before capture (repeatable)\n"
	      "  --no-consent         leave cookie/consent banners alone (--consent undoes)\n"
	      "  --no-stealth         pages see an automated headless browser, not an\n"
	      "                       ordinary Chrome (--stealth undoes)\n"
	      "  --user-agent UA      user agent of the pages' requests\n"
	      "  --no-mhtml           no MHTML file\n"
	      "  --pdf                also a PDF of the page (its print CSS); a\n"
	      "                       link's or request's \"pdf\" option decides\n"
	      "  --shot-pixels N      device pixels one screenshot may hold (default\n"
	      "                       1280 x 80,000): bigger pages are shot in tiles,\n"
	      "                       joined\n"
	      "  --verbose            debug log\n"
	      "  --log-json           log JSON lines {ts, level, module, msg}\n", f);
}

static int serve_num(const char *opt, const char *v, long min, long max,
		     int *out)
{
	long n;
	if (sc_parse_long(v, min, max, &n)) {
		fprintf(stderr, "snapcat serve: %s wants %ld to %ld, not \"%s\"\n",
			opt, min, max, v);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int serve_num64(const char *opt, const char *v, int64_t *out)
{
	int n;
	if (serve_num(opt, v, 1, 100000000, &n))
		return -1;
	*out = n;
	return 0;
}

/* A percentage (0 < p <= 100, e.g. "0.5") as a share in *out. */
static int serve_pct(const char *opt, const char *v, double *out)
{
	char *end;
	errno = 0;
	double p = strtod(v, &end);
	if (errno || end == v || *end || !(p > 0 && p <= 100)) {
		fprintf(stderr, "snapcat serve: %s wants a percentage above 0 "
			"and at most 100, not \"%s\"\n", opt, v);
		return -1;
	}
	*out = p / 100;
	return 0;
}

/* --browser auto|URL[,max=N] (the last ",max=" is the option). */
static int serve_browser(struct serve_args *a, const char *v)
{
	if (a->nbo >= APP_BROWSERS_MAX) {
		fprintf(stderr, "snapcat serve: at most %d --browser\n",
			APP_BROWSERS_MAX);
		return -1;
	}
	struct browser_opts *bo = &a->bo[a->nbo];
	char *ep = a->bep[a->nbo];
	const char *m = NULL;
	for (const char *p = strstr(v, ",max="); p; p = strstr(p + 1, ",max="))
		m = p;
	size_t n = m ? (size_t)(m - v) : strlen(v);
	if (n >= sizeof(a->bep[0]) || !n) {
		fprintf(stderr, "snapcat serve: --browser \"%s\": empty or too "
			"long\n", v);
		return -1;
	}
	if (m && serve_num("--browser ...,max=", m + 5, 1, 64, &bo->max_jobs))
		return -1;
	memcpy(ep, v, n);
	ep[n] = 0;
	bo->endpoint = strcmp(ep, "auto") ? ep : NULL;
	a->nbo++;
	return 0;
}

static int serve_opt(struct serve_args *a, int c, const char *v)
{
	int t;
	switch (c) {
	case 'l': a->so.listen = v; return 0;
	case 'd': a->ao.data_dir = v; return 0;
	case 'b': return serve_browser(a, v);
	case 'B':
		if (serve_num("--browser-retry-max", v, 1, 3600, &t))
			return -1;
		a->ao.browser_retry_max_ms = t * 1000;
		return 0;
	case 'c': return serve_num("--concurrency", v, 1, 64, &a->ao.concurrency);
	case 't':
		if (serve_num("--timeout", v, 1, 3600, &t))
			return -1;
		a->ao.copts.timeout_ms = t * 1000;
		return 0;
	case 'k': a->so.token = v; return 0;
	case 'p': a->ao.allow_private = 1; return 0;
	case 'E': a->ao.egress_address = v; return 0;
	case 'g': return serve_num("--grace", v, 0, 3600, &a->grace_s);
	case 'A': a->so.assets_dir = v; return 0;
	case 'v': sc_log_set_level(SC_LOG_DEBUG); return 0;
	case 'j': sc_log_set_json(1); return 0;
	case 'Q': return serve_num64("--max-queue", v, &a->ao.max_queue);
	case 'n': return serve_num("--attempts", v, 1, 100, &a->ao.max_attempts);
	case 'W': a->ao.no_prewarm = 1; return 0;
	case 'T': return serve_pct("--change-threshold", v, &a->ao.change_threshold);
	case 'F':
		if (!sc_parse_size(v, &a->ao.copts.max_file))
			return 0;
		fprintf(stderr, "snapcat serve: --max-file wants a size such as "
			"512m, not \"%s\"\n", v);
		return -1;
	case 'R': return serve_num("--recycle-pages", v, 0, 1000000, &a->recycle);
	case 'M': return serve_num("--browser-max-mb", v, 0, 1000000, &a->max_mb);
	case 'o': a->so.cors_origins = v; return 0;
	case SERVE_TLS_CERT: a->so.tls_cert = v; return 0;
	case SERVE_TLS_KEY: a->so.tls_key = v; return 0;
	case 'H':
		if (a->nhosts >= SERVE_HOSTS_MAX) {
			fprintf(stderr, "snapcat serve: at most %d --host\n",
				SERVE_HOSTS_MAX);
			return -1;
		}
		a->hosts[a->nhosts++] = v;
		return 0;
	case 'P':
		if (serve_num("--ping", v, 1, 3600, &t))
			return -1;
		a->so.feed.ping_ms = t * 1000;
		return 0;
	case 'S': return serve_num("--max-subscribers", v, 1, 1000000,
				   &a->so.feed.max_subs);
	case SERVE_HOOK_ATTEMPTS:
		return serve_num("--webhook-attempts", v, 1, HOOKS_ATTEMPTS_MAX,
				 &a->ho.max_attempts);
	case SERVE_HOOK_BACKOFF:
		return serve_num64("--webhook-backoff-ms", v, &a->ho.backoff_ms);
	case SERVE_BODY_TIMEOUT:
		return serve_num("--body-timeout", v, 1, 3600,
				 &a->so.body_timeout_s);
	case SERVE_BODY_RATE:
		return serve_num("--body-min-rate", v, 1, 1000000000,
				 &a->so.body_min_rate);
	case 'x':
		if (a->nextra >= 63)
			return -1;
		a->extra[a->nextra++] = v;
		return 0;
	default: return -1;
	}
}

static const struct option serve_own_opts[] = {
	{"listen", 1, 0, 'l'}, {"data", 1, 0, 'd'}, {"browser", 1, 0, 'b'},
	{"browser-arg", 1, 0, 'x'}, {"concurrency", 1, 0, 'c'},
	{"timeout", 1, 0, 't'}, {"token", 1, 0, 'k'},
	{"allow-private", 0, 0, 'p'}, {"grace", 1, 0, 'g'},
	{"egress-address", 1, 0, 'E'},
	{"assets", 1, 0, 'A'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'},
	{"cors-origin", 1, 0, 'o'}, {"host", 1, 0, 'H'}, {"ping", 1, 0, 'P'},
	{"max-subscribers", 1, 0, 'S'}, {"recycle-pages", 1, 0, 'R'},
	{"browser-max-mb", 1, 0, 'M'}, {"max-queue", 1, 0, 'Q'},
	{"attempts", 1, 0, 'n'}, {"max-file", 1, 0, 'F'},
	{"no-prewarm", 0, 0, 'W'}, {"change-threshold", 1, 0, 'T'},
	{"browser-retry-max", 1, 0, 'B'},
	{"log-json", 0, 0, 'j'}, {"config", 1, 0, 'C'},
	{"tls-cert", 1, 0, SERVE_TLS_CERT}, {"tls-key", 1, 0, SERVE_TLS_KEY},
	{"webhook-attempts", 1, 0, SERVE_HOOK_ATTEMPTS},
	{"webhook-backoff-ms", 1, 0, SERVE_HOOK_BACKOFF},
	{"body-timeout", 1, 0, SERVE_BODY_TIMEOUT},
	{"body-min-rate", 1, 0, SERVE_BODY_RATE},
};
/* capopts_flag's, by name, after serve_own_opts */
static const char *const serve_capopts[] = {
	"width", "height", "scale", "mobile", "viewport-only", "full-page",
	"color-scheme", "delay", "hide", "no-consent", "consent", "user-agent",
	"no-stealth", "stealth", "no-mhtml", "wait-for", "pdf", "no-pdf",
	"no-perpetual", "shot-pixels", NULL,
};
/* serve_own_opts, then serve_capopts (serve_longopts) */
static struct option serve_lo[64];

static int serve_longopts(void)
{
	size_t nown = sizeof(serve_own_opts) / sizeof(*serve_own_opts);
	memcpy(serve_lo, serve_own_opts, sizeof(serve_own_opts));
	return capopts_longopts(serve_lo + nown, 64 - nown, serve_capopts,
				SERVE_CAPOPT) < 0 ? -1 : 0;
}

/* A repeatable option given on the command line replaces the config
 * file's values of it instead of adding to them. */
static void serve_cli_replaces(struct serve_args *a, const char *name)
{
	if (!a->phase)
		return;
	if (!strcmp(name, "browser") && !a->cli_browser++)
		a->nbo = 0;
	if (!strcmp(name, "browser-arg") && !a->cli_extra++)
		a->nextra = 0;
	if (!strcmp(name, "host") && !a->cli_host++)
		a->nhosts = 0;
	if (!strcmp(name, "hide") && !a->cli_hide++) {
		free(a->hold.hide);
		a->hold.hide = NULL;
		a->ao.copts.hide = NULL;
	}
}

/* getopt_long over one vector: 0 ok, 1 --help, -1 usage error. */
static int serve_scan(struct serve_args *a, int argc, char **argv)
{
	int c, idx = 0;
	char err[300];
	optind = 0; /* a fresh scan (glibc) */
	while ((c = getopt_long(argc, argv, "", serve_lo, &idx)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?')
			return -1;
		if (c == 'C')
			continue; /* read before the scans */
		serve_cli_replaces(a, serve_lo[idx].name);
		if (c != SERVE_CAPOPT) {
			if (serve_opt(a, c, optarg))
				return -1;
		} else if (capopts_flag(&a->ao.copts, &a->hold, serve_lo[idx].name,
					optarg, err, sizeof(err))) {
			fprintf(stderr, "snapcat serve: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* --config FILE (or --config=FILE) of argv, or NULL. */
static const char *serve_config_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

/* The config file's options, then the command line's. 0 ok, 1 --help,
 * -1 usage error. */
static int serve_scan_all(struct serve_args *a, int argc, char **argv)
{
	const char *path = serve_config_arg(argc, argv);
	char err[600];
	int rc;
	if (path) {
		if (serve_conf_load(path, serve_lo, &a->conf, err, sizeof(err))) {
			fprintf(stderr, "snapcat serve: --config %s\n", err);
			return -1;
		}
		if ((rc = serve_scan(a, a->conf.argc, a->conf.argv))) {
			if (rc < 0)
				fprintf(stderr, "snapcat serve: (in %s)\n", path);
			return rc;
		}
	}
	a->phase = 1;
	return serve_scan(a, argc, argv);
}

/* 0 ok, 1 --help, -1 usage error. */
static int serve_parse(int argc, char **argv, struct serve_args *a)
{
	memset(a, 0, sizeof(*a));
	a->so.listen = "127.0.0.1:8080";
	a->so.assets_dir = SNAPCAT_ASSETS_DIR;
	a->so.token = getenv("SNAPCAT_TOKEN");
	a->ao.data_dir = "data";
	a->grace_s = 30;
	a->recycle = 200;
	a->max_mb = 2048;
	a->ao.copts.fast_png = 1; /* as `snapcat capture` (capture.h) */
	int rc = serve_longopts() ? -1 : serve_scan_all(a, argc, argv);
	if (rc)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "snapcat serve: unexpected argument \"%s\"\n",
			argv[optind]);
		return -1;
	}
	if (!a->nbo)
		a->nbo = 1; /* auto */
	for (int i = 0; i < a->nbo; i++) {
		a->bo[i].extra_args = a->extra;
		a->bo[i].recycle_pages = a->recycle;
		a->bo[i].max_pss_mb = a->max_mb;
	}
	a->ao.bopts = a->bo;
	a->ao.nbrowsers = a->nbo;
	a->so.hosts = a->hosts;
	a->so.nhosts = a->nhosts;
	return 0;
}

/* Every client is a descriptor: raise the soft limit towards the hard one
 * (often 1024 of 1048576), up to 131072, before libwebsockets sizes its
 * tables (one slot per possible descriptor) from it. */
static void serve_raise_fd_limit(void)
{
	struct rlimit rl;
	const rlim_t want = 131072;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want ||
	    rl.rlim_cur >= rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		sc_log(SC_LOG_DEBUG, "serve", "open files: %llu -> %llu",
		       (unsigned long long)was, (unsigned long long)rl.rlim_cur);
}

static int serve_start(struct serve_run *r, struct serve_args *a)
{
	char err[512];
	serve_raise_fd_limit();
	if (loop_create(&(struct loop_opts){.workers = 4,
					    .protocol = &cdp_protocol},
			&r->loop)) {
		fprintf(stderr, "snapcat serve: cannot start the event loop\n");
		return -1;
	}
	a->ao.mhtml_index = mhtml_idx_write; /* the copy's index (api_page.c) */
	if (app_create(r->loop, &a->ao, &r->app, err, sizeof(err))) {
		fprintf(stderr, "snapcat serve: %s\n", err);
		return -1;
	}
	a->ho.allow_private = a->ao.allow_private;
	if (hooks_create(r->app, &a->ho, &r->hooks, err, sizeof(err))) {
		fprintf(stderr, "snapcat serve: %s\n", err);
		return -1;
	}
	if (server_create(r->loop, r->app, &a->so, &r->srv, err, sizeof(err))) {
		fprintf(stderr, "snapcat serve: %s\n", err);
		return -1;
	}
	sc_log(SC_LOG_INFO, "serve", "listening on %s://%s (port %d), data "
	       "in %s, %s, auth %s", server_tls(r->srv) ? "https" : "http",
	       a->so.listen, server_port(r->srv),
	       a->ao.data_dir, a->bo[0].endpoint ? a->bo[0].endpoint
						  : "launching a local Chromium",
	       a->so.token && a->so.token[0] ? "by token" : "off");
	/* the one line a script may wait for */
	printf("LISTENING port=%d\n", server_port(r->srv));
	fflush(stdout);
	return 0;
}

int serve_main(int argc, char **argv)
{
	struct serve_args a;
	int p = serve_parse(argc, argv, &a);
	if (p) {
		serve_usage(p > 0 ? stdout : stderr);
		capopts_hold_free(&a.hold);
		serve_conf_free(&a.conf);
		return p > 0 ? 0 : 2;
	}
	struct serve_run r = {.grace_s = a.grace_s};
	int rc = serve_start(&r, &a) ? 1 : 0;
	if (!rc) {
		serve_ctx = loop_ctx(r.loop);
		loop_set_wake(r.loop, serve_wake, &r);
		struct sigaction sa = {.sa_handler = serve_on_signal};
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		app_start(r.app);
		rc = loop_run(r.loop) ? 1 : 0;
		serve_ctx = NULL;
	}
	io_run_stop(); /* imports and a backup stop at their next step */
	if (r.loop)
		loop_settle(r.loop, 10000);
	hooks_stop(r.hooks); /* every event has reached its sink */
	app_destroy(&r.app);
	server_destroy(&r.srv);
	loop_destroy(&r.loop);
	hooks_destroy(&r.hooks);
	capopts_hold_free(&a.hold);
	serve_conf_free(&a.conf);
	return rc;
}
