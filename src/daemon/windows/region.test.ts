import t from 'tap';
import { maskFrame, subtract, visibleRegion, type StackedWindow } from './region.js';
import type { Rect } from '../../codec/framebuffer.js';

const area = (rs: Rect[]): number => rs.reduce((s, r) => s + r.w * r.h, 0);
const inside = (rs: Rect[], x: number, y: number): boolean => rs.some((r) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);

t.test('subtract: disjoint, contained, partial overlap', async (t) => {
  const a = { x: 0, y: 0, w: 10, h: 10 };
  t.same(subtract(a, { x: 20, y: 20, w: 5, h: 5 }), [a]);
  t.same(subtract(a, { x: -1, y: -1, w: 12, h: 12 }), []);
  const hole = subtract(a, { x: 3, y: 3, w: 4, h: 4 });
  t.equal(area(hole), 100 - 16);
  t.notOk(inside(hole, 5, 5));
  t.ok(inside(hole, 0, 0));
  t.ok(inside(hole, 9, 9));
  t.equal(area(subtract(a, { x: 5, y: -5, w: 20, h: 20 })), 50);
});

interface W extends StackedWindow { app: string }
const win = (app: string, x: number, y: number, w: number, h: number, visible = true): W => ({ app, rect: { x, y, w, h }, visible });

t.test('visibleRegion: another app on top of a chosen window is cut out', async (t) => {
  const stack = [win('editor', 0, 0, 100, 100), win('chat', 50, 50, 100, 100)];
  const region = visibleRegion(stack, (w) => w.app === 'editor');
  t.equal(area(region), 100 * 100 - 50 * 50);
  t.ok(inside(region, 10, 10));
  t.notOk(inside(region, 60, 60), 'the chat window covers this pixel');
  t.notOk(inside(region, 120, 120));
});

t.test('visibleRegion: a chosen window on top of another app is shown whole', async (t) => {
  const stack = [win('chat', 50, 50, 100, 100), win('editor', 0, 0, 100, 100)];
  const region = visibleRegion(stack, (w) => w.app === 'editor');
  t.equal(area(region), 100 * 100);
  t.ok(inside(region, 60, 60));
  t.notOk(inside(region, 120, 120));
});

t.test('visibleRegion: chosen over chosen is not counted twice; hidden windows cover nothing', async (t) => {
  const stack = [win('editor', 0, 0, 100, 100), win('editor', 50, 0, 100, 100), win('chat', 0, 0, 500, 500, false)];
  const region = visibleRegion(stack, (w) => w.app === 'editor');
  t.equal(area(region), 150 * 100, 'disjoint pieces, union area');
  t.same(visibleRegion([win('editor', 0, 0, 10, 10, false)], () => true), []);
  t.same(visibleRegion(stack, () => false), []);
});

t.test('maskFrame: fills outside the region, keeps inside, in place', async (t) => {
  const width = 8;
  const height = 6;
  const data = new Uint8Array(width * height * 4).fill(7);
  const frame = { format: 'bgrx' as const, width, height, data };
  // Region in root coordinates; the frame sits at 100,200.
  maskFrame(frame, { x: 100, y: 200 }, [{ x: 102, y: 201, w: 3, h: 2 }, { x: 104, y: 202, w: 10, h: 1 }], 0x112233);
  const px = (x: number, y: number): number[] => [...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 3)];
  t.same(px(0, 0), [0x33, 0x22, 0x11], 'outside: B G R of the fill');
  t.same(px(2, 1), [7, 7, 7], 'inside first rect');
  t.same(px(4, 2), [7, 7, 7]);
  t.same(px(7, 2), [7, 7, 7], 'second rect, clipped at the frame edge');
  t.same(px(5, 1), [0x33, 0x22, 0x11], 'right of the first rect on its first row');
  t.same(px(1, 2), [0x33, 0x22, 0x11]);
  t.same(px(2, 3), [0x33, 0x22, 0x11], 'below');
  let kept = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] === 7) kept++;
  t.equal(kept, 3 * 2 + 3, 'exactly the region pixels kept (overlap counted once)');
});

t.test('maskFrame: unaligned view and empty region', async (t) => {
  const backing = new Uint8Array(1 + 4 * 4);
  const data = backing.subarray(1);
  data.fill(9);
  maskFrame({ format: 'bgrx', width: 2, height: 2, data }, { x: 0, y: 0 }, [{ x: 1, y: 1, w: 1, h: 1 }], 0x010203);
  t.same([...data.subarray(0, 4)], [3, 2, 1, 0]);
  t.same([...data.subarray(12, 16)], [9, 9, 9, 9]);
  const all = new Uint8Array(16).fill(9);
  maskFrame({ format: 'bgrx', width: 2, height: 2, data: all }, { x: 0, y: 0 }, [], 0);
  t.same([...all], new Array(16).fill(0));
});

t.test('maskFrame: fast enough for a full HD frame with a few windows', async (t) => {
  const width = 1920;
  const height = 1080;
  const frame = { format: 'bgrx' as const, width, height, data: new Uint8Array(width * height * 4) };
  const region = visibleRegion([win('a', 100, 100, 800, 600), win('b', 500, 300, 800, 600), win('a', 1000, 50, 700, 900)], (w) => w.app === 'a');
  const t0 = performance.now();
  maskFrame(frame, { x: 0, y: 0 }, region);
  const ms = performance.now() - t0;
  t.comment(`maskFrame 1920x1080: ${ms.toFixed(1)} ms`);
  t.ok(ms < 500, 'no pathological slowness');
});
