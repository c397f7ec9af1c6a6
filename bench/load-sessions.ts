// Load on one relay process (the built CLI, as `rso relay` runs): N concurrent sessions paired
// through real CPace handshakes with the client library (src/client), each exchanging a small
// encrypted message (200 B plaintext, a timestamp inside) every 100 ms in each direction for
// S seconds; then M idle sessions (paired at the relay by raw WebSockets, no handshake: the
// relay cannot tell) for the memory per session. Prints figures; never passes or fails.
//
//   npx tsc -p tsconfig.build.json && npx tsx bench/load-sessions.ts
//
// 1,000 active sessions are 2,000 sockets and 5,000 idle ones 10,000, in this process and in the
// relay each: the open-file limit must allow that (`ulimit -n` at least 12000; node cannot raise
// it itself; run `ulimit -n 65536` in the shell first where the hard limit allows).
// RSO_LOAD_MODE (secure | raw, see LoadOptions), RSO_LOAD_SESSIONS (1000), RSO_LOAD_SECONDS (60), RSO_LOAD_INTERVAL_MS (100), RSO_LOAD_BYTES (200),
// RSO_LOAD_IDLE (5000). RSO_LOAD_JSON=1 prints one JSON line at the end (for the smoke test).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { openSession, joinSession, type SecureSession } from '../src/client/session.js';
import type { SessionNumber } from '../src/crypto/code.js';
import { rssOf, spawnRelay, type SpawnedRelay } from '../test/helpers/relay.js';

export interface LoadOptions {
  /**
   * secure: each session is a real SecureSession (CPace, then ChaCha20-Poly1305 records), so the
   * load generator encrypts and decrypts every message. raw: each session is a pair of sockets
   * paired at the relay (hello, open, join: the relay's part of a real pairing), exchanging opaque
   * binary frames of the size a record would have; the relay does exactly the same work (it
   * cannot tell), and the load generator, which shares the 2 cores with the relay, does less.
   */
  mode: 'secure' | 'raw';
  sessions: number;
  seconds: number;
  intervalMs: number;
  bytes: number;
  idle: number;
  log?: (line: string) => void;
}

export interface LoadResult {
  mode: 'secure' | 'raw';
  sessions: number;
  pairSeconds: number;
  seconds: number;
  sent: number;
  received: number;
  /** Send rejections, sessions that closed during the run, messages lost or corrupted. */
  errors: number;
  errorKinds: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  relayRssActiveMiB: number | null;
  relayCpuPercent: number | null;
  clientCpuPercent: number;
  idle: number;
  idleRelayRssBeforeMiB: number | null;
  idleRelayRssAfterMiB: number | null;
  idleKiBPerSession: number | null;
}

const CLK_TCK = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds (Linux /proc), or null elsewhere. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** What the load loop needs from one side of a session. */
interface Endpoint {
  send(data: Uint8Array): Promise<void>;
  onMessage(cb: (data: Uint8Array) => void): void;
  onClose(cb: (info: { by: string; error?: { code: string } }) => void): void;
  close(): Promise<void>;
}

function rawEndpoint(ws: WebSocket): Endpoint {
  return {
    send: (data) => new Promise((resolve, reject) => ws.send(data, { binary: true }, (e) => (e ? reject(e) : resolve()))),
    onMessage: (cb) => ws.on('message', (d: Buffer, bin) => bin && cb(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))),
    onClose: (cb) => ws.on('close', (code) => cb({ by: `socket ${code}` })),
    close: async () => ws.close(),
  };
}

/** 1 (kind) + 1 (content type) + 16 (tag): what a record adds to its plaintext on the wire. */
const RECORD_OVERHEAD = 18;

async function pairOne(url: string): Promise<[SecureSession, SecureSession]> {
  let resolveNumber!: (n: SessionNumber) => void;
  const known = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const customerP = openSession({ relay: url, role: 'customer', onOpened: (n) => resolveNumber(n) });
  const number = await known;
  const agent = await joinSession({ relay: url, role: 'agent', number });
  return [await customerP, agent];
}

/** A raw paired pair at the relay level (hello, open, join): what an idle session costs the relay. */
async function rawPair(url: string): Promise<WebSocket[]> {
  const connect = (): Promise<{ ws: WebSocket; next: () => Promise<{ type: string; nameplate?: string }> }> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const queue: Array<{ type: string; nameplate?: string }> = [];
      let wake: (() => void) | null = null;
      ws.on('message', (d: Buffer, bin) => {
        if (!bin) queue.push(JSON.parse(d.toString()) as { type: string });
        wake?.();
      });
      const next = async (): Promise<{ type: string; nameplate?: string }> => {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        return queue.shift()!;
      };
      ws.once('open', () => resolve({ ws, next }));
      ws.once('error', reject);
    });
  const a = await connect();
  a.ws.send(JSON.stringify({ type: 'hello', v: 1, role: 'customer' }));
  await a.next();
  a.ws.send(JSON.stringify({ type: 'open' }));
  const opened = await a.next();
  if (opened.type !== 'opened') throw new Error(`open: ${JSON.stringify(opened)}`);
  const b = await connect();
  b.ws.send(JSON.stringify({ type: 'hello', v: 1, role: 'agent' }));
  await b.next();
  b.ws.send(JSON.stringify({ type: 'join', nameplate: opened.nameplate }));
  const paired = await b.next();
  if (paired.type !== 'paired') throw new Error(`join: ${JSON.stringify(paired)}`);
  await a.next();
  return [a.ws, b.ws];
}

