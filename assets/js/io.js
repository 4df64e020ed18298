/* io.js — the admin page's "Import / export" panel: upload a bookmark file, CSV, URL list or
 * snapcat JSON (POST /api/import with the file as the body), follow it live (its own
 * EventSource on /api/events?types=import.progress,import.done,backup.*, open only while
 * something runs), then show the counts and the skipped lines (GET /api/imports/{id});
 * export links (GET /api/export); a backup button (POST /api/backup, result from
 * backup.done). Everything from the server is put in the page as text, never as HTML.
 * When an import added links, the grid and the tags reload at once; an import that did not
 * queue captures offers "Capture the N imported links": the links created while it ran
 * that were never captured (GET /api/links, newest first, stops before the import began),
 * each queued with POST /api/links/{id}/snapshots.
 */
import { $, el } from './dom.js';
import { fmtBytesIEC as bytes } from './format.js';
import { request, withStoredToken } from './api.js';
import { loadLinks } from './grid.js';
import { loadTags } from './tags.js';

const TYPES = ['import.progress', 'import.done', 'backup.progress', 'backup.done', 'backup.failed'];
const SKIPS_SHOWN = 200;
let es = null;
let users = 0;            // running imports/backups that need the feed
const handlers = {};      // event type -> [fn]

/* ---- the live feed: opened while something runs ---- */
function on(type, fn) { (handlers[type] = handlers[type] || []).push(fn); }
function off(type, fn) { handlers[type] = (handlers[type] || []).filter((f) => f !== fn); }
function feedOpen() {
  users++;
  if (es || typeof EventSource !== 'function') return Promise.resolve();
  es = new EventSource(withStoredToken('/api/events?types=' + TYPES.join(',')));
  TYPES.forEach((t) => es.addEventListener(t, (e) => {
    let d;
    try { d = JSON.parse(e.data); } catch (x) { return; }
    (handlers[t] || []).slice().forEach((fn) => fn(d));
  }));
  return new Promise((resolve) => {
    es.onopen = resolve;
    setTimeout(resolve, 3000); // do not hang on a slow feed: the report says it all
  });
}
function feedClose() {
  users = Math.max(0, users - 1);
  if (!users && es) { es.close(); es = null; }
}

/* ---- import ---- */
function showProgress(p) {
  const bar = $('io-bar');
  bar.max = Math.max(1, p.total);
  bar.value = p.done;
  bar.hidden = false;
  $('io-status').textContent = `${p.done} / ${p.total} records: ${p.added} added, ` +
    `${p.existing} already there, ${p.skipped} skipped` + (p.queued ? `, ${p.queued} queued` : '');
}

function showReport(r) {
  showProgress(r);
  const extra = [];
  if (r.not_queued) extra.push(`${r.not_queued} not queued (the capture queue is full)`);
  if (r.state !== 'done') extra.push(r.state + (r.error ? ': ' + r.error : ''));
  $('io-status').textContent += (extra.length ? '; ' + extra.join('; ') : '') +
    ` — ${r.format}, ${(r.ms / 1000).toFixed(1)} s`;
  if (r.added > 0) { // the new links go into the grid and the sidebar's tags now
    loadLinks(false);
    loadTags();
    if (!r.capture) offerCapture(r);
  }
  const box = $('io-skips');
  const rows = (r.skipped_lines || []).slice(0, SKIPS_SHOWN);
  box.hidden = !rows.length;
  $('io-skips-sum').textContent = `${r.skipped} skipped line${r.skipped === 1 ? '' : 's'}` +
    (r.skipped > rows.length ? ` (first ${rows.length} shown)` : '');
  const tb = $('io-skips-body');
  tb.replaceChildren(...rows.map((s) => {
    const tr = el('tr');
    tr.append(el('td', 'n', String(s.line)), el('td', 'code', s.code), el('td', '', s.reason),
      el('td', 'text', s.text || ''));
    return tr;
  }));
}

/** The ids of the links r (an import report) added: created while it ran, never captured. */
async function importedLinks(r) {
  const from = Date.parse(r.started_at) - 1000;
  const to = (r.finished_at ? Date.parse(r.finished_at) : Date.now()) + 1000;
  const ids = [];
  let cursor = null;
  for (;;) {
    const q = new URLSearchParams({ limit: '500' });
    if (cursor) q.set('cursor', cursor);
    const page = await request('GET', '/api/links?' + q);
    const items = (page && page.items) || [];
    for (const l of items) {
      const t = Date.parse(l.created_at);
      if (t >= from && t <= to && !l.last_job) ids.push(l.id);
    }
    const last = items[items.length - 1];
    if (!page.next_cursor || !last || Date.parse(last.created_at) < from) return ids;
    cursor = page.next_cursor;
  }
}

