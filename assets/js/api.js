/* api.js — the admin page's client of the snapcat REST API.
 *   api(method, path, body, opts)  the page's JSON requests: "Authorization: Bearer <token>";
 *                                  a 401 opens the token dialog (token.js) and the request is
 *                                  retried with the new token; errors are ApiError.
 *   request(method, url, body, headers)
 *                                  the panels' requests (import/export, webhooks, browsers):
 *                                  raw body, never prompts; a 401 says to use the Token button.
 *   assetUrl / setImage / downloadLink / fetchText
 *                                  <img> and download URLs cannot carry headers: they get
 *                                  ?token=, with a fetch()+blob fallback that sends the header.
 */
import { h, toast } from './dom.js';
import { errText } from './format.js';
import { token, storedToken, askToken, tokenDismissed } from './token.js';

export class ApiError extends Error {
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
export async function api(method, path, body, opts) {
  opts = opts || {};
  for (;;) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token()) headers.Authorization = 'Bearer ' + token();
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
      if (opts.background && tokenDismissed()) throw err;   // don't nag after "Cancel"
      const usedToken = token();
      const ok = await askToken(usedToken ? 'The token was rejected. Enter a valid token.' : null);
      if (!ok) throw err;
      continue;
    }
    if (!res.ok) throw toApiError(res, data);
    return opts.withStatus ? { status: res.status, data } : data;
  }
}

/** A panel's request: body as given (a string, a File), headers added to Accept and the
 *  stored token. Resolves with the JSON answer (null when there is none). Rejects with
 *  ApiError (the server's message; a 401 says to use the Token button); a network error
 *  rejects as fetch() does. */
export async function request(method, url, body, extraHeaders) {
  const headers = Object.assign({ Accept: 'application/json' }, extraHeaders || {});
  const t = storedToken();
  if (t) headers.Authorization = 'Bearer ' + t;
  const res = await fetch(url, { method, body, headers, cache: 'no-store' });
  let j = null;
  try { j = await res.json(); } catch (e) { /* 204, or not JSON */ }
  if (!res.ok) {
    const msg = j && j.error ? j.error.message : 'HTTP ' + res.status;
    throw new ApiError(res.status, (j && j.error && j.error.code) || null,
      res.status === 401 ? 'a token is needed (use the Token button)' : msg);
  }
  return j;
}

/** url with ?token= (the stored token) for what cannot send a header (EventSource, links). */
export function withStoredToken(u) {
  const t = storedToken();
  return t ? u + (u.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(t) : u;
}

/** URL of a server asset (png, thumb, mhtml): same-origin paths only, plus ?token=. */
export function assetUrl(u) {
  if (typeof u !== 'string' || u[0] !== '/' || u[1] === '/' || u[1] === '\\') return null;
  if (!token()) return u;
  return u + (u.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token());
}

/** Load an authenticated image: ?token= URL first, then fetch()+blob with the header. */
export function setImage(img, url, onFail) {
  const src = assetUrl(url);
  if (!src) { if (onFail) onFail(); return; }
  img.dataset.src = url;
  img.onerror = () => {
    if (img.dataset.src !== url) return;
    if (token() && !img.dataset.blobTried) {
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

/** The text of a text/plain asset (a snapshot's stored page text), with the header. */
export async function fetchText(url) {
  const res = await fetch(url, { headers: token() ? { Authorization: 'Bearer ' + token() } : {} });
  if (!res.ok) throw new ApiError(res.status, null, 'HTTP ' + res.status);
  return res.text();
}

async function fetchBlob(url) {
  const res = await fetch(url, { headers: token() ? { Authorization: 'Bearer ' + token() } : {} });
  if (!res.ok) throw new ApiError(res.status, null, 'HTTP ' + res.status);
  return res.blob();
}

/** Download link for an attachment (MHTML). With a token, clicking fetches with the
 *  header and saves the blob, so it works even if the server ignores ?token= there. */
export function downloadLink(url, label, filename) {
  const href = assetUrl(url);
  if (!href) return null;
  const a = h('a', { href, download: filename || '' }, label);
  a.addEventListener('click', (ev) => {
    if (!token()) return;
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
