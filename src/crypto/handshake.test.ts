import t from 'tap';
import { hkdfSync } from 'node:crypto';
import { FRAME_CONFIRM, FRAME_RECORD, FRAME_SHARE } from '../protocol/peer.js';
import type { Role } from '../protocol/relay.js';
import { calculateGenerator, iskIr, lvCat, scalarMult, scalarMultVfy } from './cpace.js';
import { startHandshake, stepHandshake, type HandshakeOptions, type HandshakeResult, type HandshakeState } from './handshake.js';

const SID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const base = { secret: '913705', nameplate: '482', sid: SID };

interface Side {
  state: HandshakeState;
  share: Uint8Array;
}

function start(role: Role, over: Partial<HandshakeOptions> = {}): Side {
  const { state, send } = startHandshake({ ...base, role, ...over });
  if (send.length !== 1) throw new Error(`start sent ${send.length} frames`);
  return { state, share: send[0]! };
}

/** Run both sides to the end; returns each side's outcome (result or thrown error). */
function run(customerOpts: Partial<HandshakeOptions> = {}, agentOpts: Partial<HandshakeOptions> = {}) {
  const c = start('customer', customerOpts);
  const a = start('agent', agentOpts);
  const c2 = stepHandshake(c.state, a.share);
  const a2 = stepHandshake(a.state, c.share);
  const outcome = (state: HandshakeState, frame: Uint8Array): HandshakeResult | Error => {
    try {
      const out = stepHandshake(state, frame);
      if (out.done === undefined) throw new Error('not done after the confirmation');
      return out.done;
    } catch (err) {
      return err as Error;
    }
  };
  return { customer: outcome(c2.state, a2.send[0]!), agent: outcome(a2.state, c2.send[0]!) };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('both roles agree: crossed keys and the same code', async (t) => {
  const { customer, agent } = run();
  if (customer instanceof Error || agent instanceof Error) throw customer instanceof Error ? customer : agent;
  t.equal(customer.keys.send.length, 32);
  t.equal(customer.keys.receive.length, 32);
  t.equal(hex(customer.keys.send), hex(agent.keys.receive), 'customer->agent');
  t.equal(hex(customer.keys.receive), hex(agent.keys.send), 'agent->customer');
  t.not(hex(customer.keys.send), hex(customer.keys.receive), 'one key per direction');
  t.match(customer.verificationCode, /^[0-9]{4}$/);
  t.equal(customer.verificationCode, agent.verificationCode);
});

t.test('fresh scalars give fresh keys; fixed scalars give the same keys', async (t) => {
  const one = run();
  const two = run();
  if (one.customer instanceof Error || two.customer instanceof Error) throw new Error('handshake failed');
  t.not(hex(one.customer.keys.send), hex(two.customer.keys.send));

  const fixed = (byte: number) => () => new Uint8Array(32).fill(byte).fill(0, 31);
  const three = run({ randomScalar: fixed(7) }, { randomScalar: fixed(9) });
  const four = run({ randomScalar: fixed(7) }, { randomScalar: fixed(9) });
  if (three.customer instanceof Error || four.customer instanceof Error) throw new Error('handshake failed');
  t.equal(hex(three.customer.keys.send), hex(four.customer.keys.send));
  t.equal(three.customer.verificationCode, four.customer.verificationCode);
});

t.test('the share frame is [FRAME_SHARE] || Y || role label', async (t) => {
  const c = start('customer');
  const a = start('agent');
  t.equal(c.share[0], FRAME_SHARE);
  t.equal(c.share.length, 1 + 32 + 'rso customer'.length);
  t.equal(Buffer.from(c.share.subarray(33)).toString(), 'rso customer');
  t.equal(Buffer.from(a.share.subarray(33)).toString(), 'rso agent');
  const c2 = stepHandshake(c.state, a.share);
  t.equal(c2.send.length, 1);
  t.equal(c2.send[0]![0], FRAME_CONFIRM);
  t.equal(c2.send[0]!.length, 65);
  t.equal(c2.done, undefined, 'not done before the peer confirms');
});

for (const [what, customer, agent] of [
  ['a different secret', { secret: '913705' }, { secret: '913706' }],
  ['a different nameplate', { nameplate: '482' }, { nameplate: '483' }],
  ['a different sid', { sid: SID }, { sid: Uint8Array.from(SID).fill(0, 15) }],
] as const) {
  t.test(`${what}: both sides throw WRONG_CODE`, async (t) => {
    const out = run(customer, agent);
    for (const side of [out.customer, out.agent]) {
      t.ok(side instanceof Error);
      t.match(side, { code: 'RSO_ERR_WRONG_CODE', message: /did not match on both sides/ });
    }
  });
}

t.test('the key schedule: CPace ISK (customer first) -> HKDF-SHA-512 with rso/1 labels', async (t) => {
  // Recomputed here from the primitives, so a change to the order, a label or the salt (which
  // would silently stop two releases from talking) fails this test.
  const yc = new Uint8Array(32).fill(5).fill(0, 31);
  const ya = new Uint8Array(32).fill(6).fill(0, 31);
  const out = run({ randomScalar: () => yc }, { randomScalar: () => ya });
  if (out.customer instanceof Error || out.agent instanceof Error) throw new Error('handshake failed');
  const ci = lvCat(Buffer.from('rso/1'), Buffer.from('482'), Buffer.from('customer'), Buffer.from('agent'));
  const g = calculateGenerator(Buffer.from('913705'), ci, SID);
  const Yc = scalarMult(yc, g);
  const Ya = scalarMult(ya, g);
  const isk = iskIr(SID, scalarMultVfy(yc, Ya), Yc, Buffer.from('rso customer'), Ya, Buffer.from('rso agent'));
  const kdf = (label: string, n: number) => hex(new Uint8Array(hkdfSync('sha512', isk, SID, Buffer.from(`rso/1 ${label}`), n)));
  t.equal(hex(out.customer.keys.send), kdf('key customer->agent', 32));
  t.equal(hex(out.customer.keys.receive), kdf('key agent->customer', 32));
  const code = Buffer.from(kdf('verification code', 4), 'hex').readUInt32BE(0) % 10000;
  t.equal(out.customer.verificationCode, String(code).padStart(4, '0'));
});

t.test('verification codes use all four digits', async (t) => {
  const codes = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const out = run();
    if (out.customer instanceof Error) throw out.customer;
    codes.add(out.customer.verificationCode);
  }
  t.ok(codes.size > 35, 'codes vary between sessions');
  t.ok([...codes].some((c) => c[0] !== '0'), 'a leading digit other than 0 occurs');
});

