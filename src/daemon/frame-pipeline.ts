// The pixel half of the frame path, performed for each `capture` effect of frames.ts:
// masked captures in -> scaled -> 64x64 tile diff against what the agent already has ->
// packed tiles -> encoded updates out (their bodies deflated together against the history of
// what was sent before, src/codec/history.ts). Bytes in, bytes out: no display, no socket. The masking
// itself happens before pixels reach this file (session.ts grabs and masks in one step), so
// nothing here ever holds a pixel the customer did not choose to show.
import { bounds, createFramebuffer, type BgrxFramebuffer, type Rect } from '../codec/framebuffer.js';
import { destRectFor, scaleInto } from '../codec/scale.js';
import { changedTiles, tileGrid, tileRect } from '../codec/tiles.js';
import { applyCopies, findCopies } from '../codec/moves.js';
import { encodeUpdates, type Tile } from '../codec/update.js';
import { CodecHistory } from '../codec/history.js';
import { packRect } from '../codec/packed.js';
import { MAX_RECORD_PLAINTEXT } from '../protocol/version.js';
import type { Size } from './frames.js';

/** A captured (already masked) rectangle: BGRX pixels and where they sit on the screen. */
export interface MaskedGrab extends BgrxFramebuffer {
  x: number;
  y: number;
}

export interface EncodedBatch {
  /** Encoded updates (src/codec/update.ts), seq numbered from the batch's first seq. */
  updates: Uint8Array[];
  lastSeq: number;
  tiles: Tile[];
  /** Tile indices (in the output grid) that were sent. */
  tileIndices: number[];
}

// One record carries the app kind byte plus the update.
const MAX_UPDATE_BYTES = MAX_RECORD_PLAINTEXT - 1;

// Below this many changed tiles an update is a keystroke or a blinking cursor: looking for a
// moved region would cost more than it could save.
const MIN_TILES_FOR_MOVES = 4;

export class FramePipeline {
  /** The screen as last read, masked, full resolution. */
  private readonly screen: BgrxFramebuffer;
  /** The screen at the output size (the same object as `screen` at 1:1). */
  private scaled: BgrxFramebuffer | null = null;
  /** Exactly what the agent's framebuffer holds (output size), or null when it holds nothing of ours. */
  private agent: BgrxFramebuffer | null = null;
  /**
   * The compression history shared with the agent's decoder. It lives exactly as long as
   * `agent`: whenever the agent's picture is forgotten (first update, new size, resumeAgent
   * after a resync), the next update carries the reset flag and both sides start it over.
   */
  private readonly history = new CodecHistory();

  constructor(readonly size: Size) {
    this.screen = createFramebuffer('bgrx', size.width, size.height);
  }

  /** Copies a masked grab into the screen copy. */
  ingest(grab: MaskedGrab): void {
    const { screen } = this;
    if (grab.x < 0 || grab.y < 0 || grab.x + grab.width > screen.width || grab.y + grab.height > screen.height) {
      throw new RangeError(`grab ${grab.width}x${grab.height}+${grab.x}+${grab.y} outside ${screen.width}x${screen.height}`);
    }
    const rowBytes = grab.width * 4;
    for (let row = 0; row < grab.height; row++) {
      const from = row * rowBytes;
      screen.data.set(grab.data.subarray(from, from + rowBytes), ((grab.y + row) * screen.width + grab.x) * 4);
    }
  }

  /**
   * Forget what the agent has (it resized, or reconnected): the next encode sends every tile,
   * and starts the compression history over (the update says so with its reset flag).
   */
  resetAgent(): void {
    this.agent = null;
    this.history.reset();
  }

