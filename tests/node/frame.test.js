// The forever frame, GET /api/events/frame (issue 16): a text/html response
// that never ends, one <script nonce=…>p(event)</script> per event, meant for
// a hidden same-origin iframe. Its own framing headers (SAMEORIGIN,
// frame-ancestors 'self', a per-response nonce every script carries), the
// token and Host checks, filters, resume by ?last_event_id=, the same event
// JSON as long-poll; and /compare in headless Chromium showing it as the
// fourth channel, receiving events.
// The escaping of '<' inside event JSON (no event field carries a raw '<'
// today: URLs are percent-encoded) is tested in tests/unit/test_feed_frame.c.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startFixture, startSnapcat, capture, request, waitUntil, withDeadline } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

const TOKEN = 'frame-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
let fx;
let srv;
const open = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat(['--token', TOKEN], { name: 'frame' });
});

after(async () => {
  for (const f of open) f.close();
  await srv?.stop();
  await fx?.stop();
});

/**
 * Open the frame at path (a raw GET, no Node parsing of the HTML): .head,
 * .status, .scripts [{attrs, code}], .events (the objects passed to p()).
 */
function openFrame(p, headers = {}) {
  const f = { status: 0, head: null, text: '', scripts: [], events: [], waiters: [] };
  const req = http.get(srv.base + p, { headers }, (res) => {
    f.status = res.statusCode;
    f.head = res.headers;
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      f.text += chunk;
      const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/g;
      f.scripts = [];
      f.events = [];
      for (const m of f.text.matchAll(re)) {
        f.scripts.push({ attrs: m[1], code: m[2] });
        const call = /p\((\{[\s\S]*\})\)$/.exec(m[2]);
        if (call) f.events.push(JSON.parse(call[1]));
      }
      for (const w of f.waiters.splice(0)) w();
    });
    res.on('end', () => { f.ended = true; for (const w of f.waiters.splice(0)) w(); });
  });
  req.on('error', () => { f.ended = true; });
  f.close = () => req.destroy();
  f.headReady = () => waitUntil(() => f.head, 30000, `${p}: the head`);
  f.waitFor = (pred, ms, what) => waitUntil(() => f.events.find(pred), ms, what);
  open.push(f);
  return f;
}

const ids = (evs) => evs.filter((e) => typeof e.id === 'number').map((e) => e.id);

test('frame: 401 without the token; refused for another Host, Origin or a cross-site frame', async () => {
  const r = await request(srv.base, 'GET', '/api/events/frame');
  assert.equal(r.status, 401);
  const p = `/api/events/frame?token=${TOKEN}`;
  const h = await request(srv.base, 'GET', p, undefined, { host: 'evil.test' });
  assert.equal(h.status, 421, `another Host: ${h.status} ${h.body}`);
  const o = await request(srv.base, 'GET', p, undefined, { origin: 'http://evil.test' });
  assert.equal(o.status, 403, `another Origin: ${o.status} ${o.body}`);
  const x = await request(srv.base, 'GET', p, undefined,
    { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'iframe', 'sec-fetch-mode': 'navigate' });
  assert.equal(x.status, 403, `framed by another site: ${x.status} ${x.body}`);
  const ok = openFrame(p, { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'iframe' });
  await ok.headReady();
  assert.equal(ok.status, 200, 'framed by /compare (same origin)');
  ok.close();
});

