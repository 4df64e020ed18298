/*
 * imgdiff.c — streaming visual diff of two PNG files (see imgdiff.h).
 *
 * DESIGN: one pass down the canvas. For each canvas row y:
 *   1. read row y of each input that has one (img_reader, RGBA8);
 *   2. mask[x] = 1 where pixel x changed (imgdiff_mask_row);
 *   3. add the mask to the current row of cells: count and exact box of the
 *      changed pixels of each cell (imgdiff_grid_add);
 *   4. paint the diff PNG row and write it (imgdiff_paint_row).
 * Every `cell` rows, and after the last, the completed row of cells is
 * labelled — connected components streamed one row of labels at a time: a
 * changed cell takes the label of its changed neighbours (left, and the
 * three above), and labels that meet are joined in a union-find table
 * whose entries carry the region's box and count. A region that no cell of
 * the new row belongs to can grow no more: it is finished, offered to the
 * result's list (imgdiff_keep) and dropped from the table, which is
 * compacted to the live regions. A row of gw cells holds at most
 * (gw + 1) / 2 separate runs of changed cells; the table holds the regions
 * of the last row (at most one per run) and those started in this row (at
 * most one per run, by its first cell), so never more than gw + 1 entries:
 * memory depends on the width only, never on the height or on the number
 * of regions.
 *
 * libpng errors (img.c's DESIGN): three nested guards — the writer's (if
 * there is a diff PNG) around everything, then the old reader's, then the
 * new reader's around the row loop; an error in any png_struct lands in its
 * own guard, a live frame. All state lives in struct imgdiff_run.
 */
#include "imgdiff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "img_int.h"

#define IMGDIFF_NONE UINT32_MAX

/* The changed pixels of one cell of the cell row being filled: how many,
 * and their box (inclusive bounds, canvas coordinates). */
struct imgdiff_acc {
	uint32_t n, x0, x1, y0, y1;
};

/* A union-find entry: a region if parent is itself, else part of one (its
 * box and count were added to the root's when it joined). */
struct imgdiff_reg {
	uint32_t parent;
	uint32_t x0, x1, y0, y1;
	uint64_t n;
};

/* Streaming connected components over rows of cells. */
struct imgdiff_grid {
	uint32_t cell, gw;        /* cell size, cells per row */
	struct imgdiff_acc *acc;  /* [gw] the cell row being filled */
	uint32_t *prev, *cur;     /* [gw] labels: last cell row, this one */
	struct imgdiff_reg *reg;  /* [gw + 1] the union-find table */
	uint32_t *map;            /* [gw + 1] compaction: old -> new index */
	uint32_t nreg;
};

/* One diff. */
struct imgdiff_run {
	struct imgdiff_opts o;
	FILE *fp[2];               /* old, new */
	struct img_reader r[2];
	struct img_writer wr;
	FILE *out;                 /* diff PNG, or NULL */
	uint32_t w, h;             /* canvas */
	uint8_t *row[2];           /* [r[i].w * 4] current row of each input */
	uint8_t *mask;             /* [w] 1: pixel changed */
	uint8_t *orow;             /* [w * 3] diff PNG row */
	struct imgdiff_grid g;
	struct imgdiff_result *res;
};

/* ---- the list of boxes ---- */

/* Does a come before b: more changed pixels, then higher, then left? */
static int imgdiff_before(const struct imgdiff_box *a,
			  const struct imgdiff_box *b)
{
	if (a->changed != b->changed)
		return a->changed > b->changed;
	if (a->y != b->y)
		return a->y < b->y;
	return a->x < b->x;
}

/* Offer finished region r to res->boxes (sorted, the largest kept). */
static void imgdiff_keep(struct imgdiff_result *res,
			 const struct imgdiff_reg *r)
{
	struct imgdiff_box b = {.x = r->x0, .y = r->y0,
				.w = r->x1 - r->x0 + 1, .h = r->y1 - r->y0 + 1,
				.changed = r->n};
	size_t i = res->nboxes;
	res->nregions++;
	if (i == IMGDIFF_BOXES_MAX) {
		if (!imgdiff_before(&b, &res->boxes[i - 1])) {
			res->dropped_changed += b.changed;
			return;
		}
		res->dropped_changed += res->boxes[--i].changed;
	} else {
		res->nboxes++;
	}
	for (; i > 0 && imgdiff_before(&b, &res->boxes[i - 1]); i--)
		res->boxes[i] = res->boxes[i - 1];
	res->boxes[i] = b;
}

/* ---- regions: union-find over rows of cells ---- */

static uint32_t imgdiff_find(struct imgdiff_reg *reg, uint32_t i)
{
	while (reg[i].parent != i) {
		reg[i].parent = reg[reg[i].parent].parent; /* path halving */
		i = reg[i].parent;
	}
	return i;
}

