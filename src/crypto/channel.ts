// The record channel: every peer-plane frame after key confirmation is one ChaCha20-Poly1305
// record (RFC 8439, node:crypto). There is no plaintext path: a frame either opens under the
// expected key and counter, or the channel is dead.
//
//   frame     = [FRAME_RECORD] || ciphertext || tag (16)       AAD   = [FRAME_RECORD]
//   plaintext = content type (0 data, 1 close, 2 heartbeat) || payload
//   nonce     = 0x00000000 || counter (u64 BE)
//
// A heartbeat has an empty payload. It exists so that silence means something: the session
// sends one after a second without any other record, and a peer that hears nothing at all for
// a few seconds knows the other side (or the path) is gone, even when no socket closed (kill
// -9 behind a NAT, a pulled cable, a stopped process). Inside the channel, so the relay can
// neither forge nor suppress liveness without the session noticing.
//
// The counter is per direction, starts at 0, and is never sent: the receiver uses the one it
// expects, so a replayed, reordered, dropped or truncated record fails authentication instead of
// needing a separate check. Each direction has its own key (handshake.ts), so the two counters
// never share a (key, nonce) pair.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { RsoError, type ErrorCode } from '../errors.js';
import { FRAME_RECORD } from '../protocol/peer.js';
import { MAX_PEER_FRAME_BYTES, MAX_RECORD_PLAINTEXT } from '../protocol/version.js';
import { concat, copy, wipe } from './bytes.js';
import type { ChannelKeys } from './handshake.js';

export type { ChannelKeys } from './handshake.js';

export type Opened = { type: 'data'; data: Uint8Array } | { type: 'close' } | { type: 'heartbeat' };

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CONTENT_DATA = 0;
const CONTENT_CLOSE = 1;
const CONTENT_HEARTBEAT = 2;
const AAD = Uint8Array.of(FRAME_RECORD);
// setAAD's plaintextLength matters only to CCM; Node's types require it for every AEAD, so it is
// given (correctly) even though chacha20-poly1305 ignores it.
/** Header, content type and tag: the smallest frame that can be a record (an empty data record). */
const MIN_FRAME_BYTES = 1 + 1 + TAG_BYTES;
/** A counter is a u64 on the wire; at 2^64 records the nonce would repeat. Never reached in practice. */
const COUNTER_LIMIT = 1n << 64n;

function nonce(counter: bigint): Uint8Array {
  const n = new Uint8Array(NONCE_BYTES);
  new DataView(n.buffer).setBigUint64(4, counter);
  return n;
}

export class RecordChannel {
  private readonly sendKey: Uint8Array;
  private readonly receiveKey: Uint8Array;
  private sendCounter = 0n;
  private receiveCounter = 0n;
  private sentClose = false;
  private receivedClose = false;
  /** Set by the first failure on the receiving side; from then on every call repeats it. */
  private failure: { code: ErrorCode; message: string } | undefined;

  constructor(keys: ChannelKeys) {
    if (keys.send.length !== KEY_BYTES || keys.receive.length !== KEY_BYTES) {
      throw new RsoError('RSO_ERR_INTERNAL', undefined, 'record channel keys must be 32 bytes');
    }
    // Own copies: the channel wipes them when it dies, without reaching into the caller's arrays.
    this.sendKey = copy(keys.send);
    this.receiveKey = copy(keys.receive);
  }

  /** True once a close record was sent or received, or the channel failed: nothing more may be sealed. */
  get closed(): boolean {
    return this.sentClose || this.receivedClose || this.failure !== undefined;
  }

  /** One data record, as a complete peer-plane frame. */
  seal(plaintext: Uint8Array): Uint8Array {
    if (plaintext.length > MAX_RECORD_PLAINTEXT) {
      // The caller's mistake, not the peer's: the channel stays usable.
      throw new RsoError('RSO_ERR_TOO_LARGE', `One record carries at most ${MAX_RECORD_PLAINTEXT} bytes.`, `seal of ${plaintext.length} bytes`);
    }
    return this.sealRecord(CONTENT_DATA, plaintext);
  }

