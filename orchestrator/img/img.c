/*
 * img.c — decode, stitch, thumbnail and diff PNGs with libpng (see img.h).
 *
 * DESIGN (libpng errors): libpng reports errors by longjmp to the jmp_buf of
 * the png_struct. Every libpng call runs inside img_guard(), whose only job
 * is setjmp + calling a body function with a context pointer; all state the
 * body touches (png structs, buffers, counters) lives in that context, never
 * in locals of the frame that called setjmp, so nothing needs `volatile` and
 * nothing is lost by the jump. The caller of img_guard owns the context and
 * frees everything in its `out:` block whichever way the body ended.
 * Stitching and thumbnails nest two guards: the writer's around the whole
 * job, a reader's around reading one source; an error in either lands in its
 * own guard, which are both live frames at that point.
 *
 * Streaming: readers decode one row at a time with png_read_row into a row
 * buffer and writers take one row at a time (png_write_row), so memory does
 * not depend on image height. The readers and writers are shared with
 * imgdiff.c through img_int.h.
 */
#include "img_int.h"

#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define IMG_THUMB_ZLEVEL 6

/* ---- libpng callbacks ---- */

static void img_png_error(png_structp png, png_const_charp msg)
{
	struct img_io *io = png_get_error_ptr(png);
	snprintf(io->msg, sizeof(io->msg), "%s", msg ? msg : "?");
	png_longjmp(png, 1);
}

static void img_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	sc_log(SC_LOG_DEBUG, "img", "libpng warning: %s", msg ? msg : "?");
}

static void img_read_mem(png_structp png, png_bytep data, size_t n)
{
	struct img_io *io = png_get_io_ptr(png);
	if (n > io->len - io->off)
		png_error(png, "truncated PNG");
	memcpy(data, io->mem + io->off, n);
	io->off += n;
}

static void img_read_file(png_structp png, png_bytep data, size_t n)
{
	struct img_io *io = png_get_io_ptr(png);
	if (fread(data, 1, n, io->fp) == n)
		return;
	if (ferror(io->fp)) {
		io->io_errno = errno ? errno : EIO;
		png_error(png, "read error");
	}
	png_error(png, "truncated PNG");
}

static void img_write_file(png_structp png, png_bytep data, size_t n)
{
	struct img_io *io = png_get_io_ptr(png);
	if (fwrite(data, 1, n, io->fp) == n)
		return;
	io->io_errno = errno ? errno : EIO;
	png_error(png, "write error");
}

static void img_flush_none(png_structp png)
{
	(void)png; /* img_finish_file flushes once at the end */
}

/* ---- the guard ---- */

/* What a longjmp out of libpng means for the caller. */
static sc_result img_png_failed(const struct img_io *io)
{
	sc_log(SC_LOG_WARN, "img", "libpng: %s", io->msg);
	if (io->io_errno) {
		errno = io->io_errno;
		return SC_ERR_IO;
	}
	return SC_ERR_INVALID;
}

/* Run body(ctx) with png's errors caught. No local here changes after
 * setjmp, so none can be clobbered by the longjmp. */
sc_result img_guard(png_structp png, const struct img_io *io, img_body body,
		    void *ctx)
{
	if (setjmp(png_jmpbuf(png)))
		return img_png_failed(io);
	return body(ctx);
}

/* ---- readers and writers ---- */

/* Create r->png/info reading from r->io (mem or fp set by the caller). */
static sc_result img_reader_open(struct img_reader *r)
{
	r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r->io,
					img_png_error, img_png_warning);
	if (!r->png)
		return SC_ERR_NOMEM;
	r->info = png_create_info_struct(r->png);
	if (!r->info)
		return SC_ERR_NOMEM;
	png_set_read_fn(r->png, &r->io, r->io.fp ? img_read_file : img_read_mem);
	/* our own caps apply (img_read_header); libpng's default 1e6 would
	 * refuse tall pages */
	png_set_user_limits(r->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	/* ancillary chunks we never use are skipped unread: libpng would
	 * allocate and zero their declared length (up to 2 GiB) first, its
	 * "chunk data is too large" check being only a warning on read */
	static const png_byte skip[] = "tEXt\0zTXt\0iTXt\0iCCP\0eXIf\0"
				       "sPLT\0hIST\0pCAL\0sCAL\0";
	png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, skip,
				    (int)(sizeof(skip) / 5));
	return SC_OK;
}

