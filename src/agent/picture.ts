// The picture: the local framebuffer the customer's updates are composited into, where it sits
// on the terminal, and the renderer that turns changes into terminal bytes. No I/O: every
// method returns the bytes to write, so the viewer decides when they go out (never in the
// middle of a chrome repaint).
import { applyUpdate, bounds, CodecHistory, createFramebuffer, decodeUpdate, intersect, type CopyTile, type DecodedTile, type Rect as CodecRect, type RgbFramebuffer, type Update } from '../codec/index.js';
import { createBlocksRenderer } from './graphics/blocks.js';
import { createKittyRenderer, type KittyRenderer } from './graphics/kitty.js';
import { type GraphicsKind, type Placement, type Rect, type Renderer, type ZlibTile, pixelSizeFor } from './graphics/renderer.js';
import { createSixelRenderer } from './graphics/sixel.js';

export interface Area {
  row: number;
  col: number;
  cols: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
}

export function createRenderer(kind: GraphicsKind, opts: { tmux?: boolean } = {}): Renderer {
  switch (kind) {
    case 'kitty':
      return createKittyRenderer({ tmux: opts.tmux ?? false });
    case 'sixel':
      return createSixelRenderer();
    case 'blocks':
      return createBlocksRenderer();
  }
}

/**
 * Where a frame of `width x height` pixels goes inside the area: as many cells as it covers
 * (never more than the area), centred. The daemon scales keeping the aspect ratio, so the frame
 * usually fills one dimension and is centred along the other.
 */
export function fitPlacement(kind: GraphicsKind, area: Area, width: number, height: number): Placement {
  const cw = kind === 'blocks' ? 1 : area.cellWidth;
  const ch = kind === 'blocks' ? 2 : area.cellHeight;
  const cols = Math.max(1, Math.min(area.cols, Math.ceil(width / cw)));
  const rows = Math.max(1, Math.min(area.rows, Math.ceil(height / ch)));
  return {
    row: area.row + Math.floor((area.rows - rows) / 2),
    col: area.col + Math.floor((area.cols - cols) / 2),
    cols,
    rows,
    cellWidth: area.cellWidth,
    cellHeight: area.cellHeight,
  };
}

function toRect(r: CodecRect): Rect {
  return { x: r.x, y: r.y, width: r.w, height: r.h };
}

export class Picture {
  readonly renderer: Renderer;
  private fb: RgbFramebuffer = createFramebuffer('rgb', 1, 1);
  /** The decoder's compression history: one per session, like the daemon's (it follows the updates' reset flag). */
  private readonly history = new CodecHistory();
  private hasFrame = false;
  private area: Area;
  private placement: Placement | undefined;
  private visible = false;

  constructor(renderer: Renderer, area: Area) {
    this.renderer = renderer;
    this.area = area;
  }

  /** Pixel size to ask the daemon for: exactly what the renderer shows without rescaling. */
  pixelSize(): { width: number; height: number } {
    return pixelSizeFor(this.renderer.kind, this.area);
  }

  get shown(): boolean {
    return this.visible;
  }

  /**
   * Decode and composite one update; returns its seq and the bytes that repaint what changed
   * (empty while hidden). Throws RSO_ERR_PROTOCOL for a bad update.
   */
  apply(bytes: Uint8Array): { seq: number; out: string } {
    const update = decodeUpdate(bytes, this.history);
    const before = { width: this.fb.width, height: this.fb.height };
    const changed = applyUpdate(this.fb, update);
    this.hasFrame = true;
    if (!this.visible) return { seq: update.seq, out: '' };
    const resized = before.width !== this.fb.width || before.height !== this.fb.height;
    if (resized || this.placement === undefined) return { seq: update.seq, out: this.repaintAll() };
    return { seq: update.seq, out: this.paintChanges(update, changed) };
  }

  /** Start showing the picture (the customer shares); the chrome no longer owns the area. */
  show(): string {
    if (this.visible) return '';
    this.visible = true;
    return this.hasFrame ? this.repaintAll() : '';
  }

  /** Stop showing it (the customer stopped sharing, or the end): blank the area. */
  hide(): string {
    if (!this.visible) return '';
    this.visible = false;
    const out = this.placement ? this.renderer.clear(this.placement) : '';
    this.placement = undefined;
    return out;
  }

  /** The terminal was resized (or the cell size learnt): move the picture to the new area. */
  setArea(area: Area): string {
    const old = this.placement;
    this.area = area;
    if (!this.visible) return '';
    // The old placement may lie partly outside the new screen; kitty deletes by id, and the
    // text renderers' blanks are clipped by the terminal, so clearing it is always safe.
    const out = old ? this.renderer.clear(old) : '';
    this.placement = undefined;
    return out + (this.hasFrame ? this.repaintAll() : '');
  }

