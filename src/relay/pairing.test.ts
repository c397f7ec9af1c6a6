import t from 'tap';
import type { ServerMessage } from '../protocol/relay.js';
import { counts, initialState, step, type Auth, type ConnId, type Effect, type PairingConfig, type PairingEvent, type PairingState } from './pairing.js';

const ANNA = { id: 'anna', name: 'Anna', org: 'Acme' };

function config(over: Partial<PairingConfig> = {}): PairingConfig {
  let sid = 0;
  let draws = 0;
  return {
    codeTtlMs: 600_000,
    helloTimeoutMs: 10_000,
    open: false,
    // Deterministic nameplates 100, 101, ... and sids.
    randomInt: (max) => (100 + draws++) % max,
    newSid: () => `sid${String(sid++).padStart(19, '0')}`,
    ...over,
  };
}

/** Drives the machine, keeping state and the effects of the last step. */
class Harness {
  state: PairingState;
  effects: Effect[] = [];
  now = 0;
  constructor(cfg: PairingConfig = config()) {
    this.state = initialState(cfg);
  }
  ev(e: PairingEvent): Effect[] {
    const r = step(this.state, e);
    this.state = r.state;
    this.effects = r.effects;
    return r.effects;
  }
  connect(conn: ConnId): void {
    this.ev({ type: 'connect', conn, now: this.now, relay: 'relay.test:443' });
  }
  hello(conn: ConnId, role: 'agent' | 'customer', auth: Auth = role === 'agent' ? { kind: 'valid', identity: ANNA } : { kind: 'none' }): Effect[] {
    return this.ev({ type: 'hello', conn, now: this.now, role, auth });
  }
  open(conn: ConnId): string {
    this.ev({ type: 'open', conn, now: this.now });
    const m = this.sent(conn)[0];
    if (m?.type !== 'opened') throw new Error(`no opened: ${JSON.stringify(this.effects)}`);
    return m.nameplate;
  }
  join(conn: ConnId, nameplate: string, throttled = false): Effect[] {
    return this.ev({ type: 'join', conn, now: this.now, nameplate, throttled });
  }
  keyed(conn: ConnId, ok: boolean): Effect[] {
    return this.ev({ type: 'keyed', conn, now: this.now, ok });
  }
  sent(conn: ConnId): ServerMessage[] {
    return this.effects.flatMap((e) => (e.type === 'send' && e.conn === conn ? [e.msg] : []));
  }
  closedConns(): ConnId[] {
    return this.effects.flatMap((e) => (e.type === 'close' ? [e.conn] : []));
  }
  /** Agent 1 opens, customer 2 joins. */
  paired(): string {
    this.connect(1);
    this.hello(1, 'agent');
    const np = this.open(1);
    this.connect(2);
    this.hello(2, 'customer');
    this.join(2, np);
    return np;
  }
}

t.test('hello: welcome for customer and verified agent', async (t) => {
  const h = new Harness();
  h.connect(1);
  h.hello(1, 'customer');
  t.same(h.sent(1), [{ type: 'welcome', v: 1, relay: 'relay.test:443', open: false, agent: null }]);
  h.connect(2);
  h.hello(2, 'agent');
  t.same(h.sent(2), [{ type: 'welcome', v: 1, relay: 'relay.test:443', open: false, agent: ANNA }]);
});

t.test('hello: token rules', async (t) => {
  const cases: { name: string; open: boolean; role: 'agent' | 'customer'; auth: Auth; code?: string }[] = [
    { name: 'agent without token, closed relay', open: false, role: 'agent', auth: { kind: 'none' }, code: 'RSO_ERR_UNAUTHORIZED' },
    { name: 'agent with bad token, closed relay', open: false, role: 'agent', auth: { kind: 'invalid' }, code: 'RSO_ERR_UNAUTHORIZED' },
    { name: 'agent with bad token, open relay', open: true, role: 'agent', auth: { kind: 'invalid' }, code: 'RSO_ERR_UNAUTHORIZED' },
    { name: 'agent without token, open relay', open: true, role: 'agent', auth: { kind: 'none' } },
    { name: 'customer with a token', open: true, role: 'customer', auth: { kind: 'invalid' }, code: 'RSO_ERR_PROTOCOL' },
    { name: 'customer with a valid-looking token', open: false, role: 'customer', auth: { kind: 'valid', identity: ANNA }, code: 'RSO_ERR_PROTOCOL' },
  ];
  for (const c of cases) {
    const h = new Harness(config({ open: c.open }));
    h.connect(1);
    h.hello(1, c.role, c.auth);
    const msg = h.sent(1)[0];
    if (c.code) {
      t.equal(msg?.type === 'error' && msg.code, c.code, c.name);
      t.same(h.closedConns(), [1], `${c.name}: closed`);
    } else {
      t.same(msg, { type: 'welcome', v: 1, relay: 'relay.test:443', open: true, agent: { id: 'unverified', name: 'Unverified agent', org: '' } }, c.name);
    }
  }
});

