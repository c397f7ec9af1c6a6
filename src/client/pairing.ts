// The client's pairing machine: from "connected to the relay" to "keys confirmed with the
// peer". Pure: step(state, event) -> { state, effects }; the session (session.ts) performs the
// effects. It owns the handshake state (src/crypto/handshake.ts) because which frame may come
// when is a pairing question; the cryptography itself stays in the handshake.
//
// The opener counts failed key confirmations itself. The relay also counts them and burns the
// number after three, but a malicious relay could pretend not to, and every attempt is one
// online guess at the six secret digits: the count that protects the secret must live here.
// See docs/client.md for the diagram.
import { RsoError } from '../errors.js';
import type { SessionNumber } from '../crypto/code.js';
import { startHandshake, stepHandshake, type HandshakeOptions, type HandshakeResult, type HandshakeState } from '../crypto/handshake.js';
import type { AgentIdentity, ClientMessage, Role, ServerMessage } from '../protocol/relay.js';
import { FRAME_CONFIRM, FRAME_RECORD, FRAME_SHARE } from '../protocol/peer.js';

/** Failed key confirmations after which the opener gives the number up, whatever the relay says. */
export const MAX_ATTEMPTS = 3;

export interface PeerInfo {
  role: Role;
  agent?: AgentIdentity & { verified: boolean };
}

export interface PairingConfig {
  role: Role;
  /** Test seam: the handshake's scalar source. */
  randomScalar?: () => Uint8Array;
}

interface Base {
  config: PairingConfig;
  /** Failed key confirmations on this number so far (the opener's own count). */
  failures: number;
}

export type PairingState =
  /** Welcomed by the relay; nothing asked yet. `secret` is ours (opener) or typed (joiner). */
  | (Base & { name: 'S0_welcomed'; mode: 'open'; secret: string })
  | (Base & { name: 'S0_welcomed'; mode: 'join'; number: SessionNumber })
  /** Opener: asked for a nameplate. */
  | (Base & { name: 'S1_opening'; secret: string })
  /** Joiner: asked to join `number.nameplate`. */
  | (Base & { name: 'S1_joining'; number: SessionNumber })
  /** Opener: the number is known and shown; waiting for someone to join. */
  | (Base & { name: 'S2_waiting'; number: SessionNumber })
  /** Paired by the relay with someone; running the handshake. */
  | (Base & { name: 'S3_keying'; opener: boolean; number: SessionNumber; peer: PeerInfo; hs: HandshakeState })
  /** Opener: our key confirmation failed; waiting for the relay to drop that joiner. */
  | (Base & { name: 'S3_failed'; number: SessionNumber })
  /** Keys confirmed: the session takes over. Terminal. */
  | (Base & { name: 'S4_keyed' })
  /** Gave up (the `fail` effect says why). Terminal. */
  | (Base & { name: 'S5_failed' });

export type PairingEvent =
  | { type: 'start' }
  | { type: 'relay'; msg: ServerMessage }
  | { type: 'frame'; frame: Uint8Array }
  /** The relay socket closed under us. */
  | { type: 'closed'; error?: RsoError }
  /** The peer took too long to finish the handshake. */
  | { type: 'timeout' };

export type PairingEffect =
  | { type: 'send'; msg: ClientMessage }
  | { type: 'send-frame'; frame: Uint8Array }
  /** Opener: show this number to the person. */
  | { type: 'opened'; number: SessionNumber; ttl: number }
  /** Someone joined; the handshake started (the session arms its timeout). */
  | { type: 'keying' }
  /** Opener: one attempt failed; still waiting unless attemptsLeft is 0. */
  | { type: 'failed-attempt'; error: RsoError; attemptsLeft: number }
  | { type: 'keyed'; result: HandshakeResult; peer: PeerInfo; nameplate: string }
  /** Give up: close the socket and reject with `error`. Always the last effect. */
  | { type: 'fail'; error: RsoError };

export interface PairingStep {
  state: PairingState;
  effects: PairingEffect[];
}

export function initialOpenState(config: PairingConfig, secret: string): PairingState {
  return { name: 'S0_welcomed', mode: 'open', secret, config, failures: 0 };
}

export function initialJoinState(config: PairingConfig, number: SessionNumber): PairingState {
  return { name: 'S0_welcomed', mode: 'join', number, config, failures: 0 };
}

export function isTerminal(state: PairingState): boolean {
  return state.name === 'S4_keyed' || state.name === 'S5_failed';
}

