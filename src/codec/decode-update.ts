// Decoding and applying a frame update (docs/codec.md): the agent's side of update.ts.
//
// The decoder reads bytes that come from the other person's machine. Decryption proves who
// sent them, not that they are sane, so it checks every field before it allocates or inflates
// anything, bounds all work by the limits, and reports any violation as RSO_ERR_PROTOCOL. The
// history changes only when a whole update was valid.

import { inflateRawSync, inflateSync } from 'node:zlib';
import { RsoError } from '../errors.js';
import { createFramebuffer, type Rect, type RgbFramebuffer } from './framebuffer.js';
import { CodecHistory } from './history.js';
import { packedBodyLength, runsBodyBounds, unpackBody, MAX_RUNS_COLORS, type PackedLayout } from './packed.js';
import { readVarint } from './varint.js';
import {
  DEFAULT_UPDATE_LIMITS,
  ENCODING_COPY,
  ENCODING_PACKED_1,
  ENCODING_PACKED_RGB,
  ENCODING_PACKED_RUNS,
  ENCODING_SOLID,
  ENCODING_ZLIB,
  FLAG_LIST_DEFLATED,
  FLAG_RESET,
  MAX_LIST_ENTRY_BYTES,
  PACKED_BITS,
  UPDATE_MAGIC,
  UPDATE_VERSION,
  geometryProblem,
  unzigzag,
  type CopyTile,
  type DecodedPackedTile,
  type DecodedTile,
  type PackedTile,
  type SolidTile,
  type Update,
  type UpdateLimits,
} from './update.js';

// Details name fields and sizes only: never payload bytes.
function bad(detail: string): never {
  throw new RsoError('RSO_ERR_PROTOCOL', 'The other side sent a frame update that is not valid; the connection was closed.', `update: ${detail}`);
}

/**
 * Decodes one update. `history` is what this side has absorbed so far (a fresh one accepts only
 * an update that resets it); it absorbs this update only when the whole update is valid.
 */
