// Real relay processes and raw relay-plane clients for multi-process tests.
// spawnRelay runs the built CLI (bin/rso.js -> dist/), so run `npx tsc -p tsconfig.build.json`
// (or `npm test`, which builds first) before these tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { SessionNumber } from '../../src/crypto/code.js';
import { joinSession, openSession, type SecureSession } from '../../src/client/session.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'rso.js');

export interface SpawnedRelay {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Every stdout line after the listening line, as printed. */
  logs: string[];
  dataDir: string;
  /** SIGTERM (a drain: 0 s unless the test gave a drain timeout), then the exit status (null if killed by a signal). */
  stop(): Promise<number | null>;
  /** Resolves with the exit status once the process has exited, however. */
  exited: Promise<number | null>;
  /** What the relay wrote to stderr so far. */
  stderr(): string;
}

export async function spawnRelay(args: string[] = [], opts: { env?: NodeJS.ProcessEnv; dataDir?: string } = {}): Promise<SpawnedRelay> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'rso-relay-'));
  // A drain timeout of 0 so that a teardown does not wait for sessions a test left open; a
  // test about draining passes its own flag or variable.
  const proc = spawn(process.execPath, [bin, 'relay', '--listen', '127.0.0.1:0', '--data', dataDir, '--log-format', 'json', ...args], {
    env: { ...process.env, RSO_RELAY_DRAIN_TIMEOUT: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const first = await new Promise<string>((resolve, reject) => {
    let buf = '';
    let gotFirst = false;
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!gotFirst) {
          gotFirst = true;
          resolve(line);
        } else logs.push(line);
      }
    });
    void exited.then((code) => reject(new Error(`relay exited with ${code} before listening: ${stderr}`)));
  });
  const m = /^relay listening on (wss?:\/\/127\.0\.0\.1:(\d+))$/.exec(first);
  if (!m) {
    proc.kill('SIGKILL');
    throw new Error(`unexpected first line from relay: ${first}`);
  }
  return {
    url: m[1]!,
    port: Number(m[2]),
    proc,
    logs,
    dataDir,
    exited,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `rso relay agent add` for real and returns the token it printed. */
export async function addAgent(dataDir: string, id: string, name: string, org: string): Promise<string> {
  const out = runCli(['relay', 'agent', 'add', id, '--name', name, '--org', org, '--data', dataDir]);
  const m = /--token (\S+)/.exec(out.stdout);
  if (out.status !== 0 || !m) throw new Error(`agent add failed (${out.status}): ${out.stderr}`);
  return m[1]!;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface ClientOptions {
  headers?: Record<string, string>;
  /** Another loopback address (127.0.0.2) to appear as a different client. */
  localAddress?: string;
}

export type Json = Record<string, unknown> & { type: string };

/**
 * A raw relay-plane client: queues what arrives, text parsed as JSON and binary as Buffers,
 * so a test reads messages in order with next()/nextBinary() and sees how the socket closed.
 */
export class RawClient {
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly texts: Json[] = [];
  private readonly binaries: Buffer[] = [];
  private waiter: (() => void) | null = null;
  private isClosed = false;

  constructor(url: string, opts: ClientOptions = {}) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, headers: opts.headers ?? {}, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    this.ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.binaries.push(data);
      else this.texts.push(JSON.parse(data.toString()) as Json);
      this.wake();
    });
    this.ws.on('error', () => {
      // Surfaces as the close below; tests assert on that.
    });
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        this.isClosed = true;
        this.wake();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  static async connect(url: string, opts: ClientOptions = {}): Promise<RawClient> {
    const c = new RawClient(url, opts);
    await new Promise<void>((resolve, reject) => {
      c.ws.once('open', () => resolve());
      c.ws.once('error', reject);
    });
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  sendBinary(data: Uint8Array): void {
    this.ws.send(data, { binary: true });
  }

  async next(timeoutMs = 10_000): Promise<Json> {
    return this.take(this.texts, timeoutMs, 'text message');
  }

  async nextBinary(timeoutMs = 10_000): Promise<Buffer> {
    return this.take(this.binaries, timeoutMs, 'binary message');
  }

  /** Messages received so far and not yet taken. */
  pendingTexts(): Json[] {
    return [...this.texts];
  }

  async hello(role: 'agent' | 'customer', token?: string): Promise<Json> {
    this.send(token === undefined ? { type: 'hello', v: 1, role } : { type: 'hello', v: 1, role, token });
    return this.next();
  }

  close(): void {
    this.ws.close();
  }

  private async take<T>(queue: T[], timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = queue.shift();
      if (item !== undefined) return item;
      if (this.isClosed) throw new Error(`socket closed while waiting for a ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  private wake(): void {
    this.waiter?.();
  }
}

/** Opener and joiner through the relay-plane handshake up to `paired` on both sides. */
export async function pair(
  url: string,
  opener: { role: 'agent' | 'customer'; token?: string },
  joiner: { role: 'agent' | 'customer'; token?: string },
): Promise<{ opener: RawClient; joiner: RawClient; nameplate: string; openerPaired: Json; joinerPaired: Json }> {
  const a = await RawClient.connect(url);
  const welcomeA = await a.hello(opener.role, opener.token);
  if (welcomeA.type !== 'welcome') throw new Error(`opener hello: ${JSON.stringify(welcomeA)}`);
  a.send({ type: 'open' });
  const opened = await a.next();
  if (opened.type !== 'opened') throw new Error(`open: ${JSON.stringify(opened)}`);
  const nameplate = opened.nameplate as string;
  const b = await RawClient.connect(url);
  const welcomeB = await b.hello(joiner.role, joiner.token);
  if (welcomeB.type !== 'welcome') throw new Error(`joiner hello: ${JSON.stringify(welcomeB)}`);
  b.send({ type: 'join', nameplate });
  const joinerPaired = await b.next();
  const openerPaired = await a.next();
  return { opener: a, joiner: b, nameplate, openerPaired, joinerPaired };
}

export async function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Resident set size of a process in bytes (Linux /proc), or null elsewhere. */
export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null; // not Linux, or the process is gone
  }
}

export function logEvents(logs: string[]): Json[] {
  return logs.map((l) => JSON.parse(l) as Json).map((o) => ({ ...o, type: String(o.event) }));
}

/** A test CA and a server certificate for 127.0.0.1 and localhost, made with openssl. */
export interface TestCerts {
  dir: string;
  caFile: string;
  ca: string;
  certFile: string;
  keyFile: string;
}

export function makeCerts(dir: string = mkdtempSync(join(tmpdir(), 'rso-certs-')), name = 'server'): TestCerts {
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const caFile = join(dir, 'ca.pem');
  if (!existsSync(caFile)) {
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=rso test CA']);
  }
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', 'san.ext']);
  return { dir, caFile, ca: readFileSync(caFile, 'utf8'), certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
}

/** Whether a command exists on this machine (for skips with a reason). */
export function hasCommand(cmd: string, args: string[] = ['--version']): boolean {
  return spawnSync(cmd, args).error === undefined;
}

/** Real client sessions (src/client) paired through the relay(s), with an optional extra CA. */
export async function pairClients(opts: { openerUrl: string; joinerUrl?: string; openerRole: 'agent' | 'customer'; token?: string; ca?: string }): Promise<{ opener: SecureSession; joiner: SecureSession; nameplate: string; number: SessionNumber }> {
  const joinerRole = opts.openerRole === 'agent' ? 'customer' : 'agent';
  const extra = (role: 'agent' | 'customer') => ({ ...(role === 'agent' && opts.token ? { token: opts.token } : {}), ...(opts.ca ? { ca: opts.ca } : {}) });
  let resolveNumber!: (n: SessionNumber) => void;
  const numberKnown = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const openerP = openSession({ relay: opts.openerUrl, role: opts.openerRole, ...extra(opts.openerRole), onOpened: (n) => resolveNumber(n) });
  const number = await Promise.race([numberKnown, openerP.then(() => Promise.reject(new Error('opened without a number')))]);
  const joiner = await joinSession({ relay: opts.joinerUrl ?? opts.openerUrl, role: joinerRole, ...extra(joinerRole), number });
  return { opener: await openerP, joiner, nameplate: number.nameplate, number };
}

/** Sends `count` messages each way through real sessions and checks they arrive intact. */
export async function exchangeSessions(a: SecureSession, b: SecureSession, count = 5, size = 50_000): Promise<boolean> {
  const got = (s: SecureSession): Uint8Array[] => {
    const list: Uint8Array[] = [];
    s.onMessage((d) => list.push(d));
    return list;
  };
  const atA = got(a);
  const atB = got(b);
  const aToB = Array.from({ length: count }, () => randomBytes(size));
  const bToA = Array.from({ length: count }, () => randomBytes(size));
  for (let i = 0; i < count; i++) {
    await a.send(aToB[i]!);
    await b.send(bToA[i]!);
  }
  const deadline = Date.now() + 10_000;
  while ((atA.length < count || atB.length < count) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return atB.length === count && atA.length === count && aToB.every((m, i) => Buffer.from(atB[i]!).equals(m)) && bToA.every((m, i) => Buffer.from(atA[i]!).equals(m));
}

/** Waits until the relay has logged `event` and returns that line, parsed. */
export async function waitLog(relay: SpawnedRelay, event: string, timeoutMs = 10_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logEvents(relay.logs).find((e) => e.event === event);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`relay did not log ${event} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestRedis {
  url: string;
  port: number;
  proc: ChildProcess;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** A fresh, empty server on the same port (as after a crash without persistence). */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function redisReady(port: number, timeoutMs = 10_000): Promise<void> {
  const { createConnection } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port }, () => sock.write('PING\r\n'));
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (sock.destroy(), resolve(d.startsWith('+PONG'))));
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis on ${port} not ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A real redis-server on a free loopback port, without persistence. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const spawnIt = (): ChildProcess =>
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  const handle: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    proc: spawnIt(),
    async stop() {
      const p = handle.proc;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      await gone;
    },
    async restart() {
      await handle.stop();
      handle.proc = spawnIt();
      await redisReady(port);
    },
  };
  await redisReady(port);
  return handle;
}
