// The admin page's gaps of issue 17, driven in headless Chromium against the
// real server: the search box says it searches page text (and does); a tag is
// renamed and merged from the sidebar; imported links appear without a reload
// and "Capture the N imported links" queues them; a link's Snapshots and
// Schedule come before its (folded) capture options; in Slider mode the
// viewer's label is whole; the "Keep the newest" box is styled like the other
// inputs. Screenshots go to $SNAPCAT_SHOTS (default: a temp dir).
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
const errors = [];
const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-gaps-'));

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'gaps' });
  chromium = await launchChromium('gaps');
  page = await chromium.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
});

after(async () => {
  await chromium?.close();
  await srv?.stop();
  await fx?.stop();
});

async function shot(name) {
  const p = path.join(shots, name);
  await page.screenshot({ path: p });
  console.error(`# screenshot: ${p}`);
}

async function jobDone(jobId) {
  let job;
  await waitUntil(async () => {
    job = (await request(srv.base, 'GET', `/api/jobs/${jobId}`)).json;
    if (job?.state === 'failed') throw new Error(`job ${jobId} failed: ${JSON.stringify(job.error)}`);
    return job?.state === 'done';
  }, 180000, `job ${jobId} done`);
  return job;
}

const cardUrls = () => page.$$eval('#grid article.card .card-url', (els) => els.map((e) => e.textContent));

test('search box: says it searches page text, and a word of the text only finds its link', async () => {
  const a = await capture(srv, fx.url('/text?w=quokkaword'), ['alpha']);
  await jobDone(a.job.id);
  await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
  assert.match(await page.$eval('#search', (e) => e.placeholder), /page text/);
  await page.type('#search', 'quokkaword');
  await waitUntil(async () => {
    const u = await cardUrls();
    return u.length === 1 && u[0].includes('quokkaword');
  }, 20000, 'the search by page text');
  await page.click('#search', { clickCount: 3 });
  await page.keyboard.press('Backspace');
});

test('tags: rename, then merge into an existing tag, from the sidebar', async () => {
  await capture(srv, fx.url('/final?n=beta'), ['beta']);
  await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#tag-edit:not([hidden])', { timeout: 20000 });
  await page.click('#tag-edit > summary');
  // rename alpha -> gamma
  await page.select('#tag-edit-from', 'alpha');
  await page.type('#tag-edit-to', 'gamma');
  assert.equal(await page.$eval('#tag-edit-go', (b) => b.textContent), 'Rename');
  await page.click('#tag-edit-go');
  await waitUntil(() => page.$eval('#tag-edit-msg', (e) => /Renamed “alpha” into “gamma”/.test(e.textContent)), 10000, 'the rename');
  let tags = (await request(srv.base, 'GET', '/api/tags')).json.items.map((t) => `${t.name}:${t.count}`).sort();
  assert.deepEqual(tags, ['beta:1', 'gamma:1']);
  // merge gamma into beta: the button says so
  await waitUntil(() => page.$$eval('#tag-edit-from option', (os) => os.map((o) => o.value).includes('gamma')), 10000, 'the new tag in the picker');
  await page.select('#tag-edit-from', 'gamma');
  await page.type('#tag-edit-to', 'beta');
  assert.equal(await page.$eval('#tag-edit-go', (b) => b.textContent), 'Merge into “beta”');
  await shot('admin-tag-merge.png');
  await page.click('#tag-edit-go');
  await waitUntil(() => page.$eval('#tag-edit-msg', (e) => /Merged “gamma” into “beta”/.test(e.textContent)), 10000, 'the merge');
  tags = (await request(srv.base, 'GET', '/api/tags')).json.items.map((t) => `${t.name}:${t.count}`);
  assert.deepEqual(tags, ['beta:2']);
  await waitUntil(() => page.$$eval('#tag-list .tag-btn .name', (els) => els.map((e) => e.textContent).join(',') === 'beta'), 10000, 'the sidebar after the merge');
});

