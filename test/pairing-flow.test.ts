// End-to-end pairing through a real relay process with real WebSocket clients: both ways of
// opening, the verification code, messages both ways byte-exact, and how a session ends.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { MAX_RECORD_PLAINTEXT } from '../src/protocol/version.js';
import { AGENT, Collector, pairSessions, recordingProxy, rejection, relayWithAgent } from './helpers/client-pairing.js';

const relay = await relayWithAgent();
t.teardown(() => relay.stop());

for (const openerRole of ['agent', 'customer'] as const) {
  t.test(`${openerRole}-opened pairing: same code, bytes both ways, close reaches the other side`, async (t) => {
    const p = await pairSessions({ openerUrl: relay.url, openerRole, token: relay.token });
    t.match(p.opener.verificationCode, /^[0-9]{4}$/);
    t.equal(p.opener.verificationCode, p.joiner.verificationCode, 'both sides show the same code');
    t.equal(p.opener.nameplate, p.number.nameplate);
    t.equal(p.joiner.nameplate, p.number.nameplate);
    t.equal(p.agent.role, 'agent');
    t.equal(p.customer.role, 'customer');
    t.same(p.customer.peer, { role: 'agent', agent: { ...AGENT, verified: true } }, 'the customer sees the verified agent');
    t.same(p.agent.peer, { role: 'customer' });
    t.equal(p.opener.relayName, `127.0.0.1:${relay.port}`);

    const agentIn = new Collector(p.agent);
    const customerIn = new Collector(p.customer);
    const toCustomer = [Buffer.from('hello customer'), randomBytes(MAX_RECORD_PLAINTEXT), new Uint8Array(0), randomBytes(70_000)];
    const toAgent = [Buffer.from('hello agent'), randomBytes(1), randomBytes(300_000)];
    await Promise.all([...toCustomer.map((m) => p.agent.send(m)), ...toAgent.map((m) => p.customer.send(m))]);
    const gotByCustomer = await customerIn.waitMessages(toCustomer.length);
    const gotByAgent = await agentIn.waitMessages(toAgent.length);
    toCustomer.forEach((m, i) => t.ok(Buffer.from(gotByCustomer[i] as Uint8Array).equals(m), `agent -> customer #${i} byte-exact`));
    toAgent.forEach((m, i) => t.ok(Buffer.from(gotByAgent[i] as Uint8Array).equals(m), `customer -> agent #${i} byte-exact`));

    // One message too large is refused locally, and the session survives it.
    const tooBig = await rejection(p.agent.send(new Uint8Array(MAX_RECORD_PLAINTEXT + 1)));
    t.equal(tooBig.code, 'RSO_ERR_TOO_LARGE');
    await p.agent.send(Buffer.from('still here'));
    t.equal(Buffer.from((await customerIn.waitMessages(toCustomer.length + 1)).at(-1) as Uint8Array).toString(), 'still here');

    // The opener ends it for agent-opened, the joiner for customer-opened: both directions covered.
    const closer = openerRole === 'agent' ? p.agent : p.customer;
    const other = closer === p.agent ? customerIn : agentIn;
    const mine = closer === p.agent ? agentIn : customerIn;
    await closer.close();
    t.same(await other.waitClose(), { by: 'peer' }, 'the other side sees an authenticated close');
    t.same(await mine.waitClose(), { by: 'us' });
    t.equal(other.closeCount, 1);
    t.equal(mine.closeCount, 1);
    const after = await rejection(closer.send(Buffer.from('x')));
    t.equal(after.code, 'RSO_ERR_PEER_LEFT');
    // A second close() is harmless and onClose still fired only once.
    await closer.close();
    await new Promise((r) => setTimeout(r, 50));
    t.equal(mine.closeCount, 1);
  });
}

t.test('messages sent before the peer listens are kept, in order, and a late onClose still fires', async (t) => {
  const p = await pairSessions({ openerUrl: relay.url, openerRole: 'customer', token: relay.token });
  const msgs = Array.from({ length: 20 }, (_, i) => Buffer.from(`early ${i}`));
  for (const m of msgs) await p.customer.send(m);
  await p.customer.close();
  // Everything has arrived (and the session has ended) before the agent looks.
  await new Promise((r) => setTimeout(r, 300));
  const late = new Collector(p.agent);
  const got = await late.waitMessages(msgs.length);
  t.same(got.map((m) => Buffer.from(m).toString()), msgs.map((m) => m.toString()));
  t.same(await late.waitClose(), { by: 'peer' });
});

t.test('a connection that drops without a close record ends the session as network / PEER_LEFT', async (t) => {
  const proxy = await recordingProxy(relay.port);
  t.teardown(() => proxy.close());
  // The customer goes through the proxy; cutting it kills the customer's socket mid-session.
  const p = await pairSessions({ openerUrl: relay.url, joinerUrl: proxy.url, openerRole: 'agent', token: relay.token });
  const agentIn = new Collector(p.agent);
  const customerIn = new Collector(p.customer);
  await p.customer.send(Buffer.from('before the cut'));
  await agentIn.waitMessages(1);
  proxy.cut();
  const a = await agentIn.waitClose();
  t.equal(a.by, 'network');
  t.equal(a.error?.code, 'RSO_ERR_PEER_LEFT');
  const c = await customerIn.waitClose();
  t.equal(c.by, 'network');
  t.equal(c.error?.code, 'RSO_ERR_PEER_LEFT');
});

t.test('aborting a waiting opener closes its connection and rejects with the reason', async (t) => {
  const ac = new AbortController();
  let opened = false;
  const { openSession } = await import('../src/client/session.js');
  const p = openSession({ relay: relay.url, role: 'customer', onOpened: () => (opened = true), signal: ac.signal });
  while (!opened) await new Promise((r) => setTimeout(r, 10));
  const reason = new Error('user pressed Ctrl-C');
  ac.abort(reason);
  t.equal(await rejection(p), reason);
});
