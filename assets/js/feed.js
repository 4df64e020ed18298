/* feed.js — the admin page's live feed. One EventSource per tab (/api/events[?token=]), or,
 * by the header's "SSE | WebSocket" switch (kept in localStorage 'snapcat.live'), one
 * WebSocket (/api/ws[?token=], then {"op":"subscribe","after":<last id seen>}) with the
 * same event handling:
 *   job.queued/started/progress patch the link's last_job in place; job.done/job.failed/
 *   link.updated re-fetch that link (GET /api/links/{id}); link.deleted removes it;
 *   snapshot.changed says so in a toast; reset (missed events) reloads.
 * The first feed resumes after the first list's event_id (last_event_id / after), a
 * transport switch after the last id seen, so nothing is missed or shown twice. If the
 * stream keeps failing (or EventSource is missing, or ?live=off) we poll
 * GET /api/jobs?state=running|queued every 2 s while any visible job is queued/running,
 * and try the stream again later. The header's status dot says which.
 */
import { $, toast } from './dom.js';
import { linkLabel } from './format.js';
import { api } from './api.js';
import { token } from './token.js';
import { state, hasFilters, activeLinkIds, jobSummary } from './state.js';
import { patchJob, removeLink, refreshLink } from './links.js';
import { loadLinks } from './grid.js';
import { loadTags, reloadTagsSoon } from './tags.js';
import { reloadFailedSoon } from './failed.js';

const POLL_MS = 2000;
const SSE_MAX_FAILS = 3;          // consecutive failures before falling back to polling
const SSE_RETRY_FROM_POLL_MS = 30000;
const EVENT_TYPES = ['job.queued', 'job.started', 'job.progress', 'job.done', 'job.failed',
  'job.canceled', 'link.updated', 'link.deleted', 'snapshot.changed', 'ping'];
const TRANSPORT_KEY = 'snapcat.live';

const live = { es: null, fails: 0, retryTimer: 0, pollTimer: 0, polling: false, mode: 'sse', hadOpen: false,
  ws: null, lastId: 0, resume: false, started: false, fromList: false, transport: readTransport() };   // header switch: 'sse' | 'ws'

function readTransport() {
  try { return localStorage.getItem(TRANSPORT_KEY) === 'ws' ? 'ws' : 'sse'; } catch (e) { return 'sse'; }
}

/** The first list's event_id (before the feed first opens): the feed resumes after it. */
export function resumeAfterList(eventId) {
  if (live.started || !Number.isSafeInteger(eventId)) return;
  live.lastId = Math.max(live.lastId, eventId);
  live.fromList = true;      // resume there even at 0 (= from the first event)
}

/** The header's "SSE | WebSocket" switch: reopen the feed over the other transport, resuming
 *  after the last event id seen so nothing is missed (or shown twice) across the switch. */
function setTransport(t) {
  t = t === 'ws' ? 'ws' : 'sse';
  try { localStorage.setItem(TRANSPORT_KEY, t); } catch (e) { /* private mode */ }
  if (t === live.transport) return;
  live.transport = t;
  renderTransport();
  live.fails = 0;
  live.resume = true;
  startEvents();
}
const narrowMq = window.matchMedia ? window.matchMedia('(max-width: 700px)') : null;
export function renderTransport() {
  for (const b of document.querySelectorAll('[data-live]')) {
    b.setAttribute('aria-pressed', String(b.dataset.live === live.transport));
    // "WS" on phones, so the header keeps one row (brand, status, switch, Token)
    if (b.dataset.live === 'ws') b.textContent = narrowMq && narrowMq.matches ? 'WS' : 'WebSocket';
  }
}

function setConn(st, text) {
  state.conn = st;
  const el = $('conn');
  el.dataset.state = st;
  $('conn-text').textContent = text || st;
  el.title = {
    live: 'Receiving live updates',
    reconnecting: 'Live updates interrupted; reconnecting',
    polling: 'Live stream unavailable; polling every 2 s while jobs run',
    connecting: 'Connecting to live updates',
    offline: 'Server unreachable',
  }[st] || '';
}

/** Whether the feed about to open resumes after live.lastId: after a transport switch, or
 *  the first time, from the first list's event_id (0 included: from the first event). */
function resumeFeed() {
  return (live.resume && live.lastId > 0) || (!live.started && live.fromList);
}

