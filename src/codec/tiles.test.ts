import t from 'tap';
import { createFramebuffer, type BgrxFramebuffer } from './framebuffer.js';
import { changedTiles, tileGrid, tileRect, tilesCovering } from './tiles.js';
import { randomBgrx, setPixel, toRgb } from './synthetic.js';

const copyOf = (fb: BgrxFramebuffer): BgrxFramebuffer => ({ ...fb, data: fb.data.slice() });

t.test('the grid has smaller tiles on the right and bottom edges', async (t) => {
  const g = tileGrid(1921, 1079);
  t.equal(g.cols, 31);
  t.equal(g.rows, 17);
  t.same(tileRect(g, 0), { x: 0, y: 0, w: 64, h: 64 });
  t.same(tileRect(g, 30), { x: 1920, y: 0, w: 1, h: 64 });
  t.same(tileRect(g, g.count - 1), { x: 1920, y: 1024, w: 1, h: 55 });
  t.throws(() => tileRect(g, g.count), RangeError);
});

t.test('tilesCovering lists the touched tiles and ignores what is outside', async (t) => {
  const g = tileGrid(200, 100); // 4 x 2
  t.same(tilesCovering(g, { x: 63, y: 63, w: 2, h: 2 }), [0, 1, 4, 5]);
  t.same(tilesCovering(g, { x: 64, y: 0, w: 64, h: 64 }), [1]);
  t.same(tilesCovering(g, { x: -10, y: 90, w: 1000, h: 1000 }), [4, 5, 6, 7]);
  t.same(tilesCovering(g, { x: 300, y: 0, w: 5, h: 5 }), []);
});

t.test('no previous frame, or a new size, means every tile', async (t) => {
  const next = randomBgrx(130, 70);
  t.same(changedTiles(null, next), [0, 1, 2, 3, 4, 5]);
  t.same(changedTiles(randomBgrx(129, 70), next).length, 6);
});

t.test('an identical frame has no changed tiles', async (t) => {
  const a = randomBgrx(1921, 1079, 5);
  t.same(changedTiles(a, copyOf(a)), []);
});

t.test('a single changed pixel is exactly one tile, edges included', async (t) => {
  const prev = randomBgrx(1921, 1079, 5);
  const g = tileGrid(1921, 1079);
  for (const [x, y] of [[0, 0], [64, 64], [127, 5], [1920, 0], [1920, 1078], [700, 1078], [63, 1023]] as const) {
    const next = copyOf(prev);
    next.data[(y * 1921 + x) * 4 + 1]! ^= 1;
    const expected = [Math.floor(y / 64) * g.cols + Math.floor(x / 64)];
    t.same(changedTiles(prev, next), expected, `pixel ${x},${y} (full scan)`);
    t.same(changedTiles(prev, next, [{ x, y, w: 1, h: 1 }]), expected, `pixel ${x},${y} (with damage hint)`);
  }
});

t.test('several changes in one tile row are all found', async (t) => {
  const prev = randomBgrx(300, 100, 9);
  const next = copyOf(prev);
  setPixel(next, 10, 10, 0);
  setPixel(next, 299, 10, 0);
  setPixel(next, 150, 99, 0);
  t.same(changedTiles(prev, next), [0, 4, 7]);
});

t.test('with a damage hint only the hinted tiles are compared', async (t) => {
  const prev = randomBgrx(256, 128, 2);
  const next = copyOf(prev);
  setPixel(next, 5, 5, 0x123456);
  setPixel(next, 200, 100, 0x654321);
  t.same(changedTiles(prev, next, [{ x: 190, y: 90, w: 20, h: 20 }]), [7], 'the unhinted change is not looked at');
  t.same(changedTiles(prev, next, [{ x: 0, y: 0, w: 256, h: 64 }]), [0], 'a hinted tile that did not change is not reported');
  t.same(changedTiles(prev, next, []), []);
});

t.test('RGB frames and unaligned BGRX buffers compare byte by byte', async (t) => {
  const prev = toRgb(randomBgrx(100, 70, 4));
  const next = { ...prev, data: prev.data.slice() };
  next.data[(69 * 100 + 99) * 3]! ^= 0x80;
  t.same(changedTiles(prev, next), [3]);

  const raw = new Uint8Array(1 + 70 * 70 * 4);
  const a: BgrxFramebuffer = { format: 'bgrx', width: 70, height: 70, data: raw.subarray(1) };
  const b = createFramebuffer('bgrx', 70, 70);
  b.data.set(a.data);
  b.data[(65 * 70 + 2) * 4]! ^= 1;
  t.same(changedTiles(a, b), [2]);
});
