// `rso share [NUMBER]`: the customer's side. Everything the person can get wrong on the command
// line (the number, the relay URL, --share, --monitor) is checked here, before the panel takes
// the terminal and before any connection, so a mistake is one plain sentence on stderr.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { RsoError } from '../errors.js';
import { parseSessionNumber } from '../crypto/code.js';
import { checkRelayUrl } from '../client/relay-url.js';
import { CA_OPTION_HELP, readCa } from './ca.js';
import { noColorFromEnv } from './no-color.js';
import { parseAppSpecs } from '../daemon/windows/match.js';
import type { ShareOptions } from '../daemon/session.js';

export interface ShareCliOptions {
  relay?: string;
  share?: string;
  capture: 'auto' | 'x11' | 'screenshot-desktop';
  display?: string;
  monitor?: number;
  insecure?: boolean;
  ca?: string;
}

/** `screen`, or `app:NAME[,app:NAME...]`. */
export function parseShareSpec(text: string): ShareOptions['suggestion'] {
  const t = text.trim();
  if (t.toLowerCase() === 'screen') return { kind: 'screen' };
  return { kind: 'apps', specs: parseAppSpecs(t) };
}

function parseMonitor(value: string): number {
  if (!/^\d{1,2}$/.test(value)) throw new InvalidArgumentError('a monitor is a number: 0 for the first one.');
  return Number(value);
}

/** Checks everything and returns the daemon's options minus the panel. */
export function shareOptions(number: string | undefined, opts: ShareCliOptions, env: NodeJS.ProcessEnv = process.env): Omit<ShareOptions, 'panel'> {
  const relay = (opts.relay ?? env.RSO_RELAY ?? '').trim();
  if (relay === '') {
    throw new RsoError('RSO_ERR_USAGE', 'No relay given: pass --relay wss://HOST (your support page shows it) or set RSO_RELAY.', 'no relay');
  }
  checkRelayUrl(relay, opts.insecure === true);
  const out: Omit<ShareOptions, 'panel'> = {
    relay,
    insecure: opts.insecure === true,
    suggestion: opts.share !== undefined ? parseShareSpec(opts.share) : null,
    capture: opts.capture,
  };
  if (number !== undefined) {
    // Parsed now only to refuse a typo early; the digits themselves are never printed.
    parseSessionNumber(number);
    out.number = number;
  }
  const ca = readCa(opts.ca, env);
  if (ca !== undefined) out.ca = ca;
  if (opts.display !== undefined) out.display = opts.display;
  if (opts.monitor !== undefined) out.monitor = opts.monitor;
  if (env.RSO_DEBUG_EVENTS) out.debugFile = env.RSO_DEBUG_EVENTS;
  return out;
}

export function register(program: Command): void {
  program
    .command('share')
    .description('share your screen with a support engineer (you choose what, and can end at any time)')
    .argument('[number]', 'the session number the engineer read to you (without it, rso shows one for you to read out)')
    .option('--relay <url>', 'relay URL, wss://host[:port] (default: $RSO_RELAY)')
    .option('--share <what>', 'suggest what to share: "screen" or "app:NAME[,app:NAME...]" (you still confirm it)')
    .addOption(new Option('--capture <backend>', 'how the screen is read').choices(['auto', 'x11', 'screenshot-desktop']).default('auto'))
    .option('--display <name>', 'X display to share, e.g. :0 (default: $DISPLAY)')
    .option('--monitor <n>', 'share only monitor N (0 is the first)', parseMonitor)
    .option('--insecure', 'allow an unencrypted ws:// relay that is not on this machine')
    .option('--ca <file>', CA_OPTION_HELP)
    .action(async (number: string | undefined, opts: ShareCliOptions) => {
      const options = shareOptions(number, opts);
      // Loaded only now: the daemon pulls in the terminal and X libraries.
      const { runShare } = await import('../daemon/session.js');
      const { openPanel } = await import('../daemon/ui/panel.js');
      const { checkRelease, describeRelease } = await import('../release/manifest.js');
      // Whether this copy is the signed release, shown under the panel for the whole session
      // (docs/releases.md): "release signed by KEYID", or a warning.
      const release = describeRelease(checkRelease());
      const shown = openPanel({ noColor: noColorFromEnv(process.env) });
      const panel = { ...shown, show: (state: Parameters<typeof shown.show>[0]) => shown.show({ ...state, notices: [...state.notices, release] }) };
      const outcome = await runShare({ ...options, panel });
      // The panel is gone: this line stays in the terminal as the record of how it ended.
      (outcome.exitCode === 0 ? process.stdout : process.stderr).write(`${outcome.message}\n`);
      process.exitCode = outcome.exitCode;
    });
}
