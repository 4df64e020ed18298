/*
 * test_img.c — PNG decode, stitch, thumbnail and diff (orchestrator/img/img.c).
 * PNGs are encoded here with libpng (pngenc.h) from known pixel functions, so every
 * result can be checked pixel by pixel; the tall stitch is checked row by
 * row while streaming, with a bound on memory growth.
 */
#include "img.h"
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pngenc.h"
#include "testhelp.h"
#include "test_files.h"

/* ---- pixel patterns ---- */

/* An RGB(A) 8-bit image from a function of (x, y). */
typedef void (*pixel_fn)(const struct enc *e, uint32_t x, uint32_t y,
			 uint8_t rgba[4]);

static void row_from_pixels(const struct enc *e, uint32_t y, uint8_t *buf)
{
	pixel_fn px = (pixel_fn)(uintptr_t)e->ctx;
	int ch = e->ct == PNG_COLOR_TYPE_RGBA ? 4 : 3;
	for (uint32_t x = 0; x < e->w; x++) {
		uint8_t c[4];
		px(e, x, y, c);
		memcpy(buf + (size_t)x * ch, c, (size_t)ch);
	}
}

static unsigned char *enc_pixels(uint32_t w, uint32_t h, int alpha,
				 pixel_fn px, size_t *len)
{
	struct enc e = {.w = w, .h = h, .depth = 8,
			.ct = alpha ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
			.row = row_from_pixels, .ctx = (const void *)(uintptr_t)px};
	return enc_png(&e, len);
}

static void px_gradient(const struct enc *e, uint32_t x, uint32_t y,
			uint8_t c[4])
{
	(void)e;
	c[0] = (uint8_t)(x * 30);
	c[1] = (uint8_t)(y * 40);
	c[2] = (uint8_t)(x + y);
	c[3] = (uint8_t)(255 - x * 10 - y);
}

/* Expected colour of row y of the stitched test image: tiles colour by
 * their index (in w), rows by their global index. */
static void stitch_colour(uint32_t tile, uint32_t gy, uint8_t c[4])
{
	c[0] = (uint8_t)gy;
	c[1] = (uint8_t)(gy >> 8);
	c[2] = (uint8_t)(60 * tile + 10);
	c[3] = 255;
}

struct tile_ctx {
	uint32_t index, y0;
	int alpha_val; /* -1: opaque */
};

static void row_tile(const struct enc *e, uint32_t y, uint8_t *buf)
{
	const struct tile_ctx *t = e->ctx;
	int ch = e->ct == PNG_COLOR_TYPE_RGBA ? 4 : 3;
	uint8_t c[4];
	stitch_colour(t->index, t->y0 + y, c);
	if (t->alpha_val >= 0)
		c[3] = (uint8_t)t->alpha_val;
	for (uint32_t x = 0; x < e->w; x++)
		memcpy(buf + (size_t)x * ch, c, (size_t)ch);
}

static unsigned char *enc_tile(uint32_t w, uint32_t h, struct tile_ctx *t,
			       size_t *len)
{
	struct enc e = {.w = w, .h = h, .depth = 8, .row = row_tile, .ctx = t,
			.ct = t->alpha_val >= 0 ? PNG_COLOR_TYPE_RGBA
						: PNG_COLOR_TYPE_RGB};
	return enc_png(&e, len);
}

/* Color type byte of a PNG's IHDR. */
static int png_color_type(const unsigned char *png)
{
	return png[25];
}

/* ---- decode ---- */

TEST(decode_rgb_rgba)
{
	for (int alpha = 0; alpha <= 1; alpha++) {
		size_t len;
		unsigned char *png = enc_pixels(7, 5, alpha, px_gradient, &len);
		struct img_rgba img;
		REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
		CHECK_EQ_INT(img.w, 7);
		CHECK_EQ_INT(img.h, 5);
		int bad = 0;
		for (uint32_t y = 0; y < 5; y++)
			for (uint32_t x = 0; x < 7; x++) {
				uint8_t c[4];
				px_gradient(NULL, x, y, c);
				if (!alpha)
					c[3] = 255;
				bad += memcmp(img.px + (y * 7 + x) * 4, c, 4) != 0;
			}
		CHECK_EQ_INT(bad, 0);
		img_rgba_free(&img);
		CHECK(img.px == NULL && img.w == 0);
		free(png);
	}
	img_rgba_free(NULL);
}

