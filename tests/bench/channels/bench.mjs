// bench.mjs — snapcat live-progress channel benchmark (run it through ./run).
//
//   node bench.mjs [--subs N] [--rate E] [--duration D] [--phases all,ws,node]
//                  [--procs P] [--out FILE | --no-out] [--append] [--keep]
//   env: SNAPCAT_BIN (required here; ./run builds one when unset)
//
// Phases (each on fresh subscribers, same server, same N, E, D):
//   all   snapcat with N SSE + N WebSocket + N long-poll subscribers at once
//   ws    snapcat with N WebSocket subscribers only
//   sse   snapcat with N SSE subscribers only            (not in the default list)
//   lp    snapcat with N long-poll subscribers only      (not in the default list)
//   node  a Node `ws` broadcast server (node-ws-server.mjs) with N WebSocket subscribers
//
// In a phase: clients (client.mjs, P processes per channel) open their subscribers; a probe
// WebSocket in this process learns event ids; one marker event (id B) must reach every
// subscriber before measuring starts (so each is live); then E events/s for D s go through
// the real event bus: PATCH /api/links/1 {"title":"bench <i>"} (one link.updated each; for
// the Node peer, POST /emit); then an end marker (id L) and up to 20 s for it to reach
// everyone. Every subscriber should get every id in (B, L] exactly once.
//
// Figures per channel: deliveries/s during the load window (target N x E), completeness,
// gaps/duplicates, p50/p90/p99/max latency (client arrival - event ts: same host, same
// clock, 1 ms resolution), reconnections, the server's CPU and memory (VmRSS sampled each
// 0.5 s, VmHWM; /proc/<pid>/status), the clients' CPU, and the server's warnings.
import { spawn, fork, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const DRAIN_MS = 15000;     // the end marker may take this long to reach everyone
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* ------------------------------------------------------------------ options */

function parseArgs(argv) {
  const o = {
    subs: Number(process.env.N || 2000), rate: Number(process.env.E || 100),
    duration: Number(process.env.D || 20), phases: (process.env.PHASES || 'all,ws,node').split(','),
    procs: Number(process.env.PROCS || 1), out: path.join(here, 'RESULTS.md'), keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => argv[++i];
    if (a === '--subs' || a === '-n') o.subs = Number(v());
    else if (a === '--rate' || a === '-e') o.rate = Number(v());
    else if (a === '--duration' || a === '-d') o.duration = Number(v());
    else if (a === '--phases') o.phases = v().split(',');
    else if (a === '--procs') o.procs = Number(v());
    else if (a === '--out') o.out = v();
    else if (a === '--no-out') o.out = null;
    else if (a === '--keep') o.keep = true;
    else if (a === '--tls') o.tls = true;
    else if (a === '--append') o.append = true;
    else if (a === '-h' || a === '--help') { console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0]); process.exit(0); }
    else { console.error(`bench.mjs: unknown argument ${a}`); process.exit(2); }
  }
  if (o.phases.includes('h2')) o.tls = true;   // SSE over HTTP/2 needs HTTPS
  for (const p of o.phases) if (!['all', 'ws', 'sse', 'lp', 'fr', 'h2', 'node'].includes(p)) { console.error(`bench.mjs: unknown phase ${p}`); process.exit(2); }
  return o;
}
const opt = parseArgs(process.argv.slice(2));
const log = (...a) => console.error('#', ...a);

/* ------------------------------------------------------------------ /proc */

const HZ = 100;   // USER_HZ on Linux
function procStatus(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => { const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s); return m ? Number(m[1]) : null; };
    const th = /^Threads:\s+(\d+)/m.exec(s);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: th ? Number(th[1]) : null };
  } catch (e) { return { rss: null, hwm: null, threads: null }; }
}
function procCpu(pid) {   // seconds of CPU (user + system)
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch (e) { return null; }
}
function openFds(pid) {
  try { return fs.readdirSync(`/proc/${pid}/fd`).length; } catch (e) { return null; }
}
function machineCpuBusy() {   // [busy, total] jiffies of the whole machine
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

/* ------------------------------------------------------------------ servers */

function waitLine(stream, re, ms, what) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: stream });
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    rl.on('line', (line) => { const m = re.exec(line); if (m) { clearTimeout(t); resolve(m); } });
    rl.on('close', () => { clearTimeout(t); reject(new Error(`${what}: stream ended`)); });
  });
}

