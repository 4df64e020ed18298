/* browsers.js — the admin page's browser pool panel (in the sidebar): GET /api/browsers
 * every 5 s while the tab is visible, one line per endpoint (health, running/max, last
 * error and next retry on hover). Shown when there is more than one endpoint or one is
 * unhealthy. A refused request (a 401: the token is asked for by the page itself) hides it.
 */
import { el } from './dom.js';
import { request, ApiError } from './api.js';

const PERIOD_MS = 5000;

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
  try {
    render(sec, await request('GET', '/api/browsers'));
  } catch (e) {
    if (e instanceof ApiError) sec.hidden = true;
    /* else the server is away: the connection badge says so already */
  }
}

export function initBrowsers() {
  const sec = document.getElementById('browsers');
  if (!sec) return;
  refresh(sec);
  setInterval(() => refresh(sec), PERIOD_MS);
  document.addEventListener('visibilitychange', () => refresh(sec));
}
