// Agent accounts through the real CLI, a running relay picking up changes, and logs that
// never carry a token or a payload byte.
import t from 'tap';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, addAgent, pair, runCli, spawnRelay } from './helpers/relay.js';

t.test('agent add / list / remove through the CLI', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'rso-acc-')), 'relay');
  const token = await addAgent(dir, 'anna', 'Anna Lindqvist', 'Acme Support');
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  t.equal(statSync(join(dir, 'agents.json')).mode & 0o777, 0o600, 'file 0600');
  t.equal(statSync(dir).mode & 0o777, 0o700, 'folder 0700');
  const file = readFileSync(join(dir, 'agents.json'), 'utf8');
  t.notMatch(file, token, 'the token itself is not stored');
  t.match(file, /"tokenSha256": "[0-9a-f]{64}"/);

  const out = runCli(['relay', 'agent', 'add', 'bob', '--name', 'Bob', '--org', 'Acme', '--data', dir, '--url', 'wss://relay.example.com']);
  t.match(out.stdout, /rso login --relay wss:\/\/relay\.example\.com --token [A-Za-z0-9_-]{43}\n/);
  t.equal((out.stdout.match(/[A-Za-z0-9_-]{43}/g) ?? []).length, 1, 'the token is printed once');

  const dup = runCli(['relay', 'agent', 'add', 'anna', '--name', 'Anna', '--org', 'X', '--data', dir]);
  t.equal(dup.status, 2);
  t.match(dup.stderr, /already exists.*RSO_ERR_USAGE/);
  for (const [id, name] of [['Anna', 'A'], ['-x', 'A'], ['a'.repeat(65), 'A'], ['ok', 'bad\u001bname'], ['ok', 'n'.repeat(129)]]) {
    const bad = runCli(['relay', 'agent', 'add', id!, '--name', name!, '--org', 'X', '--data', dir]);
    t.equal(bad.status, 2, `refused: ${JSON.stringify([id, name]).slice(0, 40)}`);
  }

  const list = runCli(['relay', 'agent', 'list', '--json', '--data', dir]);
  t.equal(list.status, 0);
  t.match(JSON.parse(list.stdout), [{ id: 'anna', name: 'Anna Lindqvist', org: 'Acme Support', created: String }, { id: 'bob' }]);
  t.notMatch(list.stdout, /tokenSha256/);
  t.match(runCli(['relay', 'agent', 'list', '--data', dir]).stdout, /^ID +NAME +ORG +CREATED\nanna +Anna Lindqvist +Acme Support/);

  const gone = runCli(['relay', 'agent', 'remove', 'nobody', '--data', dir]);
  t.equal(gone.status, 2);
  t.match(gone.stderr, /No agent "nobody"/);
  t.equal(runCli(['relay', 'agent', 'remove', 'bob', '--data', dir]).status, 0);
  t.same(JSON.parse(runCli(['relay', 'agent', 'list', '--json', '--data', dir]).stdout).map((a: { id: string }) => a.id), ['anna']);
  t.equal(statSync(join(dir, 'agents.json')).mode & 0o777, 0o600, 'still 0600 after rewrite');

  // The data folder also comes from the environment.
  const viaEnv = runCli(['relay', 'agent', 'list', '--json'], { RSO_RELAY_DATA: dir });
  t.equal(JSON.parse(viaEnv.stdout).length, 1);

  writeFileSync(join(dir, 'agents.json'), '{not json');
  const broken = runCli(['relay', 'agent', 'list', '--data', dir]);
  t.equal(broken.status, 10);
  t.match(broken.stderr, /agents\.json: is not valid JSON; .*RSO_ERR_CONFIG/);
});

t.test('the running relay follows account changes without restart', async (t) => {
  const relay = await spawnRelay();
  t.teardown(async () => void (await relay.stop()));
  const hello = async (token: string) => {
    const c = await RawClient.connect(relay.url);
    const m = await c.hello('agent', token);
    c.close();
    return m;
  };
  const anna = await addAgent(relay.dataDir, 'anna', 'Anna', 'Acme');
  t.match(await hello(anna), { type: 'welcome', agent: { id: 'anna', name: 'Anna', org: 'Acme' } }, 'added while running');
  const bob = await addAgent(relay.dataDir, 'bob', 'Bob', 'Acme');
  t.match(await hello(bob), { type: 'welcome', agent: { id: 'bob' } });
  t.equal(runCli(['relay', 'agent', 'remove', 'anna', '--data', relay.dataDir]).status, 0);
  t.match(await hello(anna), { type: 'error', code: 'RSO_ERR_UNAUTHORIZED' }, 'removed while running');
  // A broken file keeps the last good accounts instead of locking everyone out.
  writeFileSync(join(relay.dataDir, 'agents.json'), '{"version":1,"agents":[{"id":"x"}]}');
  t.match(await hello(bob), { type: 'welcome', agent: { id: 'bob' } }, 'broken file: last good list');
  t.ok(relay.logs.some((l) => /"event":"accounts-error"/.test(l)), 'the broken file is logged');
  t.equal(relay.proc.exitCode, null);
});

t.test('a broken accounts file stops the relay at start with a clear error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rso-acc-'));
  writeFileSync(join(dir, 'agents.json'), '[]');
  const err = await spawnRelay([], { dataDir: dir }).catch((e: Error) => e);
  t.match(err, { message: /exited with 10 .*agents\.json: is not an rso agents file/ });
});

t.test('logs carry events but never a token or payload byte', async (t) => {
  const relay = await spawnRelay();
  t.teardown(async () => void (await relay.stop()));
  const token = await addAgent(relay.dataDir, 'anna', 'Anna', 'Acme');
  const marker = 'PAYLOAD-MARKER-7f3a9c';
  const s = await pair(relay.url, { role: 'agent', token }, { role: 'customer' });
  s.opener.sendBinary(Buffer.from(marker));
  s.joiner.sendBinary(Buffer.from(Buffer.from(marker).toString('base64')));
  await s.joiner.nextBinary();
  await s.opener.nextBinary();
  s.opener.send({ type: 'keyed', ok: true });
  s.joiner.send({ type: 'keyed', ok: true });
  // Two sockets: give the joiner's keyed time to land before the opener's bye.
  await new Promise((r) => setTimeout(r, 100));
  s.opener.send({ type: 'bye' });
  await s.joiner.closed;
  // A bad token in a hello must not be echoed either.
  const bad = await RawClient.connect(relay.url);
  await bad.hello('agent', 'BADTOKEN' + 'x'.repeat(30));
  await bad.closed;
  await new Promise((r) => setTimeout(r, 200));
  const text = relay.logs.join('\n');
  for (const event of ['connected', 'hello', 'opened', 'paired', 'keyed', 'established', 'ended', 'error', 'disconnected']) {
    t.ok(relay.logs.some((l) => (JSON.parse(l) as { event: string }).event === event), `logs ${event}`);
  }
  t.notMatch(text, marker);
  t.notMatch(text, Buffer.from(marker).toString('base64'));
  t.notMatch(text, token);
  t.notMatch(text, 'BADTOKEN');
  t.match(relay.logs.find((l) => /"event":"connected"/.test(l)), /"remote":"127\.0\.0\.1"/);
});
