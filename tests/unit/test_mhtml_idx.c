/*
 * test_mhtml_idx.c — the index of an MHTML file (orchestrator/io/mhtml_idx.h):
 * written then read back (every part as mhtml_render gives it from a full
 * parse), served from the index alone (the MHTML damaged outside the part
 * served, its mtime put back: the part still comes out whole), rebuilt when
 * missing, truncated at every length, damaged at every byte, forged with a
 * good checksum, stale; part counts at and over MHTML_PARTS_MAX; the cap.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mhtml.h"
#include "mhtml_idx.h"
#include "store.h"
#include "testhelp.h"

#define B "----MultipartBoundary--abc----"

static const char sample[] =
	"From: <Saved by Blink>\r\n"
	"Content-Type: multipart/related;\r\n"
	"\ttype=\"text/html\";\r\n"
	"\tboundary=\"" B "\"\r\n"
	"\r\n"
	"\r\n"
	"--" B "\r\n"
	"Content-Type: text/css\r\n"
	"Content-Location: cid:css-0@mhtml.blink\r\n"
	"\r\n"
	"p { color: blue }\r\n"
	"--" B "\r\n"
	"Content-Type: text/html\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"Content-Location: http://h.test/dir/page.html\r\n"
	"\r\n"
	"<html><body><img src=3D\"/a.png\"><iframe src=3D\"cid:f@x\"></iframe>=\r\n"
	"<link href=3D\"cid:css-0@mhtml.blink\"></body></html>\r\n"
	"--" B "\r\n"
	"Content-Type: image/png\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Location: http://h.test/a.png\r\n"
	"\r\n"
	"iVBORw0K\r\n"
	"GgoA\r\n"
	"--" B "\r\n"
	"Content-Type: text/html\r\n"
	"Content-ID: <f@x>\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"Content-Location: http://h.test/f.html\r\n"
	"\r\n"
	"<p>frame =E2=9C=93</p>\r\n"
	"--" B "\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Location: http://h.test/z.txt\r\n"
	"\r\n"
	"zzzz\r\n"
	"--" B "--\r\n";

static char dir[64], path[128], ipath[160];

static void setup(const char *data, size_t len)
{
	snprintf(dir, sizeof(dir), "/tmp/snapcat-mhtml-idx-XXXXXX");
	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/page.mhtml", dir);
	snprintf(ipath, sizeof(ipath), "%s.idx", path);
	char err[256];
	REQUIRE(!store_write_file(path, data, len, err, sizeof(err)));
}

static void teardown(void)
{
	char err[256];
	CHECK(!store_remove_tree(dir, err, sizeof(err)));
}

static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	char *d = malloc(1 << 20);
	size_t n = fread(d, 1, (1 << 20) - 1, f);
	fclose(f);
	d[n] = 0;
	if (len)
		*len = n;
	return d;
}

static char *idx_render(struct mhtml_idx *x, int i)
{
	struct sc_buf b;
	sc_buf_init(&b, 1 << 20);
	if (mhtml_idx_render(x, i, "/p/", "?t", &b)) {
		sc_buf_free(&b);
		return NULL;
	}
	return sc_buf_take(&b, NULL);
}

/* Every part of the index at path equals a full parse of sample. */
static void same_as_parse(int want_built)
{
	struct mhtml *m = NULL;
	struct mhtml_idx *x = NULL;
	int built = -1;
	REQUIRE(!mhtml_parse(sample, sizeof(sample) - 1, &m));
	REQUIRE(!mhtml_idx_open(path, &x, &built));
	CHECK_EQ_INT(built, want_built);
	CHECK_EQ_INT(mhtml_idx_count(x), mhtml_count(m));
	CHECK_EQ_INT(mhtml_idx_main(x), 1);
	for (int i = 0; i < mhtml_count(m); i++) {
		struct sc_buf b;
		sc_buf_init(&b, 1 << 20);
		REQUIRE(!mhtml_render(m, i, "/p/", "?t", &b));
		char *got = idx_render(x, i);
		CHECK(got && !strcmp(got, b.data));
		CHECK_STR(mhtml_idx_type(x, i), mhtml_type(m, i));
		free(got);
		sc_buf_free(&b);
	}
	mhtml_idx_free(&x);
	mhtml_free(&m);
}

