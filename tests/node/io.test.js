// Import / export and backup / restore against real servers (no mocks):
// the real Chrome bookmark export and a Firefox one (tests/fixtures/import/)
// through POST /api/import with the live import.progress / import.done
// events (npm eventsource), CSV and URL lists, the queue cap with
// capture=1, JSON and bookmark-HTML exports re-imported into fresh servers,
// a backup taken while captures run (sqlite3 integrity_check, every file
// present), `snapcat restore` into a fresh data dir served again (same
// links, same PNG bytes), and 20,000 generated bookmarks while /healthz
// and /api/links are timed (p50/p99/max printed as "# figures").
//
// Servers: A runs the real Chromium (captures, backup); the others get an
// unreachable --browser so that they start fast and never capture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';

import {
  startFixture, startSnapcat, waitUntil, request, requestRaw, capture, EventLog, SNAPCAT_BIN,
} from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIX = path.join(here, '..', 'fixtures', 'import');
const BARE = ['--browser', 'http://127.0.0.1:9'];
let fx;
let srvA;
const extra = [];

before(async () => {
  fx = await startFixture();
  srvA = await startSnapcat(['--concurrency', '2'], { name: 'io-a' });
});

after(async () => {
  for (const s of extra) await s.stop();
  await srvA?.stop();
  await fx?.stop();
});

async function bare(name, flags = []) {
  const s = await startSnapcat([...BARE, ...flags], { name });
  extra.push(s);
  return s;
}

/** POST raw bytes (a Buffer or a string); resolves {status, json, body, headers}. */
function post(srv, p, body, headers = {}) {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return requestRaw(srv.base, 'POST', p, data, { 'content-type': 'application/octet-stream', ...headers },
    http.globalAgent);
}

