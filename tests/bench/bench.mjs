// The benchmark driver (run by tests/bench/run, which installs what it needs
// first). Serves the corpus on 127.0.0.1, captures it with snapcat and with the
// puppeteer-core peer in alternating order over several rounds, compares the
// PNGs pixel by pixel, prints the figures and writes RESULTS.md.
//
// Environment (all optional):
//   SNAPCAT_BIN        snapcat binary (run sets it)          default ../../build-bench/snapcat
//   PNGCMP_BIN         the pixel comparer built from pngcmp.c default WORK/pngcmp
//   BENCH_ROUNDS       rounds (each: both systems, one after the other)   3
//   BENCH_CONCURRENCY  tabs in parallel for both systems                  2
//   BENCH_PAGES        capture only the first N pages of corpus.txt       all
//   BENCH_WORK         output directory (PNG/MHTML, logs, diff crops)     tests/bench/out
//   BENCH_KEEP=1       keep every round's files (default: the last round's only)
//   BENCH_RESULTS      where to write the report         tests/bench/RESULTS.md
//   BENCH_TALL_RUN=0   skip the run of each system alone (one tab) on the tall pages
//   BENCH_TIMEOUT      per-page deadline in s of both systems (snapcat --timeout)  180
//   BENCH_COMMAND      the command line to quote in the report
//   BENCH_NETNS        set by run when it runs us in a loopback-only netns
//   CHROMIUM           the browser of both systems               /usr/bin/chromium
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS || 3);
const C = Number(env.BENCH_CONCURRENCY || 2);
const WORK = path.resolve(env.BENCH_WORK || path.join(here, 'out'));
const SNAPCAT = path.resolve(env.SNAPCAT_BIN || path.join(root, 'build-bench/snapcat'));
const PNGCMP = path.resolve(env.PNGCMP_BIN || path.join(WORK, 'pngcmp'));
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const RESULTS = path.resolve(env.BENCH_RESULTS || path.join(here, 'RESULTS.md'));
const TALL = 30000;
// per-page deadline of both systems: generous, so that a loaded machine does not turn slow pages into failures
const TIMEOUT_S = Number(env.BENCH_TIMEOUT || 180);
const RESOLVER = '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1';

const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// ---- the flags: snapcat's own list, read from its source, for both systems
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

const readLines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// One system, one round: returns { measure, pages: [by n] }.
async function capture(system, round, urls, dir, launch, conc = C) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const mjson = `${dir}.measure.json`, outf = `${dir}.stdout`, errf = `${dir}.stderr`;
  let args;
  if (system === 'snapcat') {
    args = [SNAPCAT, 'capture', '--concurrency', String(conc), '--timeout', String(TIMEOUT_S), '--out', dir, `--browser-arg=${RESOLVER}`, ...urls];
  } else {
    args = [process.execPath, path.join(here, 'peer.mjs'), '--out', dir, '--concurrency', String(conc), '--timeout', String(TIMEOUT_S),
      '--chromium', CHROMIUM, ...launch.flags.map((f) => `--arg=${f}`), `--arg=${RESOLVER}`, ...urls];
  }
  const load0 = loadavg();
  const code = await run('python3', [path.join(here, 'measure.py'), mjson, ...args],
    { stdout: outf, stderr: errf, extraEnv: { SNAPCAT_CHROMIUM: CHROMIUM } });
  const measure = JSON.parse(fs.readFileSync(mjson, 'utf8'));
  const lines = readLines(outf);
  const pages = [];
  for (const l of lines) if (l.n) pages[l.n - 1] = l;
  const summary = lines.find((l) => l.summary)?.summary || null;
  const ok = pages.filter((p) => p && (!p.error || p.error.class === 'http_status')).length;
  return { system, round, code, measure, pages, summary, ok, load0, load1: loadavg() };
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
const corpus = fs.readFileSync(path.join(here, 'corpus.txt'), 'utf8').split('\n')
  .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  .slice(0, env.BENCH_PAGES ? Number(env.BENCH_PAGES) : undefined);
