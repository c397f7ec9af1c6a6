// Throughput through the real relay vs a plain TCP relay (socat), same run, same machine.
//
// Relay path:    ws sender --ws--> rso relay (own process) --ws--> ws reader
// Baseline path: ws sender --ws--> socat TCP forwarder (own process) --ws--> ws server reader
// Sender and reader live in this process in both cases, so the only difference is what sits in
// the middle: the relay parses every WebSocket frame and re-frames it towards the peer, socat
// copies TCP bytes without looking. The ratio is the cost of the relay's WebSocket work.
// Prints figures; never passes or fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { emit, type Row } from './lib/report.js';

const MiB = 1024 * 1024;
const TOTAL_BYTES = 256 * MiB;
const WINDOW = 8 * MiB; // sender keeps at most this much in its own buffer

if (process.argv[2] === '--child') {
  // Child mode: run the relay in its own process, as in production.
  const { startRelay } = await import('../src/relay/server.js');
  const relay = await startRelay({ open: true });
  process.stdout.write(`${relay.port}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const relay = await startChild([process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--child']);
  const hasSocat = spawnSync('socat', ['-V']).error === undefined;
  console.log(`relay throughput, ${TOTAL_BYTES / MiB} MiB per run, node ${process.version}`);
  console.log('size      relay MB/s   socat MB/s   relay/socat');
  const report: Row[] = [];
  try {
    for (const size of [64 * 1024, MiB]) {
      // Warm both paths once, then measure.
      await relayRun(relay.port, size, 16 * MiB);
      const r = await relayRun(relay.port, size, TOTAL_BYTES);
      let s: number | null = null;
      if (hasSocat) {
        await socatRun(size, 16 * MiB);
        s = await socatRun(size, TOTAL_BYTES);
      }
      const label = size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`;
      console.log(`${label.padEnd(8)}  ${r.toFixed(0).padStart(10)}   ${s === null ? '   (no socat)' : s.toFixed(0).padStart(10)}   ${s === null ? '' : (r / s).toFixed(2).padStart(11)}`);
      report.push({ scenario: `forwarding ${label} messages`, ours: r, unit: 'MB/s', baseline: s, baselineName: 'socat', aim: '>= 0.8x socat', met: s === null ? null : r >= 0.8 * s });
    }
  } finally {
    relay.proc.kill('SIGTERM');
  }
  emit('relay-throughput', report);
}

async function startChild(argv: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
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

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 2 * MiB });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextText(ws: WebSocket): Promise<{ type: string; nameplate?: string }> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
}

/** Send `total` bytes in `size` messages from `tx`, return MB/s when `rx` has them all. */
async function measure(tx: WebSocket, rx: WebSocket, size: number, total: number): Promise<number> {
  const count = Math.ceil(total / size);
  const payload = Buffer.alloc(size, 0xa5);
  let got = 0;
  const done = new Promise<void>((resolve) => {
    rx.on('message', (d: Buffer) => {
      got += d.length;
      if (got >= count * size) resolve();
    });
  });
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < count; ) {
    if (tx.bufferedAmount < WINDOW) {
      tx.send(payload, { binary: true });
      sent++;
    } else await new Promise((r) => setImmediate(r));
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (count * size) / 1e6 / seconds;
}

async function relayRun(port: number, size: number, total: number): Promise<number> {
  const url = `ws://127.0.0.1:${port}`;
  const a = await open(url);
  a.send(JSON.stringify({ type: 'hello', v: 1, role: 'agent' }));
  await nextText(a);
  a.send(JSON.stringify({ type: 'open' }));
  const { nameplate } = await nextText(a);
  const b = await open(url);
  b.send(JSON.stringify({ type: 'hello', v: 1, role: 'customer' }));
  await nextText(b);
  const paired = Promise.all([nextText(a), nextText(b)]);
  b.send(JSON.stringify({ type: 'join', nameplate }));
  await paired;
  const mbs = await measure(a, b, size, total);
  a.close();
  b.close();
  return mbs;
}

async function socatRun(size: number, total: number): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 2 * MiB });
  await new Promise((r) => wss.once('listening', r));
  const sinkPort = (wss.address() as { port: number }).port;
  const listenPort = await freePort();
  const socat = spawn('socat', [`TCP-LISTEN:${listenPort},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${sinkPort}`], { stdio: 'ignore' });
  try {
    let tx: WebSocket | undefined;
    for (let i = 0; i < 50 && !tx; i++) {
      tx = await open(`ws://127.0.0.1:${listenPort}`).catch(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return undefined;
      });
    }
    if (!tx) throw new Error('socat did not come up');
    const rx = await new Promise<WebSocket>((resolve) => {
      if (wss.clients.size > 0) resolve([...wss.clients][0]!);
      else wss.once('connection', resolve);
    });
    const mbs = await measure(tx, rx, size, total);
    tx.close();
    return mbs;
  } finally {
    socat.kill('SIGTERM');
    await new Promise((r) => wss.close(r));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
