// Kitty graphics protocol renderer (https://sw.kovidgoyal.net/kitty/graphics-protocol/).
//
// One image with a fixed id is transmitted and placed once (`a=T`); every later change edits
// the image's root frame in place (`a=f,r=1`, "Transferring animation frame data"), so only
// the changed pixels cross the wire and the terminal keeps compositing. Pixels travel as zlib
// RGB (`f=24,o=z`), or as plain RGB when the rectangle is so small that deflate would not pay.
// Single-stream zlib tiles of the codec are exactly that and pass through untouched; packed
// tiles are compressed against the codec's history, so those rectangles are deflated here.
import { deflateSync } from 'node:zlib';
import {
  type Placement,
  type Rect,
  type Renderer,
  type RgbFrame,
  type ZlibTile,
  RESTORE_CURSOR,
  SAVE_CURSOR,
  clipRect,
  cropRgb,
  moveTo,
} from './renderer.js';

export interface KittyOptions {
  /** Image id (1..2^32-1); fixed so a re-transmit replaces the previous picture. */
  imageId?: number;
  /** Wrap every graphics escape in tmux passthrough (`ESC Ptmux; ... ESC \`). */
  tmux?: boolean;
  /** Base64 bytes per escape; the spec caps chunks at 4096. */
  chunkSize?: number;
}

export const DEFAULT_IMAGE_ID = 7311;
const PLACEMENT_ID = 1;
const MAX_CHUNK = 4096;
/**
 * Rectangles up to this many RGB bytes travel uncompressed: a typed glyph is a few hundred
 * bytes, where zlib's fixed costs (header, checksum, a native call) outweigh what it saves.
 */
export const RAW_MAX_BYTES = 256;

/** One graphics escape: `ESC _ G <keys> ; <payload> ESC \`. */
function apc(keys: string, payload = ''): string {
  return payload === '' ? `\x1b_G${keys}\x1b\\` : `\x1b_G${keys};${payload}\x1b\\`;
}

/**
 * tmux passthrough: tmux forwards a DCS `tmux;` body to the outer terminal once every ESC in
 * it is doubled (needs `set -g allow-passthrough on`). Cursor moves stay outside the wrapper so
 * tmux keeps its own idea of the cursor right.
 */
export function tmuxWrap(escape: string): string {
  return `\x1bPtmux;${escape.replace(/\x1b/g, '\x1b\x1b')}\x1b\\`;
}

export class KittyRenderer implements Renderer {
  readonly kind = 'kitty' as const;
  readonly imageId: number;
  private readonly tmux: boolean;
  private readonly chunkSize: number;

  constructor(opts: KittyOptions = {}) {
    this.imageId = opts.imageId ?? DEFAULT_IMAGE_ID;
    this.tmux = opts.tmux ?? false;
    const chunk = opts.chunkSize ?? MAX_CHUNK;
    // A chunk that is not a multiple of 4 would split a base64 quantum across escapes.
    if (!Number.isInteger(this.imageId) || this.imageId < 1 || this.imageId > 0xffffffff) {
      throw new RangeError('kitty image id must be an integer in 1..4294967295');
    }
    if (!Number.isInteger(chunk) || chunk < 4 || chunk > MAX_CHUNK || chunk % 4 !== 0) {
      throw new RangeError('kitty chunk size must be a multiple of 4 in 4..4096');
    }
    this.chunkSize = chunk;
  }

  full(frame: RgbFrame, at: Placement): string {
    checkFrame(frame);
    const z = deflateSync(frame.data, { level: 1 });
    // q=2: no replies (they would land in the key input); C=1: the cursor stays put;
    // c/r: the terminal scales the image onto exactly the cells Ink left empty.
    const first =
      `a=T,i=${this.imageId},p=${PLACEMENT_ID},f=24,o=z,s=${frame.width},v=${frame.height},` +
      `c=${at.cols},r=${at.rows},C=1,q=2`;
    // Continuation chunks of a transmit carry only m (and q), as the spec requires.
    return SAVE_CURSOR + moveTo(at.row, at.col) + this.chunked(first, 'q=2', z) + RESTORE_CURSOR;
  }

  update(frame: RgbFrame, changed: readonly Rect[], _at: Placement, zlibTiles?: readonly ZlibTile[]): string {
    checkFrame(frame);
    let out = '';
    if (zlibTiles && zlibTiles.length > 0) {
      for (const t of zlibTiles) {
        const r = clipRect(t, frame.width, frame.height);
        // A tile that does not sit wholly inside the image cannot be passed through as it is.
        if (!r || r.x !== t.x || r.y !== t.y || r.width !== t.width || r.height !== t.height) {
          throw new RangeError('zlib tile lies outside the frame');
        }
        out += this.edit(r, t.zlib);
      }
    } else {
      for (const c of changed) {
        const r = clipRect(c, frame.width, frame.height);
        if (!r) continue;
        out += this.editPixels(r, cropRgb(frame, r));
      }
    }
    return out === '' ? '' : SAVE_CURSOR + out + RESTORE_CURSOR;
  }