t.test('out-of-order messages are protocol errors that close only that connection', async (t) => {
  const h = new Harness();
  h.connect(1);
  h.ev({ type: 'open', conn: 1, now: 0 });
  t.match(h.sent(1), [{ type: 'error', code: 'RSO_ERR_PROTOCOL' }], 'open before hello');
  t.same(h.closedConns(), [1]);
  h.connect(2);
  h.hello(2, 'agent');
  h.hello(2, 'agent');
  t.match(h.sent(2), [{ type: 'error', code: 'RSO_ERR_PROTOCOL', message: /twice/ }], 'second hello');
  h.connect(3);
  h.hello(3, 'agent');
  const np = h.open(3);
  h.join(3, np);
  t.match(h.sent(3), [{ type: 'error', code: 'RSO_ERR_PROTOCOL' }], 'join after open');
  t.equal(h.state.plates.has(np), false, 'its nameplate went with it');
  h.connect(4);
  h.hello(4, 'customer');
  h.keyed(4, true);
  t.match(h.sent(4), [{ type: 'error', code: 'RSO_ERR_PROTOCOL' }], 'keyed before pairing');
  // Messages that arrive after the close was decided are dropped, not answered twice.
  t.same(h.keyed(4, true), []);
});

t.test('agent opens, customer joins: paired with identity, linked, then established', async (t) => {
  const h = new Harness();
  const np = h.paired();
  t.equal(np, '100');
  t.same(h.sent(2), [{ type: 'paired', sid: 'sid0000000000000000000', peer: { role: 'agent', agent: { ...ANNA, verified: true } } }]);
  t.same(h.sent(1), [{ type: 'paired', sid: 'sid0000000000000000000', peer: { role: 'customer' } }]);
  t.match(h.effects, [{ type: 'send' }, { type: 'send' }, { type: 'link', a: 1, b: 2 }]);
  t.same(counts(h.state), { pending: 0, paired: 1, connections: 2 });
  h.keyed(1, true);
  t.equal(h.state.plates.get(np)?.establishedAt, null, 'one side is not enough');
  h.keyed(2, true);
  t.equal(h.state.plates.get(np)?.establishedAt, 0);
  h.keyed(2, true);
  t.match(h.sent(2), [{ type: 'error', code: 'RSO_ERR_PROTOCOL' }], 'keyed twice');
});

t.test('customer opens, agent joins', async (t) => {
  const h = new Harness();
  h.connect(1);
  h.hello(1, 'customer');
  const np = h.open(1);
  h.connect(2);
  h.hello(2, 'agent');
  h.join(2, np);
  t.same(h.sent(1), [{ type: 'paired', sid: 'sid0000000000000000000', peer: { role: 'agent', agent: { ...ANNA, verified: true } } }]);
  t.same(h.sent(2), [{ type: 'paired', sid: 'sid0000000000000000000', peer: { role: 'customer' } }]);
});

