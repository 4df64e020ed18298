// clients.js — thin wrappers that put the real client libraries' events
// into an EventLog, so tests can wait on them with deadlines.

import { EventSource } from 'eventsource';
import net from 'node:net';
import { EventLog, withDeadline } from './harness.js';

/** Every event type of the event JSON (docs/ARCHITECTURE.md) except the SSE ping. */
export const EVENT_TYPES = ['job.queued', 'job.started', 'job.progress', 'job.done',
  'job.failed', 'link.updated', 'link.deleted', 'snapshot.changed'];

/**
 * An `eventsource` (npm) EventSource on url, listening to every event type
 * with addEventListener. Each received event goes into .log as the parsed
 * JSON plus: _raw (the data string), _lastEventId (MessageEvent.lastEventId),
 * _event (MessageEvent.type), _at (arrival, ms since epoch).
 * opts: passed to the EventSource constructor (e.g. a fetch override).
 */
export function openEventSource(url, label, opts = {}) {
  const es = new EventSource(url, opts);
  const log = new EventLog(label);
  const errors = [];
  const pings = [];
  const messages = []; // onmessage: unnamed events (there should be none)
  let opens = 0;
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (e) => {
      let j;
      try { j = JSON.parse(e.data); } catch { j = { parseError: e.data }; }
      log.add({ ...j, _raw: e.data, _lastEventId: e.lastEventId, _event: e.type, _at: Date.now() });
    });
  }
  es.addEventListener('ping', (e) => pings.push({ data: e.data, lastEventId: e.lastEventId, at: Date.now() }));
  es.addEventListener('reset', (e) => log.add({ type: 'reset', _raw: e.data, _event: 'reset', _at: Date.now() }));
  es.onmessage = (e) => messages.push(e.data);
  es.onerror = (e) => errors.push({ code: e.code, message: e.message, readyState: es.readyState, at: Date.now() });
  let openWaiters = [];
  es.onopen = () => {
    opens++;
    openWaiters.forEach((w) => w());
    openWaiters = [];
  };
  const c = {
    es,
    log,
    errors,
    pings,
    messages,
    get opens() { return opens; },
    /** Resolves at the next open (or at once if open and n already reached). */
    waitOpen(n = 1, ms = 10000) {
      if (opens >= n) return Promise.resolve();
      return withDeadline(new Promise((resolve) => {
        const check = () => (opens >= n ? resolve() : openWaiters.push(check));
        openWaiters.push(check);
      }), ms, `${label}: EventSource open #${n} (errors: ${JSON.stringify(errors)})`);
    },
    close() { es.close(); },
  };
  return c;
}

/**
 * A TCP proxy in front of the server whose connections the test can cut
 * (a real network failure, mid-stream) and whose new connections it can
 * hold (accepted, not forwarded) until release(), so that events are
 * created while a client is certainly disconnected. Records the request
 * head of every connection (to see the Last-Event-ID a client resumes with).
 */
export class CutProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.heads = [];
    this.holding = false;
    this.held = [];
    this.headWaiters = [];
    this.server = net.createServer((client) => this.accept(client));
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = this.server.address().port;
      resolve(this);
    }));
  }

  accept(client) {
    let head = '';
    let headDone = false;
    client.on('data', (d) => {
      if (headDone) return;
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        headDone = true;
        this.heads.push(head);
        this.headWaiters.forEach((w) => w());
      }
    });
    if (this.holding) {
      client.pause();
      this.held.push(client);
      client.on('error', () => {});
      return;
    }
    this.forward(client);
  }

  forward(client) {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.resume();
  }

  /** Destroy every live connection (both sides), like a network failure. */
  cut() {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  hold() { this.holding = true; }

  release() {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const c of held) this.forward(c);
  }

  /** Resolves when n request heads were seen. */
  waitHeads(n, ms) {
    if (this.heads.length >= n) return Promise.resolve();
    return withDeadline(new Promise((resolve) => {
      const check = () => { if (this.heads.length >= n) resolve(); };
      this.headWaiters.push(check);
    }), ms, `${n} connections through the proxy (got ${this.heads.length})`);
  }

  close() {
    this.cut();
    for (const c of this.held) c.destroy();
    return new Promise((r) => this.server.close(r));
  }
}

/** The value of a header in a raw request head, or undefined. */
export function headerOf(head, name) {
  const re = new RegExp(`^${name}:\\s*(.*)$`, 'im');
  const m = re.exec(head);
  return m ? m[1].trim() : undefined;
}