  /**
   * Copy pixels inside the image (for scrolling): `a=c` composes root frame onto itself.
   * The spec rejects overlapping source and destination within one frame, so an overlapping
   * move is cut into strips as tall (or wide) as the move, copied in the order that never reads
   * a strip already overwritten. Key use follows the spec's control-data table and example:
   * `X,Y` = source corner, `x,y` = destination corner.
   */
  copyRect(frame: { width: number; height: number }, src: Rect, dstX: number, dstY: number): string {
    const s = clipRect(src, frame.width, frame.height);
    if (!s) return '';
    // Clip so both the source and destination rectangles stay inside the image.
    const dx = dstX - s.x;
    const dy = dstY - s.y;
    const left = Math.max(s.x, -dx);
    const top = Math.max(s.y, -dy);
    const right = Math.min(s.x + s.width, frame.width - dx);
    const bottom = Math.min(s.y + s.height, frame.height - dy);
    if (right <= left || bottom <= top || (dx === 0 && dy === 0)) return '';
    const r: Rect = { x: left, y: top, width: right - left, height: bottom - top };
    const parts: Rect[] = [];
    const overlaps = Math.abs(dx) < r.width && Math.abs(dy) < r.height;
    if (!overlaps) {
      parts.push(r);
    } else if (dy !== 0) {
      const h = Math.abs(dy);
      for (let off = 0; off < r.height; off += h) parts.push({ x: r.x, y: 0, width: r.width, height: Math.min(h, r.height - off) });
      // Moving up: copy top strips first; moving down: bottom strips first.
      let y = dy < 0 ? r.y : r.y + r.height;
      for (const p of parts) {
        if (dy < 0) {
          p.y = y;
          y += p.height;
        } else {
          y -= p.height;
          p.y = y;
        }
      }
    } else {
      const w = Math.abs(dx);
      for (let off = 0; off < r.width; off += w) parts.push({ x: 0, y: r.y, width: Math.min(w, r.width - off), height: r.height });
      let x = dx < 0 ? r.x : r.x + r.width;
      for (const p of parts) {
        if (dx < 0) {
          p.x = x;
          x += p.width;
        } else {
          x -= p.width;
          p.x = x;
        }
      }
    }
    let out = '';
    for (const p of parts) {
      out += this.wrap(
        apc(`a=c,i=${this.imageId},r=1,c=1,X=${p.x},Y=${p.y},x=${p.x + dx},y=${p.y + dy},w=${p.width},h=${p.height},C=1,q=2`),
      );
    }
    return SAVE_CURSOR + out + RESTORE_CURSOR;
  }

  clear(_at: Placement): string {
    // d=I: delete the placements and free the image data too.
    return SAVE_CURSOR + this.wrap(apc(`a=d,d=I,i=${this.imageId},q=2`)) + RESTORE_CURSOR;
  }

  /**
   * Edit a rectangle with its RGB pixels: deflated (level 1: the viewer's time counts on every
   * update), unless the rectangle is small enough that the zlib header and the call cost more
   * than they save; then, or when deflate did not shrink it, the pixels go as they are.
   */
  private editPixels(r: Rect, rgb: Uint8Array): string {
    if (rgb.length <= RAW_MAX_BYTES) return this.edit(r, rgb, false);
    const z = deflateSync(rgb, { level: 1 });
    return z.length < rgb.length ? this.edit(r, z, true) : this.edit(r, rgb, false);
  }

  /** Edit a rectangle of the root frame with RGB data (zlib when `zlib`); X=1 overwrites instead of blending. */
  private edit(r: Rect, data: Uint8Array, zlib = true): string {
    const first = `a=f,i=${this.imageId},r=1,x=${r.x},y=${r.y},s=${r.width},v=${r.height},f=24,${zlib ? 'o=z,' : ''}X=1,q=2`;
    // The spec wants a=f on every chunk of frame data (terminals differ on bare `m=` chunks
    // of a frame edit), and the id rides along so no implementation has to remember it.
    return this.chunked(first, `a=f,i=${this.imageId},q=2`, data);
  }

  private chunked(firstKeys: string, nextKeys: string, payload: Uint8Array): string {
    const b64 = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64');
    const n = Math.max(1, Math.ceil(b64.length / this.chunkSize));
    let out = '';
    for (let i = 0; i < n; i++) {
      const part = b64.slice(i * this.chunkSize, (i + 1) * this.chunkSize);
      const more = i < n - 1 ? 1 : 0;
      out += this.wrap(apc(`${i === 0 ? firstKeys : nextKeys},m=${more}`, part));
    }
    return out;
  }

  private wrap(escape: string): string {
    return this.tmux ? tmuxWrap(escape) : escape;
  }
}

function checkFrame(frame: RgbFrame): void {
  if (frame.width < 1 || frame.height < 1 || frame.data.length < frame.width * frame.height * 3) {
    throw new RangeError('frame is empty or its data is shorter than width*height*3');
  }
}

export function createKittyRenderer(opts: KittyOptions = {}): KittyRenderer {
  return new KittyRenderer(opts);
}
