// X11 capture: the DAMAGE extension says which parts of the screen changed, core GetImage
// reads just those parts.
//
// Damage flow (damageproto.txt): a Damage object on the root at level DeltaRectangles sends
// DamageNotify whenever the damaged region grows. We do not trust the event rectangles alone:
// a flush (DamageSubtract moves the whole region into an XFixes region and empties the Damage
// object, XFixesFetchRegion reads it) takes the region, and its rectangles are coalesced
// before the daemon sees them. Emptying the region is what makes the server report the next
// change again.
//
// When to flush (at once, gathered during a burst, or once a large change has settled):
// flush-timing.ts.
//
// Pixels: GetImage(ZPixmap, all planes) on a 24-bit TrueColor visual stored at 32 bits per
// pixel, least significant byte first, is B G R X per pixel with no row padding: exactly the
// codec's 'bgrx' framebuffer, so no conversion happens here. Any other layout is refused at
// open (RSO_ERR_CAPTURE) so that 'auto' can fall back to screenshot-desktop.

import { RsoError } from '../../errors.js';
import type { Rect } from '../../codec/framebuffer.js';
import { clipToArea, selectArea, type BgrxFrame, type CaptureBackend, type Monitor, type OpenCaptureOptions } from './backend.js';
import { coalesce, toArea } from './coalesce.js';
import { FlushTiming, type FlushTimingOptions } from './flush-timing.js';
import { queryMonitors } from './monitors.js';
import { XConn, XProtocolError, type XEvent } from './xconn.js';

const ZPIXMAP = 2;
const TRUE_COLOR = 4;
const LSB_FIRST = 0;
const DAMAGE_DELTA_RECTANGLES = 1;

interface DamageExt {
  majorOpcode: number;
  Create(damage: number, drawable: number, level: number): void;
  Destroy(damage: number): void;
  Subtract(damage: number, repair: number, parts: number): void;
}

interface DamageState {
  ext: DamageExt;
  fixes: FixesExt;
  id: number;
  region: number;
}

interface FixesExt {
  CreateRegion(region: number, rects: { x: number; y: number; width: number; height: number }[]): void;
  DestroyRegion(region: number): void;
  FetchRegion(region: number, cb: (err: unknown, reg?: { rectangles: { x: number; y: number; width: number; height: number }[] }) => unknown): void;
}

/** Throws RSO_ERR_CAPTURE unless the root visual is what GetImage can hand over unconverted. */
export function checkVisual(conn: XConn): void {
  const s = conn.screen;
  const visual = s.depths[s.root_depth]?.[s.root_visual];
  const fmt = conn.display.format[s.root_depth];
  const ok =
    visual !== undefined &&
    visual.class === TRUE_COLOR &&
    (s.root_depth === 24 || s.root_depth === 32) &&
    fmt?.bits_per_pixel === 32 &&
    conn.display.image_byte_order === LSB_FIRST &&
    visual.red_mask === 0xff0000 &&
    visual.green_mask === 0x00ff00 &&
    visual.blue_mask === 0x0000ff;
  if (!ok) {
    const detail = `depth ${s.root_depth}, class ${visual?.class}, bpp ${fmt?.bits_per_pixel}, byte order ${conn.display.image_byte_order}, masks ${visual?.red_mask?.toString(16)}/${visual?.green_mask?.toString(16)}/${visual?.blue_mask?.toString(16)}`;
    throw new RsoError('RSO_ERR_CAPTURE', 'This X display uses a pixel format rso cannot read directly (it needs 24-bit TrueColor).', detail);
  }
}

export interface X11CaptureOptions extends Omit<OpenCaptureOptions, 'backend'> {
  /**
   * Least time between two damage reports while drawing goes on (default 16 ms); the first
   * change after that long without a report is reported at once.
   */
  coalesceMs?: number;
  /** How long a large change waits for drawing to pause, and at most (flush-timing.ts; tests stretch them). */
  settleQuietMs?: number;
  settleMaxMs?: number;
}

