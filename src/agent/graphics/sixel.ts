// Sixel renderer (DEC VT330/340 graphics: https://vt100.net/docs/vt3xx-gp/chapter14.html).
//
// Speed over fidelity: one fixed 256-colour palette and a precomputed RGB -> index table, so a
// frame costs one table lookup per pixel and no quantisation pass, no dithering (dithering
// would also make unchanged pixels flicker between updates). Colours are defined inline the
// first time a picture uses them, so a small update only carries the few colours it needs.
// Bytes are built in a growing Uint8Array; strings appear once, at the end.
import {
  type Placement,
  type Rect,
  type Renderer,
  type RgbFrame,
  RESTORE_CURSOR,
  SAVE_CURSOR,
  blankArea,
  cellRuns,
  clipRect,
  dirtyCells,
  moveTo,
} from './renderer.js';

// --- palette -------------------------------------------------------------------------------
// 6x6x6 colour cube (0,20,..,100 %) plus 40 extra greys: desktops are mostly greys (window
// chrome, text on light or dark backgrounds), where the cube alone has only 6 steps.
// Sixel colour values are integer percentages, so every entry is defined in percent and its
// 8-bit value is what a decoder computes from that percent (round(p / 100 * 255)).

export const PALETTE_SIZE = 256;
const CUBE_PERCENT = [0, 20, 40, 60, 80, 100] as const;

/** Palette in sixel percent (3 per entry). */
export const PALETTE_PERCENT: Uint8Array = (() => {
  const p = new Uint8Array(PALETTE_SIZE * 3);
  let i = 0;
  for (const r of CUBE_PERCENT)
    for (const g of CUBE_PERCENT)
      for (const b of CUBE_PERCENT) {
        p[i++] = r;
        p[i++] = g;
        p[i++] = b;
      }
  for (let k = 1; k <= 40; k++) {
    let v = Math.round((k * 100) / 41);
    if (v % 20 === 0) v += 1; // the cube already has this grey
    p[i++] = v;
    p[i++] = v;
    p[i++] = v;
  }
  return p;
})();

function percentTo8(p: number): number {
  return Math.round((p / 100) * 255);
}

/** Palette as 8-bit RGB (3 per entry): the colours a terminal actually shows. */
export const PALETTE_RGB: Uint8Array = PALETTE_PERCENT.map(percentTo8);

// 6 bits per channel: 256 KiB table, error from the table itself at most 2 per channel.
const LUT_BITS = 6;
const LUT_SHIFT = 8 - LUT_BITS;

const LUT: Uint8Array = (() => {
  const n = 1 << LUT_BITS;
  const lut = new Uint8Array(n * n * n);
  // Greys sorted by level, cube greys included, for the exact nearest-grey search.
  const greys: { v: number; index: number }[] = [];
  for (let i = 0; i < PALETTE_SIZE; i++) {
    const r = PALETTE_RGB[i * 3]!;
    if (r === PALETTE_RGB[i * 3 + 1] && r === PALETTE_RGB[i * 3 + 2]) greys.push({ v: r, index: i });
  }
  greys.sort((a, b) => a.v - b.v);
  const cube8 = CUBE_PERCENT.map(percentTo8);
  const nearestLevel = (v: number): number => {
    let best = 0;
    for (let l = 1; l < cube8.length; l++) if (Math.abs(cube8[l]! - v) < Math.abs(cube8[best]! - v)) best = l;
    return best;
  };
  for (let ri = 0; ri < n; ri++) {
    const r = (ri << LUT_SHIFT) | (1 << (LUT_SHIFT - 1));
    const lr = nearestLevel(r);
    for (let gi = 0; gi < n; gi++) {
      const g = (gi << LUT_SHIFT) | (1 << (LUT_SHIFT - 1));
      const lg = nearestLevel(g);
      for (let bi = 0; bi < n; bi++) {
        const b = (bi << LUT_SHIFT) | (1 << (LUT_SHIFT - 1));
        const lb = nearestLevel(b);
        // The nearest cube entry is separable per channel (Euclidean distance); the nearest
        // grey is the one nearest the channel mean. The better of the two is the exact nearest.
        const cube = lr * 36 + lg * 6 + lb;
        const dc = (r - cube8[lr]!) ** 2 + (g - cube8[lg]!) ** 2 + (b - cube8[lb]!) ** 2;
        const mean = (r + g + b) / 3;
        let gbest = greys[0]!;
        for (const gr of greys) if (Math.abs(gr.v - mean) < Math.abs(gbest.v - mean)) gbest = gr;
        const dg = (r - gbest.v) ** 2 + (g - gbest.v) ** 2 + (b - gbest.v) ** 2;
        lut[(ri << (2 * LUT_BITS)) | (gi << LUT_BITS) | bi] = dg < dc ? gbest.index : cube;
      }
    }
  }
  return lut;
})();

