import t from 'tap';
import { INPUT_QUERIES, cellFromSixelGeometry } from './terminal.js';

// Keys are parsed and routed in ./input (parse.test.ts, route.test.ts).
t.test('the input queries ask for kitty keyboard flags and pixel mouse support', async (t) => {
  t.equal(INPUT_QUERIES, '\x1b[?u\x1b[?1016$p');
});

t.test('cell size from the sixel geometry (xterm refuses CSI 16 t)', async (t) => {
  const geo = (w: number, h: number) => [{ type: 'xtsmgraphics' as const, item: 2, status: 0, values: [w, h] }];
  t.same(cellFromSixelGeometry(geo(600, 455), 100, 35), { width: 6, height: 13 });
  t.equal(cellFromSixelGeometry(geo(600, 455), 0, 0), undefined, 'no size in cells');
  t.equal(cellFromSixelGeometry(geo(100, 100), 100, 35), undefined, 'implausible: 1x2 pixel cells');
  t.equal(cellFromSixelGeometry([{ type: 'xtsmgraphics', item: 2, status: 3, values: [600, 455] }], 100, 35), undefined, 'failed query');
  t.equal(cellFromSixelGeometry([{ type: 'xtsmgraphics', item: 1, status: 0, values: [256] }], 100, 35), undefined, 'colour registers are not geometry');
});
