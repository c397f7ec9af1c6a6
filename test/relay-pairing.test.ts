// A real relay process, raw ws clients: pairing in both directions, forwarding, and every way
// a pairing can end (crowded, unauthorized, wrong code, expiry, leaving).
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { RawClient, addAgent, logEvents, pair, spawnRelay, type SpawnedRelay } from './helpers/relay.js';

async function withRelay(t: Test, args: string[] = []): Promise<{ relay: SpawnedRelay; token: string }> {
  const relay = await spawnRelay(args);
  t.teardown(async () => void (await relay.stop()));
  const token = await addAgent(relay.dataDir, 'anna', 'Anna Lindqvist', 'Acme Support');
  return { relay, token };
}

/** Sends `count` frames of assorted sizes each way and checks they arrive byte-exact and in order. */
async function exchange(t: Test, a: RawClient, b: RawClient, count = 20): Promise<void> {
  const sizes = [1, 2, 100, 65_536, 1_000_000];
  const aToB = Array.from({ length: count }, (_, i) => randomBytes(sizes[i % sizes.length]!));
  const bToA = Array.from({ length: count }, (_, i) => randomBytes(sizes[(i + 2) % sizes.length]!));
  for (let i = 0; i < count; i++) {
    a.sendBinary(aToB[i]!);
    b.sendBinary(bToA[i]!);
  }
  for (let i = 0; i < count; i++) {
    t.ok((await b.nextBinary()).equals(aToB[i]!), `a->b frame ${i} intact and in order`);
    t.ok((await a.nextBinary()).equals(bToA[i]!), `b->a frame ${i} intact and in order`);
  }
}

t.test('agent opens, customer joins, frames both ways, keyed, bye', async (t) => {
  const { relay, token } = await withRelay(t);
  const s = await pair(relay.url, { role: 'agent', token }, { role: 'customer' });
  t.match(s.nameplate, /^[0-9]{3}$/);
  t.match(s.joinerPaired, { type: 'paired', sid: /^[A-Za-z0-9_-]{22}$/, peer: { role: 'agent', agent: { id: 'anna', name: 'Anna Lindqvist', org: 'Acme Support', verified: true } } });
  t.same(s.openerPaired, { type: 'paired', sid: s.joinerPaired.sid, peer: { role: 'customer' } });
  await exchange(t, s.opener, s.joiner);
  s.opener.send({ type: 'keyed', ok: true });
  s.joiner.send({ type: 'keyed', ok: true });
  // Established: the nameplate stays taken while the session lives.
  const third = await RawClient.connect(relay.url);
  await third.hello('customer');
  third.send({ type: 'join', nameplate: s.nameplate });
  t.match(await third.next(), { type: 'error', code: 'RSO_ERR_CROWDED' });
  t.equal((await third.closed).code, 1000);
  await exchange(t, s.opener, s.joiner, 5);
  s.joiner.send({ type: 'bye' });
  t.same(await s.opener.next(), { type: 'peer-left', reason: 'ended' });
  await s.opener.closed;
  await s.joiner.closed;
  const ended = logEvents(relay.logs).find((e) => e.event === 'ended');
  t.match(ended, { nameplate: s.nameplate, reason: 'ended', durationMs: Number, openerSent: Number, joinerSent: Number });
  t.ok((ended!.openerSent as number) > 5_000_000, 'byte counts logged');
});

t.test('customer opens, agent joins; closing after pairing tells the other side', async (t) => {
  const { relay, token } = await withRelay(t);
  const s = await pair(relay.url, { role: 'customer' }, { role: 'agent', token });
  t.match(s.openerPaired, { type: 'paired', peer: { role: 'agent', agent: { id: 'anna', verified: true } } });
  t.match(s.joinerPaired, { type: 'paired', peer: { role: 'customer' } });
  await exchange(t, s.opener, s.joiner);
  s.opener.send({ type: 'keyed', ok: true });
  s.joiner.send({ type: 'keyed', ok: true });
  s.opener.close();
  t.same(await s.joiner.next(), { type: 'peer-left', reason: 'closed' });
  await s.joiner.closed;
});

t.test('welcome echoes the Host header, and only a valid one', async (t) => {
  const { relay } = await withRelay(t);
  const a = await RawClient.connect(relay.url, { headers: { host: 'relay.example.com:443' } });
  t.match(await a.hello('customer'), { type: 'welcome', v: 1, relay: 'relay.example.com:443', open: false, agent: null });
  const b = await RawClient.connect(relay.url, { headers: { host: 'evil<script> host' } });
  t.match(await b.hello('customer'), { type: 'welcome', relay: `127.0.0.1:${relay.port}` });
  a.close();
  b.close();
});

t.test('unknown token and missing token are refused; --open marks tokenless agents unverified', async (t) => {
  const { relay, token } = await withRelay(t);
  for (const bad of ['A'.repeat(43), undefined]) {
    const c = await RawClient.connect(relay.url);
    t.match(await c.hello('agent', bad), { type: 'error', code: 'RSO_ERR_UNAUTHORIZED' });
    await c.closed;
  }
  const c = await RawClient.connect(relay.url);
  t.match(await c.hello('customer', token), { type: 'error', code: 'RSO_ERR_PROTOCOL' }, 'a customer with a token');

  const open = await spawnRelay(['--open'], { dataDir: relay.dataDir });
  t.teardown(async () => void (await open.stop()));
  const s = await pair(open.url, { role: 'agent' }, { role: 'customer' });
  t.match(s.joinerPaired, { peer: { role: 'agent', agent: { id: 'unverified', name: 'Unverified agent', org: '', verified: false } } });
  const bad = await RawClient.connect(open.url);
  t.match(await bad.hello('agent', 'B'.repeat(43)), { type: 'error', code: 'RSO_ERR_UNAUTHORIZED' }, 'a bad token is refused even on --open');
  const good = await pair(open.url, { role: 'customer' }, { role: 'agent', token });
  t.match(good.openerPaired, { peer: { agent: { id: 'anna', verified: true } } }, 'a good token is verified on --open');
});