/** The palette index a pixel is painted with. */
export function paletteIndex(r: number, g: number, b: number): number {
  return LUT[((r >> LUT_SHIFT) << (2 * LUT_BITS)) | ((g >> LUT_SHIFT) << LUT_BITS) | (b >> LUT_SHIFT)]!;
}

// --- byte builder ----------------------------------------------------------------------------

class ByteSink {
  buf = new Uint8Array(1 << 16);
  len = 0;
  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }
  uint(n: number): void {
    this.ensure(10);
    if (n >= 10) this.uint(Math.floor(n / 10));
    this.buf[this.len++] = 0x30 + (n % 10);
  }
  /** A sixel character repeated `count` times, RLE (`!n`) once it is shorter. */
  run(ch: number, count: number): void {
    if (count > 3) {
      this.byte(0x21); // '!'
      this.uint(count);
      this.byte(ch);
    } else {
      this.ensure(count);
      for (let i = 0; i < count; i++) this.buf[this.len++] = ch;
    }
  }
  toString(): string {
    return Buffer.from(this.buf.buffer, 0, this.len).toString('latin1');
  }
}

// --- encoder -------------------------------------------------------------------------------

const SIXEL_BASE = 0x3f; // '?': a sixel with no pixel set

/**
 * One DCS sixel image of the rectangle `r` of the frame, placed (by the terminal) at the
 * cursor. P2=1 keeps unset pixels transparent: each colour is painted in its own pass over
 * the band, and a band that runs past the rectangle's bottom must not paint below it.
 */
