// Webhooks against the real server, the real Chromium it launches, fixture
// pages and a real loopback HTTP receiver (node:http) that verifies every
// delivery's HMAC signature with the webhook's secret (a bad one gets 401):
// the API (validation, the secret never shown again), a job.done delivery
// retried after a 500 and then recorded ok in the delivery log, a job.failed
// delivery, a test ping, deleting a webhook stops its deliveries, a delivery
// pending in back-off survives a restart of the server, and the admin
// page's Webhooks panel (a screenshot is written to $SNAPCAT_SHOTS, default
// the test's temp dir, and its path printed).
//
// Back-off is short here (--webhook-backoff-ms 200: retries after 0.2 s,
// 1.2 s, 4.8 s ...), so nothing sleeps: every wait is on a delivery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { startFixture, startSnapcat, waitUntil, capture, request, EventLog } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

const FLAGS = ['--webhook-backoff-ms', '200', '--attempts', '1'];
const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-hooks-'));
let fx;
let srv;
let rx;
let lastDone; // the event id of the newest job.done delivered (test 4)

/** The receiver's check, as the README tells a receiver to do it. */
function verify(secret, headers, body) {
  const ts = headers['x-snapcat-timestamp'];
  const sig = headers['x-snapcat-signature'] || '';
  if (!secret || !ts) return false;
  const want = 'sha256=' + crypto.createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
  return sig.length === want.length && crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(want));
}

/**
 * A webhook receiver on 127.0.0.1. secrets: path -> secret; plan: path ->
 * statuses to answer in turn (then 200). Every request lands in .log
 * (EventLog: {id: delivery, type: event, path, headers, body, json,
 * verified, status, at}).
 */
function startReceiver(port = 0) {
  const r = { secrets: new Map(), plan: new Map(), log: new EventLog('receiver') };
  r.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = verify(r.secrets.get(req.url), req.headers, body);
      const q = r.plan.get(req.url) || [];
      const status = !verified ? 401 : q.length ? q.shift() : 200;
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'thanks' : `no (${status})`);
      r.log.add({ id: Number(req.headers['x-snapcat-delivery']), type: req.headers['x-snapcat-event'],
        path: req.url, method: req.method, headers: req.headers, body, json, verified, status, at: Date.now() });
    });
  });
  return new Promise((resolve, reject) => {
    r.server.once('error', reject);
    r.server.listen(port, '127.0.0.1', () => {
      r.port = r.server.address().port;
      r.url = (p) => `http://127.0.0.1:${r.port}${p}`;
      r.close = () => new Promise((ok) => { r.server.closeAllConnections(); r.server.close(ok); });
      resolve(r);
    });
  });
}

async function addHook(body) {
  const r = await request(srv.base, 'POST', '/api/webhooks', body);
  assert.equal(r.status, 201, r.body);
  return r.json;
}

async function deliveries(id, q = '') {
  const r = await request(srv.base, 'GET', `/api/webhooks/${id}/deliveries${q}`);
  assert.equal(r.status, 200, r.body);
  return r.json;
}

const forPath = (p, type) => (e) => e.path === p && (!type || e.type === type);

before(async () => {
  fx = await startFixture();
  rx = await startReceiver();
  srv = await startSnapcat(FLAGS, { name: 'hooks' });
});

after(async () => {
  await srv?.stop();
  await rx?.close();
  await fx?.stop();
});

