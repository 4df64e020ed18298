/*
 * imgjoin.c — PNG tiles joined at the compression level (see imgjoin.h).
 *
 *   tiles -> jn_parse (chunks, CRCs, IHDR) -> jn_scan (inflate, Z_BLOCK)
 *         -> jn_write: IHDR, header chunks, IDAT (bits copied), IEND -> out
 *         -> or img_stitch
 *
 * DESIGN
 * A PNG's pixels are one zlib stream split over IDAT chunks: a 2-byte
 * header, deflate blocks, then the Adler-32 of the uncompressed bytes (per
 * row a filter byte and the filtered row). Deflate is a bit stream read from
 * the low bit of each byte up; a block starts with its BFINAL bit and two
 * type bits, anywhere in a byte. So the blocks of several streams can follow
 * each other in one stream when (1) every BFINAL bit is 0 but the last
 * block's, (2) each run of copied blocks keeps its bit position modulo 8 —
 * a stored block pads to the next byte boundary, so blocks moved by other
 * than whole bytes would read their padding wrong — and (3) the checksum is
 * that of all the bytes (adler32_combine). This is the technique of zlib's
 * examples/gzjoin.c, written again for PNG:
 *
 *   scan, once per tile: inflate with Z_BLOCK, which returns at every block
 *     boundary with, in data_type, the count of unused bits of the last
 *     input byte (below 8 at a boundary), +64 if the block that ended was
 *     the last, +128 at a boundary. A boundary's bit position is therefore
 *     8 * total_in - (data_type & 7). The last boundary before the end is
 *     where the last block starts (its BFINAL bit); the boundary flagged 64
 *     is where the deflate data ends. The scan also checks every row's
 *     filter byte, the length (rows x stride), the tile's own Adler-32
 *     (zlib does, from the trailer) and every chunk's CRC (jn_parse).
 *   write: the zlib header, then per tile: an empty stored block if the
 *     output is not on a byte boundary (3 zero bits, zero padding,
 *     00 00 ff ff), the tile's deflate bits [16, end) with its BFINAL bit
 *     cleared; at the end an empty fixed block with BFINAL set (bits 1, 1, 0
 *     and the 7-bit end-of-block code 0000000), zero padding and the
 *     combined Adler-32.
 *
 * Re-encoded first rows (imgjoin.h says why). When a tile after the first
 * starts with an Up, Average or Paeth row, that row is unfiltered against a
 * zero row and written as None: the uncompressed bytes [0, M) change
 * (M = stride, 1 + row bytes). A back-reference reaches at most 32768 bytes
 * back, so a block that starts at uncompressed offset q >= M + 32768 never
 * reads them. The blocks before the first such boundary are re-encoded
 * (inflated again up to q, the row changed, deflated with Z_SYNC_FLUSH:
 * non-final blocks that end on a byte boundary) and the blocks from q on are
 * copied. From a byte boundary, empty fixed blocks of 10 bits reach any even
 * bit position, so q is the first boundary past M + 32768 that lies at an
 * even bit position (about one boundary in two); a tile without one is
 * re-encoded whole. Chromium's tiles are all of this kind: it filters every
 * row with Up (optimizeForSpeed) or adaptively.
 */
#define ZLIB_CONST
#include "imgjoin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "img_int.h"

#define JN_SCRATCH (64u * 1024) /* inflated bytes per inflate call */
#define JN_IDAT (256u * 1024)   /* IDAT chunk size written */
#define JN_WINDOW 32768u        /* deflate's farthest back-reference */
#define JN_ZHDR_BITS 16         /* the zlib header: 2 bytes */

static const uint8_t jn_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
				  '\n'};

