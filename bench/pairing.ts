// Pairing time on loopback through a real relay process, and the handshake's crypto alone as
// the baseline for what the network and the relay add. Prints figures; never passes or fails.
//   npx tsx bench/pairing.ts [runs]        (needs a build: npx tsc -p tsconfig.build.json)
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHandshake, stepHandshake } from '../src/crypto/handshake.js';
import type { SessionNumber } from '../src/crypto/code.js';
import { openSession, runPairing, KEYING_TIMEOUT_MS } from '../src/client/session.js';
import { initialJoinState } from '../src/client/pairing.js';
import { connectRelay } from '../src/client/relay-connection.js';
import { addAgent, spawnRelay } from '../test/helpers/relay.js';
import { emit } from './lib/report.js';

const RUNS = Number(process.argv[2] ?? 200);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] as number;
  return `p50 ${q(0.5).toFixed(2)} ms   p95 ${q(0.95).toFixed(2)} ms   max ${(s.at(-1) as number).toFixed(2)} ms`;
}

/** Both handshakes in memory: share, share, confirm, confirm. */
function cryptoOnly(): number {
  const sid = randomBytes(16);
  const t0 = performance.now();
  const a = startHandshake({ role: 'customer', secret: '123456', nameplate: '482', sid });
  const b = startHandshake({ role: 'agent', secret: '123456', nameplate: '482', sid });
  const a1 = stepHandshake(a.state, b.send[0] as Uint8Array);
  const b1 = stepHandshake(b.state, a.send[0] as Uint8Array);
  const a2 = stepHandshake(a1.state, b1.send[0] as Uint8Array);
  const b2 = stepHandshake(b1.state, a1.send[0] as Uint8Array);
  const t1 = performance.now();
  if (!a2.done || !b2.done || a2.done.verificationCode !== b2.done.verificationCode) throw new Error('handshake disagreed');
  return t1 - t0;
}

async function main(): Promise<void> {
  for (let i = 0; i < 20; i++) cryptoOnly(); // warm up the JIT and curve tables
  const crypto = Array.from({ length: RUNS }, cryptoOnly);

  const dataDir = mkdtempSync(join(tmpdir(), 'rso-bench-'));
  const token = await addAgent(dataDir, 'anna', 'Anna Schmidt', 'ACME Support');
  const relay = await spawnRelay(['--join-rate', '100000'], { dataDir });
  const pairing: number[] = [];
  const total: number[] = [];
  try {
    for (let i = 0; i < RUNS + 10; i++) {
      let resolveNumber!: (n: SessionNumber) => void;
      const numberP = new Promise<SessionNumber>((r) => (resolveNumber = r));
      let openerDone = 0;
      const openerP = openSession({ relay: relay.url, role: 'agent', token, onOpened: (n) => resolveNumber(n) }).then((s) => {
        openerDone = performance.now();
        return s;
      });
      const number = await numberP;
      const tConnect = performance.now();
      const conn = await connectRelay({ relay: relay.url, role: 'customer' });
      const tJoin = performance.now(); // runPairing sends join synchronously on start
      const joinerP = runPairing(conn, initialJoinState({ role: 'customer' }, number), { keyingTimeoutMs: KEYING_TIMEOUT_MS }).then((s) => ({ s, at: performance.now() }));
      const [opener, joiner] = await Promise.all([openerP, joinerP]);
      const done = Math.max(openerDone, joiner.at);
      if (i >= 10) {
        // the first runs warm up both the client and the relay process
        pairing.push(done - tJoin);
        total.push(done - tConnect);
      }
      await Promise.all([opener.close(), joiner.s.close()]);
    }
  } finally {
    await relay.stop();
  }

  console.log(`pairing on loopback, ${RUNS} runs (agent opens, customer joins; real relay process)`);
  console.log(`  join sent -> keys confirmed on both sides:  ${stats(pairing)}`);
  console.log(`  joiner connect -> keys confirmed:           ${stats(total)}`);
  console.log(`  handshake crypto alone (both sides, CPU):   ${stats(crypto)}`);
  console.log('  (both clients run in this one process, so their crypto is serialised in the pairing figures too)');
  const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  emit('pairing', [
    { scenario: 'join sent -> keys confirmed on both sides, p50', ours: p50(pairing), unit: 'ms', baseline: p50(crypto), baselineName: 'handshake crypto alone', aim: '< 20 ms', met: p50(pairing) < 20 },
  ]);
}

await main();