test('import: the new links appear at once; "Capture the N imported links" queues them', async () => {
  const urls = [fx.url('/text?w=importone'), fx.url('/text?w=importtwo')];
  const file = path.join(shots, 'urls.txt');
  fs.writeFileSync(file, urls.join('\n') + '\n');
  await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
  await page.click('#io-toggle > summary');
  const input = await page.waitForSelector('#io-file');
  await input.uploadFile(file);
  assert.equal(await page.$eval('#io-capture', (e) => e.checked), false);
  await page.click('#io-go');
  // no click, no reload: the cards are there
  await waitUntil(async () => {
    const u = await cardUrls();
    return urls.every((x) => u.some((y) => y.includes(new URL(x).search)));
  }, 30000, 'the imported links in the grid');
  const btn = await page.waitForSelector('#io-capture-now', { timeout: 10000 });
  assert.equal(await btn.evaluate((b) => b.textContent), 'Capture the 2 imported links');
  await shot('admin-import.png');
  await btn.click();
  await waitUntil(() => page.$eval('#io-capture-msg', (e) => e.textContent === 'Queued 2 captures.'), 20000, 'the captures queued');
  const list = (await request(srv.base, 'GET', '/api/links?limit=100')).json.items;
  for (const u of urls) {
    const l = list.find((x) => x.url === u);
    assert.ok(l?.last_job, `${u} has a job`);
  }
  // the link captured before the import was not queued again
  const old = list.find((x) => x.url.includes('quokkaword'));
  assert.equal(old.last_job.id, 1);
});

test('detail: Snapshots and Schedule before the folded capture options; Slider label whole; styled number box', async () => {
  const a = await capture(srv, fx.url('/version?set=1'), ['versions']);
  await jobDone(a.job.id);
  await fetch(fx.url('/version?set=2'));
  const again = await request(srv.base, 'POST', `/api/links/${a.link.id}/snapshots`);
  assert.equal(again.status, 202);
  await jobDone(again.json.job.id);
  await page.goto(`${srv.base}/#/link/${a.link.id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#detail[open]');
  const order = await page.$$eval('#detail .d-info > section h3', (hs) => hs.map((h) => h.id));
  assert.deepEqual(order, ['d-job-h', 'd-edit-h', 'd-snaps-h', 'd-sched-h', 'd-opts-h']);
  assert.equal(await page.$eval('#d-opts-fold', (d) => d.open), false, 'the capture options start folded');
  assert.match(await page.$eval('#d-opts-sum', (e) => e.textContent), /server defaults/);
  // the snapshots heading is on the first screen
  const snapsTop = await page.$eval('#d-snaps-h', (e) => e.getBoundingClientRect().top);
  assert.ok(snapsTop < 900, `the Snapshots heading at ${snapsTop}px`);
  // the number box looks like the other inputs
  const style = (sel) => page.$eval(sel, (e) => {
    const s = getComputedStyle(e);
    return [s.borderTopLeftRadius, s.borderTopColor, s.minHeight, s.paddingLeft].join(' ');
  });
  assert.equal(await style('#d-sched-keep'), await style('#d-edit-title'));
  // Slider: the label is not cut
  await page.waitForSelector('#v-bar button[data-view="slider"]:not([disabled])', { timeout: 30000 });
  await page.click('#v-bar button[data-view="slider"]');
  await page.waitForSelector('#v-slider');
  const label = await page.$eval('#v-bar .grow', (e) => ({ text: e.textContent, cut: e.scrollWidth > e.clientWidth + 1 }));
  assert.match(label.text, /^Snapshot #\d+ · 1280×\d+/);
  assert.equal(label.cut, false, `the label "${label.text}" is cut`);
  await shot('admin-detail-slider.png');
  await page.click('#d-opts-fold > summary');
  await page.$eval('#d-opts-h', (e) => e.scrollIntoView());
  await shot('admin-detail-options.png');
  assert.deepEqual(errors, []);
});
