/*
 * test_imgjoin.c — PNG tiles joined at the compression level
 * (orchestrator/img/imgjoin.c). Tiles are encoded here with libpng
 * (pngenc.h) with their row filters forced; every join is checked pixel for
 * pixel against the tiles decoded one under the other (img_decode_mem, which
 * reads to IEND and so checks the joined zlib stream and its Adler-32), and
 * the way it was made (joined as is, first rows re-encoded, or stitched) is
 * checked against what the tiles allow.
 */
#include "imgjoin.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "pngenc.h"
#include "testhelp.h"
#include "test_files.h"

#define MAXT 8

/* ---- tiles ---- */

/* How the tiles of a test are encoded. */
struct spec {
	uint32_t w;
	int ct, depth;  /* 0: RGB 8 */
	int filter;     /* png_set_filter mask; 0: None */
	int zlevel;     /* 0: 1 */
	int zstore;     /* stored blocks only */
	size_t zbuf;    /* IDAT size; 0: libpng's */
};

struct tiles {
	size_t n;
	struct img_tile t[MAXT];
	unsigned char *mem[MAXT];
};

static uint32_t mix(uint32_t a, uint32_t b)
{
	uint32_t h = a * 2654435761u ^ (b + 0x9e3779b9u + (a << 6) + (a >> 2));
	h ^= h >> 15;
	h *= 2246822519u;
	return h ^ (h >> 13);
}

/* Row gy of the whole image, byte i of its raw row: bands of noise (stored
 * or literal blocks), flat colour and gradients (long matches), and a
 * different value in each tile (so tiles in the wrong order show). */
static uint8_t pat_byte(uint32_t gy, size_t i, uint32_t tile)
{
	switch ((gy / 13) % 4) {
	case 0:
		return (uint8_t)mix(gy, (uint32_t)i);
	case 1:
		return (uint8_t)(gy / 13 * 7 + tile * 50);
	default:
		return (uint8_t)(i * 3 + gy + tile);
	}
}

struct pat_ctx {
	uint32_t y0, tile;
	size_t rowbytes;
};

static void row_pat(const struct enc *e, uint32_t y, uint8_t *buf)
{
	const struct pat_ctx *c = e->ctx;
	for (size_t i = 0; i < c->rowbytes; i++)
		buf[i] = pat_byte(c->y0 + y, i, c->tile);
}

static size_t spec_rowbytes(const struct spec *s)
{
	int ch = s->ct == PNG_COLOR_TYPE_RGB ? 3 : s->ct == PNG_COLOR_TYPE_RGBA
		 ? 4 : s->ct == PNG_COLOR_TYPE_GA ? 2 : 1;
	int depth = s->depth ? s->depth : 8;
	return ((size_t)s->w * (size_t)ch * (size_t)depth + 7) / 8;
}

static png_color plte256[256];

/* Encode tiles of heights hs[0..n) with s. */
static void make(const struct spec *s, const uint32_t *hs, size_t n,
		 struct tiles *ts)
{
	uint32_t y0 = 0;
	memset(ts, 0, sizeof(*ts));
	for (int i = 0; i < 256; i++)
		plte256[i] = (png_color){(png_byte)i, (png_byte)(255 - i),
					 (png_byte)(i * 7)};
	ts->n = n;
	for (size_t i = 0; i < n; i++) {
		struct pat_ctx c = {.y0 = y0, .tile = (uint32_t)i,
				    .rowbytes = spec_rowbytes(s)};
		struct enc e = {.w = s->w, .h = hs[i], .ct = s->ct,
				.depth = s->depth ? s->depth : 8,
				.zlevel = s->zlevel, .zstore = s->zstore,
				.filter = s->filter, .zbuf = s->zbuf,
				.row = row_pat, .ctx = &c};
		if (s->ct == PNG_COLOR_TYPE_PALETTE) {
			e.plte = plte256;
			e.nplte = 1 << e.depth;
		}
		ts->t[i].png = ts->mem[i] = enc_png(&e, &ts->t[i].len);
		y0 += hs[i];
	}
}

static void unmake(struct tiles *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->mem[i]);
	memset(ts, 0, sizeof(*ts));
}

