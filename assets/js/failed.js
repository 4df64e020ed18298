/* failed.js — the sidebar's "Failed jobs": counts by error class, "retry" per class, "Retry
 * all failed", and "Retry failed tagged X" while one tag is selected. One API call each:
 * POST /api/jobs/retry-failed {class?, tag?}. Reloaded (debounced) on job events (feed.js).
 */
import { $, h, debounce } from './dom.js';
import { errText } from './format.js';
import { api } from './api.js';
import { state } from './state.js';

const FAILED_PAGE = 500;
let failedSeq = 0;

export async function loadFailed() {
  const seq = ++failedSeq;
  try {
    const data = await api('GET', '/api/jobs?state=failed&limit=' + FAILED_PAGE, undefined, { background: true });
    if (seq !== failedSeq) return;
    state.failed.jobs = data && Array.isArray(data.items) ? data.items : [];
    state.failed.more = !!(data && data.next_cursor);
    state.failed.error = null;
  } catch (e) {
    if (seq === failedSeq) state.failed.error = e;
  }
  if (seq === failedSeq) renderFailed();
}
export const reloadFailedSoon = debounce(loadFailed, 800);

function failedByClass() {
  const counts = new Map();
  for (const j of state.failed.jobs) {
    const cls = (j.error && j.error.class) || 'unknown';
    counts.set(cls, (counts.get(cls) || 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function renderFailed() {
  const F = state.failed;
  const n = F.jobs.length;
  $('failed').hidden = !n && !F.error;
  $('failed-total').textContent = n ? String(n) + (F.more ? '+' : '') : '';
  $('failed-list').replaceChildren(...failedByClass().map(([cls, k]) => h('li', null,
    h('span', { class: 'cls', text: cls, title: 'error class ' + cls }),
    h('span', { class: 'n', text: k }),
    h('button', {
      type: 'button', class: 'btn link small', disabled: F.busy,
      'aria-label': 'Retry the ' + k + ' failed ' + cls + ' jobs', onclick: () => retryFailed({ class: cls }),
    }, 'retry'))));
  $('retry-all').disabled = F.busy || !n;
  const tag = state.filter.tags.length === 1 ? state.filter.tags[0] : null;
  const rt = $('retry-tag');
  rt.hidden = !tag || !n;
  rt.disabled = F.busy;
  if (tag) rt.textContent = 'Retry failed tagged “' + tag + '”';
  if (F.error) $('failed-msg').textContent = 'Could not load failed jobs: ' + errText(F.error);
}

async function retryFailed(filter) {
  const F = state.failed;
  F.busy = true;
  renderFailed();
  try {
    const data = await api('POST', '/api/jobs/retry-failed', filter);
    const k = data && typeof data.retried === 'number' ? data.retried : 0;
    $('failed-msg').textContent = k ? 'Queued ' + k + (k === 1 ? ' job' : ' jobs') + ' again.'
      : 'Nothing to retry.';
  } catch (e) {
    $('failed-msg').textContent = 'Retry failed: ' + errText(e);
  } finally {
    F.busy = false;
    loadFailed();
  }
}

export function bindFailed() {
  $('retry-all').addEventListener('click', () => retryFailed({}));
  $('retry-tag').addEventListener('click', () => retryFailed({ tag: state.filter.tags[0] }));
}
