/* cards.js — one link's card in the grid: thumbnail, title, URL, tags (click to filter),
 * state badge, capture time, progress bar and error line. Built once per link and updated
 * in place (fill*), so the thumbnail does not reload. progressEl/updateProgress are also the
 * detail's progress bar.
 */
import { h } from './dom.js';
import { linkLabel, externalLink, timeEl, errorLine, badge } from './format.js';
import { setImage } from './api.js';
import { state, ACTIVE } from './state.js';
import { toggleTag } from './tags.js';

export function buildCard(id) {
  const href = '#/link/' + id;
  const img = h('img', { alt: '', loading: 'lazy', decoding: 'async', width: '400', height: '250' });
  const ph = h('div', { class: 'thumb-ph' });
  const refs = {
    img, ph,
    title: h('a', { href }),
    url: h('div', { class: 'card-url' }),
    tags: h('div', { class: 'tags' }),
    meta: h('div', { class: 'card-meta' }),
    err: h('div', { class: 'card-err' }),
    prog: progressEl(),
  };
  const el = h('article', { class: 'card' },
    h('a', { class: 'thumb', href, tabindex: '-1', 'aria-hidden': 'true' }, img, ph),
    h('div', { class: 'card-body' },
      h('h3', { class: 'card-title' }, refs.title),
      refs.url, refs.tags, refs.prog.el, refs.err, refs.meta));
  el.dataset.id = String(id);
  return { el, refs };
}

/** Update every field of a card from its link; the thumbnail only when its URL changed. */
export function fillCard(c, link) {
  const r = c.refs;
  r.title.textContent = linkLabel(link);
  r.url.replaceChildren(externalLink(link.url, null));
  fillThumb(r, link);
  fillTags(r.tags, link);
  fillCardJob(c, link);
}

function fillThumb(r, link) {
  const snap = link.last_snapshot;
  const url = snap && snap.thumb_url;
  if (url && r.img.dataset.src === url) return;
  if (!url) {
    r.img.hidden = true;
    r.img.removeAttribute('src');
    delete r.img.dataset.src;
    r.ph.hidden = false;
    r.ph.textContent = placeholderText(link);
    return;
  }
  r.img.hidden = false;
  r.ph.hidden = true;
  setImage(r.img, url, () => { r.img.hidden = true; r.ph.hidden = false; r.ph.textContent = 'Thumbnail unavailable'; });
}

/** The card's tag buttons (pressed when the tag is a filter). */
export function fillTags(box, link) {
  if (!link) return;
  const tags = Array.isArray(link.tags) ? link.tags : [];
  box.replaceChildren(...tags.map((t) => h('button', {
    type: 'button', class: 'tag', 'aria-pressed': String(state.filter.tags.includes(t)),
    title: 'Filter by tag ' + t, onclick: () => toggleTag(t),
  }, String(t))));
  box.hidden = !tags.length;
}

export function placeholderText(link) {
  const st = link && link.last_job && link.last_job.state;
  return st === 'queued' ? 'Waiting to capture…' : st === 'running' ? 'Capturing…' : 'No screenshot yet';
}

/** State badge, capture time, progress bar and error line of a card. */
export function fillCardJob(c, link) {
  const r = c.refs;
  const job = link.last_job;
  const snap = link.last_snapshot;
  const meta = [];
  if (job && job.state) meta.push(badge(job.state));
  else if (snap) meta.push(badge(snap.state || 'ok'));
  else meta.push(badge('new'));
  if (job && job.state && snap && snap.state === 'partial') meta.push(badge('partial'));
  const when = snap && (snap.finished_at || snap.created_at);
  meta.push(when ? timeEl(when, 'captured ') : h('span', null, 'never captured'));
  r.meta.replaceChildren(...meta);
  updateProgress(r.prog, job);
  const e = job && job.state === 'failed' && job.error;
  r.err.textContent = e ? errorLine(e) : '';
  r.err.hidden = !e;
  if (!snap || !snap.thumb_url) r.ph.textContent = placeholderText(link);
}

export function progressEl() {
  const bar = h('div', { class: 'progress-bar' });
  const track = h('div', {
    class: 'progress-track', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
    'aria-label': 'Capture progress',
  }, bar);
  const label = h('div', { class: 'progress-label' });
  const el = h('div', { class: 'progress' }, track, label);
  el.hidden = true;
  return { el, track, bar, label };
}

/** A stage's label: "screenshot · 63% · tile 3 of 7 · ~9 s left" (the note and the
 * time left come within a long screenshot stage, from job.progress events; past the
 * estimate, "· 31 s so far"). */
export function progressLabel(job, pct) {
  const parts = [(job.stage || 'running'), pct + '%'];
  if (job.detail) parts.push(job.detail);
  if (typeof job.eta_ms === 'number' && job.eta_ms > 0) parts.push('~' + Math.ceil(job.eta_ms / 1000) + ' s left');
  else if (typeof job.elapsed_ms === 'number') parts.push(Math.floor(job.elapsed_ms / 1000) + ' s so far');
  return parts.join(' · ');
}

/** Show/hide and set a progress bar from a job summary {state, progress, stage, detail, eta_ms, elapsed_ms}. */
export function updateProgress(p, job) {
  const active = !!(job && ACTIVE[job.state]);
  p.el.hidden = !active;
  if (!active) return;
  const queued = job.state === 'queued';
  const pct = Math.max(0, Math.min(100, Number(job.progress) || 0));
  p.el.classList.toggle('queued', queued);
  p.bar.style.width = pct + '%';
  if (queued) p.track.removeAttribute('aria-valuenow');
  else p.track.setAttribute('aria-valuenow', String(pct));
  p.label.textContent = queued ? 'queued — waiting for a browser' : progressLabel(job, pct);
}
