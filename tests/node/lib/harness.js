// harness.js — start the fixture server and `snapcat serve` for a test file,
// and the small helpers the channel tests share (HTTP calls, waiting with
// deadlines, collecting events, reading a process's memory).
//
//   SNAPCAT_BIN, FIXTURE_SERVER  paths of the two binaries (set by
//                                run-tests.sh from its arguments)
//   SNAPCAT_NODE_KEEP=1          keep the data dirs and logs after the run
//
// One snapcat server per test file (it launches its own Chromium, which is
// the slow part); every test in the file shares it. Nothing here sleeps a
// fixed time hoping something happened: every wait has a predicate and a
// deadline, and a missed deadline fails with what was seen so far.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import http from 'node:http';

export const SNAPCAT_BIN = process.env.SNAPCAT_BIN;
export const FIXTURE_SERVER = process.env.FIXTURE_SERVER;

function need(name, v) {
  if (!v) throw new Error(`${name} is not set (run the suite with run-tests.sh SNAPCAT_BIN FIXTURE_SERVER)`);
  if (!fs.existsSync(v)) throw new Error(`${name}=${v} does not exist (build it first)`);
  return v;
}

/** A promise that rejects after ms with a message naming what was awaited. */
export function withDeadline(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/* Deadlines stretch under sanitizers (SNAPCAT_TEST_SLOW=3 from ctest): the
 * server is several times slower there, on a machine running other suites. */
const SLOW = Math.max(1, Number(process.env.SNAPCAT_TEST_SLOW) || 1);

/** Poll fn() (sync or async) until it returns a truthy value or ms (times
 * SNAPCAT_TEST_SLOW) pass. what names the awaited thing; a function is asked
 * at the deadline, to say what was there instead. */
export async function waitUntil(fn, ms, what, every = 20) {
  const end = Date.now() + ms * SLOW;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) {
      const said = typeof what === 'function' ? await what() : what;
      throw new Error(`timed out after ${ms * SLOW} ms waiting for ${said}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Wait for a line matching re on a readable stream; resolves with the match. */
function waitForLine(stream, re, ms, what, onLine) {
  return withDeadline(new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: stream });
    rl.on('line', (line) => {
      if (onLine) onLine(line);
      const m = re.exec(line);
      if (m) resolve(m);
    });
    rl.on('close', () => reject(new Error(`${what}: the stream ended before a line like ${re}`)));
  }), ms, what);
}

function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The fixture HTTP server (tests/fixtures/fixture_server): pages to capture.
 * It exits when its stdin closes, so it cannot outlive a test that dies.
 */
export async function startFixture() {
  const bin = need('FIXTURE_SERVER', FIXTURE_SERVER);
  const proc = spawn(bin, ['--port', '0', '--quiet'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((r) => proc.once('exit', r));
  const m = await waitForLine(proc.stdout, /^PORT=(\d+)$/, 10000, 'fixture_server PORT=');
  const port = Number(m[1]);
  return {
    port,
    proc,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    async stop() {
      proc.stdin.end();
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * `snapcat serve` on an ephemeral port with a fresh data dir. extra: more
 * flags (--ping, --token, ...). Resolves once it printed LISTENING port=N.
 * stderr (the server log) goes to a file; its path is in .logPath and its
 * tail is appended to errors thrown by helpers that fail.
 */
export async function startSnapcat(extra = [], { name = 'snapcat' } = {}) {
  const bin = need('SNAPCAT_BIN', SNAPCAT_BIN);
  const dir = tmpDir(`snapcat-node-${name}-`);
  const dataDir = path.join(dir, 'data');
  const logPath = path.join(dir, 'server.log');
  const log = fs.openSync(logPath, 'a');
  const args = ['serve', '--listen', '127.0.0.1:0', '--data', dataDir,
    '--allow-private', '--grace', '1', ...extra];
  const proc = spawn(bin, args, {
    stdio: ['ignore', 'pipe', log],
    env: { ...process.env, SNAPCAT_TOKEN: '' },
  });
  fs.closeSync(log);
  let exitCode = null;
  const exited = new Promise((r) => proc.once('exit', (code, sig) => {
    exitCode = code ?? sig;
    r();
  }));
  let m;
  try {
    m = await waitForLine(proc.stdout, /^LISTENING port=(\d+)$/, 30000,
      `snapcat serve LISTENING (log ${logPath})`);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${tail(logPath)}`);
  }
  proc.stdout.resume();
  const port = Number(m[1]);
  const srv = {
    port,
    pid: proc.pid,
    proc,
    dir,
    logPath,
    base: `http://127.0.0.1:${port}`,
    get exitCode() { return exitCode; },
    logTail: (n = 40) => tail(logPath, n),
    async stop() {
      if (exitCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 15000);
        await exited;
        clearTimeout(t);
      }
      if (!process.env.SNAPCAT_NODE_KEEP) fs.rmSync(dir, { recursive: true, force: true });
      else console.error(`# kept ${dir}`);
    },
  };
  return srv;
}

export function tail(file, n = 40) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return `--- last ${Math.min(n, lines.length)} lines of ${file} ---\n${lines.slice(-n).join('\n')}`;
  } catch {
    return `(no log at ${file})`;
  }
}

/** A keep-alive agent for floods of small requests. */
export const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One HTTP request with node:http (keep-alive). Resolves {status, headers,
 * body, json}. body: an object (sent as JSON) or undefined.
 */
export function request(base, method, p, body, headers = {}, agent = keepAlive) {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return requestRaw(base, method, p, data, { ...(data ? { 'content-type': 'application/json' } : {}), ...headers }, agent);
}

