// SSE (GET /api/events) with the npm `eventsource` client: one capture's
// events in order, named events for addEventListener, and resume across a
// connection cut mid-stream with Last-Event-ID (no gap, no duplicate).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import {
  startFixture, startSnapcat, capture, request, assertJobLifecycle,
  assertIncreasingIds, withDeadline,
} from './lib/harness.js';
import { openEventSource, CutProxy, headerOf } from './lib/clients.js';

let fx;
let srv;
const open = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'es' });
});

after(async () => {
  for (const c of open) c.close();
  await srv?.stop();
  await fx?.stop();
});

test('eventsource: a capture job.queued..job.done in order, increasing ids, addEventListener', async () => {
  const c = openEventSource(`${srv.base}/api/events`, 'es');
  open.push(c);
  await c.waitOpen();
  let doneViaListener = null;
  c.es.addEventListener('job.done', (e) => { doneViaListener ??= JSON.parse(e.data); });

  const { link, job } = await capture(srv, fx.url('/final'), ['es']);
  // the first capture also waits for the server's Chromium to start
  const done = await c.log.waitFor((e) => e.type === 'job.done' && e.job === job.id, 90000,
    `job.done of job ${job.id}`);
  await c.log.waitFor((e) => e.type === 'link.updated' && e.link === link.id && e.id > done.id,
    5000, `link.updated of link ${link.id} after job.done`);

  const ev = assertJobLifecycle(assert, c.log.events, job.id);
  assert.equal(ev[0].link, link.id);
  for (const e of c.log.events) {
    // event: is the type (addEventListener works), id: the JSON id
    assert.equal(e._event, e.type, `event: line vs JSON type: ${e._raw}`);
    assert.equal(e._lastEventId, String(e.id), `id: line vs JSON id: ${e._raw}`);
  }
  assertIncreasingIds(assert, c.log.events, 'all events on the stream');
  assert.ok(doneViaListener, "addEventListener('job.done') did not fire");
  assert.equal(doneViaListener.job, job.id);
  assert.equal(doneViaListener.id, done.id);
  assert.equal(typeof done.snapshot, 'number', `job.done names its snapshot: ${done._raw}`);
  // every event is named, so onmessage (unnamed "message" events) gets none
  assert.deepEqual(c.messages, [], 'onmessage got unnamed events');
  assert.deepEqual(c.errors, [], 'the stream had errors');
});

