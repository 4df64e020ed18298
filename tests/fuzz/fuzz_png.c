/*
 * fuzz_png.c — libFuzzer target for orchestrator/img/img.c on untrusted PNG
 * bytes: img_info_mem, img_decode_mem, and the streaming readers behind
 * img_thumbnail and img_stitch.
 *
 *   tests/fuzz/run-fuzzers 60 png      (libFuzzer, clang, ASan+UBSan)
 *   ctest -R fuzz.png                  (corpus replay, any compiler)
 *
 * Input: the PNG file, as is.
 *
 * Properties checked on every input (abort() on violation):
 *   - img_info_mem: SC_OK or SC_ERR_INVALID; w and h untouched on error,
 *     1..2^31-1 on success;
 *   - img_decode_mem: SC_OK, SC_ERR_INVALID or SC_ERR_TOO_LARGE; *out zero
 *     on error; on success the size is img_info_mem's, and every one of the
 *     w * h * 4 bytes is readable (ASan checks the buffer's extent);
 *     a width over IMG_MAX_WIDTH is SC_ERR_TOO_LARGE;
 *   - img_thumbnail (16 x 12 and, for small sources, 3 x 40: down and up
 *     scaling): SC_OK or SC_ERR_INVALID/TOO_LARGE; when the decode succeeded
 *     and the PNG is not interlaced it succeeds; its output decodes to
 *     exactly the size img.h promises;
 *   - img_stitch of [png] and of [png, png] cropped to 1.5 heights: when the
 *     decode succeeded and the PNG is not interlaced they succeed, and their
 *     output decodes to the same pixels as the source (stacked).
 * Harness limit: images over FUZZ_MAX_PIXELS are not decoded (img.c would
 * allocate up to 6 GB for a 100-byte PNG, by design: IMG_MAX_PIXELS); the
 * thumbnail and stitch checks run under FUZZ_MAX_PIXELS / 4.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img.h"

#define FUZZ_NAME "fuzz_png"
#include "fuzz.h"

#define FUZZ_MAX_PIXELS (1u << 20)

/* -DFUZZ_SKIP_KNOWN lets an exploratory run go past the product bug
 * already reported (input kept as corpus_png/crash-ztxt-chunk-64mb.png):
 * libpng allocates and zeroes the declared length of an ancillary chunk
 * (up to 2 GiB) before reading it. Such inputs are skipped then.
 * run-fuzzers runs this target with -malloc_limit_mb=32. */
#ifdef FUZZ_SKIP_KNOWN
static int fuzz_known(const uint8_t *p, size_t n)
{
	for (size_t o = 8; o + 8 <= n;) {
		uint32_t len = (uint32_t)p[o] << 24 | (uint32_t)p[o + 1] << 16 |
			       (uint32_t)p[o + 2] << 8 | p[o + 3];
		if (len > 8000000 && memcmp(p + o + 4, "IDAT", 4))
			return 1;
		if (len > n)
			return 0;
		o += 12 + (size_t)len;
	}
	return 0;
}
#else
#define fuzz_known(p, n) 0
#endif

static int fuzz_decode_ok(sc_result rc)
{
	return rc == SC_OK || rc == SC_ERR_INVALID || rc == SC_ERR_TOO_LARGE;
}

/* Expected thumbnail height for a sw x sh source at ow x oh (img.h). */
static uint32_t fuzz_thumb_h(uint64_t sw, uint64_t sh, uint32_t ow,
			     uint32_t oh)
{
	uint64_t region = sw * oh / ow;
	if (!region)
		region = 1;
	if (region < sh)
		return oh;
	uint64_t th = (sh * ow + sw / 2) / sw;
	return th < 1 ? 1 : th > oh ? oh : (uint32_t)th;
}

