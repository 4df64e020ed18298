/* state.js — the admin page's state, one object shared by the view modules:
 *   filters, the loaded links (id -> link as the server sent it, plus live patches), the
 *   list's ids and cursor, tags, failed jobs, the open detail, the connection state;
 *   cards: the grid's card per link id (built by cards.js, placed by grid.js).
 * Views render from it (render*), user actions and server events mutate it and re-render
 * only what changed (links.js, feed.js).
 */

export const ACTIVE = { queued: true, running: true };

export const state = {
  filter: { tags: [], match: 'all', q: '' },
  links: new Map(),                 // id -> link object as the server sent it (+ patches)
  list: { ids: [], cursor: null, loading: false, loaded: false, error: null, seq: 0 },
  tags: { items: [], loading: false, error: null },
  failed: { jobs: [], more: false, busy: false, error: null },   // failed jobs, for "retry"
  detail: null,                     // { id, link, snaps, cursor, loading, error, selected, fit }
  conn: 'connecting',
};

export const cards = new Map();     // id -> { el, refs } for the grid

export function hasFilters() {
  return state.filter.tags.length > 0 || state.filter.q !== '';
}

export function jobActive(link) {
  return !!(link && link.last_job && ACTIVE[link.last_job.state]);
}

/** The links (listed, or open in the detail) whose job we last saw queued/running. */
export function activeLinkIds() {
  const ids = [];
  for (const id of state.list.ids) if (jobActive(state.links.get(id))) ids.push(id);
  const d = state.detail;
  if (d && d.link && jobActive(d.link) && !ids.includes(d.id)) ids.push(d.id);
  return ids;
}

/** A link's last_job from a job object of the API. */
export function jobSummary(job) {
  return { id: job.id, state: job.state, progress: job.progress || 0, stage: job.stage || null, detail: null, eta_ms: null, elapsed_ms: null, error: job.error || null };
}