async function startSnapcat(dir) {
  const bin = process.env.SNAPCAT_BIN;
  if (!bin || !fs.existsSync(bin)) throw new Error(`SNAPCAT_BIN=${bin} does not exist (./run builds one)`);
  const logPath = path.join(dir, 'server.log');
  const fd = fs.openSync(logPath, 'a');
  const maxSubs = Math.max(10000, opt.subs + 100);
  const args = ['serve', '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data'), '--allow-private',
    '--grace', '1', '--max-subscribers', String(maxSubs)];
  if (opt.tls) {   // a self-signed certificate for localhost, made here
    const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
    execSync(`openssl req -x509 -newkey rsa:2048 -nodes -keyout '${key}' -out '${cert}' -days 2 ` +
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null");
    args.push('--tls-cert', cert, '--tls-key', key);
  }
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', fd], env: { ...process.env, SNAPCAT_TOKEN: '' } });
  fs.closeSync(fd);
  const m = await waitLine(proc.stdout, /^LISTENING port=(\d+)$/, 30000, 'snapcat LISTENING');
  proc.stdout.resume();
  return { proc, pid: proc.pid, port: Number(m[1]), logPath, cmd: [bin, ...args].join(' ') };
}

async function startNodePeer() {
  const proc = spawn(process.execPath, [path.join(here, 'node-ws-server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await waitLine(proc.stdout, /^LISTENING port=(\d+)$/, 10000, 'node-ws-server LISTENING');
  proc.stdout.resume();
  return { proc, pid: proc.pid, port: Number(m[1]) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false });
function request(port, method, p, body, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const req = (opt.tls ? https : http).request({ host: '127.0.0.1', port, method, path: p,
      agent: opt.tls ? tlsAgent : agent, rejectUnauthorized: false,
      headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    if (data) req.write(data);
    req.end();
  });
}

/* ------------------------------------------------------------------ clients */

class Client {
  constructor(kind, n) {
    this.kind = kind;
    this.n = n;
    this.proc = fork(path.join(here, 'client.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.waiters = [];
    this.proc.on('message', (m) => {
      const i = this.waiters.findIndex((w) => w.ev === m.ev);
      if (i >= 0) { const [w] = this.waiters.splice(i, 1); w.resolve(m); }
    });
    this.exited = new Promise((r) => this.proc.once('exit', r));
  }
  call(msg, ev, ms = 120000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`client ${this.kind}: no ${ev} in ${ms} ms`)), ms);
      this.waiters.push({ ev, resolve: (m) => { clearTimeout(t); resolve(m); } });
      this.proc.send(msg);
    });
  }
  send(msg) { this.proc.send(msg); }
}

/** A WebSocket that sees every event: tells us event ids. */
function openProbe(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, rejectUnauthorized: false });
    const probe = { ws, max: 0, waiters: [] };
    ws.on('open', () => ws.send('{"op":"subscribe"}'));
    ws.on('message', (d) => {
      const s = d.toString();
      if (s.includes('"subscribed"')) { resolve(probe); return; }
      const m = /"id":(\d+)/.exec(s);
      if (m) {
        probe.max = Math.max(probe.max, Number(m[1]));
        probe.waiters = probe.waiters.filter((w) => (probe.max >= w.id ? (w.resolve(probe.max), false) : true));
      }
    });
    ws.on('error', reject);
    probe.next = (after, ms = 10000) => new Promise((res, rej) => {
      if (probe.max > after) { res(probe.max); return; }
      const w = { id: after + 1, resolve: res };
      probe.waiters.push(w);
      setTimeout(() => rej(new Error(`probe: no event after ${after} in ${ms} ms`)), ms);
    });
    probe.close = () => ws.terminate();
  });
}

/* ------------------------------------------------------------------ load */

/** rate/s emits for dur s (time-bounded: an overloaded server gets fewer, not a longer run),
 *  at most 64 in flight; emit() resolves true when an event was made. */
