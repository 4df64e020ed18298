// The admin page (assets/) driven in headless Chromium with puppeteer-core,
// against the real server, the real Chromium it launches, and fixture pages:
// add a URL with two tags, watch its progress reach done (live, over SSE),
// filter by a tag, search, open the snapshot (the full-size PNG really
// loads), a hostile title stays text. A screenshot of the page is written to
// $SNAPCAT_SHOTS (default: the test's temp dir) and its path printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFixture, startSnapcat, waitUntil, capture, request } from './lib/harness.js';
import { launchChromium } from './lib/chromium.js';

let fx;
let srv;
let chromium;
let page;
const shots = process.env.SNAPCAT_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-admin-'));
const dialogs = [];

before(async () => {
  fx = await startFixture();
  srv = await startSnapcat([], { name: 'admin' });
  chromium = await launchChromium('admin');
  page = await chromium.newPage();
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
});

after(async () => {
  await chromium?.close();
  await srv?.stop();
  await fx?.stop();
});

/** Texts of the cards' titles, in grid order. */
const cardTitles = () => page.$$eval('#grid article.card .card-title', (els) => els.map((e) => e.textContent));

/** The state badge text of the card of link id (or null). */
const cardState = (id) => page.evaluate((id) => {
  const c = document.querySelector(`#grid article.card[data-id="${id}"]`);
  return c ? c.querySelector('.card-meta')?.textContent || '' : null;
}, id);

