// Packed tile bodies (docs/codec.md, "Packed bodies"): a rectangle of few colours travels as a
// palette and 1, 2, 4 or 8-bit indices, anything else as raw RGB. Bodies are not compressed one
// by one: update.ts deflates all bodies of an update together, against the history of earlier
// ones, so the packing here only has to make repeats visible to deflate (the same glyph in the
// same colours gives the same bytes) and cut the size deflate starts from (1 bit instead of 24).

import type { Rect } from './framebuffer.js';

export type PackedBits = 0 | 1 | 2 | 4 | 8;
/**
 * How a packed body holds its pixels: raw RGB (0), rows of 1-8-bit palette indices, or 'runs'
 * of palette indices (docs/codec.md, "Packed bodies").
 */
export type PackedLayout = PackedBits | 'runs';

/** Most colours a palette may hold; indices are at most 8 bits. */
export const MAX_PALETTE = 256;
/**
 * Palette size the encoder goes up to: all of it. Text is 2-16 colours (1-4 bits per pixel),
 * and gradients and antialiased window chrome are tens of colours that compress far better as
 * 8-bit indices than as RGB (measured on a window title bar: docs/codec.md, "Choices").
 */
export const ENCODER_MAX_COLORS = MAX_PALETTE;
/** Most colours a runs body may hold: an index is 7 bits, the eighth says a run length follows. */
export const MAX_RUNS_COLORS = 128;
/** Up to this many colours a linear search of the palette is faster than a Map. */
const LINEAR_SEARCH = 16;

export function bitsFor(colors: number): PackedBits {
  return colors <= 2 ? 1 : colors <= 4 ? 2 : colors <= 16 ? 4 : 8;
}

/** Body bytes of a packed tile: the palette then the rows of indices, each row padded to a byte; or w*h*3 RGB. */
export function packedBodyLength(w: number, h: number, bits: PackedBits, colors: number): number {
  if (bits === 0) return w * h * 3;
  return colors * 3 + h * Math.ceil((w * bits) / 8);
}

export type PackResult = { kind: 'solid'; color: number } | { kind: 'packed'; bits: PackedLayout; colors: number; body: Uint8Array };

/**
 * Packs one rectangle of a BGRX framebuffer (little-endian words 0xXXRRGGBB; the X byte is not
 * part of the colour). Palette entries are ordered by how often they occur, so the same content
 * always packs to the same bytes. A rectangle of 3 to 128 colours goes as runs when that body is
 * shorter than rows of indices: window chrome, gradients and antialiased shapes are long runs of
 * one colour, which 8-bit indices spell out pixel by pixel (measured on a desktop of terminals
 * and title bars: 9% fewer bytes after deflate; docs/codec.md, "Choices"). Two-colour
 * rectangles (text) stay 1-bit: deflate finds repeated glyphs there, and runs measured worse.
 */
