// The key exchange between customer and agent: CPace (cpace.ts) followed by explicit key
// confirmation, as a pure state machine. The caller moves peer-plane frames in and out; this file
// opens nothing and logs nothing. Diagram: docs/handshake.md.
//
// Both sides act at once, no one waits for a turn:
//   start:                send SHARE  = [FRAME_SHARE] || Y (32) || AD ("rso customer" | "rso agent")
//   on the peer's SHARE:  CPace ISK -> HKDF keys; send CONFIRM = [FRAME_CONFIRM] || tag (64)
//   on the peer's CONFIRM: check its tag -> done (keys, verification code)
// The relay forwards each side's frames in order, so the peer's SHARE always comes before its
// CONFIRM, and anything else is a broken or hostile peer.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { RsoError } from '../errors.js';
import { FRAME_CONFIRM, FRAME_SHARE } from '../protocol/peer.js';
import { NAMEPLATE_RE, type Role } from '../protocol/relay.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { concat, copy, utf8, wipe } from './bytes.js';
import { FIELD_SIZE_BYTES, calculateGenerator, iskIr, lvCat, sampleScalar, scalarMult, scalarMultVfy, transcriptIr } from './cpace.js';

export interface HandshakeOptions {
  /** 'customer' = CPace initiator (A), 'agent' = responder (B). */
  role: Role;
  /**
   * The CPace PRS: the 6 secret digits of the session number, or, to resume a session after
   * the relay connection dropped, the 32-byte resume secret the previous handshake derived.
   */
  secret: string | Uint8Array;
  nameplate: string;
  /** 16 bytes: the relay's paired.sid, base64url-decoded by the caller. */
  sid: Uint8Array;
  /** Test seam only; by default the scalar is sampled from the CSPRNG. */
  randomScalar?: () => Uint8Array;
}

/** 32-byte ChaCha20-Poly1305 keys; `send` is this side's direction. */
export interface ChannelKeys {
  send: Uint8Array;
  receive: Uint8Array;
}

/**
 * What lets the two sides resume this session over a new relay connection (docs/resume.md).
 * `secret` is the next handshake's password and never leaves this machine; `id` is public: the
 * relay uses it to bring the two sides together again, and it reveals nothing about `secret`
 * (a different HKDF label).
 */
export interface ResumeMaterial {
  secret: Uint8Array;
  /** 32 lowercase hex digits. */
  id: string;
}

export interface HandshakeResult {
  keys: ChannelKeys;
  /** 4 digits, the same on both sides when nobody sits in the middle. */
  verificationCode: string;
  resume: ResumeMaterial;
}

/** We know the secret and sent our share; we wait for the peer's share. */
export interface KnowSecretState {
  readonly name: 'S1_know_secret';
  readonly role: Role;
  readonly sid: Uint8Array;
  /** Our CPace scalar: wiped when this state is consumed. */
  readonly y: Uint8Array;
  readonly myShare: Uint8Array;
}

/** We know the keys and sent our confirmation; we wait for the peer's. */
export interface KnowKeyState {
  readonly name: 'S2_know_key';
  readonly role: Role;
  readonly keys: ChannelKeys;
  readonly verificationCode: string;
  readonly resume: ResumeMaterial;
  /** The tag the peer must send: wiped when this state is consumed. */
  readonly peerTag: Uint8Array;
}

/** The peer proved it holds the same key; the handshake is over and takes no more frames. */
export interface ConfirmedState {
  readonly name: 'S3_confirmed';
  readonly role: Role;
}

export type HandshakeState = KnowSecretState | KnowKeyState | ConfirmedState;

export interface HandshakeStep {
  state: HandshakeState;
  send: Uint8Array[];
  done?: HandshakeResult;
}

const SID_BYTES = 16;
const KEY_BYTES = 32;
/** HMAC-SHA-512 output, and its key size (the hash block would allow more; 64 is ample). */
const TAG_BYTES = 64;
const LABEL = `rso/${PROTOCOL_VERSION}`;
const SECRET_RE = /^[0-9]{6}$/;
export const RESUME_SECRET_BYTES = 32;
const RESUME_ID_BYTES = 16;

/** The AD of Section 7: each side says which role it plays, so a reflected share is caught. */
const AD: Record<Role, Uint8Array> = { customer: utf8('rso customer'), agent: utf8('rso agent') };
const SHARE_BYTES: Record<Role, number> = { customer: 1 + FIELD_SIZE_BYTES + AD.customer.length, agent: 1 + FIELD_SIZE_BYTES + AD.agent.length };
const CONFIRM_BYTES = 1 + TAG_BYTES;

