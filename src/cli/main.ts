// The commander program. Each command lives in its own file and exports register(program).
// Actions throw RsoError; this file turns every error into one line and an exit status.
import { Command, CommanderError } from 'commander';
import { RsoError } from '../errors.js';
import { reportError } from './report.js';
import { packageVersion } from './version.js';
import { register as registerRelay } from './relay.js';
import { register as registerLogin } from './login.js';
import { register as registerConnect } from './connect.js';
import { register as registerShare } from './share.js';
import { register as registerDemo } from './demo.js';
import { register as registerCompletion } from './completion.js';
import { register as registerVersion } from './version-command.js';
import { register as registerVerify } from './verify.js';

export function buildProgram(): Command {
  const program = new Command('rso')
    .description('Attended remote support from the terminal, end-to-end encrypted through a blind relay.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showSuggestionAfterError(true)
    // Usage errors are printed by reportError (one format for every error), not by commander.
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  registerRelay(program);
  registerLogin(program);
  registerConnect(program);
  registerShare(program);
  registerDemo(program);
  registerVersion(program);
  registerVerify(program);
  registerCompletion(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0; commander already printed.
      if (err.exitCode === 0) return 0;
      return reportError(new RsoError('RSO_ERR_USAGE', `${err.message.replace(/^error: /, '')} (see rso --help)`));
    }
    return reportError(err);
  }
}
