// The tile grid and change detection: which 64x64 tiles differ between what the agent already
// has (`prev`) and the new capture (`next`).
//
// Tiles are numbered row-major from the top-left; tiles on the right and bottom edges are
// smaller when the frame size is not a multiple of the tile size. 64 is a compromise: small
// enough that a typed glyph resends ~12 KB of raw pixels at most, large enough that a full
// 1920x1080 frame is only 510 tiles (the per-tile header is 9 bytes).

import { clip, type Framebuffer, type Rect, bytesPerPixel } from './framebuffer.js';

export const TILE_SIZE = 64;

export interface TileGrid {
  width: number;
  height: number;
  size: number;
  cols: number;
  rows: number;
  count: number;
}

export function tileGrid(width: number, height: number, size: number = TILE_SIZE): TileGrid {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`invalid tile size ${size}`);
  const cols = Math.ceil(width / size);
  const rows = Math.ceil(height / size);
  return { width, height, size, cols, rows, count: cols * rows };
}

/** The pixels of tile `index`, clipped to the frame. */
export function tileRect(grid: TileGrid, index: number): Rect {
  if (!Number.isSafeInteger(index) || index < 0 || index >= grid.count) {
    throw new RangeError(`tile ${index} is outside a grid of ${grid.count}`);
  }
  const x = (index % grid.cols) * grid.size;
  const y = Math.floor(index / grid.cols) * grid.size;
  return { x, y, w: Math.min(grid.size, grid.width - x), h: Math.min(grid.size, grid.height - y) };
}

/** Indices (ascending) of the tiles that a rectangle touches; parts outside the frame are ignored. */
export function tilesCovering(grid: TileGrid, rect: Rect): number[] {
  const r = clip(rect, grid.width, grid.height);
  if (!r) return [];
  const out: number[] = [];
  const c0 = Math.floor(r.x / grid.size);
  const c1 = Math.floor((r.x + r.w - 1) / grid.size);
  const r0 = Math.floor(r.y / grid.size);
  const r1 = Math.floor((r.y + r.h - 1) / grid.size);
  for (let row = r0; row <= r1; row++) {
    for (let col = c0; col <= c1; col++) out.push(row * grid.cols + col);
  }
  return out;
}

/**
 * Indices (ascending) of the tiles of `next` that differ from `prev`.
 *
 * With no `prev`, or when the size or format changed, every tile is new. With `hint` (the
 * damage rectangles the capture reported), only tiles touching a hint rectangle are compared:
 * the rest of the screen is taken as unchanged, which is what makes an idle screen cost nothing.
 * Comparison is byte-exact, row by row, and stops at the first differing row of a tile.
 */
export function changedTiles(prev: Framebuffer | null, next: Framebuffer, hint?: readonly Rect[]): number[] {
  const grid = tileGrid(next.width, next.height);
  if (!prev || prev.format !== next.format || prev.width !== next.width || prev.height !== next.height) {
    return Array.from({ length: grid.count }, (_, i) => i);
  }
  const view = comparableViews(prev, next);
  const changed = new Uint8Array(grid.count);

  if (hint) {
    const candidates = new Uint8Array(grid.count);
    for (const r of hint) for (const i of tilesCovering(grid, r)) candidates[i] = 1;
    for (let i = 0; i < grid.count; i++) {
      if (candidates[i] && tileDiffers(view, grid, i)) changed[i] = 1;
    }
  } else {
    // Whole-frame scan: compare each full screen row first, because on a mostly idle screen
    // nearly every row is equal and one long comparison is cheaper than `cols` short ones.
    const rowUnits = next.width * view.unitsPerPixel;
    for (let row = 0; row < grid.rows; row++) {
      const y0 = row * grid.size;
      const y1 = Math.min(y0 + grid.size, grid.height);
      for (let y = y0; y < y1; y++) {
        if (rangeEqual(view.a, view.b, y * rowUnits, rowUnits)) continue;
        for (let col = 0; col < grid.cols; col++) {
          const i = row * grid.cols + col;
          if (changed[i]) continue;
          const x = col * grid.size;
          const w = Math.min(grid.size, grid.width - x);
          const at = y * rowUnits + x * view.unitsPerPixel;
          if (!rangeEqual(view.a, view.b, at, w * view.unitsPerPixel)) changed[i] = 1;
        }
      }
    }
  }

  const out: number[] = [];
  for (let i = 0; i < grid.count; i++) if (changed[i]) out.push(i);
  return out;
}

interface Views {
  a: Uint8Array | Uint32Array;
  b: Uint8Array | Uint32Array;
  unitsPerPixel: number;
}

// A BGRX pixel is exactly one 32-bit word, so comparing Uint32 views does a quarter of the
// iterations. Typed-array views need 4-byte-aligned offsets; anything else (RGB, or a BGRX
// buffer that is an unaligned subarray) is compared byte by byte.
function comparableViews(prev: Framebuffer, next: Framebuffer): Views {
  const bpp = bytesPerPixel(next.format);
  if (bpp === 4 && prev.data.byteOffset % 4 === 0 && next.data.byteOffset % 4 === 0) {
    return {
      a: new Uint32Array(prev.data.buffer, prev.data.byteOffset, prev.data.length >>> 2),
      b: new Uint32Array(next.data.buffer, next.data.byteOffset, next.data.length >>> 2),
      unitsPerPixel: 1,
    };
  }
  return { a: prev.data, b: next.data, unitsPerPixel: bpp };
}

function tileDiffers(view: Views, grid: TileGrid, index: number): boolean {
  const r = tileRect(grid, index);
  const rowUnits = grid.width * view.unitsPerPixel;
  const n = r.w * view.unitsPerPixel;
  for (let y = r.y; y < r.y + r.h; y++) {
    if (!rangeEqual(view.a, view.b, y * rowUnits + r.x * view.unitsPerPixel, n)) return true;
  }
  return false;
}

// Plain early-exit loop: measured faster in V8 than both an OR-accumulating loop and a
// manually unrolled one, and the pure core has no Buffer.compare to call.
function rangeEqual(a: Uint8Array | Uint32Array, b: Uint8Array | Uint32Array, at: number, n: number): boolean {
  const end = at + n;
  for (let i = at; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}