static void write_index(void)
{
	char err[256] = "";
	REQUIRE(!mhtml_idx_write(path, sample, sizeof(sample) - 1, 0, err,
				 sizeof(err)));
}

TEST(round_trip)
{
	setup(sample, sizeof(sample) - 1);
	write_index();
	char *t = slurp(ipath, NULL);
	REQUIRE(t);
	CHECK(!strncmp(t, "snapcat-mhtml-index 1 ", 22));
	free(t);
	same_as_parse(0);
	struct mhtml_idx *x = NULL;
	int built;
	REQUIRE(!mhtml_idx_open(path, &x, &built));
	char *html = idx_render(x, 1);
	REQUIRE(html);
	CHECK(strstr(html, "<img src=\"/p/2?t\"><iframe src=\"/p/3?t\">") != NULL);
	CHECK(strstr(html, "href=\"/p/0?t\"") != NULL);
	free(html);
	struct sc_buf b;
	sc_buf_init(&b, 0);
	CHECK_EQ_INT(mhtml_idx_render(x, 5, "/p/", "", &b), SC_ERR_NOT_FOUND);
	CHECK_EQ_INT(mhtml_idx_render(x, -1, "/p/", "", &b), SC_ERR_NOT_FOUND);
	sc_buf_free(&b);
	mhtml_idx_free(&x);
	mhtml_idx_free(&x);
	teardown();
}

/* Bytes at off of path replaced (same size), its mtime put back. */
static void overwrite_keep_mtime(const char *p, size_t off, const char *s)
{
	struct stat st;
	REQUIRE(!stat(p, &st));
	int fd = open(p, O_WRONLY);
	REQUIRE(fd >= 0);
	REQUIRE(pwrite(fd, s, strlen(s), (off_t)off) == (ssize_t)strlen(s));
	close(fd);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	REQUIRE(!utimensat(AT_FDCWD, p, ts, 0));
}

