/*
 * test_cli_client.c — `snapcat add` / `snapcat ls` (cli_client.c, through
 * cli_http.c and cli_term.c) against a fake server inside this process
 * (cli_fake.h: it records each request and answers with canned replies).
 */
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_fake.h"
#include "testhelp.h"

static const char link_created[] =
	"{\"link\":{\"id\":3,\"url\":\"https://example.org/\",\"title\":null,"
	"\"tags\":[\"docs\",\"news\"],\"last_snapshot\":null,\"last_job\":null},"
	"\"job\":{\"id\":7,\"link_id\":3,\"state\":\"queued\",\"progress\":0}}";

static const char bad_url[] =
	"{\"error\":{\"code\":\"invalid_field\",\"message\":"
	"\"url: scheme \\\"ftp\\\" is not allowed\",\"field\":\"url\"}}";

/* ---- add ---- */

TEST(add_created)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 201, link_created);
	const char *args[] = {"add", "https://example.org", "--tag", "docs",
			      "--server", serv(&f), "--tag", "news",
			      "--token", "s3cret", NULL};
	int rc = run(cli_add, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out_buf, "link 3 https://example.org/ (new) \xe2\x80\x94 job 7 queued\n");
	CHECK_STR(err_buf, "");
	REQUIRE(f.nreqs == 1);
	CHECK_STR(f.reqs[0].method, "POST");
	CHECK_STR(f.reqs[0].target, "/api/links");
	CHECK_STR(f.reqs[0].auth, "Bearer s3cret");
	CHECK_STR(f.reqs[0].ctype, "application/json");
	CHECK_STR(f.reqs[0].body,
		  "{\"url\":\"https://example.org\",\"tags\":[\"docs\",\"news\"]}");
}

TEST(add_known_env_token)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 200, link_created);
	setenv("SNAPCAT_TOKEN", "from-env", 1);
	const char *args[] = {"add", "--server", serv(&f), "http://a.example/",
			      NULL};
	int rc = run(cli_add, args);
	unsetenv("SNAPCAT_TOKEN");
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(f.nreqs == 1);
	CHECK_STR(f.reqs[0].auth, "Bearer from-env");
	/* no --tag: no "tags" member, so a known link keeps its tags */
	CHECK_STR(f.reqs[0].body, "{\"url\":\"http://a.example/\"}");
	CHECK_STR(out_buf, "link 3 https://example.org/ (known) \xe2\x80\x94 job 7 queued\n");
}

TEST(add_json_line)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 201, "{\n  \"link\": {\"id\": 3, \"title\": \"a\\u009bb\\u001b\"},\n"
			    "  \"job\": null\n}\n");
	const char *args[] = {"add", "--json", "--server", serv(&f),
			      "http://a.example/", NULL};
	int rc = run(cli_add, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out_buf, "{\"link\":{\"id\":3,\"title\":\"a\\u009bb\\u001b\"},"
			   "\"job\":null}\n");
	cJSON *j = cJSON_Parse(out_buf);
	CHECK(j != NULL);
	cJSON_Delete(j);
}

TEST(add_bad_request_continues)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 400, bad_url);
	fake_reply(&f, 201, link_created);
	const char *args[] = {"add", "--server", serv(&f), "ftp://x/",
			      "https://example.org/", NULL};
	int rc = run(cli_add, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_INT(f.nreqs, 2);
	CHECK_STR(f.reqs[1].body, "{\"url\":\"https://example.org/\"}");
	CHECK_STR(f.reqs[0].auth, "");
	CHECK_STR(err_buf, "snapcat add: ftp://x/: url: scheme \"ftp\" is not "
			   "allowed (field \"url\", HTTP 400 invalid_field)\n");
	CHECK_STR(out_buf, "link 3 https://example.org/ (new) \xe2\x80\x94 job 7 queued\n");
}

