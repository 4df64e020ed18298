/* add.js — the "Add a link" bar: URL, tags and the capture options disclosure (options.js);
 * POST /api/links, the new (or re-captured) link goes first in the grid; a refusal is shown
 * under the form with the field it concerns marked aria-invalid.
 */
import { $, h } from './dom.js';
import { parseTags, errText, errDetail } from './format.js';
import { api, ApiError } from './api.js';
import { jobSummary } from './state.js';
import { upsertLink } from './links.js';
import { reloadTagsSoon } from './tags.js';
import * as captureOptions from './options.js';

async function onAddSubmit(ev) {
  ev.preventDefault();
  const urlIn = $('add-url');
  const tagsIn = $('add-tags');
  const btn = $('add-btn');
  const url = urlIn.value.trim();
  const tags = parseTags(tagsIn.value);
  showAddMsg(null);
  if (!url) {
    showAddError(new ApiError(0, null, 'Paste a URL to capture.', 'url'));
    return;
  }
  const body = { url, tags };
  try {
    const options = captureOptions.read($('add-opts-body'));
    if (Object.keys(options).length) body.options = options;
  } catch (e) {
    showAddError(new ApiError(0, null, e.message, 'options'));
    return;
  }
  btn.disabled = true;
  btn.textContent = 'Adding…';
  try {
    const res = await api('POST', '/api/links', body, { withStatus: true });
    const link = res.data && res.data.link;
    const job = res.data && res.data.job;
    if (link) {
      if (job && (!link.last_job || link.last_job.id < job.id)) link.last_job = jobSummary(job);
      upsertLink(link, { top: true });
    }
    urlIn.value = '';
    tagsIn.value = '';
    showAddMsg(res.status === 200 ? 'Already saved — capturing it again.' : 'Added — capturing now.', 'ok');
    reloadTagsSoon();
    urlIn.focus();
  } catch (e) {
    showAddError(e);
  } finally {
    btn.disabled = false;
    btn.textContent = 'Add';
  }
}

function showAddError(e) {
  const fields = { url: $('add-url'), tags: $('add-tags') };
  const detail = errDetail(e);
  showAddMsg(null);
  const box = $('add-msg');
  box.className = 'add-msg error';
  box.setAttribute('role', 'alert');
  box.replaceChildren(h('strong', null, 'Could not add: '), errText(e),
    detail ? h('span', { class: 'detail-code' }, detail) : null);
  box.hidden = false;
  const input = e && e.field ? fields[e.field] : null;
  if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  if (e && e.field === 'options') $('add-opts').open = true;
}

let addMsgTimer = 0;
function showAddMsg(text, kind) {
  const box = $('add-msg');
  clearTimeout(addMsgTimer);
  $('add-url').removeAttribute('aria-invalid');
  $('add-tags').removeAttribute('aria-invalid');
  if (!text) { box.hidden = true; box.replaceChildren(); return; }
  box.className = 'add-msg ' + (kind || '');
  box.setAttribute('role', 'status');
  box.textContent = text;
  box.hidden = false;
  addMsgTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

export function bindAdd() {
  $('add-form').addEventListener('submit', onAddSubmit);
  for (const id of ['add-url', 'add-tags']) {
    $(id).addEventListener('input', () => $(id).removeAttribute('aria-invalid'));
  }
  captureOptions.render($('add-opts-body'));
}