void img_reader_close(struct img_reader *r)
{
	if (r->png)
		png_destroy_read_struct(&r->png, &r->info, NULL);
	r->png = NULL;
	r->info = NULL;
}

/* Body: read the header into r's fields (inside r's guard). */
static sc_result img_read_header(void *ctx)
{
	struct img_reader *r = ctx;
	png_uint_32 w, h;
	int depth, ct, il;
	png_read_info(r->png, r->info);
	png_get_IHDR(r->png, r->info, &w, &h, &depth, &ct, &il, NULL, NULL);
	r->w = w;
	r->h = h;
	r->alpha = (ct & PNG_COLOR_MASK_ALPHA) ||
		   png_get_valid(r->png, r->info, PNG_INFO_tRNS);
	r->interlaced = il != PNG_INTERLACE_NONE;
	return w > IMG_MAX_WIDTH ? SC_ERR_TOO_LARGE : SC_OK;
}

/*
 * Set the transforms that make every row 8-bit RGB (alpha 0) or RGBA
 * (alpha 1) and update the info; interlaced images only if full != 0 (then
 * r->passes rows must be read per row). Call inside r's guard.
 */
sc_result img_read_setup(struct img_reader *r, int alpha, int full)
{
	int ct = png_get_color_type(r->png, r->info);
	r->passes = 1;
	if (r->interlaced) {
		if (!full)
			return SC_ERR_INVALID;
		r->passes = png_set_interlace_handling(r->png);
	}
	png_set_expand(r->png); /* palette, gray < 8 bits, tRNS -> alpha */
	png_set_scale_16(r->png);
	if (!(ct & PNG_COLOR_MASK_COLOR))
		png_set_gray_to_rgb(r->png);
	if (alpha && !r->alpha)
		png_set_add_alpha(r->png, 0xff, PNG_FILLER_AFTER);
	if (!alpha && r->alpha)
		png_set_strip_alpha(r->png);
	png_read_update_info(r->png, r->info);
	if (png_get_rowbytes(r->png, r->info) != (size_t)r->w * (alpha ? 4 : 3))
		return SC_ERR_INTERNAL;
	return SC_OK;
}

/* Open a reader over mem (or fp) and read its header. */
sc_result img_reader_start(struct img_reader *r, const void *mem, size_t len,
			   FILE *fp)
{
	sc_result rc;
	memset(r, 0, sizeof(*r));
	if (!fp && (!mem || !len))
		return SC_ERR_INVALID;
	r->io.mem = mem;
	r->io.len = len;
	r->io.fp = fp;
	if ((rc = img_reader_open(r)))
		return rc;
	return img_guard(r->png, &r->io, img_read_header, r);
}

sc_result img_writer_open(struct img_writer *wr, FILE *out)
{
	memset(wr, 0, sizeof(*wr));
	wr->io.fp = out;
	wr->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &wr->io,
					  img_png_error, img_png_warning);
	if (!wr->png)
		return SC_ERR_NOMEM;
	wr->info = png_create_info_struct(wr->png);
	if (!wr->info)
		return SC_ERR_NOMEM;
	png_set_write_fn(wr->png, &wr->io, img_write_file, img_flush_none);
	png_set_user_limits(wr->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	return SC_OK;
}

void img_writer_close(struct img_writer *wr)
{
	if (wr->png)
		png_destroy_write_struct(&wr->png, &wr->info);
	wr->png = NULL;
	wr->info = NULL;
}

