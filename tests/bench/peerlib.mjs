// What the two puppeteer-core peers of the benchmark share (peer.mjs: the
// networkidle0 script; tuned.mjs: the tuned script): the command line, one
// browser on the same Chromium and flags as snapcat, a worker pool of
// --concurrency workers over the URL list, a fresh browser context per URL,
// the output files and one JSON line per URL, like `snapcat capture`.
//
//   node peer.mjs|tuned.mjs --out DIR [--concurrency 2] [--timeout 60]
//        [--idle-timeout 30] [--chromium /usr/bin/chromium] [--width 1280 --height 800]
//        [--user-agent UA] [--arg=FLAG]... URL...
//
// The browser is launched with exactly the --arg flags plus a fresh
// --user-data-dir and about:blank (ignoreDefaultArgs: puppeteer adds none of
// its own). Per URL the script's capture function gets a page in a new
// context (viewport --width x --height, deviceScaleFactor 1, the user agent
// if given) and returns {png: Buffer, mhtml: string}; it records its stages
// in r.timings and may set r.note. A capture that throws is that URL's
// failure (r.error; its time stays in r.timings.total and in the run's wall
// time). The page's deadline is --timeout s (the whole capture), like
// snapcat's --timeout. Requests to any host other than 127.0.0.1 are listed
// in r.external (they fail: the bench passes --host-resolver-rules and runs in
// a loopback-only network namespace). After the last URL one summary line
// {"summary": {...}}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const ms = (a, b) => Math.round(b - a);

export function parseArgs(argv) {
  const args = { out: '.', concurrency: 2, timeout: 60, idleTimeout: 30, chromium: '/usr/bin/chromium', width: 1280, height: 800, userAgent: '', flags: [], urls: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const eq = a.indexOf('=');
      return eq > 0 ? a.slice(eq + 1) : argv[++i];
    };
    if (a.startsWith('--out')) args.out = val();
    else if (a.startsWith('--concurrency')) args.concurrency = Number(val());
    else if (a.startsWith('--idle-timeout')) args.idleTimeout = Number(val());
    else if (a.startsWith('--timeout')) args.timeout = Number(val());
    else if (a.startsWith('--chromium')) args.chromium = val();
    else if (a.startsWith('--width')) args.width = Number(val());
    else if (a.startsWith('--height')) args.height = Number(val());
    else if (a.startsWith('--user-agent')) args.userAgent = val();
    else if (a.startsWith('--arg')) args.flags.push(val());
    else args.urls.push(a);
  }
  if (!args.flags.length) {
    // the flags of the benchmark brief; bench.mjs passes snapcat's own list
    args.flags = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-sync', '--hide-scrollbars', '--remote-debugging-port=0'];
  }
  return args;
}

function pngSize(buf) {
  // IHDR: width and height are the big-endian words at offsets 16 and 20
  return buf.length > 24 ? { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) } : { width: 0, height: 0 };
}

// Runs capture(page, url, r, args) over args.urls; exits the process.
export async function runPeer(name, capture) {
  const t0 = performance.now();
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-udd-`));
  const browser = await puppeteer.launch({
    executablePath: args.chromium,
    ignoreDefaultArgs: true,
    args: [...args.flags, `--user-data-dir=${udd}`, 'about:blank'],
    defaultViewport: { width: args.width, height: args.height, deviceScaleFactor: 1 },
    protocolTimeout: 300000,
  });
  const tLaunched = performance.now();

  async function one(n, url) {
    const r = { n, url, status: null, png: null, mhtml: null, width: 0, height: 0, bytes: {}, timings: {}, external: [], note: null, error: null };
    const T = r.timings;
    const a = performance.now();
    let ctx = null, timer = null;
    try {
      ctx = await browser.createBrowserContext();
      const page = await ctx.newPage();
      if (args.userAgent) await page.setUserAgent(args.userAgent);
      page.on('request', (q) => {
        const u = q.url();
        if (/^(https?|wss?):/.test(u) && new URL(u).hostname !== '127.0.0.1') r.external.push(u);
      });
      T.setup = ms(a, performance.now());
      const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`page deadline of ${args.timeout} s passed`), { klass: 'timeout' })),
          Math.max(0, args.timeout * 1000 - (performance.now() - a)));
      });
      const { png, mhtml } = await Promise.race([capture(page, url, r, args), deadline]);
      const e = performance.now();
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
      const msg = String(err && err.message || err);
      r.error = { class: err && err.klass ? err.klass : /timeout|timed out|exceeded/i.test(msg) ? 'timeout' : name, message: msg.split('\n')[0] };
      if (ctx) await ctx.close().catch(() => {});
    }
    clearTimeout(timer);
    T.total = ms(a, performance.now());
    process.stdout.write(JSON.stringify(r) + '\n');
    return r;
  }

  let next = 0, failed = 0;
  async function worker() {
    while (next < args.urls.length) {
      const i = next++;
      const r = await one(i + 1, args.urls[i]);
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
}

// Navigation timing shared by both peers: T.navigate = goto's start to the
// main frame's commit (framenavigated), so that "ready" (commit -> ready to
// capture) means what snapcat's load + settle mean.
export function commitClock(page) {
  const c = { at: null };
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame() && c.at === null) c.at = performance.now();
  });
  return c;
}
