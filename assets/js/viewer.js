/* viewer.js — the link detail's screenshot viewer and versions: a plain <img> (width 100%,
 * height auto) in a scroll container; the browser decodes and tiles it, no canvas, so
 * 60000 px tall pages scroll smoothly. Modes: the page; its changes (the server's diff
 * image); side by side or a slider over another version (by default the one it was compared
 * with, else the next older one); the page's stored text as a reader-style Text view
 * (GET /api/snapshots/{id}/text, put in as text nodes, never as HTML); the browsable copy
 * (GET /api/snapshots/{id}/page: the MHTML's HTML and parts, in an <iframe sandbox> under the
 * server's CSP: no script, nothing loaded from outside the snapshot). The bar: mode,
 * version picker, slider, MHTML, Top, fit. With the "pdf" option, a PDF view (pdfview.js).
 */
import { $, h } from './dom.js';
import { timeEl, relTime, errorLine, changeText } from './format.js';
import { setImage, downloadLink, fetchText, assetUrl } from './api.js';
import { state, jobActive } from './state.js';
import { placeholderText } from './cards.js';
import { pdfView } from './pdfview.js';

/** Show the selected snapshot of the open detail in its current mode. */
export function renderViewer() {
  const d = state.detail;
  const bar = $('v-bar');
  const box = $('v-scroll');
  const s = d && d.snaps.find((x) => x.id === d.selected);
  box.classList.toggle('actual', !!(d && !d.fit));
  if (s && !s.png_url && s.text_url) { // no screenshot (too large, failed), but the page's text
    bar.replaceChildren(h('span', { class: 'grow' }, h('strong', null, 'Snapshot #' + s.id),
      ' · no screenshot' + (s.error ? ': ' + errorLine(s.error) : '')),
    h('span', { class: 'seg', role: 'group', 'aria-label': 'View' },
      h('button', { type: 'button', 'data-view': 'text', 'aria-pressed': 'true' }, 'Text')));
    box.replaceChildren(textView(s));
    return;
  }
  if (!s || !s.png_url) {
    bar.replaceChildren(h('span', { class: 'muted' }, s ? 'Snapshot #' + s.id : 'Screenshot'));
    const msg = s ? 'This capture has no screenshot' + (s.error ? ': ' + errorLine(s.error) : '.')
      : jobActive(d && d.link) ? placeholderText(d.link) + ' The screenshot will appear here.'
        : d && d.snapsLoaded ? 'No screenshot for this link yet.' : 'Loading…';
    box.replaceChildren(h('div', { class: 'v-empty' }, msg));
    return;
  }
  const other = compareTarget(d, s);
  const mode = d.view && (d.view === 'diff' ? s.diff : d.view === 'text' ? s.text_url
    : d.view === 'pdf' ? s.pdf_url : d.view === 'copy' ? s.page_url : other) ? d.view : 'page';
  const content = mode === 'diff' ? diffView(s) : mode === 'text' ? textView(s) : mode === 'pdf' ? pdfView(s)
    : mode === 'copy' ? copyView(s)
    : mode === 'side' ? sideView(s, other)
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

/** The browsable copy: the server's page of the MHTML in a sandboxed frame (no scripts;
 *  allow-same-origin only so that its own frames, served with frame-ancestors 'self', load). */
function copyView(s) {
  const f = h('iframe', { class: 'v-copy', id: 'v-copy', src: assetUrl(s.page_url), sandbox: 'allow-same-origin',
    referrerpolicy: 'no-referrer', title: 'Archived copy of snapshot #' + s.id });
  if (s.height) f.style.height = Math.min(Math.max(s.height, 400), 20000) + 'px';
  return f;
}

/** Paragraphs (blank-line separated) of the page's text, each a text node in a <p>. */
export function readerParagraphs(text) {
  return text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n+/).map((p) => p.trim()).filter(Boolean);
}

/** The stored page text, reader style. Fetched once per snapshot (d.texts caches it). */
function textView(s) {
  const d = state.detail;
  d.texts = d.texts || new Map();
  const box = h('article', { class: 'v-text', id: 'v-text', 'aria-label': 'Text of snapshot #' + s.id });
  const fill = (text) => {
    const paras = readerParagraphs(text);
    box.replaceChildren(...(paras.length ? paras.map((p) => h('p', null, p))
      : [h('p', { class: 'muted' }, 'The page had no text.')]));
  };
  if (d.texts.has(s.id)) fill(d.texts.get(s.id));
  else {
    box.append(h('p', { class: 'muted' }, 'Loading the text…'));
    fetchText(s.text_url).then((t) => { d.texts.set(s.id, t); fill(t); })
      .catch((e) => box.replaceChildren(h('p', { class: 'err' }, 'Could not load the text: ' + e.message)));
  }
  return box;
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
    ['slider', 'Slider', other != null], ['text', 'Text', !!s.text_url], ['pdf', 'PDF', !!s.pdf_url],
    ['copy', 'Browse', !!s.page_url]];
  return h('span', { class: 'seg', role: 'group', 'aria-label': 'View' }, ...modes.map(([m, label, ok]) =>
    h('button', { type: 'button', 'data-view': m, 'aria-pressed': String(mode === m),
      disabled: !ok, title: m === 'copy' ? (ok ? 'The archived page itself, browsable (no scripts run)' : 'This capture kept no MHTML')
        : ok ? '' : m === 'text' ? 'This capture kept no text'
        : m === 'pdf' ? 'No PDF: turn on the PDF option (capture options) for the next capture'
          : 'No other version to compare with',
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
