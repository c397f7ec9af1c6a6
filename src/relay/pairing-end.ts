// How connections and sessions end in the relay's pairing machine (pairing.ts): a refusal, a
// failed key confirmation, a departure (close, bye, error, idle), an admin's end, a drain and
// the deadlines checked on every tick. Each settles whoever depended on what ended.
import { RsoError, type ErrorCode } from '../errors.js';
import type { PeerLeftReason } from '../protocol/relay.js';
import type { AuditEndReason, EndedBy } from './audit-record.js';
import { DRAINING_TEXT, MAX_FAILURES, RESUME_PREFIX, RESUME_WINDOW_MS, Tx } from './pairing-tx.js';
import type { Attempt, ConnId, ConnState, PairingState, Plate } from './pairing-types.js';

/** Refuse what `id` sent: whoever depended on it is settled first, then it gets `error` and is closed. */
export function refuse(tx: Tx, id: ConnId, code: ErrorCode, message?: string): void {
  depart(tx, tx.conn(id), 'closed', { reason: 'closed', by: 'relay' });
  tx.fail(id, code, message);
}

/** One failed key confirmation for `attempt`: the joiner goes, the opener retries or burns. */
export function countFailure(tx: Tx, plate: Plate, attempt: Attempt): void {
  const failures = plate.failures + 1;
  tx.log('wrong-code', { nameplate: plate.nameplate, failures });
  if (attempt.joiner !== null) {
    tx.effects.push({ type: 'unlink', a: plate.opener, b: attempt.joiner });
    const joiner = tx.conn(attempt.joiner);
    tx.setConn({ ...joiner, nameplate: undefined });
    tx.fail(attempt.joiner, 'RSO_ERR_WRONG_CODE', 'The session number did not match on both sides; check the number and try again.');
  }
  if (failures < MAX_FAILURES) {
    tx.plates.set(plate.nameplate, { ...plate, failures, attempt: null, lastAttempt: { ...attempt, joiner: null, failed: true } });
    tx.send(plate.opener, { type: 'peer-left', reason: 'wrong-code' });
    return;
  }
  tx.auditEnded({ ...plate, failures, attempt: null, lastAttempt: attempt }, 'burnt', 'relay');
  tx.tombstone(plate.nameplate, 'burnt');
  tx.log('burnt', { nameplate: plate.nameplate });
  tx.fail(plate.opener, 'RSO_ERR_BURNT', 'Three wrong attempts burnt this session number; open a new session.');
}

/** How a departure is recorded in the audit trail, if it ends the session. */
interface Ending {
  reason: AuditEndReason;
  by: EndedBy;
}

/** `c` leaves (closed, bye, error, idle): tell and settle whoever depended on it. */
export function depart(tx: Tx, c: ConnState, reason: PeerLeftReason, ending: Ending): void {
  if (c.phase !== 'opener' && c.phase !== 'joiner') return;
  const plate = tx.plateOf(c);
  const attempt = plate.attempt;
  if (c.phase === 'opener') {
    if (attempt === null) {
      // Not reused at once: the other person may still be typing this number.
      tx.tombstone(plate.nameplate, 'expired');
      tx.log('withdrawn', { nameplate: plate.nameplate, conn: c.id });
      tx.auditEnded(plate, ending.reason === 'closed' || ending.reason === 'ended' ? 'withdrawn' : ending.reason, ending.by);
      return;
    }
    if (plate.establishedAt !== null) {
      // An established session frees its nameplate when it ends.
      tx.plates.delete(plate.nameplate);
      endSession(tx, plate, attempt, reason, ending);
    } else {
      tx.tombstone(plate.nameplate, 'expired');
      tx.log('peer-left', { nameplate: plate.nameplate, conn: c.id, role: 'opener', reason });
      tx.auditEnded(plate, ending.reason, ending.by);
    }
    if (attempt.joiner !== null) leaveOther(tx, plate.opener, attempt.joiner, reason);
    return;
  }
  if (attempt === null || attempt.joiner !== c.id) {
    throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: joiner ${c.id} not in the attempt on its nameplate`);
  }
  if (plate.establishedAt !== null) {
    tx.plates.delete(plate.nameplate);
    endSession(tx, plate, attempt, reason, ending);
    leaveOther(tx, c.id, plate.opener, reason);
    return;
  }
  // Before key confirmation the opener keeps its number and waits for another join.
  tx.plates.set(plate.nameplate, { ...plate, attempt: null, lastAttempt: { ...attempt, joiner: null } });
  tx.effects.push({ type: 'unlink', a: plate.opener, b: c.id });
  tx.send(plate.opener, { type: 'peer-left', reason });
  tx.log('peer-left', { nameplate: plate.nameplate, conn: c.id, role: 'joiner', reason });
}

export function endSession(tx: Tx, plate: Plate, attempt: Attempt, reason: PeerLeftReason, ending: Ending): void {
  if (plate.rid !== undefined) tx.tombstones.set(`${RESUME_PREFIX}${plate.rid}`, { reason: 'ended', until: tx.now + (tx.config.resumeWindowMs ?? RESUME_WINDOW_MS) });
  const joiner = attempt.joiner ?? plate.opener;
  tx.log('ended', { session: plate.id, nameplate: plate.nameplate, reason, durationMs: tx.now - (plate.establishedAt ?? attempt.pairedAt) }, [plate.opener, joiner]);
  tx.auditEnded(plate, ending.reason, ending.by);
}

/** `rso relay end ID`: both sides hear the relay's `bye` and are closed. */
export function onAdminEnd(tx: Tx, id: string): void {
  const plate = [...tx.plates.values()].find((p) => p.id === id);
  if (!plate) throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: admin end of unknown session ${id}`);
  tx.log('admin-end', { session: id, nameplate: plate.nameplate });
  tx.plates.delete(plate.nameplate);
  tx.tombstones.set(plate.nameplate, { reason: 'expired', until: tx.now + tx.config.codeTtlMs });
  tx.auditEnded(plate, 'admin', 'admin');
  const sides = [plate.opener, ...(plate.attempt?.joiner != null ? [plate.attempt.joiner] : [])];
  if (sides.length === 2) tx.effects.push({ type: 'unlink', a: sides[0]!, b: sides[1]! });
  for (const conn of sides) {
    const c = tx.conn(conn);
    if (c.phase === 'closing') continue;
    tx.setConn({ ...c, nameplate: undefined });
    // The relay's own bye: clients report "the relay ended the session", not that the peer left.
    tx.send(conn, { type: 'bye' });
    tx.close(conn);
  }
}