static void fuzz_thumb(const uint8_t *data, size_t size, uint32_t sw,
		       uint32_t sh, int must, uint32_t ow, uint32_t oh)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	FUZZ_ASSERT(f);
	sc_result rc = img_thumbnail(data, size, ow, oh, f);
	FUZZ_ASSERT(fclose(f) == 0);
	FUZZ_ASSERT(fuzz_decode_ok(rc));
	FUZZ_ASSERT(rc == SC_OK || !must);
	if (rc == SC_OK) {
		struct img_rgba t;
		FUZZ_ASSERT(img_decode_mem(mem, len, &t) == SC_OK);
		FUZZ_ASSERT(t.w == ow);
		FUZZ_ASSERT(t.h == fuzz_thumb_h(sw, sh, ow, oh));
		img_rgba_free(&t);
	}
	free(mem);
}

/* Stitch n copies of the PNG cropped to crop rows; compare with src. */
static void fuzz_stitch(const uint8_t *data, size_t size,
			const struct img_rgba *src, size_t n, uint32_t crop)
{
	struct img_tile tiles[2] = {{data, size}, {data, size}};
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	FUZZ_ASSERT(f);
	sc_result rc = img_stitch(tiles, n, crop, 1, f);
	FUZZ_ASSERT(fclose(f) == 0);
	if (rc != SC_OK) {
		fprintf(stderr, "img_stitch: %s\n", sc_strerror(rc));
		abort();
	}
	struct img_rgba t;
	FUZZ_ASSERT(img_decode_mem(mem, len, &t) == SC_OK);
	uint32_t h = crop ? crop : (uint32_t)(src->h * n);
	FUZZ_ASSERT(t.w == src->w && t.h == h);
	size_t stride = (size_t)src->w * 4;
	for (uint32_t y = 0; y < h; y++)
		FUZZ_ASSERT(!memcmp(t.px + y * stride,
				    src->px + (y % src->h) * stride, stride));
	img_rgba_free(&t);
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet++)
		sc_log_set_level(SC_LOG_ERROR); /* one warning per bad PNG */
	if (fuzz_known(data, size))
		return 0;

	uint32_t w = 0xdeadbeef, h = 0xdeadbeef;
	sc_result irc = img_info_mem(data, size, &w, &h);
	FUZZ_ASSERT(irc == SC_OK || irc == SC_ERR_INVALID);
	if (irc) {
		FUZZ_ASSERT(w == 0xdeadbeef && h == 0xdeadbeef);
	} else {
		FUZZ_ASSERT(w >= 1 && w <= 0x7fffffffu);
		FUZZ_ASSERT(h >= 1 && h <= 0x7fffffffu);
		if (w <= IMG_MAX_WIDTH && (uint64_t)w * h > FUZZ_MAX_PIXELS)
			return 0; /* see the harness limit above */
	}
	(void)!img_info_mem(data, size, NULL, NULL);

	struct img_rgba img;
	sc_result rc = img_decode_mem(data, size, &img);
	FUZZ_ASSERT(fuzz_decode_ok(rc));
	if (rc) {
		FUZZ_ASSERT(!img.px && !img.w && !img.h);
	} else {
		/* libpng accepted it: the header reader agrees */
		FUZZ_ASSERT(irc == SC_OK && img.w == w && img.h == h);
		FUZZ_ASSERT(w <= IMG_MAX_WIDTH);
		FUZZ_ASSERT(img.px);
		volatile uint8_t sum = 0;
		size_t n = (size_t)w * h * 4;
		sum ^= img.px[0];
		sum ^= img.px[n - 1];
		(void)sum;
	}

	/* the streaming readers: only what they need of the file */
	int interlaced = irc == SC_OK && size > 28 && data[28] != 0;
	int must = rc == SC_OK && !interlaced;
	if (irc == SC_OK && w <= IMG_MAX_WIDTH &&
	    (uint64_t)w * h <= FUZZ_MAX_PIXELS / 4) {
		fuzz_thumb(data, size, w, h, must, 16, 12);
		if (w <= 64)
			fuzz_thumb(data, size, w, h, must, 3, 40);
		if (must) {
			fuzz_stitch(data, size, &img, 1, 0);
			fuzz_stitch(data, size, &img, 2, h + (h + 1) / 2);
		}
	}
	img_rgba_free(&img);
	FUZZ_ASSERT(!img.px);
	return 0;
}
