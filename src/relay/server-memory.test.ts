// What an idle connection keeps alive in the relay: per-connection memory is what limits how
// many sessions one relay holds (bench/relay-memory.ts measures it), so each thing a connection
// must not keep has a test here.
import { Server, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { WebSocket } from 'ws';
import { startRelay } from './server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function next(ws: WebSocket): Promise<{ type: string }> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
}

t.test('an open connection does not keep its HTTP upgrade request', async (t) => {
  // Catch each upgrade request as the relay's HTTP server receives it, without keeping it.
  const requests: Array<WeakRef<IncomingMessage>> = [];
  const emit = Server.prototype.emit;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'upgrade') requests.push(new WeakRef(args[0] as IncomingMessage));
    return (emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean).call(this, event, ...args);
  } as typeof emit;
  t.teardown(() => void (Server.prototype.emit = emit));

  const relay = await startRelay({ open: true });
  t.teardown(() => relay.close());
  const a = await open(relay.url);
  a.send(JSON.stringify({ type: 'hello', v: 1, role: 'agent' }));
  t.equal((await next(a)).type, 'welcome');
  const b = await open(relay.url);
  b.send(JSON.stringify({ type: 'hello', v: 1, role: 'customer' }));
  t.equal((await next(b)).type, 'welcome');
  t.equal(requests.length, 2, 'both upgrades seen');
  await collect();
  t.equal(requests.filter((r) => r.deref() !== undefined).length, 0, 'no upgrade request is still alive');
  // The connections are still there and work: the request was let go, not the socket.
  t.equal(relay.counts().connections, 2);
  a.send(JSON.stringify({ type: 'open' }));
  t.equal((await next(a)).type, 'opened');
  a.close();
  b.close();
});
