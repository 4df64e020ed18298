/* detail.js — a link's detail: a modal <dialog> bound to the hash route #/link/ID. Its
 * header, the Capture section (last job, progress, Recapture / Cancel / Retry / Delete), the
 * Details form (title, tags) and the Capture options form (PATCH /api/links/{id} {options};
 * the fields are options.js). The Schedule section is schedule.js; the snapshots and the
 * screenshot viewer are snapshots.js and viewer.js.
 */
import { $, h, toast } from './dom.js';
import { linkLabel, externalLink, timeEl, parseTags, errText, errDetail, errorLine, badge } from './format.js';
import { api } from './api.js';
import { state, cards, ACTIVE, jobSummary } from './state.js';
import { progressEl, updateProgress } from './cards.js';
import { upsertLink, patchJob, removeLink, refreshLink } from './links.js';
import { reloadTagsSoon } from './tags.js';
import { fillSchedule, resetSchedule } from './schedule.js';
import { loadSnapshots } from './snapshots.js';
import * as captureOptions from './options.js';

let detailFromList = false;   // opened from the list in this page: close = history.back()

/** Open or close the detail from location.hash. */
export function route(fromNav) {
  const m = /^#\/link\/(\d+)$/.exec(location.hash);
  if (m) openDetail(Number(m[1]), fromNav);
  else if ($('detail').open) hideDetailDialog();
}

function openDetail(id, fromNav) {
  if (state.detail && state.detail.id === id && $('detail').open) return;
  detailFromList = !!fromNav;
  state.detail = { id, link: state.links.get(id) || null, snaps: [], cursor: null,
    loading: true, error: null, selected: null, autoSelected: true, fit: true, snapsLoaded: false };
  $('d-confirm').hidden = true;
  $('d-error').hidden = true;
  $('d-edit-msg').textContent = '';
  $('d-edit').dataset.dirty = '';
  $('d-snaps').replaceChildren();
  $('d-opts-fold').open = false;
  $('d-opts-fold').dataset.auto = '1';
  $('v-scroll').replaceChildren();
  $('v-bar').replaceChildren();
  resetSchedule();
  renderDetailLink(true);
  const dlg = $('detail');
  if (!dlg.open) dlg.showModal();
  $('d-close').focus();
  loadDetailLink(id);
  loadSnapshots(false);
}

async function loadDetailLink(id) {
  try {
    const link = await api('GET', '/api/links/' + id);
    if (!state.detail || state.detail.id !== id) return;
    state.detail.loading = false;
    autoFold(link);
    if (state.links.has(id)) upsertLink(link);
    else { state.detail.link = link; renderDetailLink(); }
  } catch (e) {
    if (!state.detail || state.detail.id !== id) return;
    state.detail.loading = false;
    state.detail.error = e;
    renderDetailLink();
  }
}

/** Close the detail and leave its hash route. Idempotent: a second call is a no-op. */
export function closeDetail() {
  if (!state.detail && !$('detail').open) return;
  const onRoute = /^#\/link\//.test(location.hash);
  const viaBack = detailFromList && onRoute;
  hideDetailDialog();
  if (viaBack) history.back();          // the list entry is right behind us
  else if (onRoute) history.replaceState(null, '', location.pathname + location.search);
}

function hideDetailDialog() {
  const id = state.detail && state.detail.id;
  state.detail = null;
  const dlg = $('detail');
  if (dlg.open) dlg.close();
  $('v-scroll').replaceChildren();   // drop the (possibly huge) decoded image
  const c = id != null && cards.get(id);
  if (c) c.refs.title.focus();
}

/** Header, edit form, job section: everything that depends on the link object. */
export function renderDetailLink(initial) {
  const d = state.detail;
  if (!d) return;
  const link = d.link;
  const errBox = $('d-error');
  if (d.error) {
    errBox.replaceChildren(d.error.status === 404 ? 'This link does not exist (any more).'
      : 'Could not load this link: ' + errText(d.error));
    errBox.hidden = false;
  } else errBox.hidden = true;
  $('detail').classList.toggle('missing', !link && !!d.error);
  $('d-title').textContent = link ? linkLabel(link) : (d.loading ? 'Loading…' : 'Link ' + d.id);
  $('d-url').replaceChildren(link ? externalLink(link.url, null) : '');
  for (const b of ['d-recapture', 'd-delete']) $(b).disabled = !link;
  if (link) fillEditForm(link, initial);
  if (link) fillSchedule(link, initial);
  if (link) fillOptions(link, initial);
  renderDetailJob();
}

