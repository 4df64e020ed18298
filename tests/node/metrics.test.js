// GET /metrics against the real server (with --token) and its Chromium:
// the Prometheus text exposition 0.0.4 parsed strictly (every line matches
// the grammar, each family has HELP and TYPE before its samples, counters
// end in _total, histogram buckets are cumulative and end with le="+Inf"
// equal to _count), the token (401 without it), and figures that move: one
// capture (jobs done, stage histograms, captures, stored bytes equal to the
// snapshot's), an SSE and a WebSocket subscriber counted on their channel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import {
  startFixture, startSnapcat, capture, request, waitUntil, withDeadline,
} from './lib/harness.js';
import { openEventSource } from './lib/clients.js';

const TOKEN = 'metrics-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CTYPE = 'text/plain; version=0.0.4; charset=utf-8';
let fx;
let srv;

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat(['--token', TOKEN], { name: 'metrics' });
});

after(async () => {
  await srv?.stop();
  await fx?.stop();
});

// ---- a strict parser of the text format ----

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const LVALUE = '(?:[^"\\\\\\n]|\\\\[\\\\"n])*';
const NUMBER = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]Inf|NaN)';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(${LABEL}="${LVALUE}"(?:,${LABEL}="${LVALUE}")*)?\\})? (${NUMBER})$`);
const HELP_RE = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const PAIR_RE = new RegExp(`(${LABEL})="(${LVALUE})"`, 'g');

const unescape = (s) => s.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
const num = (s) => (s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s));

/**
 * Parse an exposition; throws on any violation. Returns a Map name ->
 * {type, help, samples: [{name, labels, value}]}.
 */
function parseExposition(text) {
  assert.ok(text.endsWith('\n'), 'the text ends with a newline');
  const fams = new Map();
  const seen = new Set();
  let cur = null;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    let m;
    if ((m = HELP_RE.exec(line))) {
      assert.ok(!fams.has(m[1]), `${where}: family ${m[1]} appears twice`);
      cur = { name: m[1], help: unescape(m[2]), type: null, samples: [] };
      fams.set(m[1], cur);
    } else if ((m = TYPE_RE.exec(line))) {
      assert.ok(cur && cur.name === m[1] && !cur.type && !cur.samples.length,
        `${where}: TYPE must follow the family's HELP, before its samples`);
      cur.type = m[2];
    } else if ((m = SAMPLE_RE.exec(line))) {
      assert.ok(cur?.type, `${where}: a sample before HELP and TYPE`);
      const suffixes = cur.type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
      assert.ok(suffixes.some((s) => m[1] === cur.name + s),
        `${where}: sample ${m[1]} outside its family (${cur.name}, ${cur.type})`);
      const labels = {};
      for (const p of (m[2] || '').matchAll(PAIR_RE)) {
        assert.ok(!(p[1] in labels), `${where}: label ${p[1]} twice`);
        labels[p[1]] = unescape(p[2]);
      }
      const key = m[1] + JSON.stringify(Object.entries(labels).sort());
      assert.ok(!seen.has(key), `${where}: the same series twice`);
      seen.add(key);
      cur.samples.push({ name: m[1], labels, value: num(m[3]) });
    } else {
      assert.fail(`${where}: not HELP, TYPE or a sample of the text format`);
    }
  });
  for (const f of fams.values()) {
    assert.ok(f.type, `${f.name}: no TYPE`);
    assert.ok(f.help.length > 0, `${f.name}: empty HELP`);
    assert.ok(f.samples.length > 0, `${f.name}: no sample`);
    if (f.type === 'counter') assert.match(f.name, /_total$/, `${f.name}: a counter ends in _total`);
    assert.doesNotMatch(f.name, /_(ms|milliseconds|kb|mb|kib|mib|minutes)(_|$)/, `${f.name}: base units`);
    assert.ok(f.name.startsWith('snapcat_') || f.name.startsWith('process_'), `${f.name}: prefix`);
    if (f.type === 'histogram') checkHistogram(f);
  }
  return fams;
}

/** Buckets per label set: increasing le, cumulative, +Inf last = _count. */
function checkHistogram(f) {
  const groups = new Map();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (!groups.has(key)) groups.set(key, { buckets: [], sum: null, count: null });
    const g = groups.get(key);
    if (s.name.endsWith('_bucket')) {
      assert.ok(le !== undefined, `${f.name}: a bucket without le`);
      g.buckets.push({ le: num(le), value: s.value });
    } else {
      assert.equal(le, undefined, `${f.name}: le on ${s.name}`);
      g[s.name.endsWith('_sum') ? 'sum' : 'count'] = s.value;
    }
  }
  for (const [key, g] of groups) {
    const what = `${f.name}${key}`;
    assert.ok(g.buckets.length >= 2, `${what}: buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      assert.ok(g.buckets[i].le > g.buckets[i - 1].le, `${what}: le increasing`);
      assert.ok(g.buckets[i].value >= g.buckets[i - 1].value, `${what}: cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1];
    assert.equal(last.le, Infinity, `${what}: the last bucket is le="+Inf"`);
    assert.equal(last.value, g.count, `${what}: +Inf bucket = _count`);
    assert.ok(g.sum !== null && g.count !== null, `${what}: _sum and _count`);
    assert.ok(g.sum >= 0, `${what}: _sum >= 0`);
  }
}