static void row_gray1(const struct enc *e, uint32_t y, uint8_t *buf)
{
	memset(buf, 0, (e->w + 7) / 8);
	for (uint32_t x = 0; x < e->w; x++)
		if ((x + y) % 2)
			buf[x / 8] |= (uint8_t)(0x80 >> (x % 8));
}

static void row_ga16(const struct enc *e, uint32_t y, uint8_t *buf)
{
	for (uint32_t x = 0; x < e->w; x++) {
		uint16_t g = (uint16_t)((x * 20 + y) * 257), a = (uint16_t)(y * 50 * 257);
		uint8_t *p = buf + x * 4;
		p[0] = (uint8_t)(g >> 8), p[1] = (uint8_t)g;
		p[2] = (uint8_t)(a >> 8), p[3] = (uint8_t)a;
	}
}

static void row_pal4(const struct enc *e, uint32_t y, uint8_t *buf)
{
	memset(buf, 0, (e->w + 1) / 2);
	for (uint32_t x = 0; x < e->w; x++)
		buf[x / 2] |= (uint8_t)(((x + y) % 3) << (x % 2 ? 0 : 4));
}

static void row_rgb16(const struct enc *e, uint32_t y, uint8_t *buf)
{
	for (uint32_t x = 0; x < e->w; x++)
		for (int c = 0; c < 3; c++) {
			uint16_t v = (uint16_t)((x * 10 + y * 3 + (uint32_t)c) * 257);
			buf[x * 6 + c * 2] = (uint8_t)(v >> 8);
			buf[x * 6 + c * 2 + 1] = (uint8_t)v;
		}
}

static const uint8_t *pix(const struct img_rgba *img, uint32_t x, uint32_t y)
{
	return img->px + ((size_t)y * img->w + x) * 4;
}

static int pix_is(const struct img_rgba *img, uint32_t x, uint32_t y,
		  int r, int g, int b, int a)
{
	const uint8_t *p = pix(img, x, y);
	return p[0] == r && p[1] == g && p[2] == b && p[3] == a;
}

/* Every color type and bit depth libpng can give us comes out as RGBA8. */
TEST(decode_formats)
{
	struct img_rgba img;
	size_t len;
	unsigned char *png;
	int bad;

	struct enc g1 = {.w = 11, .h = 3, .ct = PNG_COLOR_TYPE_GRAY,
			 .depth = 1, .row = row_gray1};
	png = enc_png(&g1, &len);
	REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
	bad = 0;
	for (uint32_t y = 0; y < 3; y++)
		for (uint32_t x = 0; x < 11; x++) {
			int v = (x + y) % 2 ? 255 : 0;
			bad += !pix_is(&img, x, y, v, v, v, 255);
		}
	CHECK_EQ_INT(bad, 0);
	img_rgba_free(&img);
	free(png);

	struct enc ga = {.w = 5, .h = 4, .ct = PNG_COLOR_TYPE_GRAY_ALPHA,
			 .depth = 16, .row = row_ga16};
	png = enc_png(&ga, &len);
	REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
	bad = 0;
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 5; x++) {
			int gv = (int)(x * 20 + y);
			bad += !pix_is(&img, x, y, gv, gv, gv, (int)y * 50);
		}
	CHECK_EQ_INT(bad, 0);
	img_rgba_free(&img);
	free(png);

	static const png_color plte[3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
	static const png_byte trns[3] = {255, 128, 0};
	struct enc pal = {.w = 9, .h = 4, .ct = PNG_COLOR_TYPE_PALETTE,
			  .depth = 4, .row = row_pal4, .plte = plte, .nplte = 3,
			  .trns = trns, .ntrns = 3};
	png = enc_png(&pal, &len);
	REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
	bad = 0;
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 9; x++) {
			int i = (int)((x + y) % 3);
			bad += !pix_is(&img, x, y, plte[i].red, plte[i].green,
				       plte[i].blue, trns[i]);
		}
	CHECK_EQ_INT(bad, 0);
	img_rgba_free(&img);
	free(png);

	/* RGB 16-bit with a tRNS colour, interlaced */
	png_color_16 tc = {.red = 10 * 257, .green = 11 * 257, .blue = 12 * 257};
	struct enc r16 = {.w = 13, .h = 11, .ct = PNG_COLOR_TYPE_RGB,
			  .depth = 16, .row = row_rgb16, .interlace = 1,
			  .trans_color = &tc};
	png = enc_png(&r16, &len);
	REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
	bad = 0;
	for (uint32_t y = 0; y < 11; y++)
		for (uint32_t x = 0; x < 13; x++) {
			int v = (int)(x * 10 + y * 3);
			int a = v == 10 ? 0 : 255; /* x=1, y=0 is the tRNS colour */
			bad += !pix_is(&img, x, y, v, v + 1, v + 2, a);
		}
	CHECK_EQ_INT(bad, 0);
	CHECK(pix_is(&img, 1, 0, 10, 11, 12, 0));
	img_rgba_free(&img);
	free(png);
}

