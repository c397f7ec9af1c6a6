// Downscaling the captured screen to the agent's viewport with an area-averaging (box) filter.
//
// Why a box filter: screen content is text and hard edges; every destination pixel becomes the
// exact mean of the source area it covers, so thin lines fade instead of vanishing (nearest
// neighbour) and nothing rings (bicubic). It is also cheap and separable.
//
// Exact integer weights: along one axis with S source and D destination pixels, multiply all
// coordinates by D (source) and S (destination) so that source pixel i covers [i*D, (i+1)*D)
// and destination pixel j covers [j*S, (j+1)*S). The overlaps are integers that sum to S for
// every j; dividing them by gcd(S, D) keeps them small (1920 -> 1280 gives weights summing to
// 3). A destination pixel is round(sum of weight_x * weight_y * value / (Sx' * Sy')): exact,
// and identical on every machine. Sums are kept in Float64Arrays, which hold integers exactly
// up to 2^53, so no frame size can overflow them (Uint32 would, above ~4K x 4K at gcd 1).

import type { BgrxFramebuffer, Rect } from './framebuffer.js';
import { clip, createFramebuffer } from './framebuffer.js';

/** The largest size within maxW x maxH with the source's aspect ratio, never larger than the source. */
export function fitWithin(srcW: number, srcH: number, maxW: number, maxH: number): { width: number; height: number } {
  for (const v of [srcW, srcH, maxW, maxH]) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`fitWithin needs positive integer sizes, got ${srcW}x${srcH} in ${maxW}x${maxH}`);
  }
  if (srcW <= maxW && srcH <= maxH) return { width: srcW, height: srcH };
  // Compare srcW/srcH against maxW/maxH without floating point: the tighter side decides.
  if (srcW * maxH >= srcH * maxW) {
    return { width: maxW, height: Math.max(1, Math.round((srcH * maxW) / srcW)) };
  }
  return { width: Math.max(1, Math.round((srcW * maxH) / srcH)), height: maxH };
}

/**
 * The destination pixels whose value depends on any pixel of `srcRect`: after a capture
 * reports damage in srcRect, rescaling just this rectangle (with scaleInto) brings the scaled
 * frame up to date. Null when srcRect is outside the source.
 */
