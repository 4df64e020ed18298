/* pdfview.js — the viewer's PDF view: the snapshot's PDF (GET /api/snapshots/{id}/pdf,
 * captured with the "pdf" option) in the browser's own PDF viewer, in a frame. That
 * route alone may be framed, and only by this origin (X-Frame-Options SAMEORIGIN,
 * frame-ancestors 'self': http/api_snapshots.c). A link opens it in a tab of its own.
 */
import { h } from './dom.js';
import { assetUrl } from './api.js';

/** The PDF of s in a frame, with a line above it: pages' size and a link to open it alone. */
export function pdfView(s) {
  const src = assetUrl(s.pdf_url);
  const size = s.bytes && s.bytes.pdf ? ' · ' + Math.max(1, Math.round(s.bytes.pdf / 1024)) + ' KB' : '';
  return h('div', { class: 'v-pdf' },
    h('p', { class: 'v-pdf-bar muted small' }, 'PDF of snapshot #' + s.id + ', printed with the page\'s print style' + size + ' · ',
      h('a', { href: src, target: '_blank', rel: 'noopener' }, 'Open in a new tab')),
    h('iframe', { class: 'v-pdf-frame', src, title: 'PDF of snapshot #' + s.id }));
}
