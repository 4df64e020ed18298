/*
 * cli_client.c — `snapcat add` and `snapcat ls`: command-line clients of a
 * running `snapcat serve`, over its REST API (through cli_http.h).
 *
 *   add: argv -> cc_parse -> cli_http_open (server URL, token, one curl
 *        handle) -> per URL (an argument "-": each line of standard input,
 *        cc_add_stdin): POST /api/links {"url","tags"} -> 201 new /
 *        200 known {link, job} -> one human line, or the JSON on one line
 *   ls:  argv -> cc_parse -> cli_http_open -> GET /api/links?tag=…&match=any
 *        &q=…&limit=…&cursor=… -> {items, next_cursor} -> a table (cut to the
 *        terminal's width) or tab-separated fields when stdout is not a
 *        terminal, or one JSON line per item; --all follows next_cursor
 *
 * Everything the server sends is untrusted: text printed for a human goes
 * through cli_term_put(), which turns control characters, invisible
 * line/bidi controls and malformed UTF-8 into '?', so a page title cannot
 * drive the terminal; JSON output keeps the data but escapes those same
 * characters as \uXXXX (cli_term_json).
 *
 * Not thread-safe (getopt_long's globals); one command per process is the
 * intended use. curl_global_init() is main.c's job.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_http.h"
#include "cli_term.h"
#include "sc.h"

#define CC_PATH_CAP (64u << 10)  /* longest path + query we send */
#define CC_TOTAL_MS 30000L       /* per request */
#define CC_LINE_MAX 8192         /* a line of `add -`'s standard input */
#define CC_LIMIT_MAX 1000
/* the table on a terminal: fixed columns, then title and URL share the rest */
#define CC_ID_W 5
#define CC_STATE_W 8
#define CC_TAGS_W 20
#define CC_FIXED_W (CC_ID_W + 2 + CC_STATE_W + 2 + CC_TAGS_W + 2)

/* The parsed command line; strings point into argv. */
struct cc_args {
	const char *server, *token, *q;
	const char **tags; /* owned array (of argv strings), ntags used */
	int ntags;
	long limit;        /* 0: the server's default */
	int json, any, all;
	int first;         /* index of the first positional argument */
};

/* ---- options ---- */

enum { CC_O_TAG = 1, CC_O_SERVER, CC_O_TOKEN, CC_O_JSON, CC_O_ANY, CC_O_Q,
       CC_O_LIMIT, CC_O_ALL };

static const struct option cc_add_opts[] = {
	{"tag", 1, 0, CC_O_TAG},     {"server", 1, 0, CC_O_SERVER},
	{"token", 1, 0, CC_O_TOKEN}, {"json", 0, 0, CC_O_JSON},
	{"help", 0, 0, 'h'},         {0, 0, 0, 0},
};

static const struct option cc_ls_opts[] = {
	{"tag", 1, 0, CC_O_TAG},     {"any", 0, 0, CC_O_ANY},
	{"q", 1, 0, CC_O_Q},         {"limit", 1, 0, CC_O_LIMIT},
	{"all", 0, 0, CC_O_ALL},     {"server", 1, 0, CC_O_SERVER},
	{"token", 1, 0, CC_O_TOKEN}, {"json", 0, 0, CC_O_JSON},
	{"help", 0, 0, 'h'},         {0, 0, 0, 0},
};

static void cc_add_usage(FILE *f)
{
	fputs("usage: snapcat add [options] URL...\n"
	      "Add each URL to the catalog of a running \"snapcat serve\" and queue\n"
	      "a capture (a URL already known gets a new capture). Prints one line\n"
	      "per URL: link ID URL (new|known) — job ID STATE.\n"
	      "A URL \"-\" reads URLs from standard input, one a line (blank lines\n"
	      "and lines starting with # are skipped).\n\n"
	      "  --tag T          tag the link (repeatable)\n"
	      "  --server URL     the server (default $SNAPCAT_SERVER, else\n"
	      "                   " CLI_HTTP_DEFAULT_SERVER ")\n"
	      "  --token T        API token (default $SNAPCAT_TOKEN)\n"
	      "  --json           print the server's answer, one JSON line per URL\n"
	      "Exit status: 0 if every URL was added, 1 if any failed, 2 on usage errors.\n",
	      f);
}