test('admin page: add with two tags, live progress to done, filter, search, open the snapshot', async () => {
  // a hostile title first (through the API), then the page
  await capture(srv, fx.url('/title?t=' + encodeURIComponent('<img src=x onerror=alert(1)>')), ['evil']);
  await page.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#add-url');

  // add a URL with two tags, as a person would: type and press Enter
  const url = fx.url('/tall?h=9000');
  await page.type('#add-url', url);
  await page.type('#add-tags', 'Docs, archive');
  await page.keyboard.press('Enter');

  // the card appears and its progress bar moves, then it is done
  let id;
  await waitUntil(async () => {
    id = await page.evaluate((u) => {
      const c = [...document.querySelectorAll('#grid article.card')]
        .find((el) => el.querySelector('.card-url')?.textContent.includes(u));
      return c ? c.dataset.id : null;
    }, url);
    return id;
  }, 20000, 'the new card');
  const seen = new Set();
  await waitUntil(async () => {
    const st = await cardState(id);
    const pct = await page.evaluate((id) => document.querySelector(
      `#grid article.card[data-id="${id}"] [role=progressbar]`)?.getAttribute('aria-valuenow'), id);
    if (pct) seen.add(pct);
    return st && /done/.test(st);
  }, 240000, 'the card to reach done', 50);
  assert.ok(seen.size >= 1, 'a progress value was shown while it ran');
  const live = await page.$eval('#conn-text', (e) => e.textContent);
  assert.match(live, /live/, 'the page is on the live feed (SSE)');

  // the tags, normalised, in the sidebar with counts
  const tags = await page.$$eval('#tag-list .tag-btn', (els) => els.map((e) => e.textContent.replace(/\s+/g, ' ').trim()));
  assert.ok(tags.some((t) => t.startsWith('docs')) && tags.some((t) => t.startsWith('archive')), tags.join('|'));

  // the hostile title is text: no <img onerror> in the page, no dialog
  const titles = await cardTitles();
  assert.ok(titles.includes('<img src=x onerror=alert(1)>'), titles.join('|'));
  assert.equal(await page.$('#grid img[src="x"]'), null);
  assert.deepEqual(dialogs, []);

  await page.screenshot({ path: path.join(shots, 'admin-grid.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-grid.png')}`);

  // filter by a tag: only the tall page is left. The sidebar re-renders on
  // live events, so the button is found and clicked in one page call.
  const clickTag = (name) => waitUntil(() => page.evaluate((name) => {
    const b = [...document.querySelectorAll('#tag-list .tag-btn')]
      .find((e) => e.textContent.trim().startsWith(name));
    if (b) b.click();
    return !!b;
  }, name), 10000, `the ${name} tag button`);
  await clickTag('docs');
  await waitUntil(async () => (await cardTitles()).length === 1, 10000, 'the docs filter');
  assert.deepEqual(await cardTitles(), ['Tall page 9000']);
  await clickTag('docs');
  await waitUntil(async () => (await cardTitles()).length === 2, 10000, 'the filter cleared');

  // search: "/" focuses the box; a word of the hostile title's page
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('/');
  await page.keyboard.type('onerror');
  await waitUntil(async () => (await cardTitles()).length === 1, 10000, 'the search');
  assert.deepEqual(await cardTitles(), ['<img src=x onerror=alert(1)>']);
  await page.click('#search', { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await waitUntil(async () => (await cardTitles()).length === 2, 10000, 'the search cleared');

  // open the snapshot: the full-size PNG loads whole (9000 px tall)
  await page.click(`#grid article.card[data-id="${id}"] .card-title a`);
  await page.waitForSelector('#detail[open]');
  const img = await page.waitForSelector('#v-scroll img', { timeout: 20000 });
  await waitUntil(() => img.evaluate((e) => e.complete && e.naturalHeight > 0), 30000, 'the PNG to load');
  const size = await img.evaluate((e) => [e.naturalWidth, e.naturalHeight]);
  assert.deepEqual(size, [1280, 9000]);
  const mhtml = await page.$$eval('a', (as) => as.filter((a) => /mhtml/i.test(a.textContent)).map((a) => a.getAttribute('href')));
  assert.ok(mhtml.some((h) => /\/api\/snapshots\/\d+\/mhtml/.test(h)), mhtml.join('|'));
  // scroll the viewer down the tall page
  await page.$eval('#v-scroll', (e) => { e.scrollTop = e.scrollHeight; });
  // decoded and painted (two frames) before the screenshot
  await img.evaluate((e) => e.decode().then(() => new Promise((r) =>
    requestAnimationFrame(() => requestAnimationFrame(r)))));
  // the bottom of the page in the viewer is the fixture's #ff00ff band
  const bottom = await img.evaluate((e) => {
    const c = document.createElement('canvas');
    c.width = 1; c.height = 1;
    const g = c.getContext('2d');
    g.drawImage(e, 10, 8950, 1, 1, 0, 0, 1, 1);
    return [...g.getImageData(0, 0, 1, 1).data.slice(0, 3)];
  });
  assert.deepEqual(bottom, [255, 0, 255]);
  await page.screenshot({ path: path.join(shots, 'admin-detail.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-detail.png')}`);
  await page.keyboard.press('Escape');
  await waitUntil(() => page.$eval('#detail', (d) => !d.open), 5000, 'Esc to close the detail');
});

/** The "Failed jobs" panel's rows as "class n", or [] while it is hidden. */
const failedRows = () => page.evaluate(() => {
  if (document.getElementById('failed').hidden) return [];
  return [...document.querySelectorAll('#failed-list li')]
    .map((li) => li.querySelector('.cls').textContent + ' ' + li.querySelector('.n').textContent);
});

test('admin page: failed jobs by class, "Retry all failed" queues them again', async () => {
  const added = await capture(srv, fx.url('/status?code=500&n=admin'), ['broken']);
  const jobPath = `/api/jobs/${added.job.id}`;
  let first;
  await waitUntil(async () => {
    first = (await request(srv.base, 'GET', jobPath)).json;
    return first?.state === 'failed';
  }, 90000, 'the 500 page to fail');
  assert.equal(first.error.class, 'http_status');

  // the panel lists it (the page learnt of it live, over the feed)
  await waitUntil(async () => (await failedRows()).includes('http_status 1'), 20000, 'the failed panel');
  await page.screenshot({ path: path.join(shots, 'admin-failed.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-failed.png')}`);

  // one click: the job is queued again and runs again (and fails again: still a 500)
  await page.click('#retry-all');
  await waitUntil(() => page.$eval('#failed-msg', (e) => /Queued 1 job again/.test(e.textContent)),
    10000, 'the retry message');
  await waitUntil(async () => {
    const j = (await request(srv.base, 'GET', jobPath)).json;
    return j?.state === 'failed' && j.finished_at !== first.finished_at;
  }, 90000, 'the job to run again');
  await waitUntil(async () => (await failedRows()).includes('http_status 1'), 20000, 'the panel after the retry');
});

test('admin page: a job that finishes between the list and the live feed still shows done', async () => {
  // The capture's page is held by the fixture's gate, so the list is read
  // while the job runs whatever the machine's load; the gate opens when the
  // page asks for the feed, and that request is held until the job is done
  // (its job.done happened before the feed opened). The page resumes the
  // feed after the list's event_id, so it is replayed.
  const gate = 1000 + Math.floor(Math.random() * 1e6);
  const added = await capture(srv, fx.url(`/gate?id=${gate}`), ['gap']);
  const jobPath = `/api/jobs/${added.job.id}`;
  await waitUntil(async () => (await request(srv.base, 'GET', jobPath)).json?.state === 'running',
    60000, 'the job to start');
  const p2 = await chromium.newPage();
  await p2.setRequestInterception(true);
  let feedUrl = null;
  let listState = null;
  p2.on('request', async (req) => {
    if (!req.url().includes('/api/events')) { req.continue(); return; }
    feedUrl = req.url();
    listState = listState ?? 'none before the feed';
    assert.equal((await fetch(fx.url(`/gate?open=${gate}`))).status, 200);
    await waitUntil(async () => (await request(srv.base, 'GET', jobPath)).json?.state === 'done',
      90000, 'the job to finish (feed held)');
    req.continue();
  });
  p2.on('response', async (res) => {
    if (new URL(res.url()).pathname !== '/api/links' || listState) return;
    const body = await res.json().catch(() => null);
    const link = body?.links?.find((l) => l.id === added.link.id);
    listState = JSON.stringify(link?.job?.state ?? link?.last_job?.state ?? link?.state ?? null);
  });
  try {
    await p2.goto(srv.base + '/', { waitUntil: 'domcontentloaded' });
    const id = added.link.id;
    await waitUntil(() => p2.evaluate((id) => {
      const c = document.querySelector(`#grid article.card[data-id="${id}"] .card-meta`);
      return c && /done/.test(c.textContent);
    }, id), 90000, 'the card to show done');
    assert.match(feedUrl ?? '', /last_event_id=\d+/, 'the feed resumes after the list');
    assert.doesNotMatch(listState, /done|none/, 'the list was read while the job ran');
    assert.match(await p2.$eval('#conn-text', (e) => e.textContent), /live/);
  } finally {
    await p2.close();
  }
});

/** The job once it is done (its JSON). */
async function jobDone(jobId) {
  let j;
  await waitUntil(async () => {
    j = (await request(srv.base, 'GET', `/api/jobs/${jobId}`)).json;
    return j?.state === 'done';
  }, 120000, `job ${jobId} done`);
  return j;
}

/** What the schedule form's message says, for a timed-out wait. */
const schedMsg = (want) => async () =>
  `${want}, the form said "${await page.$eval('#d-sched-msg', (e) => e.textContent)}"`;

test('admin page: versions of a page that changed: the change, side by side, slider', async () => {
  await fetch(fx.url('/version?set=1'));
  const added = await capture(srv, fx.url('/version?admin=1'), ['versions']);
  const j1 = await jobDone(added.job.id);
  await fetch(fx.url('/version?set=2'));
  const again = await request(srv.base, 'POST', `/api/links/${added.link.id}/snapshots`, {});
  assert.equal(again.status, 202, again.body);
  const j2 = await jobDone(again.json.job.id);

  await page.goto(`${srv.base}/#/link/${added.link.id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#detail[open]');
  // the selected (newest) snapshot says what changed
  await waitUntil(() => page.$eval('#d-snaps', (e) => /Changed 0\.\d+% \(1 region\) since #/.test(e.textContent)),
    20000, 'the change summary');
  const loaded = (sel, n) => waitUntil(() => page.$$eval(sel, (imgs, n) => imgs.length === n &&
    imgs.every((i) => i.complete && i.naturalWidth > 0), n), 20000, `${n} image(s) ${sel}`);

  // Changes: the server's diff image, red where the square changed
  await page.click('#v-bar [data-view="diff"]');
  await loaded('#v-scroll img', 1);
  const src = await page.$eval('#v-scroll img', (i) => i.getAttribute('src'));
  assert.match(src, new RegExp(`/api/snapshots/${j2.snapshot_id}/diff\\.png`));
  const px = (x, y, nth = 0) => page.$$eval('#v-scroll img', (imgs, x, y, nth) => {
    const c = document.createElement('canvas');
    c.width = 1; c.height = 1;
    const g = c.getContext('2d');
    g.drawImage(imgs[nth], x, y, 1, 1, 0, 0, 1, 1);
    return [...g.getImageData(0, 0, 1, 1).data.slice(0, 3)];
  }, x, y, nth);
  assert.deepEqual(await px(250, 320), [255, 0, 68]);
  await page.screenshot({ path: path.join(shots, 'admin-versions-diff.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-versions-diff.png')}`);

  // Side by side: the older (blue square) left, the newer (red) right
  await page.click('#v-bar [data-view="side"]');
  await loaded('#v-scroll .v-side img', 2);
  assert.deepEqual(await px(250, 320, 0), [0, 0, 255]);
  assert.deepEqual(await px(250, 320, 1), [255, 0, 0]);
  assert.equal(await page.$eval('#v-compare', (s) => s.value), String(j1.snapshot_id));
  await page.screenshot({ path: path.join(shots, 'admin-versions-side.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-versions-side.png')}`);

  // Slider: at 0 the older version shows through, at 100 the newer covers it
  await page.click('#v-bar [data-view="slider"]');
  await loaded('#v-scroll .v-stack img', 2);
  const seenAt = async (value) => {
    await page.$eval('#v-slider', (el, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, value);
    return page.$eval('#v-scroll .v-stack', (st) => {
      const r = st.getBoundingClientRect();
      const top = st.querySelector('img.v-top').getBoundingClientRect();
      const k = top.width / 1280;   // the page is 1280 px wide, scaled to fit
      const el = document.elementFromPoint(r.left + 250 * k, r.top + 320 * k);
      return getComputedStyle(st).getPropertyValue('--cut').trim() + ' ' +
        (el && el.tagName === 'IMG' ? (el.classList.contains('v-top') ? 'newer' : 'older') : String(el?.tagName));
    });
  };
  assert.equal(await seenAt(0), '0% older');
  assert.equal(await seenAt(100), '100% newer');
  await seenAt(30);
  await page.screenshot({ path: path.join(shots, 'admin-versions-slider.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-versions-slider.png')}`);

  // live: the page changes again while the admin page is open -> a toast
  await fetch(fx.url('/version?set=3'));
  const third = await request(srv.base, 'POST', `/api/links/${added.link.id}/snapshots`, {});
  assert.equal(third.status, 202, third.body);
  await waitUntil(() => page.$eval('#toast', (t) => !t.hidden &&
    /^Changed: Versioned page \(0\.39% of the page\)$/.test(t.textContent)), 120000, 'the change toast');
  await page.keyboard.press('Escape');
});

test('admin page: a link\'s schedule: a preset, then a bad custom spec is refused with the reason', async () => {
  const added = await capture(srv, fx.url('/final?n=admin-sched'), ['sched']);
  // the form is what is tested here, not a save racing the link's first capture
  await jobDone(added.job.id);
  await page.goto(`${srv.base}/#/link/${added.link.id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#detail[open]');
  await waitUntil(() => page.$eval('#d-sched-preset', (s) => !s.disabled), 10000, 'the schedule form');
  await page.select('#d-sched-preset', 'daily');
  await page.type('#d-sched-keep', '3');
  await page.click('#d-sched-changed');
  await page.click('#d-sched button[type=submit]');
  await waitUntil(() => page.$eval('#d-sched-msg', (e) => e.textContent === 'Saved.'), 10000, schedMsg('Saved.'));
  const s = (await request(srv.base, 'GET', `/api/links/${added.link.id}/schedule`)).json;
  assert.equal(s.schedule, 'daily');
  assert.equal(s.keep_last, 3);
  assert.equal(s.keep_changed, true);
  assert.ok(s.next_capture_at);
  assert.match(await page.$eval('#d-sched-next', (e) => e.textContent), /^Next capture /);

  await page.select('#d-sched-preset', 'custom');
  await page.type('#d-sched-spec', 'every 3 weeks');
  await page.click('#d-sched button[type=submit]');
  await waitUntil(() => page.$eval('#d-sched-msg', (e) => /bad interval/.test(e.textContent)), 10000,
    schedMsg('the error message'));
  assert.equal(await page.$eval('#d-sched-spec', (e) => e.getAttribute('aria-invalid')), 'true');
  await page.$eval('#d-sched', (f) => f.scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'admin-schedule.png') });
  console.error(`# screenshot: ${path.join(shots, 'admin-schedule.png')}`);
  assert.equal((await request(srv.base, 'GET', `/api/links/${added.link.id}/schedule`)).json.schedule, 'daily');
  await page.keyboard.press('Escape');
});

test('admin page: a tag\'s schedule from a link\'s detail applies to its other links', async () => {
  const a = await capture(srv, fx.url('/final?n=tag-a'), ['weekly-watch']);
  const b = await capture(srv, fx.url('/final?n=tag-b'), ['weekly-watch']);
  await jobDone(a.job.id);
  await jobDone(b.job.id);
  await page.goto(`${srv.base}/#/link/${a.link.id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#detail[open]');
  await waitUntil(() => page.$$eval('#d-sched-scope option', (o) => o.length === 2), 10000, 'the scopes');
  await page.select('#d-sched-scope', 'weekly-watch');
  await waitUntil(() => page.$eval('#d-sched-next', (e) => /^2 links tagged weekly-watch/.test(e.textContent)),
    10000, 'the tag\'s schedule');
  await page.select('#d-sched-preset', 'weekly');
  await page.click('#d-sched button[type=submit]');
  await waitUntil(() => page.$eval('#d-sched-msg', (e) => e.textContent === 'Saved for 2 links tagged weekly-watch.'),
    10000, schedMsg('"Saved for 2 links"'));
  const t = (await request(srv.base, 'GET', '/api/tags/weekly-watch/schedule')).json;
  assert.equal(t.schedule, 'weekly');
  // the other link follows it (its first run is set by the server within a tick)
  await waitUntil(async () => {
    const l = (await request(srv.base, 'GET', `/api/links/${b.link.id}`)).json;
    return l.schedule.from_tags === 'weekly' && l.schedule.next_capture_at;
  }, 20000, 'the other link to follow the tag');
  await page.keyboard.press('Escape');
});
