/* snapcat admin page — plain JavaScript, no build step, no dependencies.
 *
 * Data flow
 *   state  (one object below: filters, the loaded links, tags, the open detail, connection)
 *     -> render*()   build or update DOM from state; every server string goes in as text
 *                    (textContent / createElement via h()), never as HTML.
 *   user actions -> api() -> mutate state -> render*()
 *   server events -> onServerEvent() -> patch*() only the affected card / detail panel.
 *     One EventSource per tab (/api/events[?token=]), or, by the header's "SSE | WebSocket"
 *     switch (kept in localStorage 'snapcat.live'), one WebSocket (/api/ws[?token=], then
 *     {"op":"subscribe","after":<last id seen>}) with the same event handling.
 *     job.queued/started/progress patch the link's last_job in place;
 *     job.done/job.failed/link.updated re-fetch that link
 *     (GET /api/links/{id}); link.deleted removes it. If the stream keeps failing (or
 *     EventSource is missing) we poll GET /api/jobs?state=running|queued every 2 s while
 *     any visible job is queued/running, and try the stream again later.
 *   auth: api() adds "Authorization: Bearer <token>"; a 401 opens the token dialog and
 *     the request is retried with the new token. <img>/download URLs get ?token= (they
 *     cannot carry headers) with a fetch()+blob fallback.
 *
 * Sections: helpers · api/auth · list + tags · cards · detail · events/polling · boot.
 */
