/* options.js — the capture-options form of the admin page, used twice: the "Options"
 * disclosure of the add form (a new link's first capture, add.js) and the link detail's
 * "Capture options" (the link's own options, PATCHed; every capture of the link uses them,
 * detail.js).
 *   render(container)          build the fields once
 *   read(container) -> {...}   the options set in the form (throws Error on a bad line)
 *   fill(container, options)   show stored options
 *   consentText(c) -> string   a snapshot's consent report (snapshots.js)
 * Header and cookie values come back from the server as "***": the form shows them so, and
 * sends "***" back, which keeps the stored value; typing a value replaces it, deleting the
 * line removes it.
 */
import { h } from './dom.js';

const PRESETS = {
  '': null,
  desktop: { width: 1280, height: 800, scale: 1, mobile: false },
  laptop: { width: 1440, height: 900, scale: 1, mobile: false },
  tablet: { width: 768, height: 1024, scale: 2, mobile: true },
  phone: { width: 390, height: 844, scale: 3, mobile: true },
};

function field(label, input, wide) {
  return h('label', { class: 'opt' + (wide ? ' wide' : '') }, h('span', { text: label }), input);
}

function check(name, label, checked) {
  return h('label', { class: 'opt check' },
    h('input', { type: 'checkbox', 'data-o': name, checked }), h('span', { text: label }));
}

export function render(box) {
  if (box.dataset.ready) return;
  box.dataset.ready = '1';
  const num = (name, min, max, step, ph) => h('input', { type: 'number', 'data-o': name, min, max, step, placeholder: ph });
  const preset = h('select', { 'data-o': 'preset' },
    h('option', { value: '', text: 'Server default' }),
    h('option', { value: 'desktop', text: 'Desktop 1280×800' }),
    h('option', { value: 'laptop', text: 'Laptop 1440×900' }),
    h('option', { value: 'tablet', text: 'Tablet 768×1024 @2x' }),
    h('option', { value: 'phone', text: 'Phone 390×844 @3x' }),
    h('option', { value: 'custom', text: 'Custom' }));
  const scheme = h('select', { 'data-o': 'color_scheme' },
    h('option', { value: '', text: 'Server default' }),
    h('option', { value: 'light', text: 'Light' }),
    h('option', { value: 'dark', text: 'Dark' }),
    h('option', { value: 'auto', text: 'The page\'s own' }));
  const area = (name, ph) => h('textarea', { 'data-o': name, rows: 2, spellcheck: 'false', placeholder: ph });
  box.replaceChildren(
    h('div', { class: 'opts-grid' },
      field('Device', preset),
      field('Width', num('width', 100, 10000, 1, 'px')),
      field('Height', num('height', 100, 10000, 1, 'px')),
      field('Scale', num('scale', 0.1, 5, 0.1, '1')),
      field('Color scheme', scheme),
      field('Delay', num('delay', 0, 60000, 100, 'ms after ready'))),
    h('div', { class: 'opts-checks' },
      check('mobile', 'Mobile (touch, phone user agent)', false),
      check('full_page', 'Full page', true),
      check('consent', 'Handle cookie banners', true),
      check('stealth', 'Look like an ordinary Chrome (not headless)', true),
      check('mhtml', 'MHTML', true),
      check('pdf', 'PDF (the page\'s print style)', false)),
    h('div', { class: 'opts-grid wide' },
      field('Hide (CSS selectors, one per line)', area('hide', '#chat-widget\n.newsletter-popup'), true),
      field('User agent', h('input', { type: 'text', 'data-o': 'user_agent', spellcheck: 'false', placeholder: 'Server default' }), true),
      field('Headers (Name: value, one per line)', area('headers', 'Authorization: Bearer …'), true),
      field('Cookies (name=value, one per line)', area('cookies', 'session=…'), true)),
    h('p', { class: 'muted small opts-note', text: 'Header and cookie values are kept on the server and shown as ***; '
      + 'leave *** to keep a value, type a new one to replace it, delete the line to remove it.' }));
  const q = (n) => box.querySelector(`[data-o="${n}"]`);
  preset.addEventListener('change', () => {
    const p = PRESETS[preset.value];
    if (!p) return;
    q('width').value = p.width;
    q('height').value = p.height;
    q('scale').value = p.scale;
    q('mobile').checked = p.mobile;
  });
  for (const n of ['width', 'height', 'scale']) q(n).addEventListener('input', () => { preset.value = 'custom'; });
}

