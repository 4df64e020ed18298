// The second peer of the benchmark: the puppeteer-core script a skilled user
// writes (issue 14), on the same Chromium and flags as snapcat (peerlib.mjs:
// browser, pool, a fresh browser context per URL, files, JSON lines). Per URL:
// goto until `load`; wait for document.fonts.ready, the incomplete images and
// a short quiet window of the network (QUIET ms with no request in flight);
// finish() the running finite animations; two animation frames; then ONE
// Page.captureScreenshot {png, optimizeForSpeed, captureBeyondViewport, clip:
// the full cssContentSize of Page.getLayoutMetrics} and Page.captureSnapshot
// {mhtml}. Its waits stop at CAP ms (a note says so): the user's own budget.
// It neither scrolls for lazy content nor handles consent banners.
import { runPeer, commitClock, ms } from './peerlib.mjs';

const QUIET = 200, CAP = 10000;

await runPeer('tuned', async (page, url, r, args) => {
  const T = r.timings;
  let inflight = 0, last = performance.now();
  const up = () => { inflight++; last = performance.now(); };
  const down = () => { inflight = Math.max(0, inflight - 1); last = performance.now(); };
  page.on('request', up);
  page.on('requestfinished', down);
  page.on('requestfailed', down);
  const commit = commitClock(page);
  const b = performance.now();
  const resp = await page.goto(url, { waitUntil: 'load', timeout: args.timeout * 1000 });
  r.status = resp ? resp.status() : null;
  T.navigate = ms(b, commit.at ?? b);
  let stop = false;
  const waited = await Promise.race([
    (async () => {
      await page.evaluate(() => Promise.all([document.fonts.ready,
        ...[...document.images].filter((i) => !i.complete && i.loading !== 'lazy')
          .map((i) => new Promise((ok) => { i.addEventListener('load', ok); i.addEventListener('error', ok); }))]));
      while (!stop && (inflight > 0 || performance.now() - last < QUIET)) await new Promise((ok) => setTimeout(ok, 25));
      return true;
    })().catch((e) => { if (!stop) throw e; }),
    new Promise((ok) => setTimeout(() => ok(false), CAP)),
  ]);
  stop = true;
  if (!waited) r.note = `wait budget of ${CAP} ms used up with ${inflight} request(s) in flight`;
  await page.evaluate(() => {
    for (const a of document.getAnimations()) {
      const end = a.effect && a.effect.getComputedTiming().endTime;
      if (a.playState === 'running' && Number.isFinite(end)) try { a.finish(); } catch { /* */ }
    }
    return new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  });
  const c = performance.now();
  T.ready = ms(commit.at ?? b, c);
  T.goto = ms(b, c);
  const cdp = await page.createCDPSession();
  const { cssContentSize: s } = await cdp.send('Page.getLayoutMetrics');
  const { data } = await cdp.send('Page.captureScreenshot', {
    format: 'png', optimizeForSpeed: true, captureBeyondViewport: true,
    clip: { x: 0, y: 0, width: Math.ceil(s.width), height: Math.ceil(s.height), scale: 1 },
  });
  const d = performance.now(); T.screenshot = ms(c, d);
  const { data: mhtml } = await cdp.send('Page.captureSnapshot', { format: 'mhtml' });
  T.mhtml = ms(d, performance.now());
  await cdp.detach();
  return { png: Buffer.from(data, 'base64'), mhtml };
});
