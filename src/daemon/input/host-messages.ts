// The messages between the daemon and its input host (host.ts, host-main.ts), over the child
// process's IPC channel. Both ends are rso, but each end still checks what it reads: a message
// of another shape is a bug, and the receiver treats it as the end of the host, never guesses.
import type { InputEvent } from '../../protocol/app.js';
import { isErrorCode, type ErrorCode } from '../../errors.js';

/**
 * What the host needs to start: the display to act on. Events reach it in desktop coordinates
 * (the daemon adds the shared area's origin, which changes when the customer picks another
 * monitor).
 */
export interface HostStart {
  display?: string;
}

export type ToHost =
  | { t: 'start'; opts: HostStart }
  /** Control was granted: injected events are performed from now on. */
  | { t: 'arm' }
  | { t: 'inject'; event: InputEvent }
  /** Control ended: release everything held and perform nothing until the next arm. */
  | { t: 'release' };

export type FromHost =
  | { t: 'ready'; injector: string; hotkey: string }
  /** The host could not start (no hook, no input library): control is not offered. */
  | { t: 'failed'; code: ErrorCode; message: string }
  /** F12 was pressed; the host has already disarmed itself and released every key. */
  | { t: 'f12' }
  /** An event could not be performed (the code only: the event may quote the engineer's typing). */
  | { t: 'inject-failed'; code: ErrorCode };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The daemon's view of a message from the host, or null when it is not one. */
export function parseFromHost(v: unknown): FromHost | null {
  if (!isObject(v)) return null;
  switch (v.t) {
    case 'ready':
      return typeof v.injector === 'string' && typeof v.hotkey === 'string' ? { t: 'ready', injector: v.injector, hotkey: v.hotkey } : null;
    case 'failed':
      return isErrorCode(v.code) && typeof v.message === 'string' ? { t: 'failed', code: v.code, message: v.message } : null;
    case 'f12':
      return { t: 'f12' };
    case 'inject-failed':
      return isErrorCode(v.code) ? { t: 'inject-failed', code: v.code } : null;
    default:
      return null;
  }
}

/**
 * The host's view of a message from the daemon, or null. Events come from the daemon's own
 * protocol parser (src/protocol/app.ts) and have passed the policy; only their shape is
 * looked at again here.
 */
export function parseToHost(v: unknown): ToHost | null {
  if (!isObject(v)) return null;
  switch (v.t) {
    case 'start': {
      const o = v.opts;
      if (!isObject(o) || (o.display !== undefined && typeof o.display !== 'string')) return null;
      return { t: 'start', opts: typeof o.display === 'string' ? { display: o.display } : {} };
    }
    case 'arm':
      return { t: 'arm' };
    case 'release':
      return { t: 'release' };
    case 'inject':
      return isObject(v.event) && typeof v.event.t === 'string' ? { t: 'inject', event: v.event as unknown as InputEvent } : null;
    default:
      return null;
  }
}