TEST(decode_file)
{
	size_t len;
	unsigned char *png = enc_pixels(7, 5, 1, px_gradient, &len);
	char path[] = "/tmp/test_img.XXXXXX";
	int fd = mkstemp(path);
	REQUIRE(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	REQUIRE(fp);
	fwrite(png, 1, len, fp);
	fclose(fp);
	struct img_rgba a, b;
	REQUIRE(img_decode_file(path, &a) == SC_OK);
	REQUIRE(img_decode_mem(png, len, &b) == SC_OK);
	CHECK(a.w == b.w && a.h == b.h && !memcmp(a.px, b.px, 7 * 5 * 4));
	img_rgba_free(&a);
	img_rgba_free(&b);
	/* truncated file */
	CHECK(truncate(path, (off_t)len - 10) == 0);
	CHECK_EQ_INT(img_decode_file(path, &a), SC_ERR_INVALID);
	CHECK(a.px == NULL);
	unlink(path);
	CHECK_EQ_INT(img_decode_file(path, &a), SC_ERR_NOT_FOUND);
	errno = 0;
	CHECK_EQ_INT(img_decode_file("/", &a), SC_ERR_IO); /* read: EISDIR */
	CHECK_EQ_INT(errno, EISDIR);
	free(png);
}

TEST(info)
{
	size_t len;
	unsigned char *png = enc_pixels(7, 5, 0, px_gradient, &len);
	uint32_t w = 0, h = 0;
	CHECK_EQ_INT(img_info_mem(png, len, &w, &h), SC_OK);
	CHECK_EQ_INT(w, 7);
	CHECK_EQ_INT(h, 5);
	CHECK_EQ_INT(img_info_mem(png, 23, &w, &h), SC_ERR_INVALID);
	CHECK_EQ_INT(img_info_mem("GIF89a..........................", 32, &w,
				  &h), SC_ERR_INVALID);
	CHECK_EQ_INT(img_info_mem(NULL, 0, &w, &h), SC_ERR_INVALID);
	/* a header claiming a huge image is still just a header */
	struct enc big = {.w = 1280, .h = 200000, .ct = PNG_COLOR_TYPE_RGB,
			  .depth = 8, .header_only = 1};
	unsigned char *hdr = enc_png(&big, &len);
	CHECK_EQ_INT(img_info_mem(hdr, len, &w, &h), SC_OK);
	CHECK_EQ_INT(w, 1280);
	CHECK_EQ_INT(h, 200000);
	free(hdr);
	free(png);
}

/* Decompression bombs are refused before allocation. */
TEST(too_large)
{
	size_t len;
	struct enc bomb = {.w = 40000, .h = 40000, .ct = PNG_COLOR_TYPE_RGBA,
			   .depth = 8, .header_only = 1};
	unsigned char *hdr = enc_png(&bomb, &len);
	struct img_rgba img;
	CHECK_EQ_INT(img_decode_mem(hdr, len, &img), SC_ERR_TOO_LARGE);
	CHECK(img.px == NULL);
	free(hdr);
	struct enc wide = {.w = IMG_MAX_WIDTH + 1, .h = 1,
			   .ct = PNG_COLOR_TYPE_RGB, .depth = 8, .header_only = 1};
	hdr = enc_png(&wide, &len);
	FILE *out = tmpfile();
	REQUIRE(out);
	CHECK_EQ_INT(img_thumbnail(hdr, len, 400, 250, out), SC_ERR_TOO_LARGE);
	struct img_tile t = {hdr, len};
	CHECK_EQ_INT(img_stitch(&t, 1, 1, 1, out), SC_ERR_TOO_LARGE);
	CHECK_EQ_INT(img_decode_mem(hdr, len, &img), SC_ERR_TOO_LARGE);
	fclose(out);
	free(hdr);
}

/* Truncated and corrupted input: errors, never crashes or leaks. */
TEST(corrupt)
{
	size_t len;
	unsigned char *png = enc_pixels(16, 12, 0, px_gradient, &len);
	unsigned char *copy = sc_xmalloc(len);
	struct img_rgba img;
	FILE *out = tmpfile();
	REQUIRE(out);
	int ok = 0;
	for (size_t n = 0; n < len; n++)
		ok += img_decode_mem(png, n, &img) == SC_OK;
	CHECK_EQ_INT(ok, 0); /* every strict prefix fails */
	/* thumbnails and stitches of a prefix cut inside the pixel data */
	size_t cut = len / 2;
	CHECK(img_thumbnail(png, cut, 16, 12, out) != SC_OK);
	struct img_tile tiles[2] = {{png, len}, {png, cut}};
	CHECK(img_stitch(tiles, 2, 24, 1, out) != SC_OK);
	/* flip each byte in turn: anything but a crash (CRCs catch most) */
	int errors = 0;
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, png, len);
		copy[i] ^= 0x5a;
		sc_result rc = img_decode_mem(copy, len, &img);
		errors += rc != SC_OK;
		img_rgba_free(&img);
		rewind(out);
		errors += img_thumbnail(copy, len, 8, 6, out) != SC_OK;
	}
	CHECK(errors > (int)len); /* most corruptions are detected */
	CHECK_EQ_INT(img_decode_mem(NULL, 0, &img), SC_ERR_INVALID);
	CHECK_EQ_INT(img_decode_mem(png, len, NULL), SC_ERR_INVALID);
	fclose(out);
	free(copy);
	free(png);
}

