// Move and scroll detection: finds parts of the new picture that are the agent's previous
// picture shifted by one offset (a terminal that scrolled, a window dragged), so the update can
// say "copy this rectangle from there" (a 13-byte copy tile, kitty `a=c` on the agent) instead
// of recompressing pixels the agent already has.
//
// How: sample short horizontal segments ("probes") of the new picture inside the changed
// region, look for each in the previous picture with a rolling hash over the same region, and
// let the probes vote for an offset; then keep the 64x64 tiles that match exactly under the
// winning offset, merge them into rectangles and grow each rectangle's edges pixel line by
// pixel line (a window edge rarely sits on the tile grid). Every copy returned is verified
// pixel for pixel, so applying it can never make the agent's picture wrong, only cheaper.
//
// Pure: framebuffers in, rectangles out.

import { clip, intersect, type BgrxFramebuffer, type Rect } from './framebuffer.js';
import { TILE_SIZE } from './tiles.js';

/** A rectangle of the new picture equal to the previous picture at (srcX, srcY). */
export interface CopyRect extends Rect {
  srcX: number;
  srcY: number;
}

export interface MoveOptions {
  /** Pixels per probe segment. */
  probeWidth?: number;
  /** At most this many probe rows and columns are sampled over the region. */
  probeRows?: number;
  probeCols?: number;
  /** A copy smaller than this many pixels is not worth a tile header. */
  minArea?: number;
}

const DEFAULTS: Required<MoveOptions> = { probeWidth: 32, probeRows: 24, probeCols: 12, minArea: 64 * 16 };

// Polynomial hash base (odd, so powers never collapse to 0 mod 2^32).
const BASE = 0x01000193;

// Pixels are compared without the X byte of BGRX (0xXXRRGGBB): it is not part of the colour.
const RGB = 0xffffff;

function words(fb: BgrxFramebuffer): Uint32Array {
  if (fb.data.byteOffset % 4 !== 0) throw new RangeError('BGRX pixel data must start at a 4-byte-aligned offset');
  return new Uint32Array(fb.data.buffer, fb.data.byteOffset, fb.data.length >>> 2);
}

/**
 * The rectangles of `next` (inside `region`) that are `prev` shifted by one common offset,
 * with their sources; empty when nothing moved. `prev` and `next` must have the same size.
 */
export function findCopies(prev: BgrxFramebuffer, next: BgrxFramebuffer, region: Rect, options: MoveOptions = {}): CopyRect[] {
  if (prev.width !== next.width || prev.height !== next.height) return [];
  const opts = { ...DEFAULTS, ...options };
  const r = clip(region, next.width, next.height);
  if (!r || r.w < opts.probeWidth || r.h < 2) return [];
  const a = words(prev);
  const b = words(next);
  const offset = voteOffset(a, b, next.width, r, opts);
  if (!offset) return [];
  return copyRects(a, b, next.width, next.height, r, offset.dx, offset.dy, opts.minArea);
}

interface Probe {
  x: number;
  y: number;
  hash: number;
  hits: number;
  offsets: number[];
}

function segmentHash(px: Uint32Array, at: number, n: number): number {
  let h = 0;
  for (let i = 0; i < n; i++) h = (Math.imul(h, BASE) + (px[at + i]! & RGB)) | 0;
  return h >>> 0;
}

