/*
 * cli_io.c — `snapcat import`, `export`, `backup` and `restore`.
 *
 *   import FILE: read it (cap 64 MiB) -> POST /api/import?format&tags&
 *     capture -> 202 {import:{id}} -> GET /api/imports/{id} every 250 ms
 *     (progress on stderr) -> summary and the skipped lines on stdout
 *   export: GET /api/export?format&tag -> the body to stdout or --out
 *   backup --server: POST /api/backup -> GET /api/backups/{id} until done
 *   backup --data DIR: catalog_open -> io_backup_run (no server: nothing
 *     else writes, or a running server's writes are simply not in it)
 *   restore BACKUP --data DIR [--force]: io_restore
 *
 * The requests go through cli_http.h (server, token, errors); text from
 * the server is printed through cli_term.h (no terminal controls).
 * Not thread-safe (getopt_long); curl_global_init() is main.c's job.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "catalog.h"
#include "cli_http.h"
#include "cli_term.h"
#include "io_backup.h"
#include "sc.h"

#define CI_FILE_MAX (64u << 20)  /* the server's import body cap */
#define CI_PATH_CAP (256u << 10) /* path + query we send */
#define CI_TOTAL_MS 600000L      /* per request: 64 MiB up, a big export */
#define CI_POLL_MS 250
#define CI_SKIPS_SHOWN 50

struct ci_args {
	const char *server, *token, *format, *tag_list, *out, *data, *name;
	struct sc_buf tags;    /* "a,b" from every --tag */
	int capture, json, force, quiet;
	int first;             /* first positional argument */
};

/* ---- answers ---- */

/* The string member k of o, "" when absent. */
static const char *ci_str(const cJSON *o, const char *k)
{
	const char *s = cli_http_str(o, k);
	return s ? s : "";
}

/* The integer member k of o, 0 when absent (cli_http_int). */
static long long ci_num(const cJSON *o, const char *k)
{
	return cli_http_int(o, k);
}

/* path with the query kv[0]=kv[1]&kv[2]=kv[3]... (n pairs; a pair with a
 * NULL value is left out). Caller frees; NULL after a message when it
 * would pass CI_PATH_CAP. */
static char *ci_path(const struct cli_http *c, const char *path,
		     const char *const *kv, size_t n)
{
	struct sc_buf b;
	sc_buf_init(&b, CI_PATH_CAP);
	sc_result rc = sc_buf_appends(&b, path);
	for (size_t i = 0; !rc && i < n; i++)
		if (kv[2 * i + 1])
			rc = cli_http_query(c, &b, kv[2 * i], kv[2 * i + 1]);
	if (rc) {
		cli_http_err(c, NULL, "the query is too long");
		sc_buf_free(&b);
		return NULL;
	}
	return sc_buf_take(&b, NULL);
}

/* POST body (len bytes) to path, which starts a job on the server: 202
 * {member: {id}}. Returns the id, or 0 after a message. */
static long long ci_start_job(struct cli_http *c, const char *path,
			      const char *body, size_t len, int json,
			      const char *member)
{
	struct cli_http_req q = {.path = path, .body = body, .len = len,
				 .json_body = json};
	struct cli_http_resp r;
	long long id = 0;
	cli_http_resp_init(&r);
	if (cli_http_request(c, &q, &r) == CLI_HTTP_OK) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(r.json, member);
		id = r.status == 202 ? ci_num(o, "id") : 0;
		if (id <= 0) {
			cli_http_err(c, NULL, "the server's answer has no %s "
				     "id (HTTP %ld)", member, r.status);
			id = 0;
		}
	}
	cli_http_resp_free(&r);
	return id;
}

/* Called with each state of a polled job; running: not over yet. */
typedef void (*ci_seen)(const cJSON *job, int running, void *ud);

/*
 * GET path every CI_POLL_MS until the member object of its answer is no
 * longer in state "running"; seen (NULL: none) gets each. Returns that
 * last object (caller cJSON_Delete's it), or NULL after a message.
 */
