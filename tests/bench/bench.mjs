// The benchmark driver (run by tests/bench/run, which installs what it needs
// first). Serves the corpus on 127.0.0.1 and captures it with three systems on
// the same Chromium and flags:
//   snapcat    `snapcat capture`, all options default (lazy-content scrolling and
//              consent handling on)
//   puppeteer  peer.mjs: puppeteer-core, goto networkidle0, fullPage screenshot
//   tuned      tuned.mjs: the puppeteer-core script a skilled user writes
// in rounds at concurrency C (the order rotates from round to round), then
// once more each with one tab (C = 1) for the per-page Chromium CPU; compares
// the PNGs with puppeteer's pixel by pixel, prints the figures and writes
// RESULTS.md.
//
// Environment (all optional):
//   SNAPCAT_BIN         snapcat binary (run sets it)           default ../../build-bench/snapcat
//   PNGCMP_BIN          the pixel comparer built from pngcmp.c  default WORK/pngcmp
//   BENCH_ROUNDS        rounds at concurrency C (each: the three systems)   2
//   BENCH_CONCURRENCY   tabs in parallel for every system                   2
//   BENCH_PAGES         capture only the first N pages of corpus.txt        all
//   BENCH_CORPUS        another corpus file (same format)          tests/bench/corpus.txt
//   BENCH_SYSTEMS       e.g. "snapcat,tuned": a subset (figures need all three)
//   BENCH_CPU_PASS=0    skip the one-tab pass (no per-page CPU, no tall pages alone)
//   BENCH_WORK          output directory (PNG/MHTML, logs, diff crops)      tests/bench/out
//   BENCH_KEEP=1        keep every round's files (default: the last round's only)
//   BENCH_RESULTS       where to write the report          tests/bench/RESULTS.md
//   BENCH_TIMEOUT       per-page deadline in s of every system (snapcat --timeout)  180
//   BENCH_IDLE_TIMEOUT  puppeteer's networkidle0 timeout in s (its default)    30
//   BENCH_COMMAND       the command line to quote in the report
//   BENCH_SNAPCAT_DESC  what SNAPCAT_BIN is (e.g. "built from commit abc1234"), for the report
//   BENCH_NETNS         set by run when it runs us in a loopback-only netns
//   CHROMIUM            the browser of every system                 /usr/bin/chromium
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS || 2);
const C = Number(env.BENCH_CONCURRENCY || 2);
const WORK = path.resolve(env.BENCH_WORK || path.join(here, 'out'));
const SNAPCAT = path.resolve(env.SNAPCAT_BIN || path.join(root, 'build-bench/snapcat'));
const PNGCMP = path.resolve(env.PNGCMP_BIN || path.join(WORK, 'pngcmp'));
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const RESULTS = path.resolve(env.BENCH_RESULTS || path.join(here, 'RESULTS.md'));
const CPU_PASS = env.BENCH_CPU_PASS !== '0';
const TALL = 30000;
// per-page deadline of every system: generous, so that a loaded machine does not turn slow pages into failures
const TIMEOUT_S = Number(env.BENCH_TIMEOUT || 180);
// puppeteer's own default navigation timeout: what a networkidle0 script waits before it gives up
const IDLE_TIMEOUT_S = Number(env.BENCH_IDLE_TIMEOUT || 30);
const RESOLVER = '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1';
const ALL = ['snapcat', 'puppeteer', 'tuned'];
const SYSTEMS = env.BENCH_SYSTEMS ? env.BENCH_SYSTEMS.split(',').filter((s) => ALL.includes(s)) : ALL;
const have = (s) => SYSTEMS.includes(s);

const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const sum = (xs) => xs.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// ---- the flags: snapcat's own list, read from its source, for every system
function launchFlags() {
  try {
    const src = fs.readFileSync(path.join(root, 'cdp/launch.c'), 'utf8');
    const m = src.match(/launch_flags\[\]\s*=\s*\{([\s\S]*?)\};/);
    const flags = [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
    if (flags.length) return { flags, from: 'cdp/launch.c' };
  } catch { /* fall through */ }
  return {
    flags: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-sync', '--hide-scrollbars', '--remote-debugging-port=0'],
    from: 'built-in list',
  };
}

// ---- processes
function run(cmd, args, { stdout, stderr, cwd, extraEnv } = {}) {
  return new Promise((resolve) => {
    const out = stdout ? fs.openSync(stdout, 'w') : 'ignore';
    const err = stderr ? fs.openSync(stderr, 'w') : 'ignore';
    const p = spawn(cmd, args, { cwd: cwd || here, stdio: ['ignore', out, err], env: { ...env, ...extraEnv } });
    p.on('exit', (code) => {
      if (typeof out === 'number') fs.closeSync(out);
      if (typeof err === 'number') fs.closeSync(err);
      resolve(code);
    });
  });
}

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(here, 'serve.mjs'), '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const srv = { proc: p, port: 0, stderr: '' };
    let buf = '';
    p.stderr.on('data', (d) => { srv.stderr += d; });
    p.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/LISTENING (\d+)/);
      if (m && !srv.port) { srv.port = Number(m[1]); resolve(srv); }
    });
    p.on('exit', (c) => { if (!srv.port) reject(new Error(`serve.mjs exited ${c}`)); });
  });
}

const getJSON = (url) => new Promise((resolve) => {
  http.get(url, (res) => {
    let b = '';
    res.on('data', (d) => { b += d; });
    res.on('end', () => { try { resolve(JSON.parse(b)); } catch { resolve({}); } });
  }).on('error', () => resolve({}));
});

