/*
 * api_export.c — GET /api/export?format=json|html|csv[&tag=T]: the catalog
 * as a file to download (Content-Disposition: attachment).
 *
 *   worker: ex_open (an unlinked temp file in the data dir) -> pages of
 *     ex_PAGE links (catalog_links_list, each page in one read transaction
 *     on this worker's reader) -> written to the file ->
 *     resp->fd: hold.c sends it, read on the workers a 256 KiB chunk
 *     ahead
 *
 * DESIGN
 * Memory stays at one page whatever the catalog's size, and the export
 * reads on its worker's own connection (one read transaction per page: a
 * few ms), so an export of 100,000 links stalls neither the writer nor
 * the other readers; the cost is the temp file's disk space
 * for as long as the download lasts. Paging uses the list cursor: links
 * added meanwhile are not in the file, each other link is there once (per
 * folder, in HTML).
 *
 * Formats:
 *   json  {"snapcat_export":1,"exported_at","tag","links":[{id, url, title,
 *         tags, created_at, updated_at, bookmarked_at, snapshots:[{id,
 *         state, created_at,
 *         finished_at, width, height, bytes, png_url, thumb_url,
 *         mhtml_url, pdf_url}]}], "tags":[{name, count}], "count"}: what POST
 *         /api/import reads back (format json).
 *   html  a Netscape bookmark file: one folder (H3) per tag holding every
 *         link with that tag, so a link with two tags is in two folders,
 *         and TAGS="a,b" on every link; links without tags at the top.
 *         Chrome and Safari re-import the folders, Firefox the folders and
 *         its TAGS; snapcat's import merges a link's folders back into its
 *         tags (duplicates merge).
 *   csv   url,title,tags,created_at,bookmarked_at (RFC 4180, CRLF; tags
 *         joined by ';'; bookmarked_at empty when unknown).
 * A link's ADD_DATE (html) is when it was bookmarked if an import said so,
 * else when it entered the catalog; imports read these back.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "catalog.h"
#include "io_import.h"

#define EX_PAGE 500

/* One page of links, with each link's snapshots for JSON. */
struct ex_page {
	struct catalog_link_list *l;
	struct catalog_snapshot_list **snaps; /* l->n of them, or NULL */
};

static void ex_page_free(struct ex_page *p)
{
	for (size_t i = 0; p->snaps && p->l && i < p->l->n; i++)
		catalog_snapshot_list_free(&p->snaps[i]);
	free(p->snaps);
	catalog_link_list_free(&p->l);
	memset(p, 0, sizeof(*p));
}

/* The next page after cursor (""/NULL: the first) of links with tag. */
static sc_result ex_page_get(struct app *a, const char *tag, const char *cursor,
			     int with_snaps, struct ex_page *p)
{
	const char *tags[1] = {tag};
	struct catalog_link_query q = {.tags = tags, .ntags = tag ? 1 : 0,
		.cursor = cursor && *cursor ? cursor : NULL, .limit = EX_PAGE};
	struct catalog *c = app_read_begin(a);
	int reading = catalog_read_begin(c) == SC_OK;
	sc_result rc = catalog_links_list(c, &q, &p->l);
	if (!rc && with_snaps)
		p->snaps = sc_xcalloc(p->l->n + 1, sizeof(*p->snaps));
	for (size_t i = 0; !rc && with_snaps && i < p->l->n; i++)
		rc = catalog_snapshots_list(c, p->l->items[i].id, NULL,
					    CATALOG_LIST_MAX, &p->snaps[i]);
	if (reading)
		catalog_read_end(c);
	app_read_end(a, c);
	if (rc)
		ex_page_free(p);
	return rc;
}

/* Call fn(f, link, snapshots, ud) for every link with tag (NULL: all). */
typedef void (*ex_link_fn)(FILE *f, const struct catalog_link *l,
			   const struct catalog_snapshot_list *s, void *ud);

static sc_result ex_each(struct app *a, FILE *f, const char *tag,
			 int with_snaps, ex_link_fn fn, void *ud)
{
	char cursor[CATALOG_CURSOR_SIZE] = "";
	sc_result rc;
	do {
		struct ex_page p = {0};
		if ((rc = ex_page_get(a, tag, cursor, with_snaps, &p)))
			return rc;
		for (size_t i = 0; i < p.l->n; i++)
			fn(f, &p.l->items[i], p.snaps ? p.snaps[i] : NULL, ud);
		snprintf(cursor, sizeof(cursor), "%s", p.l->next_cursor);
		ex_page_free(&p);
		if (ferror(f))
			return SC_ERR_IO;
	} while (cursor[0]);
	return SC_OK;
}

/* ---- JSON ---- */

/* A snapshot in a JSON export: the API's snapshot object (api_json.c),
 * these fields of it. */
