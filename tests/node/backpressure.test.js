// Back-pressure: subscribers that never read while >10,000 events flow.
// The server's memory must stay bounded, a normal subscriber must get every
// event on time, and the slow ones must be dropped (closed by the server,
// after a gap-free prefix). Then resume across retention (event: reset).
//
// Sizing. A socket that does not read still absorbs ~2-4 MB in the kernel
// (the client's receive buffer plus the server's autotuned send buffer), so
// 10,000 small link.updated events (~130 B each on the wire) would never
// reach the server's 1 MiB per-subscriber queue. The flood is therefore
// 10,000 PATCH link.updated events plus BIG job.queued events: POST
// /api/links of ~8 KB URLs (each event carries its URL). The server runs
// with --concurrency 1 and one capture that holds its only slot, so those
// jobs just queue (no Chromium work). With SLOW subscribers, a server
// whose queues were unbounded would grow by about SLOW x the flood's bytes,
// well over the RSS limit below; a bounded one by about SLOW x 1 MiB.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import fs from 'node:fs';
import {
  startFixture, startSnapcat, capture, request, rssKiB, withDeadline, waitUntil,
  SseSplitter,
} from './lib/harness.js';
import { openEventSource } from './lib/clients.js';

const PATCHES = 9400;        // link.updated events, ~130 B on the wire
const BIG = 1200;            // job.queued events of ~8.2 KB: ~10 MB
// with the warm-up, > 10,500 events: the server has pruned its oldest
// (it keeps 10,000), which the retention tests below need
const URL_LEN = 8000;        // the server takes URLs up to 8192 bytes
const SLOW = 8;              // subscribers that never read
const EXTRA_MAX = 3000;      // more big events if the kernel buffers more
const RSS_LIMIT_MB = 40;     // growth allowed over the baseline
const LAG_LAST_MS = 2000;    // the last event must arrive this soon after its ts

let fx;
let srv;
let normal; // the flood test's normal subscriber (it stays open)
const cleanup = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat(['--concurrency', '1', '--timeout', '600'], { name: 'bp' });
});

after(async () => {
  for (const f of cleanup) f();
  await srv?.stop();
  await fx?.stop();
});

/** A raw SSE subscriber on a net socket that stops reading once registered. */
async function slowSubscriber(i) {
  const sock = net.connect(srv.port, '127.0.0.1');
  cleanup.push(() => sock.destroy());
  const s = { sock, text: '', ended: false, endedAt: 0 };
  sock.setEncoding('utf8');
  sock.on('data', (d) => { s.text += d; });
  sock.on('end', () => { s.ended = true; s.endedAt = Date.now(); });
  sock.on('close', () => { s.ended = true; s.endedAt ||= Date.now(); });
  sock.on('error', () => {});
  sock.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
  await waitUntil(() => /\r\n\r\nretry: \d+\n\n/.test(s.text), 10000, `slow subscriber ${i}: headers + retry:`);
  sock.pause(); // and never read again (until the end of the test)
  return s;
}

/** How many subscribers the server says it dropped (its log). */
function drops() {
  return (fs.readFileSync(srv.logPath, 'utf8').match(/dropping a SSE subscriber/g) || []).length;
}

/** Run n calls of fn(i) with `conc` at a time. */
async function flood(n, conc, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}

