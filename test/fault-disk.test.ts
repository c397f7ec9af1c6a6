// A relay whose files cannot be written: the audit file on a full disk (/dev/full answers every
// write with ENOSPC), and the --data folder on a tiny tmpfs filled to the last byte. The relay
// keeps forwarding and pairing, logs the audit problem once (per minute, not per event), and
// an agent-account change is refused with a sentence that names the file.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pairSessions, relayWithAgent, type TestRelay } from './helpers/client-pairing.js';
import { addAgent, logEvents, runCli, spawnRelay, type SpawnedRelay } from './helpers/relay.js';

async function exchange(relay: { url: string }, token: string): Promise<void> {
  const pair = await pairSessions({ openerUrl: relay.url, openerRole: 'customer', token });
  const got = new Promise<Uint8Array>((r) => pair.customer.onMessage(r));
  await pair.agent.send(Uint8Array.of(7, 7, 7));
  if ((await got).length !== 3) throw new Error('data did not arrive');
  await pair.agent.close();
  await pair.customer.close().catch(() => undefined);
}

t.test('audit file on a full disk: sessions go on, one log line about it, not one per event', async (t) => {
  const relay: TestRelay = await relayWithAgent(['--audit', '/dev/full']);
  t.teardown(() => relay.stop());
  // A session that stays open across the failures, and three more that open, pair and end
  // (each writes opened, paired and ended lines, all lost).
  const long = await pairSessions({ openerUrl: relay.url, openerRole: 'agent', token: relay.token });
  t.teardown(() => Promise.all([long.agent.close(), long.customer.close()]).catch(() => undefined));
  for (let i = 0; i < 3; i++) await exchange(relay, relay.token);
  const got = new Promise<Uint8Array>((r) => long.agent.onMessage(r));
  await long.customer.send(Uint8Array.of(1, 2));
  t.same([...(await got)], [1, 2], 'the long session still forwards');
  await new Promise((r) => setTimeout(r, 200));
  const problems = logEvents(relay.logs).filter((e) => e.event === 'audit-write-failed');
  t.equal(problems.length, 1, 'one line for all the failed writes of this minute');
  t.match(problems[0], { file: '/dev/full', error: 'ENOSPC', lostLines: 1 });
  t.equal(relay.proc.exitCode, null, 'the relay runs');
});

/** A tmpfs of `size` mounted on a fresh folder (root only); null with the reason when that is not possible. */
function tinyTmpfs(size: string): { dir: string; unmount(): void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'rso-tinyfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${r.stderr.trim()}`;
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const probe = tinyTmpfs('256k');
const noTmpfs = typeof probe === 'string' ? probe : false;
if (typeof probe !== 'string') probe.unmount();

t.test('--data on a full disk: the relay forwards and lets agents in; an account change is refused naming the file', { skip: noTmpfs }, async (t) => {
  const fs = tinyTmpfs('256k');
  if (typeof fs === 'string') throw new Error(fs);
  t.teardown(() => fs.unmount());
  const data = join(fs.dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const token = await addAgent(data, 'anna', 'Anna Schmidt', 'ACME Support');
  const relay: SpawnedRelay = await spawnRelay(['--join-rate', '100000'], { dataDir: data });
  t.teardown(() => relay.stop());
  // Fill the file system to the last block.
  const filler = join(fs.dir, 'filler');
  let size = 0;
  for (const chunk of [65536, 4096, 512, 1]) {
    for (;;) {
      try {
        writeFileSync(filler, Buffer.alloc(chunk), { flag: 'a' });
        size += chunk;
      } catch {
        break;
      }
    }
  }
  t.ok(size > 0, `the disk is full (${size} bytes of filler)`);

  const add = runCli(['relay', 'agent', 'add', 'bob', '--name', 'Bob', '--org', 'ACME', '--data', data]);
  t.equal(add.status, 10, 'refused with the CONFIG exit status');
  t.match(add.stderr, new RegExp(`${join(data, 'agents.json').replace(/[.]/g, '\\.')}.*cannot be written`), 'the sentence names the file');
  t.match(add.stderr, /RSO_ERR_CONFIG/);
  const remove = runCli(['relay', 'agent', 'remove', 'anna', '--data', data]);
  t.equal(remove.status, 10, 'removing is refused the same way, and anna stays');

  await exchange(relay, token);
  t.pass('a new session pairs and forwards; the existing agent still signs in');
  t.equal(relay.proc.exitCode, null, 'the relay runs');
});