export function packRect(words: Uint32Array, stride: number, r: Rect, maxColors: number = ENCODER_MAX_COLORS): PackResult {
  const { w, h } = r;
  // Most tiles of a desktop are one colour (backgrounds, empty terminal lines): find that out
  // with one comparison per pixel, before building indices (a full screen: 16 -> 11 ms).
  const first = words[r.y * stride + r.x]! & 0xffffff;
  if (isUniform(words, stride, r, first)) return { kind: 'solid', color: first };
  const palette: number[] = [];
  let hashed = false;
  const idx = new Uint8Array(w * h);
  const counts = new Uint32Array(MAX_PALETTE);
  let last = -1;
  let lastIndex = 0;
  let i = 0;
  let fits = true;
  scan: for (let y = r.y; y < r.y + h; y++) {
    const end = y * stride + r.x + w;
    for (let p = y * stride + r.x; p < end; p++) {
      const c = words[p]! & 0xffffff;
      if (c !== last) {
        let k = hashed ? hashGet(c) : palette.indexOf(c);
        if (k < 0) {
          if (palette.length === maxColors) {
            fits = false;
            break scan;
          }
          k = palette.length;
          palette.push(c);
          if (hashed) hashSet(c, k);
          else if (palette.length > LINEAR_SEARCH) {
            hashClear();
            palette.forEach((v, j) => hashSet(v, j));
            hashed = true;
          }
        }
        last = c;
        lastIndex = k;
      }
      counts[lastIndex]!++;
      idx[i++] = lastIndex;
    }
  }
  if (!fits) {
    const body = new Uint8Array(w * h * 3);
    let o = 0;
    for (let y = r.y; y < r.y + h; y++) {
      const end = y * stride + r.x + w;
      for (let p = y * stride + r.x; p < end; p++) {
        const c = words[p]!;
        body[o++] = (c >>> 16) & 0xff;
        body[o++] = (c >>> 8) & 0xff;
        body[o++] = c & 0xff;
      }
    }
    return { kind: 'packed', bits: 0, colors: 0, body };
  }
  const colors = palette.length;
  const bits = bitsFor(colors);
  const body = new Uint8Array(packedBodyLength(w, h, bits, colors));
  // Most frequent colour first (ties: first seen), so the background of text is index 0 in every
  // tile and a glyph packs to the same bits wherever it is, whichever colour a tile starts with.
  const order = Array.from(palette.keys()).sort((a, b) => counts[b]! - counts[a]! || a - b);
  let sorted = true;
  for (let j = 0; j < colors; j++) if (order[j] !== j) sorted = false;
  if (!sorted) {
    const remap = new Uint8Array(colors);
    order.forEach((from, to) => (remap[from] = to));
    for (let j = 0; j < idx.length; j++) idx[j] = remap[idx[j]!]!;
  }
  let o = 0;
  for (const k of order) {
    const c = palette[k]!;
    body[o++] = c >>> 16;
    body[o++] = (c >>> 8) & 0xff;
    body[o++] = c & 0xff;
  }
  if (colors >= 3 && colors <= MAX_RUNS_COLORS) {
    const n = colors * 3 + runsLength(idx);
    if (n < body.length) {
      const runs = new Uint8Array(n);
      runs.set(body.subarray(0, o));
      writeRuns(idx, runs, o);
      return { kind: 'packed', bits: 'runs', colors, body: runs };
    }
  }
  packIndices(idx, w, h, bits, body, o);
  return { kind: 'packed', bits, colors, body };
}

// Runs (docs/codec.md, "Packed bodies"): a byte below 0x80 is one pixel of that index; with
// 0x80 set, the low 7 bits are the index of a run of 2 + L pixels, L written as bytes of 255
// while it is at least 255, then the rest (as in VNC's ZRLE). Runs continue across rows.
function runsLength(idx: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < idx.length; ) {
    const v = idx[i]!;
    let j = i + 1;
    while (j < idx.length && idx[j] === v) j++;
    n += j - i === 1 ? 1 : 2 + Math.floor((j - i - 2) / 255);
    i = j;
  }
  return n;
}

function writeRuns(idx: Uint8Array, out: Uint8Array, o: number): void {
  for (let i = 0; i < idx.length; ) {
    const v = idx[i]!;
    let j = i + 1;
    while (j < idx.length && idx[j] === v) j++;
    if (j - i === 1) {
      out[o++] = v;
    } else {
      out[o++] = v | 0x80;
      let rest = j - i - 2;
      for (; rest >= 255; rest -= 255) out[o++] = 255;
      out[o++] = rest;
    }
    i = j;
  }
}

function isUniform(words: Uint32Array, stride: number, r: Rect, color: number): boolean {
  for (let y = r.y; y < r.y + r.h; y++) {
    const end = y * stride + r.x + r.w;
    for (let p = y * stride + r.x; p < end; p++) if ((words[p]! & 0xffffff) !== color) return false;
  }
  return true;
}

// Colour -> palette index for palettes past LINEAR_SEARCH: open addressing in a table four
// times the largest palette, reused by every call (the encoder is synchronous).
const HASH_SLOTS = 1024;
const hashKeys = new Int32Array(HASH_SLOTS);
const hashValues = new Int16Array(HASH_SLOTS);

function hashClear(): void {
  hashKeys.fill(-1);
}

function slotOf(c: number): number {
  let s = Math.imul(c, 0x9e3779b1) >>> 22;
  while (hashKeys[s] !== -1 && hashKeys[s] !== c) s = (s + 1) & (HASH_SLOTS - 1);
  return s;
}

