// The relay connection against small real servers on 127.0.0.1: what it sends, what it accepts,
// and how each failure is named. (The real relay is exercised in test/pairing-*.test.ts.)
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RsoError } from '../errors.js';
import type { ServerMessage } from '../protocol/relay.js';
import { connectRelay, type RelayClosed } from './relay-connection.js';

/** The error a promise rejects with; a resolution is a test failure. */
function failure(p: Promise<unknown>): Promise<RsoError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as RsoError,
  );
}

const WELCOME = JSON.stringify({ type: 'welcome', v: 1, relay: 'test', open: false, agent: null });

async function server(onConn: (ws: WebSocket, firstMessage: string) => void): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.once('message', (d: Buffer) => onConn(ws, d.toString())));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

t.test('sends exactly hello, resolves on welcome, and keeps messages that came in the same breath', async (t) => {
  let hello = '';
  const s = await server((ws, first) => {
    hello = first;
    // welcome, opened and a binary frame in one go: nothing may be lost before attach().
    ws.send(WELCOME);
    ws.send(JSON.stringify({ type: 'opened', nameplate: '123', ttl: 60 }));
    ws.send(Buffer.from([1, 2, 3]));
  });
  t.teardown(() => s.close());
  const conn = await connectRelay({ relay: s.url, role: 'agent', token: 'T'.repeat(20) });
  t.same(JSON.parse(hello), { type: 'hello', v: 1, role: 'agent', token: 'T'.repeat(20) });
  t.equal(conn.welcome.relay, 'test');
  await new Promise((r) => setTimeout(r, 50));
  const got: Array<ServerMessage | number[]> = [];
  conn.attach({ message: (m) => got.push(m), frame: (f) => got.push([...f]), closed: () => {} });
  t.same(got, [{ type: 'opened', nameplate: '123', ttl: 60 }, [1, 2, 3]]);
  await conn.close();
});

t.test('a relay error before welcome rejects with its code, in our words', async (t) => {
  const s = await server((ws) => ws.send(JSON.stringify({ type: 'error', code: 'RSO_ERR_THROTTLED', message: 'CLICK HERE evil.example' })));
  t.teardown(() => s.close());
  const err = await failure(connectRelay({ relay: s.url, role: 'customer' }));
  t.equal(err.code, 'RSO_ERR_THROTTLED');
  t.notMatch(err.message, 'CLICK HERE');
});

t.test('malformed relay messages: before welcome a rejection, after it a closed event with PROTOCOL', async (t) => {
  const before = await server((ws) => ws.send('{"type":"welcome"'));
  t.teardown(() => before.close());
  const err = await failure(connectRelay({ relay: before.url, role: 'customer' }));
  t.equal(err.code, 'RSO_ERR_PROTOCOL');

  const wrongFirst = await server((ws) => ws.send(JSON.stringify({ type: 'opened', nameplate: '123', ttl: 60 })));
  t.teardown(() => wrongFirst.close());
  t.equal((await failure(connectRelay({ relay: wrongFirst.url, role: 'customer' }))).code, 'RSO_ERR_PROTOCOL');

  let serverSide!: WebSocket;
  const after = await server((ws) => {
    serverSide = ws;
    ws.send(WELCOME);
  });
  t.teardown(() => after.close());
  const conn = await connectRelay({ relay: after.url, role: 'customer' });
  const closed = new Promise<RelayClosed>((r) => conn.attach({ message: () => t.fail('no message'), frame: () => {}, closed: r }));
  serverSide.send(JSON.stringify({ type: 'paired', sid: 'short', peer: { role: 'agent' } }));
  const info = await closed;
  t.equal(info.error?.code, 'RSO_ERR_PROTOCOL');
  t.equal(info.code, 1002, 'we told the relay why');
});

t.test('a server that does not speak WebSocket, or nothing listening: UNREACHABLE naming the URL', async (t) => {
  const http = createHttpServer((_req, res) => res.writeHead(503).end('down'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  const err = await failure(connectRelay({ relay: `ws://127.0.0.1:${port}`, role: 'customer' }));
  t.equal(err.code, 'RSO_ERR_UNREACHABLE');
  t.match(err.message, `ws://127.0.0.1:${port}`);
  t.match(err.message, '503');
  await new Promise<void>((r) => http.close(() => r()));
  const gone = await failure(connectRelay({ relay: `ws://127.0.0.1:${port}`, role: 'customer' }));
  t.equal(gone.code, 'RSO_ERR_UNREACHABLE');
  t.match(gone.message, 'nothing is listening');
});

const hasOpenssl = spawnSync('openssl', ['version']).error === undefined;

t.test('wss:// verifies the certificate; an extra CA can be given', { skip: hasOpenssl ? false : 'openssl not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rso-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
  t.equal(gen.status, 0, gen.stderr);
  const https = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) });
  const wss = new WebSocketServer({ server: https });
  wss.on('connection', (ws) => ws.once('message', () => ws.send(WELCOME)));
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => https.close(() => r())));
  const url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}`;

  const refused = await failure(connectRelay({ relay: url, role: 'customer' }));
  t.equal(refused.code, 'RSO_ERR_UNREACHABLE');
  t.match(refused.message, 'certificate');
  const conn = await connectRelay({ relay: url, role: 'customer', ca: readFileSync(cert, 'utf8') });
  t.equal(conn.welcome.relay, 'test');
  await conn.close();
  for (const c of wss.clients) c.terminate();
});
