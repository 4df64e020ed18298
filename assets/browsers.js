/*
 * browsers.js — the admin page's browser pool panel: GET /api/browsers every
 * 5 s while the tab is visible, one line per endpoint (health, running/max,
 * last error and next retry on hover). Shown when there is more than one
 * endpoint or one is unhealthy. Standalone: reads the token app.js keeps in
 * localStorage ('snapcat.token'); a 401 just hides the panel (app.js asks).
 */
(function () {
  'use strict';
  const PERIOD_MS = 5000;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function row(b) {
    const li = el('li');
    const name = el('span', b.healthy ? 'n' : 'cls',
                    (b.healthy ? '● ' : '○ ') + b.endpoint);
    name.style.flex = '1';
    name.style.overflow = 'hidden';
    name.style.textOverflow = 'ellipsis';
    name.style.whiteSpace = 'nowrap';
    const tip = [b.kind + ', ' + b.state, b.jobs + ' jobs, ' + b.starts + ' starts, ' +
                 b.failures + ' failures, ' + b.losses + ' losses'];
    if (b.last_error) tip.push('last error: ' + b.last_error);
    if (!b.healthy && b.next_retry_at) tip.push('next try: ' + b.next_retry_at);
    li.title = tip.join('\n');
    li.append(name, el('span', 'n', b.running + '/' + b.max));
    return li;
  }

  function render(sec, d) {
    const items = Array.isArray(d.items) ? d.items : [];
    sec.hidden = items.length < 2 && d.status === 'ok';
    sec.querySelector('#browsers-total').textContent = d.healthy + '/' + d.total + ' healthy';
    sec.querySelector('#browsers-list').replaceChildren(...items.map(row));
    const msg = sec.querySelector('#browsers-msg');
    msg.style.overflowWrap = 'anywhere';
    msg.textContent = d.reason || '';
  }

  async function refresh(sec) {
    if (document.hidden) return;
    const headers = { Accept: 'application/json' };
    let token = '';
    try { token = localStorage.getItem('snapcat.token') || ''; } catch (e) { /* private mode */ }
    if (token) headers.Authorization = 'Bearer ' + token;
    try {
      const res = await fetch('/api/browsers', { headers, cache: 'no-store' });
      if (!res.ok) { sec.hidden = true; return; }
      render(sec, await res.json());
    } catch (e) {
      /* the server is away: the connection badge says so already */
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    const sec = document.getElementById('browsers');
    if (!sec) return;
    refresh(sec);
    setInterval(() => refresh(sec), PERIOD_MS);
    document.addEventListener('visibilitychange', () => refresh(sec));
  });
})();
