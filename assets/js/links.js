/* links.js — changes to one link, from the server's answers, events or polling, carried to
 * every view of it: the grid's card, the open detail, the tag list, polling.
 *   upsertLink(link, opts)   a fresh link object (GET /api/links/{id}, POST, PATCH)
 *   patchJob(linkId, job)    only its last_job (job.* events, polling)
 *   removeLink(id, why)      deleted (here, elsewhere, or a 404)
 *   refreshLink(id, opts)    GET /api/links/{id}, coalesced per link
 */
import { toast } from './dom.js';
import { api } from './api.js';
import { state, cards } from './state.js';
import { fillCard, fillCardJob } from './cards.js';
import { renderList, renderListState } from './grid.js';
import { reloadTagsSoon } from './tags.js';
import { renderDetailLink, renderDetailJob, closeDetail } from './detail.js';
import { loadSnapshots } from './snapshots.js';
import { pollIfNeeded } from './feed.js';

/** Store a fresh link from the server and update every view of it.
 *  opts.insert: add it to the grid if missing; opts.top: move it first. */
export function upsertLink(link, opts) {
  opts = opts || {};
  const old = state.links.get(link.id);
  // keep a newer live job we learned from events if the GET raced with them
  if (old && old.last_job && link.last_job && old.last_job.id > link.last_job.id) link.last_job = old.last_job;
  state.links.set(link.id, link);
  const ids = state.list.ids;
  const i = ids.indexOf(link.id);
  if (opts.top && i > 0) ids.splice(i, 1);
  if (opts.top && i !== 0) ids.unshift(link.id);
  else if (i < 0 && opts.insert) ids.unshift(link.id);
  const c = cards.get(link.id);
  if (opts.top || (i < 0 && opts.insert)) renderList();
  else if (c) fillCard(c, link);
  if (state.detail && state.detail.id === link.id) { state.detail.link = link; renderDetailLink(); }
  pollIfNeeded();
}

/** Patch only the job part of a link (from events/polling): card + detail. */
export function patchJob(linkId, job) {
  const link = state.links.get(linkId) || (state.detail && state.detail.id === linkId && state.detail.link);
  if (!link) return false;
  const cur = link.last_job;
  if (cur && job.id != null && cur.id != null && job.id < cur.id) return true;   // older job
  const same = cur && (job.id == null || cur.id === job.id);
  link.last_job = Object.assign({ error: null, progress: 0, stage: null }, same ? cur : {}, job);
  const c = cards.get(linkId);
  if (c) fillCardJob(c, link);
  if (state.detail && state.detail.id === linkId) renderDetailJob();
  pollIfNeeded();
  return true;
}

export function removeLink(id, why) {
  state.links.delete(id);
  const i = state.list.ids.indexOf(id);
  if (i >= 0) state.list.ids.splice(i, 1);
  const c = cards.get(id);
  if (c) { c.el.remove(); cards.delete(id); }
  renderListState();
  if (state.detail && state.detail.id === id) {
    closeDetail();
    if (why) toast(why);
  }
  reloadTagsSoon();
}

/* Coalesced GET /api/links/{id}: at most one request per link in flight, plus one rerun. */
const refreshing = new Map();
export function refreshLink(id, opts) {
  opts = opts || {};
  const cur = refreshing.get(id);
  if (cur) { cur.again = true; cur.snaps = cur.snaps || !!opts.snaps; cur.insert = cur.insert || !!opts.insert; return; }
  const task = { again: true, snaps: !!opts.snaps, insert: !!opts.insert };
  refreshing.set(id, task);
  (async () => {
    try {
      while (task.again) {
        task.again = false;
        try {
          const link = await api('GET', '/api/links/' + id);
          if (link && link.id != null) upsertLink(link, { insert: task.insert });
        } catch (e) {
          if (e && e.status === 404) { removeLink(id, 'This link was deleted.'); return; }
        }
      }
      if (task.snaps && state.detail && state.detail.id === id) loadSnapshots(false);
    } finally {
      refreshing.delete(id);
    }
  })();
}
