// `rso relay` runs a relay; `rso relay agent add|list|remove` manages its agent accounts.
// Every option can also come from the environment (RSO_RELAY_<OPTION>), since admins run the
// relay from unit files and containers.
import { Command, InvalidArgumentError, Option } from 'commander';
import { RsoError } from '../errors.js';
import { MAX_PEER_FRAME_BYTES, MAX_RELAY_MESSAGE_BYTES } from '../protocol/version.js';
import { AccountStore, accountsFile, addAgent, defaultDataDir, readAccounts, removeAgent } from '../relay/accounts.js';
import { createLogger, type LogFormat } from '../relay/log.js';
import { startRelay } from '../relay/server.js';

interface RelayCliOptions {
  listen: string;
  data?: string;
  open: boolean;
  codeTtl: number;
  joinRate: number;
  maxMessageBytes: number;
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
    .addOption(new Option('--log-format <format>', 'log lines as JSON or for people (default: json unless stdout is a terminal)').env('RSO_RELAY_LOG_FORMAT').choices(['json', 'pretty']))
    .action(async (opts: RelayCliOptions) => {
      await runRelay(opts);
    });

  const agent = relay.command('agent').description('manage the agent accounts this relay accepts');
  const dataDirOf = (local: { data?: string }): string => local.data ?? (relay.opts() as { data?: string }).data ?? defaultDataDir();

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

async function runRelay(o: RelayCliOptions): Promise<void> {
  const { host, port } = parseListen(o.listen);
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const log = createLogger(format, (line) => process.stdout.write(line));
  const dataDir = o.data ?? defaultDataDir();
  // The first stdout line must be the listening line (scripts wait for it), so reload
  // reports are held back until the relay is up.
  let started = false;
  const accounts = new AccountStore(dataDir, (info) => {
    if (!started) return;
    if ('error' in info) log('accounts-error', { file: accountsFile(dataDir), error: info.error.message });
    else log('accounts-loaded', { agents: info.agents });
  });
  const relay = await startRelay({
    host,
    port,
    accounts,
    open: o.open,
    codeTtlSeconds: o.codeTtl,
    joinRatePerMinute: o.joinRate,
    maxMessageBytes: o.maxMessageBytes,
    log,
  });
  process.stdout.write(`relay listening on ${relay.url}\n`);
  started = true;
  log('started', { open: o.open, codeTtl: o.codeTtl, joinRate: o.joinRate, maxMessageBytes: o.maxMessageBytes, agents: accounts.size, data: dataDir });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      log('stopping', { signal });
      relay.close().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  log('stopped', {});
}
