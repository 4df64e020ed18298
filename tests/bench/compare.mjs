// Pixel comparison of two captures of the same page.
//
//   node compare.mjs A.png B.png [CROP_PREFIX]
//
// Decodes both PNGs and prints one JSON object: both sizes, identical (same
// size and every pixel equal), the number of differing pixels (over the common
// area, plus every pixel of one image that the other does not have), the
// bounding box of the differences in the common area, the rows that differ,
// and the largest per-channel difference. With CROP_PREFIX and a difference,
// writes CROP_PREFIX-a.png, -b.png and -diff.png: at most 1280x1000 px around
// the first differing row (diff: differing pixels red on a dimmed copy of A),
// for a person to look at.
//
// Decoding: Chromium and snapcat write 8-bit RGB or RGBA, non-interlaced PNGs;
// those are decoded here (zlib inflate + the five row filters: about 10x faster
// than pngjs on an 80,000 px page); anything else goes through pngjs. Pixels
// are compared as RGBA (alpha 255 for RGB).
import fs from 'node:fs';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';

function decode(buf) {
  const ihdr = 8 + 8;
  const width = buf.readUInt32BE(ihdr), height = buf.readUInt32BE(ihdr + 4);
  const depth = buf[ihdr + 8], ctype = buf[ihdr + 9], interlace = buf[ihdr + 12];
  if (depth !== 8 || (ctype !== 2 && ctype !== 6) || interlace !== 0) {
    const p = PNG.sync.read(buf);
    return { width: p.width, height: p.height, ch: 4, data: p.data };
  }
  const ch = ctype === 6 ? 4 : 3;
  const idat = [];
  for (let off = 8; off < buf.length;) {
    const len = buf.readUInt32BE(off), type = buf.toString('latin1', off + 4, off + 8);
    if (type === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
    if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * ch;
  const data = Buffer.allocUnsafe(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1, dst = y * stride, up = dst - stride;
    if (f === 0 || (f === 2 && y === 0)) { raw.copy(data, dst, src, src + stride); continue; }
    let i = 0;
    if (f === 1) {
      for (; i < ch; i++) data[dst + i] = raw[src + i];
      for (; i < stride; i++) data[dst + i] = raw[src + i] + data[dst + i - ch];
    } else if (f === 2) {
      for (; i < stride; i++) data[dst + i] = raw[src + i] + data[up + i];
    } else if (f === 3) {
      if (y === 0) {
        for (; i < ch; i++) data[dst + i] = raw[src + i];
        for (; i < stride; i++) data[dst + i] = raw[src + i] + (data[dst + i - ch] >> 1);
      } else {
        for (; i < ch; i++) data[dst + i] = raw[src + i] + (data[up + i] >> 1);
        for (; i < stride; i++) data[dst + i] = raw[src + i] + ((data[dst + i - ch] + data[up + i]) >> 1);
      }
    } else if (f === 4) {
      if (y === 0) { // Paeth with no row above = Sub
        for (; i < ch; i++) data[dst + i] = raw[src + i];
        for (; i < stride; i++) data[dst + i] = raw[src + i] + data[dst + i - ch];
      } else {
        for (; i < ch; i++) data[dst + i] = raw[src + i] + data[up + i];
        for (; i < stride; i++) {
          const a = data[dst + i - ch], b = data[up + i], c = data[up + i - ch];
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          data[dst + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
      }
    } else {
      throw new Error(`${f}: bad PNG row filter`);
    }
  }
  return { width, height, ch, data };
}

const [fa, fb, crop] = process.argv.slice(2);
const A = decode(fs.readFileSync(fa));
const B = decode(fs.readFileSync(fb));
const w = Math.min(A.width, B.width), h = Math.min(A.height, B.height);
// channel k (0..3) of pixel (x, y); alpha of RGB is 255
const chan = (S, x, y, k) => (k < S.ch ? S.data[(y * S.width + x) * S.ch + k] : 255);
const samePx = (x, y) => {
  const pa = (y * A.width + x) * A.ch, pb = (y * B.width + x) * B.ch;
  if (A.data[pa] !== B.data[pb] || A.data[pa + 1] !== B.data[pb + 1] || A.data[pa + 2] !== B.data[pb + 2]) return false;
  return (A.ch === 4 ? A.data[pa + 3] : 255) === (B.ch === 4 ? B.data[pb + 3] : 255);
};
let diff = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1, rows = 0, maxDelta = 0;
for (let y = 0; y < h; y++) {
  // fast path: the whole common row is byte-identical
  if (A.ch === B.ch) {
    const ra = y * A.width * A.ch, rb = y * B.width * B.ch, n = w * A.ch;
    if (A.data.compare(B.data, rb, rb + n, ra, ra + n) === 0) continue;
  }
  let rowDiff = false;
  for (let x = 0; x < w; x++) {
    if (samePx(x, y)) continue;
    diff++;
    rowDiff = true;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    for (let k = 0; k < 4; k++) {
      const d = Math.abs(chan(A, x, y, k) - chan(B, x, y, k));
      if (d > maxDelta) maxDelta = d;
    }
  }
  if (rowDiff) {
    rows++;
    if (y < y0) y0 = y;
    y1 = y;
  }
}
const extra = A.width * A.height + B.width * B.height - 2 * w * h;
const sameSize = A.width === B.width && A.height === B.height;
const res = {
  a: { width: A.width, height: A.height }, b: { width: B.width, height: B.height },
  same_size: sameSize, identical: sameSize && diff === 0,
  diff_pixels: diff + extra, diff_pixels_common: diff,
  diff_share: (diff + extra) / Math.max(A.width * A.height, B.width * B.height),
  diff_rows: rows, max_channel_delta: maxDelta,
  bbox: diff ? { x0, y0, x1, y1 } : null,
};
if (crop && (diff || !sameSize)) {
  const top = diff ? Math.max(0, y0 - 100) : Math.max(0, h - 500);
  const ch = Math.min(1000, Math.max(A.height, B.height) - top);
  const cw = Math.min(1280, Math.max(A.width, B.width));
  const cut = (S, mark) => {
    const o = new PNG({ width: cw, height: ch });
    o.data.fill(0xff);
    for (let y = 0; y < ch; y++) {
      const sy = top + y;
      if (sy >= S.height) break;
      for (let x = 0; x < cw && x < S.width; x++) {
        const d = (y * cw + x) * 4;
        if (mark && (sy >= B.height || x >= B.width || !samePx(x, sy))) {
          o.data[d] = 255; o.data[d + 1] = 0; o.data[d + 2] = 0; o.data[d + 3] = 255;
          continue;
        }
        for (let k = 0; k < 3; k++) o.data[d + k] = mark ? 192 + (chan(S, x, sy, k) >> 2) : chan(S, x, sy, k);
        o.data[d + 3] = 255;
      }
    }
    return PNG.sync.write(o);
  };
  fs.writeFileSync(`${crop}-a.png`, cut(A, false));
  fs.writeFileSync(`${crop}-b.png`, cut(B, false));
  fs.writeFileSync(`${crop}-diff.png`, cut(A, true));
  res.crop = { prefix: crop, top, height: ch };
}
process.stdout.write(JSON.stringify(res) + '\n');