test('webhooks API: validation, a generated secret shown once and never again', async () => {
  const bad = [
    [{ url: 'ftp://example.org/x' }, 'url', /http:\/\/ or https:\/\//],
    [{ url: 'not a url' }, 'url', /http:\/\/ or https:\/\//],
    [{}, 'url', /url/],
    [{ url: 'https://example.org/', events: ['job.done', 'link.updated'] }, 'events', /job\.done/],
    [{ url: 'https://example.org/', events: [] }, 'events', /non-empty/],
    [{ url: 'https://example.org/', secret: 'short' }, 'secret', /8 to 256/],
  ];
  for (const [body, field, re] of bad) {
    const r = await request(srv.base, 'POST', '/api/webhooks', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.equal(r.json.error.field, field, r.body);
    assert.match(r.json.error.message, re, r.body);
    assert.equal(typeof r.json.error.code, 'string');
  }
  const w = await addHook({ url: 'https://example.org/hook#frag' });
  assert.match(w.secret, /^[0-9a-f]{64}$/, 'a generated secret, returned once');
  assert.deepEqual(w.events, ['job.done', 'job.failed', 'snapshot.changed'], 'default: every event');
  assert.equal(w.has_secret, true);
  for (const p of ['/api/webhooks', `/api/webhooks/${w.id}`, `/api/webhooks/${w.id}/deliveries`]) {
    const r = await request(srv.base, 'GET', p);
    assert.equal(r.status, 200, `${p}: ${r.body}`);
    assert.ok(!r.body.includes(w.secret), `${p} shows the secret: ${r.body}`);
  }
  const one = (await request(srv.base, 'GET', `/api/webhooks/${w.id}`)).json;
  assert.equal(one.secret, undefined);
  assert.equal(one.has_secret, true);
  // a secret given by the caller is not echoed either
  const given = await addHook({ url: 'https://example.org/other', secret: 'a-secret-of-mine-123' });
  assert.equal(given.secret, undefined);
  // PATCH: events, pause; a bad URL is refused there too
  const p1 = await request(srv.base, 'PATCH', `/api/webhooks/${given.id}`, { events: ['job.failed'], active: false });
  assert.equal(p1.status, 200, p1.body);
  assert.deepEqual([p1.json.events, p1.json.active], [['job.failed'], false]);
  const p2 = await request(srv.base, 'PATCH', `/api/webhooks/${given.id}`, { url: 'javascript:alert(1)' });
  assert.equal(p2.status, 400, p2.body);
  const t = await request(srv.base, 'POST', `/api/webhooks/${given.id}/test`);
  assert.equal(t.status, 409, `a paused webhook cannot be tested: ${t.body}`);
  for (const id of [w.id, given.id]) {
    assert.equal((await request(srv.base, 'DELETE', `/api/webhooks/${id}`)).status, 204);
  }
  assert.equal((await request(srv.base, 'GET', `/api/webhooks/${w.id}`)).status, 404);
  assert.equal((await request(srv.base, 'GET', '/api/webhooks/999/deliveries')).status, 404);
});

test('job.done: signed delivery, retried after a 500, logged ok with 2 attempts', async () => {
  const secret = crypto.randomBytes(24).toString('hex');
  rx.secrets.set('/done', secret);
  rx.plan.set('/done', [500]);
  const w = await addHook({ url: rx.url('/done'), secret, events: ['job.done'] });
  const t0 = Date.now();
  const added = await capture(srv, fx.url('/title?t=hooked'));
  const second = await rx.log.waitForNth(forPath('/done', 'job.done'), 2, 90000, 'the retried job.done');
  const got = rx.log.events.filter(forPath('/done'));
  assert.equal(got.length, 2, 'one failed try, one retry');
  const [a, b] = got;
  for (const d of got) {
    assert.ok(d.verified, `the signature verifies: ${JSON.stringify(d.headers)}`);
    assert.equal(d.method, 'POST');
    assert.equal(d.headers['content-type'], 'application/json');
    assert.match(d.headers['user-agent'], /^snapcat-webhooks\//);
    assert.equal(d.headers['x-snapcat-event'], 'job.done');
    assert.equal(d.headers['x-snapcat-webhook'], String(w.id));
    assert.match(d.headers['x-snapcat-timestamp'], /^\d{10}$/);
    assert.ok(Math.abs(Number(d.headers['x-snapcat-timestamp']) - Date.now() / 1000) < 60);
  }
  assert.equal(a.status, 500);
  assert.equal(b.status, 200);
  assert.equal(a.id, b.id, 'the same delivery id on the retry');
  assert.deepEqual([a.headers['x-snapcat-attempt'], b.headers['x-snapcat-attempt']], ['1', '2']);
  assert.equal(a.body, b.body, 'the retry sends the same bytes');
  const ev = second.json;
  assert.equal(ev.type, 'job.done');
  assert.equal(ev.job, added.job.id);
  assert.equal(ev.link, added.link.id);
  assert.equal(ev.url, fx.url('/title?t=hooked'));
  assert.equal(typeof ev.snapshot, 'number');
  assert.equal(typeof ev.id, 'number');
  // a tampered body does not verify with the same headers
  assert.equal(verify(secret, b.headers, b.body.replace('job.done', 'job.fail')), false);

  // the delivery log: newest first, ok after 2 attempts, the 500 kept
  const log = await waitUntil(async () => {
    const l = await deliveries(w.id);
    return l.items[0]?.state === 'ok' && l;
  }, 10000, 'the delivery to be recorded ok');
  const d = log.items[0];
  assert.equal(log.items.length, 1);
  assert.equal(d.id, a.id);
  assert.equal(d.type, 'job.done');
  assert.equal(d.event, ev.id);
  assert.equal(d.attempts, 2);
  assert.equal(d.status, 200);
  assert.equal(d.error, null);
  assert.equal(d.next_attempt_at, null);
  assert.deepEqual(d.tries.map((x) => x.status), [500, 200]);
  assert.match(d.tries[0].error, /HTTP 500/);
  assert.deepEqual(d.payload, ev);
  const w2 = (await request(srv.base, 'GET', `/api/webhooks/${w.id}`)).json;
  assert.equal(w2.last_delivery.state, 'ok');
  assert.equal(w2.pending, 0);
  console.error(`# job.done: first delivery ${a.at - t0} ms after POST /api/links; retry ${b.at - a.at} ms after the 500 ` +
    `(back-off 200 ms); event ts -> received ${a.at - Date.parse(ev.ts)} ms`);
  rx.secrets.set('/done-deleted', secret);
  assert.equal((await request(srv.base, 'DELETE', `/api/webhooks/${w.id}`)).status, 204);
});

test('job.failed: a failing capture is delivered to the job.failed webhook only', async () => {
  const secret = crypto.randomBytes(16).toString('hex');
  rx.secrets.set('/failed', secret);
  rx.secrets.set('/onlydone', secret);
  const wf = await addHook({ url: rx.url('/failed'), secret, events: ['job.failed'] });
  const wd = await addHook({ url: rx.url('/onlydone'), secret, events: ['job.done'] });
  const bad = await capture(srv, fx.url('/status?code=500&n=hooks'));
  const got = await rx.log.waitFor((e) => forPath('/failed')(e) && e.json?.job === bad.job.id, 90000, 'job.failed');
  assert.ok(got.verified);
  assert.equal(got.type, 'job.failed');
  assert.equal(got.json.type, 'job.failed');
  assert.equal(typeof got.json.error?.class, 'string', JSON.stringify(got.json));
  assert.equal(got.json.url, fx.url('/status?code=500&n=hooks'));
  // then a good job: its job.done reaches /onlydone, and /failed never saw it
  const good = await capture(srv, fx.url('/title?t=after-fail'));
  await rx.log.waitFor((e) => forPath('/onlydone')(e) && e.json?.job === good.job.id, 90000, 'job.done');
  assert.equal(rx.log.events.filter(forPath('/onlydone', 'job.failed')).length, 0, 'no job.failed to the job.done hook');
  assert.equal(rx.log.events.filter(forPath('/failed', 'job.done')).length, 0, 'no job.done to the job.failed hook');
  for (const id of [wf.id, wd.id]) await request(srv.base, 'DELETE', `/api/webhooks/${id}`);
});

test('test ping; a deleted webhook gets nothing more', async () => {
  const secret = crypto.randomBytes(16).toString('hex');
  for (const p of ['/gone', '/stays']) rx.secrets.set(p, secret);
  const gone = await addHook({ url: rx.url('/gone'), secret, events: ['job.done'] });
  const stays = await addHook({ url: rx.url('/stays'), secret, events: ['job.done'] });
  const t = await request(srv.base, 'POST', `/api/webhooks/${gone.id}/test`);
  assert.equal(t.status, 202, t.body);
  const ping = await rx.log.waitFor((e) => forPath('/gone', 'ping')(e) && e.id === t.json.delivery, 10000, 'the ping');
  assert.ok(ping.verified);
  assert.equal(ping.json.webhook, gone.id);
  assert.equal((await request(srv.base, 'DELETE', `/api/webhooks/${gone.id}`)).status, 204);
  // the next job.done goes to /stays; /gone would have got it in the same
  // step (one ingest creates every webhook's delivery), so it never will
  const job = await capture(srv, fx.url('/title?t=after-delete'));
  const stayed = await rx.log.waitFor((e) => forPath('/stays')(e) && e.json?.job === job.job.id, 90000, 'job.done at /stays');
  lastDone = stayed.json.id;
  assert.deepEqual(rx.log.events.filter(forPath('/gone')).map((e) => e.type), ['ping']);
  await request(srv.base, 'DELETE', `/api/webhooks/${stays.id}`);
});

test('410 Gone: the delivery fails at once and the webhook is paused', async () => {
  const secret = crypto.randomBytes(16).toString('hex');
  rx.secrets.set('/gone410', secret);
  rx.plan.set('/gone410', [410]);
  const w = await addHook({ url: rx.url('/gone410'), secret });
  const t = await request(srv.base, 'POST', `/api/webhooks/${w.id}/test`);
  await rx.log.waitFor(forPath('/gone410', 'ping'), 10000, 'the ping');
  const d = await waitUntil(async () => {
    const x = (await deliveries(w.id)).items[0];
    return x?.state === 'failed' && x;
  }, 10000, 'the delivery to fail');
  assert.equal(d.id, t.json.delivery);
  assert.deepEqual([d.attempts, d.status, d.next_attempt_at], [1, 410, null]);
  assert.match(d.error, /HTTP 410/);
  assert.equal((await request(srv.base, 'GET', `/api/webhooks/${w.id}`)).json.active, false);
  assert.equal(rx.log.events.filter(forPath('/gone410')).length, 1, 'not retried');
  await request(srv.base, 'DELETE', `/api/webhooks/${w.id}`);
});

test('admin page: the Webhooks panel lists, adds, tests and deletes', async () => {
  const secret = crypto.randomBytes(16).toString('hex');
  rx.secrets.set('/panel', secret);
  rx.plan.set('/panel', [503]);
  const pre = await addHook({ url: rx.url('/panel'), secret, events: ['job.done', 'snapshot.changed'] });
  await request(srv.base, 'POST', `/api/webhooks/${pre.id}/test`);
  await rx.log.waitForNth(forPath('/panel', 'ping'), 2, 10000, 'the ping and its retry');
  const chromium = await launchChromium('hooks');
  try {
    const page = await chromium.newPage();
    await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
    await page.click('#hooks-toggle summary');
    await page.waitForSelector(`#hooks-list li[data-id="${pre.id}"] .hooks-state[data-state="ok"]`, { timeout: 10000 });
    // add one through the form: URL, untick snapshot.changed
    await page.type('#hooks-url', rx.url('/from-panel'));
    await page.click('input[name="hooks-ev"][value="snapshot.changed"]');
    await page.click('#hooks-add');
    await page.waitForSelector('#hooks-secret:not([hidden]) .hooks-secret-value', { timeout: 10000 });
    const shown = await page.$eval('.hooks-secret-value', (e) => e.textContent);
    assert.match(shown, /^[0-9a-f]{64}$/);
    rx.secrets.set('/from-panel', shown);
    const list = (await request(srv.base, 'GET', '/api/webhooks')).json.items;
    const added = list.find((w) => w.url === rx.url('/from-panel'));
    assert.deepEqual(added.events, ['job.done', 'job.failed']);
    // "Send test" on the new one: its row shows the ok delivery
    const row = `#hooks-list li[data-id="${added.id}"]`;
    await page.waitForSelector(`${row} .hooks-test`);
    await page.click(`${row} .hooks-test`);
    await page.waitForSelector(`${row} .hooks-state[data-state="ok"]`, { timeout: 10000 });
    const ping = rx.log.find(forPath('/from-panel', 'ping'));
    assert.ok(ping?.verified, 'the panel-made webhook signs with the secret it showed');
    await page.evaluate(() => document.getElementById('hooks').scrollIntoView());
    const file = path.join(shots, 'admin-webhooks.png');
    await page.screenshot({ path: file });
    console.error(`# screenshot: ${file}`);
    // delete takes two clicks
    await page.click(`${row} .hooks-del`);
    await page.click(`${row} .hooks-del`);
    await waitUntil(() => page.$(row).then((e) => !e), 10000, 'the row to go');
    assert.equal((await request(srv.base, 'GET', `/api/webhooks/${added.id}`)).status, 404);
  } finally {
    await chromium.close();
    await request(srv.base, 'DELETE', `/api/webhooks/${pre.id}`);
  }
});

test('a delivery pending in back-off survives a restart of the server', async () => {
  const down = await startReceiver();
  const port = down.port;
  await down.close(); // nothing listens there now: connection refused
  const secret = crypto.randomBytes(16).toString('hex');
  const w = await addHook({ url: `http://127.0.0.1:${port}/later`, secret, events: ['job.done'] });
  const t = await request(srv.base, 'POST', `/api/webhooks/${w.id}/test`);
  assert.equal(t.status, 202);
  const before = await waitUntil(async () => {
    const d = (await deliveries(w.id)).items[0];
    return d?.attempts >= 1 && d.state === 'pending' && d;
  }, 10000, 'a failed first attempt');
  assert.match(before.error, /connect|refused/i, before.error);
  assert.ok(before.next_attempt_at, 'a next attempt is planned');

  // stop the server (SIGTERM), keeping its data dir
  const dataDir = path.join(srv.dir, 'data');
  const old = srv;
  await new Promise((resolve) => { old.proc.once('exit', resolve); old.proc.kill('SIGTERM'); });
  // A crash between an event's commit and its delivery's creation, made
  // certain: the ingest cursor is put back before the last job.done (needs
  // the sqlite3 shell); the restart must replay it from the events log.
  let replay = false;
  try {
    execFileSync('sqlite3', [path.join(dataDir, 'catalog.db'),
      `UPDATE webhook_meta SET value = ${lastDone - 1} WHERE key = 'events_cursor'`]);
    replay = lastDone > 0;
  } catch (e) {
    console.error(`# no sqlite3 shell (${e.message.split('\n')[0]}): the replay check is skipped`);
  }
  const rx2 = await startReceiver(port);
  rx2.secrets.set('/later', secret);
  srv = await startSnapcat([...FLAGS, '--data', dataDir], { name: 'hooks-restarted' });
  try {
    const got = await rx2.log.waitFor(forPath('/later', 'ping'), 20000, 'the ping after the restart');
    assert.ok(got.verified);
    assert.equal(got.id, t.json.delivery);
    const d = await waitUntil(async () => {
      const x = (await deliveries(w.id)).items.find((i) => i.id === t.json.delivery);
      return x?.state === 'ok' && x;
    }, 10000, 'the delivery ok after the restart');
    assert.ok(d.attempts >= 2, `attempts ${d.attempts}`);
    assert.equal(d.tries.length, d.attempts);
    assert.match(d.tries[0].error, /connect|refused/i);
    assert.equal(d.tries.at(-1).status, 200);
    if (replay) {
      const re = await rx2.log.waitFor(forPath('/later', 'job.done'), 20000, 'the replayed job.done');
      assert.ok(re.verified);
      assert.equal(re.json.id, lastDone, 'the event after the cursor, and only it');
      assert.equal(rx2.log.events.filter(forPath('/later', 'job.done')).length, 1);
    }
  } finally {
    await rx2.close();
    if (!process.env.SNAPCAT_NODE_KEEP) fs.rmSync(old.dir, { recursive: true, force: true });
    else console.error(`# kept ${old.dir}`);
  }
});