TEST(add_unauthorized)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	static const char unauth[] =
		"{\"error\":{\"code\":\"unauthorized\",\"message\":\"token required\"}}";
	fake_reply(&f, 401, unauth);
	fake_reply(&f, 401, unauth);
	const char *args[] = {"add", "--server", serv(&f), "http://a/",
			      "http://b/", NULL};
	int rc = run(cli_add, args);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_INT(fake_nreqs(&f), 1); /* no point in sending the second */
	CHECK(strstr(err_buf, "the server wants a token: pass --token T or set "
			      "SNAPCAT_TOKEN\n") != NULL);
	CHECK(strstr(err_buf, "1 more URL(s) not sent") != NULL);
	CHECK_STR(out_buf, "");
	const char *args2[] = {"ls", "--server", serv(&f), "--token", "nope",
			       NULL};
	rc = run(cli_ls, args2);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 1);
	CHECK_STR(err_buf, "snapcat ls: the server refused the token (check "
			   "--token or $SNAPCAT_TOKEN)\n");
	CHECK_STR(f.reqs[1].auth, "Bearer nope");
}

TEST(refused)
{
	int port;
	char url[64];
	int fd = refused_server(url, sizeof(url), "", &port);
	REQUIRE(fd >= 0);
	const char *args[] = {"add", "--server", url, "http://a/", NULL};
	int rc = run(cli_add, args);
	CHECK_EQ_INT(rc, 1);
	CHECK_STR(err_buf, refused_msg("add", port));
	/* trailing slashes are dropped; $SNAPCAT_SERVER is the default */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d//", port);
	setenv("SNAPCAT_SERVER", url, 1);
	const char *args2[] = {"ls", NULL};
	rc = run(cli_ls, args2);
	unsetenv("SNAPCAT_SERVER");
	close(fd);
	CHECK_EQ_INT(rc, 1);
	CHECK_STR(err_buf, refused_msg("ls", port));
}

TEST(server_errors)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 500, "<html>oops\x1b[2J</html>\r\nmore");
	fake_reply(&f, 200, "not json");
	fake_reply(&f, 200, "{\"items\":3}");
	const char *args[] = {"add", "--server", serv(&f), "http://a/", NULL};
	CHECK_EQ_INT(run(cli_add, args), 1);
	CHECK_STR(err_buf, "snapcat add: http://a/: HTTP 500 from the server: "
			   "<html>oops?[2J</html>\n");
	CHECK_EQ_INT(run(cli_add, args), 1);
	CHECK_STR(err_buf, "snapcat add: http://a/: the server's answer is not "
			   "a JSON object (HTTP 200)\n");
	const char *ls[] = {"ls", "--server", serv(&f), NULL};
	CHECK_EQ_INT(run(cli_ls, ls), 1);
	CHECK_STR(err_buf, "snapcat ls: the server's answer has no \"items\" list\n");
	fake_stop(&f);
}

TEST(too_large)
{
	struct fake f;
	size_t n = (16u << 20) + 4096;
	char *big = malloc(n + 1);
	REQUIRE(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 200, big);
	const char *ls[] = {"ls", "--server", serv(&f), NULL};
	int rc = run(cli_ls, ls);
	fake_stop(&f);
	free(big);
	CHECK_EQ_INT(rc, 1);
	CHECK_STR(err_buf, "snapcat ls: the server's answer is over 16 MiB\n");
}

/* ---- usage ---- */

TEST(usage)
{
	const char *h1[] = {"add", "--help", NULL};
	CHECK_EQ_INT(run(cli_add, h1), 0);
	CHECK(!strncmp(out_buf, "usage: snapcat add", 18));
	const char *h2[] = {"ls", "--help", NULL};
	CHECK_EQ_INT(run(cli_ls, h2), 0);
	CHECK(!strncmp(out_buf, "usage: snapcat ls", 17));
	const char *none[] = {"add", "--tag", "x", NULL};
	CHECK_EQ_INT(run(cli_add, none), 2);
	CHECK(!strncmp(err_buf, "snapcat add: no URL given\n", 26));
	const char *ftp[] = {"add", "--server", "ftp://h/", "http://a/", NULL};
	CHECK_EQ_INT(run(cli_add, ftp), 2);
	CHECK(strstr(err_buf, "must be an http:// or https:// URL") != NULL);
	const char *q[] = {"ls", "--server", "http://h/?x", NULL};
	CHECK_EQ_INT(run(cli_ls, q), 2);
	const char *lim[] = {"ls", "--limit", "12x", NULL};
	CHECK_EQ_INT(run(cli_ls, lim), 2);
	CHECK(strstr(err_buf, "--limit wants a number from 1 to 1000") != NULL);
	const char *lim0[] = {"ls", "--limit", "0", NULL};
	CHECK_EQ_INT(run(cli_ls, lim0), 2);
	const char *pos[] = {"ls", "extra", NULL};
	CHECK_EQ_INT(run(cli_ls, pos), 2);
	const char *unk[] = {"ls", "--bogus", NULL};
	CHECK_EQ_INT(run(cli_ls, unk), 2);
	CHECK(!strncmp(err_buf, "snapcat ls: unknown option \"--bogus\"\n", 37));
	const char *miss[] = {"add", "http://a/", "--tag", NULL};
	CHECK_EQ_INT(run(cli_add, miss), 2);
	CHECK(!strncmp(err_buf, "snapcat add: no value for \"--tag\"\n", 34));
	const char *anyadd[] = {"add", "--any", "http://a/", NULL};
	CHECK_EQ_INT(run(cli_add, anyadd), 2);
	const char *tok[] = {"add", "--token", "a\r\nX-Evil: 1", "http://a/", NULL};
	CHECK_EQ_INT(run(cli_add, tok), 2);
	CHECK(strstr(err_buf, "token contains spaces or control") != NULL);
}

