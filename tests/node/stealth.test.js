// What pages see of the browser (issue 16), through the server: the API's
// `stealth` option and the admin page's "Look like an ordinary Chrome"
// box. The fixture tests/fixtures/stealth/signals.html paints one block
// per context (page, worker, iframe, its worker, out-of-process iframe, its
// worker) at x = 40 + 200 i, y = 100: #00c000 for an ordinary browser,
// #ff0000 for headless signals; the PNG's pixels are checked. (The CLI side
// is tests/e2e/test_stealth.c.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startFixture, startSnapcat, request, waitUntil } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';
import { decodePng } from './lib/png.js';

const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-stealth-'));
const PAGE = '/file?name=stealth/signals.html';
const CTX = ['page', 'worker', 'frame', 'frame-worker', 'oopif', 'oopif-worker'];

let fx;
let srv;

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'stealth' });
});

after(async () => {
  await srv?.stop();
  await fx?.stop();
});

async function finished(jobId) {
  const job = await waitUntil(async () => {
    const r = await request(srv.base, 'GET', `/api/jobs/${jobId}`);
    return ['done', 'failed', 'canceled'].includes(r.json?.state) ? r.json : null;
  }, 120000, `job ${jobId} to finish`, 100);
  assert.equal(job.state, 'done', `job ${jobId}: ${JSON.stringify(job)}\n${srv.logTail()}`);
  return job;
}

/** The colours of the six blocks in the job's PNG, and its title. */
async function blocks(job) {
  const s = await request(srv.base, 'GET', `/api/snapshots/${job.snapshot_id}`);
  assert.equal(s.status, 200, s.body);
  const png = await fetch(`${srv.base}/api/snapshots/${job.snapshot_id}/png`);
  const img = decodePng(Buffer.from(await png.arrayBuffer()));
  const hex = (x, y) => img.px(x, y).slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('');
  return { colours: CTX.map((_, i) => hex(120 + 200 * i, 150)), title: s.json.title };
}

const all = (c) => CTX.map(() => c);

test('API: an ordinary browser by default, the headless one with stealth: false', async () => {
  const a = await request(srv.base, 'POST', '/api/links', { url: fx.url(`${PAGE}&n=default`) });
  assert.ok(a.status === 201 || a.status === 200, a.body);
  const on = await blocks(await finished(a.json.job.id));
  assert.deepEqual(on.colours, all('00c000'), on.title);

  const b = await request(srv.base, 'POST', '/api/links', { url: fx.url(`${PAGE}&n=off`), options: { stealth: false } });
  assert.ok(b.status === 201 || b.status === 200, b.body);
  assert.deepEqual(b.json.job.options, { stealth: false });
  const off = await blocks(await finished(b.json.job.id));
  assert.deepEqual(off.colours, all('ff0000'), off.title);
  assert.match(off.title, / page=webdriver/);

  const bad = await request(srv.base, 'POST', '/api/links', { url: fx.url(`${PAGE}&n=bad`), options: { stealth: 'no' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /stealth/);
});

test('admin page: unticking "Look like an ordinary Chrome" sends stealth: false, and the detail shows it', async () => {
  const chromium = await launchChromium('stealth');
  try {
    const page = await chromium.newPage();
    await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#add-opts summary');
    await page.click('#add-opts summary');
    assert.equal(await page.$eval('#add-opts [data-o=stealth]', (e) => e.checked), true, 'on by default');
    await page.click('#add-opts [data-o=stealth]');
    const url = fx.url(`${PAGE}&n=admin`);
    await page.type('#add-url', url);
    await page.screenshot({ path: path.join(shots, 'stealth-add-form.png') });
    console.error(`# screenshot: ${path.join(shots, 'stealth-add-form.png')}`);
    await page.keyboard.press('Enter');
    const link = await waitUntil(async () => {
      const r = await request(srv.base, 'GET', '/api/links?limit=50');
      return r.json.items.find((l) => l.url === url && l.last_job?.state === 'done');
    }, 90000, 'the link added from the page to be captured');
    assert.deepEqual(link.last_job.options, { stealth: false });
    const off = await blocks(link.last_job);
    assert.deepEqual(off.colours, all('ff0000'), off.title);

    // the link's own options: stealth false shown unticked in the detail
    const set = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { options: { stealth: false } });
    assert.equal(set.status, 200, set.body);
    await page.goto(`${srv.base}/#/link/${link.id}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#detail[open]');
    await waitUntil(() => page.$eval('#d-opts [data-o=stealth]', (e) => !e.checked), 10000, 'the box unticked in the detail');
    await page.$eval('#d-opts', (e) => e.scrollIntoView());
    await page.screenshot({ path: path.join(shots, 'stealth-detail.png') });
    console.error(`# screenshot: ${path.join(shots, 'stealth-detail.png')}`);
  } finally {
    await chromium.close();
  }
});
