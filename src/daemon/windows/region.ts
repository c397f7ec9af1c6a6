// What of the screen may be shown when the customer shares only some applications, and the
// masking that hides the rest. Pure: rectangles and bytes in, rectangles and bytes out.
//
// The shown region is every chosen window's rectangle minus every non-chosen window stacked
// above it: a chat window of another application dragged over a shared editor hides that part
// of the editor, and that part must be masked, never sent.

import type { BgrxFramebuffer, Rect } from '../../codec/framebuffer.js';

export interface StackedWindow {
  /** Frame rectangle in the same coordinates as the frame that will be masked. */
  rect: Rect;
  /** False for unmapped or minimised windows: they cover nothing and show nothing. */
  visible: boolean;
}

/** a minus b, as up to four disjoint rectangles (above, below, left, right of b's overlap). */
export function subtract(a: Rect, b: Rect): Rect[] {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w);
  const y1 = Math.min(a.y + a.h, b.y + b.h);
  if (x1 <= x0 || y1 <= y0) return [a];
  const out: Rect[] = [];
  if (y0 > a.y) out.push({ x: a.x, y: a.y, w: a.w, h: y0 - a.y });
  if (y1 < a.y + a.h) out.push({ x: a.x, y: y1, w: a.w, h: a.y + a.h - y1 });
  if (x0 > a.x) out.push({ x: a.x, y: y0, w: x0 - a.x, h: y1 - y0 });
  if (x1 < a.x + a.w) out.push({ x: x1, y: y0, w: a.x + a.w - x1, h: y1 - y0 });
  return out;
}

/**
 * The region to show: disjoint rectangles covering each chosen, visible window minus every
 * window above it. Walking from the top down, everything already seen covers what is below.
 */
export function visibleRegion<W extends StackedWindow>(windowsBottomToTop: readonly W[], isChosen: (w: W) => boolean): Rect[] {
  const covered: Rect[] = [];
  const shown: Rect[] = [];
  for (let i = windowsBottomToTop.length - 1; i >= 0; i--) {
    const w = windowsBottomToTop[i]!;
    if (!w.visible || w.rect.w <= 0 || w.rect.h <= 0) continue;
    if (isChosen(w)) {
      let pieces: Rect[] = [w.rect];
      for (const c of covered) {
        pieces = pieces.flatMap((p) => subtract(p, c));
        if (pieces.length === 0) break;
      }
      shown.push(...pieces);
    }
    covered.push(w.rect);
  }
  return shown;
}

/** Sorted, merged [start, end) spans of the region on one band of rows. */
function spansForRow(region: readonly Rect[], y: number, x0: number, x1: number): number[] {
  const raw: [number, number][] = [];
  for (const r of region) {
    if (y < r.y || y >= r.y + r.h) continue;
    const s = Math.max(r.x, x0);
    const e = Math.min(r.x + r.w, x1);
    if (e > s) raw.push([s, e]);
  }
  raw.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [s, e] of raw) {
    const n = out.length;
    if (n > 0 && s <= out[n - 1]!) out[n - 1] = Math.max(out[n - 1]!, e);
    else out.push(s, e);
  }
  return out;
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A BGRX pixel of colour 0xRRGGBB as the Uint32 that stores those bytes on this machine. */
function bgrxWord(rgb: number): number {
  const b = rgb & 0xff;
  const g = (rgb >>> 8) & 0xff;
  const r = (rgb >>> 16) & 0xff;
  return littleEndian ? ((r << 16) | (g << 8) | b) >>> 0 : ((b << 24) | (g << 16) | (r << 8)) >>> 0;
}

/** The neutral grey the agent sees where nothing is shared. */
export const MASK_FILL = 0x3c3c3c;

/**
 * Paints every pixel of `frame` outside `region` with `fill` (0xRRGGBB), in place.
 * `frameOrigin` is where the frame's top-left pixel sits in the region's coordinates (for a
 * grab of a monitor at 1920,0 with a region in root coordinates: { x: 1920 + grab.x, ... }).
 * Rows are processed in bands that share the same spans, and each gap is one native fill.
 */
export function maskFrame(frame: BgrxFramebuffer, frameOrigin: { x: number; y: number }, region: readonly Rect[], fill: number = MASK_FILL): void {
  const { width, height } = frame;
  if (width === 0 || height === 0) return;
  const word = bgrxWord(fill);
  const aligned = frame.data.byteOffset % 4 === 0;
  const px = aligned ? new Uint32Array(frame.data.buffer, frame.data.byteOffset, width * height) : null;
  const fillBytes = [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24];
  const paint = (start: number, end: number): void => {
    if (end <= start) return;
    if (px) {
      px.fill(word, start, end);
      return;
    }
    // Unaligned views cannot be viewed as 32-bit words; fill byte by byte (rare: only for
    // frames carved out of a larger buffer at an odd offset).
    const d = frame.data;
    for (let i = start * 4; i < end * 4; i += 4) {
      d[i] = fillBytes[0]!;
      d[i + 1] = fillBytes[1]!;
      d[i + 2] = fillBytes[2]!;
      d[i + 3] = fillBytes[3]!;
    }
  };
  // Band edges: rows where the set of covering rectangles can change.
  const x0 = frameOrigin.x;
  const x1 = frameOrigin.x + width;
  const edges = new Set<number>([0, height]);
  for (const r of region) {
    const a = r.y - frameOrigin.y;
    const b = r.y + r.h - frameOrigin.y;
    if (a > 0 && a < height) edges.add(a);
    if (b > 0 && b < height) edges.add(b);
  }
  const bands = [...edges].sort((a, b) => a - b);
  for (let k = 0; k + 1 < bands.length; k++) {
    const top = bands[k]!;
    const bottom = bands[k + 1]!;
    const spans = spansForRow(region, top + frameOrigin.y, x0, x1);
    for (let row = top; row < bottom; row++) {
      const base = row * width;
      let cursor = 0;
      for (let s = 0; s < spans.length; s += 2) {
        paint(base + cursor, base + (spans[s]! - x0));
        cursor = spans[s + 1]! - x0;
      }
      paint(base + cursor, base + width);
    }
  }
}
