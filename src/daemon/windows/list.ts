// Top-level application windows of an X display, read the way pagers and taskbars read them:
// through the window manager's EWMH properties (freedesktop.org "Extended Window Manager
// Hints"). _NET_CLIENT_LIST_STACKING gives the managed client windows bottom to top; each
// client carries its PID (_NET_WM_PID), its WM_CLASS and title, and the window manager's
// frame around it (_NET_FRAME_EXTENTS). Rectangles include the frame, in root coordinates:
// the title bar belongs to the application as far as masking is concerned.
//
// A change of stacking, geometry or map state fires onChange (debounced) so the daemon can
// recompute the shared region; the listing itself is always re-read, never patched.

import type { Rect } from '../../codec/framebuffer.js';
import { eventMask, XConn, type XEvent } from '../capture/xconn.js';

export interface WindowInfo {
  /** Client window id. */
  id: number;
  pid: number | null;
  /** WM_CLASS: instance (res_name) and class (res_class). */
  instance: string;
  class: string;
  title: string;
  /** Frame rectangle (client + decorations) in root coordinates. */
  rect: Rect;
  /** The client's own rectangle in root coordinates. */
  client: Rect;
  /** Mapped and not minimised: it shows (or covers) pixels. */
  visible: boolean;
  /** Minimised (_NET_WM_STATE_HIDDEN). */
  hidden: boolean;
}

export interface AppInfo {
  /** Stable within a session: `pid:1234` or `class:firefox`. */
  key: string;
  pid: number | null;
  class: string;
  /** What the customer reads in the chooser: "Firefox — Mozilla Firefox". */
  label: string;
  /** Window ids, bottom to top. */
  windows: number[];
}

const MAP_STATE_VIEWABLE = 2;
const ATOM_WM_NAME = 39;
const ATOM_WM_CLASS = 67;

/** Splits a STRING/UTF8_STRING list property (NUL-separated) into its items. */
function stringList(data: Buffer): string[] {
  return data.toString('utf8').split('\0');
}

function u32List(data: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= data.length; i += 4) out.push(data.readUInt32LE(i));
  return out;
}

/**
 * Reads the window list. Windows that vanish while being read are skipped: the list is a
 * snapshot, and the next change event brings a fresh one.
 */
export async function listWindows(conn: XConn): Promise<WindowInfo[]> {
  const [stacking, clientList] = await Promise.all([conn.atom('_NET_CLIENT_LIST_STACKING'), conn.atom('_NET_CLIENT_LIST')]);
  let prop = await conn.property(conn.root, stacking);
  // Some window managers only keep the unordered list; it is still better than nothing.
  if (!prop) prop = await conn.property(conn.root, clientList);
  const ids = prop ? u32List(prop.data) : [];
  const infos = await Promise.all(ids.map((id) => readWindow(conn, id)));
  return infos.filter((w): w is WindowInfo => w !== null);
}

async function readWindow(conn: XConn, id: number): Promise<WindowInfo | null> {
  const [pidAtom, netName, frameExtents, wmState, hiddenAtom] = await Promise.all([
    conn.atom('_NET_WM_PID'),
    conn.atom('_NET_WM_NAME'),
    conn.atom('_NET_FRAME_EXTENTS'),
    conn.atom('_NET_WM_STATE'),
    conn.atom('_NET_WM_STATE_HIDDEN'),
  ]);
  try {
    const [geom, attrs, origin, pidProp, classProp, nameProp, wmNameProp, extentsProp, stateProp] = await Promise.all([
      conn.req<{ width: number; height: number; borderWidth: number }>('GetGeometry', id),
      conn.req<{ mapState: number }>('GetWindowAttributes', id),
      conn.req<{ destX: number; destY: number }>('TranslateCoordinates', id, conn.root, 0, 0),
      conn.property(id, pidAtom),
      conn.property(id, ATOM_WM_CLASS),
      conn.property(id, netName),
      conn.property(id, ATOM_WM_NAME),
      conn.property(id, frameExtents),
      conn.property(id, wmState),
    ]);
    const client: Rect = { x: origin.destX, y: origin.destY, w: geom.width, h: geom.height };
    const rect = extentsProp ? withExtents(client, u32List(extentsProp.data)) : await frameFromParent(conn, id, client);
    const [instance = '', klass = ''] = classProp ? stringList(classProp.data) : [];
    const title = nameProp ? nameProp.data.toString('utf8') : wmNameProp ? decodeText(wmNameProp.type, wmNameProp.data, await textAtoms(conn)) : '';
    const hidden = stateProp ? u32List(stateProp.data).includes(hiddenAtom) : false;
    const pid = pidProp && pidProp.data.length >= 4 ? pidProp.data.readUInt32LE(0) : null;
    return { id, pid, instance, class: klass, title, rect, client, hidden, visible: attrs.mapState === MAP_STATE_VIEWABLE && !hidden };
  } catch {
    // BadWindow: the window was destroyed between the list and the reads.
    return null;
  }
}

async function textAtoms(conn: XConn): Promise<{ utf8: number; compound: number }> {
  const [utf8, compound] = await Promise.all([conn.atom('UTF8_STRING'), conn.atom('COMPOUND_TEXT')]);
  return { utf8, compound };
}

/**
 * WM_NAME text: STRING is Latin-1; UTF8_STRING is UTF-8; COMPOUND_TEXT (what xterm and other
 * Xt programs write for non-Latin-1 titles) is ISO 2022, where modern clients wrap UTF-8 in
 * ESC % G ... ESC % @. Other ISO 2022 designations are skipped and their bytes read as Latin-1:
 * a label a person can read, not a full converter.
 */