async function runLoad(emit, rate, dur) {
  const total = Math.round(rate * dur);
  const stopAt = performance.now() + dur * 1000;
  const lat = [];
  let ok = 0, failed = 0, inflight = 0, late = 0, lastErr = '';
  const done = new Set();
  const t0 = performance.now();
  let i = 0;
  for (; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const w = due - performance.now();
    if (w > 1) await sleep(w);
    else if (w < -50) late++;
    while (inflight >= 64 && performance.now() < stopAt) await Promise.race([...done, sleep(stopAt - performance.now())]);
    if (performance.now() >= stopAt) break;
    inflight++;
    const st = performance.now();
    const p = emit(i).then((r) => { if (r === true) ok++; else { failed++; lastErr = String(r); } },
      (e) => { failed++; lastErr = e.message; })
      .finally(() => { inflight--; lat.push(performance.now() - st); done.delete(p); });
    done.add(p);
  }
  await Promise.all(done);
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : null);
  return { total, issued: i, ok, failed, lastErr, secs, achieved: ok / secs, late, req: { p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] } };
}

/* ------------------------------------------------------------------ a phase */

function histMerge(reports) {
  // every client process reports percentiles of its own histogram; with one process per
  // channel they are exact, with several we take the count-weighted worst (upper bound)
  const n = reports.reduce((a, r) => a + r.lat.n, 0);
  if (reports.length === 1) return reports[0].lat;
  const pick = (k) => Math.max(...reports.map((r) => (r.lat[k] == null ? -1 : r.lat[k])));
  return { n, p50: pick('p50'), p90: pick('p90'), p99: pick('p99'), p999: pick('p999'), max: pick('max'), merged: true };
}