/**
 * SIGTERM: nothing new starts. Numbers nobody has joined yet are withdrawn (their opener is told
 * to open a new session, which a load balancer sends to another relay) and connections that
 * have not paired are refused; pairings already made run on.
 */
export function onDrain(tx: Tx): void {
  if (tx.draining) return;
  tx.draining = true;
  tx.log('draining', {});
  for (const plate of [...tx.plates.values()]) {
    if (plate.attempt !== null) continue;
    tx.auditEnded(plate, 'shutdown', 'relay');
    tx.tombstone(plate.nameplate, 'expired');
    tx.setConn({ ...tx.conn(plate.opener), nameplate: undefined });
    tx.fail(plate.opener, 'RSO_ERR_RELAY_BUSY', DRAINING_TEXT);
  }
  for (const c of [...tx.conns.values()]) {
    if (c.phase === 'awaiting-hello' || c.phase === 'ready') tx.fail(c.id, 'RSO_ERR_RELAY_BUSY', DRAINING_TEXT);
  }
}

/** `leaver` went; `other` hears why and is closed. */
export function leaveOther(tx: Tx, leaver: ConnId, other: ConnId, reason: PeerLeftReason): void {
  tx.effects.push({ type: 'unlink', a: leaver, b: other });
  const o = tx.conn(other);
  if (o.phase === 'closing') return;
  tx.setConn({ ...o, nameplate: undefined });
  tx.send(other, { type: 'peer-left', reason });
  tx.close(other);
}

/** Deadlines. Returns false when nothing changed, so the caller can keep the old state. */
export function onTick(tx: Tx, state: PairingState): boolean {
  let changed = false;
  for (const [name, tomb] of state.tombstones) {
    if (tomb.until <= tx.now) {
      tx.tombstones.delete(name);
      changed = true;
    }
  }
  for (const plate of state.plates.values()) {
    // An attempt in progress finishes first; if it fails, the next tick expires the number.
    if (plate.attempt !== null || plate.expiresAt > tx.now) continue;
    tx.auditEnded(plate, 'expired', 'relay');
    tx.tombstone(plate.nameplate, 'expired');
    tx.log('expired', { nameplate: plate.nameplate });
    tx.setConn({ ...tx.conn(plate.opener), nameplate: undefined });
    const resumed = plate.nameplate.startsWith(RESUME_PREFIX);
    tx.fail(plate.opener, 'RSO_ERR_EXPIRED', resumed ? 'The other side did not come back in time; the session has ended.' : 'This session number has expired; open a new session.');
    changed = true;
  }
  for (const c of state.conns.values()) {
    if (c.phase === 'awaiting-hello' && c.connectedAt + tx.config.helloTimeoutMs <= tx.now) {
      tx.fail(c.id, 'RSO_ERR_TIMEOUT', 'No hello arrived in time.');
      changed = true;
    }
  }
  return changed;
}