const WRONG_CODE_TEXT =
  'The session number did not match on both sides: the number was mistyped, or someone tried to intercept the session.';

function other(role: Role): Role {
  return role === 'customer' ? 'agent' : 'customer';
}

function broken(detail: string): RsoError {
  return new RsoError('RSO_ERR_PROTOCOL', 'The other side broke the key exchange; the connection was closed.', `handshake: ${detail}`);
}

function internal(detail: string): RsoError {
  return new RsoError('RSO_ERR_INTERNAL', undefined, `handshake: ${detail}`);
}

/**
 * CI (draft Section 4.1) binds what both sides must agree on besides the password: the protocol
 * version (two versions never share a key), the nameplate (a relay cannot splice two pairings)
 * and the two role names in initiator-responder order.
 */
function channelIdentifier(nameplate: string): Uint8Array {
  return lvCat(utf8(LABEL), utf8(nameplate), utf8('customer'), utf8('agent'));
}

function hkdf(isk: Uint8Array, sid: Uint8Array, label: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha512', isk, sid, utf8(`${LABEL} ${label}`), length));
}

/**
 * The tag a role sends. Its key is that role's own confirmation key and the message names the
 * role, so a tag reflected back to its sender never verifies; the transcript is covered again so
 * the tag says exactly which exchange it confirms (draft Section 10.4).
 */
