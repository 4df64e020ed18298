/*
 * test_imgdiff.c — streaming visual diff of two PNG files
 * (orchestrator/img/imgdiff.c).
 *
 * Test pictures are a page-like pattern (pic_pixel) with changes painted
 * over it (a `chg` function adds to the red channel), written to files with
 * libpng in any format (rows written by testpng.h). Counts and boxes are checked exactly, against
 * numbers worked out by hand and, for random changes, against a reference
 * that decodes both images whole (img_decode_file) and flood-fills the
 * changed cells. The tall test bounds memory growth with getrusage.
 */
#include "imgdiff.h"
#include "img.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "testhelp.h"
#include "testpng.h"

/* ---- test pictures ---- */

enum fmt { FMT_RGB8, FMT_RGBA8, FMT_RGB16, FMT_GRAY8 };

struct rect {
	uint32_t x, y, w, h;
	int delta;
};

struct pic {
	uint32_t w, h;
	enum fmt fmt;
	int interlace;
	int gray;        /* the base pattern in gray (R = G = B) */
	int alpha;       /* the base pattern with varied alpha */
	int header_only; /* IHDR and one row of data, no end (bombs) */
	/* change at (x, y): added to the red channel; NULL: none */
	int (*chg)(const struct pic *p, uint32_t x, uint32_t y);
	const struct rect *rects; /* for chg_rects */
	int nrect;
	uint32_t seed;            /* for the random pictures */
};

/* The page: every channel stays in 40..210, so deltas of +-40 fit; runs
 * of 4 px, so that it compresses like a page, fast. */
static void pic_pixel(const struct pic *p, uint32_t x, uint32_t y,
		      uint8_t c[4])
{
	c[0] = (uint8_t)(40 + (x / 4 * 3 + y) % 160);
	c[1] = (uint8_t)(60 + (y / 7) % 150);
	c[2] = (uint8_t)(200 - x / 4 % 100);
	c[3] = 255;
	if (p->gray)
		c[1] = c[2] = c[0];
	if (p->alpha)
		c[3] = (uint8_t)(x * 4 + y * 3);
	if (p->chg)
		c[0] = (uint8_t)(c[0] + p->chg(p, x, y));
}

static int chg_rects(const struct pic *p, uint32_t x, uint32_t y)
{
	int d = 0;
	for (int i = 0; i < p->nrect; i++) {
		const struct rect *r = &p->rects[i];
		if (x >= r->x && x - r->x < r->w && y >= r->y && y - r->y < r->h)
			d = r->delta;
	}
	return d;
}

/* Row y of the picture at ctx (a struct pic) in the PNG's format. */
static void pic_row(const void *ctx, uint32_t y, uint8_t *buf)
{
	const struct pic *p = ctx;
	for (uint32_t x = 0; x < p->w; x++) {
		uint8_t c[4];
		pic_pixel(p, x, y, c);
		switch (p->fmt) {
		case FMT_RGB8:
			memcpy(buf + (size_t)x * 3, c, 3);
			break;
		case FMT_RGBA8:
			memcpy(buf + (size_t)x * 4, c, 4);
			break;
		case FMT_RGB16:
			for (int i = 0; i < 6; i++)
				buf[(size_t)x * 6 + (size_t)i] = c[i / 2];
			break;
		case FMT_GRAY8:
			buf[x] = c[0];
			break;
		}
	}
}

static const int fmt_ct[] = {PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA,
			     PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_GRAY};

/* Write p to path as a PNG, streaming. */
static void pic_write(const struct pic *p, const char *path)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		abort();
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
						  testpng_error, NULL);
	png_infop info = png_create_info_struct(png);
	png_init_io(png, fp);
	png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	png_set_IHDR(png, info, p->w, p->h, p->fmt == FMT_RGB16 ? 16 : 8,
		     fmt_ct[p->fmt],
		     p->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* fast: rows differ little from the row above */
	png_set_compression_level(png, 1);
	png_set_compression_strategy(png, Z_RLE);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
	png_write_info(png, info);
	testpng_rows(png, info, p->h, p->header_only, pic_row, p);
	png_destroy_write_struct(&png, &info);
	fclose(fp);
}

/* ---- files ---- */

static char tdir[] = "/tmp/test_imgdiff.XXXXXX";
static char old_png[64], new_png[64], diff_png[64];

/* Write a and b to old_png and new_png and diff them. */
static sc_result diff_pics(const struct pic *a, const struct pic *b,
			   const struct imgdiff_opts *o, FILE *out,
			   struct imgdiff_result *r)
{
	pic_write(a, old_png);
	pic_write(b, new_png);
	return imgdiff_files(old_png, new_png, o, out, r);
}

