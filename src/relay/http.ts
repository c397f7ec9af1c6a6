// The relay's plain HTTP side, on the same port as the WebSockets: /healthz for balancers and
// probes, / for customers (page.ts). Anything else is 404.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopbackHost } from '../client/relay-url.js';
import { contentSecurityPolicy, renderPage } from './page.js';

// Host names only: the welcome echoes it to the client, which prints it, and the page shows it.
export const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/** What the HTTP side needs to know about the running relay. */
export interface Site {
  draining(): boolean;
  counts(): { pending: number; paired: number; connections: number };
  /** host:port the relay listens on, for requests without a usable Host header. */
  listenName(): string;
  tls: boolean;
  brandName?: string;
  brandNote?: string;
}

/** The URL a customer types for this relay, as reached through `req`. */
export function publicUrl(req: IncomingMessage, site: Site): string {
  const hostHeader = req.headers.host;
  const name = hostHeader && HOST_RE.test(hostHeader) ? hostHeader : site.listenName();
  const hostname = name.replace(/:[0-9]+$/, '');
  // Plain ws only where the client accepts it without --insecure: a plain relay on this machine.
  // Behind a TLS proxy the relay is plain but the customer must use wss.
  const forwardedTls = req.headers['x-forwarded-proto'] === 'https';
  const plain = !site.tls && !forwardedTls && isLoopbackHost(hostname);
  return `${plain ? 'ws' : 'wss'}://${name}`;
}

export function handleHttp(req: IncomingMessage, res: ServerResponse, site: Site): void {
  const path = (req.url ?? '/').split('?')[0];
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (path === '/healthz' && get) {
    const draining = site.draining();
    const body = JSON.stringify({ status: draining ? 'draining' : 'ok', ...site.counts() });
    // 503 while draining, so a load balancer sends new customers elsewhere.
    res.writeHead(draining ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/' && get) {
    const nonce = randomBytes(16).toString('base64');
    const body = renderPage({
      relayUrl: publicUrl(req, site),
      nonce,
      ...(site.brandName ? { brandName: site.brandName } : {}),
      ...(site.brandNote ? { brandNote: site.brandNote } : {}),
    });
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'content-security-policy': contentSecurityPolicy(nonce),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
}