/** The value of one series (name with suffix; labels to match). */
function value(fams, name, labels = {}) {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const f = fams.get(name) || fams.get(base);
  assert.ok(f, `no family ${name}`);
  const s = f.samples.find((x) => x.name === name &&
    Object.entries(labels).every(([k, v]) => x.labels[k] === v) &&
    Object.keys(x.labels).length === Object.keys(labels).length);
  assert.ok(s, `no series ${name}${JSON.stringify(labels)}`);
  return s.value;
}

async function scrape(headers = AUTH, query = '') {
  const t0 = process.hrtime.bigint();
  const r = await request(srv.base, 'GET', `/metrics${query}`, undefined, headers);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['content-type'], CTYPE);
  return { fams: parseExposition(r.body), text: r.body, ms };
}

// ---- tests ----

test('the token guards /metrics as it guards /api; GET and HEAD only', async () => {
  const none = await request(srv.base, 'GET', '/metrics');
  assert.equal(none.status, 401);
  assert.match(none.headers['www-authenticate'] || '', /^Bearer/);
  const wrong = await request(srv.base, 'GET', '/metrics', undefined,
    { authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  const viaQuery = await request(srv.base, 'GET', `/metrics?token=${TOKEN}`);
  assert.equal(viaQuery.status, 200);
  assert.equal(viaQuery.headers['content-type'], CTYPE);
  const head = await request(srv.base, 'HEAD', '/metrics', undefined, AUTH);
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const post = await request(srv.base, 'POST', '/metrics', {}, AUTH);
  assert.equal(post.status, 405);
  // /healthz stays open (load balancers probe it without a token)
  const h = await request(srv.base, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.ok(['ok', 'degraded'].includes(h.json.status), h.body); // degraded until Chromium is up
});

test('the exposition is strict text format 0.0.4 with every family', async () => {
  const { fams, text, ms } = await scrape();
  for (const name of [
    'snapcat_jobs', 'snapcat_queue_depth', 'snapcat_jobs_running', 'snapcat_concurrency',
    'snapcat_jobs_finished_total', 'snapcat_events_total', 'snapcat_snapshots',
    'snapcat_stored_bytes', 'snapcat_capture_duration_seconds', 'snapcat_captures_total',
    'snapcat_subscribers', 'snapcat_subscriber_events_total', 'snapcat_subscribers_dropped_total',
    'snapcat_browser_starts_total', 'snapcat_browser_losses_total',
    'snapcat_browser_start_failures_total', 'snapcat_browser_healthy',
    'snapcat_chromium_processes', 'snapcat_http_requests_total', 'snapcat_uptime_seconds',
    'process_resident_memory_bytes', 'process_open_fds', 'process_start_time_seconds',
    'process_cpu_seconds_total']) {
    assert.ok(fams.has(name), `family ${name} is there`);
  }
  for (const st of ['queued', 'running', 'done', 'failed', 'canceled']) {
    assert.equal(typeof value(fams, 'snapcat_jobs', { state: st }), 'number');
  }
  for (const stage of ['setup', 'navigate', 'load', 'settle', 'screenshot', 'mhtml', 'write', 'total']) {
    assert.equal(value(fams, 'snapcat_capture_duration_seconds_count', { stage }), 0);
  }
  assert.equal(fams.get('snapcat_capture_duration_seconds').type, 'histogram');
  assert.ok(value(fams, 'process_resident_memory_bytes') > 1e6);
  assert.ok(value(fams, 'process_open_fds') > 3);
  const start = value(fams, 'process_start_time_seconds');
  assert.ok(Math.abs(start - Date.now() / 1000) < 600, `start time ${start} is recent`);
  assert.ok(value(fams, 'snapcat_uptime_seconds') >= 0);
  assert.ok(value(fams, 'snapcat_browser_starts_total', { browser: '0' }) >= 1);
  t_diag(`scrape: ${text.length} bytes, ${fams.size} families, ${ms.toFixed(1)} ms`);
});

test('one capture moves jobs, the stage histograms, captures and stored bytes', async () => {
  const a = (await scrape()).fams;
  const { job } = await capture(srv, fx.url('/title?t=metrics'), [], AUTH);
  const done = await waitUntil(async () => {
    const r = await request(srv.base, 'GET', `/api/jobs/${job.id}`, undefined, AUTH);
    return ['done', 'failed'].includes(r.json?.state) ? r.json : null;
  }, 90000, `job ${job.id} to end`);
  assert.equal(done.state, 'done', JSON.stringify(done));
  const snap = (await request(srv.base, 'GET', `/api/snapshots/${done.snapshot_id}`, undefined, AUTH)).json;
  assert.ok(snap.bytes.png > 0, JSON.stringify(snap));

  const b = (await scrape()).fams;
  const d = (name, labels) => value(b, name, labels) - value(a, name, labels);
  assert.equal(d('snapcat_jobs', { state: 'done' }), 1);
  assert.equal(d('snapcat_jobs_finished_total', { state: 'done' }), 1);
  assert.equal(d('snapcat_captures_total', { result: 'ok' }), 1);
  for (const stage of ['setup', 'navigate', 'load', 'settle', 'screenshot', 'mhtml', 'write', 'total']) {
    assert.equal(d('snapcat_capture_duration_seconds_count', { stage }), 1, stage);
  }
  const sum = d('snapcat_capture_duration_seconds_sum', { stage: 'total' });
  assert.ok(sum > 0, `total _sum grew (${sum})`);
  if (snap.timings?.total !== undefined) {
    assert.ok(Math.abs(sum - snap.timings.total / 1000) < 0.0015,
      `histogram total ${sum} s = snapshot timings.total ${snap.timings.total} ms`);
  }
  const png = value(b, 'snapcat_stored_bytes', { kind: 'png' });
  const mhtml = value(b, 'snapcat_stored_bytes', { kind: 'mhtml' });
  assert.ok(png + mhtml > 0);
  assert.equal(png, snap.bytes.png, 'stored PNG bytes = the snapshot\'s');
  assert.equal(mhtml, snap.bytes.mhtml, 'stored MHTML bytes = the snapshot\'s');
  assert.equal(value(b, 'snapcat_stored_bytes', { kind: 'pdf' }), 0, 'no PDF asked, none counted (pdf.test.js counts one)');
  assert.equal(value(b, 'snapcat_snapshots'), 1);
  assert.ok(d('snapcat_events_total') >= 4, 'queued, started, progress..., done');
  assert.ok(d('snapcat_browser_jobs_total', { browser: '0' }) >= 1);
  assert.ok(value(b, 'snapcat_chromium_processes') >= 1, 'the local Chromium\'s processes');
  assert.ok(d('snapcat_http_requests_total', { code: '2xx' }) >= 3);
  assert.ok(value(b, 'snapcat_http_requests_total', { code: '4xx' }) >= 2, 'the 401s and the 405');
});

test('an SSE and a WebSocket subscriber count on their channels', async () => {
  const base = (await scrape()).fams;
  assert.equal(value(base, 'snapcat_subscribers', { channel: 'sse' }), 0);
  assert.equal(value(base, 'snapcat_subscribers', { channel: 'ws' }), 0);
  const sse = openEventSource(`${srv.base}/api/events?token=${TOKEN}`, 'sse');
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/ws?token=${TOKEN}`);
  const wsOpen = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  try {
    await sse.waitOpen();
    await withDeadline(wsOpen, 10000, 'the WebSocket open');
    ws.send(JSON.stringify({ op: 'subscribe' }));
    const f = await waitUntil(async () => {
      const x = (await scrape()).fams;
      return value(x, 'snapcat_subscribers', { channel: 'ws' }) === 1 ? x : null;
    }, 10000, 'the WebSocket subscriber in /metrics');
    assert.equal(value(f, 'snapcat_subscribers', { channel: 'sse' }), 1);
    assert.equal(value(f, 'snapcat_subscribers', { channel: 'ws' }), 1);
    assert.equal(value(f, 'snapcat_subscribers', { channel: 'longpoll' }), 0);
  } finally {
    sse.close();
    ws.terminate();
  }
  await waitUntil(async () => {
    const x = (await scrape()).fams;
    return value(x, 'snapcat_subscribers', { channel: 'sse' }) === 0 &&
      value(x, 'snapcat_subscribers', { channel: 'ws' }) === 0;
  }, 10000, 'both subscribers gone from /metrics');
});

test('scrape latency (20 scrapes, one at a time)', async () => {
  const times = [];
  for (let i = 0; i < 20; i++) times.push((await scrape()).ms);
  times.sort((x, y) => x - y);
  t_diag(`scrape ms: p50 ${times[10].toFixed(1)}, max ${times[19].toFixed(1)}`);
  assert.ok(times[10] < 500, `median scrape ${times[10]} ms`);
});

function t_diag(msg) {
  console.error(`# ${msg}`);
}
