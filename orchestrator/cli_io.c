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
 * Text from the server is printed with control characters as '?'.
 * Not thread-safe (getopt_long); curl_global_init() is main.c's job.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "catalog.h"
#include "io_backup.h"
#include "sc.h"

#define CI_DEFAULT_SERVER "http://127.0.0.1:8080"
#define CI_FILE_MAX (64u << 20)   /* the server's import body cap */
#define CI_ANSWER_MAX (16u << 20) /* JSON answers we read */
#define CI_POLL_MS 250
#define CI_SKIPS_SHOWN 50

struct ci_args {
	const char *server, *token, *format, *tag_list, *out, *data, *name;
	struct sc_buf tags;    /* "a,b" from every --tag */
	int capture, json, force, quiet;
	int first;             /* first positional argument */
};

struct ci {
	const char *cmd;
	char *base;
	CURL *h;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- output ---- */

static void ci_put(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static const char *ci_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static long long ci_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* ---- HTTP ---- */

static size_t ci_to_buf(char *p, size_t sz, size_t n, void *ud)
{
	return sc_buf_append(ud, p, sz * n) ? 0 : sz * n;
}

static size_t ci_to_file(char *p, size_t sz, size_t n, void *ud)
{
	return fwrite(p, sz, n, ud);
}

static int ci_open(struct ci *c, const char *cmd, const struct ci_args *a)
{
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	const char *s = a->server ? a->server : getenv("SNAPCAT_SERVER");
	if (!s || !*s)
		s = CI_DEFAULT_SERVER;
	if (strncasecmp(s, "http://", 7) && strncasecmp(s, "https://", 8)) {
		fprintf(stderr, "snapcat %s: the server must be an http(s) URL\n", cmd);
		return 2;
	}
	size_t n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	c->base = sc_xstrndup(s, n);
	const char *tok = a->token ? a->token : getenv("SNAPCAT_TOKEN");
	c->hdrs = curl_slist_append(NULL, "Expect:");
	if (tok && *tok) {
		char *h = sc_xasprintf("Authorization: Bearer %s", tok);
		c->hdrs = curl_slist_append(c->hdrs, h);
		free(h);
	}
	c->h = curl_easy_init();
	if (!c->h || !c->hdrs)
		return 1;
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, 600000L);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "snapcat-cli");
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	return 0;
}

static void ci_close(struct ci *c)
{
	curl_easy_cleanup(c->h);
	curl_slist_free_all(c->hdrs);
	free(c->base);
	memset(c, 0, sizeof(*c));
}

/*
 * One request: body (len bytes) makes it a POST. The answer goes to out
 * (a FILE, streamed; only when 2xx) or is parsed as JSON into *json.
 * Returns the HTTP status, or 0 after a transport error (message printed).
 * A non-2xx status prints the server's error message.
 */
static long ci_req(struct ci *c, const char *path, const char *body, size_t len,
		   FILE *out, cJSON **json)
{
	struct sc_buf b;
	long status = 0;
	sc_buf_init(&b, CI_ANSWER_MAX);
	char *url = sc_xasprintf("%s%s", c->base, path);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, out ? ci_to_file : ci_to_buf);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, out ? (void *)out : (void *)&b);
	c->errbuf[0] = '\0';
	CURLcode cc = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	free(url);
	if (cc != CURLE_OK) {
		fprintf(stderr, "snapcat %s: %s: ", c->cmd, c->base);
		ci_put(stderr, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		fputc('\n', stderr);
		sc_buf_free(&b);
		return 0;
	}
	cJSON *j = b.len ? cJSON_ParseWithLength(b.data, b.len) : NULL;
	if (status < 200 || status > 299) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		fprintf(stderr, "snapcat %s: HTTP %ld: ", c->cmd, status);
		ci_put(stderr, e ? ci_str(e, "message") : "the server refused");
		fputc('\n', stderr);
	}
	if (json)
		*json = j;
	else
		cJSON_Delete(j);
	sc_buf_free(&b);
	return status;
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
					  optarg))
				return -1;
			break;
		case CI_O_CAPTURE: a->capture = 1; break;
		case CI_O_JSON: a->json = 1; break;
		case CI_O_OUT: a->out = optarg; break;
		case CI_O_DATA: a->data = optarg; break;
		case CI_O_FORCE: a->force = 1; break;
		case CI_O_NAME: a->name = optarg; break;
		case CI_O_QUIET: a->quiet = 1; break;
		default:
			fprintf(stderr, "snapcat %s: bad option \"%s\"\n", argv[0],
				argv[optind - 1]);
			return -1;
		}
	}
	a->first = optind;
	return 0;
}

