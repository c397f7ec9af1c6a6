// The relay's pairing machine: which connection holds which nameplate, who is paired with
// whom, how many key confirmations failed. Pure: `step(state, event) -> { state, effects }`.
// The server (server.ts) turns socket activity into events and effects into socket activity;
// the bytes of the peer plane never pass through here, only the decision to link two sockets.
//
// Connection phases:
//   awaiting-hello --hello--> ready --open--> opener
//                                   --join--> joiner
//   any --(error, bye, expiry, burn)--> closing --closed--> (gone)
// Nameplate lifecycle:
//   pending --join--> attempt --keyed ok x2--> established --bye/close--> freed
//   attempt --keyed false (failures < 3) / joiner left--> pending
//   attempt --third keyed false--> tombstone(burnt)
//   pending --code ttl--> tombstone(expired); pending --opener left--> tombstone(expired)
//   attempt/established --admin end, idle, shutdown--> freed
// Draining (SIGTERM): pending numbers and unpaired connections are refused with
// RSO_ERR_RELAY_BUSY at once, attempts and established sessions run on until they end or the
// server sends shutdown; nothing new is accepted.
// Every session (one opened nameplate) yields audit effects: opened, paired (per attempt),
// ended (exactly once, whatever ended it).
// A client that breaks the protocol gets `error` and is closed; an event the server should
// never produce (unknown connection, connect twice) throws.
//
// This file holds step() and the arrivals (hello, open, join, resume, keyed); pairing-end.ts
// how things end (refusals, departures, admin end, drain, deadlines); pairing-tx.ts the working
// copy a step edits.
import { RsoError } from '../errors.js';
import type { AgentIdentity, Role } from '../protocol/relay.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { NameplatesExhausted, allocateNameplate } from './nameplates.js';
import { countFailure, depart, onAdminEnd, onDrain, onTick, refuse } from './pairing-end.js';
import { DRAINING_TEXT, RESUME_PREFIX, RESUME_WINDOW_MS, Tx } from './pairing-tx.js';
import type { Attempt, Auth, ConnId, ConnPhase, ConnState, PairingConfig, PairingEvent, PairingState, Plate, StepResult, VerifiedAgent } from './pairing-types.js';

export type { Attempt, Auth, ConnId, ConnPhase, ConnState, Effect, LogFields, PairingConfig, PairingEvent, PairingState, Plate, StepResult, Tombstone } from './pairing-types.js';
export { MAX_FAILURES, RESUME_PREFIX, RESUME_WINDOW_MS } from './pairing-tx.js';

export const UNVERIFIED_AGENT: AgentIdentity = { id: 'unverified', name: 'Unverified agent', org: '' };

export function initialState(config: PairingConfig): PairingState {
  return { config, conns: new Map(), plates: new Map(), tombstones: new Map(), draining: false, serial: 0 };
}

/** Numbers the /healthz endpoint reports. */
export function counts(state: PairingState): { pending: number; paired: number; connections: number } {
  let pending = 0;
  let paired = 0;
  for (const plate of state.plates.values()) {
    if (plate.attempt === null) pending++;
    else paired++;
  }
  return { pending, paired, connections: state.conns.size };
}

