// What the client reports when pairing cannot happen, against a real relay: refused token,
// expired, unknown and crowded numbers, a relay that is not there, and ws:// to a remote host
// (refused before any traffic).
import t from 'tap';
import { Socket, createServer, type AddressInfo } from 'node:net';
import type { SessionNumber } from '../src/crypto/code.js';
import { joinSession, openSession } from '../src/client/session.js';
import { RawClient } from './helpers/relay.js';
import { rejection, relayWithAgent } from './helpers/client-pairing.js';

const relay = await relayWithAgent();
t.teardown(() => relay.stop());

const UNKNOWN_TOKEN = 'x'.repeat(40);

t.test('an unknown agent token is refused with UNAUTHORIZED (open and join)', async (t) => {
  const o = await rejection(openSession({ relay: relay.url, role: 'agent', token: UNKNOWN_TOKEN, onOpened: () => t.fail('opened') }));
  t.equal(o.code, 'RSO_ERR_UNAUTHORIZED');
  t.notMatch(`${o.message} ${o.detail ?? ''}`, UNKNOWN_TOKEN, 'the token is not echoed');
  const j = await rejection(joinSession({ relay: relay.url, role: 'agent', token: UNKNOWN_TOKEN, number: '123456789' }));
  t.equal(j.code, 'RSO_ERR_UNAUTHORIZED');
});

t.test('an unknown nameplate is UNKNOWN_NUMBER; a mistyped number fails before connecting', async (t) => {
  // Find a nameplate nobody holds: open one and use a neighbour that is not open.
  const err = await rejection(joinSession({ relay: relay.url, role: 'customer', number: '000 123 456' }));
  t.equal(err.code, 'RSO_ERR_UNKNOWN_NUMBER');
  t.equal((await rejection(joinSession({ relay: relay.url, role: 'customer', number: '12345' }))).code, 'RSO_ERR_BAD_NUMBER');
});

t.test('a second joiner while an attempt runs gets CROWDED', async (t) => {
  const ac = new AbortController();
  let resolveNumber!: (n: SessionNumber) => void;
  const numberP = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const opener = openSession({ relay: relay.url, role: 'customer', onOpened: (n) => resolveNumber(n), signal: ac.signal });
  opener.catch(() => {});
  const number = await numberP;
  // The first joiner pairs at the relay and then just sits there.
  const squatter = await RawClient.connect(relay.url);
  await squatter.hello('agent', relay.token);
  squatter.send({ type: 'join', nameplate: number.nameplate });
  t.equal((await squatter.next()).type, 'paired');
  // The opener's share reaches the squatter. (Were the squatter to leave before the share even
  // reached the relay, that share could be forwarded to the next joiner: see docs/client.md.)
  t.equal((await squatter.nextBinary())[0], 0x01);
  const err = await rejection(joinSession({ relay: relay.url, role: 'agent', token: relay.token, number }));
  t.equal(err.code, 'RSO_ERR_CROWDED');
  // The squatter never sent a share, so its leaving costs the opener nothing; it waits on.
  squatter.close();
  await squatter.closed;
  const [a, c] = await Promise.all([joinSession({ relay: relay.url, role: 'agent', token: relay.token, number }), opener]);
  t.equal(a.verificationCode, c.verificationCode);
  await a.close();
});

t.test('an expired number: the waiting opener and a late joiner both get EXPIRED', async (t) => {
  const short = await relayWithAgent(['--code-ttl', '1']);
  t.teardown(() => short.stop());
  let number: SessionNumber | undefined;
  let ttl = -1;
  const started = Date.now();
  const err = await rejection(
    openSession({
      relay: short.url,
      role: 'customer',
      onOpened: (n, s) => {
        number = n;
        ttl = s;
      },
    }),
  );
  t.equal(ttl, 1);
  t.equal(err.code, 'RSO_ERR_EXPIRED');
  t.ok(Date.now() - started >= 900, 'not before the ttl');
  t.equal((await rejection(joinSession({ relay: short.url, role: 'customer', number: number as SessionNumber }))).code, 'RSO_ERR_EXPIRED');
});

t.test('a relay that is not there is UNREACHABLE, and the message names the URL', async (t) => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const url = `ws://127.0.0.1:${port}`;
  const err = await rejection(joinSession({ relay: url, role: 'customer', number: '123 456 789' }));
  t.equal(err.code, 'RSO_ERR_UNREACHABLE');
  t.match(err.message, `ws://127.0.0.1:${port}`);
});

t.test('ws:// to a host that is not this machine is refused before any connection attempt', async (t) => {
  const original = Socket.prototype.connect;
  let connects = 0;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    connects++;
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof Socket.prototype.connect;
  t.teardown(() => {
    Socket.prototype.connect = original;
  });

  for (const relayUrl of ['ws://relay.example.invalid:8443', 'ws://10.0.0.1/', 'ws://[2001:db8::1]:80']) {
    const o = await rejection(openSession({ relay: relayUrl, role: 'customer', onOpened: () => t.fail('opened') }));
    t.equal(o.code, 'RSO_ERR_INSECURE', relayUrl);
    const j = await rejection(joinSession({ relay: relayUrl, role: 'customer', number: '123456789' }));
    t.equal(j.code, 'RSO_ERR_INSECURE', relayUrl);
  }
  t.equal(connects, 0, 'no socket was even started');

  // The counter does see real connections (so the zero above means something).
  const s = await joinSession({ relay: relay.url, role: 'customer', number: '000 000 001' }).catch((e: unknown) => e);
  t.ok(s, 'joined or failed');
  t.ok(connects > 0, 'a loopback connection is counted');
});
