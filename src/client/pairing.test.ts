// The client pairing machine, driven in memory: two machines run the real handshake against
// each other while the test plays the relay, message by message.
import t from 'tap';
import { RsoError } from '../errors.js';
import type { SessionNumber } from '../crypto/code.js';
import type { Role, ServerMessage } from '../protocol/relay.js';
import { FRAME_RECORD } from '../protocol/peer.js';
import { MAX_ATTEMPTS, initialJoinState, initialOpenState, step, type PairingEffect, type PairingState } from './pairing.js';

const SID = Buffer.alloc(16, 7).toString('base64url');
const SID2 = Buffer.alloc(16, 9).toString('base64url');

function paired(role: Role, sid = SID): ServerMessage {
  return role === 'agent'
    ? { type: 'paired', sid, peer: { role: 'agent', agent: { id: 'anna', name: 'Anna Schmidt', org: 'ACME Support', verified: true } } }
    : { type: 'paired', sid, peer: { role: 'customer' } };
}

function frames(effects: PairingEffect[]): Uint8Array[] {
  return effects.flatMap((e) => (e.type === 'send-frame' ? [e.frame] : []));
}

function kinds(effects: PairingEffect[]): string[] {
  return effects.map((e) => (e.type === 'send' ? `send:${e.msg.type}${e.msg.type === 'keyed' ? `:${e.msg.ok}` : ''}` : e.type));
}

/** An opener (customer) that has its number and waits; returns its state and number. */
function waitingOpener(secret = '123456'): { state: PairingState; number: SessionNumber } {
  let s = initialOpenState({ role: 'customer' }, secret);
  let out = step(s, { type: 'start' });
  t.same(kinds(out.effects), ['send:open']);
  s = out.state;
  out = step(s, { type: 'relay', msg: { type: 'opened', nameplate: '482', ttl: 600 } });
  const opened = out.effects[0];
  if (opened?.type !== 'opened') throw new Error('no opened effect');
  return { state: out.state, number: opened.number };
}

/** Runs one pairing attempt between the opener and a joiner typing `typed`; both see the other's frames. */
function attempt(opener: PairingState, typed: SessionNumber, sid = SID) {
  let joiner = initialJoinState({ role: 'agent' }, typed);
  let j = step(joiner, { type: 'start' });
  joiner = j.state;
  const o0 = step(opener, { type: 'relay', msg: paired('agent', sid) });
  j = step(joiner, { type: 'relay', msg: paired('customer', sid) });
  // Both send their share at once; each reads the other's, answers with a confirmation.
  const o1 = step(o0.state, { type: 'frame', frame: frames(j.effects)[0] as Uint8Array });
  const j1 = step(j.state, { type: 'frame', frame: frames(o0.effects)[0] as Uint8Array });
  const o2 = step(o1.state, { type: 'frame', frame: frames(j1.effects)[0] as Uint8Array });
  const j2 = step(j1.state, { type: 'frame', frame: frames(o1.effects)[0] as Uint8Array });
  return { opener: o2, joiner: j2, openerEffects: [...o0.effects, ...o1.effects, ...o2.effects], joinerEffects: [...j.effects, ...j1.effects, ...j2.effects] };
}

t.test('opener and joiner with the same number agree on keys and code', async (t) => {
  const { state, number } = waitingOpener();
  t.same(number, { nameplate: '482', secret: '123456' });
  const r = attempt(state, number);
  t.equal(r.opener.state.name, 'S4_keyed');
  t.equal(r.joiner.state.name, 'S4_keyed');
  const ok = r.opener.effects.find((e) => e.type === 'keyed');
  const jk = r.joiner.effects.find((e) => e.type === 'keyed');
  if (ok?.type !== 'keyed' || jk?.type !== 'keyed') throw new Error('not keyed');
  t.match(ok.result.verificationCode, /^[0-9]{4}$/);
  t.equal(ok.result.verificationCode, jk.result.verificationCode);
  t.same(ok.result.keys.send, jk.result.keys.receive);
  t.same(ok.result.keys.receive, jk.result.keys.send);
  t.same(ok.peer, { role: 'agent', agent: { id: 'anna', name: 'Anna Schmidt', org: 'ACME Support', verified: true } });
  t.same(jk.peer, { role: 'customer' });
  t.same(kinds(r.opener.effects), ['send:keyed:true', 'keyed']);
  t.same(kinds(r.joiner.effects), ['send:keyed:true', 'keyed']);
});

t.test('the secret never leaves in a relay message', async (t) => {
  const { state, number } = waitingOpener('908172');
  const r = attempt(state, number);
  for (const e of [...r.openerEffects, ...r.joinerEffects, ...r.opener.effects, ...r.joiner.effects]) {
    if (e.type === 'send') t.notMatch(JSON.stringify(e.msg), '908172');
  }
});

