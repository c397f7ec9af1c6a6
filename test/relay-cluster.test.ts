// Two relay processes sharing a real redis-server: nameplates unique across nodes, a customer
// on node A and an agent on node B meet (real clients, data both ways), losing a node ends only
// its sessions, losing Redis keeps sessions running and refuses new ones until it is back.
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { WebSocket } from 'ws';
import { RawClient, addAgent, exchangeSessions, hasCommand, pairClients, spawnRelay, startRedis, waitLog, type SpawnedRelay, type TestRedis } from './helpers/relay.js';

const skip = hasCommand('redis-server') ? false : 'needs redis-server (scripts/setup.sh installs it)';

interface Cluster {
  redis: TestRedis;
  a: SpawnedRelay;
  b: SpawnedRelay;
  token: string;
}

async function cluster(t: Test, args: string[] = []): Promise<Cluster> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  // One agents.json for both nodes, as an admin would share it.
  const dataDir = mkdtempSync(join(tmpdir(), 'rso-cluster-'));
  const token = await addAgent(dataDir, 'anna', 'Anna', 'Acme');
  const a = await spawnRelay(['--redis', redis.url, '--join-rate', '10000', ...args], { dataDir });
  t.teardown(async () => void (await a.stop()));
  const b = await spawnRelay(['--redis', redis.url, '--join-rate', '10000', ...args], { dataDir });
  t.teardown(async () => void (await b.stop()));
  await waitLog(a, 'started');
  await waitLog(b, 'started');
  return { redis, a, b, token };
}

async function openRaw(url: string, role: 'agent' | 'customer', token?: string): Promise<{ c: RawClient; reply: Record<string, unknown> }> {
  const c = await RawClient.connect(url);
  await c.hello(role, token);
  c.send({ type: 'open' });
  return { c, reply: await c.next() };
}

