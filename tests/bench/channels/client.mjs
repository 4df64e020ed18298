// client.mjs — one benchmark client process (forked by bench.mjs, driven over IPC).
//
// Holds many subscribers of one kind and keeps per-subscriber accounting cheap enough
// that tens of thousands of events per second fit in one Node process:
//
//   sse  raw HTTP/1.1 over net.Socket: GET /api/events, then the text/event-stream body
//        is cut at blank lines; id and ts are read from the data JSON by string search
//        (no JSON.parse). On a drop: reconnect after ~1 s with Last-Event-ID.
//   ws   the `ws` package; {"op":"subscribe"} after open (with "after" on a reconnect).
//   fr   raw HTTP/1.1 over net.Socket: GET /api/events/frame, the forever frame's HTML body
//   h2   SSE over HTTP/2 (node:http2, --tls): GET /api/events as streams, at most
//        cfg.perConn (20; lws 4.1.6 allows 24 at once) on each HTTP/2 connection.
//   With cfg.tls (bench --tls) sse, fr and lp go over TLS (ALPN http/1.1), ws over wss://.
//   lp   raw HTTP/1.1 keep-alive over net.Socket: GET /api/events/poll?after=ID&timeout=25
//        in a loop (the first ID: the newest when the phase began), Content-Length bodies,
//        events found by string search (event JSON without nested objects).
//
// Accounting (per subscriber): last id; ids in (base, end] count as deliveries; an id at
// or below last is a duplicate; a jump over last+1 adds the ids skipped to gaps. Latency =
// arrival (Date.now() when the bytes arrived) - the event's ts, into a 1 ms histogram
// shared by the process; deliveries are also counted per second of arrival.
//
// IPC in:  {cmd:'open', kind, n, host, port, path, token, batch, startAfter}
//          {cmd:'wait', id, timeoutMs}       all subscribers at or past id?
//          {cmd:'measure', base, t0}          start counting ids > base
//          {cmd:'report', end}                figures (missing tail counted against end)
//          {cmd:'close'}
// IPC out: {ev:'opened'|'reached'|'report'|'closed', ...}
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';

const HIST_MS = 300000;
const hist = new Uint32Array(HIST_MS + 1);
let histOver = 0, latMax = 0, negatives = 0;
let base = Infinity;          // ids above base are measured
let t0 = 0;                   // wall ms of the measurement start (per-second buckets)
const perSec = [];            // deliveries by second since t0
const byId = new Map();       // id -> deliveries (ids above base)
const subs = [];
let kind = '';
let cfg = null;
const errors = new Map();     // message -> count
let reconnects = 0, disconnects = 0, resets = 0, polls = 0, refused = 0;
const tsMemo = new Map();

function noteErr(msg) {
  errors.set(msg, (errors.get(msg) || 0) + 1);
}

function tsMs(ts) {
  let v = tsMemo.get(ts);
  if (v === undefined) {
    v = Date.parse(ts);
    if (tsMemo.size > 4096) tsMemo.clear();
    tsMemo.set(ts, v);
  }
  return v;
}

/** One event (the JSON text) for sub s, arrived at `now`. */
function onEvent(s, json, now) {
  const ip = json.indexOf('"id":');
  if (ip < 0) {
    if (json.indexOf('"type":"reset"') >= 0) resets++;
    return;
  }
  const id = parseInt(json.slice(ip + 5, ip + 25), 10);
  if (!(id > 0)) return;
  if (id <= s.last) {
    if (id > base) s.dups++;
    return;
  }
  if (id > base) {
    const from = s.last > base ? s.last : base;
    if (id > from + 1) s.gaps += id - from - 1;
    s.got++;
    byId.set(id, (byId.get(id) || 0) + 1);
    const it = json.indexOf('"ts":"');
    if (it >= 0) {
      let lat = now - tsMs(json.slice(it + 6, it + 30));
      if (lat < 0) { negatives++; lat = 0; }
      if (lat > latMax) latMax = lat;
      if (lat > HIST_MS) histOver++; else hist[lat]++;
    }
    const sec = Math.floor((now - t0) / 1000);
    if (sec >= 0) perSec[sec] = (perSec[sec] || 0) + 1;
  }
  s.last = id;
}

/** A socket to the server: TCP, or TLS with ALPN http/1.1 (the test's own certificate). */
function dial() {
  return cfg.tls ? tls.connect({ port: cfg.port, host: cfg.host, servername: 'localhost',
    rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }) : net.connect(cfg.port, cfg.host);
}

function headersOf(s) {
  let h = `Host: ${cfg.host}:${cfg.port}\r\n`;
  if (cfg.token) h += `Authorization: Bearer ${cfg.token}\r\n`;
  return h;
}

