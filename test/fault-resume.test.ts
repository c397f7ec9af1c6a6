// Relay restart mid-session: the real relay process is killed (SIGKILL) and started again on
// the same port; both sides reconnect by themselves and resume under fresh keys. A relay that
// tries to resume the session itself (it knows the public resume id, not the resume secret) is
// caught by both sides; an outage longer than the resume window ends both cleanly.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { joinSession, openSession, type CloseInfo, type ResumeEvent, type SecureSession } from '../src/client/session.js';
import type { SessionNumber } from '../src/crypto/code.js';
import { startHandshake, stepHandshake, type HandshakeState } from '../src/crypto/handshake.js';
import { encodeMessage, parseClientMessage } from '../src/protocol/relay.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import { relayWithAgent, type TestRelay } from './helpers/client-pairing.js';
import { spawnRelay, type SpawnedRelay } from './helpers/relay.js';

interface Side {
  session: SecureSession;
  messages: string[];
  events: Array<ResumeEvent & { at: number }>;
  closed: Promise<{ info: CloseInfo; at: number }>;
}

function watch(session: SecureSession): Side {
  const side: Side = { session, messages: [], events: [], closed: new Promise((r) => session.onClose((info) => r({ info, at: Date.now() }))) };
  session.onMessage((d) => side.messages.push(Buffer.from(d).toString()));
  session.onResume((e) => side.events.push({ ...e, at: Date.now() }));
  return side;
}