TEST(served_from_index)
{
	setup(sample, sizeof(sample) - 1);
	write_index();
	/* the boundary before the frame and the text part's body damaged: a
	 * parse would see four parts, the PNG swallowing the frame */
	const char *bnd = strstr(strstr(sample, "GgoA"), "--" B);
	const char *z = strstr(sample, "zzzz");
	overwrite_keep_mtime(path, (size_t)(bnd - sample), "XX");
	overwrite_keep_mtime(path, (size_t)(z - sample), "yyyy");
	struct mhtml_idx *x = NULL;
	int built = -1;
	REQUIRE(!mhtml_idx_open(path, &x, &built));
	CHECK_EQ_INT(built, 0);
	CHECK_EQ_INT(mhtml_idx_count(x), 5);
	char *png = idx_render(x, 2);
	REQUIRE(png);
	CHECK(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	free(png);
	char *txt = idx_render(x, 4); /* its own bytes, read where they are */
	CHECK(txt && !strcmp(txt, "yyyy"));
	free(txt);
	mhtml_idx_free(&x);
	teardown();
}

TEST(missing_then_built)
{
	setup(sample, sizeof(sample) - 1);
	write_index();
	size_t n0, n1;
	char *first = slurp(ipath, &n0);
	REQUIRE(first);
	REQUIRE(!unlink(ipath));
	same_as_parse(1);
	char *again = slurp(ipath, &n1);
	CHECK(again && n0 == n1 && !memcmp(first, again, n0));
	same_as_parse(0); /* stored: the next open reads it */
	free(first);
	free(again);
	teardown();
}

static void put(const char *p, const char *d, size_t n)
{
	char err[256];
	REQUIRE(!store_write_file(p, d, n, err, sizeof(err)));
}

TEST(truncated_and_damaged)
{
	setup(sample, sizeof(sample) - 1);
	write_index();
	size_t n;
	char *good = slurp(ipath, &n);
	REQUIRE(good && n > 100);
	for (size_t k = 0; k < n; k++) { /* every length */
		put(ipath, good, k);
		same_as_parse(1);
	}
	for (size_t k = 0; k < n; k++) { /* every byte */
		char *bad = malloc(n);
		memcpy(bad, good, n);
		bad[k] ^= (char)(1 + (k % 7));
		put(ipath, bad, n);
		same_as_parse(1);
		free(bad);
	}
	free(good);
	teardown();
}

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

/* An index text given a right checksum. */
static void put_forged(struct sc_buf *t)
{
	char tail[32];
	snprintf(tail, sizeof(tail), "end %016llx\n",
		 (unsigned long long)fnv(t->data, t->len));
	REQUIRE(!sc_buf_appends(t, tail));
	put(ipath, t->data, t->len);
}

TEST(forged)
{
	setup(sample, sizeof(sample) - 1);
	struct stat st;
	REQUIRE(!stat(path, &st));
	size_t size = sizeof(sample) - 1;
	const struct {
		size_t off, len;
		const char *rest;
	} bodies[] = {
		{size, 1, "- 0 0 0\n\n"},     /* past the end of the file */
		{0, size + 1, "- 0 0 0\n\n"}, /* longer than the file */
		{0, 1, "x 0 0 0\n\n"},        /* an unknown encoding */
		{0, 1, "- 0 99 0\nabc\n"},    /* strings past the end */
		{0, 1, "- 0 0 0\n\n0 1 - 0 0 0\n\n"}, /* a part too many */
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct sc_buf t;
		sc_buf_init(&t, 0);
		REQUIRE(!sc_buf_printf(&t, "snapcat-mhtml-index 1 %zu %lld %ld 1 0\n",
				       size, (long long)st.st_mtim.tv_sec,
				       (long)st.st_mtim.tv_nsec));
		REQUIRE(!sc_buf_printf(&t, "%zu %zu %s", bodies[i].off,
				       bodies[i].len, bodies[i].rest));
		put_forged(&t);
		sc_buf_free(&t);
		same_as_parse(1);
	}
	/* stale: the right index of another file of the same size */
	struct sc_buf t;
	sc_buf_init(&t, 0);
	REQUIRE(!sc_buf_printf(&t, "snapcat-mhtml-index 1 %zu %lld %ld 1 0\n"
			       "0 1 - 0 0 0\n\n", size,
			       (long long)st.st_mtim.tv_sec - 1,
			       (long)st.st_mtim.tv_nsec));
	put_forged(&t);
	sc_buf_free(&t);
	same_as_parse(1);
	/* over MHTML_PARTS_MAX parts said */
	sc_buf_init(&t, 0);
	REQUIRE(!sc_buf_printf(&t, "snapcat-mhtml-index 1 %zu %lld %ld %d 0\n",
			       size, (long long)st.st_mtim.tv_sec,
			       (long)st.st_mtim.tv_nsec, MHTML_PARTS_MAX + 1));
	for (int i = 0; i <= MHTML_PARTS_MAX; i++)
		REQUIRE(!sc_buf_appends(&t, "0 1 - 0 0 0\n\n"));
	put_forged(&t);
	sc_buf_free(&t);
	same_as_parse(1);
	teardown();
}

TEST(stale_file)
{
	setup(sample, sizeof(sample) - 1);
	write_index();
	static const char other[] =
		"Content-Type: multipart/related; boundary=x\r\n\r\n"
		"--x\r\nContent-Type: text/html\r\n\r\n<p>new</p>\r\n--x--\r\n";
	put(path, other, sizeof(other) - 1); /* replaced, as a restore does */
	struct mhtml_idx *x = NULL;
	int built;
	REQUIRE(!mhtml_idx_open(path, &x, &built));
	CHECK_EQ_INT(built, 1);
	CHECK_EQ_INT(mhtml_idx_count(x), 1);
	char *p = idx_render(x, 0);
	CHECK(p && !strcmp(p, "<p>new</p>"));
	free(p);
	mhtml_idx_free(&x);
	teardown();
}

static void many_parts(struct sc_buf *f, int n)
{
	sc_buf_init(f, 0);
	REQUIRE(!sc_buf_appends(f, "Content-Type: multipart/related; boundary=x\r\n\r\n"));
	for (int i = 0; i < n; i++)
		REQUIRE(!sc_buf_printf(f, "--x\r\nContent-Type: text/plain\r\n"
				       "Content-Location: http://h.test/%d\r\n\r\n"
				       "p%d\r\n", i, i));
	REQUIRE(!sc_buf_appends(f, "--x--\r\n"));
}

TEST(part_counts_and_caps)
{
	struct sc_buf f;
	char err[256];
	many_parts(&f, MHTML_PARTS_MAX);
	setup(f.data, f.len);
	REQUIRE(!mhtml_idx_write(path, f.data, f.len, 0, err, sizeof(err)));
	struct mhtml_idx *x = NULL;
	int built;
	REQUIRE(!mhtml_idx_open(path, &x, &built));
	CHECK_EQ_INT(built, 0);
	CHECK_EQ_INT(mhtml_idx_count(x), MHTML_PARTS_MAX);
	char *last = idx_render(x, MHTML_PARTS_MAX - 1);
	CHECK(last && !strcmp(last, "p9999"));
	free(last);
	mhtml_idx_free(&x);
	/* the outputs' cap: no index written over it */
	REQUIRE(!unlink(ipath));
	CHECK_EQ_INT(mhtml_idx_write(path, f.data, f.len, 4096, err, sizeof(err)),
		     SC_ERR_TOO_LARGE);
	CHECK(access(ipath, F_OK) != 0);
	teardown();
	sc_buf_free(&f);
	/* one part too many: no index, and the copy says too large */
	many_parts(&f, MHTML_PARTS_MAX + 1);
	setup(f.data, f.len);
	CHECK_EQ_INT(mhtml_idx_write(path, f.data, f.len, 0, err, sizeof(err)),
		     SC_ERR_TOO_LARGE);
	CHECK(access(ipath, F_OK) != 0);
	CHECK_EQ_INT(mhtml_idx_open(path, &x, &built), SC_ERR_TOO_LARGE);
	CHECK(x == NULL);
	teardown();
	sc_buf_free(&f);
}

TEST(not_mhtml)
{
	static const char junk[] = "not an MHTML file at all\r\n";
	setup(junk, sizeof(junk) - 1);
	char err[256];
	struct mhtml_idx *x = NULL;
	int built;
	CHECK_EQ_INT(mhtml_idx_write(path, junk, sizeof(junk) - 1, 0, err,
				     sizeof(err)), SC_ERR_PROTOCOL);
	CHECK_EQ_INT(mhtml_idx_open(path, &x, &built), SC_ERR_PROTOCOL);
	CHECK(x == NULL);
	/* the bytes given are not the file's */
	CHECK_EQ_INT(mhtml_idx_write(path, junk, 3, 0, err, sizeof(err)),
		     SC_ERR_IO);
	REQUIRE(!unlink(path));
	CHECK_EQ_INT(mhtml_idx_open(path, &x, &built), SC_ERR_NOT_FOUND);
	teardown();
}

int main(void)
{
	RUN(round_trip);
	RUN(served_from_index);
	RUN(missing_then_built);
	RUN(truncated_and_damaged);
	RUN(forged);
	RUN(stale_file);
	RUN(part_counts_and_caps);
	RUN(not_mhtml);
	return test_report();
}