/* Append "&k=escaped(v)" ('?' first) to b. */
static void ci_query(struct ci *c, struct sc_buf *b, const char *k, const char *v)
{
	char *e = curl_easy_escape(c->h, v, 0);
	(void)!sc_buf_printf(b, "%c%s=%s", strchr(b->data, '?') ? '&' : '?', k,
			     e ? e : "");
	curl_free(e);
}

/* ---- import ---- */

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

static void ci_import_line(const cJSON *r, int tty)
{
	fprintf(stderr, "%simport %lld: %lld/%lld records, %lld added, %lld "
		"existing, %lld skipped, %lld queued%s", tty ? "\r" : "",
		ci_num(r, "id"), ci_num(r, "done"), ci_num(r, "total"),
		ci_num(r, "added"), ci_num(r, "existing"), ci_num(r, "skipped"),
		ci_num(r, "queued"), tty ? "\033[K" : "\n");
}

static void ci_import_summary(const cJSON *r)
{
	const cJSON *s, *skips = cJSON_GetObjectItemCaseSensitive(r, "skipped_lines");
	int shown = 0;
	printf("import %lld %s (%s): %lld records: %lld added, %lld existing, "
	       "%lld skipped, %lld queued, %lld not queued (queue full), %lld ms\n",
	       ci_num(r, "id"), ci_str(r, "state"), ci_str(r, "format"),
	       ci_num(r, "total"), ci_num(r, "added"), ci_num(r, "existing"),
	       ci_num(r, "skipped"), ci_num(r, "queued"), ci_num(r, "not_queued"),
	       ci_num(r, "ms"));
	cJSON_ArrayForEach(s, skips) {
		if (shown++ == CI_SKIPS_SHOWN) {
			printf("  ... (the full list: GET /api/imports/%lld)\n",
			       ci_num(r, "id"));
			break;
		}
		printf("  line %lld: %s: ", ci_num(s, "line"), ci_str(s, "code"));
		ci_put(stdout, ci_str(s, "reason"));
		fputs(" [", stdout);
		ci_put(stdout, ci_str(s, "text"));
		fputs("]\n", stdout);
	}
}

