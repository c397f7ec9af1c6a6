// The audit trail (--audit FILE): one JSON line per session event: opened, paired, ended.
// Written synchronously, so a line is on disk before the relay goes on, and appended to a file
// of mode 0600. reopen() follows log rotation (SIGHUP). What a line may hold is fixed by
// AuditRecord plus the addresses and byte counts the server adds: never content, never a token,
// never a secret digit (the relay never has one).
import { closeSync, openSync, writeSync } from 'node:fs';
import { RsoError } from '../errors.js';
import type { AuditRecord } from './audit-record.js';

export type AuditLine = Record<string, string | number | boolean | null>;

export class AuditLog {
  private fd: number;

  constructor(readonly path: string, private readonly clock: () => Date = () => new Date()) {
    this.fd = AuditLog.open(path);
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
    writeSync(this.fd, `${JSON.stringify({ time: this.clock().toISOString(), ...line })}\n`);
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