/* The first filter byte of a PNG's pixel data (inflated), or -1. */
static int first_filter(const unsigned char *png, size_t len)
{
	unsigned char zs[65536], out[1];
	size_t nz = 0;
	for (size_t off = 8; off + 12 <= len && nz < sizeof(zs);) {
		uint32_t n = (uint32_t)png[off] << 24 | (uint32_t)png[off + 1] << 16 |
			     (uint32_t)png[off + 2] << 8 | png[off + 3];
		if (!memcmp(png + off + 4, "IDAT", 4)) {
			size_t k = n < sizeof(zs) - nz ? n : sizeof(zs) - nz;
			memcpy(zs + nz, png + off + 8, k);
			nz += k;
		}
		off += 12 + (size_t)n;
	}
	z_stream z = {0};
	if (inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = zs;
	z.avail_in = (uInt)nz;
	z.next_out = out;
	z.avail_out = 1;
	int r = inflate(&z, Z_NO_FLUSH);
	inflateEnd(&z);
	return (r == Z_OK || r == Z_STREAM_END) && !z.avail_out ? out[0] : -1;
}

/* Tiles after the first whose first row reads the row above. */
static size_t count_refilter(const struct tiles *ts, size_t n)
{
	size_t k = 0;
	for (size_t i = 1; i < n; i++)
		k += first_filter(ts->mem[i], ts->t[i].len) > 1;
	return k;
}

/* ---- checks ---- */

/* The first n tiles decoded and stacked (RGBA8), cut to crop rows (the
 * tiles past crop are not decoded). */
static int reference(const struct tiles *ts, size_t n, uint32_t crop,
		     struct img_rgba *ref)
{
	struct img_rgba d[MAXT];
	uint64_t h = 0;
	size_t k = 0;
	memset(ref, 0, sizeof(*ref));
	for (size_t i = 0; i < n && (!crop || h < crop); i++) {
		if (img_decode_mem(ts->t[i].png, ts->t[i].len, &d[i]))
			return -1;
		h += d[i].h;
		k = i + 1;
	}
	ref->w = d[0].w;
	ref->h = crop ? crop : (uint32_t)h;
	ref->px = sc_xcalloc((size_t)ref->w * ref->h, 4);
	size_t off = 0, all = (size_t)ref->w * ref->h * 4;
	for (size_t i = 0; i < k; i++) {
		size_t sz = (size_t)d[i].w * d[i].h * 4;
		if (sz > all - off)
			sz = all - off;
		memcpy(ref->px + off, d[i].px, sz);
		off += sz;
		img_rgba_free(&d[i]);
	}
	return 0;
}

/* Join the first n tiles (crop rows) and compare with the reference:
 * 0 if the pixels are the same, and *info says how it was done. */
static int join_check(const struct tiles *ts, size_t n, uint32_t crop,
		      int zlevel, struct imgjoin_info *info)
{
	FILE *out = tmpfile();
	struct img_rgba got = {0}, ref = {0};
	size_t len = 0;
	unsigned char *png = NULL;
	int bad = -1;
	if (!out)
		return -1;
	sc_result rc = imgjoin_write(ts->t, n, crop, zlevel, out, info);
	if (rc) {
		fprintf(stderr, "   imgjoin_write: %s (%s)\n", sc_strerror(rc),
			info->why);
		goto out;
	}
	png = tf_slurp_fp(out, &len);
	if (img_decode_mem(png, len, &got) || reference(ts, n, crop, &ref))
		goto out;
	bad = got.w != ref.w || got.h != ref.h ||
	      memcmp(got.px, ref.px, (size_t)got.w * got.h * 4);
	if (bad)
		fprintf(stderr, "   %ux%u, expected %ux%u\n", got.w, got.h,
			ref.w, ref.h);
out:
	img_rgba_free(&got);
	img_rgba_free(&ref);
	free(png);
	fclose(out);
	return bad;
}

/* ---- joins as they are: first rows None or Sub ---- */

TEST(join_none_sub)
{
	static const uint32_t hs[3] = {40, 57, 23};
	static const int filters[2] = {PNG_FILTER_NONE, PNG_FILTER_SUB};
	/* zlib levels 1, 6, 9 and 0 (stored blocks: byte alignment), IDATs
	 * of libpng's size and of 100 bytes */
	static const struct {
		int zlevel, zstore;
		size_t zbuf;
	} zs[5] = {{1, 0, 0}, {6, 0, 0}, {9, 0, 100}, {1, 1, 0}, {1, 0, 100}};
	for (int f = 0; f < 2; f++)
		for (int z = 0; z < 5; z++) {
			struct spec s = {.w = 97, .ct = PNG_COLOR_TYPE_RGB,
					 .filter = filters[f],
					 .zlevel = zs[z].zlevel,
					 .zstore = zs[z].zstore, .zbuf = zs[z].zbuf};
			struct tiles ts;
			struct imgjoin_info info;
			make(&s, hs, 3, &ts);
			CHECK_EQ_INT(join_check(&ts, 3, 0, 1, &info), 0);
			CHECK_EQ_INT(info.stitched, 0);
			CHECK_EQ_INT(info.tiles, 3);
			CHECK_EQ_INT(info.refiltered, 0);
			CHECK_EQ_INT(info.reencoded, 0);
			unmake(&ts);
		}
}

/* Colour types and depths: gray 1-bit, gray+alpha, RGBA, RGB 16-bit,
 * palette (same PLTE in every tile). */
TEST(join_formats)
{
	static const uint32_t hs[4] = {9, 30, 1, 17};
	static const struct {
		int ct, depth;
	} f[5] = {{PNG_COLOR_TYPE_GRAY, 1}, {PNG_COLOR_TYPE_GA, 8},
		  {PNG_COLOR_TYPE_RGBA, 8}, {PNG_COLOR_TYPE_RGB, 16},
		  {PNG_COLOR_TYPE_PALETTE, 8}};
	for (int i = 0; i < 5; i++)
		for (int filt = 0; filt < 2; filt++) {
			struct spec s = {.w = 33, .ct = f[i].ct,
					 .depth = f[i].depth,
					 .filter = filt ? PNG_FILTER_SUB : 0};
			struct tiles ts;
			struct imgjoin_info info;
			make(&s, hs, 4, &ts);
			CHECK_EQ_INT(join_check(&ts, 4, 0, 1, &info), 0);
			CHECK_EQ_INT(info.stitched, 0);
			CHECK_EQ_INT(info.refiltered, 0);
			unmake(&ts);
		}
}

/* ---- first rows that read the row above: re-encoded, the rest copied ---- */

TEST(join_refilter)
{
	/* tall enough tiles for a copied part (a row is 3 * 700 + 1 bytes:
	 * 32 KiB past the first row is ~17 rows), short ones re-encoded
	 * whole, a one-row tile */
	static const uint32_t hs[5] = {300, 400, 5, 1, 260};
	static const int filters[4] = {PNG_FILTER_UP, PNG_FILTER_AVG,
				       PNG_FILTER_PAETH, PNG_ALL_FILTERS};
	static const struct {
		int zlevel, zstore;
		size_t zbuf;
	} zs[4] = {{1, 0, 0}, {9, 0, 777}, {1, 1, 0}, {3, 0, 0}};
	for (int f = 0; f < 4; f++)
		for (int z = 0; z < 4; z++)
			for (int out_z = 1; out_z <= 6; out_z += 5) {
				struct spec s = {.w = 700, .ct = PNG_COLOR_TYPE_RGB,
						 .filter = filters[f],
						 .zlevel = zs[z].zlevel,
						 .zstore = zs[z].zstore,
						 .zbuf = zs[z].zbuf};
				struct tiles ts;
				struct imgjoin_info info;
				make(&s, hs, 5, &ts);
				size_t want = count_refilter(&ts, 5);
				CHECK_EQ_INT(join_check(&ts, 5, 0, out_z, &info), 0);
				CHECK_EQ_INT(info.stitched, 0);
				CHECK_EQ_INT(info.refiltered, want);
				if (f == 0) /* Up: every tile starts with it
					     but the one-row tile (libpng) */
					CHECK_EQ_INT(want, 3);
				/* the tall tiles are not re-encoded whole */
				CHECK(info.reencoded <
				      (uint64_t)(hs[1] + hs[2] + hs[3] + hs[4]) * 2101);
				unmake(&ts);
			}
}

/* Chromium's case, in small: RGBA, Up everywhere, IDATs of 4096 bytes. */
TEST(join_chromium_like)
{
	static const uint32_t hs[3] = {500, 500, 123};
	struct spec s = {.w = 640, .ct = PNG_COLOR_TYPE_RGBA,
			 .filter = PNG_FILTER_UP, .zbuf = 4096};
	struct tiles ts;
	struct imgjoin_info info;
	make(&s, hs, 3, &ts);
	CHECK_EQ_INT(join_check(&ts, 3, 0, 1, &info), 0);
	CHECK_EQ_INT(info.stitched, 0);
	CHECK_EQ_INT(info.refiltered, 2);
	/* the first row, 32 KiB and the rest of a deflate block of each: a
	 * small part of the 623 rows of the two tiles */
	fprintf(stderr, "   re-encoded %llu of %llu bytes\n",
		(unsigned long long)info.reencoded,
		(unsigned long long)(623ull * 2561));
	CHECK(info.reencoded >= 2 * (2561 + 32768));
	CHECK(info.reencoded < 623ull * 2561 / 4);
	unmake(&ts);
}

/* ---- crop and fallbacks ---- */

TEST(join_crop)
{
	static const uint32_t hs[3] = {20, 30, 40};
	struct spec s = {.w = 50, .ct = PNG_COLOR_TYPE_RGB,
			 .filter = PNG_FILTER_UP};
	struct tiles ts;
	struct imgjoin_info info;
	make(&s, hs, 3, &ts);
	/* at a tile's end: joined, the tiles after it never looked at */
	free(ts.mem[2]);
	ts.t[2].png = ts.mem[2] = (unsigned char *)sc_xstrdup("not a png");
	ts.t[2].len = 9;
	CHECK_EQ_INT(join_check(&ts, 3, 50, 1, &info), 0);
	CHECK_EQ_INT(info.stitched, 0);
	CHECK_EQ_INT(info.tiles, 2);
	CHECK_EQ_INT(join_check(&ts, 3, 20, 1, &info), 0);
	CHECK_EQ_INT(info.tiles, 1);
	/* inside a tile: stitched, cropped */
	CHECK_EQ_INT(join_check(&ts, 3, 37, 1, &info), 0);
	CHECK_EQ_INT(info.stitched, 1);
	CHECK(strstr(info.why, "37 rows") != NULL);
	unmake(&ts);
}

/* Tiles that cannot be joined go to img_stitch: its result or its error. */
TEST(join_fallbacks)
{
	static const uint32_t hs[2] = {10, 12};
	struct spec rgb = {.w = 21, .ct = PNG_COLOR_TYPE_RGB};
	struct spec rgba = {.w = 21, .ct = PNG_COLOR_TYPE_RGBA};
	struct spec wide = {.w = 22, .ct = PNG_COLOR_TYPE_RGB};
	struct tiles a, b, c;
	struct imgjoin_info info;
	make(&rgb, hs, 2, &a);
	make(&rgba, hs, 2, &b);
	make(&wide, hs, 2, &c);
	FILE *out = tmpfile();
	REQUIRE(out);
	/* RGB over RGBA: stitched to RGBA, pixels right */
	struct tiles mixed = a;
	mixed.t[1] = b.t[1];
	CHECK_EQ_INT(join_check(&mixed, 2, 0, 1, &info), 0);
	CHECK_EQ_INT(info.stitched, 1);
	CHECK(strstr(info.why, "colour type") != NULL);
	/* another width: img_stitch refuses it */
	mixed.t[1] = c.t[1];
	CHECK_EQ_INT(imgjoin_write(mixed.t, 2, 0, 1, out, &info), SC_ERR_INVALID);
	CHECK_EQ_INT(info.stitched, 1);
	/* interlaced: not joined, and img_stitch refuses it */
	struct enc il = {.w = 21, .h = 10, .ct = PNG_COLOR_TYPE_RGB, .depth = 8,
			 .interlace = 1, .row = row_pat,
			 .ctx = &(struct pat_ctx){.rowbytes = 63}};
	struct img_tile it[2] = {{0}, {0}};
	unsigned char *ipng = enc_png(&il, &it[0].len);
	it[0].png = it[1].png = ipng;
	it[1].len = it[0].len;
	CHECK_EQ_INT(imgjoin_write(it, 2, 0, 1, out, &info), SC_ERR_INVALID);
	CHECK_EQ_INT(info.stitched, 1);
	/* bad arguments */
	CHECK_EQ_INT(imgjoin_write(a.t, 0, 0, 1, out, &info), SC_ERR_INVALID);
	CHECK_EQ_INT(imgjoin_write(NULL, 2, 0, 1, out, &info), SC_ERR_INVALID);
	CHECK_EQ_INT(imgjoin_write(a.t, 2, 0, 10, out, &info), SC_ERR_INVALID);
	CHECK_EQ_INT(imgjoin_write(a.t, 2, 0, 1, NULL, &info), SC_ERR_INVALID);
	CHECK_EQ_INT(imgjoin_write(a.t, 2, 0, 1, out, NULL), SC_OK);
	/* a full disk: SC_ERR_IO, errno ENOSPC */
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		errno = 0;
		CHECK_EQ_INT(imgjoin_write(a.t, 2, 0, 1, full, &info), SC_ERR_IO);
		CHECK_EQ_INT(errno, ENOSPC);
		CHECK_EQ_INT(info.stitched, 0);
		fclose(full);
	}
	free(ipng);
	fclose(out);
	unmake(&a);
	unmake(&b);
	unmake(&c);
}

