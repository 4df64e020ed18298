// Progress within the screenshot stage (issue 17): a tall page's shot takes
// seconds, and its job.progress events move inside the stage's band
// (55..74, with eta_ms while the estimate runs; capture/capture_eta.c)
// instead of sitting at "screenshot · 55%"; the admin card shows them
// ("screenshot · 63% · ~9 s left"). A short page's screenshot stage gets
// no extra events. Screenshots go to $SNAPCAT_SHOTS (default: a temp dir).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFixture, startSnapcat, capture, ofJob } from './lib/harness.js';
import { openEventSource } from './lib/clients.js';
import { launchChromium } from './lib/chromium.js';

let fx;
let srv;
let sse;
let chromium;
let page;
const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-shotprog-'));

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat(['--timeout', '400'], { name: 'shotprog' });
  sse = openEventSource(`${srv.base}/api/events?types=job.started,job.progress,job.done,job.failed`, 'sse');
  await sse.waitOpen();
  chromium = await launchChromium('shotprog');
  page = await chromium.newPage();
});

after(async () => {
  sse?.close();
  await chromium?.close();
  await srv?.stop();
  await fx?.stop();
});

const ended = (job) => (e) => e.job === job && (e.type === 'job.done' || e.type === 'job.failed');
// the screenshot stage's events of the job's last attempt (a loaded machine
// may need another)
const inShot = (ev) => ev.slice(ev.map((e) => e.type).lastIndexOf('job.started'))
  .filter((e) => e.type === 'job.progress' && e.stage === 'screenshot');

test('a tall page: the screenshot stage moves, and the admin card shows it', async () => {
  await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
  const { job } = await capture(srv, fx.url('/tall?h=60000'));
  // the card, while the shot runs: "screenshot · 58% · ~12 s left"
  const label = `#grid article.card .progress-label`;
  await page.waitForFunction((sel) => {
    const e = document.querySelector(sel);
    return e && /^screenshot · (5[6-9]|6\d|7[0-4])% · ~\d+ s left$/.test(e.textContent);
  }, { timeout: 400000, polling: 50 }, label);
  const text = await page.$eval(label, (e) => e.textContent);
  const p = path.join(shots, 'shot-progress-card.png');
  await page.screenshot({ path: p });
  console.error(`# screenshot: ${p} (${text})`);

  const end = await sse.log.waitFor(ended(job.id), 400000, 'the tall capture ends');
  assert.equal(end.type, 'job.done', JSON.stringify(end));
  const shot = inShot(ofJob(sse.log.events, job.id));
  const pcts = shot.map((e) => e.progress);
  const distinct = [...new Set(pcts)];
  assert.ok(distinct.length >= 3, `at least 3 distinct percents in the stage: ${pcts}`);
  for (let i = 1; i < pcts.length; i++) assert.ok(pcts[i] >= pcts[i - 1], `nondecreasing: ${pcts}`);
  assert.ok(pcts.every((x) => x >= 55 && x < 75), `within the band 55..74: ${pcts}`);
  assert.ok(shot.some((e) => typeof e.eta_ms === 'number' && e.eta_ms > 0),
    `an estimate of the time left: ${JSON.stringify(shot)}`);
  for (const e of shot) assert.deepEqual(Object.keys(e).filter((k) => !k.startsWith('_')).sort(),
    ['id', 'type', 'ts', 'job', 'link', 'stage', 'progress',
      ...(e.progress > 55 || 'eta_ms' in e ? ['elapsed_ms'] : []), ...('eta_ms' in e ? ['eta_ms'] : [])].sort(),
    `the event's fields: ${e._raw}`);
});

test('a tall page in tiles: "tile k of n" in the events', async () => {
  const srv2 = await startSnapcat(['--timeout', '400', '--shot-pixels', String(1280 * 16384)],
    { name: 'shotprog-tiles' });
  const sse2 = openEventSource(`${srv2.base}/api/events?types=job.started,job.progress,job.done,job.failed`, 'sse2');
  try {
    await sse2.waitOpen();
    const { job } = await capture(srv2, fx.url('/tall?h=60000'));
    const end = await sse2.log.waitFor(ended(job.id), 400000, 'the tiled capture ends');
    assert.equal(end.type, 'job.done', JSON.stringify(end));
    const shot = inShot(ofJob(sse2.log.events, job.id));
    const tiles = shot.map((e) => e.detail).filter(Boolean);
    assert.ok(tiles.length >= 2, `tile notes: ${JSON.stringify(shot)}`);
    assert.ok(tiles.every((d) => /^tile [1-4] of 4$/.test(d)), tiles.join('|'));
    assert.ok(new Set(tiles).size >= 2, `the tile moves: ${tiles.join('|')}`);
  } finally {
    sse2.close();
    await srv2.stop();
  }
});

test('a short page: no extra events in the screenshot stage', async () => {
  const { job } = await capture(srv, fx.url('/tall?h=2000'));
  const end = await sse.log.waitFor(ended(job.id), 400000, 'the short capture ends');
  assert.equal(end.type, 'job.done', JSON.stringify(end));
  const shot = inShot(ofJob(sse.log.events, job.id));
  assert.ok(shot.length <= 1, `one event at most (the stage's start): ${JSON.stringify(shot)}`);
  assert.ok(shot.every((e) => e.progress === 55 && !('eta_ms' in e) && !('detail' in e) &&
    !('elapsed_ms' in e)), JSON.stringify(shot));
});