let peerUA = ''; // set after the warm-up when snapcat's user agent is not Chromium's own

// One system, one run: returns { system, round, conc, measure, pages: [by n], lines, ... }.
async function capture(system, round, urls, dir, launch, conc = C) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const mjson = `${dir}.measure.json`, outf = `${dir}.stdout`, errf = `${dir}.stderr`;
  let args;
  if (system === 'snapcat') {
    args = [SNAPCAT, 'capture', '--concurrency', String(conc), '--timeout', String(TIMEOUT_S), '--out', dir, `--browser-arg=${RESOLVER}`, ...urls];
  } else {
    args = [process.execPath, path.join(here, system === 'tuned' ? 'tuned.mjs' : 'peer.mjs'), '--out', dir, '--concurrency', String(conc),
      '--timeout', String(TIMEOUT_S), '--idle-timeout', String(IDLE_TIMEOUT_S), '--chromium', CHROMIUM,
      ...launch.flags.map((f) => `--arg=${f}`), `--arg=${RESOLVER}`, ...(peerUA ? [`--user-agent=${peerUA}`] : []), ...urls];
  }
  const load0 = loadavg();
  const code = await run('python3', [path.join(here, 'measure.py'), mjson, ...args],
    { stdout: outf, stderr: errf, extraEnv: { SNAPCAT_CHROMIUM: CHROMIUM } });
  const measure = JSON.parse(fs.readFileSync(mjson, 'utf8'));
  // every stdout line in order (measure.line_times has one time per line)
  const lines = fs.readFileSync(outf, 'utf8').split('\n').slice(0, -1).map((l) => { try { return JSON.parse(l); } catch { return null; } });
  const pages = [];
  lines.forEach((l, k) => { if (l && l.n) { l.done_at = measure.line_times[k]; pages[l.n - 1] = l; } });
  const summary = lines.find((l) => l && l.summary)?.summary || null;
  const ok = pages.filter((p) => good(p)).length;
  return { system, round, conc, code, measure, pages, summary, ok, load0, load1: loadavg() };
}
const good = (p) => p && (!p.error || p.error.class === 'http_status');

// Per-page Chromium CPU of a one-tab run: page i's window runs from the end of
// the page before (the first page: from its own start) to its own JSON line;
// the tree's CPU over the window less the system's own.
function attribute(x) {
  const tl = x.measure.timeline || [];
  const at = (t, k) => {
    if (!tl.length) return NaN;
    if (t <= tl[0][0]) return tl[0][k];
    for (let j = 1; j < tl.length; j++) {
      if (tl[j][0] >= t) {
        const [t0, t1] = [tl[j - 1][0], tl[j][0]];
        return tl[j - 1][k] + (tl[j][k] - tl[j - 1][k]) * (t1 > t0 ? (t - t0) / (t1 - t0) : 1);
      }
    }
    return tl[tl.length - 1][k];
  };
  const order = x.pages.map((p, i) => [i, p]).filter(([, p]) => p && Number.isFinite(p.done_at)).sort((a, b) => a[1].done_at - b[1].done_at);
  const res = [];
  let prev = null;
  for (const [i, p] of order) {
    const end = p.done_at;
    const start = prev ?? Math.max(0, end - (p.timings?.total || 0) / 1000);
    const chrome = (at(end, 1) - at(start, 1)) - (at(end, 2) - at(start, 2));
    const own = at(end, 2) - at(start, 2);
    const inside = tl.filter((s) => s[0] >= start && s[0] <= end).map((s) => s[3]);
    const procs = inside.length ? Math.max(...inside) : at(end, 3);
    res[i] = { start, end, chrome, own, procs };
    prev = end;
  }
  return res;
}

async function pool(items, n, fn) {
  let i = 0;
  const out = [];
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) { const k = i++; out[k] = await fn(items[k], k); }
  }));
  return out;
}

function pngcmp(a, b, crop) {
  return new Promise((resolve) => {
    const p = spawn(PNGCMP, crop ? [a, b, crop] : [a, b], { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '', e = '';
    p.stdout.on('data', (d) => { o += d; });
    p.stderr.on('data', (d) => { e += d; });
    p.on('exit', () => {
      try { resolve(JSON.parse(o)); } catch { resolve({ error: e.trim() || 'pngcmp failed' }); }
    });
  });
}

// ---------------------------------------------------------------- main
// corpus.txt: a path a line; "PATH perpetual: WHAT" marks a page with perpetual activity
const corpus = fs.readFileSync(path.resolve(here, env.BENCH_CORPUS || 'corpus.txt'), 'utf8').split('\n')
  .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const m = l.match(/^(\S+)(?:\s+perpetual:\s*(.*))?$/);
    return { path: m[1], perpetual: m[2] !== undefined, what: m[2] || '' };
  })
  .slice(0, env.BENCH_PAGES ? Number(env.BENCH_PAGES) : undefined);
const N = corpus.length;
let launch = launchFlags();
fs.mkdirSync(WORK, { recursive: true });
fs.rmSync(path.join(WORK, 'diff'), { recursive: true, force: true });
fs.mkdirSync(path.join(WORK, 'diff'), { recursive: true });
if (!fs.existsSync(SNAPCAT)) throw new Error(`no snapcat binary at ${SNAPCAT} (set SNAPCAT_BIN)`);
if (!fs.existsSync(PNGCMP)) throw new Error(`no pngcmp at ${PNGCMP} (tests/bench/run builds it)`);

