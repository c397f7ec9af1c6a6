// The terminal as the viewer uses it: raw key input (with the terminal's replies taken out by
// detect.ts's parser, so a reply never becomes a key), capability queries with a timeout, the
// size in cells and pixels, the alternate screen, and one restore() that puts everything back.
//
// restore() runs on every way out: the normal end, Ctrl-C (a key in raw mode), SIGINT/SIGTERM/
// SIGHUP from outside, an uncaught exception, and process exit. It is idempotent and written
// with writeSync, so it lands even when the process is about to die.
import { writeSync } from 'node:fs';
import { RsoError } from '../errors.js';
import { ReplyParser, capsFromReplies, queries, type GraphicsCaps, type Reply } from './graphics/detect.js';
import { InputParser, type TermInput } from './input/parse.js';

// Input modes for remote control, on only while the engineer's input goes to the customer (so
// the terminal's own selection and scrolling work the rest of the time):
// 1000 button press/release, 1002 motion while a button is held (drags), 1006 SGR reports
// (no 223-column limit), 1016 the same in pixels where the terminal has it. Kitty keyboard
// protocol flags 1|2 (disambiguate, report press/repeat/release), pushed and popped so the
// terminal's previous flags come back.
const MOUSE_ON = '\x1b[?1000h\x1b[?1002h\x1b[?1006h';
const MOUSE_OFF = '\x1b[?1016l\x1b[?1006l\x1b[?1002l\x1b[?1000l';
const PIXEL_MOUSE_ON = '\x1b[?1016h';
const KITTY_KBD_PUSH = '\x1b[>3u';
const KITTY_KBD_POP = '\x1b[<u';
/** Ask for the kitty keyboard flags (CSI ? u) and whether mode 1016 exists (DECRQM). */
export const INPUT_QUERIES = '\x1b[?u\x1b[?1016$p';

// 1049: alternate screen with the cursor saved (and restored on leave). 25: cursor visibility.
// 2004: bracketed paste, so a paste is known as one (parse.ts): in view only a pasted "quit" is
// not taken as the key q, and with control on it goes to the customer as text.
const ENTER = '\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l\x1b[?2004h';
const LEAVE = '\x1b[?2004l\x1b[0m\x1b[?25h\x1b[?1049l';
/** Synchronized output (DEC mode 2026): terminals that know it show a batch at once. */
export const BEGIN_SYNC = '\x1b[?2026h';
export const END_SYNC = '\x1b[?2026l';

/** Cell size when the terminal does not say (CSI 16 t unanswered): a common 8x16 font. */
export const FALLBACK_CELL = { width: 8, height: 16 } as const;

/** How long a lone ESC may wait for the rest of a sequence before it counts as a key. */
const ESC_FLUSH_MS = 50;

export interface TerminalIO {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

export interface TerminalSize {
  cols: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  /** True when the cell size came from the terminal, false when it is the fallback. */
  cellKnown: boolean;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

export class Terminal {
  private readonly stdin: NodeJS.ReadStream;
  private readonly stdout: NodeJS.WriteStream;
  private readonly parser = new ReplyParser();
  private readonly replies: Reply[] = [];
  private replyWaiters: Array<() => void> = [];
  private inputListener: ((t: TermInput) => void) | undefined;
  private readonly inputParser = new InputParser();
  /** Learnt from the replies to INPUT_QUERIES. */
  private kittyKeyboard = false;
  private pixelMouse = false;
  private controlModes = false;
  private resizeListener: (() => void) | undefined;
  private escTimer: NodeJS.Timeout | undefined;
  private started = false;
  private restored = false;
  private onScreen = false;
  private cell: { width: number; height: number } | undefined;
  /** Bytes that undo what the picture left on screen (kitty images live outside the text). */
  private cleanup: (() => string) | undefined;
  private readonly onData = (chunk: Buffer | string): void => this.input(chunk);
  private readonly onResize = (): void => {
    // A resize may come with a font change (zoom): ask for the cell size again; a different
    // answer arrives later as one more resize callback.
    this.write('\x1b[16t');
    this.resizeListener?.();
  };
  private readonly onSignal = (signal: (typeof SIGNALS)[number]): void => {
    this.restore();
    // The conventional status for death by signal; nothing else is left to clean up.
    process.exit(128 + SIGNAL_NUMBERS[signal]);
  };
  private readonly onExit = (): void => this.restore();
  private readonly onUncaught = (err: unknown): void => {
    this.restore();
    const e = err instanceof RsoError ? err : new RsoError('RSO_ERR_INTERNAL', undefined, err instanceof Error ? err.message : String(err));
    process.stderr.write(`rso: ${e.message} (${e.code})\n`);
    process.exit(e.exitCode);
  };
  private readonly signalHandlers = new Map<string, () => void>();