static void cc_ls_usage(FILE *f)
{
	fputs("usage: snapcat ls [options]\n"
	      "List the links of a running \"snapcat serve\": id, state of the last\n"
	      "capture job, tags, title (or URL) and URL. On a terminal the table is\n"
	      "cut to its width; otherwise the fields are separated by tabs.\n\n"
	      "  --tag T          links with this tag (repeatable: with all of them)\n"
	      "  --any            with several --tag: links with any of them\n"
	      "  --q TEXT         full-text search (URL, title, page text)\n"
	      "  --limit N        links per page, 1-1000 (default: the server's)\n"
	      "  --all            follow the pages to the end (default: first page)\n"
	      "  --server URL     the server (default $SNAPCAT_SERVER, else\n"
	      "                   " CLI_HTTP_DEFAULT_SERVER ")\n"
	      "  --token T        API token (default $SNAPCAT_TOKEN)\n"
	      "  --json           one JSON object per link and line\n"
	      "Exit status: 0 ok, 1 if a request failed, 2 on usage errors.\n",
	      f);
}

/* Apply option c (a CC_O_* value) with value v. -1 after a message. */
static int cc_opt(const char *cmd, struct cc_args *a, int c, const char *v)
{
	switch (c) {
	case CC_O_TAG: a->tags[a->ntags++] = v; return 0;
	case CC_O_SERVER: a->server = v; return 0;
	case CC_O_TOKEN: a->token = v; return 0;
	case CC_O_JSON: a->json = 1; return 0;
	case CC_O_ANY: a->any = 1; return 0;
	case CC_O_ALL: a->all = 1; return 0;
	case CC_O_Q: a->q = v; return 0;
	case CC_O_LIMIT:
		if (sc_parse_long(v, 1, CC_LIMIT_MAX, &a->limit) == SC_OK)
			return 0;
		fprintf(stderr, "snapcat %s: --limit wants a number from 1 to "
			"%d, not \"%s\"\n", cmd, CC_LIMIT_MAX, v);
		return -1;
	default: return -1;
	}
}

/* Parse argv (argv[0] is the command) with the options lo. Returns 0, 1
 * after printing the usage for --help, or -1 after a message (usage
 * error). a->tags is allocated in every case: free it with free(). */
static int cc_parse(int argc, char **argv, const struct option *lo,
		    struct cc_args *a)
{
	const char *cmd = argv[0];
	memset(a, 0, sizeof(*a));
	a->tags = sc_xcalloc((size_t)argc, sizeof(*a->tags));
	int c;
	optind = 0; /* full reset: permutation state included (GNU) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			cli_http_opt_error(cmd, c, argv);
			return -1;
		}
		if (cc_opt(cmd, a, c, optarg))
			return -1;
	}
	a->first = optind;
	return 0;
}

/* ---- add ---- */

/* {"url":url,"tags":[...]} ("tags" only when --tag was given, so that a
 * known link keeps its tags); cJSON_free it. NULL if out of memory. */
static char *cc_add_body(const char *url, const struct cc_args *a)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	if (!o || !cJSON_AddStringToObject(o, "url", url))
		goto out;
	if (a->ntags) {
		cJSON *t = cJSON_AddArrayToObject(o, "tags");
		for (int i = 0; t && i < a->ntags; i++)
			if (!cJSON_AddItemToArray(t, cJSON_CreateString(a->tags[i])))
				goto out;
		if (!t)
			goto out;
	}
	s = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return s;
}

/* "link 3 https://example.org/ (new) — job 7 queued" from {link, job}. */
static enum cli_http_outcome cc_add_print(const struct cli_http *c,
					  const char *what,
					  const struct cli_http_resp *r)
{
	const cJSON *link = cJSON_GetObjectItemCaseSensitive(r->json, "link");
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(r->json, "job");
	if (!cJSON_IsObject(link)) {
		cli_http_err(c, what, "the server's answer has no link");
		return CLI_HTTP_FAIL;
	}
	char id[32];
	const char *url = cli_http_str(link, "url");
	cli_http_num(link, "id", id, sizeof(id));
	printf("link %s ", id);
	cli_term_put(stdout, url ? url : what, -1, 0);
	printf(" (%s) \xe2\x80\x94 ", r->status == 201 ? "new" : "known");
	if (cJSON_IsObject(job)) {
		const char *state = cli_http_str(job, "state");
		cli_http_num(job, "id", id, sizeof(id));
		printf("job %s ", id);
		cli_term_put(stdout, state ? state : "?", -1, 0);
		putchar('\n');
	} else {
		puts("no capture queued");
	}
	return CLI_HTTP_OK;
}

