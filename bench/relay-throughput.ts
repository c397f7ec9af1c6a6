// Throughput and added latency through the real relay vs a plain TCP relay (socat), same run,
// same machine.
//
// Relay path:    ws sender --ws--> rso relay (own process) --ws--> ws reader
// Baseline path: ws sender --ws--> socat TCP forwarder (own process) --ws--> ws server reader
// Sender and reader live in this process in both cases, so the only difference is what sits in
// the middle: the relay parses every WebSocket frame and re-frames it towards the peer, socat
// copies TCP bytes without looking. The ratio is the cost of the relay's WebSocket work.
//
// The machine is shared, so throughput is noisy: the two paths alternate, ROUNDS times, and
// medians are printed. The CPU time of the middle process alone (relay or socat, read from
// /proc, so never the clients') is printed too: it moves much less with other people's load.
// Latency: round trips of 1 KiB echoed by the reader, relay vs socat; the difference is what
// the relay adds. Prints figures; never passes or fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { CpuMeter, MiB, freePort, median, open, pair, pushBytes, relayFlags } from './lib/relay-client.js';
import { emit, type Row } from './lib/report.js';

const TOTAL_BYTES = 256 * MiB;
const ROUNDS = Number(process.env.RSO_BENCH_ROUNDS ?? 3);
const ROUND_TRIPS = 2000;

if (process.argv[2] === '--child') {
  // Child mode: run the relay in its own process, as in production.
  const { startRelay } = await import('../src/relay/server.js');
  const relay = await startRelay({ open: true, joinRatePerMinute: 100_000 });
  process.stdout.write(`${relay.port}\n`);
} else {
  await main();
}

interface Path {
  name: string;
  /** Connected sender and reader through this path, and the pid of the middle process. */
  connect(): Promise<{ tx: WebSocket; rx: WebSocket; pid: number | undefined; end(): Promise<void> }>;
}

