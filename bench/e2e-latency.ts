// End to end: from a change on the customer's display to the viewer having written the
// terminal bytes that show it, with the relay on loopback and again through an impaired link.
// The customer side is the real thing: `rso share` (built, in a tmux pty) on Xvfb 1920x1080
// with real windows, through a real relay process.
// The viewer side runs in the bench's process: the test agent (real client code: pairing, AEAD,
// pull flow control; it also composites each update into its own framebuffer first, a small
// extra cost the real viewer does not have) hands each decrypted update to the viewer's
// picture pipeline (decode -> composite -> kitty renderer, src/agent/picture.ts) and the kitty
// bytes are written to a file stream; the time is taken when that write has completed. (Ink's
// chrome and the terminal's own drawing are not included: no terminal draws anything here.)
//   1. typing: `xdotool type` of one character into an xterm; from xdotool's exit to the
//      write of the first update after it: p50 / p95 / max;
//   2. a fast-changing quarter of the screen (an xterm 960x540 repainting 40 coloured lines
//      60 times a second): updates per second drawn and bytes per second, sustained over 5 s.
//
// Both run twice in one run of this file:
//   - loopback: relay, `rso share` and the viewer on this machine's loopback (the baseline);
//   - impaired link (bench/lib/impaired-link.ts): the relay in one network namespace, and
//     Xvfb, `rso share` and the viewer in another (a child process of this file), joined by a
//     veth with 50 ms delay and 20 Mbit/s on each direction: `tc netem` where the kernel has
//     it, else `tbf` for the rate and a delay proxy in the clients' namespace (the output says
//     which ran). An update goes customer -> relay -> viewer, crossing the link twice, so the
//     floor it adds is one round trip of the link (100 ms); and with one update in flight
//     (pull flow control) a new update needs the viewer's `ready` to cross back, so the rate
//     of a fast-changing region is at most about 1 / (2 RTT) = 5 updates/s.
//     Keys are spaced so that `ready` is back before the next one: the typing figure is the
//     path, not the wait for `ready` (which fast typing on such a link would add).
// Without root or `ip netns` the impaired part says why and is skipped (exit status 0).
// Ctrl-C or a failure tears down namespaces, veth, processes and temp dirs (bench/lib/cleanup.ts).
//
// Prints figures; passes or fails nothing.
//   npm run build && npx tsx bench/e2e-latency.ts
//   N=40 DELAY_MS=50 RATE_MBIT=20 npx tsx bench/e2e-latency.ts     (the defaults)
//   IMPAIRED=0 skips the impaired link; KEY_DELAY_MS=12 times keys as xdotool's default did (before);
//   SHARE_NODE_OPTIONS passes NODE_OPTIONS to `rso share` only.
import { spawn } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, fig, quantile, type Row } from './lib/report.js';
import { atCleanup, guarded } from './lib/cleanup.js';
import { delayProxy, type DelayProxyOptions } from './lib/delay-proxy.js';
import { createImpairedLink, firstMatch, linkUnavailable, startRelayIn, type ImpairedLink } from './lib/impaired-link.js';
import { checkLink, startLinkCheckServer, type LinkFigures } from './lib/link-check.js';
import { spawnWindow, startX, xrun } from '../test/helpers/x11.js';
import { relayWithAgent } from '../test/helpers/client-pairing.js';
import { TestAgent, type RecordedUpdate } from '../test/helpers/agent.js';
import { startShare } from '../test/helpers/tmux.js';
import { Picture, createRenderer } from '../src/agent/picture.js';

const here = fileURLToPath(import.meta.url);
const W = 1920;
const H = 1080;
const N = Number(process.env.N ?? 40);
const DELAY_MS = Number(process.env.DELAY_MS ?? 50);
const RATE_MBIT = Number(process.env.RATE_MBIT ?? 20);
/**
 * xdotool's pause after each key (its default is 12 ms). It sleeps it after the key went out,
 * so with the default the clock started up to 12 ms late, and a daemon faster than that had
 * drawn the key before xdotool exited (the first update "after" it was a later one).
 */
const KEY_DELAY_MS = Number(process.env.KEY_DELAY_MS ?? 0);
/** Pause after a key's update was drawn before the next key (plus one link RTT when impaired). */
const GAP_MS = 120;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.timeOrigin + performance.now();