/* POST one URL and print the result. */
static enum cli_http_outcome cc_add_one(struct cli_http *c,
					const struct cc_args *a,
					const char *url)
{
	char *body = cc_add_body(url, a);
	if (!body) {
		cli_http_err(c, url, "out of memory");
		return CLI_HTTP_FAIL;
	}
	struct cli_http_resp r;
	cli_http_resp_init(&r);
	struct cli_http_req q = {.path = "/api/links", .body = body,
				 .len = strlen(body), .json_body = 1,
				 .what = url};
	enum cli_http_outcome o = cli_http_request(c, &q, &r);
	if (o == CLI_HTTP_OK && a->json) {
		char *line = cJSON_PrintUnformatted(r.json);
		if (line)
			cli_term_json(stdout, line);
		cJSON_free(line);
	} else if (o == CLI_HTTP_OK) {
		o = cc_add_print(c, url, &r);
	}
	fflush(stdout);
	cli_http_resp_free(&r);
	cJSON_free(body);
	return o;
}

/* Cut s (a line of standard input) to its URL: no surrounding white space
 * (CR of a CRLF included). NULL for a blank line or a # comment. */
static char *cc_line_url(char *s)
{
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n\v\f", s[n - 1]))
		s[--n] = 0;
	s += strspn(s, " \t");
	return *s && *s != '#' ? s : NULL;
}

/* `add -`: each URL of standard input, one a line. Returns how many
 * failed (a line over CC_LINE_MAX bytes is one); *fatal when the server
 * cannot be reached (the rest of the input is not read). */
static int cc_add_stdin(struct cli_http *c, const struct cc_args *a,
			int *fatal)
{
	char line[CC_LINE_MAX];
	int failed = 0;
	long no = 0;
	while (!*fatal && fgets(line, sizeof(line), stdin)) {
		no++;
		if (!strchr(line, '\n') && !feof(stdin)) {
			int ch;
			while ((ch = getchar()) != EOF && ch != '\n')
				;
			fprintf(stderr, "snapcat add: standard input line %ld: "
				"longer than %d bytes: skipped\n", no,
				CC_LINE_MAX - 2);
			failed++;
			continue;
		}
		const char *url = cc_line_url(line);
		if (!url)
			continue;
		enum cli_http_outcome o = cc_add_one(c, a, url);
		failed += o != CLI_HTTP_OK;
		if (o == CLI_HTTP_FATAL) {
			cli_http_err(c, NULL, "stopped reading standard input "
				     "at line %ld", no);
			*fatal = 1;
		}
	}
	if (ferror(stdin)) {
		fprintf(stderr, "snapcat add: cannot read standard input\n");
		failed++;
	}
	return failed;
}

/* The URL arguments (from first on) in order, "-" reading standard input.
 * Returns how many failed. */
static int cc_add_all(struct cli_http *c, const struct cc_args *a, int argc,
		      char **argv)
{
	int failed = 0, fatal = 0;
	for (int i = a->first; i < argc; i++) {
		if (!strcmp(argv[i], "-")) {
			failed += cc_add_stdin(c, a, &fatal);
		} else {
			enum cli_http_outcome o = cc_add_one(c, a, argv[i]);
			failed += o != CLI_HTTP_OK;
			fatal = o == CLI_HTTP_FATAL;
		}
		if (fatal && i + 1 < argc) {
			cli_http_err(c, NULL, "%d more URL(s) not sent",
				     argc - i - 1);
			failed += argc - i - 1;
		}
		if (fatal)
			break;
	}
	return failed;
}

int cli_add(int argc, char **argv)
{
	struct cc_args a;
	struct cli_http c = {0};
	int rc = cc_parse(argc, argv, cc_add_opts, &a), failed = 0;
	if (rc > 0) {
		cc_add_usage(stdout);
		rc = 0;
		goto out;
	}
	if (rc == 0 && a.first >= argc) {
		fprintf(stderr, "snapcat add: no URL given\n");
		rc = -1;
	}
	if (rc < 0) {
		cc_add_usage(stderr);
		rc = 2;
		goto out;
	}
	if ((rc = cli_http_open(&c, "add", a.server, a.token, CC_TOTAL_MS)))
		goto out;
	failed = cc_add_all(&c, &a, argc, argv);
	rc = failed ? 1 : 0;
out:
	cli_http_close(&c);
	free(a.tags);
	return rc;
}