function fillEditForm(link, force) {
  const form = $('d-edit');
  if (form.dataset.dirty && !force) return;
  $('d-edit-title').value = link.title || '';
  $('d-edit-tags').value = (link.tags || []).join(', ');
  form.dataset.dirty = '';
}

/* ---- the link's capture options (PATCH /api/links/{id} {options}; form in options.js) ---- */
function fillOptions(link, force) {
  const form = $('d-opts');
  if (form.dataset.dirty && !force) return;
  captureOptions.fill($('d-opts-body'), link.options);
  form.dataset.dirty = '';
  const own = link.options && typeof link.options === 'object' && Object.keys(link.options).length;
  $('d-opts-sum').textContent = own ? '· this link\'s own' : '· server defaults';
}

/** The capture options start folded when the link uses the server's defaults and open when
 *  it has options of its own: decided once per opening, from the server's answer (a link in
 *  the list may be older); the user's own folding is kept after that. */
function autoFold(link) {
  const fold = $('d-opts-fold');
  if (!fold.dataset.auto) return;
  fold.open = !!(link.options && typeof link.options === 'object' && Object.keys(link.options).length);
  fold.dataset.auto = '';
}

async function saveOptions(clear) {
  const d = state.detail;
  const msg = $('d-opts-msg');
  if (!d || !d.link) return;
  let options = null;
  try {
    if (!clear) options = captureOptions.read($('d-opts-body'));
  } catch (e) { msg.className = 'small error'; msg.textContent = e.message; return; }
  msg.className = 'small'; msg.textContent = 'Saving…';
  try {
    const link = await api('PATCH', '/api/links/' + d.id,
      { options: options && Object.keys(options).length ? options : null });
    if (link && link.id != null) upsertLink(link);
    fillOptions(link, true);
    msg.className = 'small ok'; msg.textContent = 'Saved: the next captures use them.';
  } catch (e) {
    msg.className = 'small error';
    msg.textContent = errText(e) + (errDetail(e) ? ' (' + errDetail(e) + ')' : '');
  }
}

export function renderDetailJob() {
  const d = state.detail;
  if (!d) return;
  const box = $('d-job');
  const link = d.link;
  const job = link && link.last_job;
  const snap = link && link.last_snapshot;
  if (!link) { box.replaceChildren(h('p', { class: 'muted small' }, d.loading ? 'Loading…' : '')); return; }
  const line = h('div', { class: 'd-job-line' });
  if (job) {
    line.append(badge(job.state), h('span', null, 'Last job #' + job.id));
  } else line.append(h('span', { class: 'muted' }, 'No capture job recorded.'));
  const when = snap && (snap.finished_at || snap.created_at);
  const last = h('div', { class: 'd-job-line muted' },
    when ? h('span', null, 'Last good capture ', timeEl(when)) : 'Never captured successfully.');
  const p = progressEl();
  updateProgress(p, job);
  const err = job && job.error && (job.state === 'failed' || job.state === 'canceled')
    ? h('div', { class: 'alert' }, errorLine(job.error)) : null;
  // an imported bookmark keeps the date it was bookmarked on
  const bm = link.bookmarked_at
    ? h('div', { class: 'd-job-line muted' }, h('span', null, 'Bookmarked ', timeEl(link.bookmarked_at))) : '';
  box.replaceChildren(line, last, bm, p.el, err || '');
  $('d-cancel').hidden = !(job && ACTIVE[job.state]);
  $('d-retry').hidden = !(job && (job.state === 'failed' || job.state === 'canceled'));
  $('d-recapture').disabled = !!(job && ACTIVE[job.state]);
}

