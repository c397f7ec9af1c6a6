// An X event listener for the remote-control tests and the input benchmark: a plain window
// (override-redirect, so it sits exactly where asked, above the others) that records every
// key, button and motion event the X server delivers to it, with the time it arrived here.
import { XConn, type XEvent } from '../../src/daemon/capture/xconn.js';

export interface Listener {
  wid: number;
  events: Array<XEvent & { at: number }>;
  /** Waits until `cond` holds for the recorded events. */
  waitFor(cond: (events: Array<XEvent & { at: number }>) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

const KeyPress = 0x1;
const KeyRelease = 0x2;
const ButtonPress = 0x4;
const ButtonRelease = 0x8;
const PointerMotion = 0x40;
const Exposure = 0x8000;

export async function listenWindow(display: string, rect: { x: number; y: number; w: number; h: number }): Promise<Listener> {
  const conn = await XConn.open(display);
  const wid = conn.allocId();
  const events: Array<XEvent & { at: number }> = [];
  let wake: (() => void) | null = null;
  conn.onEvent((e) => {
    events.push({ ...e, at: performance.now() });
    wake?.();
  });
  conn.send('CreateWindow', wid, conn.root, rect.x, rect.y, rect.w, rect.h, 0, 0, 1, 0, {
    backgroundPixel: 0x336699,
    overrideRedirect: 1,
    eventMask: KeyPress | KeyRelease | ButtonPress | ButtonRelease | PointerMotion | Exposure,
  });
  conn.send('MapWindow', wid);
  await conn.sync();
  return {
    wid,
    events,
    async waitFor(cond, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!cond(events)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for X events: ${what}; last ${events.slice(-8).map((e) => e.name).join(',')} of ${events.length}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    },
    close: () => conn.close(),
  };
}
