// What the audit trail records, as the pairing machine states it. Pure types: the machine names
// connections by id; the server (audit.ts) turns those into addresses and byte counts, so no
// line ever needs, or could carry, a token, a secret digit or a payload byte.
import type { Role } from '../protocol/relay.js';

type ConnId = number;

/** Why a session ended. */
export type AuditEndReason =
  /** One side said bye. */
  | 'ended'
  /** One side's connection closed without bye. */
  | 'closed'
  /** The opener left before anyone joined. */
  | 'withdrawn'
  /** Nobody joined within --code-ttl. */
  | 'expired'
  /** The third wrong code. */
  | 'burnt'
  /** No traffic for --idle-timeout. */
  | 'idle'
  /** `rso relay end`. */
  | 'admin'
  /** Drain or shutdown. */
  | 'shutdown';

/** Who ended it: one of the two people, the relay (a rule or a limit) or an admin. */
export type EndedBy = Role | 'relay' | 'admin';

export type AuditRecord =
  | { event: 'opened'; session: string; nameplate: string; by: Role; conn: ConnId }
  | {
      event: 'paired';
      session: string;
      nameplate: string;
      /** Agent account id ('unverified' on an --open relay without a token). */
      agent: string;
      verified: boolean;
      /** 1 for the first join, 2 after one wrong code, ... */
      attempt: number;
      agentConn: ConnId;
      customerConn: ConnId;
    }
  | {
      event: 'ended';
      session: string;
      nameplate: string;
      reason: AuditEndReason;
      by: EndedBy;
      /** Both sides confirmed the key: a real session took place, not only an attempt. */
      established: boolean;
      /** From open to end. */
      durationMs: number;
      agentConn: ConnId | null;
      customerConn: ConnId | null;
    };
