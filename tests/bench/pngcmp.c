/*
 * pngcmp — pixel comparison of two captures of the same page (benchmark tool).
 *
 *   pngcmp A.png B.png [CROP_PREFIX]
 *
 * Decodes both PNGs with libpng (any colour type and depth becomes 8-bit
 * RGBA; the same decoder for both systems' files) and prints one JSON line:
 * both sizes, "identical" (same size and every pixel equal), the number of
 * differing pixels (over the common area, plus every pixel that only one of
 * the two images has), the bounding box and row count of the differences in
 * the common area, and the largest per-channel difference. With CROP_PREFIX
 * and a difference, writes CROP_PREFIX-a.png, -b.png and -diff.png: at most
 * 1280x1000 px from 100 px above the first differing row (diff: differing
 * pixels red on a washed-out copy of A), for a person to look at.
 *
 * Built by tests/bench/run: cc -O2 -o pngcmp pngcmp.c -lpng
 * (a JavaScript decoder took ~25 s per pair of 80,000 px pages here; this
 * takes a few seconds).
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct img {
	png_image im;
	uint32_t *px;
};

static int load(const char *path, struct img *m)
{
	memset(m, 0, sizeof(*m));
	m->im.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&m->im, path)) {
		fprintf(stderr, "pngcmp: %s: %s\n", path, m->im.message);
		return -1;
	}
	m->im.format = PNG_FORMAT_RGBA;
	size_t n = (size_t)m->im.width * m->im.height;
	m->px = malloc(n ? n * 4 : 4);
	if (!m->px || !png_image_finish_read(&m->im, NULL, m->px, 0, NULL)) {
		fprintf(stderr, "pngcmp: %s: %s\n", path,
			m->px ? m->im.message : "out of memory");
		return -1;
	}
	return 0;
}

static int write_crop(const char *prefix, const char *suffix, const uint32_t *px,
		      unsigned w, unsigned h)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s-%s.png", prefix, suffix);
	png_image o;
	memset(&o, 0, sizeof(o));
	o.version = PNG_IMAGE_VERSION;
	o.width = w;
	o.height = h;
	o.format = PNG_FORMAT_RGBA;
	if (!png_image_write_to_file(&o, path, 0, px, 0, NULL)) {
		fprintf(stderr, "pngcmp: %s: %s\n", path, o.message);
		return -1;
	}
	return 0;
}

static uint32_t at(const struct img *m, unsigned x, unsigned y)
{
	if (x >= m->im.width || y >= m->im.height)
		return 0xffffffffu; /* white: outside the image */
	return m->px[(size_t)y * m->im.width + x];
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: pngcmp A.png B.png [CROP_PREFIX]\n");
		return 2;
	}
	struct img A, B;
	if (load(argv[1], &A) || load(argv[2], &B))
		return 1;
	unsigned aw = A.im.width, ah = A.im.height, bw = B.im.width, bh = B.im.height;
	unsigned w = aw < bw ? aw : bw, h = ah < bh ? ah : bh;
	uint64_t diff = 0, rows = 0;
	unsigned x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
	int maxd = 0;
	for (unsigned y = 0; y < h; y++) {
		const uint32_t *ra = A.px + (size_t)y * aw, *rb = B.px + (size_t)y * bw;
		if (!memcmp(ra, rb, (size_t)w * 4))
			continue;
		rows++;
		if (y < y0)
			y0 = y;
		y1 = y;
		for (unsigned x = 0; x < w; x++) {
			if (ra[x] == rb[x])
				continue;
			diff++;
			if (x < x0)
				x0 = x;
			if (x > x1)
				x1 = x;
			const uint8_t *pa = (const uint8_t *)&ra[x], *pb = (const uint8_t *)&rb[x];
			for (int k = 0; k < 4; k++) {
				int d = abs((int)pa[k] - (int)pb[k]);
				if (d > maxd)
					maxd = d;
			}
		}
	}
	uint64_t extra = (uint64_t)aw * ah + (uint64_t)bw * bh - 2 * (uint64_t)w * h;
	int same = aw == bw && ah == bh;
	uint64_t big = (uint64_t)aw * ah > (uint64_t)bw * bh ? (uint64_t)aw * ah : (uint64_t)bw * bh;
	printf("{\"a\":{\"width\":%u,\"height\":%u},\"b\":{\"width\":%u,\"height\":%u},"
	       "\"same_size\":%s,\"identical\":%s,\"diff_pixels\":%llu,"
	       "\"diff_pixels_common\":%llu,\"diff_share\":%.6g,\"diff_rows\":%llu,"
	       "\"max_channel_delta\":%d,",
	       aw, ah, bw, bh, same ? "true" : "false", same && !diff ? "true" : "false",
	       (unsigned long long)(diff + extra), (unsigned long long)diff,
	       big ? (double)(diff + extra) / (double)big : 0.0, (unsigned long long)rows, maxd);
	if (diff)
		printf("\"bbox\":{\"x0\":%u,\"y0\":%u,\"x1\":%u,\"y1\":%u}", x0, y0, x1, y1);
	else
		printf("\"bbox\":null");
	if (argc > 3 && (diff || !same)) {
		unsigned hh = ah > bh ? ah : bh, ww = aw > bw ? aw : bw;
		unsigned top = diff ? (y0 > 100 ? y0 - 100 : 0) : (h > 500 ? h - 500 : 0);
		unsigned ch = hh - top < 1000 ? hh - top : 1000, cw = ww < 1280 ? ww : 1280;
		uint32_t *ca = malloc((size_t)cw * ch * 4), *cb = malloc((size_t)cw * ch * 4),
			 *cd = malloc((size_t)cw * ch * 4);
		if (!ca || !cb || !cd)
			return 1;
		for (unsigned y = 0; y < ch; y++)
			for (unsigned x = 0; x < cw; x++) {
				uint32_t pa = at(&A, x, top + y), pb = at(&B, x, top + y);
				size_t i = (size_t)y * cw + x;
				ca[i] = pa;
				cb[i] = pb;
				if (pa != pb) {
					cd[i] = 0xff0000ffu; /* RGBA bytes ff 00 00 ff, little-endian */
				} else {
					uint8_t *p = (uint8_t *)&cd[i];
					const uint8_t *s = (const uint8_t *)&pa;
					for (int k = 0; k < 3; k++)
						p[k] = (uint8_t)(192 + (s[k] >> 2));
					p[3] = 255;
				}
			}
		if (write_crop(argv[3], "a", ca, cw, ch) || write_crop(argv[3], "b", cb, cw, ch) ||
		    write_crop(argv[3], "diff", cd, cw, ch))
			return 1;
		printf(",\"crop\":{\"prefix\":\"%s\",\"top\":%u,\"height\":%u}", argv[3], top, ch);
		free(ca);
		free(cb);
		free(cd);
	}
	printf("}\n");
	free(A.px);
	free(B.px);
	return 0;
}