/* Grow region r by a box and a count. */
static void imgdiff_reg_add(struct imgdiff_reg *r, uint32_t x0, uint32_t x1,
			    uint32_t y0, uint32_t y1, uint64_t n)
{
	if (x0 < r->x0)
		r->x0 = x0;
	if (x1 > r->x1)
		r->x1 = x1;
	if (y0 < r->y0)
		r->y0 = y0;
	if (y1 > r->y1)
		r->y1 = y1;
	r->n += n;
}

/* Join roots a and b; returns the root of the union (a). */
static uint32_t imgdiff_union(struct imgdiff_reg *reg, uint32_t a, uint32_t b)
{
	if (a == b)
		return a;
	reg[b].parent = a;
	imgdiff_reg_add(&reg[a], reg[b].x0, reg[b].x1, reg[b].y0, reg[b].y1,
			reg[b].n);
	return a;
}

/* Label changed cell cx of the completed cell row: join the regions of its
 * changed neighbours (left, above left, above, above right), or start one. */
static sc_result imgdiff_label(struct imgdiff_grid *g, uint32_t cx)
{
	uint32_t nb[4] = {
		cx ? g->cur[cx - 1] : IMGDIFF_NONE,
		cx ? g->prev[cx - 1] : IMGDIFF_NONE,
		g->prev[cx],
		cx + 1 < g->gw ? g->prev[cx + 1] : IMGDIFF_NONE,
	};
	uint32_t root = IMGDIFF_NONE;
	for (int i = 0; i < 4; i++) {
		if (nb[i] == IMGDIFF_NONE)
			continue;
		uint32_t r = imgdiff_find(g->reg, nb[i]);
		root = root == IMGDIFF_NONE ? r : imgdiff_union(g->reg, root, r);
	}
	if (root == IMGDIFF_NONE) {
		if (g->nreg > g->gw)
			return SC_ERR_INTERNAL; /* the bound in DESIGN */
		root = g->nreg++;
		g->reg[root] = (struct imgdiff_reg){.parent = root,
						    .x0 = UINT32_MAX,
						    .y0 = UINT32_MAX};
	}
	const struct imgdiff_acc *a = &g->acc[cx];
	imgdiff_reg_add(&g->reg[root], a->x0, a->x1, a->y0, a->y1, a->n);
	g->cur[cx] = root;
	return SC_OK;
}

/* Finish the regions no label of g->cur belongs to (into res), and compact
 * the table to the others, relabelling g->cur. */
static void imgdiff_compact(struct imgdiff_grid *g, struct imgdiff_result *res)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < g->nreg; i++)
		g->map[i] = IMGDIFF_NONE;
	for (uint32_t cx = 0; cx < g->gw; cx++)
		if (g->cur[cx] != IMGDIFF_NONE) {
			g->cur[cx] = imgdiff_find(g->reg, g->cur[cx]);
			g->map[g->cur[cx]] = 0; /* live */
		}
	/* in place: entry i moves down to k <= i, already visited */
	for (uint32_t i = 0; i < g->nreg; i++) {
		if (g->reg[i].parent != i)
			continue;
		if (g->map[i] == IMGDIFF_NONE) {
			imgdiff_keep(res, &g->reg[i]);
			continue;
		}
		g->map[i] = k;
		g->reg[k] = g->reg[i];
		g->reg[k].parent = k;
		k++;
	}
	for (uint32_t cx = 0; cx < g->gw; cx++)
		if (g->cur[cx] != IMGDIFF_NONE)
			g->cur[cx] = g->map[g->cur[cx]];
	g->nreg = k;
}

/* The cell row in g->acc is complete: label it, finish the regions it does
 * not continue, and start the next cell row. */
static sc_result imgdiff_grid_row(struct imgdiff_grid *g,
				  struct imgdiff_result *res)
{
	sc_result rc;
	for (uint32_t cx = 0; cx < g->gw; cx++) {
		g->cur[cx] = IMGDIFF_NONE;
		if (g->acc[cx].n && (rc = imgdiff_label(g, cx)))
			return rc;
	}
	imgdiff_compact(g, res);
	uint32_t *t = g->prev;
	g->prev = g->cur;
	g->cur = t;
	memset(g->acc, 0, (size_t)g->gw * sizeof(*g->acc));
	return SC_OK;
}

/* After the last cell row: every region left is finished. */
static void imgdiff_grid_end(struct imgdiff_grid *g, struct imgdiff_result *res)
{
	for (uint32_t cx = 0; cx < g->gw; cx++)
		g->cur[cx] = IMGDIFF_NONE;
	imgdiff_compact(g, res);
}

