/*
 * fuzz_mhtml_idx.c — libFuzzer target for orchestrator/io/mhtml_idx.c: a
 * damaged or hostile page.mhtml.idx beside a real MHTML, opened and every
 * part rendered as GET /api/snapshots/{id}/page/{n} does (http/api_page.c).
 *
 *   tests/fuzz/run-fuzzers 60 mhtml_idx  (clang, libFuzzer + ASan/UBSan)
 *   ctest -R fuzz.mhtml_idx              (replays corpus_mhtml_idx/ under gcc)
 *
 * The input is the index's parts section: the target puts the right header
 * line before it (the MHTML's size and mtime, a part count read from the
 * input's first byte) and a right checksum after it, so that the fuzzer
 * reaches the part parser, and writes it beside a fixed MHTML in a
 * directory under $TMPDIR (/tmp by default). Seeds: corpus_mhtml_idx/ (the
 * parts of the index of tests/fuzz/corpus_mhtml/unit-sample.mhtml).
 * Properties (abort() on violation): the open gives SC_OK (a bad index is
 * built again from the MHTML: then the parts are the MHTML's own), at most
 * MHTML_PARTS_MAX parts, the main part among them; each part renders to
 * SC_OK or SC_ERR_PROTOCOL (bad base64) / SC_ERR_TOO_LARGE (the cap); no
 * read outside the file's bytes or the index's (ASan).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mhtml.h"
#include "mhtml_idx.h"
#include "store.h"

#define FUZZ_NAME "fuzz_mhtml_idx"
#include "fuzz.h"

static const char mh[] =
	"Content-Type: multipart/related; boundary=x\r\n\r\n"
	"--x\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: "
	"quoted-printable\r\nContent-Location: http://h.test/\r\n\r\n"
	"<img src=3D\"a.png\"><link href=3D\"cid:c@x\">\r\n"
	"--x\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
	"Content-Location: http://h.test/a.png\r\n\r\niVBORw0KGgoA\r\n"
	"--x\r\nContent-Type: text/css\r\nContent-Location: cid:c@x\r\n\r\n"
	"b { background: url(a.png) }\r\n--x--\r\n";

static char dir[400], path[512], ipath[530];
static struct stat st;

static void fz_cleanup(void)
{
	char err[256];
	(void)!store_remove_tree(dir, err, sizeof(err));
}

static void fz_setup(void)
{
	const char *t = getenv("TMPDIR");
	char err[256];
	snprintf(dir, sizeof(dir), "%s/snapcat-fuzz-idx-XXXXXX", t ? t : "/tmp");
	FUZZ_ASSERT(mkdtemp(dir));
	atexit(fz_cleanup);
	snprintf(path, sizeof(path), "%s/page.mhtml", dir);
	snprintf(ipath, sizeof(ipath), "%s.idx", path);
	FUZZ_ASSERT(!store_write_file(path, mh, sizeof(mh) - 1, err, sizeof(err)));
	FUZZ_ASSERT(!stat(path, &st));
}

static uint64_t fz_fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

/* The index: header (parts from the first byte), the input, checksum. */
static void fz_write(const uint8_t *data, size_t size)
{
	struct sc_buf t;
	sc_buf_init(&t, 0);
	int n = size ? data[0] % 8 : 1;
	FUZZ_ASSERT(!sc_buf_printf(&t, "snapcat-mhtml-index 1 %zu %lld %ld %d %d\n",
				   sizeof(mh) - 1, (long long)st.st_mtim.tv_sec,
				   (long)st.st_mtim.tv_nsec, n, 0));
	if (size > 1)
		FUZZ_ASSERT(!sc_buf_append(&t, data + 1, size - 1));
	FUZZ_ASSERT(!sc_buf_printf(&t, "end %016llx\n",
				   (unsigned long long)fz_fnv(t.data, t.len)));
	int fd = open(ipath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_ASSERT(fd >= 0 && write(fd, t.data, t.len) == (ssize_t)t.len);
	close(fd);
	sc_buf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0])
		fz_setup();
	fz_write(data, size);
	struct mhtml_idx *x = NULL;
	int built;
	FUZZ_ASSERT(mhtml_idx_open(path, &x, &built) == SC_OK);
	int n = mhtml_idx_count(x);
	FUZZ_ASSERT(n >= 1 && n <= MHTML_PARTS_MAX);
	FUZZ_ASSERT(mhtml_idx_main(x) >= 0 && mhtml_idx_main(x) < n);
	FUZZ_ASSERT(!built || n == 3);
	for (int i = 0; i < n; i++) {
		struct sc_buf b;
		sc_buf_init(&b, 1u << 22);
		FUZZ_ASSERT(mhtml_idx_type(x, i)[0]);
		sc_result rc = mhtml_idx_render(x, i, "/api/snapshots/1/page/",
						"?token=t", &b);
		FUZZ_ASSERT(!rc || rc == SC_ERR_PROTOCOL || rc == SC_ERR_TOO_LARGE);
		sc_buf_free(&b);
	}
	mhtml_idx_free(&x);
	return 0;
}