export function decodeUpdate(bytes: Uint8Array, history: CodecHistory = new CodecHistory(), limits: Readonly<UpdateLimits> = DEFAULT_UPDATE_LIMITS): Update {
  if (!(bytes instanceof Uint8Array)) bad('not bytes');
  if (bytes.length > limits.maxBytes) bad(`${bytes.length} bytes exceeds ${limits.maxBytes}`);
  if (bytes.length < 5) bad(`${bytes.length} bytes is shorter than the header`);
  if (bytes[0] !== UPDATE_MAGIC) bad('bad magic');
  if (bytes[1] !== UPDATE_VERSION) {
    // Well formed, but from another release of rso (npx fetches the newest; an engineer's
    // installed copy may be older): say so, rather than "not valid".
    throw new RsoError(
      'RSO_ERR_VERSION',
      `The other side's rso sends pictures in format ${bytes[1]}; this one reads format ${UPDATE_VERSION}. Update rso so that both sides run the same release.`,
      `update: version ${bytes[1]}`,
    );
  }
  const flags = bytes[2]!;
  if ((flags & ~(FLAG_RESET | FLAG_LIST_DEFLATED)) !== 0) bad(`unknown flags ${flags}`);
  const reset = (flags & FLAG_RESET) !== 0;
  // The tile list is read from here: the update itself, or the inflated list when it travels deflated.
  let src: Uint8Array = bytes;
  let o = 3;
  const varint = (what: string): number => {
    const r = readVarint(src, o);
    if (typeof r === 'string') bad(`${what}: ${r}`);
    o = r[1];
    return r[0];
  };
  let seq: number;
  let width: number;
  let height: number;
  if (reset) {
    seq = varint('seq');
    width = varint('width');
    height = varint('height');
  } else {
    // Continuing: the seq follows the history's, and the low byte on the wire must agree, so a
    // lost update (or a viewer that never had the history) fails here instead of painting
    // pixels decoded against the wrong dictionary.
    if (history.seq === null) bad('update continues a history this side does not have (no reset since it started)');
    seq = (history.seq + 1) >>> 0;
    if (src[o] !== (seq & 0xff)) bad(`update does not follow seq ${history.seq} (seq byte ${src[o]}, expected ${seq & 0xff})`);
    o++;
    width = history.width;
    height = history.height;
  }
  const count = varint('tile count');
  if (width < 1 || height < 1 || width > limits.maxWidth || height > limits.maxHeight) bad(`frame ${width}x${height}`);
  if (count > limits.maxTiles) bad(`${count} tiles exceeds ${limits.maxTiles}`);
  const maxArea = width * height * limits.maxAreaRatio;
  const dictionary = !reset && history.dictionary.length > 0 ? history.dictionary : undefined;
  let afterList = -1;
  if ((flags & FLAG_LIST_DEFLATED) !== 0) {
    const n = varint('tile list length');
    if (n < 1 || o + n > bytes.length) bad(`deflated tile list of ${n} bytes at ${o} in ${bytes.length}`);
    // The list's size is bounded by its count (no zlib tile may sit in it), so is the inflate.
    src = inflateBlob(bytes.subarray(o, o + n), count * MAX_LIST_ENTRY_BYTES, undefined, false);
    afterList = o + n;
    o = 0;
  }
  // The cheapest tile (a raw packed one) takes 5 bytes: reject an impossible count before looping over it.
  if (o + count * 5 > src.length) bad(`${count} tiles cannot fit in ${src.length} bytes`);

  let area = 0;
  const tiles: DecodedTile[] = [];
  const packed: Array<{ tile: PackedTile; n: number }> = [];
  let bodyBytes = 0;
  const need = (n: number, what: string): void => {
    if (o + n > src.length) bad(`truncated ${what} at ${o}`);
  };
  let prev = { x: 0, y: 0, h: 0 };
  for (let i = 0; i < count; i++) {
    need(1, 'tile header');
    const kind = src[o++]!;
    // Positions are relative: x to the previous tile's x, y to the previous tile's bottom edge.
    const x = prev.x + unzigzag(varint('tile x'));
    const y = prev.y + prev.h + unzigzag(varint('tile y'));
    const w = varint('tile w');
    const h = varint('tile h');
    if (x < 0 || y < 0) bad('tile position below 0');
    if (x > 0xffff || y > 0xffff || w > 0xffff || h > 0xffff) bad('tile field above 65535');
    prev = { x, y, h };
    area += w * h;
    if (area > maxArea) bad(`tiles cover more than ${limits.maxAreaRatio}x the frame`);
    let tile: DecodedTile;
    switch (kind) {
      case ENCODING_SOLID: {
        need(3, 'solid colour');
        tile = { encoding: 'solid', x, y, w, h, color: (src[o]! << 16) | (src[o + 1]! << 8) | src[o + 2]! };
        o += 3;
        break;
      }
      case ENCODING_ZLIB: {
        if (afterList >= 0) bad('zlib tile in a deflated tile list');
        const n = varint('zlib length');
        if (n < 1) bad('empty zlib payload');
        need(n, 'zlib payload');
        // Geometry first, so that a tile outside the frame is never inflated.
        const problem = geometryProblem({ encoding: 'zlib', x, y, w, h }, width, height);
        if (problem) bad(problem);
        const zlib = src.slice(o, o + n);
        o += n;
        tile = { encoding: 'zlib', x, y, w, h, zlib, pixels: inflateExact(zlib, w * h * 3) };
        break;
      }
      case ENCODING_COPY: {
        const srcX = varint('copy source x');
        const srcY = varint('copy source y');
        tile = { encoding: 'copy', x, y, w, h, srcX, srcY };
        break;
      }
      default: {
        if (kind < ENCODING_PACKED_RGB || kind > ENCODING_PACKED_RUNS) bad(`unknown tile encoding ${kind}`);
        const bits: PackedLayout = kind === ENCODING_PACKED_RUNS ? 'runs' : kind === ENCODING_PACKED_RGB ? 0 : PACKED_BITS[kind - ENCODING_PACKED_1]!;
        let colors = 0;
        if (bits !== 0) {
          need(1, 'palette size');
          colors = src[o++]! + 1;
          if (colors < 2 || colors > (bits === 'runs' ? MAX_RUNS_COLORS : 1 << bits)) bad(`palette of ${colors} colours ${bits === 'runs' ? 'in runs' : `at ${bits} bits per pixel`}`);
          if (colors > w * h) bad(`palette of ${colors} colours for ${w * h} pixels`);
        }
        let n: number;
        if (bits === 'runs') {
          // The only body whose length the entry states: it must lie between one run for the
          // whole tile and one byte per pixel, so the blob's size stays bounded by the tiles.
          n = varint('runs body length');
          const { min, max } = runsBodyBounds(w, h, colors);
          if (n < min || n > max) bad(`runs body of ${n} bytes for ${colors} colours and ${w * h} pixels`);
        } else {
          n = packedBodyLength(w, h, bits, colors);
        }
        // Pixels filled in once the blob is inflated and split.
        tile = { encoding: 'packed', x, y, w, h, bits, colors, body: new Uint8Array(0), pixels: new Uint8Array(0) };
        packed.push({ tile, n });
        bodyBytes += n;
        break;
      }
    }
    const problem = geometryProblem(tile, width, height);
    if (problem) bad(problem);
    tiles.push(tile);
  }

  if (afterList >= 0) {
    if (o !== src.length) bad(`${src.length - o} bytes after the last tile of the deflated list`);
    src = bytes;
    o = afterList;
  }
  // Everything after the tiles is the blob, when there are packed tiles; else nothing may follow.
  let bodies: Uint8Array = new Uint8Array(0);
  if (packed.length === 0) {
    if (o !== src.length) bad(`${src.length - o} bytes after the last tile`);
  } else {
    if (o >= src.length) bad('packed tiles without their compressed bodies');
    bodies = inflateBlob(src.subarray(o), bodyBytes, dictionary, true);
  }
  let b = 0;
  for (const { tile: t, n } of packed) {
    t.body = bodies.subarray(b, b + n);
    b += n;
    const pixels = unpackBody(t.body, t.w, t.h, t.bits, t.colors);
    if (typeof pixels === 'string') bad(`packed tile ${t.w}x${t.h}+${t.x}+${t.y}: ${pixels}`);
    (t as DecodedPackedTile).pixels = pixels;
  }
  if (reset) history.reset();
  history.absorb(seq, width, height, bodies);
  return { seq, width, height, reset, tiles };
}