(function () {
  'use strict';

  const PAGE_SIZE = 24;
  const SNAP_PAGE = 20;
  const TOKEN_KEY = 'snapcat.token';
  const SEARCH_DEBOUNCE_MS = 300;
  const POLL_MS = 2000;
  const SSE_MAX_FAILS = 3;          // consecutive failures before falling back to polling
  const SSE_RETRY_FROM_POLL_MS = 30000;
  const ACTIVE = { queued: true, running: true };
  const EVENT_TYPES = ['job.queued', 'job.started', 'job.progress', 'job.done', 'job.failed',
    'job.canceled', 'link.updated', 'link.deleted', 'snapshot.changed', 'ping'];

  const state = {
    token: readToken(),
    filter: { tags: [], match: 'all', q: '' },
    links: new Map(),                 // id -> link object as the server sent it (+ patches)
    list: { ids: [], cursor: null, loading: false, loaded: false, error: null, seq: 0 },
    tags: { items: [], loading: false, error: null },
    failed: { jobs: [], more: false, busy: false, error: null },   // failed jobs, for "retry"
    detail: null,                     // { id, link, snaps, cursor, loading, error, selected, fit }
    conn: 'connecting',
  };

  const $ = (id) => document.getElementById(id);
  const cards = new Map();            // id -> { el, refs } for the grid

  /* ------------------------------------------------------------------ helpers */

  /** Create an element. attrs: class, text, on<event>, or plain attributes. Children are
   *  nodes or strings (strings become text nodes, never HTML). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  function readToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function saveToken(t) {
    state.token = t;
    try { if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
  }

  /** Only absolute http(s) URLs may become links to captured pages. */
  function safeHref(u) {
    return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
  }

  /** URL of a server asset (png, thumb, mhtml): same-origin paths only, plus ?token=. */
  function assetUrl(u) {
    if (typeof u !== 'string' || u[0] !== '/' || u[1] === '/' || u[1] === '\\') return null;
    if (!state.token) return u;
    return u + (u.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(state.token);
  }

  /** External link (new tab, no opener, no referrer) or plain text when not http(s). */
  function externalLink(url, text, cls) {
    const href = safeHref(url);
    const label = text == null ? String(url == null ? '' : url) : text;
    if (!href) return h('span', { class: cls, title: String(url || '') }, label);
    return h('a', { class: cls, href, target: '_blank', rel: 'noopener noreferrer', title: href }, label);
  }

  function relTime(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return '—';
    const s = Math.round((Date.now() - t) / 1000);
    if (s < -60) return 'in ' + inTime(-s);
    if (s < 45) return 'just now';
    const m = Math.round(s / 60);
    if (m < 60) return m + ' min ago';
    const hr = Math.round(m / 60);
    if (hr < 24) return hr + ' h ago';
    const d = Math.round(hr / 24);
    if (d < 31) return d === 1 ? 'yesterday' : d + ' days ago';
    return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  }

  /** "5 min", "3 h", "2 days" for a span of s seconds ahead. */
  function inTime(s) {
    const m = Math.round(s / 60);
    if (m < 60) return m + ' min';
    const hr = Math.round(m / 60);
    if (hr < 48) return hr + ' h';
    return Math.round(hr / 24) + ' days';
  }

  /** <time> showing relative time, ISO in the title; refreshed by tickTimes(). */
  function timeEl(iso, prefix) {
    const el = h('time', { class: 'rel', datetime: iso, title: iso });
    el.dataset.ts = iso;
    el.dataset.prefix = prefix || '';
    el.textContent = (prefix || '') + relTime(iso);
    return el;
  }
  function tickTimes() {
    for (const el of document.querySelectorAll('time.rel')) {
      el.textContent = (el.dataset.prefix || '') + relTime(el.dataset.ts);
    }
  }

  function fmtBytes(n) {
    if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
    if (n < 1024) return n + ' B';
    const units = ['KB', 'MB', 'GB', 'TB'];
    let v = n / 1024, i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i];
  }
  function fmtMs(ms) {
    if (typeof ms !== 'number') return String(ms);
    return ms < 1000 ? ms + '\u00a0ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + '\u00a0s';
  }

  function parseTags(text) {
    const out = [];
    for (const t of String(text || '').split(/[\s,]+/)) if (t && !out.includes(t)) out.push(t);
    return out;
  }

  function hostOf(url) {
    try { return new URL(url).host || url; } catch (e) { return String(url || ''); }
  }
  function linkLabel(link) {
    return (link.title && String(link.title).trim()) || hostOf(link.url) || ('Link ' + link.id);
  }

  function debounce(fn, ms) {
    let t = 0;
    const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
    d.now = (...a) => { clearTimeout(t); fn(...a); };
    return d;
  }

  let toastTimer = 0;
  function toast(msg, kind) {
    const el = $('toast');
    el.textContent = msg;
    el.className = 'toast' + (kind === 'error' ? ' error' : '');
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 6000 : 3500);
  }

  /** Human text for an ApiError or any thrown thing. */
  function errText(e) {
    if (!e) return 'Unknown error';
    return e.message || String(e);
  }
  /** "HTTP 400 · invalid_field · field: url" (empty for network errors). */
  function errDetail(e) {
    const parts = [];
    if (e && e.status) parts.push('HTTP ' + e.status);
    if (e && e.code && e.status) parts.push(e.code);
    if (e && e.field) parts.push('field: ' + e.field);
    return parts.join(' · ');
  }

  /* ------------------------------------------------------------------ api / auth */

  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status; this.code = code; this.field = field || null;
    }
  }

  async function readJson(res) {
    const text = await res.text();
    if (!text) return null;
    try { return JSON.parse(text); } catch (e) { return { _raw: text }; }
  }

  function toApiError(res, data) {
    const e = data && data.error;
    if (e && typeof e === 'object') {
      return new ApiError(res.status, e.code || null, e.message || ('HTTP ' + res.status), e.field);
    }
    return new ApiError(res.status, null, 'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : ''));
  }

  /** JSON request to the API. Resolves with the parsed body (null for 204), or with
   *  { status, data } when opts.withStatus. Rejects with ApiError (status 0 = network).
   *  A 401 asks for a token and retries; dismissing the prompt rejects with the 401.
   *  opts.signal: AbortSignal; opts.background: never prompt again once dismissed. */
  async function api(method, path, body, opts) {
    opts = opts || {};
    for (;;) {
      const headers = { Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (state.token) headers.Authorization = 'Bearer ' + state.token;
      let res;
      try {
        res = await fetch(path, {
          method, headers, cache: 'no-store', signal: opts.signal,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        if (e && e.name === 'AbortError') throw e;
        throw new ApiError(0, 'network', 'Cannot reach the snapcat server. Is it running?');
      }
      const data = res.status === 204 ? null : await readJson(res);
      if (res.status === 401) {
        const err = toApiError(res, data);
        if (opts.background && tokenDismissed) throw err;   // don't nag after "Cancel"
        const usedToken = state.token;
        const ok = await askToken(usedToken ? 'The token was rejected. Enter a valid token.' : null);
        if (!ok) throw err;
        continue;
      }
      if (!res.ok) throw toApiError(res, data);
      return opts.withStatus ? { status: res.status, data } : data;
    }
  }

  /* Token dialog: one pending prompt shared by every request that hit a 401. */
  let tokenWaiters = null;   // array of resolve fns while the dialog is open for a 401
  let tokenDismissed = false; // user pressed Cancel: background requests stop prompting

  function askToken(message) {
    return new Promise((resolve) => {
      if (tokenWaiters) { tokenWaiters.push(resolve); return; }
      tokenWaiters = [resolve];
      openTokenDialog(message);
    });
  }

  function openTokenDialog(message) {
    const dlg = $('token-dialog');
    const msg = $('token-msg');
    msg.textContent = message || (tokenWaiters ? 'This snapcat server needs an access token.'
      : 'Set the access token used for API requests.');
    msg.className = message ? 'error' : '';
    $('token-input').value = state.token;
    $('token-forget').hidden = !state.token;
    if (!dlg.open) dlg.showModal();
    $('token-input').focus();
  }

  function finishTokenDialog(ok) {
    const dlg = $('token-dialog');
    if (dlg.open) dlg.close();
    const waiters = tokenWaiters || [];
    tokenWaiters = null;
    tokenDismissed = !ok;
    for (const w of waiters) w(ok);
  }

  function onTokenSubmit(ev) {
    ev.preventDefault();
    const t = $('token-input').value.trim();
    const changed = t !== state.token;
    saveToken(t);
    finishTokenDialog(true);
    if (changed) onTokenChanged();
  }

  function onTokenChanged() {
    startEvents();
    if (state.list.error) loadLinks(false);
    if (state.tags.error) loadTags();
    if (state.failed.error) loadFailed();
  }

  /** Load an authenticated image: ?token= URL first, then fetch()+blob with the header. */
  function setImage(img, url, onFail) {
    const src = assetUrl(url);
    if (!src) { if (onFail) onFail(); return; }
    img.dataset.src = url;
    img.onerror = () => {
      if (img.dataset.src !== url) return;
      if (state.token && !img.dataset.blobTried) {
        img.dataset.blobTried = '1';
        fetchBlob(url).then((b) => {
          if (img.dataset.src === url) img.src = URL.createObjectURL(b);
        }).catch(() => { if (onFail) onFail(); });
      } else if (onFail) onFail();
    };
    img.onload = () => { if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src); };
    delete img.dataset.blobTried;
    img.src = src;
  }

  async function fetchBlob(url) {
    const res = await fetch(url, { headers: state.token ? { Authorization: 'Bearer ' + state.token } : {} });
    if (!res.ok) throw new ApiError(res.status, null, 'HTTP ' + res.status);
    return res.blob();
  }

  /** Download link for an attachment (MHTML). With a token, clicking fetches with the
   *  header and saves the blob, so it works even if the server ignores ?token= there. */
  function downloadLink(url, label, filename) {
    const href = assetUrl(url);
    if (!href) return null;
    const a = h('a', { href, download: filename || '' }, label);
    a.addEventListener('click', (ev) => {
      if (!state.token) return;
      ev.preventDefault();
      fetchBlob(url).then((b) => {
        const tmp = h('a', { href: URL.createObjectURL(b), download: filename || 'snapshot.mhtml' });
        document.body.append(tmp);
        tmp.click();
        setTimeout(() => { URL.revokeObjectURL(tmp.href); tmp.remove(); }, 1000);
      }).catch((e) => toast('Download failed: ' + errText(e), 'error'));
    });
    return a;
  }

  /* ------------------------------------------------------------------ list + tags */

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
  async function loadLinks(append) {
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
      // the feed resumes after the newest event this list reflects (see boot)
      if (!append && !live.started && data && Number.isSafeInteger(data.event_id)) {
        live.lastId = Math.max(live.lastId, data.event_id);
        live.fromList = true;      // resume there even at 0 (= from the first event)
      }
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

  let tagsSeq = 0;
  async function loadTags() {
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
  const reloadTagsSoon = debounce(loadTags, 600);

  /* ------------------------------------------------------------ failed jobs */

  /* The sidebar's "Failed jobs": counts by error class, "retry" per class, "Retry all
   * failed", and "Retry failed tagged X" while one tag is selected. One API call each:
   * POST /api/jobs/retry-failed {class?, tag?}. */
  const FAILED_PAGE = 500;
  let failedSeq = 0;

  async function loadFailed() {
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
  const reloadFailedSoon = debounce(loadFailed, 800);

  function failedByClass() {
    const counts = new Map();
    for (const j of state.failed.jobs) {
      const cls = (j.error && j.error.class) || 'unknown';
      counts.set(cls, (counts.get(cls) || 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  function renderFailed() {
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

  function hasFilters() {
    return state.filter.tags.length > 0 || state.filter.q !== '';
  }

  function toggleTag(name) {
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

  function clearFilters() {
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

  function renderTags() {
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
  }

  function renderMatch() {
    for (const b of document.querySelectorAll('.seg button[data-match]')) {
      b.setAttribute('aria-pressed', String(b.dataset.match === state.filter.match));
    }
  }

  function renderActiveFilters() {
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

  /** Reconcile the grid with state.list.ids (cards are reused, so images do not reload). */
  function renderList() {
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

  function renderListState() {
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

  function renderSummary() {
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

  /* ------------------------------------------------------------------ cards */

  function buildCard(id) {
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
  function fillCard(c, link) {
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

  function fillTags(box, link) {
    if (!link) return;
    const tags = Array.isArray(link.tags) ? link.tags : [];
    box.replaceChildren(...tags.map((t) => h('button', {
      type: 'button', class: 'tag', 'aria-pressed': String(state.filter.tags.includes(t)),
      title: 'Filter by tag ' + t, onclick: () => toggleTag(t),
    }, String(t))));
    box.hidden = !tags.length;
  }

  function placeholderText(link) {
    const st = link && link.last_job && link.last_job.state;
    return st === 'queued' ? 'Waiting to capture…' : st === 'running' ? 'Capturing…' : 'No screenshot yet';
  }

  function jobActive(link) {
    return !!(link && link.last_job && ACTIVE[link.last_job.state]);
  }

  /** State badge, capture time, progress bar and error line of a card. */
  function fillCardJob(c, link) {
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

  function errorLine(e) {
    if (!e) return '';
    if (typeof e === 'string') return e;
    return (e.class ? e.class + ': ' : '') + (e.message || '');
  }

  function badge(st) {
    return h('span', { class: 'badge st-' + String(st).replace(/[^a-z_-]/gi, '') }, String(st));
  }

  function progressEl() {
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

  /** Show/hide and set a progress bar from a job summary {state, progress, stage}. */
  function updateProgress(p, job) {
    const active = !!(job && ACTIVE[job.state]);
    p.el.hidden = !active;
    if (!active) return;
    const queued = job.state === 'queued';
    const pct = Math.max(0, Math.min(100, Number(job.progress) || 0));
    p.el.classList.toggle('queued', queued);
    p.bar.style.width = pct + '%';
    if (queued) p.track.removeAttribute('aria-valuenow');
    else p.track.setAttribute('aria-valuenow', String(pct));
    p.label.textContent = queued ? 'queued — waiting for a browser'
      : (job.stage ? job.stage + ' · ' : 'running · ') + pct + '%';
  }

  /* ------------------------------------------------------------------ link mutations */

  /** Store a fresh link from the server and update every view of it.
   *  opts.insert: add it to the grid if missing; opts.top: move it first. */
  function upsertLink(link, opts) {
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
  function patchJob(linkId, job) {
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

  function removeLink(id, why) {
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
  function refreshLink(id, opts) {
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

  /* ------------------------------------------------------------------ add form */

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
      const options = window.SnapcatOptions.read($('add-opts-body'));   // options.js
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

  function jobSummary(job) {
    return { id: job.id, state: job.state, progress: job.progress || 0, stage: job.stage || null, error: job.error || null };
  }

  /* ------------------------------------------------------------------ detail view */

  /* The detail is a modal <dialog> bound to the hash route #/link/ID. */
  let detailFromList = false;   // opened from the list in this page: close = history.back()

  function route(fromNav) {
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
    $('v-scroll').replaceChildren();
    $('v-bar').replaceChildren();
    $('d-sched-scope').replaceChildren(h('option', { value: '' }, 'this link'));
    $('d-sched').dataset.dirty = '';       // a new link: nothing typed for it yet
    $('d-sched-msg').textContent = '';
    $('d-sched-spec').removeAttribute('aria-invalid');
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
  function closeDetail() {
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
  function renderDetailLink(initial) {
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
    window.SnapcatOptions.fill($('d-opts-body'), link.options);
    form.dataset.dirty = '';
  }

  async function saveOptions(clear) {
    const d = state.detail;
    const msg = $('d-opts-msg');
    if (!d || !d.link) return;
    let options = null;
    try {
      if (!clear) options = window.SnapcatOptions.read($('d-opts-body'));
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

  /* ---- the link's recapture schedule and retention (PUT /api/links/{id}/schedule) ---- */
  const SCHED_PRESETS = ['hourly', 'daily', 'weekly'];

  function fillSchedule(link, force) {
    const form = $('d-sched');
    const scope = $('d-sched-scope');
    fillScopes(link);
    if (scope.value) return;   // a tag's schedule is on show
    const s = link.schedule || {};
    if (!form.dataset.dirty || force) {
      showSchedule(s);
      form.dataset.dirty = '';
    }
    const tags = $('d-sched-tags');
    tags.hidden = !s.from_tags;
    tags.textContent = s.from_tags ? 'From its tags: ' + s.from_tags + ' (a schedule set here wins)' : '';
    $('d-sched-next').replaceChildren(...(s.next_capture_at ? ['Next capture ', timeEl(s.next_capture_at),
      ' (' + new Date(s.next_capture_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) + ')'] : []));
  }

  /** "this link" and one "links tagged X" per tag of the link. */
  function fillScopes(link) {
    const scope = $('d-sched-scope');
    const tags = link.tags || [];
    const have = [...scope.options].slice(1).map((o) => o.value);
    if (have.length === tags.length && have.every((t, i) => t === tags[i])) return;  // same tags: keep the choice
    const keep = scope.value;
    scope.replaceChildren(h('option', { value: '' }, 'this link'),
      ...tags.map((t) => h('option', { value: t }, 'all links tagged ' + t)));
    scope.value = tags.includes(keep) ? keep : '';
  }

  function showSchedule(s) {
    const spec = s.schedule || '';
    $('d-sched-preset').value = !spec ? '' : SCHED_PRESETS.includes(spec) ? spec : 'custom';
    $('d-sched-spec').value = SCHED_PRESETS.includes(spec) ? '' : spec;
    $('d-sched-spec').hidden = $('d-sched-preset').value !== 'custom';
    $('d-sched-keep').value = s.keep_last || '';
    $('d-sched-changed').checked = !!s.keep_changed;
  }

  /** The scope changed: show the tag's schedule (or the link's again). */
  async function onScheduleScope() {
    const d = state.detail;
    const tag = $('d-sched-scope').value;
    const msg = $('d-sched-msg');
    msg.textContent = '';
    $('d-sched').dataset.dirty = '';
    if (!tag) { if (d && d.link) fillSchedule(d.link, true); return; }
    $('d-sched-tags').hidden = true;
    $('d-sched-next').textContent = '';
    try {
      const s = await api('GET', '/api/tags/' + encodeURIComponent(tag) + '/schedule');
      if ($('d-sched-scope').value !== tag) return;
      showSchedule(s);
      $('d-sched-next').textContent = s.links + (s.links === 1 ? ' link' : ' links') + ' tagged ' + tag +
        '; a link\'s own schedule wins over its tags\'.';
    } catch (e) {
      msg.className = 'small err'; msg.textContent = errText(e);
    }
  }

  async function onScheduleSubmit(ev) {
    ev.preventDefault();
    const d = state.detail;
    if (!d || !d.link) return;
    const preset = $('d-sched-preset').value;
    const keep = $('d-sched-keep').value.trim();
    const body = {
      schedule: preset === 'custom' ? $('d-sched-spec').value.trim() || null : preset || null,
      keep_last: keep ? Number(keep) : null,
      keep_changed: $('d-sched-changed').checked,
    };
    const msg = $('d-sched-msg');
    msg.className = 'small'; msg.textContent = 'Saving…';
    $('d-sched-spec').removeAttribute('aria-invalid');
    const tag = $('d-sched-scope').value;
    try {
      if (tag) {
        const s = await api('PUT', '/api/tags/' + encodeURIComponent(tag) + '/schedule', body);
        $('d-sched').dataset.dirty = '';
        msg.className = 'small ok';
        msg.textContent = 'Saved for ' + s.links + (s.links === 1 ? ' link' : ' links') + ' tagged ' + tag + '.';
        refreshLink(d.id, {});
        return;
      }
      const s = await api('PUT', '/api/links/' + d.id + '/schedule', body);
      d.link = Object.assign({}, d.link, { schedule: s });
      $('d-sched').dataset.dirty = '';
      fillSchedule(d.link, true);
      msg.className = 'small ok'; msg.textContent = 'Saved.';
    } catch (e) {
      msg.className = 'small err'; msg.textContent = errText(e);
      if (e && e.field === 'schedule') $('d-sched-spec').setAttribute('aria-invalid', 'true');
    }
  }

  function renderDetailJob() {
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

  async function loadSnapshots(append) {
    const d = state.detail;
    if (!d) return;
    const id = d.id;
    const p = new URLSearchParams({ limit: String(SNAP_PAGE) });
    if (append && d.cursor) p.set('cursor', d.cursor);
    $('d-snaps-state').textContent = 'Loading snapshots…';
    $('d-snaps-more').disabled = true;
    try {
      const data = await api('GET', '/api/links/' + id + '/snapshots?' + p.toString());
      if (!state.detail || state.detail.id !== id) return;
      const items = data && Array.isArray(data.items) ? data.items : [];
      d.snaps = append ? d.snaps.concat(items) : items;
      d.cursor = (data && data.next_cursor) || null;
      d.snapsError = null;
      d.snapsLoaded = true;
    } catch (e) {
      if (!state.detail || state.detail.id !== id) return;
      d.snapsError = e;
    }
    renderSnapshots();
    // follow the newest screenshot until the user picks one
    const keep = !d.autoSelected && d.snaps.some((s) => s.id === d.selected);
    selectSnapshot(keep ? d.selected : defaultSnapshot(d.snaps));
  }

  function defaultSnapshot(snaps) {
    const s = snaps.find((x) => x.png_url) || snaps[0];
    return s ? s.id : null;
  }

  function renderSnapshots() {
    const d = state.detail;
    if (!d) return;
    $('d-snaps').replaceChildren(...d.snaps.map(snapshotItem));
    const st = $('d-snaps-state');
    if (d.snapsError) {
      st.replaceChildren(h('span', { class: 'err' }, 'Could not load snapshots: ' + errText(d.snapsError) + ' '),
        h('button', { type: 'button', class: 'btn link', onclick: () => loadSnapshots(false) }, 'Retry'));
    } else st.textContent = d.snapsLoaded && !d.snaps.length ? 'No snapshots yet.' : '';
    const more = $('d-snaps-more');
    more.hidden = !d.cursor;
    more.disabled = false;
  }

  /** One snapshot of the history. The selected one shows everything (HTTP status, final URL,
   *  size, files, timings, error); the others show a one-line summary. */
  function snapshotItem(s) {
    const d = state.detail;
    const selected = d && d.selected === s.id;
    const pick = () => {
      d.autoSelected = false;
      selectSnapshot(s.id);
      if (s.png_url) $('v-scroll').focus({ preventScroll: !narrow() });
    };
    const top = h('div', { class: 'snap-top' },
      badge(s.state || 'unknown'),
      h('span', { class: 'grow' }, '#' + s.id + ' · ', s.created_at ? timeEl(s.created_at) : ''),
      h('button', { type: 'button', class: 'btn small', 'aria-pressed': String(selected), onclick: pick },
        selected ? (s.png_url ? 'Viewing' : 'Selected') : (s.png_url ? 'View' : 'Details')));
    const body = selected ? snapshotDetails(s) : snapshotSummary(s);
    return h('li', { class: 'snap' + (selected ? ' selected' : '') }, top, body);
  }

  function snapshotSummary(s) {
    const parts = [];
    if (s.http_status != null) parts.push('HTTP ' + s.http_status);
    if (s.width && s.height) parts.push(s.width + '×' + s.height);
    if (s.bytes && s.bytes.png) parts.push(fmtBytes(s.bytes.png));
    if (s.timings && s.timings.total != null) parts.push(fmtMs(s.timings.total));
    const ch = changeText(s);
    if (ch) parts.push(ch);
    return h('div', { class: 'snap-sum' }, parts.join(' · '),
      s.error ? h('div', { class: 'err' }, errorLine(s.error)) : null);
  }

  function snapshotDetails(s) {
    const d = state.detail;
    const rows = [];
    const row = (k, v) => { if (v != null && v !== '') rows.push(h('dt', null, k), h('dd', null, v)); };
    row('HTTP status', s.http_status != null ? String(s.http_status) : null);
    row('Final URL', s.final_url ? externalLink(s.final_url, null) : null);
    if (s.title && (!d.link || s.title !== d.link.title)) row('Page title', String(s.title));
    if (s.width && s.height) row('Size', s.width + ' × ' + s.height + ' px' + (s.truncated ? ' (truncated)' : ''));
    if (s.bytes) row('Files', 'PNG ' + fmtBytes(s.bytes.png) + (s.png_reused ? ' (stored once: same as an earlier PNG)' : '') +
      ' · MHTML ' + fmtBytes(s.bytes.mhtml));
    row('Change', changeText(s));
    row('Consent banner', window.SnapcatOptions.consentText(s.consent));
    if (s.timings && typeof s.timings === 'object') row('Timings', timingsEl(s.timings));
    if (s.finished_at) row('Finished', timeEl(s.finished_at));
    if (s.error) row('Error', h('span', { class: 'err' }, errorLine(s.error)));
    const links = h('div', { class: 'snap-links' });
    const png = assetUrl(s.png_url);
    if (png) links.append(h('a', { href: png, target: '_blank', rel: 'noopener' }, 'Open PNG'));
    const mh = downloadLink(s.mhtml_url, 'Download MHTML', 'snapshot-' + s.id + '.mhtml');
    if (mh) links.append(mh);
    return h('div', null, rows.length ? h('dl', null, rows) : null, links.childNodes.length ? links : null);
  }

  function narrow() {
    return window.matchMedia('(max-width: 960px)').matches;
  }

  /** "Changed 0.39% (1 region) since #4", "Unchanged since #4", or '' (nothing to compare with). */
  function changeText(s) {
    const d = s && s.diff;
    if (!d) return '';
    if (!d.changed_pixels) return 'Unchanged since #' + d.against;
    const pct = d.ratio * 100;
    const n = Array.isArray(d.boxes) ? d.boxes.length : 0;
    return 'Changed ' + (pct < 0.01 ? '<0.01' : pct < 10 ? pct.toFixed(2) : pct.toFixed(1)) + '%' +
      (n ? ' (' + n + (n === 1 ? ' region' : ' regions') + ')' : '') + ' since #' + d.against;
  }

  function timingsEl(t) {
    const keys = Object.keys(t).filter((k) => k !== 'total');
    const parts = keys.map((k) => k + '\u00a0' + fmtMs(t[k]));
    const el = h('span', { class: 'timings' }, parts.join(' · '));
    if (t.total != null) el.append(parts.length ? ' · ' : '', h('strong', null, 'total ' + fmtMs(t.total)));
    return el;
  }

  function selectSnapshot(id) {
    const d = state.detail;
    if (!d) return;
    const changed = d.selected !== id;
    d.selected = id;
    renderSnapshots();
    if (changed || !$('v-scroll').querySelector('img')) renderViewer();
  }

  /** Full-size viewer: a plain <img> (width 100%, height auto) in a scroll container.
   *  The browser decodes/tiles it; no canvas, so 60000 px tall pages scroll smoothly.
   *  Modes: the page; its changes (the server's diff image); side by side or a slider
   *  over another version (by default the one it was compared with). */
  function renderViewer() {
    const d = state.detail;
    const bar = $('v-bar');
    const box = $('v-scroll');
    const s = d && d.snaps.find((x) => x.id === d.selected);
    box.classList.toggle('actual', !!(d && !d.fit));
    if (!s || !s.png_url) {
      bar.replaceChildren(h('span', { class: 'muted' }, s ? 'Snapshot #' + s.id : 'Screenshot'));
      const msg = s ? 'This capture has no screenshot' + (s.error ? ': ' + errorLine(s.error) : '.')
        : jobActive(d && d.link) ? placeholderText(d.link) + ' The screenshot will appear here.'
          : d && d.snapsLoaded ? 'No screenshot for this link yet.' : 'Loading…';
      box.replaceChildren(h('div', { class: 'v-empty' }, msg));
      return;
    }
    const other = compareTarget(d, s);
    const mode = d.view && (d.view === 'diff' ? s.diff : other) ? d.view : 'page';
    const content = mode === 'diff' ? diffView(s) : mode === 'side' ? sideView(s, other)
      : mode === 'slider' ? sliderView(s, other) : pageImg(s.png_url, s, () =>
        box.replaceChildren(h('div', { class: 'v-empty' }, 'Could not load the screenshot.')));
    box.replaceChildren(content);
    box.scrollTop = 0;
    bar.replaceChildren(...viewerBar(d, s, mode, other));
  }

  function pageImg(url, s, onFail) {
    const img = h('img', { alt: 'Screenshot of ' + ((state.detail.link && state.detail.link.url) || s.final_url || ''),
      loading: 'lazy', decoding: 'async' });
    if (s.width && s.height) { img.width = s.width; img.height = s.height; }
    setImage(img, url, onFail || (() => img.replaceWith(h('div', { class: 'v-empty' }, 'Could not load the image.'))));
    return img;
  }

  /** The version to compare s with: the one picked, else the one the server diffed it
   *  against, else the next older loaded one with a screenshot. */
  function compareTarget(d, s) {
    const ok = (id) => id != null && id !== s.id && d.snaps.some((x) => x.id === id && x.png_url);
    if (ok(d.compareWith)) return d.compareWith;
    if (s.diff && ok(s.diff.against)) return s.diff.against;
    const older = d.snaps.find((x) => x.id < s.id && x.png_url);
    return older ? older.id : null;
  }

  function snapById(id) { return state.detail.snaps.find((x) => x.id === id); }

  function diffView(s) {
    if (!s.diff.image_url) {
      return h('div', { class: 'v-empty' }, 'No pixel changed since snapshot #' + s.diff.against + '.');
    }
    const img = pageImg(s.diff.image_url, s);
    img.alt = 'Changes since snapshot #' + s.diff.against + ', highlighted';
    return h('figure', { class: 'v-fig' }, img,
      h('figcaption', null, changeText(s) + ' — changed pixels in red over a faded copy of #' + s.id));
  }

  function versionLabel(x) {
    return h('figcaption', null, h('strong', null, '#' + x.id), ' · ', x.created_at ? timeEl(x.created_at) : '');
  }

  function sideView(s, otherId) {
    const o = snapById(otherId);
    const col = (x) => h('figure', { class: 'v-fig' }, versionLabel(x), pageImg(x.png_url, x));
    return h('div', { class: 'v-side' }, col(o.id < s.id ? o : s), col(o.id < s.id ? s : o));
  }

  /** The newer version over the older, cut at the slider: left of it the newer one. */
  function sliderView(s, otherId) {
    const o = snapById(otherId);
    const [older, newer] = o.id < s.id ? [o, s] : [s, o];
    const top = pageImg(newer.png_url, newer);
    top.classList.add('v-top');
    const pos = state.detail.slider ?? 50;
    const stack = h('div', { class: 'v-stack', style: '--cut:' + pos + '%' }, pageImg(older.png_url, older), top,
      h('div', { class: 'v-cut', 'aria-hidden': 'true' }));
    return h('div', null, h('div', { class: 'v-legend' }, h('span', null, '◀ #' + newer.id + ' (newer)'),
      h('span', null, '#' + older.id + ' (older) ▶')), stack);
  }

  function viewerBar(d, s, mode, other) {
    const box = $('v-scroll');
    const fit = h('button', {
      type: 'button', class: 'btn small', 'aria-pressed': String(!d.fit),
      onclick: () => { d.fit = !d.fit; box.classList.toggle('actual', !d.fit); fit.textContent = d.fit ? 'Actual size' : 'Fit width'; fit.setAttribute('aria-pressed', String(!d.fit)); },
    }, d.fit ? 'Actual size' : 'Fit width');
    const top = h('button', { type: 'button', class: 'btn small', onclick: () => { box.scrollTop = 0; } }, 'Top');
    const info = h('span', { class: 'grow' }, h('strong', null, 'Snapshot #' + s.id), ' · ',
      s.width && s.height ? s.width + '×' + s.height : '', s.truncated ? ' (truncated)' : '');
    const mh = downloadLink(s.mhtml_url, 'MHTML', 'snapshot-' + s.id + '.mhtml');
    const out = [info, modeButtons(d, s, mode, other)];
    if (mode === 'side' || mode === 'slider') out.push(comparePicker(d, s, other));
    if (mode === 'slider') out.push(sliderInput(d));
    out.push(mh || '', top, fit);
    return out;
  }

  function modeButtons(d, s, mode, other) {
    const modes = [['page', 'Page', true], ['diff', 'Changes', !!s.diff], ['side', 'Side by side', other != null],
      ['slider', 'Slider', other != null]];
    return h('span', { class: 'seg', role: 'group', 'aria-label': 'View' }, ...modes.map(([m, label, ok]) =>
      h('button', { type: 'button', 'data-view': m, 'aria-pressed': String(mode === m),
        disabled: !ok, title: ok ? '' : 'No other version to compare with',
        onclick: () => { d.view = m; renderViewer(); } }, label)));
  }

  function comparePicker(d, s, other) {
    const sel = h('select', { id: 'v-compare', 'aria-label': 'Compare with',
      onchange: () => { d.compareWith = Number(sel.value); renderViewer(); } },
    ...d.snaps.filter((x) => x.id !== s.id && x.png_url).map((x) =>
      h('option', { value: String(x.id), selected: x.id === other }, 'with #' + x.id + (x.created_at ? ' · ' + relTime(x.created_at) : ''))));
    return sel;
  }

  function sliderInput(d) {
    return h('input', { type: 'range', id: 'v-slider', min: '0', max: '100', value: String(d.slider ?? 50),
      'aria-label': 'Slider position', oninput: (e) => {
        d.slider = Number(e.target.value);
        const st = document.querySelector('#v-scroll .v-stack');
        if (st) st.style.setProperty('--cut', d.slider + '%');
      } });
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

  /* ------------------------------------------------------------------ live events */

  const TRANSPORT_KEY = 'snapcat.live';
  const live = { es: null, fails: 0, retryTimer: 0, pollTimer: 0, polling: false, mode: 'sse', hadOpen: false,
    ws: null, lastId: 0, resume: false, started: false, fromList: false, transport: readTransport() };   // header switch: 'sse' | 'ws'

  function readTransport() {
    try { return localStorage.getItem(TRANSPORT_KEY) === 'ws' ? 'ws' : 'sse'; } catch (e) { return 'sse'; }
  }

  /** The header's "SSE | WebSocket" switch: reopen the feed over the other transport, resuming
   *  after the last event id seen so nothing is missed (or shown twice) across the switch. */
  function setTransport(t) {
    t = t === 'ws' ? 'ws' : 'sse';
    try { localStorage.setItem(TRANSPORT_KEY, t); } catch (e) { /* private mode */ }
    if (t === live.transport) return;
    live.transport = t;
    renderTransport();
    live.fails = 0;
    live.resume = true;
    startEvents();
  }
  const narrowMq = window.matchMedia ? window.matchMedia('(max-width: 700px)') : null;
  function renderTransport() {
    for (const b of document.querySelectorAll('[data-live]')) {
      b.setAttribute('aria-pressed', String(b.dataset.live === live.transport));
      // "WS" on phones, so the header keeps one row (brand, status, switch, Token)
      if (b.dataset.live === 'ws') b.textContent = narrowMq && narrowMq.matches ? 'WS' : 'WebSocket';
    }
  }

  function setConn(st, text) {
    state.conn = st;
    const el = $('conn');
    el.dataset.state = st;
    $('conn-text').textContent = text || st;
    el.title = {
      live: 'Receiving live updates',
      reconnecting: 'Live updates interrupted; reconnecting',
      polling: 'Live stream unavailable; polling every 2 s while jobs run',
      connecting: 'Connecting to live updates',
      offline: 'Server unreachable',
    }[st] || '';
  }

  /** Whether the feed about to open resumes after live.lastId: after a transport switch, or
   *  the first time, from the first list's event_id (0 included: from the first event). */
  function resumeFeed() {
    return (live.resume && live.lastId > 0) || (!live.started && live.fromList);
  }

  /** Open the one EventSource for this tab (closing any previous one). */
  function startEvents() {
    stopEvents();
    clearTimeout(live.retryTimer);
    // ?live=off: no stream, polling only (headless screenshots: an open SSE request
    // keeps Chromium's --virtual-time-budget from ever expiring)
    const off = new URLSearchParams(location.search).get('live') === 'off';
    if (!off && live.transport === 'ws' && typeof window.WebSocket === 'function') { startWs(); return; }
    if (off || typeof window.EventSource !== 'function') { startPolling(); return; }
    const q = [];
    if (state.token) q.push('token=' + encodeURIComponent(state.token));
    // after the first list (its event_id) or a transport switch: resume there
    if (resumeFeed()) q.push('last_event_id=' + live.lastId);
    live.resume = false;
    live.started = true;
    const es = new EventSource('/api/events' + (q.length ? '?' + q.join('&') : ''));
    live.es = es;
    if (live.mode !== 'poll') setConn(live.hadOpen ? 'reconnecting' : 'connecting');
    es.onopen = onLiveOpen;
    es.onmessage = onServerEvent;
    for (const t of EVENT_TYPES.concat('reset')) es.addEventListener(t, onServerEvent);
    es.onerror = () => onEventsError(es);
  }

  function onLiveOpen() {
    const wasDown = live.hadOpen && state.conn !== 'live';
    live.fails = 0;
    live.hadOpen = true;
    live.mode = 'sse';
    stopPolling();
    setConn('live');
    if (wasDown) resyncActive();
  }

  /** The same feed over /api/ws: {"op":"subscribe","after":<last id>}, same event handling. */
  function startWs() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws' +
      (state.token ? '?token=' + encodeURIComponent(state.token) : '');
    let ws;
    try { ws = new WebSocket(url); } catch (e) { startPolling(); return; }
    live.ws = ws;
    const resume = resumeFeed();
    live.resume = false;
    live.started = true;
    if (live.mode !== 'poll') setConn(live.hadOpen ? 'reconnecting' : 'connecting');
    ws.onopen = () => {
      ws.send(JSON.stringify(resume || live.lastId ? { op: 'subscribe', after: live.lastId } : { op: 'subscribe' }));
      onLiveOpen();
    };
    ws.onmessage = onServerEvent;            // MessageEvent.data is the event JSON
    ws.onclose = () => onEventsError(ws);
  }

  function stopEvents() {
    if (live.es) { live.es.onerror = null; live.es.close(); live.es = null; }
    if (live.ws) { live.ws.onclose = null; live.ws.close(); live.ws = null; }
  }

  /** Stream error. While the browser retries by itself we only show "reconnecting"; when it
   *  gave up (HTTP error, maybe 401) or failed SSE_MAX_FAILS times in a row, we probe the
   *  API (a 401 opens the token dialog; no answer shows "offline"), poll if we gave up,
   *  and reopen the stream later. */
  function onEventsError(es) {
    if (es !== live.es && es !== live.ws) return;
    live.fails++;
    const giveUp = live.fails >= SSE_MAX_FAILS;
    if (!giveUp && es === live.es && es.readyState !== EventSource.CLOSED) {
      if (live.mode !== 'poll') setConn('reconnecting');
      return;
    }
    stopEvents();
    if (giveUp) startPolling(); else setConn('reconnecting');
    probeServer().finally(() => {
      clearTimeout(live.retryTimer);
      live.retryTimer = setTimeout(startEvents, giveUp ? SSE_RETRY_FROM_POLL_MS : 1000 * live.fails);
    });
  }

  async function probeServer() {
    try {
      await api('GET', '/api/jobs?state=running&limit=1', undefined, { background: true });
    } catch (e) {
      if (e && e.status === 0) setConn('offline');
    }
  }

  /** One server event (data is one-line JSON; the type is in data.type or the SSE event name). */
  function onServerEvent(ev) {
    let d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (!d || typeof d !== 'object') return;
    if (Number.isSafeInteger(d.id) && d.id > live.lastId) live.lastId = d.id;   // resume point
    const type = d.type || (ev.type !== 'message' ? ev.type : '');
    if (!type || type === 'ping') return;
    if (type === 'reset') { loadLinks(false); loadTags(); resyncActive(); return; }   // missed events: reload
    const linkId = d.link != null ? Number(d.link) : null;
    if (linkId == null || Number.isNaN(linkId)) return;
    if (type === 'link.deleted') { removeLink(linkId, 'This link was deleted.'); return; }
    if (type === 'link.updated') { refreshLink(linkId, { snaps: true }); reloadTagsSoon(); return; }
    if (type === 'snapshot.changed') { onPageChanged(d, linkId); return; }
    if (type.startsWith('job.')) onJobEvent(type, d, linkId);
  }

  /** A watched page changed: say so (the snapshot list refreshes with the job's events). */
  function onPageChanged(d, linkId) {
    const link = state.links.get(linkId) || (state.detail && state.detail.id === linkId && state.detail.link);
    const pct = typeof d.ratio === 'number' ? ' (' + (d.ratio * 100 < 0.01 ? '<0.01' : (d.ratio * 100).toFixed(2)) + '% of the page)' : '';
    toast('Changed: ' + (link ? linkLabel(link) : 'link ' + linkId) + pct);
  }

  const JOB_EVENT_STATE = {
    'job.queued': 'queued', 'job.started': 'running', 'job.progress': 'running',
    'job.done': 'done', 'job.failed': 'failed', 'job.canceled': 'canceled',
  };

  function onJobEvent(type, d, linkId) {
    const patch = { id: d.job != null ? Number(d.job) : undefined };
    if (JOB_EVENT_STATE[type]) patch.state = JOB_EVENT_STATE[type];
    if (typeof d.progress === 'number') patch.progress = d.progress;
    if ('stage' in d) patch.stage = d.stage;
    if (type === 'job.queued') { patch.progress = 0; patch.stage = null; patch.error = null; }
    if (type === 'job.done') patch.progress = 100;
    if (d.error) patch.error = d.error;
    if (patch.id === undefined) delete patch.id;
    const known = patchJob(linkId, patch);
    const final = type === 'job.done' || type === 'job.failed' || type === 'job.canceled';
    if (final) { refreshLink(linkId, { snaps: true }); reloadTagsSoon(); }
    if (type === 'job.failed' || (state.failed.jobs.length && (type === 'job.queued' || type === 'job.done'))) {
      reloadFailedSoon();
    }
    else if (!known && type === 'job.queued' && state.list.loaded && !hasFilters()) {
      refreshLink(linkId, { insert: true });    // a link added elsewhere (CLI, other tab)
    }
  }

  /** After a gap in the stream, re-fetch links whose job we last saw queued/running. */
  function resyncActive() {
    for (const id of activeLinkIds()) refreshLink(id, { snaps: true });
  }

  function activeLinkIds() {
    const ids = [];
    for (const id of state.list.ids) if (jobActive(state.links.get(id))) ids.push(id);
    const d = state.detail;
    if (d && d.link && jobActive(d.link) && !ids.includes(d.id)) ids.push(d.id);
    return ids;
  }

  /* Polling fallback: only while the stream is down and some visible job is active. */
  function startPolling() {
    live.mode = 'poll';
    setConn('polling');
    if (!live.pollTimer) live.pollTimer = setInterval(pollTick, POLL_MS);
    pollTick();
  }
  function stopPolling() {
    clearInterval(live.pollTimer);
    live.pollTimer = 0;
  }
  function pollIfNeeded() {
    if (live.mode === 'poll' && !live.pollTimer) startPolling();
  }

  async function pollTick() {
    const active = activeLinkIds();
    if (!active.length) { stopPolling(); return; }   // restarted by pollIfNeeded() on new jobs
    if (live.polling) return;
    live.polling = true;
    try {
      const [running, queued] = await Promise.all([
        api('GET', '/api/jobs?state=running&limit=100', undefined, { background: true }),
        api('GET', '/api/jobs?state=queued&limit=100', undefined, { background: true }),
      ]);
      if (live.mode !== 'poll') return;
      setConn('polling');
      const seen = new Set();
      for (const j of [].concat((running && running.items) || [], (queued && queued.items) || [])) {
        if (!j || j.link_id == null) continue;
        seen.add(j.link_id);
        patchJob(j.link_id, jobSummary(j));
      }
      for (const id of active) if (!seen.has(id)) refreshLink(id, { snaps: true });   // finished
    } catch (e) {
      if (live.mode === 'poll') setConn(e && e.status === 0 ? 'offline' : 'polling');
    } finally {
      live.polling = false;
    }
  }

  /* ------------------------------------------------------------------ wiring */

  function isTyping(el) {
    if (!el) return false;
    const tag = el.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }

  function onKeyDown(ev) {
    if (ev.key === '/' && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !isTyping(document.activeElement)
        && !$('detail').open && !$('token-dialog').open) {
      ev.preventDefault();
      $('search').focus();
      $('search').select();
    }
  }

  function bind() {
    $('add-form').addEventListener('submit', onAddSubmit);
    for (const id of ['add-url', 'add-tags']) {
      $(id).addEventListener('input', () => $(id).removeAttribute('aria-invalid'));
    }
    $('search').addEventListener('input', () => searchChanged());
    $('search').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') searchChanged.now(); });
    for (const b of document.querySelectorAll('.seg button[data-match]')) b.addEventListener('click', () => setMatch(b.dataset.match));
    for (const b of document.querySelectorAll('[data-live]')) b.addEventListener('click', () => setTransport(b.dataset.live));
    if (narrowMq && narrowMq.addEventListener) narrowMq.addEventListener('change', renderTransport);
    $('sidebar-toggle').addEventListener('click', () => {
      const open = $('sidebar').classList.toggle('open');
      $('sidebar-toggle').setAttribute('aria-expanded', String(open));
    });
    $('load-more').addEventListener('click', () => loadLinks(true));
    $('retry-all').addEventListener('click', () => retryFailed({}));
    $('retry-tag').addEventListener('click', () => retryFailed({ tag: state.filter.tags[0] }));
    document.addEventListener('keydown', onKeyDown);
    // history.back() on close only when the entry behind us is the list, not another detail
    window.addEventListener('hashchange', (ev) => route(!/#\/link\/\d+$/.test(ev.oldURL || '')));

    // detail dialog
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
    $('d-sched').addEventListener('submit', onScheduleSubmit);
    $('d-sched').addEventListener('input', () => { $('d-sched').dataset.dirty = '1'; $('d-sched-msg').textContent = ''; });
    $('d-sched-scope').addEventListener('change', onScheduleScope);
    $('d-sched-preset').addEventListener('change', () => {
      const custom = $('d-sched-preset').value === 'custom';
      $('d-sched-spec').hidden = !custom;
      if (custom) $('d-sched-spec').focus();
    });
    $('d-edit').addEventListener('input', () => { $('d-edit').dataset.dirty = '1'; $('d-edit-msg').textContent = ''; });
    window.SnapcatOptions.render($('add-opts-body'));
    $('d-opts').addEventListener('submit', (ev) => { ev.preventDefault(); saveOptions(false); });
    $('d-opts-clear').addEventListener('click', () => saveOptions(true));
    $('d-opts').addEventListener('input', () => { $('d-opts').dataset.dirty = '1'; $('d-opts-msg').textContent = ''; });
    $('d-snaps-more').addEventListener('click', () => loadSnapshots(true));

    // token dialog
    $('token-btn').addEventListener('click', () => openTokenDialog(null));
    $('token-form').addEventListener('submit', onTokenSubmit);
    $('token-cancel').addEventListener('click', () => finishTokenDialog(false));
    $('token-dialog').addEventListener('cancel', (ev) => { ev.preventDefault(); finishTokenDialog(false); });
    $('token-forget').addEventListener('click', () => {
      saveToken('');
      finishTokenDialog(false);
      toast('Token forgotten.');
      onTokenChanged();
    });
  }

  function boot() {
    bind();
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
  }

  boot();
}());
