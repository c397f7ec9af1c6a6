// Coalescing of damaged rectangles. X reports damage as many small rectangles (a line of text
// is one per glyph run); each GetImage round trip costs far more than a few extra pixels, so
// neighbours are merged when their bounding box wastes little, and a burst of very many
// rectangles becomes one bounding box.

import type { Rect } from '../../codec/framebuffer.js';

export interface CoalesceOptions {
  /** Merge two rectangles when their bounding box adds at most this many pixels. */
  slackPixels?: number;
  /** Above this many rectangles after merging, return their bounding box instead. */
  maxRects?: number;
}

const area = (r: Rect): number => r.w * r.h;

function bbox(a: Rect, b: Rect): Rect {
  const x0 = Math.min(a.x, b.x);
  const y0 = Math.min(a.y, b.y);
  return { x: x0, y: y0, w: Math.max(a.x + a.w, b.x + b.w) - x0, h: Math.max(a.y + a.h, b.y + b.h) - y0 };
}

function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Returns rectangles covering every input pixel; fewer, possibly a little larger. */
export function coalesce(input: readonly Rect[], opts: CoalesceOptions = {}): Rect[] {
  const slack = opts.slackPixels ?? 64 * 64;
  const maxRects = opts.maxRects ?? 32;
  const rects = input.filter((r) => r.w > 0 && r.h > 0).map((r) => ({ ...r }));
  let merged = true;
  while (merged && rects.length > 1) {
    merged = false;
    for (let i = 0; i < rects.length && !merged; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const a = rects[i]!;
        const b = rects[j]!;
        const box = bbox(a, b);
        const covered = area(a) + area(b) - overlapArea(a, b);
        if (area(box) - covered <= slack) {
          rects[i] = box;
          rects.splice(j, 1);
          merged = true;
          break;
        }
      }
    }
  }
  if (rects.length > maxRects) return [rects.reduce(bbox)];
  return rects;
}

/** Translates root-coordinate rectangles into an area and clips them to it. */
export function toArea(rects: readonly Rect[], area: Rect): Rect[] {
  const out: Rect[] = [];
  for (const r of rects) {
    const x0 = Math.max(r.x, area.x);
    const y0 = Math.max(r.y, area.y);
    const x1 = Math.min(r.x + r.w, area.x + area.w);
    const y1 = Math.min(r.y + r.h, area.y + area.h);
    if (x1 > x0 && y1 > y0) out.push({ x: x0 - area.x, y: y0 - area.y, w: x1 - x0, h: y1 - y0 });
  }
  return out;
}
