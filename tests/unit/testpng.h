/*
 * testpng.h — the libpng writer the image tests (test_img.c,
 * test_imgdiff.c) make their PNGs with. Each test sets its write struct up
 * (IHDR, compression, filters, PLTE and tRNS, png_write_info); the rows and
 * the end of the file are written here from a row function:
 *
 *   png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
 *                                 testpng_error, NULL);
 *   ... png_write_info(png, info);
 *   testpng_rows(png, info, h, header_only, row, ctx);
 *   png_destroy_write_struct(&png, &info);
 *
 * testpng_read_open is the other way: a reader of a PNG file, for the
 * tests that check a streamed result row by row (test_img.c,
 * test_imgjoin.c).
 *
 * Header-only; include once per test program.
 */
#ifndef TESTPNG_H
#define TESTPNG_H

#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sc.h"

/* libpng's error callback (reads too): a failed encode is a bug in the
 * test, so it aborts. */
static void testpng_error(png_structp png, png_const_charp msg)
{
	(void)png;
	fprintf(stderr, "test encoder: %s\n", msg);
	abort(); /* a bug in the test */
}

/* A reader of the PNG in fp (rewound first), its header read: rows
 * follow with png_read_row; png_destroy_read_struct(png, info) ends it. */
static __attribute__((unused)) void testpng_read_open(FILE *fp,
						      png_structp *png,
						      png_infop *info)
{
	rewind(fp);
	*png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL,
				      testpng_error, NULL);
	*info = png_create_info_struct(*png);
	png_init_io(*png, fp);
	png_set_user_limits(*png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	png_read_info(*png, *info);
}

/* Fill buf with row y of the picture at ctx, in the PNG's own format. */
typedef void (*testpng_row_fn)(const void *ctx, uint32_t y, uint8_t *buf);

/* The image data, after png_write_info: row(ctx, y, buf) for each of the
 * h rows, in every interlace pass, then the end of the file. header_only:
 * what a decompression bomb looks like instead, a real header and one row
 * of noise flushed (so that zlib has to emit an IDAT), no end. */
static void testpng_rows(png_structp png, png_infop info, uint32_t h,
			 int header_only, testpng_row_fn row, const void *ctx)
{
	size_t rb = png_get_rowbytes(png, info);
	uint8_t *buf = sc_xcalloc(1, rb);
	if (header_only) {
		uint32_t r = 1;
		for (size_t i = 0; i < rb; i++)
			buf[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
		png_write_row(png, buf);
		png_write_flush(png);
	} else {
		int passes = png_set_interlace_handling(png);
		for (int p = 0; p < passes; p++)
			for (uint32_t y = 0; y < h; y++) {
				row(ctx, y, buf);
				png_write_row(png, buf);
			}
		png_write_end(png, NULL);
	}
	free(buf);
}

#endif
