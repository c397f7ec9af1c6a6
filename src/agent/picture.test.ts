// Placement of the frame in the picture area, and what the picture writes as it is shown,
// updated, hidden and moved.
import t from 'tap';
import { encodeUpdate, type Tile } from '../codec/index.js';
import { Picture, createRenderer, fitPlacement, type Area } from './picture.js';
import { deflateSync } from 'node:zlib';

const area: Area = { row: 3, col: 0, cols: 100, rows: 30, cellWidth: 10, cellHeight: 20 };

t.test('fitPlacement: as many cells as the frame covers, centred, never more than the area', async (t) => {
  t.same(fitPlacement('kitty', area, 1000, 600), { row: 3, col: 0, cols: 100, rows: 30, cellWidth: 10, cellHeight: 20 }, 'exact fit');
  t.same(fitPlacement('kitty', area, 800, 600), { row: 3, col: 10, cols: 80, rows: 30, cellWidth: 10, cellHeight: 20 }, 'narrower: centred');
  t.same(fitPlacement('sixel', area, 1000, 300), { row: 10, col: 0, cols: 100, rows: 15, cellWidth: 10, cellHeight: 20 }, 'shorter: centred');
  t.same(fitPlacement('sixel', area, 4000, 4000).cols, 100, 'clipped to the area');
  t.same(fitPlacement('blocks', area, 100, 60), { row: 3, col: 0, cols: 100, rows: 30, cellWidth: 10, cellHeight: 20 }, 'blocks: one pixel per column, two per row');
  t.same(fitPlacement('blocks', area, 91, 60).col, 4, 'blocks centred');
});

function update(seq: number, w: number, h: number, tiles: Tile[]): Uint8Array {
  return encodeUpdate({ seq, width: w, height: h, tiles });
}

t.test('hidden pictures composite but write nothing; showing paints; updates repaint changes only', async (t) => {
  const p = new Picture(createRenderer('blocks'), area);
  t.same(p.pixelSize(), { width: 100, height: 60 });
  const r1 = p.apply(update(1, 100, 60, [{ encoding: 'solid', x: 0, y: 0, w: 100, h: 60, color: 0xff0000 }]));
  t.same(r1, { seq: 1, out: '' }, 'hidden: no bytes');
  const shown = p.show();
  t.match(shown, /48;2;255;0;0m/, 'showing paints the red frame');
  t.equal(p.show(), '', 'showing twice paints nothing');
  const r2 = p.apply(update(2, 100, 60, [{ encoding: 'solid', x: 0, y: 0, w: 2, h: 2, color: 0x00ff00 }]));
  t.equal(r2.seq, 2);
  t.match(r2.out, /38;2;0;255;0;48;2;0;255;0m/, "green top and bottom pixels");
  t.ok(r2.out.length < 100, `a 2x2 change writes a few bytes (${r2.out.length})`);
  const hidden = p.hide();
  t.match(hidden, / {100}/, 'hiding blanks the area');
  t.equal(p.hide(), '');
});

