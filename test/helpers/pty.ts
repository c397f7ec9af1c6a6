// A real pty for the viewer's tests: a tmux server on its own socket (-L), one pane of a fixed
// size running a plain shell. The tests type into it, read it back with capture-pane (with
// colours), and ask tmux for the pane's modes (alternate screen, cursor visibility).
// pipe-pane records every byte the pane's programs wrote, to prove a terminal was not touched.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

export function hasTmux(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

export class TmuxPane {
  readonly socket: string;
  readonly dir: string;
  readonly recording: string;

  private constructor(socket: string, dir: string) {
    this.socket = socket;
    this.dir = dir;
    this.recording = join(dir, 'pane.bytes');
  }

  /** A pane of cols x rows running `sh` with a plain prompt and the given environment. */
  static start(opts: { cols?: number; rows?: number; env?: Record<string, string>; cwd?: string } = {}): TmuxPane {
    const socket = `rso-test-${process.pid}-${++counter}`;
    const dir = mkdtempSync(join(tmpdir(), 'rso-tmux-'));
    const pane = new TmuxPane(socket, dir);
    const envArgs = Object.entries({ PS1: '$ ', ...opts.env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    pane.tmux([
      '-f', '/dev/null', 'new-session', '-d', '-x', String(opts.cols ?? 120), '-y', String(opts.rows ?? 40),
      ...(opts.cwd ? ['-c', opts.cwd] : []), ...envArgs, 'sh',
    ]);
    // Keep the pane (and its content) after the shell exits, and give truecolor through.
    pane.tmux(['set', '-g', 'remain-on-exit', 'on']);
    return pane;
  }

  tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Type a line into the pane. */
  run(line: string): void {
    this.tmux(['send-keys', '-l', line]);
    this.tmux(['send-keys', 'Enter']);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', ...keys]);
  }

  /** Start recording every byte written to the pane from now on. */
  record(): void {
    this.tmux(['pipe-pane', '-o', `cat >> ${this.recording}`]);
  }

  recorded(): string {
    try {
      return readFileSync(this.recording, 'latin1');
    } catch {
      return '';
    }
  }

  /** The visible screen as text, one string per row. */
  text(): string[] {
    return this.tmux(['capture-pane', '-p']).split('\n');
  }

  /** The visible screen with SGR colours (capture-pane -e). */
  styled(): string[] {
    return this.tmux(['capture-pane', '-p', '-e', '-N']).split('\n');
  }

  /** What tmux says about the pane: alternate screen on, cursor visible. */
  modes(): { alternate: boolean; cursorVisible: boolean } {
    const [alt, cursor] = this.tmux(['display', '-p', '#{alternate_on} #{cursor_flag}']).trim().split(' ');
    return { alternate: alt === '1', cursorVisible: cursor === '1' };
  }

  async waitFor(pred: (lines: string[]) => boolean, what: string, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.text();
      if (pred(lines)) return lines;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async waitForText(re: RegExp, timeoutMs = 15_000): Promise<string[]> {
    return this.waitFor((lines) => re.test(lines.join('\n')), String(re), timeoutMs);
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // Already gone: the test is cleaning up either way.
    }
  }
}

export interface Cell {
  ch: string;
  fg: number | null;
  bg: number | null;
}

/**
 * Cells of one captured row: SGR truecolour foreground/background (`38;2;r;g;b`, `48;2;...`)
 * applied to each following character; null is the default colour.
 */
export function parseCells(line: string): Cell[] {
  const cells: Cell[] = [];
  let fg: number | null = null;
  let bg: number | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\x1b' && line[i + 1] === '[') {
      const end = line.slice(i + 2).search(/[@-~]/);
      if (end < 0) break;
      const final = line[i + 2 + end];
      const params = line.slice(i + 2, i + 2 + end).split(';').map((p) => (p === '' ? 0 : Number(p)));
      i += 2 + end;
      if (final !== 'm') continue;
      for (let k = 0; k < params.length; k++) {
        const p = params[k]!;
        if (p === 0) fg = bg = null;
        else if (p === 39) fg = null;
        else if (p === 49) bg = null;
        else if ((p === 38 || p === 48) && params[k + 1] === 2) {
          const c = (params[k + 2]! << 16) | (params[k + 3]! << 8) | params[k + 4]!;
          if (p === 38) fg = c;
          else bg = c;
          k += 4;
        }
      }
      continue;
    }
    cells.push({ ch, fg, bg });
  }
  return cells;
}

/** The two pixels a half-block cell shows: [top, bottom] (a space shows its background twice). */
export function cellPixels(c: Cell): [number | null, number | null] {
  if (c.ch === '\u2580') return [c.fg, c.bg];
  return [c.bg, c.bg];
}
