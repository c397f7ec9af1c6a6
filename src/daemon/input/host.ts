// The daemon's side of the input host (host-main.ts): starts the child when the customer first
// grants control, and is the session's Injector. Events go down the IPC channel in order, so a
// release sent after them is performed after them, as when the injector ran in this process;
// the checks that can be made here (the key vocabulary, F12 never) are made before sending,
// so a refused event is still known at once.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InputEvent } from '../../protocol/app.js';
import { RsoError, type ErrorCode } from '../../errors.js';
import { checkKey, type Injector } from './injector.js';
import { parseFromHost, type HostStart, type ToHost } from './host-messages.js';

/** Loading two native libraries and starting the hook takes well under a second. */
const START_TIMEOUT_MS = 15_000;

export interface InputHostEvents {
  /** F12 on the customer's desktop (the host has already stopped injecting). */
  onF12(): void;
  /** An event the host could not perform. */
  onInjectFailed(code: ErrorCode): void;
  /** The host ended on its own (X server gone, a crash): nothing is injected any more. */
  onExit(): void;
}

export interface InputHost extends Injector {
  /** Names of the injector and the hook the host runs (for the diagnostics channel). */
  readonly hotkeyName: string;
  /** Control was granted: events are performed from now on, until releaseAll(). */
  arm(): void;
  /** Where the shared area now sits on the desktop (another monitor was chosen). */
  setOrigin(origin: { x: number; y: number }): void;
}

/** The event in desktop coordinates: the area's origin added to pointer positions. */
function onDesktop(event: InputEvent, o: { x: number; y: number }): InputEvent {
  switch (event.t) {
    case 'move':
    case 'button':
    case 'wheel':
      return { ...event, x: o.x + event.x, y: o.y + event.y };
    default:
      return event;
  }
}

/**
 * In the built package the host is a .js file next to this one; run from source (tests under
 * tsx), the child needs tsx's loader to read the .ts file.
 */
function spawnHost(display: string | undefined): ChildProcess {
  const env = { ...process.env, ...(display !== undefined ? { DISPLAY: display } : {}) };
  // The terminal is the panel's alone: the host gets none of it. Its stderr is dropped too, as
  // Xlib writes there when the server goes away, which would land in the middle of the panel.
  const stdio: ['ignore', 'ignore', 'ignore', 'ipc'] = ['ignore', 'ignore', 'ignore', 'ipc'];
  if (!import.meta.url.endsWith('.ts')) return fork(fileURLToPath(new URL('./host-main.js', import.meta.url)), [], { env, stdio, execArgv: [] });
  return fork(fileURLToPath(new URL('./host-main.ts', import.meta.url)), [], { env, stdio, execArgv: ['--import', import.meta.resolve('tsx')] });
}

/**
 * Starts the host; rejects with the host's own error when it cannot offer control. `origin`:
 * where the shared area sits on the desktop.
 */
export function startInputHost(opts: HostStart & { origin: { x: number; y: number } }, events: InputHostEvents): Promise<InputHost> {
  const child = spawnHost(opts.display);
  let ended = false;
  let ready = false;
  let origin = { x: opts.origin.x, y: opts.origin.y };
  const send = (msg: ToHost): void => {
    if (!ended && child.connected) child.send(msg);
  };
  return new Promise<InputHost>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new RsoError('RSO_ERR_INTERNAL', 'Remote control is not available on this computer (its input helper did not start).', 'input host start timeout'));
    }, START_TIMEOUT_MS);
    const host = (injectorName: string, hotkeyName: string): InputHost => ({
      name: injectorName,
      hotkeyName,
      arm: () => send({ t: 'arm' }),
      setOrigin: (o) => void (origin = { x: o.x, y: o.y }),
      inject(event: InputEvent) {
        if (event.t === 'key') checkKey(event.key);
        if (ended) throw new RsoError('RSO_ERR_INTERNAL', undefined, 'input host ended');
        send({ t: 'inject', event: onDesktop(event, origin) });
      },
      releaseAll: () => send({ t: 'release' }),
      close() {
        if (ended) return;
        ended = true;
        // Closing the channel is the host's signal to release everything and exit.
        if (child.connected) child.disconnect();
      },
    });
    child.on('message', (raw) => {
      const msg = parseFromHost(raw);
      if (!msg) {
        child.kill('SIGKILL');
        return;
      }
      switch (msg.t) {
        case 'ready':
          if (ready) return;
          ready = true;
          clearTimeout(timer);
          resolve(host(msg.injector, msg.hotkey));
          return;
        case 'failed':
          clearTimeout(timer);
          reject(new RsoError(msg.code, msg.message, 'input host failed to start'));
          return;
        case 'f12':
          if (ready && !ended) events.onF12();
          return;
        case 'inject-failed':
          if (!ended) events.onInjectFailed(msg.code);
          return;
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      const wasEnded = ended;
      ended = true;
      if (!ready) reject(new RsoError('RSO_ERR_INTERNAL', 'Remote control is not available on this computer (its input helper stopped).', 'input host exited before ready'));
      else if (!wasEnded) events.onExit();
    });
    child.on('error', () => {
      // A failed spawn also emits 'exit' (or never started): the exit handler decides.
      if (child.pid === undefined) {
        clearTimeout(timer);
        ended = true;
        reject(new RsoError('RSO_ERR_INTERNAL', 'Remote control is not available on this computer (its input helper could not be started).', 'input host spawn failed'));
      }
    });
    send({ t: 'start', opts: opts.display !== undefined ? { display: opts.display } : {} });
  });
}