t.test('a reflected share is refused', async (t) => {
  const c = start('customer');
  t.throws(() => stepHandshake(c.state, c.share), { code: 'RSO_ERR_PROTOCOL' });
  const a = start('agent');
  t.throws(() => stepHandshake(a.state, a.share), { code: 'RSO_ERR_PROTOCOL' });
});

t.test('our own share with the peer\'s label is refused', async (t) => {
  const c = start('customer');
  const a = start('agent');
  const forged = Uint8Array.from(a.share);
  forged.set(c.share.subarray(1, 33), 1);
  t.throws(() => stepHandshake(c.state, forged), { code: 'RSO_ERR_PROTOCOL' });
});

t.test('a reflected confirmation fails (tags differ by role)', async (t) => {
  for (const role of ['customer', 'agent'] as const) {
    const me = start(role);
    const peer = start(role === 'customer' ? 'agent' : 'customer');
    const mine = stepHandshake(me.state, peer.share);
    t.throws(() => stepHandshake(mine.state, mine.send[0]!), { code: 'RSO_ERR_WRONG_CODE' }, role);
  }
});

t.test('a tampered confirmation fails', async (t) => {
  const c = start('customer');
  const a = start('agent');
  const c2 = stepHandshake(c.state, a.share);
  const a2 = stepHandshake(a.state, c.share);
  const bad = Uint8Array.from(a2.send[0]!);
  bad[40]! ^= 1;
  t.throws(() => stepHandshake(c2.state, bad), { code: 'RSO_ERR_WRONG_CODE' });
});

