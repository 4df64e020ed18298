// The peer of the benchmark: what a user who outgrows a script writes with
// puppeteer-core, on the same Chromium and flags as snapcat.
//
//   node peer.mjs --out DIR [--concurrency 2] [--timeout 60] [--chromium /usr/bin/chromium]
//                 [--width 1280 --height 800] [--arg=FLAG]... URL...
//
// One browser (launched with exactly the --arg flags plus a fresh
// --user-data-dir and about:blank: ignoreDefaultArgs, so puppeteer adds none of
// its own), a worker pool of --concurrency workers over the URL list, and per
// URL:
//   setup      browser.createBrowserContext() + context.newPage() (viewport
//              1280x800 applied by puppeteer)
//   goto       page.goto(url, {waitUntil: 'networkidle0', timeout: --timeout s})
//   screenshot page.screenshot({fullPage: true})   (PNG, captureBeyondViewport)
//   mhtml      CDP session Page.captureSnapshot {format: 'mhtml'}
//   write      <n>.png and <n>.mhtml into --out (n = position in the list)
//   close      context.close()
// Prints one JSON line per URL when it is done (like `snapcat capture`), then
// one summary line {"summary": {...}}. Requests to any host other than
// 127.0.0.1 are listed in "external" (they fail: the bench passes
// --host-resolver-rules and runs in a loopback-only network namespace).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const t0 = performance.now();
const args = { out: '.', concurrency: 2, timeout: 60, chromium: '/usr/bin/chromium', width: 1280, height: 800, flags: [], urls: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    const eq = a.indexOf('=');
    return eq > 0 ? a.slice(eq + 1) : argv[++i];
  };
  if (a.startsWith('--out')) args.out = val();
  else if (a.startsWith('--concurrency')) args.concurrency = Number(val());
  else if (a.startsWith('--timeout')) args.timeout = Number(val());
  else if (a.startsWith('--chromium')) args.chromium = val();
  else if (a.startsWith('--width')) args.width = Number(val());
  else if (a.startsWith('--height')) args.height = Number(val());
  else if (a.startsWith('--arg')) args.flags.push(val());
  else args.urls.push(a);
}
if (!args.flags.length) {
  // the flags of the benchmark brief; bench.mjs passes snapcat's own list
  args.flags = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--no-first-run',
    '--disable-sync', '--hide-scrollbars', '--remote-debugging-port=0'];
}
fs.mkdirSync(args.out, { recursive: true });
const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-peer-udd-'));
const ms = (a, b) => Math.round(b - a);

const browser = await puppeteer.launch({
  executablePath: args.chromium,
  ignoreDefaultArgs: true,
  args: [...args.flags, `--user-data-dir=${udd}`, 'about:blank'],
  defaultViewport: { width: args.width, height: args.height, deviceScaleFactor: 1 },
  protocolTimeout: 180000,
});
const tLaunched = performance.now();

function pngSize(buf) {
  // IHDR: width and height are the big-endian words at offsets 16 and 20
  return buf.length > 24 ? { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) } : { width: 0, height: 0 };
}

async function captureOne(n, url) {
  const r = { n, url, status: null, png: null, mhtml: null, width: 0, height: 0, bytes: {}, timings: {}, external: [], error: null };
  const T = r.timings;
  const a = performance.now();
  let ctx = null;
  try {
    ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    page.on('request', (q) => {
      const u = q.url();
      if (/^https?:/.test(u) && new URL(u).hostname !== '127.0.0.1') r.external.push(u);
    });
    const b = performance.now(); T.setup = ms(a, b);
    const resp = await page.goto(url, { waitUntil: 'networkidle0', timeout: args.timeout * 1000 });
    r.status = resp ? resp.status() : null;
    const c = performance.now(); T.goto = ms(b, c);
    const png = await page.screenshot({ fullPage: true });
    const d = performance.now(); T.screenshot = ms(c, d);
    const cdp = await page.createCDPSession();
    const { data: mhtml } = await cdp.send('Page.captureSnapshot', { format: 'mhtml' });
    const e = performance.now(); T.mhtml = ms(d, e);
    r.png = path.join(args.out, `${n}.png`);
    r.mhtml = path.join(args.out, `${n}.mhtml`);
    await Promise.all([fs.promises.writeFile(r.png, png), fs.promises.writeFile(r.mhtml, mhtml)]);
    Object.assign(r, pngSize(png));
    r.bytes = { png: png.length, mhtml: Buffer.byteLength(mhtml) };
    const f = performance.now(); T.write = ms(e, f);
    await ctx.close();
    ctx = null;
    T.close = ms(f, performance.now());
  } catch (err) {
    r.error = { class: 'peer', message: String(err && err.message || err) };
    if (ctx) await ctx.close().catch(() => {});
  }
  T.total = ms(a, performance.now());
  process.stdout.write(JSON.stringify(r) + '\n');
  return r;
}

let next = 0, failed = 0;
async function worker() {
  while (next < args.urls.length) {
    const i = next++;
    const r = await captureOne(i + 1, args.urls[i]);
    if (r.error) failed++;
  }
}
await Promise.all(Array.from({ length: Math.max(1, args.concurrency) }, worker));
const tDone = performance.now();
await browser.close();
fs.rmSync(udd, { recursive: true, force: true });
const tEnd = performance.now();
process.stdout.write(JSON.stringify({ summary: {
  pages: args.urls.length, failed, launch_ms: ms(t0, tLaunched), captures_ms: ms(tLaunched, tDone),
  close_ms: ms(tDone, tEnd), wall_ms: ms(t0, tEnd),
} }) + '\n');
process.exit(failed ? 1 : 0);
