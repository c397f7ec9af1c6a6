// Mutated relay-plane traffic against a live relay process: the parser is fuzzed on its own in
// fuzz-relay-plane.test.ts; this checks the server around it. 2,000 connections each send a
// valid or broken hello and then mutated text and binary frames in any order. The relay must
// answer every broken message with an `error` carrying a documented code and close that
// connection (never crash, never answer garbage), keep its memory bounded, and still pair
// honest clients afterwards.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { isErrorCode } from '../src/errors.js';
import { healthz, pair, rssOf, spawnRelay } from './helpers/relay.js';
import { mutateBytes, mutateJsonText, Rng } from './helpers/fuzz.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const skip = existsSync(join(root, 'dist', 'cli', 'main.js')) ? false : 'run `npx tsc -p tsconfig.build.json` first';

const SEEDS = [
  '{"type":"hello","v":1,"role":"customer"}',
  '{"type":"hello","v":1,"role":"agent"}',
  '{"type":"open"}',
  '{"type":"join","nameplate":"123"}',
  '{"type":"keyed","ok":false}',
  '{"type":"bye"}',
];

interface Outcome {
  texts: Array<{ type: string; code?: string }>;
  closed: number;
}

/** One connection of garbage: up to 6 frames, text or binary, then wait for the relay's verdict. */
function garbage(url: string, rng: Rng): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const texts: Outcome['texts'] = [];
    const timer = setTimeout(() => ws.terminate(), 5000);
    ws.on('error', () => undefined);
    ws.on('message', (d: Buffer, bin) => {
      if (!bin) texts.push(JSON.parse(d.toString()) as { type: string; code?: string });
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ texts, closed: code });
    });
    ws.on('open', () => {
      if (rng.chance(0.6)) ws.send(rng.pick(SEEDS.slice(0, 2)));
      for (let i = rng.range(1, 6); i > 0; i--) {
        if (ws.readyState !== WebSocket.OPEN) break;
        if (rng.chance(0.2)) ws.send(mutateBytes(rng, new TextEncoder().encode(rng.pick(SEEDS))), { binary: true });
        else ws.send(rng.chance(0.2) ? rng.pick(SEEDS) : mutateJsonText(rng, rng.pick(SEEDS)));
      }
      // Whatever the relay still allows, the test leaves after a moment.
      setTimeout(() => ws.close(), 300);
    });
  });
}

t.test('2,000 connections of mutated relay-plane traffic', { skip }, async (t) => {
  const relay = await spawnRelay(['--open', '--join-rate', '100000']);
  t.teardown(() => relay.stop());
  // Warm: one honest pairing, so the figure below is not the cost of loading code.
  const warm = await pair(relay.url, { role: 'customer' }, { role: 'agent' });
  warm.opener.close();
  warm.joiner.close();
  const rssBefore = rssOf(relay.proc.pid!);

  const rng = new Rng(0xbad5eed);
  const codes: Record<string, number> = {};
  const types: Record<string, number> = {};
  let unknownCodes = 0;
  let rssHalf: number | null = null;
  for (let batch = 0; batch < 20; batch++) {
    if (batch === 10) rssHalf = rssOf(relay.proc.pid!);
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => garbage(relay.url, rng)));
    for (const o of outcomes) {
      for (const m of o.texts) {
        types[m.type] = (types[m.type] ?? 0) + 1;
        if (m.type === 'error') {
          if (!isErrorCode(m.code)) unknownCodes++;
          codes[m.code ?? '?'] = (codes[m.code ?? '?'] ?? 0) + 1;
        }
      }
    }
  }
  t.comment(`relay answers: ${JSON.stringify(types)}; error codes: ${JSON.stringify(codes)}`);
  t.equal(relay.proc.exitCode, null, 'the relay is still running');
  t.equal(unknownCodes, 0, 'every error names a documented code');
  t.ok((codes.RSO_ERR_PROTOCOL ?? 0) > 500, 'broken messages are answered RSO_ERR_PROTOCOL');
  t.ok(Object.keys(types).every((k) => ['welcome', 'opened', 'paired', 'error', 'bye', 'peer-left'].includes(k)), 'the relay only ever says relay-plane messages');
  t.equal((await healthz(relay.port)).status, 200, 'healthz still answers');
  const p = await pair(relay.url, { role: 'customer' }, { role: 'agent' });
  t.equal(p.joinerPaired.type, 'paired', 'honest clients still pair');
  p.opener.close();
  p.joiner.close();
  await new Promise((r) => setTimeout(r, 500));
  const rssAfter = rssOf(relay.proc.pid!);
  const m = (n: number | null): string => `${((n ?? 0) / 1048576).toFixed(0)} MiB`;
  t.comment(`relay RSS ${m(rssBefore)} before, ${m(rssHalf)} after 1,000 garbage connections, ${m(rssAfter)} after 2,000`);
  t.ok(rssBefore !== null && rssAfter !== null && rssAfter - rssBefore < 64 * 1048576, 'relay memory grew less than 64 MiB');
  // Bounded, not a leak: the second thousand costs much less than the first (heap already grown).
  t.ok(rssHalf !== null && rssAfter !== null && rssAfter - rssHalf < 24 * 1048576, 'the second 1,000 connections grew it by less than 24 MiB');
  t.notOk(/Error|at .*\.js/.test(relay.stderr()), 'nothing on the relay\'s stderr');
});
