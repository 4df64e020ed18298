// chromium.js — headless Chromium for every browser test here (the admin
// page's, browser-token, origin; puppeteer-core):
// /usr/bin/chromium (or $CHROMIUM) with a fresh profile, the flags every
// browser test here uses, and close() that also removes the profile.
//
//   const chromium = await launchChromium('admin-load');
//   const page = await chromium.newPage();   (or chromium.browser.newPage())
//   ...
//   await chromium.close();
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launchChromium(name, extraArgs = []) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `snapcat-node-${name}-`));
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage',
        '--disable-background-networking', '--disable-component-update', '--no-first-run',
        '--disable-sync', ...extraArgs],
    });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    browser,
    /** A new tab at 1280 x 900, the admin page's desktop layout. */
    async newPage() {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      return page;
    },
    async close() {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
