// The one interface every terminal graphics encoder implements (kitty, sixel, half-blocks),
// plus the small geometry and escape helpers they share. Renderers are pure: framebuffer and
// placement in, terminal bytes (as a string) out. The viewer writes the string; nothing here
// touches a stream.

/** A frame in the viewer's local framebuffer: RGB, 3 bytes per pixel, row-major, no padding. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A rectangle in frame pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * A tile exactly as the codec produced it: zlib (level 1) of the tile's RGB bytes, row-major,
 * `width * height * 3` bytes once inflated. Kitty can take it as-is (`o=z,f=24`).
 */
export interface ZlibTile extends Rect {
  zlib: Uint8Array;
}

/**
 * Where the picture goes on the terminal: the cell rectangle Ink left empty (0-based cells)
 * and the size of one cell in pixels (from CSI 16 t, see detect.ts).
 */
export interface Placement {
  row: number;
  col: number;
  cols: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
}

export type GraphicsKind = 'kitty' | 'sixel' | 'blocks';

export interface Renderer {
  readonly kind: GraphicsKind;
  /** Paint the whole frame into the placement. */
  full(frame: RgbFrame, at: Placement): string;
  /**
   * Repaint only what changed. `frame` is the framebuffer after the change; `changed` are the
   * rectangles that differ from what was painted before. `zlibTiles`, when given, are the
   * codec's compressed tiles covering the change (only kitty uses them).
   */
  update(frame: RgbFrame, changed: readonly Rect[], at: Placement, zlibTiles?: readonly ZlibTile[]): string;
  /** Remove the picture and blank the area (used on exit and on resize). */
  clear(at: Placement): string;
}

/**
 * The frame size (pixels) the viewer should ask the daemon for, so the renderer never rescales:
 * pixel protocols show one frame pixel per screen pixel; half-blocks show one pixel per cell
 * horizontally and two vertically.
 */
export function pixelSizeFor(kind: GraphicsKind, at: Placement): { width: number; height: number } {
  if (kind === 'blocks') return { width: at.cols, height: at.rows * 2 };
  return { width: at.cols * at.cellWidth, height: at.rows * at.cellHeight };
}

// DECSC/DECRC rather than CSI s/u: CSI s is "set left/right margins" when DECLRMM is on, and
// DECSC also saves SGR, so whatever colours we leave behind are undone by the restore too.
export const SAVE_CURSOR = '\x1b7';
export const RESTORE_CURSOR = '\x1b8';

/** Absolute cursor position (CUP) from 0-based row/col. */
export function moveTo(row: number, col: number): string {
  return `\x1b[${row + 1};${col + 1}H`;
}

/**
 * Overwrite the placement with default-coloured spaces, one positioned row at a time. Text
 * written over sixel pixels replaces them in sixel terminals, and it blanks half-blocks.
 */
export function blankArea(at: Placement): string {
  let out = SAVE_CURSOR + '\x1b[0m';
  const blank = ' '.repeat(at.cols);
  for (let y = 0; y < at.rows; y++) out += moveTo(at.row + y, at.col) + blank;
  return out + RESTORE_CURSOR;
}

/** Intersect a rectangle with the frame; null when nothing is left. Integer-safe. */
export function clipRect(r: Rect, width: number, height: number): Rect | null {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const x1 = Math.min(width, Math.ceil(r.x + r.width));
  const y1 = Math.min(height, Math.ceil(r.y + r.height));
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Copy a rectangle's RGB bytes out of the frame into a packed buffer. */
export function cropRgb(frame: RgbFrame, r: Rect): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 3);
  const rowBytes = r.width * 3;
  for (let y = 0; y < r.height; y++) {
    const src = ((r.y + y) * frame.width + r.x) * 3;
    out.set(frame.data.subarray(src, src + rowBytes), y * rowBytes);
  }
  return out;
}

/**
 * Mark which cells of a grid the rectangles touch. Pixel rects are mapped to cells of
 * `cellW x cellH` pixels; the grid is `cols x rows`. Returned row-major, 1 = dirty.
 */
export function dirtyCells(
  rects: readonly Rect[],
  cellW: number,
  cellH: number,
  cols: number,
  rows: number,
): Uint8Array {
  const grid = new Uint8Array(cols * rows);
  for (const r of rects) {
    if (r.width <= 0 || r.height <= 0) continue;
    const c0 = Math.max(0, Math.floor(r.x / cellW));
    const c1 = Math.min(cols, Math.ceil((r.x + r.width) / cellW));
    const r0 = Math.max(0, Math.floor(r.y / cellH));
    const r1 = Math.min(rows, Math.ceil((r.y + r.height) / cellH));
    for (let y = r0; y < r1; y++) grid.fill(1, y * cols + c0, Math.max(y * cols + c0, y * cols + c1));
  }
  return grid;
}

/** A rectangle of cells (0-based, relative to the placement). */
export interface CellRect {
  col: number;
  row: number;
  cols: number;
  rows: number;
}

/**
 * Turn a dirty-cell grid into few rectangles: runs of dirty cells per row, merged downwards
 * while the next row has the very same run. Exact cover, no overlap, so nothing is painted twice
 * and nothing outside the dirty cells is painted.
 */
export function cellRuns(grid: Uint8Array, cols: number, rows: number): CellRect[] {
  const out: CellRect[] = [];
  let open = new Map<string, CellRect>();
  for (let y = 0; y < rows; y++) {
    const next = new Map<string, CellRect>();
    let x = 0;
    while (x < cols) {
      if (grid[y * cols + x] === 0) {
        x++;
        continue;
      }
      const start = x;
      while (x < cols && grid[y * cols + x] === 1) x++;
      const key = `${start}:${x}`;
      const prev = open.get(key);
      if (prev) {
        prev.rows++;
        next.set(key, prev);
        open.delete(key);
      } else {
        const r = { col: start, row: y, cols: x - start, rows: 1 };
        out.push(r);
        next.set(key, r);
      }
    }
    open = next;
  }
  return out;
}
