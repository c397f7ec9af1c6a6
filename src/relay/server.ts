// The relay's I/O shell: HTTP (/healthz) and WebSocket on one port, relay-plane messages
// parsed and fed to the pairing machine, its effects carried out, and binary frames forwarded
// between linked sockets with backpressure. Decisions live in pairing.ts, not here.
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RsoError, type ErrorCode } from '../errors.js';
import { encodeMessage, parseClientMessage, type AgentIdentity } from '../protocol/relay.js';
import { MAX_PEER_FRAME_BYTES, MAX_RELAY_MESSAGE_BYTES } from '../protocol/version.js';
import { silentLogger, type Logger } from './log.js';
import { counts, initialState, step, type Auth, type ConnId, type Effect, type PairingEvent, type PairingState } from './pairing.js';
import { JoinThrottle } from './throttle.js';

export interface AccountVerifier {
  verify(token: string): AgentIdentity | null;
}

export interface RelayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Agent accounts; without it every token is refused (use `open` for tokenless agents). */
  accounts?: AccountVerifier;
  open?: boolean;
  /** Seconds an opened number waits unpaired; also how long a dead number stays reserved. */
  codeTtlSeconds?: number;
  /** Joins per minute per remote address (also the burst). */
  joinRatePerMinute?: number;
  /** Largest binary frame; bigger ones close the connection (WebSocket close code 1009). */
  maxMessageBytes?: number;
  helloTimeoutMs?: number;
  log?: Logger;
}

export interface RunningRelay {
  url: string;
  port: number;
  /** Tell every client `peer-left {reason:'shutdown'}`, close every socket and the server. */
  close(): Promise<void>;
  counts(): { pending: number; paired: number; connections: number };
}

/** One socket and what the shell keeps about it: its link and the bytes queued towards it. */
interface Io {
  readonly id: ConnId;
  readonly ws: WebSocket;
  readonly remote: string;
  readonly openedAt: number;
  peer: Io | null;
  /** Bytes handed to ws.send towards this socket and not yet written to the kernel. */
  queued: number;
  /** This socket's reading is paused because its peer's queue is full. */
  paused: boolean;
  /** Binary bytes this socket sent that were forwarded. */
  sent: number;
  closing: boolean;
}

const CLOSE_GRACE_MS = 2000;
const TICK_MS = 250;
// Host names only: the welcome echoes it to the client, which prints it.
const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

