// The customer's side of the demo: the real `rso share`, unchanged, in a private tmux server
// (its own socket, so it never touches the user's tmux), and an xterm on the shared display
// attached to it, so the customer's panel is a window on the customer's screen, exactly where a
// customer would see it (and so it is in the picture the engineer sees).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { RsoError } from '../errors.js';
import type { Children } from './children.js';
import { readPanel, type PanelPhase } from './panel-text.js';

const BIN = fileURLToPath(new URL('../../bin/rso.js', import.meta.url));

export interface CustomerSide {
  /** The tmux socket name (`tmux -L NAME attach` shows the panel in another terminal). */
  socket: string;
  phase(): PanelPhase;
  waitFor<P extends PanelPhase['phase']>(phase: P, timeoutMs: number): Promise<Extract<PanelPhase, { phase: P }>>;
  /** Presses keys in the panel, as the person at the keyboard would. */
  keys(...keys: string[]): void;
  /** A line under the panel (tmux status line) saying what the demo did on the customer's behalf. */
  note(text: string): void;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function startCustomer(children: Children, opts: { relay: string; display: string; env: NodeJS.ProcessEnv }): CustomerSide {
  const socket = `rso-demo-${process.pid}-${randomBytes(3).toString('hex')}`;
  // Never inherit the user's tmux: -L keeps the server apart, and without TMUX the new server
  // does not think it is nested.
  const env: NodeJS.ProcessEnv = { ...opts.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  const tmux = (args: string[]): string => {
    const r = spawnSync('tmux', ['-L', socket, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new RsoError('RSO_ERR_INTERNAL', 'The demo could not drive its private tmux.', `tmux ${args[0]}: ${(r.stderr ?? '').trim()}`);
    return r.stdout;
  };
  const cmd = `exec ${quote(process.execPath)} ${quote(BIN)} share --relay ${quote(opts.relay)} --display ${quote(opts.display)}`;
  tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'customer', '-x', '84', '-y', '24', 'sh', '-c', cmd]);
  // Registered at once: the server outlives us otherwise (tmux daemonizes).
  children.onStop(() => void spawnSync('tmux', ['-L', socket, 'kill-server'], { env, stdio: 'ignore' }));
  tmux(['set', '-g', 'status-style', 'bg=yellow,fg=black']);
  tmux(['set', '-g', 'status-left-length', '200']);
  tmux(['set', '-g', 'status-right', '']);
  tmux(['set', '-g', 'status-left', ' rso demo: the customer\'s panel (rso share) ']);
  children.add(
    spawn('xterm', ['-geometry', '84x24+40+40', '-fa', 'Monospace', '-fs', '10', '-title', "rso share: the customer's panel", '-e', 'tmux', '-L', socket, 'attach', '-t', 'customer'], {
      env,
      stdio: 'ignore',
    }),
  );

  const text = (): string => {
    try {
      return tmux(['capture-pane', '-p', '-t', 'customer']);
    } catch {
      // The session is gone: rso share ended.
      return '';
    }
  };
  const side: CustomerSide = {
    socket,
    phase: () => readPanel(text()),
    async waitFor(phase, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const now = side.phase();
        if (now.phase === phase) return now as Extract<PanelPhase, { phase: typeof phase }>;
        if (now.phase === 'ended' || (Date.now() > end)) {
          throw new RsoError('RSO_ERR_TIMEOUT', `The customer's side of the demo did not reach "${phase}".`, `panel phase ${now.phase}, wanted ${phase}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    keys: (...keys) => void tmux(['send-keys', '-t', 'customer', ...keys]),
    note: (line) => void tmux(['set', '-g', 'status-left', ` ${line} `]),
  };
  return side;
}
