// The boss: dials the relay, drives the pairing machine (pairing.ts) with what the relay and
// the peer send, performs its effects, and hands the socket to the established session
// (secure-session.ts) once the keys are confirmed. Nothing here decides protocol questions.
import { RsoError, toRsoError } from '../errors.js';
import { generateSecret, parseSessionNumber, type SessionNumber } from '../crypto/code.js';
import type { Role } from '../protocol/relay.js';
import { initialJoinState, initialOpenState, isTerminal, step, type PairingConfig, type PairingEvent, type PairingState } from './pairing.js';
import { connectRelay, type RelayConnectOptions, type RelayConnection } from './relay-connection.js';
import { EstablishedSession, type SecureSession } from './secure-session.js';

export type { SecureSession, CloseInfo, ResumeEvent } from './secure-session.js';
export type { PeerInfo } from './pairing.js';
export { MAX_ATTEMPTS } from './pairing.js';

export interface ClientOptions {
  relay: string;
  role: Role;
  token?: string;
  insecure?: boolean;
  /** Extra trusted CA (PEM) for wss://. */
  ca?: string;
  /** How long a session tries to resume after the relay connection dropped (default 30 s). */
  resumeWindowMs?: number;
}

export interface OpenOptions extends ClientOptions {
  /** The number to read to the other person, and how long the relay keeps it. */
  onOpened: (n: SessionNumber, ttlSeconds: number) => void;
  /** Someone joined with a wrong number (or someone tried to sit in the middle). */
  onFailedAttempt?: (err: RsoError, attemptsLeft: number) => void;
  signal?: AbortSignal;
}

export interface JoinOptions extends ClientOptions {
  number: string | SessionNumber;
  signal?: AbortSignal;
}

/** How long a peer may take between being paired and confirming keys. */
export const KEYING_TIMEOUT_MS = 30_000;

export interface PairingHooks {
  onOpened?: OpenOptions['onOpened'];
  onFailedAttempt?: OpenOptions['onFailedAttempt'];
  signal?: AbortSignal;
  keyingTimeoutMs: number;
  /** How to dial the relay again to resume after it dropped us (without: no resume). */
  reconnect?: RelayConnectOptions;
  /** Default RESUME_WINDOW_MS (secure-session.ts). */
  resumeWindowMs?: number;
}

/** Opens a session: the relay picks the nameplate, we draw the secret, someone joins. */
export async function openSession(opts: OpenOptions): Promise<SecureSession> {
  const conn = await connectRelay(connectOptions(opts, opts.signal));
  // Drawn here and kept here: the secret is the CPace password and is never sent.
  const secret = generateSecret();
  const hooks: PairingHooks = { onOpened: opts.onOpened, keyingTimeoutMs: KEYING_TIMEOUT_MS, ...resumeHooks(opts) };
  if (opts.onFailedAttempt !== undefined) hooks.onFailedAttempt = opts.onFailedAttempt;
  if (opts.signal !== undefined) hooks.signal = opts.signal;
  return runPairing(conn, initialOpenState(pairingConfig(opts), secret), hooks);
}

/** Joins the session whose number the other person read out. */
export async function joinSession(opts: JoinOptions): Promise<SecureSession> {
  // A typo is reported before any connection is made.
  const number = typeof opts.number === 'string' ? parseSessionNumber(opts.number) : parseSessionNumber(`${opts.number.nameplate}${opts.number.secret}`);
  const conn = await connectRelay(connectOptions(opts, opts.signal));
  const hooks: PairingHooks = { keyingTimeoutMs: KEYING_TIMEOUT_MS, ...resumeHooks(opts) };
  if (opts.signal !== undefined) hooks.signal = opts.signal;
  return runPairing(conn, initialJoinState(pairingConfig(opts), number), hooks);
}

function connectOptions(opts: ClientOptions, signal: AbortSignal | undefined): Parameters<typeof connectRelay>[0] {
  const out: Parameters<typeof connectRelay>[0] = { relay: opts.relay, role: opts.role };
  if (opts.token !== undefined) out.token = opts.token;
  if (opts.insecure !== undefined) out.insecure = opts.insecure;
  if (opts.ca !== undefined) out.ca = opts.ca;
  if (signal !== undefined) out.signal = signal;
  return out;
}