/* ------------------------------------------------------------------ SSE */

function sseConnect(s) {
  const sock = dial();
  s.sock = sock;
  s.buf = '';
  s.head = true;
  sock.setNoDelay(true);
  sock.setEncoding('utf8');
  sock.on('connect', () => {
    let req = `GET ${cfg.path} HTTP/1.1\r\n${headersOf(s)}Accept: text/event-stream\r\n`;
    if (s.last > 0) req += `Last-Event-ID: ${s.last}\r\n`;
    sock.write(req + '\r\n');
  });
  sock.on('data', (chunk) => {
    const now = Date.now();
    let buf = s.buf + chunk;
    if (s.head) {
      const e = buf.indexOf('\r\n\r\n');
      if (e < 0) { s.buf = buf; return; }
      const status = parseInt(buf.slice(9, 12), 10);
      if (status !== 200) {
        refused++;
        noteErr(`SSE HTTP ${status}: ${buf.slice(e + 4, e + 200).replace(/\s+/g, ' ')}`);
        s.buf = '';
        sock.destroy();
        return;
      }
      s.head = false;
      s.ready = true;
      if (s.onReady) { const f = s.onReady; s.onReady = null; f(true); }
      buf = buf.slice(e + 4);
    }
    let p = 0;
    for (;;) {
      const e = buf.indexOf('\n\n', p);
      if (e < 0) break;
      const d = buf.indexOf('data: ', p);
      if (d >= 0 && d < e) {
        const nl = buf.indexOf('\n', d);
        onEvent(s, buf.slice(d + 6, nl), now);
      }
      p = e + 2;
    }
    s.buf = p ? buf.slice(p) : buf;
  });
  sock.on('error', (err) => noteErr('SSE socket: ' + err.code));
  sock.on('close', () => {
    s.ready = false;
    if (s.onReady) { const f = s.onReady; s.onReady = null; f(false); }
    if (s.closing) return;
    disconnects++;
    setTimeout(() => { if (!s.closing) { reconnects++; sseConnect(s); } }, 1000 + Math.random() * 500);
  });
}

/* ------------------------------------------------------------------ SSE over HTTP/2 */

const sessions = [];   // [{ sess, streams }]
function h2Session() {
  let c = sessions.find((x) => x.streams < (cfg.perConn || 20) && !x.sess.destroyed && !x.sess.closed);
  if (!c) {
    const sess = http2.connect(`https://localhost:${cfg.port}`, { rejectUnauthorized: false });
    sess.on('error', (err) => noteErr('h2 session: ' + err.code));
    c = { sess, streams: 0 };
    sessions.push(c);
  }
  c.streams++;
  return c;
}

function h2Connect(s) {
  const c = h2Session();
  const h = { ':path': cfg.path, accept: 'text/event-stream' };
  if (cfg.token) h.authorization = `Bearer ${cfg.token}`;
  if (s.last > 0) h['last-event-id'] = String(s.last);
  const st = c.sess.request(h);
  s.h2 = st;
  s.buf = '';
  st.setEncoding('utf8');
  st.on('response', (hd) => {
    if (hd[':status'] !== 200) { refused++; noteErr(`h2 SSE HTTP ${hd[':status']}`); st.close(); return; }
    s.ready = true;
    if (s.onReady) { const f = s.onReady; s.onReady = null; f(true); }
  });
  st.on('data', (chunk) => {
    const now = Date.now();
    const buf = s.buf + chunk;
    let p = 0;
    for (;;) {
      const e = buf.indexOf('\n\n', p);
      if (e < 0) break;
      const d = buf.indexOf('data: ', p);
      if (d >= 0 && d < e) onEvent(s, buf.slice(d + 6, buf.indexOf('\n', d)), now);
      p = e + 2;
    }
    s.buf = p ? buf.slice(p) : buf;
  });
  st.on('error', (err) => noteErr('h2 stream: ' + (err.code || err.message)));
  st.on('close', () => {
    c.streams--;
    s.ready = false;
    if (s.onReady) { const f = s.onReady; s.onReady = null; f(false); }
    if (s.closing) return;
    disconnects++;
    setTimeout(() => { if (!s.closing) { reconnects++; h2Connect(s); } }, 1000 + Math.random() * 500);
  });
}

/* ------------------------------------------------------------------ forever frame */

