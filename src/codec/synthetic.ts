// Deterministic synthetic frames for the codec's tests and bench/codec.ts. Seeded, so a failing
// test or a benchmark figure can be reproduced exactly; not used by the product itself.

import { createFramebuffer, type BgrxFramebuffer, type Rect, type RgbFramebuffer } from './framebuffer.js';

/** xorshift32: small, fast, good enough to make pixels (not for anything secret). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function randomBgrx(width: number, height: number, seed = 1): BgrxFramebuffer {
  const fb = createFramebuffer('bgrx', width, height);
  const next = prng(seed);
  const words = new Uint32Array(fb.data.buffer);
  for (let i = 0; i < words.length; i++) words[i] = next() & 0xffffff;
  return fb;
}

export function fillBgrx(fb: BgrxFramebuffer, r: Rect, color: number): void {
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x; x < r.x + r.w; x++) setPixel(fb, x, y, color);
  }
}

/** Writes 0xRRGGBB at (x, y) of a BGRX frame. */
export function setPixel(fb: BgrxFramebuffer, x: number, y: number, color: number): void {
  const o = (y * fb.width + x) * 4;
  fb.data[o] = color & 0xff;
  fb.data[o + 1] = (color >>> 8) & 0xff;
  fb.data[o + 2] = (color >>> 16) & 0xff;
  fb.data[o + 3] = 0;
}

/** A glyph-sized block of text-like noise (two colours, like anti-aliasing off). */
export function glyph(fb: BgrxFramebuffer, x: number, y: number, next: () => number, w = 8, h = 16): void {
  for (let gy = 0; gy < h; gy++) {
    for (let gx = 0; gx < w; gx++) setPixel(fb, x + gx, y + gy, next() & 1 ? 0xdddddd : 0x202020);
  }
}

/**
 * Something like a desktop: a gradient wallpaper, a few solid windows, a terminal full of
 * glyphs and a title bar. Content that compresses the way real screens do, roughly.
 */
export function desktopLike(width: number, height: number, seed = 7): BgrxFramebuffer {
  const fb = createFramebuffer('bgrx', width, height);
  const next = prng(seed);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r = Math.floor((x * 255) / Math.max(1, width - 1));
      const b = Math.floor((y * 255) / Math.max(1, height - 1));
      setPixel(fb, x, y, (r << 16) | (0x40 << 8) | b);
    }
  }
  const win = terminalRect(width, height);
  fillBgrx(fb, { x: 0, y: 0, w: width, h: Math.min(24, height) }, 0x303030);
  fillBgrx(fb, { x: Math.floor(width * 0.55), y: Math.floor(height * 0.1), w: Math.floor(width * 0.4), h: Math.floor(height * 0.5) }, 0xf0f0f0);
  fillBgrx(fb, win, 0x202020);
  for (let y = win.y + 4; y + 16 <= win.y + win.h - 4; y += 18) {
    const line = next() % Math.floor(win.w / 8);
    for (let c = 0; c < line; c++) glyph(fb, win.x + 4 + c * 8, y, next);
  }
  return fb;
}

/** Where desktopLike puts its terminal window. */
export function terminalRect(width: number, height: number): Rect {
  return { x: Math.floor(width * 0.05), y: Math.floor(height * 0.15), w: Math.floor(width * 0.45), h: Math.floor(height * 0.7) };
}

/** Reference BGRX -> RGB conversion, written the slow obvious way on purpose. */
export function toRgb(fb: BgrxFramebuffer): RgbFramebuffer {
  const out = createFramebuffer('rgb', fb.width, fb.height);
  for (let i = 0, o = 0; i < fb.data.length; i += 4, o += 3) {
    out.data[o] = fb.data[i + 2]!;
    out.data[o + 1] = fb.data[i + 1]!;
    out.data[o + 2] = fb.data[i]!;
  }
  return out;
}