export function encodeSixel(frame: RgbFrame, r: Rect): string {
  const out = new ByteSink();
  out.ascii('\x1bP0;1;0q"1;1;');
  out.uint(r.width);
  out.byte(0x3b);
  out.uint(r.height);
  const w = r.width;
  const idx = new Uint8Array(w * 6);
  const minX = new Int32Array(PALETTE_SIZE);
  const maxX = new Int32Array(PALETTE_SIZE);
  const used: number[] = [];
  const defined = new Uint8Array(PALETTE_SIZE);
  let current = -1;
  const data = frame.data;
  for (let y0 = r.y; y0 < r.y + r.height; y0 += 6) {
    const bh = Math.min(6, r.y + r.height - y0);
    minX.fill(-1);
    used.length = 0;
    for (let row = 0; row < bh; row++) {
      let p = ((y0 + row) * frame.width + r.x) * 3;
      const base = row * w;
      for (let x = 0; x < w; x++, p += 3) {
        const c = LUT[((data[p]! >> LUT_SHIFT) << (2 * LUT_BITS)) | ((data[p + 1]! >> LUT_SHIFT) << LUT_BITS) | (data[p + 2]! >> LUT_SHIFT)]!;
        idx[base + x] = c;
        if (minX[c] === -1) {
          minX[c] = x;
          maxX[c] = x;
          used.push(c);
        } else {
          if (x < minX[c]!) minX[c] = x;
          if (x > maxX[c]!) maxX[c] = x;
        }
      }
    }
    if (y0 !== r.y) out.byte(0x2d); // '-': next band
    // The selected colour carries over bands: start with it and skip one `#n` per band,
    // which is most of the bytes of a flat area.
    const keep = used.indexOf(current);
    if (keep > 0) {
      used[keep] = used[0]!;
      used[0] = current;
    }
    for (let u = 0; u < used.length; u++) {
      const c = used[u]!;
      if (u > 0) out.byte(0x24); // '$': back to the start of this band for the next colour
      if (c !== current) {
        out.byte(0x23); // '#'
        out.uint(c);
        current = c;
      }
      if (!defined[c]) {
        defined[c] = 1;
        out.ascii(';2;');
        out.uint(PALETTE_PERCENT[c * 3]!);
        out.byte(0x3b);
        out.uint(PALETTE_PERCENT[c * 3 + 1]!);
        out.byte(0x3b);
        out.uint(PALETTE_PERCENT[c * 3 + 2]!);
        // Select it explicitly: xterm (VT340 mode) only defines the register on `#c;2;r;g;b`
        // and keeps painting with the previously selected colour.
        out.byte(0x23);
        out.uint(c);
      }
      const x0 = minX[c]!;
      const x1 = maxX[c]!;
      if (x0 > 0) out.run(SIXEL_BASE, x0);
      let prev = -1;
      let count = 0;
      for (let x = x0; x <= x1; x++) {
        let bits = 0;
        for (let row = 0; row < bh; row++) if (idx[row * w + x] === c) bits |= 1 << row;
        const ch = SIXEL_BASE + bits;
        if (ch === prev) {
          count++;
        } else {
          if (count > 0) out.run(prev, count);
          prev = ch;
          count = 1;
        }
      }
      if (count > 0) out.run(prev, count);
    }
  }
  out.ascii('\x1b\\');
  return out.toString();
}

// --- renderer ------------------------------------------------------------------------------

/** The visible part of the frame: never paint past the placement, whatever the frame size. */
function visible(frame: RgbFrame, at: Placement): Rect | null {
  return clipRect(
    { x: 0, y: 0, width: at.cols * at.cellWidth, height: at.rows * at.cellHeight },
    frame.width,
    frame.height,
  );
}

export class SixelRenderer implements Renderer {
  readonly kind = 'sixel' as const;

  full(frame: RgbFrame, at: Placement): string {
    const r = visible(frame, at);
    if (!r) return '';
    return SAVE_CURSOR + moveTo(at.row, at.col) + encodeSixel(frame, r) + RESTORE_CURSOR;
  }

  /**
   * A sixel image can only start at a cell's top-left corner, so changes are widened to whole
   * cells, and the dirty cells are cut into a few rectangles, each painted as its own image.
   */
  update(frame: RgbFrame, changed: readonly Rect[], at: Placement): string {
    const vis = visible(frame, at);
    if (!vis) return '';
    const grid = dirtyCells(changed, at.cellWidth, at.cellHeight, at.cols, at.rows);
    let out = '';
    for (const cr of cellRuns(grid, at.cols, at.rows)) {
      const r = clipRect(
        { x: cr.col * at.cellWidth, y: cr.row * at.cellHeight, width: cr.cols * at.cellWidth, height: cr.rows * at.cellHeight },
        vis.width,
        vis.height,
      );
      if (!r) continue;
      out += moveTo(at.row + cr.row, at.col + cr.col) + encodeSixel(frame, r);
    }
    return out === '' ? '' : SAVE_CURSOR + out + RESTORE_CURSOR;
  }

  /** Text written over sixel pixels replaces them in every sixel terminal; blanks do that. */
  clear(at: Placement): string {
    return blankArea(at);
  }
}

export function createSixelRenderer(): SixelRenderer {
  return new SixelRenderer();
}