t.test('join errors', async (t) => {
  const h = new Harness(config({ codeTtlMs: 1000 }));
  const np = h.paired();
  h.connect(3);
  h.hello(3, 'customer');
  h.join(3, np);
  t.match(h.sent(3), [{ type: 'error', code: 'RSO_ERR_CROWDED' }], 'third party');
  t.same(h.closedConns(), [3]);
  h.connect(4);
  h.hello(4, 'customer');
  h.join(4, '999');
  t.match(h.sent(4), [{ type: 'error', code: 'RSO_ERR_UNKNOWN_NUMBER' }]);
  h.connect(5);
  h.hello(5, 'customer');
  h.join(5, np, true);
  t.match(h.sent(5), [{ type: 'error', code: 'RSO_ERR_THROTTLED' }]);
  h.connect(6);
  h.hello(6, 'agent');
  const np2 = h.open(6);
  h.connect(7);
  h.hello(7, 'agent');
  h.join(7, np2);
  t.match(h.sent(7), [{ type: 'error', code: 'RSO_ERR_PROTOCOL', message: /agents/ }], 'same role');
  t.equal(h.state.plates.get(np2)?.attempt, null, 'the opener keeps waiting');
});

t.test('three failed key confirmations burn the nameplate; fewer let the opener retry', async (t) => {
  const h = new Harness();
  const np = h.paired();
  h.keyed(2, false);
  t.match(h.sent(2), [{ type: 'error', code: 'RSO_ERR_WRONG_CODE' }]);
  t.same(h.sent(1), [{ type: 'peer-left', reason: 'wrong-code' }]);
  t.same(h.closedConns(), [2]);
  t.ok(h.effects.some((e) => e.type === 'unlink' && e.a === 1 && e.b === 2), 'forwarding stops');
  t.equal(h.state.plates.get(np)?.failures, 1);
  t.same(counts(h.state).pending, 1, 'pending again');

  // Attempt 2: the opener reports the failure; the joiner is told and closed.
  h.connect(3);
  h.hello(3, 'customer');
  h.join(3, np);
  t.match(h.sent(3), [{ type: 'paired', sid: 'sid0000000000000000001' }], 'fresh sid per attempt');
  h.keyed(1, false);
  h.keyed(3, false); // the same attempt's other report does not count again
  t.equal(h.state.plates.get(np)?.failures, 2);

  // Attempt 3: the joiner leaves first, then the opener's failure still counts.
  h.connect(4);
  h.hello(4, 'customer');
  h.join(4, np);
  h.ev({ type: 'closed', conn: 4, now: 0 });
  t.same(h.sent(1), [{ type: 'peer-left', reason: 'closed' }]);
  h.keyed(1, false);
  t.match(h.sent(1), [{ type: 'error', code: 'RSO_ERR_BURNT' }]);
  t.same(h.closedConns(), [1]);
  t.equal(h.state.plates.has(np), false);
  t.equal(h.state.tombstones.get(np)?.reason, 'burnt');

  h.connect(5);
  h.hello(5, 'customer');
  h.join(5, np);
  t.match(h.sent(5), [{ type: 'error', code: 'RSO_ERR_BURNT' }], 'later join');
});

t.test('expiry keeps the deadline of open across retries, then tombstones', async (t) => {
  const h = new Harness(config({ codeTtlMs: 1000 }));
  const np = h.paired();
  h.now = 900;
  h.keyed(2, false); // back to pending at 900; deadline stays 1000
  h.now = 999;
  t.same(h.ev({ type: 'tick', now: 999 }), []);
  h.now = 1000;
  h.ev({ type: 'tick', now: 1000 });
  t.match(h.sent(1), [{ type: 'error', code: 'RSO_ERR_EXPIRED' }]);
  t.same(h.closedConns(), [1]);
  h.connect(9);
  h.hello(9, 'customer');
  h.join(9, np);
  t.match(h.sent(9), [{ type: 'error', code: 'RSO_ERR_EXPIRED' }]);
  h.ev({ type: 'tick', now: 2000 });
  t.equal(h.state.tombstones.has(np), false, 'tombstone kept for code-ttl only');
});

t.test('a number in an attempt does not expire under it', async (t) => {
  const h = new Harness(config({ codeTtlMs: 1000 }));
  h.paired();
  t.same(h.ev({ type: 'tick', now: 5000 }), []);
});

t.test('hello timeout', async (t) => {
  const h = new Harness();
  h.connect(1);
  t.same(h.ev({ type: 'tick', now: 9999 }), []);
  h.ev({ type: 'tick', now: 10_000 });
  t.match(h.sent(1), [{ type: 'error', code: 'RSO_ERR_TIMEOUT' }]);
});