/** Open the one EventSource for this tab (closing any previous one). */
export function startEvents() {
  stopEvents();
  clearTimeout(live.retryTimer);
  // ?live=off: no stream, polling only (headless screenshots: an open SSE request
  // keeps Chromium's --virtual-time-budget from ever expiring)
  const off = new URLSearchParams(location.search).get('live') === 'off';
  if (!off && live.transport === 'ws' && typeof window.WebSocket === 'function') { startWs(); return; }
  if (off || typeof window.EventSource !== 'function') { startPolling(); return; }
  const q = [];
  if (token()) q.push('token=' + encodeURIComponent(token()));
  // after the first list (its event_id) or a transport switch: resume there
  if (resumeFeed()) q.push('last_event_id=' + live.lastId);
  live.resume = false;
  live.started = true;
  const es = new EventSource('/api/events' + (q.length ? '?' + q.join('&') : ''));
  live.es = es;
  if (live.mode !== 'poll') setConn(live.hadOpen ? 'reconnecting' : 'connecting');
  es.onopen = onLiveOpen;
  es.onmessage = onServerEvent;
  for (const t of EVENT_TYPES.concat('reset')) es.addEventListener(t, onServerEvent);
  es.onerror = () => onEventsError(es);
}

function onLiveOpen() {
  const wasDown = live.hadOpen && state.conn !== 'live';
  live.fails = 0;
  live.hadOpen = true;
  live.mode = 'sse';
  stopPolling();
  setConn('live');
  if (wasDown) resyncActive();
}

/** The same feed over /api/ws: {"op":"subscribe","after":<last id>}, same event handling. */
function startWs() {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws' +
    (token() ? '?token=' + encodeURIComponent(token()) : '');
  let ws;
  try { ws = new WebSocket(url); } catch (e) { startPolling(); return; }
  live.ws = ws;
  const resume = resumeFeed();
  live.resume = false;
  live.started = true;
  if (live.mode !== 'poll') setConn(live.hadOpen ? 'reconnecting' : 'connecting');
  ws.onopen = () => {
    ws.send(JSON.stringify(resume || live.lastId ? { op: 'subscribe', after: live.lastId } : { op: 'subscribe' }));
    onLiveOpen();
  };
  ws.onmessage = onServerEvent;            // MessageEvent.data is the event JSON
  ws.onclose = () => onEventsError(ws);
}

function stopEvents() {
  if (live.es) { live.es.onerror = null; live.es.close(); live.es = null; }
  if (live.ws) { live.ws.onclose = null; live.ws.close(); live.ws = null; }
}

/** Stream error. While the browser retries by itself we only show "reconnecting"; when it
 *  gave up (HTTP error, maybe 401) or failed SSE_MAX_FAILS times in a row, we probe the
 *  API (a 401 opens the token dialog; no answer shows "offline"), poll if we gave up,
 *  and reopen the stream later. */
function onEventsError(es) {
  if (es !== live.es && es !== live.ws) return;
  live.fails++;
  const giveUp = live.fails >= SSE_MAX_FAILS;
  if (!giveUp && es === live.es && es.readyState !== EventSource.CLOSED) {
    if (live.mode !== 'poll') setConn('reconnecting');
    return;
  }
  stopEvents();
  if (giveUp) startPolling(); else setConn('reconnecting');
  probeServer().finally(() => {
    clearTimeout(live.retryTimer);
    live.retryTimer = setTimeout(startEvents, giveUp ? SSE_RETRY_FROM_POLL_MS : 1000 * live.fails);
  });
}

async function probeServer() {
  try {
    await api('GET', '/api/jobs?state=running&limit=1', undefined, { background: true });
  } catch (e) {
    if (e && e.status === 0) setConn('offline');
  }
}

/** One server event (data is one-line JSON; the type is in data.type or the SSE event name). */
function onServerEvent(ev) {
  let d;
  try { d = JSON.parse(ev.data); } catch (e) { return; }
  if (!d || typeof d !== 'object') return;
  if (Number.isSafeInteger(d.id) && d.id > live.lastId) live.lastId = d.id;   // resume point
  const type = d.type || (ev.type !== 'message' ? ev.type : '');
  if (!type || type === 'ping') return;
  if (type === 'reset') { loadLinks(false); loadTags(); resyncActive(); return; }   // missed events: reload
  const linkId = d.link != null ? Number(d.link) : null;
  if (linkId == null || Number.isNaN(linkId)) return;
  if (type === 'link.deleted') { removeLink(linkId, 'This link was deleted.'); return; }
  if (type === 'link.updated') { refreshLink(linkId, { snaps: true }); reloadTagsSoon(); return; }
  if (type === 'snapshot.changed') { onPageChanged(d, linkId); return; }
  if (type.startsWith('job.')) onJobEvent(type, d, linkId);
}

