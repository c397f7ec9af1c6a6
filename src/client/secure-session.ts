// The session after key confirmation: every peer frame is an AEAD record, every byte we send
// is sealed, and the session ends exactly once with who ended it. The relay connection below
// only moves bytes; the record channel (src/crypto/channel.ts) decides what is authentic.
import { RsoError, toRsoError } from '../errors.js';
import { RecordChannel, type ChannelKeys } from '../crypto/channel.js';
import { FRAME_RECORD } from '../protocol/peer.js';
import type { Role, ServerMessage } from '../protocol/relay.js';
import { MAX_RECORD_PLAINTEXT } from '../protocol/version.js';
import type { PeerInfo } from './pairing.js';
import type { RelayClosed, RelayConnectOptions, RelayConnection } from './relay-connection.js';
import type { ResumeMaterial } from '../crypto/handshake.js';
import { resumeOnce, ResumeFailed } from './resume.js';

export type { PeerInfo } from './pairing.js';

/**
 * Who ended the session. `peer`: its authenticated close record arrived. `us`: close() was
 * called. `relay`: the relay said so, or something on the path broke a record or the protocol
 * (`error` says which). `network`: the connection dropped without the peer's close record.
 */
export interface CloseInfo {
  by: 'us' | 'peer' | 'relay' | 'network';
  error?: RsoError;
}

export interface SecureSession {
  readonly role: Role;
  readonly peer: PeerInfo;
  /** 4 digits, the same on both sides; people may compare them by phone. */
  readonly verificationCode: string;
  readonly nameplate: string;
  /** The relay's name, from its welcome. */
  readonly relayName: string;
  /** Encrypt and send; resolves once handed to the socket, so callers feel backpressure. */
  send(data: Uint8Array): Promise<void>;
  /** Messages that arrived before the first listener are kept and delivered to it, in order. */
  onMessage(cb: (data: Uint8Array) => void): void;
  /** Called exactly once, also when registered after the end. */
  onClose(cb: (info: CloseInfo) => void): void;
  /** Authenticated close record, bye, socket closed. */
  close(): Promise<void>;
  /**
   * The relay connection dropped without an authenticated close and the session is trying to
   * resume (`resuming`; sends are dropped meanwhile), or has resumed under fresh keys
   * (`resumed`; whatever was sent in between is lost, so the application re-syncs).
   */
  onResume(cb: (event: ResumeEvent) => void): void;
}

export type ResumeEvent = { type: 'resuming' } | { type: 'resumed'; verificationCode: string; outageMs: number };

/** How long the two sides keep trying to meet again after the relay connection dropped. */
export const RESUME_WINDOW_MS = 30_000;
/** Reconnect backoff: 100 ms doubling to 1 s, each delay ±50 % so that clients do not stampede a restarted relay. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 1000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(base * (0.5 + random()));
}

/**
 * Liveness (see channel.ts): a heartbeat record after HEARTBEAT_MS without any other record
 * sent; the peer counts as gone after SILENCE_MS without any record received. SILENCE_MS is
 * below 3 s with room for the check interval, so a vanished peer is known within 3 s of its
 * last record; it is well above two heartbeats, so one late heartbeat on a slow path is not
 * taken for a death.
 */
export const HEARTBEAT_MS = 1000;
export const SILENCE_MS = 2500;
const LIVENESS_TICK_MS = 100;

export interface Liveness {
  heartbeatMs: number;
  silenceMs: number;
}

export interface SessionParams {
  role: Role;
  peer: PeerInfo;
  verificationCode: string;
  nameplate: string;
  relayName: string;
  keys: ChannelKeys;
  /** Tests shorten or lengthen these; the defaults are HEARTBEAT_MS and SILENCE_MS. */
  liveness?: Liveness;
  /** From the handshake; with `reconnect`, a dropped relay connection is resumed. */
  resume?: ResumeMaterial;
  /** How to dial the relay again (the same URL, role and token). */
  reconnect?: RelayConnectOptions;
  /** Default RESUME_WINDOW_MS. */
  resumeWindowMs?: number;
}

