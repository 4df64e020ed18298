// Issue 17's views and ways of adding, against the real server and Chromium:
// * the stored text: GET /api/snapshots/{id}/text answers the page's text as
//   text/plain (nosniff, ETag, 404 when none), and the admin page's Text view
//   shows it reader style, as text: the page's "<img onerror>" words stay words
//   (also for a capture whose PNG was over --max-file);
// * the bookmarklet the admin page offers (no token in it), run on a fixture
//   page: snapcat's add form opens prefilled with the page's URL and title;
// * `snapcat add -`: URLs from standard input.
// Screenshots go to $SNAPCAT_SHOTS (default: a temp dir); their paths are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFixture, startSnapcat, waitUntil, withDeadline, capture, request } from './lib/harness.js';
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

test('bookmarklet: offered by the admin page, no token in it; it opens the add form prefilled', async () => {
  await page.goto(`${srv.base}/`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#bookmarklet');
  // a token stored in the admin page never goes into the bookmarklet
  await page.evaluate(() => localStorage.setItem('snapcat.token', 'secret-token-xyz'));
  await page.reload({ waitUntil: 'domcontentloaded' });
  const href = await page.$eval('#bookmarklet', (a) => a.getAttribute('href'));
  assert.match(href, /^javascript:/);
  assert.ok(!href.includes('secret-token-xyz') && !/token/i.test(href), href);
  assert.ok(href.includes(JSON.stringify(`${srv.base}/#/add?url=`)), href);
  await page.evaluate(() => localStorage.clear());
  await shot('admin-addbar.png');

  // "click" it on a fixture page (another origin): snapcat opens, prefilled
  const title = 'Bookmarked & "quoted" page';
  const other = await chromium.newPage();
  const pageUrl = fx.url('/title?t=' + encodeURIComponent(title));
  await other.goto(pageUrl, { waitUntil: 'load' });
  const opened = new Promise((resolve) => other.once('popup', resolve));
  await other.evaluate(href.slice('javascript:'.length));
  const pop = await withDeadline(opened, 20000, 'the bookmarklet\'s window');
  await pop.setViewport({ width: 1280, height: 900 });
  await pop.waitForSelector('#add-url');
  await waitUntil(() => pop.$eval('#add-url', (e) => e.value), 10000, 'the URL prefilled');
  assert.equal(await pop.$eval('#add-url', (e) => e.value), pageUrl);
  assert.equal(await pop.$eval('#add-title', (e) => e.value), title);
  assert.equal(await pop.evaluate(() => location.hash), '', 'the hash is cleared');
  // nothing was added by opening it
  let list = (await request(srv.base, 'GET', '/api/links?limit=100')).json;
  assert.ok(!list.items.some((l) => l.url === pageUrl), 'opening the form adds nothing');
  await pop.screenshot({ path: path.join(shots, 'admin-bookmarklet.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-bookmarklet.png')}`);
  await pop.click('#add-btn');
  let link;
  await waitUntil(async () => {
    list = (await request(srv.base, 'GET', '/api/links?limit=100')).json;
    link = list.items.find((l) => l.url === pageUrl);
    return link && link.title === title;
  }, 20000, 'the link added with its title');
  await pop.close();
  await other.close();
});

test('snapcat add - reads URLs from standard input', async () => {
  const { spawn } = await import('node:child_process');
  const urls = [fx.url('/text?w=stdinone'), fx.url('/text?w=stdintwo')];
  const input = `# a comment\n${urls[0]}\r\n\n   ${urls[1]}  \n${'x'.repeat(9000)}\n`;
  const run = (args, stdin) => new Promise((resolve, reject) => {
    const p = spawn(process.env.SNAPCAT_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SNAPCAT_TOKEN: '' } });
    let out = ''; let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, out, err }));
    p.stdin.end(stdin);
  });
  const r = await run(['add', '--server', srv.base, '--tag', 'piped', '-', fx.url('/text?w=stdinarg')], input);
  // the long line is refused (exit 1), the others are added, in order
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /standard input line 5: longer than 8190 bytes: skipped/);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 3, r.out);
  assert.ok(lines[0].includes(urls[0]) && lines[1].includes(urls[1]) && lines[2].includes('stdinarg'), r.out);
  for (const l of lines) assert.match(l, /^link \d+ .* \(new\) — job \d+ /);
  const list = (await request(srv.base, 'GET', '/api/links?tag=piped&limit=100')).json;
  assert.equal(list.items.length, 3);
  // only good lines: exit 0
  const ok = await run(['add', '--server', srv.base, '-'], `${urls[0]}\n`);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /\(known\)/);
});

test('text: a capture whose screenshot was too large still shows its text', async () => {
  // --max-file 2k: the PNG of any page is over it (too_large), the text is kept
  const small = await startSnapcat(['--max-file', '2k'], { name: 'views-small' });
  try {
    const added = await capture(small, fx.url('/page?html=' + encodeURIComponent(READER_HTML)), []);
    let job;
    await waitUntil(async () => {
      job = (await request(small.base, 'GET', `/api/jobs/${added.job.id}`)).json;
      return job && ['done', 'failed'].includes(job.state) && job.snapshot_id;
    }, 180000, 'the capture with a tiny file limit');
    const snap = (await request(small.base, 'GET', `/api/snapshots/${job.snapshot_id}`)).json;
    assert.equal(snap.png_url, null, JSON.stringify(snap.outputs));
    assert.equal(snap.outputs.text, 'ok');
    await page.goto(`${small.base}/#/link/${added.link.id}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#detail[open]');
    await waitUntil(() => page.evaluate(() => [...document.querySelectorAll('#v-text p')]
      .some((p) => p.textContent.includes('stays words'))), 30000, 'the text of a capture without a screenshot');
    assert.match(await page.$eval('#v-bar', (e) => e.textContent), /no screenshot/);
    await shot('admin-text-no-png.png');
  } finally {
    await small.stop();
  }
});