/** A watched page changed: say so (the snapshot list refreshes with the job's events). */
function onPageChanged(d, linkId) {
  const link = state.links.get(linkId) || (state.detail && state.detail.id === linkId && state.detail.link);
  const pct = typeof d.ratio === 'number' ? ' (' + (d.ratio * 100 < 0.01 ? '<0.01' : (d.ratio * 100).toFixed(2)) + '% of the page)' : '';
  toast('Changed: ' + (link ? linkLabel(link) : 'link ' + linkId) + pct);
}

const JOB_EVENT_STATE = {
  'job.queued': 'queued', 'job.started': 'running', 'job.progress': 'running',
  'job.done': 'done', 'job.failed': 'failed', 'job.canceled': 'canceled',
};

function onJobEvent(type, d, linkId) {
  const patch = { id: d.job != null ? Number(d.job) : undefined };
  if (JOB_EVENT_STATE[type]) patch.state = JOB_EVENT_STATE[type];
  if (typeof d.progress === 'number') patch.progress = d.progress;
  if ('stage' in d) {
    patch.stage = d.stage;
    patch.detail = d.detail || null;    // within a stage: "tile 3 of 7"
    patch.eta_ms = typeof d.eta_ms === 'number' ? d.eta_ms : null;
    patch.elapsed_ms = typeof d.elapsed_ms === 'number' ? d.elapsed_ms : null;
  }
  if (type === 'job.queued') { patch.progress = 0; patch.stage = null; patch.detail = null; patch.eta_ms = null; patch.elapsed_ms = null; patch.error = null; }
  if (type === 'job.done') patch.progress = 100;
  if (d.error) patch.error = d.error;
  if (patch.id === undefined) delete patch.id;
  const known = patchJob(linkId, patch);
  const final = type === 'job.done' || type === 'job.failed' || type === 'job.canceled';
  if (final) { refreshLink(linkId, { snaps: true }); reloadTagsSoon(); }
  if (type === 'job.failed' || (state.failed.jobs.length && (type === 'job.queued' || type === 'job.done'))) {
    reloadFailedSoon();
  }
  else if (!known && type === 'job.queued' && state.list.loaded && !hasFilters()) {
    refreshLink(linkId, { insert: true });    // a link added elsewhere (CLI, other tab)
  }
}

/** After a gap in the stream, re-fetch links whose job we last saw queued/running. */
function resyncActive() {
  for (const id of activeLinkIds()) refreshLink(id, { snaps: true });
}

/* Polling fallback: only while the stream is down and some visible job is active. */
function startPolling() {
  live.mode = 'poll';
  setConn('polling');
  if (!live.pollTimer) live.pollTimer = setInterval(pollTick, POLL_MS);
  pollTick();
}
function stopPolling() {
  clearInterval(live.pollTimer);
  live.pollTimer = 0;
}
/** A job became active: poll again if the page is on the polling fallback. */
export function pollIfNeeded() {
  if (live.mode === 'poll' && !live.pollTimer) startPolling();
}

async function pollTick() {
  const active = activeLinkIds();
  if (!active.length) { stopPolling(); return; }   // restarted by pollIfNeeded() on new jobs
  if (live.polling) return;
  live.polling = true;
  try {
    const [running, queued] = await Promise.all([
      api('GET', '/api/jobs?state=running&limit=100', undefined, { background: true }),
      api('GET', '/api/jobs?state=queued&limit=100', undefined, { background: true }),
    ]);
    if (live.mode !== 'poll') return;
    setConn('polling');
    const seen = new Set();
    for (const j of [].concat((running && running.items) || [], (queued && queued.items) || [])) {
      if (!j || j.link_id == null) continue;
      seen.add(j.link_id);
      patchJob(j.link_id, jobSummary(j));
    }
    for (const id of active) if (!seen.has(id)) refreshLink(id, { snaps: true });   // finished
  } catch (e) {
    if (live.mode === 'poll') setConn(e && e.status === 0 ? 'offline' : 'polling');
  } finally {
    live.polling = false;
  }
}

/** The header's "SSE | WebSocket" buttons (and their label on narrow screens). */
export function bindFeed() {
  for (const b of document.querySelectorAll('[data-live]')) b.addEventListener('click', () => setTransport(b.dataset.live));
  if (narrowMq && narrowMq.addEventListener) narrowMq.addEventListener('change', renderTransport);
}
