// The portable fallback: the `screenshot-desktop` npm package, which shells out to the
// platform's own tool (ImageMagick `import` on Linux, `screencapture` on macOS, a .NET helper
// on Windows). We always ask for PNG: it is lossless, so what the agent sees is what the tool
// saw, and png.ts decodes it straight into BGRX. No damage reports: the daemon polls grab()
// and the codec's tile diff finds what changed.
//
// On Linux the package runs its tools with this process's environment, so a display other
// than $DISPLAY is reached by setting DISPLAY for the duration of each call; calls are
// serialised so two grabs never see each other's setting.

import { createRequire } from 'node:module';
import { RsoError } from '../../errors.js';
import type { Rect } from '../../codec/framebuffer.js';
import { clipToArea, selectArea, type BgrxFrame, type CaptureBackend, type Monitor, type OpenCaptureOptions } from './backend.js';
import { decodePng } from './png.js';

const require = createRequire(import.meta.url);

interface ScreenshotDisplay {
  id: string | number;
  name?: string;
  width?: number;
  height?: number;
  offsetX?: number;
  offsetY?: number;
  left?: number;
  top?: number;
  right?: number;
  bottom?: number;
  primary?: boolean;
}

interface ScreenshotModule {
  (opts: { format: 'png'; screen?: string | number }): Promise<Buffer>;
  listDisplays(): Promise<ScreenshotDisplay[]>;
}

let serial: Promise<unknown> = Promise.resolve();

/** Runs `fn` alone, with DISPLAY set to `display` while it runs (when given). */
function withDisplay<T>(display: string | undefined, fn: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    const saved = process.env.DISPLAY;
    if (display !== undefined) process.env.DISPLAY = display;
    try {
      return await fn();
    } finally {
      if (display !== undefined) {
        if (saved === undefined) delete process.env.DISPLAY;
        else process.env.DISPLAY = saved;
      }
    }
  };
  const next = serial.then(run, run);
  serial = next.catch(() => undefined);
  return next;
}

function toolError(e: unknown): RsoError {
  const detail = e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
  return new RsoError('RSO_ERR_CAPTURE', 'The screenshot tool failed (on Linux it needs ImageMagick and xrandr).', `screenshot-desktop: ${detail}`);
}

/** Monitor geometry from the package's listing (its fields differ per platform). */
function toMonitor(d: ScreenshotDisplay, index: number): Monitor {
  const x = d.offsetX ?? d.left ?? 0;
  const y = d.offsetY ?? d.top ?? 0;
  const width = d.width ?? (d.right !== undefined ? d.right - x : 0);
  const height = d.height ?? (d.bottom !== undefined ? d.bottom - y : 0);
  return { index, x, y, width, height, primary: d.primary ?? index === 0 };
}

export class ScreenshotCapture implements CaptureBackend {
  readonly name = 'screenshot-desktop' as const;
  readonly damageDriven = false;
  readonly area: Rect;

  private constructor(
    private readonly shot: ScreenshotModule,
    private readonly display: string | undefined,
    private readonly displays: ScreenshotDisplay[],
    private readonly monitorList: Monitor[],
    private readonly screenId: string | number | undefined,
    area: Rect,
  ) {
    this.area = area;
  }

  static async open(opts: Omit<OpenCaptureOptions, 'backend'>): Promise<ScreenshotCapture> {
    const shot = require('screenshot-desktop') as ScreenshotModule;
    let displays: ScreenshotDisplay[];
    try {
      displays = await withDisplay(opts.display, () => shot.listDisplays());
    } catch (e) {
      throw toolError(e);
    }
    if (displays.length === 0) throw new RsoError('RSO_ERR_NO_DISPLAY', undefined, 'screenshot-desktop lists no display');
    const monitors = displays.map(toMonitor);
    // The package captures one display per call; with no monitor chosen, take the primary
    // one (what its own default does), and say so through `area`.
    const index = opts.monitor ?? Math.max(0, monitors.findIndex((m) => m.primary));
    const m = monitors[index];
    const area = selectArea(monitors, { width: m?.width ?? 0, height: m?.height ?? 0 }, index);
    return new ScreenshotCapture(shot, opts.display, displays, monitors, displays[index]?.id, area);
  }

  monitors(): Monitor[] {
    return this.monitorList.map((m) => ({ ...m }));
  }

  size(): { width: number; height: number } {
    return { width: this.area.w, height: this.area.h };
  }

  async grab(rect?: Rect): Promise<BgrxFrame> {
    const r = clipToArea(rect, this.area);
    let png: Buffer;
    try {
      png = await withDisplay(this.display, () => this.shot({ format: 'png', ...(this.screenId !== undefined && this.displays.length > 1 ? { screen: this.screenId } : {}) }));
    } catch (e) {
      throw toolError(e);
    }
    const img = decodePng(png);
    if (img.width < r.x + r.w || img.height < r.y + r.h) {
      throw new RsoError('RSO_ERR_CAPTURE', undefined, `screenshot is ${img.width}x${img.height}, area is ${this.area.w}x${this.area.h}`);
    }
    if (r.x === 0 && r.y === 0 && r.w === img.width && r.h === img.height) {
      return { format: 'bgrx', width: r.w, height: r.h, x: 0, y: 0, data: img.data };
    }
    const data = new Uint8Array(r.w * r.h * 4);
    for (let row = 0; row < r.h; row++) {
      const src = ((r.y + row) * img.width + r.x) * 4;
      data.set(img.data.subarray(src, src + r.w * 4), row * r.w * 4);
    }
    return { format: 'bgrx', width: r.w, height: r.h, x: r.x, y: r.y, data };
  }

  onDamage(): () => void {
    // No change notification exists on this path; the daemon polls (damageDriven is false).
    return () => undefined;
  }

  onLost(): () => void {
    // No connection is held: a display that goes away makes the next grab fail instead.
    return () => undefined;
  }

  async cursor(): Promise<{ x: number; y: number } | null> {
    return null;
  }

  async close(): Promise<void> {
    // Nothing is held between calls: each grab runs the tool to completion.
  }
}

export function openScreenshotCapture(opts: Omit<OpenCaptureOptions, 'backend'>): Promise<ScreenshotCapture> {
  return ScreenshotCapture.open(opts);
}
