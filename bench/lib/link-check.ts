// Measures the impaired link itself, so a bench can print what the link really did next to
// what it was asked for (a wrong tc line or a proxy bug would otherwise go unnoticed): the
// round trip of one byte, and the rate of a bulk upload (clients -> relay namespace, the
// direction the customer's updates take).
//
// The server is a tiny plain-Node script started in the relay's namespace (no tsx there);
// the client runs wherever the clients are, through the same delay proxy as they use.
//   ping: the client sends 'p', the server answers 'p';
//   bulk: the client sends 'b' + a 4-byte big-endian length + that many bytes; the server
//         answers 'd' when it has them all.
import { createConnection, type Socket } from 'node:net';
import { delayProxy, type DelayProxyOptions } from './delay-proxy.js';
import { firstMatch, type ImpairedLink } from './impaired-link.js';

const SERVER = `
const net = require('node:net');
const s = net.createServer((c) => {
  c.setNoDelay(true);
  let left = -1; let head = Buffer.alloc(0);
  c.on('data', (d) => {
    while (d.length > 0) {
      if (left > 0) { const n = Math.min(left, d.length); left -= n; d = d.subarray(n); if (left === 0) { c.write('d'); left = -1; } continue; }
      head = Buffer.concat([head, d]); d = Buffer.alloc(0);
      if (head[0] === 0x70) { c.write('p'); d = head.subarray(1); head = Buffer.alloc(0); continue; }
      if (head[0] === 0x62 && head.length >= 5) { left = head.readUInt32BE(1); d = head.subarray(5); head = Buffer.alloc(0); if (left === 0) { c.write('d'); left = -1; } continue; }
      break;
    }
  });
  c.on('error', () => undefined);
});
s.listen(0, process.argv[1], () => console.log('echo listening on ' + s.address().port));
`;

/** Starts the check server in the relay's namespace; returns its ws-style URL (for the proxy). */
export async function startLinkCheckServer(link: ImpairedLink): Promise<string> {
  const proc = link.spawnIn(link.nsRelay, [process.execPath, '-e', SERVER, link.relayIp]);
  const port = await firstMatch(proc, /echo listening on (\d+)/);
  return `tcp://${link.relayIp}:${port}`;
}

export interface LinkFigures {
  /** Median of 5 one-byte round trips. */
  rttMs: number;
  /** Upload rate of `bulkBytes`, with one round trip taken off. */
  mbit: number;
  bulkBytes: number;
}

/** Runs the check against `serverUrl` through a delay proxy with `proxyOptions`. */
export async function checkLink(serverUrl: string, proxyOptions: DelayProxyOptions, bulkBytes = 2_500_000): Promise<LinkFigures> {
  const proxy = await delayProxy(new URL(serverUrl), proxyOptions);
  const local = new URL(proxy.url);
  const sock: Socket = createConnection({ host: local.hostname, port: Number(local.port) });
  sock.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const reply = (): Promise<void> => new Promise((resolve) => sock.once('data', () => resolve()));
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const got = reply();
      sock.write('p');
      await got;
      rtts.push(performance.now() - t0);
    }
    rtts.sort((a, b) => a - b);
    const rttMs = rtts[2]!;
    const head = Buffer.alloc(5);
    head[0] = 0x62;
    head.writeUInt32BE(bulkBytes, 1);
    const t0 = performance.now();
    const got = reply();
    sock.write(head);
    sock.write(Buffer.alloc(bulkBytes, 0x55));
    await got;
    const seconds = (performance.now() - t0 - rttMs) / 1000;
    return { rttMs, mbit: (bulkBytes * 8) / seconds / 1e6, bulkBytes };
  } finally {
    sock.destroy();
    await proxy.close();
  }
}