static cJSON *ex_snap_json(const struct catalog_snapshot *s)
{
	static const char *const keep[] = {
		"id", "state", "created_at", "finished_at", "width", "height",
		"bytes", "png_url", "thumb_url", "mhtml_url", "pdf_url", NULL};
	return api_json_pick(api_snapshot_json(s), keep);
}

static void ex_json_link(FILE *f, const struct catalog_link *l,
			 const struct catalog_snapshot_list *s, void *ud)
{
	int64_t *n = ud;
	cJSON *o = api_link_base_json(l); /* the API's link, its own fields */
	cJSON *sa = cJSON_AddArrayToObject(o, "snapshots");
	for (size_t i = 0; s && i < s->n; i++)
		cJSON_AddItemToArray(sa, ex_snap_json(&s->items[i]));
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	fprintf(f, "%s%s", (*n)++ ? ",\n" : "\n", text ? text : "null");
	cJSON_free(text);
}

static sc_result ex_json(struct app *a, FILE *f, const char *tag, int64_t *n)
{
	char now[40];
	struct catalog_tag_list *tl = NULL;
	sc_iso8601(sc_wall_ms(), now, sizeof(now));
	cJSON *tagj = tag ? cJSON_CreateString(tag) : cJSON_CreateNull();
	char *tags = cJSON_PrintUnformatted(tagj);
	cJSON_Delete(tagj);
	fprintf(f, "{\"snapcat_export\":1,\"exported_at\":\"%s\",\"tag\":%s,"
		"\"links\":[", now, tags);
	cJSON_free(tags);
	sc_result rc = ex_each(a, f, tag, 1, ex_json_link, n);
	if (rc)
		return rc;
	struct catalog *c = app_read_begin(a);
	rc = catalog_tags_list(c, &tl);
	app_read_end(a, c);
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; !rc && i < tl->n; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", tl->items[i].name);
		cJSON_AddNumberToObject(t, "count", (double)tl->items[i].count);
		cJSON_AddItemToArray(arr, t);
	}
	catalog_tag_list_free(&tl);
	char *s = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	fprintf(f, "\n],\"tags\":%s,\"count\":%lld}\n", s ? s : "[]", (long long)*n);
	cJSON_free(s);
	return rc;
}

/* ---- bookmark HTML ---- */

/* s with & < > " ' as entities. */
static void ex_html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

struct ex_html {
	int64_t *n;
	int untagged_only;
	const char *indent;
};

static void ex_html_link(FILE *f, const struct catalog_link *l,
			 const struct catalog_snapshot_list *s, void *ud)
{
	struct ex_html *h = ud;
	(void)s;
	if (h->untagged_only && l->ntags)
		return;
	(*h->n)++;
	fprintf(f, "%s<DT><A HREF=\"", h->indent);
	ex_html_text(f, l->url);
	fprintf(f, "\" ADD_DATE=\"%lld\" LAST_MODIFIED=\"%lld\"",
		(long long)((l->bookmarked_at ? l->bookmarked_at : l->created_at)
			    / 1000),
		(long long)(l->updated_at / 1000));
	if (l->ntags) {
		fputs(" TAGS=\"", f);
		for (size_t i = 0; i < l->ntags; i++) {
			if (i)
				fputc(',', f);
			ex_html_text(f, l->tags[i]);
		}
		fputc('"', f);
	}
	fputc('>', f);
	ex_html_text(f, l->title && *l->title ? l->title : l->url);
	fputs("</A>\n", f);
}

static sc_result ex_html_folder(struct app *a, FILE *f, const char *tag,
				int64_t *n)
{
	struct ex_html h = {.n = n, .indent = "        "};
	fputs("    <DT><H3>", f);
	ex_html_text(f, tag);
	fputs("</H3>\n    <DL><p>\n", f);
	sc_result rc = ex_each(a, f, tag, 0, ex_html_link, &h);
	fputs("    </DL><p>\n", f);
	return rc;
}

static sc_result ex_html(struct app *a, FILE *f, const char *tag, int64_t *n)
{
	struct catalog_tag_list *tl = NULL;
	struct ex_html top = {.n = n, .untagged_only = 1, .indent = "    "};
	sc_result rc = SC_OK;
	fputs("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n"
	      "<!-- This is an automatically generated file.\n"
	      "     It will be read and overwritten.\n"
	      "     DO NOT EDIT! -->\n"
	      "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; "
	      "charset=UTF-8\">\n<TITLE>Bookmarks</TITLE>\n"
	      "<H1>snapcat</H1>\n<DL><p>\n", f);
	if (tag) {
		rc = ex_html_folder(a, f, tag, n);
	} else {
		struct catalog *c = app_read_begin(a);
		rc = catalog_tags_list(c, &tl);
		app_read_end(a, c);
		for (size_t i = 0; !rc && i < tl->n; i++)
			rc = ex_html_folder(a, f, tl->items[i].name, n);
		if (!rc)
			rc = ex_each(a, f, NULL, 0, ex_html_link, &top);
	}
	catalog_tag_list_free(&tl);
	fputs("</DL><p>\n", f);
	return rc;
}

