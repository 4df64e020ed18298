/*
 * pngenc.h — the unit tests' PNG encoder (libpng, in memory): any colour
 * type, depth, interlace, zlib level, row filter and IDAT size, rows from a
 * callback (written by testpng.h). Shared by test_img.c and test_imgjoin.c; static functions only.
 */
#ifndef PNGENC_H
#define PNGENC_H

#include <png.h>
#include <stdio.h>
#include <stdlib.h>

#include "sc.h"
#include "testpng.h"

struct enc {
	uint32_t w, h;
	int ct, depth, interlace, zlevel;
	/* fill row y in the PNG's own format (ct/depth) */
	void (*row)(const struct enc *e, uint32_t y, uint8_t *buf);
	const void *ctx;
	const png_color *plte;
	int nplte;
	const png_byte *trns; /* palette tRNS */
	int ntrns;
	const png_color_16 *trans_color; /* RGB/gray tRNS */
	int header_only; /* stop after the first IDAT of one row (bombs) */
	int filter;      /* png_set_filter's mask; 0: PNG_FILTER_NONE */
	int zstore;      /* zlib level 0 (stored blocks), whatever zlevel */
	size_t zbuf;     /* IDAT chunk size; 0: libpng's (8192) */
};

static void enc_write(png_structp png, png_bytep data, size_t n)
{
	if (sc_buf_append(png_get_io_ptr(png), data, n))
		abort();
}

static void enc_flush(png_structp png)
{
	(void)png;
}

static void enc_row(const void *ctx, uint32_t y, uint8_t *buf)
{
	const struct enc *e = ctx;
	e->row(e, y, buf);
}

/* Encode e to a malloc'd PNG; *len gets its size. */
static unsigned char *enc_png(const struct enc *e, size_t *len)
{
	struct sc_buf b;
	sc_buf_init(&b, 0);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
						  testpng_error, NULL);
	png_infop info = png_create_info_struct(png);
	png_set_write_fn(png, &b, enc_write, enc_flush);
	png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	png_set_IHDR(png, info, e->w, e->h, e->depth, e->ct,
		     e->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, e->zstore ? 0 : e->zlevel ? e->zlevel : 1);
	png_set_filter(png, PNG_FILTER_TYPE_BASE,
		       e->filter ? e->filter : PNG_FILTER_NONE); /* fast */
	if (e->zbuf)
		png_set_compression_buffer_size(png, e->zbuf);
	if (e->plte)
		png_set_PLTE(png, info, e->plte, e->nplte);
	if (e->trns || e->trans_color)
		png_set_tRNS(png, info, e->trns, e->ntrns, e->trans_color);
	png_write_info(png, info);
	testpng_rows(png, info, e->h, e->header_only, enc_row, e);
	png_destroy_write_struct(&png, &info);
	return (unsigned char *)sc_buf_take(&b, len);
}

#endif
