// The frame update: what the customer's daemon sends inside the encrypted channel so that the
// agent's framebuffer catches up with the screen. Byte layout in docs/codec.md.
//
// Tiles of few colours travel as "packed" bodies (packed.ts); all packed bodies of one update
// are deflated together as one raw-deflate blob whose preset dictionary is the history of the
// bodies sent before (history.ts). That is what makes a keystroke a few dozen bytes: the glyph
// compresses against the same glyph sent earlier, as in VNC's ZRLE, while each call still
// inflates one self-contained blob (no zlib stream lives between calls).
//
// This file holds the types and the encoder; decode-update.ts decodes and applies.

import { deflateRawSync } from 'node:zlib';
import { RsoError } from '../errors.js';
import { MAX_RECORD_PLAINTEXT } from '../protocol/version.js';
import { CodecHistory } from './history.js';
import { MAX_PALETTE, MAX_RUNS_COLORS, packedBodyLength, runsBodyBounds, type PackedBits, type PackedLayout } from './packed.js';
import { varintBytes, writeVarint } from './varint.js';

export const UPDATE_MAGIC = 0x55; // 'U'
export const UPDATE_VERSION = 3;
/** Header flag: the history starts over with this update (and it carries its full seq and the frame size). */
export const FLAG_RESET = 0x01;
/** Header flag: the tile list travels raw-deflated, its compressed length first. */
export const FLAG_LIST_DEFLATED = 0x02;
/** Bytes one entry of a deflated tile list can take at most: kind, 4 varints, then a palette size and a body length (1 + 5), a colour or a copy source (no zlib tile may sit there). */
export const MAX_LIST_ENTRY_BYTES = 1 + 4 * 3 + 6;
/** From this many tiles the encoder tries deflating the list. */
const LIST_DEFLATE_MIN_TILES = 8;
/** The largest header: magic, version, flags, seq (5), width (3), height (3), count (3). */
export const MAX_UPDATE_HEADER_BYTES = 3 + 5 + 3 + 3 + 3;
/** The largest tile header: kind, x, y, w, h (3 each), palette count. */
export const MAX_TILE_HEADER_BYTES = 1 + 4 * 3 + 1;

export const ENCODING_SOLID = 0;
export const ENCODING_ZLIB = 1;
export const ENCODING_COPY = 2;
/** Packed, raw RGB body. */
export const ENCODING_PACKED_RGB = 3;
/** Packed with a palette: 4, 5, 6, 7 are 1, 2, 4, 8 bits per pixel. */
export const ENCODING_PACKED_1 = 4;
/** Packed with a palette of up to 128 colours, the indices as runs. */
export const ENCODING_PACKED_RUNS = 8;
export const PACKED_BITS: readonly PackedBits[] = [1, 2, 4, 8];

/**
 * Raw deflate level of the blob (docs/codec.md, "Choices"). Palette-packed bodies (text,
 * window chrome) deflate fast at the higher levels: 8 up to 256 KiB (a full desktop of
 * terminals and title bars is ~110 KB: level 8 takes 3.4 ms and is within 0.4% of level 9,
 * which takes 9 ms; level 6 gives 1.5% more bytes), 6 up to 512 KiB. Larger bodies, or bodies
 * that are mostly RGB (photos, gradients, video), get level 1: there the higher levels cost
 * several times the time for 5-10% fewer bytes.
 */
export function blobLevel(bodyBytes: number, rgbBytes: number): number {
  if (rgbBytes * 2 > bodyBytes || bodyBytes > BLOB_LEVEL6_MAX) return 1;
  return bodyBytes <= BLOB_LEVEL8_MAX ? 8 : 6;
}
export const BLOB_LEVEL6_MAX = 512 << 10;
/** Bodies up to this size go straight to their level: small enough that any level is fast. */
const SMALL_BODIES = 16 << 10;
export const BLOB_LEVEL8_MAX = 256 << 10;

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

/** RGB pixels, row-major, w*h*3 bytes before zlib compression (one zlib stream per tile; the daemon no longer sends these). */
export interface ZlibTile extends TileBase {
  encoding: 'zlib';
  zlib: Uint8Array;
}

/** After decoding, a zlib tile also carries its inflated pixels (and keeps the compressed bytes for kitty's o=z). */
export interface DecodedZlibTile extends ZlibTile {
  pixels: Uint8Array;
}

/**
 * A packed body (packed.ts): `bits` 0 is raw RGB, 'runs' a palette of `colors` entries and runs
 * of indices, else a palette and `bits`-bit indices. The body goes into the update's shared
 * deflate blob.
 */
export interface PackedTile extends TileBase {
  encoding: 'packed';
  bits: PackedLayout;
  colors: number;
  body: Uint8Array;
}

