// Cross-node forwarding vs single-node, same run, same machine: two relay processes sharing a
// real redis-server. Single node: both clients on node A. Cross node: opener on A, joiner on B,
// so every frame goes client -> B -> A -> client (B pipes the joiner to the owning node A).
// Throughput: one direction, windowed sender, 64 KiB and 1 MiB frames. Latency: round trips of
// 1 KiB frames echoed by the joiner, median and p99. Prints figures; never passes or fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, freePort, pair, pushBytes } from './lib/relay-client.js';
import { emit, type Row } from './lib/report.js';

const TOTAL_BYTES = 256 * MiB;
const ROUND_TRIPS = 2000;
const bin = fileURLToPath(new URL('../bin/rso.js', import.meta.url));

if (spawnSync('redis-server', ['--version']).error !== undefined) {
  console.log('relay cluster bench: redis-server is not installed (scripts/setup.sh installs it); skipped');
  process.exit(0);
}

const redisPort = await freePort();
const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const nodes: ChildProcess[] = [];
try {
  await redisReady(redisPort);
  const a = await startNode(`redis://127.0.0.1:${redisPort}`);
  const b = await startNode(`redis://127.0.0.1:${redisPort}`);
  console.log(`relay cluster: ${TOTAL_BYTES / MiB} MiB per throughput run, ${ROUND_TRIPS} round trips of 1 KiB, node ${process.version}`);
  console.log('frames     single MB/s   cross MB/s   cross/single');
  const report: Row[] = [];
  for (const size of [64 * 1024, MiB]) {
    // Alternating, best of three each: other load on the machine hits both paths alike.
    let single = 0;
    let cross = 0;
    await throughput(a, a, size, 16 * MiB);
    await throughput(a, b, size, 16 * MiB);
    for (let run = 0; run < 3; run++) {
      single = Math.max(single, await throughput(a, a, size, TOTAL_BYTES));
      cross = Math.max(cross, await throughput(a, b, size, TOTAL_BYTES));
    }
    const label = size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`;
    console.log(`${label.padEnd(9)}  ${single.toFixed(0).padStart(11)}  ${cross.toFixed(0).padStart(11)}  ${(cross / single).toFixed(2).padStart(13)}`);
    report.push({ scenario: `cross-node forwarding, ${label} frames`, ours: cross, unit: 'MB/s', baseline: single, baselineName: 'single node' });
  }
  await latency(a, a, 200);
  const ls = await latency(a, a, ROUND_TRIPS);
  await latency(a, b, 200);
  const lc = await latency(a, b, ROUND_TRIPS);
  console.log('round trip   single ms   cross ms   added ms');
  console.log(`median      ${ls.p50.toFixed(3).padStart(10)}  ${lc.p50.toFixed(3).padStart(9)}  ${(lc.p50 - ls.p50).toFixed(3).padStart(9)}`);
  console.log(`p99         ${ls.p99.toFixed(3).padStart(10)}  ${lc.p99.toFixed(3).padStart(9)}  ${(lc.p99 - ls.p99).toFixed(3).padStart(9)}`);
  report.push({ scenario: 'round trip of 1 KiB through one relay, p99', ours: ls.p99, unit: 'ms' });
  report.push({ scenario: 'round trip of 1 KiB across two nodes, p99', ours: lc.p99, unit: 'ms', baseline: ls.p99, baselineName: 'single node' });
  emit('relay-cluster', report);
} finally {
  for (const n of nodes) n.kill('SIGINT');
  redis.kill('SIGTERM');
}

async function startNode(redisUrl: string): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'rso-bench-cluster-'));
  const proc = spawn(process.execPath, [bin, 'relay', '--open', '--listen', '127.0.0.1:0', '--data', data, '--redis', redisUrl, '--log-format', 'json', '--join-rate', '100000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  nodes.push(proc);
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^relay listening on (ws:\/\/\S+)\n/.exec(buf);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
}

async function throughput(openerUrl: string, joinerUrl: string, size: number, total: number): Promise<number> {
  const [tx, rx] = await pair(openerUrl, joinerUrl);
  const mbs = await pushBytes(tx, rx, size, total);
  tx.close();
  rx.close();
  return mbs;
}

async function latency(openerUrl: string, joinerUrl: string, n: number): Promise<{ p50: number; p99: number }> {
  const [a, b] = await pair(openerUrl, joinerUrl);
  b.on('message', (d: Buffer, isBinary) => {
    if (isBinary) b.send(d, { binary: true });
  });
  const payload = Buffer.alloc(1024, 0x5a);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    const back = new Promise<void>((resolve) => a.once('message', () => resolve()));
    a.send(payload, { binary: true });
    await back;
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  a.close();
  b.close();
  times.sort((x, y) => x - y);
  return { p50: times[Math.floor(n * 0.5)]!, p99: times[Math.floor(n * 0.99)]! };
}

async function redisReady(port: number): Promise<void> {
  const { createConnection } = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port }, () => sock.write('PING\r\n'));
      sock.on('data', (d: Buffer) => (sock.destroy(), resolve(d.toString().startsWith('+PONG'))));
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}