/** The offset (content moved by dx, dy) most probes agree on, or null. */
function voteOffset(a: Uint32Array, b: Uint32Array, width: number, r: Rect, opts: Required<MoveOptions>): { dx: number; dy: number } | null {
  const L = opts.probeWidth;
  const probes: Probe[] = [];
  const rowStep = Math.max(1, Math.floor(r.h / opts.probeRows));
  const colStep = Math.max(1, Math.floor((r.w - L + 1) / opts.probeCols));
  // One probe per cell of a coarse grid over the region: the first row of the cell whose
  // segment is usable. Probing a fixed row per cell would alias with text: rows spaced by a
  // multiple of the line height all land on the blank rows between lines.
  for (let cy = r.y; cy < r.y + r.h; cy += rowStep) {
    for (let x = r.x; x + L <= r.x + r.w; x += colStep) {
      for (let y = cy; y < Math.min(cy + rowStep, r.y + r.h); y++) {
        const at = y * width + x;
        // A probe must be distinctive (a run of one colour matches everywhere) and must have
        // changed (an unchanged probe only votes for "no move").
        let edges = 0;
        let changed = false;
        for (let i = 0; i < L; i++) {
          if (i > 0 && ((b[at + i]! ^ b[at + i - 1]!) & RGB) !== 0) edges++;
          if (((b[at + i]! ^ a[at + i]!) & RGB) !== 0) changed = true;
        }
        if (edges >= 3 && changed) {
          probes.push({ x, y, hash: segmentHash(b, at, L), hits: 0, offsets: [] });
          break;
        }
      }
    }
  }
  if (probes.length < 2) return null;

  const MAX_HITS = 4;
  // Scrolling is the common move and is vertical: look for each probe straight above and
  // below it first (one pixel compared per row, almost always), and skip the 2D search when
  // enough probes agree on one vertical offset.
  const vertical = new Map<number, number>();
  for (const p of probes) {
    const at = p.y * width + p.x;
    const first = b[at]! & RGB;
    const dys: number[] = [];
    for (let y = r.y; y < r.y + r.h && dys.length <= MAX_HITS; y++) {
      const from = y * width + p.x;
      if (((a[from]! & RGB) === first) && equalRun(a, from, b, at, L)) dys.push(p.y - y);
    }
    if (dys.length > MAX_HITS) continue;
    for (const dy of dys) vertical.set(dy, (vertical.get(dy) ?? 0) + 1);
  }
  let bestDy = 0;
  let bestDyVotes = 0;
  for (const [dy, n] of vertical) {
    if (n > bestDyVotes) {
      bestDy = dy;
      bestDyVotes = n;
    }
  }
  if (bestDy !== 0 && bestDyVotes >= Math.max(3, probes.length / 10)) return { dx: 0, dy: bestDy };

  const filter = new Uint8Array(65536);
  const byHash = new Map<number, Probe[]>();
  for (const p of probes) {
    filter[p.hash >>> 16] = 1;
    const list = byHash.get(p.hash);
    if (list) list.push(p);
    else byHash.set(p.hash, [p]);
  }

  // BASE^L, to take the leaving pixel out of the rolling hash.
  let top = 1;
  for (let i = 0; i < L; i++) top = Math.imul(top, BASE);
  for (let y = r.y; y < r.y + r.h; y++) {
    const row = y * width;
    let h = segmentHash(a, row + r.x, L);
    for (let x = r.x; ; x++) {
      if (filter[h >>> 16] === 1) {
        const list = byHash.get(h);
        if (list) {
          for (const p of list) {
            if (p.hits > MAX_HITS || !equalRun(a, row + x, b, p.y * width + p.x, L)) continue;
            p.hits++;
            p.offsets.push(p.x - x, p.y - y);
          }
        }
      }
      if (x + L >= r.x + r.w) break;
      h = (Math.imul(h, BASE) - Math.imul(top, a[row + x]! & RGB) + (a[row + x + L]! & RGB)) | 0;
      h >>>= 0;
    }
  }

  // A probe found in many places (a repeated pattern) says nothing about where it came from.
  const votes = new Map<number, number>();
  for (const p of probes) {
    if (p.hits === 0 || p.hits > MAX_HITS) continue;
    for (let i = 0; i < p.offsets.length; i += 2) {
      const key = (p.offsets[i]! + 0x8000) * 0x10000 + (p.offsets[i + 1]! + 0x8000);
      votes.set(key, (votes.get(key) ?? 0) + 1);
    }
  }
  let best = -1;
  let bestVotes = 1;
  for (const [key, n] of votes) {
    if (n > bestVotes) {
      best = key;
      bestVotes = n;
    }
  }
  if (best < 0) return null;
  const dx = Math.floor(best / 0x10000) - 0x8000;
  const dy = (best % 0x10000) - 0x8000;
  return dx === 0 && dy === 0 ? null : { dx, dy };
}

function equalRun(a: Uint32Array, at: number, b: Uint32Array, bt: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (((a[at + i]! ^ b[bt + i]!) & RGB) !== 0) return false;
  return true;
}

/** next[rect] == prev[rect - (dx, dy)], with the source inside the frame. */
function matches(a: Uint32Array, b: Uint32Array, width: number, height: number, t: Rect, dx: number, dy: number): boolean {
  const sx = t.x - dx;
  const sy = t.y - dy;
  if (sx < 0 || sy < 0 || sx + t.w > width || sy + t.h > height) return false;
  for (let y = 0; y < t.h; y++) {
    if (!equalRun(a, (sy + y) * width + sx, b, (t.y + y) * width + t.x, t.w)) return false;
  }
  return true;
}

function unchanged(a: Uint32Array, b: Uint32Array, width: number, t: Rect): boolean {
  for (let y = t.y; y < t.y + t.h; y++) if (!equalRun(a, y * width + t.x, b, y * width + t.x, t.w)) return false;
  return true;
}

const NO = 0;
const DONT_CARE = 1; // matches under the offset but did not change: may sit inside a copy
const YES = 2;

