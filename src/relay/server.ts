// The relay's I/O shell: HTTP(S) (/, /healthz) and WebSocket on one port, relay-plane messages
// parsed and fed to the pairing machine, its effects carried out, and binary frames forwarded
// between linked sockets with backpressure. Decisions live in pairing.ts, not here; a cluster
// (cluster.ts) is reached only through the ClusterHooks interface.
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RsoError, type ErrorCode } from '../errors.js';
import { encodeMessage, parseClientMessage, type AgentIdentity, type Role } from '../protocol/relay.js';
import { MAX_PEER_FRAME_BYTES, MAX_RELAY_MESSAGE_BYTES } from '../protocol/version.js';
import type { AuditRecord } from './audit-record.js';
import { toAuditLine, type AuditLine } from './audit.js';
import { HOST_RE, handleHttp, type Site } from './http.js';
import { silentLogger } from './log.js';
import { NODE_KEY_HEADER, NODE_PATH, parseNodeHello, type NodeHello } from './node-protocol.js';
import { forwardToNode, type NodeLink } from './node-link.js';
import { Forwarder, type End } from './forward.js';
import { counts, initialState, step, type Auth, type ConnId, type Effect, type PairingEvent, type PairingState } from './pairing.js';
import { listSessions } from './sessions.js';
import { JoinThrottle } from './throttle.js';
import type { TlsMaterial } from './tls.js';

import type { RelayOptions, RunningRelay, SessionInfo } from './server-api.js';

/** One socket and what the shell keeps about it; its link and queue are forwarding's (forward.ts). */
interface Io extends End {
  readonly id: ConnId;
  remote: string;
  readonly openedAt: number;
  peer: Io | null;
  lastActivity: number;
  /** A cluster lookup is running: messages wait here, in order. */
  held: Array<{ data: Buffer; isBinary: boolean }> | null;
  /** Hello as the machine saw it, for handing the client to another node. */
  hello?: { role: Role; agent: (AgentIdentity & { verified: boolean }) | null };
  relayName: string;
  /** A node (not a client) connected on NODE_PATH; its first message is node-hello. */
  node: 'none' | 'awaiting-hello' | 'ready';
}

const CLOSE_GRACE_MS = 2000;

function ignoreHandshakeError(): void {
  // A socket reset mid-handshake concerns only that client; ws reports it if it gets that far.
}
const TICK_MS = 250;