t.test('out-of-order frames are PROTOCOL errors', async (t) => {
  const c = start('customer');
  const a = start('agent');
  const a2 = stepHandshake(a.state, c.share);
  t.throws(() => stepHandshake(c.state, a2.send[0]!), { code: 'RSO_ERR_PROTOCOL', detail: /confirmation before the share/ }, 'confirm before share');

  const c1 = start('customer');
  const c2 = stepHandshake(c1.state, a.share);
  t.throws(() => stepHandshake(c2.state, a.share), { code: 'RSO_ERR_PROTOCOL', detail: /second share/ }, 'second share');

  const finished = () => {
    const a3 = start('agent');
    const c3 = start('customer');
    const c4 = stepHandshake(c3.state, a3.share);
    const a4 = stepHandshake(a3.state, c3.share);
    const done = stepHandshake(c4.state, a4.send[0]!);
    t.ok(done.done);
    t.equal(done.state.name, 'S3_confirmed');
    return { done, share: a3.share, confirm: a4.send[0]! };
  };
  for (const pick of ['share', 'confirm', 'record'] as const) {
    const { done, share, confirm } = finished();
    const frame = pick === 'share' ? share : pick === 'confirm' ? confirm : Uint8Array.of(FRAME_RECORD, 1, 2, 3);
    t.throws(() => stepHandshake(done.state, frame), { code: 'RSO_ERR_PROTOCOL', detail: /after the handshake finished/ }, `${pick} after done`);
  }
});

t.test('malformed frames are PROTOCOL errors', async (t) => {
  const a = start('agent');
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['unknown kind', Uint8Array.of(0x7f, ...a.share.subarray(1))],
    ['record kind', Uint8Array.of(FRAME_RECORD, ...a.share.subarray(1))],
    ['share one byte short', a.share.subarray(0, a.share.length - 1)],
    ['share one byte long', Uint8Array.of(...a.share, 0)],
    ['share with another label', Uint8Array.of(...a.share.subarray(0, 33), ...Buffer.from('rso agenT'))],
  ];
  for (const [what, frame] of cases) {
    const c = start('customer');
    t.throws(() => stepHandshake(c.state, frame), { code: 'RSO_ERR_PROTOCOL' }, what);
  }
  const c = start('customer');
  const c2 = stepHandshake(c.state, a.share);
  const a2 = stepHandshake(a.state, c.share);
  for (const [what, frame] of [
    ['confirm short', a2.send[0]!.subarray(0, 64)],
    ['confirm long', Uint8Array.of(...a2.send[0]!, 0)],
  ] as const) {
    const again = start('customer');
    const s = stepHandshake(again.state, start('agent').share);
    t.throws(() => stepHandshake(s.state, frame), { code: 'RSO_ERR_PROTOCOL' }, what);
  }
  t.ok(stepHandshake(c2.state, a2.send[0]!).done, 'the intact confirmation still works on a fresh pair');
});

t.test('an identity or undecodable share is a PROTOCOL error', async (t) => {
  for (const [what, y] of [
    ['identity', new Uint8Array(32)],
    ['not an encoding', Buffer.from('2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c', 'hex')],
  ] as const) {
    const c = start('customer');
    const share = Uint8Array.of(FRAME_SHARE, ...y, ...Buffer.from('rso agent'));
    t.throws(() => stepHandshake(c.state, share), { code: 'RSO_ERR_PROTOCOL', message: /invalid key share/ }, what);
  }
});

t.test('a state is used once; its secrets are wiped after use', async (t) => {
  const c = start('customer');
  const a = start('agent');
  const y = (c.state as Extract<HandshakeState, { name: 'S1_know_secret' }>).y;
  t.ok(y.some((b) => b !== 0));
  const c2 = stepHandshake(c.state, a.share);
  t.ok(y.every((b) => b === 0), 'scalar wiped');
  t.throws(() => stepHandshake(c.state, a.share), { code: 'RSO_ERR_INTERNAL', detail: /stepped twice/ }, 'stepping a spent state');

  const a2 = stepHandshake(a.state, c.share);
  const known = c2.state as Extract<HandshakeState, { name: 'S2_know_key' }>;
  const done = stepHandshake(known, a2.send[0]!).done!;
  t.ok(known.keys.send.every((b) => b === 0) && known.peerTag.every((b) => b === 0), 'state keys and tag wiped');
  t.ok(done.keys.send.some((b) => b !== 0), 'the result keeps its own copy');
  // With a wiped expected tag a second confirmation could only fail, but it must fail loudly as
  // a caller bug, not look like a wrong number typed by a person.
  t.throws(() => stepHandshake(known, a2.send[0]!), { code: 'RSO_ERR_INTERNAL', detail: /stepped twice/ });

  const failing = start('customer');
  t.throws(() => stepHandshake(failing.state, new Uint8Array(0)));
  t.ok((failing.state as Extract<HandshakeState, { name: 'S1_know_secret' }>).y.every((b) => b === 0), 'wiped after a failure too');
});