/* ---- stitch ---- */

/* Tiles of heights hs[], the given width; tile i opaque unless alpha[i].
 * mem[i] is tile i's PNG (t[i].png only reads it): free_tiles frees it. */
static void make_tiles(uint32_t w, const uint32_t *hs, const int *alpha,
		       size_t n, struct img_tile *t, unsigned char **mem)
{
	uint32_t y0 = 0;
	for (size_t i = 0; i < n; i++) {
		struct tile_ctx c = {.index = (uint32_t)i, .y0 = y0,
				     .alpha_val = alpha ? alpha[i] : -1};
		t[i].png = mem[i] = enc_tile(w, hs[i], &c, &t[i].len);
		y0 += hs[i];
	}
}

static void free_tiles(unsigned char **mem, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(mem[i]);
}

/* Check every pixel of a decoded stitch against stitch_colour. */
static int check_stitched(const struct img_rgba *img, const uint32_t *hs,
			  const int *alpha)
{
	int bad = 0;
	uint32_t tile = 0, end = hs[0];
	for (uint32_t y = 0; y < img->h; y++) {
		while (y >= end)
			end += hs[++tile];
		uint8_t c[4];
		stitch_colour(tile, y, c);
		if (alpha && alpha[tile] >= 0)
			c[3] = (uint8_t)alpha[tile];
		for (uint32_t x = 0; x < img->w; x++)
			bad += memcmp(pix(img, x, y), c, 4) != 0;
	}
	return bad;
}

TEST(stitch_three_crop)
{
	const uint32_t hs[3] = {30, 50, 20};
	struct img_tile t[3];
	unsigned char *mem[3];
	make_tiles(40, hs, NULL, 3, t, mem);
	FILE *out = tmpfile();
	REQUIRE(out);
	CHECK_EQ_INT(img_stitch(t, 3, 30 + 50 + 7, 1, out), SC_OK);
	size_t len;
	unsigned char *png = tf_slurp_fp(out, &len);
	struct img_rgba img;
	REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
	CHECK_EQ_INT(img.w, 40);
	CHECK_EQ_INT(img.h, 87);
	CHECK_EQ_INT(check_stitched(&img, hs, NULL), 0);
	CHECK_EQ_INT(png_color_type(png), PNG_COLOR_TYPE_RGB);
	img_rgba_free(&img);
	free(png);

	/* crop 0: everything; other zlib levels give the same pixels */
	for (int z = -1; z <= 9; z += 5) {
		FILE *o2 = tmpfile();
		REQUIRE(o2);
		CHECK_EQ_INT(img_stitch(t, 3, 0, z, o2), SC_OK);
		png = tf_slurp_fp(o2, &len);
		REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
		CHECK_EQ_INT(img.h, 100);
		CHECK_EQ_INT(check_stitched(&img, hs, NULL), 0);
		img_rgba_free(&img);
		free(png);
		fclose(o2);
	}
	fclose(out);
	free_tiles(mem, 3);
}

