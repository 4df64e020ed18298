/*
 * test_cli_io.c — `snapcat import`, `export` and `backup` through a server
 * (cli_io.c, through cli_http.c and cli_term.c) against a fake server in
 * this process (cli_fake.h), and their usage errors.
 *
 * What the server sends back is hostile here: page text with ANSI escapes,
 * C1 controls, bidi overrides and bytes that are not UTF-8 must reach the
 * terminal as '?' (text) or \uXXXX escapes (--json), as in `snapcat ls`;
 * an export, which is data, is written byte for byte.
 */
#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_fake.h"
#include "testhelp.h"

/* A temporary file holding text; its path in Tmp (unlink it). */
static char Tmp[64];

static int tmp_file(const char *text)
{
	snprintf(Tmp, sizeof(Tmp), "/tmp/snapcat-test-cli-io-XXXXXX");
	int fd = mkstemp(Tmp);
	if (fd < 0)
		return -1;
	size_t n = strlen(text);
	int ok = write(fd, text, n) == (ssize_t)n;
	close(fd);
	return ok ? 0 : -1;
}

/* The whole of file path into buf ("" if it cannot be read). */
static void read_back(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* ---- import ---- */

static const char import_started[] =
	"{\"import\":{\"id\":5,\"state\":\"running\",\"done\":0,\"total\":2}}";

static const char import_running[] =
	"{\"import\":{\"id\":5,\"state\":\"running\",\"done\":1,\"total\":2,"
	"\"added\":1}}";

/* A finished import whose skipped line quotes a hostile page: an ANSI
 * escape, a C1 CSI (U+009B), a right-to-left override, a bad byte. */
static const char import_done[] =
	"{\"import\":{\"id\":5,\"state\":\"done\",\"format\":\"urls\","
	"\"done\":2,\"total\":2,\"added\":1,\"existing\":0,\"skipped\":1,"
	"\"queued\":1,\"not_queued\":0,\"ms\":3,\"skipped_lines\":[{\"line\":2,"
	"\"code\":\"unsupported_scheme\",\"reason\":\"bad\\u001b[2J\","
	"\"text\":\"ftp://x/\\u009b31m\\u202eevil\xff\"}]}}";

static const char import_failed[] =
	"{\"import\":{\"id\":5,\"state\":\"failed\",\"format\":\"csv\","
	"\"total\":0,\"skipped_lines\":[]}}";

TEST(import_request_and_summary)
{
	struct fake f;
	REQUIRE(tmp_file("https://a.example/\nftp://x/\n") == 0);
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 202, import_started);
	fake_reply(&f, 200, import_done);
	const char *args[] = {"import", Tmp, "--format", "urls", "--tag", "a",
			      "--tag", "b c", "--capture", "--quiet",
			      "--server", serv(&f), "--token", "tk", NULL};
	int rc = run(cli_import, args);
	fake_stop(&f);
	unlink(Tmp);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(f.nreqs == 2);
	CHECK_STR(f.reqs[0].method, "POST");
	CHECK_STR(f.reqs[0].target, "/api/import?format=urls&tags=a%2Cb%20c"
				    "&capture=1");
	CHECK_STR(f.reqs[0].auth, "Bearer tk");
	CHECK(strcmp(f.reqs[0].ctype, "application/json")); /* a file, as is */
	CHECK_STR(f.reqs[0].body, "https://a.example/\nftp://x/\n");
	CHECK_STR(f.reqs[1].method, "GET");
	CHECK_STR(f.reqs[1].target, "/api/imports/5");
	CHECK_STR(f.reqs[1].auth, "Bearer tk");
	CHECK_STR(out_buf, "import 5 done (urls): 2 records: 1 added, 0 existing, "
		  "1 skipped, 1 queued, 0 not queued (queue full), 3 ms\n"
		  "  line 2: unsupported_scheme: bad?[2J [ftp://x/?31m?evil?]\n");
	CHECK_STR(err_buf, "");
}

