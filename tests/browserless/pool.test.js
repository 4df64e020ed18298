// `snapcat serve` with a pool of a real browserless (token, CONCURRENT 2,
// its queue, its default 30 s session TIMEOUT) and a local Chromium: the browserless
// endpoint gets a connection per job (detected: ws://host:port?token=T is
// not Chromium's /devtools/browser/ID), so no job is cut by its TIMEOUT
// though the run lasts longer; snapcat lets 3 jobs at once go to it (over
// its CONCURRENT: browserless queues the third, a wait, not a failure);
// every PNG is 1280x800 with the right pixels. Then browserless is killed
// mid-run: its jobs move to the local Chromium, none is lost, none fails;
// brought back on the same port, it rejoins and takes jobs again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSnapcat, request, waitUntil } from '../node/lib/harness.js';
import { decodePng } from '../node/lib/png.js';
import { Browserless } from './lib/browserless.js';
import { startPages, checkShot } from './lib/pages.js';

const TIMEOUT = 30000;
let bl;
let pages;
let srv;

before(async () => {
  pages = await startPages();
  bl = await new Browserless({ concurrent: 2, queued: 10, timeout: TIMEOUT }).start();
  srv = await startSnapcat(['--concurrency', '5', '--attempts', '3',
    '--browser', `${bl.ws()},max=3`, '--browser', 'auto,max=2'], { name: 'bl-pool' });
});

after(async () => {
  await srv?.stop();
  await bl?.stop();
  await pages?.stop();
});

const browsers = async () => (await request(srv.base, 'GET', '/api/browsers')).json;

async function submit(n, ms) {
  const r = await request(srv.base, 'POST', '/api/links', { url: pages.url(n, ms) });
  assert.equal(r.status, 201, r.body);
  return { n, job: r.json.job.id };
}

const jobOf = async (id) => {
  const r = await request(srv.base, 'GET', `/api/jobs/${id}`);
  return r.json.job ?? r.json;
};

/** Wait until every job is done or failed; returns their JSON. */
async function settle(jobs, ms) {
  let out;
  await waitUntil(async () => {
    out = await Promise.all(jobs.map((j) => jobOf(j.job)));
    return out.every((j) => j.state === 'done' || j.state === 'failed' || j.state === 'canceled');
  }, ms, `${jobs.length} jobs to finish`, 250);
  return out;
}

async function checkAllDone(jobs, got) {
  for (const [i, j] of got.entries()) {
    assert.equal(j.state, 'done', `page ${jobs[i].n}: ${JSON.stringify(j)}\n${srv.logTail(30)}`);
    const sid = j.snapshot_id ?? j.snapshot;
    const r = await fetch(`${srv.base}/api/snapshots/${sid}/png`);
    assert.equal(r.status, 200);
    const png = decodePng(Buffer.from(await r.arrayBuffer()));
    assert.deepEqual(checkShot(png, jobs[i].n), [], `page ${jobs[i].n} (job ${j.id})`);
  }
}

test('browserless + local: widths, pixels, over its limit, past its TIMEOUT', { timeout: 600000 }, async () => {
  await waitUntil(async () => (await browsers()).healthy === 2, 120000, 'both endpoints healthy', 250);
  const t0 = Date.now();
  // batches of 8 jobs of ~1.5 s each until the run outlasts browserless's
  // TIMEOUT (one shared connection would have been cut by then)
  let peak = 0;
  const tick = setInterval(async () => {
    const b = await browsers().catch(() => null);
    if (b) peak = Math.max(peak, b.items[0].running);
  }, 200);
  const jobs = [];
  const got = [];
  try {
    for (let n = 1; Date.now() - t0 < TIMEOUT + 5000; n += 8) {
      const batch = [];
      for (let k = n; k < n + 8; k++) batch.push(await submit(k, 1500));
      jobs.push(...batch);
      got.push(...await settle(batch, 300000));
    }
  } finally { clearInterval(tick); }
  await checkAllDone(jobs, got);
  const b = await browsers();
  assert.equal(b.items[0].kind, 'remote');
  assert.equal(b.items[0].losses, 0, `browserless connection lost: ${b.items[0].last_error}`);
  assert.equal(b.items[0].failures, 0, `browserless failed: ${b.items[0].last_error}`);
  assert.ok(b.items[0].jobs >= 4, `browserless ran ${b.items[0].jobs} jobs`);
  assert.ok(peak >= 3, `at most ${peak} jobs at once on browserless (CONCURRENT 2: the third waits in its queue)`);
  assert.doesNotMatch(JSON.stringify(b), new RegExp(bl.token));
});

test('browserless killed mid-run: its jobs move, none lost; back: it rejoins', { timeout: 600000 }, async () => {
  const before = (await browsers()).items[0].jobs;
  const jobs = [];
  for (let n = 130; n < 144; n++) jobs.push(await submit(n, 2500));
  // a job of this run holds a browserless session (connected, capturing)
  await waitUntil(async () => {
    const e = (await browsers()).items[0];
    return e.jobs >= before + 2 && e.running >= 1;
  }, 120000, 'jobs running on browserless', 100);
  await bl.kill();
  const got = await settle(jobs, 420000);
  await checkAllDone(jobs, got);
  let b = await browsers();
  assert.ok(b.items[0].jobs > before, 'browserless had jobs of this run');
  assert.ok(b.items[1].jobs > 0);
  assert.equal(b.items[0].healthy, false, 'browserless is down');
  await bl.start(); // same port, same token
  await waitUntil(async () => (await browsers()).items[0].healthy, 180000, 'browserless healthy again', 250);
  const after = (await browsers()).items[0].jobs;
  const more = [];
  for (let n = 150; n < 156; n++) more.push(await submit(n, 1500));
  await checkAllDone(more, await settle(more, 300000));
  b = await browsers();
  assert.ok(b.items[0].jobs > after, `browserless rejoined but took no job (${b.items[0].jobs})`);
});
