import t from 'tap';
import { toRemote, type PictureGeometry } from './pointer.js';

// A 1600x1200 screen shown in an 800x600 frame at cells (3, 0) with 10x20 cells: 80x30 cells.
const sixel: PictureGeometry = { kind: 'sixel', placement: { row: 3, col: 0, cols: 80, rows: 30, cellWidth: 10, cellHeight: 20 }, frame: { width: 800, height: 600 }, screen: { width: 1600, height: 1200 } };
const kitty: PictureGeometry = { ...sixel, kind: 'kitty' };
// Half-blocks: 120 columns x 37 rows of cells = a 120x74 frame of a 1200x740 screen.
const blocks: PictureGeometry = { kind: 'blocks', placement: { row: 3, col: 0, cols: 120, rows: 37, cellWidth: 8, cellHeight: 16 }, frame: { width: 120, height: 74 }, screen: { width: 1200, height: 740 } };

t.test('cell reports map the cell centre', async (t) => {
  const rows: Array<[string, PictureGeometry, number, number, { x: number; y: number } | null]> = [
    ['top-left cell of the picture (row 4, col 1 are 1-based)', sixel, 1, 4, { x: 10, y: 20 }],
    ['a cell in the middle', sixel, 41, 19, { x: 810, y: 620 }],
    ['kitty stretches over the cells the same way here', kitty, 41, 19, { x: 810, y: 620 }],
    ['the header is outside', sixel, 10, 2, null],
    ['below the picture is outside', sixel, 10, 34, null],
    ['blocks: one column is one frame pixel, one row two', blocks, 1, 4, { x: 5, y: 10 }],
    ['blocks: last cell', blocks, 120, 40, { x: 1195, y: 730 }],
  ];
  for (const [name, g, x, y, want] of rows) t.same(toRemote(g, x, y, false), want, name);
});

t.test('pixel reports (mode 1016) are exact', async (t) => {
  t.same(toRemote(sixel, 1, 61, true), { x: 0, y: 0 }, 'first pixel of the picture');
  t.same(toRemote(sixel, 401, 361, true), { x: 800, y: 600 });
  t.same(toRemote(sixel, 800, 660, true), { x: 1598, y: 1198 });
  t.same(toRemote(sixel, 801, 100, true), null, 'right of the frame');
  t.same(toRemote(sixel, 100, 60, true), null, 'one pixel above the picture');
});

t.test('a frame smaller than the placement (kitty stretch)', async (t) => {
  // 795 px of frame in 80 cells of 10 px: kitty stretches, so the last cell still maps inside.
  const g: PictureGeometry = { ...kitty, frame: { width: 795, height: 600 }, screen: { width: 795, height: 600 } };
  t.same(toRemote(g, 80, 4, false), { x: 790, y: 10 });
});
