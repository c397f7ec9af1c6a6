// One WebSocket to the relay, from the client side: dial, say hello, wait for welcome, then
// hand every later event (relay-plane message, peer-plane frame, close) to one handler.
// This file knows nothing of pairing or keys; it only guarantees that every relay-plane message
// went through parseServerMessage and that no event is lost between two owners of the handler.
import { rootCertificates } from 'node:tls';
import WebSocket from 'ws';
import { RsoError, toRsoError } from '../errors.js';
import { encodeMessage, parseServerMessage, type ClientMessage, type Role, type ServerMessage } from '../protocol/relay.js';
import { MAX_PEER_FRAME_BYTES, PROTOCOL_VERSION } from '../protocol/version.js';
import { checkRelayUrl } from './relay-url.js';

export type WelcomeMessage = ServerMessage & { type: 'welcome' };

export interface RelayConnectOptions {
  relay: string;
  role: Role;
  token?: string;
  /** Allow ws:// to a host that is not this machine. */
  insecure?: boolean;
  /** Extra trusted CA certificate(s), PEM, for wss:// (Node's default CAs still apply). */
  ca?: string;
  signal?: AbortSignal;
  /** How long the relay has to accept the socket and answer hello. */
  timeoutMs?: number;
}

export interface RelayClosed {
  /** WebSocket close code (1006 when the socket just vanished). */
  code: number;
  /** Why we consider the connection broken, when it was not a plain close. */
  error?: RsoError;
}

export interface RelayHandler {
  message(msg: ServerMessage): void;
  frame(frame: Uint8Array): void;
  closed(info: RelayClosed): void;
}

type RelayEvent = { kind: 'message'; msg: ServerMessage } | { kind: 'frame'; frame: Uint8Array } | { kind: 'closed'; info: RelayClosed };

const DEFAULT_TIMEOUT_MS = 15_000;
const CLOSE_GRACE_MS = 2_000;

/** Close codes we send; 1002/1008 tell the relay why we hung up. */
const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL = 1002;
const CLOSE_TOO_LARGE = 1009;

export class RelayConnection {
  readonly url: string;
  readonly welcome: WelcomeMessage;
  private readonly ws: WebSocket;
  private handler: RelayHandler | undefined;
  /** Events that arrived while nobody held the handler (ws may emit several in one tick). */
  private pending: RelayEvent[] = [];
  private closedInfo: RelayClosed | undefined;
  private breakError: RsoError | undefined;
  private readonly closeWaiters: Array<() => void> = [];

  /** Use connectRelay(). */
  constructor(ws: WebSocket, url: string, welcome: WelcomeMessage, early: RelayEvent[]) {
    this.ws = ws;
    this.url = url;
    this.welcome = welcome;
    this.pending = early;
    ws.on('message', (data, isBinary) => this.onRaw(data, isBinary));
    ws.on('error', (err) => this.noteError(err));
    ws.on('close', (code) => this.onSocketClose(code));
  }

  get isOpen(): boolean {
    return this.closedInfo === undefined && this.ws.readyState === WebSocket.OPEN;
  }

  /** Take over the events. Anything that arrived before is delivered now, in order. */
  attach(handler: RelayHandler): void {
    this.handler = handler;
    while (this.pending.length > 0 && this.handler === handler) {
      const ev = this.pending.shift() as RelayEvent;
      this.deliver(ev);
    }
  }

  /** Stop delivering; later events queue until the next attach(). */
  detach(): void {
    this.handler = undefined;
  }

  send(msg: ClientMessage): void {
    if (this.ws.readyState !== WebSocket.OPEN) return; // closing: the close event tells the story
    this.ws.send(encodeMessage(msg));
  }