export class EstablishedSession implements SecureSession {
  readonly role: Role;
  readonly peer: PeerInfo;
  readonly nameplate: string;
  readonly relayName: string;

  private conn: RelayConnection;
  private channel: RecordChannel;
  private resume: ResumeMaterial | undefined;
  private readonly reconnect: RelayConnectOptions | undefined;
  private readonly resumeWindowMs: number;
  private resuming = false;
  private readonly resumeListeners: Array<(event: ResumeEvent) => void> = [];
  private verification: string;
  private readonly inbox: Uint8Array[] = [];
  private readonly messageListeners: Array<(data: Uint8Array) => void> = [];
  private readonly closeListeners: Array<(info: CloseInfo) => void> = [];
  private ended: CloseInfo | undefined;
  private drainScheduled = false;
  private closing: Promise<void> | undefined;
  private readonly liveness: Liveness;
  private lastSent = Date.now();
  private lastReceived = Date.now();
  private livenessTimer: ReturnType<typeof setInterval> | undefined;
  private lastTick = Date.now();

  constructor(conn: RelayConnection, params: SessionParams) {
    this.conn = conn;
    this.role = params.role;
    this.peer = params.peer;
    this.verification = params.verificationCode;
    this.resume = params.resume;
    this.reconnect = params.reconnect;
    this.resumeWindowMs = params.resumeWindowMs ?? RESUME_WINDOW_MS;
    this.nameplate = params.nameplate;
    this.relayName = params.relayName;
    this.channel = new RecordChannel(params.keys);
    this.attachTo(conn);
    this.liveness = params.liveness ?? { heartbeatMs: HEARTBEAT_MS, silenceMs: SILENCE_MS };
    this.livenessTimer = setInterval(() => this.checkLiveness(), Math.min(LIVENESS_TICK_MS, this.liveness.heartbeatMs));
    // The socket keeps the process alive while the session lives; this timer must not on its own.
    this.livenessTimer.unref?.();
  }

  /** 4 digits; a resumed session has a new one (the same on both sides). */
  get verificationCode(): string {
    return this.verification;
  }

  onResume(cb: (event: ResumeEvent) => void): void {
    this.resumeListeners.push(cb);
  }

  private attachTo(conn: RelayConnection): void {
    // Events of a connection we already replaced are stale and ignored.
    conn.attach({
      message: (msg) => conn === this.conn && this.onRelayMessage(msg),
      frame: (frame) => conn === this.conn && this.onFrame(frame),
      closed: (info) => conn === this.conn && this.onSocketClosed(info),
    });
  }

  private checkLiveness(): void {
    const now = Date.now();
    const gap = now - this.lastTick;
    this.lastTick = now;
    if (this.ended !== undefined || this.resuming) return;
    // Our own event loop was blocked (a synchronous call, a suspended laptop): records that
    // arrived meanwhile are still waiting in the socket, so the time we were not running does
    // not count as the peer's silence.
    if (gap > 4 * LIVENESS_TICK_MS) {
      this.lastReceived += gap - LIVENESS_TICK_MS;
      return;
    }
    if (now - this.lastReceived >= this.liveness.silenceMs) {
      const seconds = (this.liveness.silenceMs / 1000).toFixed(1);
      this.fail('network', new RsoError('RSO_ERR_PEER_LEFT', `The other side stopped answering (nothing heard for ${seconds} s): it quit, or its network or the path to it broke.`, `no record for ${now - this.lastReceived} ms`));
      return;
    }
    if (now - this.lastSent >= this.liveness.heartbeatMs) {
      let frame: Uint8Array;
      try {
        frame = this.channel.sealHeartbeat();
      } catch {
        // The channel is closing or dead; its own path reports the end.
        return;
      }
      this.lastSent = now;
      // A failed send means the socket is going; its close event says why.
      this.conn.sendFrame(frame).catch(() => undefined);
    }
  }

