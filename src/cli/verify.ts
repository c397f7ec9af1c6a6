// `rso verify [--key PUBKEY] [--json]`: checks the running installation against the signed
// release manifest and the public key pinned in the build (or --key). See docs/releases.md.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RsoError } from '../errors.js';
import { checkRelease, describeRelease } from '../release/manifest.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description('check this installation against its signed release manifest')
    .option('--key <file>', 'minisign public key to check with (default: the key pinned in this build)')
    .option('--json', 'print JSON')
    .action((opts: { key?: string; json?: boolean }) => {
      let keyText: string | undefined;
      if (opts.key !== undefined) {
        try {
          keyText = readFileSync(opts.key, 'utf8');
        } catch (err) {
          throw new RsoError('RSO_ERR_CONFIG', `Could not read the public key ${opts.key}.`, (err as NodeJS.ErrnoException).code ?? 'read');
        }
      }
      const status = checkRelease(undefined, keyText);
      if (opts.json === true) process.stdout.write(`${JSON.stringify(status)}\n`);
      else {
        process.stdout.write(`${describeRelease(status)}\n`);
        if (status.state === 'bad') {
          for (const [label, list] of [['changed', status.changed], ['missing', status.missing], ['not in the release', status.extra]] as const) {
            for (const f of list) process.stdout.write(`  ${label}: ${f}\n`);
          }
        }
      }
      if (status.state !== 'signed') {
        // --json already said why on stdout; the exit status is what a script tests.
        process.exitCode = new RsoError('RSO_ERR_RELEASE').exitCode;
        if (opts.json !== true) process.stderr.write(`rso: ${new RsoError('RSO_ERR_RELEASE').message} (RSO_ERR_RELEASE)\n`);
      }
    });
}