export async function startRelay(opts: RelayOptions = {}): Promise<RunningRelay> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? silentLogger;
  const metrics = opts.metrics;
  const cluster = opts.cluster;
  const maxMessageBytes = opts.maxMessageBytes ?? MAX_PEER_FRAME_BYTES;
  const forwarder = new Forwarder(maxMessageBytes, metrics);
  const joinRate = opts.joinRatePerMinute ?? 30;
  const throttle = new JoinThrottle({ perMinute: joinRate, burst: joinRate });
  const idleMs = (opts.idleTimeoutSeconds ?? 0) * 1000;

  let state: PairingState = initialState({
    codeTtlMs: (opts.codeTtlSeconds ?? 600) * 1000,
    helloTimeoutMs: opts.helloTimeoutMs ?? 10_000,
    open: opts.open ?? false,
    randomInt: (max) => randomInt(max),
    newSid: () => randomBytes(16).toString('base64url'),
    ...(opts.maxSessions ? { maxSessions: opts.maxSessions } : {}),
    // Random, so ids from different nodes of a cluster never collide in one audit trail.
    newSessionId: () => randomBytes(6).toString('hex'),
  });
  const ios = new Map<ConnId, Io>();
  /** Clients handed to the node that holds their session. */
  const links = new Set<NodeLink>();
  let nextId = 1;
  let listenName = '';
  let draining = false;

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
        forwarder.link(a, b);
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
        metrics?.event(effect.event, fields);
        log(effect.event, fields);
        return;
      }
      case 'audit':
        opts.audit?.(auditLine(effect.record));
        return;
    }
  }

  function auditLine(r: AuditRecord): AuditLine {
    return toAuditLine(
      r,
      (conn) => ios.get(conn)?.remote ?? null,
      (conn) => ios.get(conn)?.sent ?? 0,
    );
  }

  function unlink(io: Io): void {
    forwarder.unlink(io);
  }

  function violation(io: Io, code: ErrorCode, message: string): void {
    feed({ type: 'violation', conn: io.id, now: Date.now(), code, message });
  }

  function onMessage(io: Io, data: RawData, isBinary: boolean): void {
    if (io.closing) return;
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    io.lastActivity = Date.now();
    if (io.held) {
      io.held.push({ data: buf, isBinary });
      return;
    }
    handle(io, buf, isBinary);
  }

  function handle(io: Io, buf: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (io.peer) forwarder.forward(io, io.peer, buf);
      else violation(io, 'RSO_ERR_PROTOCOL', 'Binary data was sent before pairing.');
      return;
    }
    if (io.node === 'awaiting-hello') return nodeHello(io, buf);
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
        if (io.node === 'ready') return violation(io, 'RSO_ERR_PROTOCOL', 'hello was sent twice.');
        let auth: Auth = { kind: 'none' };
        if (msg.token !== undefined) {
          // Customers' tokens are refused by the machine without being checked.
          const identity = msg.role === 'agent' && opts.accounts ? opts.accounts.verify(msg.token) : null;
          auth = identity ? { kind: 'valid', identity } : { kind: 'invalid' };
        }
        feed({ type: 'hello', conn: io.id, now, role: msg.role, auth });
        const c = state.conns.get(io.id);
        // Kept only where a join may hand this client to another node.
        if (cluster && c?.phase === 'ready') io.hello = { role: msg.role, agent: c.agent ?? null };
        return;
      }
      case 'open':
        if (cluster && state.conns.get(io.id)?.phase === 'ready' && !state.draining) return clusterOpen(io);
        return feed({ type: 'open', conn: io.id, now });
      case 'join': {
        const throttled = !throttle.take(io.remote, now);
        const local = state.plates.has(msg.nameplate) || state.tombstones.has(msg.nameplate);
        if (cluster && !throttled && !local && io.node === 'none' && state.conns.get(io.id)?.phase === 'ready' && !state.draining) {
          return clusterJoin(io, msg.nameplate, buf);
        }
        return feed({ type: 'join', conn: io.id, now, nameplate: msg.nameplate, throttled });
      }
      case 'resume':
        // Resumes meet on the node they reach; in a cluster both sides dial the same URL again,
        // and a resume id is never registered in the shared store (docs/resume.md).
        return feed({ type: 'resume', conn: io.id, now, rid: msg.rid, throttled: !throttle.take(io.remote, now) });
      case 'keyed':
        return feed(msg.rid !== undefined ? { type: 'keyed', conn: io.id, now, ok: msg.ok, rid: msg.rid } : { type: 'keyed', conn: io.id, now, ok: msg.ok });
      case 'bye':
        return feed({ type: 'bye', conn: io.id, now });
    }
  }

  /** Run `work` with the socket's later messages held back, then replay them in order. */
  function hold(io: Io, work: Promise<void>): void {
    io.held = [];
    const release = (): void => {
      const held = io.held ?? [];
      io.held = null;
      for (const m of held) {
        if (io.closing || !ios.has(io.id)) return;
        handle(io, m.data, m.isBinary);
      }
    };
    work.then(release, (err: unknown) => {
      io.held = null;
      if (ios.has(io.id) && !io.closing) {
        const e = err instanceof RsoError ? err : new RsoError('RSO_ERR_INTERNAL', undefined, String(err));
        violation(io, e.code, e.message);
      }
    });
  }

  function clusterOpen(io: Io): void {
    hold(
      io,
      cluster!.reserve().then((nameplate) => {
        // The client may have left while Redis answered; the unused reservation then lapses.
        if (!ios.has(io.id) || io.closing) return;
        if (state.plates.has(nameplate) || state.tombstones.has(nameplate)) throw new RsoError('RSO_ERR_RELAY_BUSY', undefined, 'reserved nameplate in use locally');
        feed({ type: 'open', conn: io.id, now: Date.now(), nameplate });
      }),
    );
  }

  function clusterJoin(io: Io, nameplate: string, joinBuf: Buffer): void {
    hold(
      io,
      cluster!.locate(nameplate).then((where) => {
        if (!ios.has(io.id) || io.closing) return;
        if (where.kind !== 'remote' || !io.hello) {
          feed({ type: 'join', conn: io.id, now: Date.now(), nameplate, throttled: false });
          return;
        }
        handOff(io, where.url, nameplate, joinBuf);
      }),
    );
  }

  /** The session lives on another node: this client's socket is piped there from now on. */
  function handOff(io: Io, url: string, nameplate: string, joinBuf: Buffer): void {
    const key = cluster!.nodeKey();
    if (!key) throw new RsoError('RSO_ERR_RELAY_BUSY', undefined, 'no cluster key yet');
    const hello: NodeHello = { type: 'node-hello', role: io.hello!.role, agent: io.hello!.agent, remote: io.remote, relay: io.relayName };
    const early = io.held ?? [];
    io.held = [];
    // The connection leaves this node's machine: from here on the other node decides.
    ios.delete(io.id);
    feed({ type: 'closed', conn: io.id, now: Date.now() });
    io.closing = true;
    log('forwarded', { conn: io.id, nameplate, to: url });
    const link = forwardToNode({
      client: io.ws,
      url,
      key,
      hello,
      join: joinBuf,
      early,
      maxMessageBytes,
      ...(metrics ? { metrics } : {}),
      onEnd: (why) => {
        links.delete(link);
        log('forward-ended', { conn: io.id, why });
        checkDrained();
      },
    });
    links.add(link);
  }

  function nodeHello(io: Io, buf: Buffer): void {
    let h: NodeHello;
    try {
      h = parseNodeHello(buf.toString('utf8'));
    } catch (err) {
      if (!(err instanceof RsoError)) throw err;
      return violation(io, err.code, err.message);
    }
    io.node = 'ready';
    io.remote = h.remote;
    const auth: Auth = h.agent && h.agent.verified ? { kind: 'valid', identity: { id: h.agent.id, name: h.agent.name, org: h.agent.org } } : { kind: 'none' };
    feed({ type: 'hello', conn: io.id, now: Date.now(), role: h.role, auth });
  }

  /** What a connection keeps from its upgrade request; the request itself is let go. */
  function connectionFacts(req: IncomingMessage): { relayName: string; remote: string } {
    const hostHeader = req.headers.host;
    return {
      relayName: hostHeader && HOST_RE.test(hostHeader) ? hostHeader : listenName,
      remote: req.socket.remoteAddress ?? 'unknown',
    };
  }

  function onConnection(ws: WebSocket, facts: { relayName: string; remote: string }, fromNode: boolean): void {
    const id = nextId++;
    const { relayName } = facts;
    const now = Date.now();
    const io: Io = {
      id,
      ws,
      remote: facts.remote,
      openedAt: now,
      peer: null,
      queued: 0,
      paused: false,
      sent: 0,
      lastActivity: now,
      closing: false,
      held: null,
      relayName,
      node: fromNode ? 'awaiting-hello' : 'none',
    };
    ios.set(id, io);
    log('connected', { conn: id, remote: io.remote, ...(fromNode ? { node: true } : {}) });
    feed({ type: 'connect', conn: id, now, relay: relayName });
    ioOf.set(ws, io);
    ws.on('message', onWsMessage);
    ws.on('error', onWsError);
    ws.on('close', onWsClose);
  }

  // The socket listeners are shared by all sockets and find the socket's record here: one
  // closure per socket and event would be memory that every idle connection holds.
  const ioOf = new WeakMap<WebSocket, Io>();

  function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const io = ioOf.get(this);
    if (io) onMessage(io, data, isBinary);
  }

  function onWsError(this: WebSocket, err: Error & { code?: string }): void {
    const io = ioOf.get(this);
    if (!io || !ios.has(io.id)) return;
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      // ws has already started closing with 1009; this only records why.
      violation(io, 'RSO_ERR_TOO_LARGE', `A message was larger than ${maxMessageBytes} bytes.`);
    } else {
      log('socket-error', { conn: io.id, error: err.code ?? 'unknown' });
    }
  }

  function onWsClose(this: WebSocket, code: number): void {
    const io = ioOf.get(this);
    // A client handed to another node has already left this machine.
    if (!io || !ios.has(io.id)) return;
    const id = io.id;
    unlink(io);
    io.closing = true;
    // Fed before the socket is forgotten, so the audit line can still read its byte count.
    feed({ type: 'closed', conn: id, now: Date.now() });
    ios.delete(id);
    log('disconnected', { conn: id, remote: io.remote, code, durationMs: Date.now() - io.openedAt });
    if (closing && ios.size === 0) allClosed?.();
    checkDrained();
  }

  function liveCounts(): { pending: number; paired: number; connections: number } {
    const c = counts(state);
    return { ...c, connections: c.connections + links.size };
  }

  const site: Site = {
    draining: () => draining,
    counts: () => liveCounts(),
    listenName: () => listenName,
    tls: opts.tls !== undefined,
    ...(opts.brandName ? { brandName: opts.brandName } : {}),
    ...(opts.brandNote ? { brandNote: opts.brandNote } : {}),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => handleHttp(req, res, site);
  const http: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createHttpServer(onRequest);
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false, // payload is encrypted, so compression only costs memory and CPU
    maxPayload: Math.max(maxMessageBytes, MAX_RELAY_MESSAGE_BYTES),
  });
  http.on('upgrade', (req: IncomingMessage, socket, head) => {
    // A named function, not a closure: a closure here would keep this request (headers and
    // all) alive for as long as the socket lives, about 1 KiB per connection for nothing.
    socket.on('error', ignoreHandshakeError);
    const fromNode = (req.url ?? '').split('?')[0] === NODE_PATH;
    if (fromNode && !nodeKeyOk(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, connectionFacts(req), fromNode));
  });

  function nodeKeyOk(req: IncomingMessage): boolean {
    const key = cluster?.nodeKey();
    const given = req.headers[NODE_KEY_HEADER];
    if (!key || typeof given !== 'string') return false;
    const buf = Buffer.from(given, 'base64url');
    return buf.length === key.length && timingSafeEqual(buf, key);
  }

  const ticker = setInterval(() => {
    const now = Date.now();
    feed({ type: 'tick', now });
    throttle.sweep(now);
    if (idleMs > 0) {
      for (const io of [...ios.values()]) {
        if (io.closing || !state.conns.has(io.id)) continue;
        const last = Math.max(io.lastActivity, io.peer?.lastActivity ?? 0);
        if (now - last >= idleMs) feed({ type: 'idle', conn: io.id, now });
      }
    }
    if (cluster) cluster.held(new Set([...state.plates.keys(), ...state.tombstones.keys()]));
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
  let drainedWaiter: (() => void) | undefined;

  function checkDrained(): void {
    if (drainedWaiter && state.plates.size === 0 && links.size === 0) drainedWaiter();
  }

  function close(): Promise<void> {
    closePromise ??= (async () => {
      closing = true;
      clearInterval(ticker);
      const drained = new Promise<void>((resolve) => {
        allClosed = resolve;
        if (ios.size === 0) resolve();
      });
      feed({ type: 'shutdown', now: Date.now() });
      for (const link of links) link.shutdown();
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

  async function drain(timeoutMs: number): Promise<number> {
    if (!draining) {
      draining = true;
      feed({ type: 'drain', now: Date.now() });
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      drainedWaiter = resolve;
      timer = setTimeout(resolve, timeoutMs);
      checkDrained();
    });
    clearTimeout(timer);
    drainedWaiter = undefined;
    const left = state.plates.size + links.size;
    await close();
    return left;
  }

  function sessions(): SessionInfo[] {
    const io = (conn: ConnId | null): Io | undefined => (conn === null ? undefined : ios.get(conn));
    return listSessions(state).map((s) => ({
      ...s,
      agentAddress: io(s.agentConn)?.remote ?? null,
      customerAddress: io(s.customerConn)?.remote ?? null,
      bytesAgentToCustomer: io(s.agentConn)?.sent ?? 0,
      bytesCustomerToAgent: io(s.customerConn)?.sent ?? 0,
    }));
  }

  function end(id: string): boolean {
    if (![...state.plates.values()].some((p) => p.id === id)) return false;
    feed({ type: 'end', id, now: Date.now() });
    checkDrained();
    return true;
  }

  return {
    url: `${opts.tls ? 'wss' : 'ws'}://${listenName}`,
    port,
    close,
    drain,
    reloadTls: (material) => (http as Server & { setSecureContext?: (o: TlsMaterial) => void }).setSecureContext?.(material),
    counts: liveCounts,
    sessions,
    end,
  };
}
