// Capture options end to end against the real server, its Chromium and the
// fixture pages, with the captured PNGs decoded and checked pixel by pixel:
// server defaults from --config (the command line wins), request options
// over link options over defaults, dark mode, viewport-only, mobile at
// scale 3, hidden selectors, consent banners (accepted, hidden, left alone
// when off), and headers/cookies that reach the page but never come back
// out of the API (links, jobs, events) or the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';


import { startFixture, startSnapcat, request, waitUntil } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';
import { decodePng } from './lib/png.js';

const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-options-'));

let fx;
let srv;
let confDir;

// secrets: alphanumeric, so that the full-text index finds them in the
// page text (the fixture echoes what it received)
const SECRETS = ['tok4242secret', 'cook7777val', 'patch5151tok', 'pcook6161val'];

before(async () => {
  fx = await startFixture();
  confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-conf-'));
  const conf = path.join(confDir, 'snapcat.conf');
  fs.writeFileSync(conf, [
    '# server defaults for the test',
    'color-scheme = dark',
    'width = 1000',
    'concurrency = 2',
    'mobile = false',
    '',
  ].join('\n'));
  srv = await startSnapcat(['--config', conf, '--width', '1100'], { name: 'options' });
});

after(async () => {
  await srv?.stop();
  await fx?.stop();
  if (confDir) fs.rmSync(confDir, { recursive: true, force: true });
});

/** POST /api/links {url, options}; resolves {link, job} (asserts 2xx). */
async function add(p, options) {
  const r = await request(srv.base, 'POST', '/api/links', { url: fx.url(p), options });
  assert.ok(r.status === 201 || r.status === 200, `POST ${p}: ${r.status} ${r.body}`);
  return r.json;
}

/** Wait for the job to finish; resolves the job (asserts done). */
async function done(jobId) {
  const job = await waitUntil(async () => {
    const r = await request(srv.base, 'GET', `/api/jobs/${jobId}`);
    return ['done', 'failed', 'canceled'].includes(r.json?.state) ? r.json : null;
  }, 120000, `job ${jobId} to finish`, 100);
  assert.equal(job.state, 'done', `job ${jobId}: ${JSON.stringify(job)}\n${srv.logTail()}`);
  return job;
}

/** The snapshot JSON and its decoded PNG. */
async function shot(job) {
  const s = await request(srv.base, 'GET', `/api/snapshots/${job.snapshot_id}`);
  assert.equal(s.status, 200, s.body);
  const png = await fetch(`${srv.base}/api/snapshots/${job.snapshot_id}/png`);
  assert.equal(png.status, 200);
  return { snap: s.json, img: decodePng(Buffer.from(await png.arrayBuffer())) };
}

async function capture(p, options) {
  const { link, job } = await add(p, options);
  const finished = await done(job.id);
  return { link, job: finished, ...(await shot(finished)) };
}

const rgb = (img, x, y) => img.px(x, y).slice(0, 3);
const hex = (img, x, y) => rgb(img, x, y).map((v) => v.toString(16).padStart(2, '0')).join('');

