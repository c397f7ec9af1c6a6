// Memory per idle paired session: the relay runs in its own process; this process opens N
// paired sessions (2N WebSockets), then N more, and the relay reports its memory (after a full
// GC) before, after N and after 2N. Prints figures; never passes or fails.
//
// What the RSS is made of is printed too, from V8's own space statistics: the young generation
// (V8 grows it, up to a fixed cap of a few tens of MiB, while the process allocates quickly,
// as it does while sessions are set up; it does not grow with the number of idle sessions),
// the rest of the V8 heap, and everything else (malloc'd native state, Buffers, code).
// "per session" divides the growth over the first N sessions by N, as this bench always has;
// "next N" divides the growth from N to 2N sessions, once one-off costs have been paid.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { WebSocket } from 'ws';
import { pair, relayFlags } from './lib/relay-client.js';
import { emit } from './lib/report.js';

const SESSIONS = Number(process.env.RSO_BENCH_SESSIONS ?? 1000);
const BATCH = 50;

interface Mem {
  rss: number;
  heapUsed: number;
  /** Buffers and other memory V8 reports as external. */
  external: number;
  /** Committed bytes of V8's young generation (new space). */
  young: number;
  /** Committed bytes of the rest of the V8 heap (old, code, large-object spaces). */
  oldHeap: number;
}

if (process.argv[2] === '--child') {
  // Child mode: the relay, plus a memory report on request over IPC.
  const { startRelay } = await import('../src/relay/server.js');
  const { getHeapSpaceStatistics } = await import('node:v8');
  // All sessions come from 127.0.0.1, so the per-address join throttle is lifted here.
  const relay = await startRelay({ open: true, joinRatePerMinute: 1_000_000 });
  process.on('message', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    let young = 0;
    let oldHeap = 0;
    for (const s of getHeapSpaceStatistics()) {
      if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') young += s.physical_space_size;
      else oldHeap += s.physical_space_size;
    }
    process.send!({ rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers, young, oldHeap } satisfies Mem);
  });
  process.send!({ port: relay.port });
} else {
  await main();
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [...relayFlags(), '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = (await once(child)) as { port: number };
    const url = `ws://127.0.0.1:${port}`;
    // One session first, so lazily-built code paths are not counted per session.
    const sockets: WebSocket[] = [...(await pair(url, url, { keyed: true }))];
    await settle();
    const before = (await ask(child)) as Mem;
    const started = Date.now();
    await openSessions(url, sockets);
    const setupMs = Date.now() - started;
    await settle();
    const after = (await ask(child)) as Mem;
    await openSessions(url, sockets);
    await settle();
    const after2 = (await ask(child)) as Mem;
    const per = (a: number, b: number) => Number(((b - a) / SESSIONS / 1024).toFixed(1));
    const rest = (m: Mem) => m.rss - m.young;
    console.log(`relay memory, ${SESSIONS} then ${2 * SESSIONS} idle paired sessions (2 WebSockets each), first ${SESSIONS} set up in ${setupMs} ms, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}${relayFlags().length ? `, relay node flags ${relayFlags().join(' ')}` : ''}`);
    console.log(`                    before      after ${SESSIONS}   after ${2 * SESSIONS}   per session   next ${SESSIONS}`);
    const line = (name: string, f: (m: Mem) => number) =>
      console.log(`${name.padEnd(16)} ${mib(f(before))}  ${mib(f(after))}  ${mib(f(after2))}  ${String(per(f(before), f(after))).padStart(8)} KiB  ${String(per(f(after), f(after2))).padStart(7)} KiB`);
    line('rss', (m) => m.rss);
    line(' young gen', (m) => m.young);
    line(' rest of rss', rest);
    line('   V8 old gen', (m) => m.oldHeap);
    line('heap used', (m) => m.heapUsed);
    line('buffers', (m) => m.external);
    const rssKiB = per(before.rss, after.rss);
    const restKiB = per(rest(before), rest(after));
    const nextKiB = per(after.rss, after2.rss);
    // What one more idle session costs is the slope from N to 2N: the first N also pay for the
    // V8 young generation growing to its cap while they are set up (a fixed ~30 MiB that any
    // relay carrying traffic has anyway), so their average is shown next to it, not as the aim.
    emit('relay-memory', [
      { scenario: `RSS per idle paired session, from ${SESSIONS} to ${2 * SESSIONS}`, ours: nextKiB, unit: 'KiB', aim: '< 20 KiB', met: nextKiB < 20 },
      { scenario: `RSS per idle paired session, first ${SESSIONS} (fixed costs included)`, ours: rssKiB, unit: 'KiB', note: 'includes the young generation growing to its cap' },
      { scenario: `RSS per idle paired session (${SESSIONS}), V8 young generation left out`, ours: restKiB, unit: 'KiB' },
      { scenario: `heap per idle paired session (${SESSIONS})`, ours: per(before.heapUsed, after.heapUsed), unit: 'KiB' },
    ]);
    for (const ws of sockets) ws.terminate();
  } finally {
    child.kill('SIGTERM');
  }
}

async function openSessions(url: string, into: WebSocket[]): Promise<void> {
  for (let i = 0; i < SESSIONS; i += BATCH) {
    // Established, as a real session would be after key confirmation.
    const batch = await Promise.all(Array.from({ length: Math.min(BATCH, SESSIONS - i) }, () => pair(url, url, { keyed: true })));
    for (const p of batch) into.push(...p);
  }
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`.padStart(10);
}

function once(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`relay child exited with ${code}`)));
  });
}

function ask(child: ChildProcess): Promise<unknown> {
  const reply = once(child);
  child.send('mem');
  return reply;
}

function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, Number(process.env.RSO_BENCH_SETTLE_MS ?? 500)));
}
