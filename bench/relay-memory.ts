// Memory per idle paired session: the relay runs in its own process; this process opens N
// paired sessions (2N WebSockets), and the relay reports its memory (after a GC) before and
// after. Prints figures; never passes or fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { emit } from './lib/report.js';

const SESSIONS = Number(process.env.RSO_BENCH_SESSIONS ?? 1000);
const BATCH = 50;

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
}

if (process.argv[2] === '--child') {
  // Child mode: the relay, plus a memory report on request over IPC.
  const { startRelay } = await import('../src/relay/server.js');
  // All sessions come from 127.0.0.1, so the per-address join throttle is lifted here.
  const relay = await startRelay({ open: true, joinRatePerMinute: 1_000_000 });
  process.on('message', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.send!({ rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers } satisfies Mem);
  });
  process.send!({ port: relay.port });
} else {
  await main();
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = (await once(child)) as { port: number };
    const url = `ws://127.0.0.1:${port}`;
    // One session first, so lazily-built code paths are not counted per session.
    const warm = await pairOne(url);
    await settle();
    const before = (await ask(child)) as Mem;
    const started = Date.now();
    const sockets: WebSocket[] = [...warm];
    for (let i = 0; i < SESSIONS; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: Math.min(BATCH, SESSIONS - i) }, () => pairOne(url)));
      for (const pair of batch) sockets.push(...pair);
    }
    const setupMs = Date.now() - started;
    await settle();
    const after = (await ask(child)) as Mem;
    const per = (a: number, b: number) => ((b - a) / SESSIONS / 1024).toFixed(1);
    console.log(`relay memory, ${SESSIONS} idle paired sessions (${2 * SESSIONS} WebSockets), set up in ${setupMs} ms`);
    console.log(`            before      after   per session`);
    console.log(`rss     ${mib(before.rss)} ${mib(after.rss)}   ${per(before.rss, after.rss).padStart(8)} KiB`);
    console.log(`heap    ${mib(before.heapUsed)} ${mib(after.heapUsed)}   ${per(before.heapUsed, after.heapUsed).padStart(8)} KiB`);
    console.log(`buffers ${mib(before.external)} ${mib(after.external)}   ${per(before.external, after.external).padStart(8)} KiB`);
    const rssKiB = Number(per(before.rss, after.rss));
    emit('relay-memory', [
      { scenario: `RSS per idle paired session (${SESSIONS})`, ours: rssKiB, unit: 'KiB', aim: '< 20 KiB', met: rssKiB < 20 },
      { scenario: `heap per idle paired session (${SESSIONS})`, ours: Number(per(before.heapUsed, after.heapUsed)), unit: 'KiB' },
    ]);
    for (const ws of sockets) ws.terminate();
  } finally {
    child.kill('SIGTERM');
  }
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1).padStart(7)} MiB`.padStart(11);
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
  return new Promise((r) => setTimeout(r, 500));
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function next(ws: WebSocket): Promise<{ type: string; nameplate?: string }> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
}

async function pairOne(url: string): Promise<[WebSocket, WebSocket]> {
  const a = await open(url);
  a.send(JSON.stringify({ type: 'hello', v: 1, role: 'agent' }));
  await next(a);
  a.send(JSON.stringify({ type: 'open' }));
  const { nameplate } = await next(a);
  const b = await open(url);
  b.send(JSON.stringify({ type: 'hello', v: 1, role: 'customer' }));
  await next(b);
  const paired = Promise.all([next(a), next(b)]);
  b.send(JSON.stringify({ type: 'join', nameplate }));
  for (const m of await paired) if (m.type !== 'paired') throw new Error(`pairing failed: ${JSON.stringify(m)}`);
  // Established, as a real session would be after key confirmation.
  a.send(JSON.stringify({ type: 'keyed', ok: true }));
  b.send(JSON.stringify({ type: 'keyed', ok: true }));
  return [a, b];
}