TEST(import_progress_and_json)
{
	struct fake f;
	REQUIRE(tmp_file("https://a.example/\n") == 0);
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 202, import_started);
	fake_reply(&f, 200, import_running);
	fake_reply(&f, 200, import_done);
	const char *args[] = {"import", Tmp, "--json", "--server", serv(&f),
			      NULL};
	int rc = run(cli_import, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(f.nreqs, 3);
	CHECK_STR(f.reqs[0].target, "/api/import?format=auto&capture=0");
	CHECK_STR(f.reqs[0].auth, "");
	/* not a terminal: a line at the first poll and at the end */
	CHECK_STR(err_buf, "import 5: 1/2 records, 1 added, 0 existing, 0 "
		  "skipped, 0 queued\nimport 5: 2/2 records, 1 added, 0 "
		  "existing, 1 skipped, 1 queued\n");
	/* the report as one JSON line, the controls escaped */
	CHECK(strstr(out_buf, "\"reason\":\"bad\\u001b[2J\",\"text\":"
		     "\"ftp://x/\\u009b31m\\u202eevil\\ufffd\"}]}\n") != NULL);
	cJSON *j = cJSON_Parse(out_buf);
	CHECK(cJSON_IsObject(j) && cJSON_GetObjectItem(j, "skipped_lines"));
	cJSON_Delete(j);
	/* an import that ends failed: exit status 1 */
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 202, import_started);
	fake_reply(&f, 200, import_failed);
	const char *q[] = {"import", Tmp, "--quiet", "--server", serv(&f), NULL};
	rc = run(cli_import, q);
	fake_stop(&f);
	unlink(Tmp);
	CHECK_EQ_INT(rc, 1);
	CHECK_STR(out_buf, "import 5 failed (csv): 0 records: 0 added, 0 existing, "
		  "0 skipped, 0 queued, 0 not queued (queue full), 0 ms\n");
}

TEST(import_errors)
{
	struct fake f;
	REQUIRE(tmp_file("x") == 0);
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 400, "{\"error\":{\"code\":\"invalid_field\",\"message\":"
		   "\"format must be auto, html, csv, urls or json\","
		   "\"field\":\"format\"}}");
	fake_reply(&f, 202, "{\"import\":{}}");
	fake_reply(&f, 401, "{\"error\":{\"code\":\"unauthorized\"}}");
	const char *args[] = {"import", Tmp, "--format", "xml", "--server",
			      serv(&f), NULL};
	CHECK_EQ_INT(run(cli_import, args), 1);
	CHECK_STR(err_buf, "snapcat import: format must be auto, html, csv, "
		  "urls or json (field \"format\", HTTP 400 invalid_field)\n");
	CHECK_EQ_INT(run(cli_import, args), 1);
	CHECK_STR(err_buf, "snapcat import: the server's answer has no import "
		  "id (HTTP 202)\n");
	CHECK_EQ_INT(run(cli_import, args), 1);
	CHECK_STR(err_buf, "snapcat import: the server wants a token: pass "
		  "--token T or set SNAPCAT_TOKEN\n");
	fake_stop(&f);
	CHECK_EQ_INT(f.nreqs, 3); /* never polled */
	unlink(Tmp);
	const char *missing[] = {"import", Tmp, "--server", serv(&f), NULL};
	CHECK_EQ_INT(run(cli_import, missing), 1);
	CHECK(strstr(err_buf, "cannot read /tmp/snapcat-test-cli-io-") != NULL);
}

/* ---- export ---- */

TEST(export_streams_the_body)
{
	struct fake f;
	static const char csv[] = "url,title\nhttps://a/,\x1b[31mT\xc2\x9b\n";
	char got[256];
	REQUIRE(fake_start(&f) == 0);
	fake_reply_ct(&f, 200, csv, "text/csv; charset=utf-8");
	fake_reply_ct(&f, 200, csv, "text/csv; charset=utf-8");
	const char *args[] = {"export", "--format", "csv", "--tag", "a b",
			      "--server", serv(&f), NULL};
	CHECK_EQ_INT(run(cli_export, args), 0);
	CHECK_STR(out_buf, csv); /* data: byte for byte */
	CHECK_STR(err_buf, "");
	REQUIRE(tmp_file("old") == 0);
	const char *to[] = {"export", "--out", Tmp, "--server", serv(&f), NULL};
	CHECK_EQ_INT(run(cli_export, to), 0);
	fake_stop(&f);
	read_back(Tmp, got, sizeof(got));
	unlink(Tmp);
	CHECK_STR(got, csv);
	CHECK_STR(out_buf, "");
	REQUIRE(f.nreqs == 2);
	CHECK_STR(f.reqs[0].method, "GET");
	CHECK_STR(f.reqs[0].target, "/api/export?format=csv&tag=a%20b");
	CHECK_STR(f.reqs[1].target, "/api/export?format=json");
}

TEST(export_error_is_not_data)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 400, "{\"error\":{\"code\":\"invalid_field\",\"message\":"
		   "\"format must be json, html or csv\",\"field\":\"format\"}}");
	const char *args[] = {"export", "--format", "xml", "--server", serv(&f),
			      NULL};
	CHECK_EQ_INT(run(cli_export, args), 1);
	fake_stop(&f);
	CHECK_STR(out_buf, "");
	CHECK_STR(err_buf, "snapcat export: format must be json, html or csv "
		  "(field \"format\", HTTP 400 invalid_field)\n");
	const char *bad[] = {"export", "--out", "/nonexistent/dir/f", NULL};
	CHECK_EQ_INT(run(cli_export, bad), 1);
	CHECK_STR(err_buf, "snapcat export: cannot write /nonexistent/dir/f\n");
}