// GET /api/events/frame: a text/html body that never ends, one
// <script nonce="…">p({…})</script> per event; resume by ?last_event_id=.
function frameConnect(s) {
  const sock = dial();
  s.sock = sock;
  s.buf = '';
  s.head = true;
  sock.setNoDelay(true);
  sock.setEncoding('utf8');
  sock.on('connect', () => {
    const q = s.last > 0 ? `?last_event_id=${s.last}` : '';
    sock.write(`GET ${cfg.path}${q} HTTP/1.1\r\n${headersOf(s)}Sec-Fetch-Dest: iframe\r\n\r\n`);
  });
  sock.on('data', (chunk) => {
    const now = Date.now();
    let buf = s.buf + chunk;
    if (s.head) {
      const e = buf.indexOf('\r\n\r\n');
      if (e < 0) { s.buf = buf; return; }
      const status = parseInt(buf.slice(9, 12), 10);
      if (status !== 200) {
        refused++;
        noteErr(`frame HTTP ${status}: ${buf.slice(e + 4, e + 200).replace(/\s+/g, ' ')}`);
        s.buf = '';
        sock.destroy();
        return;
      }
      s.head = false;
      s.ready = true;
      if (s.onReady) { const f = s.onReady; s.onReady = null; f(true); }
      buf = buf.slice(e + 4);
    }
    let p = 0;
    for (;;) {
      const e = buf.indexOf(')</script>\n', p);
      if (e < 0) break;
      const d = buf.indexOf('>p({', p);
      if (d >= 0 && d < e) onEvent(s, buf.slice(d + 3, e), now);
      p = e + 11;
    }
    s.buf = p ? buf.slice(p) : buf;
  });
  sock.on('error', (err) => noteErr('frame socket: ' + err.code));
  sock.on('close', () => {
    s.ready = false;
    if (s.onReady) { const f = s.onReady; s.onReady = null; f(false); }
    if (s.closing) return;
    disconnects++;
    setTimeout(() => { if (!s.closing) { reconnects++; frameConnect(s); } }, 1000 + Math.random() * 500);
  });
}

/* ------------------------------------------------------------------ WebSocket */

function wsConnect(s) {
  const url = `${cfg.tls ? 'wss' : 'ws'}://${cfg.host}:${cfg.port}${cfg.path}${cfg.token ? '?token=' + encodeURIComponent(cfg.token) : ''}`;
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, rejectUnauthorized: false });
  s.ws = ws;
  ws.on('open', () => {
    ws.send(JSON.stringify(s.last > 0 ? { op: 'subscribe', after: s.last } : { op: 'subscribe' }));
  });
  ws.on('message', (data) => {
    const now = Date.now();
    const json = data.toString();
    if (!s.ready) {
      if (json.indexOf('"subscribed"') >= 0) {
        s.ready = true;
        if (s.onReady) { const f = s.onReady; s.onReady = null; f(true); }
        return;
      }
    }
    onEvent(s, json, now);
  });
  ws.on('unexpected-response', (req, res) => {
    refused++;
    noteErr(`WS upgrade refused: HTTP ${res.statusCode}`);
    res.resume();
    ws.terminate();
  });
  ws.on('error', (err) => noteErr('WS: ' + (err.code || err.message)));
  ws.on('close', (code) => {
    s.ready = false;
    if (s.onReady) { const f = s.onReady; s.onReady = null; f(false); }
    if (s.closing) return;
    disconnects++;
    noteErr('WS closed by the server, code ' + code);
    setTimeout(() => { if (!s.closing) { reconnects++; wsConnect(s); } }, 1000 + Math.random() * 500);
  });
}

/* ------------------------------------------------------------------ long-poll */

function lpConnect(s) {
  const sock = dial();
  s.sock = sock;
  s.buf = '';
  sock.setNoDelay(true);
  sock.setEncoding('utf8');
  sock.on('connect', () => {
    if (!s.ready) {
      s.ready = true;
      if (s.onReady) { const f = s.onReady; s.onReady = null; f(true); }
    }
    lpSend(s);
  });
  sock.on('data', (chunk) => {
    const now = Date.now();
    let buf = s.buf + chunk;
    for (;;) {
      const e = buf.indexOf('\r\n\r\n');
      if (e < 0) break;
      const status = parseInt(buf.slice(9, 12), 10);
      const m = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, e));
      const len = m ? parseInt(m[1], 10) : 0;
      if (buf.length < e + 4 + len) break;
      const body = buf.slice(e + 4, e + 4 + len);
      buf = buf.slice(e + 4 + len);
      polls++;
      if (status !== 200) {
        refused++;
        noteErr(`poll HTTP ${status}: ${body.slice(0, 160)}`);
        s.buf = '';
        sock.destroy();      // reconnects after a pause
        return;
      }
      let p = 0;
      for (;;) {
        const i = body.indexOf('{"', p);
        if (i < 0) break;
        const j = body.indexOf('}', i);     // event JSON has no nested objects here
        onEvent(s, body.slice(i, j + 1), now);
        p = j + 1;
      }
      if (/\r\nconnection: *close/i.test(buf.slice(0, e))) { sock.destroy(); return; }
      lpSend(s);
    }
    s.buf = buf;
  });
  sock.on('error', (err) => noteErr('poll socket: ' + err.code));
  sock.on('close', () => {
    if (s.closing) return;
    disconnects++;
    setTimeout(() => { if (!s.closing) { reconnects++; lpConnect(s); } }, 1000 + Math.random() * 500);
  });
}

