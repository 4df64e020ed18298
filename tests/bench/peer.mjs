// The first peer of the benchmark: what a puppeteer-core user writes first,
// on the same Chromium and flags as snapcat (peerlib.mjs: browser, pool, a
// fresh browser context per URL, files, JSON lines). Per URL:
//   goto       page.goto(url, {waitUntil: 'networkidle0', timeout: --idle-timeout s});
//              split at the main frame's commit into navigate and ready
//   screenshot page.screenshot({fullPage: true})   (PNG, captureBeyondViewport)
//   mhtml      CDP session Page.captureSnapshot {format: 'mhtml'}
// A page that never reaches networkidle0 (an open EventSource, a streamed
// response, a poll every < 500 ms) fails with puppeteer's TimeoutError after
// --idle-timeout s (30 s: puppeteer's default navigation timeout): the bench
// charges that time and counts the page as this peer's failure.
import { runPeer, commitClock, ms } from './peerlib.mjs';

await runPeer('puppeteer', async (page, url, r, args) => {
  const T = r.timings;
  const commit = commitClock(page);
  const b = performance.now();
  const resp = await page.goto(url, { waitUntil: 'networkidle0', timeout: args.idleTimeout * 1000 });
  r.status = resp ? resp.status() : null;
  const c = performance.now();
  T.goto = ms(b, c);
  T.navigate = ms(b, commit.at ?? b);
  T.ready = ms(commit.at ?? b, c);
  const png = await page.screenshot({ fullPage: true });
  const d = performance.now(); T.screenshot = ms(c, d);
  const cdp = await page.createCDPSession();
  const { data: mhtml } = await cdp.send('Page.captureSnapshot', { format: 'mhtml' });
  T.mhtml = ms(d, performance.now());
  return { png, mhtml };
});
