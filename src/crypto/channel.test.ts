import t from 'tap';
import { createCipheriv, randomBytes } from 'node:crypto';
import { FRAME_RECORD, FRAME_SHARE } from '../protocol/peer.js';
import { MAX_PEER_FRAME_BYTES, MAX_RECORD_PLAINTEXT } from '../protocol/version.js';
import { RecordChannel } from './channel.js';
import { startHandshake, stepHandshake, type ChannelKeys } from './handshake.js';

/** Keys from a real handshake between a customer and an agent. */
function handshakeKeys(): { customer: ChannelKeys; agent: ChannelKeys } {
  const sid = new Uint8Array(randomBytes(16));
  const c = startHandshake({ role: 'customer', secret: '913705', nameplate: '482', sid });
  const a = startHandshake({ role: 'agent', secret: '913705', nameplate: '482', sid });
  const c2 = stepHandshake(c.state, a.send[0]!);
  const a2 = stepHandshake(a.state, c.send[0]!);
  const cd = stepHandshake(c2.state, a2.send[0]!).done;
  const ad = stepHandshake(a2.state, c2.send[0]!).done;
  if (!cd || !ad) throw new Error('handshake did not finish');
  return { customer: cd.keys, agent: ad.keys };
}

function pair(): { customer: RecordChannel; agent: RecordChannel } {
  const keys = handshakeKeys();
  return { customer: new RecordChannel(keys.customer), agent: new RecordChannel(keys.agent) };
}

function data(opened: ReturnType<RecordChannel['open']>): Uint8Array {
  if (opened.type !== 'data') throw new Error(`expected data, got ${opened.type}`);
  return opened.data;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('round trip in both directions: empty, 1 byte, maximum size', async (t) => {
  const { customer, agent } = pair();
  const max = new Uint8Array(randomBytes(MAX_RECORD_PLAINTEXT));
  for (const payload of [new Uint8Array(0), Uint8Array.of(0x2a), max]) {
    const up = customer.seal(payload);
    t.equal(up[0], FRAME_RECORD);
    t.equal(up.length, 1 + 1 + payload.length + 16, 'header, content type, payload, tag');
    t.ok(up.length <= MAX_PEER_FRAME_BYTES);
    t.equal(hex(data(agent.open(up))), hex(payload), `customer -> agent, ${payload.length} bytes`);
    const down = agent.seal(payload);
    t.equal(hex(data(customer.open(down))), hex(payload), `agent -> customer, ${payload.length} bytes`);
  }
  t.notOk(customer.closed);
  t.notOk(agent.closed);
});

t.test('the ciphertext hides the payload and never repeats', async (t) => {
  const { customer } = pair();
  const payload = Buffer.from('the same message twice');
  const one = customer.seal(payload);
  const two = customer.seal(payload);
  t.not(hex(one), hex(two), 'the counter changes the nonce');
  t.notOk(Buffer.from(one).includes(payload), 'no plaintext on the wire');
});

t.test('the two directions use different keys', async (t) => {
  const { customer } = pair();
  const frame = customer.seal(Buffer.from('hello'));
  // The customer cannot open its own record: a record reflected by the relay is refused.
  t.throws(() => customer.open(frame), { code: 'RSO_ERR_TAMPERED' });
});

t.test('a tampered byte anywhere is detected', async (t) => {
  const payload = Buffer.from('0123456789abcdef');
  const length = customerFrameLength(payload.length);
  for (let i = 0; i < length; i++) {
    const { customer, agent } = pair();
    const frame = customer.seal(payload);
    frame[i]! ^= 0x01;
    // The header byte is checked before decryption (PROTOCOL), every other byte by the tag.
    const code = i === 0 ? 'RSO_ERR_PROTOCOL' : 'RSO_ERR_TAMPERED';
    t.throws(() => agent.open(frame), { code }, `byte ${i}`);
  }
});

function customerFrameLength(payload: number): number {
  return 1 + 1 + payload + 16;
}

t.test('a wrong key is detected', async (t) => {
  const one = pair();
  const two = pair();
  t.throws(() => two.agent.open(one.customer.seal(Buffer.from('x'))), { code: 'RSO_ERR_TAMPERED' });
});

t.test('a replayed record is detected', async (t) => {
  const { customer, agent } = pair();
  const frame = customer.seal(Buffer.from('pay 10'));
  t.equal(data(agent.open(frame)).length, 6);
  t.throws(() => agent.open(frame), { code: 'RSO_ERR_TAMPERED' });
});

t.test('swapped records are detected', async (t) => {
  const { customer, agent } = pair();
  const first = customer.seal(Buffer.from('first'));
  const second = customer.seal(Buffer.from('second'));
  t.throws(() => agent.open(second), { code: 'RSO_ERR_TAMPERED' });
  t.throws(() => agent.open(first), { code: 'RSO_ERR_TAMPERED' }, 'and the channel is dead');
});

t.test('a dropped record makes the next one fail', async (t) => {
  const { customer, agent } = pair();
  t.equal(Buffer.from(data(agent.open(customer.seal(Buffer.from('a'))))).toString(), 'a');
  customer.seal(Buffer.from('b')); // lost on the way
  t.throws(() => agent.open(customer.seal(Buffer.from('c'))), { code: 'RSO_ERR_TAMPERED' });
});

t.test('a truncated frame is detected', async (t) => {
  for (const cut of [1, 8, 16, 17]) {
    const { customer, agent } = pair();
    const frame = customer.seal(Buffer.from('a message long enough to cut'));
    t.throws(() => agent.open(frame.subarray(0, frame.length - cut)), { code: 'RSO_ERR_TAMPERED' }, `cut ${cut}`);
  }
  const { customer, agent } = pair();
  const frame = customer.seal(new Uint8Array(0));
  t.throws(() => agent.open(frame.subarray(0, frame.length - 1)), { code: 'RSO_ERR_PROTOCOL' }, 'shorter than any record');
});

t.test('malformed frames are PROTOCOL errors', async (t) => {
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['header only', Uint8Array.of(FRAME_RECORD)],
    ['a handshake frame', Uint8Array.of(FRAME_SHARE, ...new Uint8Array(40))],
    ['unknown kind', Uint8Array.of(0x7f, ...new Uint8Array(40))],
  ];
  for (const [what, frame] of cases) {
    const { agent } = pair();
    t.throws(() => agent.open(frame), { code: 'RSO_ERR_PROTOCOL' }, what);
  }
});

