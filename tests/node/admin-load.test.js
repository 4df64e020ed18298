// The admin page loads clean in headless Chromium: every ES module under
// assets/js/ is fetched (200, a JavaScript MIME type, allowed by the page's
// Content-Security-Policy) and runs, with no console error, no uncaught
// exception, no failed request and no HTTP error answer -- so a broken
// import, a missing export, a module left out of the graph or a wrong MIME
// type can never pass. Then each view is opened once (a link's detail with
// its canceled job, capture options and schedule; import/export; webhooks; the
// token dialog; the WebSocket switch) so an error in code that only runs on
// use shows up too. No capture runs: the server's only --browser is a closed
// port, and the link's queued job is canceled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startSnapcat, capture, request, waitUntil } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

const MODULES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'js');
let srv;
let chromium;

before(async () => {
  srv = await startSnapcat(['--browser', 'http://127.0.0.1:1'], { name: 'admin-load' });
  chromium = await launchChromium('admin-load');
});

after(async () => {
  await chromium?.close();
  await srv?.stop();
});

test('admin page: every module loads and runs, no console error, no failed request', async () => {
  const added = await capture(srv, 'http://127.0.0.1:1/never-captured', ['load']);
  const canceled = await request(srv.base, 'POST', `/api/jobs/${added.job.id}/cancel`, {});
  assert.equal(canceled.json?.state, 'canceled', canceled.body);

  const page = await chromium.newPage();
  const problems = [];
  const scripts = new Map();   // /js/x.js -> "status content-type"
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    const u = new URL(r.url());
    // the page closes its own SSE stream when it switches to the WebSocket
    if (u.pathname === '/api/events' && r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`requestfailed: ${u.pathname} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.origin !== srv.base) return;
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${u.pathname}`);
    if (u.pathname.startsWith('/js/')) scripts.set(u.pathname, `${r.status()} ${r.headers()['content-type']}`);
  });
  try {
    await page.goto(srv.base + '/', { waitUntil: 'load' });
    // the modules ran: the list, the live feed, the options form and the webhooks panel are there
    await page.waitForSelector(`#grid article.card[data-id="${added.link.id}"]`, { timeout: 20000 });
    await waitUntil(() => page.$eval('#conn-text', (e) => e.textContent === 'live'), 20000, 'the live feed');
    assert.ok(await page.$('#add-opts-body [data-o="width"]'), 'the capture options form');
    assert.ok(await page.$('#hooks-form'), 'the webhooks panel');

    // every module under assets/js/ was fetched, with a JavaScript MIME type
    const files = fs.readdirSync(MODULES).filter((f) => f.endsWith('.js')).map((f) => `/js/${f}`).sort();
    assert.deepEqual([...scripts.keys()].sort(), files, 'the modules the page loaded');
    for (const [p, v] of scripts) assert.match(v, /^200 (text|application)\/javascript\b/, p);

    // each view once
    await page.click(`#grid article.card[data-id="${added.link.id}"] .card-title a`);
    await page.waitForSelector('#detail[open]');
    await waitUntil(() => page.$eval('#d-snaps-state', (e) => !/Loading/.test(e.textContent)), 20000, 'the snapshots');
    await waitUntil(() => page.$eval('#d-retry', (b) => !b.hidden), 20000, 'the canceled job in the detail');
    await page.click('#d-opts-clear');
    await waitUntil(() => page.$eval('#d-opts-msg', (e) => /^Saved/.test(e.textContent)), 10000, 'options saved');
    await page.select('#d-sched-scope', 'load');
    await waitUntil(() => page.$eval('#d-sched-next', (e) => /tagged load/.test(e.textContent)), 10000, 'the tag schedule');
    await page.keyboard.press('Escape');
    await waitUntil(() => page.$eval('#detail', (d) => !d.open), 5000, 'the detail to close');

    await page.click('#io-toggle summary');
    await page.click('#io-go');
    await waitUntil(() => page.$eval('#io-status', (e) => e.textContent === 'Choose a file first.'), 5000, 'the import form');
    await page.click('#hooks-toggle summary');
    await page.click('#hooks-add');
    await waitUntil(() => page.$eval('#hooks-msg', (e) => e.textContent === 'Enter the receiver URL.'), 5000, 'the webhook form');

    await page.click('#token-btn');
    await page.waitForSelector('#token-dialog[open]');
    await page.click('#token-cancel');
    await page.click('[data-live="ws"]');
    await waitUntil(() => page.$eval('#conn-text', (e) => e.textContent === 'live'), 20000, 'live over WebSocket');
    await page.click('[data-live="sse"]');
    await waitUntil(() => page.$eval('#conn-text', (e) => e.textContent === 'live'), 20000, 'live over SSE again');
    // one round trip more, so that anything still in flight has been reported
    await page.evaluate(() => fetch('/api/tags').then((r) => r.text()));
    assert.deepEqual(problems, []);
  } catch (e) {
    // a wait that timed out: say what the page reported meanwhile
    if (problems.length && !(e instanceof assert.AssertionError)) e.message += `\nthe page reported: ${problems.join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
});
