// The customer's own `rso share` panel is theirs alone: with control on, the engineer must not
// be able to press y, c or q in it, nor click or drag it. This file finds the X window of the
// terminal that hosts the panel, and answers the two questions the policy asks about it.
//
// How the terminal window is found:
// 1. WINDOWID, which xterm, kitty, urxvt and others export to their children. It is only a
//    claim from the environment, so it is checked against the window manager's client list:
//    walking up from it (xterm's WINDOWID is its VT100 widget, a child of the client window)
//    must reach a listed client window.
// 2. Otherwise the client window whose _NET_WM_PID is one of the daemon's ancestor processes
//    (the terminal started the shell that started us).
// Neither found (the panel runs in a tmux detached from any X terminal, over ssh, in a
// console): nothing on this display shows the panel, so there is nothing to protect.
import { readFileSync } from 'node:fs';
import type { XConn } from '../capture/xconn.js';
import type { Rect } from '../../codec/framebuffer.js';
import { listWindows, type WindowInfo } from './list.js';
import { visibleRegion } from './region.js';

const MAX_DEPTH = 32;

/** Parent PID of `pid` from /proc (Linux); null when unknown. */
function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : null;
  } catch {
    return null;
  }
}

/** The daemon's ancestor PIDs, nearest first (itself excluded, init excluded). */
export function ancestorPids(pid: number = process.pid): number[] {
  const out: number[] = [];
  let p = parentPid(pid);
  while (p !== null && p > 1 && out.length < MAX_DEPTH) {
    out.push(p);
    p = parentPid(p);
  }
  return out;
}

/** WINDOWID as a window id: decimal (what terminals write) or 0x-hex; null when absent or malformed. */
export function parseWindowId(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (!/^(\d{1,10}|0x[0-9a-fA-F]{1,8})$/.test(v)) return null;
  const n = Number(v);
  return n > 0 && n <= 0xffffffff ? n : null;
}

/**
 * The client window (as the window manager lists it) that hosts the panel, or null.
 * `env` and `pid` are parameters so tests can ask about another process.
 */
export async function findPanelWindow(conn: XConn, opts: { env?: NodeJS.ProcessEnv; pid?: number } = {}): Promise<number | null> {
  const env = opts.env ?? process.env;
  const windows = await listWindows(conn);
  const listed = new Set(windows.map((w) => w.id));
  const claimed = parseWindowId(env.WINDOWID);
  if (claimed !== null) {
    let wid = claimed;
    for (let depth = 0; depth < MAX_DEPTH && wid > 1 && wid !== conn.root; depth++) {
      if (listed.has(wid)) return wid;
      // A stale or foreign WINDOWID gives BadWindow: fall through to the PID way.
      const tree = await conn.req<{ parent: number }>('QueryTree', wid).catch(() => null);
      if (!tree) break;
      wid = tree.parent;
    }
  }
  const ancestors = ancestorPids(opts.pid ?? process.pid);
  // Nearest ancestor first: a terminal started from another terminal is the one showing us.
  for (const pid of ancestors) {
    const w = windows.find((x) => x.pid === pid);
    if (w) return w.id;
  }
  return null;
}

/** The panel window's visible part (its frame minus whatever is stacked above it), root coordinates. */
export function protectedRegion(windows: readonly WindowInfo[], panel: number): Rect[] {
  return visibleRegion(windows, (w) => w.id === panel);
}

/**
 * Whether the window with keyboard focus is the panel's window, one of its children (xterm
 * focuses its VT100 widget) or the window manager's frame around it.
 */
export async function focusOnPanel(conn: XConn, panel: number): Promise<boolean> {
  let focus = (await conn.req<{ focus: number }>('GetInputFocus')).focus;
  // PointerRoot (1): keys go to whatever top-level window is under the pointer.
  if (focus === 1) focus = (await conn.req<{ child: number }>('QueryPointer', conn.root)).child;
  let wid = focus;
  for (let depth = 0; depth < MAX_DEPTH && wid > 1 && wid !== conn.root; depth++) {
    if (wid === panel) return true;
    wid = (await conn.req<{ parent: number }>('QueryTree', wid)).parent;
  }
  // The focus on an ancestor of the panel (its frame) counts too: keys there reach the panel.
  wid = panel;
  for (let depth = 0; depth < MAX_DEPTH && wid > 1 && wid !== conn.root; depth++) {
    wid = (await conn.req<{ parent: number }>('QueryTree', wid)).parent;
    if (wid === focus && wid !== conn.root) return true;
  }
  return false;
}