/* ---- CSV ---- */

static void ex_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void ex_csv_link(FILE *f, const struct catalog_link *l,
			const struct catalog_snapshot_list *s, void *ud)
{
	char t[40];
	struct sc_buf tags;
	(void)s;
	(*(int64_t *)ud)++;
	sc_buf_init(&tags, 0);
	for (size_t i = 0; i < l->ntags; i++)
		(void)!sc_buf_printf(&tags, "%s%s", i ? ";" : "", l->tags[i]);
	ex_csv_field(f, l->url);
	fputc(',', f);
	ex_csv_field(f, l->title ? l->title : "");
	fputc(',', f);
	ex_csv_field(f, tags.data ? tags.data : "");
	sc_iso8601(l->created_at, t, sizeof(t));
	fprintf(f, ",%s,", t);
	if (l->bookmarked_at) {
		sc_iso8601(l->bookmarked_at, t, sizeof(t));
		fputs(t, f);
	}
	fputs("\r\n", f);
	sc_buf_free(&tags);
}

/* ---- the handler ---- */

/* An unlinked temp file in the data directory (not /tmp: it may be a small
 * tmpfs), open for writing and reading. NULL on error. */
static FILE *ex_open(struct app *a)
{
	char path[4200];
	snprintf(path, sizeof(path), "%.4000s/.export.XXXXXX", app_data_dir(a));
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	FILE *f = fdopen(fd, "w+");
	if (!f)
		close(fd);
	return f;
}

static sc_result ex_write(struct app *a, FILE *f, enum io_format fmt,
			  const char *tag, int64_t *n)
{
	if (fmt == IO_FMT_JSON)
		return ex_json(a, f, tag, n);
	if (fmt == IO_FMT_HTML)
		return ex_html(a, f, tag, n);
	fputs("url,title,tags,created_at,bookmarked_at\r\n", f);
	return ex_each(a, f, tag, 0, ex_csv_link, n);
}

/* Hand the finished file to the response. */
static void ex_answer(struct api_call *k, FILE *f, enum io_format fmt, int64_t n)
{
	static const char *const ctype[] = {
		[IO_FMT_JSON] = "application/json", [IO_FMT_HTML] = "text/html; "
		"charset=utf-8", [IO_FMT_CSV] = "text/csv; charset=utf-8"};
	static const char *const ext[] = {[IO_FMT_JSON] = "json",
		[IO_FMT_HTML] = "html", [IO_FMT_CSV] = "csv"};
	char day[40];
	struct stat sb;
	if (fflush(f) || fstat(fileno(f), &sb)) {
		http_resp_error(k->resp, 500, "io", NULL, "the export could not "
				"be written (disk full?)");
		return;
	}
	k->resp->fd = dup(fileno(f));
	k->resp->off = 0;
	k->resp->len = k->resp->total = (uint64_t)sb.st_size;
	k->resp->status = 200;
	k->resp->ctype = fmt == IO_FMT_JSON ? "application/json; charset=utf-8"
					    : ctype[fmt];
	sc_iso8601(sc_wall_ms(), day, sizeof(day));
	day[10] = '\0';
	http_resp_header(k->resp, "Content-Disposition", "attachment; "
			 "filename=\"snapcat-%s.%s\"", day, ext[fmt]);
	http_resp_header(k->resp, "X-Snapcat-Links", "%lld", (long long)n);
	http_resp_header(k->resp, "Cache-Control", "no-store");
}

void api_export(struct api_call *k)
{
	const char *fs = http_arg(k->req, "format"), *tag = http_arg(k->req, "tag");
	enum io_format fmt = IO_FMT_JSON;
	char norm[CATALOG_TAG_BUF];
	if ((fs && io_format_parse(fs, &fmt)) ||
	    (fmt != IO_FMT_JSON && fmt != IO_FMT_HTML && fmt != IO_FMT_CSV)) {
		http_resp_error(k->resp, 400, "invalid_field", "format",
				"format must be json, html or csv");
		return;
	}
	if (tag && catalog_tag_normalize(tag, norm, sizeof(norm))) {
		http_resp_error(k->resp, 400, "invalid_field", "tag", "bad tag");
		return;
	}
	FILE *f = ex_open(k->c->app);
	int64_t n = 0;
	sc_result rc = f ? ex_write(k->c->app, f, fmt, tag ? norm : NULL, &n)
			 : SC_ERR_IO;
	if (rc)
		http_resp_error(k->resp, 500, "io", NULL, "export failed: %s",
				sc_strerror(rc));
	else
		ex_answer(k, f, fmt, n);
	if (f)
		fclose(f);
}
