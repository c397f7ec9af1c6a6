// The audit trail (--audit FILE): one JSON line per session event: opened, paired, ended.
// Written synchronously, so a line is on disk before the relay goes on, and appended to a file
// of mode 0600. reopen() follows log rotation (SIGHUP). What a line may hold is fixed by
// AuditRecord plus the addresses and byte counts the server adds: never content, never a token,
// never a secret digit (the relay never has one).
import { closeSync, openSync, writeSync } from 'node:fs';
import { RsoError } from '../errors.js';
import type { AuditRecord } from './audit-record.js';

export type AuditLine = Record<string, string | number | boolean | null>;

/** How often a failing audit file is reported (the first failure at once). */
export const AUDIT_PROBLEM_INTERVAL_MS = 60_000;

/** What the relay logs about a failing audit file: never the lines themselves. */
export interface AuditProblem {
  file: string;
  /** errno code of the last failure, e.g. ENOSPC. */
  code: string;
  /** Lines lost since the last report. */
  lost: number;
}

/**
 * At most one report per interval for a recurring problem, with the number of occurrences in
 * between: a full disk must not turn every session event into a log line (which may well go
 * to the same full disk).
 */
export class ProblemThrottle {
  private lastReport: number | null = null;
  private pending = 0;

  constructor(private readonly intervalMs: number = AUDIT_PROBLEM_INTERVAL_MS) {}

  /** One occurrence at `now`; returns how many to report now (all since the last report), or 0 to stay quiet. */
  occur(now: number): number {
    this.pending++;
    if (this.lastReport !== null && now - this.lastReport < this.intervalMs) return 0;
    this.lastReport = now;
    const n = this.pending;
    this.pending = 0;
    return n;
  }
}

export class AuditLog {
  private fd: number;
  private readonly problems: ProblemThrottle;

  /**
   * `onProblem`: a line could not be written (disk full, file gone, I/O error). The relay goes
   * on forwarding: an audit trail with a reported gap is better than ending everyone's session.
   */
  constructor(
    readonly path: string,
    private readonly clock: () => Date = () => new Date(),
    private readonly onProblem: (p: AuditProblem) => void = () => {},
    intervalMs: number = AUDIT_PROBLEM_INTERVAL_MS,
  ) {
    this.fd = AuditLog.open(path);
    this.problems = new ProblemThrottle(intervalMs);
  }

  private static open(path: string): number {
    try {
      return openSync(path, 'a', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new RsoError('RSO_ERR_CONFIG', `Could not open the audit log ${path} (${code}).`, `audit open: ${code}`);
    }
  }

  write(line: AuditLine): void {
    const now = this.clock();
    try {
      writeSync(this.fd, `${JSON.stringify({ time: now.toISOString(), ...line })}\n`);
    } catch (err) {
      const lost = this.problems.occur(now.getTime());
      if (lost > 0) this.onProblem({ file: this.path, code: (err as NodeJS.ErrnoException).code ?? 'error', lost });
    }
  }

  /** After rotation: new lines go to a fresh file at the same path. */
  reopen(): void {
    const fd = AuditLog.open(this.path);
    closeSync(this.fd);
    this.fd = fd;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The line for `r`, with the addresses and byte counts the server keeps per connection. */
export function toAuditLine(r: AuditRecord, addressOf: (conn: number) => string | null, sentBy: (conn: number) => number): AuditLine {
  const addr = (conn: number | null): string | null => (conn === null ? null : addressOf(conn));
  const sent = (conn: number | null): number => (conn === null ? 0 : sentBy(conn));
  switch (r.event) {
    case 'opened':
      return { event: 'opened', session: r.session, nameplate: r.nameplate, openedBy: r.by, address: addr(r.conn) };
    case 'paired':
      return {
        event: 'paired',
        session: r.session,
        nameplate: r.nameplate,
        agent: r.agent,
        verified: r.verified,
        attempt: r.attempt,
        customerAddress: addr(r.customerConn),
        agentAddress: addr(r.agentConn),
      };
    case 'ended':
      return {
        event: 'ended',
        session: r.session,
        nameplate: r.nameplate,
        reason: r.reason,
        by: r.by,
        established: r.established,
        durationMs: r.durationMs,
        bytesAgentToCustomer: sent(r.agentConn),
        bytesCustomerToAgent: sent(r.customerConn),
      };
  }
}
