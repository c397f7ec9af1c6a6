// `rso relay` runs a relay; `rso relay agent add|list|remove` manages its agent accounts.
// Every option can also come from the environment (RSO_RELAY_<OPTION>), since admins run the
// relay from unit files and containers.
import { Command, InvalidArgumentError, Option } from 'commander';
import { RsoError } from '../errors.js';
import { MAX_PEER_FRAME_BYTES, MAX_RELAY_MESSAGE_BYTES } from '../protocol/version.js';
import { accountsFile, addAgent, defaultDataDir, readAccounts, removeAgent } from '../relay/accounts.js';
import { adminRequest } from '../relay/admin.js';
import type { LogFormat } from '../relay/log.js';
import type { SessionInfo } from '../relay/server-api.js';
import { runRelay } from './relay-run.js';

export interface RelayCliOptions {
  listen: string;
  data?: string;
  open: boolean;
  codeTtl: number;
  joinRate: number;
  maxMessageBytes: number;
  maxSessions: number;
  idleTimeout: number;
  drainTimeout: number;
  tlsCert?: string;
  tlsKey?: string;
  audit?: string;
  metrics?: string;
  brandName?: string;
  brandNote?: string;
  redis?: string;
  nodeUrl?: string;
  logFormat?: LogFormat;
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** HOST:PORT, with IPv6 hosts in brackets ([::1]:8443). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RsoError('RSO_ERR_USAGE', `--listen expects HOST:PORT (e.g. 127.0.0.1:8443 or [::1]:8443), not "${value.slice(0, 80)}".`);
  return { host: (m[1] ?? m[2])!, port };
}

function dataOption(): Option {
  return new Option('--data <dir>', 'folder holding agents.json (default: $XDG_DATA_HOME/rso/relay or ~/.local/share/rso/relay)').env('RSO_RELAY_DATA');
}