/* ---- backup ---- */

TEST(backup_through_the_server)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 202, "{\"backup\":{\"id\":2,\"state\":\"running\"}}");
	fake_reply(&f, 200, "{\"backup\":{\"id\":2,\"state\":\"running\"}}");
	fake_reply(&f, 200, "{\"backup\":{\"id\":2,\"state\":\"done\",\"path\":"
		   "\"/d/backups/x\\u009b\\u202e\\u001b[1m\",\"catalog_bytes\":10,"
		   "\"files\":3,\"files_bytes\":300,\"linked\":2,\"copied\":1,"
		   "\"missing\":0,\"ms\":7}}");
	fake_reply(&f, 202, "{\"backup\":{\"id\":3,\"state\":\"running\"}}");
	fake_reply(&f, 200, "{\"backup\":{\"id\":3,\"state\":\"failed\","
		   "\"path\":\"\",\"error\":\"disk full\\u0007\\u2066\"}}");
	const char *args[] = {"backup", "--name", "nightly", "--server",
			      serv(&f), "--token", "tk", NULL};
	CHECK_EQ_INT(run(cli_backup, args), 0);
	CHECK_STR(out_buf, "backup 2 done: /d/backups/x???[1m\n  catalog 10 "
		  "bytes, 3 files (300 bytes; 2 hard-linked, 1 copied, 0 "
		  "missing), 7 ms\n");
	CHECK_STR(err_buf, "");
	const char *plain[] = {"backup", "--server", serv(&f), NULL};
	CHECK_EQ_INT(run(cli_backup, plain), 1);
	fake_stop(&f);
	CHECK(!strncmp(out_buf, "backup 3 failed: disk full??\n", 29));
	REQUIRE(f.nreqs == 5);
	CHECK_STR(f.reqs[0].method, "POST");
	CHECK_STR(f.reqs[0].target, "/api/backup");
	CHECK_STR(f.reqs[0].ctype, "application/json");
	CHECK_STR(f.reqs[0].body, "{\"name\":\"nightly\"}");
	CHECK_STR(f.reqs[0].auth, "Bearer tk");
	CHECK_STR(f.reqs[1].target, "/api/backups/2");
	CHECK_STR(f.reqs[2].target, "/api/backups/2");
	CHECK_STR(f.reqs[3].body, "{}");
	CHECK_STR(f.reqs[4].target, "/api/backups/3");
}

/* ---- usage, server and token ---- */

TEST(usage_server_and_token)
{
	int port;
	char url[64];
	int fd = refused_server(url, sizeof(url), "/", &port);
	REQUIRE(fd >= 0);
	const char *refused[] = {"backup", "--server", url, NULL};
	CHECK_EQ_INT(run(cli_backup, refused), 1);
	close(fd);
	CHECK_STR(err_buf, refused_msg("backup", port));
	const char *ftp[] = {"export", "--server", "ftp://x/", NULL};
	CHECK_EQ_INT(run(cli_export, ftp), 2);
	CHECK(strstr(err_buf, "must be an http:// or https:// URL") != NULL);
	const char *tok[] = {"export", "--token", "a\r\nX-Evil: 1", NULL};
	CHECK_EQ_INT(run(cli_export, tok), 2);
	CHECK(strstr(err_buf, "token contains spaces or control") != NULL);
	const char *none[] = {"import", NULL};
	CHECK_EQ_INT(run(cli_import, none), 2);
	CHECK(!strncmp(err_buf, "snapcat import: one file or directory", 37));
	const char *unk[] = {"import", "--bogus", "f", NULL};
	CHECK_EQ_INT(run(cli_import, unk), 2);
	CHECK(!strncmp(err_buf, "snapcat import: unknown option \"--bogus\"\n", 41));
	const char *noval[] = {"export", "--format", NULL};
	CHECK_EQ_INT(run(cli_export, noval), 2);
	CHECK(!strncmp(err_buf, "snapcat export: no value for \"--format\"\n", 40));
	const char *restore[] = {"restore", "/tmp/x", NULL};
	CHECK_EQ_INT(run(cli_restore, restore), 2);
	CHECK_STR(err_buf, "snapcat restore: --data DIR is required\n");
	const char *help[] = {"backup", "--help", NULL};
	CHECK_EQ_INT(run(cli_backup, help), 0);
	CHECK(!strncmp(out_buf, "usage: snapcat backup", 21));
}

int main(void)
{
	int fds = cli_fake_begin();
	RUN(import_request_and_summary);
	RUN(import_progress_and_json);
	RUN(import_errors);
	RUN(export_streams_the_body);
	RUN(export_error_is_not_data);
	RUN(backup_through_the_server);
	RUN(usage_server_and_token);
	return cli_fake_end(fds) ? 1 : test_report();
}
