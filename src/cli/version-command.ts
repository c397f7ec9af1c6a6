// `rso version [--json]`: what `--version` prints, plus what a script or a bug report needs
// (protocol version, Node.js, platform), as one JSON object with --json. A separate command
// because commander's --version flag cannot take options of its own.
import type { Command } from 'commander';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { packageVersion } from './version.js';

export interface VersionInfo {
  name: 'rso';
  version: string;
  protocol: number;
  node: string;
  platform: string;
}

export function versionInfo(): VersionInfo {
  return { name: 'rso', version: packageVersion(), protocol: PROTOCOL_VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}` };
}

export function register(program: Command): void {
  program
    .command('version')
    .description('print the version (with --json: version, protocol, Node.js and platform as JSON)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const info = versionInfo();
      process.stdout.write(opts.json === true ? `${JSON.stringify(info)}\n` : `rso ${info.version} (protocol ${info.protocol}, Node.js ${info.node}, ${info.platform})\n`);
    });
}