function offerCapture(r) {
  const b = el('button', 'btn small', `Capture the ${r.added} imported link${r.added === 1 ? '' : 's'}`);
  b.type = 'button';
  b.id = 'io-capture-now';
  const msg = el('span', 'small', '');
  msg.id = 'io-capture-msg';
  msg.setAttribute('role', 'status');
  b.addEventListener('click', async () => {
    b.disabled = true;
    let queued = 0;
    try {
      const ids = await importedLinks(r);
      for (const id of ids) {
        await request('POST', `/api/links/${id}/snapshots`);
        queued++;
        msg.textContent = `Queued ${queued} / ${ids.length}…`;
      }
      msg.textContent = `Queued ${queued} capture${queued === 1 ? '' : 's'}.`;
      b.remove();
    } catch (e) {
      msg.textContent = `Queued ${queued}; then: ${e.message}`;
      b.disabled = false;
    }
  });
  $('io-status').append(' ', b, ' ', msg);
}

async function runImport(ev) {
  ev.preventDefault();
  const file = $('io-file').files[0];
  const btn = $('io-go');
  if (!file) { $('io-status').textContent = 'Choose a file first.'; return; }
  const q = new URLSearchParams({ format: $('io-format').value, capture: $('io-capture').checked ? '1' : '0' });
  const tags = $('io-tags').value.trim();
  if (tags) q.set('tags', tags);
  btn.disabled = true;
  $('io-skips').hidden = true;
  $('io-status').textContent = `Uploading ${file.name} (${bytes(file.size)})…`;
  let id = 0;
  const onProgress = (d) => { if (d.import === id) showProgress(d); };
  let finish;
  const finished = new Promise((r) => { finish = r; });
  const onDone = (d) => { if (d.import === id) finish(); };
  on('import.progress', onProgress);
  on('import.done', onDone);
  await feedOpen();
  try {
    const j = await request('POST', '/api/import?' + q, file, { 'Content-Type': 'application/octet-stream' });
    id = j.import.id;
    showProgress(j.import);
    // the feed says when it is over; a poll catches a missed event
    for (;;) {
      const r = (await request('GET', '/api/imports/' + id)).import;
      if (r.state !== 'running') { showReport(r); break; }
      await Promise.race([finished, new Promise((res) => setTimeout(res, 2000))]);
    }
  } catch (e) {
    $('io-status').textContent = 'Import failed: ' + e.message;
  } finally {
    off('import.progress', onProgress);
    off('import.done', onDone);
    feedClose();
    btn.disabled = false;
  }
}

/* ---- export and backup ---- */
function exportLinks() {
  document.querySelectorAll('#io a[data-format]').forEach((a) => {
    a.href = withStoredToken('/api/export?format=' + a.dataset.format);
  });
}

async function runBackup() {
  const btn = $('io-backup');
  const out = $('io-backup-msg');
  btn.disabled = true;
  out.textContent = 'Backing up…';
  let id = 0;
  const seen = (d) => d.backup === id;
  const onProg = (d) => { if (seen(d)) out.textContent = `Backing up: ${d.stage} ${d.done}/${d.total}…`; };
  let finish;
  const finished = new Promise((r) => { finish = r; });
  const onEnd = (d) => { if (seen(d)) finish(); };
  on('backup.progress', onProg);
  on('backup.done', onEnd);
  on('backup.failed', onEnd);
  await feedOpen();
  try {
    id = (await request('POST', '/api/backup', '{}', { 'Content-Type': 'application/json' })).backup.id;
    for (;;) {
      const b = (await request('GET', '/api/backups/' + id)).backup;
      if (b.state === 'done') {
        out.textContent = `Backed up to ${b.path}: catalog ${bytes(b.catalog_bytes)}, ${b.files} files ` +
          `(${bytes(b.files_bytes)}, ${b.linked} hard-linked, ${b.copied} copied), ${(b.ms / 1000).toFixed(1)} s`;
        break;
      }
      if (b.state !== 'running') { out.textContent = 'Backup ' + b.state + ': ' + (b.error || ''); break; }
      await Promise.race([finished, new Promise((res) => setTimeout(res, 2000))]);
    }
  } catch (e) {
    out.textContent = 'Backup failed: ' + e.message;
  } finally {
    off('backup.progress', onProg);
    off('backup.done', onEnd);
    off('backup.failed', onEnd);
    feedClose();
    btn.disabled = false;
  }
}

export function initIo() {
  const sec = $('io');
  if (!sec) return;
  $('io-form').addEventListener('submit', runImport);
  $('io-backup').addEventListener('click', runBackup);
  exportLinks();
  $('io-toggle').addEventListener('toggle', exportLinks);
}
