// `rso demo`: a complete session on this machine (relay, customer, viewer), for a first look.
import { Option, type Command } from 'commander';
import { parseGraphicsOption } from '../agent/graphics/detect.js';

interface DemoCliOptions {
  private?: boolean;
  graphics: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('see a whole session on this machine: a local relay, a customer sharing a screen, and the viewer in this terminal')
    .option('--private', 'share a private Xvfb display even when DISPLAY is set (the default without DISPLAY)')
    .addOption(new Option('--graphics <kind>', 'picture protocol: auto, kitty, sixel or blocks').default('auto'))
    .action(async (opts: DemoCliOptions) => {
      const graphics = parseGraphicsOption(opts.graphics);
      // Loaded only now: the demo pulls in the relay, the viewer and the terminal libraries.
      const { runDemo } = await import('../demo/run.js');
      const message = await runDemo({ private: opts.private === true, graphics, log: (line) => process.stderr.write(`${line}\n`) });
      process.stdout.write(`${message}\n`);
    });
}