t.test('oversized: seal refuses more than MAX_RECORD_PLAINTEXT, open more than MAX_PEER_FRAME_BYTES', async (t) => {
  const { customer, agent } = pair();
  t.throws(() => customer.seal(new Uint8Array(MAX_RECORD_PLAINTEXT + 1)), { code: 'RSO_ERR_TOO_LARGE' });
  // A local mistake does not end the channel.
  t.equal(hex(data(agent.open(customer.seal(Uint8Array.of(1))))), '01');
  t.throws(() => agent.open(new Uint8Array(MAX_PEER_FRAME_BYTES + 1).fill(FRAME_RECORD, 0, 1)), { code: 'RSO_ERR_TOO_LARGE' });
  t.throws(() => agent.open(customer.seal(Uint8Array.of(2))), { code: 'RSO_ERR_TOO_LARGE' }, 'and the peer\'s stream is dead');
});

t.test('close round trip', async (t) => {
  const { customer, agent } = pair();
  const before = agent.seal(Buffer.from('in flight'));
  t.equal(data(agent.open(customer.seal(Buffer.from('last words')))).length, 10);
  const bye = customer.sealClose();
  t.equal(bye[0], FRAME_RECORD);
  t.ok(customer.closed);
  t.throws(() => customer.seal(Buffer.from('more')), { code: 'RSO_ERR_PROTOCOL' }, 'seal after sealClose');
  t.throws(() => customer.sealClose(), { code: 'RSO_ERR_PROTOCOL' }, 'a second close');
  t.equal(Buffer.from(data(customer.open(before))).toString(), 'in flight', 'records sent before our close still open');

  t.notOk(agent.closed);
  t.same(agent.open(bye), { type: 'close' });
  t.ok(agent.closed);
  t.throws(() => agent.seal(Buffer.from('reply')), { code: 'RSO_ERR_PROTOCOL' }, 'nothing is sent after the peer closed');
});

t.test('a record after the close is a PROTOCOL error', async (t) => {
  const keys = handshakeKeys();
  // A second sender with the same keys plays a peer that keeps talking after its close.
  const customer = new RecordChannel(keys.customer);
  const liar = new RecordChannel(keys.customer);
  const agent = new RecordChannel(keys.agent);
  t.same(agent.open(customer.sealClose()), { type: 'close' });
  liar.seal(Buffer.from('skip counter 0'));
  t.throws(() => agent.open(liar.seal(Buffer.from('after close'))), { code: 'RSO_ERR_PROTOCOL' });
});

t.test('a close record cannot be forged from data: the content type is inside the tag', async (t) => {
  const { customer, agent } = pair();
  const frame = customer.seal(new Uint8Array(0));
  // Flip the first ciphertext byte (the content type under the keystream) towards "close".
  frame[1]! ^= 0x01;
  t.throws(() => agent.open(frame), { code: 'RSO_ERR_TAMPERED' });
});