/** Links whose page text matches q (full-text search). */
async function found(q) {
  const r = await request(srv.base, 'GET', `/api/links?q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, r.body);
  return r.json.items;
}

test('server defaults come from --config; the command line wins; a request overrides both', async () => {
  const a = await capture('/media?n=defaults');
  assert.equal(a.img.width, 1100, 'width: --width 1100 on the command line beats width = 1000 in the file');
  assert.equal(hex(a.img, 600, 400), '000000', 'color-scheme = dark from the file: black body');
  const b = await capture('/media?n=light', { color_scheme: 'light' });
  assert.equal(hex(b.img, 600, 400), 'ffffff', 'the request asked for light');
  assert.deepEqual(b.job.options, { color_scheme: 'light' });
});

test('full_page false captures the viewport only; mobile 390x844 at scale 3 is 1170 px wide', async () => {
  const v = await capture('/tall?h=3000&n=vp', { full_page: false, width: 1280, height: 800 });
  assert.equal(v.img.height, 800);
  assert.equal(v.img.width, 1280);
  const full = await capture('/tall?h=3000&n=full', { width: 1280 });
  assert.equal(full.img.height, 3000);

  const m = await capture('/whoami?n=mobile', { mobile: true, width: 390, height: 844, scale: 3 });
  assert.equal(m.img.width, 1170);
  assert.equal(m.img.height, 844 * 3);
  const hits = await found('Android');
  assert.ok(hits.some((l) => l.id === m.link.id), 'the mobile user agent reached the page');
  const touch = await found('Touch 5 true Mobile');
  assert.ok(touch.some((l) => l.id === m.link.id), 'touch emulation is on in the page');
  const vp = await found('390x844 dpr 3');
  assert.ok(vp.some((l) => l.id === m.link.id), 'the page saw a 390x844 viewport at dpr 3');
});

test('hide: the selectors are gone from the PNG', async () => {
  // #chat-widget: 120x120 #ff00ff, 20 px from the bottom right of the viewport
  const shown = await capture('/whoami?n=shown', { width: 1280, height: 800 });
  assert.equal(hex(shown.img, 1280 - 80, 800 - 80), 'ff00ff');
  const hidden = await capture('/whoami?n=hidden', { width: 1280, height: 800, hide: ['#chat-widget', '.nothing'] });
  assert.notEqual(hex(hidden.img, 1280 - 80, 800 - 80), 'ff00ff');
  assert.deepEqual(hidden.job.options.hide, ['#chat-widget', '.nothing']);
});

// The banner band is y 600..800 of the 800 px viewport; #mark (600,100) turns
// from #ff0000 to #00ff00 when the page's own "accept" handler ran.
const BANNER = { onetrust: '1f3a93', cookiebot: '141414', generic: '333333' };

for (const fw of ['onetrust', 'cookiebot']) {
  test(`consent: the ${fw} banner is accepted (its button clicked) and reported`, async () => {
    const { snap, img } = await capture(`/consent?fw=${fw}`, { color_scheme: 'light', width: 1280, height: 800 });
    assert.equal(snap.consent.handled, fw, JSON.stringify(snap.consent));
    assert.equal(snap.consent.action, 'accepted');
    assert.deepEqual(snap.consent.matched, [fw]);
    assert.equal(hex(img, 640, 700), 'ffffff', 'the banner is gone: page colour where it was');
    assert.equal(hex(img, 650, 120), '00ff00', 'the page saw the click');
    assert.equal(hex(img, 240, 200), '008000', 'no dark filter over the page');
  });
}

test('consent: a generic banner without an accept button is hidden; consent:false keeps a banner', async () => {
  const g = await capture('/consent?fw=generic', { color_scheme: 'light', width: 1280, height: 800 });
  assert.equal(g.snap.consent.handled, 'generic');
  assert.equal(g.snap.consent.action, 'hidden');
  assert.equal(hex(g.img, 640, 700), 'ffffff');
  assert.equal(hex(g.img, 650, 120), 'ff0000', 'nothing was clicked');

  const off = await capture('/consent?fw=onetrust&n=off', { color_scheme: 'light', width: 1280, height: 800, consent: false });
  assert.deepEqual(off.snap.consent, { handled: null, action: 'off', matched: [], ms: 0 });
  assert.equal(hex(off.img, 640, 700), BANNER.onetrust, 'the banner stays');
  const [r, gr, bl] = rgb(off.img, 650, 120);
  assert.ok(r >= 0x70 && r <= 0x90 && gr < 0x10 && bl < 0x10,
    `red under the dark filter (not accepted): ${hex(off.img, 650, 120)}`);

  const none = await capture('/consent?fw=none', { color_scheme: 'light', width: 1280, height: 800 });
  assert.equal(none.snap.consent.action, 'none');
  assert.equal(none.snap.consent.handled, null);
});

/** Every API answer and event the server gives about these links. */
async function everything(links, jobs) {
  const out = [];
  for (const p of ['/api/links', '/api/jobs', '/api/events/poll?after=0&timeout=0',
    ...links.map((l) => `/api/links/${l}`), ...links.map((l) => `/api/links/${l}/snapshots`),
    ...jobs.map((j) => `/api/jobs/${j}`), ...jobs.map((j) => `/api/jobs?link=${j}`)]) {
    const r = await request(srv.base, 'GET', p);
    out.push(`${p} -> ${r.status} ${r.body}`);
  }
  return out.join('\n');
}

function assertNoSecret(text, what) {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} holds the secret ${s}`);
}

