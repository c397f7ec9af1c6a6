// A session over a bad network: the relay in one network namespace, customer and engineer in
// another, joined by a veth pair (10.231.N.0/30, inside our namespaces only) whose two ends
// carry 1 Mbit/s, 75 ms delay and 1 % loss each way (RTT 150 ms, ~2 % loss per round trip),
// with `tc netem`. Where the kernel has no netem (no sch_netem module), the rate is set with
// `tbf` on the veth and the delay and loss are emulated in a TCP proxy in the clients'
// namespace (75 ms each way; 2 % of chunks held 200 ms longer, in order, as a TCP
// retransmission would hold them); the output says which one ran.
//
// The customer changes its screen 30 times a second (a 64x64 noise tile cycling over 8 tile
// slots of a 640x400 screen, 12 KiB each: about 3 times what the link carries) plus a marker whose colour
// numbers the change. The engineer's side reads the marker of every picture it gets: latency =
// when it got the picture minus when the change it shows was made. Pull flow control must
// merge changes instead of queueing them, so latency stays bounded while the update rate
// adapts to the link.
//
//   sudo npx tsx bench/impaired-network.ts [seconds]      (default 30)
//
// Needs root and `ip netns`; prints figures, never passes or fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const bin = fileURLToPath(new URL('../bin/rso.js', import.meta.url));

export interface ImpairedResult {
  /** 'netem' or 'tbf+proxy' (see the header). */
  impairment: string;
  /** Only the marker changes (typing-sized updates), 30 times a second. */
  light: Profile;
  /** Plus a 12 KiB noise tile per change: about 3 times what the link carries. */
  heavy: Profile;
  /** Why the session ended during the run (null: it did not). */
  ended: string | null;
}

export interface Profile {
  seconds: number;
  changes: number;
  updates: number;
  updatesPerSecond: number;
  bytesPerSecond: number;
  latencyMs: { p50: number; p95: number; max: number };
  /** p95 latency over the first and the second half of the run: equal-ish when nothing queues. */
  firstHalfP95: number;
  secondHalfP95: number;
}

/** Why this cannot run here, or false. */
export function impairedUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tc)';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return '`ip netns` is not available';
  if (spawnSync('tc', ['-V']).status !== 0) return '`tc` is not available';
  return false;
}

function sh(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, err: `${r.stderr}`.trim() };
}