  /**
   * Brings the output picture up to date for the screen rectangles `changed` (all of it when
   * `full`), and encodes the tiles that differ from what the agent has. Null when nothing differs:
   * then nothing is sent and the agent stays ready.
   */
  encode(out: Size, changed: readonly Rect[] | 'full', seq: number): EncodedBatch | null {
    const oneToOne = out.width === this.size.width && out.height === this.size.height;
    if (!this.scaled || this.scaled.width !== out.width || this.scaled.height !== out.height) {
      this.scaled = oneToOne ? this.screen : createFramebuffer('bgrx', out.width, out.height);
      changed = 'full';
    }
    if (this.agent && (this.agent.width !== out.width || this.agent.height !== out.height)) this.agent = null;

    let hint: Rect[] | undefined;
    if (changed === 'full') {
      if (!oneToOne) scaleInto(this.screen, this.scaled);
    } else {
      hint = [];
      for (const r of changed) {
        const d = oneToOne ? r : destRectFor(r, this.size.width, this.size.height, out.width, out.height);
        if (!d) continue;
        if (!oneToOne) scaleInto(this.screen, this.scaled, d);
        hint.push(d);
      }
    }
    let indices = changedTiles(this.agent, this.scaled, this.agent ? hint : undefined);
    if (indices.length === 0) return null;
    const grid = tileGrid(out.width, out.height);
    const scaled = this.scaled;
    const agent = this.agent;
    const reset = agent === null;
    // A scroll or a dragged window: the agent already has most of these pixels, somewhere
    // else. Copy them there first (copy tiles lead the update, so every source is read before
    // anything is painted, on the agent exactly as here), then diff against the result.
    const copies = agent && indices.length >= MIN_TILES_FOR_MOVES ? findCopies(agent, scaled, bounds(indices.map((i) => tileRect(grid, i)))!) : [];
    if (copies.length > 0) {
      applyCopies(agent!, copies);
      indices = changedTiles(agent, scaled, hint);
    }
    // Column by column: a terminal's text lines up vertically, so the tile below shares the
    // column's glyph positions and deflate finds its repeats close by (2-4% fewer bytes than
    // row by row on a screen of text).
    indices = [...indices].sort((a, b) => (a % grid.cols) - (b % grid.cols) || a - b);
    const rects = indices.map((i) => (agent ? changedPart(agent, scaled, tileRect(grid, i)) : tileRect(grid, i)));
    const tiles: Tile[] = copies.map((c) => ({ encoding: 'copy', x: c.x, y: c.y, w: c.w, h: c.h, srcX: c.srcX, srcY: c.srcY }));
    for (const r of rects) tiles.push(encodeRect(scaled, r));
    this.remember(rects);
    const updates = encodeUpdates({ seq, width: out.width, height: out.height, tiles, reset }, this.history, MAX_UPDATE_BYTES);
    return { updates, lastSeq: seq + updates.length - 1, tiles, tileIndices: indices };
  }

  /** Records the sent rectangles as the agent's content. */
  private remember(rects: readonly Rect[]): void {
    const src = this.scaled!;
    if (!this.agent) {
      this.agent = createFramebuffer('bgrx', src.width, src.height);
    }
    // Word by word: rows of a tile are short (64 pixels), where a plain loop is faster than a
    // subarray + set per row (a full screen: ~5 -> ~3 ms).
    const from = words(src);
    const to = words(this.agent);
    for (const r of rects) {
      for (let y = r.y; y < r.y + r.h; y++) {
        const at = y * src.width + r.x;
        for (let i = at, end = at + r.w; i < end; i++) to[i] = from[i]!;
      }
    }
  }
}

// Little-endian BGRX words: 0xXXRRGGBB; the X byte is not part of the colour.
function words(fb: BgrxFramebuffer): Uint32Array {
  return new Uint32Array(fb.data.buffer, fb.data.byteOffset, fb.data.length >>> 2);
}

/**
 * The bounding box of the pixels of `tile` that differ between what the agent has and the new
 * picture. A typed character changes a few hundred pixels of a 64x64 tile; sending only those
 * is what brings a keystroke down to ~100-200 bytes instead of a whole tile.
 */
export function changedPart(agent: BgrxFramebuffer, next: BgrxFramebuffer, tile: Rect): Rect {
  const a = words(agent);
  const b = words(next);
  let x0 = tile.x + tile.w;
  let x1 = tile.x - 1;
  let y0 = -1;
  let y1 = -1;
  for (let y = tile.y; y < tile.y + tile.h; y++) {
    const row = y * next.width;
    for (let x = tile.x; x < tile.x + tile.w; x++) {
      if (((a[row + x]! ^ b[row + x]!) & 0xffffff) === 0) continue;
      if (y0 < 0) y0 = y;
      y1 = y;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
    }
  }
  // The tile diff said it changed; if only the unused X byte did, resend the tile to be safe.
  if (y0 < 0) return tile;
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * One rectangle as an update tile: solid when uniform, else packed (a palette and indices when
 * it has few colours, which is most of a desktop: text, window chrome; RGB otherwise).
 */
export function encodeRect(fb: BgrxFramebuffer, r: Rect): Tile {
  const p = packRect(words(fb), fb.width, r);
  if (p.kind === 'solid') return { encoding: 'solid', x: r.x, y: r.y, w: r.w, h: r.h, color: p.color };
  return { encoding: 'packed', x: r.x, y: r.y, w: r.w, h: r.h, bits: p.bits, colors: p.colors, body: p.body };
}
