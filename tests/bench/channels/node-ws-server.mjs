// node-ws-server.mjs — the comparison peer: a plain Node `ws` broadcast server doing the
// same fan-out as snapcat's /api/ws, driven the same way.
//
//   node node-ws-server.mjs      prints "LISTENING port=N" on stdout
//
//   POST /emit        makes one event, JSON shaped like snapcat's link.updated
//                     ({"id":N,"type":"link.updated","ts":"<ISO>","link":1}), sends it to
//                     every open client (the idiomatic `for (c of wss.clients) c.send(data)`),
//                     answers {"id":N}. The bench calls it at E/s, as it PATCHes snapcat.
//   WebSocket /       {"op":"subscribe"} -> {"type":"subscribed","op":"subscribe"} (what the
//                     bench client waits for); "after" resumes from the last 10,000 events.
// No per-client queue bound: ws buffers without limit (bufferedAmount), as usual.
import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

const KEEP = 10000;
const recent = [];          // [id, json] of the last KEEP events
let nextId = 1;

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/emit') {
    req.resume();
    req.on('end', () => {
      const id = nextId++;
      const json = `{"id":${id},"type":"link.updated","ts":"${new Date().toISOString()}","link":1}`;
      recent.push([id, json]);
      if (recent.length > KEEP) recent.shift();
      for (const c of wss.clients) if (c.subscribed && c.readyState === WebSocket.OPEN) c.send(json);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"id":${id}}\n`);
    });
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.subscribed = false;
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data.toString()); } catch (e) { return; }
    if (m && m.op === 'subscribe') {
      ws.send('{"type":"subscribed","op":"subscribe"}');
      if (typeof m.after === 'number') for (const [id, json] of recent) if (id > m.after) ws.send(json);
      ws.subscribed = true;
    }
  });
  ws.on('error', () => {});
});

server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING port=${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