export function register(program: Command): void {
  const dataDirOf = (local: { data?: string }): string => local.data ?? (relay.opts() as { data?: string }).data ?? defaultDataDir();
  const relay = program
    .command('relay')
    .description('run a relay, or manage its agent accounts (rso relay agent --help)')
    // Without this, `rso relay agent add x --data DIR` would give --data to `relay`.
    .enablePositionalOptions()
    .addOption(new Option('--listen <host:port>', 'address to listen on').env('RSO_RELAY_LISTEN').default('127.0.0.1:8443'))
    .addOption(dataOption())
    .addOption(new Option('--open', 'let agents in without a token (marked unverified to customers)').env('RSO_RELAY_OPEN').default(false))
    .addOption(new Option('--code-ttl <seconds>', 'how long an opened session number waits unpaired').env('RSO_RELAY_CODE_TTL').default(600).argParser(integer(1, 86_400)))
    .addOption(new Option('--join-rate <n>', 'joins per minute per address (also the burst)').env('RSO_RELAY_JOIN_RATE').default(30).argParser(integer(1, 100_000)))
    .addOption(
      new Option('--max-message-bytes <n>', 'largest binary frame; bigger ones close the connection')
        .env('RSO_RELAY_MAX_MESSAGE_BYTES')
        .default(MAX_PEER_FRAME_BYTES)
        .argParser(integer(MAX_RELAY_MESSAGE_BYTES, 256 * 1024 * 1024)),
    )
    .addOption(new Option('--max-sessions <n>', 'most sessions (waiting or paired) at once; 0 for no limit').env('RSO_RELAY_MAX_SESSIONS').default(10_000).argParser(integer(0, 10_000_000)))
    .addOption(new Option('--idle-timeout <seconds>', 'end a session after this long with no traffic either way; 0 for never').env('RSO_RELAY_IDLE_TIMEOUT').default(0).argParser(integer(0, 7 * 86_400)))
    .addOption(new Option('--drain-timeout <seconds>', 'on SIGTERM, how long running sessions may go on before the relay stops').env('RSO_RELAY_DRAIN_TIMEOUT').default(30).argParser(integer(0, 86_400)))
    .addOption(new Option('--tls-cert <file>', 'serve wss:// with this PEM certificate chain (reloaded on SIGHUP)').env('RSO_RELAY_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('RSO_RELAY_TLS_KEY'))
    .addOption(new Option('--audit <file>', 'append one JSON line per session opened, paired and ended (reopened on SIGHUP)').env('RSO_RELAY_AUDIT'))
    .addOption(new Option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics').env('RSO_RELAY_METRICS'))
    .addOption(new Option('--brand-name <name>', 'organisation name shown on the relay page (GET /)').env('RSO_RELAY_BRAND_NAME'))
    .addOption(new Option('--brand-note <text>', 'one line of text shown on the relay page').env('RSO_RELAY_BRAND_NOTE'))
    .addOption(new Option('--redis <url>', 'run as one node of a cluster sharing this Redis (redis://HOST:PORT)').env('RSO_RELAY_REDIS'))
    .addOption(new Option('--node-url <url>', 'how the other nodes reach this one (default: ws[s]://LISTEN-ADDRESS)').env('RSO_RELAY_NODE_URL'))
    .addOption(new Option('--log-format <format>', 'log lines as JSON or for people (default: json unless stdout is a terminal)').env('RSO_RELAY_LOG_FORMAT').choices(['json', 'pretty']))
    .action(async (opts: RelayCliOptions) => {
      await runRelay(opts);
    });

  relay
    .command('sessions')
    .description("list the running relay's sessions (through its admin socket under --data)")
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action(async (o: { json?: boolean; data?: string }) => {
      const res = await adminRequest(dataDirOf(o), { cmd: 'sessions' });
      if (!res.ok) throw new RsoError('RSO_ERR_INTERNAL', `The relay refused the request: ${res.error}.`, res.error);
      if (!('sessions' in res)) throw new RsoError('RSO_ERR_PROTOCOL', 'The relay answered something else.', 'admin: no sessions');
      process.stdout.write(o.json ? `${JSON.stringify(res.sessions, null, 2)}\n` : formatSessions(res.sessions, Date.now()));
    });

  relay
    .command('end <id>')
    .description('end a session now (both sides are told it ended); ID from rso relay sessions')
    .addOption(dataOption())
    .action(async (id: string, o: { data?: string }) => {
      const res = await adminRequest(dataDirOf(o), { cmd: 'end', id });
      if (!res.ok) throw new RsoError('RSO_ERR_USAGE', `No session ${id.slice(0, 40)} on this relay; see rso relay sessions.`, res.error);
      process.stdout.write(`Ended session ${id}.\n`);
    });


  const agent = relay.command('agent').description('manage the agent accounts this relay accepts');
  agent
    .command('add <id>')
    .description('create an agent account and print its token (shown once)')
    .requiredOption('--name <name>', "the agent's name, shown to customers")
    .requiredOption('--org <org>', "the agent's organisation, shown to customers")
    .addOption(new Option('--url <url>', "this relay's public URL, for the sign-in hint").env('RSO_RELAY_URL'))
    .addOption(dataOption())
    .action((id: string, o: { name: string; org: string; url?: string; data?: string }) => {
      const dir = dataDirOf(o);
      const token = addAgent(dir, { id, name: o.name, org: o.org });
      process.stdout.write(
        `Added agent ${id} (${o.name}${o.org ? `, ${o.org}` : ''}) to ${accountsFile(dir)}.\n` +
          'The token is shown only now; the relay keeps only its hash. On the agent\'s machine run:\n\n' +
          `  rso login --relay ${o.url ?? '<url>'} --token ${token}\n\n`,
      );
    });

  agent
    .command('list')
    .description('list agent accounts')
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action((o: { json?: boolean; data?: string }) => {
      const agents = readAccounts(dataDirOf(o)).map(({ id, name, org, created }) => ({ id, name, org, created }));
      if (o.json) {
        process.stdout.write(`${JSON.stringify(agents, null, 2)}\n`);
        return;
      }
      if (agents.length === 0) {
        process.stdout.write('No agents yet; add one with rso relay agent add ID --name NAME --org ORG.\n');
        return;
      }
      const rows = [['ID', 'NAME', 'ORG', 'CREATED'], ...agents.map((a) => [a.id, a.name, a.org, a.created])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(`${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });

  agent
    .command('remove <id>')
    .description('remove an agent account; its token stops working at once')
    .addOption(dataOption())
    .action((id: string, o: { data?: string }) => {
      removeAgent(dataDirOf(o), id);
      process.stdout.write(`Removed agent ${id}.\n`);
    });
}

/** The table of `rso relay sessions`. */
export function formatSessions(sessions: SessionInfo[], now: number): string {
  if (sessions.length === 0) return 'No sessions.\n';
  const age = (ms: number): string => {
    const s = Math.max(0, Math.round(ms / 1000));
    return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  };
  const rows = [
    ['ID', 'NUMBER', 'STATE', 'OPENED BY', 'AGENT', 'CUSTOMER ADDRESS', 'AGE', 'BYTES A>C', 'BYTES C>A'],
    ...sessions.map((x) => [
      x.id,
      `${x.nameplate}...`,
      x.phase,
      x.openedBy,
      x.agent === null ? '-' : `${x.agent}${x.verified === false ? ' (unverified)' : ''}`,
      x.customerAddress ?? '-',
      age(now - x.openedAt),
      String(x.bytesAgentToCustomer),
      String(x.bytesCustomerToAgent),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('');
}