const srv = await startServer();
const base = `http://127.0.0.1:${srv.port}`;
const urls = corpus.map((c) => base + c.path);
const label = (i) => corpus[i].path.replace(/^\/usr\/share\/doc\//, '').replace(/^\/npm\//, 'npm:').replace(/\/index\.html$/, '/')
  .replace('libjs-jquery-flot-docs/examples', 'flot');
log(`corpus: ${N} pages on ${base}; ${ROUNDS} rounds at concurrency ${C} of ${SYSTEMS.join(', ')}; one-tab pass: ${CPU_PASS ? 'yes' : 'no'}; work dir ${WORK}`);
log(`load average: ${loadavg()}`);

const tStart = Date.now();
// Warm-up (not measured): page cache for Chromium's binary and the corpus, and
// the user agent each system sends by default.
log('warm-up');
const uaURL = (who) => `${base}/__bench/ua?who=${who}`;
const warm = (sys) => capture(sys, 0, [...urls.slice(0, 2), uaURL(sys)], path.join(WORK, `warmup-${sys}`), launch);
if (have('snapcat')) await warm('snapcat');
// The peers get the flags snapcat's Chromium was started with (its command
// line as measure.py saw it), less the per-run ones; cdp/launch.c's list
// (read above) only when that was not seen.
{
  const w = JSON.parse(fs.readFileSync(path.join(WORK, 'warmup-snapcat.measure.json'), 'utf8'));
  const cl = (w.child_cmdlines || []).find((c) => c.length && /chrom/i.test(path.basename(c[0])));
  if (cl && have('snapcat')) {
    // (Debian's /usr/bin/chromium is a wrapper that adds flags of its own to
    // every system alike: they are in this list too, and given twice is the same)
    const flags = [...new Set(cl.slice(1).filter((a) => a.startsWith('--') && !a.startsWith('--user-data-dir=') && a !== RESOLVER))];
    if (flags.length) launch = { flags, from: 'the command line of snapcat\'s own Chromium in the warm-up, Debian\'s wrapper\'s flags included' };
  }
  log(`peers' Chromium flags (${launch.from}): ${launch.flags.join(' ')}`);
}
for (const sys of SYSTEMS) if (sys !== 'snapcat') await warm(sys);
const uas = await getJSON(`${base}/__bench/uas`);
if (uas.snapcat && uas.puppeteer && uas.snapcat !== uas.puppeteer) {
  peerUA = uas.snapcat;
  log(`snapcat's user agent is not Chromium's: the peers get --user-agent "${peerUA}"`);
}

const runs = [];
const cmps = []; // [round][i] = {snapcat, tuned}: that system's PNG vs puppeteer's
const selfCmp = {}; // [sys][round][i]: a system's PNG vs its own of the round before
for (const s of SYSTEMS) selfCmp[s] = [];
const roundDir = (r, sys) => path.join(WORK, `r${r}-${sys}`);
const pngOf = (r, sys, i) => path.join(roundDir(r, sys), `${i + 1}.png`);
const exists = (f) => fs.existsSync(f);
for (let r = 1; r <= ROUNDS; r++) {
  const k = (r - 1) % SYSTEMS.length;
  const order = [...SYSTEMS.slice(k), ...SYSTEMS.slice(0, k)];
  for (const sys of order) {
    log(`round ${r}: ${sys}`);
    const x = await capture(sys, r, urls, roundDir(r, sys), launch);
    log(`round ${r}: ${sys}: ${x.ok}/${N} pages in ${x.measure.wall_s} s (${fmt(x.ok / x.measure.wall_s * 60, 1)} pages/min), ` +
      `Chromium CPU ${fmt(x.measure.browser_cpu_s, 1)} s, exit ${x.code}, load ${x.load0} -> ${x.load1}`);
    runs.push(x);
  }
  log(`round ${r}: comparing PNGs`);
  cmps[r] = await pool(urls.map((_, i) => i), 2, async (i) => {
    const o = {};
    for (const sys of ['snapcat', 'tuned']) {
      const a = pngOf(r, sys, i), b = pngOf(r, 'puppeteer', i);
      o[sys] = exists(a) && exists(b) ? await pngcmp(a, b, sys === 'snapcat' ? path.join(WORK, 'diff', `r${r}-${i + 1}`) : null) : { error: 'missing PNG' };
    }
    return o;
  });
  // A page whose PNGs differ: does each system even reproduce itself?
  if (r > 1) {
    for (const sys of SYSTEMS) {
      selfCmp[sys][r] = await pool(urls.map((_, i) => i), 2, async (i) => {
        if (cmps[r][i].snapcat.identical && cmps[r][i].tuned.identical) return null;
        const a = pngOf(r - 1, sys, i), b = pngOf(r, sys, i);
        return exists(a) && exists(b) ? pngcmp(a, b) : null;
      });
    }
    if (!env.BENCH_KEEP) for (const sys of SYSTEMS) fs.rmSync(roundDir(r - 1, sys), { recursive: true, force: true });
  }
}

// The one-tab pass: each system alone with one tab on every page, for the
// per-page Chromium CPU and processes (the browser and utility processes are
// shared between the tabs at C > 1), the tall pages' times without the other
// tab's contention, and snapcat's peak RSS on the tallest page.
const one = {};
if (CPU_PASS) {
  for (const sys of SYSTEMS) {
    log(`one tab: ${sys} --concurrency 1 on ${N} pages`);
    const x = await capture(sys, 'one-tab', urls, path.join(WORK, `one-${sys}`), launch, 1);
    x.attr = attribute(x);
    log(`one tab: ${sys}: ${x.ok}/${N} pages in ${x.measure.wall_s} s, Chromium CPU ${fmt(x.measure.browser_cpu_s, 1)} s, load ${x.load0} -> ${x.load1}`);
    one[sys] = x;
    if (!env.BENCH_KEEP) fs.rmSync(path.join(WORK, `one-${sys}`), { recursive: true, force: true });
  }
}
srv.proc.kill('SIGTERM');
await new Promise((r) => srv.proc.on('exit', r));
const elapsed = (Date.now() - tStart) / 1000;
fs.writeFileSync(path.join(WORK, 'runs.json'), JSON.stringify({ corpus, runs, cmps, selfCmp, one, uas, peerUA }));

// ---------------------------------------------------------------- figures
const by = (sys) => runs.filter((x) => x.system === sys);
const R = Object.fromEntries(SYSTEMS.map((s) => [s, by(s)]));
const ppm = (x) => (x.ok / x.measure.wall_s) * 60;
const PPM = Object.fromEntries(SYSTEMS.map((s) => [s, median(R[s].map(ppm))]));
const cpuPage = (x) => x.measure.browser_cpu_s / N; // Chromium CPU per page attempted
const CPUP = Object.fromEntries(SYSTEMS.map((s) => [s, median(R[s].map(cpuPage))]));
const share = (x) => x.measure.self_cpu_s / x.measure.browser_cpu_s;
const SHARE = Object.fromEntries(SYSTEMS.map((s) => [s, median(R[s].map(share))]));
const ratioP = PPM.snapcat / PPM.puppeteer, ratioT = PPM.snapcat / PPM.tuned;
const mib = (kb) => kb / 1024;

const allRuns = [...runs, ...Object.values(one)];
const heights = corpus.map((_, i) => Math.max(0, ...allRuns.map((x) => (good(x.pages[i]) ? x.pages[i].height : 0))));
const tallIdx = heights.map((h, i) => (h >= TALL ? i : -1)).filter((i) => i >= 0);
const staticIdx = corpus.map((c, i) => (c.perpetual ? -1 : i)).filter((i) => i >= 0);
const perpIdx = corpus.map((c, i) => (c.perpetual ? i : -1)).filter((i) => i >= 0);

// pixels, against puppeteer's PNG
const identRounds = (sys, i) => { let n = 0; for (let r = 1; r <= ROUNDS; r++) if (cmps[r]?.[i]?.[sys]?.identical) n++; return n; };
const identAll = (sys, i) => identRounds(sys, i) === ROUNDS;
const unstable = (sys, i) => (selfCmp[sys] || []).some((rr) => rr && rr[i] && rr[i].identical === false);
const nondet = corpus.map((_, i) => SYSTEMS.some((s) => unstable(s, i)));
const identStatic = (sys) => staticIdx.filter((i) => identAll(sys, i)).length;
const staticDet = staticIdx.filter((i) => !nondet[i]);
const identStaticDet = (sys) => staticDet.filter((i) => identAll(sys, i)).length;
const identShare = identStatic('snapcat') / staticIdx.length;

// per page times (median over rounds)
const med = (sys, i, f) => median((R[sys] || []).map((x) => (x.pages[i] ? f(x.pages[i]) : NaN)));
const readyOf = (sys, p) => (sys === 'snapcat' ? (p.timings?.load ?? NaN) + (p.timings?.settle ?? NaN) : p.timings?.ready ?? NaN);
const totalOf = (p) => p.timings?.total ?? NaN;
const tallSum = (sys) => sum(tallIdx.map((i) => med(sys, i, totalOf)));
const tallRatio = tallSum('snapcat') / tallSum('puppeteer');
const oneTotal = (sys, i) => one[sys]?.pages[i]?.timings?.total;
const tallSum1 = (sys) => sum(tallIdx.map((i) => oneTotal(sys, i)));
const tallRatio1 = CPU_PASS ? tallSum1('snapcat') / tallSum1('puppeteer') : NaN;

// failures: every failed page of every timed run, with the time it cost
const failures = [];
for (const x of [...runs, ...Object.values(one)]) {
  x.pages.forEach((p, i) => {
    if (p && !good(p)) failures.push({ sys: x.system, round: x.round, i, cls: p.error.class, msg: p.error.message, ms: p.timings?.total });
  });
  corpus.forEach((_, i) => { if (!x.pages[i]) failures.push({ sys: x.system, round: x.round, i, cls: 'missing', msg: 'no result line', ms: NaN }); });
}
const failCount = (sys) => failures.filter((f) => f.sys === sys && typeof f.round === 'number').length;

// per stage medians over (page, round) samples
const stageMed = (runsOf, idx, key) => median(runsOf.flatMap((x) => idx.map((i) => {
  const p = x.pages[i];
  if (!good(p)) return NaN;
  if (key === 'ready') return readyOf(x.system, p);
  return p.timings[key];
})));
const stageSum = (runsOf, key) => median(runsOf.map((x) => sum(corpus.map((_, i) => {
  const p = x.pages[i];
  if (!good(p)) return 0;
  return key === 'ready' ? readyOf(x.system, p) : p.timings[key] || 0;
}))));
const STAGES = {
  snapcat: ['setup', 'navigate', 'load', 'settle', 'ready', 'screenshot', 'mhtml', 'metadata', 'write', 'total'],
  puppeteer: ['setup', 'navigate', 'ready', 'screenshot', 'mhtml', 'write', 'close', 'total'],
  tuned: ['setup', 'navigate', 'ready', 'screenshot', 'mhtml', 'write', 'close', 'total'],
};

const verdict = (met, how) => `${met ? '**met**' : '**not met**'} (${how})`;
const cpu1 = (sys) => (one[sys] ? one[sys].measure.browser_cpu_s / N : NaN);
const procRange = (sys) => {
  const v = (one[sys]?.attr || []).filter(Boolean).map((a) => a.procs).filter(Number.isFinite);
  return v.length ? `${Math.min(...v)}–${Math.max(...v)}` : 'n/a';
};
const targets = [];
if (have('puppeteer')) {
  targets.push(['≥ 2.0x puppeteer networkidle0\'s pages/minute, with ≥ 95% of the static pages pixel-identical to it',
    verdict(ratioP >= 2 && identShare >= 0.95, `${fmt(ratioP, 2)}x ${ratioP >= 2 ? 'met' : `(${fmt((1 - ratioP / 2) * 100)}% short of 2.0x)`}; ` +
      `${fmt(identShare * 100, 1)}% of ${staticIdx.length} static pages identical in every round ${identShare >= 0.95 ? 'met' : `(${staticIdx.length - identStatic('snapcat')} differ; ${identStaticDet('snapcat')}/${staticDet.length} of those every system reproduces)`}`)]);
}
if (have('tuned')) {
  targets.push(['≥ 1.0x the tuned script\'s pages/minute (snapcat\'s lazy-content scrolling and consent handling on)',
    verdict(ratioT >= 1, `${fmt(ratioT, 2)}x${ratioT < 1 ? `; ${fmt((1 - ratioT) * 100)}% short` : ''}`)]);
  const rc = CPUP.snapcat / CPUP.tuned;
  targets.push(['Chromium CPU per page ≤ the tuned script\'s',
    verdict(rc <= 1, `${fmt(CPUP.snapcat, 2)} s vs ${fmt(CPUP.tuned, 2)} s per page at C = ${C}: ${fmt(rc, 2)}x` +
      (CPU_PASS ? `; one tab: ${fmt(cpu1('snapcat'), 2)} s vs ${fmt(cpu1('tuned'), 2)} s: ${fmt(cpu1('snapcat') / cpu1('tuned'), 2)}x` : ''))]);
}
if (have('puppeteer')) {
  targets.push([`tall pages (≥ 30,000 px) ≤ 0.75x puppeteer's time, at C = ${C} and alone`,
    tallIdx.length ? verdict(tallRatio <= 0.75 && (!CPU_PASS || tallRatio1 <= 0.75),
      `${fmt(tallRatio, 2)}x at C = ${C}${tallRatio > 0.75 ? ` (${fmt((tallRatio / 0.75 - 1) * 100)}% over 0.75x)` : ''}` +
      (CPU_PASS ? `; ${fmt(tallRatio1, 2)}x alone with one tab${tallRatio1 > 0.75 ? ` (${fmt((tallRatio1 / 0.75 - 1) * 100)}% over)` : ''}` : '')) : 'no tall page in this corpus']);
}
targets.push(['snapcat\'s own CPU ≤ 3% of Chromium\'s', verdict(SHARE.snapcat <= 0.03, `${fmt(SHARE.snapcat * 100, 2)}% at C = ${C}` +
  (one.snapcat ? `; ${fmt(one.snapcat.measure.self_cpu_s / one.snapcat.measure.browser_cpu_s * 100, 2)}% with one tab` : ''))]);

// ---------------------------------------------------------------- report
let chromiumVersion = '?';
try { chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* */ }
const cpuModel = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || '?';
const memGiB = os.totalmem() / 2 ** 30;
const pkg = (n) => { try { return JSON.parse(fs.readFileSync(path.join(here, 'node_modules', n, 'package.json'), 'utf8')).version; } catch { return '?'; } };
const extByPage = corpus.map((_, i) => {
  const s = new Set();
  for (const x of allRuns) for (const u of x.pages[i]?.external || []) s.add(new URL(u).hostname);
  return [...s];
});
const extTotal = sum(allRuns.filter((x) => x.system !== 'snapcat').map((x) => sum(x.pages.map((p) => p?.external?.length || 0))));
const serverLog = srv.stderr.trim().replace(/^serve: /, '');
const L = [];
const row = (cells) => L.push(`| ${cells.join(' | ')} |`);
const hdr = (cells, align) => { row(cells); L.push(`|${(align || cells.map(() => '---')).map((a) => (a === 'r' ? '---:' : a === 'l' ? ':---' : a)).join('|')}|`); };
const loads = allRuns.map((x) => `${x.system}/${x.round}: ${x.load0.split(' ')[0]}`);
const loadNums = allRuns.map((x) => Number(x.load0.split(' ')[0]));
const SYS = (f) => SYSTEMS.map(f);
const sl = (f, d = 2) => SYSTEMS.map((s) => fmt(f(s), d)).join(' / ');

L.push('# snapcat capture benchmark: results', '');
L.push(`Written by \`tests/bench/run\` on ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC (the whole run: ${fmt(elapsed / 60, 1)} min).`, '');
L.push('## Machine and command', '');
L.push(`- machine: ${os.cpus().length} CPUs (\`nproc\`: ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ${cpuModel}; ${fmt(memGiB, 1)} GiB memory; ${os.type()} ${os.release()}`);
L.push(`- browser: \`${chromiumVersion}\` (${CHROMIUM}) for every system; node ${process.version}; puppeteer-core ${pkg('puppeteer-core')}`);
L.push(`- command: \`${env.BENCH_COMMAND || 'tests/bench/run'}\` (${ROUNDS} rounds at concurrency ${C}, then ${CPU_PASS ? 'each system alone with one tab' : 'no one-tab pass'}; ${N} pages: ${staticIdx.length} static, ${perpIdx.length} with perpetual activity)`);
L.push(`- snapcat: \`${SNAPCAT.startsWith(root + '/') ? path.relative(root, SNAPCAT) : SNAPCAT}\`${env.BENCH_SNAPCAT_DESC ? ` (${env.BENCH_SNAPCAT_DESC})` : ''} (\`snapcat capture --concurrency ${C} --timeout ${TIMEOUT_S} --out DIR --browser-arg='${RESOLVER}' URL...\`, all other options default: lazy-content scrolling and consent handling on)`);
L.push(`- puppeteer: \`node tests/bench/peer.mjs\`: puppeteer-core, \`goto\` networkidle0 (timeout ${IDLE_TIMEOUT_S} s, puppeteer's default), \`screenshot({fullPage: true})\`, \`Page.captureSnapshot\``);
L.push(`- tuned: \`node tests/bench/tuned.mjs\`: puppeteer-core, \`goto\` load, fonts, images, 200 ms network quiet (10 s budget), finite animations finished, two frames, one \`Page.captureScreenshot\` (optimizeForSpeed, captureBeyondViewport, clip = cssContentSize), \`Page.captureSnapshot\``);
L.push(`- both peers: ignoreDefaultArgs, the same ${launch.flags.length} Chromium flags as snapcat (read from ${launch.from}) plus the same --host-resolver-rules, fresh --user-data-dir, viewport 1280x800, a fresh browser context per URL, page deadline ${TIMEOUT_S} s; user agent: ${peerUA ? `snapcat's (\`${peerUA}\`), given to both peers` : `Chromium's own in every system (snapcat sends no other: \`${uas.snapcat || '?'}\`)`}`);
L.push(`- network: ${env.BENCH_NETNS ? 'the whole run in a private network namespace with only the loopback interface (no other route exists)' : 'host network namespace (BENCH_NETNS off)'}; every Chromium resolves every host but 127.0.0.1 to an error; requests the peers' pages attempted to other hosts: ${extTotal} (${[...new Set(extByPage.flat())].join(', ') || 'none'}: they fail at the resolver, nothing leaves the machine); static server: ${serverLog || 'n/a'}`);
L.push(`- **load average** (1 min) before each timed run: ${loads.join(', ')} (min ${fmt(Math.min(...loadNums), 2)}, max ${fmt(Math.max(...loadNums), 2)})${Math.max(...loadNums) > 2.5 ? ' — **other work was running on this 2-core machine during the run: absolute figures are noisy; the rotating order spreads that over the systems**' : ''}`);
L.push('');

L.push('## Headline', '');
hdr(['', ...SYSTEMS, ...(have('puppeteer') ? ['snapcat/puppeteer'] : []), ...(have('tuned') ? ['snapcat/tuned'] : [])], ['l', ...SYS(() => 'r'), 'r', 'r']);
const ratios = (f, d = 2) => [...(have('puppeteer') ? [`${fmt(f('snapcat') / f('puppeteer'), d)}x`] : []), ...(have('tuned') ? [`${fmt(f('snapcat') / f('tuned'), d)}x`] : [])];
row(['**pages/minute** (median of rounds)', ...SYS((s) => fmt(PPM[s], 1)), ...ratios((s) => PPM[s]).map((x) => `**${x}**`)]);
for (let r = 1; r <= ROUNDS; r++) {
  const xs = SYS((s) => R[s].find((x) => x.round === r));
  const k = (r - 1) % SYSTEMS.length;
  row([`round ${r} (order: ${[...SYSTEMS.slice(k), ...SYSTEMS.slice(0, k)].join(', ')}): wall s (pages ok)`, ...xs.map((x) => `${fmt(x.measure.wall_s, 1)} (${x.ok})`),
    ...ratios((s) => ppm(xs[SYSTEMS.indexOf(s)]))]);
}
row([`failed pages per run (their time charged)`, ...SYS((s) => String(median(R[s].map((x) => N - x.ok)))), '', '']);
row(['**Chromium CPU per page** (s; whole run / pages, median of rounds)', ...SYS((s) => fmt(CPUP[s], 2)), ...ratios((s) => CPUP[s])]);
if (CPU_PASS) row(['Chromium CPU per page, one tab (s)', ...SYS((s) => fmt(cpu1(s), 2)), ...ratios(cpu1)]);
row(['own CPU s / Chromium CPU s (median of rounds)', ...SYS((s) => `${fmt(median(R[s].map((x) => x.measure.self_cpu_s)), 2)} / ${fmt(median(R[s].map((x) => x.measure.browser_cpu_s)), 1)}`), '', '']);
row(['**own CPU as a share of Chromium\'s**', ...SYS((s) => `${s === 'snapcat' ? '**' : ''}${fmt(SHARE[s] * 100, 2)}%${s === 'snapcat' ? '**' : ''}`), '', '']);
row([`both cores busy (all CPU of the run / wall / ${os.cpus().length})`, ...SYS((s) => `${fmt(median(R[s].map((x) => x.measure.total_cpu_s / x.measure.wall_s / os.cpus().length)) * 100)}%`), '', '']);
if (CPU_PASS) row(['**Chromium processes**, one tab: fewest–most while a page was captured', ...SYS(procRange), '', '']);
row([`Chromium processes at C = ${C}: most at once`, ...SYS((s) => String(Math.max(...R[s].map((x) => x.measure.procs_max || 0)))), '', '']);
row(['own peak RSS (VmHWM), every run', ...SYS((s) => `${fmt(mib(Math.max(...[...R[s], ...(one[s] ? [one[s]] : [])].map((x) => x.measure.peak_rss_kb))), 1)} MiB`), '', '']);
row(['whole tree peak RSS incl. Chromium (sampled)', ...SYS((s) => `${fmt(mib(Math.max(...R[s].map((x) => x.measure.tree_peak_rss_kb))), 0)} MiB`), '', '']);
if (tallIdx.length) {
  row([`**tall pages** (${tallIdx.length} ≥ 30,000 px), C = ${C}: sum of per-page medians (s)`, ...SYS((s) => fmt(tallSum(s) / 1000, 1)), ...ratios(tallSum).map((x, k) => (k === 0 ? `**${x}**` : x))]);
  if (CPU_PASS) row(['**tall pages**, one tab: sum of per-page times (s)', ...SYS((s) => fmt(tallSum1(s) / 1000, 1)), ...ratios(tallSum1).map((x, k) => (k === 0 ? `**${x}**` : x))]);
}
row([`ready (s), median over static pages`, ...SYS((s) => fmt(median(staticIdx.map((i) => med(s, i, (p) => readyOf(s, p)))) / 1000, 2)), ...ratios((s) => median(staticIdx.map((i) => med(s, i, (p) => readyOf(s, p)))))]);
row([`ready (s), median over the ${perpIdx.length} perpetual pages`, ...SYS((s) => fmt(median(perpIdx.map((i) => med(s, i, (p) => readyOf(s, p)))) / 1000, 2)), ...ratios((s) => median(perpIdx.map((i) => med(s, i, (p) => readyOf(s, p)))))]);
if (have('puppeteer')) {
  row(['**static pages pixel-identical to puppeteer\'s** (every round)', ...SYS((s) => (s === 'puppeteer' ? '' : `${s === 'snapcat' ? '**' : ''}${identStatic(s)}/${staticIdx.length} (${fmt(identStatic(s) / staticIdx.length * 100, 1)}%)${s === 'snapcat' ? '**' : ''}`)), '', '']);
  row(['… of the static pages every system reproduces from round to round', ...SYS((s) => (s === 'puppeteer' ? '' : `${identStaticDet(s)}/${staticDet.length}`)), '', '']);
}
L.push('');

L.push('## Targets (issue 14)', '');
hdr(['target', 'result'], ['l', 'l']);
for (const [t, v] of targets) row([t, v]);
L.push('');

if (failures.length) {
  L.push('## Failures (charged)', '');
  L.push('A page that fails counts as its system\'s failure: it is not in that run\'s pages/minute, and the time it took —',
    `for puppeteer's networkidle0, its whole ${IDLE_TIMEOUT_S} s timeout on a page whose network never goes quiet — stays in the run's wall time.`, '');
  hdr(['system', 'run', 'page', 'error', 'time charged s'], ['l', 'l', 'l', 'l', 'r']);
  for (const f of failures) row([f.sys, String(f.round), label(f.i), `${f.cls}: ${String(f.msg).slice(0, 140).replace(/\|/g, '/')}`, fmt(f.ms / 1000, 1)]);
  L.push('');
} else {
  L.push('## Failures (charged)', '', `None: every system captured every page in every run (puppeteer's networkidle0 was reached within ${IDLE_TIMEOUT_S} s on every page).`, '');
}

L.push('## Per-stage medians (ms, over every page and round)', '');
L.push('snapcat stages come from its JSON `timings`; its `ready` = `load` + `settle` (from the navigation\'s commit to "ready',
  'to capture"). The peers\' stages are timed around each call; their `navigate` runs from `goto` to the main frame\'s',
  'commit and their `ready` from the commit to "ready to capture" (puppeteer: networkidle0; tuned: its waits). "sum/run" is',
  `the median over rounds of the stage summed over all pages of a run (tab-seconds, at concurrency ${C}).`, '');
for (const s of SYSTEMS) {
  hdr([`${s} stage`, 'median, pages < 30,000 px', 'median, tall pages', 'sum/run (s)'], ['l', 'r', 'r', 'r']);
  const short = corpus.map((_, i) => i).filter((i) => !tallIdx.includes(i));
  for (const k of STAGES[s]) row([k, fmt(stageMed(R[s], short, k)), fmt(stageMed(R[s], tallIdx, k)), fmt(stageSum(R[s], k) / 1000, 1)]);
  L.push('');
}

L.push('## Per page', '');
L.push(`S = snapcat, P = puppeteer (networkidle0), T = tuned. "ready" and "total": medians of the rounds at C = ${C} (they include`,
  'contention with the other tab). "identical": rounds in which the system\'s PNG was pixel-identical to puppeteer\'s.',
  '"Chromium CPU" and "procs" come from the one-tab pass: the CPU of the whole Chromium tree while that page was captured',
  '(from the end of the page before to this page\'s result line: context set-up and closing included) and the most Chromium',
  'processes seen meanwhile.', '');
hdr(['#', 'page', 'kind', 'height px', 'ready s S / P / T', 'total s S / P / T', 'identical S / T', 'Chromium CPU s S / P / T', 'procs S / P / T', 'note'],
  ['r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
corpus.forEach((c, i) => {
  const notes = new Set();
  for (const s of SYSTEMS) if (unstable(s, i)) notes.add(`${s}'s own PNG differs between rounds`);
  for (const x of allRuns) {
    const p = x.pages[i];
    if (p?.note) notes.add(`${x.system}: ${p.note.replace(/\d+ ms/, 'N ms')}`);
    if (p?.error) notes.add(`${x.system}: ${p.error.class}: ${p.error.message}`.slice(0, 110));
  }
  if (extByPage[i].length) notes.add(`asks ${extByPage[i].join(', ')} (fails offline)`);
  const sizes = [];
  for (const s of ['snapcat', 'tuned']) {
    const d = (cmps[ROUNDS]?.[i]?.[s]);
    if (d && !d.identical && d.same_size === false && d.a) sizes.push(`${s} ${d.a.width}x${d.a.height} vs ${d.b.width}x${d.b.height}`);
  }
  if (sizes.length) notes.add(`sizes: ${sizes.join(', ')}`);
  const idents = ['snapcat', 'tuned'].filter(have).map((s) => {
    const n = identRounds(s, i);
    return `${n}/${ROUNDS}${n === ROUNDS ? '' : ' ✗'}`;
  });
  row([i + 1, label(i), c.perpetual ? 'perpetual' : 'static', fmt(heights[i]),
    sl((s) => med(s, i, (p) => readyOf(s, p)) / 1000, 1), sl((s) => med(s, i, totalOf) / 1000, 1),
    have('puppeteer') ? idents.join(' / ') : 'n/a',
    CPU_PASS ? sl((s) => one[s]?.attr[i]?.chrome, 1) : 'n/a', CPU_PASS ? sl((s) => one[s]?.attr[i]?.procs, 0) : 'n/a',
    [...notes].join('; ').replace(/\|/g, '/')]);
});
L.push('');
if (perpIdx.length) {
  L.push('### The pages with perpetual activity', '');
  hdr(['#', 'page', 'perpetual activity'], ['r', 'l', 'l']);
  for (const i of perpIdx) row([i + 1, label(i), corpus[i].what]);
  L.push('');
}

L.push('## How the figures are measured', '');
L.push('- **pages/minute** = pages captured / wall time of the whole command (process start to exit: browser launch and',
  '  shutdown included for every system), median over the rounds; the ratios are snapcat\'s median over the peer\'s. The',
  '  order of the systems rotates from round to round; a warm-up capture of two pages by each precedes the rounds.',
  `  A failed page is not counted, and its time stays in the wall time (puppeteer's networkidle0 gives up after ${IDLE_TIMEOUT_S} s).`);
L.push('- **CPU**: each command runs under `measure.py`, a child subreaper, so every Chromium process ends up reaped',
  '  by its parent or by measure.py. Own CPU = utime+stime of the snapcat (or node) process itself (all its threads),',
  '  read from /proc/PID/stat while it is a zombie (waitid WNOWAIT); Chromium\'s = all CPU of the process tree',
  '  (RUSAGE_CHILDREN of measure.py after everything is reaped) minus that. **Chromium CPU per page** = that / pages.');
L.push('- **per page CPU** (one-tab pass): measure.py samples the tree every 100 ms from /proc (utime+stime+cutime+cstime of',
  '  every process of the tree, so a process that ended is still counted in its parent, plus the orphans it reaped), and',
  '  timestamps each result line the command prints; a page\'s Chromium CPU is the tree\'s CPU between the result line of',
  '  the page before and its own, less the system\'s own CPU; "procs" is the most processes of the tree (the command',
  '  itself and zombies not counted) sampled in that window.');
L.push('- **RSS**: VmHWM (the kernel\'s high-water mark of resident memory) of the snapcat or node process itself, children',
  '  not included, sampled every 20 ms until exit.');
L.push('- **pixels**: `pngcmp` (pngcmp.c, libpng) decodes both PNGs to RGBA and counts differing pixels; different sizes',
  '  count every pixel only one image has. Every system\'s PNG is compared with puppeteer\'s. For a page that differs, each',
  '  system\'s PNG is also compared with its own of the round before: a page that does not reproduce itself draws something',
  `  random or time-dependent. Crops of the first difference (snapcat vs puppeteer): ${WORK.startsWith(here + '/') ? `tests/bench/${path.relative(here, WORK)}` : WORK}/diff/rR-N-{a,b,diff}.png.`,
  '  "Static" pages are those corpus.txt does not mark `perpetual:`.');
L.push(`- **tall pages**: pages whose PNG is ≥ 30,000 px tall; ratio = sum over them of snapcat's per-page time over puppeteer's`,
  `  (medians of rounds at concurrency ${C}, where a page shares the machine with the other tab; and the one-tab pass).`);
L.push('');
const report = L.join('\n');

// keep a hand-written analysis section of an earlier RESULTS.md
let keep = '';
try {
  const old = fs.readFileSync(RESULTS, 'utf8');
  const k = old.indexOf('<!-- analysis -->');
  if (k >= 0) keep = '\n' + old.slice(k);
} catch { /* first run */ }
fs.writeFileSync(RESULTS, report + keep + (keep ? '' : '\n'));
process.stdout.write(report + '\n');
log(`report written to ${RESULTS}; raw data in ${path.join(WORK, 'runs.json')}`);
