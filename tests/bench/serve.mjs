// Static file server for the benchmark corpus, on 127.0.0.1 only.
//
//   node serve.mjs PORT   (0 = any free port; prints "LISTENING <port>" on stdout)
//
// Maps URL prefixes to directories (see MOUNTS): Debian's HTML manuals under
// /usr/share/doc, the JavaScript libraries they load from /usr/share/javascript
// (Flot's examples use absolute /usr/share/javascript/... paths), and npm
// packages' documentation sites under /npm/<package>/. HTTP/1.1 keep-alive,
// Content-Length, no compression, no caching headers (both systems start from a
// fresh profile per page anyway). Counts requests and prints the count to stderr
// on SIGTERM/SIGINT.
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
  ['/npm/dygraphs/', path.join(here, 'node_modules/dygraphs/')],
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
const server = http.createServer((req, res) => {
  requests++;
  let p;
  try { p = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { p = '/'; }
  let file = null;
  for (const [prefix, dir] of MOUNTS) {
    if (p.startsWith(prefix)) {
      const f = path.normalize(path.join(dir, p.slice(prefix.length)));
      if (f.startsWith(dir) || f + '/' === dir) file = f;
      break;
    }
  }
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