/** In batches, so that the relay is not asked for thousands of handshakes in the same instant. */
async function inBatches<T>(n: number, batch: number, make: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - out.length) }, make))));
  return out;
}

const mib = (b: number | null): number | null => (b === null ? null : Math.round((b / 1048576) * 10) / 10);

async function settleRss(relay: SpawnedRelay): Promise<number | null> {
  await new Promise((r) => setTimeout(r, 2000));
  return rssOf(relay.proc.pid!);
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const log = opts.log ?? (() => undefined);
  const errorKinds: Record<string, number> = {};
  const err = (kind: string): void => {
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  // --open: agents need no account; the join throttle is lifted because every client here
  // comes from 127.0.0.1 (the brute-force bench keeps the default).
  const relay = await spawnRelay(['--open', '--join-rate', '100000', '--max-sessions', '0']);
  let result: LoadResult;
  try {
    log(`pairing ${opts.sessions} sessions (${opts.mode === 'secure' ? 'real CPace handshakes' : 'relay pairing, raw frames'})...`);
    const t0 = performance.now();
    const pairs: Array<[Endpoint, Endpoint]> =
      opts.mode === 'secure'
        ? await inBatches(opts.sessions, 50, () => pairOne(relay.url))
        : (await inBatches(opts.sessions, 50, () => rawPair(relay.url))).map(([a, b]) => [rawEndpoint(a!), rawEndpoint(b!)]);
    // Raw frames are the size the record would be, so the relay forwards the same bytes.
    const size = opts.mode === 'secure' ? opts.bytes : opts.bytes + RECORD_OVERHEAD;
    const pairSeconds = (performance.now() - t0) / 1000;
    log(`paired in ${pairSeconds.toFixed(1)} s`);

    const latencies = new Float64Array(Math.ceil(opts.sessions * 2 * (opts.seconds * 1000 / opts.intervalMs + 5)));
    let received = 0;
    let sent = 0;
    let running = true;
    const base = performance.now();
    for (const [customer, agent] of pairs) {
      for (const s of [customer, agent]) {
        s.onMessage((data) => {
          // Timestamp (ms since base, float64) then a filler byte pattern that is checked.
          if (data.length !== size) return err('wrong size');
          const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
          const at = view.getFloat64(0);
          if (data[size - 1] !== 0x5a) err('corrupted');
          if (received < latencies.length) latencies[received] = performance.now() - base - at;
          received++;
        });
        s.onClose((info) => {
          if (running) err(`closed by ${info.by}${info.error ? ` ${info.error.code}` : ''}`);
        });
      }
    }

    const relayCpu0 = cpuSeconds(relay.proc.pid!);
    const clientCpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const payload = (): Uint8Array => {
      const p = new Uint8Array(size);
      p.fill(0x5a, 8);
      new DataView(p.buffer).setFloat64(0, performance.now() - base);
      return p;
    };
    // One clock for all: every 10 ms each session sends what is due since its start (starts are
    // spread over the interval so the load is smooth). A late timer (a busy machine) is caught
    // up instead of silently lowering the offered load; the timestamp is taken at the real send.
    const due = new Array<number>(pairs.length).fill(0);
    const tick = (): void => {
      const elapsed = performance.now() - wall0;
      for (let i = 0; i < pairs.length; i++) {
        const offset = (i * opts.intervalMs) / pairs.length;
        const want = Math.min(Math.floor((opts.seconds * 1000 - offset) / opts.intervalMs) + 1, elapsed < offset ? 0 : Math.floor((elapsed - offset) / opts.intervalMs) + 1);
        while (due[i]! < want) {
          due[i]!++;
          for (const s of pairs[i]!) {
            sent++;
            s.send(payload()).catch((e: unknown) => err(`send: ${(e as { code?: string }).code ?? String(e)}`));
          }
        }
      }
    };
    const timers: NodeJS.Timeout[] = [setInterval(tick, 10)];
    let lastReport = performance.now();
    while (performance.now() - wall0 < opts.seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      if (performance.now() - lastReport >= 10_000) {
        lastReport = performance.now();
        log(`  ${((performance.now() - wall0) / 1000).toFixed(0)} s: sent ${sent}, received ${received}, relay RSS ${mib(rssOf(relay.proc.pid!))} MiB`);
      }
    }
    for (const timer of timers) clearInterval(timer);
    const wallSeconds = (performance.now() - wall0) / 1000;
    const relayCpu1 = cpuSeconds(relay.proc.pid!);
    const clientCpu = process.cpuUsage(clientCpu0);
    const relayRssActive = rssOf(relay.proc.pid!);
    // In-flight messages arrive within a moment; anything missing after that is lost.
    await new Promise((r) => setTimeout(r, 2000));
    running = false;
    if (received !== sent) err(`${sent - received} messages lost`);
    const lat = latencies.slice(0, Math.min(received, latencies.length)).sort();
    await Promise.all(pairs.flat().map((s) => s.close().catch(() => undefined)));

    log(`opening ${opts.idle} idle sessions on a fresh relay...`);
    const idleRelay = await spawnRelay(['--open', '--join-rate', '100000', '--max-sessions', '0']);
    let idleBefore: number | null = null;
    let idleAfter: number | null = null;
    try {
      // A few first, so lazily built code and buffers are not counted per session.
      const warm = await inBatches(20, 20, () => rawPair(idleRelay.url));
      idleBefore = await settleRss(idleRelay);
      const sockets = await inBatches(opts.idle, 100, () => rawPair(idleRelay.url));
      idleAfter = await settleRss(idleRelay);
      for (const ws of [...warm, ...sockets].flat()) ws.terminate();
    } finally {
      await idleRelay.stop();
    }

    const errors = Object.entries(errorKinds).reduce((n, [k, v]) => n + (k.endsWith('messages lost') ? sent - received : v), 0);
    result = {
      mode: opts.mode,
      sessions: opts.sessions,
      pairSeconds,
      seconds: wallSeconds,
      sent,
      received,
      errors,
      errorKinds,
      latencyMs: { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.length ? lat[lat.length - 1]! : NaN },
      relayRssActiveMiB: mib(relayRssActive),
      relayCpuPercent: relayCpu0 === null || relayCpu1 === null ? null : Math.round(((relayCpu1 - relayCpu0) / wallSeconds) * 100),
      clientCpuPercent: Math.round(((clientCpu.user + clientCpu.system) / 1e6 / wallSeconds) * 100),
      idle: opts.idle,
      idleRelayRssBeforeMiB: mib(idleBefore),
      idleRelayRssAfterMiB: mib(idleAfter),
      idleKiBPerSession: idleBefore === null || idleAfter === null ? null : Math.round(((idleAfter - idleBefore) / opts.idle / 1024) * 10) / 10,
    };
  } finally {
    await relay.stop();
  }
  return result;
}

async function main(): Promise<void> {
  const env = (k: string, d: number): number => Number(process.env[k] ?? d);
  const opts: LoadOptions = {
    mode: process.env.RSO_LOAD_MODE === 'raw' ? 'raw' : 'secure',
    sessions: env('RSO_LOAD_SESSIONS', 1000),
    seconds: env('RSO_LOAD_SECONDS', 60),
    intervalMs: env('RSO_LOAD_INTERVAL_MS', 100),
    bytes: env('RSO_LOAD_BYTES', 200),
    idle: env('RSO_LOAD_IDLE', 5000),
    log: process.env.RSO_LOAD_JSON ? () => undefined : (l) => console.log(l),
  };
  const r = await runLoad(opts);
  if (process.env.RSO_LOAD_JSON) {
    console.log(JSON.stringify(r));
    return;
  }
  const rate = r.sent / r.seconds;
  console.log(`\n== ${r.sessions} ${r.mode} sessions, ${opts.bytes} B every ${opts.intervalMs} ms each way, ${r.seconds.toFixed(0)} s, one relay process`);
  console.log(`pairing (${r.mode === 'secure' ? 'real handshakes' : 'relay pairing only'}, 50 at a time): ${r.pairSeconds.toFixed(1)} s (${(r.sessions / r.pairSeconds).toFixed(0)} pairings/s)`);
  console.log(`messages: sent ${r.sent} (${rate.toFixed(0)}/s), received ${r.received}; errors ${r.errors} ${JSON.stringify(r.errorKinds)}`);
  console.log(`latency sender -> relay -> receiver${r.mode === 'secure' ? ' (encrypt, forward, decrypt)' : ''}: p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, max ${r.latencyMs.max.toFixed(1)} ms`);
  console.log(`relay: RSS ${r.relayRssActiveMiB} MiB, CPU ${r.relayCpuPercent}% of one core; load generator CPU ${r.clientCpuPercent}%`);
  console.log(`== ${r.idle} idle paired sessions: relay RSS ${r.idleRelayRssBeforeMiB} -> ${r.idleRelayRssAfterMiB} MiB, ${r.idleKiBPerSession} KiB per session`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
