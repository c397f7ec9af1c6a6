// A TCP proxy on 127.0.0.1 towards the relay, run in the clients' network namespace. It is the
// delay (and loss) half of the `tbf+proxy` impairment (bench/lib/impaired-link.ts) on kernels
// without sch_netem: the rate is limited by `tbf` on the veth, the delay is added here.
// With `delayMs: 0` it only forwards, so the clients always see a loopback URL (they refuse
// `ws://` anywhere else, rightly) whichever impairment runs.
//
// Each direction of each connection delays every chunk by `delayMs`; with `holdPercent`, that
// share of chunks is held `holdMs` longer, never reordered, as a TCP retransmission would hold
// the bytes behind a lost segment. The delay is per direction, so a customer -> relay -> agent
// message crosses it twice (once on the customer's connection, once on the agent's), as it
// would cross a netem'd link twice.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface DelayProxyOptions {
  delayMs: number;
  holdPercent?: number;
  holdMs?: number;
}

export interface DelayProxy {
  url: string;
  close(): Promise<void>;
}

export async function delayProxy(target: URL, opts: DelayProxyOptions): Promise<DelayProxy> {
  const emulate = opts.delayMs > 0 || (opts.holdPercent ?? 0) > 0;
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket): void => {
    // One FIFO per direction, drained by one timer: separate timers per chunk could fire out
    // of order (Node orders timers of different durations only to the millisecond).
    const queue: Array<{ at: number; data: Buffer | null }> = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = (): void => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.at <= now) {
        const { data } = queue.shift()!;
        if (data === null) to.destroy();
        else to.write(data);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.at - now);
    };
    const push = (data: Buffer | null): void => {
      const last = queue.at(-1)?.at ?? 0;
      const extra = data !== null && Math.random() * 100 < (opts.holdPercent ?? 0) ? (opts.holdMs ?? 0) : 0;
      queue.push({ at: Math.max(last, Date.now() + opts.delayMs + extra), data });
      if (timer === undefined) timer = setTimeout(drain, queue[0]!.at - Date.now());
    };
    from.on('data', (d: Buffer) => (emulate ? push(d) : void to.write(d)));
    from.on('close', () => (emulate ? push(null) : void to.destroy()));
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const s of [client, upstream]) {
      // The delay is ours to add; Nagle's algorithm holding small writes for an ACK would be
      // a second, unasked-for one (the clients set no-delay on their own sockets too).
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
