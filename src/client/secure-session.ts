// The session after key confirmation: every peer frame is an AEAD record, every byte we send
// is sealed, and the session ends exactly once with who ended it. The relay connection below
// only moves bytes; the record channel (src/crypto/channel.ts) decides what is authentic.
import { RsoError, toRsoError } from '../errors.js';
import { RecordChannel, type ChannelKeys } from '../crypto/channel.js';
import { FRAME_RECORD } from '../protocol/peer.js';
import type { Role, ServerMessage } from '../protocol/relay.js';
import { MAX_RECORD_PLAINTEXT } from '../protocol/version.js';
import type { PeerInfo } from './pairing.js';
import type { RelayClosed, RelayConnection } from './relay-connection.js';

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
}

export interface SessionParams {
  role: Role;
  peer: PeerInfo;
  verificationCode: string;
  nameplate: string;
  relayName: string;
  keys: ChannelKeys;
}

export class EstablishedSession implements SecureSession {
  readonly role: Role;
  readonly peer: PeerInfo;
  readonly verificationCode: string;
  readonly nameplate: string;
  readonly relayName: string;

  private readonly conn: RelayConnection;
  private readonly channel: RecordChannel;
  private readonly inbox: Uint8Array[] = [];
  private readonly messageListeners: Array<(data: Uint8Array) => void> = [];
  private readonly closeListeners: Array<(info: CloseInfo) => void> = [];
  private ended: CloseInfo | undefined;
  private drainScheduled = false;
  private closing: Promise<void> | undefined;

  constructor(conn: RelayConnection, params: SessionParams) {
    this.conn = conn;
    this.role = params.role;
    this.peer = params.peer;
    this.verificationCode = params.verificationCode;
    this.nameplate = params.nameplate;
    this.relayName = params.relayName;
    this.channel = new RecordChannel(params.keys);
    conn.attach({
      message: (msg) => this.onRelayMessage(msg),
      frame: (frame) => this.onFrame(frame),
      closed: (info) => this.onSocketClosed(info),
    });
  }

  send(data: Uint8Array): Promise<void> {
    if (this.ended !== undefined) {
      return Promise.reject(this.ended.error ?? new RsoError('RSO_ERR_PEER_LEFT', 'The session has ended.', `send after end by ${this.ended.by}`));
    }
    if (data.length > MAX_RECORD_PLAINTEXT) {
      return Promise.reject(new RsoError('RSO_ERR_TOO_LARGE', `One message may carry at most ${MAX_RECORD_PLAINTEXT} bytes.`, `send of ${data.length} bytes`));
    }
    let frame: Uint8Array;
    try {
      frame = this.channel.seal(data);
    } catch (err) {
      return Promise.reject(toRsoError(err));
    }
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
    if (info.error !== undefined) {
      this.end({ by: 'relay', error: info.error });
      return;
    }
    this.end({ by: 'network', error: new RsoError('RSO_ERR_PEER_LEFT', 'The connection to the relay was lost.', `socket closed with ${info.code}`) });
  }

  private fail(by: CloseInfo['by'], error: RsoError): void {
    this.end({ by, error });
    this.conn.abort(error);
  }

  private end(info: CloseInfo): void {
    if (this.ended !== undefined) return;
    this.ended = info;
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
