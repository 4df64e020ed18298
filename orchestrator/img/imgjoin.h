/*
 * imgjoin.h — one PNG from screenshot tiles, joined where they are
 * compressed, not decoded and encoded again. Worker threads.
 *
 *   tiles (PNG bytes, top to bottom, as Chromium sent them)
 *     -> imgjoin_write: check every tile (chunks, CRCs, IHDR equal but for
 *        the height; each tile's zlib stream inflated once, to a scratch
 *        buffer, to find where its deflate blocks begin and end)
 *     -> PNG: IHDR with the summed height, one zlib stream made of the
 *        tiles' deflate blocks copied bit for bit, Adler-32 combined
 *     -> or img_stitch (img.h: decode and re-encode every row) when the
 *        tiles cannot be joined: different formats, interlaced, a crop that
 *        falls inside a tile, anything unexpected in a tile
 *
 * Why a tile's first rows may be re-encoded. PNG filters a row against the
 * row above it, and a tile's first row was filtered against "no row" (all
 * zero). Laid under the previous tile, that row stays right only if its
 * filter byte is None or Sub, which ignore the row above. Chromium filters
 * every row with Up (optimizeForSpeed) or adaptively, so its tiles but the
 * first start with a filter that reads the row above: the first row of
 * such a tile is written again as None (the same pixels), and the deflate
 * blocks that start within 32 KiB past that row (the reach of a deflate
 * back-reference) are compressed again; the blocks from there on are
 * copied as they are. So what is re-encoded per tile is about one row,
 * 32 KiB and the rest of the deflate block they end in, whatever the
 * tile's height (imgjoin.c: DESIGN). On Chromium's tiles of a flat page,
 * whose fast zlib makes blocks of some 18 MB of rows, that is one block.
 *
 * Memory: a 64 KiB scratch buffer, one row, zlib's inflate and deflate
 * state and a 256 KiB IDAT buffer, whatever the number and height of the
 * tiles. Time: one inflate of every tile plus a copy of its compressed
 * bytes.
 *
 * Thread safety: any number of joins may run at once on any threads.
 */
#ifndef IMGJOIN_H
#define IMGJOIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "img.h"

/* How imgjoin_write made its PNG (logs, tests). */
struct imgjoin_info {
	int stitched;          /* 1: decoded and re-encoded by img_stitch */
	char why[160];         /* why the tiles could not be joined, or "" */
	size_t tiles;          /* tiles used */
	size_t refiltered;     /* tiles whose first rows were re-encoded */
	uint64_t reencoded;    /* uncompressed bytes compressed again */
};

/*
 * Write to out one PNG made of tiles[0..n) stacked top to bottom, as
 * img_stitch does (same arguments and errors), joining them at the
 * compression level when they can be (see above), else by img_stitch.
 * crop_h 0: every tile; else the tiles are joined only if crop_h is the sum
 * of the heights of the first k tiles (the later ones are not looked at),
 * and stitched (cropped inside a tile) otherwise. zlevel is used for the
 * re-encoded first rows and by img_stitch. info (optional) says what was
 * done. The pixels are those of the tiles decoded one under the other,
 * whichever way the PNG was made.
 *
 * Errors: those of img_stitch when it runs (malformed tiles included);
 * joining, SC_ERR_IO (errno) if writing to out fails, SC_ERR_NOMEM. On
 * error out may hold a partial PNG (write into a store_open() file). out is
 * flushed, not closed.
 */
sc_result imgjoin_write(const struct img_tile *tiles, size_t n,
			uint32_t crop_h, int zlevel, FILE *out,
			struct imgjoin_info *info) SC_MUST_CHECK;

#endif
