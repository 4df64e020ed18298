// A loopback HTTP server of test pages: /page/N is a full-width bar of a
// colour of its own above a green body, with an element 1200 px from the
// left (seen only if the page is laid out at least that wide), and holds
// its response ?ms=M milliseconds (a job that takes a while).
import http from 'node:http';

export function colourOf(n) {
  return [(n * 67) % 200 + 40, 0, (n * 131) % 200 + 40];
}

export async function startPages() {
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const m = /^\/page\/(\d+)$/.exec(u.pathname);
    if (!m) { res.writeHead(404); res.end(); return; }
    const [r, g, b] = colourOf(Number(m[1]));
    const body = `<!doctype html><html><head><title>page ${m[1]}</title></head>
<body style="margin:0;background:rgb(0,170,0)">
<div style="height:200px;background:rgb(${r},${g},${b})"></div>
<div style="position:absolute;left:1200px;top:300px;width:60px;height:60px;background:rgb(0,0,255)"></div>
</body></html>`;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      res.end(body);
    }, Number(u.searchParams.get('ms') || 0));
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  return {
    url: (n, ms = 0) => `http://127.0.0.1:${port}/page/${n}${ms ? `?ms=${ms}` : ''}`,
    stop: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }),
  };
}

/** The PNG of page n at 1280x800 as the tests expect it: [] if right, else what is wrong. */
export function checkShot(png, n) {
  const bad = [];
  if (png.width !== 1280) bad.push(`width ${png.width}, not 1280`);
  if (png.height !== 800) bad.push(`height ${png.height}, not 800`);
  const near = (p, q) => p.slice(0, 3).every((v, i) => Math.abs(v - q[i]) <= 8);
  const want = colourOf(n);
  const checks = [[10, 10, want], [1270, 100, want], [640, 500, [0, 170, 0]], [1230, 330, [0, 0, 255]]];
  for (const [x, y, c] of checks) {
    if (x >= png.width || y >= png.height) continue;
    const p = png.px(x, y);
    if (!near(p, c)) bad.push(`pixel (${x},${y}) is ${p.slice(0, 3)}, not ${c}`);
  }
  return bad;
}