TEST(stitch_alpha)
{
	const uint32_t hs[3] = {10, 12, 9};
	const int alpha[3] = {-1, 128, -1};
	struct img_tile t[3];
	unsigned char *mem[3];
	make_tiles(17, hs, alpha, 3, t, mem);
	FILE *out = tmpfile();
	REQUIRE(out);
	CHECK_EQ_INT(img_stitch(t, 3, 31, 1, out), SC_OK);
	size_t len;
	unsigned char *png = tf_slurp_fp(out, &len);
	struct img_rgba img;
	REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
	CHECK_EQ_INT(png_color_type(png), PNG_COLOR_TYPE_RGBA);
	CHECK_EQ_INT(check_stitched(&img, hs, alpha), 0);
	img_rgba_free(&img);
	free(png);
	/* cropped before the RGBA tile: it is not used, output stays RGB */
	rewind(out);
	CHECK(ftruncate(fileno(out), 0) == 0);
	CHECK_EQ_INT(img_stitch(t, 3, 10, 1, out), SC_OK);
	png = tf_slurp_fp(out, &len);
	CHECK_EQ_INT(png_color_type(png), PNG_COLOR_TYPE_RGB);
	free(png);
	fclose(out);
	free_tiles(mem, 3);
}

TEST(stitch_errors)
{
	const uint32_t hs[2] = {10, 10};
	struct img_tile t[3];
	unsigned char *mem[3];
	make_tiles(20, hs, NULL, 2, t, mem);
	struct tile_ctx c = {.index = 2, .alpha_val = -1};
	t[2].png = mem[2] = enc_tile(21, 10, &c, &t[2].len); /* wrong width */
	FILE *out = tmpfile();
	REQUIRE(out);
	CHECK_EQ_INT(img_stitch(t, 3, 0, 1, out), SC_ERR_INVALID);
	CHECK_EQ_INT(img_stitch(t, 3, 25, 1, out), SC_ERR_INVALID);
	CHECK_EQ_INT(img_stitch(t, 2, 21, 1, out), SC_ERR_INVALID); /* short */
	CHECK_EQ_INT(img_stitch(t, 0, 10, 1, out), SC_ERR_INVALID);
	CHECK_EQ_INT(img_stitch(t, 2, 10, 10, out), SC_ERR_INVALID);
	CHECK_EQ_INT(img_stitch(t, 2, 10, 1, NULL), SC_ERR_INVALID);
	/* a tile after the crop is never looked at */
	CHECK_EQ_INT(img_stitch(t, 3, 20, 1, out), SC_OK);
	struct img_tile junk[2] = {t[0], {"not a png", 9}};
	CHECK_EQ_INT(img_stitch(junk, 2, 10, 1, out), SC_OK);
	CHECK_EQ_INT(img_stitch(junk, 2, 11, 1, out), SC_ERR_INVALID);
	/* interlaced tiles cannot be streamed */
	struct enc il = {.w = 20, .h = 10, .ct = PNG_COLOR_TYPE_RGB, .depth = 8,
			 .interlace = 1, .row = row_from_pixels,
			 .ctx = (const void *)(uintptr_t)px_gradient};
	struct img_tile it = {0};
	unsigned char *ipng = enc_png(&il, &it.len);
	it.png = ipng;
	CHECK_EQ_INT(img_stitch(&it, 1, 0, 1, out), SC_ERR_INVALID);
	free(ipng);
	fclose(out);
	/* a full disk comes back as SC_ERR_IO with errno ENOSPC */
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		errno = 0;
		CHECK_EQ_INT(img_stitch(t, 2, 0, 1, full), SC_ERR_IO);
		CHECK_EQ_INT(errno, ENOSPC);
		fclose(full);
	}
	free_tiles(mem, 3);
}

/* The way output.c writes a stitched PNG: into a store file. A failing
 * write (EFBIG from RLIMIT_FSIZE, as ENOSPC would) surfaces as SC_ERR_IO
 * with its errno, and abort leaves nothing behind. */
