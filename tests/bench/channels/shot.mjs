// shot.mjs — screenshot /compare.html of a running snapcat server while events flow.
//
//   node shot.mjs BASE_URL OUT_PREFIX [--events N] [--rate R] [--width W] [--mobile]
//
// Opens the page in headless Chromium (puppeteer-core, /usr/bin/chromium or $CHROMIUM),
// lets it connect, PATCHes the newest link N times at R/s (link.updated events), waits,
// and writes OUT_PREFIX-desktop.png, OUT_PREFIX-phone.png (full page) and
// OUT_PREFIX-phone-top.png (the first screen). A hard deadline ends it.
// Streams stay open, so --virtual-time-budget cannot be used; this script is the way.
import puppeteer from 'puppeteer-core';

const args = process.argv.slice(2);
const base = args[0];
const out = args[1] || '/tmp/compare';
const opt = (name, d) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : d; };
const N = opt('--events', 60), RATE = opt('--rate', 30);
if (!base) { console.error('usage: node shot.mjs BASE_URL OUT_PREFIX'); process.exit(2); }

const deadline = setTimeout(() => { console.error('shot.mjs: deadline passed'); process.exit(1); }, 60000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function patchMany(n, rate) {
  const r = await fetch(base + '/api/links?limit=1');
  const j = await r.json();
  const id = j.items && j.items[0] && j.items[0].id;
  if (!id) throw new Error('no link on the server');
  for (let i = 0; i < n; i++) {
    await fetch(base + '/api/links/' + id, { method: 'PATCH', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'shot ' + i }) });
    await sleep(1000 / rate);
  }
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
  headless: true,
});
try {
  const views = [['desktop', { width: 1200, height: 1500, deviceScaleFactor: 1 }],
    ['phone', { width: 390, height: 1900, deviceScaleFactor: 2, isMobile: true, hasTouch: true }]];
  const pages = [];
  for (const [name, vp] of views) {
    const page = await browser.newPage();
    await page.setViewport(vp);
    page.on('console', (m) => console.error(`[${name} console] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => console.error(`[${name} pageerror] ${e.message}`));
    await page.goto(base + '/compare.html', { waitUntil: 'domcontentloaded', timeout: 15000 });
    pages.push([name, page]);
  }
  await sleep(1500);
  await patchMany(N, RATE);
  await sleep(2500);
  for (const [name, page] of pages) {
    await page.screenshot({ path: `${out}-${name}.png`, fullPage: true, captureBeyondViewport: true });
    console.log(`${out}-${name}.png`);
  }
  // what a phone shows first (one screen, full resolution)
  const phone = pages.find(([n]) => n === 'phone')[1];
  await phone.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.screenshot({ path: `${out}-phone-top.png` });
  console.log(`${out}-phone-top.png`);
} finally {
  await browser.close();
  clearTimeout(deadline);
}