/* Poll the import until it ends; returns its final report. */
static cJSON *ci_import_wait(struct ci *c, long long id, int quiet)
{
	char path[64];
	int tty = isatty(STDERR_FILENO);
	int64_t last = 0;
	snprintf(path, sizeof(path), "/api/imports/%lld", id);
	for (;;) {
		cJSON *j = NULL;
		if (ci_req(c, path, NULL, 0, NULL, &j) != 200) {
			cJSON_Delete(j);
			return NULL;
		}
		cJSON *r = cJSON_DetachItemFromObject(j, "import");
		cJSON_Delete(j);
		int running = !strcmp(ci_str(r, "state"), "running");
		if (!quiet && (tty || !running || sc_now_ms() - last > 5000)) {
			ci_import_line(r, tty);
			last = sc_now_ms();
		}
		if (!running) {
			if (tty && !quiet)
				fputc('\n', stderr);
			return r;
		}
		cJSON_Delete(r);
		struct timespec ts = {0, CI_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int ci_import_run(struct ci *c, const struct ci_args *a, const char *file)
{
	size_t len = 0;
	char *data = ci_read_file(file, &len);
	if (!data) {
		fprintf(stderr, "snapcat import: cannot read %s (missing, or over "
			"%u MiB)\n", file, CI_FILE_MAX >> 20);
		return 1;
	}
	struct sc_buf p;
	sc_buf_init(&p, 1 << 16);
	(void)!sc_buf_appends(&p, "/api/import");
	ci_query(c, &p, "format", a->format ? a->format : "auto");
	if (a->tags.len)
		ci_query(c, &p, "tags", a->tags.data);
	ci_query(c, &p, "capture", a->capture ? "1" : "0");
	cJSON *j = NULL;
	long st = ci_req(c, p.data, data, len, NULL, &j);
	free(data);
	sc_buf_free(&p);
	long long id = ci_num(cJSON_GetObjectItemCaseSensitive(j, "import"), "id");
	cJSON_Delete(j);
	if (st != 202 || !id)
		return 1;
	cJSON *r = ci_import_wait(c, id, a->quiet);
	if (!r)
		return 1;
	if (a->json) {
		char *s = cJSON_PrintUnformatted(r);
		puts(s ? s : "{}");
		cJSON_free(s);
	} else {
		ci_import_summary(r);
	}
	int ok = !strcmp(ci_str(r, "state"), "done");
	cJSON_Delete(r);
	return ok ? 0 : 1;
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
	struct ci c = {0};
	int rc = ci_start(argc, argv, &a, 1);
	if (rc < 0 && !(rc = ci_open(&c, "import", &a)))
		rc = ci_import_run(&c, &a, argv[a.first]);
	ci_close(&c);
	sc_buf_free(&a.tags);
	return rc;
}

int cli_export(int argc, char **argv)
{
	struct ci_args a;
	struct ci c = {0};
	int rc = ci_start(argc, argv, &a, 0);
	if (rc < 0 && !(rc = ci_open(&c, "export", &a))) {
		FILE *out = a.out ? fopen(a.out, "wb") : stdout;
		struct sc_buf p;
		sc_buf_init(&p, 1 << 16);
		(void)!sc_buf_appends(&p, "/api/export");
		ci_query(&c, &p, "format", a.format ? a.format : "json");
		if (a.tags.len)
			ci_query(&c, &p, "tag", a.tags.data);
		long st = out ? ci_req(&c, p.data, NULL, 0, out, NULL) : 0;
		if (!out)
			fprintf(stderr, "snapcat export: cannot write %s\n", a.out);
		rc = st == 200 && out && !fflush(out) && !ferror(out) ? 0 : 1;
		if (out && out != stdout)
			fclose(out);
		sc_buf_free(&p);
	}
	ci_close(&c);
	sc_buf_free(&a.tags);
	return rc;
}

static void ci_backup_print(const cJSON *b)
{
	printf("backup %lld %s: ", ci_num(b, "id"), ci_str(b, "state"));
	ci_put(stdout, *ci_str(b, "path") ? ci_str(b, "path") : ci_str(b, "error"));
	printf("\n  catalog %lld bytes, %lld files (%lld bytes; %lld hard-linked, "
	       "%lld copied, %lld missing), %lld ms\n", ci_num(b, "catalog_bytes"),
	       ci_num(b, "files"), ci_num(b, "files_bytes"), ci_num(b, "linked"),
	       ci_num(b, "copied"), ci_num(b, "missing"), ci_num(b, "ms"));
}

static int ci_backup_server(struct ci *c, const struct ci_args *a)
{
	char path[64];
	cJSON *o = cJSON_CreateObject();
	if (a->name)
		cJSON_AddStringToObject(o, "name", a->name);
	char *body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cJSON *j = NULL;
	long st = ci_req(c, "/api/backup", body ? body : "{}",
			 strlen(body ? body : "{}"), NULL, &j);
	cJSON_free(body);
	long long id = ci_num(cJSON_GetObjectItemCaseSensitive(j, "backup"), "id");
	cJSON_Delete(j);
	if (st != 202 || !id)
		return 1;
	snprintf(path, sizeof(path), "/api/backups/%lld", id);
	for (;;) {
		j = NULL;
		if (ci_req(c, path, NULL, 0, NULL, &j) != 200) {
			cJSON_Delete(j);
			return 1;
		}
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "backup");
		if (strcmp(ci_str(b, "state"), "running")) {
			ci_backup_print(b);
			int ok = !strcmp(ci_str(b, "state"), "done");
			cJSON_Delete(j);
			return ok ? 0 : 1;
		}
		cJSON_Delete(j);
		struct timespec ts = {0, CI_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
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

int cli_backup(int argc, char **argv)
{
	struct ci_args a;
	struct ci c = {0};
	int rc = ci_start(argc, argv, &a, 0);
	if (rc < 0 && a.data)
		rc = ci_backup_offline(&a);
	else if (rc < 0 && !(rc = ci_open(&c, "backup", &a)))
		rc = ci_backup_server(&c, &a);
	ci_close(&c);
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
