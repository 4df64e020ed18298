// POST /api/snapshots as an event stream with @microsoft/fetch-event-source
// (to data: [DONE]; a failed job's event: error before it), and the raw
// wire with `curl -N`: headers, retry:, events, ping (server at --ping 1).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fetchEventSource } from '@microsoft/fetch-event-source';
import {
  startFixture, startSnapcat, request, capture, assertJobLifecycle, withDeadline,
  SseSplitter, ISO_RE, EventLog,
} from './lib/harness.js';

// fetch-event-source is a browser library: it touches window.setTimeout
// and document visibility. This is the usual shim to run it under Node.
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

let fx;
let srv;
const children = new Set();
// what followed data: [DONE] on each POST stream of this file (see the last test)
const transcripts = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat(['--ping', '1'], { name: 'stream' });
});

after(async () => {
  for (const p of children) p.kill('SIGKILL');
  await srv?.stop();
  await fx?.stop();
});

/**
 * POST /api/snapshots {url, tags} with fetch-event-source; resolves when the
 * library's promise does (the server ended the stream). Returns the
 * messages (pings left out) and the response.
 */
async function postStream(url, tags, ms) {
  const msgs = [];
  const pings = [];
  let response;
  let sawDone = false;
  const afterDone = [];
  const ctrl = new AbortController();
  const errors = [];
  const p = fetchEventSource(`${srv.base}/api/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ url, tags }),
    signal: ctrl.signal,
    openWhenHidden: true,
    async onopen(res) {
      response = res;
      const ct = res.headers.get('content-type') || '';
      if (res.status !== 200 || !ct.startsWith('text/event-stream')) {
        throw new Error(`POST /api/snapshots: ${res.status} ${ct} ${await res.text()}`);
      }
    },
    onmessage(m) {
      // fetch-event-source also calls onmessage for a frame with only a
      // retry: field (no data); that is the library, not an event
      if (m.data === '' && m.event === '' && m.id === '') return;
      if (sawDone) afterDone.push(m);
      if (m.data === '[DONE]') sawDone = true;
      if (m.event === 'ping') pings.push(m);
      else msgs.push({ ...m, at: Date.now() });
    },
    onerror(err) {
      errors.push(err);
      throw err; // no retry: a POST stream is not resumable
    },
  });
  try {
    await withDeadline(p, ms, `the POST stream of ${url} to end (got ${msgs.map((m) => m.event || m.data).join(' ')})`);
  } finally {
    ctrl.abort();
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(afterDone.filter((m) => m.event !== 'ping'), [], 'only a heartbeat may follow [DONE]');
  transcripts.push({ url, afterDone: afterDone.map((m) => `event: ${m.event} data: ${m.data}`) });
  return { msgs, pings, response };
}

test('fetch-event-source: POST /api/snapshots streams the job to data: [DONE]', async () => {
  const { msgs, response } = await postStream(fx.url('/title?t=stream'), ['stream'], 90000);
  assert.match(response.headers.get('cache-control') || '', /\bno-cache\b/);
  assert.equal(response.headers.get('x-accel-buffering'), 'no');
  const last = msgs.at(-1);
  assert.equal(last.data, '[DONE]', `last message: ${JSON.stringify(last)}`);
  assert.equal(last.event, '', 'the [DONE] message is unnamed');
  const events = msgs.slice(0, -1).map((m) => {
    const j = JSON.parse(m.data);
    assert.equal(m.event, j.type, `event: vs type: ${m.data}`);
    assert.equal(m.id, String(j.id), `id: vs id: ${m.data}`);
    return j;
  });
  assert.ok(events.length >= 4, `too few events: ${msgs.map((m) => m.data).join('\n')}`);
  const job = events[0].job;
  assert.ok(events.every((e) => e.job === job), 'the stream carried another job\'s events');
  assertJobLifecycle(assert, events, job);
  assert.ok(!msgs.some((m) => m.event === 'error'), 'event: error on a job that succeeded');
  // the job really is done, per the REST API
  const r = await request(srv.base, 'GET', `/api/jobs/${job}`);
  assert.equal(r.json?.state, 'done', r.body);
});

test('fetch-event-source: a failing URL gives job.failed, event: error, then [DONE]', async () => {
  const { msgs } = await postStream(fx.url('/status?code=500'), ['stream'], 90000);
  const names = msgs.map((m) => m.event || m.data);
  assert.ok(msgs.length >= 3, names.join(' '));
  const [failed, error, done] = msgs.slice(-3);
  assert.equal(failed.event, 'job.failed', names.join(' '));
  const fj = JSON.parse(failed.data);
  assert.equal(fj.error?.class, 'http_status', failed.data);
  assert.equal(typeof fj.error?.message, 'string');
  assert.equal(error.event, 'error', names.join(' '));
  assert.deepEqual(JSON.parse(error.data), fj, 'event: error carries the job.failed JSON');
  assert.equal(done.data, '[DONE]');
  assert.ok(!names.includes('job.done'), names.join(' '));
  assertJobLifecycle(assert, msgs.slice(0, -2).map((m) => JSON.parse(m.data)), fj.job, 'job.failed');
});

/** Spawn curl; collect stdout text; resolves exit code via .exited. */
function curl(args) {
  const p = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(p);
  const out = { text: '', stderr: '', proc: p, waiters: [] };
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d) => {
    out.text += d;
    out.waiters.forEach((w) => w());
  });
  p.stderr.on('data', (d) => { out.stderr += d; });
  out.exited = new Promise((r) => p.once('exit', (code) => {
    children.delete(p);
    out.waiters.forEach((w) => w());
    r(code);
  }));
  out.waitText = (pred, ms, what) => withDeadline(new Promise((resolve) => {
    const check = () => { if (pred(out.text)) resolve(out.text); };
    out.waiters.push(check);
    check();
  }), ms, `curl: ${what}; got:\n${out.text.slice(-2000)}\n${out.stderr}`);
  return out;
}

test('curl -N: POST /api/snapshots stream ends with data: [DONE] and curl exits by itself', async () => {
  const c = curl(['-sS', '-N', '-X', 'POST', '-H', 'Accept: text/event-stream',
    '-H', 'Content-Type: application/json',
    '--data', JSON.stringify({ url: fx.url('/title?t=curl-post'), tags: [] }),
    `${srv.base}/api/snapshots`]);
  const code = await withDeadline(c.exited, 60000, 'curl POST stream to exit');
  assert.equal(code, 0, c.stderr);
  assert.match(c.text, /^retry: \d+\n\n/, 'retry: first');
  assert.match(c.text, /event: job\.done\ndata: \{[^\n]*\}\n\n/);
  const i = c.text.indexOf('data: [DONE]\n\n');
  assert.ok(i > 0, `no data: [DONE]: ${JSON.stringify(c.text.slice(-200))}`);
  const rest = c.text.slice(i + 'data: [DONE]\n\n'.length);
  // only a heartbeat may (wrongly, see the last test) follow [DONE]
  assert.match(rest, /^(event: ping\ndata: \{[^\n]*\}\n\n)*$/, `after [DONE]: ${JSON.stringify(rest)}`);
  transcripts.push({ url: 'curl POST', afterDone: rest ? rest.trim().split('\n\n') : [] });
});

test('curl -N: GET /api/events shows headers, retry:, events, and a ping with --ping 1', async () => {
  const c = curl(['-sS', '-N', '-i', `${srv.base}/api/events`]);
  const frames = [];
  const log = new EventLog('curl');
  let headerText = null;
  const splitter = new SseSplitter((f) => {
    frames.push(f);
    if (f.data && f.id) log.add(JSON.parse(f.data));
  });
  let fed = 0;
  c.waiters.push(() => {
    if (headerText === null) {
      const i = c.text.indexOf('\r\n\r\n');
      if (i < 0) return;
      headerText = c.text.slice(0, i);
      fed = i + 4;
    }
    splitter.push(c.text.slice(fed));
    fed = c.text.length;
  });
  await c.waitText((t) => /\r\n\r\nretry: \d+\n\n/.test(t), 10000, 'headers and retry:');
  assert.match(headerText, /^HTTP\/1\.1 200/);
  assert.match(headerText, /^content-type: text\/event-stream/im);
  assert.match(headerText, /^cache-control: no-cache/im);
  assert.match(headerText, /^x-accel-buffering: no/im);
  assert.ok(frames[0]?.retry, `the first frame is retry: ${JSON.stringify(frames[0])}`);

  const { link } = await capture(srv, fx.url('/title?t=curl-get'), []);
  const r = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { title: 'curl' });
  assert.equal(r.status, 200, r.body);
  const upd = await log.waitFor((e) => e.type === 'link.updated' && e.link === link.id, 10000,
    'the PATCH link.updated on curl');
  const f = frames.find((x) => x.id === String(upd.id));
  assert.equal(f.event, 'link.updated');
  assert.match(f.raw, /^id: \d+\nevent: link\.updated\ndata: \{.*\}$/, 'frame layout: id, event, one-line data');

  await c.waitText(() => frames.some((x) => x.event === 'ping'), 3500, 'event: ping within 3.5 s (--ping 1)');
  const ping = frames.find((x) => x.event === 'ping');
  assert.equal(ping.id, undefined, 'a ping must not carry an id (it would move Last-Event-ID)');
  assert.match(JSON.parse(ping.data).time, ISO_RE);
  assert.equal(c.proc.exitCode, null, 'curl ended: the server closed the stream');
  // wait for the job too, so it does not run on while the server stops
  await log.waitFor((e) => e.link === link.id && (e.type === 'job.done' || e.type === 'job.failed'), 60000,
    'the capture to end');
  c.proc.kill('SIGTERM');
  await c.exited;
});

// Regression (fixed server bug): the SSE heartbeat timer is not stopped when a POST
// stream is finishing: feed_sse_timer() queues "event: ping" behind
// "data: [DONE]" if the ping is due between the job's last event and the
// close, so the stream does not end with [DONE]. Timing-dependent (seen
// about once in 20 streams at --ping 1 on a loaded machine), now fixed: the
// test checks every stream of this file.
test('POST stream: nothing follows data: [DONE] (ping timer race)', () => {
  assert.ok(transcripts.length >= 3, 'the POST stream tests did not run');
  const bad = transcripts.filter((t) => t.afterDone.length);
  assert.deepEqual(bad, [], 'frames after data: [DONE]');
});