  /** Resolves once the frame is written to the socket, so a fast sender feels backpressure. */
  sendFrame(frame: Uint8Array): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RsoError('RSO_ERR_PEER_LEFT', 'The connection to the relay is closed.', 'send on closed relay socket'));
    }
    return new Promise((resolve, reject) => {
      this.ws.send(frame, { binary: true }, (err) => {
        if (err) reject(new RsoError('RSO_ERR_PEER_LEFT', 'The connection to the relay was lost while sending.', err.message));
        else resolve();
      });
    });
  }

  /** Hang up because of `error` (recorded, reported to the handler in `closed`). */
  abort(error: RsoError): void {
    this.breakError ??= error;
    const code = error.code === 'RSO_ERR_TOO_LARGE' ? CLOSE_TOO_LARGE : error.code === 'RSO_ERR_PROTOCOL' ? CLOSE_PROTOCOL : CLOSE_NORMAL;
    this.closeSocket(code);
  }

  /** Close politely; resolves when the socket is closed (forcibly after a short grace time). */
  close(): Promise<void> {
    if (this.closedInfo !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.closeSocket(CLOSE_NORMAL);
    });
  }

  private closeSocket(code: number): void {
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(code);
    // A relay that never answers the close handshake must not keep us alive.
    const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }

  private onRaw(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.closedInfo !== undefined || this.breakError !== undefined) return;
    if (isBinary) {
      this.push({ kind: 'frame', frame: rawToBytes(data) });
      return;
    }
    let msg: ServerMessage;
    try {
      msg = parseServerMessage(rawToBytes(data).toString());
    } catch (err) {
      this.abort(toRsoError(err));
      return;
    }
    this.push({ kind: 'message', msg });
  }

  private noteError(err: Error & { code?: string }): void {
    // ws reports an oversized incoming message as an error, then closes with 1009.
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.breakError ??= new RsoError('RSO_ERR_TOO_LARGE', undefined, 'incoming message over maxPayload');
    } else if (err.code !== undefined && /^E[A-Z]+$/.test(err.code)) {
      // A system error (ECONNRESET, EPIPE, ETIMEDOUT): the network or the relay went away, which
      // is not a protocol violation and may be resumed (secure-session.ts).
      this.breakError ??= new RsoError('RSO_ERR_PEER_LEFT', 'The connection to the relay was lost.', err.code);
    } else {
      this.breakError ??= new RsoError('RSO_ERR_PROTOCOL', 'The connection to the relay broke the WebSocket protocol.', err.message);
    }
  }

  private onSocketClose(code: number): void {
    let error = this.breakError;
    if (error === undefined && code === CLOSE_TOO_LARGE) {
      error = new RsoError('RSO_ERR_TOO_LARGE', undefined, 'relay closed with 1009');
    }
    const info: RelayClosed = error === undefined ? { code } : { code, error };
    this.closedInfo = info;
    this.push({ kind: 'closed', info });
    for (const w of this.closeWaiters.splice(0)) w();
  }

  private push(ev: RelayEvent): void {
    if (this.handler !== undefined && this.pending.length === 0) this.deliver(ev);
    else this.pending.push(ev);
  }

  private deliver(ev: RelayEvent): void {
    const h = this.handler as RelayHandler;
    switch (ev.kind) {
      case 'message':
        h.message(ev.msg);
        break;
      case 'frame':
        h.frame(ev.frame);
        break;
      case 'closed':
        h.closed(ev.info);
        break;
    }
  }
}

function rawToBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function unreachable(url: URL, why: string, detail: string): RsoError {
  return new RsoError('RSO_ERR_UNREACHABLE', `Could not reach the relay at ${url.origin}: ${why}`, detail);
}

/**
 * Dials the relay, sends hello and resolves after welcome. A relay `error` before welcome (a
 * refused token, a full relay) rejects with that code.
 */
