// A session over a bad network: the relay in one network namespace, customer and engineer in
// another, joined by a veth pair (10.231.0.0/30, inside our namespaces only; bench/lib/impaired-link.ts) whose two ends
// carry 1 Mbit/s, 75 ms delay and 1 % loss each way (RTT 150 ms, ~2 % loss per round trip),
// with `tc netem`. Where the kernel has no netem (no sch_netem module), the rate is set with
// `tbf` on the veth and the delay and loss are emulated in a TCP proxy in the clients'
// namespace (bench/lib/delay-proxy.ts: 75 ms each way; 2 % of chunks held 200 ms longer, in order, as a TCP
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
import { fileURLToPath } from 'node:url';
import { emit } from './lib/report.js';
import { delayProxy, type DelayProxyOptions } from './lib/delay-proxy.js';
import { createImpairedLink, firstMatch, linkUnavailable, startRelayIn } from './lib/impaired-link.js';

const here = fileURLToPath(import.meta.url);

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
export const impairedUnavailable = linkUnavailable;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sets up the namespaces, runs the relay and the clients for `seconds`, always cleans up. */
export async function runImpaired(opts: { seconds: number }): Promise<ImpairedResult> {
  // 75 ms each way, 1 Mbit/s, 1 % loss each way (the proxy holds 2 % of chunks 200 ms: both
  // directions' loss, as one retransmission delay).
  const link = createImpairedLink({ delayMs: 75, rateMbit: 1, lossPercent: 1, holdPercent: 2, holdMs: 200 });
  try {
    const relay = await startRelayIn(link);
    const proxy = link.proxyOptions();
    const client = link.spawnIn(link.nsClients, [process.execPath, '--import', 'tsx', here, '--client', relay.url, relay.token, String(opts.seconds), JSON.stringify(proxy)]);
    const line = await firstMatch(client, /^RESULT (.*)$/m, (opts.seconds * 2 + 60) * 1000);
    return { impairment: link.impairment, ...(JSON.parse(line) as Omit<ImpairedResult, 'impairment'>) };
  } finally {
    await link.destroy();
  }
}

/** Client mode, inside the clients' namespace: customer and engineer, measured. */
async function clientMain(relayUrl: string, token: string, seconds: number, proxyOptions: DelayProxyOptions): Promise<void> {
  const { TestCustomer, solidScreen } = await import('../test/helpers/customer.js');
  const { TestAgent } = await import('../test/helpers/agent.js');
  const proxy = await delayProxy(new URL(relayUrl), proxyOptions);
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
  await proxy.close();
  process.exit(0);
}

if (process.argv[2] === '--client') {
  await clientMain(process.argv[3]!, process.argv[4]!, Number(process.argv[5]), JSON.parse(process.argv[6]!) as DelayProxyOptions);
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
    const at = `1 Mbit/s, RTT 150 ms, ${r.impairment}`;
    emit('impaired-network', [
      { scenario: `${at}: light, updates/s`, ours: r.light.updatesPerSecond, unit: 'updates/s' },
      { scenario: `${at}: light, change -> picture p95`, ours: r.light.latencyMs.p95, unit: 'ms' },
      { scenario: `${at}: heavy, updates/s`, ours: r.heavy.updatesPerSecond, unit: 'updates/s' },
      { scenario: `${at}: heavy, change -> picture p95`, ours: r.heavy.latencyMs.p95, unit: 'ms' },
      { scenario: `${at}: heavy, p95 second half / first half`, ours: r.heavy.secondHalfP95 / r.heavy.firstHalfP95, unit: 'x', note: 'about 1 when nothing queues' },
      { scenario: `${at}: session ended during the run`, ours: r.ended === null ? 0 : 1, unit: '', ...(r.ended ? { note: r.ended } : {}) },
    ]);
  }
}