async function onEditSubmit(ev) {
  ev.preventDefault();
  const d = state.detail;
  if (!d || !d.link) return;
  const title = $('d-edit-title').value.trim();
  const tags = parseTags($('d-edit-tags').value);
  const body = {};
  if (title !== (d.link.title || '')) body.title = title;
  const oldTags = d.link.tags || [];
  if (tags.length !== oldTags.length || tags.some((t, i) => t !== oldTags[i])) body.tags = tags;
  const msg = $('d-edit-msg');
  $('d-edit-title').removeAttribute('aria-invalid');
  $('d-edit-tags').removeAttribute('aria-invalid');
  if (!Object.keys(body).length) { msg.className = 'small'; msg.textContent = 'Nothing changed.'; return; }
  msg.className = 'small'; msg.textContent = 'Saving…';
  try {
    const link = await api('PATCH', '/api/links/' + d.id, body);
    $('d-edit').dataset.dirty = '';
    if (link && link.id != null) upsertLink(link);
    fillEditForm(link, true);
    msg.className = 'small ok'; msg.textContent = 'Saved.';
    reloadTagsSoon();
  } catch (e) {
    msg.className = 'small error';
    msg.textContent = errText(e) + (errDetail(e) ? ' (' + errDetail(e) + ')' : '');
    const input = e.field === 'title' ? $('d-edit-title') : e.field === 'tags' ? $('d-edit-tags') : null;
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  }
}

async function detailAction(btn, fn) {
  btn.disabled = true;
  try { await fn(); } catch (e) {
    toast(errText(e) + (errDetail(e) ? ' (' + errDetail(e) + ')' : ''), 'error');
  } finally { btn.disabled = false; renderDetailJob(); }
}

function onRecapture() {
  const id = state.detail && state.detail.id;
  return detailAction($('d-recapture'), async () => {
    const res = await api('POST', '/api/links/' + id + '/snapshots', {});
    if (res && res.job) patchJob(id, jobSummary(res.job));
    toast('Recapture queued.');
  });
}

function onJobAction(kind) {
  const d = state.detail;
  const job = d && d.link && d.link.last_job;
  if (!job) return;
  const id = d.id;
  return detailAction($(kind === 'cancel' ? 'd-cancel' : 'd-retry'), async () => {
    const j = await api('POST', '/api/jobs/' + job.id + '/' + kind, {});
    if (j && j.id != null) patchJob(id, jobSummary(j));
    toast(kind === 'cancel' ? 'Job canceled.' : 'Job queued again.');
    refreshLink(id, { snaps: true });
  });
}

function onDeleteConfirmed() {
  const id = state.detail && state.detail.id;
  return detailAction($('d-confirm-yes'), async () => {
    await api('DELETE', '/api/links/' + id);
    removeLink(id);       // also closes the detail
    toast('Link deleted.');
  });
}

/** The hash route, the dialog's close paths (button, Esc, backdrop), its buttons and forms. */
export function bindDetail() {
  // history.back() on close only when the entry behind us is the list, not another detail
  window.addEventListener('hashchange', (ev) => route(!/#\/link\/\d+$/.test(ev.oldURL || '')));
  const dlg = $('detail');
  $('d-close').addEventListener('click', closeDetail);
  dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); closeDetail(); });   // Esc
  dlg.addEventListener('click', (ev) => { if (ev.target === dlg) closeDetail(); });  // backdrop
  $('d-recapture').addEventListener('click', onRecapture);
  $('d-cancel').addEventListener('click', () => onJobAction('cancel'));
  $('d-retry').addEventListener('click', () => onJobAction('retry'));
  $('d-delete').addEventListener('click', () => { $('d-confirm').hidden = false; $('d-confirm-no').focus(); });
  $('d-confirm-no').addEventListener('click', () => { $('d-confirm').hidden = true; $('d-delete').focus(); });
  $('d-confirm-yes').addEventListener('click', onDeleteConfirmed);
  $('d-edit').addEventListener('submit', onEditSubmit);
  $('d-edit').addEventListener('input', () => { $('d-edit').dataset.dirty = '1'; $('d-edit-msg').textContent = ''; });
  $('d-opts').addEventListener('submit', (ev) => { ev.preventDefault(); saveOptions(false); });
  $('d-opts-clear').addEventListener('click', () => saveOptions(true));
  $('d-opts').addEventListener('input', () => { $('d-opts').dataset.dirty = '1'; $('d-opts-msg').textContent = ''; });
}
