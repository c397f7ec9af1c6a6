// Types of the relay's pairing machine (pairing.ts): configuration, state, events, effects.
// Kept apart so the machine's file holds only its transitions.
import type { ErrorCode } from '../errors.js';
import type { AgentIdentity, Role, ServerMessage } from '../protocol/relay.js';
import type { AuditRecord } from './audit-record.js';
import type { RandomInt } from './nameplates.js';

export type ConnId = number;

export interface PairingConfig {
  codeTtlMs: number;
  helloTimeoutMs: number;
  /** --open: agents without a token are let in, marked unverified. */
  open: boolean;
  randomInt: RandomInt;
  /** A fresh session id (16 random bytes, base64url) for every pairing attempt. */
  newSid: () => string;
  /** Most sessions (pending or paired) at once; an open beyond it is refused. Default: no limit. */
  maxSessions?: number;
  /** How long the first side of a resume waits for the other (ms). Default: RESUME_WINDOW_MS (30 s). */
  resumeWindowMs?: number;
  /** The id an admin uses for a session (rso relay sessions / end). Default: s1, s2, ... */
  newSessionId?: () => string;
}

/** What the server learnt from the hello's token (the machine never sees the token itself). */
export type Auth = { kind: 'none' } | { kind: 'valid'; identity: AgentIdentity } | { kind: 'invalid' };

export type VerifiedAgent = AgentIdentity & { verified: boolean };

export type ConnPhase = 'awaiting-hello' | 'ready' | 'opener' | 'joiner' | 'closing';

export interface ConnState {
  readonly id: ConnId;
  readonly phase: ConnPhase;
  readonly connectedAt: number;
  /** Host name the client used to reach us, echoed in welcome. */
  readonly relay: string;
  readonly role?: Role;
  readonly agent?: VerifiedAgent;
  readonly nameplate?: string;
}

export interface Attempt {
  /** null once the joiner has gone (a late keyed:false from the opener still counts). */
  readonly joiner: ConnId | null;
  readonly sid: string;
  readonly pairedAt: number;
  readonly openerKeyed?: boolean;
  readonly joinerKeyed?: boolean;
  /** This attempt already counted its one failure. */
  readonly failed: boolean;
}

export interface Plate {
  /** Admin and audit id of this session; stable across retries after a wrong code. */
  readonly id: string;
  readonly nameplate: string;
  readonly openedAt: number;
  readonly opener: ConnId;
  readonly openerRole: Role;
  readonly expiresAt: number;
  readonly failures: number;
  readonly attempt: Attempt | null;
  /** The attempt that ended last, so a keyed:false arriving after the joiner left still counts. */
  readonly lastAttempt: Attempt | null;
  readonly establishedAt: number | null;
  /** The resume id the two sides announced in `keyed` (public; see docs/resume.md). */
  readonly rid?: string;
}

export interface Tombstone {
  /** `ended`: a resume id whose session this relay ended (one side left while it stayed up). */
  readonly reason: 'expired' | 'burnt' | 'ended';
  readonly until: number;
}

export interface PairingState {
  readonly config: PairingConfig;
  readonly conns: ReadonlyMap<ConnId, ConnState>;
  readonly plates: ReadonlyMap<string, Plate>;
  readonly tombstones: ReadonlyMap<string, Tombstone>;
  /** SIGTERM was received: no new connection, number or pairing is accepted. */
  readonly draining: boolean;
  /** Sessions opened so far, for the default session ids. */
  readonly serial: number;
}

export type PairingEvent =
  | { type: 'connect'; conn: ConnId; now: number; relay: string }
  | { type: 'hello'; conn: ConnId; now: number; role: Role; auth: Auth }
  /** `nameplate`: already reserved by the cluster (Redis); without it the machine picks one. */
  | { type: 'open'; conn: ConnId; now: number; nameplate?: string }
  /** `throttled`: the server's per-address join throttle refused this join. */
  | { type: 'join'; conn: ConnId; now: number; nameplate: string; throttled: boolean }
  /** `rid`: the public resume id; throttled like a join. */
  | { type: 'resume'; conn: ConnId; now: number; rid: string; throttled: boolean }
  /** `rid`: the resume id the client will use if this relay connection drops (keyed ok only). */
  | { type: 'keyed'; conn: ConnId; now: number; ok: boolean; rid?: string }
  | { type: 'bye'; conn: ConnId; now: number }
  /** The client broke the protocol in a way the server saw first (bad JSON, early binary, size). */
  | { type: 'violation'; conn: ConnId; now: number; code: ErrorCode; message: string }
  | { type: 'closed'; conn: ConnId; now: number }
  /** No relay-plane or peer-plane message from this connection (or its peer) for --idle-timeout. */
  | { type: 'idle'; conn: ConnId; now: number }
  /** An admin ends session `id` (rso relay end); the server checked that it exists. */
  | { type: 'end'; id: string; now: number }
  | { type: 'drain'; now: number }
  | { type: 'tick'; now: number }
  | { type: 'shutdown'; now: number };

export type LogFields = Record<string, string | number | boolean | null>;

export type Effect =
  | { type: 'send'; conn: ConnId; msg: ServerMessage }
  /** Close after everything already sent to it. */
  | { type: 'close'; conn: ConnId }
  /** Start forwarding binary frames between a and b. */
  | { type: 'link'; a: ConnId; b: ConnId }
  | { type: 'unlink'; a: ConnId; b: ConnId }
  /** `pair`: the server adds the byte counts it kept for these two connections. */
  | { type: 'log'; event: string; fields: LogFields; pair?: [ConnId, ConnId] }
  /** One audit line; the server adds addresses and byte counts of the connections named in it. */
  | { type: 'audit'; record: AuditRecord };

export interface StepResult {
  state: PairingState;
  effects: Effect[];
}