static struct imgdiff_opts opts(int tolerance, uint32_t cell)
{
	struct imgdiff_opts o = IMGDIFF_OPTS_INIT;
	o.tolerance = tolerance;
	o.cell = cell;
	return o;
}

static int box_is(const struct imgdiff_box *b, uint32_t x, uint32_t y,
		  uint32_t w, uint32_t h, uint64_t changed)
{
	if (b->x == x && b->y == y && b->w == w && b->h == h &&
	    b->changed == changed)
		return 1;
	fprintf(stderr, "   box {%u,%u %ux%u %llu}, expected {%u,%u %ux%u %llu}\n",
		b->x, b->y, b->w, b->h, (unsigned long long)b->changed, x, y, w,
		h, (unsigned long long)changed);
	return 0;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* valgrind preloads its core into the client */
static int under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");
	return p && strstr(p, "vgpreload");
}

/* ---- counts and boxes ---- */

TEST(identical)
{
	struct pic a = {.w = 1280, .h = 2000};
	struct imgdiff_result r;
	REQUIRE(diff_pics(&a, &a, NULL, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 0);
	CHECK(r.ratio == 0.0);
	CHECK_EQ_INT(r.nboxes, 0);
	CHECK_EQ_INT(r.nregions, 0);
	CHECK_EQ_INT(r.boxes_truncated, 0);
	CHECK_EQ_INT(r.total, 1280 * 2000);
	CHECK(r.w == 1280 && r.h == 2000 && r.old_w == 1280 &&
	      r.old_h == 2000 && r.new_w == 1280 && r.new_h == 2000);
	/* the same pixels in other formats are no change either */
	struct pic c = {.w = 300, .h = 200}, d = c;
	d.fmt = FMT_RGBA8;
	CHECK_EQ_INT(diff_pics(&c, &d, NULL, NULL, &r), SC_OK);
	CHECK_EQ_INT(r.changed, 0);
	d.fmt = FMT_RGB16;
	CHECK_EQ_INT(diff_pics(&c, &d, NULL, NULL, &r), SC_OK);
	CHECK_EQ_INT(r.changed, 0);
	c.gray = d.gray = 1;
	d.fmt = FMT_GRAY8;
	CHECK_EQ_INT(diff_pics(&c, &d, NULL, NULL, &r), SC_OK);
	CHECK_EQ_INT(r.changed, 0);
	CHECK_EQ_INT(r.total, 300 * 200);
}

/* 100 x 40 at (200, 300): the box is exact, not rounded to the cells. */
TEST(one_rect)
{
	static const struct rect rc[1] = {{200, 300, 100, 40, 50}};
	struct pic a = {.w = 1280, .h = 2000};
	struct pic b = a;
	b.chg = chg_rects, b.rects = rc, b.nrect = 1;
	struct imgdiff_result r;
	pic_write(&a, old_png);
	pic_write(&b, new_png);
	for (uint32_t cell = 1; cell <= 64; cell *= 4) {
		struct imgdiff_opts o = opts(0, cell);
		REQUIRE(imgdiff_files(old_png, new_png, &o, NULL, &r) == SC_OK);
		CHECK_EQ_INT(r.changed, 4000);
		CHECK(r.ratio == 4000.0 / (1280.0 * 2000.0));
		CHECK_EQ_INT(r.nboxes, 1);
		CHECK_EQ_INT(r.nregions, 1);
		CHECK(box_is(&r.boxes[0], 200, 300, 100, 40, 4000));
	}
	/* in the other direction, the same */
	REQUIRE(imgdiff_files(new_png, old_png, NULL, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 4000);
	CHECK(box_is(&r.boxes[0], 200, 300, 100, 40, 4000));
}

/* Two changes far apart: two boxes, the larger first. */
TEST(two_rects)
{
	static const struct rect rc[2] = {{10, 10, 50, 50, 20},
					  {600, 1500, 200, 100, -30}};
	struct pic a = {.w = 1280, .h = 2000};
	struct pic b = a;
	b.chg = chg_rects, b.rects = rc, b.nrect = 2;
	struct imgdiff_result r;
	REQUIRE(diff_pics(&a, &b, NULL, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 2500 + 20000);
	REQUIRE(r.nboxes == 2);
	CHECK(box_is(&r.boxes[0], 600, 1500, 200, 100, 20000));
	CHECK(box_is(&r.boxes[1], 10, 10, 50, 50, 2500));
}

/* Cells join when they touch, diagonals too; one empty cell between
 * keeps regions apart. */
TEST(joining)
{
	/* cells (0,0) and (1,1) of 32 px: one region */
	static const struct rect diag[2] = {{5, 5, 1, 1, 9}, {40, 40, 2, 1, 9}};
	/* cells 0 and 2 of a row: two */
	static const struct rect apart[2] = {{5, 5, 1, 1, 9}, {70, 6, 1, 1, 9}};
	/* a U: two bars labelled apart, joined by the bottom row later */
	static const struct rect u[3] = {{0, 0, 3, 100, 9},
					 {200, 0, 3, 100, 9},
					 {0, 150, 203, 2, 9}};
	struct pic a = {.w = 256, .h = 256};
	struct pic b = a;
	struct imgdiff_result r;
	struct imgdiff_opts o = opts(0, 32);
	b.chg = chg_rects, b.rects = diag, b.nrect = 2;
	REQUIRE(diff_pics(&a, &b, &o, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.nboxes, 1);
	CHECK(box_is(&r.boxes[0], 5, 5, 37, 36, 3));
	b.rects = apart;
	REQUIRE(diff_pics(&a, &b, &o, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.nboxes, 2);
	CHECK(box_is(&r.boxes[0], 5, 5, 1, 1, 1));
	CHECK(box_is(&r.boxes[1], 70, 6, 1, 1, 1));
	b.rects = u, b.nrect = 3;
	REQUIRE(diff_pics(&a, &b, &o, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.nboxes, 1);
	CHECK(box_is(&r.boxes[0], 0, 0, 203, 152, 300 + 300 + 406));
	/* with 8 px cells the bars are 50 px (six cells) above the bottom
	 * bar: three regions */
	o.cell = 8;
	REQUIRE(diff_pics(&a, &b, &o, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.nboxes, 3);
	CHECK(box_is(&r.boxes[0], 0, 150, 203, 2, 406));
}

/* The new page is taller, then wider: the extra canvas is all changed. */
TEST(sizes)
{
	struct pic a = {.w = 1280, .h = 1000};
	struct pic b = {.w = 1280, .h = 1500};
	struct imgdiff_result r;
	REQUIRE(diff_pics(&a, &b, NULL, NULL, &r) == SC_OK);
	CHECK(r.w == 1280 && r.h == 1500 && r.old_h == 1000 && r.new_h == 1500);
	CHECK_EQ_INT(r.changed, 1280 * 500);
	CHECK_EQ_INT(r.total, 1280 * 1500);
	REQUIRE(r.nboxes == 1);
	CHECK(box_is(&r.boxes[0], 0, 1000, 1280, 500, 1280 * 500));
	/* shorter: the same */
	REQUIRE(imgdiff_files(new_png, old_png, NULL, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 1280 * 500);
	CHECK(box_is(&r.boxes[0], 0, 1000, 1280, 500, 1280 * 500));
	/* 1000 x 1000 vs 1280 x 1000: columns 1000..1279 */
	struct pic c = {.w = 1000, .h = 1000};
	REQUIRE(diff_pics(&c, &a, NULL, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 280 * 1000);
	CHECK(box_is(&r.boxes[0], 1000, 0, 280, 1000, 280 * 1000));
	/* 1000 x 1500 vs 1280 x 1000: an L, one region */
	struct pic d = {.w = 1000, .h = 1500};
	REQUIRE(diff_pics(&d, &a, NULL, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 1280 * 1500 - 1000 * 1000);
	CHECK_EQ_INT(r.nboxes, 1);
	CHECK(box_is(&r.boxes[0], 0, 0, 1280, 1500, 1280 * 1500 - 1000 * 1000));
	/* 1 x 1 images */
	struct pic e = {.w = 1, .h = 1};
	REQUIRE(diff_pics(&e, &e, NULL, NULL, &r) == SC_OK);
	CHECK(r.changed == 0 && r.total == 1);
}

/* +-3 on a channel: changed at tolerance 0..2, not at 3. */
TEST(tolerance)
{
	static const struct rect rc[2] = {{100, 100, 10, 10, 3},
					  {300, 100, 10, 10, -3}};
	struct pic a = {.w = 640, .h = 480};
	struct pic b = a;
	b.chg = chg_rects, b.rects = rc, b.nrect = 2;
	struct imgdiff_result r;
	for (int tol = 0; tol <= 4; tol++) {
		struct imgdiff_opts o = opts(tol, 32);
		REQUIRE(diff_pics(&a, &b, &o, NULL, &r) == SC_OK);
		CHECK_EQ_INT(r.changed, tol < 3 ? 200 : 0);
		CHECK_EQ_INT(r.nboxes, tol < 3 ? 2 : 0);
	}
	/* the tolerance does not forgive the canvas outside an image */
	struct pic c = {.w = 640, .h = 481};
	struct imgdiff_opts o = opts(255, 32);
	REQUIRE(diff_pics(&a, &c, &o, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 640);
}

/* More regions than IMGDIFF_BOXES_MAX: the largest are kept, in order. */
static int chg_lines(const struct pic *p, uint32_t x, uint32_t y)
{
	(void)p;
	/* line i (0..39): i + 1 px long at ((i % 8) * 128 + 8, (i / 8) * 128 + 8) */
	if (y % 128 != 8 || x % 128 < 8)
		return 0;
	uint32_t i = (y / 128) * 8 + x / 128;
	return i < 40 && x % 128 - 8 <= i ? 9 : 0;
}

static int chg_dots(const struct pic *p, uint32_t x, uint32_t y)
{
	(void)p;
	return x % 2 == 0 && y % 2 == 0 ? 9 : 0;
}

static int chg_checker(const struct pic *p, uint32_t x, uint32_t y)
{
	(void)p;
	return (x + y) % 2 ? 0 : 9;
}

TEST(many_regions)
{
	struct pic a = {.w = 1024, .h = 640};
	struct pic b = a;
	b.chg = chg_lines;
	struct imgdiff_result r;
	REQUIRE(diff_pics(&a, &b, NULL, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 40 * 41 / 2);
	CHECK_EQ_INT(r.nregions, 40);
	CHECK_EQ_INT(r.nboxes, IMGDIFF_BOXES_MAX);
	CHECK_EQ_INT(r.boxes_truncated, 1);
	CHECK_EQ_INT(r.dropped_changed, 8 * 9 / 2); /* lines of 1..8 px */
	CHECK(box_is(&r.boxes[0], 7 * 128 + 8, 4 * 128 + 8, 40, 1, 40));
	CHECK(box_is(&r.boxes[31], 8, 128 + 8, 9, 1, 9));
	int sorted = 1;
	for (size_t i = 1; i < r.nboxes; i++)
		sorted &= r.boxes[i].changed == 40 - i;
	CHECK(sorted);

	/* cell 1: dots two px apart are 1024 regions; ties go top-left
	 * first, so the list is the first row of dots */
	struct pic c = {.w = 64, .h = 64};
	struct pic d = c;
	d.chg = chg_dots;
	struct imgdiff_opts o = opts(0, 1);
	REQUIRE(diff_pics(&c, &d, &o, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.changed, 1024);
	CHECK_EQ_INT(r.nregions, 1024);
	CHECK_EQ_INT(r.dropped_changed, 1024 - IMGDIFF_BOXES_MAX);
	CHECK(box_is(&r.boxes[0], 0, 0, 1, 1, 1));
	CHECK(box_is(&r.boxes[31], 62, 0, 1, 1, 1));
	/* a checkerboard is one region through its diagonals */
	d.chg = chg_checker;
	REQUIRE(diff_pics(&c, &d, &o, NULL, &r) == SC_OK);
	CHECK_EQ_INT(r.nregions, 1);
	CHECK(box_is(&r.boxes[0], 0, 0, 64, 64, 2048));
}

/* ---- against a reference that decodes everything ---- */

static int chg_random(const struct pic *p, uint32_t x, uint32_t y)
{
	/* 30 rectangles 1..20 px from p->seed */
	uint32_t s = p->seed;
	for (int i = 0; i < 30; i++) {
		s = s * 1103515245u + 12345u;
		uint32_t rx = (s >> 8) % p->w;
		s = s * 1103515245u + 12345u;
		uint32_t ry = (s >> 8) % p->h;
		s = s * 1103515245u + 12345u;
		uint32_t rw = (s >> 8) % 20 + 1, rh = (s >> 16) % 20 + 1;
		int d = (int)((s >> 24) % 11) - 5;
		if (x >= rx && x - rx < rw && y >= ry && y - ry < rh)
			return d;
	}
	return 0;
}

/* The expected result, from whole images. */
struct ref {
	uint32_t w, h, gw, gh, cell;
	uint8_t *mask;   /* [w * h] */
	int32_t *label;  /* [gw * gh] -1: no change, -2: not visited */
	uint64_t changed;
	struct imgdiff_result r;
};

static int ref_differ(const struct img_rgba *a, const struct img_rgba *b,
		      uint32_t x, uint32_t y, int tol)
{
	if (x >= a->w || y >= a->h || x >= b->w || y >= b->h)
		return 1;
	const uint8_t *p = a->px + ((size_t)y * a->w + x) * 4;
	const uint8_t *q = b->px + ((size_t)y * b->w + x) * 4;
	for (int c = 0; c < 4; c++)
		if (abs(p[c] - q[c]) > tol)
			return 1;
	return 0;
}

/* Flood-fill the region of cell (cx, cy) into a box. */
static void ref_fill(struct ref *f, uint32_t cx, uint32_t cy,
		     struct imgdiff_box *box)
{
	uint32_t *stack = sc_xmalloc((size_t)f->gw * f->gh * 2 * 4), n = 0;
	uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
	f->label[cy * f->gw + cx] = 1;
	stack[n++] = cx, stack[n++] = cy;
	memset(box, 0, sizeof(*box));
	while (n) {
		cy = stack[--n], cx = stack[--n];
		for (uint32_t y = cy * f->cell; y < (cy + 1) * f->cell && y < f->h; y++)
			for (uint32_t x = cx * f->cell; x < (cx + 1) * f->cell && x < f->w; x++)
				if (f->mask[(size_t)y * f->w + x]) {
					box->changed++;
					x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
					y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
				}
		for (int dy = -1; dy <= 1; dy++)
			for (int dx = -1; dx <= 1; dx++) {
				int64_t nx = (int64_t)cx + dx, ny = (int64_t)cy + dy;
				if (nx < 0 || ny < 0 || nx >= f->gw || ny >= f->gh ||
				    f->label[ny * f->gw + nx] != -2)
					continue;
				f->label[ny * f->gw + nx] = 1;
				stack[n++] = (uint32_t)nx, stack[n++] = (uint32_t)ny;
			}
	}
	*box = (struct imgdiff_box){x0, y0, x1 - x0 + 1, y1 - y0 + 1, box->changed};
	free(stack);
}

static int ref_before(const struct imgdiff_box *a, const struct imgdiff_box *b)
{
	if (a->changed != b->changed)
		return a->changed > b->changed;
	return a->y != b->y ? a->y < b->y : a->x < b->x;
}

static int ref_cmp(const void *pa, const void *pb)
{
	return ref_before(pa, pb) ? -1 : ref_before(pb, pa) ? 1 : 0;
}

/* f->r from the decoded old_png and new_png. */
static void ref_compute(struct ref *f, int tol, uint32_t cell)
{
	struct img_rgba a, b;
	if (img_decode_file(old_png, &a) || img_decode_file(new_png, &b))
		abort();
	memset(f, 0, sizeof(*f));
	f->w = a.w > b.w ? a.w : b.w, f->h = a.h > b.h ? a.h : b.h;
	f->cell = cell;
	f->gw = (f->w + cell - 1) / cell, f->gh = (f->h + cell - 1) / cell;
	f->mask = sc_xmalloc((size_t)f->w * f->h);
	f->label = sc_xmalloc((size_t)f->gw * f->gh * sizeof(*f->label));
	for (size_t i = 0; i < (size_t)f->gw * f->gh; i++)
		f->label[i] = -1;
	for (uint32_t y = 0; y < f->h; y++)
		for (uint32_t x = 0; x < f->w; x++) {
			int d = ref_differ(&a, &b, x, y, tol);
			f->mask[(size_t)y * f->w + x] = (uint8_t)d;
			f->changed += (uint64_t)d;
			if (d)
				f->label[(y / cell) * f->gw + x / cell] = -2;
		}
	img_rgba_free(&a);
	img_rgba_free(&b);
	size_t n = 0, cap = 64;
	struct imgdiff_box *all = sc_xmalloc(cap * sizeof(*all));
	for (uint32_t cy = 0; cy < f->gh; cy++)
		for (uint32_t cx = 0; cx < f->gw; cx++)
			if (f->label[cy * f->gw + cx] == -2) {
				if (n == cap)
					all = sc_xrealloc(all, (cap *= 2) * sizeof(*all));
				ref_fill(f, cx, cy, &all[n++]);
			}
	qsort(all, n, sizeof(*all), ref_cmp);
	f->r.nregions = n;
	f->r.nboxes = n < IMGDIFF_BOXES_MAX ? n : IMGDIFF_BOXES_MAX;
	memcpy(f->r.boxes, all, f->r.nboxes * sizeof(*all));
	for (size_t i = f->r.nboxes; i < n; i++)
		f->r.dropped_changed += all[i].changed;
	free(all);
	free(f->mask);
	free(f->label);
}

/* Random changes, sizes, tolerances and cells: the same as the reference. */
TEST(reference)
{
	static const uint32_t cells[] = {1, 5, 32};
	int bad = 0, runs = 0;
	for (uint32_t seed = 1; seed <= 12; seed++) {
		struct pic a = {.w = 301 - seed % 3 * 7, .h = 257 + seed % 2 * 9};
		struct pic b = {.w = 301, .h = 257, .chg = chg_random,
				.seed = seed};
		int tol = (int)(seed % 3) * 2;
		uint32_t cell = cells[seed % 3];
		struct imgdiff_opts o = opts(tol, cell);
		struct imgdiff_result r;
		REQUIRE(diff_pics(&a, &b, &o, NULL, &r) == SC_OK);
		struct ref f;
		ref_compute(&f, tol, cell);
		int ok = r.changed == f.changed && r.nregions == f.r.nregions &&
			 r.nboxes == f.r.nboxes &&
			 r.dropped_changed == f.r.dropped_changed &&
			 !memcmp(r.boxes, f.r.boxes, r.nboxes * sizeof(r.boxes[0]));
		if (!ok)
			fprintf(stderr, "   seed %u: %llu/%llu changed, %llu/%llu regions\n",
				seed, (unsigned long long)r.changed,
				(unsigned long long)f.changed,
				(unsigned long long)r.nregions,
				(unsigned long long)f.r.nregions);
		bad += !ok;
		runs += f.r.nregions > 1;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(runs >= 10); /* the random pictures do have several regions */
}

/* ---- the diff PNG ---- */

/* What an unchanged pixel (x, y) of p looks like in the diff PNG: over
 * white, then faded to 25% over white. */
static void faded(const struct pic *p, uint32_t x, uint32_t y, uint8_t c[4])
{
	pic_pixel(p, x, y, c);
	/* in 1/1020ths: 255 * 1020 - (255 - c) * a, rounded half up */
	for (int i = 0; i < 3; i++)
		c[i] = (uint8_t)((260100 - (255 - c[i]) * c[3] + 510) / 1020);
}

static int diff_px_is(const struct img_rgba *img, uint32_t x, uint32_t y,
		      const uint8_t c[3])
{
	const uint8_t *p = img->px + ((size_t)y * img->w + x) * 4;
	return p[0] == c[0] && p[1] == c[1] && p[2] == c[2] && p[3] == 255;
}

TEST(diff_png)
{
	static const struct rect rc[1] = {{200, 300, 100, 40, 50}};
	static const uint8_t hl[3] = {IMGDIFF_HIGHLIGHT_R, IMGDIFF_HIGHLIGHT_G,
				      IMGDIFF_HIGHLIGHT_B};
	struct pic a = {.w = 1280, .h = 2000};
	struct pic b = {.w = 1280, .h = 2100, .chg = chg_rects, .rects = rc,
			.nrect = 1};
	FILE *out = fopen(diff_png, "wb");
	REQUIRE(out);
	struct imgdiff_result r;
	CHECK_EQ_INT(diff_pics(&a, &b, NULL, out, &r), SC_OK);
	fclose(out);
	CHECK_EQ_INT(r.changed, 4000 + 1280 * 100);
	struct img_rgba img;
	REQUIRE(img_decode_file(diff_png, &img) == SC_OK);
	CHECK(img.w == 1280 && img.h == 2100);
	CHECK(diff_px_is(&img, 200, 300, hl));
	CHECK(diff_px_is(&img, 299, 339, hl));
	CHECK(diff_px_is(&img, 0, 2000, hl)); /* the new rows */
	CHECK(diff_px_is(&img, 1279, 2099, hl));
	/* every pixel: highlight where changed, else the faded page */
	long bad = 0, light = 1;
	for (uint32_t y = 0; y < img.h; y++)
		for (uint32_t x = 0; x < img.w; x++) {
			int changed = y >= 2000 || chg_rects(&b, x, y);
			uint8_t c[4];
			faded(&b, x, y, c);
			bad += !diff_px_is(&img, x, y, changed ? hl : c);
			light &= changed || (c[0] >= 191 && c[1] >= 191 && c[2] >= 191);
		}
	CHECK_EQ_INT(bad, 0);
	CHECK(light);
	uint8_t c[4];
	faded(&b, 0, 0, c);
	CHECK(c[0] == 201 && diff_px_is(&img, 0, 0, c)); /* 40 -> 201 */
	img_rgba_free(&img);
}

/* The new image's alpha: composited over white before fading; a change
 * of alpha alone is a change. */
TEST(diff_png_alpha)
{
	struct pic a = {.w = 64, .h = 64, .fmt = FMT_RGBA8, .alpha = 1};
	FILE *out = fopen(diff_png, "wb");
	REQUIRE(out);
	struct imgdiff_result r;
	struct imgdiff_opts o = opts(0, 32);
	o.zlevel = 9;
	CHECK_EQ_INT(diff_pics(&a, &a, &o, out, &r), SC_OK);
	fclose(out);
	struct img_rgba img;
	REQUIRE(img_decode_file(diff_png, &img) == SC_OK);
	CHECK_EQ_INT(r.changed, 0);
	long bad = 0;
	for (uint32_t y = 0; y < img.h; y++)
		for (uint32_t x = 0; x < img.w; x++) {
			uint8_t c[4];
			faded(&a, x, y, c);
			bad += !diff_px_is(&img, x, y, c);
		}
	CHECK_EQ_INT(bad, 0);
	img_rgba_free(&img);
	/* alpha only: x * 4 + y * 3 vs opaque */
	struct pic b = a;
	b.alpha = 0;
	CHECK_EQ_INT(diff_pics(&a, &b, NULL, NULL, &r), SC_OK);
	int opaque = 0;
	for (uint32_t y = 0; y < 64; y++)
		for (uint32_t x = 0; x < 64; x++)
			opaque += (uint8_t)(x * 4 + y * 3) == 255;
	CHECK_EQ_INT(opaque, 16); /* 4x + 3y = 255: y = 1, 5, .. 61 */
	CHECK_EQ_INT(r.changed, 64 * 64 - opaque);
}

/* ---- a tall page ---- */

TEST(tall)
{
	uint32_t h = under_valgrind() ? 6000 : 60000;
	struct rect rc[2] = {{200, 300, 100, 40, 50},
			     {0, h - 1000, 1280, 10, -20}};
	struct pic a = {.w = 1280, .h = h};
	struct pic b = a;
	b.chg = chg_rects, b.rects = rc, b.nrect = 2;
	pic_write(&a, old_png);
	pic_write(&b, new_png);
	FILE *out = fopen(diff_png, "wb");
	REQUIRE(out);
	struct imgdiff_result r;
	long before = maxrss_kb();
	int64_t t0 = sc_now_ms();
	CHECK_EQ_INT(imgdiff_files(old_png, new_png, NULL, out, &r), SC_OK);
	int64_t ms = sc_now_ms() - t0;
	long grew = maxrss_kb() - before;
	fprintf(stderr, "   diff 1280x%u with diff PNG: %lld ms, %ld KB PNG, "
		"maxrss +%ld KB\n", h, (long long)ms, ftell(out) / 1024, grew);
	fclose(out);
	/* whole, one image would be 1280 * 60000 * 4 = 300 MB */
	CHECK(grew < 20 * 1024);
	CHECK_EQ_INT(r.changed, 4000 + 12800);
	REQUIRE(r.nboxes == 2);
	CHECK(box_is(&r.boxes[0], 0, h - 1000, 1280, 10, 12800));
	CHECK(box_is(&r.boxes[1], 200, 300, 100, 40, 4000));
	uint32_t w = 0, hh = 0;
	unsigned char head[24];
	FILE *fp = fopen(diff_png, "rb");
	REQUIRE(fp);
	CHECK(fread(head, 1, 24, fp) == 24);
	fclose(fp);
	CHECK_EQ_INT(img_info_mem(head, 24, &w, &hh), SC_OK);
	CHECK(w == 1280 && hh == h);
}

/* ---- bad input ---- */

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(p, 1, n, fp) != n)
		abort();
	fclose(fp);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		abort();
	unsigned char *p = sc_xmalloc(1 << 20);
	*n = fread(p, 1, 1 << 20, fp);
	fclose(fp);
	return p;
}

TEST(malformed)
{
	struct pic a = {.w = 16, .h = 12};
	struct imgdiff_result r;
	pic_write(&a, old_png);
	write_bytes(new_png, "not a png at all, really not", 28);
	memset(&r, 0xff, sizeof(r));
	CHECK_EQ_INT(imgdiff_files(old_png, new_png, NULL, NULL, &r),
		     SC_ERR_INVALID);
	CHECK(r.w == 0 && r.nboxes == 0); /* zeroed on error */
	CHECK_EQ_INT(imgdiff_files(new_png, old_png, NULL, NULL, &r),
		     SC_ERR_INVALID);
	/* every prefix of a PNG is refused */
	size_t len;
	unsigned char *png = read_bytes(old_png, &len);
	int ok = 0;
	for (size_t n = 0; n < len; n++) {
		write_bytes(new_png, png, n);
		ok += imgdiff_files(old_png, new_png, NULL, NULL, &r) == SC_OK;
	}
	CHECK_EQ_INT(ok, 0);
	/* flip each byte in turn: errors or results, never a crash (the
	 * diff PNG is written too, to /dev/null) */
	FILE *null = fopen("/dev/null", "wb");
	REQUIRE(null);
	unsigned char *copy = sc_xmalloc(len);
	int errors = 0;
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, png, len);
		copy[i] ^= 0x5a;
		write_bytes(new_png, copy, len);
		sc_result rc = imgdiff_files(old_png, new_png, NULL, null, &r);
		CHECK(rc == SC_OK || rc == SC_ERR_INVALID ||
		      rc == SC_ERR_TOO_LARGE);
		errors += rc != SC_OK;
	}
	CHECK(errors > (int)len / 2); /* CRCs catch most */
	fclose(null);
	free(copy);
	free(png);
}

TEST(refused)
{
	struct pic a = {.w = 16, .h = 12};
	struct imgdiff_result r;
	pic_write(&a, old_png);
	/* interlaced: cannot be read row by row */
	struct pic il = {.w = 16, .h = 12, .interlace = 1};
	pic_write(&il, new_png);
	CHECK_EQ_INT(imgdiff_files(old_png, new_png, NULL, NULL, &r),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(imgdiff_files(new_png, old_png, NULL, NULL, &r),
		     SC_ERR_INVALID);
	/* too wide; too many pixels (a bomb's header) */
	struct pic wide = {.w = IMG_MAX_WIDTH + 1, .h = 1, .header_only = 1};
	pic_write(&wide, new_png);
	CHECK_EQ_INT(imgdiff_files(old_png, new_png, NULL, NULL, &r),
		     SC_ERR_TOO_LARGE);
	struct pic bomb = {.w = IMG_MAX_WIDTH, .h = 30000, .header_only = 1};
	pic_write(&bomb, new_png);
	CHECK_EQ_INT(imgdiff_files(old_png, new_png, NULL, NULL, &r),
		     SC_ERR_TOO_LARGE);
	CHECK_EQ_INT(imgdiff_files(old_png, "/nonexistent.png", NULL, NULL, &r),
		     SC_ERR_NOT_FOUND);
	errno = 0;
	CHECK_EQ_INT(imgdiff_files("/", old_png, NULL, NULL, &r), SC_ERR_IO);
	CHECK_EQ_INT(errno, EISDIR);
}

TEST(bad_args)
{
	struct pic a = {.w = 300, .h = 200};
	struct imgdiff_result r;
	pic_write(&a, old_png);
	CHECK_EQ_INT(imgdiff_files(old_png, old_png, NULL, NULL, NULL),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(imgdiff_files(NULL, old_png, NULL, NULL, &r),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(imgdiff_files(old_png, NULL, NULL, NULL, &r),
		     SC_ERR_INVALID);
	struct imgdiff_opts zero = {0};
	CHECK_EQ_INT(imgdiff_files(old_png, old_png, &zero, NULL, &r),
		     SC_ERR_INVALID);
	struct imgdiff_opts o = opts(256, 32);
	CHECK_EQ_INT(imgdiff_files(old_png, old_png, &o, NULL, &r),
		     SC_ERR_INVALID);
	o = opts(-1, 32);
	CHECK_EQ_INT(imgdiff_files(old_png, old_png, &o, NULL, &r),
		     SC_ERR_INVALID);
	o = opts(0, IMGDIFF_CELL_MAX + 1);
	CHECK_EQ_INT(imgdiff_files(old_png, old_png, &o, NULL, &r),
		     SC_ERR_INVALID);
	o = opts(0, IMGDIFF_CELL_MAX);
	CHECK_EQ_INT(imgdiff_files(old_png, old_png, &o, NULL, &r), SC_OK);
	o.zlevel = 10;
	CHECK_EQ_INT(imgdiff_files(old_png, old_png, &o, NULL, &r),
		     SC_ERR_INVALID);
	/* a full disk: SC_ERR_IO with errno ENOSPC */
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		errno = 0;
		CHECK_EQ_INT(imgdiff_files(old_png, old_png, NULL, full, &r),
			     SC_ERR_IO);
		CHECK_EQ_INT(errno, ENOSPC);
		fclose(full);
	}
}

int main(void)
{
	/* the corrupt-input tests make libpng errors, logged at warn */
	sc_log_set_level(getenv("TEST_VERBOSE") ? SC_LOG_DEBUG : SC_LOG_ERROR);
	if (!mkdtemp(tdir))
		return 1;
	snprintf(old_png, sizeof(old_png), "%s/old.png", tdir);
	snprintf(new_png, sizeof(new_png), "%s/new.png", tdir);
	snprintf(diff_png, sizeof(diff_png), "%s/diff.png", tdir);
	RUN(tall); /* first: maxrss is a high-water mark */
	RUN(identical);
	RUN(one_rect);
	RUN(two_rects);
	RUN(joining);
	RUN(sizes);
	RUN(tolerance);
	RUN(many_regions);
	RUN(reference);
	RUN(diff_png);
	RUN(diff_png_alpha);
	RUN(malformed);
	RUN(refused);
	RUN(bad_args);
	unlink(old_png);
	unlink(new_png);
	unlink(diff_png);
	rmdir(tdir);
	return test_report();
}