t.test('after a failure the channel stays dead, whatever comes next', async (t) => {
  const { customer, agent } = pair();
  const good = customer.seal(Buffer.from('good'));
  const bad = Uint8Array.from(good);
  bad[5]! ^= 0x80;
  t.throws(() => agent.open(bad), { code: 'RSO_ERR_TAMPERED' });
  t.ok(agent.closed);
  t.throws(() => agent.open(good), { code: 'RSO_ERR_TAMPERED' }, 'the genuine record no longer opens');
  t.throws(() => agent.open(new Uint8Array(0)), { code: 'RSO_ERR_TAMPERED' }, 'not even a PROTOCOL error any more');
  t.throws(() => agent.seal(Buffer.from('x')), { code: 'RSO_ERR_TAMPERED' });
  t.throws(() => agent.sealClose(), { code: 'RSO_ERR_TAMPERED' });
});

t.test('the channel owns copies of its keys', async (t) => {
  const keys = handshakeKeys();
  const customer = new RecordChannel(keys.customer);
  const agent = new RecordChannel(keys.agent);
  const saved = Uint8Array.from(keys.customer.send);
  keys.customer.send.fill(0); // the caller wipes its copy after building the channel
  t.equal(Buffer.from(data(agent.open(customer.seal(Buffer.from('ok'))))).toString(), 'ok');
  t.throws(() => agent.open(new Uint8Array(0)));
  t.equal(hex(keys.agent.receive), hex(saved), 'a failing channel does not wipe the caller\'s arrays');
  t.throws(() => new RecordChannel({ send: new Uint8Array(16), receive: new Uint8Array(32) }), { code: 'RSO_ERR_INTERNAL' });
});

t.test('the nonce is 4 zero bytes || the 64-bit big-endian counter (RFC 8439 layout)', async (t) => {
  const { createDecipheriv } = await import('node:crypto');
  const keys = handshakeKeys();
  const customer = new RecordChannel(keys.customer);
  customer.seal(Buffer.from('zero'));
  const frame = customer.seal(Buffer.from('one'));
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64BE(1n, 4);
  const d = createDecipheriv('chacha20-poly1305', keys.customer.send, iv, { authTagLength: 16 });
  d.setAAD(Uint8Array.of(FRAME_RECORD), { plaintextLength: frame.length - 17 });
  d.setAuthTag(frame.subarray(frame.length - 16));
  const inner = Buffer.concat([d.update(frame.subarray(1, frame.length - 16)), d.final()]);
  t.equal(inner.toString('hex'), '00' + Buffer.from('one').toString('hex'), 'content type 0, then the payload');
});

/** A record with any inner plaintext (content type included), sealed the way channel.ts seals, at counter 0. */
function rawRecord(key: Uint8Array, inner: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  c.setAAD(Uint8Array.of(FRAME_RECORD), { plaintextLength: inner.length });
  return Buffer.concat([Uint8Array.of(FRAME_RECORD), c.update(inner), c.final(), c.getAuthTag()]);
}

t.test('heartbeat: an empty record of content type 2, in the counter sequence like any other', async (t) => {
  const { customer, agent } = pair();
  const hb = customer.sealHeartbeat();
  t.equal(hb.length, 1 + 1 + 16, 'header, content type, tag: no payload');
  t.same(agent.open(hb), { type: 'heartbeat' });
  t.equal(Buffer.from(data(agent.open(customer.seal(Buffer.from('after'))))).toString(), 'after', 'the next record still opens');
  t.notOk(agent.closed, 'a heartbeat is not a close');
  t.throws(() => agent.open(hb), { code: 'RSO_ERR_TAMPERED' }, 'a replayed heartbeat is detected like any replay');
  const fresh = pair();
  fresh.customer.seal(Buffer.from('x'));
  t.throws(() => fresh.agent.open(fresh.customer.sealHeartbeat()), { code: 'RSO_ERR_TAMPERED' }, 'a heartbeat that skipped a record is detected');
  fresh.customer.sealClose();
  t.throws(() => fresh.customer.sealHeartbeat(), { code: 'RSO_ERR_PROTOCOL' }, 'no heartbeat after our close');
});

t.test('a heartbeat with a payload, or an unknown content type, is a PROTOCOL error', async (t) => {
  for (const inner of [Uint8Array.of(2, 0), Uint8Array.of(2, 1, 2, 3), Uint8Array.of(3), Uint8Array.of(1, 0)]) {
    const keys = handshakeKeys();
    const agent = new RecordChannel(keys.agent);
    t.throws(() => agent.open(rawRecord(keys.customer.send, inner)), { code: 'RSO_ERR_PROTOCOL' }, `inner ${hex(inner)}`);
    t.ok(agent.closed);
  }
  const keys = handshakeKeys();
  t.same(new RecordChannel(keys.agent).open(rawRecord(keys.customer.send, Uint8Array.of(2))), { type: 'heartbeat' }, 'the raw sealer agrees with channel.ts');
});