  /**
   * The authenticated goodbye: the peer can tell it from a relay that cut the line. Afterwards
   * seal() throws; records the peer sent before it saw ours still open.
   */
  sealClose(): Uint8Array {
    const frame = this.sealRecord(CONTENT_CLOSE, new Uint8Array(0));
    this.sentClose = true;
    return frame;
  }

  /** An empty sign of life; the peer's open() returns { type: 'heartbeat' }. */
  sealHeartbeat(): Uint8Array {
    return this.sealRecord(CONTENT_HEARTBEAT, new Uint8Array(0));
  }

  open(frame: Uint8Array): Opened {
    this.assertAlive();
    if (frame.length > MAX_PEER_FRAME_BYTES) {
      this.die('RSO_ERR_TOO_LARGE', undefined, `record frame of ${frame.length} bytes`);
    }
    if (frame.length < MIN_FRAME_BYTES || frame[0] !== FRAME_RECORD) {
      this.die('RSO_ERR_PROTOCOL', 'A message on the encrypted channel was malformed; the session was ended.', `record frame kind ${String(frame[0])}, ${frame.length} bytes`);
    }
    if (this.receivedClose) {
      this.die('RSO_ERR_PROTOCOL', 'The other side sent data after ending the session; the session was ended.', 'record after close');
    }

    let inner: Uint8Array;
    try {
      const decipher = createDecipheriv('chacha20-poly1305', this.receiveKey, nonce(this.receiveCounter), { authTagLength: TAG_BYTES });
      decipher.setAAD(AAD, { plaintextLength: frame.length - MIN_FRAME_BYTES + 1 });
      decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
      inner = concat(decipher.update(frame.subarray(1, frame.length - TAG_BYTES)), decipher.final());
    } catch {
      // Wrong key, altered byte, replay, reorder, drop or truncation: they all look the same here,
      // and all mean that someone between us and the peer touched the stream.
      this.die('RSO_ERR_TAMPERED', undefined, `record ${this.receiveCounter} failed authentication`);
    }
    this.receiveCounter += 1n;

    const type = inner[0];
    if (type === CONTENT_DATA) return { type: 'data', data: inner.subarray(1) };
    wipe(inner);
    if (type === CONTENT_CLOSE && inner.length === 1) {
      this.receivedClose = true;
      return { type: 'close' };
    }
    if (type === CONTENT_HEARTBEAT && inner.length === 1) return { type: 'heartbeat' };
    // Authentic but not something this version writes: a broken or newer peer, not an attacker.
    this.die('RSO_ERR_PROTOCOL', 'The other side sent a record this program does not understand; the session was ended.', `record content type ${String(type)}, ${inner.length} bytes`);
  }

  private sealRecord(contentType: number, payload: Uint8Array): Uint8Array {
    this.assertAlive();
    if (this.closed) throw new RsoError('RSO_ERR_PROTOCOL', 'The encrypted channel is already closed.', 'seal after close');
    if (this.sendCounter >= COUNTER_LIMIT) throw new RsoError('RSO_ERR_PROTOCOL', 'The encrypted channel is worn out; start a new session.', 'send counter exhausted');
    const inner = concat(Uint8Array.of(contentType), payload);
    const cipher = createCipheriv('chacha20-poly1305', this.sendKey, nonce(this.sendCounter), { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD, { plaintextLength: inner.length });
    const frame = concat(AAD, cipher.update(inner), cipher.final(), cipher.getAuthTag());
    wipe(inner); // our copy of the plaintext
    this.sendCounter += 1n;
    return frame;
  }

  private assertAlive(): void {
    if (this.failure !== undefined) throw new RsoError(this.failure.code, this.failure.message, 'record channel already failed');
  }

  /** Any receiving failure ends the channel for good: a stream with a gap cannot be trusted again. */
  private die(code: ErrorCode, message: string | undefined, detail: string): never {
    const err = new RsoError(code, message, detail);
    this.failure = { code, message: err.message };
    wipe(this.sendKey, this.receiveKey);
    throw err;
  }
}