/* Add canvas row y (mask[0..w), 1 = changed) to the cells of the row. */
static void imgdiff_grid_add(struct imgdiff_grid *g, const uint8_t *mask,
			     uint32_t w, uint32_t y)
{
	for (uint32_t cx = 0, x0 = 0; cx < g->gw; cx++, x0 += g->cell) {
		uint32_t end = w - x0 < g->cell ? w : x0 + g->cell;
		const uint8_t *p = memchr(mask + x0, 1, end - x0);
		if (!p)
			continue;
		uint32_t first = (uint32_t)(p - mask), last = end - 1, n = 0;
		while (!mask[last])
			last--;
		for (uint32_t x = first; x <= last; x++)
			n += mask[x];
		struct imgdiff_acc *a = &g->acc[cx];
		if (!a->n) {
			a->x0 = first;
			a->x1 = last;
			a->y0 = y;
		} else {
			a->x0 = first < a->x0 ? first : a->x0;
			a->x1 = last > a->x1 ? last : a->x1;
		}
		a->y1 = y;
		a->n += n;
	}
}

/* ---- pixels ---- */

/* Does RGBA pixel a differ from b by more than tol in a channel? */
static int imgdiff_px_differ(const uint8_t *a, const uint8_t *b, int tol)
{
	for (int c = 0; c < 4; c++) {
		int v = a[c] - b[c];
		if (v > tol || v < -tol)
			return 1;
	}
	return 0;
}

/* Fill d->mask for canvas row y (the inputs' rows y read, where they
 * have one); returns the number of changed pixels. */
static uint32_t imgdiff_mask_row(struct imgdiff_run *d, uint32_t y)
{
	const uint8_t *a = d->row[0], *b = d->row[1];
	uint32_t both = 0, n = 0;
	if (y < d->r[0].h && y < d->r[1].h)
		both = d->r[0].w < d->r[1].w ? d->r[0].w : d->r[1].w;
	if (!memcmp(a, b, (size_t)both * 4)) {
		memset(d->mask, 0, both); /* the common case, fast */
	} else {
		for (uint32_t x = 0; x < both; x++) {
			size_t i = (size_t)x * 4;
			d->mask[x] = (uint8_t)imgdiff_px_differ(a + i, b + i,
							d->o.tolerance);
			n += d->mask[x];
		}
	}
	memset(d->mask + both, 1, d->w - both); /* outside one image */
	return n + (d->w - both);
}

/* d->orow from the mask: changed pixels highlighted, the others the new
 * image over white, faded to 25% (an unchanged pixel is in both images). */
static void imgdiff_paint_row(struct imgdiff_run *d)
{
	const uint8_t *np = d->row[1];
	for (uint32_t x = 0; x < d->w; x++) {
		uint8_t *o = d->orow + (size_t)x * 3;
		if (d->mask[x]) {
			o[0] = IMGDIFF_HIGHLIGHT_R;
			o[1] = IMGDIFF_HIGHLIGHT_G;
			o[2] = IMGDIFF_HIGHLIGHT_B;
			continue;
		}
		const uint8_t *p = np + (size_t)x * 4;
		/* 255 - (255 - c) * (a / 255) / 4, rounded half up */
		for (int c = 0; c < 3; c++)
			o[c] = (uint8_t)(255 - ((255 - p[c]) * p[3] + 509) / 1020);
	}
}

/* ---- the pass ---- */

/* Body (new reader's guard, inside the old one's): every canvas row. */
static sc_result imgdiff_rows(void *ctx)
{
	struct imgdiff_run *d = ctx;
	sc_result rc;
	if ((rc = img_read_setup(&d->r[0], 1, 0)) ||
	    (rc = img_read_setup(&d->r[1], 1, 0)))
		return rc; /* interlaced: SC_ERR_INVALID */
	for (uint32_t y = 0; y < d->h; y++) {
		for (int i = 0; i < 2; i++)
			if (y < d->r[i].h)
				png_read_row(d->r[i].png, d->row[i], NULL);
		uint32_t n = imgdiff_mask_row(d, y);
		d->res->changed += n;
		if (n)
			imgdiff_grid_add(&d->g, d->mask, d->w, y);
		if (d->out) {
			imgdiff_paint_row(d);
			png_write_row(d->wr.png, d->orow);
		}
		if (((y + 1) % d->g.cell == 0 || y + 1 == d->h) &&
		    (rc = imgdiff_grid_row(&d->g, d->res)))
			return rc;
	}
	png_read_end(d->r[0].png, NULL);
	png_read_end(d->r[1].png, NULL);
	imgdiff_grid_end(&d->g, d->res);
	return SC_OK;
}

/* Body (old reader's guard). */
static sc_result imgdiff_read_new(void *ctx)
{
	struct imgdiff_run *d = ctx;
	return img_guard(d->r[1].png, &d->r[1].io, imgdiff_rows, d);
}