/** After decoding, a packed tile carries its RGB pixels (w*h*3). */
export interface DecodedPackedTile extends PackedTile {
  pixels: Uint8Array;
}

/** Pixels already on the agent's side: the w x h rectangle at (srcX, srcY) before this update. */
export interface CopyTile extends TileBase {
  encoding: 'copy';
  srcX: number;
  srcY: number;
}

export type Tile = SolidTile | ZlibTile | CopyTile | PackedTile;
export type DecodedTile = SolidTile | DecodedZlibTile | CopyTile | DecodedPackedTile;

export interface UpdateInput {
  seq: number;
  width: number;
  height: number;
  tiles: readonly Tile[];
  /**
   * Start the history over with this update. Default: when no history is given, or it holds
   * nothing yet. Without it, seq must be the history's seq + 1 and the size the same.
   */
  reset?: boolean;
}

export interface Update {
  seq: number;
  width: number;
  height: number;
  /** The update started the history over (the agent's picture is being sent afresh). */
  reset: boolean;
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

/** Room kept in an update for its header and tile list when cutting a change by body size (at most a quarter of it). */
const LIST_ROOM = 64 << 10;

/**
 * An upper bound of the bytes a tile takes on the wire (for packing tiles under a record size).
 * A packed tile counts its uncompressed body plus deflate's worst-case overhead for it.
 */
export function tileWireBytes(tile: Tile): number {
  switch (tile.encoding) {
    case 'solid':
      return MAX_TILE_HEADER_BYTES + 3;
    case 'zlib':
      return MAX_TILE_HEADER_BYTES + 5 + tile.zlib.length;
    case 'copy':
      return MAX_TILE_HEADER_BYTES + 6;
    case 'packed':
      // Stored deflate blocks: 5 bytes per 64 KiB, plus the end of the stream.
      return MAX_TILE_HEADER_BYTES + tile.body.length + 5 * Math.ceil(tile.body.length / 0xffff) + 8;
  }
}

/**
 * Splits tiles into groups that each encode to at most maxBytes (by tileWireBytes, an upper
 * bound), keeping their order, so a large change can travel as several updates within the
 * record size. A tile that alone is too large is a bug in the caller.
 */
export function splitTiles(tiles: readonly Tile[], maxBytes: number = DEFAULT_UPDATE_LIMITS.maxBytes): Tile[][] {
  const groups: Tile[][] = [];
  let group: Tile[] = [];
  let size = MAX_UPDATE_HEADER_BYTES;
  for (const tile of tiles) {
    const n = tileWireBytes(tile);
    if (MAX_UPDATE_HEADER_BYTES + n > maxBytes) {
      throw new RsoError('RSO_ERR_INTERNAL', undefined, `a ${tile.w}x${tile.h} tile of ${n} bytes cannot fit in ${maxBytes}`);
    }
    if (size + n > maxBytes || group.length === 0xffff) {
      groups.push(group);
      group = [];
      size = MAX_UPDATE_HEADER_BYTES;
    }
    group.push(tile);
    size += n;
  }
  if (group.length > 0 || groups.length === 0) groups.push(group);
  return groups;
}

// Shared by encoder and decoder: what is wrong with a tile's geometry, or null.
export function geometryProblem(t: TileBase & { encoding: string; srcX?: number; srcY?: number }, width: number, height: number): string | null {
  if (t.w < 1 || t.h < 1) return `empty ${t.encoding} tile`;
  if (t.x + t.w > width || t.y + t.h > height) return `${t.encoding} tile ${t.w}x${t.h}+${t.x}+${t.y} outside ${width}x${height}`;
  if (t.encoding === 'copy' && (t.srcX! + t.w > width || t.srcY! + t.h > height)) {
    return `copy source ${t.w}x${t.h}+${t.srcX}+${t.srcY} outside ${width}x${height}`;
  }
  return null;
}

// Signed deltas as varints: 0, -1, 1, -2, 2... become 0, 1, 2, 3, 4...
function zigzag(v: number): number {
  return v >= 0 ? 2 * v : -2 * v - 1;
}
export function unzigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

function isU16(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

function kindOf(t: Tile): number {
  switch (t.encoding) {
    case 'solid':
      return ENCODING_SOLID;
    case 'zlib':
      return ENCODING_ZLIB;
    case 'copy':
      return ENCODING_COPY;
    case 'packed':
      if (t.bits === 'runs') return ENCODING_PACKED_RUNS;
      return t.bits === 0 ? ENCODING_PACKED_RGB : ENCODING_PACKED_1 + PACKED_BITS.indexOf(t.bits);
  }
}

/**
 * Encodes one update. With a history, packed bodies are compressed against it and it absorbs
 * them (only once the update is complete); without one, the update starts from an empty
 * history and is marked reset, so it decodes on its own.
 */
export function encodeUpdate(update: UpdateInput, history?: CodecHistory, level?: number): Uint8Array {
  const built = buildUpdate(update, history ?? new CodecHistory(), level);
  built.commit();
  return built.bytes;
}

/**
 * Encodes a change as one or more updates numbered from `seq`, each at most maxBytes: tiles are
 * grouped by an upper bound of their size, and a group whose compressed form is still too large
 * is halved. The history absorbs each update in turn.
 */
export function encodeUpdates(update: UpdateInput, history: CodecHistory, maxBytes: number = DEFAULT_UPDATE_LIMITS.maxBytes, level?: number): Uint8Array[] {
  // First cut: by uncompressed body size, at most what fits even if deflate cannot shrink it
  // (RGB of a photo), so a group is deflated once; halving below is for the rare rest.
  const cap = Math.max(1, maxBytes - Math.min(LIST_ROOM, Math.floor(maxBytes / 4)));
  const groups: Tile[][] = [];
  let group: Tile[] = [];
  let bodies = 0;
  for (const t of update.tiles) {
    const n = t.encoding === 'packed' ? t.body.length : 0;
    if (group.length > 0 && (bodies + n > cap || group.length === 0xffff)) {
      groups.push(group);
      group = [];
      bodies = 0;
    }
    group.push(t);
    bodies += n;
  }
  if (group.length > 0 || groups.length === 0) groups.push(group);

  const out: Uint8Array[] = [];
  let seq = update.seq;
  let reset = update.reset;
  const emit = (tiles: Tile[]): void => {
    const built = buildUpdate({ seq, width: update.width, height: update.height, tiles, ...(reset !== undefined ? { reset } : {}) }, history, level);
    if (built.bytes.length > maxBytes) {
      if (tiles.length === 1) throw new RsoError('RSO_ERR_INTERNAL', undefined, `a ${tiles[0]!.w}x${tiles[0]!.h} tile of ${built.bytes.length} bytes cannot fit in ${maxBytes}`);
      const half = Math.ceil(tiles.length / 2);
      emit(tiles.slice(0, half));
      emit(tiles.slice(half));
      return;
    }
    built.commit();
    out.push(built.bytes);
    seq = (seq + 1) >>> 0;
    reset = false;
  };
  for (const g of groups) emit(g);
  return out;
}

function buildUpdate(update: UpdateInput, history: CodecHistory, level: number | undefined): { bytes: Uint8Array; commit: () => void } {
  const { seq, width, height, tiles } = update;
  const fail = (detail: string): never => {
    throw new RsoError('RSO_ERR_INTERNAL', undefined, `encodeUpdate: ${detail}`);
  };
  const reset = update.reset ?? history.seq === null;
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) fail(`seq ${seq}`);
  if (!isU16(width) || !isU16(height) || width < 1 || height < 1) fail(`frame ${width}x${height}`);
  if (tiles.length > 0xffff) fail(`${tiles.length} tiles`);
  if (!reset) {
    if (history.seq === null || seq !== ((history.seq + 1) >>> 0)) fail(`seq ${seq} does not continue the history (at ${history.seq})`);
    if (history.width !== width || history.height !== height) fail(`frame ${width}x${height} continues a history of ${history.width}x${history.height}`);
  }

  const headSize = 3 + (reset ? varintBytes(seq) + varintBytes(width) + varintBytes(height) : 1) + varintBytes(tiles.length);
  let size = 0; // of the tile list
  let bodyBytes = 0;
  let rgbBytes = 0;
  let hasZlib = false;
  let prev = { x: 0, y: 0, h: 0 };
  for (const t of tiles) {
    for (const v of t.encoding === 'copy' ? [t.x, t.y, t.w, t.h, t.srcX, t.srcY] : [t.x, t.y, t.w, t.h]) {
      if (!isU16(v)) fail(`tile field ${v}`);
    }
    const problem = geometryProblem(t, width, height);
    if (problem) fail(problem);
    size += 1 + varintBytes(zigzag(t.x - prev.x)) + varintBytes(zigzag(t.y - prev.y - prev.h)) + varintBytes(t.w) + varintBytes(t.h);
    prev = t;
    switch (t.encoding) {
      case 'solid':
        if (!(Number.isInteger(t.color) && t.color >= 0 && t.color <= 0xffffff)) fail('solid colour');
        size += 3;
        break;
      case 'zlib':
        if (t.zlib.length < 1) fail('empty zlib payload');
        size += varintBytes(t.zlib.length) + t.zlib.length;
        hasZlib = true;
        break;
      case 'copy':
        size += varintBytes(t.srcX) + varintBytes(t.srcY);
        break;
      case 'packed':
        if (t.bits === 'runs') {
          const { min, max } = runsBodyBounds(t.w, t.h, t.colors);
          if (t.colors < 2 || t.colors > Math.min(MAX_RUNS_COLORS, t.w * t.h)) fail(`runs tile of ${t.colors} colours`);
          if (t.body.length < min || t.body.length > max) fail('runs body of an impossible length');
          size += 1 + varintBytes(t.body.length);
        } else {
          if (t.bits !== 0 && (!PACKED_BITS.includes(t.bits) || t.colors < 2 || t.colors > Math.min(MAX_PALETTE, 1 << t.bits, t.w * t.h))) fail(`packed tile of ${t.colors} colours at ${t.bits} bits`);
          if (t.body.length !== packedBodyLength(t.w, t.h, t.bits, t.colors)) fail('packed body of the wrong length');
          size += t.bits === 0 ? 0 : 1;
        }
        bodyBytes += t.body.length;
        if (t.bits === 0) rgbBytes += t.body.length;
        break;
    }
  }

  const list = new Uint8Array(size);
  let o = 0;
  prev = { x: 0, y: 0, h: 0 };
  for (const t of tiles) {
    list[o++] = kindOf(t);
    o = writeVarint(list, o, zigzag(t.x - prev.x));
    o = writeVarint(list, o, zigzag(t.y - prev.y - prev.h));
    prev = t;
    o = writeVarint(list, o, t.w);
    o = writeVarint(list, o, t.h);
    switch (t.encoding) {
      case 'solid':
        list[o++] = (t.color >>> 16) & 0xff;
        list[o++] = (t.color >>> 8) & 0xff;
        list[o++] = t.color & 0xff;
        break;
      case 'zlib':
        o = writeVarint(list, o, t.zlib.length);
        list.set(t.zlib, o);
        o += t.zlib.length;
        break;
      case 'copy':
        o = writeVarint(list, o, t.srcX);
        o = writeVarint(list, o, t.srcY);
        break;
      case 'packed':
        if (t.bits !== 0) list[o++] = t.colors - 1;
        if (t.bits === 'runs') o = writeVarint(list, o, t.body.length);
        break;
    }
  }

  // Bodies: one raw-deflate blob against the history.
  const bodies = new Uint8Array(bodyBytes);
  let blob: Uint8Array = new Uint8Array(0);
  if (bodyBytes > 0) {
    let b = 0;
    for (const t of tiles) {
      if (t.encoding !== 'packed') continue;
      bodies.set(t.body, b);
      b += t.body.length;
    }
    const dictionary = reset ? undefined : history.dictionary;
    const deflate = (lvl: number): Uint8Array => deflateRawSync(bodies, dictionary && dictionary.length > 0 ? { level: lvl, dictionary } : { level: lvl });
    const lvl = level ?? blobLevel(bodyBytes, rgbBytes);
    if (lvl === 1 || level !== undefined || bodyBytes <= SMALL_BODIES) {
      blob = deflate(lvl);
    } else {
      // Level 8 (or 6) pays on what compresses well (text: a tenth fewer bytes than level 1
      // for a few ms on a full screen) and costs most on what does not (noise, dithering:
      // 5-10x level 1's time for nothing). Level 1 first tells which it is, for ~1 ms.
      blob = deflate(1);
      if (blob.length * 4 < bodyBytes) blob = deflate(lvl);
    }
  }
  // A long tile list (a full-screen change is ~500 tiles, mostly solid) deflates to a fifth:
  // regular positions, repeated colours. A short one (a keystroke) does not pay.
  let deflatedList: Uint8Array | null = null;
  if (tiles.length >= LIST_DEFLATE_MIN_TILES && !hasZlib) {
    const z = deflateRawSync(list, { level: 9 });
    if (varintBytes(z.length) + z.length < list.length) deflatedList = z;
  }

  const out = new Uint8Array(headSize + (deflatedList ? varintBytes(deflatedList.length) + deflatedList.length : list.length) + blob.length);
  out[0] = UPDATE_MAGIC;
  out[1] = UPDATE_VERSION;
  out[2] = (reset ? FLAG_RESET : 0) | (deflatedList ? FLAG_LIST_DEFLATED : 0);
  o = 3;
  if (reset) {
    o = writeVarint(out, o, seq);
    o = writeVarint(out, o, width);
    o = writeVarint(out, o, height);
  } else {
    out[o++] = seq & 0xff;
  }
  o = writeVarint(out, o, tiles.length);
  if (deflatedList) {
    o = writeVarint(out, o, deflatedList.length);
    out.set(deflatedList, o);
    o += deflatedList.length;
  } else {
    out.set(list, o);
    o += list.length;
  }
  out.set(blob, o);
  return {
    bytes: out,
    commit: () => {
      if (reset) history.reset();
      history.absorb(seq, width, height, bodies);
    },
  };
}
