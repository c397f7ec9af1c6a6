// Whatever a client sends, it gets an error code and its own connection closes; the relay
// and every other session carry on. Also the join throttle and /healthz.
import t from 'tap';
import { RawClient, healthz, pair, spawnRelay } from './helpers/relay.js';

t.test('bad relay-plane input: error code, close, and the relay still pairs', async (t) => {
  const relay = await spawnRelay(['--open', '--max-message-bytes', '65536']);
  t.teardown(async () => void (await relay.stop()));
  // A session that lives through all the abuse below.
  const live = await pair(relay.url, { role: 'agent' }, { role: 'customer' });

  const cases: { name: string; hello?: boolean; send: (c: RawClient) => void; code: string }[] = [
    { name: 'not JSON', send: (c) => c.send('{"type":'), code: 'RSO_ERR_PROTOCOL' },
    { name: 'not an object', send: (c) => c.send('[1,2]'), code: 'RSO_ERR_PROTOCOL' },
    { name: 'unknown type', send: (c) => c.send({ type: 'gimme' }), code: 'RSO_ERR_PROTOCOL' },
    { name: 'extra field', send: (c) => c.send({ type: 'hello', v: 1, role: 'customer', admin: true }), code: 'RSO_ERR_PROTOCOL' },
    { name: 'wrong version', send: (c) => c.send({ type: 'hello', v: 99, role: 'customer' }), code: 'RSO_ERR_VERSION' },
    { name: 'oversized text', send: (c) => c.send({ type: 'hello', v: 1, role: 'customer', pad: 'x'.repeat(5000) }), code: 'RSO_ERR_TOO_LARGE' },
    { name: 'binary before hello', send: (c) => c.sendBinary(Buffer.from('hi')), code: 'RSO_ERR_PROTOCOL' },
    { name: 'binary after hello, before pairing', hello: true, send: (c) => c.sendBinary(Buffer.from('hi')), code: 'RSO_ERR_PROTOCOL' },
    { name: 'open before hello', send: (c) => c.send({ type: 'open' }), code: 'RSO_ERR_PROTOCOL' },
    { name: 'second hello', hello: true, send: (c) => c.send({ type: 'hello', v: 1, role: 'customer' }), code: 'RSO_ERR_PROTOCOL' },
    { name: 'keyed before pairing', hello: true, send: (c) => c.send({ type: 'keyed', ok: true }), code: 'RSO_ERR_PROTOCOL' },
    { name: 'bad nameplate', hello: true, send: (c) => c.send({ type: 'join', nameplate: '12' }), code: 'RSO_ERR_PROTOCOL' },
    {
      name: 'join after open',
      hello: true,
      send: (c) => {
        c.send({ type: 'open' });
        c.send({ type: 'join', nameplate: '123' });
      },
      code: 'RSO_ERR_PROTOCOL',
    },
  ];
  for (const c of cases) {
    const client = await RawClient.connect(relay.url);
    if (c.hello) t.match(await client.hello('customer'), { type: 'welcome' });
    c.send(client);
    let msg = await client.next();
    if (msg.type === 'opened') msg = await client.next();
    t.match(msg, { type: 'error', code: c.code, message: String }, c.name);
    t.equal((await client.closed).code, 1000, `${c.name}: closed`);
  }

  // A binary frame over --max-message-bytes: ws closes with 1009 before anything can be said.
  const big = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  big.opener.sendBinary(Buffer.alloc(65_537));
  t.equal((await big.opener.closed).code, 1009, 'too large: close code 1009');
  t.same(await big.joiner.next(), { type: 'peer-left', reason: 'closed' }, 'its peer is told');

  // The live session is untouched and a new pairing works.
  live.opener.sendBinary(Buffer.from('still here'));
  t.equal((await live.joiner.nextBinary()).toString(), 'still here');
  const fresh = await pair(relay.url, { role: 'customer' }, { role: 'agent' });
  fresh.joiner.sendBinary(Buffer.from('fresh'));
  t.equal((await fresh.opener.nextBinary()).toString(), 'fresh');
  t.equal(relay.proc.exitCode, null, 'relay still running');
  const codes = relay.logs.map((l) => JSON.parse(l) as { event: string; code?: string }).filter((e) => e.event === 'error').map((e) => e.code);
  t.ok(codes.includes('RSO_ERR_TOO_LARGE'), 'the oversized binary frame is logged');
});

t.test('a connection that never says hello is closed after 10 s', async (t) => {
  const relay = await spawnRelay();
  t.teardown(async () => void (await relay.stop()));
  const c = await RawClient.connect(relay.url);
  const started = Date.now();
  t.match(await c.next(12_000), { type: 'error', code: 'RSO_ERR_TIMEOUT' });
  t.ok(Date.now() - started >= 9_500, 'not before 10 s');
  await c.closed;
});

t.test('joins are throttled per address', async (t) => {
  const relay = await spawnRelay(['--open', '--join-rate', '3']);
  t.teardown(async () => void (await relay.stop()));
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.connect(relay.url);
    await c.hello('customer');
    c.send({ type: 'join', nameplate: '999' });
    t.match(await c.next(), { type: 'error', code: 'RSO_ERR_UNKNOWN_NUMBER' }, `join ${i + 1} is answered`);
  }
  const c = await RawClient.connect(relay.url);
  await c.hello('customer');
  c.send({ type: 'join', nameplate: '999' });
  t.match(await c.next(), { type: 'error', code: 'RSO_ERR_THROTTLED' }, 'the fourth is throttled');
  await c.closed;
  // Opening is not throttled; another address (127.0.0.2 is loopback too) may still join.
  const opener = await RawClient.connect(relay.url);
  await opener.hello('agent');
  opener.send({ type: 'open' });
  const { nameplate } = await opener.next();
  const other = await RawClient.connect(relay.url, { localAddress: '127.0.0.2' });
  await other.hello('customer');
  other.send({ type: 'join', nameplate });
  t.match(await other.next(), { type: 'paired' }, 'another address is not throttled');
});

t.test('healthz counts and 404 elsewhere', async (t) => {
  const relay = await spawnRelay(['--open']);
  t.teardown(async () => void (await relay.stop()));
  t.same(await healthz(relay.port), { status: 200, body: { status: 'ok', pending: 0, paired: 0, connections: 0 } });
  const opener = await RawClient.connect(relay.url);
  await opener.hello('agent');
  opener.send({ type: 'open' });
  await opener.next();
  const idle = await RawClient.connect(relay.url);
  t.same((await healthz(relay.port)).body, { status: 'ok', pending: 1, paired: 0, connections: 2 });
  const s = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  t.same((await healthz(relay.port)).body, { status: 'ok', pending: 1, paired: 1, connections: 4 });
  s.opener.close();
  await s.joiner.closed;
  idle.close();
  await idle.closed;
  await new Promise((r) => setTimeout(r, 100));
  t.same((await healthz(relay.port)).body, { status: 'ok', pending: 1, paired: 0, connections: 1 });
  const res = await fetch(`http://127.0.0.1:${relay.port}/nope`);
  t.equal(res.status, 404);
  // The WebSocket upgrade works on any path.
  const other = await RawClient.connect(`${relay.url}/some/path`);
  t.match(await other.hello('customer'), { type: 'welcome' });
  other.close();
});
