// A peer that vanishes is known within 3 s: kill -9 (the kernel closes its socket, the relay
// says peer-left), a stopped process (SIGSTOP: the socket stays open and silent), and a pulled
// cable (a TCP proxy that keeps both connections open but stops forwarding anything). The last
// two are only visible through the heartbeats inside the encrypted channel.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { joinSession, type CloseInfo, type SecureSession } from '../src/client/session.js';
import { pairSessions, relayWithAgent, type TestRelay } from './helpers/client-pairing.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const distSession = join(root, 'dist', 'client', 'session.js');
const skip = existsSync(distSession) ? false : 'run `npx tsc -p tsconfig.build.json` first';

/** A customer in its own process: opens a session, prints the number, then only keeps it alive. */
function spawnCustomer(relay: string): { proc: ChildProcess; number: Promise<string> } {
  const code = `
    import { openSession } from ${JSON.stringify(distSession)};
    const s = await openSession({ relay: ${JSON.stringify(relay)}, role: 'customer', onOpened: (n) => console.log(n.nameplate + n.secret) });
    s.onMessage(() => {});
    s.onClose(() => process.exit(0));
    console.log('keyed');
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const number = new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^(\d{9,})$/m.exec(buf);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (c) => reject(new Error(`customer exited with ${c}`)));
  });
  return { proc, number };
}

function closed(s: SecureSession): Promise<{ info: CloseInfo; at: number }> {
  return new Promise((resolve) => s.onClose((info) => resolve({ info, at: Date.now() })));
}

async function pairWithChild(t: Test, relay: TestRelay): Promise<{ proc: ChildProcess; agent: SecureSession }> {
  const c = spawnCustomer(relay.url);
  t.teardown(() => void c.proc.kill('SIGKILL'));
  const agent = await joinSession({ relay: relay.url, role: 'agent', token: relay.token, number: await c.number });
  t.teardown(() => agent.close().catch(() => undefined));
  return { proc: c.proc, agent };
}

t.test('kill -9 of the peer process: known within 3 s', { skip }, async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const { proc, agent } = await pairWithChild(t, relay);
  const end = closed(agent);
  let endedEarly = false;
  void end.then(() => (endedEarly = true));
  // Idle for longer than the silence limit first: heartbeats alone keep an idle session alive.
  await new Promise((r) => setTimeout(r, 3500));
  t.notOk(endedEarly, 'an idle session stays open');
  const killedAt = Date.now();
  proc.kill('SIGKILL');
  const { info, at } = await end;
  t.equal(info.by, 'network');
  t.equal(info.error?.code, 'RSO_ERR_PEER_LEFT');
  t.ok(at - killedAt < 3000, `known after ${at - killedAt} ms`);
});

t.test('a stopped peer (SIGSTOP, socket open and silent): known within 3 s through the heartbeats', { skip }, async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const { proc, agent } = await pairWithChild(t, relay);
  const end = closed(agent);
  const stoppedAt = Date.now();
  proc.kill('SIGSTOP');
  t.teardown(() => void proc.kill('SIGCONT'));
  const { info, at } = await end;
  t.equal(info.by, 'network');
  t.equal(info.error?.code, 'RSO_ERR_PEER_LEFT');
  t.match(info.error?.message, /stopped answering/, 'the sentence says what happened');
  t.ok(at - stoppedAt < 3000, `known after ${at - stoppedAt} ms`);
  t.ok(at - stoppedAt >= 1000, 'not before the silence limit (the relay said nothing)');
});

/** A TCP proxy whose pull() keeps every connection open but forwards nothing more, either way. */
async function cableProxy(targetPort: number): Promise<{ url: string; pull(): void; close(): void }> {
  let pulled = false;
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.push(client, upstream);
    client.on('data', (d: Buffer) => void (pulled || upstream.write(d)));
    upstream.on('data', (d: Buffer) => void (pulled || client.write(d)));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pull: () => void (pulled = true),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

t.test('a pulled cable (nothing forwarded, nothing closed): both sides know within 3 s', async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const proxy = await cableProxy(relay.port);
  t.teardown(() => proxy.close());
  const pair = await pairSessions({ openerUrl: relay.url, joinerUrl: proxy.url, openerRole: 'customer', token: relay.token });
  t.teardown(() => Promise.all([pair.agent.close(), pair.customer.close()]).catch(() => undefined));
  // Data still flows before the cable is pulled.
  const got = new Promise<Uint8Array>((r) => pair.customer.onMessage(r));
  await pair.agent.send(Uint8Array.of(1, 2, 3));
  t.same([...(await got)], [1, 2, 3]);
  const ends = [closed(pair.agent), closed(pair.customer)];
  const pulledAt = Date.now();
  proxy.pull();
  const [agentEnd, customerEnd] = await Promise.all(ends);
  for (const [who, e] of [['agent (behind the cable)', agentEnd!], ['customer (on the relay)', customerEnd!]] as const) {
    t.equal(e.info.by, 'network', `${who}: by network`);
    t.equal(e.info.error?.code, 'RSO_ERR_PEER_LEFT', `${who}: PEER_LEFT`);
    t.ok(e.at - pulledAt < 3000, `${who}: known after ${e.at - pulledAt} ms`);
  }
});
