// `snapcat capture --browser FORM` against a real browserless: each form a
// browserless user writes, with its token, captures at the width asked
// (1280 px: browserless's own puppeteer session makes Chromium drop a
// client's device metrics), keeps the token on every request, and says
// why when the token is missing (HTTP 401) without printing it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodePng } from '../node/lib/png.js';
import { SNAPCAT_BIN } from '../node/lib/harness.js';
import { Browserless } from './lib/browserless.js';
import { startPages, checkShot } from './lib/pages.js';

let bl;
let pages;

before(async () => {
  pages = await startPages();
  bl = await new Browserless({ concurrent: 2 }).start();
});

after(async () => {
  await bl?.stop();
  await pages?.stop();
});

/** snapcat capture [args] URLs -> { code, results (JSON lines), stderr, out }. */
function captureCli(args, urls) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-bl-cli-'));
  return new Promise((resolve) => {
    const p = spawn(SNAPCAT_BIN, ['capture', '--out', out, ...args, ...urls], { stdio: ['ignore', 'pipe', 'pipe'] });
    let so = '';
    let se = '';
    p.stdout.on('data', (d) => { so += d; });
    p.stderr.on('data', (d) => { se += d; });
    p.on('exit', (code) => resolve({
      code, stderr: se, out,
      results: so.split('\n').filter(Boolean).map((l) => JSON.parse(l)),
    }));
  });
}

const forms = () => [
  ['ws://host:port/chromium?token=T', bl.ws('/chromium')],
  ['ws://host:port?token=T', bl.ws()],
  ['http://host:port?token=T', bl.http()],
];

for (const i of [0, 1, 2]) {
  test(`form ${i}: captures 1280 px wide, pixels right`, { timeout: 300000 }, async () => {
    const [name, ep] = forms()[i];
    // three URLs, two at once: fresh pages and a spare page set up ahead
    const urls = [1, 2, 3].map((n) => pages.url(n + 10 * i));
    const r = await captureCli(['--browser', ep, '--concurrency', '2'], urls);
    assert.equal(r.code, 0, `${name}: exit ${r.code}\n${r.stderr.slice(-3000)}`);
    assert.equal(r.results.length, 3);
    for (const res of r.results) {
      const k = res.n - 1; // lines come in the order the captures end
      assert.equal(res.error, null, `${name} #${k + 1}: ${JSON.stringify(res.error)}`);
      assert.equal(res.width, 1280, `${name} #${k + 1}: captured ${res.width}x${res.height}`);
      assert.equal(res.height, 800);
      const png = decodePng(fs.readFileSync(res.png));
      assert.deepEqual(checkShot(png, [1, 2, 3][k] + 10 * i), [], `${name} #${k + 1}`);
    }
    fs.rmSync(r.out, { recursive: true, force: true });
  });
}

test('no token: HTTP 401 said, the token never printed', { timeout: 120000 }, async () => {
  const r = await captureCli(['--browser', `http://127.0.0.1:${bl.port}?token=wrong-${bl.token}`], [pages.url(1)]);
  assert.equal(r.code, 1);
  const err = r.results[0].error;
  assert.equal(err.class, 'browser_crash');
  assert.match(err.message, /HTTP 401/);
  assert.doesNotMatch(r.stderr + JSON.stringify(r.results), new RegExp(bl.token));
});