function hashGet(c: number): number {
  const s = slotOf(c);
  return hashKeys[s] === c ? hashValues[s]! : -1;
}

function hashSet(c: number, k: number): void {
  const s = slotOf(c);
  hashKeys[s] = c;
  hashValues[s] = k;
}

/** Rows of indices, most significant bits first (the leftmost pixel in the high bits), each row padded to a byte. */
function packIndices(idx: Uint8Array, w: number, h: number, bits: PackedBits, out: Uint8Array, o: number): void {
  if (bits === 8) {
    out.set(idx, o);
    return;
  }
  const perByte = 8 / bits;
  for (let y = 0; y < h; y++) {
    let i = y * w;
    const end = i + w;
    while (i < end) {
      let b = 0;
      for (let k = 0; k < perByte; k++) {
        b = (b << bits) | (i < end ? idx[i]! : 0);
        i++;
      }
      out[o++] = b;
    }
  }
}

/**
 * RGB pixels (w*h*3) of a packed body whose length the caller already checked (against
 * packedBodyLength, or the bounds of runsBodyBounds); a string says what is wrong (an index past
 * the palette, padding bits set, runs that do not cover exactly the tile).
 */
export function unpackBody(body: Uint8Array, w: number, h: number, bits: PackedLayout, colors: number): Uint8Array | string {
  if (bits === 0) return body;
  if (bits === 'runs') return unpackRuns(body, w * h, colors);
  const out = new Uint8Array(w * h * 3);
  const pal = new Uint8Array(256 * 3);
  pal.set(body.subarray(0, colors * 3));
  let o = colors * 3;
  let p = 0;
  if (bits === 8) {
    for (let i = 0; i < w * h; i++) {
      const k = body[o++]!;
      if (k >= colors) return `palette index ${k} of ${colors} colours`;
      out[p++] = pal[k * 3]!;
      out[p++] = pal[k * 3 + 1]!;
      out[p++] = pal[k * 3 + 2]!;
    }
    return out;
  }
  const mask = (1 << bits) - 1;
  const perByte = 8 / bits;
  const rowBytes = Math.ceil((w * bits) / 8);
  for (let y = 0; y < h; y++) {
    let x = 0;
    for (let j = 0; j < rowBytes; j++) {
      const b = body[o++]!;
      for (let k = 0; k < perByte; k++) {
        const v = (b >>> (8 - bits * (k + 1))) & mask;
        if (x < w) {
          if (v >= colors) return `palette index ${v} of ${colors} colours`;
          out[p++] = pal[v * 3]!;
          out[p++] = pal[v * 3 + 1]!;
          out[p++] = pal[v * 3 + 2]!;
          x++;
        } else if (v !== 0) {
          return 'padding bits set';
        }
      }
    }
  }
  return out;
}

/** Bounds of a runs body: the palette and at least one byte, at most one byte per pixel. */
export function runsBodyBounds(w: number, h: number, colors: number): { min: number; max: number } {
  return { min: colors * 3 + 1, max: colors * 3 + w * h };
}

function unpackRuns(body: Uint8Array, pixels: number, colors: number): Uint8Array | string {
  const out = new Uint8Array(pixels * 3);
  let o = colors * 3;
  let p = 0;
  while (o < body.length) {
    const b = body[o++]!;
    const k = b & 0x7f;
    if (k >= colors) return `palette index ${k} of ${colors} colours`;
    let n = 1;
    if (b & 0x80) {
      n = 2;
      for (;;) {
        if (o >= body.length) return 'body ends inside a run length';
        const l = body[o++]!;
        n += l;
        if (l < 255) break;
        // A run longer than the tile is refused before the loop could go on for long.
        if (p + n > pixels) break;
      }
    }
    if (p + n > pixels) return `runs cover more than the tile's ${pixels} pixels`;
    const r = body[k * 3]!;
    const g = body[k * 3 + 1]!;
    const bl = body[k * 3 + 2]!;
    for (const end = (p + n) * 3; p * 3 < end; p++) {
      out[p * 3] = r;
      out[p * 3 + 1] = g;
      out[p * 3 + 2] = bl;
    }
  }
  if (p !== pixels) return `runs cover ${p} of the tile's ${pixels} pixels`;
  return out;
}
