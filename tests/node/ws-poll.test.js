// /api/ws with the npm `ws` client (subscribe with after= replay then live,
// capture op, unsubscribe, filters, ping/pong; the same event JSON as SSE),
// and the long-poll GET /api/events/poll.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import {
  startFixture, startSnapcat, capture, request, assertJobLifecycle, withDeadline,
  EventLog,
} from './lib/harness.js';
import { openEventSource } from './lib/clients.js';

let fx;
let srv;
let ref; // an SSE subscriber from before the first event: the reference stream
const sockets = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'ws' });
  ref = openEventSource(`${srv.base}/api/events?last_event_id=0`, 'sse-ref');
  await ref.waitOpen();
});

after(async () => {
  for (const s of sockets) s.terminate();
  ref?.close();
  await srv?.stop();
  await fx?.stop();
});

/**
 * A ws client on /api/ws: every message parsed into .msgs (in order) and
 * event messages (those with a numeric id) also into .log.
 */
async function openWs(label, query = '') {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/ws${query}`);
  sockets.push(ws);
  const c = { ws, log: new EventLog(label), msgs: new EventLog(`${label} (all messages)`), raw: new Map() };
  ws.on('message', (data, isBinary) => {
    assert.equal(isBinary, false, 'a binary WebSocket message');
    const text = data.toString('utf8');
    const m = { ...JSON.parse(text), _raw: text };
    c.msgs.add(m);
    if (typeof m.id === 'number') {
      c.raw.set(m.id, text);
      c.log.add(m);
    }
  });
  c.send = (o) => ws.send(JSON.stringify(o));
  /** The next message (after those already seen) matching pred. */
  c.next = (pred, ms, what) => {
    const seen = c.msgs.events.length;
    return c.msgs.waitFor((m) => c.msgs.events.indexOf(m) >= seen && pred(m), ms, what);
  };
  await withDeadline(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  }), 10000, `${label}: WebSocket open`);
  return c;
}

test('ws: subscribe after=0 replays from the start, then live; capture op; same JSON as SSE', async () => {
  // history first: one capture, seen on SSE
  const first = await capture(srv, fx.url('/title?t=ws-1'), ['ws']);
  await ref.log.waitFor((e) => e.type === 'link.updated' && e.link === first.link.id, 90000,
    `job ${first.job.id} to finish`);
  const history = ref.log.events.map((e) => e.id);
  assert.equal(history[0], 1, 'the reference SSE stream should start at event 1');

  const c = await openWs('ws');
  const subscribed = c.next((m) => m.type === 'subscribed', 5000, 'subscribed');
  c.send({ op: 'subscribe', after: 0 });
  const sub = await subscribed;
  assert.equal(sub.op, 'subscribe');
  const lastHist = history.at(-1);
  await c.log.waitFor((e) => e.id === lastHist, 10000, `replay up to ${lastHist}`);
  // the "subscribed" reply comes before the replayed events
  assert.ok(c.msgs.events.indexOf(sub) < c.msgs.events.findIndex((m) => m.id === 1));

  // live: a capture through the WebSocket itself
  const captured = c.next((m) => m.type === 'captured', 10000, 'captured');
  c.send({ op: 'capture', url: fx.url('/title?t=ws-2'), tags: ['ws', 'op'] });
  const cap = await captured;
  assert.equal(cap.status, 201, JSON.stringify(cap));
  const job = cap.result?.job?.id;
  const link = cap.result?.link?.id;
  assert.ok(job && link, `captured.result has {link, job}: ${JSON.stringify(cap)}`);
  assert.deepEqual(cap.result.link.tags.slice().sort(), ['op', 'ws']);
  const done = await c.log.waitFor((e) => e.type === 'job.done' && e.job === job, 60000, `job.done ${job}`);
  const upd = await c.log.waitFor((e) => e.type === 'link.updated' && e.link === link && e.id > done.id, 5000,
    'link.updated after job.done');
  await ref.log.waitFor((e) => e.id === upd.id, 5000, `SSE got ${upd.id}`);
  assertJobLifecycle(assert, c.log.events, job);

  // every id once, in order, and byte-identical to the SSE data for the same id
  const wsIds = c.log.events.map((e) => e.id);
  const sseIds = ref.log.events.map((e) => e.id).filter((id) => id <= upd.id);
  assert.deepEqual(wsIds, sseIds, 'WebSocket ids != SSE ids');
  for (const e of ref.log.events) {
    if (e.id <= upd.id) assert.equal(c.raw.get(e.id), e._raw, `event ${e.id}: WS JSON != SSE data`);
  }
});

test('ws: unsubscribe stops events; filters; protocol ping/pong', async () => {
  const c = await openWs('ws2');
  const subd = c.next((m) => m.type === 'subscribed', 5000, 'subscribed');
  c.send({ op: 'subscribe' }); // no after: live only
  await subd;
  const { link } = await capture(srv, fx.url('/title?t=ws-3'), ['ws']);
  await c.log.waitFor((e) => e.type === 'job.queued' && e.link === link.id, 5000, 'a live job.queued');
  await c.log.waitFor((e) => e.type === 'link.updated' && e.link === link.id, 60000, 'the job to finish');

  const unsub = c.next((m) => m.type === 'unsubscribed', 5000, 'unsubscribed');
  c.send({ op: 'unsubscribe' });
  const u = await unsub;
  const at = c.msgs.events.indexOf(u);
  for (let i = 0; i < 3; i++) {
    const r = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { title: `u${i}` });
    assert.equal(r.status, 200, r.body);
  }
  const lastPatch = await ref.log.waitForNth((e) => e.type === 'link.updated' && e.link === link.id,
    4, 5000, 'the 3 PATCH events on SSE');
  // the server delivered those events to every subscriber before this
  // message's reply: anything wrongly sent to ws2 is queued before it
  const err = c.next((m) => m.type === 'error', 5000, 'the error reply to an unknown op');
  c.send({ op: 'no-such-op' });
  const e = await err;
  assert.equal(e.error?.code, 'unknown_op', JSON.stringify(e));
  const between = c.msgs.events.slice(at + 1, c.msgs.events.indexOf(e));
  assert.deepEqual(between.map((m) => m._raw), [], 'events after unsubscribe');

  // a new subscribe with filters: only link.updated of this link, from after=
  const subd2 = c.next((m) => m.type === 'subscribed', 5000, 'subscribed (2)');
  c.send({ op: 'subscribe', link: link.id, types: ['link.updated'], after: 0 });
  await subd2;
  await c.log.waitFor((m) => m.id === lastPatch.id, 5000, 'the filtered replay');
  const want = ref.log.events.filter((x) => x.type === 'link.updated' && x.link === link.id).map((x) => x.id);
  const got = c.log.events.filter((x) => c.msgs.events.indexOf(x) > c.msgs.events.indexOf(e));
  assert.deepEqual(got.map((x) => x.id), want, 'filtered replay');

  // protocol-level ping/pong
  const pong = withDeadline(new Promise((r) => c.ws.once('pong', (d) => r(d.toString()))), 5000, 'pong');
  c.ws.ping('hello');
  assert.equal(await pong, 'hello');

  const closed = new Promise((r) => c.ws.once('close', r));
  c.ws.close(1000);
  await withDeadline(closed, 5000, 'the close handshake');
});

test('long-poll: at once when events exist, waits for the next one, [] at timeout', async () => {
  // events exist after 0: immediate answer, the same JSON as SSE
  let t0 = Date.now();
  let r = await request(srv.base, 'GET', '/api/events/poll?after=0&timeout=20');
  let dt = Date.now() - t0;
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /application\/json/);
  assert.ok(Array.isArray(r.json) && r.json.length > 0, r.body.slice(0, 300));
  assert.ok(dt < 2000, `poll with events pending took ${dt} ms`);
  const sseRaw = new Map(ref.log.events.map((e) => [e.id, e._raw]));
  const text = r.body.trim();
  assert.equal(r.json[0].id, 1);
  for (let i = 0; i < r.json.length; i++) {
    const e = r.json[i];
    if (i) assert.ok(e.id > r.json[i - 1].id, 'ids increase');
    if (sseRaw.has(e.id)) assert.ok(text.includes(sseRaw.get(e.id)), `event ${e.id}: poll JSON != SSE data`);
  }

  // nothing after the newest: it waits, and answers at the next event
  const newest = ref.log.events.at(-1).id;
  const link = { id: ref.log.events.find((e) => e.type === 'link.updated').link };
  t0 = Date.now();
  let answered = 0;
  const pending = request(srv.base, 'GET', `/api/events/poll?after=${newest}&timeout=20`)
    .then((x) => { answered = Date.now(); return x; });
  // give it time to answer wrongly (it must not: there is nothing yet)
  await new Promise((res) => setTimeout(res, 700));
  assert.equal(answered, 0, 'the poll answered with no new event');
  const tPatch = Date.now();
  const p = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { title: 'poll' });
  assert.equal(p.status, 200, p.body);
  r = await withDeadline(pending, 5000, 'the waiting poll to answer');
  assert.equal(r.status, 200, r.body);
  assert.ok(answered - tPatch < 2000, `answered ${answered - tPatch} ms after the event`);
  assert.ok(r.json.length >= 1, r.body);
  assert.equal(r.json[0].id, newest + 1, r.body);
  assert.equal(r.json[0].type, 'link.updated');
  assert.equal(r.json[0].link, link.id);

  // nothing for timeout seconds: []
  const newest2 = r.json.at(-1).id;
  t0 = Date.now();
  r = await request(srv.base, 'GET', `/api/events/poll?after=${newest2}&timeout=1`);
  dt = Date.now() - t0;
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, []);
  assert.ok(dt >= 900 && dt < 4000, `timeout=1 answered after ${dt} ms`);

  // filters apply
  r = await request(srv.base, 'GET', '/api/events/poll?after=0&types=job.done&timeout=5');
  assert.ok(r.json.length >= 2 && r.json.every((e) => e.type === 'job.done'), r.body.slice(0, 300));
  // a bad argument is a 400, not a hang
  r = await request(srv.base, 'GET', '/api/events/poll?after=0&timeout=999');
  assert.equal(r.status, 400, r.body);
});

// Regression (fixed server bug): with timeout=0 and no event after `after`, the poll
// never answers: feed_poll_open arms a 0 ms timer, which fires while the
// replay is still on the worker (feed_poll_answer returns early when
// s->replaying) and is then forgotten; feed_replay_done answers only when
// events were queued. The connection is dropped by lws after 30 s without
// a response. (Any timeout shorter than the replay has the same race.)
test('long-poll: timeout=0 with nothing new answers [] at once', async () => {
  const all = await request(srv.base, 'GET', '/api/events/poll?after=0&timeout=5');
  const newest = all.json.at(-1).id;
  const agent = new http.Agent({ keepAlive: false });
  const t0 = Date.now();
  const r = await withDeadline(request(srv.base, 'GET', `/api/events/poll?after=${newest}&timeout=0`, undefined, {}, agent)
    .catch((e) => ({ status: 0, body: `${e.message} after ${Date.now() - t0} ms` })),
  3000, `GET /api/events/poll?after=${newest}&timeout=0 to answer (expected 200 [] at once)`);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, []);
});
