// Framebuffers and rectangles: the two value types every other codec file works on.
//
// Two pixel formats, named in the value itself so a BGRX buffer can never be painted as RGB by
// accident (the compiler sees the `format` field):
// - 'bgrx': 4 bytes per pixel, B G R then one unused byte. This is what X11 GetImage returns
//   in ZPixmap format on a 24-bit TrueColor visual (32 bits per pixel, little-endian), so the
//   capture side never converts before it knows a tile changed.
// - 'rgb': 3 bytes per pixel, the agent's framebuffer. Tile payloads are RGB so kitty graphics
//   (f=24) can take them without conversion.
// Rows are tightly packed (stride = width * bytes per pixel): X pads ZPixmap rows to 32 bits,
// which at 32 bits per pixel is no padding at all.

export type PixelFormat = 'bgrx' | 'rgb';

export interface Framebuffer<F extends PixelFormat = PixelFormat> {
  format: F;
  width: number;
  height: number;
  data: Uint8Array;
}

export type BgrxFramebuffer = Framebuffer<'bgrx'>;
export type RgbFramebuffer = Framebuffer<'rgb'>;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function bytesPerPixel(format: PixelFormat): 3 | 4 {
  return format === 'bgrx' ? 4 : 3;
}

/** A zero-filled (black) framebuffer. */
export function createFramebuffer<F extends PixelFormat>(format: F, width: number, height: number): Framebuffer<F> {
  checkSize(width, height);
  return { format, width, height, data: new Uint8Array(width * height * bytesPerPixel(format)) };
}

/** Wraps existing pixel bytes, checking that their length matches the size and format. */
export function wrapFramebuffer<F extends PixelFormat>(format: F, width: number, height: number, data: Uint8Array): Framebuffer<F> {
  checkSize(width, height);
  const expected = width * height * bytesPerPixel(format);
  if (data.length !== expected) {
    throw new RangeError(`framebuffer data is ${data.length} bytes, expected ${expected} for ${width}x${height} ${format}`);
  }
  return { format, width, height, data };
}

function checkSize(width: number, height: number): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`invalid framebuffer size ${width}x${height}`);
  }
}

export function isEmpty(r: Rect): boolean {
  return r.w <= 0 || r.h <= 0;
}

/** The overlap of two rectangles, or null when they do not overlap. */
export function intersect(a: Rect, b: Rect): Rect | null {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w);
  const y1 = Math.min(a.y + a.h, b.y + b.h);
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** The part of `r` inside a width x height frame, or null when nothing of it is inside. */
export function clip(r: Rect, width: number, height: number): Rect | null {
  return intersect(r, { x: 0, y: 0, w: width, h: height });
}

/** The smallest rectangle holding both (an empty rectangle adds nothing). */
export function union(a: Rect, b: Rect): Rect {
  if (isEmpty(a)) return { ...b };
  if (isEmpty(b)) return { ...a };
  const x0 = Math.min(a.x, b.x);
  const y0 = Math.min(a.y, b.y);
  const x1 = Math.max(a.x + a.w, b.x + b.w);
  const y1 = Math.max(a.y + a.h, b.y + b.h);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** The smallest rectangle holding all of them, or null for none (or only empty ones). */
export function bounds(rects: readonly Rect[]): Rect | null {
  let out: Rect | null = null;
  for (const r of rects) {
    if (isEmpty(r)) continue;
    out = out ? union(out, r) : { ...r };
  }
  return out;
}

export function sameRect(a: Rect, b: Rect): boolean {
  return a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h;
}
