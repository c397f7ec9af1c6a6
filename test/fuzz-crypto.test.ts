// Fuzz of the peer plane as the relay (or anyone on the path) can shape it: handshake frames
// (stepHandshake) and AEAD records (RecordChannel.open), plus the session number as a person
// types it (parseSessionNumber). Beyond "only documented errors", each has a security property:
// a record that differs from what was sealed never opens, a confirmation that differs from the
// peer's never confirms, and a refused session number never has its digits in the error.
import t from 'tap';
import { RecordChannel } from '../src/crypto/channel.js';
import { parseSessionNumber } from '../src/crypto/code.js';
import { startHandshake, stepHandshake, type HandshakeState, type KnowKeyState, type KnowSecretState } from '../src/crypto/handshake.js';
import { FRAME_CONFIRM, FRAME_RECORD, FRAME_SHARE } from '../src/protocol/peer.js';
import { RsoError } from '../src/errors.js';
import { assertReport, concatBytes, fuzz, mutateBytes, randomString, type Rng } from './helpers/fuzz.js';

const keys = { send: new Uint8Array(32).fill(1), receive: new Uint8Array(32).fill(2) };
const peerKeys = { send: keys.receive, receive: keys.send };

t.test('RecordChannel.open: mutated records never open, and fail with their code', async (t) => {
  // The peer seals records 0..n; the fuzz opens record 0 (fresh channel each time, since any
  // failure kills a channel) after mutation.
  const sender = new RecordChannel(peerKeys);
  const sizes = [0, 1, 16, 200, 1500];
  const sealed = sizes.map((n) => sender.seal(new Uint8Array(n).fill(0x41)));
  const first = sealed[0]!;
  // Record 0 of each content type: data, close, heartbeat.
  const corpus = [first, new RecordChannel(peerKeys).sealClose(), new RecordChannel(peerKeys).sealHeartbeat(), ...sealed.slice(1)];
  let opened = 0;
  const r = await fuzz({
    name: 'record channel',
    count: 100_000,
    seed: 0xc4a1,
    generate: (rng: Rng) => (rng.int(20) === 0 ? first : rng.int(50) === 0 ? new Uint8Array(1024 * 1024 + 1025) : mutateBytes(rng, rng.pick(corpus), corpus)),
    run: (frame) => new RecordChannel(keys).open(frame),
    codes: ['RSO_ERR_TAMPERED', 'RSO_ERR_PROTOCOL', 'RSO_ERR_TOO_LARGE'],
    check: (frame, result) => {
      opened++;
      // Only record 0 exactly as sealed (data), or the close or heartbeat record sealed at counter 0, may open.
      const same = (a: Uint8Array): boolean => a.length === frame.length && a.every((b, i) => b === frame[i]);
      if (!same(first) && !same(corpus[1]!) && !same(corpus[2]!)) throw new Error(`a modified record opened as ${(result as { type: string }).type}`);
    },
  });
  assertReport(t, r, { minAccepted: 1000, minRejected: 80_000 });
  t.ok(opened > 0 && (r.rejected.RSO_ERR_TAMPERED ?? 0) > 50_000, 'valid records open, tampered ones fail as RSO_ERR_TAMPERED');
});

t.test('RecordChannel: after one bad record every later call fails, even with good records', async (t) => {
  const sender = new RecordChannel(peerKeys);
  const a = sender.seal(Uint8Array.of(1));
  const b = sender.seal(Uint8Array.of(2));
  const rx = new RecordChannel(keys);
  const bad = a.slice();
  bad[3]! ^= 1;
  t.throws(() => rx.open(bad), { code: 'RSO_ERR_TAMPERED' });
  t.throws(() => rx.open(a), { code: 'RSO_ERR_TAMPERED' }, 'the original record no longer opens: the channel is dead');
  t.throws(() => rx.open(b), { code: 'RSO_ERR_TAMPERED' });
});

/** A fresh S1 state from a template: stepping wipes a state, and CPace setup costs a scalar multiplication. */
function s1From(template: KnowSecretState): HandshakeState {
  return { ...template, y: template.y.slice(), sid: template.sid.slice(), myShare: template.myShare.slice() };
}

function s2From(template: KnowKeyState): HandshakeState {
  return { ...template, peerTag: template.peerTag.slice(), keys: { send: template.keys.send.slice(), receive: template.keys.receive.slice() } };
}

