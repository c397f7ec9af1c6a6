// What the relay benches (relay-throughput, relay-memory, relay-cluster) share on the client
// side: open a WebSocket, pair two of them through a relay, push bytes one way with a bounded
// window, and read a process's CPU time from /proc, so that a bench can say what the relay
// itself spent, apart from the clients that drive it.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { WebSocket } from 'ws';

export const MiB = 1024 * 1024;
/** A sender keeps at most this much in its own buffer. */
export const WINDOW = 8 * MiB;

export function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 2 * MiB });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

export function nextText(ws: WebSocket): Promise<{ type: string; nameplate?: string }> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
}

/**
 * An agent opens on `openerUrl`, a customer joins on `joinerUrl` (the same URL for one relay);
 * resolves once both have `paired`. With `keyed`, both then report key confirmation, as a real
 * session does, so the relay holds an established session.
 */
export async function pair(openerUrl: string, joinerUrl: string, opts: { keyed?: boolean } = {}): Promise<[WebSocket, WebSocket]> {
  const a = await open(openerUrl);
  a.send(JSON.stringify({ type: 'hello', v: 1, role: 'agent' }));
  await nextText(a);
  a.send(JSON.stringify({ type: 'open' }));
  const { nameplate } = await nextText(a);
  const b = await open(joinerUrl);
  b.send(JSON.stringify({ type: 'hello', v: 1, role: 'customer' }));
  await nextText(b);
  const paired = Promise.all([nextText(a), nextText(b)]);
  b.send(JSON.stringify({ type: 'join', nameplate }));
  for (const m of await paired) if (m.type !== 'paired') throw new Error(`pairing failed: ${JSON.stringify(m)}`);
  if (opts.keyed) {
    a.send(JSON.stringify({ type: 'keyed', ok: true }));
    b.send(JSON.stringify({ type: 'keyed', ok: true }));
  }
  return [a, b];
}

/**
 * Send `total` bytes in `size`-byte binary messages from `tx`; resolves with MB/s once `rx`
 * has received them all. `during` is called at the start and at the end of the timed part.
 */
export async function pushBytes(tx: WebSocket, rx: WebSocket, size: number, total: number, during?: () => void): Promise<number> {
  const count = Math.ceil(total / size);
  const payload = Buffer.alloc(size, 0xa5);
  let got = 0;
  const done = new Promise<void>((resolve) => {
    rx.on('message', (d: Buffer) => {
      got += d.length;
      if (got >= count * size) resolve();
    });
  });
  during?.();
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < count; ) {
    if (tx.bufferedAmount < WINDOW) {
      tx.send(payload, { binary: true });
      sent++;
    } else await new Promise((r) => setImmediate(r));
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  during?.();
  return (count * size) / 1e6 / seconds;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/PID/stat counts CPU time in 1/100 s

/** User + system CPU seconds `pid` has used so far; null where /proc is not available. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null; // not Linux, or the process is gone: the bench prints no CPU figure
  }
}

/** Records CPU seconds of `pid` at each call; `spent()` is the sum of the timed intervals. */
export class CpuMeter {
  private marks: Array<number | null> = [];
  constructor(private readonly pid: number | undefined) {}
  readonly mark = (): void => {
    this.marks.push(cpuSeconds(this.pid));
  };
  spent(): number | null {
    let sum = 0;
    for (let i = 0; i + 1 < this.marks.length; i += 2) {
      const a = this.marks[i];
      const b = this.marks[i + 1];
      if (a == null || b == null) return null;
      sum += b - a;
    }
    return sum;
  }
}

/** Extra node flags for the relay process only, from RSO_BENCH_RELAY_FLAGS (e.g. V8 heap sizes). */
export function relayFlags(): string[] {
  return (process.env.RSO_BENCH_RELAY_FLAGS ?? '').split(' ').filter((f) => f !== '');
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