export function connectRelay(opts: RelayConnectOptions): Promise<RelayConnection> {
  // Checked before the socket exists: a refused URL must cause no traffic at all.
  const url = checkRelayUrl(opts.relay, opts.insecure === true);
  const signal = opts.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);

  return new Promise<RelayConnection>((resolve, reject) => {
    const ws = new WebSocket(url, {
      // Compression next to secrets invites length oracles, and the records are random anyway.
      perMessageDeflate: false,
      maxPayload: MAX_PEER_FRAME_BYTES,
      handshakeTimeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      followRedirects: false,
      // `ca` replaces Node's trust store, so the defaults are passed along with the extra one.
      ...(opts.ca !== undefined ? { ca: [...rootCertificates, opts.ca] } : {}),
    });
    let settled = false;
    const early: RelayEvent[] = [];
    let welcome: WelcomeMessage | undefined;

    const timer = setTimeout(() => fail(unreachable(url, 'it did not answer in time.', 'welcome timeout')), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    function cleanup(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      ws.removeListener('message', onMessage);
      ws.removeListener('open', onOpen);
      ws.removeListener('error', onError);
      ws.removeListener('close', onClose);
      ws.removeListener('unexpected-response', onUnexpected);
    }

    function fail(err: unknown): void {
      if (settled) return;
      settled = true;
      cleanup();
      // Keep an error listener: ws emits 'error' on a socket torn down mid-handshake.
      ws.on('error', () => {});
      if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE_NORMAL);
      else ws.terminate();
      reject(err);
    }

    function onOpen(): void {
      const hello: ClientMessage = { type: 'hello', v: PROTOCOL_VERSION, role: opts.role };
      if (opts.token !== undefined) hello.token = opts.token;
      ws.send(encodeMessage(hello));
    }

    function onMessage(data: WebSocket.RawData, isBinary: boolean): void {
      if (welcome !== undefined) {
        // Several messages may arrive in one tick; keep those after welcome for the owner.
        if (isBinary) early.push({ kind: 'frame', frame: rawToBytes(data) });
        else {
          try {
            early.push({ kind: 'message', msg: parseServerMessage(rawToBytes(data).toString()) });
          } catch (err) {
            fail(toRsoError(err));
          }
        }
        return;
      }
      if (isBinary) {
        fail(new RsoError('RSO_ERR_PROTOCOL', 'The relay sent data before welcoming us.', 'binary frame before welcome'));
        return;
      }
      let msg: ServerMessage;
      try {
        msg = parseServerMessage(rawToBytes(data).toString());
      } catch (err) {
        fail(toRsoError(err));
        return;
      }
      if (msg.type === 'error') {
        fail(new RsoError(msg.code, relayErrorText(msg.code, msg.message), `relay error before welcome: ${msg.message}`));
        return;
      }
      if (msg.type !== 'welcome') {
        fail(new RsoError('RSO_ERR_PROTOCOL', 'The relay did not answer hello with welcome.', `got ${msg.type} before welcome`));
        return;
      }
      welcome = msg;
      // Hand over on the next microtask, after any message that arrived in the same chunk.
      queueMicrotask(() => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve(new RelayConnection(ws, url.href, welcome as WelcomeMessage, early));
      });
    }

    function onError(err: Error & { code?: string }): void {
      fail(unreachable(url, describeNetError(err), `${err.code ?? 'error'}: ${err.message}`));
    }

    function onClose(code: number): void {
      if (code === CLOSE_TOO_LARGE) fail(new RsoError('RSO_ERR_TOO_LARGE', undefined, 'closed with 1009 before welcome'));
      else fail(unreachable(url, 'it closed the connection before welcoming us.', `closed with ${code} before welcome`));
    }

    function onUnexpected(_req: unknown, res: { statusCode?: number }): void {
      fail(unreachable(url, `it answered HTTP ${res.statusCode ?? '?'} instead of accepting a WebSocket.`, `HTTP ${res.statusCode ?? '?'}`));
    }

    ws.on('open', onOpen);
    ws.on('message', onMessage);
    ws.on('error', onError);
    ws.on('close', onClose);
    ws.on('unexpected-response', onUnexpected);
  });
}

function describeNetError(err: Error & { code?: string }): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'nothing is listening there.';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve.';
    case 'ETIMEDOUT':
      return 'the connection timed out.';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its TLS certificate was not accepted (${err.code}).`;
    default:
      return err.message.startsWith('Opening handshake has timed out') ? 'it did not answer in time.' : 'the connection failed.';
  }
}

/**
 * The sentence we show for an error code the relay sent. Our own wording, not the relay's:
 * the relay is not trusted to write what the person reads. Its text goes to the detail.
 */
export function relayErrorText(code: RsoError['code'], _relayMessage: string): string {
  return new RsoError(code).message;
}