  send(data: Uint8Array): Promise<void> {
    if (this.ended !== undefined) {
      return Promise.reject(this.ended.error ?? new RsoError('RSO_ERR_PEER_LEFT', 'The session has ended.', `send after end by ${this.ended.by}`));
    }
    // Nothing can reach the peer now, and nothing is kept for later: after the resume both
    // applications re-synchronise (full frame, state), which is what they would need anyway.
    if (this.resuming) return Promise.resolve();
    if (data.length > MAX_RECORD_PLAINTEXT) {
      return Promise.reject(new RsoError('RSO_ERR_TOO_LARGE', `One message may carry at most ${MAX_RECORD_PLAINTEXT} bytes.`, `send of ${data.length} bytes`));
    }
    let frame: Uint8Array;
    try {
      frame = this.channel.seal(data);
    } catch (err) {
      return Promise.reject(toRsoError(err));
    }
    this.lastSent = Date.now();
    // Sealing and handing to the socket happen in the same tick, so records leave in counter order.
    return this.conn.sendFrame(frame);
  }

  onMessage(cb: (data: Uint8Array) => void): void {
    this.messageListeners.push(cb);
    this.scheduleDrain();
  }

  onClose(cb: (info: CloseInfo) => void): void {
    this.closeListeners.push(cb);
    this.scheduleDrain();
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.ended !== undefined) {
      this.closing = this.conn.close();
      return this.closing;
    }
    this.end({ by: 'us' });
    if (this.resuming) {
      // No channel to say goodbye on; the peer's resume will find nobody and end by the window.
      this.closing = this.conn.close();
      return this.closing;
    }
    try {
      // Without this authenticated record the peer could not tell our goodbye from a relay
      // that cut the line; fire-and-forget because the socket close below waits for it anyway.
      this.conn.sendFrame(this.channel.sealClose()).catch(() => {
        // The socket died first: the peer will see 'network', which is then the truth.
      });
    } catch {
      // sealClose only throws on a channel already closed, and then there is nothing to say.
    }
    this.conn.send({ type: 'bye' });
    this.closing = this.conn.close();
    return this.closing;
  }

  private onFrame(frame: Uint8Array): void {
    if (this.ended !== undefined) return;
    if (frame[0] !== FRAME_RECORD) {
      this.fail('relay', new RsoError('RSO_ERR_PROTOCOL', 'A handshake frame arrived after the key exchange.', `peer frame kind ${String(frame[0])} after keying`));
      return;
    }
    let opened: ReturnType<RecordChannel['open']>;
    try {
      opened = this.channel.open(frame);
    } catch (err) {
      // Whoever altered, replayed or dropped a record sits between us and the peer.
      this.fail('relay', toRsoError(err));
      return;
    }
    this.lastReceived = Date.now();
    if (opened.type === 'heartbeat') return;
    if (opened.type === 'close') {
      this.end({ by: 'peer' });
      this.conn.send({ type: 'bye' });
      this.closing = this.conn.close();
      return;
    }
    this.inbox.push(opened.data);
    this.scheduleDrain();
  }

  private onRelayMessage(msg: ServerMessage): void {
    if (this.ended !== undefined) return;
    switch (msg.type) {
      case 'peer-left':
        // The relay is shutting down (a restart, an upgrade): the peer is fine, only the relay
        // goes away, so both sides resume on the next relay process.
        if (msg.reason === 'shutdown' && this.resume !== undefined && this.reconnect !== undefined) {
          const old = this.conn;
          void this.resumeLoop();
          void old.close();
          return;
        }
        // No close record came first: the peer vanished (crash, network), or the relay says so.
        this.fail('network', new RsoError('RSO_ERR_PEER_LEFT', 'The other side left without ending the session.', `peer-left ${msg.reason}`));
        return;
      case 'error':
        this.fail('relay', new RsoError(msg.code, undefined, `relay error: ${msg.message}`));
        return;
      case 'bye':
        this.fail('relay', new RsoError('RSO_ERR_PEER_LEFT', 'The relay ended the session.', 'relay bye'));
        return;
      default:
        this.fail('relay', new RsoError('RSO_ERR_PROTOCOL', 'The relay broke the protocol.', `relay ${msg.type} after keying`));
    }
  }

  private onSocketClosed(info: RelayClosed): void {
    if (this.ended !== undefined) return;
    // The relay went away without any word from the peer: a restart or a network cut. Both sides
    // see the same and try to meet again; nothing authenticated said the session was over.
    const lost = info.error === undefined || info.error.code === 'RSO_ERR_PEER_LEFT';
    if (lost && this.resume !== undefined && this.reconnect !== undefined) {
      void this.resumeLoop();
      return;
    }
    if (info.error !== undefined) {
      this.end({ by: 'relay', error: info.error });
      return;
    }
    this.end({ by: 'network', error: new RsoError('RSO_ERR_PEER_LEFT', 'The connection to the relay was lost.', `socket closed with ${info.code}`) });
  }

  /**
   * Reconnects with backoff until the resume window closes: each attempt is one resumeOnce().
   * A final failure (wrong resume secret, the relay gave up the rid) ends the session at once.
   */
  private async resumeLoop(): Promise<void> {
    const material = this.resume!;
    this.resuming = true;
    const started = Date.now();
    const deadline = started + this.resumeWindowMs;
    this.emitResume({ type: 'resuming' });
    let lastError: RsoError | undefined;
    for (let attempt = 0; this.ended === undefined && Date.now() < deadline; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(backoffDelay(attempt - 1), Math.max(0, deadline - Date.now()))));
      if (this.ended !== undefined || Date.now() >= deadline) break;
      try {
        const { conn, result } = await resumeOnce({
          connect: { ...this.reconnect!, timeoutMs: Math.max(1000, Math.min(5000, deadline - Date.now())) },
          nameplate: this.nameplate,
          resume: material,
          timeoutMs: Math.max(1, deadline - Date.now()),
        });
        if (this.ended !== undefined) {
          // close() was called while we were resuming: this new channel is not wanted.
          void conn.close();
          return;
        }
        const old = this.resume;
        this.channel = new RecordChannel(result.keys);
        this.resume = result.resume;
        if (old) old.secret.fill(0);
        result.keys.send.fill(0);
        result.keys.receive.fill(0);
        this.verification = result.verificationCode;
        this.conn = conn;
        this.attachTo(conn);
        this.resuming = false;
        this.lastReceived = Date.now();
        this.lastSent = 0; // a heartbeat at once: the peer knows we are back
        this.emitResume({ type: 'resumed', verificationCode: result.verificationCode, outageMs: Date.now() - started });
        return;
      } catch (err) {
        const failed = err instanceof ResumeFailed ? err : new ResumeFailed(toRsoError(err), false);
        lastError = failed.error;
        if (failed.final) {
          this.resuming = false;
          this.end({ by: failed.error.code === 'RSO_ERR_WRONG_CODE' || failed.error.code === 'RSO_ERR_PROTOCOL' ? 'relay' : 'network', error: failed.error });
          return;
        }
      }
    }
    this.resuming = false;
    if (this.ended !== undefined) return;
    const seconds = Math.round(this.resumeWindowMs / 1000);
    this.end({
      by: 'network',
      error: new RsoError('RSO_ERR_PEER_LEFT', `The connection to the relay was lost and could not be resumed within ${seconds} s; the session has ended.`, `resume window over: ${lastError?.code ?? 'no attempt'}`),
    });
  }

  private emitResume(event: ResumeEvent): void {
    for (const l of this.resumeListeners) {
      try {
        l(event);
      } catch {
        // A listener's bug must not stop the session from resuming; the application sees the effects.
      }
    }
  }

  private fail(by: CloseInfo['by'], error: RsoError): void {
    this.end({ by, error });
    this.conn.abort(error);
  }

  private end(info: CloseInfo): void {
    if (this.ended !== undefined) return;
    this.ended = info;
    clearInterval(this.livenessTimer);
    this.scheduleDrain();
  }

  /**
   * Listeners run on a microtask, never inside onMessage()/onClose() themselves, and always in
   * arrival order: buffered messages first, then the end.
   */
  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    queueMicrotask(() => {
      this.drainScheduled = false;
      if (this.messageListeners.length > 0) {
        while (this.inbox.length > 0) {
          const data = this.inbox.shift() as Uint8Array;
          for (const l of this.messageListeners) l(data);
        }
      }
      if (this.ended !== undefined) {
        const info = this.ended;
        for (const l of this.closeListeners.splice(0)) l(info);
      }
    });
  }
}