test('frame: own headers, a nonce every script carries, events as long-poll has them, filters, resume', async () => {
  const f = openFrame(`/api/events/frame?token=${TOKEN}&last_event_id=0`);
  await f.headReady();
  assert.equal(f.status, 200);
  assert.match(f.head['content-type'], /^text\/html; charset=utf-8$/);
  assert.equal(f.head['x-frame-options'], 'SAMEORIGIN', 'one X-Frame-Options, SAMEORIGIN (not the site-wide DENY)');
  const csp = f.head['content-security-policy'];
  assert.equal(typeof csp, 'string', 'exactly one CSP header');
  assert.match(csp, /frame-ancestors 'self'/);
  assert.doesNotMatch(csp, /'none'; base-uri 'none'$/, 'not the site-wide CSP');
  assert.doesNotMatch(csp, /frame-ancestors 'none'/);
  const nonce = /script-src 'nonce-([A-Za-z0-9+/=]{16,})'/.exec(csp)?.[1];
  assert.ok(nonce, `a script nonce in ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(f.head['cache-control'], /no-cache/);
  assert.equal(f.head['content-length'], undefined, 'a stream: no Content-Length');

  const { link, job } = await capture(srv, fx.url('/title?t=frame-1'), [], AUTH);
  await f.waitFor((e) => e.type === 'job.done' && e.job === job.id, 120000, `job ${job.id} done in the frame`);
  const r = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { title: 'frame title' }, AUTH);
  assert.equal(r.status, 200);
  const upd = await f.waitFor((e) => e.type === 'link.updated' && e.id > 0 && f.events.some((d) => d.type === 'job.done'), 30000, 'link.updated');
  assert.ok(f.scripts.length >= 3);
  for (const s of f.scripts) assert.equal(s.attrs, ` nonce="${nonce}"`, 'every script carries the response nonce');
  assert.equal(f.events[0].type, 'open');
  const got = ids(f.events);
  assert.equal(got[0], 1, 'last_event_id=0 replays from the first event');
  assert.deepEqual(got, [...got].sort((a, b) => a - b), 'ids in order');
  assert.equal(new Set(got).size, got.length, 'no id twice');

  // the same JSON as long-poll
  const lp = await request(srv.base, 'GET', '/api/events/poll?after=0&timeout=0', undefined, AUTH);
  const byId = new Map(lp.json.map((e) => [e.id, e]));
  for (const e of f.events.filter((x) => typeof x.id === 'number')) assert.deepEqual(e, byId.get(e.id), `event ${e.id}`);

  // a second response: another nonce; filters; resume after an id
  const g = openFrame(`/api/events/frame?types=job.done,link.updated&link=${link.id}&last_event_id=${got[1]}`, AUTH);
  await g.waitFor((e) => e.id === upd.id, 30000, 'the filtered frame up to link.updated');
  const gn = /'nonce-([^']+)'/.exec(g.head['content-security-policy'])[1];
  assert.notEqual(gn, nonce, 'a nonce per response');
  const want = lp.json.filter((e) => e.id > got[1] && e.link === link.id &&
    (e.type === 'job.done' || e.type === 'link.updated')).map((e) => e.id);
  assert.deepEqual(ids(g.events), want, 'filters and resume');

  // live: a frame without last_event_id gets only what comes next
  const h = openFrame(`/api/events/frame?token=${TOKEN}`);
  await h.waitFor((e) => e.type === 'open', 30000, 'open');
  const r2 = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { title: 'frame title 2' }, AUTH);
  assert.equal(r2.status, 200);
  const live = await h.waitFor((e) => e.type === 'link.updated', 30000, 'live link.updated');
  assert.ok(live.id > upd.id);
  assert.deepEqual(ids(h.events), [live.id]);
  assert.ok(!f.ended && !g.ended && !h.ended, 'the documents never end');
});

test('/compare: the forever frame is the fourth channel and receives events', async () => {
  const chromium = await launchChromium('frame');
  try {
    const page = await chromium.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} (${m.location()?.url})`); });
    page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
    // puppeteer's navigation waits include child frames, and the forever
    // frame never loads: set the token on another page, then navigate by hand
    await page.goto(`${srv.base}/healthz`, { waitUntil: 'domcontentloaded' });
    await page.evaluate((t) => localStorage.setItem('snapcat.token', t), TOKEN);
    await page.evaluate(() => { location.href = '/compare'; });
    const state = (ch) => page.$eval(`th[data-ch="${ch}"]`, (th) => th.dataset.state || '').catch(() => '');
    await withDeadline((async () => {
      while (await state('fr') !== 'live' || await state('sse') !== 'live') await new Promise((r) => setTimeout(r, 100));
    })(), 60000, 'the frame channel live');
    const before = (await request(srv.base, 'GET', '/api/events/poll?after=0&timeout=0', undefined, AUTH)).json;
    const { job } = await capture(srv, fx.url('/title?t=frame-compare'), [], AUTH);
    // the newest id, per channel, from the table: frame and SSE agree on this job's end
    let lpDone;
    await waitUntil(async () => {
      const evs = (await request(srv.base, 'GET', `/api/events/poll?after=0&timeout=0&job=${job.id}`, undefined, AUTH)).json;
      lpDone = evs.find((e) => e.type === 'job.done');
      return lpDone;
    }, 120000, `job ${job.id} done`, 250);
    const cell = (key, ch) => page.evaluate((k, c) => {
      const rows = [...document.querySelectorAll('#stats-body tr')];
      const idx = ['sse', 'ws', 'lp', 'fr'].indexOf(c) + 1;
      const row = rows.find((r) => r.querySelector('th').textContent === k);
      return row ? row.children[idx].textContent : null;
    }, key, ch);
    await waitUntil(async () => Number(await cell('Newest id', 'fr')) >= lpDone.id, 30000,
      `the frame column to reach event ${lpDone.id}`, 200);
    const got = Number((await cell('Events received', 'fr')).replace(/,/g, ''));
    assert.ok(got >= lpDone.id - before.length, `frame received ${got}`);
    assert.equal(await cell('Gaps (missing ids)', 'fr'), '0');
    assert.equal(await cell('Duplicates', 'fr'), '0');
    assert.equal(await cell('Payload differs', 'fr'), '0');
    assert.match(await cell('Document (frame)', 'fr'), /^loading · \d+ scripts · [\d.]+ KiB$/);
    // the frame document: nonce'd, growing, never complete
    const frame = page.frames().find((fr) => fr.url().includes('/api/events/frame'));
    assert.ok(frame, 'the hidden iframe');
    assert.equal(await frame.evaluate(() => document.readyState), 'loading');
    const log = await page.$$eval('#log-body tr', (trs) => trs.map((tr) => tr.children.length));
    assert.ok(log.length > 0 && log.every((n) => n === 6), 'the event log has a Frame column');
    if (process.env.SNAPCAT_SHOT) await page.screenshot({ path: process.env.SNAPCAT_SHOT, fullPage: true });
    // none but the /healthz tab's /favicon.ico (401 under --token)
    assert.deepEqual(errors.filter((e) => !/\/favicon\.ico\)?$/.test(e)), [], 'no console errors (CSP)');
  } finally {
    await chromium.close();
  }
});
