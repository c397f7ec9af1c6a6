// What `rso relay sessions` lists, read from the pairing state. Pure: the server adds the
// addresses and byte counts it keeps per connection.
import type { Role } from '../protocol/relay.js';
import type { ConnId, PairingState } from './pairing.js';

export type SessionPhase = 'waiting' | 'pairing' | 'established';

export interface SessionView {
  id: string;
  nameplate: string;
  phase: SessionPhase;
  openedBy: Role;
  openedAt: number;
  /** When the current attempt paired, or null while waiting. */
  pairedAt: number | null;
  /** Agent account id once an agent is on either side. */
  agent: string | null;
  verified: boolean | null;
  failures: number;
  agentConn: ConnId | null;
  customerConn: ConnId | null;
}

export function listSessions(state: PairingState): SessionView[] {
  const out: SessionView[] = [];
  for (const plate of state.plates.values()) {
    const joiner = plate.attempt?.joiner ?? null;
    const agentConn = plate.openerRole === 'agent' ? plate.opener : joiner;
    const customerConn = plate.openerRole === 'agent' ? joiner : plate.opener;
    const agent = agentConn === null ? undefined : state.conns.get(agentConn)?.agent;
    out.push({
      id: plate.id,
      nameplate: plate.nameplate,
      phase: plate.attempt === null ? 'waiting' : plate.establishedAt === null ? 'pairing' : 'established',
      openedBy: plate.openerRole,
      openedAt: plate.openedAt,
      pairedAt: plate.attempt?.pairedAt ?? null,
      agent: agent?.id ?? null,
      verified: agent?.verified ?? null,
      failures: plate.failures,
      agentConn,
      customerConn,
    });
  }
  return out.sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
}
