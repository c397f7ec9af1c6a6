import t from 'tap';
import { cellFromSixelGeometry, keyOf } from './terminal.js';

t.test('keys', async (t) => {
  t.equal(keyOf('v'), 'view');
  t.equal(keyOf('V'), 'view');
  t.equal(keyOf('q'), 'quit');
  t.equal(keyOf('\x03'), 'interrupt');
  t.equal(keyOf('x'), undefined);
  t.equal(keyOf('\x1b'), undefined);
});

t.test('cell size from the sixel geometry (xterm refuses CSI 16 t)', async (t) => {
  const geo = (w: number, h: number) => [{ type: 'xtsmgraphics' as const, item: 2, status: 0, values: [w, h] }];
  t.same(cellFromSixelGeometry(geo(600, 455), 100, 35), { width: 6, height: 13 });
  t.equal(cellFromSixelGeometry(geo(600, 455), 0, 0), undefined, 'no size in cells');
  t.equal(cellFromSixelGeometry(geo(100, 100), 100, 35), undefined, 'implausible: 1x2 pixel cells');
  t.equal(cellFromSixelGeometry([{ type: 'xtsmgraphics', item: 2, status: 3, values: [600, 455] }], 100, 35), undefined, 'failed query');
  t.equal(cellFromSixelGeometry([{ type: 'xtsmgraphics', item: 1, status: 0, values: [256] }], 100, 35), undefined, 'colour registers are not geometry');
});