/* ---- ls ---- */

/* How rows are printed. */
struct cc_table {
	int json;    /* one JSON line per item */
	int cols;    /* terminal width, or -1: not a terminal (tab-separated) */
	int title_w; /* title column on a terminal */
	int rows;    /* rows printed so far */
};

static void cc_table_init(struct cc_table *t, int json)
{
	struct winsize ws;
	long n;
	const char *env = getenv("COLUMNS");
	memset(t, 0, sizeof(*t));
	t->json = json;
	t->cols = -1;
	if (json || !isatty(STDOUT_FILENO))
		return;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		t->cols = ws.ws_col;
	else if (env && sc_parse_long(env, 1, 10000, &n) == SC_OK)
		t->cols = (int)n;
	else
		t->cols = 80;
	int avail = t->cols - CC_FIXED_W;
	t->title_w = avail > 2 ? (avail - 2) / 2 : 0;
}

/* A row being printed on a terminal. */
struct cc_line {
	int left;   /* columns still free */
	int spaces; /* padding owed, written only before more text, so that
		       rows end without blanks */
};

/* One cell of a terminal row: s padded to width columns (< 0: as wide as
 * it is), never past the columns left; then, with sep, a two-space gap. */
static void cc_cell(struct cc_line *l, const char *s, int width, int sep)
{
	int w = width < 0 || width > l->left ? l->left : width;
	int used = 0;
	if (*s && w > 0) {
		printf("%*s", l->spaces, "");
		l->spaces = 0;
		used = cli_term_put(stdout, s, w, 0);
		l->left -= used;
	}
	int gap = (width >= 0 ? w - used : 0) + (sep ? 2 : 0);
	gap = gap < l->left ? gap : l->left;
	l->spaces += gap;
	l->left -= gap;
}

/* A row: on a terminal aligned and cut to its width, else tab-separated. */
static void cc_row(const struct cc_table *t, const char *id, const char *state,
		   const char *tags, const char *title, const char *url)
{
	if (t->cols < 0) {
		const char *f[] = {id, state, tags, title, url};
		for (int i = 0; i < 5; i++) {
			cli_term_put(stdout, f[i], -1, 0);
			putchar(i < 4 ? '\t' : '\n');
		}
		return;
	}
	char idcol[40];
	struct cc_line l = {.left = t->cols};
	snprintf(idcol, sizeof(idcol), "%*s", CC_ID_W, id);
	cc_cell(&l, idcol, -1, 1);
	cc_cell(&l, state, CC_STATE_W, 1);
	cc_cell(&l, tags, CC_TAGS_W, 1);
	cc_cell(&l, title, t->title_w, 1);
	cc_cell(&l, url, -1, 0);
	putchar('\n');
}

/* "a,b,c" from a tags array, "-" when there are none; caller frees. */
static char *cc_join_tags(const cJSON *tags)
{
	struct sc_buf b;
	const cJSON *t;
	sc_buf_init(&b, CLI_HTTP_BODY_CAP);
	cJSON_ArrayForEach(t, tags) {
		if (!cJSON_IsString(t))
			continue;
		if ((b.len && sc_buf_appends(&b, ",")) ||
		    sc_buf_appends(&b, t->valuestring))
			break;
	}
	if (!b.len) {
		sc_buf_free(&b);
		return sc_xstrdup("-");
	}
	return sc_buf_take(&b, NULL);
}

/* Print one link object as a row. */
static void cc_ls_item(struct cc_table *t, const cJSON *link)
{
	if (t->json) {
		char *line = cJSON_PrintUnformatted(link);
		if (line)
			cli_term_json(stdout, line);
		cJSON_free(line);
		t->rows++;
		return;
	}
	if (t->cols >= 0 && !t->rows)
		cc_row(t, "ID", "STATE", "TAGS", "TITLE", "URL");
	char id[32];
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(link, "last_job");
	const char *state = cli_http_str(job, "state");
	const char *url = cli_http_str(link, "url");
	const char *title = cli_http_str(link, "title");
	char *tags = cc_join_tags(cJSON_GetObjectItemCaseSensitive(link, "tags"));
	cli_http_num(link, "id", id, sizeof(id));
	if (!url)
		url = "";
	cc_row(t, id, state ? state : "-", tags, title && *title ? title : url,
	       url);
	free(tags);
	t->rows++;
}

