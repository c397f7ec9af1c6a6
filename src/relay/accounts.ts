// Agent accounts of an embedded relay: DIR/agents.json holds, per agent, its identity and the
// SHA-256 of its token, never the token itself (a leaked file does not let anyone sign in).
// The CLI edits the file (atomic temp+rename, 0600 in a 0700 folder); the running relay
// re-reads it when it changes, so adding or removing an agent needs no restart.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RsoError } from '../errors.js';
import type { AgentIdentity } from '../protocol/relay.js';

export const AGENT_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_NAME = 128;
const FILE_NAME = 'agents.json';
const FILE_VERSION = 1;
const HASH_RE = /^[0-9a-f]{64}$/;

export interface AgentRecord extends AgentIdentity {
  /** SHA-256 of the token, hex. */
  tokenSha256: string;
  /** ISO date of creation. */
  created: string;
}

/** `$XDG_DATA_HOME/rso/relay`, else `~/.local/share/rso/relay`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'rso', 'relay');
}

export function accountsFile(dataDir: string): string {
  return join(dataDir, FILE_NAME);
}

function configError(file: string, what: string, todo: string, detail?: string): RsoError {
  return new RsoError('RSO_ERR_CONFIG', `${file}: ${what}; ${todo}.`, detail);
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function validateIdentity(id: string, name: string, org: string): void {
  if (!AGENT_ID_RE.test(id)) {
    throw new RsoError('RSO_ERR_USAGE', `Agent id "${id.slice(0, 80).replace(/[^\x20-\x7e]/g, '?')}" is not valid: use 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit.`);
  }
  for (const [label, value, min] of [['name', name, 1], ['organisation', org, 0]] as const) {
    if (value.length < min || value.length > MAX_NAME) throw new RsoError('RSO_ERR_USAGE', `The ${label} must be ${min} to ${MAX_NAME} characters long.`);
    // A control character in a name could repaint the customer's consent panel.
    if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) throw new RsoError('RSO_ERR_USAGE', `The ${label} must not contain control characters.`);
  }
}

/** Read and check DIR/agents.json. A missing file is an empty list. */
export function readAccounts(dataDir: string): AgentRecord[] {
  const file = accountsFile(dataDir);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw configError(file, 'cannot be read', 'check that it belongs to the user running the relay', (err as Error).message);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw configError(file, 'is not valid JSON', 'restore it from a backup or remove it and add the agents again');
  }
  const agents = (doc as { agents?: unknown } | null)?.agents;
  if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== FILE_VERSION || !Array.isArray(agents)) {
    throw configError(file, `is not an rso agents file (version ${FILE_VERSION})`, 'restore it from a backup or remove it and add the agents again');
  }
  const seen = new Set<string>();
  return agents.map((a: unknown, i: number) => {
    const r = a as Partial<AgentRecord> | null;
    const ok =
      r !== null &&
      typeof r === 'object' &&
      typeof r.id === 'string' &&
      typeof r.name === 'string' &&
      typeof r.org === 'string' &&
      typeof r.tokenSha256 === 'string' &&
      HASH_RE.test(r.tokenSha256) &&
      !seen.has(r.id);
    if (ok) {
      try {
        validateIdentity(r.id!, r.name!, r.org!);
      } catch {
        throw configError(file, `entry ${i + 1} has an invalid id, name or organisation`, 'fix or remove that entry');
      }
    }
    if (!ok) throw configError(file, `entry ${i + 1} is malformed or a duplicate`, 'fix or remove that entry');
    seen.add(r.id!);
    return { id: r.id!, name: r.name!, org: r.org!, tokenSha256: r.tokenSha256!, created: typeof r.created === 'string' ? r.created : '' };
  });
}

function ensureDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask and leaves an existing folder as it was.
    chmodSync(dataDir, 0o700);
  } catch (err) {
    throw configError(dataDir, 'cannot be created', 'choose another --data folder or fix its permissions', (err as Error).message);
  }
}

/** Replace agents.json atomically: a crash leaves either the old or the new file, never half. */
function writeAccounts(dataDir: string, agents: AgentRecord[]): void {
  ensureDir(dataDir);
  const file = accountsFile(dataDir);
  const tmp = join(dataDir, `.${FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ version: FILE_VERSION, agents }, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // The temp file may never have been created; the original error is the one to report.
    }
    throw configError(file, 'cannot be written', 'check the permissions of the --data folder', (err as Error).message);
  }
}

/** Create an agent; returns its token, which is shown once and stored only as a hash. */
export function addAgent(dataDir: string, identity: AgentIdentity, now = new Date()): string {
  validateIdentity(identity.id, identity.name, identity.org);
  const agents = readAccounts(dataDir);
  if (agents.some((a) => a.id === identity.id)) {
    throw new RsoError('RSO_ERR_USAGE', `An agent "${identity.id}" already exists; remove it first to issue a new token.`);
  }
  const token = randomBytes(32).toString('base64url');
  agents.push({ id: identity.id, name: identity.name, org: identity.org, tokenSha256: hashToken(token).toString('hex'), created: now.toISOString() });
  writeAccounts(dataDir, agents);
  return token;
}

export function removeAgent(dataDir: string, id: string): void {
  const agents = readAccounts(dataDir);
  const rest = agents.filter((a) => a.id !== id);
  if (rest.length === agents.length) {
    throw new RsoError('RSO_ERR_USAGE', `No agent "${id.slice(0, 80).replace(/[^\x20-\x7e]/g, '?')}" in ${accountsFile(dataDir)}; see rso relay agent list.`);
  }
  writeAccounts(dataDir, rest);
}

/**
 * What the running relay consults on each agent hello. It re-reads the file whenever its
 * identity (inode, size, mtime) changed, and keeps the last good list if a new version is
 * broken, so an admin's typo does not lock every agent out or stop the relay.
 */
export class AccountStore {
  private agents: { identity: AgentIdentity; hash: Buffer }[] = [];
  private stamp = '';

  constructor(
    private readonly dataDir: string,
    private readonly onReload: (info: { agents: number } | { error: RsoError }) => void = () => {},
  ) {
    // At start a broken file is fatal: better to refuse to start than to run without accounts.
    this.load(true);
  }

  /** The identity whose token this is, or null. Compares against every hash in constant time. */
  verify(token: string): AgentIdentity | null {
    this.load(false);
    const hash = hashToken(token);
    let found: AgentIdentity | null = null;
    for (const a of this.agents) {
      // No early exit: the time taken does not say which entry (if any) matched.
      if (timingSafeEqual(hash, a.hash) && found === null) found = a.identity;
    }
    return found;
  }

  get size(): number {
    return this.agents.length;
  }

  private load(strict: boolean): void {
    const file = accountsFile(this.dataDir);
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      stamp = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
    }
    if (stamp === this.stamp) return;
    try {
      const records = readAccounts(this.dataDir);
      this.agents = records.map((r) => ({ identity: { id: r.id, name: r.name, org: r.org }, hash: Buffer.from(r.tokenSha256, 'hex') }));
      this.stamp = stamp;
      this.onReload({ agents: this.agents.length });
    } catch (err) {
      if (strict || !(err instanceof RsoError)) throw err;
      // Remember the broken version so it is reported once, not on every hello.
      this.stamp = stamp;
      this.onReload({ error: err });
    }
  }
}
