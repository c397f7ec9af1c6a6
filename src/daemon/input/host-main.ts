// The input host: a child process of `rso share` that holds the two native libraries of remote
// control, the injector (robotjs) and the global F12 hook (uiohook-napi). Both keep X
// connections of their own, and Xlib's answer to a lost X server is to end the process at
// once: here that ends this child, and the daemon, which lives on, turns control off, ends the
// session with a sentence and restores the customer's terminal (host.ts). A crash inside
// either library is contained the same way.
//
// F12 is acted on here first: the host disarms itself and releases every held key and button
// before it tells the daemon, so an event the daemon sent just before it heard of F12 is
// dropped, whatever the daemon's own thread is busy with.
//
//   starting --start ok--> disarmed <--release / F12-- armed
//                              \---------arm--------->/
//   IPC channel closed (the daemon ended or died): release everything, exit.
import { armF12, type Hotkey } from '../hotkey/f12.js';
import { openRobotInjector } from './robot.js';
import type { Injector } from './injector.js';
import { parseToHost, type FromHost, type ToHost } from './host-messages.js';
import { toRsoError } from '../../errors.js';

let injector: Injector | null = null;
let hotkey: Hotkey | null = null;
let armed = false;

function tell(msg: FromHost): void {
  if (process.connected) process.send?.(msg);
}

function releaseAll(): void {
  try {
    injector?.releaseAll();
  } catch {
    // The display may be gone: nothing can stay pressed on a display that is gone.
  }
}

function quit(): void {
  armed = false;
  releaseAll();
  injector?.close();
  hotkey?.close();
  process.exit(0);
}

function start(opts: Extract<ToHost, { t: 'start' }>['opts']): void {
  try {
    // The way out first: without a hook, no injector is opened and control is not offered.
    hotkey = armF12(opts.display !== undefined ? { display: opts.display } : {}, () => {
      armed = false;
      releaseAll();
      tell({ t: 'f12' });
    });
    injector = openRobotInjector({ ...opts, origin: { x: 0, y: 0 } });
    tell({ t: 'ready', injector: injector.name, hotkey: hotkey.name });
  } catch (err) {
    const e = toRsoError(err);
    tell({ t: 'failed', code: e.code, message: e.message });
    quit();
  }
}

if (!process.send) {
  // Run by hand: there is no daemon to serve.
  process.stderr.write('rso: the input host is started by `rso share`, not by hand.\n');
  process.exit(2);
}

process.on('message', (raw) => {
  const msg = parseToHost(raw);
  if (!msg) return quit();
  switch (msg.t) {
    case 'start':
      if (!injector) start(msg.opts);
      return;
    case 'arm':
      armed = injector !== null;
      return;
    case 'release':
      armed = false;
      releaseAll();
      return;
    case 'inject':
      if (!armed || !injector) return;
      try {
        injector.inject(msg.event);
      } catch (err) {
        tell({ t: 'inject-failed', code: toRsoError(err).code });
      }
      return;
  }
});
process.on('disconnect', quit);
