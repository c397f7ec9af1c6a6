// Fuzz of the relay plane: the JSON text frames a relay takes from any client on the Internet
// (parseClientMessage), those a client takes from a relay it does not trust (parseServerMessage),
// and the node-to-node hello (parseNodeHello). 100,000 generated and mutated inputs each.
import t from 'tap';
import { encodeMessage, parseClientMessage, parseServerMessage, type ClientMessage, type ServerMessage } from '../src/protocol/relay.js';
import { parseNodeHello } from '../src/relay/node-protocol.js';
import { assertReport, fuzz, hostileValue, mutateJson, mutateJsonText, randomString, type Rng } from './helpers/fuzz.js';

const CLIENT_SEEDS: ClientMessage[] = [
  { type: 'hello', v: 1, role: 'agent', token: 'abcdefghijklmnop_-0123' },
  { type: 'hello', v: 1, role: 'customer' },
  { type: 'open' },
  { type: 'join', nameplate: '482' },
  { type: 'join', nameplate: '123456' },
  { type: 'keyed', ok: true },
  { type: 'keyed', ok: false },
  { type: 'keyed', ok: true, rid: '0123456789abcdef0123456789abcdef' },
  { type: 'resume', rid: 'fedcba9876543210fedcba9876543210' },
  { type: 'bye' },
];

const agent = { id: 'anna', name: 'Anna Berg', org: 'Example IT' };
const SERVER_SEEDS: ServerMessage[] = [
  { type: 'welcome', v: 1, relay: 'relay.example.org', open: false, agent },
  { type: 'welcome', v: 1, relay: 'r', open: true, agent: null },
  { type: 'opened', nameplate: '482', ttl: 600 },
  { type: 'paired', sid: 'AAAAAAAAAAAAAAAAAAAAAA', peer: { role: 'agent', agent: { ...agent, verified: true } } },
  { type: 'paired', sid: 'abcdefghijklmnopqrstuv', peer: { role: 'customer' } },
  { type: 'peer-left', reason: 'wrong-code' },
  { type: 'error', code: 'RSO_ERR_THROTTLED', message: 'Too many attempts.' },
  { type: 'bye' },
];

/** Half structural (a field changed to a hostile value), half textual (broken JSON, nesting, huge numbers). */
function generator<M>(seeds: readonly M[]): (rng: Rng) => string {
  const texts = seeds.map((s) => JSON.stringify(s));
  return (rng) => {
    const roll = rng.int(10);
    if (roll === 0) return rng.pick(texts);
    if (roll < 5) return JSON.stringify(mutateJson(rng, rng.pick(seeds))) ?? '';
    if (roll < 9) return mutateJsonText(rng, rng.pick(texts));
    return rng.chance(0.5) ? randomString(rng, rng.int(64)) : JSON.stringify({ type: rng.pick(['hello', 'join', 'open', 'paired', 'welcome']), x: hostileValue(rng) });
  };
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v !== 'object' || v === null) return [];
  return Object.values(v).flatMap(strings);
}

/** Whatever a parser accepts must survive encode -> parse unchanged (no half-checked value slips through). */
function roundTrip<M>(parse: (s: string) => M): (input: string, result: unknown) => void {
  return (_input, result) => {
    const again = parse(encodeMessage(result as ClientMessage));
    if (JSON.stringify(again) !== JSON.stringify(result)) throw new Error('encode/parse round trip changed the message');
    if (Object.getPrototypeOf(result) !== Object.prototype) throw new Error('result is not a plain object');
  };
}

t.test('parseClientMessage (relay side, from anyone)', async (t) => {
  const r = await fuzz({
    name: 'relay plane client->relay',
    count: 100_000,
    generate: generator(CLIENT_SEEDS),
    run: parseClientMessage,
    codes: ['RSO_ERR_PROTOCOL', 'RSO_ERR_TOO_LARGE', 'RSO_ERR_VERSION'],
    check: (input, result) => {
      roundTrip(parseClientMessage)(input, result);
      const m = result as ClientMessage;
      if (m.type === 'join' && !/^[0-9]{3,6}$/.test(m.nameplate)) throw new Error('nameplate not 3-6 digits');
    },
  });
  assertReport(t, r, { minAccepted: 5000, minRejected: 50_000 });
  t.ok((r.rejected.RSO_ERR_TOO_LARGE ?? 0) > 0 && (r.rejected.RSO_ERR_VERSION ?? 0) > 0, 'the too-large and version codes are reached');
});

t.test('parseServerMessage (client side, from a relay it does not trust)', async (t) => {
  const r = await fuzz({
    name: 'relay plane relay->client',
    count: 100_000,
    seed: 0x5eed + 1,
    generate: generator(SERVER_SEEDS),
    run: parseServerMessage,
    codes: ['RSO_ERR_PROTOCOL', 'RSO_ERR_TOO_LARGE', 'RSO_ERR_VERSION'],
    check: (input, result) => {
      roundTrip(parseServerMessage)(input, result);
      // Names end up on the customer's consent panel: no control character may get through.
      if (strings(result).some((s) => /[\u0000-\u001f\u007f-\u009f]/.test(s))) throw new Error('control character in a string field');
    },
  });
  assertReport(t, r, { minAccepted: 5000, minRejected: 50_000 });
});

t.test('parseNodeHello (node plane, after the cluster key)', async (t) => {
  const seeds = [
    { type: 'node-hello', role: 'agent', agent: { ...agent, verified: true }, remote: '127.0.0.1', relay: 'relay.example.org' },
    { type: 'node-hello', role: 'customer', agent: null, remote: '::1', relay: 'r' },
  ];
  const r = await fuzz({
    name: 'node hello',
    count: 100_000,
    seed: 0x5eed + 2,
    generate: generator(seeds),
    run: parseNodeHello,
    codes: ['RSO_ERR_PROTOCOL'],
    check: (_input, result) => {
      const h = result as ReturnType<typeof parseNodeHello>;
      if (h.role === 'agent' && h.agent === null) throw new Error('agent without identity');
      if (h.remote.length > 64 || h.relay.length > 256) throw new Error('oversized field accepted');
    },
  });
  assertReport(t, r, { minAccepted: 5000, minRejected: 50_000 });
});
