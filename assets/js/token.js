/* token.js — the admin page's access token: kept in localStorage ('snapcat.token') and in
 * memory, and the "Access token" dialog. api.js asks for a token here when a request gets a
 * 401 (askToken: one pending prompt shared by every request that hit it); the header's Token
 * button opens the same dialog. main.js passes what to do when the token changed.
 *   token()        the token the page's own requests use
 *   storedToken()  localStorage's copy, read on each call (the import/export, webhooks and
 *                  browsers panels use it)
 */
import { $, toast } from './dom.js';

const TOKEN_KEY = 'snapcat.token';
let current = readToken();

function readToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
}
export function token() { return current; }
export function storedToken() { return readToken(); }

function saveToken(t) {
  current = t;
  try { if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
}

/* Token dialog: one pending prompt shared by every request that hit a 401. */
let tokenWaiters = null;   // array of resolve fns while the dialog is open for a 401
let dismissed = false;     // user pressed Cancel: background requests stop prompting
let onChanged = () => {};

/** Whether the user dismissed the last prompt (background requests do not ask again). */
export function tokenDismissed() { return dismissed; }

/** Ask for a token (message: why); resolves true once one was entered, false if dismissed. */
export function askToken(message) {
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
  $('token-input').value = current;
  $('token-forget').hidden = !current;
  if (!dlg.open) dlg.showModal();
  $('token-input').focus();
}

function finishTokenDialog(ok) {
  const dlg = $('token-dialog');
  if (dlg.open) dlg.close();
  const waiters = tokenWaiters || [];
  tokenWaiters = null;
  dismissed = !ok;
  for (const w of waiters) w(ok);
}

function onTokenSubmit(ev) {
  ev.preventDefault();
  const t = $('token-input').value.trim();
  const changed = t !== current;
  saveToken(t);
  finishTokenDialog(true);
  if (changed) onChanged();
}

/** Wire the Token button and the dialog; changed() runs when the token was changed. */
export function bindToken(changed) {
  onChanged = changed;
  $('token-btn').addEventListener('click', () => openTokenDialog(null));
  $('token-form').addEventListener('submit', onTokenSubmit);
  $('token-cancel').addEventListener('click', () => finishTokenDialog(false));
  $('token-dialog').addEventListener('cancel', (ev) => { ev.preventDefault(); finishTokenDialog(false); });
  $('token-forget').addEventListener('click', () => {
    saveToken('');
    finishTokenDialog(false);
    toast('Token forgotten.');
    onChanged();
  });
}