function confirmTag(kc: Uint8Array, role: Role, transcript: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha512', kc).update(lvCat(utf8(`${LABEL} confirm`), utf8(role), transcript)).digest());
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function frame(kind: number, ...parts: Uint8Array[]): Uint8Array {
  return concat(Uint8Array.of(kind), ...parts);
}

export function startHandshake(opts: HandshakeOptions): { state: HandshakeState; send: Uint8Array[] } {
  if (opts.role !== 'customer' && opts.role !== 'agent') throw internal('bad role');
  // Never name the secret's value: it is the password.
  const digits = typeof opts.secret === 'string' && SECRET_RE.test(opts.secret);
  const resumeSecret = opts.secret instanceof Uint8Array && opts.secret.length === RESUME_SECRET_BYTES;
  if (!digits && !resumeSecret) throw internal('secret is neither 6 digits nor a resume secret');
  if (!NAMEPLATE_RE.test(opts.nameplate)) throw internal('bad nameplate');
  if (!(opts.sid instanceof Uint8Array) || opts.sid.length !== SID_BYTES) throw internal(`sid of ${String(opts.sid?.length)} bytes`);

  const sid = copy(opts.sid);
  // A resume secret is prefixed with its own label, so that no PRS of one kind is ever a PRS of
  // the other kind.
  const prs = typeof opts.secret === 'string' ? utf8(opts.secret) : lvCat(utf8(`${LABEL} resume`), opts.secret);
  const g = calculateGenerator(prs, channelIdentifier(opts.nameplate), sid);
  wipe(prs);
  // Copied so that wiping it later cannot reach into the caller's (test) buffer, nor the reverse.
  const y = opts.randomScalar ? copy(opts.randomScalar()) : sampleScalar();
  const myShare = scalarMult(y, g);
  const state: KnowSecretState = { name: 'S1_know_secret', role: opts.role, sid, y, myShare };
  return { state, send: [frame(FRAME_SHARE, myShare, AD[opts.role])] };
}

function onShare(state: KnowSecretState, data: Uint8Array): HandshakeStep {
  const me = state.role;
  const peer = other(me);
  if (data.length !== SHARE_BYTES[peer]) throw broken(`share of ${data.length} bytes, expected ${SHARE_BYTES[peer]}`);
  const peerShare = data.slice(1, 1 + FIELD_SIZE_BYTES);
  const peerAd = data.subarray(1 + FIELD_SIZE_BYTES);
  // Public bytes: a plain comparison is fine. A share claiming our own role is our share sent
  // back (or a second customer): refuse it before any key is derived from it.
  if (!peerAd.every((b, i) => b === AD[peer][i])) throw broken('share with the wrong role');
  if (peerShare.every((b, i) => b === state.myShare[i])) throw broken('our own share reflected');

  const k = scalarMultVfy(state.y, peerShare); // throws on an invalid encoding or the identity
  // Initiator-responder order (draft Section 6.3): the customer is always A.
  const [ya, ada, yb, adb] = me === 'customer' ? [state.myShare, AD.customer, peerShare, AD.agent] : [peerShare, AD.customer, state.myShare, AD.agent];
  const isk = iskIr(state.sid, k, ya, ada, yb, adb);
  const transcript = transcriptIr(ya, ada, yb, adb);

  // Draft Section 10.3: ISK goes through a KDF before use; one label per purpose and direction.
  const customerToAgent = hkdf(isk, state.sid, 'key customer->agent', KEY_BYTES);
  const agentToCustomer = hkdf(isk, state.sid, 'key agent->customer', KEY_BYTES);
  const kc: Record<Role, Uint8Array> = {
    customer: hkdf(isk, state.sid, 'confirm customer', TAG_BYTES),
    agent: hkdf(isk, state.sid, 'confirm agent', TAG_BYTES),
  };
  const codeBytes = hkdf(isk, state.sid, 'verification code', 4);
  const resume: ResumeMaterial = {
    secret: hkdf(isk, state.sid, 'resume secret', RESUME_SECRET_BYTES),
    id: toHex(hkdf(isk, state.sid, 'resume id', RESUME_ID_BYTES)),
  };
  // 2^32 mod 10^4 leaves a bias of about 1e-6 per code: irrelevant for a visual check.
  const verificationCode = String(new DataView(codeBytes.buffer).getUint32(0) % 10_000).padStart(4, '0');

  const myTag = confirmTag(kc[me], me, transcript);
  const peerTag = confirmTag(kc[peer], peer, transcript);
  wipe(k, isk, kc.customer, kc.agent, codeBytes);

  const keys: ChannelKeys = me === 'customer' ? { send: customerToAgent, receive: agentToCustomer } : { send: agentToCustomer, receive: customerToAgent };
  const next: KnowKeyState = { name: 'S2_know_key', role: me, keys, verificationCode, resume, peerTag };
  return { state: next, send: [frame(FRAME_CONFIRM, myTag)] };
}

function onConfirm(state: KnowKeyState, data: Uint8Array): HandshakeStep {
  if (data.length !== CONFIRM_BYTES) throw broken(`confirmation of ${data.length} bytes, expected ${CONFIRM_BYTES}`);
  if (!timingSafeEqual(data.subarray(1), state.peerTag)) {
    throw new RsoError('RSO_ERR_WRONG_CODE', WRONG_CODE_TEXT, 'key confirmation tag mismatch');
  }
  // Copies, because stepHandshake wipes this state's own; the confirmed state holds no secret.
  const keys: ChannelKeys = { send: copy(state.keys.send), receive: copy(state.keys.receive) };
  const resume: ResumeMaterial = { secret: copy(state.resume.secret), id: state.resume.id };
  return { state: { name: 'S3_confirmed', role: state.role }, send: [], done: { keys, verificationCode: state.verificationCode, resume } };
}

function transition(state: HandshakeState, data: Uint8Array): HandshakeStep {
  const kind = data[0];
  switch (state.name) {
    case 'S1_know_secret':
      if (kind === FRAME_SHARE) return onShare(state, data);
      if (kind === FRAME_CONFIRM) throw broken('confirmation before the share');
      break;
    case 'S2_know_key':
      if (kind === FRAME_CONFIRM) return onConfirm(state, data);
      if (kind === FRAME_SHARE) throw broken('a second share');
      break;
    case 'S3_confirmed':
      throw broken(`frame of kind ${String(kind)} after the handshake finished`);
  }
  throw broken(`frame of kind ${String(kind)} during the handshake`);
}

// A state is used once: stepping it wipes the secrets it holds (the scalar, or the keys and
// the expected tag, which the result carries as copies), so a second step from the same state would compute with zeros.
// Refusing that loudly keeps a caller bug from becoming a silent wrong key.
const spent = new WeakSet<HandshakeState>();

function wipeState(state: HandshakeState): void {
  if (state.name === 'S1_know_secret') wipe(state.y);
  if (state.name === 'S2_know_key') wipe(state.peerTag, state.keys.send, state.keys.receive, state.resume.secret);
}

/**
 * Feed one peer-plane frame. Returns the next state and the frames to send; `done` is set once,
 * when the peer's confirmation checks. Throws RsoError: RSO_ERR_WRONG_CODE when the two sides did
 * not derive the same key, RSO_ERR_PROTOCOL for any frame that does not fit the state. After a
 * throw the handshake is over (its secrets are wiped).
 */
export function stepHandshake(state: HandshakeState, data: Uint8Array): HandshakeStep {
  if (spent.has(state)) throw internal(`state ${state.name} stepped twice`);
  spent.add(state);
  try {
    return transition(state, data);
  } finally {
    wipeState(state);
  }
}
