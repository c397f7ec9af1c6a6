// A real pty for the customer's panel: `rso share` runs inside a private tmux server (its own
// socket, so tests run in parallel and never touch a developer's tmux), keys go in with
// send-keys and the screen comes out with capture-pane.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/rso.js', import.meta.url));

export interface Pane {
  socket: string;
  /** File the command's exit status is written to when it ends. */
  statusFile: string;
  /** The daemon's diagnostics channel (RSO_DEBUG_EVENTS). */
  eventsFile: string;
  /** PID of the shell tmux runs the command in (its child is the daemon). */
  panePid: number;
  keys(...keys: string[]): void;
  text(): string;
  waitText(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Exit status of `rso share`, once it ended. */
  exitStatus(): number | null;
  waitExit(timeoutMs?: number): Promise<number>;
  events(): Array<Record<string, unknown> & { event: string }>;
  kill(): void;
}

function tmux(socket: string, args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Starts `node bin/rso.js share ...args` in a 120x40 tmux pane with `env` (DISPLAY etc.). */
export function startShare(args: string[], env: Record<string, string>): Pane {
  const dir = mkdtempSync(join(tmpdir(), 'rso-share-test-'));
  const socket = `rso-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const statusFile = join(dir, 'status');
  const eventsFile = join(dir, 'events.jsonl');
  const envArgs = Object.entries({ ...env, RSO_DEBUG_EVENTS: eventsFile, TERM: 'xterm-256color' }).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const cmd = `env ${envArgs.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(bin)} share ${args.map(shellQuote).join(' ')}; echo $? > ${shellQuote(statusFile)}; sleep 600`;
  tmux(socket, ['-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', 'sh', '-c', cmd]);
  const panePid = Number(tmux(socket, ['display-message', '-p', '#{pane_pid}']).trim());
  const pane: Pane = {
    socket,
    statusFile,
    eventsFile,
    panePid,
    keys: (...keys) => void tmux(socket, ['send-keys', ...keys]),
    text: () => tmux(socket, ['capture-pane', '-p']),
    async waitText(re, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = pane.text();
        if (re.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`pane never showed ${re}; it shows:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    exitStatus: () => (existsSync(statusFile) ? Number(readFileSync(statusFile, 'utf8').trim()) : null),
    async waitExit(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = pane.exitStatus();
        if (s !== null) return s;
        if (Date.now() > deadline) throw new Error(`rso share did not exit; pane:\n${pane.text()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    events: () =>
      existsSync(eventsFile)
        ? readFileSync(eventsFile, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string })
        : [],
    kill: () => {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
    },
  };
  return pane;
}

/** PIDs of the live children of `pid` (Linux /proc). */
export function childrenOf(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

/** The daemon's PID: the node child of the pane's shell. */
export function daemonPid(pane: Pane): number | null {
  for (const pid of childrenOf(pane.panePid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('rso.js')) return pid;
    } catch {
      // exited meanwhile
    }
  }
  return null;
}
