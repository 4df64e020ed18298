// Pixel comparison of two captures of the same page.
//
//   node compare.mjs A.png B.png [CROP_PREFIX]
//
// Decodes both PNGs (pngjs; any colour type/bit depth becomes 8-bit RGBA) and
// prints one JSON object: both sizes, identical (same size and every pixel
// equal), the number of differing pixels (over the common area, plus every
// pixel of one image that the other does not have), the bounding box of the
// differences in the common area, the rows that differ, and the largest
// per-channel difference. With CROP_PREFIX and a difference, writes
// CROP_PREFIX-a.png, -b.png and -diff.png: at most 1280x1000 px around the
// first differing row (diff: differing pixels red on a dimmed copy of A), for
// a person to look at.
import fs from 'node:fs';
import { PNG } from 'pngjs';

const [fa, fb, crop] = process.argv.slice(2);
const A = PNG.sync.read(fs.readFileSync(fa));
const B = PNG.sync.read(fs.readFileSync(fb));
const w = Math.min(A.width, B.width), h = Math.min(A.height, B.height);
const a32 = new Uint32Array(A.data.buffer, A.data.byteOffset, A.data.length / 4);
const b32 = new Uint32Array(B.data.buffer, B.data.byteOffset, B.data.length / 4);
let diff = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1, rows = 0, maxDelta = 0;
for (let y = 0; y < h; y++) {
  const ra = y * A.width, rb = y * B.width;
  let rowDiff = false;
  for (let x = 0; x < w; x++) {
    if (a32[ra + x] !== b32[rb + x]) {
      diff++;
      rowDiff = true;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (diff <= 200000) { // enough to know how large the differences are
        const pa = (ra + x) * 4, pb = (rb + x) * 4;
        for (let k = 0; k < 4; k++) {
          const d = Math.abs(A.data[pa + k] - B.data[pb + k]);
          if (d > maxDelta) maxDelta = d;
        }
      }
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
        const s = (sy * S.width + x) * 4, d = (y * cw + x) * 4;
        if (mark) {
          const other = sy < B.height && x < B.width ? (sy * B.width + x) * 4 : -1;
          const differs = other < 0 || a32[s / 4] !== b32[other / 4];
          if (differs) { o.data[d] = 255; o.data[d + 1] = 0; o.data[d + 2] = 0; o.data[d + 3] = 255; continue; }
          for (let k = 0; k < 3; k++) o.data[d + k] = 192 + (S.data[s + k] >> 2);
          o.data[d + 3] = 255;
        } else {
          for (let k = 0; k < 4; k++) o.data[d + k] = S.data[s + k];
        }
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
