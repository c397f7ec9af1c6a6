// `rso relay` itself: builds the relay from its options (TLS, audit, metrics, admin socket,
// cluster) and wires the signals: SIGHUP reloads certificate and audit file, SIGTERM drains,
// SIGINT (or a second SIGTERM) stops at once.
import { mkdirSync } from 'node:fs';
import { RsoError } from '../errors.js';
import { AccountStore, accountsFile, defaultDataDir } from '../relay/accounts.js';
import { serveAdmin } from '../relay/admin.js';
import { AuditLog, type AuditProblem } from '../relay/audit.js';
import { createLogger, type LogFormat, type Logger } from '../relay/log.js';
import { RelayMetrics, serveMetrics } from '../relay/metrics.js';
import type { Cluster } from '../relay/cluster.js';
import { startRelay } from '../relay/server.js';
import type { RunningRelay } from '../relay/server-api.js';
import { loadTls, type TlsFiles } from '../relay/tls.js';
import { parseListen, type RelayCliOptions } from './relay.js';

export async function runRelay(o: RelayCliOptions): Promise<void> {
  const { host, port } = parseListen(o.listen);
  const metricsAt = o.metrics !== undefined ? parseListen(o.metrics) : undefined;
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new RsoError('RSO_ERR_USAGE', '--tls-cert and --tls-key go together: give both or neither.', 'tls half given');
  }
  const tlsFiles: TlsFiles | undefined = o.tlsCert !== undefined && o.tlsKey !== undefined ? { certFile: o.tlsCert, keyFile: o.tlsKey } : undefined;
  const tls = tlsFiles ? loadTls(tlsFiles) : undefined;
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const log = createLogger(format, (line) => process.stdout.write(line));
  const dataDir = o.data ?? defaultDataDir();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // A failing audit file (disk full, I/O error) is logged at most once a minute, with the
  // number of lines lost; the relay keeps forwarding (docs/resume.md, RELIABILITY.md).
  let logAuditProblem: (p: AuditProblem) => void = () => {};
  const audit = o.audit !== undefined ? new AuditLog(o.audit, undefined, (p) => logAuditProblem(p)) : undefined;
  // The first stdout line must be the listening line (scripts wait for it), so reload
  // reports are held back until the relay is up.
  let started = false;
  const accounts = new AccountStore(dataDir, (info) => {
    if (!started) return;
    if ('error' in info) log('accounts-error', { file: accountsFile(dataDir), error: info.error.message });
    else log('accounts-loaded', { agents: info.agents });
  });
  let relay: RunningRelay | undefined;
  const metrics = metricsAt ? new RelayMetrics(() => relay?.counts() ?? { pending: 0, paired: 0, connections: 0 }) : undefined;
  let cluster: Cluster | undefined;
  let metricsUrl: string | null = null;
  let adminNote: string | null = null;
  // Nothing may precede the listening line on stdout.
  const gated: Logger = (event, fields) => {
    if (started) log(event, fields);
  };
  const cleanup: Array<() => Promise<void> | void> = [];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanup.splice(0).reverse()) await c();
  };
  try {
    // Everything that can fail on a bad flag or a busy address is set up before the relay
    // listens, so a failed start leaves nothing behind and prints no log line.
    if (metrics && metricsAt) {
      const served = await serveMetrics(metrics, metricsAt.host, metricsAt.port);
      cleanup.push(() => new Promise<void>((r) => served.server.close(() => r())));
      metricsUrl = `http://${metricsAt.host.includes(':') ? `[${metricsAt.host}]` : metricsAt.host}:${served.port}/metrics`;
    }
    const admin = await serveAdmin(dataDir, {
      sessions: () => relay?.sessions() ?? [],
      end: (id) => relay?.end(id) ?? false,
    });
    if (admin) cleanup.push(() => new Promise<void>((r) => admin.close(() => r())));
    else adminNote = 'another relay holds the admin socket of this --data';
    if (o.redis !== undefined) {
      const { connectCluster } = await import('../relay/cluster.js');
      const c = await connectCluster({ redisUrl: o.redis, log: gated });
      cluster = c;
      cleanup.push(() => c.close());
    }
    relay = await startRelay({
      host,
      port,
      ...(tls ? { tls } : {}),
      accounts,
      open: o.open,
      codeTtlSeconds: o.codeTtl,
      joinRatePerMinute: o.joinRate,
      maxMessageBytes: o.maxMessageBytes,
      maxSessions: o.maxSessions,
      idleTimeoutSeconds: o.idleTimeout,
      log: gated,
      ...(audit ? { audit: (line) => audit.write(line) } : {}),
      ...(metrics ? { metrics } : {}),
      ...(o.brandName ? { brandName: o.brandName } : {}),
      ...(o.brandNote ? { brandNote: o.brandNote } : {}),
      ...(cluster ? { cluster } : {}),
    });
    if (cluster) await cluster.register(o.nodeUrl ?? defaultNodeUrl(host, relay.port, tls !== undefined));
  } catch (err) {
    await relay?.close();
    await stopAll();
    throw err;
  }
  const running = relay;
  logAuditProblem = (p) =>
    log('audit-write-failed', { file: p.file, error: p.code, lostLines: p.lost, note: 'sessions go on; audit lines are lost until the file is writable again' });
  process.stdout.write(`relay listening on ${running.url}\n`);
  started = true;
  log('started', {
    open: o.open,
    codeTtl: o.codeTtl,
    joinRate: o.joinRate,
    maxMessageBytes: o.maxMessageBytes,
    maxSessions: o.maxSessions,
    idleTimeout: o.idleTimeout,
    drainTimeout: o.drainTimeout,
    tls: tls !== undefined,
    audit: o.audit ?? null,
    node: cluster ? cluster.nodeId : null,
    metrics: metricsUrl,
    agents: accounts.size,
    data: dataDir,
    ...(adminNote ? { admin: adminNote } : {}),
  });

  const onHup = (): void => {
    if (tlsFiles) {
      try {
        running.reloadTls(loadTls(tlsFiles));
        log('tls-reloaded', { cert: tlsFiles.certFile });
      } catch (err) {
        // The old certificate stays in use; the admin fixes the files and sends SIGHUP again.
        log('tls-reload-failed', { error: err instanceof RsoError ? err.message : String(err) });
      }
    }
    if (audit) {
      try {
        audit.reopen();
      } catch (err) {
        log('audit-reopen-failed', { error: err instanceof RsoError ? err.message : String(err) });
      }
    }
  };
  process.on('SIGHUP', onHup);

  await new Promise<void>((resolve) => {
    let draining = false;
    const finish = (): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
      resolve();
    };
    const onInt = (signal: NodeJS.Signals): void => {
      log('stopping', { signal });
      running.close().then(finish, finish);
    };
    const onTerm = (signal: NodeJS.Signals): void => {
      if (draining) return onInt(signal);
      draining = true;
      log('stopping', { signal, drainTimeout: o.drainTimeout, paired: running.counts().paired });
      running.drain(o.drainTimeout * 1000).then((left) => {
        log('drained', { cut: left });
        finish();
      }, finish);
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await stopAll();
  audit?.close();
  log('stopped', {});
}

function defaultNodeUrl(host: string, port: number, tls: boolean): string {
  if (host === '0.0.0.0' || host === '::') {
    throw new RsoError('RSO_ERR_USAGE', 'With --redis and a wildcard --listen, give --node-url (the address the other relays reach this one on).', 'no node url');
  }
  return `${tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
