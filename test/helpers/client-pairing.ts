// Helpers for the client pairing and security tests: a real relay with one agent account,
// a pair of real client sessions, a message collector, and a recording TCP proxy.
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RsoError } from '../../src/errors.js';
import type { SessionNumber } from '../../src/crypto/code.js';
import type { Role } from '../../src/protocol/relay.js';
import { joinSession, openSession, type CloseInfo, type SecureSession } from '../../src/client/session.js';
import { addAgent, spawnRelay, type SpawnedRelay } from './relay.js';

export const AGENT = { id: 'anna', name: 'Anna Schmidt', org: 'ACME Support' };

export interface TestRelay extends SpawnedRelay {
  token: string;
}

/** A real relay process with agent "anna"; joins are not throttled unless `args` says so. */
export async function relayWithAgent(args: string[] = []): Promise<TestRelay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rso-client-test-'));
  const token = await addAgent(dataDir, AGENT.id, AGENT.name, AGENT.org);
  const relay = await spawnRelay(['--join-rate', '100000', ...args], { dataDir });
  return Object.assign(relay, { token });
}

export interface Pair {
  opener: SecureSession;
  joiner: SecureSession;
  number: SessionNumber;
  agent: SecureSession;
  customer: SecureSession;
}

/**
 * `openerRole` opens on `openerUrl`, the other role joins on `joinerUrl` (default: the same).
 * The agent side signs in with `token`.
 */
export async function pairSessions(opts: { openerUrl: string; joinerUrl?: string; openerRole: Role; token: string }): Promise<Pair> {
  const joinerRole: Role = opts.openerRole === 'agent' ? 'customer' : 'agent';
  const tokenFor = (role: Role): { token?: string } => (role === 'agent' ? { token: opts.token } : {});
  let resolveNumber!: (n: SessionNumber) => void;
  const numberKnown = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const openerP = openSession({ relay: opts.openerUrl, role: opts.openerRole, ...tokenFor(opts.openerRole), onOpened: (n) => resolveNumber(n) });
  // If opening fails, fail the test instead of waiting for a number forever.
  const number = await Promise.race([numberKnown, openerP.then(() => Promise.reject(new Error('opened without a number')))]);
  const joinerP = joinSession({ relay: opts.joinerUrl ?? opts.openerUrl, role: joinerRole, ...tokenFor(joinerRole), number });
  const [opener, joiner] = await Promise.all([openerP, joinerP]);
  return opts.openerRole === 'agent'
    ? { opener, joiner, number, agent: opener, customer: joiner }
    : { opener, joiner, number, agent: joiner, customer: opener };
}

/** Collects a session's messages and its close, with awaitable accessors. */
export class Collector {
  readonly messages: Uint8Array[] = [];
  closeInfo: CloseInfo | undefined;
  closeCount = 0;
  private waiters: Array<() => void> = [];

  constructor(session: SecureSession, opts: { messages?: boolean } = {}) {
    if (opts.messages !== false) this.listen(session);
    session.onClose((info) => {
      this.closeCount++;
      this.closeInfo = info;
      this.wake();
    });
  }

  listen(session: SecureSession): void {
    session.onMessage((data) => {
      this.messages.push(data);
      this.wake();
    });
  }

  async waitMessages(n: number, timeoutMs = 10_000): Promise<Uint8Array[]> {
    await this.until(() => this.messages.length >= n, timeoutMs, `${n} messages (have ${this.messages.length})`);
    return this.messages.slice(0, n);
  }

  async waitClose(timeoutMs = 10_000): Promise<CloseInfo> {
    await this.until(() => this.closeInfo !== undefined, timeoutMs, 'close');
    return this.closeInfo as CloseInfo;
  }

  private async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Resolves with the error a promise rejects with; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<RsoError> {
  try {
    await p;
  } catch (err) {
    return err as RsoError;
  }
  throw new Error('expected a rejection');
}

export interface RecordingProxy {
  url: string;
  port: number;
  /** Bytes client -> relay and relay -> client, per connection, in order. */
  connections: Array<{ up: Buffer[]; down: Buffer[]; client: Socket; upstream: Socket }>;
  up(): Buffer;
  down(): Buffer;
  /** Cut every connection at once, without any WebSocket close. */
  cut(): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1:0 in front of `targetPort` that records every byte both ways. */
export async function recordingProxy(targetPort: number): Promise<RecordingProxy> {
  const connections: RecordingProxy['connections'] = [];
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    const rec = { up: [] as Buffer[], down: [] as Buffer[], client, upstream };
    connections.push(rec);
    client.on('data', (d: Buffer) => {
      rec.up.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      rec.down.push(Buffer.from(d));
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    // A cut or reset on one side tears down the other; the tests look at the effects.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    connections,
    up: () => Buffer.concat(connections.flatMap((c) => c.up)),
    down: () => Buffer.concat(connections.flatMap((c) => c.down)),
    cut() {
      for (const c of connections) {
        c.client.resetAndDestroy();
        c.upstream.resetAndDestroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) {
          c.client.destroy();
          c.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

export function randomBytesWith(size: number, marker: Buffer, every: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 2654435761) >>> 24;
  for (let at = 0; at + marker.length <= size; at += every) marker.copy(out, at);
  return out;
}
