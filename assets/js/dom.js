/* dom.js — the admin page's DOM helpers, shared by every view module:
 *   $(id)                   document.getElementById
 *   h(tag, attrs, ...kids)  an element; every string goes in as text, never as HTML
 *   el(tag, cls, text)      the short form the panels (import/export, webhooks, browsers) use
 *   debounce(fn, ms)        with .now() to run at once
 *   toast(msg, kind)        the one status toast at the bottom of the page
 */

export const $ = (id) => document.getElementById(id);

/** Create an element. attrs: class, text, on<event>, or plain attributes. Children are
 *  nodes or strings (strings become text nodes, never HTML). */
export function h(tag, attrs, ...children) {
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

/** An element with a class (if any) and a text (if given). */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function debounce(fn, ms) {
  let t = 0;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.now = (...a) => { clearTimeout(t); fn(...a); };
  return d;
}

let toastTimer = 0;
export function toast(msg, kind) {
  const el = $('toast');
  el.textContent = msg;
  el.className = 'toast' + (kind === 'error' ? ' error' : '');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 6000 : 3500);
}
