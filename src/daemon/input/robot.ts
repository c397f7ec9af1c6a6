// Input injection with robotjs 0.9.1: the backend for every platform (X11 through XTEST,
// macOS through CGEvent, Windows through SendInput). Its npm package ships N-API prebuilds, so
// nothing is compiled on the customer's machine. 0.9.1 specifically: its typing looks up the
// Shift (and AltGr) level of each character in the current keyboard layout, which the forks
// lose (they type `1` for `!` on some layouts). Measured against the X server (bench/
// input-latency.ts, docs/control.md): the X11 default too.
import { createRequire } from 'node:module';
import type { InputEvent, Modifier } from '../../protocol/app.js';
import { RsoError } from '../../errors.js';
import { checkKey, sortedMods, type Injector, type InjectorOptions } from './injector.js';

const require = createRequire(import.meta.url);

interface Robot {
  setXDisplayName(name: string): void;
  setKeyboardDelay(ms: number): void;
  setMouseDelay(ms: number): void;
  keyToggle(key: string, down: 'down' | 'up', modifier?: string[]): void;
  typeString(text: string): void;
  moveMouse(x: number, y: number): void;
  mouseToggle(down: 'down' | 'up', button: string): void;
  scrollMouse(x: number, y: number): void;
}

/** The vocabulary's names as robotjs names them. Letters, digits and punctuation are their character. */
const NAMES: Record<string, string> = {
  Return: 'enter', BackSpace: 'backspace', Tab: 'tab', Escape: 'escape', Delete: 'delete', Insert: 'insert',
  Home: 'home', End: 'end', Page_Up: 'pageup', Page_Down: 'pagedown', Left: 'left', Right: 'right', Up: 'up', Down: 'down',
  space: 'space', Print: 'printscreen', Menu: 'menu',
  minus: '-', equal: '=', bracketleft: '[', bracketright: ']', backslash: '\\', semicolon: ';', apostrophe: "'",
  comma: ',', period: '.', slash: '/', grave: '`',
};

const MODS: Record<Modifier, string> = { control: 'control', alt: 'alt', shift: 'shift', meta: 'command' };

export function robotKeyName(key: string): string {
  checkKey(key);
  if (/^F([1-9]|1[01])$/.test(key)) return key.toLowerCase();
  return NAMES[key] ?? key;
}

export function openRobotInjector(opts: InjectorOptions): Injector {
  let robot: Robot;
  try {
    robot = require('robotjs') as Robot;
  } catch (err) {
    throw new RsoError('RSO_ERR_INTERNAL', 'Remote control is not available on this computer (the input library could not be loaded).', `robotjs: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (process.platform === 'linux') {
    // robotjs opens ":0.0" first and reads DISPLAY only when that fails: on a machine where
    // another session owns :0, the engineer's input would land on a display the customer is
    // not sharing. Always name the display the picture comes from.
    const display = opts.display ?? process.env.DISPLAY;
    if (!display) throw new RsoError('RSO_ERR_NO_DISPLAY', 'Remote control needs the X display being shared, and DISPLAY is not set.', 'no display for robotjs');
    robot.setXDisplayName(display);
  }
  // robotjs sleeps after every event by default (10 ms): pacing is the engineer's own typing.
  robot.setKeyboardDelay(0);
  robot.setMouseDelay(0);
  const heldKeys = new Map<string, string[]>();
  const heldButtons = new Set<string>();
  const { x: ox, y: oy } = opts.origin;
  let closed = false;

  const inject = (event: InputEvent): void => {
    if (closed) return;
    switch (event.t) {
      case 'move':
        robot.moveMouse(ox + event.x, oy + event.y);
        return;
      case 'button':
        robot.moveMouse(ox + event.x, oy + event.y);
        robot.mouseToggle(event.down ? 'down' : 'up', event.button);
        if (event.down) heldButtons.add(event.button);
        else heldButtons.delete(event.button);
        return;
      case 'wheel':
        robot.moveMouse(ox + event.x, oy + event.y);
        // robotjs counts up and left as positive (X buttons 4 and 6); the protocol counts down and right.
        robot.scrollMouse(-event.dx, -event.dy);
        return;
      case 'key': {
        const name = robotKeyName(event.key);
        const mods = sortedMods(event.mods).map((m) => MODS[m]);
        robot.keyToggle(name, event.down ? 'down' : 'up', mods);
        if (event.down) heldKeys.set(name, mods);
        else heldKeys.delete(name);
        return;
      }
      case 'text': {
        // typeString knows characters, not line ends: a newline is the Return key.
        const lines = event.text.split('\n');
        lines.forEach((line, i) => {
          if (i > 0) {
            robot.keyToggle('enter', 'down');
            robot.keyToggle('enter', 'up');
          }
          if (line !== '') robot.typeString(line);
        });
        return;
      }
    }
  };

  return {
    name: 'robotjs',
    inject,
    releaseAll() {
      for (const [name, mods] of heldKeys) robot.keyToggle(name, 'up', mods);
      heldKeys.clear();
      for (const b of heldButtons) robot.mouseToggle('up', b);
      heldButtons.clear();
    },
    close() {
      closed = true;
    },
  };
}
