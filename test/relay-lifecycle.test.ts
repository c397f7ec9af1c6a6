// Limits and lifecycle of a real relay process: --max-sessions, --idle-timeout, drain on
// SIGTERM with a live session (--drain-timeout), and the RSO_RELAY_* environment variables.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { RawClient, healthz, pair, spawnRelay } from './helpers/relay.js';

async function opener(url: string): Promise<{ c: RawClient; reply: Record<string, unknown> }> {
  const c = await RawClient.connect(url);
  await c.hello('agent');
  c.send({ type: 'open' });
  return { c, reply: await c.next() };
}

t.test('--max-sessions: the next open is refused with RSO_ERR_RELAY_BUSY until a slot frees', async (t) => {
  const relay = await spawnRelay(['--open', '--max-sessions', '2']);
  t.teardown(async () => void (await relay.stop()));
  const a = await opener(relay.url);
  const s = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  t.match(a.reply, { type: 'opened' });
  const full = await opener(relay.url);
  t.match(full.reply, { type: 'error', code: 'RSO_ERR_RELAY_BUSY', message: /full/ });
  await full.c.closed;
  s.joiner.send({ type: 'keyed', ok: true });
  s.opener.send({ type: 'keyed', ok: true });
  s.opener.send({ type: 'bye' });
  await s.joiner.closed;
  const again = await opener(relay.url);
  t.match(again.reply, { type: 'opened' }, 'an ended session frees its slot');
});

t.test('RSO_RELAY_MAX_SESSIONS works like the flag', async (t) => {
  const relay = await spawnRelay(['--open'], { env: { RSO_RELAY_MAX_SESSIONS: '1' } });
  t.teardown(async () => void (await relay.stop()));
  t.match((await opener(relay.url)).reply, { type: 'opened' });
  t.match((await opener(relay.url)).reply, { type: 'error', code: 'RSO_ERR_RELAY_BUSY' });
});

t.test('--idle-timeout ends a silent session; traffic keeps one alive', async (t) => {
  const relay = await spawnRelay(['--open'], { env: { RSO_RELAY_IDLE_TIMEOUT: '1' } });
  t.teardown(async () => void (await relay.stop()));
  const busy = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  const quiet = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  const started = Date.now();
  // One side talks every 200 ms for 2 s: both of its sockets count as active.
  const timer = setInterval(() => busy.opener.sendBinary(randomBytes(16)), 200);
  t.teardown(() => clearInterval(timer));
  const idleEnd = await quiet.opener.next(5000);
  const elapsed = Date.now() - started;
  t.match(idleEnd, { type: 'error', code: 'RSO_ERR_TIMEOUT' });
  t.same(await quiet.joiner.next(), { type: 'peer-left', reason: 'timeout' });
  t.ok(elapsed >= 900 && elapsed < 4000, `ended after about a second (${elapsed} ms)`);
  await new Promise((r) => setTimeout(r, 2000 - (Date.now() - started)));
  clearInterval(timer);
  t.same(busy.opener.pendingTexts(), [], 'the talking session was not ended');
  t.same(busy.joiner.pendingTexts(), []);
  busy.opener.sendBinary(Buffer.from('still here'));
  let last = '';
  while (last !== 'still here') last = (await busy.joiner.nextBinary()).toString();
  t.pass('the talking session still forwards');
});

t.test('SIGTERM drains: live session runs on, new ones are refused, exit 0 when it ends', async (t) => {
  const relay = await spawnRelay(['--open', '--drain-timeout', '30']);
  const live = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  live.opener.send({ type: 'keyed', ok: true });
  live.joiner.send({ type: 'keyed', ok: true });
  const waiting = await opener(relay.url);
  const idle = await RawClient.connect(relay.url);
  t.equal((await healthz(relay.port)).status, 200);

  relay.proc.kill('SIGTERM');
  t.match(await waiting.c.next(), { type: 'error', code: 'RSO_ERR_RELAY_BUSY', message: /shutting down/ }, 'a waiting number is told');
  t.match(await idle.next(), { type: 'error', code: 'RSO_ERR_RELAY_BUSY' }, 'a connection that has not paired is told');
  const h = await healthz(relay.port);
  t.equal(h.status, 503, 'health says draining, so a balancer sends new customers elsewhere');
  t.match(h.body, { status: 'draining', paired: 1 });
  const late = await RawClient.connect(relay.url);
  t.match(await late.hello('customer'), { type: 'error', code: 'RSO_ERR_RELAY_BUSY' }, 'a new client is refused');

  for (let i = 0; i < 5; i++) {
    live.opener.sendBinary(Buffer.from(`frame ${i}`));
    t.equal((await live.joiner.nextBinary()).toString(), `frame ${i}`, 'the live session still forwards');
  }
  t.equal(relay.proc.exitCode, null, 'still running while the session lives');
  const exitStarted = Date.now();
  live.joiner.send({ type: 'bye' });
  t.same(await live.opener.next(), { type: 'peer-left', reason: 'ended' });
  t.equal(await relay.exited, 0, 'exit 0');
  t.ok(Date.now() - exitStarted < 5000, 'exits soon after the last session ends, not at the deadline');
  t.ok(relay.logs.some((l) => l.includes('"drained"') && l.includes('"cut":0')), 'logged: nothing cut');
});

t.test('SIGTERM drain deadline: a session still running is told shutdown', async (t) => {
  const relay = await spawnRelay(['--open'], { env: { RSO_RELAY_DRAIN_TIMEOUT: '1' } });
  const live = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  const started = Date.now();
  relay.proc.kill('SIGTERM');
  t.same(await live.opener.next(5000), { type: 'peer-left', reason: 'shutdown' });
  t.same(await live.joiner.next(5000), { type: 'peer-left', reason: 'shutdown' });
  const waited = Date.now() - started;
  t.ok(waited >= 900, `waited for the deadline (${waited} ms)`);
  t.equal(await relay.exited, 0);
  t.ok(relay.logs.some((l) => l.includes('"drained"') && l.includes('"cut":1')), 'logged: one session cut');
});
