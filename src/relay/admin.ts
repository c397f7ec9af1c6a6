// The admin endpoint: a unix socket DIR/admin.sock of mode 0600 in the relay's data folder
// (0700), so only the user the relay runs as (and root) can reach it. One JSON request line,
// one JSON answer line, then the connection closes. `rso relay sessions` and `rso relay end`
// are its clients.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { RsoError } from '../errors.js';
import type { SessionInfo } from './server-api.js';

export type AdminRequest = { cmd: 'sessions' } | { cmd: 'end'; id: string };
export type AdminResponse = { ok: true; sessions: SessionInfo[] } | { ok: true; ended: string } | { ok: false; error: string };

export interface AdminTarget {
  sessions(): SessionInfo[];
  end(id: string): boolean;
}

const MAX_REQUEST = 1024;
const ID_RE = /^[0-9a-f]{1,32}$/;

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'admin.sock');
}

function parseRequest(line: string): AdminRequest | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.cmd === 'sessions') return { cmd: 'sessions' };
  if (o.cmd === 'end' && typeof o.id === 'string' && ID_RE.test(o.id)) return { cmd: 'end', id: o.id };
  return null;
}

export function answer(target: AdminTarget, line: string): AdminResponse {
  const req = parseRequest(line);
  if (!req) return { ok: false, error: 'bad request' };
  if (req.cmd === 'sessions') return { ok: true, sessions: target.sessions() };
  return target.end(req.id) ? { ok: true, ended: req.id } : { ok: false, error: `no session ${req.id}` };
}

/** Null when another running relay already answers on this data folder's socket. */
export async function serveAdmin(dataDir: string, target: AdminTarget): Promise<Server | null> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = adminSocketPath(dataDir);
  if (existsSync(path)) {
    // A socket someone still answers on belongs to a running relay; a dead one is left over.
    const alive = await new Promise<boolean>((resolve) => {
      const s = createConnection(path);
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    // Relays on one machine may share agents.json; the first one keeps the admin socket.
    if (alive) return null;
    unlinkSync(path);
  }
  const server = createServer((sock: Socket) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length <= MAX_REQUEST) return;
      const res = nl < 0 ? { ok: false, error: 'request too long' } : answer(target, buf.slice(0, nl));
      sock.end(`${JSON.stringify(res)}\n`);
      sock.removeAllListeners('data');
    });
    sock.on('error', () => {
      // An admin client that hangs up early concerns only itself.
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new RsoError('RSO_ERR_CONFIG', `Could not create the admin socket ${path} (${err.code ?? 'error'}).`, err.message)));
    // Created 0600 from the start: no window in which another user could connect.
    const old = process.umask(0o177);
    server.listen(path, () => {
      process.umask(old);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}

export async function adminRequest(dataDir: string, req: AdminRequest, timeoutMs = 5000): Promise<AdminResponse> {
  const path = adminSocketPath(dataDir);
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new RsoError('RSO_ERR_UNREACHABLE', `The relay did not answer on ${path}.`, 'admin timeout'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: string) => (buf += d));
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as AdminResponse);
      } catch {
        reject(new RsoError('RSO_ERR_PROTOCOL', 'The relay answered the admin request with something unreadable.', 'admin answer not JSON'));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'no relay is running with this --data' : err.code === 'EACCES' ? 'permission denied: run it as the user the relay runs as' : (err.code ?? 'error');
      reject(new RsoError('RSO_ERR_UNREACHABLE', `Could not reach the relay's admin socket ${path}: ${why}.`, `admin connect: ${err.code ?? 'error'}`));
    });
  });
}
