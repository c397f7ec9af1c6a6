// The blessed panel: a thin shell that renders UiState (render.ts) and forwards keys. No
// decision is taken here; the session boss owns the reducer and calls show() with each state.
import { createRequire } from 'node:module';
import type { Widgets } from 'blessed';
import { render, waitKind } from './render.js';
import { SPINNER_INTERVAL_MS } from '../../cli/spinner.js';
import type { UiState } from './state.js';

const require = createRequire(import.meta.url);

export interface Panel {
  show(state: UiState): void;
  onKey(cb: (key: string) => void): void;
  /** Restores the terminal. Idempotent. */
  destroy(): void;
}

/** Keys the reducer understands, named as blessed names them (digits: the monitor choice). */
const KEYS = new Set(['enter', 'escape', 'space', 'up', 'down', 'C-c', 'q', 's', 'a', 'p', 'n', 'j', 'k', 'y', 'c', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

export interface PanelOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** NO_COLOR: the panel uses no colour tag (render.ts). */
  noColor?: boolean;
}

export function openPanel(opts: PanelOptions = {}): Panel {
  // Loaded lazily so that `rso --help` and the other commands never touch the terminal library.
  const blessed = require('blessed') as typeof import('blessed');
  const screen: Widgets.Screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    title: 'rso share',
    // blessed's own handling of Ctrl-C/escape would exit the process behind the boss's back.
    ignoreLocked: [],
    ...(opts.input ? { input: opts.input } : {}),
    ...(opts.output ? { output: opts.output } : {}),
    // Its terminfo compiler prints warnings for some entries (xterm-256color's Setulc); the
    // panel needs only basic cursor movement and colours, which its built-in xterm gives.
    terminal: 'xterm',
    warnings: false,
  } as Widgets.IScreenOptions);
  const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, padding: { left: 2, top: 1, right: 2 } });
  const listeners: Array<(key: string) => void> = [];
  let destroyed = false;
  // The spinner's clock. The session ticks its reducer only while a number counts down, so the
  // panel times the wait on screen itself: when the wait began (a new kind restarts it) and,
  // while it lasts, a repaint every SPINNER_INTERVAL_MS with the current time. The glyph itself
  // is computed by the pure render.
  let last: UiState | undefined;
  let wait: { kind: string; since: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const paint = (): void => {
    if (destroyed || last === undefined) return;
    const now = Date.now();
    box.setContent(render(last, { noColor: opts.noColor === true, ...(wait ? { wait: { since: wait.since, now } } : {}) }));
    screen.render();
  };

  screen.on('keypress', (_ch: string | undefined, key: Widgets.Events.IKeyEventArg | undefined) => {
    if (!key) return;
    // Enter arrives twice from blessed (as 'enter', then as 'return'); only 'enter' is used.
    const name = key.full ?? key.name;
    if (!KEYS.has(name)) return;
    for (const l of listeners) l(name);
  });

  return {
    show(state) {
      if (destroyed) return;
      last = state;
      const kind = waitKind(state);
      if (kind === null) {
        wait = undefined;
        if (timer !== undefined) clearInterval(timer);
        timer = undefined;
      } else {
        if (wait?.kind !== kind) wait = { kind, since: Date.now() };
        // unref: a spinner must never be what keeps the process alive.
        if (timer === undefined) timer = setInterval(paint, SPINNER_INTERVAL_MS).unref();
      }
      paint();
    },
    onKey(cb) {
      listeners.push(cb);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (timer !== undefined) clearInterval(timer);
      screen.destroy();
    },
  };
}