interface Figures {
  /** Typing latencies, ms, one per key whose update was drawn within 3 s. */
  lat: number[];
  /** Fast-changing region: updates drawn per second, update bytes and kitty bytes per second. */
  ups: number;
  bps: number;
  kittyBps: number;
  /** Impaired only: what the link measured before the session (round trip, upload rate). */
  link?: LinkFigures;
  /** When most keys were never drawn: what the session and the daemon were doing. */
  stall?: string;
  /** Typing, medians from the daemon's debug events: key -> read started -> update sent -> drawn. */
  split?: string;
  /** Fast region, medians from the daemon's debug events: read -> sent, sent -> next read. */
  cycle?: string;
}

/** The whole measurement against a relay at `relayUrl` (agent token `token`). */
async function measure(relayUrl: string, token: string, gapMs: number): Promise<Figures> {
  const x = await startX({ width: W, height: H });
  let pane: ReturnType<typeof startShare> | undefined;
  let agent: TestAgent | undefined;
  const sink = createWriteStream('/dev/null');
  // Also on Ctrl-C: the tmux server is detached from us and would outlive the bench.
  const tidy = atCleanup(async () => {
    sink.end();
    await agent?.close().catch(() => undefined);
    if (pane) {
      pane.kill();
      rmSync(dirname(pane.statusFile), { recursive: true, force: true });
    }
    await x.stop();
  });
  try {
    const term = await spawnWindow('xterm', ['-bg', '#202840', '-fg', '#e0e0e0', '-geometry', '120x40+40+40', '-e', 'sh', '-c', 'ls -la /usr/share | head -60; exec sh'], x.env);
    await spawnWindow('xlogo', ['-geometry', '400x300+1400+80'], x.env, { className: 'xlogo' });
    await spawnWindow('xclock', ['-geometry', '200x200+1600+800', '-update', '3600'], x.env, { className: 'xclock' });

    // The viewer pipeline: 1:1 kitty picture on a terminal with 10x20 pixel cells.
    const picture = new Picture(createRenderer('kitty'), { row: 1, col: 0, cols: W / 10, rows: H / 20, cellWidth: 10, cellHeight: 20 });
    picture.show();
    const drawn: Array<{ at: number; bytes: number; wire: number }> = [];
    let digits = '';
    const agentP = TestAgent.open(relayUrl, token, (d) => (digits = d), { width: W, height: H });
    while (digits === '') await sleep(20);
    // SHARE_NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof) goes to `rso share` only.
    pane = startShare([digits, '--relay', relayUrl], { DISPLAY: x.display, XAUTHORITY: '/dev/null', ...(process.env.SHARE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.SHARE_NODE_OPTIONS } : {}) });
    agent = await agentP;
    const a = agent;
    // Every update the agent receives goes through the viewer's pipeline at once; the time is
    // taken when its kitty bytes have been written.
    const push = a.updates.push.bind(a.updates);
    a.updates.push = (...us: RecordedUpdate[]): number => {
      for (const u of us) {
        const { out } = picture.apply(u.bytes);
        sink.write(out, () => drawn.push({ at: now(), bytes: out.length, wire: u.bytes.length }));
      }
      return push(...us);
    };
    await a.ready({ width: W, height: H });
    await pane.waitText(/Enter.*accept/, 30_000);
    pane.keys('Enter');
    await pane.waitText(/s: share the whole screen/, 30_000);
    pane.keys('s');
    await a.waitFor(() => a.updates.length > 0, 30_000, 'first update');
    await a.settle(700, 30_000);

    const act = (args: string[]): Promise<number> =>
      new Promise((resolve, reject) => {
        const p = spawn('xdotool', args, { env: x.env, stdio: 'ignore' });
        p.on('exit', (code) => (code === 0 ? resolve(now()) : reject(new Error(`xdotool exited with ${code}`))));
      });

    // 1. Typing.
    xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(term.wid)]);
    await a.settle(500, 30_000);
    const lat: number[] = [];
    const keys: Array<{ t0: number; at: number }> = [];
    for (let i = 0; i < N; i++) {
      const mark = drawn.length;
      const t0 = await act(['type', '--delay', String(KEY_DELAY_MS), '--window', String(term.wid), i % 10 === 9 ? ' ' : 'x']);
      const end = Date.now() + 3000;
      while (Date.now() < end && !drawn.slice(mark).some((d) => d.at >= t0)) await sleep(2);
      const first = drawn.slice(mark).find((d) => d.at >= t0);
      if (first) {
        lat.push(first.at - t0);
        keys.push({ t0, at: first.at });
      }
      await sleep(gapMs);
    }
    const split = typingSplit(keys, pane.events());

    // Most keys never drawn: say what the session and the daemon were doing.
    const stall = lat.length < N / 2 ? `${lat.length} of ${N} keys drawn; ${sessionState(a, pane)}` : undefined;

    // 2. A fast-changing quarter of the screen.
    const script = 'import sys,time\ni=0\nw=sys.stdout\nwhile True:\n  i+=1\n  w.write("\\x1b[H"+"".join("\\x1b[48;5;%dm%s\\x1b[0m\\n" % (16+(i+r)%216, " "*159) for r in range(40)))\n  w.flush()\n  time.sleep(1/60)\n';
    const anim = await spawnWindow('xterm', ['-class', 'Anim', '-bg', '#000000', '-geometry', '160x41+960+540', '-e', 'python3', '-c', script], x.env);
    await sleep(1000);
    const from = drawn.length;
    const t0 = now();
    await sleep(5000);
    const t1 = now();
    const window5 = drawn.slice(from).filter((d) => d.at >= t0 && d.at <= t1);
    const cycle = updateCycle(pane.events(), t0, t1);
    await anim.stop();
    const secs = (t1 - t0) / 1000;
    return {
      lat,
      ups: window5.length / secs,
      bps: window5.reduce((n, d) => n + d.wire, 0) / secs,
      kittyBps: window5.reduce((n, d) => n + d.bytes, 0) / secs,
      ...(stall ? { stall } : {}),
      split,
      cycle,
    };
  } catch (err) {
    if (agent && pane) process.stderr.write(`e2e-latency: the measurement failed; ${sessionState(agent, pane)}\n`);
    throw err;
  } finally {
    await tidy();
  }
}

