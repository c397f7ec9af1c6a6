// The relay is blind: with a recording TCP proxy between each client and a real relay, a
// marker sent both ways (alone and inside a large payload) never appears in the bytes on the
// wire, in either direction, nor in the relay's logs; neither do the six secret digits.
// WebSocket frames from a client are masked, so the recorded streams are decoded (unmasked)
// before searching: a plaintext leak cannot hide behind the mask.
import t from 'tap';
import { formatSessionNumber } from '../src/crypto/code.js';
import { Collector, pairSessions, randomBytesWith, recordingProxy, relayWithAgent } from './helpers/client-pairing.js';

interface WsFrame {
  opcode: number;
  rsv1: boolean;
  payload: Buffer;
}

/** Decodes one direction of a recorded WebSocket connection: HTTP head, then frames. */
function decodeWs(stream: Buffer): { head: string; frames: WsFrame[] } {
  const end = stream.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('no HTTP head in the recording');
  const frames: WsFrame[] = [];
  let pos = end + 4;
  while (pos + 2 <= stream.length) {
    const b0 = stream[pos] as number;
    const b1 = stream[pos + 1] as number;
    let len = b1 & 0x7f;
    let at = pos + 2;
    if (len === 126) {
      len = stream.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(stream.readBigUInt64BE(at));
      at += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const mask = masked ? stream.subarray(at, at + 4) : undefined;
    if (masked) at += 4;
    if (at + len > stream.length) break; // cut off at the end of the recording
    const payload = Buffer.from(stream.subarray(at, at + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
    frames.push({ opcode: b0 & 0x0f, rsv1: (b0 & 0x40) !== 0, payload });
    pos = at + len;
  }
  return { head: stream.subarray(0, end).toString('latin1'), frames };
}

const MARKER = Buffer.from('RSO-BLIND-MARKER-5b1e0c7d');
const LARGE = 600_000;

t.test('neither the payload nor the secret digits cross the relay in the clear', async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const agentProxy = await recordingProxy(relay.port);
  const customerProxy = await recordingProxy(relay.port);
  t.teardown(() => agentProxy.close());
  t.teardown(() => customerProxy.close());

  const p = await pairSessions({ openerUrl: customerProxy.url, joinerUrl: agentProxy.url, openerRole: 'customer', token: relay.token });
  const secret = p.number.secret;
  const agentIn = new Collector(p.agent);
  const customerIn = new Collector(p.customer);
  const big = randomBytesWith(LARGE, MARKER, 4096);
  await p.customer.send(MARKER);
  await p.customer.send(big);
  await p.agent.send(MARKER);
  await p.agent.send(big);
  const [a1, a2] = await agentIn.waitMessages(2);
  const [c1, c2] = await customerIn.waitMessages(2);
  t.ok(Buffer.from(a1 as Uint8Array).equals(MARKER) && Buffer.from(a2 as Uint8Array).equals(big), 'the agent got both, intact');
  t.ok(Buffer.from(c1 as Uint8Array).equals(MARKER) && Buffer.from(c2 as Uint8Array).equals(big), 'the customer got both, intact');
  await p.customer.close();
  await agentIn.waitClose();
  await new Promise((r) => setTimeout(r, 300)); // let the relay write its 'ended' line

  const secretTexts = [secret, `${secret.slice(0, 3)} ${secret.slice(3)}`, formatSessionNumber(p.number), `${p.number.nameplate}${secret}`];
  const streams: Array<[string, Buffer]> = [];
  for (const [who, proxy] of [['agent', agentProxy], ['customer', customerProxy]] as const) {
    t.equal(proxy.connections.length, 1, `${who}: one connection through the proxy`);
    streams.push([`${who} -> relay`, proxy.up()], [`relay -> ${who}`, proxy.down()]);
  }

  for (const [name, raw] of streams) {
    const { head, frames } = decodeWs(raw);
    const payloads = Buffer.concat(frames.map((f) => f.payload));
    const texts = frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
    const binaryBytes = frames.filter((f) => f.opcode === 2).reduce((n, f) => n + f.payload.length, 0);
    // The decoder must really see the traffic, or the searches below would prove nothing.
    t.match(head, /^(GET|HTTP\/1\.1 101)/, `${name}: WebSocket upgrade recorded`);
    t.ok(frames.every((f) => !f.rsv1), `${name}: no compressed frames`);
    const expected = name.endsWith('-> relay') ? '"type":"hello"' : '"type":"welcome"';
    t.ok(texts.some((x) => x.includes(expected)), `${name}: the relay plane is readable (${expected})`);
    // The public nameplate: in the customer's `opened` and in the agent's `join`.
    if (name === 'relay -> customer' || name === 'agent -> relay') {
      t.ok(texts.some((x) => x.includes(`"${p.number.nameplate}"`)), `${name}: the nameplate is visible`);
    }
    t.ok(binaryBytes >= LARGE, `${name}: the large payload went through (${binaryBytes} binary bytes)`);

    for (const hay of [raw, payloads]) {
      t.equal(hay.indexOf(MARKER), -1, `${name}: marker not on the wire`);
      for (const s of secretTexts) t.equal(hay.indexOf(s), -1, `${name}: secret digits not on the wire`);
    }
    for (const x of texts) for (const s of secretTexts) t.notMatch(x, s, `${name}: no secret in ${x.slice(0, 40)}`);
  }

  const logs = relay.logs.join('\n');
  t.ok(logs.includes(p.number.nameplate) && logs.includes('"ended"'), 'the relay logged this session');
  t.notMatch(logs, MARKER.toString());
  // A whole-number match: a secret's digits as part of a longer figure would not reveal it.
  for (const s of secretTexts) t.notMatch(logs, new RegExp(`(?<![0-9])${s}(?![0-9])`), 'no secret digits in the relay logs');
});
