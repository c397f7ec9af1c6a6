// Relay plane: small JSON text frames between a client and the relay. Every message that
// arrives from the network goes through parseClientMessage / parseServerMessage, which accept
// exactly the shapes below and throw RsoError otherwise (the caller closes that connection).
import { RsoError, isErrorCode, type ErrorCode } from '../errors.js';
import { MAX_RELAY_MESSAGE_BYTES, PROTOCOL_VERSION } from './version.js';

export type Role = 'agent' | 'customer';

export interface AgentIdentity {
  /** Account id at the relay, e.g. "anna". */
  id: string;
  name: string;
  org: string;
}

// client -> relay
export type ClientMessage =
  | { type: 'hello'; v: number; role: Role; token?: string }
  | { type: 'open' }
  | { type: 'join'; nameplate: string }
  /**
   * After the relay connection dropped mid-session: meet the other side again under the public
   * resume id both derived from the last handshake (docs/resume.md). Sent instead of open/join.
   */
  | { type: 'resume'; rid: string }
  /**
   * Result of key confirmation, so an honest relay can burn a number after 3 failures. With
   * ok, `rid` is the public resume id of the new keys: when the relay ends the session (one
   * side left while the relay stayed up), it tells a later `resume` with that id at once that
   * the other side is gone, instead of letting it wait out the resume window.
   */
  | { type: 'keyed'; ok: boolean; rid?: string }
  | { type: 'bye' };

export type PeerLeftReason = 'closed' | 'wrong-code' | 'ended' | 'timeout' | 'shutdown';

// relay -> client
export type ServerMessage =
  | { type: 'welcome'; v: number; relay: string; open: boolean; agent: AgentIdentity | null }
  | { type: 'opened'; nameplate: string; ttl: number }
  /**
   * `peer.agent` is present for the customer when the peer is an agent: `verified` is true only
   * when the relay checked the agent's token (false on an --open relay).
   */
  | { type: 'paired'; sid: string; peer: { role: Role; agent?: AgentIdentity & { verified: boolean } } }
  | { type: 'peer-left'; reason: PeerLeftReason }
  | { type: 'error'; code: ErrorCode; message: string }
  | { type: 'bye' };

export const NAMEPLATE_RE = /^[0-9]{3,6}$/;
/** The shape of an agent token as the relay issues it; hello accepts exactly this. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;
const SID_RE = /^[A-Za-z0-9_-]{22}$/; // 16 bytes, base64url without padding
/** A resume id: 16 bytes as 32 lowercase hex digits (handshake.ts). */
export const RID_RE = /^[0-9a-f]{32}$/;
const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const PEER_LEFT_REASONS: readonly PeerLeftReason[] = ['closed', 'wrong-code', 'ended', 'timeout', 'shutdown'];

export function encodeMessage(msg: ClientMessage | ServerMessage): string {
  return JSON.stringify(msg);
}

function protocolError(what: string): RsoError {
  return new RsoError('RSO_ERR_PROTOCOL', `Malformed relay message: ${what}.`, what);
}

function parseObject(text: string): Record<string, unknown> {
  // Byte length, not string length: a multi-byte payload must not slip past the limit.
  if (new TextEncoder().encode(text).length > MAX_RELAY_MESSAGE_BYTES) {
    throw new RsoError('RSO_ERR_TOO_LARGE', `Relay message over ${MAX_RELAY_MESSAGE_BYTES} bytes.`, 'relay message too large');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw protocolError('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocolError('not an object');
  const obj = value as Record<string, unknown>;
  if (typeof obj.type !== 'string') throw protocolError('no type');
  return obj;
}

/** Fields allowed on one message type; any other key is a protocol error. */
function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (key !== 'type' && !allowed.includes(key)) throw protocolError(`unexpected field "${key}" in ${String(obj.type)}`);
  }
}

function str(obj: Record<string, unknown>, key: string, re: RegExp, maxLen = 256): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length > maxLen || !re.test(v)) throw protocolError(`bad ${key} in ${String(obj.type)}`);
  return v;
}

function text(obj: Record<string, unknown>, key: string, maxLen: number): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length > maxLen) throw protocolError(`bad ${key} in ${String(obj.type)}`);
  // Control characters in names would let a relay paint over the customer's consent panel.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(v)) throw protocolError(`control character in ${key}`);
  return v;
}

function role(obj: Record<string, unknown>, key: string): Role {
  const v = obj[key];
  if (v !== 'agent' && v !== 'customer') throw protocolError(`bad ${key} in ${String(obj.type)}`);
  return v;
}

