// The pairing machine's lifecycle rules: --max-sessions, drain, admin end, idle, and the audit
// effects every way a session ends (exactly one `ended` per session).
import t from 'tap';
import type { ServerMessage } from '../protocol/relay.js';
import type { AuditRecord } from './audit-record.js';
import { initialState, step, type ConnId, type Effect, type PairingConfig, type PairingEvent, type PairingState } from './pairing.js';
import { listSessions } from './sessions.js';

const ANNA = { id: 'anna', name: 'Anna', org: 'Acme' };

function config(over: Partial<PairingConfig> = {}): PairingConfig {
  let sid = 0;
  let draws = 0;
  return {
    codeTtlMs: 600_000,
    helloTimeoutMs: 10_000,
    open: false,
    randomInt: (max) => (100 + draws++) % max,
    newSid: () => `sid${String(sid++).padStart(19, '0')}`,
    ...over,
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return 'nothing thrown';
}

class Harness {
  state: PairingState;
  effects: Effect[] = [];
  audits: AuditRecord[] = [];
  now = 0;
  constructor(cfg: PairingConfig = config()) {
    this.state = initialState(cfg);
  }
  ev(e: PairingEvent): Effect[] {
    const r = step(this.state, e);
    this.state = r.state;
    this.effects = r.effects;
    for (const eff of r.effects) if (eff.type === 'audit') this.audits.push(eff.record);
    return r.effects;
  }
  client(conn: ConnId, role: 'agent' | 'customer'): void {
    this.ev({ type: 'connect', conn, now: this.now, relay: 'relay.test' });
    this.ev({ type: 'hello', conn, now: this.now, role, auth: role === 'agent' ? { kind: 'valid', identity: ANNA } : { kind: 'none' } });
  }
  open(conn: ConnId): ServerMessage | undefined {
    this.ev({ type: 'open', conn, now: this.now });
    return this.sent(conn)[0];
  }
  sent(conn: ConnId): ServerMessage[] {
    return this.effects.flatMap((e) => (e.type === 'send' && e.conn === conn ? [e.msg] : []));
  }
  closed(): ConnId[] {
    return this.effects.flatMap((e) => (e.type === 'close' ? [e.conn] : []));
  }
  /** Agent `a` opens, customer `c` joins, both keyed ok. */
  established(a: ConnId, c: ConnId): string {
    this.client(a, 'agent');
    const opened = this.open(a);
    if (opened?.type !== 'opened') throw new Error('no opened');
    this.client(c, 'customer');
    this.ev({ type: 'join', conn: c, now: this.now, nameplate: opened.nameplate, throttled: false });
    this.ev({ type: 'keyed', conn: a, now: this.now, ok: true });
    this.ev({ type: 'keyed', conn: c, now: this.now, ok: true });
    return opened.nameplate;
  }
  endedAudits(): AuditRecord[] {
    return this.audits.filter((a) => a.event === 'ended');
  }
}

t.test('--max-sessions refuses an open beyond the limit with RSO_ERR_RELAY_BUSY; a freed slot opens again', async (t) => {
  const h = new Harness(config({ maxSessions: 2 }));
  h.client(1, 'agent');
  h.client(2, 'agent');
  h.client(3, 'agent');
  t.match(h.open(1), { type: 'opened' });
  t.match(h.open(2), { type: 'opened' });
  t.match(h.open(3), { type: 'error', code: 'RSO_ERR_RELAY_BUSY', message: /full/ });
  t.same(h.closed(), [3]);
  h.ev({ type: 'bye', conn: 1, now: 1 });
  h.client(4, 'agent');
  t.match(h.open(4), { type: 'opened' }, 'a slot freed by a withdrawn number is usable');
});

t.test('audit: opened, paired, ended with who and why, once per session', async (t) => {
  const h = new Harness();
  const np = h.established(1, 2);
  t.match(h.audits, [
    { event: 'opened', session: 's1', nameplate: np, by: 'agent', conn: 1 },
    { event: 'paired', session: 's1', nameplate: np, agent: 'anna', verified: true, attempt: 1, agentConn: 1, customerConn: 2 },
  ]);
  h.now = 5000;
  h.ev({ type: 'bye', conn: 2, now: h.now });
  h.ev({ type: 'closed', conn: 1, now: h.now });
  h.ev({ type: 'closed', conn: 2, now: h.now });
  t.same(h.endedAudits(), [{ event: 'ended', session: 's1', nameplate: np, reason: 'ended', by: 'customer', established: true, durationMs: 5000, agentConn: 1, customerConn: 2 }]);
});

t.test('audit: every other ending yields exactly one ended line', async (t) => {
  const cases: Array<{ name: string; run: (h: Harness) => void; reason: string; by: string }> = [
    { name: 'opener withdraws', run: (h) => (h.client(1, 'customer'), h.open(1), h.ev({ type: 'closed', conn: 1, now: 1 })), reason: 'withdrawn', by: 'customer' },
    {
      name: 'expiry',
      run: (h) => {
        h.client(1, 'agent');
        h.open(1);
        h.ev({ type: 'tick', now: 600_000 });
      },
      reason: 'expired',
      by: 'relay',
    },
    {
      name: 'third wrong code',
      run: (h) => {
        h.client(1, 'agent');
        const opened = h.open(1) as { nameplate: string };
        for (let i = 0; i < 3; i++) {
          h.client(10 + i, 'customer');
          h.ev({ type: 'join', conn: 10 + i, now: 0, nameplate: opened.nameplate, throttled: false });
          h.ev({ type: 'keyed', conn: 1, now: 0, ok: false });
        }
      },
      reason: 'burnt',
      by: 'relay',
    },
    { name: 'agent closes mid-session', run: (h) => (h.established(1, 2), h.ev({ type: 'closed', conn: 1, now: 1 })), reason: 'closed', by: 'agent' },
    { name: 'admin end', run: (h) => (h.established(1, 2), h.ev({ type: 'end', id: 's1', now: 1 })), reason: 'admin', by: 'admin' },
    { name: 'idle', run: (h) => (h.established(1, 2), h.ev({ type: 'idle', conn: 2, now: 1 })), reason: 'idle', by: 'relay' },
    { name: 'shutdown', run: (h) => (h.established(1, 2), h.ev({ type: 'shutdown', now: 1 })), reason: 'shutdown', by: 'relay' },
  ];
  for (const c of cases) {
    const h = new Harness();
    c.run(h);
    // Whatever the server reports afterwards must not add a second line.
    for (const conn of [1, 2, 10, 11, 12]) if (h.state.conns.has(conn)) h.ev({ type: 'closed', conn, now: 2 });
    t.match(h.endedAudits(), [{ reason: c.reason, by: c.by }], c.name);
    t.equal(h.endedAudits().length, 1, `${c.name}: one ended line`);
  }
});

t.test('admin end: both sides hear the relay bye and are closed; the number is not reused at once', async (t) => {
  const h = new Harness();
  const np = h.established(1, 2);
  t.match(listSessions(h.state), [{ id: 's1', nameplate: np, phase: 'established', openedBy: 'agent', agent: 'anna', verified: true, agentConn: 1, customerConn: 2 }]);
  h.ev({ type: 'end', id: 's1', now: 1 });
  t.same(h.sent(1), [{ type: 'bye' }]);
  t.same(h.sent(2), [{ type: 'bye' }]);
  t.same(h.closed().sort(), [1, 2]);
  t.ok(h.effects.some((e) => e.type === 'unlink'), 'forwarding stops');
  t.same(listSessions(h.state), []);
  h.client(3, 'customer');
  h.ev({ type: 'join', conn: 3, now: 2, nameplate: np, throttled: false });
  t.match(h.sent(3), [{ type: 'error', code: 'RSO_ERR_EXPIRED' }]);
  t.match(thrown(() => h.ev({ type: 'end', id: 's9', now: 3 })), { code: 'RSO_ERR_INTERNAL', detail: /unknown session/ }, 'the server checks the id first');
});

t.test('idle: the idle side gets RSO_ERR_TIMEOUT, its peer peer-left timeout', async (t) => {
  const h = new Harness();
  h.established(1, 2);
  h.ev({ type: 'idle', conn: 1, now: 1 });
  t.match(h.sent(1), [{ type: 'error', code: 'RSO_ERR_TIMEOUT' }]);
  t.same(h.sent(2), [{ type: 'peer-left', reason: 'timeout' }]);
  t.same(h.closed().sort(), [1, 2]);
  const lone = new Harness();
  lone.client(7, 'customer');
  lone.ev({ type: 'idle', conn: 7, now: 1 });
  t.match(lone.sent(7), [{ type: 'error', code: 'RSO_ERR_TIMEOUT' }], 'a connection that never opened');
});

t.test('drain: waiting numbers and unpaired connections are refused; live sessions run on; nothing new starts', async (t) => {
  const h = new Harness();
  h.established(1, 2);
  h.client(3, 'agent');
  const waiting = h.open(3) as { nameplate: string };
  h.client(4, 'customer');
  h.ev({ type: 'drain', now: 1 });
  t.match(h.sent(3), [{ type: 'error', code: 'RSO_ERR_RELAY_BUSY', message: /shutting down/ }]);
  t.match(h.sent(4), [{ type: 'error', code: 'RSO_ERR_RELAY_BUSY' }]);
  t.same(h.sent(1), []);
  t.same(h.sent(2), []);
  t.same(h.closed().sort(), [3, 4]);
  t.match(listSessions(h.state), [{ id: 's1', phase: 'established' }]);
  t.match(h.endedAudits(), [{ session: 's2', nameplate: waiting.nameplate, reason: 'shutdown', by: 'relay', established: false }]);
  h.ev({ type: 'connect', conn: 5, now: 2, relay: 'r' });
  h.ev({ type: 'hello', conn: 5, now: 2, role: 'customer', auth: { kind: 'none' } });
  t.match(h.sent(5), [{ type: 'error', code: 'RSO_ERR_RELAY_BUSY' }], 'a new hello is refused');
  t.same(h.ev({ type: 'drain', now: 3 }), [], 'a second drain changes nothing');
  h.ev({ type: 'bye', conn: 1, now: 4 });
  t.same(listSessions(h.state), [], 'the live session ends normally');
});

t.test('a number reserved by the cluster is used as given', async (t) => {
  const h = new Harness();
  h.client(1, 'agent');
  h.ev({ type: 'open', conn: 1, now: 0, nameplate: '4711' });
  t.same(h.sent(1), [{ type: 'opened', nameplate: '4711', ttl: 600 }]);
  h.client(2, 'agent');
  t.match(thrown(() => h.ev({ type: 'open', conn: 2, now: 0, nameplate: '4711' })), { code: 'RSO_ERR_INTERNAL', detail: /in use here/ });
});