t.test('leaving', async (t) => {
  await t.test('bye after established: the other hears ended and both close; nameplate freed', async (t) => {
    const h = new Harness();
    const np = h.paired();
    h.keyed(1, true);
    h.keyed(2, true);
    h.now = 5000;
    h.ev({ type: 'bye', conn: 2, now: 5000 });
    t.same(h.sent(1), [{ type: 'peer-left', reason: 'ended' }]);
    t.same(h.closedConns().sort(), [1, 2]);
    t.match(h.effects.find((e) => e.type === 'log' && e.event === 'ended'), { fields: { durationMs: 5000 }, pair: [1, 2] });
    t.equal(h.state.plates.has(np), false);
    t.equal(h.state.tombstones.has(np), false);
  });
  await t.test('opener closes after established: joiner hears closed', async (t) => {
    const h = new Harness();
    h.paired();
    h.keyed(1, true);
    h.keyed(2, true);
    h.ev({ type: 'closed', conn: 1, now: 0 });
    t.same(h.sent(2), [{ type: 'peer-left', reason: 'closed' }]);
    t.same(h.closedConns(), [2]);
    t.equal(h.state.conns.has(1), false);
  });
  await t.test('joiner closes before keyed: opener pending again, new join pairs', async (t) => {
    const h = new Harness();
    const np = h.paired();
    h.ev({ type: 'closed', conn: 2, now: 0 });
    t.same(h.sent(1), [{ type: 'peer-left', reason: 'closed' }]);
    t.same(h.closedConns(), []);
    t.equal(h.state.plates.get(np)?.failures, 0, 'a departure is not a failure');
    h.connect(3);
    h.hello(3, 'customer');
    h.join(3, np);
    t.match(h.sent(3), [{ type: 'paired' }]);
  });
  await t.test('opener closes while pending: number retired for code-ttl', async (t) => {
    const h = new Harness();
    h.connect(1);
    h.hello(1, 'agent');
    const np = h.open(1);
    h.ev({ type: 'closed', conn: 1, now: 0 });
    t.equal(h.state.tombstones.get(np)?.reason, 'expired');
  });
  await t.test('shutdown tells everyone', async (t) => {
    const h = new Harness();
    h.paired();
    h.connect(3);
    h.ev({ type: 'shutdown', now: 0 });
    for (const c of [1, 2, 3]) t.same(h.sent(c), [{ type: 'peer-left', reason: 'shutdown' }]);
    t.same(h.closedConns(), [1, 2, 3]);
  });
});

t.test('step does not change the state it was given', async (t) => {
  const h = new Harness();
  h.paired();
  const before = h.state;
  const snapshot = JSON.stringify([...before.plates], null, 0);
  step(before, { type: 'keyed', conn: 2, now: 0, ok: false });
  t.equal(JSON.stringify([...before.plates]), snapshot);
});

t.test('impossible transitions throw', async (t) => {
  const h = new Harness();
  h.connect(1);
  t.throws(() => h.connect(1), { code: 'RSO_ERR_INTERNAL' }, 'connect twice');
  t.throws(() => h.hello(7, 'customer'), { code: 'RSO_ERR_INTERNAL' }, 'unknown connection');
  t.throws(() => h.ev({ type: 'closed', conn: 8, now: 0 }), { code: 'RSO_ERR_INTERNAL' }, 'close of unknown connection');
  h.ev({ type: 'closed', conn: 1, now: 0 });
  t.throws(() => h.ev({ type: 'closed', conn: 1, now: 0 }), { code: 'RSO_ERR_INTERNAL' }, 'closed twice');
  t.throws(() => h.ev({ type: 'nonsense', now: 0 } as unknown as PairingEvent), { code: 'RSO_ERR_INTERNAL' }, 'unknown event');
});

