// Scheduled recapture and retention against the real server and Chromium:
// a link "every 10s" is captured again by itself (job.queued with
// scheduled: true), keep_last prunes old snapshots and their files, a tag's
// schedule applies to its links, a bad spec is a 400 that says why, and the
// schedule survives a restart (the due time is in the catalog).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startFixture, startSnapcat, capture, request } from './lib/harness.js';
import { openEventSource } from './lib/clients.js';

let fx;
let srv;
let es;

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'schedule' });
  es = openEventSource(`${srv.base}/api/events`, 'schedule');
  await es.waitOpen();
});

after(async () => {
  es?.close();
  await srv?.stop();
  await fx?.stop();
});

const scheduledJob = (log, link, after, ms) => log.waitFor((e) => e.type === 'job.queued' &&
  e.link === link && e.scheduled === true && e.id > after, ms, `a scheduled job for link ${link}`);
const jobDone = (log, job, ms = 120000) => log.waitFor((e) => e.type === 'job.done' && e.job === job,
  ms, `job.done of job ${job}`);
const snapshots = async (link) => (await request(srv.base, 'GET', `/api/links/${link}/snapshots`)).json.items;

test('a bad schedule is a 400 that says why', async () => {
  const { link, job } = await capture(srv, fx.url('/final?n=bad'), []);
  await jobDone(es.log, job.id);
  for (const [body, field] of [[{ schedule: 'often' }, 'schedule'], [{ schedule: 'every 1s' }, 'schedule'],
    [{ schedule: '61 * * * *' }, 'schedule'], [{ schedule: 'daily', keep_last: -1 }, 'keep_last'],
    [{ keep_changed: 'yes' }, 'keep_changed']]) {
    const r = await request(srv.base, 'PUT', `/api/links/${link.id}/schedule`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.field, field, r.body);
    assert.ok(r.json.error.message.length > 10, r.body);
  }
  const none = await request(srv.base, 'GET', `/api/links/${link.id}/schedule`);
  assert.deepEqual(none.json, { schedule: null, keep_last: null, keep_changed: false,
    from_tags: null, next_capture_at: null });
});

test('"every 10s" captures again by itself; keep_last 2 prunes the oldest snapshot and its files', async () => {
  const { link, job } = await capture(srv, fx.url('/version?n=sched'), ['watch']);
  const done1 = await jobDone(es.log, job.id);
  const before = Date.now();
  const put = await request(srv.base, 'PUT', `/api/links/${link.id}/schedule`,
    { schedule: 'every 10s', keep_last: 2 });
  assert.equal(put.status, 200, put.body);
  assert.equal(put.json.schedule, 'every 10s');
  assert.equal(put.json.keep_last, 2);
  const next = Date.parse(put.json.next_capture_at);
  assert.ok(next > before - 1000 && next <= before + 10500, put.body);
  const got = await request(srv.base, 'GET', `/api/links/${link.id}`);
  assert.equal(got.json.schedule.schedule, 'every 10s');

  const q1 = await scheduledJob(es.log, link.id, done1.id, 30000);
  const d2 = await jobDone(es.log, q1.job);
  const q2 = await scheduledJob(es.log, link.id, d2.id, 30000);
  assert.ok(q2._at - q1._at > 7000, `runs ${q2._at - q1._at} ms apart`);
  const d3 = await jobDone(es.log, q2.job);
  await es.log.waitFor((e) => e.type === 'link.updated' && e.link === link.id && e.id > d3.id, 10000,
    'link.updated after the third capture');
  const snaps = await snapshots(link.id);
  assert.deepEqual(snaps.map((s) => s.id), [d3.snapshot, d2.snapshot], 'the newest two are kept');
  const dir1 = path.join(srv.dir, 'data', 'snapshots', String(link.id), String(done1.snapshot));
  assert.ok(!fs.existsSync(dir1), `${dir1} removed`);
  const png = await fetch(`${srv.base}/api/snapshots/${done1.snapshot}/png`);
  assert.equal(png.status, 404);

  const off = await request(srv.base, 'PUT', `/api/links/${link.id}/schedule`, { schedule: null });
  assert.equal(off.status, 200, off.body);
  assert.equal(off.json.next_capture_at, null);
});

test('a tag schedule applies to its links; it survives a restart', async () => {
  const { link, job } = await capture(srv, fx.url('/final?n=tagged'), ['nightly']);
  const d1 = await jobDone(es.log, job.id);
  const put = await request(srv.base, 'PUT', '/api/tags/nightly/schedule', { schedule: 'every 10s' });
  assert.equal(put.status, 200, put.body);
  assert.deepEqual([put.json.tag, put.json.schedule, put.json.links], ['nightly', 'every 10s', 1]);
  const q = await scheduledJob(es.log, link.id, d1.id, 30000);
  await jobDone(es.log, q.job);
  const l = (await request(srv.base, 'GET', `/api/links/${link.id}`)).json;
  assert.equal(l.schedule.schedule, null);
  assert.equal(l.schedule.from_tags, 'every 10s');
  assert.ok(l.schedule.next_capture_at);
  assert.equal((await request(srv.base, 'PUT', '/api/tags/nosuchtag/schedule', { schedule: 'daily' })).status, 404);

  // restart on the same data: the next run still comes
  es.close();
  const dataDir = path.join(srv.dir, 'data');
  srv.proc.kill('SIGTERM');
  await new Promise((r) => (srv.exitCode !== null ? r() : srv.proc.once('exit', r)));
  const old = srv;
  srv = await startSnapcat(['--data', dataDir], { name: 'schedule2' });
  es = openEventSource(`${srv.base}/api/events`, 'schedule2');
  await es.waitOpen();
  const again = await scheduledJob(es.log, link.id, 0, 30000);
  await jobDone(es.log, again.job);
  fs.rmSync(old.dir, { recursive: true, force: true });
});
