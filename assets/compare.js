/* snapcat /compare.html — the four live-progress channels side by side.
 * Plain JavaScript, no build step, no dependencies, strict-CSP safe (no inline code, no eval).
 *
 *   SSE        new EventSource('/api/events[?token=]'); the browser reconnects by itself with
 *              Last-Event-ID; when it gives up (HTTP error) we reopen with ?last_event_id=.
 *   WebSocket  /api/ws[?token=], then {"op":"subscribe"[,"after":<last id>]}; on close we
 *              reconnect with back-off and resume from the last id.
 *   Long-poll  GET /api/events/poll?after=<last id>&timeout=25 in a loop (Authorization header);
 *              a failed poll is a reconnection, retried with back-off.
 *   Frame      a hidden <iframe src="/api/events/frame[?token=][&last_event_id=]">: a document
 *              that never ends, one <script>p(event)</script> per event, p calling
 *              window.snapcatFrame here (same origin). Nothing reconnects it: when its document
 *              ends (the iframe's load event) we reload it, with back-off, from the last id.
 *              Its costs are shown: the document's readyState and its growth.
 *
 * Per channel, from each event's id and ts: received, events/s, gaps (ids skipped past the
 * newest seen), duplicates (an id seen twice), out-of-order, reconnections, events replayed
 * after a reconnection (ts older than the moment it resumed; kept out of the latency figures),
 * latency (arrival - ts: p50/p95/max over the last WINDOW live events) and payloads that differ
 * from another channel's copy of the same event (they should be identical).
 * Every string from the server is rendered with textContent, never as HTML.
 */
