// One attempt to resume a session over a new relay connection (docs/resume.md): dial, hello,
// `resume {rid}`, wait to be paired with the other side, then a fresh CPace handshake whose
// password is the resume secret of the previous one. The relay sees only the rid, so it cannot
// complete this handshake itself: a relay (or anyone) that tries gets RSO_ERR_WRONG_CODE on
// both sides, and the session ends there: a resume is never retried after a failed
// confirmation, so the relay gets exactly one guess at a 256-bit secret.
//
// The retry loop over attempts (backoff with jitter, the resume window) lives in
// secure-session.ts; this file is one attempt and says whether another one makes sense.
import { RsoError, toRsoError } from '../errors.js';
import { startHandshake, stepHandshake, type HandshakeResult, type HandshakeState, type ResumeMaterial } from '../crypto/handshake.js';
import { FRAME_CONFIRM, FRAME_SHARE } from '../protocol/peer.js';
import type { ServerMessage } from '../protocol/relay.js';
import { connectRelay, type RelayConnectOptions, type RelayConnection } from './relay-connection.js';
import { decodeSid } from './pairing.js';

export interface ResumeAttempt {
  connect: RelayConnectOptions;
  nameplate: string;
  resume: ResumeMaterial;
  /** How long to wait for the other side and the handshake on this connection. */
  timeoutMs: number;
}

export interface Resumed {
  conn: RelayConnection;
  result: HandshakeResult;
}

/** `final`: no further attempt may be made (a failed confirmation, or the relay gave up on the rid). */
export class ResumeFailed extends Error {
  constructor(readonly error: RsoError, readonly final: boolean) {
    super(error.message);
  }
}

const RESUME_WRONG_TEXT =
  'The session could not be resumed: the other end did not prove it was the same session (someone, perhaps the relay, may have tried to take it over). The session was ended.';

export async function resumeOnce(opts: ResumeAttempt): Promise<Resumed> {
  let conn: RelayConnection;
  try {
    conn = await connectRelay(opts.connect);
  } catch (err) {
    throw new ResumeFailed(toRsoError(err), false);
  }
  return new Promise<Resumed>((resolve, reject) => {
    let hs: HandshakeState | null = null;
    let settled = false;
    const timer = setTimeout(() => fail(new RsoError('RSO_ERR_TIMEOUT', 'The other side did not come back in time.', 'resume attempt timeout'), false), opts.timeoutMs);

    function fail(error: RsoError, final: boolean): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.detach();
      void conn.close();
      reject(new ResumeFailed(error, final));
    }

    function onMessage(msg: ServerMessage): void {
      if (msg.type === 'paired' && hs === null) {
        try {
          const started = startHandshake({ role: opts.connect.role, secret: opts.resume.secret, nameplate: opts.nameplate, sid: decodeSid(msg.sid) });
          hs = started.state;
          for (const f of started.send) conn.sendFrame(f).catch(() => undefined);
        } catch (err) {
          fail(toRsoError(err), true);
        }
        return;
      }
      if (msg.type === 'error') {
        // The relay's window for this rid is over, or it refuses us: waiting longer will not help
        // for EXPIRED; anything else (busy, throttled, a crowd) may pass.
        // PEER_LEFT: this relay ended the session while we were away (the other side was told).
        const final = msg.code === 'RSO_ERR_EXPIRED' || msg.code === 'RSO_ERR_PEER_LEFT';
        const text = msg.code === 'RSO_ERR_EXPIRED' ? 'The other side did not come back in time; the session has ended.' : msg.code === 'RSO_ERR_PEER_LEFT' ? 'The connection to the relay was lost, and the other side was told you left; the session has ended.' : undefined;
        fail(new RsoError(msg.code, text, `relay error during resume: ${msg.message}`), final);
        return;
      }
      // peer-left while keying (the other side's new connection dropped too), bye, anything else.
      fail(new RsoError('RSO_ERR_PEER_LEFT', undefined, `relay ${msg.type} during resume`), false);
    }

    function onFrame(frame: Uint8Array): void {
      if (hs === null || (frame[0] !== FRAME_SHARE && frame[0] !== FRAME_CONFIRM)) {
        fail(new RsoError('RSO_ERR_PROTOCOL', 'The relay broke the protocol while resuming.', `frame kind ${String(frame[0])} during resume`), true);
        return;
      }
      let out: ReturnType<typeof stepHandshake>;
      try {
        out = stepHandshake(hs, frame);
      } catch (err) {
        const e = toRsoError(err);
        conn.send({ type: 'keyed', ok: false });
        fail(e.code === 'RSO_ERR_WRONG_CODE' ? new RsoError('RSO_ERR_WRONG_CODE', RESUME_WRONG_TEXT, 'resume key confirmation failed') : e, true);
        return;
      }
      hs = out.state;
      for (const f of out.send) conn.sendFrame(f).catch(() => undefined);
      if (out.done) {
        settled = true;
        clearTimeout(timer);
        conn.send({ type: 'keyed', ok: true, rid: out.done.resume.id });
        conn.detach();
        resolve({ conn, result: out.done });
      }
    }

    conn.attach({
      message: onMessage,
      frame: onFrame,
      closed: (info) => fail(info.error ?? new RsoError('RSO_ERR_PEER_LEFT', undefined, `socket closed with ${info.code} during resume`), false),
    });
    conn.send({ type: 'resume', rid: opts.resume.id });
  });
}
