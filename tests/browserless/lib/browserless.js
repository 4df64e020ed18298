// A real browserless for the tests: start.mjs in a child process on a
// loopback port, with a token, a concurrency limit, its queue and its
// session timeout. kill() is SIGKILL (a crash: its Chromiums die with it,
// killed as a process group); start() again on the same port brings it back.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

export class Browserless {
  constructor({ token = 'bl-token-7c1e', concurrent = 2, queued = 10, timeout = 30000, port } = {}) {
    Object.assign(this, { token, concurrent, queued, timeout, port });
    this.proc = null;
    this.log = [];
  }

  async start() {
    this.port ??= await freePort();
    const env = {
      ...process.env, PORT: String(this.port), HOST: '127.0.0.1', TOKEN: this.token,
      CONCURRENT: String(this.concurrent), QUEUED: String(this.queued),
      TIMEOUT: String(this.timeout),
    };
    const proc = spawn(process.execPath, [path.join(here, 'start.mjs')], {
      cwd: here, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    this.proc = proc;
    this.exited = new Promise((r) => proc.once('exit', r));
    proc.stderr.on('data', (d) => { this.log.push(String(d)); if (this.log.length > 200) this.log.shift(); });
    if (process.env.BROWSERLESS_LOG) proc.stderr.pipe(fs.createWriteStream(process.env.BROWSERLESS_LOG, { flags: 'a' }));
    const rl = readline.createInterface({ input: proc.stdout });
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`browserless did not start in 90 s\n${this.log.join('')}`)), 90000);
      rl.on('line', (l) => { if (/^browserless listening/.test(l)) { clearTimeout(t); resolve(); } });
      proc.once('exit', (c) => { clearTimeout(t); reject(new Error(`browserless exited (${c})\n${this.log.join('')}`)); });
    });
    return this;
  }

  /** ws://127.0.0.1:PORT?token=T and its other forms. */
  ws(p = '') { return `ws://127.0.0.1:${this.port}${p}?token=${this.token}`; }
  http() { return `http://127.0.0.1:${this.port}?token=${this.token}`; }

  /** SIGKILL browserless and every Chromium it started (its process group). */
  async kill() {
    if (!this.proc) return;
    try { process.kill(-this.proc.pid, 'SIGKILL'); } catch { /* gone */ }
    await this.exited;
    this.proc = null;
  }

  async stop() {
    if (!this.proc) return;
    try { process.kill(-this.proc.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-this.proc.pid, 'SIGKILL'); } catch { /* gone */ } }, 10000);
    await this.exited;
    clearTimeout(t);
    this.proc = null;
  }
}