static cJSON *ci_poll(struct cli_http *c, const char *path,
		      const char *member, ci_seen seen, void *ud)
{
	for (;;) {
		struct cli_http_resp r;
		cli_http_resp_init(&r);
		enum cli_http_outcome o = cli_http_request(
			c, &(struct cli_http_req){.path = path}, &r);
		cJSON *job = o == CLI_HTTP_OK
			? cJSON_DetachItemFromObjectCaseSensitive(r.json, member)
			: NULL;
		cli_http_resp_free(&r);
		if (!cJSON_IsObject(job)) {
			if (o == CLI_HTTP_OK)
				cli_http_err(c, NULL, "the server's answer has "
					     "no \"%s\" object", member);
			cJSON_Delete(job);
			return NULL;
		}
		int running = !strcmp(ci_str(job, "state"), "running");
		if (seen)
			seen(job, running, ud);
		if (!running)
			return job;
		cJSON_Delete(job);
		struct timespec ts = {0, CI_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* ---- options ---- */

enum { CI_O_SERVER = 1, CI_O_TOKEN, CI_O_FORMAT, CI_O_TAG, CI_O_CAPTURE,
       CI_O_JSON, CI_O_OUT, CI_O_DATA, CI_O_FORCE, CI_O_NAME, CI_O_QUIET };

static const struct option ci_opts[] = {
	{"server", 1, 0, CI_O_SERVER}, {"token", 1, 0, CI_O_TOKEN},
	{"format", 1, 0, CI_O_FORMAT}, {"tag", 1, 0, CI_O_TAG},
	{"capture", 0, 0, CI_O_CAPTURE}, {"json", 0, 0, CI_O_JSON},
	{"out", 1, 0, CI_O_OUT}, {"data", 1, 0, CI_O_DATA},
	{"force", 0, 0, CI_O_FORCE}, {"name", 1, 0, CI_O_NAME},
	{"quiet", 0, 0, CI_O_QUIET}, {"help", 0, 0, 'h'}, {0, 0, 0, 0},
};

/* 0 ok, 1 --help, -1 usage error (message printed). Free a->tags. */
static int ci_parse(int argc, char **argv, struct ci_args *a)
{
	int ch;
	memset(a, 0, sizeof(*a));
	sc_buf_init(&a->tags, 1 << 16);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", ci_opts, NULL)) != -1) {
		switch (ch) {
		case 'h': return 1;
		case CI_O_SERVER: a->server = optarg; break;
		case CI_O_TOKEN: a->token = optarg; break;
		case CI_O_FORMAT: a->format = optarg; break;
		case CI_O_TAG:
			if (sc_buf_printf(&a->tags, "%s%s", a->tags.len ? "," : "",
					  optarg)) {
				fprintf(stderr, "snapcat %s: too many tags\n",
					argv[0]);
				return -1;
			}
			break;
		case CI_O_CAPTURE: a->capture = 1; break;
		case CI_O_JSON: a->json = 1; break;
		case CI_O_OUT: a->out = optarg; break;
		case CI_O_DATA: a->data = optarg; break;
		case CI_O_FORCE: a->force = 1; break;
		case CI_O_NAME: a->name = optarg; break;
		case CI_O_QUIET: a->quiet = 1; break;
		default:
			cli_http_opt_error(argv[0], ch, argv);
			return -1;
		}
	}
	a->first = optind;
	return 0;
}

/* ---- import ---- */

/* The whole of path ("-": stdin), at most CI_FILE_MAX bytes, and *len;
 * NULL if it cannot be read or is larger. Caller frees. */
static char *ci_read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct sc_buf b;
	char chunk[65536];
	size_t n;
	if (!f)
		return NULL;
	sc_buf_init(&b, CI_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (sc_buf_append(&b, chunk, n))
			break;
	int bad = ferror(f) || !feof(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		sc_buf_free(&b);
		return NULL;
	}
	char *d = sc_buf_take(&b, len);
	if (!d) {
		d = sc_xstrdup("");
		*len = 0;
	}
	return d;
}

/* One progress line; on a terminal it overwrites the previous one. */
static void ci_import_line(const cJSON *r, int tty)
{
	fprintf(stderr, "%simport %lld: %lld/%lld records, %lld added, %lld "
		"existing, %lld skipped, %lld queued%s", tty ? "\r" : "",
		ci_num(r, "id"), ci_num(r, "done"), ci_num(r, "total"),
		ci_num(r, "added"), ci_num(r, "existing"), ci_num(r, "skipped"),
		ci_num(r, "queued"), tty ? "\033[K" : "\n");
}

/* Progress on stderr while an import runs (a line a poll on a terminal,
 * else every 5 s), for ci_poll. */
struct ci_progress {
	int quiet, tty;
	int64_t last;
};

static void ci_import_seen(const cJSON *job, int running, void *ud)
{
	struct ci_progress *p = ud;
	if (p->quiet)
		return;
	if (p->tty || !running || sc_now_ms() - p->last > 5000) {
		ci_import_line(job, p->tty);
		p->last = sc_now_ms();
	}
	if (!running && p->tty)
		fputc('\n', stderr);
}

/* The first CI_SKIPS_SHOWN skipped lines of the report r, with reasons. */
static void ci_import_skips(const cJSON *r)
{
	const cJSON *skips = cJSON_GetObjectItemCaseSensitive(r, "skipped_lines");
	const cJSON *s;
	int shown = 0;
	cJSON_ArrayForEach(s, skips) {
		if (shown++ == CI_SKIPS_SHOWN) {
			printf("  ... (the full list: GET /api/imports/%lld)\n",
			       ci_num(r, "id"));
			break;
		}
		printf("  line %lld: ", ci_num(s, "line"));
		cli_term_put(stdout, ci_str(s, "code"), -1, 0);
		fputs(": ", stdout);
		cli_term_put(stdout, ci_str(s, "reason"), -1, 0);
		fputs(" [", stdout);
		cli_term_put(stdout, ci_str(s, "text"), -1, 0);
		fputs("]\n", stdout);
	}
}

/* The final report r for a human: the counts, then the skipped lines. */
static void ci_import_summary(const cJSON *r)
{
	printf("import %lld ", ci_num(r, "id"));
	cli_term_put(stdout, ci_str(r, "state"), -1, 0);
	fputs(" (", stdout);
	cli_term_put(stdout, ci_str(r, "format"), -1, 0);
	printf("): %lld records: %lld added, %lld existing, %lld skipped, "
	       "%lld queued, %lld not queued (queue full), %lld ms\n",
	       ci_num(r, "total"), ci_num(r, "added"), ci_num(r, "existing"),
	       ci_num(r, "skipped"), ci_num(r, "queued"),
	       ci_num(r, "not_queued"), ci_num(r, "ms"));
	ci_import_skips(r);
}

/* POST the file; the import's id, or 0 after a message. */
static long long ci_import_start(struct cli_http *c, const struct ci_args *a,
				 const char *file)
{
	size_t len = 0;
	char *data = ci_read_file(file, &len);
	if (!data) {
		fprintf(stderr, "snapcat import: cannot read %s (missing, or over "
			"%u MiB)\n", file, CI_FILE_MAX >> 20);
		return 0;
	}
	const char *kv[] = {"format", a->format ? a->format : "auto",
			    "tags", a->tags.len ? a->tags.data : NULL,
			    "capture", a->capture ? "1" : "0"};
	char *path = ci_path(c, "/api/import", kv, 3);
	long long id = path ? ci_start_job(c, path, data, len, 0, "import") : 0;
	free(path);
	free(data);
	return id;
}

/* Import file and wait for the end. Returns the exit status. */
static int ci_import_run(struct cli_http *c, const struct ci_args *a,
			 const char *file)
{
	char path[64];
	struct ci_progress p = {.quiet = a->quiet, .tty = isatty(STDERR_FILENO)};
	long long id = ci_import_start(c, a, file);
	if (!id)
		return 1;
	snprintf(path, sizeof(path), "/api/imports/%lld", id);
	cJSON *r = ci_poll(c, path, "import", ci_import_seen, &p);
	if (!r)
		return 1;
	if (a->json) {
		char *s = cJSON_PrintUnformatted(r);
		cli_term_json(stdout, s ? s : "{}");
		cJSON_free(s);
	} else {
		ci_import_summary(r);
	}
	int ok = !strcmp(ci_str(r, "state"), "done");
	cJSON_Delete(r);
	return ok ? 0 : 1;
}

/* ---- export ---- */

/* GET the export into --out or stdout. Returns the exit status. */
static int ci_export_run(struct cli_http *c, const struct ci_args *a)
{
	FILE *out = a->out ? fopen(a->out, "wb") : stdout;
	if (!out) {
		fprintf(stderr, "snapcat export: cannot write %s\n", a->out);
		return 1;
	}
	const char *kv[] = {"format", a->format ? a->format : "json",
			    "tag", a->tags.len ? a->tags.data : NULL};
	char *path = ci_path(c, "/api/export", kv, 2);
	struct cli_http_req q = {.path = path, .out = out};
	struct cli_http_resp r;
	cli_http_resp_init(&r);
	int ok = path && cli_http_request(c, &q, &r) == CLI_HTTP_OK;
	cli_http_resp_free(&r);
	free(path);
	if (ok && (fflush(out) || ferror(out))) {
		fprintf(stderr, "snapcat export: cannot write %s\n",
			a->out ? a->out : "the standard output");
		ok = 0;
	}
	if (out != stdout)
		fclose(out);
	return ok ? 0 : 1;
}

/* ---- backup ---- */

/* A backup's final state for a human. */
static void ci_backup_print(const cJSON *b)
{
	const char *path = ci_str(b, "path");
	printf("backup %lld ", ci_num(b, "id"));
	cli_term_put(stdout, ci_str(b, "state"), -1, 0);
	fputs(": ", stdout);
	cli_term_put(stdout, *path ? path : ci_str(b, "error"), -1, 0);
	printf("\n  catalog %lld bytes, %lld files (%lld bytes; %lld hard-linked, "
	       "%lld copied, %lld missing), %lld ms\n", ci_num(b, "catalog_bytes"),
	       ci_num(b, "files"), ci_num(b, "files_bytes"), ci_num(b, "linked"),
	       ci_num(b, "copied"), ci_num(b, "missing"), ci_num(b, "ms"));
}

/* Back up through the server and wait for the end. The exit status. */
static int ci_backup_server(struct cli_http *c, const struct ci_args *a)
{
	char path[64];
	cJSON *o = cJSON_CreateObject();
	if (a->name)
		cJSON_AddStringToObject(o, "name", a->name);
	char *body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	const char *b = body ? body : "{}";
	long long id = ci_start_job(c, "/api/backup", b, strlen(b), 1, "backup");
	cJSON_free(body);
	if (!id)
		return 1;
	snprintf(path, sizeof(path), "/api/backups/%lld", id);
	cJSON *r = ci_poll(c, path, "backup", NULL, NULL);
	if (!r)
		return 1;
	ci_backup_print(r);
	int ok = !strcmp(ci_str(r, "state"), "done");
	cJSON_Delete(r);
	return ok ? 0 : 1;
}

static void ci_stats_print(const char *what, const struct io_backup_stats *st)
{
	printf("%s: %s\n  catalog %lld bytes, %lld files (%lld bytes; %lld "
	       "hard-linked, %lld copied, %lld missing), %lld ms\n", what, st->dir,
	       (long long)st->catalog_bytes, (long long)st->files,
	       (long long)st->files_bytes, (long long)st->linked,
	       (long long)st->copied, (long long)st->missing, (long long)st->ms);
	if (st->moved_aside[0])
		printf("  the previous data is kept in %s\n", st->moved_aside);
}

static int ci_backup_offline(const struct ci_args *a)
{
	char path[4200], err[600];
	struct catalog *c = NULL;
	struct io_backup_stats st;
	snprintf(path, sizeof(path), "%.4000s/catalog.db", a->data);
	if (access(path, F_OK) || catalog_open(path, &c, err, sizeof(err))) {
		fprintf(stderr, "snapcat backup: no catalog at %s\n", path);
		return 1;
	}
	struct io_backup_opts o = {.catalog = c, .data_dir = a->data,
				   .dest_dir = a->out};
	sc_result rc = io_backup_run(&o, &st, err, sizeof(err));
	catalog_close(&c);
	if (rc) {
		fprintf(stderr, "snapcat backup: %s\n", err);
		return 1;
	}
	ci_stats_print("backup", &st);
	return 0;
}

/* ---- usage and entry points ---- */

static void ci_usage(const char *cmd, FILE *f)
{
	if (!strcmp(cmd, "import"))
		fputs("usage: snapcat import FILE [--format auto|html|csv|urls|json]\n"
		      "         [--tag T]... [--capture] [--json] [--quiet]\n"
		      "         [--server URL] [--token T]\n"
		      "Import a browser bookmark export (bookmarks.html), a CSV with a url\n"
		      "column, a list of URLs, or snapcat's JSON export (FILE - : stdin)\n"
		      "into a running server; progress on stderr, then the counts and the\n"
		      "skipped lines with their reasons. --capture queues a capture of each\n"
		      "new link (up to the server's queue cap).\n", f);
	else if (!strcmp(cmd, "export"))
		fputs("usage: snapcat export [--format json|html|csv] [--tag T]\n"
		      "         [--out FILE] [--server URL] [--token T]\n"
		      "Write the catalog of a running server to stdout (or FILE): json (links,\n"
		      "tags, snapshots; re-importable), html (a bookmark file, one folder\n"
		      "per tag) or csv.\n", f);
	else if (!strcmp(cmd, "backup"))
		fputs("usage: snapcat backup [--server URL] [--token T] [--name NAME]\n"
		      "       snapcat backup --data DIR [--out DIR]\n"
		      "Back up the catalog and its snapshot files, consistently, into\n"
		      "DATA/backups/<UTC time> (or NAME, or --out): through a running\n"
		      "server, or straight from a data directory.\n", f);
	else
		fputs("usage: snapcat restore BACKUP_DIR --data DIR [--force]\n"
		      "Restore a backup into DIR (the server must be stopped). DIR must be\n"
		      "empty or absent unless --force (it is then kept as DIR.old-<time>).\n"
		      "The backup's catalog is checked (integrity_check) first.\n", f);
}

/* Parse; on --help or a usage error print the usage. -1: go on. */
static int ci_start(int argc, char **argv, struct ci_args *a, int positional)
{
	int rc = ci_parse(argc, argv, a);
	if (rc > 0) {
		ci_usage(argv[0], stdout);
		return 0;
	}
	if (!rc && argc - a->first != positional) {
		fprintf(stderr, "snapcat %s: %s\n", argv[0], positional
			? "one file or directory argument is needed"
			: "unexpected argument");
		rc = -1;
	}
	if (rc < 0) {
		ci_usage(argv[0], stderr);
		return 2;
	}
	return -1;
}

int cli_import(int argc, char **argv)
{
	struct ci_args a;
	struct cli_http c = {0};
	int rc = ci_start(argc, argv, &a, 1);
	if (rc < 0 && !(rc = cli_http_open(&c, "import", a.server, a.token,
					   CI_TOTAL_MS)))
		rc = ci_import_run(&c, &a, argv[a.first]);
	cli_http_close(&c);
	sc_buf_free(&a.tags);
	return rc;
}

int cli_export(int argc, char **argv)
{
	struct ci_args a;
	struct cli_http c = {0};
	int rc = ci_start(argc, argv, &a, 0);
	if (rc < 0 && !(rc = cli_http_open(&c, "export", a.server, a.token,
					   CI_TOTAL_MS)))
		rc = ci_export_run(&c, &a);
	cli_http_close(&c);
	sc_buf_free(&a.tags);
	return rc;
}

int cli_backup(int argc, char **argv)
{
	struct ci_args a;
	struct cli_http c = {0};
	int rc = ci_start(argc, argv, &a, 0);
	if (rc < 0 && a.data)
		rc = ci_backup_offline(&a);
	else if (rc < 0 && !(rc = cli_http_open(&c, "backup", a.server,
						a.token, CI_TOTAL_MS)))
		rc = ci_backup_server(&c, &a);
	cli_http_close(&c);
	sc_buf_free(&a.tags);
	return rc;
}

int cli_restore(int argc, char **argv)
{
	struct ci_args a;
	char err[600];
	struct io_backup_stats st;
	int rc = ci_start(argc, argv, &a, 1);
	if (rc < 0 && !a.data) {
		fprintf(stderr, "snapcat restore: --data DIR is required\n");
		rc = 2;
	}
	if (rc < 0) {
		sc_result r = io_restore(argv[a.first], a.data, a.force, &st, err,
					 sizeof(err));
		if (r)
			fprintf(stderr, "snapcat restore: %s\n", err);
		else
			ci_stats_print("restored", &st);
		rc = r ? (r == SC_ERR_INVALID ? 2 : 1) : 0;
	}
	sc_buf_free(&a.tags);
	return rc;
}
