/*
 * imgdiff.h — streaming visual diff of two PNG files, on worker threads.
 *
 *   old snapshot PNG ─┐
 *                     ├─ imgdiff_files (row by row) ─> change ratio, regions
 *   new snapshot PNG ─┘                            └─> diff PNG (optional)
 *
 * Full-page screenshots can be 1280 x 200,000 px, so neither input is ever
 * decoded whole: both are read one row at a time, side by side, and memory
 * is O(canvas width): a row of each input, a row of the diff PNG, a byte
 * mask and a few arrays per cell column (about 14 bytes per pixel of width,
 * 18 KB at 1280 px), plus libpng's and zlib's own state (some 0.4 MB with a
 * diff PNG), whatever the height and whatever the number of regions.
 *
 * Pixels: any color type and bit depth is converted to RGBA8 as img.h does
 * (palette and tRNS to alpha, gray to RGB, 16 to 8 bits, no gamma). Two
 * pixels differ when any of R, G, B, A differs by more than the tolerance.
 *
 * Regions: the canvas is cut into cell x cell squares from the top-left;
 * cells holding a changed pixel are grouped into 8-connected regions. So
 * changed pixels at most `cell` px apart (in x and in y) are always in one
 * region, and pixels 2 * cell px or more apart only through changes in
 * between. A region's box is the exact bounding box of its changed pixels
 * (not rounded to the grid), and its `changed` counts them.
 *
 * Thread safety: any number of diffs may run at once on any threads;
 * nothing is shared.
 */
#ifndef IMGDIFF_H
#define IMGDIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sc.h"

/* Most regions reported; see imgdiff_result.boxes_truncated. */
#define IMGDIFF_BOXES_MAX 32
/* Largest cell size accepted (cell * cell must fit 32 bits). */
#define IMGDIFF_CELL_MAX 4096u
/* The colour of changed pixels in the diff PNG: #ff0044. */
#define IMGDIFF_HIGHLIGHT_R 0xff
#define IMGDIFF_HIGHLIGHT_G 0x00
#define IMGDIFF_HIGHLIGHT_B 0x44

struct imgdiff_opts {
	int tolerance;  /* per-channel difference ignored, 0..255 */
	uint32_t cell;  /* region grid cell size in px, 1..IMGDIFF_CELL_MAX */
	int zlevel;     /* zlib level of the diff PNG, -1 (zlib's 6) or 0..9 */
};
/* The defaults; start from these: a zeroed struct has cell 0, which is
 * SC_ERR_INVALID (and zlevel 0, an uncompressed diff PNG). */
#define IMGDIFF_OPTS_INIT {.tolerance = 0, .cell = 32, .zlevel = 1}

/* One region of change: the bounding box of its changed pixels, on the
 * canvas, and how many they are. */
struct imgdiff_box {
	uint32_t x, y, w, h;
	uint64_t changed;
};

/* Fields are public (callers embed it). */
struct imgdiff_result {
	uint32_t old_w, old_h, new_w, new_h;
	uint32_t w, h;        /* the canvas: max(old_w, new_w) x max(old_h, new_h) */
	uint64_t changed;     /* changed canvas pixels */
	uint64_t total;       /* canvas pixels, w * h */
	double ratio;         /* changed / total, 0..1 */
	/* the largest regions, by changed pixels, largest first (ties: the
	 * one whose box starts higher, then more to the left) */
	size_t nboxes;
	struct imgdiff_box boxes[IMGDIFF_BOXES_MAX];
	/* More than IMGDIFF_BOXES_MAX regions: the smallest ones are dropped,
	 * not merged (a merged box could span the whole page). nregions
	 * counts all of them, dropped_changed the changed pixels of those
	 * dropped (changed still counts every pixel). */
	int boxes_truncated;  /* nregions > nboxes */
	uint64_t nregions;
	uint64_t dropped_changed;
};

/*
 * Compare the PNG files old_path and new_path laid over each other at the
 * top-left corner on a canvas of max(w) x max(h): canvas pixels outside
 * either image count as changed (so a page that grew by 500 rows has those
 * rows changed). o NULL means IMGDIFF_OPTS_INIT. Fills *out (required).
 *
 * If diff_out is not NULL, an 8-bit RGB PNG of the canvas (not interlaced)
 * is written to it, flushed, not closed: changed pixels solid
 * IMGDIFF_HIGHLIGHT_*, unchanged ones the new image composited over white
 * and faded to 25% over white (channel c -> 255 - (255 - c) / 4, so black
 * text becomes light grey 191): the page stays recognisable under the red.
 *
 * Both inputs are read to their end (IEND) and checked as img_decode_file
 * does; each may have at most IMG_MAX_PIXELS pixels (a time bound here, not
 * a memory one) and IMG_MAX_WIDTH columns.
 *
 * Errors (img.h's): SC_ERR_INVALID for bad arguments and malformed PNGs,
 * and for interlaced ones (they cannot be read row by row);
 * SC_ERR_TOO_LARGE past the caps; SC_ERR_NOT_FOUND if a path does not
 * exist; SC_ERR_IO (errno) if reading or writing failed. On error *out is
 * zeroed and diff_out may hold a partial PNG: write into a store_open()
 * file and store_abort() it on error. The libpng message is logged.
 */
sc_result imgdiff_files(const char *old_path, const char *new_path,
			const struct imgdiff_opts *o, FILE *diff_out,
			struct imgdiff_result *out) SC_MUST_CHECK;

#endif
