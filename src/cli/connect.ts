// `rso connect [NUMBER]`: the support engineer's viewer. Without a number it opens a session and
// shows the number to read to the customer; with one it joins the session the customer opened.
import { Command, Option } from 'commander';
import { CA_OPTION_HELP, readCa } from './ca.js';
import { loadAgentConfig } from './config.js';
import { noColorFromEnv } from './no-color.js';
import { parseGraphicsOption, type GraphicsOption } from '../agent/graphics/detect.js';

interface ConnectCliOptions {
  graphics: string;
  relay?: string;
  insecure?: boolean;
  ca?: string;
}

export function register(program: Command): void {
  program
    .command('connect')
    .description("show a customer's screen: open a session (its number is shown) or join one with NUMBER")
    .argument('[number...]', 'the 9-digit session number the customer read to you (spaces and dashes allowed)')
    .addOption(new Option('--graphics <kind>', 'picture protocol: auto, kitty, sixel or blocks').default('auto'))
    .addOption(new Option('--relay <url>', 'relay URL (default: the one from rso login, or RSO_RELAY)'))
    .option('--insecure', 'allow an unencrypted ws:// relay that is not on this machine')
    .option('--ca <file>', CA_OPTION_HELP)
    .action(async (parts: string[], opts: ConnectCliOptions) => {
      // `rso connect 482 913 705` as read over the phone arrives as three arguments: one number.
      const number = parts.length > 0 ? parts.join(' ') : undefined;
      // Usage first, then the sign-in: neither needs the network or the terminal.
      const graphics: GraphicsOption = parseGraphicsOption(opts.graphics);
      const signIn = loadAgentConfig();
      const ca = readCa(opts.ca);
      // Loaded only now: the viewer pulls in Ink and React, which every other command (and
      // `rso share`'s first screen) would otherwise wait for.
      const { runViewer } = await import('../agent/viewer.js');
      const message = await runViewer({
        relay: opts.relay ?? signIn.relay,
        token: signIn.token,
        insecure: opts.insecure === true,
        ...(ca !== undefined ? { ca } : {}),
        graphics,
        noColor: noColorFromEnv(process.env),
        ...(number !== undefined ? { number } : {}),
      });
      process.stdout.write(`${message}\n`);
    });
}
