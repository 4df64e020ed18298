// A server without a token against the browser beside it (headless
// Chromium, puppeteer-core): a page of another origin (the fixture
// server's) tries fetch POST text/plain to /api/links, /api/import and
// /api/backup, and a WebSocket to /api/ws -- each refused (403), nothing
// stored; a DNS-rebinding page (evil.test mapped to 127.0.0.1 by the
// browser's resolver rules) gets 421; snapcat's own page, at 127.0.0.1 and
// at localhost, still adds links and opens the WebSocket.
// No capture runs: the server's only --browser is a closed port.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, startSnapcat, request } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

let fx;
let srv;
let chromium;
let browser;
const pages = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat(['--browser', 'http://127.0.0.1:1'], { name: 'origin' });
  chromium = await launchChromium('origin', ['--host-resolver-rules=MAP evil.test 127.0.0.1']);
  browser = chromium.browser;
});

after(async () => {
  for (const p of pages) await p.close().catch(() => {});
  await chromium?.close();
  await srv?.stop();
  await fx?.stop();
});

/** A new tab at url; answers from snapcat's port are recorded in .answers. */
async function open(url) {
  const page = await browser.newPage();
  pages.push(page);
  page.answers = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.port === String(srv.port)) page.answers.push({ path: u.pathname, status: r.status(), method: r.request().method() });
  });
  const res = await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, status: res.status() };
}

/** In the page: the requests a hostile page can send without CORS. */
const HOSTILE = async (base) => {
  const out = {};
  const post = async (p, body) => {
    try {
      await fetch(base + p, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body });
      return 'sent';
    } catch (e) {
      return `error: ${e.message}`;
    }
  };
  out.links = await post('/api/links', JSON.stringify({ url: 'http://hostile.example/' }));
  out.import = await post('/api/import', JSON.stringify([{ url: 'http://hostile-import.example/' }]));
  out.backup = await post('/api/backup', '');
  out.ws = await new Promise((resolve) => {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + '/api/ws');
    ws.onopen = () => {
      ws.send(JSON.stringify({ op: 'capture', url: 'http://hostile-ws.example/' }));
      resolve('open');
    };
    ws.onerror = () => resolve('error');
    ws.onclose = () => resolve('closed');
  });
  return out;
};

/** In the page: a same-origin POST and WebSocket, as the admin page does. */
const OWN = async (url) => {
  const r = await fetch('/api/links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
  const ws = await new Promise((resolve) => {
    const w = new WebSocket(location.origin.replace(/^http/, 'ws') + '/api/ws');
    w.onopen = () => { w.close(); resolve('open'); };
    w.onerror = () => resolve('error');
  });
  return { status: r.status, ws };
};

async function links() {
  const r = await request(srv.base, 'GET', '/api/links');
  assert.equal(r.status, 200, r.body);
  return r.json.items.map((l) => l.url);
}

async function waitAnswers(page, n) {
  const until = Date.now() + 20000;
  while (page.answers.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return page.answers;
}

for (const [name, host] of [['same-site (127.0.0.1, another port)', '127.0.0.1'], ['cross-site (localhost)', 'localhost']]) {
  test(`a page of another origin, ${name}: POSTs and WebSocket refused, nothing stored`, async () => {
    const { page, status } = await open(`http://${host}:${fx.port}/final`);
    assert.equal(status, 200);
    const out = await page.evaluate(HOSTILE, srv.base);
    assert.notEqual(out.ws, 'open', `the WebSocket from another origin opened: ${JSON.stringify(out)}`);
    const answers = await waitAnswers(page, 3);
    const posts = answers.filter((a) => a.method === 'POST');
    assert.deepEqual(posts.map((a) => `${a.path} ${a.status}`).sort(),
      ['/api/backup 403', '/api/import 403', '/api/links 403'], JSON.stringify(answers));
    assert.deepEqual(await links(), []);
    const im = await request(srv.base, 'GET', '/api/imports');
    assert.equal(im.json.items.length, 0, im.body);
  });
}

test('DNS rebinding: a page at evil.test:PORT (resolving to 127.0.0.1) gets 421 for everything', async () => {
  const { page, status } = await open(`http://evil.test:${srv.port}/`);
  assert.equal(status, 421, 'the admin page under a foreign name');
  const out = await page.evaluate(async () => {
    const r = await fetch('/api/links');
    const p = await fetch('/api/links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"url":"http://rebind.example/"}' });
    return { get: r.status, post: p.status };
  });
  assert.deepEqual(out, { get: 421, post: 421 });
  assert.deepEqual(await links(), []);
});

test('snapcat\'s own page (127.0.0.1 and localhost) still adds links and opens the WebSocket', async () => {
  for (const host of ['127.0.0.1', 'localhost']) {
    const { page, status } = await open(`http://${host}:${srv.port}/`);
    assert.equal(status, 200);
    const out = await page.evaluate(OWN, `http://own-${host}.example/`);
    assert.deepEqual(out, { status: 201, ws: 'open' }, host);
  }
  const now = await links();
  for (const u of ['http://own-127.0.0.1.example/', 'http://own-localhost.example/']) assert.ok(now.includes(u), `${u} in ${now}`);
});
