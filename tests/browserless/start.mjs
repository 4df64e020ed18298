// start.mjs — a real browserless (npm @browserless.io/browserless) on
// loopback for snapcat's browser-pool tests, driving Debian's Chromium.
//
//   node start.mjs            (settings from the environment:
//                              PORT, TOKEN, CONCURRENT, QUEUED, TIMEOUT)
//
// browserless looks for its Chromium where playwright-core keeps a
// downloaded one ($PLAYWRIGHT_BROWSERS_PATH/chromium-REV/...); this links
// /usr/bin/chromium (or $CHROMIUM) there, in a private temporary folder,
// so nothing is downloaded. The routes of browsers not installed (Chrome,
// Edge, Firefox, WebKit) are disabled: browserless refuses to start
// otherwise. Prints "browserless listening PORT" once it answers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const pwDir = process.env.PLAYWRIGHT_BROWSERS_PATH ||
  fs.mkdtempSync(path.join(os.tmpdir(), 'snapcat-bl-pw-'));
process.env.PLAYWRIGHT_BROWSERS_PATH = pwDir;
process.env.HOST ||= '127.0.0.1';
process.env.DEBUG ||= '-*';

const { default: playwright } = await import('playwright-core');
const exe = playwright.chromium.executablePath();
if (!fs.existsSync(exe)) {
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  fs.symlinkSync(process.env.CHROMIUM || '/usr/bin/chromium', exe);
}

const bl = await import('@browserless.io/browserless');
const server = new bl.Browserless();
const other = /^(Chrome|Edge|Firefox|Webkit|WebKit)/;
server.disableRoutes(...Object.values(bl.BrowserlessRoutes).filter((n) => other.test(n)));
const stop = async () => { await server.stop().catch(() => {}); process.exit(0); };
process.once('SIGTERM', stop).once('SIGINT', stop);
await server.start();
console.log(`browserless listening ${process.env.PORT || 3000}`);