TEST(stitch_into_store)
{
	const uint32_t hs[2] = {30, 40};
	struct img_tile t[2];
	unsigned char *mem[2];
	make_tiles(64, hs, NULL, 2, t, mem);
	char dir[] = "/tmp/test_img_store.XXXXXX";
	REQUIRE(mkdtemp(dir));
	char *path = sc_xasprintf("%s/page.png", dir);
	struct store_file *f = NULL;
	REQUIRE(store_open(path, &f, NULL, 0) == SC_OK);
	CHECK_EQ_INT(img_stitch(t, 2, 0, 1, store_fp(f)), SC_OK);
	CHECK_EQ_INT(store_commit(&f, NULL, 0), SC_OK);
	struct img_rgba img;
	REQUIRE(img_decode_file(path, &img) == SC_OK);
	CHECK_EQ_INT(img.h, 70);
	CHECK_EQ_INT(check_stitched(&img, hs, NULL), 0);
	img_rgba_free(&img);
	uint64_t size = store_file_size(path);
	REQUIRE(size > 64);
	REQUIRE(unlink(path) == 0);

	struct rlimit old, lim;
	REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = size / 2;
	REQUIRE(store_open(path, &f, NULL, 0) == SC_OK);
	REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	errno = 0;
	sc_result rc = img_stitch(t, 2, 0, 1, store_fp(f));
	int e = errno;
	store_abort(&f);
	int e2 = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK_EQ_INT(rc, SC_ERR_IO);
	CHECK_EQ_INT(e, EFBIG);
	CHECK_EQ_INT(e2, EFBIG); /* store_abort keeps errno */
	CHECK(rmdir(dir) == 0);  /* empty: no temp file left */
	free(path);
	free_tiles(mem, 2);
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Streaming check of a stitched PNG in fp: every pixel of row y must be
 * stitch_colour(tile of y, y). Returns the number of bad rows, -1 on error. */
static long check_stream(FILE *fp, uint32_t w, uint32_t h, uint32_t tile_h)
{
	png_structp png;
	png_infop info;
	testpng_read_open(fp, &png, &info);
	long bad = -1;
	if (png_get_image_width(png, info) != w ||
	    png_get_image_height(png, info) != h ||
	    png_get_color_type(png, info) != PNG_COLOR_TYPE_RGB)
		goto out;
	bad = 0;
	uint8_t *row = sc_xmalloc((size_t)w * 3), c[4];
	for (uint32_t y = 0; y < h; y++) {
		png_read_row(png, row, NULL);
		stitch_colour(y / tile_h, y, c);
		int ok = 1;
		for (uint32_t x = 0; x < w; x++)
			ok &= !memcmp(row + (size_t)x * 3, c, 3);
		bad += !ok;
	}
	free(row);
out:
	png_destroy_read_struct(&png, &info, NULL);
	return bad;
}

/* 1280 x 70000 from five tiles: memory stays flat, every row is right, and
 * a thumbnail of the result reads only its top. */
TEST(stitch_tall)
{
	enum { W = 1280, TH = 16384, H = 70000, N = 5 };
	uint32_t hs[N] = {TH, TH, TH, TH, TH};
	struct img_tile t[N];
	unsigned char *mem[N];
	make_tiles(W, hs, NULL, N, t, mem);
	FILE *out = tmpfile();
	REQUIRE(out);
	long before = maxrss_kb();
	int64_t t0 = sc_now_ms();
	CHECK_EQ_INT(img_stitch(t, N, H, 1, out), SC_OK);
	int64_t ms = sc_now_ms() - t0;
	long grew = maxrss_kb() - before;
	fprintf(stderr, "   stitch 1280x70000: %lld ms, %ld KB file, maxrss +%ld KB\n",
		(long long)ms, (long)(ftell(out) / 1024), grew);
	CHECK(grew < 100 * 1024);
	CHECK_EQ_INT(check_stream(out, W, H, TH), 0);

	/* thumbnail straight from the file: the top 800 rows, 400 x 250 */
	FILE *th = tmpfile();
	REQUIRE(th);
	fflush(out);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(out));
	t0 = sc_now_ms();
	CHECK_EQ_INT(img_thumbnail_file(path, 400, 250, th), SC_OK);
	fprintf(stderr, "   thumbnail of it: %lld ms\n",
		(long long)(sc_now_ms() - t0));
	size_t len;
	unsigned char *png = tf_slurp_fp(th, &len);
	struct img_rgba img;
	REQUIRE(img_decode_mem(png, len, &img) == SC_OK);
	CHECK_EQ_INT(img.w, 400);
	CHECK_EQ_INT(img.h, 250);
	/* 800 rows into 250: thumb row 0 averages source rows 0..2 (r = 1),
	 * row 249 rows 796..799 (r = 28..31 -> 29.5 -> 30, g = 796 >> 8) */
	CHECK(pix_is(&img, 0, 0, 1, 0, 10, 255));
	CHECK(pix_is(&img, 399, 249, 30, 3, 10, 255));
	img_rgba_free(&img);
	free(png);
	fclose(th);
	fclose(out);
	free_tiles(mem, N);
}

/* ---- thumbnails ---- */

static void px_red_top(const struct enc *e, uint32_t x, uint32_t y,
		       uint8_t c[4])
{
	(void)e;
	(void)x;
	int red = y < 800;
	c[0] = red ? 255 : 0, c[1] = 0, c[2] = red ? 0 : 255, c[3] = 255;
}