t.test('bad options are refused without echoing the secret', async (t) => {
  for (const over of [{ secret: '91370' }, { secret: '9137055' }, { secret: '91370x' }, { nameplate: '48' }, { sid: new Uint8Array(15) }]) {
    try {
      startHandshake({ ...base, role: 'customer', ...over });
      t.fail('accepted');
    } catch (err) {
      t.match(err, { code: 'RSO_ERR_INTERNAL' });
      t.notOk(`${(err as Error).message} ${String((err as { detail?: string }).detail)}`.includes('9137'), 'no secret digits');
    }
  }
  t.throws(() => startHandshake({ ...base, role: 'customer', randomScalar: () => new Uint8Array(32) }), { code: 'RSO_ERR_INTERNAL' });
});

t.test('resume material: the same on both sides, a public id unrelated to the secret, fresh per handshake', async (t) => {
  const { customer, agent } = run();
  if (customer instanceof Error || agent instanceof Error) throw new Error('handshake failed');
  t.equal(customer.resume.secret.length, 32);
  t.match(customer.resume.id, /^[0-9a-f]{32}$/);
  t.equal(hex(customer.resume.secret), hex(agent.resume.secret), 'both sides hold the same resume secret');
  t.equal(customer.resume.id, agent.resume.id, 'and the same id');
  t.notOk(hex(customer.resume.secret).includes(customer.resume.id), 'the id is not a part of the secret');
  t.not(hex(customer.resume.secret), hex(customer.keys.send));
  t.not(hex(customer.resume.secret), hex(customer.keys.receive));
  const again = run();
  if (again.customer instanceof Error) throw again.customer;
  t.not(again.customer.resume.id, customer.resume.id, 'a new handshake (new scalars) gives a new id');
});

t.test('a resume handshake: PRS = the resume secret; the right secret keys, a guessed one fails confirmation', async (t) => {
  const first = run();
  if (first.customer instanceof Error || first.agent instanceof Error) throw new Error('handshake failed');
  const sid2 = Uint8Array.from({ length: 16 }, (_, i) => 100 + i);
  const resumed = run({ secret: first.customer.resume.secret, sid: sid2 }, { secret: first.agent.resume.secret, sid: sid2 });
  if (resumed.customer instanceof Error || resumed.agent instanceof Error) throw new Error('resume failed');
  t.equal(hex(resumed.customer.keys.send), hex(resumed.agent.keys.receive), 'fresh keys agree');
  t.not(hex(resumed.customer.keys.send), hex(first.customer.keys.send), 'and differ from the old ones');
  t.not(resumed.customer.resume.id, first.customer.resume.id, 'a fresh resume id for the next time');
  t.not(hex(resumed.customer.resume.secret), hex(first.customer.resume.secret), 'and a fresh resume secret');
  // A relay that guesses: any other 32 bytes, or the 6 digits, fail key confirmation on both sides.
  for (const guess of [new Uint8Array(32), Uint8Array.from(first.customer.resume.secret, (b, i) => (i === 0 ? b ^ 1 : b)), '913705']) {
    const out = run({ secret: first.customer.resume.secret, sid: sid2 }, { secret: guess, sid: sid2 });
    t.match(out.customer, { code: 'RSO_ERR_WRONG_CODE' }, 'the customer sees the wrong secret');
    t.match(out.agent, { code: 'RSO_ERR_WRONG_CODE' }, 'so does the other side');
  }
  t.throws(() => startHandshake({ ...base, role: 'customer', secret: new Uint8Array(31) }), { code: 'RSO_ERR_INTERNAL' }, 'a resume secret is 32 bytes');
});