t.test('a wrong number fails the joiner and costs the opener one attempt', async (t) => {
  const { state } = waitingOpener('123456');
  const r = attempt(state, { nameplate: '482', secret: '123457' });
  t.equal(r.joiner.state.name, 'S5_failed');
  t.same(kinds(r.joiner.effects), ['send:keyed:false', 'fail']);
  const jf = r.joiner.effects.at(-1);
  t.equal(jf?.type === 'fail' && jf.error.code, 'RSO_ERR_WRONG_CODE');
  t.equal(r.opener.state.name, 'S3_failed');
  t.same(kinds(r.opener.effects), ['send:keyed:false', 'failed-attempt']);
  const fa = r.opener.effects[1];
  t.ok(fa?.type === 'failed-attempt' && fa.error.code === 'RSO_ERR_WRONG_CODE' && fa.attemptsLeft === MAX_ATTEMPTS - 1);
  // The relay acknowledges; the opener waits for the next joiner with the same number.
  const back = step(r.opener.state, { type: 'relay', msg: { type: 'peer-left', reason: 'wrong-code' } });
  t.equal(back.state.name, 'S2_waiting');
  t.equal(back.state.failures, 1);
});

t.test('a correct join after two wrong ones still pairs', async (t) => {
  let { state } = waitingOpener('555000');
  for (const wrong of ['555001', '000000']) {
    const r = attempt(state, { nameplate: '482', secret: wrong });
    state = step(r.opener.state, { type: 'relay', msg: { type: 'peer-left', reason: 'wrong-code' } }).state;
  }
  t.equal(state.failures, 2);
  const r = attempt(state, { nameplate: '482', secret: '555000' }, SID2);
  t.equal(r.opener.state.name, 'S4_keyed');
});

t.test('the third failure burns the number on the opener side, whatever the relay does next', async (t) => {
  let { state } = waitingOpener('111111');
  const left: number[] = [];
  let last: ReturnType<typeof attempt> | undefined;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    last = attempt(state, { nameplate: '482', secret: '999999' });
    for (const e of last.opener.effects) if (e.type === 'failed-attempt') left.push(e.attemptsLeft);
    if (last.opener.state.name === 'S5_failed') break;
    // A malicious relay could say anything here; an honest one acknowledges.
    state = step(last.opener.state, { type: 'relay', msg: { type: 'peer-left', reason: 'wrong-code' } }).state;
  }
  t.same(left, [2, 1, 0]);
  t.equal(last?.opener.state.name, 'S5_failed');
  const fail = last?.opener.effects.at(-1);
  t.equal(fail?.type === 'fail' && fail.error.code, 'RSO_ERR_BURNT');
  // No fourth attempt: the machine takes no more events at all.
  t.throws(() => step(last!.opener.state, { type: 'relay', msg: paired('agent', SID2) }), { code: 'RSO_ERR_PROTOCOL' });
});

t.test('a relay that re-pairs without acknowledging the failure is refused', async (t) => {
  const { state } = waitingOpener();
  const r = attempt(state, { nameplate: '482', secret: '000001' });
  t.equal(r.opener.state.name, 'S3_failed');
  t.throws(() => step(r.opener.state, { type: 'relay', msg: paired('agent', SID2) }), { code: 'RSO_ERR_PROTOCOL' });
});

t.test('peer-left wrong-code during keying counts as an attempt (the peer saw it first)', async (t) => {
  const { state } = waitingOpener();
  const o = step(state, { type: 'relay', msg: paired('agent') });
  const out = step(o.state, { type: 'relay', msg: { type: 'peer-left', reason: 'wrong-code' } });
  t.equal(out.state.name, 'S2_waiting');
  t.equal(out.state.failures, 1);
  t.same(kinds(out.effects), ['failed-attempt']);
});

t.test('a joiner that leaves after our confirmation costs an attempt; one that leaves before its share does not', async (t) => {
  const { state } = waitingOpener('123456');
  // Leaves before sending anything: it learnt nothing that checks a guess.
  const o = step(state, { type: 'relay', msg: paired('agent') });
  const early = step(o.state, { type: 'relay', msg: { type: 'peer-left', reason: 'closed' } });
  t.equal(early.state.name, 'S2_waiting');
  t.equal(early.state.failures, 0);
  t.same(kinds(early.effects), []);

  // Sends its share, receives our confirmation tag, leaves: one offline guess, so it counts.
  let joiner = initialJoinState({ role: 'agent' }, { nameplate: '482', secret: '000000' });
  joiner = step(joiner, { type: 'start' }).state;
  const o1 = step(early.state, { type: 'relay', msg: paired('agent', SID2) });
  const j1 = step(joiner, { type: 'relay', msg: paired('customer', SID2) });
  const o2 = step(o1.state, { type: 'frame', frame: frames(j1.effects)[0] as Uint8Array });
  t.same(kinds(o2.effects), ['send-frame']);
  const late = step(o2.state, { type: 'relay', msg: { type: 'peer-left', reason: 'closed' } });
  t.equal(late.state.name, 'S3_failed');
  t.equal(late.state.failures, 1);
  t.same(kinds(late.effects), ['send:keyed:false', 'failed-attempt']);
});

