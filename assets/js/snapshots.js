/* snapshots.js — the link detail's Snapshots list: GET /api/links/{id}/snapshots, a page at
 * a time ("Older snapshots"), newest first. The selected snapshot shows everything (HTTP
 * status, final URL, size, files, change, consent banner, timings, error, PNG, MHTML and PDF
 * links), the others a one-line summary. Picking one shows it in the viewer (viewer.js);
 * until the user picks, the viewer follows the newest screenshot.
 */
import { $, h } from './dom.js';
import { externalLink, timeEl, fmtBytes, fmtMs, errText, errorLine, changeText, badge } from './format.js';
import { api, assetUrl, downloadLink } from './api.js';
import { state } from './state.js';
import { renderViewer } from './viewer.js';
import { consentText } from './options.js';

const SNAP_PAGE = 20;

export async function loadSnapshots(append) {
  const d = state.detail;
  if (!d) return;
  const id = d.id;
  const p = new URLSearchParams({ limit: String(SNAP_PAGE) });
  if (append && d.cursor) p.set('cursor', d.cursor);
  $('d-snaps-state').textContent = 'Loading snapshots…';
  $('d-snaps-more').disabled = true;
  try {
    const data = await api('GET', '/api/links/' + id + '/snapshots?' + p.toString());
    if (!state.detail || state.detail.id !== id) return;
    const items = data && Array.isArray(data.items) ? data.items : [];
    d.snaps = append ? d.snaps.concat(items) : items;
    d.cursor = (data && data.next_cursor) || null;
    d.snapsError = null;
    d.snapsLoaded = true;
  } catch (e) {
    if (!state.detail || state.detail.id !== id) return;
    d.snapsError = e;
  }
  renderSnapshots();
  // follow the newest screenshot until the user picks one
  const keep = !d.autoSelected && d.snaps.some((s) => s.id === d.selected);
  selectSnapshot(keep ? d.selected : defaultSnapshot(d.snaps));
}

function defaultSnapshot(snaps) {
  const s = snaps.find((x) => x.png_url) || snaps[0];
  return s ? s.id : null;
}

function renderSnapshots() {
  const d = state.detail;
  if (!d) return;
  $('d-snaps').replaceChildren(...d.snaps.map(snapshotItem));
  const st = $('d-snaps-state');
  if (d.snapsError) {
    st.replaceChildren(h('span', { class: 'err' }, 'Could not load snapshots: ' + errText(d.snapsError) + ' '),
      h('button', { type: 'button', class: 'btn link', onclick: () => loadSnapshots(false) }, 'Retry'));
  } else st.textContent = d.snapsLoaded && !d.snaps.length ? 'No snapshots yet.' : '';
  const more = $('d-snaps-more');
  more.hidden = !d.cursor;
  more.disabled = false;
}

/** One snapshot of the history. The selected one shows everything (HTTP status, final URL,
 *  size, files, timings, error); the others show a one-line summary. */
function snapshotItem(s) {
  const d = state.detail;
  const selected = d && d.selected === s.id;
  const pick = () => {
    d.autoSelected = false;
    selectSnapshot(s.id);
    if (s.png_url) $('v-scroll').focus({ preventScroll: !narrow() });
  };
  const top = h('div', { class: 'snap-top' },
    badge(s.state || 'unknown'),
    h('span', { class: 'grow' }, '#' + s.id + ' · ', s.created_at ? timeEl(s.created_at) : ''),
    h('button', { type: 'button', class: 'btn small', 'aria-pressed': String(selected), onclick: pick },
      selected ? (s.png_url ? 'Viewing' : 'Selected') : (s.png_url ? 'View' : 'Details')));
  const body = selected ? snapshotDetails(s) : snapshotSummary(s);
  return h('li', { class: 'snap' + (selected ? ' selected' : '') }, top, body);
}

function snapshotSummary(s) {
  const parts = [];
  if (s.http_status != null) parts.push('HTTP ' + s.http_status);
  if (s.width && s.height) parts.push(s.width + '×' + s.height);
  if (s.bytes && s.bytes.png) parts.push(fmtBytes(s.bytes.png));
  if (s.timings && s.timings.total != null) parts.push(fmtMs(s.timings.total));
  const ch = changeText(s);
  if (ch) parts.push(ch);
  return h('div', { class: 'snap-sum' }, parts.join(' · '),
    s.error ? h('div', { class: 'err' }, errorLine(s.error)) : null);
}

function snapshotDetails(s) {
  const d = state.detail;
  const rows = [];
  const row = (k, v) => { if (v != null && v !== '') rows.push(h('dt', null, k), h('dd', null, v)); };
  row('HTTP status', s.http_status != null ? String(s.http_status) : null);
  row('Final URL', s.final_url ? externalLink(s.final_url, null) : null);
  if (s.title && (!d.link || s.title !== d.link.title)) row('Page title', String(s.title));
  if (s.width && s.height) row('Size', s.width + ' × ' + s.height + ' px' + (s.truncated ? ' (truncated)' : ''));
  if (s.bytes) row('Files', 'PNG ' + fmtBytes(s.bytes.png) + (s.png_reused ? ' (stored once: same as an earlier PNG)' : '') +
    ' · MHTML ' + fmtBytes(s.bytes.mhtml) + (s.bytes.pdf ? ' · PDF ' + fmtBytes(s.bytes.pdf) : ''));
  if (s.outputs && s.outputs.pdf === 'failed') row('PDF', h('span', { class: 'err' }, 'not kept' + (s.error ? ': ' + errorLine(s.error) : '')));
  row('Change', changeText(s));
  row('Consent banner', consentText(s.consent));
  if (s.timings && typeof s.timings === 'object') row('Timings', timingsEl(s.timings));
  if (s.finished_at) row('Finished', timeEl(s.finished_at));
  if (s.error) row('Error', h('span', { class: 'err' }, errorLine(s.error)));
  const links = h('div', { class: 'snap-links' });
  const png = assetUrl(s.png_url);
  if (png) links.append(h('a', { href: png, target: '_blank', rel: 'noopener' }, 'Open PNG'));
  const mh = downloadLink(s.mhtml_url, 'Download MHTML', 'snapshot-' + s.id + '.mhtml');
  if (mh) links.append(mh);
  const pdf = assetUrl(s.pdf_url);
  if (pdf) links.append(h('a', { href: pdf, target: '_blank', rel: 'noopener' }, 'Open PDF'));
  return h('div', null, rows.length ? h('dl', null, rows) : null, links.childNodes.length ? links : null);
}

function narrow() {
  return window.matchMedia('(max-width: 960px)').matches;
}

function timingsEl(t) {
  const keys = Object.keys(t).filter((k) => k !== 'total');
  const parts = keys.map((k) => k + '\u00a0' + fmtMs(t[k]));
  const el = h('span', { class: 'timings' }, parts.join(' · '));
  if (t.total != null) el.append(parts.length ? ' · ' : '', h('strong', null, 'total ' + fmtMs(t.total)));
  return el;
}

function selectSnapshot(id) {
  const d = state.detail;
  if (!d) return;
  const changed = d.selected !== id;
  d.selected = id;
  renderSnapshots();
  if (changed || !$('v-scroll').querySelector('img')) renderViewer();
}

export function bindSnapshots() {
  $('d-snaps-more').addEventListener('click', () => loadSnapshots(true));
}