  constructor(io: TerminalIO = { stdin: process.stdin, stdout: process.stdout }) {
    this.stdin = io.stdin;
    this.stdout = io.stdout;
  }

  /** Raw mode and the restore handlers; throws (terminal untouched) when there is no terminal. */
  start(): void {
    if (this.started) return;
    if (!this.stdin.isTTY || !this.stdout.isTTY) {
      throw new RsoError('RSO_ERR_USAGE', 'rso connect needs a terminal: run it in a terminal window, not with its input or output redirected.', 'stdin or stdout is not a TTY');
    }
    this.started = true;
    for (const sig of SIGNALS) {
      const h = (): void => this.onSignal(sig);
      this.signalHandlers.set(sig, h);
      process.on(sig, h);
    }
    process.on('exit', this.onExit);
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUncaught);
    this.stdin.setRawMode(true);
    this.stdin.on('data', this.onData);
    this.stdin.resume();
    this.stdout.on('resize', this.onResize);
  }

  /**
   * Ask what the terminal can do and wait for the answers: DA1 goes last and every terminal
   * answers it, so the wait normally ends there; `timeoutMs` covers terminals that answer
   * nothing. Replies arriving later are still filtered out of the key input.
   */
  async detect(opts: { tmux: boolean; timeoutMs: number }): Promise<GraphicsCaps> {
    // The input queries go first: their answers arrive before the DA1 that ends the wait.
    this.write(INPUT_QUERIES + queries({ tmux: opts.tmux }));
    const deadline = Date.now() + opts.timeoutMs;
    while (!capsFromReplies(this.replies).complete && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.replyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const caps = capsFromReplies(this.replies);
    if (!(caps.cellWidth && caps.cellHeight)) {
      const estimate = cellFromSixelGeometry(this.replies, this.stdout.columns || 0, this.stdout.rows || 0);
      if (estimate) {
        caps.cellWidth = estimate.width;
        caps.cellHeight = estimate.height;
      }
    }
    if (caps.cellWidth && caps.cellHeight) this.cell = { width: caps.cellWidth, height: caps.cellHeight };
    return caps;
  }

  size(): TerminalSize {
    return {
      cols: this.stdout.columns || 80,
      rows: this.stdout.rows || 24,
      cellWidth: this.cell?.width ?? FALLBACK_CELL.width,
      cellHeight: this.cell?.height ?? FALLBACK_CELL.height,
      cellKnown: this.cell !== undefined,
    };
  }

  /** Keys, text and mouse reports, parsed (src/agent/input/parse.ts). */
  onInput(cb: (t: TermInput) => void): void {
    this.inputListener = cb;
  }

  /** Mouse reports are in pixels (mode 1016 on). */
  get pixelReports(): boolean {
    return this.controlModes && this.pixelMouse;
  }

  /**
   * Mouse reporting and the kitty keyboard protocol on (the engineer's input goes to the
   * customer) or off. Idempotent; restore() turns them off too.
   */
  setControlModes(on: boolean): void {
    if (on === this.controlModes || this.restored) return;
    this.controlModes = on;
    if (on) this.write(MOUSE_ON + (this.pixelMouse ? PIXEL_MOUSE_ON : '') + (this.kittyKeyboard ? KITTY_KBD_PUSH : ''));
    else this.write((this.kittyKeyboard ? KITTY_KBD_POP : '') + MOUSE_OFF);
  }

  onResizeEvent(cb: () => void): void {
    this.resizeListener = cb;
  }

  /** What restore() must write first to take the picture away (e.g. delete kitty images). */
  setCleanup(fn: () => string): void {
    this.cleanup = fn;
  }

  enterScreen(): void {
    if (this.onScreen || this.restored) return;
    this.onScreen = true;
    this.write(ENTER);
  }

  write(data: string): boolean {
    if (this.restored || data === '') return true;
    return this.stdout.write(data);
  }

  /** Resolves once the terminal stream has taken what was written (backpressure for frames). */
  drained(): Promise<void> {
    if (!this.stdout.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.stdout.once('drain', () => resolve()));
  }

  /** Put the terminal back exactly as it was. Safe to call any number of times, from anywhere. */
  restore(): void {
    if (!this.started || this.restored) return;
    this.restored = true;
    if (this.escTimer !== undefined) clearTimeout(this.escTimer);
    let bytes = END_SYNC;
    if (this.controlModes) bytes += (this.kittyKeyboard ? KITTY_KBD_POP : '') + MOUSE_OFF;
    if (this.onScreen) {
      try {
        bytes += this.cleanup?.() ?? '';
      } catch {
        // A broken renderer must not stop the restore; leaving the screen below drops sixel
        // and half-block pixels anyway.
      }
      bytes += LEAVE;
    }
    try {
      writeSync((this.stdout as unknown as { fd: number }).fd, bytes);
    } catch {
      // The terminal is gone (hangup): there is nothing left to restore.
    }
    try {
      this.stdin.setRawMode(false);
    } catch {
      // Same: a closed terminal cannot leave raw mode, and it does not need to.
    }
    this.stdin.off('data', this.onData);
    this.stdin.pause();
    this.stdout.off('resize', this.onResize);
    for (const [sig, h] of this.signalHandlers) process.off(sig, h);
    process.off('exit', this.onExit);
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUncaught);
  }

