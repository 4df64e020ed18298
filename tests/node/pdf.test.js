// The PDF output from the admin page (issue 17): the "PDF" box of the add
// form's capture options sends {pdf: true}, the capture keeps a PDF, the
// link's viewer shows it in its PDF view (a frame of /api/snapshots/{id}/pdf,
// the one route the admin page may frame) and the snapshot's details link
// to it. Without the option the PDF view is disabled. (The PDF's pages and
// text are checked with pdfinfo/pdftotext in tests/e2e/test_pdf.c.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFixture, startSnapcat, waitUntil, request } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

let fx;
let srv;
let chromium;
let page;
const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-pdf-'));

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'pdf' });
  chromium = await launchChromium('pdf');
  page = await chromium.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
});

after(async () => {
  await chromium?.close();
  await srv?.stop();
  await fx?.stop();
});

/** The newest snapshot of the link of url, once its capture is over. */
async function snapshotOf(url) {
  return waitUntil(async () => {
    const r = await request(srv.base, 'GET', '/api/links');
    const l = r.json.items.find((x) => x.url === url);
    if (!l || !l.last_snapshot || !l.last_snapshot.finished_at) return null;
    return (await request(srv.base, 'GET', `/api/snapshots/${l.last_snapshot.id}`)).json;
  }, 180000, 'the capture of ' + url, 200);
}

test('admin page: the PDF option, the PDF view in a frame, the Open PDF link', async () => {
  await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#add-url');
  await page.click('#add-opts > summary');
  await page.waitForSelector('#add-opts [data-o="pdf"]');
  assert.equal(await page.$eval('#add-opts [data-o="pdf"]', (e) => e.checked), false, 'off by default');
  await page.click('#add-opts [data-o="pdf"]');
  const url = fx.url('/file?name=print/long.html');
  await page.type('#add-url', url);
  await page.keyboard.press('Enter');
  const s = await snapshotOf(url);
  assert.equal(s.outputs.pdf, 'ok', JSON.stringify(s));
  assert.equal(s.pdf_url, `/api/snapshots/${s.id}/pdf`);
  assert.ok(s.bytes.pdf > 1000);

  await page.goto(`${srv.base}/#/link/${s.link_id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-view="pdf"]:not([disabled])', { timeout: 30000 });
  await page.click('[data-view="pdf"]');
  await page.waitForSelector('iframe.v-pdf-frame');
  assert.equal(await page.$eval('iframe.v-pdf-frame', (f) => new URL(f.src).pathname), s.pdf_url);
  // the frame loads the PDF (not a blocked-frame error page)
  const frame = await waitUntil(async () => page.frames().find((f) => f.url().endsWith(s.pdf_url)) || null,
    30000, 'the PDF frame');
  assert.ok(frame);
  const open = await page.$$eval('a', (as) => as.filter((a) => a.textContent === 'Open PDF').map((a) => a.getAttribute('href')));
  assert.ok(open.some((h) => h.endsWith(s.pdf_url)), open.join('|'));
  await page.screenshot({ path: path.join(shots, 'pdf-view.png') });
});

test('admin page: without the option the PDF view is disabled', async () => {
  const url = fx.url('/final');
  const r = await request(srv.base, 'POST', '/api/links', { url });
  assert.ok(r.status === 201 || r.status === 200);
  const s = await snapshotOf(url);
  assert.equal(s.outputs.pdf, 'skipped');
  assert.equal(s.pdf_url, null);
  await page.goto(`${srv.base}/#/link/${s.link_id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-view="pdf"]');
  await waitUntil(async () => page.$eval('[data-view="pdf"]', (b) => b.disabled), 30000, 'the PDF button disabled');
});

test('the PDF counts in /metrics (snapcat_stored_bytes kind="pdf") and /api/export lists pdf_url', async () => {
  const links = (await request(srv.base, 'GET', '/api/links')).json.items;
  const snaps = await Promise.all(links.map(async (l) =>
    (await request(srv.base, 'GET', `/api/snapshots/${l.last_snapshot.id}`)).json));
  const withPdf = snaps.filter((s) => s.pdf_url);
  assert.equal(withPdf.length, 1, 'the first test\'s capture');
  const m = await request(srv.base, 'GET', '/metrics');
  assert.equal(m.status, 200);
  const line = m.body.split('\n').find((l) => l.startsWith('snapcat_stored_bytes{kind="pdf"}'));
  assert.ok(line, 'a pdf kind in snapcat_stored_bytes');
  assert.equal(Number(line.split(' ')[1]), withPdf[0].bytes.pdf);
  const exp = await request(srv.base, 'GET', '/api/export?format=json');
  assert.equal(exp.status, 200);
  const all = exp.json.links.flatMap((l) => l.snapshots);
  for (const s of snaps) {
    const e = all.find((x) => x.id === s.id);
    assert.ok(e, `snapshot ${s.id} exported`);
    assert.equal(e.pdf_url, s.pdf_url, `snapshot ${s.id}: pdf_url as the API says`);
  }
  assert.equal(all.find((x) => x.id === withPdf[0].id).pdf_url, `/api/snapshots/${withPdf[0].id}/pdf`);
});