export class X11Capture implements CaptureBackend {
  readonly name = 'x11' as const;
  readonly area: Rect;
  private readonly listeners = new Set<(rects: Rect[]) => void>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly timing: FlushTiming;
  private flushing = false;
  private again = false;
  private closed = false;
  private readonly offEvent: () => void;

  /** Set once by open(), after the event listener exists; null when the server lacks DAMAGE. */
  private damage: DamageState | null = null;

  private constructor(
    readonly conn: XConn,
    private readonly monitorList: Monitor[],
    area: Rect,
    timing: Omit<FlushTimingOptions, 'areaPixels'>,
  ) {
    this.area = area;
    this.timing = new FlushTiming({ ...timing, areaPixels: area.w * area.h });
    this.offEvent = conn.onEvent((e) => this.onXEvent(e));
  }

  get damageDriven(): boolean {
    return this.damage !== null;
  }

  static async open(opts: X11CaptureOptions = {}): Promise<X11Capture> {
    const conn = await XConn.open(opts.display);
    try {
      checkVisual(conn);
      const monitors = await queryMonitors(conn);
      const area = selectArea(monitors, { width: conn.screen.pixel_width, height: conn.screen.pixel_height }, opts.monitor);
      const capture = new X11Capture(conn, monitors, area, {
        coalesceMs: opts.coalesceMs ?? 16,
        ...(opts.settleQuietMs !== undefined ? { settleQuietMs: opts.settleQuietMs } : {}),
        ...(opts.settleMaxMs !== undefined ? { settleMaxMs: opts.settleMaxMs } : {}),
      });
      capture.damage = await X11Capture.startDamage(conn);
      // With DeltaRectangles the server reports only growth of the damaged region. Anything
      // drawn between startDamage's Subtract and this line was reported before we could take
      // it, so that part stays damaged and is never reported again: a frozen picture (seen
      // when sharing began while a terminal scrolled and the daemon's event loop was busy).
      // One flush now takes that region and empties it, so every later change is growth.
      if (capture.damage) void capture.flush();
      return capture;
    } catch (e) {
      await conn.close();
      throw e;
    }
  }

  /** Creates the Damage object and the scratch region; null when the server lacks DAMAGE. */
  private static async startDamage(conn: XConn): Promise<DamageState | null> {
    let ext: DamageExt;
    let fixes: FixesExt;
    try {
      ext = await conn.ext<DamageExt>('damage');
      fixes = await conn.ext<FixesExt>('fixes');
    } catch {
      // Without DAMAGE (or XFixes, which DAMAGE requires) capture still works by polling.
      return null;
    }
    const id = conn.allocId();
    const region = conn.allocId();
    fixes.CreateRegion(region, []);
    ext.Create(id, conn.root, DAMAGE_DELTA_RECTANGLES);
    // DamageCreate on a window starts with the whole window damaged; with DeltaRectangles the
    // server only reports growth, so unless that initial region is emptied now, no change
    // would ever be reported. The daemon begins with a full grab anyway.
    ext.Subtract(id, 0, 0);
    try {
      await conn.sync();
    } catch (e) {
      throw new RsoError('RSO_ERR_CAPTURE', 'The X server refused to report screen changes.', e instanceof Error ? e.message : String(e));
    }
    return { ext, fixes, id, region };
  }

  monitors(): Monitor[] {
    return this.monitorList.map((m) => ({ ...m }));
  }

  size(): { width: number; height: number } {
    return { width: this.area.w, height: this.area.h };
  }

