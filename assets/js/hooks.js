/* hooks.js — the admin page's "Webhooks" panel: list the webhooks (GET /api/webhooks), add
 * one (URL + events; the generated secret is shown once), pause/resume, send a test
 * delivery, delete, and each webhook's newest deliveries with their state
 * (GET /api/webhooks/{id}/deliveries), refreshed every few seconds while the panel is open
 * and the tab visible. Everything from the server is put in the page as text, never as HTML.
 */
import { $, el } from './dom.js';
import { ago } from './format.js';
import { request } from './api.js';

const EVENTS = ['job.done', 'job.failed', 'snapshot.changed'];
const SHOWN = 5;          // deliveries per webhook
const PERIOD_MS = 3000;   // refresh while open
let timer = null;
let busy = false;

function button(text, cls, onClick, title) {
  const b = el('button', 'btn small ' + (cls || ''), text);
  b.type = 'button';
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

/** JSON request (body: an object) through the panels' client. */
async function api(method, url, body) {
  return request(method, url, body === undefined ? undefined : JSON.stringify(body),
    body === undefined ? undefined : { 'Content-Type': 'application/json' });
}

function say(text, kind) {
  const m = $('hooks-msg');
  m.textContent = text || '';
  m.dataset.kind = kind || '';
}

/* ---- the add form ---- */
function buildForm() {
  const form = el('form', 'hooks-form');
  form.id = 'hooks-form';
  form.noValidate = true;
  const urlField = el('label', 'io-field grow');
  urlField.append(el('span', '', 'Receiver URL'));
  const url = el('input');
  Object.assign(url, { id: 'hooks-url', type: 'text', autocomplete: 'off', spellcheck: false,
    placeholder: 'https://example.org/snapcat-webhook' });
  url.inputMode = 'url';
  urlField.append(url);
  const evs = el('fieldset', 'hooks-events');
  evs.append(el('legend', '', 'Events'));
  EVENTS.forEach((name) => {
    const l = el('label', 'check');
    const c = el('input');
    Object.assign(c, { type: 'checkbox', name: 'hooks-ev', value: name, checked: true });
    l.append(c, ' ' + name);
    evs.append(l);
  });
  const go = el('button', 'btn primary', 'Add webhook');
  go.type = 'submit';
  go.id = 'hooks-add';
  form.append(urlField, evs, go);
  form.addEventListener('submit', (e) => { e.preventDefault(); add(); });
  return form;
}

function showSecret(secret) {
  const box = $('hooks-secret');
  box.replaceChildren();
  if (!secret) { box.hidden = true; return; }
  box.append(el('strong', '', 'Signing secret (shown once): '));
  const code = el('code', 'hooks-secret-value', secret);
  box.append(code, ' ');
  box.append(button('Copy', 'ghost', () => {
    navigator.clipboard?.writeText(secret).then(() => say('Secret copied.', 'ok'), () => {});
  }));
  box.append(button('Hide', 'ghost', () => showSecret(null)));
  box.append(el('p', 'small muted', 'Receivers verify X-Snapcat-Signature with it (see the README). ' +
    'It is never shown again: store it now.'));
  box.hidden = false;
}

async function add() {
  const url = $('hooks-url').value.trim();
  const events = [...document.querySelectorAll('input[name="hooks-ev"]:checked')].map((c) => c.value);
  if (!url) { say('Enter the receiver URL.', 'err'); $('hooks-url').focus(); return; }
  if (!events.length) { say('Pick at least one event.', 'err'); return; }
  try {
    const w = await api('POST', '/api/webhooks', { url, events });
    $('hooks-url').value = '';
    say('Webhook ' + w.id + ' added.', 'ok');
    showSecret(w.secret);
    refresh();
  } catch (e) {
    say(e.message, 'err');
  }
}

/* ---- the list ---- */
/** What happened, in words: "HTTP 200 in 3 ms", "connection refused · retry in 4 s". */
function outcome(d) {
  const tries = d.attempts === 1 ? '1 try' : d.attempts + ' tries';
  if (d.state === 'ok') return `HTTP ${d.status} in ${d.duration_ms} ms` + (d.attempts > 1 ? ` (${tries})` : '');
  if (d.state === 'sending' || (d.state === 'pending' && !d.attempts)) return 'sending…';
  const err = d.error || (d.status ? 'HTTP ' + d.status : 'no answer');
  if (d.state === 'pending') return `${err} · try ${d.attempts + 1} of ${d.max_attempts} ${ago(d.next_attempt_at)}`;
  return `${err} (${tries})`;
}

function deliveryRow(d) {
  const tr = el('tr');
  tr.dataset.state = d.state;
  const state = el('span', 'hooks-state', d.state);
  state.dataset.state = d.state;
  const st = el('td', 'st');
  st.append(state);
  tr.append(el('td', 'n', '#' + d.id), el('td', 'type', d.type), st,
    el('td', 'err', outcome(d)), el('td', 'when', ago(d.created_at)));
  tr.title = (d.tries || []).map((t, i) => `try ${i + 1}: ${t.status || '-'} ${t.error || 'ok'} (${t.ms} ms)`).join('\n');
  return tr;
}

function confirmDelete(b, w) {
  if (b.dataset.armed) {
    api('DELETE', '/api/webhooks/' + w.id)
      .then(() => { say('Webhook ' + w.id + ' deleted.', 'ok'); refresh(); })
      .catch((e) => say(e.message, 'err'));
    return;
  }
  b.dataset.armed = '1';
  b.textContent = 'Really delete?';
  setTimeout(() => { delete b.dataset.armed; b.textContent = 'Delete'; }, 4000);
}

function card(w, deliveries) {
  const li = el('li', 'hooks-item');
  li.dataset.id = w.id;
  const head = el('div', 'hooks-head');
  const url = el('span', 'hooks-url', w.url);
  url.title = w.url;
  head.append(url);
  if (!w.active) head.append(el('span', 'hooks-paused', 'paused'));
  const evs = el('span', 'hooks-evs');
  w.events.forEach((n) => evs.append(el('span', 'chip', n)));
  head.append(evs);
  const acts = el('div', 'hooks-acts');
  acts.append(
    button('Send test', 'hooks-test', () => {
      api('POST', `/api/webhooks/${w.id}/test`)
        .then((r) => { say('Test delivery #' + r.delivery + ' queued.', 'ok'); refresh(); })
        .catch((e) => say(e.message, 'err'));
    }, 'POST a ping delivery to this URL'),
    button(w.active ? 'Pause' : 'Resume', 'ghost', () => {
      api('PATCH', '/api/webhooks/' + w.id, { active: !w.active })
        .then(refresh).catch((e) => say(e.message, 'err'));
    }),
    button('Delete', 'danger-ghost hooks-del', (e) => confirmDelete(e.currentTarget, w)));
  head.append(acts);
  li.append(head);
  if (!deliveries.length) {
    li.append(el('p', 'small muted hooks-none', 'No deliveries yet.'));
    return li;
  }
  const table = el('table', 'hooks-log');
  const body = el('tbody');
  deliveries.forEach((d) => body.append(deliveryRow(d)));
  table.append(body);
  li.append(table);
  return li;
}

async function refresh() {
  if (busy || document.hidden || !$('hooks-toggle').open) return;
  busy = true;
  try {
    const list = (await api('GET', '/api/webhooks')).items || [];
    const logs = await Promise.all(list.map((w) =>
      api('GET', `/api/webhooks/${w.id}/deliveries?limit=${SHOWN}`).then((r) => r.items || [], () => [])));
    const ul = $('hooks-list');
    ul.replaceChildren(...list.map((w, i) => card(w, logs[i])));
    $('hooks-empty').hidden = list.length > 0;
    $('hooks-count').textContent = list.length ? String(list.length) : '';
  } catch (e) {
    say(e.message, 'err');
  } finally {
    busy = false;
  }
}

export function initHooks() {
  const body = $('hooks-body');
  const toggle = $('hooks-toggle');
  if (!body || !toggle) return;
  const msg = el('p', 'small hooks-msg');
  msg.id = 'hooks-msg';
  msg.setAttribute('role', 'status');
  msg.setAttribute('aria-live', 'polite');
  const secret = el('div', 'hooks-secret');
  secret.id = 'hooks-secret';
  secret.hidden = true;
  const empty = el('p', 'small muted', 'No webhooks yet. Add a URL: snapcat POSTs signed JSON there ' +
    'when a job is done or failed, or a snapshot changed.');
  empty.id = 'hooks-empty';
  const ul = el('ul', 'hooks-list');
  ul.id = 'hooks-list';
  body.append(buildForm(), msg, secret, empty, ul);
  toggle.querySelector('summary').append(el('span', 'count', ''));
  toggle.querySelector('summary .count').id = 'hooks-count';
  toggle.addEventListener('toggle', () => {
    clearInterval(timer);
    timer = null;
    if (!toggle.open) return;
    refresh();
    timer = setInterval(refresh, PERIOD_MS);
  });
  document.addEventListener('visibilitychange', refresh);
}