export function step(state: PairingState, event: PairingEvent): StepResult {
  const tx = new Tx(state.config, state, event.now);
  switch (event.type) {
    case 'connect':
      if (state.conns.has(event.conn)) throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: connection ${event.conn} connected twice`);
      tx.setConn({ id: event.conn, phase: 'awaiting-hello', connectedAt: event.now, relay: event.relay });
      break;
    case 'hello':
      onHello(tx, event.conn, event.role, event.auth);
      break;
    case 'open':
      onOpen(tx, event.conn, event.nameplate);
      break;
    case 'join':
      onJoin(tx, event.conn, event.nameplate, event.throttled);
      break;
    case 'resume':
      onResume(tx, event.conn, event.rid, event.throttled);
      break;
    case 'keyed':
      onKeyed(tx, event.conn, event.ok, event.rid);
      break;
    case 'bye': {
      const c = tx.conn(event.conn);
      if (c.phase === 'closing') break;
      depart(tx, c, 'ended', { reason: 'ended', by: c.role ?? 'relay' });
      tx.close(c.id);
      break;
    }
    case 'violation': {
      const c = tx.conn(event.conn);
      if (c.phase === 'closing') break;
      refuse(tx, c.id, event.code, event.message);
      break;
    }
    case 'closed': {
      const c = tx.conn(event.conn);
      if (c.phase !== 'closing') depart(tx, c, 'closed', { reason: 'closed', by: c.role ?? 'relay' });
      tx.conns.delete(c.id);
      break;
    }
    case 'idle': {
      const c = tx.conn(event.conn);
      if (c.phase === 'closing') break;
      depart(tx, c, 'timeout', { reason: 'idle', by: 'relay' });
      tx.fail(c.id, 'RSO_ERR_TIMEOUT', 'Nothing was sent for too long; the relay ended the connection.');
      break;
    }
    case 'end':
      onAdminEnd(tx, event.id);
      break;
    case 'drain':
      onDrain(tx);
      break;
    case 'tick':
      if (!onTick(tx, state)) return { state, effects: [] };
      break;
    case 'shutdown':
      for (const plate of tx.plates.values()) tx.auditEnded(plate, 'shutdown', 'relay');
      for (const c of tx.conns.values()) {
        if (c.phase === 'closing') continue;
        tx.send(c.id, { type: 'peer-left', reason: 'shutdown' });
        tx.close(c.id);
      }
      tx.plates.clear();
      tx.draining = true;
      tx.log('shutdown', {});
      break;
    default: {
      const never: never = event;
      throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: unknown event ${JSON.stringify(never)}`);
    }
  }
  return tx.result();
}

function onHello(tx: Tx, id: ConnId, role: Role, auth: Auth): void {
  const c = tx.conn(id);
  if (c.phase === 'closing') return;
  if (c.phase !== 'awaiting-hello') return refuse(tx, id, 'RSO_ERR_PROTOCOL', 'hello was sent twice.');
  if (tx.draining) return refuse(tx, id, 'RSO_ERR_RELAY_BUSY', DRAINING_TEXT);
  let agent: VerifiedAgent | undefined;
  if (role === 'customer') {
    // Customers are anonymous; a token here means a confused or probing client.
    if (auth.kind !== 'none') return refuse(tx, id, 'RSO_ERR_PROTOCOL', 'A customer does not send a token.');
  } else if (auth.kind === 'valid') {
    agent = { ...auth.identity, verified: true };
  } else if (auth.kind === 'none' && tx.config.open) {
    agent = { ...UNVERIFIED_AGENT, verified: false };
  } else {
    // An invalid token is refused even on an --open relay: the agent believes it is signed in.
    return refuse(tx, id, 'RSO_ERR_UNAUTHORIZED', auth.kind === 'none' ? 'This relay only accepts signed-in agents; run rso login.' : 'The relay did not accept the agent token; ask the relay admin for a new one.');
  }
  tx.setConn(agent ? { ...c, phase: 'ready', role, agent } : { ...c, phase: 'ready', role });
  tx.log('hello', { conn: id, role, agent: agent ? agent.id : null, verified: agent ? agent.verified : null });
  tx.send(id, {
    type: 'welcome',
    v: PROTOCOL_VERSION,
    relay: c.relay,
    open: tx.config.open,
    agent: agent ? { id: agent.id, name: agent.name, org: agent.org } : null,
  });
}