/**
 * One HTTP request whose body is bytes as they are: data a Buffer (sent with
 * its Content-Length; the Content-Type is the caller's, in headers) or
 * undefined. Resolves as request() does.
 */
export function requestRaw(base, method, p, data, headers = {}, agent = keepAlive) {
  return new Promise((resolve, reject) => {
    const req = http.request(base + p, {
      method,
      agent,
      headers: {
        ...(data ? { 'content-length': data.length } : {}),
        ...headers,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(70000, () => req.destroy(new Error(`${method} ${p}: no answer in 70 s`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** POST /api/links: a new capture job. Resolves {link, job} (asserts 201). */
export async function capture(srv, url, tags = [], headers = {}) {
  const r = await request(srv.base, 'POST', '/api/links', { url, tags }, headers);
  if (r.status !== 201 || !r.json?.job?.id || !r.json?.link?.id) {
    throw new Error(`POST /api/links ${url}: expected 201 {link, job}, got ${r.status} ${r.body}`);
  }
  return r.json;
}

/** VmRSS of a process in KiB (Linux /proc). */
export function rssKiB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(s);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/**
 * An ordered log of received events with waiters: add(ev) from a client's
 * callback; waitFor(pred, ms, what) resolves with the first matching event
 * (already received or future).
 */
export class EventLog {
  constructor(label) {
    this.label = label;
    this.events = [];
    this.waiters = [];
  }

  add(ev) {
    this.events.push(ev);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(ev)) return true;
      w.resolve(ev);
      return false;
    });
  }

  find(pred) { return this.events.find(pred); }

  waitFor(pred, ms, what) {
    const hit = this.events.find(pred);
    if (hit) return Promise.resolve(hit);
    let w;
    const p = new Promise((resolve) => {
      w = { pred, resolve };
      this.waiters.push(w);
    });
    return withDeadline(p, ms, `${this.label}: ${what} (got ${this.summary()})`)
      .finally(() => { this.waiters = this.waiters.filter((x) => x !== w); });
  }

  /** Resolves with the n-th (1-based) event matching pred. */
  waitForNth(pred, n, ms, what) {
    let seen = 0;
    const counted = new WeakSet();
    const nth = (e) => {
      if (!pred(e)) return false;
      if (!counted.has(e)) {
        counted.add(e);
        seen++;
      }
      return seen >= n;
    };
    return this.waitFor(nth, ms, `${what} (#${n})`);
  }

  summary(n = 12) {
    const s = this.events.slice(-n).map((e) => `${e.id}:${e.type}`).join(' ');
    return `${this.events.length} events${this.events.length ? `, last: ${s}` : ''}`;
  }
}

/** The events of one job, for ordering checks. */
export function ofJob(events, job) {
  return events.filter((e) => e.job === job);
}

export function assertIncreasingIds(assert, events, what) {
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i].id > events[i - 1].id,
      `${what}: ids not increasing at ${i}: ${events[i - 1].id} then ${events[i].id}`);
  }
}

/** ISO 8601 UTC with milliseconds, as in the event JSON (docs/ARCHITECTURE.md). */
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Check the lifecycle of a successful capture job in received order:
 * job.queued, job.started, job.progress (nondecreasing progress, a stage),
 * job.done; increasing ids. Returns the job's events.
 */
export function assertJobLifecycle(assert, events, job, final = 'job.done') {
  const ev = ofJob(events, job);
  const types = ev.map((e) => e.type);
  assert.ok(ev.length >= 4, `job ${job}: too few events: ${types.join(',')}`);
  assert.equal(types[0], 'job.queued', `job ${job}: first event: ${types.join(',')}`);
  assert.equal(types[1], 'job.started', `job ${job}: second event: ${types.join(',')}`);
  assert.equal(types[types.length - 1], final, `job ${job}: last event: ${types.join(',')}`);
  const mid = types.slice(2, -1);
  assert.ok(mid.length >= 1 && mid.every((t) => t === 'job.progress'),
    `job ${job}: between started and ${final} only job.progress: ${types.join(',')}`);
  let last = -1;
  for (const e of ev.filter((x) => x.type === 'job.progress')) {
    assert.equal(typeof e.stage, 'string', `job ${job}: progress event without stage: ${JSON.stringify(e)}`);
    assert.ok(typeof e.progress === 'number' && e.progress >= last && e.progress <= 100,
      `job ${job}: progress not nondecreasing in 0..100: ${JSON.stringify(e)}`);
    last = e.progress;
  }
  for (const e of ev) {
    assert.match(e.ts, ISO_RE, `event ts: ${JSON.stringify(e)}`);
    assert.equal(typeof e.link, 'number', `event link: ${JSON.stringify(e)}`);
  }
  assertIncreasingIds(assert, ev, `job ${job}`);
  return ev;
}

/**
 * A minimal SSE frame splitter for raw sockets / curl output (test plumbing
 * only; the clients under test are the real libraries). Feed it text; it
 * calls onFrame({id, event, data, retry, raw}) per blank-line-terminated
 * frame.
 */
export class SseSplitter {
  constructor(onFrame) {
    this.buf = '';
    this.onFrame = onFrame;
  }

  push(text) {
    this.buf += text;
    let i;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const raw = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      const f = { raw, data: undefined };
      for (const line of raw.split('\n')) {
        const c = line.indexOf(':');
        if (c === 0) continue;
        const k = c < 0 ? line : line.slice(0, c);
        let v = c < 0 ? '' : line.slice(c + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (k === 'data') f.data = f.data === undefined ? v : `${f.data}\n${v}`;
        else f[k] = v;
      }
      this.onFrame(f);
    }
  }
}
