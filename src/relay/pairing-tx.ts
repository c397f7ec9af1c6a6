// The working copy one step of the relay's pairing machine (pairing.ts) edits, the effects it
// collects, and the constants its parts share. The machine's transitions live in pairing.ts
// (arrivals: hello, open, join, resume, keyed) and pairing-end.ts (departures and deadlines).
import { ERROR_CODES, RsoError, type ErrorCode } from '../errors.js';
import type { ServerMessage } from '../protocol/relay.js';
import type { AuditEndReason, AuditRecord, EndedBy } from './audit-record.js';
import type { ConnId, ConnState, Effect, LogFields, PairingConfig, PairingState, Plate, StepResult, Tombstone } from './pairing-types.js';

/** Failed key confirmations after which a nameplate is burnt. */
export const MAX_FAILURES = 3;

/** Plates of resumed sessions are keyed by this prefix and the resume id, never by a nameplate. */
export const RESUME_PREFIX = 'resume:';
/** How long the first side of a resume waits for the second (and the default resume window). */
export const RESUME_WINDOW_MS = 30_000;

/** What a client hears when it asks for something new of a draining relay. */
export const DRAINING_TEXT = 'This relay is shutting down and takes no new sessions; try again in a moment.';

// A working copy: maps are copied once per step, entries are replaced, never mutated, so the
// state passed in stays valid (tests compare before and after).
export class Tx {
  readonly conns: Map<ConnId, ConnState>;
  readonly plates: Map<string, Plate>;
  readonly tombstones: Map<string, Tombstone>;
  readonly effects: Effect[] = [];
  draining: boolean;
  serial: number;

  constructor(readonly config: PairingConfig, state: PairingState, readonly now: number) {
    this.conns = new Map(state.conns);
    this.plates = new Map(state.plates);
    this.tombstones = new Map(state.tombstones);
    this.draining = state.draining;
    this.serial = state.serial;
  }

  result(): StepResult {
    return {
      state: { config: this.config, conns: this.conns, plates: this.plates, tombstones: this.tombstones, draining: this.draining, serial: this.serial },
      effects: this.effects,
    };
  }

  audit(record: AuditRecord): void {
    this.effects.push({ type: 'audit', record });
  }

  /** The one `ended` audit line of a session; `plate` is the state it ended in. */
  auditEnded(plate: Plate, reason: AuditEndReason, by: EndedBy): void {
    const attempt = plate.attempt ?? plate.lastAttempt;
    const sides = attempt ? sidesOf(this, plate, attempt.joiner) : { agentConn: null, customerConn: null };
    this.audit({
      event: 'ended',
      session: plate.id,
      nameplate: plate.nameplate,
      reason,
      by,
      established: plate.establishedAt !== null,
      durationMs: this.now - plate.openedAt,
      ...sides,
    });
  }

  conn(id: ConnId): ConnState {
    const c = this.conns.get(id);
    if (!c) throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: no connection ${id}`);
    return c;
  }

  plateOf(c: ConnState): Plate {
    const p = c.nameplate === undefined ? undefined : this.plates.get(c.nameplate);
    if (!p) throw new RsoError('RSO_ERR_INTERNAL', undefined, `pairing: connection ${c.id} in phase ${c.phase} has no nameplate`);
    return p;
  }

  setConn(c: ConnState): void {
    this.conns.set(c.id, c);
  }

  send(conn: ConnId, msg: ServerMessage): void {
    this.effects.push({ type: 'send', conn, msg });
  }

  log(event: string, fields: LogFields, pair?: [ConnId, ConnId]): void {
    this.effects.push(pair ? { type: 'log', event, fields, pair } : { type: 'log', event, fields });
  }

  /** Send `error` and close; the connection takes no further part. */
  fail(id: ConnId, code: ErrorCode, message: string = ERROR_CODES[code].text): void {
    const c = this.conn(id);
    this.log('error', { conn: id, code, ...(c.nameplate ? { nameplate: c.nameplate } : {}) });
    this.send(id, { type: 'error', code, message });
    this.close(id);
  }

  close(id: ConnId): void {
    const c = this.conn(id);
    this.setConn({ ...c, phase: 'closing' });
    this.effects.push({ type: 'close', conn: id });
  }

  tombstone(nameplate: string, reason: Tombstone['reason']): void {
    this.plates.delete(nameplate);
    this.tombstones.set(nameplate, { reason, until: this.now + this.config.codeTtlMs });
  }
}

/** Agent and customer connection of `plate` with `joiner` as the joining side. */
export function sidesOf(tx: Tx, plate: Plate, joiner: ConnId | null): { agentConn: ConnId | null; customerConn: ConnId | null } {
  void tx;
  return plate.openerRole === 'agent' ? { agentConn: plate.opener, customerConn: joiner } : { agentConn: joiner, customerConn: plate.opener };
}