test('headers and cookies reach the page, and never come back out of the API, events or log', async () => {
  const opts = {
    width: 1280,
    height: 800,
    headers: { Authorization: 'Bearer tok4242secret', 'X-Snapcat-Test': 'hello' },
    cookies: [{ name: 'sid', value: 'cook7777val' }],
  };
  const r = await request(srv.base, 'POST', '/api/links', { url: fx.url('/whoami?n=secret'), options: opts });
  assert.equal(r.status, 201, r.body);
  assertNoSecret(r.body, 'the POST answer');
  assert.deepEqual(r.json.job.options.headers, { Authorization: '***', 'X-Snapcat-Test': '***' });
  assert.deepEqual(r.json.job.options.cookies, [{ name: 'sid', value: '***' }]);
  const job = await done(r.json.job.id);
  // the fixture echoed them into the page: the full-text index has them
  assert.ok((await found('tok4242secret')).some((l) => l.id === job.link_id), 'Authorization reached the page');
  assert.ok((await found('cook7777val')).some((l) => l.id === job.link_id), 'the cookie reached the page');
  assert.ok((await found('hello')).some((l) => l.id === job.link_id), 'X-Snapcat-Test reached the page');

  const all = await everything([job.link_id], [job.id]);
  assertNoSecret(all, 'an API answer');
  assert.match(all, /"Authorization":"\*\*\*"/);
  assertNoSecret(fs.readFileSync(srv.logPath, 'utf8'), 'the server log');

  // a masked value sent back in a request has nothing to stand for
  const bad = await request(srv.base, 'POST', '/api/links',
    { url: fx.url('/whoami?n=mask'), options: { headers: { Authorization: '***' } } });
  assert.equal(bad.status, 400, bad.body);
  assert.equal(bad.json.error.field, 'options');
});

test('extra headers go only to the page\'s own origin: not to a third-party image, not after a redirect to another site', async () => {
  const base = 100000 + Math.floor(Math.random() * 1e6);
  const [same, other, moved] = [base, base + 1, base + 2];
  const elsewhere = (p) => `http://localhost:${fx.port}${p}`; // another origin, same fixture
  const headers = { Authorization: 'Bearer tok4242secret', 'X-Snapcat-Test': 'hello' };
  const seen = async (id) => (await (await fetch(fx.url(`/record?get=${id}`))).text());
  const page = (u) => `/embed?url=${encodeURIComponent(u)}`;
  await done((await add(page(fx.url(`/record?id=${same}`)), { headers })).job.id);
  await done((await add(page(elsewhere(`/record?id=${other}`)), { headers })).job.id);
  assert.match(await seen(same), /hits: [1-9]\d*\nAuthorization: Bearer tok4242secret\nX-Snapcat-Test: hello\n/,
    'the same-origin image got the headers');
  assert.match(await seen(other), /hits: [1-9]\d*\nAuthorization: \nX-Snapcat-Test: \n/,
    'the third-party image got none');
  // a redirect to another site: the hop away carries none
  const r = await add(`/redirect-to?url=${encodeURIComponent(elsewhere(`/record?id=${moved}`))}`, { headers });
  await waitUntil(async () => ['done', 'failed'].includes(
    (await request(srv.base, 'GET', `/api/jobs/${r.job.id}`)).json?.state), 120000, 'the redirect job');
  assert.match(await seen(moved), /hits: [1-9]\d*\nAuthorization: \nX-Snapcat-Test: \n/,
    'the redirect target got none');
});

test('PATCH /api/links/{id} {options}: stored, masked, used by every job (request > link > server), "***" keeps, null clears', async () => {
  const { link, job } = await add('/whoami?n=patch', { width: 1280, height: 800 });
  await done(job.id);
  const before = await request(srv.base, 'GET', `/api/links/${link.id}`);
  assert.equal(before.json.options, null);

  const set = await request(srv.base, 'PATCH', `/api/links/${link.id}`, {
    options: {
      mobile: true, width: 390, height: 844, scale: 2, color_scheme: 'light',
      headers: { Authorization: 'Bearer patch5151tok' },
      cookies: [{ name: 'sid', value: 'pcook6161val', path: '/' }],
    },
  });
  assert.equal(set.status, 200, set.body);
  assertNoSecret(set.body, 'the PATCH answer');
  assert.deepEqual(set.json.options, {
    mobile: true, width: 390, height: 844, scale: 2, color_scheme: 'light',
    headers: { Authorization: '***' }, cookies: [{ name: 'sid', value: '***', path: '/' }],
  });

  // a recapture: the link's options, with the request's scale over them
  const re = await request(srv.base, 'POST', `/api/links/${link.id}/snapshots`, { options: { scale: 1 } });
  assert.equal(re.status, 202, re.body);
  const j2 = await done(re.json.job.id);
  const s2 = await shot(j2);
  assert.equal(s2.img.width, 390, 'width 390 from the link at scale 1 from the request');
  assert.ok((await found('patch5151tok')).some((l) => l.id === link.id), 'the link\'s header reached the page');
  assert.ok((await found('pcook6161val')).some((l) => l.id === link.id), 'the link\'s cookie reached the page');

  // "***" keeps the stored Authorization; the cookie list is replaced (gone)
  const keep = await request(srv.base, 'PATCH', `/api/links/${link.id}`,
    { options: { width: 500, headers: { Authorization: '***' } } });
  assert.equal(keep.status, 200, keep.body);
  assert.deepEqual(keep.json.options, { width: 500, headers: { Authorization: '***' } });
  const j3 = await done((await request(srv.base, 'POST', `/api/links/${link.id}/snapshots`, {})).json.job.id);
  const s3 = await shot(j3);
  assert.equal(s3.img.width, 500);
  assertNoSecret(await everything([link.id], [job.id, j2.id, j3.id]), 'an API answer');

  // bad options are a 400 naming the field; the stored ones stay
  for (const options of [{ delay: -1 }, { headers: { 'Bad Name': 'x' } }, { color_scheme: 'blue' },
    { hide: 'not-an-array' }, { cookies: [{ name: 'a' }] }, { nope: 1 }, { headers: { Cookie2: '***' } }]) {
    const b = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { options });
    assert.equal(b.status, 400, `${JSON.stringify(options)}: ${b.body}`);
    assert.equal(b.json.error.field, 'options');
    assert.match(b.json.error.message, /^options\.|options must/);
  }
  const cleared = await request(srv.base, 'PATCH', `/api/links/${link.id}`, { options: null });
  assert.equal(cleared.status, 200, cleared.body);
  assert.equal(cleared.json.options, null);
  assertNoSecret(fs.readFileSync(srv.logPath, 'utf8'), 'the server log');
});