export async function startRelay(opts: RelayOptions = {}): Promise<RunningRelay> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? silentLogger;
  const maxMessageBytes = opts.maxMessageBytes ?? MAX_PEER_FRAME_BYTES;
  // Above the high-water mark the sender stops being read; it is read again below the low one.
  // At most one frame arrives after the pause, so a direction holds about 3 frames at worst.
  const highWater = 2 * maxMessageBytes;
  const lowWater = maxMessageBytes;
  const joinRate = opts.joinRatePerMinute ?? 30;
  const throttle = new JoinThrottle({ perMinute: joinRate, burst: joinRate });

  let state: PairingState = initialState({
    codeTtlMs: (opts.codeTtlSeconds ?? 600) * 1000,
    helloTimeoutMs: opts.helloTimeoutMs ?? 10_000,
    open: opts.open ?? false,
    randomInt: (max) => randomInt(max),
    newSid: () => randomBytes(16).toString('base64url'),
  });
  const ios = new Map<ConnId, Io>();
  let nextId = 1;
  let listenName = '';

  function feed(event: PairingEvent): void {
    const result = step(state, event);
    state = result.state;
    for (const effect of result.effects) run(effect);
  }

  function run(effect: Effect): void {
    switch (effect.type) {
      case 'send': {
        const io = ios.get(effect.conn);
        if (io && io.ws.readyState === WebSocket.OPEN) io.ws.send(encodeMessage(effect.msg));
        return;
      }
      case 'close': {
        const io = ios.get(effect.conn);
        if (!io || io.closing) return;
        io.closing = true;
        unlink(io);
        io.ws.close(1000);
        // A client that never answers the closing handshake must not hold the socket.
        setTimeout(() => io.ws.terminate(), CLOSE_GRACE_MS).unref();
        return;
      }
      case 'link': {
        const a = ios.get(effect.a);
        const b = ios.get(effect.b);
        if (!a || !b) throw new RsoError('RSO_ERR_INTERNAL', undefined, `link of a gone connection ${effect.a}/${effect.b}`);
        a.peer = b;
        b.peer = a;
        return;
      }
      case 'unlink': {
        const a = ios.get(effect.a);
        if (a) unlink(a);
        const b = ios.get(effect.b);
        if (b) unlink(b);
        return;
      }
      case 'log': {
        const fields = { ...effect.fields };
        if (effect.pair) {
          fields.openerSent = ios.get(effect.pair[0])?.sent ?? null;
          fields.joinerSent = ios.get(effect.pair[1])?.sent ?? null;
        }
        log(effect.event, fields);
        return;
      }
    }
  }

  function unlink(io: Io): void {
    const peer = io.peer;
    if (!peer) return;
    io.peer = null;
    peer.peer = null;
    for (const side of [io, peer]) {
      if (side.paused) {
        side.paused = false;
        if (!side.closing) side.ws.resume();
      }
    }
  }

  /** Forward one binary frame; pause the source while the destination's queue is full. */
  function forward(src: Io, dst: Io, data: Buffer): void {
    if (dst.ws.readyState !== WebSocket.OPEN) return;
    const size = data.length;
    src.sent += size;
    dst.queued += size;
    dst.ws.send(data, { binary: true }, () => {
      dst.queued -= size;
      if (src.paused && dst.queued <= lowWater && src.peer === dst) {
        src.paused = false;
        if (!src.closing) src.ws.resume();
      }
    });
    if (dst.queued > highWater && !src.paused) {
      src.paused = true;
      src.ws.pause();
    }
  }

  function violation(io: Io, code: ErrorCode, message: string): void {
    feed({ type: 'violation', conn: io.id, now: Date.now(), code, message });
  }

  function onMessage(io: Io, data: RawData, isBinary: boolean): void {
    if (io.closing) return;
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      if (io.peer) forward(io, io.peer, buf);
      else violation(io, 'RSO_ERR_PROTOCOL', 'Binary data was sent before pairing.');
      return;
    }
    let msg;
    try {
      if (buf.length > MAX_RELAY_MESSAGE_BYTES) throw new RsoError('RSO_ERR_TOO_LARGE', `Relay message over ${MAX_RELAY_MESSAGE_BYTES} bytes.`);
      msg = parseClientMessage(buf.toString('utf8'));
    } catch (err) {
      if (!(err instanceof RsoError)) throw err;
      return violation(io, err.code, err.message);
    }
    const now = Date.now();
    switch (msg.type) {
      case 'hello': {
        let auth: Auth = { kind: 'none' };
        if (msg.token !== undefined) {
          // Customers' tokens are refused by the machine without being checked.
          const identity = msg.role === 'agent' && opts.accounts ? opts.accounts.verify(msg.token) : null;
          auth = identity ? { kind: 'valid', identity } : { kind: 'invalid' };
        }
        return feed({ type: 'hello', conn: io.id, now, role: msg.role, auth });
      }
      case 'open':
        return feed({ type: 'open', conn: io.id, now });
      case 'join':
        return feed({ type: 'join', conn: io.id, now, nameplate: msg.nameplate, throttled: !throttle.take(io.remote, now) });
      case 'keyed':
        return feed({ type: 'keyed', conn: io.id, now, ok: msg.ok });
      case 'bye':
        return feed({ type: 'bye', conn: io.id, now });
    }
  }

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    const id = nextId++;
    const io: Io = { id, ws, remote: req.socket.remoteAddress ?? 'unknown', openedAt: Date.now(), peer: null, queued: 0, paused: false, sent: 0, closing: false };
    ios.set(id, io);
    const hostHeader = req.headers.host;
    const relayName = hostHeader && HOST_RE.test(hostHeader) ? hostHeader : listenName;
    log('connected', { conn: id, remote: io.remote });
    feed({ type: 'connect', conn: id, now: Date.now(), relay: relayName });
    ws.on('message', (data, isBinary) => onMessage(io, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws has already started closing with 1009; this only records why.
        violation(io, 'RSO_ERR_TOO_LARGE', `A message was larger than ${maxMessageBytes} bytes.`);
      } else {
        log('socket-error', { conn: id, error: err.code ?? 'unknown' });
      }
    });
    ws.on('close', (code) => {
      unlink(io);
      io.closing = true;
      ios.delete(id);
      feed({ type: 'closed', conn: id, now: Date.now() });
      log('disconnected', { conn: id, remote: io.remote, code, durationMs: Date.now() - io.openedAt });
      if (closing && ios.size === 0) allClosed?.();
    });
  }

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify({ status: 'ok', ...counts(state) });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false, // payload is encrypted, so compression only costs memory and CPU
    maxPayload: Math.max(maxMessageBytes, MAX_RELAY_MESSAGE_BYTES),
  });
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {
      // A socket reset mid-handshake concerns only that client; ws reports it if it gets that far.
    });
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  });

  const ticker = setInterval(() => {
    const now = Date.now();
    feed({ type: 'tick', now });
    throttle.sweep(now);
  }, TICK_MS);
  ticker.unref();

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      clearInterval(ticker);
      const what = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EACCES' ? 'permission denied' : 'it failed';
      reject(new RsoError('RSO_ERR_CONFIG', `Could not listen on ${host}:${opts.port ?? 0}: ${what}; choose another --listen.`, err.message));
    };
    http.once('error', onError);
    http.listen(opts.port ?? 0, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  listenName = `${hostForUrl}:${port}`;

  let closing = false;
  let allClosed: (() => void) | undefined;
  let closePromise: Promise<void> | undefined;

  function close(): Promise<void> {
    closePromise ??= (async () => {
      closing = true;
      clearInterval(ticker);
      const drained = new Promise<void>((resolve) => {
        allClosed = resolve;
        if (ios.size === 0) resolve();
      });
      feed({ type: 'shutdown', now: Date.now() });
      http.close();
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((r) => (grace = setTimeout(r, CLOSE_GRACE_MS)))]);
      // The grace timer must not keep the process alive once everyone has gone.
      clearTimeout(grace);
      for (const io of ios.values()) io.ws.terminate();
      http.closeAllConnections();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    })();
    return closePromise;
  }

  return { url: `ws://${listenName}`, port, close, counts: () => counts(state) };
}