function impossible(state: PairingState, what: string): RsoError {
  return new RsoError('RSO_ERR_PROTOCOL', `The relay broke the pairing protocol (${what}).`, `pairing: ${what} in ${state.name}`);
}

function failed(state: PairingState, error: RsoError, effects: PairingEffect[] = []): PairingStep {
  return { state: { name: 'S5_failed', config: state.config, failures: state.failures }, effects: [...effects, { type: 'fail', error }] };
}

export function decodeSid(sid: string): Uint8Array {
  const bytes = Buffer.from(sid, 'base64url');
  // parseServerMessage checked the shape; this checks the decoded length the handshake needs.
  if (bytes.length !== 16) throw new RsoError('RSO_ERR_PROTOCOL', 'The relay sent a bad session id.', `sid of ${bytes.length} bytes`);
  return new Uint8Array(bytes);
}

function peerOf(msg: ServerMessage & { type: 'paired' }): PeerInfo {
  const peer: PeerInfo = { role: msg.peer.role };
  if (msg.peer.agent !== undefined) peer.agent = { ...msg.peer.agent };
  return peer;
}

/** Leaves a relay `error` as the rejection, in our words (the relay's text is not trusted). */
function relayError(msg: ServerMessage & { type: 'error' }): RsoError {
  return new RsoError(msg.code, undefined, `relay error: ${msg.message}`);
}

function beginKeying(state: PairingState, number: SessionNumber, opener: boolean, msg: ServerMessage & { type: 'paired' }): PairingStep {
  const options: HandshakeOptions = { role: state.config.role, secret: number.secret, nameplate: number.nameplate, sid: decodeSid(msg.sid) };
  if (state.config.randomScalar !== undefined) options.randomScalar = state.config.randomScalar;
  const { state: hs, send } = startHandshake(options);
  return {
    state: { name: 'S3_keying', opener, number, peer: peerOf(msg), hs, config: state.config, failures: state.failures },
    effects: [{ type: 'keying' }, ...send.map((frame): PairingEffect => ({ type: 'send-frame', frame }))],
  };
}

/**
 * One failed attempt. The joiner is done (it typed a wrong number, or someone is in the middle);
 * the opener counts it and, below the limit, waits for the next joiner. `tellRelay` is false
 * when the relay told us (peer-left wrong-code), so it already knows and will not answer.
 */
function attemptFailed(state: PairingState & { name: 'S3_keying' }, error: RsoError, tellRelay: boolean): PairingStep {
  const effects: PairingEffect[] = tellRelay ? [{ type: 'send', msg: { type: 'keyed', ok: false } }] : [];
  if (!state.opener) return failed(state, error, effects);
  const failures = state.failures + 1;
  const attemptsLeft = Math.max(0, MAX_ATTEMPTS - failures);
  effects.push({ type: 'failed-attempt', error, attemptsLeft });
  const next = { config: state.config, failures };
  if (attemptsLeft === 0) {
    const burnt = new RsoError('RSO_ERR_BURNT', undefined, `${failures} failed attempts`);
    return failed({ ...state, ...next }, burnt, effects);
  }
  // After our keyed:false the relay answers with peer-left; we wait for it before a new pairing.
  if (tellRelay) return { state: { name: 'S3_failed', number: state.number, ...next }, effects };
  return { state: { name: 'S2_waiting', number: state.number, ...next }, effects };
}

function wrongCode(detail: string): RsoError {
  return new RsoError('RSO_ERR_WRONG_CODE', undefined, detail);
}

/** The peer went away (or stalled) in the middle of the handshake. */
function peerGone(state: PairingState & { name: 'S3_keying' }, error: RsoError): PairingStep {
  if (!state.opener) return failed(state, error);
  // Once we have answered the peer's share with our confirmation tag, the peer can check one
  // guess of the secret offline against that tag: it was an attempt, and it counts.
  if (state.hs.name === 'S2_know_key') return attemptFailed(state, error, true);
  // It never sent a share, so it learnt nothing that tests a guess: just wait for the next one.
  return { state: { name: 'S2_waiting', number: state.number, config: state.config, failures: state.failures }, effects: [] };
}

