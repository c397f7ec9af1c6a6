import t from 'tap';
import { bounds, clip, createFramebuffer, intersect, isEmpty, union, wrapFramebuffer } from './framebuffer.js';

t.test('intersect, clip, union and bounds', async (t) => {
  t.same(intersect({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 8, w: 10, h: 10 }), { x: 5, y: 8, w: 5, h: 2 });
  t.equal(intersect({ x: 0, y: 0, w: 10, h: 10 }, { x: 10, y: 0, w: 5, h: 5 }), null, 'touching edges do not overlap');
  t.same(clip({ x: -5, y: -5, w: 10, h: 100 }, 20, 30), { x: 0, y: 0, w: 5, h: 30 });
  t.equal(clip({ x: 20, y: 0, w: 5, h: 5 }, 20, 30), null);
  t.same(union({ x: 1, y: 2, w: 3, h: 4 }, { x: 10, y: 0, w: 1, h: 1 }), { x: 1, y: 0, w: 10, h: 6 });
  t.same(union({ x: 0, y: 0, w: 0, h: 0 }, { x: 7, y: 7, w: 1, h: 1 }), { x: 7, y: 7, w: 1, h: 1 }, 'empty adds nothing');
  t.same(bounds([{ x: 5, y: 5, w: 1, h: 1 }, { x: 0, y: 9, w: 2, h: 2 }]), { x: 0, y: 5, w: 6, h: 6 });
  t.equal(bounds([]), null);
  t.ok(isEmpty({ x: 0, y: 0, w: 0, h: 3 }));
});

t.test('framebuffers know their format and check their size', async (t) => {
  const fb = createFramebuffer('bgrx', 3, 2);
  t.equal(fb.data.length, 24);
  t.equal(createFramebuffer('rgb', 3, 2).data.length, 18);
  t.throws(() => wrapFramebuffer('rgb', 3, 2, new Uint8Array(17)), RangeError);
  t.throws(() => createFramebuffer('rgb', -1, 2), RangeError);
  t.equal(wrapFramebuffer('bgrx', 1, 1, new Uint8Array(4)).width, 1);
});