t.test('resume: two sides presenting the same rid are paired under a fresh sid; a third is CROWDED', async (t) => {
  const h = new Harness();
  const rid = '0123456789abcdef0123456789abcdef';
  for (const [conn, role] of [[1, 'agent'], [2, 'customer'], [3, 'customer'], [4, 'agent']] as const) {
    h.connect(conn);
    h.hello(conn, role);
  }
  t.same(h.ev({ type: 'resume', conn: 1, now: 0, rid, throttled: false }).filter((e) => e.type === 'send'), [], 'the first side waits, told nothing');
  t.same(counts(h.state), { pending: 1, paired: 0, connections: 4 });
  h.ev({ type: 'resume', conn: 2, now: 0, rid, throttled: false });
  const toCustomer = h.sent(2)[0];
  const toAgent = h.sent(1)[0];
  t.match(toCustomer, { type: 'paired', peer: { role: 'agent', agent: { id: 'anna', verified: true } } }, 'the customer learns the verified agent again');
  t.match(toAgent, { type: 'paired', peer: { role: 'customer' } });
  t.equal(toCustomer?.type === 'paired' && toAgent?.type === 'paired' && toCustomer.sid === toAgent.sid, true, 'one fresh sid for both');
  t.ok(h.effects.some((e) => e.type === 'link' && e.a === 1 && e.b === 2), 'their frames are forwarded');
  h.ev({ type: 'resume', conn: 3, now: 0, rid, throttled: false });
  t.match(h.sent(3)[0], { type: 'error', code: 'RSO_ERR_CROWDED' }, 'a third presenting the rid is refused');
  h.ev({ type: 'resume', conn: 4, now: 0, rid: 'ffffffffffffffffffffffffffffffff', throttled: true });
  t.match(h.sent(4)[0], { type: 'error', code: 'RSO_ERR_THROTTLED' }, 'resumes are throttled like joins');
  h.keyed(1, true);
  h.keyed(2, true);
  t.same(counts(h.state), { pending: 0, paired: 1, connections: 4 });
});

t.test('resume: the same role twice is refused; a rid waits at most the resume window', async (t) => {
  const h = new Harness(config({ resumeWindowMs: 5000 }));
  const rid = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  for (const [conn, role] of [[1, 'customer'], [2, 'customer'], [3, 'agent']] as const) {
    h.connect(conn);
    h.hello(conn, role);
  }
  h.ev({ type: 'resume', conn: 1, now: 0, rid, throttled: false });
  h.ev({ type: 'resume', conn: 2, now: 0, rid, throttled: false });
  t.match(h.sent(2)[0], { type: 'error', code: 'RSO_ERR_PROTOCOL' }, 'two customers never pair');
  t.same(h.ev({ type: 'tick', now: 4999 }), [], 'still waiting just before the window ends');
  h.ev({ type: 'tick', now: 5000 });
  t.match(h.sent(1)[0], { type: 'error', code: 'RSO_ERR_EXPIRED', message: /did not come back in time/ });
  t.same(h.closedConns(), [1]);
  h.ev({ type: 'resume', conn: 3, now: 5001, rid, throttled: false });
  t.same(h.sent(3), [], 'a late side waits alone, it is not paired with the expired one');
  h.ev({ type: 'resume', conn: 3, now: 5002, rid, throttled: false });
  t.match(h.sent(3)[0], { type: 'error', code: 'RSO_ERR_PROTOCOL' }, 'one resume per connection');
});

t.test('resume: a rid whose session this relay ended is told at once that the other side is gone', async (t) => {
  const h = new Harness(config({ resumeWindowMs: 5000 }));
  const rid = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  const nameplate = (h.connect(1), h.hello(1, 'agent'), h.open(1));
  h.connect(2);
  h.hello(2, 'customer');
  h.join(2, nameplate);
  h.ev({ type: 'keyed', conn: 1, now: 0, ok: true, rid });
  h.ev({ type: 'keyed', conn: 2, now: 0, ok: true, rid });
  // The customer's connection drops while the relay stays up: the agent is told, the session ends.
  h.ev({ type: 'closed', conn: 2, now: 10 });
  t.match(h.sent(1)[0], { type: 'peer-left' });
  h.connect(3);
  h.hello(3, 'customer');
  h.ev({ type: 'resume', conn: 3, now: 20, rid, throttled: false });
  t.match(h.sent(3)[0], { type: 'error', code: 'RSO_ERR_PEER_LEFT', message: /told you left/ }, 'the late side learns the session is over');
  // After the window the rid is forgotten like any tombstone.
  h.ev({ type: 'tick', now: 5011 });
  h.connect(4);
  h.hello(4, 'customer');
  t.same(h.ev({ type: 'resume', conn: 4, now: 5012, rid, throttled: false }).filter((e) => e.type === 'send'), [], 'waits like any first side');
});
