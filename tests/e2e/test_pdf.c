/*
 * test_pdf.c — the PDF output (issue 17): the page printed with its own
 * print CSS, read back with poppler-utils (pdfinfo, pdftotext), from
 * `snapcat capture --pdf` and from `snapcat serve` (a link's "pdf" option,
 * GET /api/snapshots/{id}/pdf and its headers), and a PDF over --max-file
 * marked too large while the job is still done.
 *
 *   fixture /file?name=print/long.html (tests/fixtures/print: A5 pages,
 *   .screen-only hidden and .print-only shown by print.css, 120 paragraphs)
 *   -> snapcat -> N.pdf / page.pdf -> pdfinfo: pages, size; pdftotext: text
 * Skipped (77) without pdfinfo/pdftotext (scripts/setup.sh installs them).
 */
#include <sys/stat.h>

#include "srv_harness.h"

#define PAGE "/file?name=print/long.html"

static struct fixture F;
static struct srv S;
static char Tmp[] = "/tmp/snapcat-e2e-pdf-XXXXXX";
static char Data[600];

/* The whole stdout of a shell command (caller frees); its exit in *exit. */
static char *sh(const char *cmd, int *exit)
{
	fprintf(stderr, "$ %s\n", cmd);
	FILE *p = popen(cmd, "r");
	char *s = NULL;
	size_t cap = 0;
	if (!p)
		abort();
	if (getdelim(&s, &cap, '\0', p) < 0) {
		free(s);
		s = sc_xstrdup("");
	}
	int st = pclose(p);
	*exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return s;
}

/* pdfinfo's page count of path, -1 if it cannot read it; its whole
 * report in info (if given). */
static int pdf_pages(const char *path, char *info, size_t len)
{
	char cmd[1200];
	int ex;
	snprintf(cmd, sizeof(cmd), "pdfinfo '%s' 2>&1", path);
	char *out = sh(cmd, &ex);
	fprintf(stderr, "%s", out);
	const char *p = strstr(out, "\nPages:");
	long n = -1;
	if (ex != 0 || !p || sscanf(p + 7, "%ld", &n) != 1)
		n = -1;
	if (info)
		snprintf(info, len, "%s", out);
	free(out);
	return (int)n;
}

/* pdftotext's text of path (caller frees). */
static char *pdf_text(const char *path)
{
	char cmd[1200];
	int ex;
	snprintf(cmd, sizeof(cmd), "pdftotext '%s' - 2>&1", path);
	char *s = sh(cmd, &ex);
	return s;
}

/* A PDF that follows tests/fixtures/print/print.css. */
static void check_printed(const char *path)
{
	char info[4096];
	CHECK(pdf_pages(path, info, sizeof(info)) >= 2);
	CHECK(strstr(info, "(A5)") != NULL); /* @page size: preferCSSPageSize */
	char *t = pdf_text(path);
	CHECK(strstr(t, "Printable fixture") != NULL);
	CHECK(strstr(t, "PRINTONLYMARK") != NULL);
	CHECK(strstr(t, "Paragraph 120 of the long") != NULL);
	CHECK(strstr(t, "ENDOFDOCMARK") != NULL);
	CHECK(strstr(t, "SCREENONLYMARK") == NULL); /* print.css hides it */
	free(t);
}

