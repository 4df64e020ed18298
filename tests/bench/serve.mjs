// Static file server for the benchmark corpus, on 127.0.0.1 only.
//
//   node serve.mjs PORT   (0 = any free port; prints "LISTENING <port>" on stdout)
//
// Maps URL prefixes to directories (see MOUNTS): Debian's HTML manuals under
// /usr/share/doc, the JavaScript libraries they load from /usr/share/javascript
// (Flot's examples use absolute /usr/share/javascript/... paths), and the npm
// packages installed in tests/bench/node_modules under /npm/<package>/ (their
// demo and documentation pages). /npm/ is an overlay: a file in
// tests/bench/pages/npm/ comes first (the pages made of a package's README
// example, placed beside the package's dist/ files so that the example's
// relative script paths work unchanged), then node_modules/. HTTP/1.1
// keep-alive, Content-Length, no compression, no caching headers (every system
// starts from a fresh browser context per page anyway). Counts requests and
// prints the count to stderr on SIGTERM/SIGINT.
//
// /__bench/ua?who=NAME answers a tiny HTML page and remembers the User-Agent
// header it came with; /__bench/uas answers {NAME: user agent} as JSON. The
// driver uses it to see snapcat's user agent and give the peers the same.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const MOUNTS = [
  ['/usr/share/doc/sqlite3/', '/usr/share/doc/sqlite3/'],
  ['/usr/share/doc/git-doc/', '/usr/share/doc/git-doc/'],
  ['/usr/share/doc/debian-policy/', '/usr/share/doc/debian-policy/'],
  ['/usr/share/doc/libjs-jquery-flot-docs/', '/usr/share/doc/libjs-jquery-flot-docs/'],
  ['/usr/share/javascript/', '/usr/share/javascript/'],
  ['/npm/', path.join(here, 'pages/npm/'), path.join(here, 'node_modules/')],
];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.png': 'image/png', '.gif': 'image/gif', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8', '.woff': 'font/woff', '.woff2': 'font/woff2',
  '.ttf': 'font/ttf', '.otf': 'font/otf', '.eot': 'application/vnd.ms-fontobject',
  '.wasm': 'application/wasm', '.pdf': 'application/pdf', '.xml': 'application/xml',
};

let requests = 0, notFound = 0;
const uas = {};
const server = http.createServer((req, res) => {
  let p, u;
  try { u = new URL(req.url, 'http://x'); p = decodeURIComponent(u.pathname); } catch { p = '/'; }
  if (p === '/__bench/ua' || p === '/__bench/uas') {
    if (p === '/__bench/ua') uas[u.searchParams.get('who') || '?'] = req.headers['user-agent'] || '';
    const body = p === '/__bench/ua' ? '<!doctype html><title>ua</title><p>user agent recorded</p>\n' : JSON.stringify(uas);
    res.writeHead(200, { 'Content-Type': p === '/__bench/ua' ? 'text/html' : 'application/json', 'Content-Length': Buffer.byteLength(body) });
    return res.end(body);
  }
  requests++;
  // the file: the first root of the first matching prefix that has it
  let files = [];
  for (const [prefix, ...dirs] of MOUNTS) {
    if (p.startsWith(prefix)) {
      for (const dir of dirs) {
        const f = path.normalize(path.join(dir, p.slice(prefix.length)));
        if (f.startsWith(dir) || f + '/' === dir) files.push(f);
      }
      break;
    }
  }
  const isFile = (f) => { try { return fs.statSync(f).isFile(); } catch { return false; } };
  let file = files.find((f) => isFile(f) || isFile(path.join(f, 'index.html'))) || files[files.length - 1] || null;
  const fail = (code) => {
    if (code === 404) notFound++;
    res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': 9 });
    res.end(code === 404 ? 'not found' : 'forbidden');
  };
  if (!file) return fail(404);
  fs.stat(file, (err, st) => {
    if (!err && st.isDirectory()) { file = path.join(file, 'index.html'); st = null; }
    const send = (st2) => {
      if (!st2 || !st2.isFile()) return fail(404);
      res.writeHead(200, {
        'Content-Type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
        'Content-Length': st2.size,
      });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    };
    if (st) return send(st);
    fs.stat(file, (e2, st2) => send(e2 ? null : st2));
  });
});
server.keepAliveTimeout = 30000;
const stop = () => {
  process.stderr.write(`serve: ${requests} requests, ${notFound} not found\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
