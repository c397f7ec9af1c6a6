import t from 'tap';
import { coalesce, toArea } from './coalesce.js';
import type { Rect } from '../../codec/framebuffer.js';

const covers = (rs: Rect[], x: number, y: number): boolean => rs.some((r) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);

t.test('glyph runs on one line become one rectangle', async (t) => {
  const glyphs = Array.from({ length: 10 }, (_, i) => ({ x: 100 + i * 6, y: 50, w: 6, h: 13 }));
  t.same(coalesce(glyphs), [{ x: 100, y: 50, w: 60, h: 13 }]);
});

t.test('far-apart changes stay separate; every input pixel stays covered', async (t) => {
  const input = [{ x: 0, y: 0, w: 10, h: 10 }, { x: 1000, y: 700, w: 10, h: 10 }, { x: 5, y: 5, w: 10, h: 10 }];
  const out = coalesce(input);
  t.equal(out.length, 2);
  for (const r of input) for (const [x, y] of [[r.x, r.y], [r.x + r.w - 1, r.y + r.h - 1]] as const) t.ok(covers(out, x, y));
  t.notOk(covers(out, 500, 300), 'the gap between them is not grabbed');
});

t.test('a storm of rectangles becomes its bounding box; empty ones vanish', async (t) => {
  const storm = Array.from({ length: 100 }, (_, i) => ({ x: (i % 10) * 200, y: Math.floor(i / 10) * 100, w: 2, h: 2 }));
  t.equal(coalesce(storm).length, 10, 'each row merges (little waste), rows stay apart');
  t.same(coalesce(storm, { maxRects: 4 }), [{ x: 0, y: 0, w: 1802, h: 902 }]);
  t.same(coalesce([{ x: 1, y: 1, w: 0, h: 5 }]), []);
});

t.test('toArea translates into a monitor and clips', async (t) => {
  const area = { x: 1920, y: 0, w: 1280, h: 1024 };
  t.same(toArea([{ x: 1900, y: 10, w: 40, h: 10 }, { x: 0, y: 0, w: 100, h: 100 }, { x: 3000, y: 1000, w: 500, h: 500 }], area), [
    { x: 0, y: 10, w: 20, h: 10 },
    { x: 1080, y: 1000, w: 200, h: 24 },
  ]);
});
