// Synthetic framebuffers shared by the graphics tests and bench/graphics.ts. Deterministic
// (seeded), so a failure reproduces and bench figures compare run to run.
import type { Rect, RgbFrame } from './renderer.js';

/** mulberry32: tiny seeded PRNG, plenty for test pictures. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function blankFrame(width: number, height: number): RgbFrame {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

export function copyFrame(f: RgbFrame): RgbFrame {
  return { width: f.width, height: f.height, data: f.data.slice() };
}

export function fillRect(f: RgbFrame, r: Rect, color: (x: number, y: number) => [number, number, number]): void {
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const [cr, cg, cb] = color(x, y);
      const p = (y * f.width + x) * 3;
      f.data[p] = cr;
      f.data[p + 1] = cg;
      f.data[p + 2] = cb;
    }
  }
}

/** Gradient top half, solid block bottom-left, noise bottom-right: every encoder's worst and best. */
export function testFrame(width: number, height: number, seed = 1): RgbFrame {
  const f = blankFrame(width, height);
  const rand = rng(seed);
  const half = Math.floor(height / 2);
  const mid = Math.floor(width / 2);
  fillRect(f, { x: 0, y: 0, width, height: half }, (x, y) => [
    Math.round((x * 255) / Math.max(1, width - 1)),
    Math.round((y * 255) / Math.max(1, half - 1)),
    128,
  ]);
  fillRect(f, { x: 0, y: half, width: mid, height: height - half }, () => [30, 144, 255]);
  fillRect(f, { x: mid, y: half, width: width - mid, height: height - half }, () => [
    Math.floor(rand() * 256),
    Math.floor(rand() * 256),
    Math.floor(rand() * 256),
  ]);
  return f;
}

/** Change a rectangle of a copy of the frame to seeded noise. */
export function withNoise(f: RgbFrame, r: Rect, seed: number): RgbFrame {
  const out = copyFrame(f);
  const rand = rng(seed);
  fillRect(out, r, () => [Math.floor(rand() * 256), Math.floor(rand() * 256), Math.floor(rand() * 256)]);
  return out;
}

/**
 * Something like a desktop: flat background with a soft gradient, a few windows with title
 * bars and borders, lines of "text" (small dark glyph-like marks), and one photo-like area.
 */
export function desktopFrame(width: number, height: number, seed = 7): RgbFrame {
  const f = blankFrame(width, height);
  const rand = rng(seed);
  fillRect(f, { x: 0, y: 0, width, height }, (x, y) => [40 + ((y * 30) / height) | 0, 70 + ((x * 20) / width) | 0, 110]);
  const windows: Rect[] = [
    { x: Math.floor(width * 0.05), y: Math.floor(height * 0.08), width: Math.floor(width * 0.55), height: Math.floor(height * 0.6) },
    { x: Math.floor(width * 0.45), y: Math.floor(height * 0.3), width: Math.floor(width * 0.5), height: Math.floor(height * 0.6) },
  ];
  for (const w of windows) {
    fillRect(f, w, () => [245, 245, 245]);
    fillRect(f, { x: w.x, y: w.y, width: w.width, height: 28 }, () => [53, 53, 60]);
    // Text: rows of glyph-sized marks with gaps between words.
    for (let ty = w.y + 40; ty + 14 < w.y + w.height; ty += 20) {
      let tx = w.x + 12;
      while (tx + 8 < w.x + w.width - 12) {
        const wordLen = 2 + Math.floor(rand() * 8);
        for (let k = 0; k < wordLen && tx + 8 < w.x + w.width - 12; k++, tx += 9) {
          for (let gy = 0; gy < 12; gy++)
            for (let gx = 0; gx < 7; gx++) {
              if (rand() < 0.35) {
                const p = ((ty + gy) * width + tx + gx) * 3;
                f.data[p] = 20;
                f.data[p + 1] = 20;
                f.data[p + 2] = 25;
              }
            }
        }
        tx += 9;
      }
    }
  }
  // A photo-like patch: smooth colour field with fine noise.
  const photo = { x: Math.floor(width * 0.55), y: Math.floor(height * 0.4), width: Math.floor(width * 0.3), height: Math.floor(height * 0.3) };
  fillRect(f, photo, (x, y) => {
    const n = (rand() * 16) | 0;
    return [
      (128 + 100 * Math.sin(x / 37)) | 0,
      Math.min(255, (90 + 80 * Math.cos(y / 23) + n) | 0),
      Math.min(255, (60 + ((x + y) % 120) + n) | 0),
    ];
  });
  return f;
}