test(`back-pressure: ${SLOW} subscribers that never read while ${PATCHES + BIG} events flow`, async (t) => {
  normal = openEventSource(`${srv.base}/api/events`, 'normal');
  cleanup.push(() => normal.close());
  await normal.waitOpen();

  // the blocker holds the only capture slot for the whole test
  const blocker = await capture(srv, fx.url('/hold?ms=600000'), ['bp']);
  await normal.log.waitFor((e) => e.type === 'job.started' && e.job === blocker.job.id, 60000,
    'the blocker job to start');

  const slow = [];
  for (let i = 0; i < SLOW; i++) slow.push(await slowSubscriber(i));

  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  cleanup.push(() => agent.destroy());
  // warm up (first-request allocations, SQLite cache), then the baseline
  await flood(200, 4, () => request(srv.base, 'PATCH', `/api/links/${blocker.link.id}`, { title: 'w' }, {}, agent));
  const base = rssKiB(srv.pid);
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(srv.pid)); }, 50);
  cleanup.push(() => clearInterval(sampler));
  const firstFloodId = normal.log.events.at(-1).id + 1;

  const t0 = Date.now();
  await flood(PATCHES, 4, async (i) => {
    const r = await request(srv.base, 'PATCH', `/api/links/${blocker.link.id}`, { title: `p${i}` }, {}, agent);
    if (r.status !== 200) throw new Error(`PATCH #${i}: ${r.status} ${r.body}`);
  });
  const tPatch = Date.now() - t0;
  const pad = 'x'.repeat(URL_LEN - fx.url('/final?n=000000&pad=').length);
  let nbig = 0;
  const big = (n) => flood(n, 4, async () => {
    const i = nbig++;
    const url = fx.url(`/final?n=${String(i).padStart(6, '0')}&pad=${pad}`);
    const r = await request(srv.base, 'POST', '/api/links', { url, tags: [] }, {}, agent);
    if (r.status !== 201) throw new Error(`POST /api/links #${i}: ${r.status} ${r.body.slice(0, 300)}`);
  });
  await big(BIG);
  // on a machine whose kernel buffers more per socket, flow on until the
  // server has dropped them (its log says so; the sockets are checked below)
  while (drops() < SLOW && nbig < BIG + EXTRA_MAX) await big(200);
  const tFlood = Date.now() - t0;

  // the normal subscriber: every event, on time
  const last = await request(srv.base, 'GET', `/api/events/poll?after=${firstFloodId + PATCHES + nbig - 10}&timeout=5`);
  const lastId = last.json.at(-1).id;
  const lastEv = await normal.log.waitFor((e) => e.id === lastId, 10000, `the last event ${lastId}`);
  clearInterval(sampler);
  peak = Math.max(peak, rssKiB(srv.pid));
  const got = normal.log.events.filter((e) => e.id >= firstFloodId);
  const ids = got.map((e) => e.id);
  assert.equal(ids.length, lastId - firstFloodId + 1, `the normal subscriber missed events (${ids.length} of ${lastId - firstFloodId + 1})`);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== firstFloodId + i) assert.fail(`normal subscriber: gap or duplicate at ${i}: ${ids[i]} (want ${firstFloodId + i})`);
  }
  const lags = got.map((e) => e._at - Date.parse(e.ts)).sort((a, b) => a - b);
  const lastLag = lastEv._at - Date.parse(lastEv.ts);
  const growMB = (peak - base) / 1024;
  t.diagnostic(`flood: ${PATCHES} PATCH in ${tPatch} ms, ${nbig} big POST in ${tFlood - tPatch} ms; ` +
    `${ids.length} events; normal subscriber lag p50 ${pct(lags, 0.5)} ms, p99 ${pct(lags, 0.99)} ms, ` +
    `max ${lags.at(-1)} ms, last ${lastLag} ms; server RSS ${Math.round(base / 1024)} MB -> peak ${Math.round(peak / 1024)} MB`);
  assert.ok(lastLag <= LAG_LAST_MS, `the last event arrived ${lastLag} ms after its ts`);
  // Under AddressSanitizer freed memory sits in ASan's quarantine (256 MB by
  // default) and every block has redzones, so RSS says nothing about our
  // queues there; the bound is checked in the optimised build (scripts/test
  // runs both) and the drops and timeliness below in both.
  const asan = /detect_leaks|abort_on_error/.test(process.env.ASAN_OPTIONS || '');
  if (!asan)
    assert.ok(growMB < RSS_LIMIT_MB, `server RSS grew by ${growMB.toFixed(1)} MB (limit ${RSS_LIMIT_MB} MB)`);

  // the slow subscribers were dropped: read what the kernel held; the
  // stream must end (closed by the server) after a gap-free prefix
  for (const [i, s] of slow.entries()) {
    s.sock.resume();
    await waitUntil(() => s.ended, 15000, `slow subscriber ${i} to be closed by the server (read ${s.text.length} B)`);
    const sids = [];
    const sp = new SseSplitter((f) => { if (f.id) sids.push(Number(f.id)); });
    sp.push(s.text.slice(s.text.indexOf('\r\n\r\n') + 4));
    assert.ok(sids.length > 0, `slow subscriber ${i} got no event at all`);
    assert.ok(sids.at(-1) < lastId, `slow subscriber ${i} got everything (${sids.at(-1)}): it was not dropped`);
    for (let k = 1; k < sids.length; k++) {
      if (sids[k] !== sids[k - 1] + 1) assert.fail(`slow subscriber ${i}: gap ${sids[k - 1]} -> ${sids[k]} before the drop`);
    }
    t.diagnostic(`slow subscriber ${i}: ${sids.length} events (${Math.round(s.text.length / 1024)} KiB) then closed`);
  }
  assert.ok(drops() >= SLOW, `the server log has ${drops()} "dropping a SSE subscriber" lines, want >= ${SLOW}`);
});