/**
 * Where a key's time went, from the daemon's debug events (wall clock, ms): xdotool exit ->
 * the daemon starts reading -> its update is sent -> the viewer wrote the kitty bytes.
 */
function typingSplit(keys: Array<{ t0: number; at: number }>, ev: Array<Record<string, unknown> & { event: string }>): string {
  const reads = ev.filter((e) => e.event === 'read').map((e) => Number(e.t));
  const sent = ev.filter((e) => e.event === 'update').map((e) => Number(e.t));
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (const k of keys) {
    // Events carry whole milliseconds: a read in the same millisecond as the exit counts.
    const r = reads.find((t) => t >= Math.floor(k.t0) && t <= k.at);
    const u = r === undefined ? undefined : sent.find((t) => t >= r && t <= k.at + 1);
    if (r === undefined || u === undefined) continue;
    a.push(r - k.t0);
    b.push(u - r);
    c.push(k.at - u);
  }
  const m = (xs: number[]): string => (xs.length ? fig(quantile(xs, 0.5)) : '—');
  return `key -> read ${m(a)} ms, read -> sent ${m(b)} ms, sent -> drawn ${m(c)} ms (medians of ${a.length})`;
}

/**
 * The fast region's updates from the daemon's debug events: the interval between two sends,
 * and the age of each update when sent (its read started -> sent; with prepare-ahead this
 * includes the wait for the agent's ready).
 */
function updateCycle(ev: Array<Record<string, unknown> & { event: string }>, t0: number, t1: number): string {
  const inWindow = ev.filter((e) => Number(e.t) >= t0 && Number(e.t) <= t1);
  const sends = inWindow.filter((e) => e.event === 'update');
  const reads = ev.filter((e) => e.event === 'read' && typeof e.seq === 'number');
  const interval = sends.slice(1).map((e, i) => Number(e.t) - Number(sends[i]!.t));
  const age: number[] = [];
  for (const u of sends) {
    // The read that made this update: the last one whose first seq is not after the update's.
    const r = reads.filter((e) => Number(e.seq) <= Number(u.seq) && Number(e.t) <= Number(u.t)).at(-1);
    if (r) age.push(Number(u.t) - Number(r.t));
  }
  const m = (xs: number[]): string => (xs.length ? fig(quantile(xs, 0.5)) : '—');
  return `interval between sends ${m(interval)} ms, read -> sent ${m(age)} ms (medians of ${sends.length} updates)`;
}

/**
 * The agent's view of the session and the daemon's last debug events (RSO_DEBUG_EVENTS: event
 * names, sequence numbers and counts, never pixels or keys), for a run that went wrong.
 */
function sessionState(agent: TestAgent, pane: ReturnType<typeof startShare>): string {
  const ev = pane.events();
  const counts = new Map<string, number>();
  for (const e of ev) counts.set(e.event, (counts.get(e.event) ?? 0) + 1);
  const tail = ev.slice(-8).map((e) => JSON.stringify(Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'r'))));
  const closed = agent.closeInfo ? `closed (${agent.closeInfo.error?.message ?? agent.closeInfo.by})` : 'open';
  return `agent has ${agent.updates.length} updates, session ${closed}; daemon events ${JSON.stringify(Object.fromEntries(counts))}; last: ${tail.join(' ')}`;
}