t.test('cross-node pairing both ways, data both ways, unique nameplates', { skip }, async (t) => {
  const { a, b, token } = await cluster(t);
  const s1 = await pairClients({ openerUrl: a.url, joinerUrl: b.url, openerRole: 'customer', token });
  t.match(s1.opener.peer, { role: 'agent', agent: { id: 'anna', verified: true } }, 'the customer on A sees the agent verified on B');
  t.ok(await exchangeSessions(s1.opener, s1.joiner, 5, 200_000), 'customer on A <-> agent on B');
  t.equal(s1.opener.verificationCode, s1.joiner.verificationCode);
  const s2 = await pairClients({ openerUrl: b.url, joinerUrl: a.url, openerRole: 'agent', token });
  t.ok(await exchangeSessions(s2.opener, s2.joiner, 5, 200_000), 'agent on B <-> customer on A');
  t.ok(b.logs.some((l) => l.includes('"forwarded"')) && a.logs.some((l) => l.includes('"forwarded"')), 'each node forwarded a joiner to the other');

  // Many numbers open at once on both nodes: never the same one twice.
  const opens = await Promise.all(Array.from({ length: 60 }, (_, i) => openRaw(i % 2 ? a.url : b.url, 'customer')));
  const names = opens.map((o) => o.reply.nameplate as string);
  t.equal(new Set([...names, s1.nameplate, s2.nameplate]).size, 62, 'all nameplates distinct across nodes');
  for (const o of opens) o.c.close();

  // The node endpoint is closed to anyone without the cluster key.
  for (const headers of [{}, { 'x-rso-node-key': 'A'.repeat(43) }]) {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${a.url}/.rso/node/v1`, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => (ws.close(), resolve(101)));
      ws.on('error', () => resolve(-1));
    });
    t.equal(status, 403, `node endpoint refused (${Object.keys(headers).length ? 'wrong key' : 'no key'})`);
  }

  // A wrong number joined on the other node is still judged by the owner: unknown stays unknown.
  const lost = await RawClient.connect(b.url);
  await lost.hello('customer');
  lost.send({ type: 'join', nameplate: '000000' });
  t.match(await lost.next(), { type: 'error', code: 'RSO_ERR_UNKNOWN_NUMBER' });
  await s1.opener.close();
  await s2.opener.close();
});

t.test('losing a node ends only its sessions, with a clear error on the other node', { skip }, async (t) => {
  const { a, b, token } = await cluster(t);
  // Owned by A: customer opened on A, agent joined through B.
  const onA = await pairClients({ openerUrl: a.url, joinerUrl: b.url, openerRole: 'customer', token });
  // Owned by B, entirely on B.
  const onB = await pairClients({ openerUrl: b.url, openerRole: 'customer', token });
  // Owned by B, the customer reaching it through A.
  const viaA = await pairClients({ openerUrl: b.url, joinerUrl: a.url, openerRole: 'agent', token });
  const agentOnB = new Promise<{ by: string; error?: { code: string; message: string } }>((r) => onA.joiner.onClose(r as never));
  const customerViaA = new Promise<{ by: string }>((r) => viaA.joiner.onClose(r as never));
  a.proc.kill('SIGKILL');
  // The client shows the code's text; the relay's sentence travels in the detail for its log.
  t.match(await agentOnB, { by: 'relay', error: { code: 'RSO_ERR_UNREACHABLE', detail: /node that held this session stopped/ } }, 'the agent on B is told why');
  t.match(await customerViaA, { by: 'network' }, 'whoever was connected to A itself just lost its connection');
  t.ok(await exchangeSessions(onB.opener, onB.joiner), 'a session on B goes on');
  // A new pairing on B still works, and A's numbers do not linger as unknown owners.
  const again = await pairClients({ openerUrl: b.url, openerRole: 'agent', token });
  t.ok(await exchangeSessions(again.opener, again.joiner));
  const toDead = await RawClient.connect(b.url);
  await toDead.hello('agent', token);
  toDead.send({ type: 'join', nameplate: onA.nameplate });
  t.match(await toDead.next(), { type: 'error' }, "joining the dead node's number fails cleanly");
  await onB.opener.close();
  await again.opener.close();
});

t.test('losing Redis: running sessions go on, new ones are refused clearly, and come back with Redis', { skip }, async (t) => {
  const { redis, a, b, token } = await cluster(t);
  const s = await pairClients({ openerUrl: a.url, joinerUrl: b.url, openerRole: 'agent', token });
  await redis.stop();
  await waitLog(a, 'cluster-store-lost');
  t.ok(await exchangeSessions(s.opener, s.joiner), 'the cross-node session still carries data');
  for (const node of [a, b]) {
    const o = await openRaw(node.url, 'customer');
    t.match(o.reply, { type: 'error', code: 'RSO_ERR_RELAY_BUSY', message: /cluster store \(Redis\)/ }, 'open refused');
  }
  const j = await RawClient.connect(b.url);
  await j.hello('customer');
  j.send({ type: 'join', nameplate: '123' });
  t.match(await j.next(), { type: 'error', code: 'RSO_ERR_RELAY_BUSY' }, 'join refused');
  await t.rejects(
    pairClients({ openerUrl: b.url, openerRole: 'customer', token }),
    { code: 'RSO_ERR_RELAY_BUSY' },
    'the client library reports it with the code',
  );

  await redis.restart();
  await waitLog(a, 'cluster-store-up');
  // Both nodes reconnect within about a second; then pairing across nodes works again.
  const deadline = Date.now() + 10_000;
  let back: Awaited<ReturnType<typeof pairClients>> | undefined;
  while (!back && Date.now() < deadline) {
    back = await pairClients({ openerUrl: b.url, joinerUrl: a.url, openerRole: 'customer', token }).catch(() => undefined);
    if (!back) await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(back, 'a new cross-node session after Redis came back');
  t.ok(back && (await exchangeSessions(back.opener, back.joiner)));
  t.ok(await exchangeSessions(s.opener, s.joiner), 'the old session survived it all');
  // The old session's number was put back in the fresh Redis, so no node hands it out again.
  const owner = spawnSync('redis-cli', ['-p', String(redis.port), 'GET', `rso:np:${s.nameplate}`], { encoding: 'utf8' });
  t.match(owner.stdout.trim(), /^[0-9a-f]{16}$/, 'the live number is leased again after the restart');
  await s.opener.close();
  await back?.opener.close();
});
