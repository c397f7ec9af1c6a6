// A client whose session lives on another node of the cluster: this node opens one WebSocket to
// that node, says who the client is (node-hello) and replays its join, then pipes every message
// both ways unchanged, with the same backpressure rule as local forwarding. The other node's
// pairing machine treats the link as the client's own socket, so all decisions stay in one place.
import { WebSocket, type RawData } from 'ws';
import { encodeMessage } from '../protocol/relay.js';
import type { RelayMetrics } from './metrics.js';
import { NODE_KEY_HEADER, NODE_PATH, type NodeHello } from './node-protocol.js';

export interface NodeLinkOptions {
  client: WebSocket;
  /** Base URL of the node holding the session (its --node-url). */
  url: string;
  key: Buffer;
  hello: NodeHello;
  /** The client's join message, as it sent it. */
  join: Buffer;
  maxMessageBytes: number;
  /** Messages the client sent after its join, before the link existed. */
  early?: Array<{ data: Buffer; isBinary: boolean }>;
  metrics?: RelayMetrics;
  onEnd: (why: string) => void;
}

export interface NodeLink {
  /** This node shuts down: the client hears peer-left shutdown and both sockets close. */
  shutdown(): void;
}

const CLOSE_GRACE_MS = 2000;
const NODE_GONE_TEXT = 'The relay node that held this session stopped; start a new session.';

export function forwardToNode(o: NodeLinkOptions): NodeLink {
  const { client } = o;
  const upstream = new WebSocket(new URL(NODE_PATH, o.url), {
    perMessageDeflate: false,
    headers: { [NODE_KEY_HEADER]: o.key.toString('base64url') },
    maxPayload: o.maxMessageBytes + 4096,
  });
  const highWater = 2 * o.maxMessageBytes;
  const lowWater = o.maxMessageBytes;
  let ended = false;
  // The other node answers node-hello with welcome; the client already has one from us.
  let swallowWelcome = true;
  const early: Array<{ data: Buffer; isBinary: boolean }> = [...(o.early ?? [])];

  const end = (why: string): void => {
    if (ended) return;
    ended = true;
    o.onEnd(why);
  };

  /** src -> dst with backpressure: src stops being read while dst has too much queued. */
  const pipe = (src: WebSocket, dst: WebSocket, measure: boolean): ((data: Buffer, isBinary: boolean) => void) => {
    let queued = 0;
    let paused = false;
    return (data, isBinary) => {
      if (dst.readyState !== WebSocket.OPEN) return;
      const size = data.length;
      queued += size;
      const started = measure && o.metrics ? performance.now() : 0;
      dst.send(data, { binary: isBinary }, () => {
        queued -= size;
        if (measure && o.metrics && isBinary) o.metrics.forwarded(size, (performance.now() - started) / 1000);
        if (paused && queued <= lowWater) {
          paused = false;
          src.resume();
        }
      });
      if (queued > highWater && !paused) {
        paused = true;
        src.pause();
      }
    };
  };

  const toUpstream = pipe(client, upstream, true);
  const toClient = pipe(upstream, client, false);
  const asBuffer = (data: RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));

  client.on('message', (data, isBinary) => {
    const buf = asBuffer(data);
    if (upstream.readyState === WebSocket.CONNECTING) early.push({ data: buf, isBinary });
    else toUpstream(buf, isBinary);
  });
  upstream.on('open', () => {
    upstream.send(JSON.stringify(o.hello));
    // A Buffer would go out as a binary frame; the join is relay-plane text.
    upstream.send(o.join.toString('utf8'));
    for (const m of early.splice(0)) toUpstream(m.data, m.isBinary);
  });
  upstream.on('message', (data, isBinary) => {
    if (swallowWelcome && !isBinary) {
      swallowWelcome = false;
      return;
    }
    toClient(asBuffer(data), isBinary);
  });
  upstream.on('error', () => {
    // Reported by the close below, which is what the client hears about.
  });
  client.on('error', () => {
    // The client's socket closes next; that ends the link.
  });
  upstream.on('close', (code) => {
    if (client.readyState === WebSocket.OPEN) {
      if (code === 1000 || code === 1009) {
        // The other node closed it on purpose and has already said why.
        client.close(code === 1009 ? 1009 : 1000);
      } else {
        client.send(encodeMessage({ type: 'error', code: 'RSO_ERR_UNREACHABLE', message: NODE_GONE_TEXT }));
        client.close(1000);
      }
      setTimeout(() => client.terminate(), CLOSE_GRACE_MS).unref();
    }
    end(code === 1000 ? 'closed' : `node-gone-${code}`);
  });
  client.on('close', () => {
    if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING) {
      upstream.close(1000);
      setTimeout(() => upstream.terminate(), CLOSE_GRACE_MS).unref();
    }
    end('client-closed');
  });

  return {
    shutdown() {
      if (client.readyState === WebSocket.OPEN) {
        client.send(encodeMessage({ type: 'peer-left', reason: 'shutdown' }));
        client.close(1000);
      }
      upstream.close(1000);
    },
  };
}