/**
 * Child mode, inside the clients' namespace: the delay proxy (a plain forwarder under netem),
 * then the same measurement as on loopback; the figures go back as one RESULT line.
 */
async function impairedClient(relayUrl: string, checkUrl: string, token: string, proxyOptions: DelayProxyOptions, gapMs: number): Promise<void> {
  const link = await checkLink(checkUrl, proxyOptions);
  const proxy = await delayProxy(new URL(relayUrl), proxyOptions);
  const closeProxy = atCleanup(() => proxy.close());
  try {
    const f = await measure(proxy.url, token, gapMs);
    process.stdout.write(`RESULT ${JSON.stringify({ ...f, link })}\n`);
  } finally {
    await closeProxy();
  }
}

/** Relay in one namespace, the child measuring in the other; always torn down. */
async function impaired(link: ImpairedLink): Promise<Figures> {
  try {
    const relay = await startRelayIn(link);
    const check = await startLinkCheckServer(link);
    const gap = GAP_MS + 2 * DELAY_MS;
    // The child's temp dirs (X, tmux pane, window manager) go in one of the link's, so they
    // are removed even if the child is killed before it could tidy them itself.
    const tmp = link.tempDir('rso-bench-clients-');
    const child = link.spawnIn(link.nsClients, [process.execPath, '--import', 'tsx', here, '--impaired-client', relay.url, check, relay.token, JSON.stringify(link.proxyOptions()), String(gap)], { env: { ...process.env, TMPDIR: tmp } });
    const line = await firstMatch(child, /^RESULT (.*)$/m, 60_000 + N * (gap + 3000));
    return JSON.parse(line) as Figures;
  } finally {
    await link.destroy();
  }
}

function describe(link: ImpairedLink): string {
  const each = `${link.spec.delayMs} ms and ${link.spec.rateMbit} Mbit/s each way (RTT ${2 * link.spec.delayMs} ms)`;
  return link.impairment === 'netem'
    ? `netem on both veth ends: ${each}`
    : `tbf+proxy (this kernel has no sch_netem): tbf ${link.spec.rateMbit} Mbit/s on both veth ends, ${link.spec.delayMs} ms each way in a TCP proxy in the clients' namespace; ${each}`;
}

