// The visual archive against the real server and Chromium: a page that
// changes between two captures gives a non-zero diff with the right box, a
// diff image and a snapshot.changed event; an unchanged page gives zero, no
// event, and its PNG is stored once (a hard link to the identical file);
// the same pixels under another link are stored once too, and deleting the
// first link leaves the other's PNG whole.
//
// The fixture's /version page has a 100x40 px square at (200, 300) whose
// colour follows a version the test sets (/version?set=N).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startFixture, startSnapcat, capture, request } from './lib/harness.js';
import { openEventSource } from './lib/clients.js';
import { decodePng } from './lib/png.js';

let fx;
let srv;
let es;

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'archive' });
  es = openEventSource(`${srv.base}/api/events`, 'archive');
  await es.waitOpen();
});

after(async () => {
  es?.close();
  await srv?.stop();
  await fx?.stop();
});

async function setVersion(v) {
  const r = await fetch(fx.url(`/version?set=${v}`));
  assert.equal(r.status, 200);
}

/** Wait for the job's job.done, then its link.updated (the last event of
 *  a finished capture), and return the snapshot's JSON. */
async function finished(job, link) {
  const done = await es.log.waitFor((e) => e.type === 'job.done' && e.job === job, 120000,
    `job.done of job ${job}`);
  await es.log.waitFor((e) => e.type === 'link.updated' && e.link === link && e.id > done.id,
    10000, `link.updated of link ${link}`);
  const r = await request(srv.base, 'GET', `/api/snapshots/${done.snapshot}`);
  assert.equal(r.status, 200, r.body);
  return r.json;
}

async function recapture(link) {
  const r = await request(srv.base, 'POST', `/api/links/${link}/snapshots`, {});
  assert.equal(r.status, 202, r.body);
  return finished(r.json.job.id, link);
}

async function png(url) {
  const r = await fetch(srv.base + url);
  assert.equal(r.status, 200, url);
  return decodePng(Buffer.from(await r.arrayBuffer()));
}

const snapFile = (s, name = 'page.png') =>
  path.join(srv.dir, 'data', 'snapshots', String(s.link_id), String(s.id), name);

let link1;
let s2;

test('a page that changed: its box, a diff image and snapshot.changed', async () => {
  await setVersion(1);
  const added = await capture(srv, fx.url('/version'), ['archive']);
  link1 = added.link.id;
  const s1 = await finished(added.job.id, link1);
  assert.equal(s1.state, 'ok');
  assert.equal(s1.diff, null, 'the first snapshot has nothing to compare with');
  assert.match(s1.sha256, /^[0-9a-f]{64}$/);
  assert.equal(s1.png_reused, false);
  assert.deepEqual((await png(s1.png_url)).px(250, 320).slice(0, 3), [0, 0, 255]);

  await setVersion(2);
  s2 = await recapture(link1);
  assert.deepEqual((await png(s2.png_url)).px(250, 320).slice(0, 3), [255, 0, 0],
    'the second capture shows the new colour');
  const canvas = s2.width * s2.height;
  const want = { against: s1.id, changed_pixels: 4000, boxes: [[200, 300, 100, 40]] };
  assert.equal(s2.diff.against, want.against);
  assert.equal(s2.diff.changed_pixels, want.changed_pixels);
  assert.deepEqual(s2.diff.boxes, want.boxes);
  assert.ok(Math.abs(s2.diff.ratio - 4000 / canvas) < 1e-9, `ratio ${s2.diff.ratio}`);
  assert.notEqual(s2.sha256, s1.sha256);
  assert.equal(s2.png_reused, false);

  const ev = es.log.find((e) => e.type === 'snapshot.changed' && e.snapshot === s2.id);
  assert.ok(ev, 'a snapshot.changed event');
  assert.equal(ev.link, link1);
  assert.equal(ev.against, s1.id);
  assert.equal(ev.changed_pixels, 4000);
  assert.deepEqual(ev.boxes, want.boxes);
  assert.ok(ev.ratio > 0.001);

  // the diff image: the change solid highlight, the rest the page faded
  assert.match(s2.diff.image_url, new RegExp(`/api/snapshots/${s2.id}/diff.png$`));
  const d = await png(s2.diff.image_url);
  assert.deepEqual([d.width, d.height], [s2.width, s2.height]);
  assert.deepEqual(d.px(250, 320).slice(0, 3), [255, 0, 68], 'changed pixel: highlight');
  assert.deepEqual(d.px(199, 320).slice(0, 3), d.px(1000, 700).slice(0, 3),
    'unchanged white stays one faded colour');
  const grey = d.px(100, 150); // the #808080 block, faded toward white
  assert.ok(grey[0] > 128 && grey[0] < 255 && grey[0] === grey[1] && grey[1] === grey[2],
    `faded block ${grey}`);
});

test('an unchanged page: ratio 0, no snapshot.changed, the PNG stored once', async () => {
  const s3 = await recapture(link1);
  assert.equal(s3.diff.against, s2.id);
  assert.equal(s3.diff.ratio, 0);
  assert.equal(s3.diff.changed_pixels, 0);
  assert.deepEqual(s3.diff.boxes, []);
  assert.equal(s3.diff.image_url, null);
  assert.equal(s3.sha256, s2.sha256);
  assert.equal(s3.png_reused, true);
  assert.equal(es.log.find((e) => e.type === 'snapshot.changed' && e.snapshot === s3.id), undefined);
  const a = fs.statSync(snapFile(s2));
  const b = fs.statSync(snapFile(s3));
  assert.equal(b.ino, a.ino, 'one file on disk (hard link)');
  assert.ok(b.nlink >= 2);
  assert.deepEqual((await png(s3.png_url)).px(250, 320).slice(0, 3), [255, 0, 0]);
});

test('the same pixels under another link are stored once; deleting the first link keeps them', async () => {
  const added = await capture(srv, fx.url('/version?copy=1'), ['archive']);
  const s4 = await finished(added.job.id, added.link.id);
  assert.equal(s4.diff, null);
  assert.equal(s4.sha256, s2.sha256);
  assert.equal(s4.png_reused, true);
  assert.equal(fs.statSync(snapFile(s4)).ino, fs.statSync(snapFile(s2)).ino);

  const del = await request(srv.base, 'DELETE', `/api/links/${link1}`);
  assert.equal(del.status, 204, del.body);
  assert.ok(!fs.existsSync(snapFile(s2)), 'the deleted link\'s files are gone');
  const p = await png(s4.png_url);
  assert.deepEqual([p.width, p.height], [s4.width, s4.height]);
  assert.deepEqual(p.px(250, 320).slice(0, 3), [255, 0, 0]);
  assert.equal(fs.statSync(snapFile(s4)).nlink, 1);
});
