/*
 * fuzz_mhtml.c — libFuzzer target for orchestrator/io/mhtml.c and
 * mhtml_rewrite.c: a snapshot's MHTML parsed and every part rendered as
 * GET /api/snapshots/{id}/page[/{n}] does (http/api_page.c).
 *
 *   tests/fuzz/run-fuzzers 60 mhtml      (clang, libFuzzer + ASan/UBSan)
 *   ctest -R fuzz.mhtml                  (replays corpus_mhtml/ under gcc)
 *
 * Seeds: corpus_mhtml/ (Chromium's MHTML of tests/fixtures/archive/page.html
 * and the sample of tests/unit/test_mhtml.c). Properties (abort() on
 * violation): parse gives SC_OK with 1..MHTML_PARTS_MAX parts, or
 * SC_ERR_PROTOCOL / SC_ERR_TOO_LARGE and no result; each part renders to
 * SC_OK or SC_ERR_PROTOCOL (bad base64) / SC_ERR_TOO_LARGE (the cap), its
 * type is a non-empty string; the input's bytes are read only (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mhtml.h"

#define FUZZ_NAME "fuzz_mhtml"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mhtml *m = NULL;
	sc_result rc = mhtml_parse((const char *)data, size, &m);
	if (rc) {
		FUZZ_ASSERT(rc == SC_ERR_PROTOCOL || rc == SC_ERR_TOO_LARGE);
		FUZZ_ASSERT(!m);
		return 0;
	}
	int n = mhtml_count(m);
	FUZZ_ASSERT(n >= 1 && n <= MHTML_PARTS_MAX);
	for (int i = 0; i < n && i < 64; i++) {
		struct sc_buf b;
		sc_buf_init(&b, 1u << 22);
		FUZZ_ASSERT(mhtml_type(m, i)[0]);
		rc = mhtml_render(m, i, "/api/snapshots/1/page/", "?token=t", &b);
		FUZZ_ASSERT(!rc || rc == SC_ERR_PROTOCOL || rc == SC_ERR_TOO_LARGE);
		sc_buf_free(&b);
	}
	mhtml_free(&m);
	return 0;
}
