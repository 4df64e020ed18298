/* format.js — how the admin page writes things: times (relative, refreshed by tickTimes),
 * sizes, durations, tags typed by hand, a link's label, errors, a snapshot's change, a state
 * badge, and external links (http(s) only, new tab, no opener, no referrer).
 * Nothing here talks to the server or keeps state.
 */
import { h } from './dom.js';

/** Only absolute http(s) URLs may become links to captured pages. */
export function safeHref(u) {
  return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
}

/** External link (new tab, no opener, no referrer) or plain text when not http(s). */
export function externalLink(url, text, cls) {
  const href = safeHref(url);
  const label = text == null ? String(url == null ? '' : url) : text;
  if (!href) return h('span', { class: cls, title: String(url || '') }, label);
  return h('a', { class: cls, href, target: '_blank', rel: 'noopener noreferrer', title: href }, label);
}

export function relTime(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const s = Math.round((Date.now() - t) / 1000);
  if (s < -60) return 'in ' + inTime(-s);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return m + ' min ago';
  const hr = Math.round(m / 60);
  if (hr < 24) return hr + ' h ago';
  const d = Math.round(hr / 24);
  if (d < 31) return d === 1 ? 'yesterday' : d + ' days ago';
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** "5 min", "3 h", "2 days" for a span of s seconds ahead. */
function inTime(s) {
  const m = Math.round(s / 60);
  if (m < 60) return m + ' min';
  const hr = Math.round(m / 60);
  if (hr < 48) return hr + ' h';
  return Math.round(hr / 24) + ' days';
}

/** <time> showing relative time, ISO in the title; refreshed by tickTimes(). */
export function timeEl(iso, prefix) {
  const el = h('time', { class: 'rel', datetime: iso, title: iso });
  el.dataset.ts = iso;
  el.dataset.prefix = prefix || '';
  el.textContent = (prefix || '') + relTime(iso);
  return el;
}
export function tickTimes() {
  for (const el of document.querySelectorAll('time.rel')) {
    el.textContent = (el.dataset.prefix || '') + relTime(el.dataset.ts);
  }
}

/** The webhooks panel's short form: "just now", "40 s ago", "in 4 s", "12 min ago", else a date. */
export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < -1) return 'in ' + (-s < 90 ? -s + ' s' : Math.round(-s / 60) + ' min');
  if (s < 5) return 'just now';
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  return new Date(iso).toLocaleString();
}

/** Snapshot sizes: "812 B", "3.4 KB", "27 MB". */
export function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  if (n < 1024) return n + ' B';
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i];
}

/** The import/export panel's sizes: "812 B", "3.4 KiB", "27.0 MiB". */
export function fmtBytesIEC(n) {
  if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MiB';
  if (n >= 1024) return (n / 1024).toFixed(1) + ' KiB';
  return n + ' B';
}

export function fmtMs(ms) {
  if (typeof ms !== 'number') return String(ms);
  return ms < 1000 ? ms + '\u00a0ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + '\u00a0s';
}

/** Tags as typed: split on spaces and commas, duplicates dropped. */
export function parseTags(text) {
  const out = [];
  for (const t of String(text || '').split(/[\s,]+/)) if (t && !out.includes(t)) out.push(t);
  return out;
}

function hostOf(url) {
  try { return new URL(url).host || url; } catch (e) { return String(url || ''); }
}
export function linkLabel(link) {
  return (link.title && String(link.title).trim()) || hostOf(link.url) || ('Link ' + link.id);
}

/** Human text for an ApiError or any thrown thing. */
export function errText(e) {
  if (!e) return 'Unknown error';
  return e.message || String(e);
}
/** "HTTP 400 · invalid_field · field: url" (empty for network errors). */
export function errDetail(e) {
  const parts = [];
  if (e && e.status) parts.push('HTTP ' + e.status);
  if (e && e.code && e.status) parts.push(e.code);
  if (e && e.field) parts.push('field: ' + e.field);
  return parts.join(' · ');
}

/** A job's or snapshot's error ({class, message} or a string) on one line. */
export function errorLine(e) {
  if (!e) return '';
  if (typeof e === 'string') return e;
  return (e.class ? e.class + ': ' : '') + (e.message || '');
}

/** "Changed 0.39% (1 region) since #4", "Unchanged since #4", or '' (nothing to compare with). */
export function changeText(s) {
  const d = s && s.diff;
  if (!d) return '';
  if (!d.changed_pixels) return 'Unchanged since #' + d.against;
  const pct = d.ratio * 100;
  const n = Array.isArray(d.boxes) ? d.boxes.length : 0;
  return 'Changed ' + (pct < 0.01 ? '<0.01' : pct < 10 ? pct.toFixed(2) : pct.toFixed(1)) + '%' +
    (n ? ' (' + n + (n === 1 ? ' region' : ' regions') + ')' : '') + ' since #' + d.against;
}

/** A job's or snapshot's state as a coloured badge (class st-<state>). */
export function badge(st) {
  return h('span', { class: 'badge st-' + String(st).replace(/[^a-z_-]/gi, '') }, String(st));
}