static sc_result imgdiff_read(struct imgdiff_run *d)
{
	return img_guard(d->r[0].png, &d->r[0].io, imgdiff_read_new, d);
}

/* Body (writer's guard): header, the pass, end. */
static sc_result imgdiff_write(void *ctx)
{
	struct imgdiff_run *d = ctx;
	img_write_header(&d->wr, d->w, d->h, 0, d->o.zlevel);
	sc_result rc = imgdiff_read(d);
	if (!rc)
		png_write_end(d->wr.png, NULL);
	return rc;
}

/* ---- set-up ---- */

/* Open input i (0 old, 1 new) and read its header. */
static sc_result imgdiff_open(struct imgdiff_run *d, int i, const char *path)
{
	sc_result rc = img_fopen_png(path, &d->fp[i]);
	if (rc)
		return rc;
	if ((rc = img_reader_start(&d->r[i], NULL, 0, d->fp[i])))
		return rc;
	if ((uint64_t)d->r[i].w * d->r[i].h > IMG_MAX_PIXELS)
		return SC_ERR_TOO_LARGE;
	return SC_OK;
}

/* Canvas size into d and d->res; the buffers (all sized by the width). */
static void imgdiff_alloc(struct imgdiff_run *d)
{
	struct imgdiff_result *res = d->res;
	struct imgdiff_grid *g = &d->g;
	res->old_w = d->r[0].w, res->old_h = d->r[0].h;
	res->new_w = d->r[1].w, res->new_h = d->r[1].h;
	d->w = res->w = res->old_w > res->new_w ? res->old_w : res->new_w;
	d->h = res->h = res->old_h > res->new_h ? res->old_h : res->new_h;
	res->total = (uint64_t)d->w * d->h;
	for (int i = 0; i < 2; i++)
		d->row[i] = sc_xmalloc((size_t)d->r[i].w * 4);
	d->mask = sc_xmalloc(d->w);
	if (d->out)
		d->orow = sc_xmalloc((size_t)d->w * 3);
	g->cell = d->o.cell;
	g->gw = (d->w + g->cell - 1) / g->cell;
	g->acc = sc_xcalloc(g->gw, sizeof(*g->acc));
	g->prev = sc_xmalloc((size_t)g->gw * sizeof(*g->prev));
	g->cur = sc_xmalloc((size_t)g->gw * sizeof(*g->cur));
	for (uint32_t cx = 0; cx < g->gw; cx++)
		g->prev[cx] = IMGDIFF_NONE;
	g->reg = sc_xmalloc(((size_t)g->gw + 1) * sizeof(*g->reg));
	g->map = sc_xmalloc(((size_t)g->gw + 1) * sizeof(*g->map));
}

static void imgdiff_free(struct imgdiff_run *d)
{
	for (int i = 0; i < 2; i++) {
		img_reader_close(&d->r[i]);
		if (d->fp[i])
			fclose(d->fp[i]);
		free(d->row[i]);
	}
	img_writer_close(&d->wr);
	free(d->mask);
	free(d->orow);
	free(d->g.acc);
	free(d->g.prev);
	free(d->g.cur);
	free(d->g.reg);
	free(d->g.map);
}

static int imgdiff_opts_ok(const struct imgdiff_opts *o)
{
	return o->tolerance >= 0 && o->tolerance <= 255 && o->cell >= 1 &&
	       o->cell <= IMGDIFF_CELL_MAX && o->zlevel >= -1 && o->zlevel <= 9;
}

sc_result imgdiff_files(const char *old_path, const char *new_path,
			const struct imgdiff_opts *o, FILE *diff_out,
			struct imgdiff_result *out)
{
	static const struct imgdiff_opts defaults = IMGDIFF_OPTS_INIT;
	struct imgdiff_run d = {.o = o ? *o : defaults, .out = diff_out,
				.res = out};
	sc_result rc;
	if (!out)
		return SC_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	if (!old_path || !new_path || !imgdiff_opts_ok(&d.o))
		return SC_ERR_INVALID;
	if ((rc = imgdiff_open(&d, 0, old_path)) ||
	    (rc = imgdiff_open(&d, 1, new_path)))
		goto out;
	imgdiff_alloc(&d);
	if (!diff_out) {
		rc = imgdiff_read(&d);
		goto out;
	}
	if ((rc = img_writer_open(&d.wr, diff_out)))
		goto out;
	rc = img_guard(d.wr.png, &d.wr.io, imgdiff_write, &d);
	if (!rc)
		rc = img_finish_file(diff_out);
out:
	if (!rc) {
		out->ratio = (double)out->changed / (double)out->total;
		out->boxes_truncated = out->nregions > out->nboxes;
	} else {
		memset(out, 0, sizeof(*out));
	}
	int e = errno;
	imgdiff_free(&d);
	errno = e;
	return rc;
}