async function main(): Promise<void> {
  // RSO_BENCH_RELAY_NO_BUFFERUTIL=1 runs the relay as it runs where ws's native helper is
  // missing (no prebuild for the platform): the clients here keep it, so only the relay changes.
  const noBufferutil = process.env.RSO_BENCH_RELAY_NO_BUFFERUTIL === '1';
  const relay = await startChild([process.execPath, ...relayFlags(), '--import', 'tsx', fileURLToPath(import.meta.url), '--child'], noBufferutil ? { ...process.env, WS_NO_BUFFER_UTIL: '1' } : process.env);
  const hasSocat = spawnSync('socat', ['-V']).error === undefined;
  const relayPath: Path = {
    name: 'relay',
    connect: async () => {
      const url = `ws://127.0.0.1:${relay.port}`;
      const [tx, rx] = await pair(url, url);
      return { tx, rx, pid: relay.proc.pid, end: async () => (tx.close(), rx.close()) };
    },
  };
  const socatPath: Path = { name: 'socat', connect: socatConnect };
  console.log(`relay throughput, ${TOTAL_BYTES / MiB} MiB per run, median of ${ROUNDS} alternating rounds, node ${process.version}, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}${noBufferutil ? ', relay without bufferutil' : ''}${relayFlags().length ? `, relay node flags ${relayFlags().join(' ')}` : ''}`);
  console.log('size      relay MB/s   socat MB/s   relay/socat   relay CPU s/GiB   socat CPU s/GiB');
  const report: Row[] = [];
  try {
    for (const size of [64 * 1024, MiB]) {
      // Warm both paths once, then alternate, so load from elsewhere hits both alike.
      await throughput(relayPath, size, 16 * MiB);
      if (hasSocat) await throughput(socatPath, size, 16 * MiB);
      const r: Array<{ mbs: number; cpu: number | null }> = [];
      const s: Array<{ mbs: number; cpu: number | null }> = [];
      for (let i = 0; i < ROUNDS; i++) {
        r.push(await throughput(relayPath, size, TOTAL_BYTES));
        if (hasSocat) s.push(await throughput(socatPath, size, TOTAL_BYTES));
      }
      const rm = median(r.map((x) => x.mbs));
      const sm = hasSocat ? median(s.map((x) => x.mbs)) : null;
      const rc = cpuPerGiB(r);
      const sc = hasSocat ? cpuPerGiB(s) : null;
      const label = size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`;
      console.log(
        `${label.padEnd(8)}  ${rm.toFixed(0).padStart(10)}   ${sm === null ? '   (no socat)' : sm.toFixed(0).padStart(10)}   ${sm === null ? ''.padStart(11) : (rm / sm).toFixed(2).padStart(11)}   ${fmt(rc).padStart(15)}   ${fmt(sc).padStart(15)}`,
      );
      report.push({ scenario: `forwarding ${label} messages`, ours: rm, unit: 'MB/s', baseline: sm, baselineName: 'socat', aim: '>= 0.8x socat', met: sm === null ? null : rm >= 0.8 * sm });
      report.push({ scenario: `relay process CPU forwarding ${label} messages`, ours: rc, unit: 'CPU s/GiB', baseline: sc, baselineName: 'socat' });
    }
    await latency(relayPath, 200);
    const lr = await latency(relayPath, ROUND_TRIPS);
    if (hasSocat) {
      await latency(socatPath, 200);
      const ls = await latency(socatPath, ROUND_TRIPS);
      console.log('1 KiB round trip   relay ms   socat ms   added ms');
      console.log(`median            ${lr.p50.toFixed(3).padStart(8)}   ${ls.p50.toFixed(3).padStart(8)}   ${(lr.p50 - ls.p50).toFixed(3).padStart(8)}`);
      console.log(`p99               ${lr.p99.toFixed(3).padStart(8)}   ${ls.p99.toFixed(3).padStart(8)}   ${(lr.p99 - ls.p99).toFixed(3).padStart(8)}`);
      report.push({ scenario: 'latency added by the relay to a 1 KiB round trip, p99', ours: lr.p99 - ls.p99, unit: 'ms', aim: '< 1 ms', met: lr.p99 - ls.p99 < 1 });
    } else {
      console.log(`1 KiB round trip through the relay: median ${lr.p50.toFixed(3)} ms, p99 ${lr.p99.toFixed(3)} ms (no socat to compare)`);
    }
  } finally {
    relay.proc.kill('SIGTERM');
  }
  emit('relay-throughput', report);
}

function fmt(x: number | null): string {
  return x === null ? '-' : x.toFixed(2);
}

/** Median CPU seconds of the middle process per GiB forwarded; null without /proc. */
function cpuPerGiB(runs: Array<{ cpu: number | null }>): number | null {
  if (runs.some((x) => x.cpu === null)) return null;
  return median(runs.map((x) => x.cpu! / (TOTAL_BYTES / 1024 / MiB)));
}

async function throughput(path: Path, size: number, total: number): Promise<{ mbs: number; cpu: number | null }> {
  const { tx, rx, pid, end } = await path.connect();
  const cpu = new CpuMeter(pid);
  const mbs = await pushBytes(tx, rx, size, total, cpu.mark);
  await end();
  return { mbs, cpu: cpu.spent() };
}

async function latency(path: Path, n: number): Promise<{ p50: number; p99: number }> {
  const { tx, rx, end } = await path.connect();
  rx.on('message', (d: Buffer, isBinary) => {
    if (isBinary) rx.send(d, { binary: true });
  });
  const payload = Buffer.alloc(1024, 0x5a);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    const back = new Promise<void>((resolve) => tx.once('message', () => resolve()));
    tx.send(payload, { binary: true });
    await back;
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  await end();
  times.sort((x, y) => x - y);
  return { p50: times[Math.floor(n * 0.5)]!, p99: times[Math.floor(n * 0.99)]! };
}

async function startChild(argv: string[], env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^(\d+)\n/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  return { proc, port };
}

/** One socat per connection (no fork), so its pid is the process that copies the bytes. */
async function socatConnect(): Promise<{ tx: WebSocket; rx: WebSocket; pid: number | undefined; end(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 2 * MiB });
  await new Promise((r) => wss.once('listening', r));
  const sinkPort = (wss.address() as { port: number }).port;
  const listenPort = await freePort();
  const socat = spawn('socat', [`TCP-LISTEN:${listenPort},bind=127.0.0.1,reuseaddr`, `TCP:127.0.0.1:${sinkPort}`], { stdio: 'ignore' });
  const rxP = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  let tx: WebSocket | undefined;
  for (let i = 0; i < 50 && !tx; i++) {
    tx = await open(`ws://127.0.0.1:${listenPort}`).catch(async () => {
      await new Promise((r) => setTimeout(r, 50));
      return undefined;
    });
  }
  if (!tx) {
    socat.kill('SIGTERM');
    wss.close();
    throw new Error('socat did not come up');
  }
  const rx = await rxP;
  const t = tx;
  return {
    tx: t,
    rx,
    pid: socat.pid,
    end: async () => {
      t.close();
      socat.kill('SIGTERM');
      await new Promise((r) => wss.close(r));
    },
  };
}
