// The customer's way out: F12 pressed anywhere on their desktop, not only in the panel. A
// global keyboard hook (uiohook-napi: XRecord on X11, a low-level hook on Windows, an event
// tap on macOS) reports every key press; only F12 matters here. It runs in the input host
// (src/daemon/input/host-main.ts), whose callback stops injecting at once and then tells the
// daemon, which turns control off, then tells the panel and the engineer.
//
// Hook events caused by the daemon's own injections are ignored by construction: the only key
// acted on is F12, and F12 is never injected (policy.ts refuses it, and the injector refuses it
// again). Measured under Xvfb: see docs/control.md.
import { createRequire } from 'node:module';
import { RsoError } from '../../errors.js';

const require = createRequire(import.meta.url);

interface KeyEvent {
  keycode: number;
}

interface UiohookModule {
  uIOhook: {
    on(ev: 'keydown', cb: (e: KeyEvent) => void): unknown;
    off(ev: 'keydown', cb: (e: KeyEvent) => void): unknown;
    start(): void;
    stop(): void;
  };
  UiohookKey: { F12: number };
}

export interface Hotkey {
  readonly name: string;
  close(): void;
}

let active = 0;

/**
 * Starts listening; `onF12` runs synchronously for every F12 press (also repeats: revoking twice
 * is harmless). Throws RSO_ERR_INTERNAL when no global hook can be had: the daemon then refuses
 * to grant control, because control without a way out is not offered.
 */
export function armF12(opts: { display?: string }, onF12: () => void): Hotkey {
  let mod: UiohookModule;
  try {
    mod = require('uiohook-napi') as UiohookModule;
  } catch (err) {
    throw new RsoError('RSO_ERR_INTERNAL', 'Remote control is not available on this computer (the F12 hook could not be loaded).', `uiohook-napi: ${err instanceof Error ? err.message : String(err)}`);
  }
  // The hook opens its own X connection from $DISPLAY when it starts.
  if (opts.display !== undefined) process.env.DISPLAY = opts.display;
  const f12 = mod.UiohookKey.F12;
  const listener = (e: KeyEvent): void => {
    if (e.keycode === f12) onF12();
  };
  mod.uIOhook.on('keydown', listener);
  try {
    if (active === 0) mod.uIOhook.start();
  } catch (err) {
    mod.uIOhook.off('keydown', listener);
    throw new RsoError('RSO_ERR_INTERNAL', 'Remote control is not available on this computer (no global keyboard hook).', `uiohook start: ${err instanceof Error ? err.message : String(err)}`);
  }
  active++;
  let closed = false;
  return {
    name: 'uiohook-napi',
    close() {
      if (closed) return;
      closed = true;
      mod.uIOhook.off('keydown', listener);
      active--;
      if (active === 0) mod.uIOhook.stop();
    },
  };
}