function onFrame(state: PairingState & { name: 'S3_keying' }, frame: Uint8Array): PairingStep {
  const kind = frame[0];
  if (kind === FRAME_RECORD) {
    // The peer sends its last handshake frame before its first record, and we are keyed as
    // soon as we have read that frame: a record now means the peer skipped key confirmation.
    throw impossible(state, 'record before key confirmation');
  }
  if (kind !== FRAME_SHARE && kind !== FRAME_CONFIRM) throw impossible(state, `peer frame of kind ${String(kind)}`);
  let out: ReturnType<typeof stepHandshake>;
  try {
    out = stepHandshake(state.hs, frame);
  } catch (err) {
    // A wrong number and a garbled handshake are both a failed attempt: for the opener a joiner
    // that sends garbage must cost an attempt, not end the session (nor go uncounted).
    if (err instanceof RsoError) return attemptFailed(state, err, true);
    throw err;
  }
  const effects: PairingEffect[] = out.send.map((f): PairingEffect => ({ type: 'send-frame', frame: f }));
  if (out.done === undefined) return { state: { ...state, hs: out.state }, effects };
  effects.push({ type: 'send', msg: { type: 'keyed', ok: true, rid: out.done.resume.id } });
  effects.push({ type: 'keyed', result: out.done, peer: state.peer, nameplate: state.number.nameplate });
  return { state: { name: 'S4_keyed', config: state.config, failures: state.failures }, effects };
}

export function step(state: PairingState, event: PairingEvent): PairingStep {
  if (isTerminal(state)) throw impossible(state, `${event.type} after the end`);

  // Events that mean the same in every live state.
  if (event.type === 'closed') {
    const error = event.error ?? new RsoError('RSO_ERR_UNREACHABLE', 'The relay closed the connection before the pairing finished.', 'relay socket closed while pairing');
    return failed(state, error);
  }
  if (event.type === 'relay' && event.msg.type === 'error') return failed(state, relayError(event.msg));
  if (event.type === 'relay' && event.msg.type === 'bye') {
    return failed(state, new RsoError('RSO_ERR_PEER_LEFT', 'The relay ended the session before the pairing finished.', 'relay bye while pairing'));
  }

  switch (state.name) {
    case 'S0_welcomed': {
      if (event.type !== 'start') break;
      if (state.mode === 'open') {
        return { state: { name: 'S1_opening', secret: state.secret, config: state.config, failures: 0 }, effects: [{ type: 'send', msg: { type: 'open' } }] };
      }
      return {
        state: { name: 'S1_joining', number: state.number, config: state.config, failures: 0 },
        effects: [{ type: 'send', msg: { type: 'join', nameplate: state.number.nameplate } }],
      };
    }
    case 'S1_opening': {
      if (event.type !== 'relay' || event.msg.type !== 'opened') break;
      const number: SessionNumber = { nameplate: event.msg.nameplate, secret: state.secret };
      return { state: { name: 'S2_waiting', number, config: state.config, failures: state.failures }, effects: [{ type: 'opened', number, ttl: event.msg.ttl }] };
    }
    case 'S1_joining': {
      if (event.type !== 'relay' || event.msg.type !== 'paired') break;
      return beginKeying(state, state.number, false, event.msg);
    }
    case 'S2_waiting': {
      if (event.type !== 'relay' || event.msg.type !== 'paired') break;
      return beginKeying(state, state.number, true, event.msg);
    }
    case 'S3_keying': {
      if (event.type === 'frame') return onFrame(state, event.frame);
      if (event.type === 'timeout') {
        // For the opener the stalled joiner is dropped (keyed:false) and the attempt counted.
        const error = new RsoError('RSO_ERR_TIMEOUT', 'The other side did not finish the key exchange in time.', 'handshake timeout');
        return state.opener ? attemptFailed(state, error, true) : failed(state, error);
      }
      if (event.type === 'relay' && event.msg.type === 'peer-left') {
        // The peer saw the confirmation fail before we did.
        if (event.msg.reason === 'wrong-code') return attemptFailed(state, wrongCode('peer reported wrong code'), false);
        return peerGone(state, new RsoError('RSO_ERR_PEER_LEFT', 'The other side left during the key exchange.', `peer-left ${event.msg.reason} while keying`));
      }
      break;
    }
    case 'S3_failed': {
      // The relay acknowledges our failed attempt (peer-left wrong-code, or the joiner simply
      // went away); only after that may it pair us again.
      if (event.type === 'relay' && event.msg.type === 'peer-left') {
        return { state: { name: 'S2_waiting', number: state.number, config: state.config, failures: state.failures }, effects: [] };
      }
      if (event.type === 'timeout') {
        return failed(state, new RsoError('RSO_ERR_TIMEOUT', 'The relay did not answer after a failed attempt.', 'no peer-left after failed attempt'));
      }
      break;
    }
  }
  const what = event.type === 'relay' ? `relay message ${event.msg.type}` : event.type === 'frame' ? 'peer frame' : event.type;
  throw impossible(state, `unexpected ${what}`);
}