test('after >10,000 events: a resume point past retention gets event: reset first', async () => {
  assert.ok(normal, 'the flood test did not run');
  const top = normal.log.events.at(-1).id; // nothing happened since the flood
  assert.ok(top > 10500, `not enough events for retention (${top})`);
  // types=job.started keeps the replay small (see the TODO test below for
  // a full one): the only job that started is long gone
  const old = openEventSource(`${srv.base}/api/events?last_event_id=1&types=job.started`, 'old');
  cleanup.push(() => old.close());
  await old.log.waitFor((e) => e.type === 'reset', 10000, 'event: reset');
  assert.equal(old.log.events[0].type, 'reset', 'reset comes first');
  const reset = JSON.parse(old.log.events[0]._raw);
  assert.equal(reset.type, 'reset');
  assert.ok(reset.oldest > 1 && reset.oldest <= top - 9999 && reset.newest >= top,
    `reset data {oldest, newest}: ${old.log.events[0]._raw} (newest event ${top})`);
  assert.equal(old.es.readyState, 1, 'the stream stays open after the reset');
  old.close();
});

test('after >10,000 events: Last-Event-ID 100 behind replays exactly those 100', async () => {
  const top = normal.log.events.at(-1).id;
  const recent = openEventSource(`${srv.base}/api/events?last_event_id=${top - 100}`, 'recent');
  cleanup.push(() => recent.close());
  await recent.log.waitFor((e) => e.id === top, 10000, `the replay up to ${top}`);
  assert.deepEqual(recent.log.events.map((e) => e.id), Array.from({ length: 100 }, (_, k) => top - 99 + k));
  recent.close();
});

// Regression (fixed server bug): a replay longer than the subscriber's queue drops the
// subscriber. feed_replay_done() pushes the whole replay into the bounded
// queue at once (FEED_QUEUE_RECS 4096 records / 1 MiB), so resuming more
// than ~4,096 small events behind -- well within the 10,000 kept -- ends
// in "dropping a SSE subscriber: its queue is full (a client that does not
// read)" before a single event is written (the client gets the headers and
// retry:, then the connection closes). EventSource then reconnects with
// the same Last-Event-ID forever. Same for ?last_event_id= past retention
// (reset + the kept events) and WebSocket subscribe with an old `after`.
test('after >10,000 events: resuming 5,000 events behind replays all of them', async () => {
  const top = normal.log.events.at(-1).id;
  const from = top - 5000;
  const far = openEventSource(`${srv.base}/api/events?last_event_id=${from}`, 'far');
  cleanup.push(() => far.close());
  const drops0 = drops();
  try {
    // done when the replay is complete, or when the connection was lost
    // (a reading client must never be dropped)
    await waitUntil(() => far.log.find((e) => e.id === top) || far.errors.length, 15000,
      `the replay of ${from + 1}..${top}`);
    assert.deepEqual(far.errors, [], `the resuming subscriber lost its connection after ${far.log.events.length} ` +
      `events; "dropping a SSE subscriber" lines meanwhile: ${drops() - drops0}\n${srv.logTail(4)}`);
    const ids = far.log.events.map((e) => e.id);
    assert.deepEqual(ids, Array.from({ length: 5000 }, (_, k) => from + 1 + k));
  } finally {
    far.close();
  }
});

// Regression (fixed server bug): a POST /api/snapshots stream replays its job from
// after=0 (feed_sse_open: `if (job_until_done) after = 0`), and
// feed_replay_work flags "older than retention" for any after+1 < oldest,
// so once the server has pruned events (more than 10,000 in its life) every
// POST stream starts with a spurious `event: reset` (data = {"type":"reset",
// "oldest":…,"newest":…}) before the job's job.queued. A client treating
// each message as the job's progress gets a foreign object first.
test('after >10,000 events: a POST /api/snapshots stream starts with the job, not event: reset', async () => {
  const body = JSON.stringify({ url: fx.url('/title?t=after-retention'), tags: [] });
  const frames = [];
  const text = await withDeadline(new Promise((resolve, reject) => {
    let buf = '';
    let head = null;
    const req = http.request(`${srv.base}/api/snapshots`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      head = res;
      res.setEncoding('utf8');
      const sp = new SseSplitter((f) => frames.push(f));
      res.on('data', (d) => {
        buf += d;
        sp.push(d);
        // the job cannot run (the blocker holds the slot): its job.queued is enough
        if (frames.some((f) => f.event === 'job.queued')) {
          req.destroy();
          resolve(buf);
        }
      });
    });
    req.on('error', (e) => (head ? null : reject(e)));
    req.end(body);
  }), 10000, 'the POST stream\'s job.queued');
  const named = frames.filter((f) => !f.retry);
  assert.equal(named[0]?.event, 'job.queued', `first frames of the POST stream:\n${text.slice(0, 600)}`);
});