function lines(text) {
  return text.split('\n').map((s) => s.trim()).filter(Boolean);
}

function pairs(text, sep, what) {
  return lines(text).map((line) => {
    const i = line.indexOf(sep);
    if (i <= 0) throw new Error(`${what}: "${line}" is not ${sep === ':' ? 'Name: value' : 'name=value'}`);
    return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
  });
}

/** The options the form sets (only what differs from the server's defaults). */
export function read(box) {
  const q = (n) => box.querySelector(`[data-o="${n}"]`);
  const o = {};
  for (const n of ['width', 'height', 'scale', 'delay']) {
    const v = q(n).value.trim();
    if (v !== '') o[n] = Number(v);
  }
  if (q('color_scheme').value) o.color_scheme = q('color_scheme').value;
  if (q('mobile').checked) o.mobile = true;
  if (!q('full_page').checked) o.full_page = false;
  if (!q('consent').checked) o.consent = false;
  if (!q('stealth').checked) o.stealth = false;
  if (!q('mhtml').checked) o.mhtml = false;
  if (q('pdf').checked) o.pdf = true;
  const hide = lines(q('hide').value);
  if (hide.length) o.hide = hide;
  const ua = q('user_agent').value.trim();
  if (ua) o.user_agent = ua;
  const headers = pairs(q('headers').value, ':', 'Headers');
  if (headers.length) o.headers = Object.fromEntries(headers);
  const cookies = pairs(q('cookies').value, '=', 'Cookies');
  if (cookies.length) o.cookies = cookies.map(([name, value]) => ({ name, value }));
  return o;
}

/** Show stored options (null: the server's defaults). */
export function fill(box, o) {
  render(box);
  o = o || {};
  const q = (n) => box.querySelector(`[data-o="${n}"]`);
  for (const n of ['width', 'height', 'scale', 'delay']) q(n).value = o[n] != null ? o[n] : '';
  const preset = Object.entries(PRESETS).find(([k, p]) => p && p.width === o.width &&
    p.height === o.height && p.scale === (o.scale || 1) && p.mobile === !!o.mobile);
  q('preset').value = preset ? preset[0] : (o.width || o.height || o.scale ? 'custom' : '');
  q('color_scheme').value = o.color_scheme || '';
  q('mobile').checked = !!o.mobile;
  q('full_page').checked = o.full_page !== false;
  q('consent').checked = o.consent !== false;
  q('stealth').checked = o.stealth !== false;
  q('mhtml').checked = o.mhtml !== false;
  q('pdf').checked = !!o.pdf;
  q('hide').value = (o.hide || []).join('\n');
  q('user_agent').value = o.user_agent || '';
  q('headers').value = Object.entries(o.headers || {}).map(([k, v]) => `${k}: ${v}`).join('\n');
  q('cookies').value = (o.cookies || []).map((c) => `${c.name}=${c.value}`).join('\n');
}

const NAMES = { onetrust: 'OneTrust', cookiebot: 'Cookiebot', didomi: 'Didomi', quantcast: 'Quantcast Choice',
  trustarc: 'TrustArc', usercentrics: 'Usercentrics', osano: 'Osano', complianz: 'Complianz',
  cookieyes: 'CookieYes', klaro: 'Klaro', sourcepoint: 'Sourcepoint', 'funding-choices': 'Google Funding Choices',
  iubenda: 'iubenda', cookieconsent: 'Cookie Consent', generic: 'a cookie banner' };

/** "OneTrust banner accepted", "no banner found", ... ('' if not run). */
export function consentText(c) {
  if (!c || !c.action) return '';
  if (c.action === 'off') return 'not handled (turned off)';
  if (c.action === 'none') return 'no banner found';
  if (c.action === 'error') return 'could not run';
  const name = NAMES[c.handled] || c.handled;
  const more = (c.matched || []).length > 1 ? ` (+ ${c.matched.length - 1} more)` : '';
  return `${name}: ${c.action === 'accepted' ? 'accepted' : 'hidden'}${more}`;
}