/* ---- ls ---- */

static const char page1[] =
	"{\"items\":["
	"{\"id\":3,\"url\":\"https://example.org/\",\"title\":\"Example\","
	"\"tags\":[\"docs\",\"news\"],\"last_job\":{\"id\":7,\"state\":\"done\"}},"
	"{\"id\":12,\"url\":\"https://untitled.example/\",\"title\":null,"
	"\"tags\":[],\"last_job\":null}"
	"],\"next_cursor\":\"c2/+x\"}";

static const char page2[] =
	"{\"items\":[{\"id\":1,\"url\":\"https://one.example/\",\"title\":\"One\","
	"\"tags\":[\"a\"],\"last_job\":{\"state\":\"failed\"}}],\"next_cursor\":null}";

TEST(ls_query_and_rows)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 200, page1);
	const char *args[] = {"ls", "--tag", "a", "--tag", "b c", "--any",
			      "--q", "hello world&x=1", "--limit", "5",
			      "--server", serv(&f), "--token", "t", NULL};
	int rc = run(cli_ls, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(f.nreqs == 1);
	CHECK_STR(f.reqs[0].method, "GET");
	CHECK_STR(f.reqs[0].target, "/api/links?tag=a&tag=b%20c&match=any"
				    "&q=hello%20world%26x%3D1&limit=5");
	CHECK_STR(f.reqs[0].auth, "Bearer t");
	CHECK_STR(f.reqs[0].body, "");
	/* not a terminal: tab-separated, one page only */
	CHECK_STR(out_buf,
		  "3\tdone\tdocs,news\tExample\thttps://example.org/\n"
		  "12\t-\t-\thttps://untitled.example/\thttps://untitled.example/\n");
	CHECK_STR(err_buf, "");
}

TEST(ls_all_pages)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 200, page1);
	fake_reply(&f, 200, page2);
	const char *args[] = {"ls", "--all", "--server", serv(&f), NULL};
	int rc = run(cli_ls, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(f.nreqs == 2);
	CHECK_STR(f.reqs[0].target, "/api/links");
	CHECK_STR(f.reqs[0].auth, "");
	CHECK_STR(f.reqs[1].target, "/api/links?cursor=c2%2F%2Bx");
	CHECK(strstr(out_buf, "\n1\tfailed\ta\tOne\thttps://one.example/\n") != NULL);
}

TEST(ls_json)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 200, page2);
	const char *args[] = {"ls", "--json", "--server", serv(&f), NULL};
	int rc = run(cli_ls, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out_buf, "{\"id\":1,\"url\":\"https://one.example/\",\"title\":"
			   "\"One\",\"tags\":[\"a\"],\"last_job\":{\"state\":"
			   "\"failed\"}}\n");
}

/* A title with ESC sequences, BEL, CR/LF, C1 CSI (U+009B), DEL, a bidi
 * override and a malformed byte: none may reach the terminal. */
static const char evil[] =
	"{\"items\":[{\"id\":4,\"url\":\"https://evil.example/\\u001b[2J\","
	"\"title\":\"Evil\\u001b]0;pwned\\u0007\\u001b[31mred\\r\\nx\\u009b1m"
	"\\u007f\\u202eok\xff\",\"tags\":[\"t\\u001bx\"],"
	"\"last_job\":{\"state\":\"do\\u001bne\"}}],\"next_cursor\":null}";