function version(obj: Record<string, unknown>): number {
  const v = obj.v;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw protocolError('bad v');
  if (v !== PROTOCOL_VERSION) {
    throw new RsoError('RSO_ERR_VERSION', `The other side speaks protocol ${v}; this program speaks ${PROTOCOL_VERSION}. Update rso.`, `version ${v}`);
  }
  return v;
}

function identity(value: unknown): AgentIdentity {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocolError('bad agent');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['id', 'name', 'org', 'verified'].includes(key)) throw protocolError(`unexpected field "${key}" in agent`);
  }
  return { id: str(o, 'id', ID_RE), name: text(o, 'name', 128), org: text(o, 'org', 128) };
}

export function parseClientMessage(raw: string): ClientMessage {
  const obj = parseObject(raw);
  switch (obj.type) {
    case 'hello': {
      onlyKeys(obj, ['v', 'role', 'token']);
      const msg: ClientMessage = { type: 'hello', v: version(obj), role: role(obj, 'role') };
      if (obj.token !== undefined) msg.token = str(obj, 'token', TOKEN_RE);
      return msg;
    }
    case 'open':
      onlyKeys(obj, []);
      return { type: 'open' };
    case 'join':
      onlyKeys(obj, ['nameplate']);
      return { type: 'join', nameplate: str(obj, 'nameplate', NAMEPLATE_RE) };
    case 'resume':
      onlyKeys(obj, ['rid']);
      return { type: 'resume', rid: str(obj, 'rid', RID_RE, 32) };
    case 'keyed': {
      onlyKeys(obj, ['ok', 'rid']);
      if (typeof obj.ok !== 'boolean') throw protocolError('bad ok in keyed');
      if (obj.rid === undefined) return { type: 'keyed', ok: obj.ok };
      if (!obj.ok) throw protocolError('rid in a failed keyed');
      return { type: 'keyed', ok: true, rid: str(obj, 'rid', RID_RE, 32) };
    }
    case 'bye':
      onlyKeys(obj, []);
      return { type: 'bye' };
    default:
      throw protocolError(`unknown type "${String(obj.type).slice(0, 32)}"`);
  }
}

export function parseServerMessage(raw: string): ServerMessage {
  const obj = parseObject(raw);
  switch (obj.type) {
    case 'welcome': {
      onlyKeys(obj, ['v', 'relay', 'open', 'agent']);
      if (typeof obj.open !== 'boolean') throw protocolError('bad open in welcome');
      return {
        type: 'welcome',
        v: version(obj),
        relay: text(obj, 'relay', 256),
        open: obj.open,
        agent: obj.agent === null ? null : identity(obj.agent),
      };
    }
    case 'opened': {
      onlyKeys(obj, ['nameplate', 'ttl']);
      const ttl = obj.ttl;
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 86400) throw protocolError('bad ttl');
      return { type: 'opened', nameplate: str(obj, 'nameplate', NAMEPLATE_RE), ttl };
    }
    case 'paired': {
      onlyKeys(obj, ['sid', 'peer']);
      const peer = obj.peer;
      if (typeof peer !== 'object' || peer === null || Array.isArray(peer)) throw protocolError('bad peer');
      const p = peer as Record<string, unknown>;
      for (const key of Object.keys(p)) {
        if (key !== 'role' && key !== 'agent') throw protocolError(`unexpected field "${key}" in peer`);
      }
      const out: ServerMessage & { type: 'paired' } = { type: 'paired', sid: str(obj, 'sid', SID_RE), peer: { role: role(p, 'role') } };
      if (p.agent !== undefined) {
        const a = p.agent as Record<string, unknown>;
        const id = identity(a);
        if (typeof a.verified !== 'boolean') throw protocolError('bad verified');
        out.peer.agent = { ...id, verified: a.verified };
      }
      return out;
    }
    case 'peer-left': {
      onlyKeys(obj, ['reason']);
      const reason = obj.reason;
      if (!PEER_LEFT_REASONS.includes(reason as PeerLeftReason)) throw protocolError('bad reason');
      return { type: 'peer-left', reason: reason as PeerLeftReason };
    }
    case 'error': {
      onlyKeys(obj, ['code', 'message']);
      const code = obj.code;
      // An unknown code from a newer relay is still an error, just not one we can name.
      return { type: 'error', code: isErrorCode(code) ? code : 'RSO_ERR_PROTOCOL', message: text(obj, 'message', 512) };
    }
    case 'bye':
      onlyKeys(obj, []);
      return { type: 'bye' };
    default:
      throw protocolError(`unknown type "${String(obj.type).slice(0, 32)}"`);
  }
}