test('eventsource: resume after the connection is cut mid-stream: every event exactly once', async () => {
  // ref never disconnects; sub goes through a proxy that the test cuts
  const ref = openEventSource(`${srv.base}/api/events`, 'ref');
  open.push(ref);
  const proxy = await new CutProxy(srv.port).listen();
  const sub = openEventSource(`http://127.0.0.1:${proxy.port}/api/events`, 'sub');
  open.push(sub);
  try {
    await Promise.all([ref.waitOpen(), sub.waitOpen()]);
    const jobA = (await capture(srv, fx.url('/hold?ms=2500'), ['resume'])).job;
    await sub.log.waitFor((e) => e.type === 'job.started' && e.job === jobA.id, 30000,
      `job.started of job ${jobA.id}`);

    // cut mid-stream (job A is running); new connections wait at the proxy
    proxy.hold();
    const errorsBefore = sub.errors.length;
    const lastBeforeCut = sub.log.events.at(-1);
    proxy.cut();
    await withDeadline((async () => {
      while (sub.errors.length === errorsBefore) await new Promise((r) => setTimeout(r, 10));
    })(), 5000, 'the eventsource error event after the cut');
    assert.equal(sub.es.readyState, EventSource.CONNECTING, 'eventsource should be reconnecting');
    const countAtCut = sub.log.events.length;

    // more events while it is away: the rest of job A, a second capture, PATCHes
    const b = await capture(srv, fx.url('/title?t=resume-b'), ['resume']);
    await ref.log.waitFor((e) => e.type === 'job.done' && e.job === jobA.id, 60000, `job.done of job ${jobA.id}`);
    await ref.log.waitFor((e) => e.type === 'job.done' && e.job === b.job.id, 60000, `job.done of job ${b.job.id}`);
    for (let i = 0; i < 5; i++) {
      const r = await request(srv.base, 'PATCH', `/api/links/${b.link.id}`, { title: `t${i}` });
      assert.equal(r.status, 200, r.body);
    }
    const lastPatch = await ref.log.waitForNth((e) => e.type === 'link.updated' && e.link === b.link.id,
      6, 10000, '5 PATCH link.updated events');
    assert.equal(sub.log.events.length, countAtCut, 'sub got events while its connection was cut');

    // let it reconnect: it must resume from its last id
    proxy.release();
    await sub.waitOpen(2, 15000);
    await proxy.waitHeads(2, 1000);
    const resumeHead = proxy.heads[1];
    assert.equal(headerOf(resumeHead, 'last-event-id'), String(lastBeforeCut.id),
      `the reconnect did not carry Last-Event-ID ${lastBeforeCut.id}:\n${resumeHead}`);
    const lastRef = ref.log.events.at(-1);
    assert.ok(lastRef.id >= lastPatch.id);
    await sub.log.waitFor((e) => e.id === lastRef.id, 10000, `event ${lastRef.id} after the resume`);

    const subIds = sub.log.events.map((e) => e.id);
    const from = subIds[0];
    const refIds = ref.log.events.map((e) => e.id).filter((id) => id >= from && id <= lastRef.id);
    assert.deepEqual(subIds, refIds, 'resumed stream != the stream that never disconnected');
    assert.equal(new Set(subIds).size, subIds.length, 'duplicates');
    // and the same bytes for the same ids
    const refRaw = new Map(ref.log.events.map((e) => [e.id, e._raw]));
    for (const e of sub.log.events) assert.equal(e._raw, refRaw.get(e.id), `event ${e.id} differs`);
    assert.ok(subIds.some((id) => id > lastBeforeCut.id + 3), 'too few events after the cut');
  } finally {
    sub.close();
    await proxy.close();
  }
});

test('eventsource: ?last_event_id= replays what followed that id, then goes live', async () => {
  const ref = openEventSource(`${srv.base}/api/events`, 'ref2');
  open.push(ref);
  await ref.waitOpen();
  const { link, job } = await capture(srv, fx.url('/title?t=replay'), ['replay']);
  const done = await ref.log.waitFor((e) => e.type === 'job.done' && e.job === job.id, 60000, `job.done ${job.id}`);
  const queued = ref.log.find((e) => e.type === 'job.queued' && e.job === job.id);
  assert.ok(queued);

  // a new client resuming from just before job.queued gets the whole job
  const late = openEventSource(`${srv.base}/api/events?last_event_id=${queued.id - 1}&link=${link.id}`, 'late');
  open.push(late);
  await late.log.waitFor((e) => e.id === done.id, 10000, `replayed job.done ${done.id}`);
  assertJobLifecycle(assert, late.log.events, job.id);
  const want = ref.log.events.filter((e) => e.link === link.id && e.id >= queued.id && e.id <= done.id);
  assert.deepEqual(late.log.events.filter((e) => e.id <= done.id).map((e) => e._raw), want.map((e) => e._raw));
  // then live, still filtered by ?link=
  const r = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { title: 'live' });
  assert.equal(r.status, 200, r.body);
  const upd = await ref.log.waitFor((e) => e.type === 'link.updated' && e.link === link.id && e.id > done.id + 1,
    5000, 'PATCH link.updated');
  await late.log.waitFor((e) => e.id === upd.id, 5000, `live event ${upd.id}`);
  assert.ok(late.log.events.every((e) => e.link === link.id), 'the ?link= filter let other links through');
  late.close();
});