/* Every byte of a tile changed in turn: an error, or a PNG whose pixels are
 * those img_stitch makes of the same tiles (libpng skips what a broken
 * ancillary chunk or checksum it does not read can hold). Never a crash
 * and never a joined PNG with other pixels. */
TEST(join_corrupt)
{
	static const uint32_t hs[2] = {30, 25};
	struct spec s = {.w = 40, .ct = PNG_COLOR_TYPE_RGB,
			 .filter = PNG_FILTER_UP, .zbuf = 300};
	struct tiles ts;
	make(&s, hs, 2, &ts);
	size_t len = ts.t[1].len, joined = 0, stitched = 0, errors = 0;
	unsigned char *copy = sc_xmalloc(len);
	for (size_t i = 0; i < len; i++)
		for (int flip = 1; flip <= 0x80; flip <<= 7) {
			memcpy(copy, ts.mem[1], len);
			copy[i] ^= (unsigned char)flip;
			struct img_tile t[2] = {ts.t[0], {copy, len}};
			FILE *out = tmpfile(), *st = tmpfile();
			REQUIRE(out && st);
			struct imgjoin_info info;
			sc_result rc = imgjoin_write(t, 2, 0, 1, out, &info);
			sc_result rs = img_stitch(t, 2, 0, 1, st);
			if (rc) {
				errors++;
				CHECK(info.stitched); /* only img_stitch fails */
				CHECK(rs != SC_OK);
			} else {
				size_t n1, n2;
				unsigned char *p1 = tf_slurp_fp(out, &n1),
					      *p2 = tf_slurp_fp(st, &n2);
				struct img_rgba a = {0}, b = {0};
				CHECK_EQ_INT(img_decode_mem(p1, n1, &a), SC_OK);
				CHECK_EQ_INT(img_decode_mem(p2, n2, &b), SC_OK);
				CHECK(a.w == b.w && a.h == b.h &&
				      !memcmp(a.px, b.px, (size_t)a.w * a.h * 4));
				joined += !info.stitched;
				stitched += info.stitched;
				img_rgba_free(&a);
				img_rgba_free(&b);
				free(p1);
				free(p2);
			}
			fclose(out);
			fclose(st);
		}
	fprintf(stderr, "   %zu changes: %zu errors, %zu joined, %zu stitched\n",
		2 * len, errors, joined, stitched);
	CHECK(errors > len); /* most are caught (CRCs) */
	/* cut short anywhere: not joined (img_stitch, which reads no further
	 * than the last row, may take one cut in its last checksums) */
	for (size_t cut = 0; cut < len; cut += 7) {
		struct img_tile t[2] = {ts.t[0], {ts.mem[1], cut}};
		FILE *out = tmpfile();
		REQUIRE(out);
		struct imgjoin_info info;
		sc_result rc = imgjoin_write(t, 2, 0, 1, out, &info);
		CHECK(rc != SC_OK || info.stitched); /* never joined */
		fclose(out);
	}
	free(copy);
	unmake(&ts);
}

