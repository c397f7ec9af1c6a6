// A relay that touches records after the handshake: a WebSocket proxy in front of the real relay
// forwards everything to the customer faithfully, except that it flips one byte of a record,
// replays one, or swaps two. The customer ends the session with TAMPERED and never delivers the
// altered bytes; the agent sees the customer vanish.
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { FRAME_RECORD } from '../src/protocol/peer.js';
import { Collector, pairSessions, relayWithAgent } from './helpers/client-pairing.js';

type Mode = 'flip' | 'replay' | 'reorder';

/** Proxies one client to `target`, meddling with records going to the client as `mode` says. */
async function meddlingRelay(target: string, mode: Mode): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (client) => {
    const upstream = new WebSocket(target, { perMessageDeflate: false });
    const early: Array<[Buffer, boolean]> = [];
    let records = 0;
    let held: Buffer | undefined;
    client.on('message', (data: Buffer, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
      else early.push([data, isBinary]);
    });
    upstream.on('open', () => {
      for (const [d, b] of early.splice(0)) upstream.send(d, { binary: b });
    });
    upstream.on('message', (data: Buffer, isBinary) => {
      if (!isBinary || data[0] !== FRAME_RECORD) {
        client.send(data, { binary: isBinary });
        return;
      }
      records++;
      if (mode === 'flip' && records === 2) {
        const copy = Buffer.from(data);
        const at = Math.floor(copy.length / 2);
        copy[at] = (copy[at] as number) ^ 0x01;
        client.send(copy, { binary: true });
      } else if (mode === 'replay' && records === 1) {
        client.send(data, { binary: true });
        client.send(data, { binary: true });
      } else if (mode === 'reorder' && records === 1) {
        held = data;
      } else if (mode === 'reorder' && records === 2) {
        client.send(data, { binary: true });
        client.send(held as Buffer, { binary: true });
      } else {
        client.send(data, { binary: true });
      }
    });
    const end = (): void => {
      client.terminate();
      upstream.terminate();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

const relay = await relayWithAgent();
t.teardown(() => relay.stop());

const cases: Array<[Mode, number]> = [
  // [mode, how many records the customer still gets intact before the bad one]
  ['flip', 1],
  ['replay', 1],
  ['reorder', 0],
];

for (const [mode, intact] of cases) {
  t.test(`a relay that does "${mode}" to a record: the receiver ends with TAMPERED`, async (t) => {
    const evil = await meddlingRelay(relay.url, mode);
    t.teardown(() => evil.close());
    const p = await pairSessions({ openerUrl: relay.url, joinerUrl: evil.url, openerRole: 'agent', token: relay.token });
    const customerIn = new Collector(p.customer);
    const agentIn = new Collector(p.agent);
    const sent = ['first', 'second', 'third', 'fourth'].map((s) => Buffer.from(`record ${s}`));
    for (const m of sent) await p.agent.send(m);

    const info = await customerIn.waitClose();
    t.equal(info.by, 'relay');
    t.equal(info.error?.code, 'RSO_ERR_TAMPERED');
    t.same(customerIn.messages.map((m) => Buffer.from(m).toString()), sent.slice(0, intact).map(String), 'only the records before the bad one were delivered');
    t.notMatch(`${info.error?.message} ${info.error?.detail}`, /record (first|second|third|fourth)/, 'no payload in the error');
    // The customer hung up; the agent sees it go without an authenticated close.
    const a = await agentIn.waitClose();
    t.equal(a.by, 'network');
    t.equal(a.error?.code, 'RSO_ERR_PEER_LEFT');
    // And the customer's session is over for sending, too.
    await t.rejects(p.customer.send(Buffer.from('x')), { code: 'RSO_ERR_TAMPERED' });
  });
}

t.test('the meddling relay is otherwise transparent (control)', async (t) => {
  // With a mode that never triggers (the agent sends nothing), pairing and the customer's
  // messages pass: the failures above come from the meddling, not from the proxy.
  const evil = await meddlingRelay(relay.url, 'flip');
  t.teardown(() => evil.close());
  const p = await pairSessions({ openerUrl: relay.url, joinerUrl: evil.url, openerRole: 'agent', token: relay.token });
  const agentIn = new Collector(p.agent);
  await p.customer.send(Buffer.from('through the proxy'));
  t.equal(Buffer.from((await agentIn.waitMessages(1))[0] as Uint8Array).toString(), 'through the proxy');
  await p.agent.send(Buffer.from('one intact record'));
  const customerIn = new Collector(p.customer);
  t.equal(Buffer.from((await customerIn.waitMessages(1))[0] as Uint8Array).toString(), 'one intact record');
  await p.customer.close();
  t.same(await agentIn.waitClose(), { by: 'peer' });
});
