// `rso login` checks an agent token with the relay before storing it, so a typo is caught now
// and not in the middle of a customer's call. `rso logout` forgets the token.
import type { Command } from 'commander';
import { RsoError } from '../errors.js';
import { TOKEN_RE } from '../protocol/relay.js';
import { connectRelay } from '../client/relay-connection.js';
import { CA_OPTION_HELP, readCa } from './ca.js';
import { forgetAgentToken, saveAgentConfig } from './config.js';


const BAD_TOKEN_TEXT = 'The relay did not accept this token: check it, or ask your relay admin for a new one.';

export interface LoginOptions {
  relay: string;
  token: string;
  insecure?: boolean;
  /** Extra trusted CA (PEM) for wss://. */
  ca?: string;
  env?: NodeJS.ProcessEnv;
}

/** Checks the token with the relay, stores the sign-in, returns the line to print. */
export async function login(opts: LoginOptions): Promise<string> {
  const relay = opts.relay.trim();
  const token = opts.token.trim();
  if (!TOKEN_RE.test(token)) {
    // Not repeated back: a mistyped token is still most of a real one.
    throw new RsoError('RSO_ERR_USAGE', 'A token is 16 to 128 letters, digits, "-" or "_": copy it exactly as your relay admin gave it.', 'malformed token');
  }
  let conn;
  try {
    conn = await connectRelay({ relay, role: 'agent', token, insecure: opts.insecure === true, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) });
  } catch (err) {
    if (err instanceof RsoError && err.code === 'RSO_ERR_UNAUTHORIZED') throw new RsoError('RSO_ERR_UNAUTHORIZED', BAD_TOKEN_TEXT, err.detail);
    throw err;
  }
  const agent = conn.welcome.agent;
  conn.send({ type: 'bye' });
  await conn.close();
  // An --open relay may welcome anyone; only a checked identity counts as signed in.
  if (agent === null) throw new RsoError('RSO_ERR_UNAUTHORIZED', BAD_TOKEN_TEXT, 'welcome without agent identity');
  saveAgentConfig({ relay, token }, opts.env);
  return `Signed in to ${relay} as ${agent.name} (${agent.org}).`;
}

export function logout(env: NodeJS.ProcessEnv = process.env): string {
  const { relay, removed } = forgetAgentToken(env);
  if (!removed) return 'You were not signed in.';
  return relay !== undefined ? `Signed out of ${relay}.` : 'Signed out.';
}

export function register(program: Command): void {
  program
    .command('login')
    .description('check an agent token with the relay and store the sign-in')
    .requiredOption('--relay <url>', 'relay URL (wss://host[:port])')
    .requiredOption('--token <token>', 'agent token from your relay admin')
    .option('--insecure', 'allow an unencrypted ws:// relay that is not on this machine')
    .option('--ca <file>', CA_OPTION_HELP)
    .action(async (opts: { relay: string; token: string; insecure?: boolean; ca?: string }) => {
      const ca = readCa(opts.ca);
      const line = await login({ relay: opts.relay, token: opts.token, insecure: opts.insecure === true, ...(ca !== undefined ? { ca } : {}) });
      process.stdout.write(`${line}\n`);
    });
  program
    .command('logout')
    .description('forget the stored sign-in')
    .action(() => {
      process.stdout.write(`${logout()}\n`);
    });
}
