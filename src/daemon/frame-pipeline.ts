// The pixel half of the frame path, performed for each `capture` effect of frames.ts:
// masked captures in -> scaled -> 64x64 tile diff against what the agent already has ->
// zlib tiles -> encoded updates out. Bytes in, bytes out: no display, no socket. The masking
// itself happens before pixels reach this file (session.ts grabs and masks in one step), so
// nothing here ever holds a pixel the customer did not choose to show.
import { createFramebuffer, type BgrxFramebuffer, type Rect } from '../codec/framebuffer.js';
import { destRectFor, scaleInto } from '../codec/scale.js';
import { changedTiles, tileGrid, tileRect } from '../codec/tiles.js';
import { encodeTiles } from '../codec/encode-tiles.js';
import { encodeUpdate, splitTiles, type Tile } from '../codec/update.js';
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

export class FramePipeline {
  /** The screen as last read, masked, full resolution. */
  private readonly screen: BgrxFramebuffer;
  /** The screen at the output size (the same object as `screen` at 1:1). */
  private scaled: BgrxFramebuffer | null = null;
  /** Exactly what the agent's framebuffer holds (output size), or null when it holds nothing of ours. */
  private agent: BgrxFramebuffer | null = null;

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

  /** Forget what the agent has (it resized, or reconnected): the next encode sends every tile. */
  resetAgent(): void {
    this.agent = null;
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
    const indices = changedTiles(this.agent, this.scaled, this.agent ? hint : undefined);
    if (indices.length === 0) return null;
    const tiles = encodeTiles(this.scaled, indices);
    this.remember(indices);
    const groups = splitTiles(tiles, MAX_UPDATE_BYTES);
    const updates = groups.map((g, i) => encodeUpdate({ seq: seq + i, width: out.width, height: out.height, tiles: g }));
    return { updates, lastSeq: seq + groups.length - 1, tiles, tileIndices: indices };
  }

  /** Records the sent tiles as the agent's content. */
  private remember(indices: readonly number[]): void {
    const src = this.scaled!;
    if (!this.agent) {
      this.agent = createFramebuffer('bgrx', src.width, src.height);
    }
    const dst = this.agent;
    const grid = tileGrid(src.width, src.height);
    for (const i of indices) {
      const r = tileRect(grid, i);
      for (let y = r.y; y < r.y + r.h; y++) {
        const at = (y * src.width + r.x) * 4;
        dst.data.set(src.data.subarray(at, at + r.w * 4), at);
      }
    }
  }
}