/* ---- a tall page: 1280 x 100,000 from 4 tiles, memory flat ---- */

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Rows of the tall image: flat per row, a band of noise every 1000 rows. */
static void tall_row(uint32_t gy, uint32_t tile, uint8_t *buf, size_t n)
{
	if (gy % 1000 < 4) {
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)mix(gy, (uint32_t)i);
		return;
	}
	for (size_t i = 0; i < n; i += 3) {
		buf[i] = (uint8_t)gy;
		buf[i + 1] = (uint8_t)(gy >> 8);
		buf[i + 2] = (uint8_t)(40 * tile + (i >= n / 2));
	}
}

static void row_tall(const struct enc *e, uint32_t y, uint8_t *buf)
{
	const struct pat_ctx *c = e->ctx;
	tall_row(c->y0 + y, c->tile, buf, c->rowbytes);
}

/* Read the PNG in fp row by row: the rows that differ from tall_row. */
static long tall_bad_rows(FILE *fp, uint32_t w, uint32_t h, uint32_t th)
{
	png_structp png;
	png_infop info;
	testpng_read_open(fp, &png, &info);
	long bad = -1;
	if (png_get_image_width(png, info) == w &&
	    png_get_image_height(png, info) == h) {
		uint8_t *row = sc_xmalloc((size_t)w * 3);
		uint8_t *want = sc_xmalloc((size_t)w * 3);
		bad = 0;
		for (uint32_t y = 0; y < h; y++) {
			png_read_row(png, row, NULL);
			tall_row(y, y / th, want, (size_t)w * 3);
			bad += memcmp(row, want, (size_t)w * 3) != 0;
		}
		png_read_end(png, NULL); /* the Adler-32 and IEND */
		free(row);
		free(want);
	}
	png_destroy_read_struct(&png, &info, NULL);
	return bad;
}