function must(args: string[]): void {
  const r = sh(args);
  if (!r.ok) throw new Error(`${args.join(' ')}: ${r.err}`);
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sets up the namespaces, runs the relay and the clients for `seconds`, always cleans up. */
export async function runImpaired(opts: { seconds: number }): Promise<ImpairedResult> {
  const n = 20 + (process.pid % 200);
  const tag = `${process.pid % 100000}`;
  const nsR = `rso-imp-r${tag}`;
  const nsC = `rso-imp-c${tag}`;
  const vR = `rsoi${tag}r`;
  const vC = `rsoi${tag}c`;
  const relayIp = `10.231.${n}.2`;
  const clientIp = `10.231.${n}.1`;
  const data = mkdtempSync(join(tmpdir(), 'rso-impaired-'));
  const children: ChildProcess[] = [];
  try {
    must(['ip', 'netns', 'add', nsR]);
    must(['ip', 'netns', 'add', nsC]);
    must(['ip', 'link', 'add', vR, 'type', 'veth', 'peer', 'name', vC]);
    must(['ip', 'link', 'set', vR, 'netns', nsR]);
    must(['ip', 'link', 'set', vC, 'netns', nsC]);
    must(['ip', '-n', nsR, 'addr', 'add', `${relayIp}/30`, 'dev', vR]);
    must(['ip', '-n', nsC, 'addr', 'add', `${clientIp}/30`, 'dev', vC]);
    for (const [ns, dev] of [[nsR, vR], [nsC, vC]] as const) {
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    // Both ends, so both directions are impaired.
    let impairment = 'netem';
    for (const [ns, dev] of [[nsR, vR], [nsC, vC]] as const) {
      const netem = sh(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', '75ms', 'loss', '1%', 'rate', '1mbit', 'limit', '1000']);
      if (!netem.ok) {
        impairment = 'tbf+proxy';
        must(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', '1mbit', 'burst', '16kbit', 'latency', '400ms']);
      }
    }
    const add = spawnSync(process.execPath, [bin, 'relay', 'agent', 'add', 'anna', '--name', 'Anna', '--org', 'ACME', '--data', data], { encoding: 'utf8' });
    const token = /--token (\S+)/.exec(add.stdout)?.[1];
    if (!token) throw new Error(`agent add failed: ${add.stderr}`);
    const relay = spawn('ip', ['netns', 'exec', nsR, process.execPath, bin, 'relay', '--listen', `${relayIp}:0`, '--data', data, '--log-format', 'json', '--join-rate', '100000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(relay);
    const url = await firstMatch(relay, /relay listening on (ws:\/\/\S+)/);
    const client = spawn('ip', ['netns', 'exec', nsC, process.execPath, '--import', 'tsx', here, '--client', url, token, String(opts.seconds), impairment === 'netem' ? '0' : '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(client);
    const line = await firstMatch(client, /^RESULT (.*)$/m, (opts.seconds + 60) * 1000);
    return { impairment, ...(JSON.parse(line) as Omit<ImpairedResult, 'impairment'>) };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // Deleting a namespace deletes the veth end inside it, and with it the pair.
    sh(['ip', 'netns', 'del', nsR]);
    sh(['ip', 'netns', 'del', nsC]);
    rmSync(data, { recursive: true, force: true });
  }
}

function firstMatch(proc: ChildProcess, re: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; got: ${buf.slice(-500)}`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${re}; got: ${buf.slice(-500)}`));
    });
  });
}

/**
 * A TCP proxy on 127.0.0.1 (in the clients' namespace) towards the relay. With `emulate`, each
 * direction delays every chunk by 75 ms and 2 % of chunks by 200 ms more, never reordering.
 * Without, it only forwards (the URL is then loopback, as the test clients expect).
 */
async function impairProxy(target: URL, emulate: boolean): Promise<{ url: string; server: Server }> {
  const pipe = (from: Socket, to: Socket): void => {
    // One FIFO per direction, drained by one timer: separate timers per chunk could fire out
    // of order (Node orders timers of different durations only to the millisecond).
    const queue: Array<{ at: number; data: Buffer | null }> = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = (): void => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.at <= now) {
        const { data } = queue.shift()!;
        if (data === null) to.destroy();
        else to.write(data);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.at - now);
    };
    const push = (data: Buffer | null): void => {
      const last = queue.at(-1)?.at ?? 0;
      const extra = data !== null && Math.random() < 0.02 ? 200 : 0;
      queue.push({ at: Math.max(last, Date.now() + 75 + extra), data });
      if (timer === undefined) timer = setTimeout(drain, queue[0]!.at - Date.now());
    };
    from.on('data', (d: Buffer) => (emulate ? push(d) : void to.write(d)));
    from.on('close', () => (emulate ? push(null) : void to.destroy()));
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Client mode, inside the clients' namespace: customer and engineer, measured. */
async function clientMain(relayUrl: string, token: string, seconds: number, emulate: boolean): Promise<void> {
  const { TestCustomer, solidScreen } = await import('../test/helpers/customer.js');
  const { TestAgent } = await import('../test/helpers/agent.js');
  const proxy = await impairProxy(new URL(relayUrl), emulate);
  const W = 640;
  const H = 400;
  let digits = '';
  const customerP = TestCustomer.open(proxy.url, (d) => (digits = d), { screen: solidScreen(W, H, 0x202020) });
  while (digits === '') await new Promise((r) => setTimeout(r, 20));
  const agent = await TestAgent.join(proxy.url, token, digits, { width: W, height: H });
  const customer = await customerP;
  const madeAt: number[] = [0];
  const latencies: Array<{ at: number; ms: number }> = [];
  let seen = 0;
  // After TestAgent's own listener (registered first) has applied the update to its picture.
  agent.session.onMessage(() => {
    const d = agent.fb.data;
    const i = (d[0]! << 16) | (d[1]! << 8) | d[2]!;
    if (i > seen && i < madeAt.length) {
      seen = i;
      latencies.push({ at: Date.now(), ms: Date.now() - madeAt[i]! });
    }
  });
  await agent.ready({ width: W, height: H });
  customer.share();
  await customer.settled(20_000);

  const measure = async (noise: boolean, secs: number): Promise<Profile> => {
    latencies.length = 0;
    const start = Date.now();
    let x = 0;
    const bytesBefore = agent.frameBytes();
    const updatesBefore = agent.updates.length;
    const changesBefore = madeAt.length;
    while (Date.now() - start < secs * 1000) {
      if (noise) {
        // A 64x64 noise tile (12 KiB that no compressor shrinks) cycling over 8 tile slots.
        // Merged, one update carries at most the 8 slots and the marker.
        const px = 64 * (1 + (x % 8));
        const py = 128;
        x += 1;
        const data = customer.screen.data;
        for (let row = 0; row < 64; row++) {
          for (let col = 0; col < 64; col++) {
            const o = ((py + row) * W + px + col) * 4;
            const v = (Math.random() * 0xffffff) | 0;
            data[o] = v & 0xff;
            data[o + 1] = (v >> 8) & 0xff;
            data[o + 2] = (v >> 16) & 0xff;
          }
        }
      }
      // The marker (which also sends): its colour numbers the change.
      madeAt.push(Date.now());
      customer.fill({ x: 0, y: 0, w: 16, h: 16 }, madeAt.length - 1);
      await new Promise((r) => setTimeout(r, 33));
    }
    // Let the last changes arrive before counting.
    await new Promise((r) => setTimeout(r, 2500));
    const elapsed = (Date.now() - start - 2500) / 1000;
    const all = latencies.map((l) => l.ms).sort((a, b) => a - b);
    const mid = start + (secs * 1000) / 2;
    const first = latencies.filter((l) => l.at < mid).map((l) => l.ms).sort((a, b) => a - b);
    const second = latencies.filter((l) => l.at >= mid).map((l) => l.ms).sort((a, b) => a - b);
    return {
      seconds: Math.round(elapsed * 10) / 10,
      changes: madeAt.length - changesBefore,
      updates: agent.updates.length - updatesBefore,
      updatesPerSecond: Math.round(((agent.updates.length - updatesBefore) / elapsed) * 10) / 10,
      bytesPerSecond: Math.round((agent.frameBytes() - bytesBefore) / elapsed),
      latencyMs: { p50: pct(all, 50), p95: pct(all, 95), max: all.at(-1) ?? NaN },
      firstHalfP95: pct(first, 95),
      secondHalfP95: pct(second, 95),
    };
  };
  const light = await measure(false, seconds);
  const heavy = await measure(true, seconds);
  const ended = agent.closeInfo ?? customer.closeInfo;
  const result = { light, heavy, ended: ended ? (ended.error?.message ?? ended.by) : null };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  await Promise.all([agent.close(), customer.close()]).catch(() => undefined);
  proxy.server.close();
  process.exit(0);
}

if (process.argv[2] === '--client') {
  await clientMain(process.argv[3]!, process.argv[4]!, Number(process.argv[5]), process.argv[6] === '1');
} else if (process.argv[1] === here) {
  const why = impairedUnavailable();
  if (why) {
    process.stdout.write(`impaired-network: skipped: ${why}\n`);
  } else {
    const seconds = Number(process.argv[2] ?? 30);
    const r = await runImpaired({ seconds });
    const show = (name: string, p: Profile): string =>
      `  ${name}: ${p.changes} changes in ${p.seconds} s -> ${p.updates} updates (${p.updatesPerSecond}/s), ${(p.bytesPerSecond / 1024).toFixed(1)} KiB/s; ` +
      `change -> picture p50 ${p.latencyMs.p50} ms, p95 ${p.latencyMs.p95} ms, max ${p.latencyMs.max} ms; p95 first/second half ${p.firstHalfP95}/${p.secondHalfP95} ms\n`;
    process.stdout.write(
      `impaired network (${r.impairment}: 1 Mbit/s, RTT 150 ms, ~2 % loss), 30 changes/s:\n` + show('light (marker only)', r.light) + show('heavy (+12 KiB noise tile)', r.heavy) + (r.ended ? `  session ended: ${r.ended}\n` : ''),
    );
  }
}