/* "/api/links?tag=…&match=any&q=…&limit=…&cursor=…" (caller frees), or
 * NULL if it would pass CC_PATH_CAP. */
static char *cc_ls_path(const struct cli_http *c, const struct cc_args *a,
			const char *cursor)
{
	struct sc_buf b;
	char limit[24];
	sc_result rc;
	sc_buf_init(&b, CC_PATH_CAP);
	rc = sc_buf_appends(&b, "/api/links");
	for (int i = 0; !rc && i < a->ntags; i++)
		rc = cli_http_query(c, &b, "tag", a->tags[i]);
	if (!rc && a->any)
		rc = cli_http_query(c, &b, "match", "any");
	if (!rc && a->q)
		rc = cli_http_query(c, &b, "q", a->q);
	snprintf(limit, sizeof(limit), "%ld", a->limit);
	if (!rc && a->limit)
		rc = cli_http_query(c, &b, "limit", limit);
	if (!rc && cursor)
		rc = cli_http_query(c, &b, "cursor", cursor);
	if (rc) {
		sc_buf_free(&b);
		return NULL;
	}
	return sc_buf_take(&b, NULL);
}

/* Fetch and print one page. Returns 0 and sets *next to the next cursor
 * (caller frees; NULL on the last page), or 1 after a message. */
static int cc_ls_page(struct cli_http *c, const struct cc_args *a,
		      const char *cursor, struct cc_table *t, char **next)
{
	char *path = cc_ls_path(c, a, cursor);
	struct cli_http_resp r;
	const cJSON *items, *item;
	const char *nc;
	int rc = 1;
	*next = NULL;
	cli_http_resp_init(&r);
	if (!path) {
		cli_http_err(c, NULL, "the query is too long");
		goto out;
	}
	if (cli_http_request(c, &(struct cli_http_req){.path = path}, &r) !=
	    CLI_HTTP_OK)
		goto out;
	items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
	if (!cJSON_IsArray(items)) {
		cli_http_err(c, NULL, "the server's answer has no "
			     "\"items\" list");
		goto out;
	}
	cJSON_ArrayForEach(item, items)
		if (cJSON_IsObject(item))
			cc_ls_item(t, item);
	nc = cli_http_str(r.json, "next_cursor");
	*next = nc && *nc ? sc_xstrdup(nc) : NULL;
	rc = 0;
out:
	cli_http_resp_free(&r);
	free(path);
	return rc;
}

/* Page through the links (once unless --all). Returns the exit status. */
static int cc_ls_run(struct cli_http *c, const struct cc_args *a)
{
	struct cc_table t;
	char *cursor = NULL;
	int rc;
	cc_table_init(&t, a->json);
	do {
		char *next = NULL;
		rc = cc_ls_page(c, a, cursor, &t, &next);
		if (!rc && next && cursor && !strcmp(next, cursor)) {
			cli_http_err(c, NULL, "the server sent the same "
				     "cursor twice");
			rc = 1;
		}
		free(cursor);
		cursor = next;
		if (fflush(stdout)) {
			rc = 1; /* stdout closed (a pipe's reader quit): stop */
			break;
		}
	} while (!rc && cursor && a->all);
	if (!rc && t.cols >= 0 && !t.rows)
		fprintf(stderr, "snapcat ls: no links\n");
	if (!rc && t.cols >= 0 && cursor)
		fprintf(stderr, "snapcat ls: more links: use --all, or "
			"--limit N\n");
	free(cursor);
	return rc;
}

int cli_ls(int argc, char **argv)
{
	struct cc_args a;
	struct cli_http c = {0};
	int rc = cc_parse(argc, argv, cc_ls_opts, &a);
	if (rc > 0) {
		cc_ls_usage(stdout);
		rc = 0;
		goto out;
	}
	if (rc == 0 && a.first < argc) {
		fprintf(stderr, "snapcat ls: unexpected argument \"%s\"\n",
			argv[a.first]);
		rc = -1;
	}
	if (rc < 0) {
		cc_ls_usage(stderr);
		rc = 2;
		goto out;
	}
	if (!(rc = cli_http_open(&c, "ls", a.server, a.token, CC_TOTAL_MS)))
		rc = cc_ls_run(&c, &a);
out:
	cli_http_close(&c);
	free(a.tags);
	return rc;
}
