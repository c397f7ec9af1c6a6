// Wrong numbers against a real relay: each costs the opener one attempt, three burn the number
// (on the opener's own count and at the relay), and a right number after wrong ones still pairs.
import t from 'tap';
import type { RsoError } from '../src/errors.js';
import type { SessionNumber } from '../src/crypto/code.js';
import { joinSession, openSession, type SecureSession } from '../src/client/session.js';
import { rejection, relayWithAgent } from './helpers/client-pairing.js';

const relay = await relayWithAgent();
t.teardown(() => relay.stop());

/** A different secret with the same nameplate: what a one-digit typo looks like. */
function typo(n: SessionNumber, i = 0): SessionNumber {
  const digits = n.secret.split('');
  digits[i] = String((Number(digits[i]) + 1) % 10);
  return { nameplate: n.nameplate, secret: digits.join('') };
}

interface Opening {
  session: Promise<SecureSession>;
  number: SessionNumber;
  failures: Array<{ err: RsoError; attemptsLeft: number }>;
  failedOnce: () => Promise<void>;
}

async function open(): Promise<Opening> {
  const failures: Opening['failures'] = [];
  const wakers: Array<() => void> = [];
  let resolveNumber!: (n: SessionNumber) => void;
  const numberP = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const session = openSession({
    relay: relay.url,
    role: 'agent',
    token: relay.token,
    onOpened: (n) => resolveNumber(n),
    onFailedAttempt: (err, attemptsLeft) => {
      failures.push({ err, attemptsLeft });
      for (const w of wakers.splice(0)) w();
    },
  });
  session.catch(() => {}); // observed by each test
  const number = await numberP;
  let seen = 0;
  const failedOnce = async (): Promise<void> => {
    const want = ++seen;
    while (failures.length < want) await new Promise<void>((r) => wakers.push(r));
  };
  return { session, number, failures, failedOnce };
}

function join(number: SessionNumber): Promise<SecureSession> {
  return joinSession({ relay: relay.url, role: 'customer', number });
}

t.test('a wrong secret: the joiner gets WRONG_CODE, the opener is told and keeps waiting', async (t) => {
  const o = await open();
  const err = await rejection(join(typo(o.number)));
  t.equal(err.code, 'RSO_ERR_WRONG_CODE');
  t.notMatch(`${err.message} ${err.detail ?? ''}`, o.number.secret, 'no secret digits in the error');
  await o.failedOnce();
  t.equal(o.failures[0]?.err.code, 'RSO_ERR_WRONG_CODE');
  t.equal(o.failures[0]?.attemptsLeft, 2);
  // Still waiting: the right number pairs.
  const [a, c] = await Promise.all([o.session, join(o.number)]);
  t.equal(a.verificationCode, c.verificationCode);
  await a.close();
  await c.close();
});

t.test('a correct join after two wrong ones still pairs', async (t) => {
  const o = await open();
  for (const i of [0, 5]) {
    t.equal((await rejection(join(typo(o.number, i)))).code, 'RSO_ERR_WRONG_CODE');
    await o.failedOnce();
  }
  t.same(o.failures.map((f) => f.attemptsLeft), [2, 1]);
  const [a, c] = await Promise.all([o.session, join(o.number)]);
  t.equal(a.verificationCode, c.verificationCode);
  await c.send(Buffer.from('made it'));
  const got = await new Promise<Uint8Array>((r) => a.onMessage(r));
  t.equal(Buffer.from(got).toString(), 'made it');
  await a.close();
});

t.test('three wrong attempts burn the number: the opener rejects BURNT, a new join gets BURNT from the relay', async (t) => {
  const o = await open();
  for (let i = 0; i < 3; i++) {
    t.equal((await rejection(join(typo(o.number, i)))).code, 'RSO_ERR_WRONG_CODE', `wrong attempt ${i + 1}`);
    await o.failedOnce();
  }
  t.same(o.failures.map((f) => [f.err.code, f.attemptsLeft]), [
    ['RSO_ERR_WRONG_CODE', 2],
    ['RSO_ERR_WRONG_CODE', 1],
    ['RSO_ERR_WRONG_CODE', 0],
  ]);
  const burnt = await rejection(o.session);
  t.equal(burnt.code, 'RSO_ERR_BURNT');
  // Even the right number no longer works: the relay remembers the burnt nameplate.
  t.equal((await rejection(join(o.number))).code, 'RSO_ERR_BURNT');
});
