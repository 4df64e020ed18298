/* grid.js — the list of links: GET /api/links for the current filters, a page at a time
 * ("Load more"), reconciled into the grid of cards (cards are reused, so images do not
 * reload), the summary line, loading skeletons, the empty state and the error box.
 * The first list's event_id is where the live feed resumes (feed.js).
 */
import { $, h } from './dom.js';
import { errText, errDetail } from './format.js';
import { api } from './api.js';
import { state, cards, hasFilters } from './state.js';
import { buildCard, fillCard } from './cards.js';
import { clearFilters } from './tags.js';
import { pollIfNeeded, resumeAfterList } from './feed.js';

const PAGE_SIZE = 24;
let listAbort = null;

function listQuery(append) {
  const p = new URLSearchParams();
  for (const t of state.filter.tags) p.append('tag', t);
  if (state.filter.tags.length) p.set('match', state.filter.match);
  if (state.filter.q) p.set('q', state.filter.q);
  p.set('limit', String(PAGE_SIZE));
  if (append && state.list.cursor) p.set('cursor', state.list.cursor);
  return '/api/links?' + p.toString();
}

/** Fetch the first page (append=false) or the next page of links for the current filters.
 *  Stale answers (filters changed meanwhile) are dropped. */
export async function loadLinks(append) {
  const L = state.list;
  const seq = ++L.seq;
  if (listAbort) listAbort.abort();
  listAbort = new AbortController();
  L.loading = true;
  L.error = null;
  if (!append) L.cursor = null;
  renderListState();
  try {
    const data = await api('GET', listQuery(append), undefined, { signal: listAbort.signal });
    if (seq !== L.seq) return;
    const items = data && Array.isArray(data.items) ? data.items : [];
    if (!append) L.ids = [];
    for (const link of items) {
      if (!link || link.id == null) continue;
      state.links.set(link.id, link);
      if (!L.ids.includes(link.id)) L.ids.push(link.id);
    }
    L.cursor = (data && data.next_cursor) || null;
    // the feed resumes after the newest event this list reflects (see main.js)
    if (!append && data) resumeAfterList(data.event_id);
    L.loaded = true;
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    if (seq === L.seq) L.error = e;
  } finally {
    if (seq === L.seq) {
      L.loading = false;
      renderList();
      pollIfNeeded();
    }
  }
}

/** Reconcile the grid with state.list.ids (cards are reused, so images do not reload). */
export function renderList() {
  const grid = $('grid');
  const want = new Set(state.list.ids);
  for (const [id, c] of cards) if (!want.has(id)) { c.el.remove(); cards.delete(id); }
  grid.querySelectorAll('.skeleton').forEach((n) => n.remove());
  let prev = null;
  for (const id of state.list.ids) {
    const link = state.links.get(id);
    if (!link) continue;
    let c = cards.get(id);
    if (!c) { c = buildCard(id); cards.set(id, c); }
    fillCard(c, link);
    const next = prev ? prev.nextSibling : grid.firstChild;
    if (next !== c.el) grid.insertBefore(c.el, next);
    prev = c.el;
  }
  renderListState();
}

export function renderListState() {
  const L = state.list;
  const box = $('list-state');
  const more = $('load-more');
  const n = L.ids.length;
  box.replaceChildren();
  more.hidden = !(L.cursor && L.loaded && !L.error);
  more.disabled = L.loading;
  more.textContent = L.loading && n ? 'Loading…' : 'Load more';
  $('grid').setAttribute('aria-busy', String(L.loading));
  if (L.loading && !n) {
    if (!$('grid').querySelector('.skeleton')) $('grid').append(...skeletonCards(6));
  }
  if (L.error) box.append(errorBox(L.error, () => loadLinks(n > 0 && !!L.cursor)));
  else if (!L.loading && L.loaded && !n) box.append(emptyState());
  renderSummary();
}

export function renderSummary() {
  const L = state.list;
  const n = L.ids.length;
  let text = '';
  if (L.loaded && n) {
    text = (L.cursor ? 'Showing the first ' : '') + n + (n === 1 ? ' link' : ' links') + (hasFilters() ? ' matching' : '');
  }
  else if (L.loading) text = 'Loading…';
  $('list-summary').textContent = text;
}

function skeletonCards(k) {
  const out = [];
  for (let i = 0; i < k; i++) {
    out.push(h('div', { class: 'card skeleton', 'aria-hidden': 'true' },
      h('div', { class: 'thumb' }),
      h('div', { class: 'card-body' }, h('div', { class: 'line' }), h('div', { class: 'line short' }))));
  }
  return out;
}

function emptyState() {
  if (hasFilters()) {
    return h('div', { class: 'empty' }, h('strong', null, 'No links match these filters'),
      h('button', { type: 'button', class: 'btn', onclick: clearFilters }, 'Clear filters'));
  }
  return h('div', { class: 'empty' }, h('strong', null, 'No links yet — paste a URL above'),
    'snapcat will capture a full-page screenshot and an MHTML archive.');
}

function errorBox(e, retry) {
  const detail = errDetail(e);
  return h('div', { class: 'alert', role: 'alert' },
    h('strong', null, 'Could not load links. '), errText(e),
    detail ? h('span', { class: 'small' }, ' (' + detail + ')') : null,
    retry ? h('button', { type: 'button', class: 'btn small', onclick: retry },
      e && e.status === 401 ? 'Enter token' : 'Retry') : null);
}

export function bindGrid() {
  $('load-more').addEventListener('click', () => loadLinks(true));
}
