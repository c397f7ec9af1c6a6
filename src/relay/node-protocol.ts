// Node plane: what one relay of a cluster tells another when it hands over a client whose
// session lives there. Only accepted on a connection that proved it is a node (cluster key).
// The receiving node treats the rest of the connection as that client's own socket.
import { RsoError } from '../errors.js';
import type { AgentIdentity, Role } from '../protocol/relay.js';

/** Path of the node-to-node WebSocket endpoint on the relay's own port. */
export const NODE_PATH = '/.rso/node/v1';
/** Header carrying the cluster key on that endpoint. */
export const NODE_KEY_HEADER = 'x-rso-node-key';

export interface NodeHello {
  type: 'node-hello';
  role: Role;
  /** The agent as the first node verified it; null for a customer. */
  agent: (AgentIdentity & { verified: boolean }) | null;
  /** The client's own address, for the join throttle and the audit trail. */
  remote: string;
  /** Host name the client used, echoed in welcome (which the first node drops). */
  relay: string;
}

const MAX_NODE_HELLO = 2048;

function bad(what: string): RsoError {
  return new RsoError('RSO_ERR_PROTOCOL', 'Malformed node message.', `node-hello: ${what}`);
}

const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

export function parseNodeHello(text: string): NodeHello {
  if (text.length > MAX_NODE_HELLO) throw bad('too long');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not an object');
  const o = v as Record<string, unknown>;
  if (o.type !== 'node-hello') throw bad('type');
  if (o.role !== 'agent' && o.role !== 'customer') throw bad('role');
  if (typeof o.remote !== 'string' || o.remote.length > 64) throw bad('remote');
  if (typeof o.relay !== 'string' || o.relay.length > 256 || CONTROL_RE.test(o.relay)) throw bad('relay');
  let agent: NodeHello['agent'] = null;
  if (o.agent !== null) {
    const a = o.agent as Record<string, unknown>;
    if (typeof a !== 'object' || a === null) throw bad('agent');
    if (typeof a.id !== 'string' || typeof a.name !== 'string' || typeof a.org !== 'string' || typeof a.verified !== 'boolean') throw bad('agent fields');
    if (a.id.length > 64 || a.name.length > 128 || a.org.length > 128) throw bad('agent sizes');
    // The same rule as the relay plane: names reach the customer's consent panel, so no byte
    // of them may be a control character, even from a node that holds the cluster key.
    if (CONTROL_RE.test(a.id) || CONTROL_RE.test(a.name) || CONTROL_RE.test(a.org)) throw bad('control character in agent');
    agent = { id: a.id, name: a.name, org: a.org, verified: a.verified };
  }
  if (o.role === 'agent' && agent === null) throw bad('agent without identity');
  return { type: 'node-hello', role: o.role, agent, remote: o.remote, relay: o.relay };
}