/* Decode the thumbnail written to fp. */
static sc_result thumb_of(const unsigned char *src, size_t len, uint32_t ow,
			  uint32_t oh, struct img_rgba *img, int *ct)
{
	FILE *fp = tmpfile();
	if (!fp)
		return SC_ERR_IO;
	sc_result rc = img_thumbnail(src, len, ow, oh, fp);
	if (!rc) {
		size_t n;
		unsigned char *png = tf_slurp_fp(fp, &n);
		*ct = png_color_type(png);
		rc = img_decode_mem(png, n, img);
		free(png);
	}
	fclose(fp);
	return rc;
}

TEST(thumbnail_red_top)
{
	size_t len;
	unsigned char *png = enc_pixels(1280, 5000, 0, px_red_top, &len);
	struct img_rgba img;
	int ct = -1;
	REQUIRE(thumb_of(png, len, 400, 250, &img, &ct) == SC_OK);
	CHECK_EQ_INT(img.w, 400);
	CHECK_EQ_INT(img.h, 250);
	CHECK_EQ_INT(ct, PNG_COLOR_TYPE_RGB);
	int bad = 0;
	for (uint32_t y = 0; y < img.h; y++)
		for (uint32_t x = 0; x < img.w; x++)
			bad += !pix_is(&img, x, y, 255, 0, 0, 255);
	CHECK_EQ_INT(bad, 0);
	img_rgba_free(&img);
	/* a taller crop sees the blue: 200 x 250 covers 1600 source rows */
	REQUIRE(thumb_of(png, len, 200, 250, &img, &ct) == SC_OK);
	CHECK(pix_is(&img, 0, 124, 255, 0, 0, 255));
	CHECK(pix_is(&img, 0, 125, 0, 0, 255, 255));
	img_rgba_free(&img);
	free(png);
}

static void px_halves(const struct enc *e, uint32_t x, uint32_t y,
		      uint8_t c[4])
{
	(void)y;
	uint8_t v = x < e->w / 2 ? 255 : 0;
	c[0] = c[1] = c[2] = v, c[3] = 255;
}

/* A page shorter than the crop gives a shorter thumbnail. */
TEST(thumbnail_short)
{
	size_t len;
	unsigned char *png = enc_pixels(1280, 100, 0, px_halves, &len);
	struct img_rgba img;
	int ct;
	REQUIRE(thumb_of(png, len, 400, 250, &img, &ct) == SC_OK);
	CHECK_EQ_INT(img.w, 400);
	CHECK_EQ_INT(img.h, 31); /* 100 * 400 / 1280 = 31.25 */
	int bad = 0;
	for (uint32_t y = 0; y < img.h; y++)
		for (uint32_t x = 0; x < img.w; x++) {
			int v = x < 200 ? 255 : 0;
			bad += !pix_is(&img, x, y, v, v, v, 255);
		}
	CHECK_EQ_INT(bad, 0);
	img_rgba_free(&img);
	free(png);
	/* one source row still makes a thumbnail of one row */
	png = enc_pixels(1280, 1, 0, px_halves, &len);
	REQUIRE(thumb_of(png, len, 400, 250, &img, &ct) == SC_OK);
	CHECK_EQ_INT(img.h, 1);
	img_rgba_free(&img);
	free(png);
}

static void px_checker(const struct enc *e, uint32_t x, uint32_t y,
		       uint8_t c[4])
{
	(void)e;
	uint8_t v = (x + y) % 2 ? 255 : 0;
	c[0] = c[1] = c[2] = v, c[3] = 255;
}

static void px_red_clear(const struct enc *e, uint32_t x, uint32_t y,
			 uint8_t c[4])
{
	(void)e;
	(void)y;
	/* opaque red, then fully transparent blue */
	c[0] = x ? 0 : 255, c[1] = 0, c[2] = x ? 255 : 0, c[3] = x ? 0 : 255;
}