const launch = launchFlags();
fs.mkdirSync(WORK, { recursive: true });
fs.rmSync(path.join(WORK, 'diff'), { recursive: true, force: true });
fs.mkdirSync(path.join(WORK, 'diff'), { recursive: true });
if (!fs.existsSync(SNAPCAT)) throw new Error(`no snapcat binary at ${SNAPCAT} (set SNAPCAT_BIN)`);
if (!fs.existsSync(PNGCMP)) throw new Error(`no pngcmp at ${PNGCMP} (tests/bench/run builds it)`);

const srv = await startServer();
const base = `http://127.0.0.1:${srv.port}`;
const urls = corpus.map((p) => base + p);
const label = (i) => corpus[i].replace(/^\/usr\/share\/doc\//, '').replace(/^\/npm\//, 'npm:').replace(/\/index\.html$/, '/')
  .replace('libjs-jquery-flot-docs/examples', 'flot');
log(`corpus: ${urls.length} pages on ${base}; ${ROUNDS} rounds at concurrency ${C}; work dir ${WORK}`);
log(`load average: ${loadavg()}`);

const tStart = Date.now();
// Warm-up (not measured): page cache for Chromium's binary and the corpus.
log('warm-up');
await capture('snapcat', 0, urls.slice(0, 2), path.join(WORK, 'warmup-snapcat'), launch);
await capture('peer', 0, urls.slice(0, 2), path.join(WORK, 'warmup-peer'), launch);

const runs = [];
const cmps = []; // [round][i]: snapcat's PNG vs the peer's
const selfCmp = { snapcat: [], peer: [] }; // [round][i]: a system's PNG vs its own of the round before
const roundDir = (r, sys) => path.join(WORK, `r${r}-${sys}`);
const pngOf = (r, sys, i) => path.join(roundDir(r, sys), `${i + 1}.png`);
for (let r = 1; r <= ROUNDS; r++) {
  const order = r % 2 ? ['snapcat', 'peer'] : ['peer', 'snapcat'];
  const res = {};
  for (const sys of order) {
    log(`round ${r}: ${sys}`);
    res[sys] = await capture(sys, r, urls, roundDir(r, sys), launch);
    const m = res[sys].measure;
    log(`round ${r}: ${sys}: ${res[sys].ok}/${urls.length} pages in ${m.wall_s} s ` +
      `(${fmt(res[sys].ok / m.wall_s * 60, 1)} pages/min), exit ${res[sys].code}, load ${res[sys].load0} -> ${res[sys].load1}`);
    runs.push(res[sys]);
  }
  log(`round ${r}: comparing PNGs`);
  const exists = (f) => fs.existsSync(f);
  cmps[r] = await pool(urls.map((_, i) => i), 2, async (i) => {
    const a = pngOf(r, 'snapcat', i), b = pngOf(r, 'peer', i);
    if (!exists(a) || !exists(b)) return { error: 'missing PNG' };
    return pngcmp(a, b, path.join(WORK, 'diff', `r${r}-${i + 1}`));
  });
  // A page whose PNGs differ: does each system even reproduce itself?
  if (r > 1) {
    for (const sys of ['snapcat', 'peer']) {
      selfCmp[sys][r] = await pool(urls.map((_, i) => i), 2, async (i) => {
        if (cmps[r][i].identical) return null;
        const a = pngOf(r - 1, sys, i), b = pngOf(r, sys, i);
        return exists(a) && exists(b) ? pngcmp(a, b) : null;
      });
    }
    if (!env.BENCH_KEEP) for (const sys of order) fs.rmSync(roundDir(r - 1, sys), { recursive: true, force: true });
  }
}

// Tall pages alone: each system with one tab on the tall pages only, so that
// a tall page's time is not mixed with the other tab's work; snapcat's peak
// RSS here is the RSS target's figure (the tallest page dominates it).
let tallRuns = null;
{
  const hs = corpus.map((_, i) => Math.max(0, ...runs.map((x) => x.pages[i]?.height || 0)));
  const idx = hs.map((h, i) => (h >= TALL ? i : -1)).filter((i) => i >= 0);
  if (env.BENCH_TALL_RUN !== '0' && idx.length) {
    tallRuns = { idx };
    const C1 = 1;
    for (const sys of ['snapcat', 'peer']) {
      log(`tall pages alone: ${sys} --concurrency ${C1} on ${idx.length} pages`);
      tallRuns[sys] = await capture(sys, 'tall', idx.map((i) => urls[i]), path.join(WORK, `tall-${sys}`), launch, C1);
    }
  }
}
srv.proc.kill('SIGTERM');
await new Promise((r) => srv.proc.on('exit', r));
const elapsed = (Date.now() - tStart) / 1000;

// ---------------------------------------------------------------- figures
const by = (sys) => runs.filter((x) => x.system === sys);
const S = by('snapcat'), P = by('peer');
const ppm = (x) => (x.ok / x.measure.wall_s) * 60;
const ppmS = median(S.map(ppm)), ppmP = median(P.map(ppm));
const ratio = ppmS / ppmP;
const good = (p) => p && (!p.error || p.error.class === 'http_status');
const heights = corpus.map((_, i) => Math.max(0, ...runs.map((x) => (good(x.pages[i]) ? x.pages[i].height : 0))));
const tallIdx = heights.map((h, i) => (h >= TALL ? i : -1)).filter((i) => i >= 0);
const shortIdx = heights.map((h, i) => (h < TALL ? i : -1)).filter((i) => i >= 0);

// pixels
const pageIdent = corpus.map((_, i) => {
  const c = [];
  for (let r = 1; r <= ROUNDS; r++) c.push(cmps[r][i]);
  return c;
});
const identAll = pageIdent.filter((c) => c.every((x) => x.identical)).length;
const pairs = pageIdent.flat();
const identPairs = pairs.filter((x) => x.identical).length;
const identShare = identAll / corpus.length;
// a page that one system does not reproduce from one round to the next
const unstable = (sys, i) => selfCmp[sys].some((rr) => rr && rr[i] && rr[i].identical === false);
const nondet = corpus.map((_, i) => unstable('peer', i) || unstable('snapcat', i));
const detIdx = corpus.map((_, i) => i).filter((i) => !nondet[i]);
const identDet = detIdx.filter((i) => pageIdent[i].every((x) => x.identical)).length;

// CPU, RSS
const cpuShare = (x) => x.measure.self_cpu_s / x.measure.browser_cpu_s;
const cpuS = median(S.map(cpuShare)), cpuP = median(P.map(cpuShare));
const util = (x) => x.measure.total_cpu_s / x.measure.wall_s / os.cpus().length;
const mib = (kb) => kb / 1024;
const rssMainS = Math.max(...S.map((x) => x.measure.peak_rss_kb));
const rssMainP = Math.max(...P.map((x) => x.measure.peak_rss_kb));
const rssTall = tallRuns ? tallRuns.snapcat.measure.peak_rss_kb : NaN;
const tallest = tallIdx.length ? tallIdx.reduce((a, b) => (heights[b] > heights[a] ? b : a)) : -1;

// per page times (median over rounds of the page's own total)
const tS = corpus.map((_, i) => median(S.map((x) => x.pages[i]?.timings?.total)));
const tP = corpus.map((_, i) => median(P.map((x) => x.pages[i]?.timings?.total)));
const tallRatio = sum(tallIdx.map((i) => tS[i])) / sum(tallIdx.map((i) => tP[i]));
// the same pages, each system alone with one tab
const t1 = (sys, k) => tallRuns?.[sys]?.pages[k]?.timings?.total;
const tallRatio1 = tallRuns ? sum(tallRuns.idx.map((_, k) => t1('snapcat', k))) / sum(tallRuns.idx.map((_, k) => t1('peer', k))) : NaN;

// per stage medians over (page, round) samples
const stageMed = (runsOf, idx, key) => median(runsOf.flatMap((x) => idx.map((i) => {
  const t = good(x.pages[i]) ? x.pages[i].timings : null;
  if (!t) return NaN; // failed captures have partial timings
  if (key === 'ready') return (t.load ?? NaN) + (t.settle ?? NaN);
  return t[key];
})));
const stageSum = (runsOf, idx, key) => median(runsOf.map((x) => sum(idx.map((i) => {
  const t = (good(x.pages[i]) && x.pages[i].timings) || {};
  return key === 'ready' ? (t.load || 0) + (t.settle || 0) : (t[key] || 0);
}))));
const sStages = ['setup', 'navigate', 'load', 'settle', 'ready', 'screenshot', 'mhtml', 'metadata', 'write', 'total'];
const pStages = ['setup', 'goto', 'screenshot', 'mhtml', 'write', 'close', 'total'];

const verdict = (met, how) => `${met ? '**met**' : '**not met**'} (${how})`;
const over = (x, lim) => (x > lim ? `; ${fmt((x / lim - 1) * 100)}% over ${lim}x` : '');
const targets = [
  ['pages/minute ≥ 2.0x the peer', verdict(ratio >= 2, `${fmt(ratio, 2)}x; ${ratio >= 2 ? `${fmt((ratio / 2 - 1) * 100)}% above` : `${fmt((1 - ratio / 2) * 100)}% short of`} 2.0x`)],
  ['≥ 95% of pages pixel-identical (the rest explained)', verdict(identShare >= 0.95, `${fmt(identShare * 100, 1)}%: ${identAll}/${corpus.length} pages in every round, ${identPairs}/${pairs.length} page-rounds; ` +
    `${identDet}/${detIdx.length} of the pages that both systems reproduce from round to round; ${corpus.length - detIdx.length} page(s) differ from themselves between rounds (see the per-page notes)`)],
  ['snapcat CPU ≤ 3% of Chromium\'s', verdict(cpuS <= 0.03, `${fmt(cpuS * 100, 2)}%${cpuS > 0.03 ? `, ${fmt(cpuS / 0.03, 2)}x the limit` : ''}`)],
  ['snapcat RSS ≤ 100 MB on an 80,000 px page', tallRuns ? verdict(mib(rssTall) <= 100, `${fmt(mib(rssTall), 1)} MiB peak, one tab on the tall pages, the tallest ${heights[tallest]} px; ${fmt(mib(rssMainS), 1)} MiB peak over the full runs at concurrency ${C}`) : 'not measured'],
  [`tall pages (≥ 30,000 px) ≤ 0.6x the peer's time`, verdict(tallRatio <= 0.6, `${fmt(tallRatio, 2)}x at concurrency ${C}${over(tallRatio, 0.6)}`) +
    (tallRuns ? `; ${verdict(tallRatio1 <= 0.6, `${fmt(tallRatio1, 2)}x with one tab, each system alone${over(tallRatio1, 0.6)}`)}` : '')],
];

// ---------------------------------------------------------------- report
let chromiumVersion = '?';
try { chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* */ }
const cpuModel = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || '?';
const memGiB = os.totalmem() / 2 ** 30;
const extReq = sum(P.map((x) => sum(x.pages.map((p) => p?.external?.length || 0))));
const serverLog = srv.stderr.trim().replace(/^serve: /, '');
const L = [];
const row = (cells) => L.push(`| ${cells.join(' | ')} |`);
const hdr = (cells, align) => { row(cells); L.push(`|${(align || cells.map(() => '---')).map((a) => (a === 'r' ? '---:' : a === 'l' ? ':---' : a)).join('|')}|`); };
const loads = [...runs, ...(tallRuns ? [tallRuns.snapcat, tallRuns.peer] : [])];
const maxLoad = Math.max(...loads.map((x) => Number(x.load0.split(' ')[0])));

L.push('# snapcat capture benchmark: results', '');
L.push(`Written by \`tests/bench/run\` on ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC (the whole run: ${fmt(elapsed / 60, 1)} min).`, '');
L.push('## Machine and command', '');
L.push(`- machine: ${os.cpus().length} CPUs (\`nproc\`: ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ${cpuModel}; ${fmt(memGiB, 1)} GiB memory; ${os.type()} ${os.release()}`);
L.push(`- browser: \`${chromiumVersion}\` (${CHROMIUM}) for both systems; node ${process.version}; puppeteer-core ${JSON.parse(fs.readFileSync(path.join(here, 'node_modules/puppeteer-core/package.json'), 'utf8')).version}`);
L.push(`- command: \`${env.BENCH_COMMAND || 'tests/bench/run'}\` (rounds ${ROUNDS}, concurrency ${C}, ${corpus.length} pages)`);
L.push(`- snapcat: \`${path.relative(root, SNAPCAT) || SNAPCAT}\` (\`snapcat capture --concurrency ${C} --timeout ${TIMEOUT_S} --out DIR --browser-arg='${RESOLVER}' URL...\`, all other options default; the peer gets the same ${TIMEOUT_S} s for \`goto\`)`);
L.push(`- peer: \`node tests/bench/peer.mjs\`: puppeteer-core, ignoreDefaultArgs, the same ${launch.flags.length} Chromium flags as snapcat (read from ${launch.from}) plus the same --host-resolver-rules, fresh --user-data-dir, viewport 1280x800`);
L.push(`- network: ${env.BENCH_NETNS ? 'the whole run in a private network namespace with only the loopback interface (no other route exists)' : 'host network namespace (BENCH_NETNS off)'}; both Chromiums resolve every host but 127.0.0.1 to an error; requests the peer saw to other hosts: ${extReq}; static server: ${serverLog || 'n/a'}`);
L.push(`- load average (1 min) before each timed run: ${loads.map((x) => `${x.system}/${x.round}: ${x.load0.split(' ')[0]}`).join(', ')}${maxLoad > 2.5 ? ' — **other work was running on this 2-core machine during the run: absolute figures are noisy; the alternating order spreads that over both systems**' : ''}`);
L.push('');

L.push('## Headline', '');
hdr(['', 'snapcat', 'peer (puppeteer-core)', 'ratio snapcat/peer'], ['l', 'r', 'r', 'r']);
row(['**pages/minute** (median of rounds)', fmt(ppmS, 1), fmt(ppmP, 1), `**${fmt(ratio, 2)}x**`]);
for (let r = 1; r <= ROUNDS; r++) {
  const a = S.find((x) => x.round === r), b = P.find((x) => x.round === r);
  row([`round ${r} (${r % 2 ? 'snapcat' : 'peer'} first): wall s (pages ok)`, `${fmt(a.measure.wall_s, 1)} (${a.ok})`, `${fmt(b.measure.wall_s, 1)} (${b.ok})`, `${fmt(ppm(a) / ppm(b), 2)}x`]);
}
row(['own CPU s / Chromium CPU s (median of rounds)', `${fmt(median(S.map((x) => x.measure.self_cpu_s)), 2)} / ${fmt(median(S.map((x) => x.measure.browser_cpu_s)), 1)}`, `${fmt(median(P.map((x) => x.measure.self_cpu_s)), 2)} / ${fmt(median(P.map((x) => x.measure.browser_cpu_s)), 1)}`, `${fmt(median(S.map((x) => x.measure.browser_cpu_s)) / median(P.map((x) => x.measure.browser_cpu_s)), 2)}x (Chromium)`]);
row(['**own CPU as a share of Chromium\'s**', `**${fmt(cpuS * 100, 2)}%**`, `${fmt(cpuP * 100, 2)}%`, '']);
row([`both cores busy (all CPU of the run / wall / ${os.cpus().length})`, `${fmt(median(S.map(util)) * 100)}%`, `${fmt(median(P.map(util)) * 100)}%`, '']);
row(['own peak RSS over the full runs (VmHWM)', `${fmt(mib(rssMainS), 1)} MiB`, `${fmt(mib(rssMainP), 1)} MiB`, '']);
row(['whole tree peak RSS incl. Chromium (sampled)', `${fmt(mib(Math.max(...S.map((x) => x.measure.tree_peak_rss_kb))), 0)} MiB`, `${fmt(mib(Math.max(...P.map((x) => x.measure.tree_peak_rss_kb))), 0)} MiB`, '']);
if (tallRuns) row([`**own peak RSS, one tab on the tall pages** (tallest: ${heights[tallest]} px)`, `**${fmt(mib(rssTall), 1)} MiB**`, `${fmt(mib(tallRuns.peer.measure.peak_rss_kb), 1)} MiB`, '']);
row([`**tall pages** (${tallIdx.length} pages ≥ 30,000 px), concurrency ${C}: sum of per-page medians`, `${fmt(sum(tallIdx.map((i) => tS[i])) / 1000, 1)} s`, `${fmt(sum(tallIdx.map((i) => tP[i])) / 1000, 1)} s`, `**${fmt(tallRatio, 2)}x**`]);
if (tallRuns) row(['**tall pages**, each system alone with one tab: sum of per-page times', `${fmt(sum(tallRuns.idx.map((_, k) => t1('snapcat', k))) / 1000, 1)} s`, `${fmt(sum(tallRuns.idx.map((_, k) => t1('peer', k))) / 1000, 1)} s`, `**${fmt(tallRatio1, 2)}x**`]);
row([`other pages (${shortIdx.length}): median per-page time`, `${fmt(median(shortIdx.map((i) => tS[i])) / 1000, 2)} s`, `${fmt(median(shortIdx.map((i) => tP[i])) / 1000, 2)} s`, `${fmt(median(shortIdx.map((i) => tS[i])) / median(shortIdx.map((i) => tP[i])), 2)}x`]);
row(['**pixel-identical PNGs** (in every round)', `**${identAll}/${corpus.length} pages (${fmt(identShare * 100, 1)}%)**; ${identDet}/${detIdx.length} of the pages both systems reproduce`, '', '']);
L.push('');

L.push('## Targets (issue 6)', '');
hdr(['target', 'result'], ['l', 'l']);
for (const [t, v] of targets) row([t, v]);
L.push('');

L.push('## Per-stage medians (ms, over every page and round)', '');
L.push('snapcat stages come from its JSON `timings` (`ready` = `load` + `settle`: from the navigation\'s',
  'commit to "ready to capture"); the peer\'s are timed around each puppeteer call (`goto` =',
  'navigate + load + networkidle0, i.e. navigate + ready). "sum/run" is the median over rounds of the',
  `stage summed over all pages of a run (tab-seconds, at concurrency ${C}).`, '');
hdr(['snapcat stage', 'median, pages < 30,000 px', 'median, tall pages', 'sum/run (s)'], ['l', 'r', 'r', 'r']);
for (const k of sStages) row([k, fmt(stageMed(S, shortIdx, k)), fmt(stageMed(S, tallIdx, k)), fmt(stageSum(S, corpus.map((_, i) => i), k) / 1000, 1)]);
L.push('');
hdr(['peer stage', 'median, pages < 30,000 px', 'median, tall pages', 'sum/run (s)'], ['l', 'r', 'r', 'r']);
for (const k of pStages) row([k, fmt(stageMed(P, shortIdx, k)), fmt(stageMed(P, tallIdx, k)), fmt(stageSum(P, corpus.map((_, i) => i), k) / 1000, 1)]);
L.push('');

if (tallRuns) {
  L.push('## Tall pages, each system alone with one tab (ms)', '');
  hdr(['page', 'height px', 'snapcat total', 'snapcat setup / ready / screenshot / mhtml / write', 'peer total', 'peer setup / goto / screenshot / mhtml / write', 'ratio'], ['l', 'r', 'r', 'r', 'r', 'r', 'r']);
  tallRuns.idx.forEach((i, k) => {
    const a = tallRuns.snapcat.pages[k]?.timings || {}, b = tallRuns.peer.pages[k]?.timings || {};
    row([label(i), heights[i], a.total, [a.setup, a.load + a.settle, a.screenshot, a.mhtml, a.write].join(' / '), b.total,
      [b.setup, b.goto, b.screenshot, b.mhtml, b.write].join(' / '), fmt(a.total / b.total, 2)]);
  });
  const ms = tallRuns.snapcat.measure, mp = tallRuns.peer.measure;
  L.push('', `Own CPU in these runs: snapcat ${fmt(ms.self_cpu_s, 2)} s of ${fmt(ms.browser_cpu_s, 1)} s Chromium (${fmt(ms.self_cpu_s / ms.browser_cpu_s * 100, 2)}%); ` +
    `node ${fmt(mp.self_cpu_s, 2)} s of ${fmt(mp.browser_cpu_s, 1)} s (${fmt(mp.self_cpu_s / mp.browser_cpu_s * 100, 2)}%). Wall: ${fmt(ms.wall_s, 1)} s vs ${fmt(mp.wall_s, 1)} s.`, '');
}

L.push('## Per page', '');
L.push('Times are each page\'s own total (median of rounds; at concurrency 2 they include contention',
  'with the other tab). "identical": rounds in which the two PNGs were pixel-identical; "differing px":',
  'the largest count of differing pixels over the rounds (same size: pixels that differ; other size:',
  'plus the pixels only one has).', '');
hdr(['#', 'page', 'height px', 'snapcat s', 'peer s', 'ratio', 'identical', 'differing px', 'PNG KB snapcat/peer', 'MHTML KB snapcat/peer', 'note'],
  ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
const lastS = S[S.length - 1], lastP = P[P.length - 1];
corpus.forEach((_, i) => {
  const c = pageIdent[i];
  const nId = c.filter((x) => x.identical).length;
  const maxDiff = Math.max(...c.map((x) => x.diff_pixels ?? NaN));
  const sizes = c.find((x) => !x.identical && !x.same_size && x.a);
  const a = lastS.pages[i], b = lastP.pages[i];
  const notes = new Set();
  for (const sys of ['peer', 'snapcat']) if (unstable(sys, i)) notes.add(`${sys}'s own PNG differs between rounds`);
  for (const x of S) if (x.pages[i]?.note) notes.add(`snapcat: ${x.pages[i].note.replace(/\d+ ms/, 'N ms')}`);
  for (const x of [...S, ...P]) if (x.pages[i]?.error) notes.add(`${x.system}: ${x.pages[i].error.class}: ${x.pages[i].error.message}`.slice(0, 120));
  if (sizes) notes.add(`sizes ${sizes.a.width}x${sizes.a.height} vs ${sizes.b.width}x${sizes.b.height}`);
  row([i + 1, label(i), fmt(heights[i]), fmt(tS[i] / 1000, 2), fmt(tP[i] / 1000, 2), fmt(tS[i] / tP[i], 2),
    `${nId}/${ROUNDS}${nId === ROUNDS ? '' : ' ✗'}`, nId === ROUNDS ? '0' : fmt(maxDiff),
    `${fmt((a?.bytes?.png || 0) / 1024)}/${fmt((b?.bytes?.png || 0) / 1024)}`,
    `${fmt((a?.bytes?.mhtml || 0) / 1024)}/${fmt((b?.bytes?.mhtml || 0) / 1024)}`, [...notes].join('; ')]);
});
L.push('');
L.push('## How the figures are measured', '');
L.push('- **pages/minute** = pages captured / wall time of the whole command (process start to exit: browser launch and',
  '  shutdown included for both), median over the rounds; the ratio is snapcat\'s median over the peer\'s.',
  '  Rounds alternate which system goes first; a warm-up capture of two pages by each precedes them.');
L.push('- **CPU**: each command runs under `measure.py`, a child subreaper, so every Chromium process ends up reaped',
  '  by its parent or by measure.py. Own CPU = utime+stime of the snapcat (or node) process itself (all its threads),',
  '  read from /proc/PID/stat while it is a zombie (waitid WNOWAIT); Chromium\'s = all CPU of the process tree',
  '  (RUSAGE_CHILDREN of measure.py after everything is reaped) minus that. (snapcat\'s own RUSAGE_CHILDREN would',
  '  miss the Chromium processes that are re-parented when their parent exits: measure.py reaps ~10 such per run.)');
L.push('- **RSS**: VmHWM (the kernel\'s high-water mark of resident memory) of the snapcat or node process itself, children',
  '  not included, sampled every 20 ms until exit. The RSS target is read from the run of snapcat alone with one tab',
  '  on the tall pages (its peak is reached on the tallest one).');
L.push('- **pixels**: `pngcmp` (pngcmp.c, libpng) decodes both PNGs to RGBA and counts differing pixels; different sizes',
  '  count every pixel only one image has. For a page that differs, each system\'s PNG is also compared with its own',
  `  of the round before: a page that does not reproduce itself draws something random or time-dependent. Crops of the`,
  `  first difference: ${WORK.startsWith(here + '/') ? `tests/bench/${path.relative(here, WORK)}` : WORK}/diff/rR-N-{a,b,diff}.png (a = snapcat, b = peer; diff: red = differing).`);
L.push(`- **tall pages**: pages whose PNG is ≥ 30,000 px tall; ratio = sum over them of snapcat's per-page time over the peer's`,
  `  (medians of rounds at concurrency ${C}, where a page shares the machine with the other tab; and one run of each`,
  '  system alone with one tab).');
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
fs.writeFileSync(path.join(WORK, 'runs.json'), JSON.stringify({ corpus, runs, cmps, selfCmp, tallRuns }, null, 1));
process.stdout.write(report + '\n');
log(`report written to ${RESULTS}; raw data in ${path.join(WORK, 'runs.json')}`);
