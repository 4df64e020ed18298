/* main.js — the admin page's entry point (index.html loads it with <script type="module">;
 * served as it is, no build step, no dependencies). It wires the views together and boots.
 *
 * Modules (all in this folder):
 *   shared   dom.js (h(), $, toast), format.js (times, sizes, errors), token.js (token and
 *            its dialog), api.js (the REST client), state.js (the one state object)
 *   views    grid.js + cards.js (the link list), tags.js (sidebar tags, filters, search),
 *            failed.js (failed jobs), add.js (add bar) + options.js (capture options form),
 *            detail.js (a link's detail) + schedule.js, snapshots.js, viewer.js (versions),
 *            links.js (one link's changes carried to every view), feed.js (live feed),
 *            io.js (import/export/backup), hooks.js (webhooks), browsers.js (browser pool)
 * Data flow: user actions -> api() -> state -> render*(); server events (feed.js) -> patch
 * only the affected card / detail (links.js). Every server string goes in as text, never
 * as HTML. The view modules call each other's functions, so some imports are circular;
 * that is safe because no module calls another's functions while it is being evaluated
 * (only dom.js's debounce(), which imports nothing): boot() below starts everything.
 */
import { $ } from './dom.js';
import { tickTimes } from './format.js';
import { bindToken } from './token.js';
import { state } from './state.js';
import { loadLinks, bindGrid } from './grid.js';
import { loadTags, renderTags, renderMatch, renderActiveFilters, bindTags } from './tags.js';
import { loadFailed, bindFailed } from './failed.js';
import { bindAdd } from './add.js';
import { route, bindDetail } from './detail.js';
import { bindSchedule } from './schedule.js';
import { bindSnapshots } from './snapshots.js';
import { startEvents, renderTransport, bindFeed } from './feed.js';
import { initBrowsers } from './browsers.js';
import { initIo } from './io.js';
import { initHooks } from './hooks.js';

function isTyping(el) {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

/** "/" focuses the search box (not while typing or in a dialog). */
function onKeyDown(ev) {
  if (ev.key === '/' && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !isTyping(document.activeElement)
      && !$('detail').open && !$('token-dialog').open) {
    ev.preventDefault();
    $('search').focus();
    $('search').select();
  }
}

/** A new token: reopen the feed, reload what failed without it. */
function onTokenChanged() {
  startEvents();
  if (state.list.error) loadLinks(false);
  if (state.tags.error) loadTags();
  if (state.failed.error) loadFailed();
}

function boot() {
  bindAdd();
  bindTags();
  bindFeed();
  bindGrid();
  bindFailed();
  document.addEventListener('keydown', onKeyDown);
  bindDetail();
  bindSchedule();
  bindSnapshots();
  bindToken(onTokenChanged);
  renderMatch();
  renderTransport();
  renderTags();
  renderActiveFilters();
  // the feed opens once the first list is in, resuming after the list's event_id:
  // a job that finishes between the two is replayed, not missed
  loadLinks(false).finally(startEvents);
  loadTags();
  loadFailed();
  route(false);
  setInterval(tickTimes, 30000);
  initBrowsers();
  initIo();
  initHooks();
}

boot();