async function pair(relay: TestRelay, resumeWindowMs?: number): Promise<{ customer: Side; agent: Side }> {
  const extra = resumeWindowMs !== undefined ? { resumeWindowMs } : {};
  let number!: (n: SessionNumber) => void;
  const known = new Promise<SessionNumber>((r) => (number = r));
  const customerP = openSession({ relay: relay.url, role: 'customer', onOpened: (n) => number(n), ...extra });
  const agentP = joinSession({ relay: relay.url, role: 'agent', token: relay.token, number: await known, ...extra });
  const [customer, agent] = await Promise.all([customerP, agentP]);
  return { customer: watch(customer), agent: watch(agent) };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function kill(relay: SpawnedRelay): Promise<void> {
  relay.proc.kill('SIGKILL');
  await relay.exited;
}

function restart(relay: TestRelay): Promise<SpawnedRelay> {
  return spawnRelay(['--join-rate', '100000', '--listen', `127.0.0.1:${relay.port}`], { dataDir: relay.dataDir });
}

t.test('relay killed and restarted on the same port: both sides resume within 5 s, fresh keys, data flows', async (t) => {
  const relay = await relayWithAgent();
  let current: SpawnedRelay = relay;
  t.teardown(() => current.stop());
  const { customer, agent } = await pair(relay);
  t.teardown(() => Promise.all([customer.session.close(), agent.session.close()]).catch(() => undefined));
  await agent.session.send(Buffer.from('before'));
  await until(() => customer.messages.includes('before'), 5000, 'data before the restart');

  await kill(relay);
  await until(() => customer.events.length > 0 && agent.events.length > 0, 5000, 'both notice the lost relay');
  t.same([customer.events[0]?.type, agent.events[0]?.type], ['resuming', 'resuming'], 'both say they are resuming');
  // Sent while the relay is down: dropped, not queued and not an error.
  await customer.session.send(Buffer.from('lost in the outage'));
  await new Promise((r) => setTimeout(r, 500));
  const restartedAt = Date.now();
  current = await restart(relay);
  await until(() => customer.events.some((e) => e.type === 'resumed') && agent.events.some((e) => e.type === 'resumed'), 5000, 'both resumed');
  const resumedAt = Math.max(...[customer, agent].map((s) => s.events.find((e) => e.type === 'resumed')!.at));
  t.ok(resumedAt - restartedAt < 5000, `both resumed ${resumedAt - restartedAt} ms after the relay came back`);
  t.equal(customer.session.verificationCode, agent.session.verificationCode, 'the new verification code is the same on both sides');

  await agent.session.send(Buffer.from('after, to the customer'));
  await customer.session.send(Buffer.from('after, to the agent'));
  await until(() => customer.messages.includes('after, to the customer') && agent.messages.includes('after, to the agent'), 5000, 'data after the resume');
  t.notOk(agent.messages.includes('lost in the outage'), 'what was sent during the outage is gone, not replayed');
  // The restarted relay saw a resume and a pairing, never a secret.
  await until(() => current.logs.some((l) => l.includes('"established"')), 5000, 'relay logged the established resume');
  t.notOk(current.logs.some((l) => l.includes('"opened"')), 'no new number was opened');

  // A second restart resumes again (the resume secret was renewed by the first resume).
  await kill(current);
  await until(() => customer.events.filter((e) => e.type === 'resuming').length === 2, 5000, 'second outage noticed');
  current = await restart(relay);
  await until(() => customer.events.filter((e) => e.type === 'resumed').length === 2 && agent.events.filter((e) => e.type === 'resumed').length === 2, 5000, 'resumed twice');
  await agent.session.send(Buffer.from('twice'));
  await until(() => customer.messages.includes('twice'), 5000, 'data after the second resume');

  const end = customer.closed;
  await agent.session.close();
  t.equal((await end).info.by, 'peer', 'the resumed session still ends with an authenticated close');
});

t.test('an outage longer than the resume window ends both sides with a clear sentence', async (t) => {
  const relay = await relayWithAgent();
  const { customer, agent } = await pair(relay, 1500);
  const killedAt = Date.now();
  await kill(relay);
  const [c, a] = await Promise.all([customer.closed, agent.closed]);
  for (const [who, e] of [['customer', c], ['agent', a]] as const) {
    t.equal(e.info.by, 'network', `${who}: by network`);
    t.equal(e.info.error?.code, 'RSO_ERR_PEER_LEFT', `${who}: PEER_LEFT`);
    t.match(e.info.error?.message, /could not be resumed within 2 s; the session has ended/, `${who}: says why`);
    t.ok(e.at - killedAt >= 1400 && e.at - killedAt < 4000, `${who}: ended ${e.at - killedAt} ms after the relay died`);
  }
  t.ok(customer.events.some((e) => e.type === 'resuming') && !customer.events.some((e) => e.type === 'resumed'), 'it tried, and said so');
});

/**
 * A relay that answers resume by pairing each side with itself: it plays the other role in the
 * handshake with a guessed resume secret. It knows everything the relay sees (the rid, the
 * nameplate, the roles), nothing else.
 */
async function maliciousRelay(port: number, nameplate: string): Promise<{ attempts: () => number; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((r) => wss.once('listening', r));
  let attempts = 0;
  wss.on('connection', (ws: WebSocket) => {
    let role: 'agent' | 'customer' = 'customer';
    let hs: HandshakeState | null = null;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const msg = parseClientMessage(data.toString());
        if (msg.type === 'hello') {
          role = msg.role;
          ws.send(encodeMessage({ type: 'welcome', v: PROTOCOL_VERSION, relay: `127.0.0.1:${port}`, open: false, agent: role === 'agent' ? { id: 'anna', name: 'Anna Schmidt', org: 'ACME Support' } : null }));
        } else if (msg.type === 'resume') {
          attempts++;
          const sid = randomBytes(16);
          ws.send(encodeMessage({ type: 'paired', sid: sid.toString('base64url'), peer: role === 'customer' ? { role: 'agent', agent: { id: 'anna', name: 'Anna Schmidt', org: 'ACME Support', verified: true } } : { role: 'customer' } }));
          const started = startHandshake({ role: role === 'customer' ? 'agent' : 'customer', secret: new Uint8Array(randomBytes(32)), nameplate, sid: new Uint8Array(sid) });
          hs = started.state;
          for (const f of started.send) ws.send(f);
        }
        return;
      }
      if (!hs) return;
      try {
        const out = stepHandshake(hs, new Uint8Array(data as Buffer));
        hs = out.state;
        for (const f of out.send) ws.send(f);
      } catch {
        hs = null;
      }
    });
  });
  return {
    attempts: () => attempts,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

t.test('a relay that tries to resume the session itself is detected by both sides, which end at once', async (t) => {
  const relay = await relayWithAgent();
  const { customer, agent } = await pair(relay);
  await kill(relay);
  const evil = await maliciousRelay(relay.port, customer.session.nameplate);
  t.teardown(() => evil.close());
  const [c, a] = await Promise.all([customer.closed, agent.closed]);
  for (const [who, e] of [['customer', c], ['agent', a]] as const) {
    t.equal(e.info.error?.code, 'RSO_ERR_WRONG_CODE', `${who}: the guessed resume secret failed key confirmation`);
    t.match(e.info.error?.message, /could not be resumed.*take it over/, `${who}: says so`);
    t.equal(e.info.by, 'relay', `${who}: blamed on the relay`);
  }
  t.equal(evil.attempts(), 2, 'one attempt per side: no retry after a failed confirmation');
  t.notOk(customer.events.some((e) => e.type === 'resumed') || agent.events.some((e) => e.type === 'resumed'), 'never resumed');
  await t.rejects(customer.session.send(Buffer.from('x')), { code: 'RSO_ERR_WRONG_CODE' }, 'nothing more can be sent');
});
