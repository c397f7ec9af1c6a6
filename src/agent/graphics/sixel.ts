// Sixel renderer (DEC VT330/340 graphics: https://vt100.net/docs/vt3xx-gp/chapter14.html).
//
// Palette per picture: 256 registers, a fixed 5x5x5 cube plus 131 colours picked by median cut
// each time the whole picture is painted; small updates keep that palette (see SixelRenderer
// for why), so a typed character costs table lookups only. RGB -> index is one lookup in a
// table filled on demand. No dithering: desktop pictures are flat colours and text, where it
// would add noise, break sixel's run-length compression and make unchanged pixels shimmer
// between updates. Colours are defined inline the first time a picture uses them, so a small
// update only carries the few colours it needs. Bytes are built in a growing Uint8Array;
// strings appear once, at the end.
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
// 256 registers: a fixed colour cube that every palette has (a colour an update brings later,
// before the next whole repaint, lands within half a cube step), and the rest chosen for the
// picture by median cut. Measured on bench/graphics.ts's desktop: 3 levels give 40.0 dB on it
// but 22.9 dB on an unseen picture, 4 levels 39.5 / 22.3 dB, 5 levels 38.3 / 24.4 dB (the old
// fixed 6x6x6 cube + 40 greys: 27.7 dB).
// Sixel colour values are integer percentages, so every entry is defined in percent and its
// 8-bit value is what a decoder computes from that percent (round(p / 100 * 255)).

export const PALETTE_SIZE = 256;
/** Levels of the fixed cube, in percent. */
const BASE_PERCENT = [0, 25, 50, 75, 100] as const;
export const BASE_SIZE = BASE_PERCENT.length ** 3;

function percentTo8(p: number): number {
  return Math.round((p / 100) * 255);
}
function toPercent(v: number): number {
  return Math.round((v / 255) * 100);
}

// RGB -> index table: 6 bits per channel (quantisation error at most 2 per channel), filled on
// demand because a desktop frame touches a few thousand of its 262144 cells.
const LUT_BITS = 6;
const LUT_SHIFT = 8 - LUT_BITS;
const LUT_UNKNOWN = 0xffff;
const GRID = 8;
const GRID_SHIFT = 5; // 256 / GRID = 1 << GRID_SHIFT

/** A set of colour registers and the nearest-colour lookup into it. */
export class SixelPalette {
  /** Percent (3 per entry), as sent. */
  readonly percent: Uint8Array;
  /** 8-bit RGB (3 per entry): what a terminal shows. */
  readonly rgb: Uint8Array;
  readonly size: number;
  /** Table cell -> entry, LUT_UNKNOWN until first needed (see index()). */
  readonly lut = new Uint16Array(1 << (3 * LUT_BITS)).fill(LUT_UNKNOWN);
  // Nearest-search acceleration: the space cut into 8x8x8 boxes, and for each box the only
  // entries that can be nearest to a point in it (those whose distance to the box is at most
  // the smallest farthest-corner distance of any entry). Each built on first need.
  private readonly candidates: (Uint16Array | undefined)[] = new Array<Uint16Array | undefined>(GRID * GRID * GRID);

  constructor(percent: Uint8Array) {
    this.size = percent.length / 3;
    this.percent = percent;
    this.rgb = percent.map(percentTo8);
  }

  /** The candidate list of one grid box (see `candidates`). */
  private candidatesOf(box: number): Uint16Array {
    const { rgb, size } = this;
    const span = 256 / GRID;
    const r0 = ((box / (GRID * GRID)) | 0) * span;
    const g0 = (((box / GRID) | 0) % GRID) * span;
    const b0 = (box % GRID) * span;
    const near = new Int32Array(size);
    let bound = Infinity;
    for (let i = 0; i < size; i++) {
      let dn = 0;
      let df = 0;
      for (let c = 0; c < 3; c++) {
        const v = rgb[i * 3 + c]!;
        const a = c === 0 ? r0 : c === 1 ? g0 : b0;
        const b = a + span - 1;
        const d = v < a ? a - v : v > b ? v - b : 0;
        dn += d * d;
        const f = v - a > b - v ? v - a : b - v;
        df += f * f;
      }
      near[i] = dn;
      if (df < bound) bound = df;
    }
    const list: number[] = [];
    for (let i = 0; i < size; i++) if (near[i]! <= bound) list.push(i);
    const out = Uint16Array.from(list);
    this.candidates[box] = out;
    return out;
  }