test('delay: the extra wait is spent before the screenshot', async () => {
  const t = Date.now();
  const { snap } = await capture('/final?n=delay', { delay: 1200 });
  assert.ok(Date.now() - t >= 1200);
  assert.ok(snap.timings.total >= 1200, JSON.stringify(snap.timings));
});

test('admin page: the add form\'s Options (phone preset, hide, a header) and the link\'s options in the detail, masked', async () => {
  const chromium = await launchChromium('opts');
  try {
    const page = await chromium.newPage();
    await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#add-opts summary');
    await page.click('#add-opts summary');
    await page.select('#add-opts [data-o=preset]', 'phone');
    await page.select('#add-opts [data-o=color_scheme]', 'dark');
    await page.type('#add-opts [data-o=hide]', '#chat-widget');
    await page.type('#add-opts [data-o=headers]', 'Authorization: Bearer ui9090secret');
    const url = fx.url('/whoami?n=admin-ui');
    await page.type('#add-url', url);
    await page.screenshot({ path: path.join(shots, 'options-add-form.png') });
    console.error(`# screenshot: ${path.join(shots, 'options-add-form.png')}`);
    await page.keyboard.press('Enter');

    const link = await waitUntil(async () => {
      const r = await request(srv.base, 'GET', '/api/links?limit=50');
      return r.json.items.find((l) => l.url === url && l.last_job?.state === 'done');
    }, 90000, 'the link added from the page to be captured');
    assert.deepEqual(link.last_job.options, {
      width: 390, height: 844, scale: 3, color_scheme: 'dark', mobile: true,
      hide: ['#chat-widget'], headers: { Authorization: '***' },
    });
    assert.equal(link.last_snapshot.width, 1170);

    // the link's own options, set through the detail's form, come back masked
    const set = await request(srv.base, 'PATCH', `/api/links/${link.id}`,
      { options: { consent: false, headers: { Authorization: 'Bearer ui9090secret' } } });
    assert.equal(set.status, 200, set.body);
    await page.goto(`${srv.base}/#/link/${link.id}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#detail[open]');
    await waitUntil(() => page.$eval('#d-opts [data-o=headers]', (e) => e.value === 'Authorization: ***'),
      10000, 'the masked header in the detail');
    assert.equal(await page.$eval('#d-opts [data-o=consent]', (e) => e.checked), false);
    await waitUntil(() => page.evaluate(() => /Consent banner/.test(document.getElementById('d-snaps').textContent)),
      20000, 'the consent row of the snapshot');
    // change the width in the form and save: "***" keeps the stored header
    await page.$eval('#d-opts [data-o=width]', (e) => { e.value = ''; });
    await page.type('#d-opts [data-o=width]', '800');
    await page.click('#d-opts button[type=submit]');
    await waitUntil(() => page.$eval('#d-opts-msg', (e) => /Saved/.test(e.textContent)), 10000, 'saved');
    const after = (await request(srv.base, 'GET', `/api/links/${link.id}`)).json;
    assert.deepEqual(after.options, { width: 800, consent: false, headers: { Authorization: '***' } });
    await page.$eval('#d-opts', (e) => e.scrollIntoView());
    await page.screenshot({ path: path.join(shots, 'options-detail.png') });
    console.error(`# screenshot: ${path.join(shots, 'options-detail.png')}`);
    const html = await page.content();
    assert.ok(!html.includes('ui9090secret'), 'the secret is not in the page');
  } finally {
    await chromium.close();
  }
});