t.test('a new frame size re-places the picture and clears the old place', async (t) => {
  const p = new Picture(createRenderer('blocks'), area);
  p.show();
  p.apply(update(1, 100, 60, [{ encoding: 'solid', x: 0, y: 0, w: 100, h: 60, color: 0xff0000 }]));
  const out = p.apply(update(2, 50, 60, [{ encoding: 'solid', x: 0, y: 0, w: 50, h: 60, color: 0x0000ff }])).out;
  t.match(out, / {100}/, 'the old 100-column placement is blanked');
  t.match(out, /\x1b\[4;26H/, 'the 50-column picture is centred (column 26)');
});

t.test('kitty: codec zlib tiles pass through untouched, solid tiles are re-encoded', async (t) => {
  const p = new Picture(createRenderer('kitty'), area);
  p.show();
  p.apply(update(1, 64, 64, [{ encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: 0 }]));
  const pixels = new Uint8Array(8 * 8 * 3).fill(200);
  const z = deflateSync(pixels, { level: 1 });
  const out = p.apply(update(2, 64, 64, [{ encoding: 'zlib', x: 8, y: 8, w: 8, h: 8, zlib: z }, { encoding: 'solid', x: 0, y: 0, w: 4, h: 4, color: 0xffffff }])).out;
  t.ok(out.includes(Buffer.from(z).toString('base64')), 'the zlib tile is sent as received');
  t.match(out, /a=f,i=\d+,r=1,x=8,y=8,s=8,v=8/);
  t.match(out, /a=f,i=\d+,r=1,x=0,y=0,s=4,v=4/);
});

t.test('cleanup deletes kitty images even before a frame', async (t) => {
  t.match(new Picture(createRenderer('kitty'), area).cleanup(), /a=d,d=I/);
  t.equal(new Picture(createRenderer('blocks'), area).cleanup(), '');
});

t.test('kitty: leading copy tiles become a=c copies inside the image, not repainted pixels', async (t) => {
  const p = new Picture(createRenderer('kitty'), area);
  p.show();
  p.apply(update(1, 128, 128, [{ encoding: 'solid', x: 0, y: 0, w: 128, h: 128, color: 0x102030 }]));
  const z = deflateSync(new Uint8Array(128 * 16 * 3).fill(90), { level: 1 });
  // A scroll by 16 rows: copy up, then the new bottom line.
  const out = p.apply(update(2, 128, 128, [{ encoding: 'copy', x: 0, y: 0, w: 128, h: 112, srcX: 0, srcY: 16 }, { encoding: 'zlib', x: 0, y: 112, w: 128, h: 16, zlib: z }])).out;
  t.match(out, /a=c,i=\d+,r=1,c=1,X=0,Y=16,x=0,y=0,w=128,h=16/, 'the first strip of the overlapping scroll is copied');
  t.notMatch(out, /a=f,i=\d+,r=1,x=0,y=0,s=128,v=112/, 'the copied area is not sent as pixels');
  t.ok(out.includes(Buffer.from(z).toString('base64')), 'the new line passes through');
  t.ok(out.length < 600 + Buffer.from(z).toString('base64').length, `copies cost a few hundred bytes (${out.length})`);
});

t.test('kitty: copies that a=c cannot replay in order are repainted from the framebuffer', async (t) => {
  const tiles: Tile[] = [
    { encoding: 'copy', x: 0, y: 0, w: 32, h: 32, srcX: 64, srcY: 64 },
    // reads where the first copy wrote: a=c in sequence would read the new pixels
    { encoding: 'copy', x: 64, y: 0, w: 32, h: 32, srcX: 16, srcY: 16 },
  ];
  const p = new Picture(createRenderer('kitty'), area);
  p.show();
  p.apply(update(1, 128, 128, [{ encoding: 'solid', x: 0, y: 0, w: 128, h: 128, color: 0x102030 }]));
  const out = p.apply(update(2, 128, 128, tiles)).out;
  t.notMatch(out, /a=c/, 'no terminal-side copy');
  t.match(out, /a=f,i=\d+,r=1,x=0,y=0,s=32,v=32/, 'first copy repainted');
  t.match(out, /a=f,i=\d+,r=1,x=64,y=0,s=32,v=32/, 'second copy repainted');
  const after = p.apply(update(3, 128, 128, [{ encoding: 'solid', x: 0, y: 0, w: 4, h: 4, color: 0 }, { encoding: 'copy', x: 8, y: 8, w: 4, h: 4, srcX: 0, srcY: 0 }])).out;
  t.notMatch(after, /a=c/, 'a copy after a painted tile is repainted too');
});

t.test('kitty: packed updates that continue the history are repainted from the framebuffer', async (t) => {
  const { FramePipeline } = await import('../daemon/frame-pipeline.js');
  const { createFramebuffer } = await import('../codec/index.js');
  const { glyph, prng } = await import('../codec/synthetic.js');
  const size = { width: 128, height: 64 };
  const screen = createFramebuffer('bgrx', 128, 64);
  const pipe = new FramePipeline(size);
  const p = new Picture(createRenderer('kitty'), area);
  p.show();
  pipe.ingest({ ...screen, x: 0, y: 0 });
  const first = pipe.encode(size, 'full', 1)!;
  for (const u of first.updates) p.apply(u);
  // A typed glyph: a 6x13 packed tile continuing the history; tiny, so plain RGB for kitty.
  glyph(screen, 20, 30, prng(5), 6, 13);
  pipe.ingest({ ...screen, x: 0, y: 0 });
  const typed = pipe.encode(size, [{ x: 20, y: 30, w: 6, h: 13 }], first.lastSeq + 1)!;
  t.match(typed.tiles, [{ encoding: 'packed', bits: 1 }]);
  const r = p.apply(typed.updates[0]!);
  t.equal(r.seq, first.lastSeq + 1);
  t.match(r.out, /a=f,i=\d+,r=1,x=\d+,y=\d+,s=\d+,v=\d+,f=24,X=1/, 'a frame edit of plain RGB (no o=z)');
  t.notMatch(r.out, /o=z/);
  // An update that was lost in between: the next one does not follow and is refused.
  glyph(screen, 40, 30, prng(6), 6, 13);
  pipe.ingest({ ...screen, x: 0, y: 0 });
  const lost = pipe.encode(size, [{ x: 40, y: 30, w: 6, h: 13 }], typed.lastSeq + 1)!;
  glyph(screen, 60, 30, prng(7), 6, 13);
  pipe.ingest({ ...screen, x: 0, y: 0 });
  const next = pipe.encode(size, [{ x: 60, y: 30, w: 6, h: 13 }], lost.lastSeq + 1)!;
  t.throws(() => p.apply(next.updates[0]!), { code: 'RSO_ERR_PROTOCOL' }, 'a gap in the history fails closed');
});