function lpSend(s) {
  const after = s.last > 0 ? `after=${s.last}&` : '';
  s.sock.write(`GET ${cfg.path}?${after}timeout=25 HTTP/1.1\r\n${headersOf(s)}\r\n`);
}

/* ------------------------------------------------------------------ control */

function connect(s) {
  if (kind === 'sse') sseConnect(s);
  else if (kind === 'h2') h2Connect(s);
  else if (kind === 'ws') wsConnect(s);
  else if (kind === 'fr') frameConnect(s);
  else lpConnect(s);
}

async function open(msg) {
  kind = msg.kind;
  cfg = msg;
  const t = Date.now();
  let ok = 0, failed = 0;
  const batch = msg.batch || 100;
  for (let i = 0; i < msg.n; i += batch) {
    const wave = [];
    for (let k = i; k < Math.min(msg.n, i + batch); k++) {
      // long-poll starts after the newest id the bench saw (so its first poll already
      // covers the start marker, however late the server reads it)
      const s = { last: kind === 'lp' ? msg.startAfter || 0 : 0, got: 0, gaps: 0, dups: 0, ready: false, closing: false, onReady: null };
      subs.push(s);
      wave.push(new Promise((resolve) => {
        const timer = setTimeout(() => { s.onReady = null; resolve(false); }, 15000);
        s.onReady = (v) => { clearTimeout(timer); resolve(v); };
        connect(s);
      }));
    }
    for (const v of await Promise.all(wave)) v ? ok++ : failed++;
  }
  process.send({ ev: 'opened', kind, ok, failed, ms: Date.now() - t, errors: Object.fromEntries(errors) });
}

function wait(msg) {
  const end = Date.now() + msg.timeoutMs;
  const tick = () => {
    let reached = 0;
    for (const s of subs) if (s.last >= msg.id) reached++;
    if (reached === subs.length || Date.now() >= end) {
      process.send({ ev: 'reached', id: msg.id, reached, total: subs.length });
    } else setTimeout(tick, 50);
  };
  tick();
}

function report(msg) {
  let got = 0, gaps = 0, dups = 0, tail = 0, behind = 0, beyond = 0;
  for (const [id, n] of byId) if (id <= msg.end) got += n; else beyond += n;
  for (const s of subs) {
    gaps += s.gaps; dups += s.dups;
    if (s.last < msg.end) { tail += msg.end - Math.max(s.last, base); behind++; }
  }
  let n = histOver;
  for (let i = 0; i <= HIST_MS; i++) n += hist[i];
  const q = (p) => {
    const want = Math.ceil(p * n);
    let c = 0;
    for (let i = 0; i <= HIST_MS; i++) { c += hist[i]; if (c >= want && want > 0) return i; }
    return n ? HIST_MS : null;
  };
  const mu = process.memoryUsage();
  process.send({
    ev: 'report', kind, subs: subs.length, got, beyond, gaps, dups, tail, behind,
    lat: { n, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: n ? latMax : null, negatives },
    perSec: Array.from(perSec, (v) => v || 0),
    reconnects, disconnects, resets, polls, refused,
    errors: Object.fromEntries(errors),
    cpu: process.cpuUsage(), rss: mu.rss,
  });
}

process.on('message', (msg) => {
  switch (msg.cmd) {
    case 'open': open(msg); break;
    case 'wait': wait(msg); break;
    case 'measure':
      base = msg.base; t0 = msg.t0; perSec.length = 0;
      hist.fill(0); histOver = 0; latMax = 0; negatives = 0;
      for (const s of subs) { s.got = 0; s.gaps = 0; s.dups = 0; }
      byId.clear();
      break;
    case 'report': report(msg); break;
    case 'close':
      for (const s of subs) {
        s.closing = true;
        if (s.sock) s.sock.destroy();
        if (s.ws) s.ws.terminate();
        if (s.h2) s.h2.close();
      }
      for (const c of sessions) c.sess.destroy();
      process.send({ ev: 'closed' });
      setTimeout(() => process.exit(0), 200);
      break;
    default: break;
  }
});
process.on('disconnect', () => process.exit(0));