  /**
   * Where the frame is on the terminal, for mapping mouse reports (input/pointer.ts);
   * undefined while nothing is drawn.
   */
  geometry(): { kind: GraphicsKind; placement: Placement; frame: { width: number; height: number } } | undefined {
    if (!this.visible || !this.hasFrame || this.placement === undefined) return undefined;
    return { kind: this.renderer.kind, placement: this.placement, frame: { width: this.fb.width, height: this.fb.height } };
  }

  /** Bytes that remove every trace of the picture (kitty images live outside the text cells). */
  cleanup(): string {
    return this.placement ? this.renderer.clear(this.placement) : this.renderer.kind === 'kitty' ? this.renderer.clear(fitPlacement('kitty', this.area, 1, 1)) : '';
  }

  private repaintAll(): string {
    const next = fitPlacement(this.renderer.kind, this.area, this.fb.width, this.fb.height);
    const old = this.placement;
    let out = '';
    // A smaller picture than before leaves old pixels around it.
    if (old && (old.row !== next.row || old.col !== next.col || old.cols !== next.cols || old.rows !== next.rows)) out += this.renderer.clear(old);
    this.placement = next;
    return out + this.renderer.full(this.fb, next);
  }

  private paintChanges(update: Update, changed: CodecRect[]): string {
    const at = this.placement!;
    if (this.renderer.kind !== 'kitty') return this.renderer.update(this.fb, changed.map(toRect), at);
    const kitty = this.renderer as KittyRenderer;
    // Copy tiles (a scroll, a dragged window) move pixels the terminal already shows with
    // `a=c`, a few dozen bytes instead of the pixels again. That is only the same picture
    // applyUpdate made when every copy comes before every painted tile and no copy writes
    // where another reads (the terminal runs them one after the other; applyUpdate reads all
    // sources first); otherwise copied areas are repainted from the framebuffer as before.
    const copies = leadingCopies(update.tiles);
    let out = '';
    let rest = update.tiles;
    if (copies) {
      for (const c of copies) out += kitty.copyRect(this.fb, { x: c.srcX, y: c.srcY, width: c.w, height: c.h }, c.x, c.y);
      rest = update.tiles.slice(copies.length);
    }
    // Kitty takes single-stream zlib tiles as they are (no recompression). Packed tiles were
    // deflated together against the codec's history, which the terminal does not have, so they
    // (and solid tiles, and copies that could not be copied) are re-encoded from the framebuffer.
    const zlib: ZlibTile[] = [];
    const other: Rect[] = [];
    for (const t of rest) {
      if (t.encoding === 'zlib') zlib.push({ x: t.x, y: t.y, width: t.w, height: t.h, zlib: t.zlib });
      else other.push({ x: t.x, y: t.y, width: t.w, height: t.h });
    }
    // Zlib tiles first, in the update's order, then the rest from the final framebuffer: the
    // framebuffer is the truth, so whatever overlaps, every pixel ends as applyUpdate left it.
    if (zlib.length > 0) out += this.renderer.update(this.fb, [], at, zlib);
    if (other.length > 0) out += this.renderer.update(this.fb, mergeDense(other), at);
    return out;
  }
}

/**
 * The copy tiles an update starts with, when they can be replayed one by one with `a=c`: none
 * after a non-copy tile, and no copy's destination touching a later copy's source. Null when
 * there are none or they cannot.
 */
export function leadingCopies(tiles: readonly DecodedTile[]): CopyTile[] | null {
  let n = 0;
  while (n < tiles.length && tiles[n]!.encoding === 'copy') n++;
  if (n === 0 || tiles.slice(n).some((t) => t.encoding === 'copy')) return null;
  const copies = tiles.slice(0, n) as CopyTile[];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const src = { x: copies[j]!.srcX, y: copies[j]!.srcY, w: copies[j]!.w, h: copies[j]!.h };
      if (intersect(copies[i]!, src)) return null;
    }
  }
  return copies;
}

/**
 * Many rectangles that mostly fill their bounding box (a full-screen change is hundreds of
 * tiles) go to the terminal as that one box: one deflate stream and one escape instead of
 * hundreds, for at most twice the pixels.
 */
export function mergeDense(rects: readonly Rect[]): readonly Rect[] {
  if (rects.length < 8) return rects;
  let area = 0;
  for (const r of rects) area += r.width * r.height;
  const b = bounds(rects.map((r) => ({ x: r.x, y: r.y, w: r.width, h: r.height })))!;
  return b.w * b.h <= 2 * area ? [{ x: b.x, y: b.y, width: b.w, height: b.h }] : rects;
}