/* How many header lines of r are named name (case-insensitive). */
static int header_count(const struct srv_resp *r, const char *name)
{
	int n = 0;
	size_t nl = strlen(name);
	for (const char *p = r->headers.data; p && *p;) {
		if (!strncasecmp(p, name, nl) && p[nl] == ':')
			n++;
		const char *eol = strstr(p, "\r\n");
		p = eol ? eol + 2 : "";
	}
	return n;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

TEST(cli_pdf)
{
	char cmd[2048];
	int ex;
	snprintf(cmd, sizeof(cmd), "'%s' capture --pdf --out '%s/cli' '%s'",
		 SNAPCAT_BIN, Tmp, srv_fx(&F, PAGE));
	char *out = sh(cmd, &ex);
	fprintf(stderr, "exit %d: %.800s\n", ex, out);
	CHECK_EQ_INT(ex, 0);
	cJSON *j = cJSON_Parse(out);
	free(out);
	const char *pdf = jstr(j, "pdf");
	REQUIRE(pdf);
	char want[700];
	snprintf(want, sizeof(want), "%s/cli/1.pdf", Tmp);
	CHECK_STR(pdf, want);
	struct stat st;
	CHECK(stat(want, &st) == 0 && st.st_size > 1000);
	CHECK_EQ_INT((long long)srv_jnum(j, "bytes.pdf"), (long long)st.st_size);
	check_printed(want);
	cJSON_Delete(j);
	/* the default: no PDF, no "pdf" in the line */
	snprintf(cmd, sizeof(cmd), "'%s' capture --out '%s/cli2' '%s'",
		 SNAPCAT_BIN, Tmp, srv_fx(&F, PAGE));
	out = sh(cmd, &ex);
	CHECK_EQ_INT(ex, 0);
	j = cJSON_Parse(out);
	free(out);
	CHECK(j && !cJSON_GetObjectItem(j, "pdf"));
	snprintf(want, sizeof(want), "%s/cli2/1.pdf", Tmp);
	CHECK(stat(want, &st) != 0);
	cJSON_Delete(j);
}

/* POST /api/links with options; the job's end (caller deletes). */
static cJSON *capture_link(const char *path, const char *opts)
{
	char body[2048];
	struct srv_resp r;
	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"options\":%s}",
		 srv_fx(&F, path), opts);
	CHECK(srv_req(&S, "POST", "/api/links", body, NULL, &r) / 100 == 2);
	long long job = (long long)srv_jnum(r.json, "job.id");
	srv_resp_free(&r);
	return job > 0 ? srv_wait_job(&S, job, NULL, 180000, NULL) : NULL;
}

/* GET /api/snapshots/{id} (caller frees r). */
static void get_snap(long long id, struct srv_resp *r)
{
	char p[96];
	snprintf(p, sizeof(p), "/api/snapshots/%lld", id);
	CHECK_EQ_INT(srv_req(&S, "GET", p, NULL, NULL, r), 200);
}

/* capture_link, a done job, its snapshot into r (caller frees r): the
 * snapshot's id; 0 without a job's end (r untouched then). */
static long long capture_snap(const char *path, const char *opts,
			      struct srv_resp *r)
{
	cJSON *j = capture_link(path, opts);
	if (!j)
		return 0;
	CHECK_STR(srv_jstr(j, "state"), "done");
	long long id = (long long)srv_jnum(j, "snapshot_id");
	cJSON_Delete(j);
	get_snap(id, r);
	return id;
}