function onOpen(tx: Tx, id: ConnId, reserved: string | undefined): void {
  const c = tx.conn(id);
  if (c.phase === 'closing') return;
  if (c.phase !== 'ready' || c.role === undefined) return refuse(tx, id, 'RSO_ERR_PROTOCOL', outOfOrder('open', c.phase));
  if (tx.draining) return refuse(tx, id, 'RSO_ERR_RELAY_BUSY', DRAINING_TEXT);
  const max = tx.config.maxSessions;
  if (max !== undefined && tx.plates.size >= max) {
    tx.log('full', { conn: id, sessions: tx.plates.size });
    return refuse(tx, id, 'RSO_ERR_RELAY_BUSY', 'This relay is full (too many sessions at once); try again in a minute.');
  }
  let nameplate: string;
  if (reserved !== undefined) {
    // The cluster reserved it for this node; locally it can only be free.
    if (tx.plates.has(reserved) || tx.tombstones.has(reserved)) throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: reserved nameplate ${reserved} is in use here`);
    nameplate = reserved;
  } else {
    const taken = new Set<string>([...tx.plates.keys(), ...tx.tombstones.keys()]);
    try {
      nameplate = allocateNameplate(taken, tx.config.randomInt);
    } catch (err) {
      if (err instanceof NameplatesExhausted) return refuse(tx, id, err.code, err.message);
      throw err;
    }
  }
  tx.serial += 1;
  const sessionId = tx.config.newSessionId ? tx.config.newSessionId() : `s${tx.serial}`;
  tx.plates.set(nameplate, {
    id: sessionId,
    openedAt: tx.now,
    nameplate,
    opener: id,
    openerRole: c.role,
    expiresAt: tx.now + tx.config.codeTtlMs,
    failures: 0,
    attempt: null,
    lastAttempt: null,
    establishedAt: null,
  });
  tx.setConn({ ...c, phase: 'opener', nameplate });
  tx.log('opened', { conn: id, session: sessionId, nameplate, role: c.role });
  tx.audit({ event: 'opened', session: sessionId, nameplate, by: c.role, conn: id });
  tx.send(id, { type: 'opened', nameplate, ttl: Math.ceil(tx.config.codeTtlMs / 1000) });
}

function onJoin(tx: Tx, id: ConnId, nameplate: string, throttled: boolean): void {
  const c = tx.conn(id);
  if (c.phase === 'closing') return;
  if (c.phase !== 'ready' || c.role === undefined) return refuse(tx, id, 'RSO_ERR_PROTOCOL', outOfOrder('join', c.phase));
  if (throttled) return refuse(tx, id, 'RSO_ERR_THROTTLED');
  if (tx.draining) return refuse(tx, id, 'RSO_ERR_RELAY_BUSY', DRAINING_TEXT);
  const plate = tx.plates.get(nameplate);
  if (!plate) {
    const tomb = tx.tombstones.get(nameplate);
    if (tomb?.reason === 'burnt') return refuse(tx, id, 'RSO_ERR_BURNT');
    if (tomb?.reason === 'expired') return refuse(tx, id, 'RSO_ERR_EXPIRED');
    return refuse(tx, id, 'RSO_ERR_UNKNOWN_NUMBER');
  }
  pairJoiner(tx, plate, c);
}

/** `c` joins `plate` (a number, or a resume id): paired messages, link, log and audit. */
function pairJoiner(tx: Tx, plate: Plate, c: ConnState): void {
  const id = c.id;
  const nameplate = plate.nameplate;
  if (plate.attempt !== null) return refuse(tx, id, 'RSO_ERR_CROWDED');
  if (plate.openerRole === c.role) {
    return refuse(tx, id, 'RSO_ERR_PROTOCOL', c.role === 'agent' ? 'Both sides are agents; the other side must run rso share.' : 'Both sides are customers; the other side must run rso connect.');
  }
  const opener = tx.conn(plate.opener);
  const sid = tx.config.newSid();
  tx.plates.set(nameplate, { ...plate, attempt: { joiner: id, sid, pairedAt: tx.now, failed: false } });
  tx.setConn({ ...c, phase: 'joiner', nameplate });
  const agentSide = c.role === 'agent' ? c : opener;
  const customerSide = c.role === 'agent' ? opener : c;
  if (!agentSide.agent) throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: agent connection ${agentSide.id} has no identity`);
  tx.send(customerSide.id, { type: 'paired', sid, peer: { role: 'agent', agent: agentSide.agent } });
  tx.send(agentSide.id, { type: 'paired', sid, peer: { role: 'customer' } });
  tx.effects.push({ type: 'link', a: plate.opener, b: id });
  tx.log('paired', { session: plate.id, nameplate, opener: plate.opener, joiner: id, agent: agentSide.agent.id, verified: agentSide.agent.verified, attempt: plate.failures + 1 });
  tx.audit({
    event: 'paired',
    session: plate.id,
    nameplate,
    agent: agentSide.agent.id,
    verified: agentSide.agent.verified,
    attempt: plate.failures + 1,
    agentConn: agentSide.id,
    customerConn: customerSide.id,
  });
}


/**
 * A client whose relay connection dropped mid-session asks to meet its peer again under the
 * public resume id both derived (docs/resume.md). The first to come waits (like an opener, but
 * nothing is shown to anyone and no number is allocated), the second is paired with it under a
 * fresh sid; a third is CROWDED. What proves that the two are the two sides of the old session
 * is their next handshake, keyed by the resume secret the relay never sees.
 */