async function main(): Promise<void> {
  const load0 = loadavg().map((v) => v.toFixed(2)).join(' ');
  console.log(`end to end, rso share on Xvfb ${W}x${H} -> relay -> viewer pipeline (kitty, in-process), 1:1; ${N} keys (xdotool --delay ${KEY_DELAY_MS}); load average at start ${load0}`);

  // Loopback, the baseline.
  const relay = await relayWithAgent();
  const stopRelay = atCleanup(async () => {
    await relay.stop();
    rmSync(relay.dataDir, { recursive: true, force: true });
  });
  let loop: Figures;
  try {
    loop = await measure(relay.url, relay.token, GAP_MS);
  } finally {
    await stopRelay();
  }

  // The impaired link.
  let imp: Figures | null = null;
  let why: string | null = null;
  let how = '';
  // IMPAIRED=0 measures the loopback part alone.
  const unavailable = process.env.IMPAIRED === '0' ? 'IMPAIRED=0' : linkUnavailable();
  let link: ImpairedLink | undefined;
  if (unavailable) why = `skipped: ${unavailable}`;
  else {
    try {
      link = createImpairedLink({ delayMs: DELAY_MS, rateMbit: RATE_MBIT });
    } catch (err) {
      why = `skipped: could not build the network namespaces: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (link) {
    how = describe(link);
    try {
      imp = await impaired(link);
    } catch (err) {
      why = `failed: ${err instanceof Error ? err.message : String(err)}`;
      process.exitCode = 1;
    }
  }

  const cell = (v: number | null, unit: string): string => (v === null ? '—' : `${fig(v)} ${unit}`);
  const row = (name: string, l: number | null, i: number | null, unit: string, floor = ''): string =>
    `  ${name.padEnd(44)}${cell(l, unit).padStart(14)}${cell(i, unit).padStart(16)}${(i === null || l === null ? '' : `${i - l >= 0 ? '+' : ''}${fig(i - l)} ${unit}`).padStart(14)}${floor ? `   ${floor}` : ''}`;
  // null (shown as —) when nothing was measured, not the 0 an empty quantile gives.
  const q = (f: Figures | null, p: number): number | null => (f && f.lat.length > 0 ? (p === 1 ? Math.max(...f.lat) : quantile(f.lat, p)) : null);
  const l50 = q(loop, 0.5);
  const l95 = q(loop, 0.95);
  const lmax = q(loop, 1);
  const floor = `(floor +${2 * DELAY_MS} ms)`;
  console.log(`impaired link: ${imp ? how : why}`);
  if (imp?.link) console.log(`  the link as measured before the session: round trip ${fig(imp.link.rttMs)} ms, upload ${fig(imp.link.mbit)} Mbit/s (${fig(imp.link.bulkBytes / 1e6)} MB)`);
  console.log(`  ${'measurement'.padEnd(44)}${'loopback'.padStart(14)}${'impaired link'.padStart(16)}${'added'.padStart(14)}`);
  console.log(row('typing, xdotool exit -> kitty written, p50', l50, q(imp, 0.5), 'ms', imp ? floor : ''));
  console.log(row('typing, p95', l95, q(imp, 0.95), 'ms', imp ? floor : ''));
  console.log(row('typing, max', lmax, q(imp, 1), 'ms'));
  console.log(row('typing, keys drawn within 3 s', loop.lat.length, imp?.lat.length ?? null, `of ${N}`));
  console.log(row('fast quarter screen, updates drawn', loop.ups, imp?.ups ?? null, '/s', imp ? `(ceiling ~${fig(1000 / (4 * DELAY_MS))}/s: one update per 2 RTT)` : ''));
  console.log(row('fast quarter screen, update bytes', loop.bps / 1e6, imp ? imp.bps / 1e6 : null, 'MB/s'));
  console.log(row('fast quarter screen, kitty output', loop.kittyBps / 1e6, imp ? imp.kittyBps / 1e6 : null, 'MB/s'));
  if (loop.split) console.log(`loopback typing split: ${loop.split}`);
  if (loop.cycle) console.log(`loopback fast region cycle: ${loop.cycle}`);
  if (imp?.cycle) console.log(`impaired fast region cycle: ${imp.cycle}`);
  if (imp?.split) console.log(`impaired typing split: ${imp.split}`);
  if (loop.stall) console.log(`loopback: most keys were not drawn: ${loop.stall}`);
  if (imp?.stall) console.log(`impaired link: most keys were not drawn: ${imp.stall}`);
  console.log(`load average at end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);

  const at = `impaired ${DELAY_MS} ms/${RATE_MBIT} Mbit/s (${link?.impairment ?? 'not run'})`;
  const base = { baselineName: 'loopback, same run' };
  const note = imp ? {} : { note: why ?? '' };
  const rows: Row[] = [
    { scenario: 'typing: change -> viewer wrote it, p50', ours: l50, unit: 'ms' },
    { scenario: 'typing: change -> viewer wrote it, p95', ours: l95, unit: 'ms', aim: '< 30 ms', met: l95 === null ? null : l95 < 30 },
    { scenario: 'typing: change -> viewer wrote it, max', ours: lmax, unit: 'ms' },
    { scenario: 'fast-changing quarter screen, kitty', ours: loop.ups, unit: 'updates/s', aim: '>= 30/s', met: loop.ups >= 30 },
    { scenario: 'fast-changing quarter screen, update bytes', ours: loop.bps / 1e6, unit: 'MB/s' },
    { scenario: `${at}: typing p50`, ours: q(imp, 0.5), unit: 'ms', baseline: l50, ...base, aim: `floor: loopback + ${2 * DELAY_MS} ms`, ...note },
    { scenario: `${at}: typing p95`, ours: q(imp, 0.95), unit: 'ms', baseline: l95, ...base, ...note },
    { scenario: `${at}: typing max`, ours: q(imp, 1), unit: 'ms', baseline: lmax, ...base, ...note },
    { scenario: `${at}: fast quarter screen`, ours: imp?.ups ?? null, unit: 'updates/s', baseline: loop.ups, ...base, aim: `ceiling ~${fig(1000 / (4 * DELAY_MS))}/s (one update per 2 RTT)`, ...note },
  ];
  emit('e2e-latency', rows);
}

if (process.argv[2] === '--impaired-client') {
  const [relayUrl, checkUrl, token, proxyJson, gap] = process.argv.slice(3) as [string, string, string, string, string];
  await guarded(() => impairedClient(relayUrl, checkUrl, token, JSON.parse(proxyJson) as DelayProxyOptions, Number(gap)));
  // Handles the test agent leaves open must not keep the child alive.
  process.exit();
} else {
  await guarded(main);
}
