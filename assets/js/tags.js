/* tags.js — the sidebar's tags (GET /api/tags, counts) and the list's filters: tags picked
 * in the sidebar or on a card, "all | any", the search box (debounced: titles, URLs and page
 * text), the active-filter chips above the grid. Any change reloads the list (grid.js).
 * "Rename or merge a tag": PATCH /api/tags/{name} {name}; a name that exists merges.
 */
import { $, h, debounce } from './dom.js';
import { errText } from './format.js';
import { api } from './api.js';
import { state, cards } from './state.js';
import { fillTags } from './cards.js';
import { loadLinks } from './grid.js';
import { renderFailed } from './failed.js';

const SEARCH_DEBOUNCE_MS = 300;

let tagsSeq = 0;
export async function loadTags() {
  const seq = ++tagsSeq;
  state.tags.loading = true;
  renderTags();
  try {
    const data = await api('GET', '/api/tags');
    if (seq !== tagsSeq) return;
    state.tags.items = data && Array.isArray(data.items) ? data.items : [];
    state.tags.error = null;
  } catch (e) {
    if (seq === tagsSeq) state.tags.error = e;
  } finally {
    if (seq === tagsSeq) { state.tags.loading = false; renderTags(); }
  }
}
export const reloadTagsSoon = debounce(loadTags, 600);

export function toggleTag(name) {
  const tags = state.filter.tags;
  const i = tags.indexOf(name);
  if (i >= 0) tags.splice(i, 1); else tags.push(name);
  onFiltersChanged();
}

function setMatch(match) {
  if (state.filter.match === match) return;
  state.filter.match = match;
  renderMatch();
  if (state.filter.tags.length > 1) loadLinks(false);
}

export function clearFilters() {
  state.filter.tags = [];
  state.filter.q = '';
  $('search').value = '';
  onFiltersChanged();
}

function onFiltersChanged() {
  renderTags();
  renderFailed();
  renderActiveFilters();
  for (const { el, refs } of cards.values()) fillTags(refs.tags, state.links.get(Number(el.dataset.id)));
  loadLinks(false);
}

const searchChanged = debounce(() => {
  const q = $('search').value.trim();
  if (q === state.filter.q) return;
  state.filter.q = q;
  renderActiveFilters();
  loadLinks(false);
}, SEARCH_DEBOUNCE_MS);

export function renderTags() {
  const ul = $('tag-list');
  const sel = state.filter.tags;
  const items = state.tags.items.slice();
  for (const name of sel) if (!items.some((t) => t.name === name)) items.push({ name, count: 0 });
  ul.replaceChildren(...items.map((t) => h('li', null,
    h('button', {
      type: 'button', class: 'tag-btn', 'aria-pressed': String(sel.includes(t.name)),
      title: t.name, onclick: () => toggleTag(t.name),
    }, h('span', { class: 'name', text: t.name }), h('span', { class: 'count', text: t.count })))));
  const st = $('tag-state');
  if (state.tags.error) {
    st.replaceChildren('Could not load tags: ' + errText(state.tags.error) + ' ',
      h('button', { type: 'button', class: 'btn link', onclick: loadTags }, 'Retry'));
  } else if (!state.tags.loading && !items.length) {
    st.textContent = 'No tags yet. Add some when you save a link.';
  } else {
    st.textContent = state.tags.loading && !items.length ? 'Loading tags…' : '';
  }
  $('sidebar-count').textContent = sel.length ? '(' + sel.length + ' selected)' : '';
  renderTagEdit();
}

/* ---- rename or merge a tag ---- */
function renderTagEdit() {
  const items = state.tags.items;
  $('tag-edit').hidden = !items.length;
  const sel = $('tag-edit-from');
  const keep = sel.value;
  sel.replaceChildren(...items.map((t) => h('option', { value: t.name, selected: t.name === keep },
    t.name + ' (' + t.count + ')')));
  tagEditLabel();
}

/** "Merge" when the new name is another existing tag, else "Rename". */
function tagEditLabel() {
  const to = $('tag-edit-to').value.trim().toLowerCase();
  const merge = to && to !== $('tag-edit-from').value && state.tags.items.some((t) => t.name === to);
  $('tag-edit-go').textContent = merge ? 'Merge into “' + to + '”' : 'Rename';
}

async function renameTag(ev) {
  ev.preventDefault();
  const from = $('tag-edit-from').value;
  const to = $('tag-edit-to').value.trim();
  const msg = $('tag-edit-msg');
  if (!from || !to) { msg.className = 'small error'; msg.textContent = 'Pick a tag and type its new name.'; return; }
  $('tag-edit-go').disabled = true;
  try {
    const r = await api('PATCH', '/api/tags/' + encodeURIComponent(from), { name: to });
    const name = (r && r.name) || to.toLowerCase();
    const i = state.filter.tags.indexOf(from);
    if (i >= 0) state.filter.tags.splice(i, 1, ...(state.filter.tags.includes(name) ? [] : [name]));
    msg.className = 'small ok';
    msg.textContent = (r && r.merged ? 'Merged “' : 'Renamed “') + from + '” into “' + name + '”.';
    $('tag-edit-to').value = '';
    await loadTags();
    onFiltersChanged();
  } catch (e) {
    msg.className = 'small error';
    msg.textContent = errText(e);
  } finally {
    $('tag-edit-go').disabled = false;
  }
}

export function renderMatch() {
  for (const b of document.querySelectorAll('.seg button[data-match]')) {
    b.setAttribute('aria-pressed', String(b.dataset.match === state.filter.match));
  }
}

export function renderActiveFilters() {
  const box = $('active-filters');
  const chips = state.filter.tags.map((t) => h('button', {
    type: 'button', class: 'chip-x', title: 'Remove tag filter ' + t,
    'aria-label': 'Remove tag filter ' + t, onclick: () => toggleTag(t),
  }, h('span', { text: '#' + t })));
  if (state.filter.q) {
    chips.push(h('button', {
      type: 'button', class: 'chip-x', 'aria-label': 'Clear search',
      onclick: () => { $('search').value = ''; searchChanged.now(); },
    }, h('span', { text: '“' + state.filter.q + '”' })));
  }
  if (chips.length > 1 || (chips.length && state.filter.tags.length > 1)) {
    chips.push(h('button', { type: 'button', class: 'btn link small', onclick: clearFilters }, 'Clear all'));
  }
  box.replaceChildren(...chips);
}

/** The search box, "all | any" and the sidebar's toggle (narrow screens). */
export function bindTags() {
  $('search').addEventListener('input', () => searchChanged());
  $('tag-edit-form').addEventListener('submit', renameTag);
  $('tag-edit-to').addEventListener('input', tagEditLabel);
  $('tag-edit-from').addEventListener('change', tagEditLabel);
  $('search').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') searchChanged.now(); });
  for (const b of document.querySelectorAll('.seg button[data-match]')) b.addEventListener('click', () => setMatch(b.dataset.match));
  $('sidebar-toggle').addEventListener('click', () => {
    const open = $('sidebar').classList.toggle('open');
    $('sidebar-toggle').setAttribute('aria-expanded', String(open));
  });
}