/* One tile: where its chunks are, and what the scan found. */
struct jn_tile {
	const uint8_t *p;
	size_t len;
	uint32_t h;
	size_t pre, npre;  /* the chunks between IHDR and the first IDAT */
	size_t idat;       /* offset of the first IDAT chunk */
	uint64_t zlen;     /* bytes of the zlib stream, every IDAT's data */
	int filter0;       /* the first row's filter type */
	int refilter;      /* its first rows are re-encoded */
	uint64_t fin_bit;  /* the last block's BFINAL bit */
	uint64_t end_bit;  /* where the deflate data ends */
	uint64_t q, q_bit; /* refilter: re-encode [0, q), copy from q_bit */
	uint32_t adler;    /* of the bytes copied: all, or those from q on */
};

/* A tile's zlib stream read across its IDAT chunks, forward only. */
struct jn_rd {
	const struct jn_tile *t;
	size_t chunk;      /* offset of the current IDAT chunk */
	uint64_t at;       /* stream offset of its first data byte */
};

/* The PNG being written: IDAT data buffered, and bits not yet a byte. */
struct jn_out {
	FILE *fp;
	uint8_t *buf;      /* [JN_IDAT] */
	size_t n;
	uint32_t acc;
	int nacc;
	int io_errno;      /* a write failed (the first errno) */
};

/* One join; everything a failed step must free lives here. */
struct jn {
	const struct img_tile *tiles;
	struct jn_tile *t;
	size_t n;
	uint32_t crop, h;
	int zlevel;
	uint8_t ihdr[13];      /* the first tile's */
	size_t stride, bpp;    /* 1 + row bytes; bytes per pixel, >= 1 */
	uint8_t *scratch, *row;
	z_stream in, de;
	int in_on, de_on;
	uint32_t adler;        /* of the uncompressed bytes written so far */
	struct jn_out o;
	struct imgjoin_info *info;
};

