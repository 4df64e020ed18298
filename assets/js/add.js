/* add.js — the "Add a link" bar: URL, title, tags and the capture options disclosure
 * (options.js); POST /api/links (then PATCH {title} when a title was typed), the new (or
 * re-captured) link goes first in the grid; a refusal is shown under the form with the field
 * it concerns marked aria-invalid.
 * The bookmarklet: a javascript: link the user drags to the bookmarks bar. On any page it
 * opens this page at #/add?url=…&title=… (the page's URL and title); prefillFromHash() fills
 * the form and clears the hash. Nothing is added until the user presses Add (opening a URL
 * never adds a link), and the bookmarklet carries no token: this page's stored one is used.
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
  const titleIn = $('add-title');
  const tagsIn = $('add-tags');
  const btn = $('add-btn');
  const url = urlIn.value.trim();
  const title = titleIn.value.trim();
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
    let link = res.data && res.data.link;
    if (link && title && title !== link.title) {
      link = await api('PATCH', '/api/links/' + link.id, { title }) || link;
    }
    const job = res.data && res.data.job;
    if (link) {
      if (job && (!link.last_job || link.last_job.id < job.id)) link.last_job = jobSummary(job);
      upsertLink(link, { top: true });
    }
    urlIn.value = '';
    titleIn.value = '';
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
  const fields = { url: $('add-url'), title: $('add-title'), tags: $('add-tags') };
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
  for (const id of ['add-url', 'add-title', 'add-tags']) $(id).removeAttribute('aria-invalid');
  if (!text) { box.hidden = true; box.replaceChildren(); return; }
  box.className = 'add-msg ' + (kind || '');
  box.setAttribute('role', 'status');
  box.textContent = text;
  box.hidden = false;
  addMsgTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

/** The bookmarklet's code: open this page's add form with the current page's URL and
 *  title (a new window; where pop-ups are refused, the same tab). No token in it. */
export function bookmarkletCode(base) {
  const target = JSON.stringify(base + '#/add?url=');
  return 'javascript:(function(){var u=' + target + '+encodeURIComponent(location.href)'
    + "+'&title='+encodeURIComponent(document.title);"
    + "var w=window.open(u,'snapcat');if(!w)location.href=u;})()";
}

/** #/add?url=…&title=…&tags=… (the bookmarklet): fill the form, clear the hash. */
export function prefillFromHash() {
  const m = /^#\/add\?(.*)$/.exec(location.hash);
  if (!m) return false;
  const p = new URLSearchParams(m[1]);
  $('add-url').value = (p.get('url') || '').slice(0, 8192);
  $('add-title').value = (p.get('title') || '').slice(0, 1000);
  if (p.get('tags')) $('add-tags').value = p.get('tags').slice(0, 1000);
  history.replaceState(null, '', location.pathname + location.search);
  showAddMsg('From the bookmarklet: check the fields and press Add.', 'ok');
  $('add-tags').focus();
  return true;
}

export function bindAdd() {
  $('add-form').addEventListener('submit', onAddSubmit);
  for (const id of ['add-url', 'add-title', 'add-tags']) {
    $(id).addEventListener('input', () => $(id).removeAttribute('aria-invalid'));
  }
  captureOptions.render($('add-opts-body'));
  const bm = $('bookmarklet');
  bm.setAttribute('href', bookmarkletCode(location.origin + location.pathname));
  // in this page a click would only be blocked by its CSP: say what to do instead
  bm.addEventListener('click', (ev) => {
    ev.preventDefault();
    showAddMsg('Drag "+ snapcat" to your bookmarks bar, then click it on any page to add that page here.', 'ok');
  });
  window.addEventListener('hashchange', prefillFromHash);
  prefillFromHash();
}