  /** The exact nearest entry (Euclidean RGB; the lowest index on a tie). */
  nearest(r: number, g: number, b: number): number {
    const box = ((r >> GRID_SHIFT) * GRID + (g >> GRID_SHIFT)) * GRID + (b >> GRID_SHIFT);
    const list = this.candidates[box] ?? this.candidatesOf(box);
    const rgb = this.rgb;
    let best = -1;
    let bestD = 1 << 30;
    for (let k = 0; k < list.length; k++) {
      const i = list[k]!;
      const dr = rgb[i * 3]! - r;
      const dg = rgb[i * 3 + 1]! - g;
      const db = rgb[i * 3 + 2]! - b;
      const d = dr * dr + dg * dg + db * db;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  /** The entry a pixel is painted with: the nearest to its table cell's centre. */
  index(r: number, g: number, b: number): number {
    const cell = ((r >> LUT_SHIFT) << (2 * LUT_BITS)) | ((g >> LUT_SHIFT) << LUT_BITS) | (b >> LUT_SHIFT);
    const c = this.lut[cell]!;
    return c === LUT_UNKNOWN ? this.fill(cell) : c;
  }

  /** Work out (once) the entry of a table cell: the nearest to the cell's centre, so a colour
   * maps to the same entry whatever order pixels come in (no flicker between updates). */
  fill(cell: number): number {
    const mask = (1 << LUT_BITS) - 1;
    const half = 1 << (LUT_SHIFT - 1);
    const c = this.nearest(
      (((cell >> (2 * LUT_BITS)) & mask) << LUT_SHIFT) | half,
      (((cell >> LUT_BITS) & mask) << LUT_SHIFT) | half,
      ((cell & mask) << LUT_SHIFT) | half,
    );
    this.lut[cell] = c;
    return c;
  }
}

/** The fixed cube every palette starts with (indices 0 .. BASE_SIZE-1). */
function basePercent(): number[] {
  const p: number[] = [];
  for (const r of BASE_PERCENT) for (const g of BASE_PERCENT) for (const b of BASE_PERCENT) p.push(r, g, b);
  return p;
}

/** The palette of the fixed cube alone (what a renderer uses before its first full frame). */
export function basePalette(): SixelPalette {
  return new SixelPalette(Uint8Array.from(basePercent()));
}

// Median cut over a histogram of 5-bit-per-channel bins (the bins keep the sum of their
// pixels, so a flat colour gets its exact value, not the bin's centre).
const HIST_BITS = 5;

/**
 * A palette for the rectangle `r` of the frame: the fixed cube plus PALETTE_SIZE - BASE_SIZE
 * entries by median cut (split the box with the largest range² x pixels at the weighted
 * median of that range's channel), from a chequerboard half of the pixels.
 */
export function buildPalette(frame: RgbFrame, r: Rect): SixelPalette {
  const nBins = 1 << (3 * HIST_BITS);
  const count = new Uint32Array(nBins);
  const sum = new Float64Array(nBins * 3);
  const sh = 8 - HIST_BITS;
  const data = frame.data;
  for (let y = r.y; y < r.y + r.height; y++) {
    // Every other pixel, shifted by one on alternate rows: half the work, and a line one
    // pixel wide or high (a border, an underline) is still counted.
    const x0 = (y - r.y) & 1;
    let p = (y * frame.width + r.x + x0) * 3;
    for (let x = x0; x < r.width; x += 2, p += 6) {
      const cr = data[p]!;
      const cg = data[p + 1]!;
      const cb = data[p + 2]!;
      const bin = ((cr >> sh) << (2 * HIST_BITS)) | ((cg >> sh) << HIST_BITS) | (cb >> sh);
      count[bin]!++;
      sum[bin * 3] = sum[bin * 3]! + cr;
      sum[bin * 3 + 1] = sum[bin * 3 + 1]! + cg;
      sum[bin * 3 + 2] = sum[bin * 3 + 2]! + cb;
    }
  }
  const bins: number[] = [];
  for (let i = 0; i < nBins; i++) if (count[i]! > 0) bins.push(i);
  const mean = new Float64Array(nBins * 3);
  for (const i of bins) for (let c = 0; c < 3; c++) mean[i * 3 + c] = sum[i * 3 + c]! / count[i]!;

  interface Box {
    start: number;
    end: number;
    pixels: number;
    /** range² x pixels on its widest splittable channel; -1: cannot be split. */
    score: number;
    channel: number;
  }
  const ids = Int32Array.from(bins);
  const tmp = new Int32Array(ids.length);
  const coord = (bin: number, c: number): number => (bin >> (HIST_BITS * (2 - c))) & ((1 << HIST_BITS) - 1);
  const box = (start: number, end: number): Box => {
    let pixels = 0;
    const lo = [255, 255, 255];
    const hi = [0, 0, 0];
    const clo = [31, 31, 31];
    const chi = [0, 0, 0];
    for (let k = start; k < end; k++) {
      const i = ids[k]!;
      pixels += count[i]!;
      for (let c = 0; c < 3; c++) {
        const v = mean[i * 3 + c]!;
        if (v < lo[c]!) lo[c] = v;
        if (v > hi[c]!) hi[c] = v;
        const q = coord(i, c);
        if (q < clo[c]!) clo[c] = q;
        if (q > chi[c]!) chi[c] = q;
      }
    }
    // Split along the widest channel whose bins are not all on one level of it.
    let channel = -1;
    for (let c = 0; c < 3; c++) if (chi[c]! > clo[c]! && (channel < 0 || hi[c]! - lo[c]! > hi[channel]! - lo[channel]!)) channel = c;
    const range = channel < 0 ? 0 : hi[channel]! - lo[channel]!;
    return { start, end, pixels, score: channel < 0 ? -1 : Math.max(range, 1) ** 2 * pixels, channel };
  };
  const boxes: Box[] = bins.length > 0 ? [box(0, ids.length)] : [];
  const adaptive = PALETTE_SIZE - BASE_SIZE;
  const levels = new Float64Array(1 << HIST_BITS);
  while (boxes.length < adaptive) {
    let bi = -1;
    for (let k = 0; k < boxes.length; k++) if (boxes[k]!.score > 0 && (bi < 0 || boxes[k]!.score > boxes[bi]!.score)) bi = k;
    if (bi < 0) break;
    const b = boxes[bi]!;
    const c = b.channel;
    // Weighted median along the channel by counting its 32 levels (no sort): the cut is after
    // the level where half the pixels are reached, but below the top level so both halves
    // keep bins.
    levels.fill(0);
    let top = 0;
    for (let k = b.start; k < b.end; k++) {
      const q = coord(ids[k]!, c);
      levels[q] = levels[q]! + count[ids[k]!]!;
      if (q > top) top = q;
    }
    let cut = 0;
    let acc = 0;
    for (let q = 0; q < top; q++) {
      acc += levels[q]!;
      cut = q;
      if (acc * 2 >= b.pixels) break;
    }
    let lo = b.start;
    let hi = b.end;
    for (let k = b.start; k < b.end; k++) {
      const i = ids[k]!;
      if (coord(i, c) <= cut) ids[lo++] = i;
      else tmp[--hi] = i;
    }
    for (let k = hi; k < b.end; k++) ids[k] = tmp[k]!;
    boxes.splice(bi, 1, box(b.start, lo), box(lo, b.end));
  }
  const percent = basePercent();
  for (const b of boxes) {
    const s = [0, 0, 0];
    for (let k = b.start; k < b.end; k++) {
      const i = ids[k]!;
      for (let c = 0; c < 3; c++) s[c]! += sum[i * 3 + c]!;
    }
    for (let c = 0; c < 3; c++) percent.push(toPercent(s[c]! / b.pixels));
  }
  return new SixelPalette(Uint8Array.from(percent));
}

// --- byte builder ----------------------------------------------------------------------------

class ByteSink {
  buf: Uint8Array;
  len = 0;
  /** `size`: a first guess; a small update should not zero 64 KiB it never uses. */
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
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

let scratch = { width: 0, cols: new Int32Array(0), bits: new Uint8Array(0), nCols: new Int32Array(PALETTE_SIZE) };

const SIXEL_BASE = 0x3f; // '?': a sixel with no pixel set

/**
 * One DCS sixel image of the rectangle `r` of the frame, placed (by the terminal) at the
 * cursor. P2=1 keeps unset pixels transparent: each colour is painted in its own pass over
 * the band, and a band that runs past the rectangle's bottom must not paint below it.
 */
export function encodeSixel(frame: RgbFrame, r: Rect, palette: SixelPalette): string {
  const out = new ByteSink(Math.min(1 << 16, 256 + r.width * r.height));
  out.ascii('\x1bP0;1;0q"1;1;');
  out.uint(r.width);
  out.byte(0x3b);
  out.uint(r.height);
  const w = r.width;
  const idx = new Uint8Array(w * 6);
  // Per colour, the columns of the band it occurs in (in order) and its six bits there: the
  // passes cost what the colours cover, not colours x width (an adaptive palette puts dozens
  // of colours in a band of a gradient or a photo).
  // Scratch kept between calls (a typing update is tens of microseconds; zeroing fresh arrays
  // of 256 x width was a third of it): every pass leaves `bits` and `nCols` back at zero.
  if (scratch.width < w) scratch = { width: w, cols: new Int32Array(PALETTE_SIZE * w), bits: new Uint8Array(PALETTE_SIZE * w), nCols: new Int32Array(PALETTE_SIZE) };
  const { cols, bits, nCols } = scratch;
  const used: number[] = [];
  const defined = new Uint8Array(PALETTE_SIZE);
  let current = -1;
  const data = frame.data;
  const lut = palette.lut;
  const percent = palette.percent;
  // Pending run of one sixel character.
  let prev = -1;
  let count = 0;
  const push = (ch: number, n: number): void => {
    if (ch === prev) {
      count += n;
    } else {
      if (count > 0) out.run(prev, count);
      prev = ch;
      count = n;
    }
  };
  for (let y0 = r.y; y0 < r.y + r.height; y0 += 6) {
    const bh = Math.min(6, r.y + r.height - y0);
    used.length = 0;
    for (let row = 0; row < bh; row++) {
      let p = ((y0 + row) * frame.width + r.x) * 3;
      const base = row * w;
      for (let x = 0; x < w; x++, p += 3) {
        const cell = ((data[p]! >> LUT_SHIFT) << (2 * LUT_BITS)) | ((data[p + 1]! >> LUT_SHIFT) << LUT_BITS) | (data[p + 2]! >> LUT_SHIFT);
        let c = lut[cell]!;
        if (c === LUT_UNKNOWN) c = palette.fill(cell);
        idx[base + x] = c;
      }
    }
    for (let x = 0; x < w; x++) {
      for (let row = 0; row < bh; row++) {
        const c = idx[row * w + x]!;
        const o = c * w + x;
        const had = bits[o]!;
        if (had === 0) {
          const n = nCols[c]!;
          if (n === 0) used.push(c);
          cols[c * w + n] = x;
          nCols[c] = n + 1;
        }
        bits[o] = had | (1 << row);
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
        out.uint(percent[c * 3]!);
        out.byte(0x3b);
        out.uint(percent[c * 3 + 1]!);
        out.byte(0x3b);
        out.uint(percent[c * 3 + 2]!);
        // Select it explicitly: xterm (VT340 mode) only defines the register on `#c;2;r;g;b`
        // and keeps painting with the previously selected colour.
        out.byte(0x23);
        out.uint(c);
      }
      let next = 0; // first column not yet written in this pass
      const n = nCols[c]!;
      for (let k = 0; k < n; k++) {
        const x = cols[c * w + k]!;
        if (x > next) push(SIXEL_BASE, x - next); // columns without this colour
        push(SIXEL_BASE + bits[c * w + x]!, 1);
        bits[c * w + x] = 0;
        next = x + 1;
      }
      if (count > 0) out.run(prev, count);
      prev = -1;
      count = 0;
      nCols[c] = 0;
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

/**
 * An update that dirties at least this share of the placement's cells repaints the whole
 * picture with a new palette instead (a new window or page: the old palette was made for
 * other colours, and the repaint costs at most 1/share times the update it replaces).
 */
export const REPALETTE_SHARE = 0.5;

export class SixelRenderer implements Renderer {
  readonly kind = 'sixel' as const;
  /**
   * The palette of the picture on screen. It only changes with a repaint of the whole
   * picture: on a terminal whose colour registers are shared between images (a real VT340;
   * xterm with privateColorRegisters off) redefining a register recolours every pixel already
   * drawn with it, so small updates must keep using the palette the rest was drawn with.
   */
  private palette: SixelPalette | null = null;

  /** The palette in use (null before the first full frame): for tests. */
  get currentPalette(): SixelPalette | null {
    return this.palette;
  }

  full(frame: RgbFrame, at: Placement): string {
    const r = visible(frame, at);
    if (!r) return '';
    this.palette = buildPalette(frame, r);
    return SAVE_CURSOR + moveTo(at.row, at.col) + encodeSixel(frame, r, this.palette) + RESTORE_CURSOR;
  }

  /**
   * A sixel image can only start at a cell's top-left corner, so changes are widened to whole
   * cells, and the dirty cells are cut into a few rectangles, each painted as its own image.
   */
  update(frame: RgbFrame, changed: readonly Rect[], at: Placement): string {
    const vis = visible(frame, at);
    if (!vis) return '';
    const grid = dirtyCells(changed, at.cellWidth, at.cellHeight, at.cols, at.rows);
    if (this.palette === null) return this.full(frame, at);
    if (this.manyCells(changed, grid, at)) return this.full(frame, at);
    const palette = this.palette;
    let out = '';
    for (const cr of cellRuns(grid, at.cols, at.rows)) {
      const r = clipRect(
        { x: cr.col * at.cellWidth, y: cr.row * at.cellHeight, width: cr.cols * at.cellWidth, height: cr.rows * at.cellHeight },
        vis.width,
        vis.height,
      );
      if (!r) continue;
      out += moveTo(at.row + cr.row, at.col + cr.col) + encodeSixel(frame, r, palette);
    }
    return out === '' ? '' : SAVE_CURSOR + out + RESTORE_CURSOR;
  }

  /** Whether the dirty cells reach REPALETTE_SHARE of the placement (counted only when the
   * rectangles' own cell counts, an upper bound, could reach it: typing stays O(rects)). */
  private manyCells(changed: readonly Rect[], grid: Uint8Array, at: Placement): boolean {
    const need = REPALETTE_SHARE * at.cols * at.rows;
    let bound = 0;
    for (const r of changed) {
      if (r.width <= 0 || r.height <= 0) continue;
      bound += (Math.floor((r.x + r.width - 1) / at.cellWidth) - Math.floor(r.x / at.cellWidth) + 1) * (Math.floor((r.y + r.height - 1) / at.cellHeight) - Math.floor(r.y / at.cellHeight) + 1);
    }
    if (bound < need) return false;
    let dirty = 0;
    for (let i = 0; i < grid.length; i++) dirty += grid[i]!;
    return dirty >= need;
  }

  /** Text written over sixel pixels replaces them in every sixel terminal; blanks do that. */
  clear(at: Placement): string {
    return blankArea(at);
  }
}

export function createSixelRenderer(): SixelRenderer {
  return new SixelRenderer();
}