/* IHDR + compression settings + png_write_info (inside wr's guard). */
void img_write_header(struct img_writer *wr, uint32_t w, uint32_t h, int alpha,
		      int zlevel)
{
	png_set_IHDR(wr->png, wr->info, w, h, 8,
		     alpha ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(wr->png, zlevel);
	/* one cheap filter: adaptive filtering tries five per row, which
	 * dominates the cost of large screenshots at low zlib levels */
	if (zlevel >= 0 && zlevel <= 3)
		png_set_filter(wr->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
	png_write_info(wr->png, wr->info);
}

/* Flush out after the PNG is complete; SC_ERR_IO with errno on failure. */
sc_result img_finish_file(FILE *out)
{
	errno = 0;
	if (fflush(out) || ferror(out)) {
		if (!errno)
			errno = EIO;
		return SC_ERR_IO;
	}
	return SC_OK;
}

/* ---- full decode ---- */

void img_rgba_free(struct img_rgba *img)
{
	if (!img)
		return;
	free(img->px);
	memset(img, 0, sizeof(*img));
}

struct img_dec {
	struct img_reader r;
	struct img_rgba *out;
};

/* Body: allocate and fill out->px (inside the reader's guard). */
static sc_result img_decode_body(void *ctx)
{
	struct img_dec *d = ctx;
	struct img_reader *r = &d->r;
	uint64_t npx = (uint64_t)r->w * r->h;
	if (npx > IMG_MAX_PIXELS || npx > SIZE_MAX / 4)
		return SC_ERR_TOO_LARGE;
	sc_result rc = img_read_setup(r, 1, 1);
	if (rc)
		return rc;
	/* calloc: interlace passes fill the rows a few pixels at a time */
	d->out->px = calloc((size_t)npx, 4);
	if (!d->out->px)
		return SC_ERR_NOMEM;
	d->out->w = r->w;
	d->out->h = r->h;
	size_t stride = (size_t)r->w * 4;
	for (int pass = 0; pass < r->passes; pass++)
		for (uint32_t y = 0; y < r->h; y++)
			png_read_row(r->png, d->out->px + y * stride, NULL);
	png_read_end(r->png, NULL);
	return SC_OK;
}

static sc_result img_decode(const void *png, size_t len, FILE *fp,
			    struct img_rgba *out)
{
	struct img_dec d = {.out = out};
	sc_result rc = img_reader_start(&d.r, png, len, fp);
	if (!rc)
		rc = img_guard(d.r.png, &d.r.io, img_decode_body, &d);
	img_reader_close(&d.r);
	if (rc)
		img_rgba_free(out);
	return rc;
}

sc_result img_decode_mem(const void *png, size_t len, struct img_rgba *out)
{
	if (!out)
		return SC_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	/* IHDR must be the first chunk (PNG spec 5.6); libpng, told to skip
	 * unknown chunks unread, would let one come first (found by fuzz_png) */
	if (img_info_mem(png, len, NULL, NULL))
		return SC_ERR_INVALID;
	return img_decode(png, len, NULL, out);
}

/* fopen for reading; SC_ERR_NOT_FOUND / SC_ERR_IO (errno). */
static sc_result img_fopen(const char *path, FILE **fp)
{
	if (!path)
		return SC_ERR_INVALID;
	*fp = fopen(path, "rbe");
	if (*fp)
		return SC_OK;
	return errno == ENOENT ? SC_ERR_NOT_FOUND : SC_ERR_IO;
}

sc_result img_fopen_png(const char *path, FILE **fp)
{
	sc_result rc = img_fopen(path, fp);
	if (rc)
		return rc;
	unsigned char head[24];
	size_t n = fread(head, 1, sizeof(head), *fp);
	if (ferror(*fp) || fseek(*fp, 0, SEEK_SET))
		rc = SC_ERR_IO;
	else if (img_info_mem(head, n, NULL, NULL))
		rc = SC_ERR_INVALID; /* IHDR first, as img_decode_mem */
	if (!rc)
		return SC_OK;
	int e = errno;
	fclose(*fp);
	*fp = NULL;
	errno = e;
	return rc;
}

sc_result img_decode_file(const char *path, struct img_rgba *out)
{
	FILE *fp = NULL;
	if (!out)
		return SC_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	sc_result rc = img_fopen_png(path, &fp);
	if (rc)
		return rc;
	rc = img_decode(NULL, 0, fp, out);
	int e = errno;
	fclose(fp);
	errno = e;
	return rc;
}

/* ---- header only ---- */

static uint32_t img_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

sc_result img_info_mem(const void *png, size_t len, uint32_t *w, uint32_t *h)
{
	const unsigned char *p = png;
	/* signature, IHDR length (13), "IHDR", width, height */
	if (!p || len < 24 || png_sig_cmp(p, 0, 8) ||
	    img_be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4))
		return SC_ERR_INVALID;
	uint32_t pw = img_be32(p + 16), ph = img_be32(p + 20);
	if (!pw || !ph || pw > PNG_UINT_31_MAX || ph > PNG_UINT_31_MAX)
		return SC_ERR_INVALID;
	if (w)
		*w = pw;
	if (h)
		*h = ph;
	return SC_OK;
}

/* ---- stitch ---- */

struct img_st {
	const struct img_tile *tiles;
	size_t n, cur;        /* tiles, and the one being copied */
	uint32_t w, h, done;  /* output size, rows written so far */
	int alpha, zlevel;
	struct img_reader r;  /* the current tile */
	struct img_writer wr;
	uint8_t *row;
};

/* Check the headers of the tiles needed for st->h rows (0: all) and set
 * st->w, st->h, st->alpha, st->n (tiles actually needed). */
static sc_result img_stitch_scan(struct img_st *st)
{
	uint64_t sum = 0;
	size_t i;
	sc_result rc = SC_OK;
	for (i = 0; i < st->n && (!st->h || sum < st->h); i++) {
		const struct img_tile *t = &st->tiles[i];
		rc = img_reader_start(&st->r, t->png, t->len, NULL);
		if (!rc && (st->r.interlaced || (i && st->r.w != st->w)))
			rc = SC_ERR_INVALID;
		st->w = st->r.w;
		st->alpha |= st->r.alpha;
		sum += st->r.h;
		img_reader_close(&st->r);
		if (rc)
			return rc;
	}
	if (!st->h && sum > PNG_UINT_31_MAX)
		return SC_ERR_TOO_LARGE;
	if (sum < st->h)
		return SC_ERR_INVALID; /* the tiles are too short */
	if (!st->h)
		st->h = (uint32_t)sum;
	st->n = i;
	return SC_OK;
}

/* Body (tile reader's guard): copy the current tile's rows. */
static sc_result img_stitch_rows(void *ctx)
{
	struct img_st *st = ctx;
	struct img_reader *r = &st->r;
	if (r->w != st->w)
		return SC_ERR_INVALID;
	sc_result rc = img_read_setup(r, st->alpha, 0);
	if (rc)
		return rc;
	for (uint32_t y = 0; y < r->h && st->done < st->h; y++) {
		png_read_row(r->png, st->row, NULL);
		png_write_row(st->wr.png, st->row);
		st->done++;
	}
	return SC_OK;
}

/* Body (writer's guard): header, every tile, end. */
static sc_result img_stitch_body(void *ctx)
{
	struct img_st *st = ctx;
	sc_result rc = SC_OK;
	img_write_header(&st->wr, st->w, st->h, st->alpha, st->zlevel);
	for (st->cur = 0; !rc && st->cur < st->n && st->done < st->h;
	     st->cur++) {
		const struct img_tile *t = &st->tiles[st->cur];
		rc = img_reader_start(&st->r, t->png, t->len, NULL);
		if (!rc)
			rc = img_guard(st->r.png, &st->r.io, img_stitch_rows,
				       st);
		img_reader_close(&st->r);
	}
	if (!rc && st->done < st->h)
		rc = SC_ERR_INVALID;
	if (!rc)
		png_write_end(st->wr.png, NULL);
	return rc;
}

sc_result img_stitch(const struct img_tile *tiles, size_t n, uint32_t crop_h,
		     int zlevel, FILE *out)
{
	struct img_st st = {.tiles = tiles, .n = n, .h = crop_h,
			    .zlevel = zlevel};
	sc_result rc;
	if (!tiles || !n || !out || zlevel < -1 || zlevel > 9)
		return SC_ERR_INVALID;
	if ((rc = img_stitch_scan(&st)))
		goto out;
	if ((rc = img_writer_open(&st.wr, out)))
		goto out;
	st.row = sc_xmalloc((size_t)st.w * 4);
	rc = img_guard(st.wr.png, &st.wr.io, img_stitch_body, &st);
	if (!rc)
		rc = img_finish_file(out);
out:
	img_reader_close(&st.r);
	img_writer_close(&st.wr);
	free(st.row);
	return rc;
}

/* ---- thumbnail ---- */

struct img_th {
	struct img_reader r;
	struct img_writer wr;
	uint32_t tw, th;   /* thumbnail size */
	uint32_t sh;       /* source rows used */
	uint32_t have;     /* source rows decoded so far */
	uint32_t *xb;      /* [tw + 1] source column bounds */
	uint64_t *acc;     /* [tw * 4] sums: r*a, g*a, b*a, a */
	uint8_t *row, *orow;
};

/* Thumbnail size and source rows from the source size (img.h). */
static void img_th_size(struct img_th *t, uint32_t ow, uint32_t oh)
{
	uint64_t sw = t->r.w, srch = t->r.h;
	uint64_t region = sw * oh / ow;
	t->tw = ow;
	if (!region)
		region = 1;
	if (region < srch) {
		t->sh = (uint32_t)region;
		t->th = oh;
		return;
	}
	uint64_t th = (srch * ow + sw / 2) / sw;
	t->sh = (uint32_t)srch;
	t->th = th < 1 ? 1 : th > oh ? oh : (uint32_t)th;
}

/* Add source row t->row (RGB or RGBA) into the column sums. */
static void img_th_add_row(struct img_th *t)
{
	int ch = t->r.alpha ? 4 : 3;
	for (uint32_t ox = 0; ox < t->tw; ox++) {
		uint32_t x0 = t->xb[ox], x1 = t->xb[ox + 1];
		uint64_t *a = t->acc + (size_t)ox * 4;
		if (x1 <= x0)
			x1 = x0 + 1;
		for (uint32_t x = x0; x < x1; x++) {
			const uint8_t *p = t->row + (size_t)x * ch;
			uint32_t al = ch == 4 ? p[3] : 255;
			a[0] += (uint64_t)p[0] * al;
			a[1] += (uint64_t)p[1] * al;
			a[2] += (uint64_t)p[2] * al;
			a[3] += al;
		}
	}
}

/* Turn the sums over nrows source rows into output row t->orow. */
static void img_th_emit(struct img_th *t, uint32_t nrows)
{
	int ch = t->r.alpha ? 4 : 3;
	for (uint32_t ox = 0; ox < t->tw; ox++) {
		uint32_t x0 = t->xb[ox], x1 = t->xb[ox + 1];
		const uint64_t *a = t->acc + (size_t)ox * 4;
		uint8_t *o = t->orow + (size_t)ox * ch;
		uint64_t n = (uint64_t)(x1 > x0 ? x1 - x0 : 1) * nrows;
		for (int c = 0; c < 3; c++)
			o[c] = a[3] ? (uint8_t)((a[c] + a[3] / 2) / a[3]) : 0;
		if (ch == 4)
			o[3] = (uint8_t)((a[3] + n / 2) / n);
	}
}

/* Body (source reader's guard): read the rows needed, write thumb rows. */
static sc_result img_th_rows(void *ctx)
{
	struct img_th *t = ctx;
	sc_result rc = img_read_setup(&t->r, t->r.alpha, 0);
	if (rc)
		return rc;
	for (uint32_t oy = 0; oy < t->th; oy++) {
		uint32_t y0 = (uint32_t)((uint64_t)oy * t->sh / t->th);
		uint32_t y1 = (uint32_t)((uint64_t)(oy + 1) * t->sh / t->th);
		if (y1 <= y0)
			y1 = y0 + 1; /* scaling up: reuse the row read last */
		memset(t->acc, 0, (size_t)t->tw * 4 * sizeof(*t->acc));
		for (uint32_t y = y0; y < y1; y++) {
			for (; t->have <= y; t->have++)
				png_read_row(t->r.png, t->row, NULL);
			img_th_add_row(t);
		}
		img_th_emit(t, y1 - y0);
		png_write_row(t->wr.png, t->orow);
	}
	return SC_OK; /* the rest of the source is never decoded */
}

/* Body (writer's guard): header, rows, end. */
static sc_result img_th_body(void *ctx)
{
	struct img_th *t = ctx;
	img_write_header(&t->wr, t->tw, t->th, t->r.alpha, IMG_THUMB_ZLEVEL);
	sc_result rc = img_guard(t->r.png, &t->r.io, img_th_rows, t);
	if (!rc)
		png_write_end(t->wr.png, NULL);
	return rc;
}

static sc_result img_thumb(const void *png, size_t len, FILE *in,
			   uint32_t ow, uint32_t oh, FILE *out)
{
	struct img_th t = {0};
	sc_result rc;
	if (!out || !ow || !oh || ow > IMG_MAX_WIDTH || oh > IMG_MAX_WIDTH)
		return SC_ERR_INVALID;
	if ((rc = img_reader_start(&t.r, png, len, in)))
		goto out;
	img_th_size(&t, ow, oh);
	t.xb = sc_xmalloc(((size_t)t.tw + 1) * sizeof(*t.xb));
	for (uint32_t i = 0; i <= t.tw; i++)
		t.xb[i] = (uint32_t)((uint64_t)i * t.r.w / t.tw);
	t.acc = sc_xmalloc((size_t)t.tw * 4 * sizeof(*t.acc));
	t.row = sc_xmalloc((size_t)t.r.w * 4);
	t.orow = sc_xmalloc((size_t)t.tw * 4);
	if ((rc = img_writer_open(&t.wr, out)))
		goto out;
	rc = img_guard(t.wr.png, &t.wr.io, img_th_body, &t);
	if (!rc)
		rc = img_finish_file(out);
out:
	img_reader_close(&t.r);
	img_writer_close(&t.wr);
	free(t.xb);
	free(t.acc);
	free(t.row);
	free(t.orow);
	return rc;
}

sc_result img_thumbnail(const void *png, size_t len, uint32_t out_w,
			uint32_t out_h, FILE *out)
{
	return img_thumb(png, len, NULL, out_w, out_h, out);
}

sc_result img_thumbnail_file(const char *src_path, uint32_t out_w,
			     uint32_t out_h, FILE *out)
{
	FILE *in = NULL;
	sc_result rc = img_fopen(src_path, &in);
	if (rc)
		return rc;
	rc = img_thumb(NULL, 0, in, out_w, out_h, out);
	int e = errno;
	fclose(in);
	errno = e;
	return rc;
}

/* ---- diff ---- */

sc_result img_diff(const struct img_rgba *a, const struct img_rgba *b,
		   uint64_t *differing, uint64_t *total)
{
	if (!a || !b || !differing || !total ||
	    (!a->px && a->w && a->h) || (!b->px && b->w && b->h))
		return SC_ERR_INVALID;
	uint32_t ow = a->w < b->w ? a->w : b->w;
	uint32_t oh = a->h < b->h ? a->h : b->h;
	uint64_t cw = a->w > b->w ? a->w : b->w;
	uint64_t chh = a->h > b->h ? a->h : b->h;
	uint64_t same = 0;
	for (uint32_t y = 0; y < oh; y++) {
		const uint8_t *pa = a->px + (size_t)y * a->w * 4;
		const uint8_t *pb = b->px + (size_t)y * b->w * 4;
		for (uint32_t x = 0; x < ow; x++)
			same += !memcmp(pa + (size_t)x * 4, pb + (size_t)x * 4,
					4);
	}
	*total = cw * chh;
	*differing = *total - same;
	return SC_OK;
}