(function () {
  'use strict';

  const TOKEN_KEY = 'snapcat.token';        // the admin page's key (js/token.js)
  const WINDOW = 1000;                       // latency samples kept per channel
  const SEEN_KEEP = 20000;                   // ids remembered per channel (duplicates)
  const MISSING_KEEP = 20000;                // missing ids remembered (late arrivals)
  const LOG_ROWS = 25;
  const LOG_KEEP = 3000;                     // events kept for the cross-channel comparison
  const POLL_TIMEOUT_S = 25;
  const RATE_SPAN_MS = 5000;
  const RENDER_MS = 250;
  const SSE_TYPES = ['job.queued', 'job.started', 'job.progress', 'job.done', 'job.failed',
    'job.canceled', 'link.updated', 'link.deleted'];
  const IDS = ['sse', 'ws', 'lp', 'fr'];

  const $ = (id) => document.getElementById(id);
  let token = readToken();
  let frozen = false;
  let since = Date.now();
  let authTrouble = false;

  /* ------------------------------------------------------------ helpers */

  function readToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function saveToken(t) {
    token = t;
    try { if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
  }
  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function fmtInt(n) { return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—'; }
  function fmtMs(ms) {
    if (!Number.isFinite(ms)) return '—';
    if (Math.abs(ms) < 1000) return Math.round(ms) + ' ms';
    return (ms / 1000).toFixed(Math.abs(ms) < 10000 ? 2 : 1) + ' s';
  }
  function fmtDur(ms) {
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  /** Percentile (nearest rank) of a sorted array. */
  function pct(sorted, p) {
    if (!sorted.length) return NaN;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
    return sorted[i];
  }

  /** A server error as one line: message (HTTP status · code). */
  async function errorOf(res) {
    let msg = 'HTTP ' + res.status, code = '';
    try {
      const j = await res.json();
      if (j && j.error && typeof j.error === 'object') {
        if (typeof j.error.message === 'string') msg = j.error.message;
        if (typeof j.error.code === 'string') code = j.error.code;
      }
    } catch (e) { /* not JSON */ }
    const err = new Error(msg + ' (HTTP ' + res.status + (code ? ' · ' + code : '') + ')');
    err.status = res.status;
    return err;
  }

  async function api(method, path, body) {
    const opt = { method, headers: authHeaders(body !== undefined ? { 'Content-Type': 'application/json' } : null), cache: 'no-store' };
    if (body !== undefined) opt.body = JSON.stringify(body);
    let res;
    try { res = await fetch(path, opt); } catch (e) { throw new Error('network error: ' + (e.message || e)); }
    if (res.status === 401) noteAuth(true);
    if (!res.ok) throw await errorOf(res);
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  /** A 401 somewhere: open the token box and say so. */
  function noteAuth(bad) {
    if (bad === authTrouble) return;
    authTrouble = bad;
    $('banner').hidden = !bad;
    if (bad) {
      $('token-box').open = true;
      $('banner-text').textContent = token ? 'The server refused the access token; the channels keep retrying.'
        : 'This server needs an access token; the channels keep retrying until one is set.';
    }
  }

  /** Does the API accept our token? (Channels cannot tell a 401 from a network error.) */
  let probing = false;
  async function probeAuth() {
    if (probing) return;
    probing = true;
    try {
      const res = await fetch('/api/jobs?limit=1', { headers: authHeaders(), cache: 'no-store' });
      noteAuth(res.status === 401);
    } catch (e) { /* offline: the channels say so */ } finally { probing = false; }
  }

  function setMsg(id, kind, text) {
    const m = $(id);
    m.className = 'msg' + (kind ? ' ' + kind : '');
    m.textContent = text || '';
  }

  /* ------------------------------------------------------------ per-channel state */

  function newStats() {
    return {
      received: 0, gaps: 0, dups: 0, late: 0, replayed: 0, resets: 0, reconnects: 0, opens: 0,
      differs: 0, last: 0, seen: new Set(), missing: new Set(),
      lat: new Float64Array(WINDOW), latN: 0, latI: 0, latMax: -Infinity,
      rateHist: [],
    };
  }

  const chans = {};
  for (const id of IDS) {
    chans[id] = {
      id, s: newStats(),
      lastId: 0,          // resume point (survives "Reset counters")
      conn: null, everOpen: false, resumeAt: 0, fails: 0, retryTimer: 0,
      state: 'connecting', detail: '', lastPing: 0,
    };
  }

  function setState(c, state, detail) {
    c.state = state;
    c.detail = detail || '';
    scheduleRender();
  }

  /** Back-off before the next reconnect: 1, 2, 4, 8, 10 s (max). */
  function backoff(c) {
    c.fails++;
    return Math.min(10000, 1000 * Math.pow(2, Math.min(c.fails - 1, 4)));
  }

  /* ------------------------------------------------------------ event accounting */

  const log = new Map();      // id -> { type, ts, lat: {sse, ws, lp}, json: {sse, ws, lp} }
  let logMaxId = 0;

  function onReset(c) {
    c.s.resets++;
    c.s.last = 0;             // a new baseline: the server replays what it still has
    c.s.seen.clear();
    c.s.missing.clear();
    scheduleRender();
  }

  function onEvent(c, obj, arrival) {
    if (!obj || typeof obj !== 'object') return;
    if (obj.type === 'reset') { onReset(c); return; }
    const id = Number(obj.id);
    if (!Number.isSafeInteger(id) || id <= 0) return;          // ping, subscribed, ...
    const s = c.s;
    s.received++;
    if (id > c.lastId) c.lastId = id;
    if (s.seen.has(id)) {
      s.dups++;
      scheduleRender();
      return;
    }
    if (!s.last) {
      s.last = id;
    } else if (id > s.last) {
      const gap = id - s.last - 1;
      if (gap > 0) {
        s.gaps += gap;
        for (let k = s.last + 1; k < id && k - s.last <= MISSING_KEEP; k++) s.missing.add(k);
        trimSet(s.missing, MISSING_KEEP);
      }
      s.last = id;
    } else {
      s.late++;                                                 // older than the newest seen
      if (s.missing.delete(id)) s.gaps--;
    }
    s.seen.add(id);
    trimSet(s.seen, SEEN_KEEP);

    const ts = Date.parse(obj.ts);
    const lat = Number.isFinite(ts) ? arrival - ts : NaN;
    if (Number.isFinite(ts) && c.resumeAt && ts < c.resumeAt) {
      s.replayed++;
    } else if (Number.isFinite(lat)) {
      s.lat[s.latI] = lat;
      s.latI = (s.latI + 1) % WINDOW;
      if (s.latN < WINDOW) s.latN++;
      if (lat > s.latMax) s.latMax = lat;
    }

    // the cross-channel view: same event, same JSON, when did each channel have it
    let row = log.get(id);
    if (!row) {
      if (id < logMaxId - LOG_KEEP) { scheduleRender(); return; }
      row = { type: typeof obj.type === 'string' ? obj.type : '?', lat: {}, json: {} };
      log.set(id, row);
      if (id > logMaxId) logMaxId = id;
      if (log.size > LOG_KEEP * 1.2) {
        for (const k of log.keys()) { if (log.size <= LOG_KEEP) break; if (k < logMaxId - LOG_KEEP) log.delete(k); else break; }
      }
    }
    const json = JSON.stringify(obj);
    for (const other of IDS) {
      if (other !== c.id && row.json[other] !== undefined && row.json[other] !== json) { s.differs++; break; }
    }
    row.json[c.id] = json;
    row.lat[c.id] = lat;
    scheduleRender();
  }

  /** Sets iterate in insertion order: drop the oldest entries above max. */
  function trimSet(set, max) {
    if (set.size <= max * 1.1) return;
    for (const k of set) { if (set.size <= max) break; set.delete(k); }
  }

  /* ------------------------------------------------------------ SSE */

  function sseOpen(c) {
    clearTimeout(c.retryTimer);
    if (typeof window.EventSource !== 'function') { setState(c, 'error', 'EventSource is not available in this browser'); return; }
    const q = [];
    if (token) q.push('token=' + encodeURIComponent(token));
    if (c.lastId) q.push('last_event_id=' + c.lastId);
    const es = new EventSource('/api/events' + (q.length ? '?' + q.join('&') : ''));
    c.conn = es;
    setState(c, c.everOpen ? 'reconnecting' : 'connecting');
    es.onopen = () => {
      if (c.conn !== es) return;
      c.s.opens++;
      if (c.everOpen) { c.s.reconnects++; c.resumeAt = Date.now(); }
      c.everOpen = true;
      c.fails = 0;
      setState(c, 'live');
    };
    const handler = (ev) => {
      const arrival = Date.now();
      if (c.conn !== es) return;
      let obj;
      try { obj = JSON.parse(ev.data); } catch (e) { return; }
      onEvent(c, obj, arrival);
    };
    es.onmessage = handler;
    for (const t of SSE_TYPES) es.addEventListener(t, handler);
    es.addEventListener('reset', () => { if (c.conn === es) onReset(c); });
    es.addEventListener('ping', () => { c.lastPing = Date.now(); scheduleRender(); });
    es.onerror = () => {
      if (c.conn !== es) return;
      if (es.readyState !== EventSource.CLOSED) {   // the browser retries by itself
        setState(c, 'reconnecting', 'stream interrupted; the browser retries');
        return;
      }
      es.close();
      c.conn = null;
      const ms = backoff(c);
      setState(c, 'reconnecting', 'stream refused or failed; again in ' + Math.round(ms / 1000) + ' s');
      probeAuth();
      c.retryTimer = setTimeout(() => sseOpen(c), ms);
    };
  }

  /* ------------------------------------------------------------ WebSocket */

  function wsOpen(c) {
    clearTimeout(c.retryTimer);
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws' +
      (token ? '?token=' + encodeURIComponent(token) : '');
    let ws;
    try { ws = new WebSocket(url); } catch (e) { setState(c, 'error', 'WebSocket: ' + (e.message || e)); return; }
    c.conn = ws;
    setState(c, c.everOpen ? 'reconnecting' : 'connecting');
    ws.onopen = () => {
      if (c.conn !== ws) return;
      const msg = { op: 'subscribe' };
      if (c.lastId) msg.after = c.lastId;
      ws.send(JSON.stringify(msg));
      c.s.opens++;
      if (c.everOpen) { c.s.reconnects++; c.resumeAt = Date.now(); }
      c.everOpen = true;
      c.fails = 0;
      setState(c, 'live');
    };
    ws.onmessage = (ev) => {
      const arrival = Date.now();
      if (c.conn !== ws || typeof ev.data !== 'string') return;
      let obj;
      try { obj = JSON.parse(ev.data); } catch (e) { return; }
      if (obj && obj.type === 'error' && obj.error) {
        setState(c, 'live', 'server: ' + String(obj.error.message || obj.error.code || 'error'));
        return;
      }
      onEvent(c, obj, arrival);
    };
    let opened = false;
    ws.addEventListener('open', () => { opened = true; });
    ws.onclose = (ev) => {
      if (c.conn !== ws) return;
      c.conn = null;
      const ms = backoff(c);
      setState(c, 'reconnecting', (opened ? 'closed' : 'could not connect') + ' (code ' + ev.code +
        (ev.reason ? ', ' + ev.reason : '') + '); again in ' + Math.round(ms / 1000) + ' s');
      probeAuth();
      c.retryTimer = setTimeout(() => wsOpen(c), ms);
    };
  }

  /* ------------------------------------------------------------ long-poll */

  let lpGen = 0;
  async function lpLoop(c) {
    const gen = ++lpGen;
    let failed = false;
    setState(c, 'connecting');
    while (gen === lpGen) {
      const ctl = new AbortController();
      c.conn = ctl;
      const timer = setTimeout(() => ctl.abort(), (POLL_TIMEOUT_S + 15) * 1000);
      const started = Date.now();
      try {
        const res = await fetch('/api/events/poll?timeout=' + POLL_TIMEOUT_S + (c.lastId ? '&after=' + c.lastId : ''),
          { headers: authHeaders(), cache: 'no-store', signal: ctl.signal });
        if (!res.ok) {
          if (res.status === 401) noteAuth(true);
          throw await errorOf(res);
        }
        const arr = await res.json();
        const arrival = Date.now();
        if (gen !== lpGen) return;
        c.s.opens++;
        if (failed || !c.everOpen) {
          if (c.everOpen) { c.s.reconnects++; c.resumeAt = started; }
          c.everOpen = true;
          failed = false;
        }
        c.fails = 0;
        if (authTrouble) noteAuth(false);
        if (c.state !== 'live') setState(c, 'live');
        if (Array.isArray(arr)) for (const o of arr) onEvent(c, o, arrival);
      } catch (e) {
        if (gen !== lpGen) return;
        failed = true;
        const ms = backoff(c);
        const why = e && e.name === 'AbortError' ? 'no answer within ' + (POLL_TIMEOUT_S + 15) + ' s'
          : (e && e.message) || String(e);
        setState(c, 'reconnecting', why + '; again in ' + Math.round(ms / 1000) + ' s');
        await sleep(ms);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /* ------------------------------------------------------------ forever frame */

  let frameEl = null;
  function frameOpen(c) {
    clearTimeout(c.retryTimer);
    const q = [];
    if (token) q.push('token=' + encodeURIComponent(token));
    if (c.lastId) q.push('last_event_id=' + c.lastId);
    const f = document.createElement('iframe');
    f.title = 'forever frame (events)';
    f.tabIndex = -1;
    c.conn = f;
    c.opened = false;
    setState(c, c.everOpen ? 'reconnecting' : 'connecting');
    // load fires when the document ends: a refusal, or the stream closed
    f.addEventListener('load', () => {
      if (c.conn !== f) return;
      const ms = backoff(c);
      setState(c, 'reconnecting', (c.opened ? 'the document ended' : 'refused or failed') +
        ' (no automatic reconnect); reloaded in ' + Math.round(ms / 1000) + ' s');
      if (!c.opened) probeAuth();
      c.retryTimer = setTimeout(() => frameOpen(c), ms);
    });
    f.src = '/api/events/frame' + (q.length ? '?' + q.join('&') : '');
    if (frameEl) frameEl.remove();
    frameEl = f;
    $('frame-host').append(f);
  }

  /** Called by every script of the frame's document (p(event) there). */
  window.snapcatFrame = (obj) => {
    const arrival = Date.now();
    const c = chans.fr;
    if (!obj || typeof obj !== 'object' || !c.conn) return;
    if (obj.type === 'open') {
      c.opened = true;
      c.s.opens++;
      if (c.everOpen) { c.s.reconnects++; c.resumeAt = Date.now(); }
      c.everOpen = true;
      c.fails = 0;
      setState(c, 'live');
    } else if (obj.type === 'ping') {
      c.lastPing = Date.now();
      scheduleRender();
    } else {
      onEvent(c, obj, arrival);
    }
  };

  /** What the frame costs now: its document's state and size. */
  function frameCost() {
    let doc = null;
    try { doc = frameEl && frameEl.contentDocument; } catch (e) { doc = null; }
    if (!doc || !doc.documentElement) return '—';
    const kb = doc.documentElement.outerHTML.length / 1024;
    return (doc.readyState === 'complete' ? 'ended' : 'loading') + ' · ' +
      fmtInt(doc.scripts.length) + ' scripts · ' + (kb < 10 ? kb.toFixed(1) : fmtInt(kb)) + ' KiB';
  }

  /* ------------------------------------------------------------ connect / reconnect all */

  function closeAll() {
    const sse = chans.sse, ws = chans.ws, lp = chans.lp, fr = chans.fr;
    for (const c of [sse, ws, lp, fr]) clearTimeout(c.retryTimer);
    fr.conn = null;
    if (frameEl) { frameEl.remove(); frameEl = null; }
    if (sse.conn) { sse.conn.onerror = null; sse.conn.close(); sse.conn = null; }
    if (ws.conn) { const w = ws.conn; ws.conn = null; w.close(); }
    lpGen++;
    if (lp.conn) { lp.conn.abort(); lp.conn = null; }
  }

  function connectAll() {
    closeAll();
    sseOpen(chans.sse);
    wsOpen(chans.ws);
    lpLoop(chans.lp);
    frameOpen(chans.fr);
  }

  /* ------------------------------------------------------------ HTTP/1.1 or HTTP/2 */

  // 'h2', 'http/1.1' (or '' if unknown) of the newest finished request whose URL has part;
  // a stream that never ends (SSE, the frame) has no entry until it ends.
  function entryProto(part) {
    const es = performance.getEntriesByType('resource');
    for (let i = es.length - 1; i >= 0; i--) {
      if (es[i].name.indexOf(part) >= 0 && es[i].nextHopProtocol) return es[i].nextHopProtocol;
    }
    return '';
  }
  function pageProto() {
    const n = performance.getEntriesByType('navigation')[0];
    return (n && n.nextHopProtocol) || '';
  }
  // The frame's own document (same origin): its navigation entry.
  function frameProto() {
    try {
      const n = frameEl && frameEl.contentWindow.performance.getEntriesByType('navigation')[0];
      return (n && n.nextHopProtocol) || '';
    } catch (e) { return ''; }
  }
  // What each channel's connection speaks, and how we know (the cell's title).
  function channelProto(id) {
    const page = pageProto() || entryProto(location.origin);
    const shared = page === 'h2' ? 'one HTTP/2 connection to this host, shared' : 'a connection of its own';
    if (id === 'lp') {
      const p = entryProto('/api/events/poll');
      return p ? { text: p, how: 'the finished polls\' resource timing; ' + shared }
        : { text: '—', how: 'no poll has finished yet' };
    }
    if (id === 'fr') {
      const p = frameProto() || page;
      return { text: p || '—', how: 'the frame document\'s navigation timing; ' + shared };
    }
    if (id === 'ws') {
      return page === 'h2' ? { text: 'h2 (RFC 8441)', how: 'a stream of the page\'s HTTP/2 connection (extended CONNECT)' }
        : { text: page ? 'http/1.1 upgrade' : '—', how: 'an HTTP/1.1 Upgrade: its own TCP connection' };
    }
    return { text: page || '—', how: 'a stream never finishes, so has no timing entry: the host\'s protocol; ' + shared };
  }

  const more = [];    // the extra SSE streams of the "open 8 more" button
  function openMore() {
    const n = 8, t0 = Date.now();
    closeMore();
    let opened = 0;
    const q = token ? '&token=' + encodeURIComponent(token) : '';
    const report = () => {
      const s = Math.round((Date.now() - t0) / 100) / 10;
      setMsg('more-msg', opened === n ? 'ok' : '', opened + ' of ' + n + ' extra SSE streams open after ' + s +
        ' s' + (opened < n ? ' — the others wait for a free connection (HTTP/1.1: six per host)' : '') +
        ' · over ' + (pageProto() || '?'));
    };
    for (let i = 0; i < n; i++) {
      const es = new EventSource('/api/events?types=job.done' + q);
      es.onopen = () => { opened++; report(); };
      more.push(es);
    }
    $('more-close').hidden = false;
    report();
    setTimeout(report, 5000);
  }
  function closeMore() {
    for (const es of more.splice(0)) es.close();
    $('more-close').hidden = true;
  }

  /* ------------------------------------------------------------ rendering */

  const ROWS = [
    ['state', 'Status'],
    ['received', 'Events received'],
    ['rate', 'Events/s (last 5 s)'],
    ['last', 'Newest id'],
    ['gaps', 'Gaps (missing ids)', 'bad'],
    ['dups', 'Duplicates', 'bad'],
    ['late', 'Out of order', 'warn'],
    ['reconnects', 'Reconnections', 'warn'],
    ['replayed', 'Replayed after reconnect'],
    ['p50', 'Latency p50'],
    ['p95', 'Latency p95'],
    ['max', 'Latency max'],
    ['differs', 'Payload differs', 'bad'],
    ['opens', 'Streams / sockets / polls / frames'],
    ['proto', 'Protocol (connection)'],
    ['cost', 'Document (frame)'],
  ];
  const cells = {};   // key -> { sse: td, ws: td, lp: td }

  function buildTable() {
    const body = $('stats-body');
    for (const [key, label, flag] of ROWS) {
      const tr = el('tr');
      const th = el('th', null, label);
      th.scope = 'row';
      tr.append(th);
      cells[key] = {};
      for (const id of IDS) {
        const td = el('td', key === 'state' || key === 'cost' || key === 'proto' ? 'state' : 'num');
        td.dataset.flag = flag || '';
        cells[key][id] = td;
        tr.append(td);
      }
      body.append(tr);
    }
    for (const id of IDS) {
      const st = cells.state[id];
      st.replaceChildren();
      const b = el('span', 'badge');
      const d = el('span', 'detail');
      st.append(b, d);
      cells.state[id].badge = b;
      cells.state[id].det = d;
    }
    $('win-size').textContent = String(WINDOW);
  }

  let renderTimer = 0;
  function scheduleRender() {
    if (!renderTimer) renderTimer = setTimeout(render, RENDER_MS);
  }

  function set(td, text, nonzero) {
    if (td.textContent !== text) td.textContent = text;
    const v = td.dataset.flag && nonzero ? td.dataset.flag : '';
    if ((td.dataset.on || '') !== v) td.dataset.on = v;
  }

  const STATE_TEXT = { live: 'live', connecting: 'connecting', reconnecting: 'retrying', error: 'error' };

  function render() {
    renderTimer = 0;
    if (frozen) return;
    const now = Date.now();
    for (const id of IDS) {
      const c = chans[id], s = c.s;
      const st = cells.state[id];
      if (st.badge.textContent !== STATE_TEXT[c.state]) st.badge.textContent = STATE_TEXT[c.state] || c.state;
      st.badge.dataset.state = c.state;
      const th = document.querySelector('th[data-ch="' + id + '"]');
      if (th) th.dataset.state = c.state;
      let det = c.detail;
      if (!det && (id === 'sse' || id === 'fr') && c.lastPing) det = 'ping ' + Math.round((now - c.lastPing) / 1000) + ' s ago';
      if (st.det.textContent !== det) st.det.textContent = det;
      st.title = det;

      // events/s over the last RATE_SPAN_MS
      const h = s.rateHist;
      h.push([now, s.received]);
      while (h.length > 2 && now - h[1][0] >= RATE_SPAN_MS) h.shift();
      const dt = (now - h[0][0]) / 1000;
      const rate = dt >= 0.5 ? (s.received - h[0][1]) / dt : NaN;

      const sorted = Array.from(s.lat.subarray(0, s.latN)).sort((a, b) => a - b);
      set(cells.received[id], fmtInt(s.received));
      set(cells.rate[id], Number.isFinite(rate) ? (rate < 10 ? rate.toFixed(1) : fmtInt(rate)) : '—');
      set(cells.last[id], s.last ? String(s.last) : '—');
      set(cells.gaps[id], fmtInt(s.gaps), s.gaps > 0);
      set(cells.dups[id], fmtInt(s.dups), s.dups > 0);
      set(cells.late[id], fmtInt(s.late), s.late > 0);
      set(cells.reconnects[id], fmtInt(s.reconnects), s.reconnects > 0);
      set(cells.replayed[id], fmtInt(s.replayed));
      set(cells.p50[id], fmtMs(pct(sorted, 50)));
      set(cells.p95[id], fmtMs(pct(sorted, 95)));
      set(cells.max[id], fmtMs(s.latMax));
      set(cells.differs[id], fmtInt(s.differs), s.differs > 0);
      set(cells.opens[id], fmtInt(s.opens));
      set(cells.cost[id], id === 'fr' ? frameCost() : '—');
      const pr = channelProto(id);
      set(cells.proto[id], pr.text);
      cells.proto[id].title = pr.how;
    }
    $('since').textContent = 'counting for ' + fmtDur(now - since);
    renderLog();
    // keep the rate and "ago" figures moving while nothing arrives
    scheduleRenderIdle();
  }

  let idleTimer = 0;
  function scheduleRenderIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(scheduleRender, 1000);
  }

  let logShown = '';
  function renderLog() {
    const ids = Array.from(log.keys()).sort((a, b) => b - a).slice(0, LOG_ROWS);
    const key = ids.map((id) => {
      const r = log.get(id);
      return id + ':' + IDS.map((c) => r.lat[c]).join(',');
    }).join(';');
    if (key === logShown) return;
    logShown = key;
    const rows = ids.map((id) => {
      const r = log.get(id);
      const tr = el('tr');
      tr.append(el('td', 'num', String(id)));
      const type = el('td', 'type', r.type);
      type.title = r.type;
      tr.append(type);
      for (const c of IDS) {
        const v = r.lat[c];
        const td = el('td', 'num', v === undefined ? '·' : Number.isFinite(v) ? String(Math.round(v)) : '?');
        if (v === undefined) td.classList.add('miss');
        tr.append(td);
      }
      return tr;
    });
    $('log-body').replaceChildren(...rows);
    $('log-empty').hidden = rows.length > 0;
  }

  /* ------------------------------------------------------------ making events */

  let capBusy = false;
  async function onCapture(ev) {
    ev.preventDefault();
    if (capBusy) return;
    const url = $('cap-url').value.trim();
    const n = clampInt($('cap-n').value, 1, 50, 1);
    $('cap-url').removeAttribute('aria-invalid');
    if (!url) {
      $('cap-url').setAttribute('aria-invalid', 'true');
      setMsg('cap-msg', 'error', 'Type the URL of a page to capture.');
      $('cap-url').focus();
      return;
    }
    capBusy = true;
    $('cap-btn').disabled = true;
    const jobs = [];
    try {
      for (let i = 0; i < n; i++) {
        setMsg('cap-msg', '', 'Submitting ' + (i + 1) + ' of ' + n + '…');
        const r = await api('POST', '/api/links', { url, tags: [] });
        if (r && r.job && r.job.id != null) jobs.push('#' + r.job.id);
      }
      setMsg('cap-msg', 'ok', n + (n === 1 ? ' capture' : ' captures') + ' queued' + (jobs.length ? ' (job ' + jobs.join(', ') + ')' : '') + '.');
    } catch (e) {
      if (/url/i.test(e.message)) $('cap-url').setAttribute('aria-invalid', 'true');
      setMsg('cap-msg', 'error', (jobs.length ? jobs.length + ' queued, then: ' : '') + e.message);
    } finally {
      capBusy = false;
      $('cap-btn').disabled = false;
    }
  }

  function clampInt(v, lo, hi, dflt) {
    const n = Math.round(Number(v));
    return Number.isFinite(n) && String(v).trim() !== '' ? Math.min(hi, Math.max(lo, n)) : dflt;
  }

  let gen = null;     // { stop: bool } while generating
  async function onGenerate(ev) {
    ev.preventDefault();
    if (gen) { gen.stop = true; return; }
    const n = clampInt($('gen-n').value, 1, 5000, 100);
    const rate = clampInt($('gen-rate').value, 1, 500, 20);
    const run = { stop: false };
    gen = run;
    const btn = $('gen-btn');
    btn.textContent = 'Stop';
    btn.classList.add('danger');
    try {
      let linkId = clampInt($('gen-link').value, 1, 2147483647, 0);
      if (!linkId) {
        const list = await api('GET', '/api/links?limit=1');
        const first = list && Array.isArray(list.items) ? list.items[0] : null;
        if (!first) throw new Error('There is no link yet: submit a capture first.');
        linkId = Number(first.id);
      }
      const link = await api('GET', '/api/links/' + linkId);
      const title = link && typeof link.title === 'string' ? link.title : null;
      const t0 = performance.now();
      let sent = 0, done = 0, errors = 0, lastErr = '';
      const inflight = new Set();
      while (sent < n && !run.stop) {
        const due = t0 + sent * 1000 / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        if (inflight.size >= 8) { await Promise.race(inflight); continue; }
        const p = api('PATCH', '/api/links/' + linkId, { title })
          .then(() => { done++; }, (e) => { errors++; lastErr = e.message; })
          .finally(() => { inflight.delete(p); });
        inflight.add(p);
        sent++;
        if (sent % 10 === 0 || sent === n) setMsg('gen-msg', '', 'Link #' + linkId + ': ' + sent + ' of ' + n + ' sent…');
        if (errors > 20 && errors > done) break;
      }
      await Promise.all(inflight);
      const secs = (performance.now() - t0) / 1000;
      const text = (run.stop ? 'Stopped: ' : '') + done + ' link.updated event' + (done === 1 ? '' : 's') +
        ' on link #' + linkId + ' in ' + secs.toFixed(1) + ' s (' + (done / Math.max(secs, 0.001)).toFixed(1) + '/s)' +
        (errors ? ', ' + errors + ' failed: ' + lastErr : '.');
      setMsg('gen-msg', errors ? 'error' : 'ok', text);
    } catch (e) {
      setMsg('gen-msg', 'error', e.message);
    } finally {
      gen = null;
      btn.textContent = 'Generate events';
      btn.classList.remove('danger');
    }
  }

  /* ------------------------------------------------------------ wiring */

  function resetCounters() {
    since = Date.now();
    for (const id of IDS) {
      const c = chans[id];
      c.s = newStats();
      c.resumeAt = 0;
    }
    log.clear();
    logMaxId = 0;
    logShown = '';
    scheduleRender();
  }

  function boot() {
    buildTable();
    $('cap-form').addEventListener('submit', onCapture);
    $('cap-url').addEventListener('input', () => $('cap-url').removeAttribute('aria-invalid'));
    $('gen-form').addEventListener('submit', onGenerate);
    $('reset').addEventListener('click', resetCounters);
    $('pause').addEventListener('click', () => {
      frozen = !frozen;
      $('pause').setAttribute('aria-pressed', String(frozen));
      $('pause').textContent = frozen ? 'Unfreeze' : 'Freeze';
      document.body.classList.toggle('frozen', frozen);
      scheduleRender();
    });
    $('token-input').value = token;
    $('banner-btn').addEventListener('click', () => {
      $('token-box').open = true;
      $('token-input').focus();
      $('token-box').scrollIntoView({ block: 'center' });
    });
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      saveToken($('token-input').value.trim());
      noteAuth(false);
      setMsg('gen-msg', 'ok', token ? 'Token saved; reconnecting.' : 'No token; reconnecting.');
      connectAll();
    });
    $('token-forget').addEventListener('click', () => {
      saveToken('');
      $('token-input').value = '';
      setMsg('gen-msg', 'ok', 'Token forgotten; reconnecting.');
      connectAll();
    });
    // another tab (the admin page) changed the token
    window.addEventListener('storage', (ev) => {
      if (ev.key === TOKEN_KEY && (ev.newValue || '') !== token) {
        token = ev.newValue || '';
        $('token-input').value = token;
        connectAll();
      }
    });
    $('page-proto').textContent = pageProto() || 'an unknown protocol';
    $('more-btn').addEventListener('click', openMore);
    $('more-close').addEventListener('click', () => { closeMore(); setMsg('more-msg', 'ok', 'Closed.'); });
    window.addEventListener('pagehide', () => { closeMore(); closeAll(); });
    connectAll();
    render();
  }

  boot();
}());
