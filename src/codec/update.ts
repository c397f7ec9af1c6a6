// The frame update: what the customer's daemon sends inside the encrypted channel so that the
// agent's framebuffer catches up with the screen. Byte layout in docs/codec.md.
//
// The decoder reads bytes that come from the other person's machine. Decryption proves who
// sent them, not that they are sane, so it checks every field before it allocates or inflates
// anything, bounds all work by the limits, and reports any violation as RSO_ERR_PROTOCOL.

import { inflateSync } from 'node:zlib';
import { RsoError } from '../errors.js';
import { MAX_RECORD_PLAINTEXT } from '../protocol/version.js';
import { createFramebuffer, type Rect, type RgbFramebuffer } from './framebuffer.js';

export const UPDATE_MAGIC = 0x55; // 'U'
export const UPDATE_VERSION = 1;
export const UPDATE_HEADER_BYTES = 12;
export const TILE_HEADER_BYTES = 9;

export const ENCODING_SOLID = 0;
export const ENCODING_ZLIB = 1;
export const ENCODING_COPY = 2;

interface TileBase {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A uniform tile: one colour, 0xRRGGBB. */
export interface SolidTile extends TileBase {
  encoding: 'solid';
  color: number;
}

/** RGB pixels, row-major, w*h*3 bytes before zlib compression. */
export interface ZlibTile extends TileBase {
  encoding: 'zlib';
  zlib: Uint8Array;
}

/** After decoding, a zlib tile also carries its inflated pixels (and keeps the compressed bytes for kitty's o=z). */
export interface DecodedZlibTile extends ZlibTile {
  pixels: Uint8Array;
}

/** Pixels already on the agent's side: the w x h rectangle at (srcX, srcY) before this update. */
export interface CopyTile extends TileBase {
  encoding: 'copy';
  srcX: number;
  srcY: number;
}

export type Tile = SolidTile | ZlibTile | CopyTile;
export type DecodedTile = SolidTile | DecodedZlibTile | CopyTile;

export interface UpdateInput {
  seq: number;
  width: number;
  height: number;
  tiles: readonly Tile[];
}

export interface Update {
  seq: number;
  width: number;
  height: number;
  tiles: DecodedTile[];
}

export interface UpdateLimits {
  /** Largest encoded update accepted. */
  maxBytes: number;
  maxWidth: number;
  maxHeight: number;
  maxTiles: number;
  /**
   * The summed area of all tiles may not exceed this many times the frame area. An honest
   * encoder sends each pixel at most about once; without this bound, overlapping tiles would let
   * a small update make the agent inflate and paint gigabytes.
   */
  maxAreaRatio: number;
}

export const DEFAULT_UPDATE_LIMITS: Readonly<UpdateLimits> = Object.freeze({
  maxBytes: MAX_RECORD_PLAINTEXT,
  maxWidth: 8192,
  maxHeight: 8192,
  maxTiles: 0xffff,
  maxAreaRatio: 2,
});

/** Bytes a tile takes on the wire (for packing tiles under a record size). */
export function tileWireBytes(tile: Tile): number {
  switch (tile.encoding) {
    case 'solid':
      return TILE_HEADER_BYTES + 3;
    case 'zlib':
      return TILE_HEADER_BYTES + 4 + tile.zlib.length;
    case 'copy':
      return TILE_HEADER_BYTES + 4;
  }
}

/**
 * Splits tiles into groups that each encode to at most maxBytes, keeping their order, so a
 * large change can travel as several updates within the record size. A tile that alone is
 * too large is a bug in the caller (a 64x64 tile is at most ~12.3 KB compressed).
 */
export function splitTiles(tiles: readonly Tile[], maxBytes: number = DEFAULT_UPDATE_LIMITS.maxBytes): Tile[][] {
  const groups: Tile[][] = [];
  let group: Tile[] = [];
  let size = UPDATE_HEADER_BYTES;
  for (const tile of tiles) {
    const n = tileWireBytes(tile);
    if (UPDATE_HEADER_BYTES + n > maxBytes) {
      throw new RsoError('RSO_ERR_INTERNAL', undefined, `a ${tile.w}x${tile.h} tile of ${n} bytes cannot fit in ${maxBytes}`);
    }
    if (size + n > maxBytes || group.length === 0xffff) {
      groups.push(group);
      group = [];
      size = UPDATE_HEADER_BYTES;
    }
    group.push(tile);
    size += n;
  }
  if (group.length > 0 || groups.length === 0) groups.push(group);
  return groups;
}

// Shared by encoder and decoder: what is wrong with a tile's geometry, or null.
function geometryProblem(t: TileBase & { encoding: string; srcX?: number; srcY?: number }, width: number, height: number): string | null {
  if (t.w < 1 || t.h < 1) return `empty ${t.encoding} tile`;
  if (t.x + t.w > width || t.y + t.h > height) return `${t.encoding} tile ${t.w}x${t.h}+${t.x}+${t.y} outside ${width}x${height}`;
  if (t.encoding === 'copy' && (t.srcX! + t.w > width || t.srcY! + t.h > height)) {
    return `copy source ${t.w}x${t.h}+${t.srcX}+${t.srcY} outside ${width}x${height}`;
  }
  return null;
}

function isU16(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

export function encodeUpdate(update: UpdateInput): Uint8Array {
  const { seq, width, height, tiles } = update;
  const fail = (detail: string): never => {
    throw new RsoError('RSO_ERR_INTERNAL', undefined, `encodeUpdate: ${detail}`);
  };
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) fail(`seq ${seq}`);
  if (!isU16(width) || !isU16(height) || width < 1 || height < 1) fail(`frame ${width}x${height}`);
  if (tiles.length > 0xffff) fail(`${tiles.length} tiles`);

  let size = UPDATE_HEADER_BYTES;
  for (const t of tiles) {
    for (const v of t.encoding === 'copy' ? [t.x, t.y, t.w, t.h, t.srcX, t.srcY] : [t.x, t.y, t.w, t.h]) {
      if (!isU16(v)) fail(`tile field ${v}`);
    }
    const problem = geometryProblem(t, width, height);
    if (problem) fail(problem);
    if (t.encoding === 'solid' && !(Number.isInteger(t.color) && t.color >= 0 && t.color <= 0xffffff)) fail('solid colour');
    if (t.encoding === 'zlib' && t.zlib.length < 1) fail('empty zlib payload');
    size += tileWireBytes(t);
  }

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = UPDATE_MAGIC;
  out[1] = UPDATE_VERSION;
  view.setUint32(2, seq);
  view.setUint16(6, width);
  view.setUint16(8, height);
  view.setUint16(10, tiles.length);
  let o = UPDATE_HEADER_BYTES;
  for (const t of tiles) {
    out[o] = t.encoding === 'solid' ? ENCODING_SOLID : t.encoding === 'zlib' ? ENCODING_ZLIB : ENCODING_COPY;
    view.setUint16(o + 1, t.x);
    view.setUint16(o + 3, t.y);
    view.setUint16(o + 5, t.w);
    view.setUint16(o + 7, t.h);
    o += TILE_HEADER_BYTES;
    switch (t.encoding) {
      case 'solid':
        out[o] = (t.color >>> 16) & 0xff;
        out[o + 1] = (t.color >>> 8) & 0xff;
        out[o + 2] = t.color & 0xff;
        o += 3;
        break;
      case 'zlib':
        view.setUint32(o, t.zlib.length);
        out.set(t.zlib, o + 4);
        o += 4 + t.zlib.length;
        break;
      case 'copy':
        view.setUint16(o, t.srcX);
        view.setUint16(o + 2, t.srcY);
        o += 4;
        break;
    }
  }
  return out;
}

// Details name fields and sizes only: never payload bytes.
function bad(detail: string): never {
  throw new RsoError('RSO_ERR_PROTOCOL', 'The other side sent a frame update that is not valid; the connection was closed.', `update: ${detail}`);
}

export function decodeUpdate(bytes: Uint8Array, limits: Readonly<UpdateLimits> = DEFAULT_UPDATE_LIMITS): Update {
  if (!(bytes instanceof Uint8Array)) bad('not bytes');
  if (bytes.length > limits.maxBytes) bad(`${bytes.length} bytes exceeds ${limits.maxBytes}`);
  if (bytes.length < UPDATE_HEADER_BYTES) bad(`${bytes.length} bytes is shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== UPDATE_MAGIC) bad('bad magic');
  if (bytes[1] !== UPDATE_VERSION) bad(`version ${bytes[1]}`);
  const seq = view.getUint32(2);
  const width = view.getUint16(6);
  const height = view.getUint16(8);
  const count = view.getUint16(10);
  if (width < 1 || height < 1 || width > limits.maxWidth || height > limits.maxHeight) bad(`frame ${width}x${height}`);
  if (count > limits.maxTiles) bad(`${count} tiles exceeds ${limits.maxTiles}`);
  // Cheapest tile is a solid one: reject an impossible count before looping over it.
  if (UPDATE_HEADER_BYTES + count * (TILE_HEADER_BYTES + 3) > bytes.length) bad(`${count} tiles cannot fit in ${bytes.length} bytes`);

  const maxArea = width * height * limits.maxAreaRatio;
  let area = 0;
  const tiles: DecodedTile[] = [];
  let o = UPDATE_HEADER_BYTES;
  const need = (n: number, what: string): void => {
    if (o + n > bytes.length) bad(`truncated ${what} at ${o}`);
  };
  for (let i = 0; i < count; i++) {
    need(TILE_HEADER_BYTES, 'tile header');
    const kind = bytes[o]!;
    const x = view.getUint16(o + 1);
    const y = view.getUint16(o + 3);
    const w = view.getUint16(o + 5);
    const h = view.getUint16(o + 7);
    o += TILE_HEADER_BYTES;
    area += w * h;
    if (area > maxArea) bad(`tiles cover more than ${limits.maxAreaRatio}x the frame`);
    let tile: DecodedTile;
    switch (kind) {
      case ENCODING_SOLID: {
        need(3, 'solid colour');
        tile = { encoding: 'solid', x, y, w, h, color: (bytes[o]! << 16) | (bytes[o + 1]! << 8) | bytes[o + 2]! };
        o += 3;
        break;
      }
      case ENCODING_ZLIB: {
        need(4, 'zlib length');
        const n = view.getUint32(o);
        o += 4;
        if (n < 1) bad('empty zlib payload');
        need(n, 'zlib payload');
        // Geometry first, so that a tile outside the frame is never inflated.
        const problem = geometryProblem({ encoding: 'zlib', x, y, w, h }, width, height);
        if (problem) bad(problem);
        const zlib = bytes.slice(o, o + n);
        o += n;
        tile = { encoding: 'zlib', x, y, w, h, zlib, pixels: inflateExact(zlib, w * h * 3) };
        break;
      }
      case ENCODING_COPY: {
        need(4, 'copy source');
        tile = { encoding: 'copy', x, y, w, h, srcX: view.getUint16(o), srcY: view.getUint16(o + 2) };
        o += 4;
        break;
      }
      default:
        bad(`unknown tile encoding ${kind}`);
    }
    const problem = geometryProblem(tile, width, height);
    if (problem) bad(problem);
    tiles.push(tile);
  }
  if (o !== bytes.length) bad(`${bytes.length - o} bytes after the last tile`);
  return { seq, width, height, tiles };
}

// maxOutputLength makes zlib stop (and throw) as soon as the output would pass what the tile
// can hold, so a "zlib bomb" costs at most one tile's worth of work and memory.
function inflateExact(zlib: Uint8Array, expected: number): Uint8Array {
  let out: Uint8Array;
  try {
    out = inflateSync(zlib, { maxOutputLength: expected });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    bad(`zlib payload does not inflate to ${expected} bytes (${typeof code === 'string' ? code : 'inflate error'})`);
  }
  if (out.length !== expected) bad(`zlib payload inflates to ${out.length} bytes, expected ${expected}`);
  return out;
}

/**
 * Paints an update into the agent's framebuffer and returns the rectangles that changed, in
 * paint order. Copy tiles read the framebuffer as it was before this update (so their order does
 * not matter and a scroll can copy onto its own source); then every tile is painted in order.
 * A different frame size reallocates the framebuffer (black) first; copy tiles are then invalid
 * because there is nothing to copy from.
 */
export function applyUpdate(fb: RgbFramebuffer, update: Update): Rect[] {
  const resized = fb.width !== update.width || fb.height !== update.height;
  for (const t of update.tiles) {
    const problem = geometryProblem(t, update.width, update.height);
    if (problem) bad(problem);
    if (t.encoding === 'copy' && resized) bad('copy tile in an update that changes the frame size');
    if (t.encoding === 'zlib' && t.pixels.length !== t.w * t.h * 3) bad('zlib tile pixels have the wrong length');
  }
  if (resized) {
    const fresh = createFramebuffer('rgb', update.width, update.height);
    fb.width = fresh.width;
    fb.height = fresh.height;
    fb.data = fresh.data;
  }

  const stride = fb.width * 3;
  const sources = new Map<CopyTile, Uint8Array>();
  for (const t of update.tiles) {
    if (t.encoding === 'copy') sources.set(t, readRect(fb.data, stride, t.srcX, t.srcY, t.w, t.h));
  }

  const changed: Rect[] = [];
  for (const t of update.tiles) {
    switch (t.encoding) {
      case 'solid':
        fillRect(fb.data, stride, t);
        break;
      case 'zlib':
        writeRect(fb.data, stride, t, t.pixels);
        break;
      case 'copy':
        writeRect(fb.data, stride, t, sources.get(t)!);
        break;
    }
    changed.push({ x: t.x, y: t.y, w: t.w, h: t.h });
  }
  return resized ? [{ x: 0, y: 0, w: fb.width, h: fb.height }] : changed;
}

function readRect(data: Uint8Array, stride: number, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let row = 0; row < h; row++) {
    const at = (y + row) * stride + x * 3;
    out.set(data.subarray(at, at + w * 3), row * w * 3);
  }
  return out;
}

function writeRect(data: Uint8Array, stride: number, r: Rect, pixels: Uint8Array): void {
  const n = r.w * 3;
  for (let row = 0; row < r.h; row++) {
    data.set(pixels.subarray(row * n, row * n + n), (r.y + row) * stride + r.x * 3);
  }
}

function fillRect(data: Uint8Array, stride: number, t: SolidTile): void {
  const red = (t.color >>> 16) & 0xff;
  const g = (t.color >>> 8) & 0xff;
  const b = t.color & 0xff;
  // Paint the first row pixel by pixel, then copy it: the rest is native memcpy.
  const first = t.y * stride + t.x * 3;
  for (let i = 0; i < t.w; i++) {
    data[first + i * 3] = red;
    data[first + i * 3 + 1] = g;
    data[first + i * 3 + 2] = b;
  }
  const n = t.w * 3;
  for (let row = 1; row < t.h; row++) data.copyWithin((t.y + row) * stride + t.x * 3, first, first + n);
}