t.test('wrong codes: fewer than three keep the opener; the third burns the number', async (t) => {
  const { relay, token } = await withRelay(t);
  const opener = await RawClient.connect(relay.url);
  await opener.hello('agent', token);
  opener.send({ type: 'open' });
  const { nameplate } = (await opener.next()) as unknown as { nameplate: string };
  const sids = new Set<string>();
  for (let attempt = 1; attempt <= 3; attempt++) {
    const joiner = await RawClient.connect(relay.url);
    await joiner.hello('customer');
    joiner.send({ type: 'join', nameplate });
    const paired = await joiner.next();
    t.match(paired, { type: 'paired' }, `attempt ${attempt} pairs`);
    sids.add(paired.sid as string);
    t.match(await opener.next(), { type: 'paired' });
    // Alternate who reports the failure; both must count.
    (attempt % 2 ? joiner : opener).send({ type: 'keyed', ok: false });
    t.match(await joiner.next(), { type: 'error', code: 'RSO_ERR_WRONG_CODE' });
    await joiner.closed;
    if (attempt < 3) t.same(await opener.next(), { type: 'peer-left', reason: 'wrong-code' });
  }
  t.equal(sids.size, 3, 'a fresh sid for every attempt');
  t.match(await opener.next(), { type: 'error', code: 'RSO_ERR_BURNT' });
  await opener.closed;
  const late = await RawClient.connect(relay.url);
  await late.hello('customer');
  late.send({ type: 'join', nameplate });
  t.match(await late.next(), { type: 'error', code: 'RSO_ERR_BURNT' }, 'a later join hears burnt');
  t.ok(logEvents(relay.logs).some((e) => e.event === 'burnt' && e.nameplate === nameplate));
});

t.test('two wrong codes, then a fresh join pairs and establishes', async (t) => {
  const { relay, token } = await withRelay(t);
  const opener = await RawClient.connect(relay.url);
  await opener.hello('customer');
  opener.send({ type: 'open' });
  const { nameplate } = (await opener.next()) as unknown as { nameplate: string };
  for (let attempt = 1; attempt <= 2; attempt++) {
    const joiner = await RawClient.connect(relay.url);
    await joiner.hello('agent', token);
    joiner.send({ type: 'join', nameplate });
    await joiner.next();
    await opener.next();
    joiner.send({ type: 'keyed', ok: false });
    await joiner.closed;
    t.same(await opener.next(), { type: 'peer-left', reason: 'wrong-code' });
  }
  const joiner = await RawClient.connect(relay.url);
  await joiner.hello('agent', token);
  joiner.send({ type: 'join', nameplate });
  t.match(await joiner.next(), { type: 'paired' });
  t.match(await opener.next(), { type: 'paired' });
  opener.send({ type: 'keyed', ok: true });
  joiner.send({ type: 'keyed', ok: true });
  await exchange(t, opener, joiner, 3);
  await new Promise((r) => setTimeout(r, 100));
  t.ok(logEvents(relay.logs).some((e) => e.event === 'established' && e.nameplate === nameplate));
});

t.test('an unpaired number expires after --code-ttl; a later join hears expired', async (t) => {
  const { relay, token } = await withRelay(t, ['--code-ttl', '1']);
  const opener = await RawClient.connect(relay.url);
  await opener.hello('agent', token);
  opener.send({ type: 'open' });
  const opened = await opener.next();
  t.match(opened, { type: 'opened', ttl: 1 });
  const started = Date.now();
  t.match(await opener.next(3000), { type: 'error', code: 'RSO_ERR_EXPIRED' });
  t.ok(Date.now() - started >= 900, 'not before the ttl');
  await opener.closed;
  const late = await RawClient.connect(relay.url);
  await late.hello('customer');
  late.send({ type: 'join', nameplate: opened.nameplate });
  t.match(await late.next(), { type: 'error', code: 'RSO_ERR_EXPIRED' });
});

t.test('a joiner that leaves before keyed puts the number back to pending', async (t) => {
  const { relay, token } = await withRelay(t);
  const s = await pair(relay.url, { role: 'agent', token }, { role: 'customer' });
  s.joiner.close();
  t.same(await s.opener.next(), { type: 'peer-left', reason: 'closed' });
  const again = await RawClient.connect(relay.url);
  await again.hello('customer');
  again.send({ type: 'join', nameplate: s.nameplate });
  t.match(await again.next(), { type: 'paired' });
});

t.test('SIGTERM with --drain-timeout 0: paired clients hear shutdown, the others busy; exit 0', async (t) => {
  const relay = await spawnRelay(['--open']);
  const s = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  const idle = await RawClient.connect(relay.url);
  const code = relay.stop();
  for (const c of [s.opener, s.joiner]) {
    t.same(await c.next(), { type: 'peer-left', reason: 'shutdown' });
    await c.closed;
  }
  t.match(await idle.next(), { type: 'error', code: 'RSO_ERR_RELAY_BUSY' });
  await idle.closed;
  t.equal(await code, 0);
});
