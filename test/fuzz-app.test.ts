// Fuzz of the application messages inside the encrypted channel: what the customer's daemon
// takes from the agent (parseFromAgent: the one that decides what may reach the desktop) and
// what the viewer takes from the customer (parseFromCustomer). 100,000 inputs each.
import t from 'tap';
import { APP_FRAME, APP_JSON, encodeFrame, encodeJson, parseFromAgent, parseFromCustomer, type AgentMessage, type CustomerMessage } from '../src/protocol/app.js';
import { decodeUpdate } from '../src/codec/decode-update.js';
import { encodeUpdate } from '../src/codec/update.js';
import { CodecHistory } from '../src/codec/history.js';
import { encodeTiles } from '../src/codec/encode-tiles.js';
import { desktopLike } from '../src/codec/synthetic.js';
import { assertReport, concatBytes, fuzz, mutateBytes, mutateJson, mutateJsonText, type Rng } from './helpers/fuzz.js';

const AGENT_SEEDS: AgentMessage[] = [
  { type: 'request', what: 'view' },
  { type: 'request', what: 'control' },
  { type: 'ready', width: 1280, height: 800, seq: 7 },
  {
    type: 'input',
    events: [
      { t: 'move', x: 10, y: 20 },
      { t: 'button', button: 'left', down: true, x: 10, y: 20 },
      { t: 'wheel', dx: 0, dy: -1, x: 10, y: 20 },
      { t: 'key', key: 'Return', down: true, mods: ['control', 'shift'] },
      { t: 'text', text: 'Hello\nWorld' },
    ],
  },
  { type: 'chat', text: 'Can you open the settings?' },
  { type: 'bye', reason: 'done' },
];

const CUSTOMER_SEEDS: CustomerMessage[] = [
  { type: 'info', host: 'pc-17', os: 'Debian GNU/Linux 12', screen: { width: 1920, height: 1080 } },
  { type: 'state', view: { kind: 'apps', apps: ['Firefox', 'Terminal'] }, control: false, paused: false },
  { type: 'state', view: { kind: 'screen' }, control: true, paused: true },
  { type: 'answer', request: 'control', granted: true },
  { type: 'cursor', x: 5, y: 6, visible: true },
  { type: 'chat', text: 'ok' },
  { type: 'bye', reason: 'customer' },
];

const enc = new TextEncoder();

// Frame records as the daemon sends them (packed tiles, a deflated list), for the viewer's side.
const frameFb = desktopLike(256, 128, 9);
const FRAME_SEEDS: Uint8Array[] = [
  encodeFrame(encodeUpdate({ seq: 1, width: 256, height: 128, tiles: encodeTiles(frameFb, [0, 1, 2, 3, 4, 5, 6, 7]) })),
  encodeFrame(encodeUpdate({ seq: 2, width: 256, height: 128, tiles: encodeTiles(frameFb, [5]) })),
];

function generator(seeds: ReadonlyArray<AgentMessage | CustomerMessage>, frames: readonly Uint8Array[] = []): (rng: Rng) => Uint8Array {
  const corpus = [...seeds.map((s) => encodeJson(s)), ...frames];
  return (rng) => {
    const roll = rng.int(10);
    if (roll === 0) return rng.pick(corpus);
    if (roll < 5) return concatBytes(Uint8Array.of(APP_JSON), enc.encode(JSON.stringify(mutateJson(rng, rng.pick(seeds))) ?? ''));
    if (roll < 8) return concatBytes(Uint8Array.of(APP_JSON), enc.encode(mutateJsonText(rng, JSON.stringify(rng.pick(seeds)))));
    if (roll < 9) return mutateBytes(rng, rng.pick(corpus), corpus);
    // The kind byte itself, and oversized bodies (the 16 KiB JSON limit).
    return concatBytes(Uint8Array.of(rng.pick([0, APP_JSON, APP_FRAME, 3, 0xff])), enc.encode(JSON.stringify({ type: 'chat', text: 'x'.repeat(rng.pick([10, 16_380, 16_400, 40_000])) })));
  };
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v !== 'object' || v === null) return [];
  return Object.values(v).flatMap(strings);
}

t.test('parseFromAgent (customer daemon, from the engineer)', async (t) => {
  const r = await fuzz({
    name: 'app agent->customer',
    count: 100_000,
    seed: 0xa991,
    generate: generator(AGENT_SEEDS),
    run: parseFromAgent,
    codes: ['RSO_ERR_PROTOCOL', 'RSO_ERR_TOO_LARGE'],
    check: (_input, result) => {
      const m = result as AgentMessage;
      // What passes must be what the policy and injector expect: bounded, typed, no controls
      // other than a newline in text that is typed or shown.
      if (JSON.stringify(parseFromAgent(encodeJson(m))) !== JSON.stringify(m)) throw new Error('round trip changed the message');
      if (strings(m).some((s) => /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(s))) throw new Error('control character accepted');
      if (m.type === 'input') {
        if (m.events.length < 1 || m.events.length > 64) throw new Error(`${m.events.length} events accepted`);
        for (const e of m.events) {
          if ('x' in e && (e.x < 0 || e.x > 16384 || e.y < 0 || e.y > 16384)) throw new Error('coordinate out of range');
          if (e.t === 'key' && !/^[A-Za-z0-9_]{1,32}$/.test(e.key)) throw new Error('bad key name accepted');
        }
      }
      if (m.type === 'ready' && !(m.width >= 1 && m.height >= 1 && m.seq >= 0 && m.seq <= 0xffffffff)) throw new Error('bad ready accepted');
    },
  });
  assertReport(t, r, { minAccepted: 5000, minRejected: 50_000 });
  t.ok((r.rejected.RSO_ERR_TOO_LARGE ?? 0) > 0, 'an oversized control message gets its own code');
});

t.test('parseFromCustomer (viewer, from the customer)', async (t) => {
  const r = await fuzz({
    name: 'app customer->agent',
    count: 100_000,
    seed: 0xa992,
    generate: generator(CUSTOMER_SEEDS, FRAME_SEEDS),
    // The viewer's whole first step: a frame record is also decoded (on a fresh history, as
    // after the session start), which must fail only with RSO_ERR_PROTOCOL (RSO_ERR_VERSION for
    // another release's frame format).
    run: (bytes: Uint8Array) => {
      const inc = parseFromCustomer(bytes);
      if (inc.kind === 'frame') decodeUpdate(inc.update, new CodecHistory());
      return inc;
    },
    codes: ['RSO_ERR_PROTOCOL', 'RSO_ERR_TOO_LARGE', 'RSO_ERR_VERSION'],
    check: (_input, result) => {
      const inc = result as ReturnType<typeof parseFromCustomer>;
      if (inc.kind === 'frame') return; // decoded in run; test/fuzz-codec.test.ts covers the frame bytes in depth
      if (strings(inc.msg).some((s) => /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(s))) throw new Error('control character accepted');
      if (JSON.stringify(parseFromCustomer(encodeJson(inc.msg))) !== JSON.stringify(inc)) throw new Error('round trip changed the message');
    },
  });
  assertReport(t, r, { minAccepted: 5000, minRejected: 50_000 });
});
