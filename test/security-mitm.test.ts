// A malicious relay cannot sit in the middle. This test relay speaks the relay plane honestly
// enough, but pairs each client with itself and runs the real handshake against it with a
// guessed secret (all it can do: it never sees the six digits). Both clients refuse with
// WRONG_CODE, and the opener stops after three attempts on its own count although this relay
// never burns the number and offers a new pairing forever.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionNumber } from '../src/crypto/code.js';
import { startHandshake, stepHandshake, type HandshakeState } from '../src/crypto/handshake.js';
import { FRAME_SHARE } from '../src/protocol/peer.js';
import type { Role } from '../src/protocol/relay.js';
import { joinSession, openSession } from '../src/client/session.js';
import { AGENT, rejection } from './helpers/client-pairing.js';

const NAMEPLATE = '482';
const GUESS = '000000';

interface Victim {
  role: Role;
  /** Pairings this relay offered the client. */
  pairings: number;
  /** Shares the client sent: one per attempt it actually made. */
  shares: number;
  /** Key confirmations the client sent. */
  confirms: number;
  keyed: boolean[];
  closed: Promise<void>;
}

async function evilRelay(): Promise<{ url: string; victims: Victim[]; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const victims: Victim[] = [];

  wss.on('connection', (ws: WebSocket) => {
    let closedResolve!: () => void;
    const v: Victim = { role: 'customer', pairings: 0, shares: 0, confirms: 0, keyed: [], closed: new Promise((r) => (closedResolve = r)) };
    victims.push(v);
    ws.on('close', () => closedResolve());
    let hs: HandshakeState | undefined;
    const send = (msg: unknown): void => ws.send(JSON.stringify(msg));

    /** Pretend someone joined: pair the client with ourselves and start our side of the handshake. */
    const pairWithSelf = (): void => {
      v.pairings++;
      const sid = randomBytes(16);
      const me: Role = v.role === 'agent' ? 'customer' : 'agent';
      send({ type: 'paired', sid: sid.toString('base64url'), peer: me === 'agent' ? { role: 'agent', agent: { ...AGENT, verified: true } } : { role: 'customer' } });
      const started = startHandshake({ role: me, secret: GUESS, nameplate: NAMEPLATE, sid });
      hs = started.state;
      for (const f of started.send) ws.send(f);
    };

    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        if (data[0] === FRAME_SHARE) v.shares++;
        else v.confirms++;
        if (hs === undefined) return;
        try {
          const out = stepHandshake(hs, data);
          hs = out.state;
          for (const f of out.send) ws.send(f);
        } catch {
          hs = undefined; // our guess was wrong: the client's confirmation did not check
        }
        return;
      }
      const msg = JSON.parse(data.toString()) as { type: string; role?: Role; ok?: boolean };
      switch (msg.type) {
        case 'hello':
          v.role = msg.role as Role;
          send({ type: 'welcome', v: 1, relay: 'evil.example.invalid', open: false, agent: msg.role === 'agent' ? AGENT : null });
          break;
        case 'open':
          send({ type: 'opened', nameplate: NAMEPLATE, ttl: 600 });
          pairWithSelf();
          break;
        case 'join':
          pairWithSelf();
          break;
        case 'keyed':
          v.keyed.push(msg.ok === true);
          // Never burn: say the joiner went and offer another one at once, forever.
          if (msg.ok === false && ws.readyState === ws.OPEN) {
            send({ type: 'peer-left', reason: 'wrong-code' });
            pairWithSelf();
          }
          break;
      }
    });
  });

  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    victims,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

t.test('the joiner refuses a relay that answers with its own key exchange', async (t) => {
  const evil = await evilRelay();
  t.teardown(() => evil.close());
  const err = await rejection(joinSession({ relay: evil.url, role: 'agent', token: 'a'.repeat(32), number: `${NAMEPLATE} 123 456` }));
  t.equal(err.code, 'RSO_ERR_WRONG_CODE');
  const v = evil.victims[0] as Victim;
  await v.closed;
  t.equal(v.shares, 1);
  t.same(v.keyed, [false], 'the joiner reported the failure');
});

t.test('the opener refuses a fourth attempt on its own count, though the relay never burns', async (t) => {
  const evil = await evilRelay();
  t.teardown(() => evil.close());
  let number: SessionNumber | undefined;
  const failures: Array<[string, number]> = [];
  const err = await rejection(
    openSession({
      relay: evil.url,
      role: 'customer',
      onOpened: (n) => (number = n),
      onFailedAttempt: (e, left) => failures.push([e.code, left]),
    }),
  );
  t.equal(err.code, 'RSO_ERR_BURNT');
  t.not(number?.secret, GUESS, 'the guess was wrong (1 in a million it is not)');
  t.same(failures, [
    ['RSO_ERR_WRONG_CODE', 2],
    ['RSO_ERR_WRONG_CODE', 1],
    ['RSO_ERR_WRONG_CODE', 0],
  ]);
  const v = evil.victims[0] as Victim;
  await v.closed;
  t.equal(v.pairings, 4, 'the relay offered a fourth pairing');
  t.equal(v.shares, 3, 'the client took part in exactly three');
  t.equal(v.confirms, 3);
  t.same(v.keyed, [false, false, false]);
});

t.test('sitting between a real opener and a real joiner: both refuse', async (t) => {
  const evil = await evilRelay();
  t.teardown(() => evil.close());
  let resolveNumber!: (n: SessionNumber) => void;
  const numberP = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const openerFailures: string[] = [];
  const opener = openSession({ relay: evil.url, role: 'customer', onOpened: (n) => resolveNumber(n), onFailedAttempt: (e) => openerFailures.push(e.code) });
  const number = await numberP;
  // The joiner has the right number, read over the phone; the relay still cannot get in.
  const joinErr = await rejection(joinSession({ relay: evil.url, role: 'agent', token: 'a'.repeat(32), number }));
  t.equal(joinErr.code, 'RSO_ERR_WRONG_CODE');
  t.equal((await rejection(opener)).code, 'RSO_ERR_BURNT');
  t.equal(openerFailures[0], 'RSO_ERR_WRONG_CODE');
});