TEST(ls_sanitizes)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	fake_reply(&f, 200, evil);
	const char *args[] = {"ls", "--server", serv(&f), NULL};
	int rc = run(cli_ls, args);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out_buf, "4\tdo?ne\tt?x\tEvil?]0;pwned??[31mred??x?1m??ok?\t"
			   "https://evil.example/?[2J\n");
	for (const char *p = out_buf; *p; p++)
		CHECK((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n');
}

/* Terminal columns of a UTF-8 line: one per code point, two for the CJK
 * ideographs used here (lead bytes 0xe3-0xe9). */
static int line_cols(const char *s, size_t n)
{
	int cols = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		cols += (c & 0xc0) != 0x80;
		cols += c >= 0xe3 && c <= 0xe9;
	}
	return cols;
}

/* Run fn with stdout on a pseudo-terminal `cols` wide; output in out_buf. */
static int run_tty(int (*fn)(int, char **), const char *const *args, int cols)
{
	int m, s;
	struct winsize ws = {.ws_row = 24, .ws_col = (unsigned short)cols};
	struct termios tio;
	if (openpty(&m, &s, NULL, NULL, &ws))
		return -1;
	tcgetattr(s, &tio);
	cfmakeraw(&tio);
	tcsetattr(s, TCSANOW, &tio);
	fflush(stdout);
	int s1 = dup(1);
	dup2(s, 1);
	int rc = run_cap(fn, args, 0);
	fflush(stdout);
	dup2(s1, 1);
	close(s1);
	close(s);
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = m, .events = POLLIN};
		ssize_t n;
		if (poll(&p, 1, 200) <= 0 ||
		    (n = read(m, out_buf + len, sizeof(out_buf) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	out_buf[len] = '\0';
	close(m);
	return rc;
}

TEST(ls_tty_table)
{
	struct fake f;
	REQUIRE(fake_start(&f) == 0);
	static const char longpage[] =
		"{\"items\":["
		"{\"id\":3,\"url\":\"https://example.org/a/very/long/path/that/goes/on\","
		"\"title\":\"A title that is much longer than the column it gets\","
		"\"tags\":[\"documentation\",\"news\",\"more\"],\"last_job\":"
		"{\"state\":\"running\"}},"
		"{\"id\":123456,\"url\":\"https://x.example/\",\"title\":\"\\u6f22\\u5b57\\u6f22\\u5b57\\u6f22\\u5b57\\u6f22\\u5b57\\u6f22\\u5b57\\u6f22\\u5b57\","
		"\"tags\":[],\"last_job\":null}"
		"],\"next_cursor\":\"more\"}";
	fake_reply(&f, 200, longpage);
	const char *args[] = {"ls", "--server", serv(&f), NULL};
	int rc = run_tty(cli_ls, args, 80);
	fake_stop(&f);
	CHECK_EQ_INT(rc, 0);
	CHECK(!strncmp(out_buf, "   ID  STATE     TAGS                  TITLE", 44));
	CHECK(strstr(out_buf, "\n    3  running   documentation,news,\xe2\x80\xa6  A title") != NULL);
	CHECK(strstr(err_buf, "more links: use --all") != NULL);
	int lines = 0;
	for (const char *p = out_buf; *p;) {
		size_t n = strcspn(p, "\n");
		CHECK(line_cols(p, n) <= 80);
		lines++;
		p += n + (p[n] == '\n');
	}
	CHECK_EQ_INT(lines, 3);
	CHECK(strstr(out_buf, "https://example.org/a/very/long/path/that/goes/on") == NULL);
}

int main(void)
{
	int fds = cli_fake_begin();
	RUN(add_created);
	RUN(add_known_env_token);
	RUN(add_json_line);
	RUN(add_bad_request_continues);
	RUN(add_unauthorized);
	RUN(refused);
	RUN(server_errors);
	RUN(too_large);
	RUN(usage);
	RUN(ls_query_and_rows);
	RUN(ls_all_pages);
	RUN(ls_json);
	RUN(ls_sanitizes);
	RUN(ls_tty_table);
	return cli_fake_end(fds) ? 1 : test_report();
}