/** The relay is dialled again the same way, but never under the pairing's abort signal. */
function resumeHooks(opts: ClientOptions): Pick<PairingHooks, 'reconnect' | 'resumeWindowMs'> {
  const out: Pick<PairingHooks, 'reconnect' | 'resumeWindowMs'> = { reconnect: connectOptions(opts, undefined) };
  if (opts.resumeWindowMs !== undefined) out.resumeWindowMs = opts.resumeWindowMs;
  return out;
}

function pairingConfig(opts: ClientOptions): PairingConfig {
  return { role: opts.role };
}

/**
 * Drives the pairing machine over an open relay connection until it is keyed (resolves with
 * the session) or gives up (rejects). Exported for the benchmark, which times this part alone.
 */
export function runPairing(conn: RelayConnection, initial: PairingState, hooks: PairingHooks): Promise<SecureSession> {
  return new Promise<SecureSession>((resolve, reject) => {
    let state = initial;
    let settled = false;
    let keyingTimer: NodeJS.Timeout | undefined;

    const disarm = (): void => {
      if (keyingTimer !== undefined) clearTimeout(keyingTimer);
      keyingTimer = undefined;
    };
    const onAbort = (): void => {
      if (settled) return;
      giveUp(toRsoError(hooks.signal?.reason), hooks.signal?.reason);
    };

    function giveUp(error: RsoError, rejection: unknown = error): void {
      settled = true;
      disarm();
      hooks.signal?.removeEventListener('abort', onAbort);
      conn.detach();
      // A graceful close: a `keyed ok:false` queued just before must still reach the relay.
      void conn.close();
      reject(rejection);
    }

    /** A throwing caller callback ends the pairing instead of escaping into the socket's event loop. */
    function callHook(fn: () => void): void {
      try {
        fn();
      } catch (err) {
        giveUp(toRsoError(err), err);
      }
    }

    function feed(event: PairingEvent): void {
      if (settled || isTerminal(state)) return;
      let out: ReturnType<typeof step>;
      try {
        out = step(state, event);
      } catch (err) {
        // An impossible transition: whoever sent it is not following the protocol.
        giveUp(toRsoError(err));
        return;
      }
      state = out.state;
      if (state.name !== 'S3_keying' && state.name !== 'S3_failed') disarm();
      for (const effect of out.effects) {
        if (settled) return;
        switch (effect.type) {
          case 'send':
            conn.send(effect.msg);
            break;
          case 'send-frame':
            // A failed write surfaces as the socket's close event.
            conn.sendFrame(effect.frame).catch(() => {});
            break;
          case 'opened':
            callHook(() => hooks.onOpened?.(effect.number, effect.ttl));
            break;
          case 'keying':
            disarm();
            keyingTimer = setTimeout(() => feed({ type: 'timeout' }), hooks.keyingTimeoutMs);
            break;
          case 'failed-attempt':
            callHook(() => hooks.onFailedAttempt?.(effect.error, effect.attemptsLeft));
            break;
          case 'keyed': {
            settled = true;
            disarm();
            hooks.signal?.removeEventListener('abort', onAbort);
            conn.detach();
            resolve(
              new EstablishedSession(conn, {
                role: state.config.role,
                peer: effect.peer,
                verificationCode: effect.result.verificationCode,
                nameplate: effect.nameplate,
                relayName: conn.welcome.relay,
                keys: effect.result.keys,
                resume: effect.result.resume,
                ...(hooks.reconnect !== undefined ? { reconnect: hooks.reconnect } : {}),
                ...(hooks.resumeWindowMs !== undefined ? { resumeWindowMs: hooks.resumeWindowMs } : {}),
              }),
            );
            break;
          }
          case 'fail':
            giveUp(effect.error);
            break;
        }
      }
    }

    if (hooks.signal?.aborted) {
      giveUp(toRsoError(hooks.signal.reason), hooks.signal.reason);
      return;
    }
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    feed({ type: 'start' });
    conn.attach({
      message: (msg) => feed({ type: 'relay', msg }),
      frame: (frame) => feed({ type: 'frame', frame }),
      closed: (info) => feed(info.error !== undefined ? { type: 'closed', error: info.error } : { type: 'closed' }),
    });
  });
}
