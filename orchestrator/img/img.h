/*
 * img.h — PNG work with libpng 1.6, on worker threads.
 *
 *   Page.captureScreenshot tiles (PNG bytes) -> img_stitch -> one PNG
 *       (streaming: one row in memory, whatever the page height)
 *   PNG -> img_thumbnail (top of the page, scaled to a width) -> thumbnail
 *   PNG -> img_decode_* -> struct img_rgba -> img_diff (tests, change checks)
 *
 * Input PNGs are untrusted: any color type, bit depth or malformed byte gives
 * an error, never a crash. Errors: SC_ERR_INVALID for bad arguments and
 * malformed or unsupported PNGs, SC_ERR_TOO_LARGE past the caps below,
 * SC_ERR_NOMEM when a pixel buffer cannot be allocated, SC_ERR_IO when
 * reading or writing a FILE failed (errno holds the cause then, e.g. ENOSPC).
 * The libpng message of an error is logged (sc_log warn, module "img");
 * libpng warnings are logged at debug level; nothing goes to stdout.
 *
 * Thread safety: every function may run on any thread at the same time as
 * the others; nothing is shared.
 */
#ifndef IMG_H
#define IMG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sc.h"

/* Widest PNG accepted by any function (bounds row buffers). */
#define IMG_MAX_WIDTH 65536u
/* Most pixels img_decode_* will allocate (x 4 bytes: 6 GB). */
#define IMG_MAX_PIXELS 1500000000ull

/*
 * A decoded image: w * h pixels, row-major, 4 bytes each (R, G, B, A; 8 bits
 * each, straight alpha), px[(y * w + x) * 4]. Callers embed it (fields are
 * public); the owner frees px with img_rgba_free.
 */
struct img_rgba {
	uint32_t w, h;
	uint8_t *px;
};

/* Free img->px and zero *img. img may be NULL; a zeroed img is fine. */
void img_rgba_free(struct img_rgba *img);

/*
 * Decode a whole PNG (any color type, bit depth 1-16, interlaced or not) to
 * RGBA8: palette and tRNS become alpha, gray becomes RGB, 16 bits are scaled
 * to 8, no gamma correction. The whole file is checked down to IEND. On
 * success *out owns a new pixel buffer (free with img_rgba_free); on error
 * *out is zeroed. More than IMG_MAX_PIXELS pixels or a width over
 * IMG_MAX_WIDTH: SC_ERR_TOO_LARGE, before anything is allocated.
 */
sc_result img_decode_mem(const void *png, size_t len, struct img_rgba *out)
	SC_MUST_CHECK;
/* Same from a file; SC_ERR_NOT_FOUND if path does not exist, SC_ERR_IO
 * (errno) if it cannot be opened or read. */
sc_result img_decode_file(const char *path, struct img_rgba *out)
	SC_MUST_CHECK;

/*
 * Width and height from the PNG signature and IHDR chunk, without libpng
 * (no CRC check, no decompression). SC_ERR_INVALID if the bytes do not start
 * like a PNG. w and h are written only on success.
 */
sc_result img_info_mem(const void *png, size_t len, uint32_t *w, uint32_t *h)
	SC_MUST_CHECK;

/* One PNG of a vertical stack; the bytes are borrowed, not owned. */
struct img_tile {
	const void *png;
	size_t len;
};

/*
 * Write to out one PNG made of tiles[0..n) stacked top to bottom, cropped to
 * crop_h rows (0 = the sum of the tile heights). Streaming: each tile is
 * decoded row by row and each row goes straight to the encoder, so memory
 * is one row whatever the height. Tiles after the one that reaches crop_h are
 * ignored (not even parsed); only the rows used of each tile are decoded.
 *
 * The output is 8-bit RGBA if any tile used has an alpha channel or tRNS,
 * 8-bit RGB otherwise; non-interlaced. zlevel is the zlib level, -1 (zlib's
 * default, 6) or 0..9; 1 is a good choice for screenshots (fast, and flat
 * page areas compress well at any level).
 *
 * Errors: SC_ERR_INVALID if n is 0, a tile is malformed or interlaced, the
 * tiles differ in width, or together are shorter than crop_h; SC_ERR_IO
 * (errno) if writing to out fails. All tiles are checked (headers) before
 * the first byte is written, but on a later error out holds a partial PNG:
 * write into a store_open() file and store_abort() it on error. out is
 * flushed, not closed.
 */
sc_result img_stitch(const struct img_tile *tiles, size_t n, uint32_t crop_h,
		     int zlevel, FILE *out) SC_MUST_CHECK;

/*
 * Write to out a PNG thumbnail of "the top of the page at out_w px wide":
 * the top src_w * out_h / out_w rows of the source are area-averaged (box
 * filter, alpha-weighted) down to out_w x out_h. If the source is shorter
 * than that, all of it is used and the thumbnail is shorter: out_w x
 * round(src_h * out_w / src_w), at least 1 row. Sources narrower than out_w
 * are scaled up (nearest pixel). Only the rows needed are decoded, so a page
 * 200,000 px tall costs the same as one of 800 px.
 *
 * Output is 8-bit RGB, or RGBA if the source has alpha. Errors: as
 * img_stitch (interlaced sources are SC_ERR_INVALID); out_w, out_h must be in
 * 1..IMG_MAX_WIDTH.
 */
sc_result img_thumbnail(const void *png, size_t len, uint32_t out_w,
			uint32_t out_h, FILE *out) SC_MUST_CHECK;
/* Same, reading the source PNG from src_path (only as far as needed). */
sc_result img_thumbnail_file(const char *src_path, uint32_t out_w,
			     uint32_t out_h, FILE *out) SC_MUST_CHECK;

/*
 * Compare two images pixel by pixel (all four bytes must match). Sizes may
 * differ: the images are laid over each other at the top-left corner on a
 * canvas of max(w) x max(h); *total is the canvas's pixel count and every
 * canvas pixel outside the overlap of both counts as differing. So equal
 * images give differing == 0, and differing / total is a change ratio.
 */
sc_result img_diff(const struct img_rgba *a, const struct img_rgba *b,
		   uint64_t *differing, uint64_t *total) SC_MUST_CHECK;

#endif
