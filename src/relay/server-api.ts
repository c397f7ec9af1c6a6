// The relay server's surface: what startRelay (server.ts) takes and returns, and what it needs
// from a cluster (cluster.ts implements ClusterHooks).
import type { AgentIdentity } from '../protocol/relay.js';
import type { AuditLine } from './audit.js';
import type { Logger } from './log.js';
import type { RelayMetrics } from './metrics.js';
import type { SessionView } from './sessions.js';
import type { TlsMaterial } from './tls.js';

export interface AccountVerifier {
  verify(token: string): AgentIdentity | null;
}

/** Where a nameplate lives in a cluster. */
export type Location = { kind: 'here' } | { kind: 'remote'; url: string } | { kind: 'none' };

/** What the server needs from a cluster of relays sharing one store (cluster.ts). */
export interface ClusterHooks {
  /** Reserve a free nameplate for this node; RsoError RSO_ERR_RELAY_BUSY when the store is down. */
  reserve(): Promise<string>;
  /** Which node holds `nameplate`; RsoError RSO_ERR_RELAY_BUSY when the store is down. */
  locate(nameplate: string): Promise<Location>;
  /** The nameplates this node holds now (live and reserved-dead); called on every tick. */
  held(nameplates: ReadonlySet<string>): void;
  /** The shared key other nodes present on NODE_PATH. */
  nodeKey(): Buffer | null;
}

export interface RelayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Serve https/wss with this certificate; reloadTls() swaps it without dropping anyone. */
  tls?: TlsMaterial;
  /** Agent accounts; without it every token is refused (use `open` for tokenless agents). */
  accounts?: AccountVerifier;
  open?: boolean;
  /** Seconds an opened number waits unpaired; also how long a dead number stays reserved. */
  codeTtlSeconds?: number;
  /** Joins per minute per remote address (also the burst). */
  joinRatePerMinute?: number;
  /** Largest binary frame; bigger ones close the connection (WebSocket close code 1009). */
  maxMessageBytes?: number;
  /** Most sessions (pending or paired) at once; 0 or absent: no limit. */
  maxSessions?: number;
  /** End a connection (and its session) after this long without a message either way; 0: never. */
  idleTimeoutSeconds?: number;
  helloTimeoutMs?: number;
  log?: Logger;
  audit?: (line: AuditLine) => void;
  metrics?: RelayMetrics;
  /** Shown on GET /. */
  brandName?: string;
  brandNote?: string;
  cluster?: ClusterHooks;
}

export interface SessionInfo extends SessionView {
  agentAddress: string | null;
  customerAddress: string | null;
  bytesAgentToCustomer: number;
  bytesCustomerToAgent: number;
}

export interface RunningRelay {
  url: string;
  port: number;
  /** Tell every client `peer-left {reason:'shutdown'}`, close every socket and the server. */
  close(): Promise<void>;
  /**
   * Stop taking new sessions (waiting ones are refused), wait up to `timeoutMs` for running
   * sessions to end, then close(). Resolves with the sessions still running at the deadline.
   */
  drain(timeoutMs: number): Promise<number>;
  reloadTls(material: TlsMaterial): void;
  counts(): { pending: number; paired: number; connections: number };
  sessions(): SessionInfo[];
  /** End a session as an admin; false if no session has this id. */
  end(id: string): boolean;
}