async function runPhase(name, target) {
  const channels = name === 'all' ? { sse: opt.subs, ws: opt.subs, lp: opt.subs, fr: opt.subs }
    : name === 'node' ? { ws: opt.subs } : { [name]: opt.subs };
  const port = target.port;
  const paths = target.kind === 'node' ? { ws: '/' } : { sse: '/api/events', h2: '/api/events', ws: '/api/ws', lp: '/api/events/poll', fr: '/api/events/frame' };
  log(`phase ${name}: ${Object.entries(channels).map(([k, v]) => `${v} ${k}`).join(' + ')} against ${target.kind}`);

  const clients = [];
  for (const [kind, n] of Object.entries(channels)) {
    const per = Math.ceil(n / opt.procs);
    for (let k = 0, left = n; k < opt.procs && left > 0; k++, left -= per) clients.push(new Client(kind, Math.min(per, left)));
  }
  const startAfter = channels.lp ? await target.newest(0) : 0;
  const fdBefore = openFds(target.pid);
  const memIdle = procStatus(target.pid);
  const tOpen = Date.now();
  const opened = await Promise.all(clients.map((c) => c.call({ cmd: 'open', kind: c.kind, n: c.n, host: '127.0.0.1', port, path: paths[c.kind], batch: 100, startAfter, tls: opt.tls && target.kind !== 'node' }, 'opened')));
  const openMs = Date.now() - tOpen;
  for (const o of opened) {
    log(`  ${o.kind}: ${o.ok} open, ${o.failed} failed in ${o.ms} ms` + (Object.keys(o.errors).length ? ` errors ${JSON.stringify(o.errors)}` : ''));
  }
  const probe = await openProbe(`${opt.tls && target.kind !== 'node' ? 'wss' : 'ws'}://127.0.0.1:${port}${paths.ws}`);
  const emit = target.emit;

  // marker B: every subscriber must have it before we measure
  const before = probe.max;
  if ((await emit('marker')) !== true) throw new Error('marker event failed');
  const B = await probe.next(before);
  const reachedB = await Promise.all(clients.map((c) => c.call({ cmd: 'wait', id: B, timeoutMs: 30000 }, 'reached', 40000)));
  const liveAtStart = reachedB.reduce((a, r) => a + r.reached, 0);
  log(`  marker ${B} reached ${liveAtStart} of ${reachedB.reduce((a, r) => a + r.total, 0)} subscribers`);

  // load
  const loadavg0 = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const t0 = Date.now();
  for (const c of clients) c.send({ cmd: 'measure', base: B, t0 });
  const cpu0 = { srv: procCpu(target.pid), cl: clients.map((c) => procCpu(c.proc.pid)), me: process.cpuUsage(), mach: machineCpuBusy() };
  let memMax = 0, hwm = 0, threads = 0;
  const sampler = setInterval(() => {
    const s = procStatus(target.pid);
    if (s.rss > memMax) memMax = s.rss;
    if (s.hwm > hwm) hwm = s.hwm;
    threads = s.threads;
  }, 500);
  const load = await runLoad(emit, opt.rate, opt.duration);
  const cpu1 = { srv: procCpu(target.pid), cl: clients.map((c) => procCpu(c.proc.pid)), me: process.cpuUsage(cpu0.me), mach: machineCpuBusy() };
  const loadSecs = (Date.now() - t0) / 1000;
  log(`  load: ${load.ok} events in ${load.secs.toFixed(1)} s (${load.achieved.toFixed(1)}/s), ${load.failed} failed${load.failed ? ' (' + load.lastErr + ')' : ''}`);

  // end marker L (the newest id once every load request has answered); wait for it
  // everywhere (the drain)
  if ((await emit('end')) !== true) log('  end marker failed');
  const L = await target.newest(B);
  if (L !== B + load.ok + 1) log(`  note: ${L - B - 1} events between the markers, ${load.ok} load requests answered ok`);
  const tEnd = Date.now();
  const reachedL = await Promise.all(clients.map((c) => c.call({ cmd: 'wait', id: L, timeoutMs: DRAIN_MS }, 'reached', DRAIN_MS + 10000)));
  const drainMs = Date.now() - tEnd;
  clearInterval(sampler);
  const srvCpuAll = procCpu(target.pid) - cpu0.srv;   // load + drain
  const memLoaded = procStatus(target.pid);
  if (memLoaded.rss > memMax) memMax = memLoaded.rss;
  const reports = await Promise.all(clients.map((c) => c.call({ cmd: 'report', end: L }, 'report')));
  probe.close();
  await Promise.all(clients.map((c) => c.call({ cmd: 'close' }, 'closed').catch(() => {})));
  await Promise.all(clients.map((c) => c.exited));
  await sleep(1500);
  const memAfter = procStatus(target.pid);
  const fdAfter = openFds(target.pid);

  const wall = (cpu1.mach[1] - cpu0.mach[1]) || 1;
  const ours = (cpu1.srv - cpu0.srv) + cpu1.cl.reduce((a, v, i) => a + ((v ?? 0) - (cpu0.cl[i] ?? 0)), 0) +
    (cpu1.me.user + cpu1.me.system) / 1e6;
  const res = {
    name, target: target.kind, B, L, events: L - B, load, loadSecs, openMs, drainMs,
    server: {
      cpu: cpu1.srv != null ? (cpu1.srv - cpu0.srv) / loadSecs : null,
      cpuAll: srvCpuAll,
      rssIdle: memIdle.rss, rssMax: memMax, rssAfter: memAfter.rss, hwm: Math.max(hwm, memAfter.hwm || 0),
      threads, fdBefore, fdAfter,
    },
    machineBusy: (cpu1.mach[0] - cpu0.mach[0]) / wall,
    // CPU seconds per second used by processes not in this benchmark (2 cores = 2.0)
    othersCpu: Math.max(0, ((cpu1.mach[0] - cpu0.mach[0]) / HZ - ours) / loadSecs),
    loadavg: [loadavg0, fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')],
    benchCpu: (cpu1.me.user + cpu1.me.system) / 1e6 / loadSecs,
    channels: {},
  };
  for (const kind of Object.keys(channels)) {
    const rs = reports.filter((r) => r.kind === kind);
    const idx = clients.map((c, i) => (c.kind === kind ? i : -1)).filter((i) => i >= 0);
    const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
    const perSec = [];
    for (const r of rs) r.perSec.forEach((v, i) => { perSec[i] = (perSec[i] || 0) + v; });
    const inWindow = perSec.slice(0, Math.floor(loadSecs)).reduce((a, v) => a + (v || 0), 0);
    const secs = perSec.slice(0, Math.floor(loadSecs)).map((v) => v || 0);
    const errors = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] || 0) + v;
    const subs = sum('subs');
    const ch = {
      subs, opened: opened.filter((o) => o.kind === kind).reduce((a, o) => a + o.ok, 0),
      liveAtStart: reachedB.filter((_, i) => idx.includes(i)).reduce((a, r) => a + r.reached, 0),
      reachedEnd: reachedL.filter((_, i) => idx.includes(i)).reduce((a, r) => a + r.reached, 0),
      expected: subs * (L - B), got: sum('got'), gaps: sum('gaps'), dups: sum('dups'), tail: sum('tail'), behind: sum('behind'),
      rate: inWindow / Math.floor(loadSecs), minSec: secs.length ? Math.min(...secs) : 0,
      lat: histMerge(rs), reconnects: sum('reconnects'), disconnects: sum('disconnects'), resets: sum('resets'),
      polls: sum('polls'), refused: sum('refused'), errors,
      clientCpu: idx.reduce((a, i) => a + ((cpu1.cl[i] ?? 0) - (cpu0.cl[i] ?? 0)), 0) / loadSecs,
      clientProcs: idx.length, clientRss: rs.reduce((a, r) => a + r.rss, 0),
    };
    res.channels[kind] = ch;
    log(`  ${kind}: ${ch.rate.toFixed(0)} deliveries/s, ${ch.got}/${ch.expected} delivered, gaps ${ch.gaps}, dups ${ch.dups}, ` +
      `p50 ${ch.lat.p50} p99 ${ch.lat.p99} max ${ch.lat.max} ms, reconnects ${ch.reconnects}, client CPU ${(ch.clientCpu * 100).toFixed(0)}%`);
  }
  const gotAll = Object.values(res.channels).reduce((a, c) => a + c.got, 0);
  res.server.usPerDelivery = gotAll ? (srvCpuAll * 1e6) / gotAll : null;
  log(`  server CPU ${(res.server.usPerDelivery ?? 0).toFixed(1)} µs per delivery; ${(res.server.cpu * 100).toFixed(0)}%, RSS idle ${res.server.rssIdle} kB, max ${res.server.rssMax} kB, after ${res.server.rssAfter} kB, HWM ${res.server.hwm} kB; machine busy ${(res.machineBusy * 100).toFixed(0)}%, other processes ${(res.othersCpu * 100).toFixed(0)}% of a core, loadavg ${res.loadavg.join(' -> ')}`);
  return res;
}

