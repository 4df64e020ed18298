// A small PNG reader for the tests: 8-bit RGB or RGBA, not interlaced (what
// snapcat writes). decodePng(buf) -> { width, height, channels, px(x, y) }
// where px returns [r, g, b, a]. Throws on anything else.
import zlib from 'node:zlib';

const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function unfilter(raw, width, height, bpp) {
  const stride = width * bpp;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[row + i - bpp] : 0;
      const b = y ? out[row - stride + i] : 0;
      const c = y && i >= bpp ? out[row - stride + i - bpp] : 0;
      const x = raw[src + i];
      out[row + i] = (f === 0 ? x : f === 1 ? x + a : f === 2 ? x + b
        : f === 3 ? x + ((a + b) >> 1) : x + paeth(a, b, c)) & 0xff;
    }
  }
  return out;
}

export function decodePng(buf) {
  if (!buf.subarray(0, 8).equals(SIG)) throw new Error('not a PNG');
  let off = 8;
  let ihdr = null;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') ihdr = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (!ihdr) throw new Error('no IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [depth, ctype, , , interlace] = ihdr.subarray(8, 13);
  if (depth !== 8 || (ctype !== 2 && ctype !== 6) || interlace) {
    throw new Error(`unsupported PNG: depth ${depth} color type ${ctype} interlace ${interlace}`);
  }
  const channels = ctype === 6 ? 4 : 3;
  const pix = unfilter(zlib.inflateSync(Buffer.concat(idat)), width, height, channels);
  return {
    width,
    height,
    channels,
    px(x, y) {
      const i = (y * width + x) * channels;
      return [pix[i], pix[i + 1], pix[i + 2], channels === 4 ? pix[i + 3] : 255];
    },
  };
}