static uint32_t jn_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void jn_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Set why (the first reason wins) and return -1. */
static int jn_why(struct jn *j, const char *fmt, ...) SC_PRINTF(2, 3);
static int jn_why(struct jn *j, const char *fmt, ...)
{
	va_list ap;
	if (j->info->why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(j->info->why, sizeof(j->info->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- parsing ---- */

/* The chunk at off fits in the tile and its CRC is right: 0 and its data
 * length in *len; else -1. */
static int jn_chunk(const struct jn_tile *t, size_t off, uint32_t *len)
{
	if (off > t->len || t->len - off < 12)
		return -1;
	uint32_t n = jn_be32(t->p + off);
	if (n > 0x7fffffffu || t->len - off - 12 < n)
		return -1;
	if (crc32(0, t->p + off + 4, n + 4) != jn_be32(t->p + off + 8 + n))
		return -1;
	*len = n;
	return 0;
}

static int jn_is(const struct jn_tile *t, size_t off, const char *type)
{
	return !memcmp(t->p + off + 4, type, 4);
}

/* From the chunk after IHDR: header chunks, the IDAT run, the rest up to
 * IEND. */
static int jn_chunks(struct jn *j, struct jn_tile *t, size_t i)
{
	size_t off = t->pre;
	uint32_t n = 0;
	for (;; off += 12 + (size_t)n) {
		if (jn_chunk(t, off, &n))
			return jn_why(j, "tile %zu: a chunk is cut short or has "
				      "a wrong CRC", i);
		if (jn_is(t, off, "IDAT"))
			break;
		if (jn_is(t, off, "IEND"))
			return jn_why(j, "tile %zu: no IDAT", i);
	}
	t->npre = off - t->pre;
	t->idat = off;
	for (; !jn_chunk(t, off, &n) && jn_is(t, off, "IDAT");
	     off += 12 + (size_t)n)
		t->zlen += n;
	for (;; off += 12 + (size_t)n) {
		if (jn_chunk(t, off, &n))
			return jn_why(j, "tile %zu: a chunk is cut short or has "
				      "a wrong CRC", i);
		if (jn_is(t, off, "IDAT"))
			return jn_why(j, "tile %zu: IDAT chunks apart", i);
		if (jn_is(t, off, "IEND"))
			return 0;
	}
}

/* Tile i: signature, IHDR (as the first tile's but for the height), chunks;
 * its header chunks byte for byte those of the first tile. */
static int jn_parse(struct jn *j, size_t i)
{
	struct jn_tile *t = &j->t[i];
	uint32_t n;
	t->p = j->tiles[i].png;
	t->len = j->tiles[i].png ? j->tiles[i].len : 0;
	if (t->len < 8 + 25 || memcmp(t->p, jn_sig, 8) || jn_chunk(t, 8, &n) ||
	    n != 13 || !jn_is(t, 8, "IHDR"))
		return jn_why(j, "tile %zu: not a PNG", i);
	const uint8_t *ih = t->p + 16;
	if (!i)
		memcpy(j->ihdr, ih, 13);
	t->h = jn_be32(ih + 4);
	if (memcmp(ih, j->ihdr, 4) || memcmp(ih + 8, j->ihdr + 8, 5))
		return jn_why(j, "tile %zu: its width, bit depth, colour type "
			      "or interlace differ from the first tile's", i);
	if (!t->h || t->h > 0x7fffffffu)
		return jn_why(j, "tile %zu: height %u", i, t->h);
	t->pre = 8 + 25;
	if (jn_chunks(j, t, i))
		return -1;
	const struct jn_tile *t0 = &j->t[0];
	if (i && (t->npre != t0->npre ||
		  memcmp(t->p + t->pre, t0->p + t0->pre, t->npre)))
		return jn_why(j, "tile %zu: its header chunks differ from the "
			      "first tile's", i);
	return 0;
}

/* Row stride and bytes per pixel from the IHDR; -1 for what is not a
 * plain PNG this code knows (img_stitch says what is wrong). */
static int jn_geometry(struct jn *j)
{
	const uint8_t *ih = j->ihdr;
	uint32_t w = jn_be32(ih);
	unsigned depth = ih[8], ct = ih[9];
	unsigned ch = ct == 0 ? 1 : ct == 2 ? 3 : ct == 3 ? 1 : ct == 4 ? 2
		    : ct == 6 ? 4 : 0;
	int depth_ok = (depth == 8 || depth == 16) ||
		       ((ct == 0 || ct == 3) && (depth == 1 || depth == 2 ||
						 depth == 4));
	if (ct == 3 && depth == 16)
		depth_ok = 0;
	if (!ch || !depth_ok || ih[10] || ih[11] || ih[12])
		return jn_why(j, "colour type %u, depth %u, interlace %u",
			      ct, depth, ih[12]);
	if (!w || w > IMG_MAX_WIDTH)
		return jn_why(j, "width %u", w);
	uint64_t bits = (uint64_t)w * ch * depth;
	j->stride = (size_t)((bits + 7) / 8) + 1;
	j->bpp = ch * depth >= 8 ? ch * depth / 8 : 1;
	return 0;
}

/* Parse the tiles that make crop_h rows (all if 0). */
static int jn_pick(struct jn *j)
{
	uint64_t sum = 0;
	size_t i;
	for (i = 0; i < j->n && (!j->crop || sum < j->crop); i++) {
		if (jn_parse(j, i))
			return -1;
		sum += j->t[i].h;
	}
	if (jn_geometry(j))
		return -1;
	if (j->crop && sum != j->crop)
		return jn_why(j, "%u rows asked, the tiles end at %llu", j->crop,
			      (unsigned long long)sum);
	if (sum > 0x7fffffffu)
		return jn_why(j, "%llu rows", (unsigned long long)sum);
	j->n = i;
	j->h = (uint32_t)sum;
	return 0;
}

/* ---- reading a zlib stream across IDAT chunks ---- */

static void jn_rd_init(struct jn_rd *rd, const struct jn_tile *t)
{
	rd->t = t;
	rd->chunk = t->idat;
	rd->at = 0;
}

/* The bytes of the stream from offset at (>= any asked before) that lie
 * in one chunk: their count (0 past the end), *p their start. */
static size_t jn_rd_span(struct jn_rd *rd, uint64_t at, const uint8_t **p)
{
	const struct jn_tile *t = rd->t;
	for (;;) {
		if (!jn_is(t, rd->chunk, "IDAT"))
			return 0;
		uint32_t n = jn_be32(t->p + rd->chunk);
		if (at < rd->at + n) {
			*p = t->p + rd->chunk + 8 + (size_t)(at - rd->at);
			return (size_t)(rd->at + n - at);
		}
		rd->at += n;
		rd->chunk += 12 + (size_t)n;
	}
}

/* Start z on a new stream: inflateReset keeps the input left over. */
static int jn_inflate_reset(z_stream *z)
{
	z->next_in = NULL;
	z->avail_in = 0;
	return inflateReset(z) != Z_OK;
}

/* Give z the next input if it has none; 0 if there is none left. */
static int jn_feed(struct jn_rd *rd, z_stream *z)
{
	if (z->avail_in)
		return 1;
	const uint8_t *p;
	size_t k = jn_rd_span(rd, z->total_in, &p);
	if (k > UINT32_MAX)
		k = UINT32_MAX;
	z->next_in = p;
	z->avail_in = (uInt)k;
	return k > 0;
}

/* ---- the scan ---- */

/* Check the filter bytes among the got bytes inflated at stream offset
 * base; *next is the offset of the next row's filter byte. */
static int jn_rows(struct jn *j, struct jn_tile *t, uint64_t base,
		   size_t got, uint64_t *next)
{
	for (; *next < base + got; *next += j->stride) {
		uint8_t f = j->scratch[*next - base];
		if (f > 4)
			return -1;
		if (!*next)
			t->filter0 = f;
	}
	return 0;
}

/* At a block boundary of tile t (the scan's inflate state z): the end, or
 * the start of a block, maybe the one the copy of a re-encoded tile
 * starts from (then *head is the Adler-32 of the bytes before it). */
static void jn_boundary(struct jn *j, struct jn_tile *t, uLong *head)
{
	const z_stream *z = &j->in;
	uint64_t bit = 8 * (uint64_t)z->total_in - (uint64_t)(z->data_type & 7);
	if (z->data_type & 64) {
		t->end_bit = bit;
		return;
	}
	t->fin_bit = bit; /* the last one before the end is the last block */
	if (t->refilter && !t->q_bit && bit % 2 == 0 &&
	    z->total_out >= j->stride + JN_WINDOW) {
		t->q = z->total_out;
		t->q_bit = bit;
		*head = z->adler; /* inflate keeps it up to date */
	}
}

/* The Adler-32 of Y from those of X (head) and XY (whole), Y len bytes:
 * adler32_combine backwards (s1 = s1x + s1y - 1, s2 = s2x + s2y +
 * len * (s1x - 1), modulo 65521). */
static uint32_t jn_adler_rest(uLong whole, uLong head, uint64_t len)
{
	const uint64_t B = 65521;
	uint64_t s1 = whole & 0xffff, s2 = whole >> 16 & 0xffff;
	uint64_t x1 = head & 0xffff, x2 = head >> 16 & 0xffff;
	uint64_t y1 = (s1 + B - x1 + 1) % B;
	uint64_t y2 = (s2 + 2 * B - x2 - len % B * ((x1 + B - 1) % B) % B) % B;
	return (uint32_t)(y1 | y2 << 16);
}

/* One inflate call of the scan: 1 at the stream's end, 0 to go on, -1 on
 * bad data. */
static int jn_scan_step(struct jn *j, size_t i, struct jn_rd *rd,
			uint64_t *next, uLong *head)
{
	struct jn_tile *t = &j->t[i];
	z_stream *z = &j->in;
	uint64_t base = z->total_out, total = (uint64_t)t->h * j->stride;
	jn_feed(rd, z);
	z->next_out = j->scratch;
	z->avail_out = JN_SCRATCH;
	int ret = inflate(z, Z_BLOCK); /* Z_BUF_ERROR: no input left */
	size_t got = JN_SCRATCH - z->avail_out;
	if (ret != Z_OK && ret != Z_STREAM_END)
		return jn_why(j, "tile %zu: bad zlib data (%s)", i,
			      z->msg ? z->msg : "cut short");
	if (z->total_out > total || jn_rows(j, t, base, got, next))
		return jn_why(j, "tile %zu: the pixel data does not match "
			      "its rows", i);
	if (base == 0 && got)
		t->refilter = i > 0 && t->filter0 > 1;
	if (ret == Z_STREAM_END)
		return 1;
	if (z->data_type & 128)
		jn_boundary(j, t, head);
	return 0;
}

/* Inflate tile i once, to find its blocks (DESIGN) and check it. */
static int jn_scan(struct jn *j, size_t i)
{
	struct jn_tile *t = &j->t[i];
	struct jn_rd rd;
	uint64_t next = 0, total = (uint64_t)t->h * j->stride;
	uLong head = 0;
	int r;
	if (jn_inflate_reset(&j->in))
		return jn_why(j, "inflateReset");
	jn_rd_init(&rd, t);
	t->fin_bit = JN_ZHDR_BITS;
	t->q = total;
	while (!(r = jn_scan_step(j, i, &rd, &next, &head)))
		;
	if (r < 0)
		return -1;
	if (j->in.total_out != total || j->in.total_in != t->zlen ||
	    t->end_bit <= t->fin_bit)
		return jn_why(j, "tile %zu: %llu bytes of pixel data for %llu, "
			      "%llu of %llu compressed bytes used", i,
			      (unsigned long long)j->in.total_out,
			      (unsigned long long)total,
			      (unsigned long long)j->in.total_in,
			      (unsigned long long)t->zlen);
	t->adler = t->q_bit ? jn_adler_rest(j->in.adler, head, total - t->q)
			    : (uint32_t)j->in.adler;
	return 0;
}

/* ---- writing ---- */

/* A chunk straight to the file. */
static void jn_emit(struct jn_out *o, const char *type, const uint8_t *data,
		    size_t n)
{
	uint8_t hd[8], crc[4];
	jn_put32(hd, (uint32_t)n);
	memcpy(hd + 4, type, 4);
	uLong c = crc32(0, hd + 4, 4);
	if (n) /* crc32(c, NULL, 0) is 0, not c */
		c = crc32(c, data, (uInt)n);
	jn_put32(crc, (uint32_t)c);
	if (o->io_errno)
		return;
	if (fwrite(hd, 1, 8, o->fp) != 8 ||
	    (n && fwrite(data, 1, n, o->fp) != n) ||
	    fwrite(crc, 1, 4, o->fp) != 4)
		o->io_errno = errno ? errno : EIO;
}

static void jn_flush_idat(struct jn_out *o)
{
	if (o->n)
		jn_emit(o, "IDAT", o->buf, o->n);
	o->n = 0;
}

static void jn_put_byte(struct jn_out *o, uint8_t b)
{
	o->buf[o->n++] = b;
	if (o->n == JN_IDAT)
		jn_flush_idat(o);
}

/* Append the n low bits of v (n <= 24), low bit first. */
static void jn_put_bits(struct jn_out *o, uint32_t v, int n)
{
	o->acc |= v << o->nacc;
	o->nacc += n;
	for (; o->nacc >= 8; o->nacc -= 8, o->acc >>= 8)
		jn_put_byte(o, (uint8_t)o->acc);
}

/* Append whole bytes (copied at once when the output is on a byte
 * boundary). */
static void jn_put_bytes(struct jn_out *o, const uint8_t *p, size_t n)
{
	while (n && o->nacc) {
		jn_put_bits(o, *p++, 8);
		n--;
	}
	while (n) {
		size_t k = JN_IDAT - o->n < n ? JN_IDAT - o->n : n;
		memcpy(o->buf + o->n, p, k);
		o->n += k;
		p += k;
		n -= k;
		if (o->n == JN_IDAT)
			jn_flush_idat(o);
	}
}

/* An empty non-final fixed block: 10 bits. */
static void jn_empty_fixed(struct jn_out *o, int last)
{
	jn_put_bits(o, last ? 3u : 2u, 3);
	jn_put_bits(o, 0, 7);
}

/* To a byte boundary with an empty stored block, if not on one. */
static void jn_align(struct jn_out *o)
{
	static const uint8_t len[4] = {0x00, 0x00, 0xff, 0xff};
	if (!o->nacc)
		return;
	jn_put_bits(o, 0, 3);
	if (o->nacc)
		jn_put_bits(o, 0, 8 - o->nacc);
	jn_put_bytes(o, len, 4);
}

/* Byte b of t's stream with the bit at clear set to 0. */
static uint8_t jn_byte(struct jn_rd *rd, uint64_t b, uint64_t clear)
{
	const uint8_t *p;
	if (!jn_rd_span(rd, b, &p))
		return 0; /* not reached: the scan read these bytes */
	return b == clear / 8 ? (uint8_t)(*p & ~(1u << (clear % 8))) : *p;
}

/* Append the whole bytes [b, end) of t's stream, byte clear / 8 patched. */
static void jn_copy_bytes(struct jn_out *o, struct jn_rd *rd, uint64_t b,
			  uint64_t end, uint64_t clear)
{
	while (b < end) {
		const uint8_t *p;
		size_t k = jn_rd_span(rd, b, &p);
		if (!k)
			return; /* not reached: the scan read these bytes */
		if (k > end - b)
			k = (size_t)(end - b);
		if (clear / 8 >= b && clear / 8 < b + k) {
			size_t m = (size_t)(clear / 8 - b);
			uint8_t c = (uint8_t)(p[m] & ~(1u << (clear % 8)));
			jn_put_bytes(o, p, m);
			jn_put_bytes(o, &c, 1);
			k = m + 1;
		} else {
			jn_put_bytes(o, p, k);
		}
		b += k;
	}
}

/* Append bits [from, to) of t's stream, the bit at clear set to 0. The
 * output must be at from's bit position modulo 8. */
static void jn_copy_bits(struct jn_out *o, const struct jn_tile *t,
			 uint64_t from, uint64_t to, uint64_t clear)
{
	struct jn_rd rd;
	uint64_t b = from / 8, end = to / 8;
	jn_rd_init(&rd, t);
	if (from % 8) {
		int lo = (int)(from % 8), hi = b == end ? (int)(to % 8) : 8;
		uint8_t v = jn_byte(&rd, b, clear);
		jn_put_bits(o, (uint32_t)(v >> lo) & ((1u << (hi - lo)) - 1),
			    hi - lo);
		if (b == end)
			return;
		b++;
	}
	jn_copy_bytes(o, &rd, b, end, clear);
	if (to % 8)
		jn_put_bits(o, jn_byte(&rd, end, clear) &
				       ((1u << (to % 8)) - 1), (int)(to % 8));
}

/* Deflate n bytes straight into the IDAT buffer (on a byte boundary). */
static sc_result jn_deflate(struct jn *j, const uint8_t *p, size_t n,
			    int flush)
{
	z_stream *d = &j->de;
	d->next_in = p;
	d->avail_in = (uInt)n;
	do {
		d->next_out = j->o.buf + j->o.n;
		d->avail_out = (uInt)(JN_IDAT - j->o.n);
		if (deflate(d, flush) == Z_STREAM_ERROR)
			return SC_ERR_INTERNAL;
		j->o.n = JN_IDAT - d->avail_out;
		if (j->o.n == JN_IDAT)
			jn_flush_idat(&j->o);
	} while (d->avail_in || !d->avail_out);
	return SC_OK;
}

/* Row 0 (filter byte and row) as None: unfiltered against a zero row. */
static void jn_unfilter0(uint8_t *row, size_t stride, size_t bpp)
{
	uint8_t f = row[0], *r = row + 1;
	for (size_t x = 0; x + 1 < stride; x++) {
		uint8_t a = x >= bpp ? r[x - bpp] : 0;
		if (f == 1 || f == 4) /* Paeth of (a, 0, 0) is a */
			r[x] = (uint8_t)(r[x] + a);
		else if (f == 3)
			r[x] = (uint8_t)(r[x] + a / 2);
	}
	row[0] = 0;
}

/* Feed got inflated bytes at offset base to the deflater, row 0 held
 * back until whole and then refiltered; *adler over what is fed. */
static sc_result jn_refeed(struct jn *j, uint64_t base, size_t got,
			   uLong *adler)
{
	const uint8_t *p = j->scratch;
	if (base < j->stride) {
		size_t k = j->stride - (size_t)base < got
				   ? j->stride - (size_t)base : got;
		memcpy(j->row + base, p, k);
		p += k;
		got -= k;
		if (base + k < j->stride)
			return SC_OK;
		jn_unfilter0(j->row, j->stride, j->bpp);
		*adler = adler32(*adler, j->row, (uInt)j->stride);
		sc_result rc = jn_deflate(j, j->row, j->stride, Z_NO_FLUSH);
		if (rc)
			return rc;
	}
	*adler = adler32(*adler, p, (uInt)got);
	return jn_deflate(j, p, got, Z_NO_FLUSH);
}

/* Tile t's bytes [0, q) compressed again, its first row as None, ending
 * in non-final blocks on a byte boundary. */
static sc_result jn_reencode(struct jn *j, const struct jn_tile *t)
{
	struct jn_rd rd;
	z_stream *z = &j->in;
	uLong adler = adler32(0, NULL, 0);
	sc_result rc = SC_OK;
	if (jn_inflate_reset(z) || deflateReset(&j->de) != Z_OK)
		return SC_ERR_INTERNAL;
	jn_rd_init(&rd, t);
	while (!rc && z->total_out < t->q) {
		uint64_t base = z->total_out, left = t->q - base;
		jn_feed(&rd, z);
		z->next_out = j->scratch;
		z->avail_out = left < JN_SCRATCH ? (uInt)left : JN_SCRATCH;
		int ret = inflate(z, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END)
			return SC_ERR_INTERNAL; /* the scan read it all */
		rc = jn_refeed(j, base, (size_t)(z->total_out - base), &adler);
	}
	if (!rc)
		rc = jn_deflate(j, NULL, 0, Z_SYNC_FLUSH);
	j->adler = (uint32_t)adler32_combine(j->adler, adler, (z_off_t)t->q);
	j->info->refiltered++;
	j->info->reencoded += t->q;
	return rc;
}

/* Tile i's blocks into the stream (DESIGN). */
static sc_result jn_tile_out(struct jn *j, size_t i)
{
	const struct jn_tile *t = &j->t[i];
	uint64_t total = (uint64_t)t->h * j->stride, from = JN_ZHDR_BITS;
	uint64_t copied = total;
	jn_align(&j->o);
	if (t->refilter) {
		sc_result rc = jn_reencode(j, t);
		if (rc || t->q == total)
			return rc;
		for (uint64_t k = 0; k < t->q_bit % 8 / 2; k++)
			jn_empty_fixed(&j->o, 0);
		from = t->q_bit;
		copied = total - t->q;
	}
	jn_copy_bits(&j->o, t, from, t->end_bit, t->fin_bit);
	j->adler = (uint32_t)adler32_combine(j->adler, t->adler,
					     (z_off_t)copied);
	return SC_OK;
}

/* IHDR with the summed height, then the first tile's header chunks. */
static void jn_head(struct jn *j)
{
	uint8_t ihdr[13];
	const struct jn_tile *t0 = &j->t[0];
	memcpy(ihdr, j->ihdr, 13);
	jn_put32(ihdr + 4, j->h);
	if (fwrite(jn_sig, 1, 8, j->o.fp) != 8)
		j->o.io_errno = errno ? errno : EIO;
	jn_emit(&j->o, "IHDR", ihdr, 13);
	if (!j->o.io_errno && t0->npre &&
	    fwrite(t0->p + t0->pre, 1, t0->npre, j->o.fp) != t0->npre)
		j->o.io_errno = errno ? errno : EIO;
}

static sc_result jn_write(struct jn *j)
{
	sc_result rc = SC_OK;
	uint8_t adler[4];
	jn_head(j);
	jn_put_bits(&j->o, 0x0178, 16); /* zlib: deflate, 32K window */
	j->adler = (uint32_t)adler32(0, NULL, 0);
	for (size_t i = 0; !rc && !j->o.io_errno && i < j->n; i++)
		rc = jn_tile_out(j, i);
	if (rc)
		return rc;
	jn_empty_fixed(&j->o, 1);
	if (j->o.nacc)
		jn_put_bits(&j->o, 0, 8 - j->o.nacc);
	jn_put32(adler, j->adler);
	jn_put_bytes(&j->o, adler, 4);
	jn_flush_idat(&j->o);
	jn_emit(&j->o, "IEND", NULL, 0);
	if (j->o.io_errno) {
		errno = j->o.io_errno;
		return SC_ERR_IO;
	}
	return img_finish_file(j->o.fp);
}

/* ---- the whole ---- */

/* Parse and scan every tile used: 0 if they can be joined. */
static int jn_prepare(struct jn *j)
{
	j->t = sc_xcalloc(j->n, sizeof(*j->t));
	if (jn_pick(j))
		return -1;
	j->scratch = sc_xmalloc(JN_SCRATCH);
	if (inflateInit(&j->in) != Z_OK)
		return jn_why(j, "inflateInit");
	j->in_on = 1;
	for (size_t i = 0; i < j->n; i++)
		if (jn_scan(j, i))
			return -1;
	for (size_t i = 0; i < j->n; i++)
		if (j->t[i].refilter && !j->de_on) {
			int lvl = j->zlevel < 0 ? Z_DEFAULT_COMPRESSION : j->zlevel;
			if (deflateInit2(&j->de, lvl, Z_DEFLATED, -15, 8,
					 Z_DEFAULT_STRATEGY) != Z_OK)
				return jn_why(j, "deflateInit");
			j->de_on = 1;
			j->row = sc_xmalloc(j->stride);
		}
	j->info->tiles = j->n;
	return 0;
}

static void jn_free(struct jn *j)
{
	if (j->in_on)
		inflateEnd(&j->in);
	if (j->de_on)
		deflateEnd(&j->de); /* Z_DATA_ERROR after a sync flush: fine */
	free(j->t);
	free(j->scratch);
	free(j->row);
	free(j->o.buf);
	memset(j, 0, sizeof(*j));
}

sc_result imgjoin_write(const struct img_tile *tiles, size_t n,
			uint32_t crop_h, int zlevel, FILE *out,
			struct imgjoin_info *info)
{
	struct imgjoin_info mine;
	if (!info)
		info = &mine;
	memset(info, 0, sizeof(*info));
	if (!tiles || !n || !out || zlevel < -1 || zlevel > 9)
		return SC_ERR_INVALID;
	struct jn j = {.tiles = tiles, .n = n, .crop = crop_h, .zlevel = zlevel,
		       .info = info, .o = {.fp = out}};
	if (!jn_prepare(&j)) {
		j.o.buf = sc_xmalloc(JN_IDAT);
		sc_result rc = jn_write(&j);
		jn_free(&j);
		return rc;
	}
	jn_free(&j);
	info->stitched = 1;
	info->refiltered = 0;
	info->reencoded = 0;
	sc_log(SC_LOG_INFO, "img", "tiles stitched, not joined: %s", info->why);
	return img_stitch(tiles, n, crop_h, zlevel, out);
}