/* ------------------------------------------------------------------ report */

const f0 = (v) => (v == null || Number.isNaN(v) ? '—' : Math.round(v).toLocaleString('en-US'));
const mb = (kb) => (kb == null ? '—' : (kb / 1024).toFixed(1));
const pc = (v) => (v == null ? '—' : (v * 100).toFixed(0) + '%');
const NAMES = { sse: 'SSE', h2: 'SSE over HTTP/2', ws: 'WebSocket', lp: 'long-poll', fr: 'forever frame' };

function table(results) {
  const head = ['phase', 'server', 'channel', 'subs live', 'events/s in (target)', 'deliveries/s (target)', 'delivered', 'gaps', 'dups',
    'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'reconn.', 'server CPU', 'server µs/delivery', 'server RSS max MB', 'client CPU'];
  const rows = [];
  for (const r of results) {
    for (const [kind, c] of Object.entries(r.channels)) {
      rows.push([r.name, r.target, NAMES[kind], `${c.liveAtStart}/${c.subs}`, `${r.load.achieved.toFixed(0)} (${opt.rate})`,
        `${f0(c.rate)} (${f0(c.subs * opt.rate)})`, `${((100 * c.got) / (c.expected || 1)).toFixed(2)}%`,
        f0(c.gaps + c.tail), f0(c.dups), f0(c.lat.p50), f0(c.lat.p90), f0(c.lat.p99), f0(c.lat.max),
        f0(c.reconnects), pc(r.server.cpu), r.server.usPerDelivery == null ? '—' : r.server.usPerDelivery.toFixed(1),
        mb(r.server.rssMax), pc(c.clientCpu)]);
    }
  }
  return { head, rows };
}

function markdownTable({ head, rows }) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function textTable({ head, rows }) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function serverWarnings(logPath, from, to) {
  const fd = fs.openSync(logPath, 'r');
  const buf = Buffer.alloc(Math.max(0, to - from));
  fs.readSync(fd, buf, 0, buf.length, from);
  fs.closeSync(fd);
  const lines = buf.toString().split('\n').filter((l) => / (warn|error) /.test(l));
  const byMsg = new Map();
  for (const l of lines) {
    const k = l.replace(/^\S+ /, '').replace(/\b\d+\b/g, 'N');
    byMsg.set(k, (byMsg.get(k) || 0) + 1);
  }
  return { total: lines.length, byMsg: [...byMsg.entries()].sort((a, b) => b[1] - a[1]), first: lines.slice(0, 5) };
}

function machine() {
  const cpu = (/^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8')) || [])[1] || os.cpus()[0]?.model;
  return `${os.type()} ${os.release()} ${os.arch()}, ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `Node ${process.version}, ulimit -n ${(() => { try { return execSync('ulimit -n', { shell: '/bin/bash' }).toString().trim(); } catch (e) { return '?'; } })()}`;
}

/* ------------------------------------------------------------------ main */

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-bench-channels-'));
  const started = new Date();
  log(`data and server log in ${dir}`);
  const results = [];
  let snap = null, peer = null;
  const warnings = {};
  try {
    const needSnap = opt.phases.some((p) => p !== 'node');
    if (needSnap) {
      snap = await startSnapcat(dir);
      snap.kind = 'snapcat';
      log(`snapcat pid ${snap.pid} port ${snap.port}`);
      const base = `http://127.0.0.1:${snap.port}`;
      const add = await request(snap.port, 'POST', '/api/links', { url: `${base}/healthz` });
      if (add.status !== 201 && add.status !== 200) throw new Error(`POST /api/links: ${add.status} ${add.text}`);
      const linkId = add.json.link.id, jobId = add.json.job.id;
      // let its capture finish: its events must not mix with ours
      for (let i = 0; i < 120; i++) {
        const j = await request(snap.port, 'GET', `/api/jobs/${jobId}`);
        if (j.json && ['done', 'failed', 'canceled'].includes(j.json.state)) { log(`capture job ${jobId}: ${j.json.state}`); break; }
        await sleep(250);
      }
      await sleep(500);
      // the newest event id: a long-poll after B with timeout 0 answers at once
      snap.newest = async (after) => {
        const r = await request(snap.port, 'GET', `/api/events/poll?after=${after}&timeout=0`);
        if (r.status !== 200 || !Array.isArray(r.json)) throw new Error(`poll for the newest id: HTTP ${r.status}`);
        return r.json.reduce((m, e) => Math.max(m, Number(e.id) || 0), after);
      };
      snap.emit = async (i) => {
        const r = await request(snap.port, 'PATCH', `/api/links/${linkId}`, { title: `bench ${i}` }, 10000);
        return r.status === 200 ? true : `HTTP ${r.status} ${r.text.slice(0, 120)}`;
      };
    }
    for (const name of opt.phases) {
      let target;
      if (name === 'node') {
        peer = await startNodePeer();
        peer.kind = 'node ws';
        peer.emit = async () => {
          const r = await request(peer.port, 'POST', '/emit', undefined, 10000);
          if (r.status === 200 && r.json) peer.last = Math.max(peer.last || 0, r.json.id);
          return r.status === 200 ? true : `HTTP ${r.status}`;
        };
        peer.newest = async () => peer.last;
        target = peer;
      } else target = snap;
      const logFrom = snap ? fs.statSync(snap.logPath).size : 0;
      const r = await runPhase(name, target);
      if (snap) warnings[name] = serverWarnings(snap.logPath, logFrom, fs.statSync(snap.logPath).size);
      if (snap && name !== 'node') log(`  server warnings: ${warnings[name].total}`);
      results.push(r);
      if (name === 'node') { peer.proc.kill('SIGTERM'); peer = null; }
      await sleep(1000);
    }
  } finally {
    if (peer) peer.proc.kill('SIGTERM');
    if (snap) {
      snap.proc.kill('SIGTERM');
      await new Promise((r) => { const t = setTimeout(() => { snap.proc.kill('SIGKILL'); r(); }, 10000); snap.proc.once('exit', () => { clearTimeout(t); r(); }); });
    }
    agent.destroy();
  }

  const t = table(results);
  console.log('\n' + textTable(t) + '\n');
  for (const r of results) {
    const w = warnings[r.name];
    if (r.target === 'snapcat' && w && w.total) {
      console.log(`${r.name}: ${w.total} server warning lines, e.g.\n  ${w.first.join('\n  ')}`);
    }
  }
  if (opt.out) {
    const md = results_md(results, t, warnings, started, snap);
    if (opt.append && fs.existsSync(opt.out)) fs.appendFileSync(opt.out, '\n---\n\n' + md.replace(/^# .*\n/, `# Run with --rate ${opt.rate} --subs ${opt.subs} --duration ${opt.duration}\n`));
    else fs.writeFileSync(opt.out, md);
    log(`wrote ${opt.out}`);
  }
  if (!opt.keep) fs.rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
}

function results_md(results, t, warnings, started, snap) {
  const L = [];
  L.push('# Channel benchmark results', '');
  L.push(`Written by \`tests/bench/channels/run\` on ${started.toISOString()}; regenerate with the command below.`, '');
  L.push(`* **Machine:** ${machine()}`);
  L.push(`* **Command:** \`tests/bench/channels/run --subs ${opt.subs} --rate ${opt.rate} --duration ${opt.duration} --phases ${opt.phases.join(',')} --procs ${opt.procs}\``);
  if (snap) L.push(`* **Server:** \`${snap.cmd.replace(/--data \S+/, '--data $TMP/data').replace(/(--tls-(?:cert|key)) \S+/g, '$1 $TMP/$1.pem')}\``);
  if (opt.tls) L.push('* **TLS:** every phase against snapcat over HTTPS (a self-signed certificate): `h2` = SSE streams over HTTP/2 (node:http2, 20 per connection), `sse`/`fr`/`lp` = HTTP/1.1 over TLS (ALPN http/1.1), `ws` over wss:// (an HTTP/1.1 upgrade).');
  L.push(`* **Load:** ${opt.rate} events/s for ${opt.duration} s through the real event bus (\`PATCH /api/links/1 {"title":"bench <i>"}\`, one \`link.updated\` each; the Node peer: \`POST /emit\`), plus a start and an end marker.`);
  L.push(`* **Clients:** ${opt.procs} Node process(es) per channel (client.mjs): SSE and long-poll over raw HTTP/1.1 sockets, WebSocket with \`ws\`; latency = arrival − event \`ts\` (same host, same clock, 1 ms resolution).`);
  L.push('');
  L.push(markdownTable(t), '');
  const busy = results.filter((r) => r.othersCpu > 0.25);
  if (busy.length) {
    L.push(`**The machine was shared during this run:** processes outside the benchmark used ${busy.map((r) => `${pc(r.othersCpu)} of a core in phase ${r.name}`).join(', ')} ` +
      `(load average up to ${Math.max(...results.map((r) => Number(r.loadavg[0].split(' ')[0])), ...results.map((r) => Number(r.loadavg[1].split(' ')[0])))}). ` +
      'Throughput and latency above are what the server achieved with the CPU it got, not its capacity; *server µs/delivery* (server CPU time over load + drain divided by deliveries) is the figure that carries over to a quiet machine.', '');
  }
  L.push(`Columns: *subs live* = subscribers that had the start marker before measuring; *events/s in* = events the load generator got accepted per second (it keeps at most 64 requests in flight, so a busy server gets fewer); *deliveries/s* = events received per second by all subscribers of the channel during the load window (target = subscribers × rate); *delivered* = share of the expected (subscribers × events) that arrived by the end (${DRAIN_MS / 1000} s drain at most); *gaps* = ids skipped or never received; *server RSS max* = the largest VmRSS sampled every 0.5 s during load; CPU 100% = one core.`, '');
  L.push('## Details', '');
  for (const r of results) {
    L.push(`### ${r.name} (${r.target})`, '');
    L.push(`* events ${r.B + 1}…${r.L} (${r.events}); load: ${r.load.issued} of ${r.load.total} emits issued within ${opt.duration} s, ${r.load.ok} ok / ${r.load.failed} failed${r.load.failed ? ' (' + r.load.lastErr + ')' : ''}, all answered after ${r.load.secs.toFixed(1)} s = ${r.load.achieved.toFixed(1)} events/s; emit request p50 ${r.load.req.p50?.toFixed(1)} ms, p99 ${r.load.req.p99?.toFixed(1)} ms, max ${r.load.req.max?.toFixed(1)} ms${r.load.late ? `; ${r.load.late} emits started >50 ms late` : ''}`);
    const subsAll = Object.values(r.channels).reduce((a, c) => a + c.subs, 0);
    const hadEnd = Object.values(r.channels).reduce((a, c) => a + c.reachedEnd, 0);
    L.push(`* opening all subscribers took ${(r.openMs / 1000).toFixed(1)} s; ` + (hadEnd === subsAll
      ? `the end marker reached every subscriber ${r.drainMs} ms after the load ended`
      : `when the ${DRAIN_MS / 1000} s drain ended, ${hadEnd} of ${subsAll} subscribers had the end marker`));
    L.push(`* server: CPU ${pc(r.server.cpu)} during load, ${r.server.cpuAll?.toFixed(2)} CPU-s over load + drain = ${r.server.usPerDelivery?.toFixed(1)} µs per delivery; VmRSS idle ${mb(r.server.rssIdle)} MB → max ${mb(r.server.rssMax)} MB → ${mb(r.server.rssAfter)} MB after the subscribers left; VmHWM ${mb(r.server.hwm)} MB; threads ${r.server.threads}; open fds ${r.server.fdBefore} before, ${r.server.fdAfter} after`);
    L.push(`* whole machine busy ${pc(r.machineBusy)} of its 2 cores during load; processes outside this benchmark used ${pc(r.othersCpu)} of a core; load average ${r.loadavg[0]} → ${r.loadavg[1]} (bench.mjs itself ${pc(r.benchCpu)} of a core)`);
    for (const [kind, c] of Object.entries(r.channels)) {
      const errs = Object.entries(c.errors).map(([k, v]) => `${v}× ${k}`).join('; ');
      L.push(`* ${NAMES[kind]}: ${c.opened}/${c.subs} opened, ${c.liveAtStart} live at start, ${c.reachedEnd} had the end marker; ` +
        `${c.got.toLocaleString('en-US')} of ${c.expected.toLocaleString('en-US')} delivered, gaps ${c.gaps}, never arrived ${c.tail} (${c.behind} subscribers behind), dups ${c.dups}; ` +
        `slowest second ${f0(c.minSec)} deliveries; latency p50 ${c.lat.p50} / p90 ${c.lat.p90} / p99 ${c.lat.p99} / p99.9 ${c.lat.p999} / max ${c.lat.max} ms over ${c.lat.n.toLocaleString('en-US')} deliveries${c.lat.merged ? ' (worst of the processes)' : ''}; ` +
        `disconnects ${c.disconnects}, reconnects ${c.reconnects}, refused ${c.refused}${kind === 'lp' ? `, polls answered ${c.polls.toLocaleString('en-US')}` : ''}; ` +
        `client CPU ${pc(c.clientCpu)} (${c.clientProcs} process${c.clientProcs > 1 ? 'es' : ''}, RSS ${(c.clientRss / 2 ** 20).toFixed(0)} MB)` +
        (errs ? `; client saw: ${errs}` : ''));
    }
    const w = warnings[r.name];
    if (r.target === 'snapcat' && w) {
      L.push(`* server log: ${w.total} warning/error lines${w.total ? ':' : ''}`);
      for (const [m, n] of w.byMsg.slice(0, 6)) L.push(`  * ${n}× \`${m.slice(0, 200)}\``);
    }
    L.push('');
  }
  return L.join('\n') + '\n';
}

main().catch((e) => { console.error('bench.mjs:', e.stack || e.message); process.exit(1); });