  async grab(rect?: Rect): Promise<BgrxFrame> {
    const r = clipToArea(rect, this.area);
    let reply: { depth: number; data: Buffer };
    try {
      reply = await this.conn.req<{ depth: number; data: Buffer }>('GetImage', ZPIXMAP, this.conn.root, this.area.x + r.x, this.area.y + r.y, r.w, r.h, 0xffffffff);
    } catch (e) {
      if (e instanceof XProtocolError) throw new RsoError('RSO_ERR_CAPTURE', undefined, e.message);
      throw e;
    }
    const expected = r.w * r.h * 4;
    if (reply.data.length < expected) {
      throw new RsoError('RSO_ERR_CAPTURE', undefined, `GetImage returned ${reply.data.length} bytes for ${r.w}x${r.h}`);
    }
    const data = new Uint8Array(reply.data.buffer, reply.data.byteOffset, expected);
    return { format: 'bgrx', width: r.w, height: r.h, x: r.x, y: r.y, data };
  }

  onDamage(cb: (rects: Rect[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  onLost(cb: (err: RsoError) => void): () => void {
    return this.conn.onLost(cb);
  }

  async cursor(): Promise<{ x: number; y: number } | null> {
    const p = await this.conn.req<{ rootX: number; rootY: number; sameScreen: number }>('QueryPointer', this.conn.root);
    if (!p.sameScreen) return null;
    return { x: p.rootX - this.area.x, y: p.rootY - this.area.y };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.offEvent();
    this.listeners.clear();
    if (this.damage && !this.conn.closed) {
      // Freed explicitly (not only by closing the connection) so that a backend closed while
      // its connection is shared never leaves a Damage object behind.
      this.damage.ext.Destroy(this.damage.id);
      this.damage.fixes.DestroyRegion(this.damage.region);
      await this.conn.sync().catch(() => undefined);
    }
    await this.conn.close();
  }

  private onXEvent(e: XEvent): void {
    if (!this.damage || e.name !== 'DamageNotify' || e.damage !== this.damage.id) return;
    const delay = this.timing.report(performance.now(), this.areaWithin(e.area));
    if (delay === null) return;
    clearTimeout(this.flushTimer);
    // Even a delay of 0 defers the flush past the other events of the same read from the
    // socket, so one drawing request's reports make one flush.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.timing.fired();
      void this.flush();
    }, delay);
  }

  /** Pixels of a DamageNotify rectangle inside the shared area (0 for a malformed one). */
  private areaWithin(area: unknown): number {
    const a = area as { x?: unknown; y?: unknown; w?: unknown; h?: unknown } | undefined;
    if (!a || typeof a.x !== 'number' || typeof a.y !== 'number' || typeof a.w !== 'number' || typeof a.h !== 'number') return 0;
    const r = this.area;
    const w = Math.min(a.x + a.w, r.x + r.w) - Math.max(a.x, r.x);
    const h = Math.min(a.y + a.h, r.y + r.h) - Math.max(a.y, r.y);
    return w > 0 && h > 0 ? w * h : 0;
  }

  private async flush(): Promise<void> {
    const d = this.damage;
    if (!d || this.closed) return;
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    this.timing.flushing(performance.now());
    try {
      d.ext.Subtract(d.id, 0, d.region);
      const reg = await new Promise<{ rectangles: { x: number; y: number; width: number; height: number }[] }>((resolve, reject) => {
        d.fixes.FetchRegion(d.region, function (err, r) {
          if (err || !r) reject(new XProtocolError('XFixesFetchRegion', err));
          else resolve(r);
          return true;
        });
      });
      const rects = toArea(
        coalesce(reg.rectangles.map((r) => ({ x: r.x, y: r.y, w: r.width, h: r.height }))),
        this.area,
      );
      if (rects.length > 0 && !this.closed) for (const l of this.listeners) l(rects);
    } catch {
      // A failed fetch loses nothing visible: the daemon's next full grab repaints; the next
      // DamageNotify retries. The connection's own failure surfaces on the next grab().
    } finally {
      this.flushing = false;
      if (this.again) {
        this.again = false;
        void this.flush();
      }
    }
  }
}

export function openX11Capture(opts: X11CaptureOptions): Promise<X11Capture> {
  return X11Capture.open(opts);
}
