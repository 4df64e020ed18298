// The snapshot's stored text (issue 17) against the real server and Chromium:
// GET /api/snapshots/{id}/text answers the page's text as text/plain (nosniff,
// ETag, 404 when none), and the admin page's Text view shows it reader style,
// as text: the page's "<img onerror>" words stay words. Screenshots go to
// $SNAPCAT_SHOTS (default: a temp dir) and their paths are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFixture, startSnapcat, waitUntil, capture, request } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

let fx;
let srv;
let chromium;
let page;
const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-views-'));
const dialogs = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'views' });
  chromium = await launchChromium('views');
  page = await chromium.newPage();
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
});

after(async () => {
  await chromium?.close();
  await srv?.stop();
  await fx?.stop();
});

/** Capture url and wait until its job is done; resolves with {link, job, snapshot}. */
async function captured(url, tags = []) {
  const added = await capture(srv, url, tags);
  let job;
  await waitUntil(async () => {
    job = (await request(srv.base, 'GET', `/api/jobs/${added.job.id}`)).json;
    if (job?.state === 'failed') throw new Error(`the capture of ${url} failed: ${JSON.stringify(job.error)}`);
    return job?.state === 'done';
  }, 180000, `the capture of ${url}`);
  const snap = (await request(srv.base, 'GET', `/api/snapshots/${job.snapshot_id}`)).json;
  return { link: added.link, job, snapshot: snap };
}

async function shot(name) {
  const p = path.join(shots, name);
  await page.screenshot({ path: p });
  console.error(`# screenshot: ${p}`);
}

const READER_HTML = '<!doctype html><title>Reader fixture</title><h1>Quiet zebracorn</h1>'
  + '<p>The first paragraph of the article, long enough to wrap across the reader column '
  + 'so that its measure can be judged by a person looking at the screenshot.</p>'
  + '<p>&lt;img src=x onerror=alert(1)&gt; stays words</p><p>Last line.</p>'
  + '<script>document.title = "Reader fixture"</script>';

test('text: GET /api/snapshots/{id}/text and the admin Text view', async () => {
  const { link, snapshot } = await captured(fx.url('/page?html=' + encodeURIComponent(READER_HTML)), ['reader']);
  assert.equal(snapshot.outputs.text, 'ok');
  assert.equal(snapshot.text_url, `/api/snapshots/${snapshot.id}/text`);

  const r = await request(srv.base, 'GET', snapshot.text_url);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.match(r.headers['content-security-policy'] || '', /default-src 'none'/);
  assert.match(r.body, /Quiet zebracorn/);
  assert.match(r.body, /The first paragraph of the article/);
  assert.match(r.body, /<img src=x onerror=alert\(1\)> stays words/);
  const etag = r.headers.etag;
  assert.ok(etag, 'an ETag');
  const again = await request(srv.base, 'GET', snapshot.text_url, undefined, { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal((await request(srv.base, 'GET', '/api/snapshots/999999/text')).status, 404);

  // the admin page: open the link, the Text view shows the paragraphs as text
  await page.goto(`${srv.base}/#/link/${link.id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#detail[open]');
  await page.waitForSelector('#v-bar button[data-view="text"]:not([disabled])', { timeout: 30000 });
  await page.click('#v-bar button[data-view="text"]');
  await waitUntil(() => page.evaluate(() => [...document.querySelectorAll('#v-text p')]
    .some((p) => p.textContent.includes('stays words'))), 20000, 'the Text view');
  const paras = await page.$$eval('#v-text p', (ps) => ps.map((p) => p.textContent));
  assert.ok(paras.includes('Quiet zebracorn'), paras.join('|'));
  assert.ok(paras.includes('<img src=x onerror=alert(1)> stays words'), paras.join('|'));
  assert.equal(await page.$('#v-text img'), null, 'the text never becomes HTML');
  assert.deepEqual(dialogs, []);
  await shot('admin-text.png');
  // back to the page view
  await page.click('#v-bar button[data-view="page"]');
  await page.waitForSelector('#v-scroll img');
});
