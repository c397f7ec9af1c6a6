// Prometheus metrics (prom-client) on their own listener (--metrics HOST:PORT), so the public
// port never exposes them. One registry per relay: tests may run several in one process.
// Labels are fixed, small sets (error codes, nothing from the network): no nameplate, address or
// agent id ever becomes a label.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RsoError } from '../errors.js';
import type { LogFields } from './pairing.js';

export interface LiveCounts {
  pending: number;
  paired: number;
  connections: number;
}

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly bytes: Counter;
  private readonly frames: Counter;
  private readonly latency: Histogram;
  private readonly pairingFailures: Counter;
  private readonly burnt: Counter;
  private readonly throttled: Counter;
  private readonly errors: Counter<'code'>;
  private readonly pairings: Counter;
  private readonly ended: Counter;

  constructor(live: () => LiveCounts) {
    // Standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...), as
    // dashboards expect them.
    collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, pick: (c: LiveCounts) => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(pick(live()));
        },
      });
    };
    gauge('rso_relay_sessions_pending', 'Opened session numbers nobody has joined yet', (c) => c.pending);
    gauge('rso_relay_sessions_paired', 'Paired sessions (key confirmation in progress or done)', (c) => c.paired);
    gauge('rso_relay_connections', 'Open WebSocket connections', (c) => c.connections);
    const reg = [this.registry];
    this.bytes = new Counter({ name: 'rso_relay_forwarded_bytes_total', help: 'Peer-plane bytes forwarded', registers: reg });
    this.frames = new Counter({ name: 'rso_relay_forwarded_frames_total', help: 'Peer-plane frames forwarded', registers: reg });
    this.latency = new Histogram({
      name: 'rso_relay_forward_latency_seconds',
      help: 'From a frame arriving to it being written towards the peer',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: reg,
    });
    this.pairings = new Counter({ name: 'rso_relay_pairings_total', help: 'Joins that paired two sides', registers: reg });
    this.pairingFailures = new Counter({ name: 'rso_relay_pairing_failures_total', help: 'Failed key confirmations (wrong session number)', registers: reg });
    this.burnt = new Counter({ name: 'rso_relay_burnt_numbers_total', help: 'Session numbers burnt by three wrong attempts', registers: reg });
    this.throttled = new Counter({ name: 'rso_relay_throttled_joins_total', help: 'Joins refused by the per-address join rate', registers: reg });
    this.errors = new Counter({ name: 'rso_relay_errors_total', help: 'Error messages sent to clients, by code', labelNames: ['code'], registers: reg });
    this.ended = new Counter({ name: 'rso_relay_sessions_ended_total', help: 'Established sessions that ended', registers: reg });
  }

  forwarded(bytes: number, seconds: number): void {
    this.bytes.inc(bytes);
    this.frames.inc();
    this.latency.observe(seconds);
  }

  /** Counts what the pairing machine logs; the event names are those of pairing.ts. */
  event(event: string, fields: LogFields): void {
    switch (event) {
      case 'paired':
        this.pairings.inc();
        return;
      case 'wrong-code':
        this.pairingFailures.inc();
        return;
      case 'burnt':
        this.burnt.inc();
        return;
      case 'ended':
        this.ended.inc();
        return;
      case 'error': {
        const code = typeof fields.code === 'string' ? fields.code : 'unknown';
        this.errors.inc({ code });
        if (code === 'RSO_ERR_THROTTLED') this.throttled.inc();
        return;
      }
    }
  }
}

/** Serves GET /metrics (and only that) for the registry. */
export async function serveMetrics(metrics: RelayMetrics, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found; metrics are at /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics collection failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new RsoError('RSO_ERR_CONFIG', `Could not listen for metrics on ${host}:${port} (${err.code ?? 'error'}); choose another --metrics.`, err.message)),
    );
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
