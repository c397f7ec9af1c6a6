// The blessed panel: a thin shell that renders UiState (render.ts) and forwards keys. No
// decision is taken here; the session boss owns the reducer and calls show() with each state.
import { createRequire } from 'node:module';
import type { Widgets } from 'blessed';
import { render } from './render.js';
import type { UiState } from './state.js';

const require = createRequire(import.meta.url);

export interface Panel {
  show(state: UiState): void;
  onKey(cb: (key: string) => void): void;
  /** Restores the terminal. Idempotent. */
  destroy(): void;
}

/** Keys the reducer understands, named as blessed names them. */
const KEYS = new Set(['enter', 'escape', 'space', 'up', 'down', 'C-c', 'q', 's', 'a', 'p', 'n', 'j', 'k', 'y', 'c']);

export function openPanel(opts: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {}): Panel {
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
      box.setContent(render(state));
      screen.render();
    },
    onKey(cb) {
      listeners.push(cb);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      screen.destroy();
    },
  };
}
