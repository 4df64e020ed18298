/*
 * img_int.h — private to the PNG modules (img.c, imgdiff.c): the libpng
 * readers and writers of img.c, shared so that libpng is driven one way.
 *
 *   file/bytes -> img_reader (row by row, RGB(A)8) -> your code
 *   your code  -> img_writer (row by row)          -> FILE
 *
 * DESIGN: see img.c — every libpng call runs inside img_guard(); whatever a
 * guarded body touches lives in a context struct owned by the caller, who
 * closes readers and writers in its `out:` block however the body ended.
 * Fields are private to these modules.
 */
#ifndef IMG_INT_H
#define IMG_INT_H

#include <png.h>

#include "img.h"

/* Where a png_struct reads from or writes to, and how it failed. */
struct img_io {
	const unsigned char *mem; /* memory source, or NULL */
	size_t len, off;
	FILE *fp;                 /* file source or sink */
	int io_errno;             /* errno of a failed fread/fwrite */
	char msg[160];            /* libpng's error message */
};

/* A source PNG being read. */
struct img_reader {
	png_structp png;
	png_infop info;
	struct img_io io;
	uint32_t w, h;
	int alpha;    /* has an alpha channel or tRNS */
	int interlaced;
	int passes;
};

/* A PNG being written to a FILE. */
struct img_writer {
	png_structp png;
	png_infop info;
	struct img_io io;
};

typedef sc_result (*img_body)(void *ctx);

/* Run body(ctx) with png's errors caught: a libpng error returns
 * SC_ERR_IO (errno set from io) or SC_ERR_INVALID, logged at warn. */
sc_result img_guard(png_structp png, const struct img_io *io, img_body body,
		    void *ctx) SC_MUST_CHECK;

/* Open a reader over mem/len (or fp, which stays the caller's) and read the
 * header into r->w, h, alpha, interlaced. SC_ERR_TOO_LARGE if wider than
 * IMG_MAX_WIDTH. Close r with img_reader_close whatever this returns. */
sc_result img_reader_start(struct img_reader *r, const void *mem, size_t len,
			   FILE *fp) SC_MUST_CHECK;
/* Free r's libpng structs; a closed or zeroed r is fine. */
void img_reader_close(struct img_reader *r);
/* Set the transforms that make every row 8-bit RGB (alpha 0) or RGBA
 * (alpha 1); interlaced images only if full != 0 (else SC_ERR_INVALID).
 * Call inside r's guard. */
sc_result img_read_setup(struct img_reader *r, int alpha, int full)
	SC_MUST_CHECK;

/* Open a writer to out (not owned); SC_ERR_NOMEM. Close wr with
 * img_writer_close whatever this returns. */
sc_result img_writer_open(struct img_writer *wr, FILE *out) SC_MUST_CHECK;
/* Free wr's libpng structs; a closed or zeroed wr is fine. */
void img_writer_close(struct img_writer *wr);
/* IHDR (8-bit RGB or RGBA, not interlaced), zlib level and filter, and
 * png_write_info. Call inside wr's guard. */
void img_write_header(struct img_writer *wr, uint32_t w, uint32_t h, int alpha,
		      int zlevel);
/* Flush out after the PNG is complete; SC_ERR_IO with errno on failure. */
sc_result img_finish_file(FILE *out) SC_MUST_CHECK;

/* fopen(path) for reading and check that the file starts with a PNG
 * signature and IHDR (img_info_mem), positioned back at the start.
 * SC_ERR_NOT_FOUND, SC_ERR_IO (errno) or SC_ERR_INVALID; *fp is the
 * caller's to fclose on success, NULL on error. */
sc_result img_fopen_png(const char *path, FILE **fp) SC_MUST_CHECK;

#endif
