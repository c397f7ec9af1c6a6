// The agent's stored sign-in: `$XDG_CONFIG_HOME/rso/config.json` (default ~/.config), folder
// 0700, file 0600, written atomically so a crash never leaves half a token behind.
// RSO_RELAY / RSO_TOKEN override the file, so scripts and containers need no file at all.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RsoError } from '../errors.js';
import { TOKEN_RE } from '../protocol/relay.js';

export interface AgentConfig {
  relay: string;
  token: string;
}

/** What the file may hold; fields we do not know are kept when we rewrite it. */
export interface StoredConfig {
  relay?: string;
  token?: string;
  [key: string]: unknown;
}

export const NOT_LOGGED_IN_TEXT = 'You are not signed in: run `rso login --relay URL --token TOKEN` (ask your relay admin for a token).';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir(), '.config');
  return join(base, 'rso', 'config.json');
}

function configError(path: string, what: string, err?: unknown): RsoError {
  const detail = err instanceof Error ? `${what}: ${(err as NodeJS.ErrnoException).code ?? err.message}` : what;
  return new RsoError('RSO_ERR_CONFIG', `Could not ${what} ${path}.`, detail);
}

/** The file's content, or undefined when there is none. Never echoes the file's text. */
export function readStoredConfig(env: NodeJS.ProcessEnv = process.env): StoredConfig | undefined {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configError(path, 'read', err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No parser message in the error: it quotes the file, and the file holds the token.
    throw new RsoError('RSO_ERR_CONFIG', `The sign-in file ${path} is not valid JSON; run \`rso login\` again or delete it.`, 'config not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RsoError('RSO_ERR_CONFIG', `The sign-in file ${path} does not hold a JSON object; run \`rso login\` again or delete it.`, 'config not an object');
  }
  const obj = value as StoredConfig;
  for (const key of ['relay', 'token'] as const) {
    if (obj[key] !== undefined && typeof obj[key] !== 'string') {
      throw new RsoError('RSO_ERR_CONFIG', `The sign-in file ${path} has a bad "${key}"; run \`rso login\` again or delete it.`, `config ${key} not a string`);
    }
  }
  return obj;
}

/** Writes the whole file atomically (temp file in the same folder, then rename), mode 0600. */
export function writeStoredConfig(config: StoredConfig, env: NodeJS.ProcessEnv = process.env): string {
  const path = configPath(env);
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing folder alone; the token must not sit in a readable one.
    chmodSync(dir, 0o700);
  } catch (err) {
    throw configError(dir, 'create the folder', err);
  }
  const tmp = join(dir, `.config.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    // 'wx': never follow or reuse something already at the temp name.
    writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Best effort: the error below is the one that matters.
    }
    throw configError(path, 'write', err);
  }
  return path;
}

export function saveAgentConfig(config: AgentConfig, env: NodeJS.ProcessEnv = process.env): string {
  const current = readStoredConfigLenient(env);
  return writeStoredConfig({ ...current, relay: config.relay, token: config.token }, env);
}

/** Removes the stored token. Returns the relay it was for, or undefined if none was stored. */
export function forgetAgentToken(env: NodeJS.ProcessEnv = process.env): { relay?: string; removed: boolean } {
  const current = readStoredConfigLenient(env);
  if (current?.token === undefined) return current?.relay !== undefined ? { relay: current.relay, removed: false } : { removed: false };
  const { token: _dropped, ...rest } = current;
  writeStoredConfig(rest, env);
  return rest.relay !== undefined ? { relay: rest.relay, removed: true } : { removed: true };
}

/** A broken file must not stop someone from logging in again or out. */
function readStoredConfigLenient(env: NodeJS.ProcessEnv): StoredConfig | undefined {
  try {
    return readStoredConfig(env);
  } catch (err) {
    if (err instanceof RsoError && err.detail !== undefined && err.detail.startsWith('config ')) return undefined;
    throw err;
  }
}

/** The sign-in to use: RSO_RELAY / RSO_TOKEN win over the file. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const envRelay = nonEmpty(env.RSO_RELAY);
  const envToken = nonEmpty(env.RSO_TOKEN);
  // Both set: the file is not even read, so a broken file cannot break a scripted run.
  const stored = envRelay !== undefined && envToken !== undefined ? undefined : readStoredConfig(env);
  const relay = envRelay ?? nonEmpty(stored?.relay);
  const token = envToken ?? nonEmpty(stored?.token);
  if (relay === undefined || token === undefined) {
    throw new RsoError('RSO_ERR_NOT_LOGGED_IN', NOT_LOGGED_IN_TEXT, relay === undefined ? 'no relay configured' : 'no token configured');
  }
  // Caught here rather than by the relay, whose answer would only be a protocol error.
  if (!TOKEN_RE.test(token)) {
    const from = envToken !== undefined ? 'RSO_TOKEN' : 'The stored token';
    throw new RsoError('RSO_ERR_UNAUTHORIZED', `${from} is not a token a relay issues: run \`rso login --relay URL --token TOKEN\` with the token exactly as your relay admin gave it.`, 'malformed token');
  }
  return { relay, token };
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