function onResume(tx: Tx, id: ConnId, rid: string, throttled: boolean): void {
  const c = tx.conn(id);
  if (c.phase === 'closing') return;
  if (c.phase !== 'ready' || c.role === undefined) return refuse(tx, id, 'RSO_ERR_PROTOCOL', outOfOrder('resume', c.phase));
  if (throttled) return refuse(tx, id, 'RSO_ERR_THROTTLED');
  if (tx.draining) return refuse(tx, id, 'RSO_ERR_RELAY_BUSY', DRAINING_TEXT);
  const key = `${RESUME_PREFIX}${rid}`;
  // This relay stayed up and ended that session (the other side was told we left): say so now
  // rather than let this side wait out the window for a peer that is not coming.
  if (tx.tombstones.get(key)?.reason === 'ended') return refuse(tx, id, 'RSO_ERR_PEER_LEFT', 'The other side was told you left; the session has ended.');
  const plate = tx.plates.get(key);
  if (plate) return pairJoiner(tx, plate, c);
  const max = tx.config.maxSessions;
  if (max !== undefined && tx.plates.size >= max) {
    tx.log('full', { conn: id, sessions: tx.plates.size });
    return refuse(tx, id, 'RSO_ERR_RELAY_BUSY', 'This relay is full (too many sessions at once); try again in a minute.');
  }
  tx.serial += 1;
  const sessionId = tx.config.newSessionId ? tx.config.newSessionId() : `s${tx.serial}`;
  tx.plates.set(key, {
    id: sessionId,
    openedAt: tx.now,
    nameplate: key,
    opener: id,
    openerRole: c.role,
    expiresAt: tx.now + (tx.config.resumeWindowMs ?? RESUME_WINDOW_MS),
    failures: 0,
    attempt: null,
    lastAttempt: null,
    establishedAt: null,
  });
  tx.setConn({ ...c, phase: 'opener', nameplate: key });
  tx.log('resume-waiting', { conn: id, session: sessionId, role: c.role });
}

function onKeyed(tx: Tx, id: ConnId, ok: boolean, rid?: string): void {
  const c = tx.conn(id);
  if (c.phase === 'closing') return;
  if (c.phase !== 'opener' && c.phase !== 'joiner') return refuse(tx, id, 'RSO_ERR_PROTOCOL', outOfOrder('keyed', c.phase));
  const plate = tx.plateOf(c);
  const isOpener = c.phase === 'opener';
  const attempt = plate.attempt;
  if (attempt === null) {
    // The joiner already left. A failure from the opener for that attempt still counts once;
    // anything else about an attempt that is over changes nothing.
    const last = plate.lastAttempt;
    if (!isOpener || last === null) return refuse(tx, id, 'RSO_ERR_PROTOCOL', 'keyed was sent before pairing.');
    if (!ok && !last.failed && last.openerKeyed === undefined) countFailure(tx, plate, last);
    return;
  }
  if (plate.establishedAt !== null || (isOpener ? attempt.openerKeyed : attempt.joinerKeyed) !== undefined) {
    return refuse(tx, id, 'RSO_ERR_PROTOCOL', 'keyed was sent twice.');
  }
  const next: Attempt = isOpener ? { ...attempt, openerKeyed: ok } : { ...attempt, joinerKeyed: ok };
  tx.log('keyed', { conn: id, nameplate: plate.nameplate, ok });
  if (!ok) return countFailure(tx, plate, next);
  // Both sides derive the same rid; an honest client announces it, and only the first is kept
  // (a side that lies about it only spoils its own resume).
  const withRid: Plate = ok && rid !== undefined && plate.rid === undefined ? { ...plate, rid } : plate;
  if (next.openerKeyed === true && next.joinerKeyed === true) {
    tx.plates.set(plate.nameplate, { ...withRid, attempt: next, establishedAt: tx.now });
    tx.log('established', { nameplate: plate.nameplate });
    return;
  }
  tx.plates.set(plate.nameplate, { ...withRid, attempt: next });
}

function outOfOrder(what: string, phase: ConnPhase): string {
  switch (phase) {
    case 'awaiting-hello':
      return `${what} was sent before hello.`;
    case 'opener':
    case 'joiner':
      return `${what} was sent after open or join; only one per connection.`;
    default:
      return `${what} was sent out of order.`;
  }
}