/** GET a body as a Buffer. */
function getBuf(srv, p) {
  return new Promise((resolve, reject) => {
    http.get(srv.base + p, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, buf: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

/** Subscribe to the given event types; returns {log, close}. */
function events(srv, types) {
  const es = new EventSource(`${srv.base}/api/events?types=${types.join(',')}`);
  const log = new EventLog(`events ${types.join(',')}`);
  for (const t of types) es.addEventListener(t, (e) => log.add({ ...JSON.parse(e.data), _at: Date.now() }));
  const opened = new Promise((r) => { es.onopen = r; });
  return { log, opened, close: () => es.close() };
}

async function startImport(srv, body, query = '') {
  const r = await post(srv, `/api/import${query}`, body);
  assert.equal(r.status, 202, `POST /api/import${query}: ${r.status} ${r.body}`);
  assert.ok(r.json.import.id > 0 && r.json.import.total >= 0, r.body);
  assert.equal(r.headers.location, `/api/imports/${r.json.import.id}`);
  return r.json.import;
}

async function finished(srv, id, ms = 60000) {
  let rep;
  await waitUntil(async () => {
    rep = (await request(srv.base, 'GET', `/api/imports/${id}`)).json?.import;
    return rep && rep.state !== 'running';
  }, ms, `import ${id} to end`, 50);
  return rep;
}

async function importAll(srv, body, query = '') {
  const started = await startImport(srv, body, query);
  return finished(srv, started.id);
}

/** Every link of a server: url -> {title, tags (sorted)}. */
async function allLinks(srv) {
  const out = new Map();
  let cursor = '';
  do {
    const r = await request(srv.base, 'GET', `/api/links?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.body);
    for (const l of r.json.items) out.set(l.url, {
      id: l.id, title: l.title, tags: [...l.tags].sort(), created_at: l.created_at, bookmarked_at: l.bookmarked_at,
    });
    cursor = r.json.next_cursor;
  } while (cursor);
  return out;
}

const skipOf = (rep, code) => rep.skipped_lines.filter((s) => s.code === code);

test('import the real Chrome export: folder tags, titles, skipped lines with reasons, live progress', async () => {
  const ev = events(srvA, ['import.progress', 'import.done']);
  await ev.opened;
  const html = fs.readFileSync(path.join(FIX, 'chrome-bookmarks.html'));
  const started = await startImport(srvA, html, '?tags=Chrome,imported');
  assert.equal(started.total, 11);
  assert.equal(started.format, 'html');
  const fin = await ev.log.waitFor((e) => e.import === started.id && e.type === 'import.done', 20000, 'import.done');
  const progress = ev.log.events.filter((e) => e.import === started.id && e.type === 'import.progress');
  ev.close();
  assert.ok(progress.length >= 1, 'import.progress events arrived');
  assert.ok(progress.every((p) => p.total === 11 && p.done <= 11), JSON.stringify(progress));
  assert.ok(fin.id > progress[progress.length - 1].id, 'import.done comes last');
  assert.equal(fin.state, 'done');
  assert.deepEqual([fin.added, fin.existing, fin.skipped, fin.done], [6, 0, 5, 11]);

  const rep = (await request(srvA.base, 'GET', `/api/imports/${started.id}`)).json.import;
  assert.equal(rep.state, 'done');
  assert.deepEqual(skipOf(rep, 'unsupported_scheme').map((s) => s.text).sort(),
    ['chrome://settings/', 'ftp://ftp.debian.org/debian/', 'javascript:window.print()']);
  assert.equal(skipOf(rep, 'duplicate').length, 2);
  for (const s of rep.skipped_lines) {
    assert.ok(s.line > 8 && s.reason.length > 10, JSON.stringify(s));
  }
  assert.match(skipOf(rep, 'unsupported_scheme')[0].reason, /scheme "\w+" is not supported/);

  const links = await allLinks(srvA);
  assert.deepEqual(links.get('https://developer.mozilla.org/en-US/').tags, ['chrome', 'dev docs', 'imported', 'reading']);
  assert.deepEqual(links.get('https://www.sqlite.org/backup.html').tags,
    ['chrome', 'dev docs', 'imported', 'nouvelles été', 'reading']);
  assert.deepEqual(links.get('https://example.org/').tags, ['chrome', 'imported'], 'the bookmark bar is not a tag');
  assert.equal(links.get('https://example.com/search?q=tom&lang=en').title, 'Tom & Jerry <"quotes"> and \'apostrophes\'');
  // when it was bookmarked: the file's ADD_DATE (1795725771 s), kept beside created_at
  assert.equal(links.get('https://developer.mozilla.org/en-US/').bookmarked_at, new Date(1795725771000).toISOString());

  // the same file again: every link exists, tags merged, nothing added
  const again = await importAll(srvA, html, '?tags=second');
  assert.deepEqual([again.added, again.existing], [0, 6]);
  assert.ok((await allLinks(srvA)).get('https://example.org/').tags.includes('second'));
});

test('import a Firefox export: TAGS, place: and credentials refused', async () => {
  const rep = await importAll(srvA, fs.readFileSync(path.join(FIX, 'firefox-bookmarks.html')), '?format=html');
  assert.deepEqual([rep.added, rep.skipped], [6, 5]);
  assert.equal(skipOf(rep, 'unsupported_scheme').find((s) => s.line === 12)?.text.slice(0, 6), 'place:');
  assert.equal(skipOf(rep, 'invalid_url').length, 1);
  const links = await allLinks(srvA);
  assert.deepEqual(links.get('https://lwn.net/').tags, ['linux', 'news', 'reading']);
  assert.deepEqual(links.get('https://git.example.net/snapcat/').tags, ['code', 'work & projects']);
});

test('CSV and URL-list imports; bad requests', async () => {
  const s = await bare('io-csv');
  const csv = 'Title,URL,Tags\r\n"Hello, ""world""",https://csv.example/a,x;y\r\n' +
    'B,https://csv.example/b,z|x\r\nC,mailto:someone@example.org,\r\n,,\r\n';
  const rc = await importAll(s, csv);
  assert.equal(rc.format, 'csv');
  assert.deepEqual([rc.added, rc.skipped], [2, 2]);
  assert.deepEqual(rc.skipped_lines.map((x) => [x.line, x.code]), [[4, 'unsupported_scheme'], [5, 'missing_url']]);
  const urls = '# reading list\nhttps://list.example/1 First\n\nhttps://list.example/2\nnot a url\nhttps://csv.example/a\n';
  const ru = await importAll(s, urls, '?format=urls&tag=list');
  assert.deepEqual([ru.added, ru.existing, ru.skipped], [2, 1, 1]);
  const links = await allLinks(s);
  assert.equal(links.get('https://csv.example/a').title, 'Hello, "world"');
  assert.deepEqual(links.get('https://csv.example/a').tags, ['list', 'x', 'y']);
  assert.equal(links.get('https://list.example/1').title, 'First');

  assert.equal((await post(s, '/api/import', '')).status, 400);
  assert.equal((await post(s, '/api/import?format=xml', 'x')).status, 400);
  assert.equal((await post(s, '/api/import?format=csv', 'title\nx\n')).status, 400);
  assert.equal((await post(s, '/api/import?format=json', '{"nope":1}')).status, 400);
  assert.equal((await request(s.base, 'GET', '/api/imports/999')).status, 404);
  // the body cap is per route: 2 MiB is fine here, 413 on other routes
  const big = Buffer.alloc(2 << 20, 0x20);
  assert.equal((await post(s, '/api/import?format=urls', big)).status, 202);
  assert.equal((await post(s, '/api/links', big)).status, 413);
});

test('capture=1 respects the queue cap: links over it are added without a job', async () => {
  const s = await bare('io-queue', ['--max-queue', '50']);
  const list = Array.from({ length: 200 }, (_, i) => `https://queue.example/${i}`).join('\n');
  const rep = await importAll(s, list, '?capture=1');
  assert.deepEqual([rep.added, rep.queued, rep.not_queued], [200, 50, 150]);
  const q = await request(s.base, 'GET', '/api/jobs?state=queued&limit=1000');
  assert.equal(q.json.items.length, 50);
});

test('export JSON -> import into a fresh server: same links, titles and tags; HTML export too', async () => {
  const exp = await getBuf(srvA, '/api/export?format=json');
  assert.equal(exp.status, 200);
  assert.match(exp.headers['content-disposition'], /^attachment; filename="snapcat-\d{4}-\d\d-\d\d\.json"$/);
  const doc = JSON.parse(exp.buf.toString('utf8'));
  assert.equal(doc.snapcat_export, 1);
  const before = await allLinks(srvA);
  assert.equal(doc.links.length, before.size);
  assert.ok(doc.tags.some((t) => t.name === 'dev docs'));

  const b = await bare('io-roundtrip');
  const rep = await importAll(b, exp.buf);
  assert.equal(rep.format, 'json');
  assert.deepEqual([rep.added, rep.skipped], [before.size, 0]);
  const after = await allLinks(b);
  assert.equal(after.size, before.size);
  for (const [url, l] of before) {
    assert.deepEqual(after.get(url)?.tags, l.tags, url);
    assert.equal(after.get(url)?.title, l.title, url);
    assert.equal(after.get(url)?.bookmarked_at, l.bookmarked_at ?? l.created_at, `bookmarked_at ${url}`);
  }
  // newest first in both (created_at order kept)
  assert.deepEqual([...after.keys()], [...before.keys()]);

  const html = await getBuf(srvA, '/api/export?format=html');
  assert.match(html.buf.toString('utf8'), /^<!DOCTYPE NETSCAPE-Bookmark-file-1>/);
  const c = await bare('io-html-back');
  const rh = await importAll(c, html.buf);
  assert.equal(rh.added, before.size);
  const back = await allLinks(c);
  const sec = (iso) => new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString();
  for (const [url, l] of before) {
    assert.deepEqual(back.get(url)?.tags, l.tags, `html round trip ${url}`);
    assert.equal(back.get(url)?.bookmarked_at, sec(l.bookmarked_at ?? l.created_at), `html ADD_DATE ${url}`);
  }
  const csv = await getBuf(srvA, '/api/export?format=csv&tag=reading');
  assert.match(csv.buf.toString('utf8'), /^url,title,tags,created_at,bookmarked_at\r\n/);
  assert.equal(csv.buf.toString('utf8').trim().split('\r\n').length - 1,
    [...before.values()].filter((l) => l.tags.includes('reading')).length);
});

test('backup while captures run, then restore into a fresh data dir and serve it', async () => {
  const first = await Promise.all([1, 2, 3].map((i) => capture(srvA, fx.url(`/tall?h=${1200 + i}`), ['shots'])));
  await waitUntil(async () => {
    const st = await Promise.all(first.map((f) => request(srvA.base, 'GET', `/api/jobs/${f.job.id}`)));
    return st.every((r) => r.json.state === 'done');
  }, 120000, 'the first captures to finish', 200);
  // more captures, and the backup while they run
  const ev = events(srvA, ['backup.progress', 'backup.done', 'backup.failed']);
  await ev.opened;
  const more = await Promise.all([4, 5, 6, 7].map((i) => capture(srvA, fx.url(`/tall?h=${2000 + i}`), ['later'])));
  const b = await request(srvA.base, 'POST', '/api/backup', {});
  assert.equal(b.status, 202, b.body);
  const done = await ev.log.waitFor((e) => e.backup === b.json.backup.id && e.path, 60000, 'backup.done');
  ev.close();
  assert.ok(done.catalog_bytes > 0 && done.missing === 0, JSON.stringify(done));
  assert.ok(done.files >= 9, `png+thumb+mhtml of 3 snapshots at least: ${JSON.stringify(done)}`);
  console.error(`# figures: backup ${done.catalog_bytes} B catalog + ${done.files} files ` +
    `(${done.files_bytes} B, ${done.linked} hard-linked) in ${done.ms} ms`);
  const running = await Promise.all(more.map((m) => request(srvA.base, 'GET', `/api/jobs/${m.job.id}`)));
  console.error(`# backup taken while jobs were: ${running.map((r) => r.json.state).join(',')}`);

  // the backup's own catalog: integrity_check, and every file it names exists
  const db = path.join(done.path, 'catalog.db');
  assert.equal(execFileSync('sqlite3', [db, 'PRAGMA integrity_check;']).toString().trim(), 'ok');
  const files = execFileSync('sqlite3', [db, 'SELECT png_path FROM snapshots WHERE png_path IS NOT NULL ' +
    'UNION ALL SELECT mhtml_path FROM snapshots WHERE mhtml_path IS NOT NULL ' +
    'UNION ALL SELECT thumb_path FROM snapshots WHERE thumb_path IS NOT NULL;']).toString().trim().split('\n').filter(Boolean);
  assert.ok(files.length >= 9);
  for (const f of files) assert.ok(fs.existsSync(path.join(done.path, f)), `missing in the backup: ${f}`);

  // restore: refused into a non-empty dir, fine into a fresh one
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-node-restore-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(data, 'junk'), 'x');
  assert.throws(() => execFileSync(SNAPCAT_BIN, ['restore', done.path, '--data', data], { stdio: 'pipe' }),
    (e) => e.status === 2 && /not empty/.test(e.stderr.toString()));
  fs.rmSync(data, { recursive: true });
  const out = execFileSync(SNAPCAT_BIN, ['restore', done.path, '--data', data]).toString();
  assert.match(out, /^restored: /);

  const backupLinks = execFileSync('sqlite3', [db, 'SELECT url FROM links ORDER BY id;']).toString().trim().split('\n');
  const r = await startSnapcat([...BARE, '--data', data], { name: 'io-restored' });
  extra.push(r);
  const restored = await allLinks(r);
  assert.deepEqual([...restored.keys()].sort(), [...backupLinks].sort());
  for (const f of first) {
    const snap = (await request(srvA.base, 'GET', `/api/jobs/${f.job.id}`)).json.snapshot_id;
    const orig = await getBuf(srvA, `/api/snapshots/${snap}/png`);
    const copy = await getBuf(r, `/api/snapshots/${snap}/png`);
    assert.equal(copy.status, 200);
    assert.ok(copy.buf.equals(orig.buf), `snapshot ${snap}: the restored PNG is the same bytes`);
    assert.equal(copy.buf.subarray(1, 4).toString(), 'PNG');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A Netscape bookmark file of n links in 50 folders (nested by 2). */
function bigBookmarks(n) {
  const out = ['<!DOCTYPE NETSCAPE-Bookmark-file-1>', '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">',
    '<TITLE>Bookmarks</TITLE>', '<H1>Bookmarks</H1>', '<DL><p>'];
  const per = Math.ceil(n / 50);
  for (let f = 0; f < 50; f++) {
    out.push(`    <DT><H3 ADD_DATE="1700000000">Group ${f % 10}</H3>`, '    <DL><p>');
    out.push(`        <DT><H3 ADD_DATE="1700000000">Folder ${f}</H3>`, '        <DL><p>');
    for (let i = f * per; i < Math.min(n, (f + 1) * per); i++) {
      out.push(`            <DT><A HREF="https://bulk${i % 97}.example/page/${i}?ref=x&amp;n=${i}" ADD_DATE="${1700000000 + i}">Page ${i} &amp; more</A>`);
    }
    out.push('        </DL><p>', '    </DL><p>');
  }
  out.push('</DL><p>');
  return out.join('\n');
}

const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))];

test('20,000 bookmarks: the server keeps answering (/healthz and /api/links timed)', async () => {
  const s = await bare('io-bulk');
  const body = Buffer.from(bigBookmarks(20000));
  const health = [];
  const api = [];
  const t0 = Date.now();
  const started = await startImport(s, body);
  assert.equal(started.total, 20000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let rep;
  for (let i = 0; ; i++) {
    const h0 = process.hrtime.bigint();
    const h = await request(s.base, 'GET', '/healthz', undefined, {}, agent);
    health.push(Number(process.hrtime.bigint() - h0) / 1e6);
    assert.equal(h.status, 200);
    if (i % 4 === 0) {
      const a0 = process.hrtime.bigint();
      const l = await request(s.base, 'GET', '/api/links?limit=20', undefined, {}, agent);
      api.push(Number(process.hrtime.bigint() - a0) / 1e6);
      assert.equal(l.status, 200);
      rep = (await request(s.base, 'GET', `/api/imports/${started.id}`, undefined, {}, agent)).json.import;
      if (rep.state !== 'running') break;
    }
    if (Date.now() - t0 > 300000) throw new Error(`import not done in 300 s: ${JSON.stringify(rep)}`);
  }
  agent.destroy();
  assert.equal(rep.state, 'done');
  assert.deepEqual([rep.added, rep.skipped], [20000, 0]);
  health.sort((a, b) => a - b);
  api.sort((a, b) => a - b);
  const rate = Math.round(20000 / (rep.ms / 1000));
  console.error(`# figures: 20,000-bookmark import (${(body.length / 1048576).toFixed(1)} MiB) in ${rep.ms} ms = ${rate} links/s (longest lock hold ${rep.lock_ms_max} ms); ` +
    `/healthz during it: n=${health.length} p50 ${pct(health, 0.5).toFixed(1)} ms, p99 ${pct(health, 0.99).toFixed(1)} ms, ` +
    `max ${health[health.length - 1].toFixed(1)} ms; GET /api/links: n=${api.length} p50 ${pct(api, 0.5).toFixed(1)} ms, ` +
    `p99 ${pct(api, 0.99).toFixed(1)} ms, max ${api[api.length - 1].toFixed(1)} ms`);
  assert.ok(health.length >= 20, 'enough /healthz samples during the import');
  assert.ok(pct(health, 0.99) < 250, `/healthz p99 ${pct(health, 0.99)} ms`);
  assert.ok(pct(api, 0.99) < 1000, `/api/links p99 ${pct(api, 0.99)} ms`);
  const links = await request(s.base, 'GET', '/api/tags');
  const folder7 = links.json.items.find((t) => t.name === 'folder 7');
  assert.equal(folder7?.count, 400);
  assert.equal(links.json.items.find((t) => t.name === 'group 7')?.count, 2000);
  // newest first = the last ADD_DATE first
  const top = await request(s.base, 'GET', '/api/links?limit=1');
  assert.match(top.json.items[0].url, /\/page\/19999\?/);
});

test('admin page: the Import / export panel uploads, shows live progress and the skipped lines; backup', async () => {
  const s = await bare('io-admin');
  await importAll(s, fs.readFileSync(path.join(FIX, 'firefox-bookmarks.html')));
  const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-node-io-ui-'));
  const chromium = await launchChromium('io-ui');
  try {
    const page = await chromium.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.base + '/', { waitUntil: 'domcontentloaded' });
    await page.click('#io-toggle > summary');
    const input = await page.waitForSelector('#io-file');
    await input.uploadFile(path.join(FIX, 'chrome-bookmarks.html'));
    await page.type('#io-tags', 'from-ui');
    await page.click('#io-go');
    await page.waitForFunction(() => !document.getElementById('io-skips').hidden, { timeout: 30000 });
    const status = await page.$eval('#io-status', (e) => e.textContent);
    assert.match(status, /11 \/ 11 records: 6 added, 0 already there, 5 skipped/);
    assert.ok(await page.$('#io-status button'), 'a button to show the new links');
    const rows = await page.$$eval('#io-skips-body tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.equal(rows.length, 5);
    assert.ok(rows.some((r) => r[1] === 'unsupported_scheme' && r[3] === 'javascript:window.print()'), JSON.stringify(rows));
    assert.equal(await page.$eval('#io-bar', (e) => [e.value, e.max].join('/')), '11/11');
    assert.match(await page.$eval('#io a[data-format=csv]', (a) => a.getAttribute('href')), /^\/api\/export\?format=csv$/);
    await page.click('#io-backup');
    await page.waitForFunction(() => /^Backed up to /.test(document.getElementById('io-backup-msg').textContent), { timeout: 30000 });
    await page.screenshot({ path: path.join(shots, 'io-panel.png') });
    console.error(`# screenshot: ${path.join(shots, 'io-panel.png')}`);
    assert.deepEqual(errors, []);
    assert.ok((await allLinks(s)).get('https://example.org/').tags.includes('from-ui'));
  } finally {
    await chromium.close();
    if (!process.env.SNAPCAT_SHOTS) fs.rmSync(shots, { recursive: true, force: true });
  }
});