function copyRects(a: Uint32Array, b: Uint32Array, width: number, height: number, r: Rect, dx: number, dy: number, minArea: number): CopyRect[] {
  // Tiles on the global 64x64 grid, clipped to the region.
  const c0 = Math.floor(r.x / TILE_SIZE);
  const c1 = Math.floor((r.x + r.w - 1) / TILE_SIZE);
  const r0 = Math.floor(r.y / TILE_SIZE);
  const r1 = Math.floor((r.y + r.h - 1) / TILE_SIZE);
  const cols = c1 - c0 + 1;
  const rows = r1 - r0 + 1;
  // A tile of the grid, clipped to the region (so nothing outside the region is ever copied).
  const cellRect = (col: number, row: number): Rect => intersect({ x: (c0 + col) * TILE_SIZE, y: (r0 + row) * TILE_SIZE, w: TILE_SIZE, h: TILE_SIZE }, r)!;
  const grid = new Uint8Array(cols * rows);
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const t = cellRect(col, row);
      if (!matches(a, b, width, height, t, dx, dy)) continue;
      grid[row * cols + col] = unchanged(a, b, width, t) ? DONT_CARE : YES;
    }
  }

  // Runs of matching tiles per tile row (trimmed to start and end on a changed tile), merged
  // downwards while the next row has the very same run.
  interface Run { col: number; cols: number; row: number; rows: number }
  const runs: Run[] = [];
  let open = new Map<number, Run>();
  for (let row = 0; row < rows; row++) {
    const next = new Map<number, Run>();
    let col = 0;
    while (col < cols) {
      if (grid[row * cols + col] === NO) {
        col++;
        continue;
      }
      const start = col;
      while (col < cols && grid[row * cols + col] !== NO) col++;
      let s = start;
      let e = col;
      while (s < e && grid[row * cols + s] === DONT_CARE) s++;
      while (e > s && grid[row * cols + e - 1] === DONT_CARE) e--;
      if (s === e) continue;
      const key = s * 0x10000 + e;
      const prev = open.get(key);
      if (prev) {
        prev.rows++;
        next.set(key, prev);
        open.delete(key);
      } else {
        const run = { col: s, cols: e - s, row, rows: 1 };
        runs.push(run);
        next.set(key, run);
      }
    }
    open = next;
  }

  const out: CopyRect[] = [];
  for (const run of runs) {
    const first = cellRect(run.col, run.row);
    const last = cellRect(run.col + run.cols - 1, run.row + run.rows - 1);
    const rect = grow(a, b, width, height, r, { x: first.x, y: first.y, w: last.x + last.w - first.x, h: last.y + last.h - first.y }, dx, dy);
    if (rect.w * rect.h >= minArea) out.push({ ...rect, srcX: rect.x - dx, srcY: rect.y - dy });
  }
  // Grown rectangles may overlap where they grew through a partly matching tile next to
  // another run. That is harmless for the picture (both copy the same pixels) and keeps the
  // partial tiles covered, but the decoder refuses updates whose tiles cover more than twice
  // the frame (update.ts, maxAreaRatio) and painted tiles may cover up to one frame more: so
  // the copies keep to one frame's worth, the largest first.
  out.sort((p, q) => q.w * q.h - p.w * p.h);
  let area = 0;
  return out.filter((c) => (area += c.w * c.h) <= width * height);
}

/**
 * Extends a verified copy rectangle one pixel line at a time on each side (at most a tile's
 * worth, inside the region) while the new line still matches: window edges and the last
 * scrolled line rarely fall on the tile grid.
 */
function grow(a: Uint32Array, b: Uint32Array, width: number, height: number, r: Rect, rect: Rect, dx: number, dy: number): Rect {
  let { x, y, w, h } = rect;
  for (let n = 0; n < TILE_SIZE && y > r.y && matches(a, b, width, height, { x, y: y - 1, w, h: 1 }, dx, dy); n++) {
    y--;
    h++;
  }
  for (let n = 0; n < TILE_SIZE && y + h < r.y + r.h && matches(a, b, width, height, { x, y: y + h, w, h: 1 }, dx, dy); n++) h++;
  for (let n = 0; n < TILE_SIZE && x > r.x && matches(a, b, width, height, { x: x - 1, y, w: 1, h }, dx, dy); n++) {
    x--;
    w++;
  }
  for (let n = 0; n < TILE_SIZE && x + w < r.x + r.w && matches(a, b, width, height, { x: x + w, y, w: 1, h }, dx, dy); n++) w++;
  return { x, y, w, h };
}

/**
 * Applies copies to a framebuffer the way the agent will (src/codec/update.ts applyUpdate):
 * every source is read before any destination is written, so a scroll may copy onto itself.
 */
export function applyCopies(fb: BgrxFramebuffer, copies: readonly CopyRect[]): void {
  const px = words(fb);
  const sources = copies.map((c) => {
    const buf = new Uint32Array(c.w * c.h);
    for (let y = 0; y < c.h; y++) buf.set(px.subarray((c.srcY + y) * fb.width + c.srcX, (c.srcY + y) * fb.width + c.srcX + c.w), y * c.w);
    return buf;
  });
  copies.forEach((c, i) => {
    const buf = sources[i]!;
    for (let y = 0; y < c.h; y++) px.set(buf.subarray(y * c.w, (y + 1) * c.w), (c.y + y) * fb.width + c.x);
  });
}
