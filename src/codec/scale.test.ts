import t from 'tap';
import { createFramebuffer, type BgrxFramebuffer } from './framebuffer.js';
import { destRectFor, fitWithin, scale, scaleInto } from './scale.js';
import { fillBgrx, randomBgrx, setPixel } from './synthetic.js';

// The definition of area averaging, computed the slow way with exact integers: destination
// pixel (j, i) is the overlap-weighted mean of the source pixels, rounded half up.
function reference(src: BgrxFramebuffer, dw: number, dh: number): BgrxFramebuffer {
  const out = createFramebuffer('bgrx', dw, dh);
  const sw = src.width;
  const sh = src.height;
  const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  for (let j = 0; j < dh; j++) {
    for (let i = 0; i < dw; i++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let y = 0; y < sh; y++) {
          const wy = overlap(y * dh, (y + 1) * dh, j * sh, (j + 1) * sh);
          if (!wy) continue;
          for (let x = 0; x < sw; x++) {
            const wx = overlap(x * dw, (x + 1) * dw, i * sw, (i + 1) * sw);
            if (wx) sum += wx * wy * src.data[(y * sw + x) * 4 + c]!;
          }
        }
        const total = sw * sh;
        out.data[(j * dw + i) * 4 + c] = Math.floor((sum + Math.floor(total / 2)) / total);
      }
    }
  }
  return out;
}

const pixel = (fb: BgrxFramebuffer, x: number, y: number) => {
  const o = (y * fb.width + x) * 4;
  return (fb.data[o + 2]! << 16) | (fb.data[o + 1]! << 8) | fb.data[o]!;
};

t.test('a 2x2 box of known colours averages exactly', async (t) => {
  const src = createFramebuffer('bgrx', 4, 2);
  // Left box: mean (10+20+30+40)/4 = 25 in red, (0+0+0+2)/4 = 0.5 -> 1 (half rounds up) in green.
  setPixel(src, 0, 0, 0x0a0000);
  setPixel(src, 1, 0, 0x140000);
  setPixel(src, 0, 1, 0x1e0000);
  setPixel(src, 1, 1, 0x280200);
  // Right box: blue 255,255,255,0 -> 191.25 -> 191.
  fillBgrx(src, { x: 2, y: 0, w: 2, h: 2 }, 0x0000ff);
  setPixel(src, 3, 1, 0x000000);
  const dst = scale(src, 2, 1);
  t.equal(pixel(dst, 0, 0), 0x190100);
  t.equal(pixel(dst, 1, 0), 0x0000bf);
});

t.test('a 3 -> 2 ratio weights the shared pixel by its area', async (t) => {
  const src = createFramebuffer('bgrx', 3, 1);
  setPixel(src, 0, 0, 0x000000);
  setPixel(src, 1, 0, 0x000090); // 144
  setPixel(src, 2, 0, 0x0000ff);
  const dst = scale(src, 2, 1);
  t.equal(pixel(dst, 0, 0), 48, '(2*0 + 1*144) / 3');
  t.equal(pixel(dst, 1, 0), 218, '(1*144 + 2*255) / 3 = 218 rounded');
});

t.test('matches the exact definition on random images and awkward ratios', async (t) => {
  const cases: [number, number, number, number][] = [
    [37, 23, 17, 11],
    [30, 20, 20, 15],
    [64, 48, 1, 1],
    [101, 7, 100, 7],
    [16, 16, 5, 3],
  ];
  for (const [sw, sh, dw, dh] of cases) {
    const src = randomBgrx(sw, sh, sw * 1000 + dw);
    t.same(scale(src, dw, dh).data, reference(src, dw, dh).data, `${sw}x${sh} -> ${dw}x${dh}`);
  }
});

t.test('1:1 is a pass-through without a copy', async (t) => {
  const src = randomBgrx(10, 10);
  t.equal(scale(src, 10, 10), src);
});

t.test('upscaling is refused', async (t) => {
  t.throws(() => scale(randomBgrx(10, 10), 11, 10), RangeError);
});

t.test('rescaling only the damaged region gives the same frame as a full rescale', async (t) => {
  const src = randomBgrx(97, 61, 3);
  const dst = scale(src, 40, 25);
  for (const damage of [{ x: 10, y: 7, w: 5, h: 3 }, { x: 0, y: 0, w: 1, h: 1 }, { x: 96, y: 60, w: 1, h: 1 }, { x: 50, y: 3, w: 47, h: 58 }]) {
    fillBgrx(src, damage, 0x123456 + damage.x);
    const r = destRectFor(damage, 97, 61, 40, 25);
    t.ok(r, 'damage maps somewhere');
    scaleInto(src, dst, r!);
    t.same(dst.data, scale(src, 40, 25).data, `after damage ${JSON.stringify(damage)} -> ${JSON.stringify(r)}`);
  }
});

t.test('destRectFor covers exactly the destination pixels a source rect feeds', async (t) => {
  t.same(destRectFor({ x: 0, y: 0, w: 2, h: 2 }, 4, 4, 2, 2), { x: 0, y: 0, w: 1, h: 1 });
  t.same(destRectFor({ x: 1, y: 0, w: 1, h: 1 }, 3, 1, 2, 1), { x: 0, y: 0, w: 2, h: 1 }, 'the shared middle pixel feeds both');
  t.same(destRectFor({ x: 2, y: 0, w: 1, h: 1 }, 3, 1, 2, 1), { x: 1, y: 0, w: 1, h: 1 });
  t.equal(destRectFor({ x: 5, y: 5, w: 1, h: 1 }, 4, 4, 2, 2), null);
});

t.test('fitWithin keeps the aspect ratio and never upscales', async (t) => {
  t.same(fitWithin(1920, 1080, 1280, 1024), { width: 1280, height: 720 });
  t.same(fitWithin(1920, 1080, 1600, 720), { width: 1280, height: 720 });
  t.same(fitWithin(800, 600, 1920, 1080), { width: 800, height: 600 });
  t.same(fitWithin(10000, 10, 100, 100), { width: 100, height: 1 });
  t.throws(() => fitWithin(0, 10, 10, 10), RangeError);
});
