// The capture step as the rest of the daemon sees it: read rectangles of the screen and hand
// them on with everything outside what the customer shares already replaced by the neutral
// fill. No unmasked pixel leaves this file.
//
// Why the region is computed here, at read time, and under a server grab: a window of another
// application moved over a shared one changes the screen and the region at the same instant. A
// region computed from window events (which arrive later, debounced) would be stale for the
// very read that sees the intruder's pixels. With the X server grabbed, the window tree and
// the pixels come from the same moment: GrabServer, read the stacking (QueryTree of the root,
// the server's own order, not the window manager's possibly lagging EWMH list), geometry and
// map state, GetImage, UngrabServer. Every root child that is not a chosen application's frame
// (other applications, override-redirect popups, the window manager's own windows) covers
// what is below it.
//
// The portable backend reads pixels through another program, so no grab can bracket it: the
// region is read before and after, and both are applied (a pixel shows only if it was shared
// both times).
import { RsoError } from '../errors.js';
import type { Rect } from '../codec/framebuffer.js';
import type { BgrxFrame, CaptureBackend } from './capture/backend.js';
import type { XConn } from './capture/xconn.js';
import { listWindows, type WindowInfo } from './windows/list.js';
import { maskFrame, visibleRegion } from './windows/region.js';
import type { MaskedGrab } from './frame-pipeline.js';

/** What the customer shares: the whole area, or the windows of some applications. */
export type ShareTarget = { kind: 'screen' } | { kind: 'apps'; isChosen: (w: WindowInfo) => boolean };

export interface ReadResult {
  grabs: MaskedGrab[];
  /** The shown region in root coordinates (null: the whole area). */
  region: Rect[] | null;
}

export interface Observer {
  /** Called once per read, before any pixel is requested (tests count these). */
  onRead?(rects: number): void;
}

const MAP_STATE_VIEWABLE = 2;

/** Key of an application a window belongs to: the same rule as windows/list.ts groupApps. */
export function appKeyOf(w: Pick<WindowInfo, 'pid' | 'class'>): string {
  return w.pid !== null ? `pid:${w.pid}` : `class:${w.class.toLowerCase()}`;
}

/** The root child that holds `id` (its window-manager frame, or itself when not reparented). */
async function topLevelOf(conn: XConn, id: number): Promise<number> {
  let current = id;
  for (let depth = 0; depth < 16; depth++) {
    const tree = await conn.req<{ parent: number }>('QueryTree', current);
    if (tree.parent === conn.root || tree.parent === 0) return current;
    current = tree.parent;
  }
  return current;
}

/** The region the chosen applications show right now, in root coordinates. */
export async function currentRegion(conn: XConn, isChosen: (w: WindowInfo) => boolean): Promise<Rect[]> {
  const [tree, windows] = await Promise.all([conn.req<{ children: number[] }>('QueryTree', conn.root), listWindows(conn)]);
  const chosenTop = new Set(await Promise.all(windows.filter(isChosen).map((w) => topLevelOf(conn, w.id).catch(() => 0))));
  const stacked = await Promise.all(
    tree.children.map(async (id) => {
      try {
        const [attrs, g] = await Promise.all([
          conn.req<{ mapState: number }>('GetWindowAttributes', id),
          conn.req<{ xPos: number; yPos: number; width: number; height: number; borderWidth: number }>('GetGeometry', id),
        ]);
        const b = g.borderWidth;
        return { id, visible: attrs.mapState === MAP_STATE_VIEWABLE, rect: { x: g.xPos, y: g.yPos, w: g.width + 2 * b, h: g.height + 2 * b } };
      } catch {
        // Gone between QueryTree and this read (only possible without the grab): covers nothing.
        return { id, visible: false, rect: { x: 0, y: 0, w: 0, h: 0 } };
      }
    }),
  );
  return visibleRegion(stacked, (w) => chosenTop.has(w.id));
}

function masked(frame: BgrxFrame, area: Rect, regions: readonly (Rect[] | null)[]): MaskedGrab {
  for (const region of regions) {
    if (region !== null) maskFrame(frame, { x: area.x + frame.x, y: area.y + frame.y }, region);
  }
  return frame;
}

/**
 * Reads `rects` (area coordinates; 'full' for the whole area) and masks them for `target`.
 * `regionConn` is the connection used to read the window tree when it is not the capture's
 * own (portable backend); with the x11 backend the capture's connection is used under a grab.
 */
export async function readShared(capture: CaptureBackend, rects: readonly Rect[] | 'full', target: ShareTarget, regionConn: XConn | null, observer: Observer = {}): Promise<ReadResult> {
  const list: (Rect | undefined)[] = rects === 'full' ? [undefined] : [...rects];
  observer.onRead?.(list.length);
  if (target.kind === 'screen') {
    const grabs = await Promise.all(list.map((r) => capture.grab(r)));
    return { grabs, region: null };
  }
  // The x11 backend exposes its connection: the window tree is read on it, under a grab.
  const own = capture.name === 'x11' ? (capture as CaptureBackend & { conn?: XConn }).conn : undefined;
  if (own) {
    own.send('GrabServer');
    try {
      const region = await currentRegion(own, target.isChosen);
      const frames = await Promise.all(list.map((r) => capture.grab(r)));
      return { grabs: frames.map((f) => masked(f, capture.area, [region])), region };
    } finally {
      // Also released by the server if this connection dies, so a crash cannot freeze the desktop.
      own.send('UngrabServer');
    }
  }
  if (!regionConn) throw new RsoError('RSO_ERR_INTERNAL', undefined, 'sharing applications without a window connection');
  const conn = regionConn;
  const before = await currentRegion(conn, target.isChosen);
  const frames = await Promise.all(list.map((r) => capture.grab(r)));
  const after = await currentRegion(conn, target.isChosen);
  return { grabs: frames.map((f) => masked(f, capture.area, [before, after])), region: after };
}