export function decodeText(type: number, data: Buffer, atoms: { utf8: number; compound: number }): string {
  if (type === atoms.utf8) return data.toString('utf8');
  if (type !== atoms.compound) return data.toString('latin1');
  let out = '';
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0x1b && data[i + 1] === 0x25 && data[i + 2] === 0x47) {
      const end = data.indexOf(Buffer.from([0x1b, 0x25, 0x40]), i + 3);
      const stop = end < 0 ? data.length : end;
      out += data.toString('utf8', i + 3, stop);
      i = end < 0 ? data.length : end + 3;
    } else if (data[i] === 0x1b) {
      // ESC, intermediate bytes 0x20-0x2f, one final byte 0x30-0x7e.
      i++;
      while (i < data.length && data[i]! >= 0x20 && data[i]! <= 0x2f) i++;
      i++;
    } else {
      out += String.fromCharCode(data[i]!);
      i++;
    }
  }
  return out;
}

/** _NET_FRAME_EXTENTS is left, right, top, bottom. */
function withExtents(c: Rect, e: number[]): Rect {
  const [left = 0, right = 0, top = 0, bottom = 0] = e;
  return { x: c.x - left, y: c.y - top, w: c.w + left + right, h: c.h + top + bottom };
}

/**
 * Without _NET_FRAME_EXTENTS, the frame is the ancestor that is a child of the root (a
 * reparenting window manager's frame window), border included.
 */
async function frameFromParent(conn: XConn, id: number, client: Rect): Promise<Rect> {
  let current = id;
  for (let depth = 0; depth < 16; depth++) {
    const tree = await conn.req<{ parent: number }>('QueryTree', current);
    if (tree.parent === conn.root || tree.parent === 0) break;
    current = tree.parent;
  }
  if (current === id) return client;
  const g = await conn.req<{ xPos: number; yPos: number; width: number; height: number; borderWidth: number }>('GetGeometry', current);
  const b = g.borderWidth;
  return { x: g.xPos, y: g.yPos, w: g.width + 2 * b, h: g.height + 2 * b };
}

/** Groups windows into applications: same PID, else same WM_CLASS class. */
export function groupApps(windows: readonly WindowInfo[]): AppInfo[] {
  const apps = new Map<string, AppInfo>();
  const titles = new Map<string, { title: string; area: number }>();
  for (const w of windows) {
    const key = w.pid !== null ? `pid:${w.pid}` : `class:${w.class.toLowerCase()}`;
    let app = apps.get(key);
    if (!app) {
      app = { key, pid: w.pid, class: w.class || w.instance, label: '', windows: [] };
      apps.set(key, app);
    }
    app.windows.push(w.id);
    // The main title is the largest visible window's: dialogs and toolbars are smaller.
    const area = (w.visible ? 1 : 0) * 1e9 + w.rect.w * w.rect.h;
    const best = titles.get(key);
    if (!best || area > best.area) titles.set(key, { title: w.title, area });
  }
  for (const app of apps.values()) {
    const title = titles.get(app.key)?.title ?? '';
    const name = app.class || 'unknown';
    app.label = title && title !== name ? `${name} — ${title}` : name;
  }
  return [...apps.values()];
}

export interface WindowWatcher {
  list(): Promise<WindowInfo[]>;
  /** Called (debounced) after stacking, geometry, map or minimised state changed. */
  onChange(cb: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Opens its own connection and watches the root: PropertyNotify for the client lists,
 * SubstructureNotify for frames moving, restacking, mapping and unmapping. Client windows get
 * PropertyChange too, so minimising (_NET_WM_STATE) and retitling are seen.
 */
export async function watchWindows(opts: { display?: string; debounceMs?: number } = {}): Promise<WindowWatcher> {
  const conn = await XConn.open(opts.display);
  const debounceMs = opts.debounceMs ?? 30;
  const listeners = new Set<() => void>();
  const watchedAtoms = new Set(
    await Promise.all(['_NET_CLIENT_LIST_STACKING', '_NET_CLIENT_LIST', '_NET_WM_STATE', '_NET_WM_NAME', '_NET_FRAME_EXTENTS'].map((a) => conn.atom(a))),
  );
  watchedAtoms.add(ATOM_WM_NAME);
  const selected = new Set<number>();
  let timer: NodeJS.Timeout | undefined;

  const root = conn.root;
  conn.send('ChangeWindowAttributes', root, { eventMask: eventMask.SubstructureNotify | eventMask.PropertyChange });
  await conn.sync();

  const fire = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      for (const l of listeners) l();
    }, debounceMs);
  };
  const structural = new Set(['ConfigureNotify', 'MapNotify', 'UnmapNotify', 'DestroyNotify', 'CreateNotify', 'ReparentNotify', 'CirculateNotify', 'GravityNotify']);
  const offEvent = conn.onEvent((e: XEvent) => {
    if (e.name === 'PropertyNotify') {
      if (watchedAtoms.has(e.atom as number)) fire();
    } else if (e.name && structural.has(e.name)) {
      fire();
    }
  });

  const list = async (): Promise<WindowInfo[]> => {
    const windows = await listWindows(conn);
    // Watch the property changes of clients we have not seen yet (minimise, title).
    for (const w of windows) {
      if (selected.has(w.id)) continue;
      selected.add(w.id);
      conn.send('ChangeWindowAttributes', w.id, { eventMask: eventMask.PropertyChange | eventMask.StructureNotify });
    }
    // A client that vanished in between gives BadWindow here; that is expected, not a failure.
    await conn.sync().catch(() => undefined);
    return windows;
  };

  return {
    list,
    onChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    async close() {
      if (timer) clearTimeout(timer);
      offEvent();
      listeners.clear();
      await conn.close();
    },
  };
}