TEST(join_tall)
{
	/* 1280 x 100,000 (a tenth under valgrind: 166 s there otherwise) */
	enum { W = 1280, N = 4 };
	const uint32_t TH = test_under_valgrind() ? 2500 : 25000, H = N * TH;
	struct tiles ts = {.n = N};
	for (uint32_t i = 0; i < N; i++) {
		struct pat_ctx c = {.y0 = i * TH, .tile = i, .rowbytes = W * 3};
		struct enc e = {.w = W, .h = TH, .ct = PNG_COLOR_TYPE_RGB,
				.depth = 8, .filter = PNG_FILTER_UP,
				.zbuf = 4096, .row = row_tall, .ctx = &c};
		ts.t[i].png = ts.mem[i] = enc_png(&e, &ts.t[i].len);
	}
	FILE *out = tmpfile();
	REQUIRE(out);
	struct imgjoin_info info;
	long before = maxrss_kb();
	int64_t t0 = sc_now_ms();
	CHECK_EQ_INT(imgjoin_write(ts.t, N, H, 1, out, &info), SC_OK);
	int64_t ms = sc_now_ms() - t0;
	long grew = maxrss_kb() - before;
	fprintf(stderr, "   join 1280x%u (%zu KB of tiles): %lld ms, %ld KB "
		"file, %llu bytes re-encoded, maxrss +%ld KB\n", (unsigned)H,
		(ts.t[0].len + ts.t[1].len + ts.t[2].len + ts.t[3].len) / 1024,
		(long long)ms, (long)(ftell(out) / 1024),
		(unsigned long long)info.reencoded, grew);
	CHECK_EQ_INT(info.stitched, 0);
	CHECK_EQ_INT(info.refiltered, 3);
	CHECK(grew < 16 * 1024); /* the pixels are 384 MB */
	CHECK_EQ_INT(tall_bad_rows(out, W, H, TH), 0);
	fclose(out);
	unmake(&ts);
}

int main(void)
{
	/* the fallbacks and corrupt tiles log at info and warn */
	sc_log_set_level(getenv("TEST_VERBOSE") ? SC_LOG_DEBUG : SC_LOG_ERROR);
	RUN(join_tall); /* first: maxrss is a high-water mark */
	RUN(join_none_sub);
	RUN(join_formats);
	RUN(join_refilter);
	RUN(join_chromium_like);
	RUN(join_crop);
	RUN(join_fallbacks);
	RUN(join_corrupt);
	return test_report();
}