TEST(serve_pdf_route)
{
	struct srv_resp r;
	long long id = capture_snap(PAGE, "{\"pdf\":true}", &r);
	REQUIRE(id > 0);
	CHECK_STR(srv_jstr(r.json, "outputs.pdf"), "ok");
	char url[96];
	snprintf(url, sizeof(url), "/api/snapshots/%lld/pdf", id);
	CHECK_STR(srv_jstr(r.json, "pdf_url"), url);
	double bytes = srv_jnum(r.json, "bytes.pdf");
	srv_resp_free(&r);
	CHECK_EQ_INT(srv_req(&S, "GET", url, NULL, NULL, &r), 200);
	CHECK_STR(srv_header(&r, "Content-Type"), "application/pdf");
	CHECK_STR(srv_header(&r, "X-Frame-Options"), "SAMEORIGIN");
	CHECK(strstr(srv_header(&r, "Content-Security-Policy"),
		     "frame-ancestors 'self'") != NULL);
	CHECK(strstr(srv_header(&r, "Content-Disposition"), "inline") != NULL);
	/* only its own: the house's DENY and frame-ancestors 'none' would
	 * forbid the admin page's frame */
	CHECK_EQ_INT(header_count(&r, "X-Frame-Options"), 1);
	CHECK_EQ_INT(header_count(&r, "Content-Security-Policy"), 1);
	CHECK_STR(srv_header(&r, "X-Content-Type-Options"), "nosniff");
	CHECK_EQ_INT((long long)r.body.len, (long long)bytes);
	char path[700];
	snprintf(path, sizeof(path), "%s/got.pdf", Tmp);
	FILE *f = fopen(path, "wb");
	REQUIRE(f);
	fwrite(r.body.data, 1, r.body.len, f);
	fclose(f);
	srv_resp_free(&r);
	check_printed(path);
	/* the other files keep the house's headers: no framing */
	snprintf(url, sizeof(url), "/api/snapshots/%lld/png", id);
	CHECK_EQ_INT(srv_req(&S, "GET", url, NULL, NULL, &r), 200);
	CHECK_STR(srv_header(&r, "X-Frame-Options"), "DENY");
	CHECK_EQ_INT(header_count(&r, "X-Frame-Options"), 1);
	CHECK(strstr(srv_header(&r, "Content-Security-Policy"),
		     "frame-ancestors 'none'") != NULL);
	srv_resp_free(&r);
	/* a link without the option: skipped, no URL, no file */
	REQUIRE((id = capture_snap("/final", "{}", &r)) > 0);
	CHECK_STR(srv_jstr(r.json, "outputs.pdf"), "skipped");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(r.json, "pdf_url")));
	srv_resp_free(&r);
	snprintf(url, sizeof(url), "/api/snapshots/%lld/pdf", id);
	CHECK_EQ_INT(srv_req(&S, "GET", url, NULL, NULL, &r), 404);
	srv_resp_free(&r);
}

/* A server with --max-file 24k: the viewport's small PNG is kept, the
 * PDF (about 50 KB) is not: outputs.pdf failed, too_large, job done. */
TEST(max_file_pdf_too_large)
{
	REQUIRE(srv_stop(&S, SIGTERM) == 0);
	const char *extra[] = {"--max-file", "24k", NULL};
	REQUIRE(srv_start(&S, Data, extra) == 0);
	struct srv_resp r;
	long long id = capture_snap(PAGE, "{\"pdf\":true,\"full_page\":false,"
				    "\"width\":200,\"height\":150}", &r);
	REQUIRE(id > 0);
	fprintf(stderr, "%.*s\n", (int)r.body.len, r.body.data);
	CHECK_STR(srv_jstr(r.json, "outputs.png"), "ok");
	CHECK_STR(srv_jstr(r.json, "outputs.pdf"), "failed");
	CHECK_STR(srv_jstr(r.json, "state"), "partial");
	CHECK_STR(srv_jstr(r.json, "error.class"), "too_large");
	const char *msg = srv_jstr(r.json, "error.message");
	CHECK(msg && strstr(msg, "pdf") && strstr(msg, "--max-file"));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(r.json, "pdf_url")));
	CHECK_EQ_INT(srv_jnum(r.json, "bytes.pdf"), 0);
	srv_resp_free(&r);
}

int main(void)
{
	int ex;
	char *v = sh("pdfinfo -v 2>&1 && pdftotext -v 2>&1", &ex);
	free(v);
	if (ex) {
		fprintf(stderr, "SKIP: no pdfinfo/pdftotext (apt-get install "
			"poppler-utils; scripts/setup.sh)\n");
		return 77;
	}
	if (srv_test_begin(Tmp, Data, sizeof(Data), &F))
		return 1;
	RUN(cli_pdf);
	const char *extra[] = {NULL};
	if (srv_start(&S, Data, extra))
		return 1;
	RUN(serve_pdf_route);
	RUN(max_file_pdf_too_large);
	return srv_test_finish(&S, Tmp, &F);
}