export function destRectFor(srcRect: Rect, srcW: number, srcH: number, dstW: number, dstH: number): Rect | null {
  const r = clip(srcRect, srcW, srcH);
  if (!r || dstW < 1 || dstH < 1) return null;
  const [x0, x1] = destSpan(r.x, r.x + r.w, srcW, dstW);
  const [y0, y1] = destSpan(r.y, r.y + r.h, srcH, dstH);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

// Destination j overlaps source [a, b) when j*S < b*D and (j+1)*S > a*D.
function destSpan(a: number, b: number, s: number, d: number): [number, number] {
  const first = Math.floor((a * d) / s);
  const end = Math.min(d, Math.ceil((b * d) / s));
  return [first, end];
}

/**
 * A BGRX frame scaled to width x height. A 1:1 "scale" returns `src` itself (no copy): the
 * caller must not mutate it if it still needs the original.
 */
export function scale(src: BgrxFramebuffer, width: number, height: number): BgrxFramebuffer {
  if (width === src.width && height === src.height) return src;
  const dst = createFramebuffer('bgrx', width, height);
  scaleInto(src, dst);
  return dst;
}

// One axis of the filter, indexed by *source* pixel: when downscaling, a source pixel falls in
// one destination pixel or straddles two, so it adds `near` x value to destination `dest` and
// `far` x value to `dest + 1` (`far` is 0 when it does not straddle). Walking the source once
// in order, with no inner loop over taps, is what keeps this fast in a JIT.
interface Axis {
  dest: Int32Array;
  near: Int32Array;
  far: Int32Array;
  /** What the weights of every destination pixel sum to. */
  total: number;
}

// Rebuilt per call: O(S), negligible next to the pixels, and no cache keyed by sizes to manage.
function axis(s: number, d: number): Axis {
  const g = gcd(s, d);
  const dest = new Int32Array(s);
  const near = new Int32Array(s);
  const far = new Int32Array(s);
  for (let i = 0; i < s; i++) {
    const lo = i * d;
    const hi = lo + d;
    const j = Math.floor(lo / s);
    const split = (j + 1) * s; // where destination j ends
    dest[i] = j;
    if (hi <= split) {
      near[i] = d / g;
    } else {
      near[i] = (split - lo) / g;
      far[i] = (hi - split) / g;
    }
  }
  return { dest, near, far, total: s / g };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Recomputes the pixels of `dst` inside `region` (default: all of it) from `src`. Downscaling
 * only (dst no larger than src on either axis; fitWithin never upscales). The X byte is 0.
 */
export function scaleInto(src: BgrxFramebuffer, dst: BgrxFramebuffer, region?: Rect): void {
  if (dst.width > src.width || dst.height > src.height || dst.width < 1 || dst.height < 1) {
    throw new RangeError(`cannot scale ${src.width}x${src.height} to ${dst.width}x${dst.height}: downscaling only`);
  }
  const r = clip(region ?? { x: 0, y: 0, w: dst.width, h: dst.height }, dst.width, dst.height);
  if (!r) return;

  if (src.width === dst.width && src.height === dst.height) {
    for (let y = r.y; y < r.y + r.h; y++) {
      const at = (y * src.width + r.x) * 4;
      dst.data.set(src.data.subarray(at, at + r.w * 4), at);
    }
    return;
  }

  const ax = axis(src.width, dst.width);
  const ay = axis(src.height, dst.height);
  const total = ax.total * ay.total;
  const half = Math.floor(total / 2);
  // Rounded division by a lookup table when it is small (the common "nice" ratios), else divide.
  const lut = total * 255 < 1 << 16 ? divisionTable(total) : null;

  // The source columns and rows that feed the region, and the destination rows they reach.
  const sx0 = firstSource(r.x, src.width, dst.width);
  const sx1 = firstSource(r.x + r.w, src.width, dst.width, true);
  const sy0 = firstSource(r.y, src.height, dst.height);
  const sy1 = firstSource(r.y + r.h, src.height, dst.height, true);

  const w = r.w;
  // Horizontal sums of one source row, per channel, one slot per destination column of the
  // region plus one for the far share of the last source column (dropped: outside the region).
  const hB = new Float64Array(w + 1);
  const hG = new Float64Array(w + 1);
  const hR = new Float64Array(w + 1);
  // Vertical accumulators for the current destination row and the next one.
  let cB = new Float64Array(w), cG = new Float64Array(w), cR = new Float64Array(w);
  let nB = new Float64Array(w), nG = new Float64Array(w), nR = new Float64Array(w);
  const s32 = words(src.data);
  const d32 = words(dst.data);
  const { dest, near, far } = ax;

  for (let sy = sy0; sy < sy1; sy++) {
    hB.fill(0);
    hG.fill(0);
    hR.fill(0);
    const rowAt = sy * src.width;
    for (let sx = sx0; sx < sx1; sx++) {
      const px = s32[rowAt + sx]!;
      const b = px & 0xff;
      const g = (px >>> 8) & 0xff;
      const red = (px >>> 16) & 0xff;
      // j is -1 for a source column whose near share belongs left of the region.
      const j = dest[sx]! - r.x;
      const a = near[sx]!;
      const f = far[sx]!;
      if (j >= 0) {
        hB[j]! += a * b;
        hG[j]! += a * g;
        hR[j]! += a * red;
      }
      if (f !== 0) {
        hB[j + 1]! += f * b;
        hG[j + 1]! += f * g;
        hR[j + 1]! += f * red;
      }
    }
    const jy = ay.dest[sy]!;
    const a = jy >= r.y ? ay.near[sy]! : 0;
    const f = ay.far[sy]!;
    for (let x = 0; x < w; x++) {
      cB[x]! += a * hB[x]!;
      cG[x]! += a * hG[x]!;
      cR[x]! += a * hR[x]!;
    }
    if (f !== 0) {
      for (let x = 0; x < w; x++) {
        nB[x]! += f * hB[x]!;
        nG[x]! += f * hG[x]!;
        nR[x]! += f * hR[x]!;
      }
    }
    // The last source row of destination row jy: write it out and move on to the next.
    if (sy + 1 === src.height || ay.dest[sy + 1] !== jy) {
      if (jy >= r.y && jy < r.y + r.h) {
        let o = jy * dst.width + r.x;
        for (let x = 0; x < w; x++, o++) {
          d32[o] = lut
            ? lut[cB[x]!]! | (lut[cG[x]!]! << 8) | (lut[cR[x]!]! << 16)
            : Math.floor((cB[x]! + half) / total) | (Math.floor((cG[x]! + half) / total) << 8) | (Math.floor((cR[x]! + half) / total) << 16);
        }
      }
      [cB, nB] = [nB, cB];
      [cG, nG] = [nG, cG];
      [cR, nR] = [nR, cR];
      nB.fill(0);
      nG.fill(0);
      nR.fill(0);
    }
  }
}

/** First source index feeding destination `j` (or, with `end`, one past the last feeding j-1). */
function firstSource(j: number, s: number, d: number, end = false): number {
  return end ? Math.min(s, Math.ceil((j * s) / d)) : Math.floor((j * s) / d);
}

function divisionTable(total: number): Uint8Array {
  const half = Math.floor(total / 2);
  const lut = new Uint8Array(total * 255 + 1);
  for (let v = 0; v < lut.length; v++) lut[v] = Math.floor((v + half) / total);
  return lut;
}

// Whole-pixel access: one 32-bit read per BGRX pixel instead of three byte reads. The pixel
// layout in memory is B,G,R,X, so on a little-endian machine the word is 0xXXRRGGBB (every
// platform Node supports for this tool is little-endian).
function words(data: Uint8Array): Uint32Array {
  if (data.byteOffset % 4 !== 0) throw new RangeError('BGRX pixel data must start at a 4-byte-aligned offset');
  return new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
}