/* Box filter averages; alpha weights colour; small sources scale up. */
TEST(thumbnail_filter)
{
	size_t len;
	struct img_rgba img;
	int ct;
	unsigned char *png = enc_pixels(4, 4, 0, px_checker, &len);
	REQUIRE(thumb_of(png, len, 2, 2, &img, &ct) == SC_OK);
	CHECK(pix_is(&img, 0, 0, 128, 128, 128, 255));
	CHECK(pix_is(&img, 1, 1, 128, 128, 128, 255));
	img_rgba_free(&img);
	/* 4x4 -> 8x8: each source pixel becomes a 2x2 block */
	REQUIRE(thumb_of(png, len, 8, 8, &img, &ct) == SC_OK);
	CHECK_EQ_INT(img.w, 8);
	CHECK_EQ_INT(img.h, 8);
	int bad = 0;
	for (uint32_t y = 0; y < 8; y++)
		for (uint32_t x = 0; x < 8; x++) {
			int v = (x / 2 + y / 2) % 2 ? 255 : 0;
			bad += !pix_is(&img, x, y, v, v, v, 255);
		}
	CHECK_EQ_INT(bad, 0);
	img_rgba_free(&img);
	free(png);

	png = enc_pixels(2, 1, 1, px_red_clear, &len);
	REQUIRE(thumb_of(png, len, 1, 1, &img, &ct) == SC_OK);
	CHECK_EQ_INT(ct, PNG_COLOR_TYPE_RGBA);
	CHECK(pix_is(&img, 0, 0, 255, 0, 0, 128));
	img_rgba_free(&img);

	FILE *out = tmpfile();
	REQUIRE(out);
	CHECK_EQ_INT(img_thumbnail(png, len, 0, 250, out), SC_ERR_INVALID);
	CHECK_EQ_INT(img_thumbnail(png, len, 400, 0, out), SC_ERR_INVALID);
	CHECK_EQ_INT(img_thumbnail(png, len, 400, 250, NULL), SC_ERR_INVALID);
	CHECK_EQ_INT(img_thumbnail_file("/nonexistent.png", 400, 250, out),
		     SC_ERR_NOT_FOUND);
	fclose(out);
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		errno = 0;
		CHECK_EQ_INT(img_thumbnail(png, len, 1, 1, full), SC_ERR_IO);
		CHECK_EQ_INT(errno, ENOSPC);
		fclose(full);
	}
	free(png);
}

/* ---- diff ---- */

TEST(diff)
{
	size_t len;
	unsigned char *png = enc_pixels(4, 4, 1, px_gradient, &len);
	struct img_rgba a, b;
	REQUIRE(img_decode_mem(png, len, &a) == SC_OK);
	REQUIRE(img_decode_mem(png, len, &b) == SC_OK);
	uint64_t d = 99, t = 0;
	CHECK_EQ_INT(img_diff(&a, &b, &d, &t), SC_OK);
	CHECK_EQ_INT(d, 0);
	CHECK_EQ_INT(t, 16);
	b.px[0] ^= 1;            /* pixel (0,0), red */
	b.px[(2 * 4 + 3) * 4 + 3] ^= 0x80; /* pixel (3,2), alpha only */
	CHECK_EQ_INT(img_diff(&a, &b, &d, &t), SC_OK);
	CHECK_EQ_INT(d, 2);
	img_rgba_free(&b);
	free(png);
	/* 4x4 vs 3x5 of the same pattern: canvas 4x5 = 20, overlap 3x4 = 12
	 * equal, the other 8 differ */
	png = enc_pixels(3, 5, 1, px_gradient, &len);
	REQUIRE(img_decode_mem(png, len, &b) == SC_OK);
	CHECK_EQ_INT(img_diff(&a, &b, &d, &t), SC_OK);
	CHECK_EQ_INT(t, 20);
	CHECK_EQ_INT(d, 8);
	CHECK_EQ_INT(img_diff(&b, &a, &d, &t), SC_OK);
	CHECK_EQ_INT(d, 8);
	struct img_rgba empty = {0};
	CHECK_EQ_INT(img_diff(&a, &empty, &d, &t), SC_OK);
	CHECK_EQ_INT(d, 16);
	CHECK_EQ_INT(t, 16);
	CHECK_EQ_INT(img_diff(&a, NULL, &d, &t), SC_ERR_INVALID);
	img_rgba_free(&a);
	img_rgba_free(&b);
	free(png);
}

int main(void)
{
	/* the corrupt-input tests make libpng errors, logged at warn */
	sc_log_set_level(getenv("TEST_VERBOSE") ? SC_LOG_DEBUG : SC_LOG_ERROR);
	RUN(stitch_tall); /* first: maxrss is a high-water mark */
	RUN(decode_rgb_rgba);
	RUN(decode_formats);
	RUN(decode_file);
	RUN(info);
	RUN(too_large);
	RUN(corrupt);
	RUN(stitch_three_crop);
	RUN(stitch_alpha);
	RUN(stitch_errors);
	RUN(stitch_into_store);
	RUN(thumbnail_red_top);
	RUN(thumbnail_short);
	RUN(thumbnail_filter);
	RUN(diff);
	return test_report();
}