t.test('stepHandshake: mutated shares and confirmations', async (t) => {
  const sid = new Uint8Array(16).fill(9);
  const scalar = (b: number) => (): Uint8Array => {
    const s = new Uint8Array(32).fill(b);
    s[31] = 0; // below the group order
    return s;
  };
  const customer = startHandshake({ role: 'customer', secret: '123456', nameplate: '482', sid, randomScalar: scalar(3) });
  const agent = startHandshake({ role: 'agent', secret: '123456', nameplate: '482', sid, randomScalar: scalar(5) });
  const agentShare = agent.send[0]!;
  const customerShare = customer.send[0]!;
  const cTemplate = customer.state as KnowSecretState;
  const afterShare = stepHandshake(s1From(cTemplate), agentShare);
  const agentAfter = stepHandshake(agent.state, customerShare);
  const agentConfirm = agentAfter.send[0]!;
  const s2Template = afterShare.state as KnowKeyState;
  t.ok(stepHandshake(s2From(s2Template), agentConfirm).done, 'the template handshake confirms');

  const shareCorpus = [agentShare, customerShare, concatBytes(Uint8Array.of(FRAME_SHARE), new Uint8Array(32), agentShare.subarray(33))];
  const confirmCorpus = [agentConfirm, afterShare.send[0]!];
  let sharesThatKeyed = 0;
  const r = await fuzz({
    name: 'handshake',
    count: 100_000,
    seed: 0x4a5d,
    generate: (rng: Rng) => {
      // Most inputs are confirmations (cheap); a share that keeps its length and role costs a
      // ristretto255 decode and scalar multiplication (~1 ms), so shares are a smaller share.
      const share = rng.int(10) < 3;
      const corpus = share ? shareCorpus : confirmCorpus;
      let frame = rng.int(30) === 0 ? rng.pick(corpus) : mutateBytes(rng, rng.pick(corpus), corpus);
      if (rng.int(4) === 0 && frame.length > 0) frame = concatBytes(Uint8Array.of(rng.pick([FRAME_SHARE, FRAME_CONFIRM, FRAME_RECORD, 0, 0xff])), frame.subarray(1));
      return { state: share ? 1 : 2, frame };
    },
    run: ({ state, frame }) => stepHandshake(state === 1 ? s1From(cTemplate) : s2From(s2Template), frame),
    codes: ['RSO_ERR_PROTOCOL', 'RSO_ERR_WRONG_CODE'],
    check: ({ state, frame }, result) => {
      const step = result as ReturnType<typeof stepHandshake>;
      if (state === 1) {
        sharesThatKeyed++;
        return; // any valid point is a share: the confirmation is what decides
      }
      const same = frame.length === agentConfirm.length && frame.every((b, i) => b === agentConfirm[i]);
      if (!same || step.done === undefined) throw new Error('a confirmation other than the peer\'s was accepted');
    },
  });
  assertReport(t, r, { minAccepted: 1000, minRejected: 50_000 });
  t.ok((r.rejected.RSO_ERR_WRONG_CODE ?? 0) > 1000, 'a wrong tag of the right size is RSO_ERR_WRONG_CODE');
  t.ok(sharesThatKeyed > 0, 'some mutated shares are valid points (and then only the confirmation decides)');
});

t.test('parseSessionNumber: typed numbers, never echoed in an error', async (t) => {
  const seps = [' ', '-', '  ', '\t', '\u00a0', '\u3000', '—', '.', '_', '/', '\n'];
  const r = await fuzz({
    name: 'session number',
    count: 100_000,
    seed: 0x5e55,
    generate: (rng: Rng) => {
      const digits = Array.from({ length: rng.range(0, 16) }, () => String(rng.int(10)));
      let s = '';
      for (const d of digits) {
        s += rng.int(8) === 0 ? rng.pick(seps) : '';
        // Full-width, Arabic-Indic and mathematical digits, as input methods type them.
        s += rng.int(10) === 0 ? rng.pick([String.fromCharCode(0xff10 + Number(d)), String.fromCharCode(0x660 + Number(d)), String.fromCodePoint(0x1d7ce + Number(d))]) : d;
      }
      if (rng.int(5) === 0) s = s.slice(0, rng.int(s.length + 1)) + randomString(rng, rng.range(1, 4)) + s.slice(rng.int(s.length + 1));
      if (rng.int(200) === 0) s = '1'.repeat(rng.pick([1000, 100_000]));
      return s;
    },
    run: parseSessionNumber,
    codes: ['RSO_ERR_BAD_NUMBER'],
    check: (_input, result) => {
      const n = result as ReturnType<typeof parseSessionNumber>;
      if (!/^[0-9]{3,6}$/.test(n.nameplate) || !/^[0-9]{6}$/.test(n.secret)) throw new Error('accepted a number of the wrong shape');
    },
  });
  assertReport(t, r, { minAccepted: 5000, minRejected: 50_000 });
  // The privacy property, checked on every refused input of a second run.
  const leaks: string[] = [];
  await fuzz({
    name: 'session number errors',
    count: 20_000,
    seed: 0x5e56,
    generate: (rng: Rng) => Array.from({ length: rng.range(6, 14) }, () => String(rng.int(10))).join('') + (rng.chance(0.5) ? randomString(rng, 1) : ''),
    run: (s) => {
      try {
        return parseSessionNumber(s);
      } catch (err) {
        const e = err as RsoError;
        // Any three consecutive digits of the input, in the text once JSON escapes (\u0015) are taken out.
        const digits = s.replace(/[^0-9]/g, '');
        const said = `${e.message} ${e.detail ?? ''}`.replace(/\\u[0-9a-fA-F]{4}/g, '');
        for (let i = 0; i + 3 <= digits.length; i++) if (said.includes(digits.slice(i, i + 3))) leaks.push(said);
        throw err;
      }
    },
    codes: ['RSO_ERR_BAD_NUMBER'],
  });
  t.same(leaks.slice(0, 3), [], 'no refused number has three of its digits in the message or detail');
});
