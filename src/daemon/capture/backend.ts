// The one interface every capture backend implements, and the function that picks one.
//
// Coordinates: a backend captures one *area*: a monitor chosen at open, or the whole root
// window when no monitor is chosen. Every rectangle that goes in or comes out (grab, damage,
// cursor) is relative to that area's top-left corner, so the rest of the pipeline never sees
// the monitor layout. `area` gives its position in root (desktop) coordinates, which is what
// the window list uses.

import { RsoError } from '../../errors.js';
import type { BgrxFramebuffer, Rect } from '../../codec/framebuffer.js';

export type { Rect } from '../../codec/framebuffer.js';

export interface Monitor {
  index: number;
  x: number;
  y: number;
  width: number;
  height: number;
  primary: boolean;
}

/** BGRX pixels of a captured rectangle; x, y say where it sits in the captured area. */
export interface BgrxFrame extends BgrxFramebuffer {
  x: number;
  y: number;
}

export type BackendName = 'x11' | 'screenshot-desktop';

export interface CaptureBackend {
  readonly name: BackendName;
  /** True when onDamage reports changes; false means the daemon must poll grab(). */
  readonly damageDriven: boolean;
  /** The captured area in root coordinates (the selected monitor, or the whole root). */
  readonly area: Rect;
  monitors(): Monitor[];
  /** Size of the captured area. */
  size(): { width: number; height: number };
  /**
   * BGRX pixels of `rect` (default: the whole area), clipped to the area. The fourth byte of
   * each pixel is undefined. Rejects with RSO_ERR_CAPTURE when `rect` lies wholly outside.
   */
  grab(rect?: Rect): Promise<BgrxFrame>;
  /** Changed rectangles, coalesced, in area coordinates. x11 only; a no-op elsewhere. */
  onDamage(cb: (rects: Rect[]) => void): () => void;
  /**
   * Called once if the display goes away while the backend is open (not by close()): an idle
   * screen has no read in progress that would fail, so this is how the daemon learns of it.
   */
  onLost(cb: (err: RsoError) => void): () => void;
  /** Pointer position in area coordinates (may be outside the area), or null if unknown. */
  cursor(): Promise<{ x: number; y: number } | null>;
  /** Frees every resource the backend created (X Damage object, region, connection). */
  close(): Promise<void>;
}

export interface OpenCaptureOptions {
  backend: 'auto' | BackendName;
  /** X display name; default $DISPLAY. */
  display?: string;
  /** Index into monitors(); default: the whole root window (every monitor). */
  monitor?: number;
}

/**
 * Opens a capture backend. 'auto' prefers x11 wherever an X display is reachable and falls
 * back to screenshot-desktop when the display cannot be read directly (an unsupported pixel
 * format) or on a platform without X11.
 */
export async function openCapture(opts: OpenCaptureOptions): Promise<CaptureBackend> {
  const wantX11 = opts.backend === 'x11' || (opts.backend === 'auto' && process.platform !== 'win32' && process.platform !== 'darwin');
  if (wantX11) {
    const { openX11Capture } = await import('./x11.js');
    try {
      return await openX11Capture(opts);
    } catch (e) {
      // Only a display we reached but cannot read directly is worth the slower fallback; with
      // no display at all the fallback tool would fail the same way.
      if (opts.backend === 'auto' && e instanceof RsoError && e.code === 'RSO_ERR_CAPTURE') {
        const { openScreenshotCapture } = await import('./screenshot-desktop.js');
        return openScreenshotCapture(opts);
      }
      throw e;
    }
  }
  const { openScreenshotCapture } = await import('./screenshot-desktop.js');
  return openScreenshotCapture(opts);
}

/** Picks the captured area: monitor `index`, or the whole root when undefined. */
export function selectArea(monitors: Monitor[], root: { width: number; height: number }, index: number | undefined): Rect {
  if (index === undefined) return { x: 0, y: 0, w: root.width, h: root.height };
  const m = monitors[index];
  if (!m) {
    throw new RsoError('RSO_ERR_USAGE', `There is no monitor ${index}; this display has ${monitors.length} (0 to ${monitors.length - 1}).`, `monitor ${index} of ${monitors.length}`);
  }
  return { x: m.x, y: m.y, w: m.width, h: m.height };
}

/** Clips a requested rectangle (area coordinates) to the area; RSO_ERR_CAPTURE if nothing is left. */
export function clipToArea(rect: Rect | undefined, area: Rect): Rect {
  if (!rect) return { x: 0, y: 0, w: area.w, h: area.h };
  const x0 = Math.max(0, rect.x);
  const y0 = Math.max(0, rect.y);
  const x1 = Math.min(area.w, rect.x + rect.w);
  const y1 = Math.min(area.h, rect.y + rect.h);
  if (x1 <= x0 || y1 <= y0) {
    throw new RsoError('RSO_ERR_CAPTURE', undefined, `grab rect ${rect.x},${rect.y} ${rect.w}x${rect.h} outside ${area.w}x${area.h}`);
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