// maxOutputLength makes zlib stop (and throw) as soon as the output would pass what the tiles
// can hold, so a "zlib bomb" costs at most the update's own worth of work and memory. The
// engine must also have consumed every byte: nothing may hide after the end of the stream.
// `exact`: the output must be exactly `max` bytes (the caller checks the length otherwise).
function inflateBlob(blob: Uint8Array, max: number, dictionary: Uint8Array | undefined, exact: boolean): Uint8Array {
  let result: { buffer: Uint8Array; engine: { bytesWritten: number } };
  try {
    // info: the engine tells how much input it consumed (node:zlib, "Convenience methods").
    result = inflateRawSync(blob, { maxOutputLength: Math.max(1, max), info: true, ...(dictionary ? { dictionary } : {}) }) as unknown as typeof result;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    bad(`blob does not inflate within ${max} bytes (${typeof code === 'string' ? code : 'inflate error'})`);
  }
  const out = result.buffer;
  if (exact && out.length !== max) bad(`packed bodies inflate to ${out.length} bytes, expected ${max}`);
  if (result.engine.bytesWritten !== blob.length) bad(`${blob.length - result.engine.bytesWritten} bytes after the end of the blob`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

// Same bound for the single-tile zlib stream.
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
    if ((t.encoding === 'zlib' || t.encoding === 'packed') && t.pixels.length !== t.w * t.h * 3) bad(`${t.encoding} tile pixels have the wrong length`);
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
      case 'packed':
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