t.test('the joiner fails when the peer leaves or the handshake stalls', async (t) => {
  let j = initialJoinState({ role: 'agent' }, { nameplate: '482', secret: '123456' });
  j = step(j, { type: 'start' }).state;
  const k = step(j, { type: 'relay', msg: paired('customer') }).state;
  const left = step(k, { type: 'relay', msg: { type: 'peer-left', reason: 'closed' } });
  t.equal(left.effects.at(-1)?.type === 'fail' && (left.effects.at(-1) as { error: RsoError }).error.code, 'RSO_ERR_PEER_LEFT');
  const slow = step(k, { type: 'timeout' });
  t.equal(slow.effects.at(-1)?.type === 'fail' && (slow.effects.at(-1) as { error: RsoError }).error.code, 'RSO_ERR_TIMEOUT');
});

t.test('a garbled handshake frame costs the opener an attempt instead of ending it', async (t) => {
  const { state } = waitingOpener();
  const o = step(state, { type: 'relay', msg: paired('agent') });
  const out = step(o.state, { type: 'frame', frame: Uint8Array.of(1, 2, 3) });
  t.equal(out.state.name, 'S3_failed');
  const fa = out.effects.find((e) => e.type === 'failed-attempt');
  t.equal(fa?.type === 'failed-attempt' && fa.error.code, 'RSO_ERR_PROTOCOL');
});

t.test('a record before key confirmation is refused', async (t) => {
  const { state } = waitingOpener();
  const o = step(state, { type: 'relay', msg: paired('agent') });
  t.throws(() => step(o.state, { type: 'frame', frame: Uint8Array.of(FRAME_RECORD, 0, 0) }), { code: 'RSO_ERR_PROTOCOL' });
});

t.test('impossible transitions throw', async (t) => {
  const { state } = waitingOpener();
  t.throws(() => step(state, { type: 'relay', msg: { type: 'opened', nameplate: '111', ttl: 5 } }), { code: 'RSO_ERR_PROTOCOL' });
  t.throws(() => step(state, { type: 'frame', frame: Uint8Array.of(1) }), { code: 'RSO_ERR_PROTOCOL' });
  t.throws(() => step(state, { type: 'start' }), { code: 'RSO_ERR_PROTOCOL' });
  t.throws(() => step(state, { type: 'relay', msg: { type: 'peer-left', reason: 'wrong-code' } }), { code: 'RSO_ERR_PROTOCOL' });
  const j = initialJoinState({ role: 'agent' }, { nameplate: '482', secret: '123456' });
  t.throws(() => step(j, { type: 'relay', msg: paired('customer') }), { code: 'RSO_ERR_PROTOCOL' });
  const joining = step(j, { type: 'start' }).state;
  t.throws(() => step(joining, { type: 'relay', msg: { type: 'opened', nameplate: '482', ttl: 5 } }), { code: 'RSO_ERR_PROTOCOL' });
});

t.test('relay errors, bye and a closed socket end the pairing with the right code', async (t) => {
  const { state } = waitingOpener();
  const expired = step(state, { type: 'relay', msg: { type: 'error', code: 'RSO_ERR_EXPIRED', message: 'gone' } });
  t.equal(expired.state.name, 'S5_failed');
  const e = expired.effects.at(-1);
  t.equal(e?.type === 'fail' && e.error.code, 'RSO_ERR_EXPIRED');
  // Our words, not the relay's: the relay does not write what the person reads.
  t.equal(e?.type === 'fail' && e.error.message, new RsoError('RSO_ERR_EXPIRED').message);
  const bye = step(state, { type: 'relay', msg: { type: 'bye' } }).effects.at(-1);
  t.equal(bye?.type === 'fail' && bye.error.code, 'RSO_ERR_PEER_LEFT');
  const closed = step(state, { type: 'closed' }).effects.at(-1);
  t.equal(closed?.type === 'fail' && closed.error.code, 'RSO_ERR_UNREACHABLE');
  const big = step(state, { type: 'closed', error: new RsoError('RSO_ERR_TOO_LARGE') }).effects.at(-1);
  t.equal(big?.type === 'fail' && big.error.code, 'RSO_ERR_TOO_LARGE');
});