  private input(chunk: Buffer | string): void {
    if (this.escTimer !== undefined) {
      clearTimeout(this.escTimer);
      this.escTimer = undefined;
    }
    const { replies, passthrough } = this.parser.feed(chunk);
    this.take(replies, passthrough);
    if (this.parser.holding || this.inputParser.holding) {
      this.escTimer = setTimeout(() => {
        this.escTimer = undefined;
        this.take([], this.parser.flush());
        for (const t of this.inputParser.flush()) this.deliver(t);
      }, ESC_FLUSH_MS);
    }
  }

  private take(replies: Reply[], keys: string): void {
    for (const r of replies) {
      this.replies.push(r);
      if (r.type === 'cell-pixels' && r.width > 0 && r.height > 0) {
        const changed = this.cell?.width !== r.width || this.cell?.height !== r.height;
        this.cell = { width: r.width, height: r.height };
        // Only after detection: during it, detect() reads the size itself.
        if (changed && this.replyWaiters.length === 0) this.resizeListener?.();
      }
    }
    if (replies.length > 0) for (const w of this.replyWaiters.splice(0)) w();
    if (keys === '') return;
    for (const t of this.inputParser.feed(keys)) this.deliver(t);
  }

  private deliver(t: TermInput): void {
    // Replies to INPUT_QUERIES are capabilities, not input.
    if (t.kind === 'kbd-flags') this.kittyKeyboard = true;
    else if (t.kind === 'mode-report') {
      // DECRQM: 1 set, 2 reset (both mean the mode exists); 0 unknown, 4 permanently reset.
      if (t.mode === 1016) this.pixelMouse = t.value === 1 || t.value === 2;
    } else this.inputListener?.(t);
  }
}

/**
 * xterm refuses the window reports (CSI 14/16/18 t) unless allowWindowOps is set, but it answers
 * XTSMGRAPHICS item 2 (largest sixel image) with the window's size in pixels whenever that is
 * below maxGraphicSize, which is then the window divided by the cells. When the window is larger
 * than maxGraphicSize the estimate comes out too small, never too large: the picture then
 * underfills its area instead of running over the footer. Only a plausible cell
 * size is believed (4..64 x 8..128 pixels); anything else leaves the cell size unknown.
 */
export function cellFromSixelGeometry(replies: readonly Reply[], cols: number, rows: number): { width: number; height: number } | undefined {
  if (cols < 1 || rows < 1) return undefined;
  for (const r of replies) {
    if (r.type !== 'xtsmgraphics' || r.item !== 2 || r.status !== 0 || r.values.length < 2) continue;
    const width = Math.floor(r.values[0]! / cols);
    const height = Math.floor(r.values[1]! / rows);
    if (width >= 4 && width <= 64 && height >= 8 && height <= 128) return { width, height };
  }
  return undefined;
}
