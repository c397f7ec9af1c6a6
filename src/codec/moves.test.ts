import t from 'tap';
import { type BgrxFramebuffer, type Rect } from './framebuffer.js';
import { applyCopies, findCopies } from './moves.js';
import { desktopLike, fillBgrx, glyph, prng, randomBgrx, terminalRect } from './synthetic.js';

const copyOf = (fb: BgrxFramebuffer): BgrxFramebuffer => ({ ...fb, data: fb.data.slice() });
const same = (a: BgrxFramebuffer, b: BgrxFramebuffer, r: Rect): boolean => {
  for (let y = r.y; y < r.y + r.h; y++) {
    const at = (y * a.width + r.x) * 4;
    if (!Buffer.from(a.data.buffer, a.data.byteOffset + at, r.w * 4).equals(Buffer.from(b.data.buffer, b.data.byteOffset + at, r.w * 4))) return false;
  }
  return true;
};
const area = (rs: readonly Rect[]): number => rs.reduce((n, r) => n + r.w * r.h, 0);

/** Moves the w x h block at (x, y) by (dx, dy), leaving `bg` where it was. */
function moveBlock(fb: BgrxFramebuffer, block: Rect, dx: number, dy: number, bg: number): BgrxFramebuffer {
  const out = copyOf(fb);
  fillBgrx(out, block, bg);
  for (let y = 0; y < block.h; y++) {
    const from = ((block.y + y) * fb.width + block.x) * 4;
    out.data.set(fb.data.subarray(from, from + block.w * 4), ((block.y + dy + y) * fb.width + block.x + dx) * 4);
  }
  return out;
}

t.test('a terminal scrolled by one text line: one copy covering all but the new line', async (t) => {
  const W = 1280;
  const H = 720;
  const prev = desktopLike(W, H);
  const term = terminalRect(W, H);
  const next = copyOf(prev);
  for (let y = term.y; y < term.y + term.h - 16; y++) {
    next.data.copyWithin((y * W + term.x) * 4, ((y + 16) * W + term.x) * 4, ((y + 16) * W + term.x + term.w) * 4);
  }
  const rnd = prng(5);
  for (let c = 0; c < 30; c++) glyph(next, term.x + 4 + c * 8, term.y + term.h - 16, rnd);

  const copies = findCopies(prev, next, term);
  t.ok(copies.length >= 1, 'found the scroll');
  for (const c of copies) {
    t.equal(c.srcX - c.x, 0, 'vertical only');
    t.equal(c.srcY - c.y, 16, 'by one line');
  }
  // Every changed pixel above the new line lies in a copy.
  let changed = 0;
  let uncovered = 0;
  for (let y = term.y; y < term.y + term.h - 16; y++) {
    for (let x = term.x; x < term.x + term.w; x++) {
      const o = (y * W + x) * 4;
      if (prev.data[o] === next.data[o] && prev.data[o + 1] === next.data[o + 1] && prev.data[o + 2] === next.data[o + 2]) continue;
      changed++;
      if (!copies.some((c) => x >= c.x && x < c.x + c.w && y >= c.y && y < c.y + c.h)) uncovered++;
    }
  }
  t.ok(changed > 10_000 && uncovered <= changed * 0.01, `${uncovered} of ${changed} changed pixels left to paint`);

  const predicted = copyOf(prev);
  applyCopies(predicted, copies);
  for (const c of copies) t.ok(same(predicted, next, c), `copy ${c.w}x${c.h}+${c.x}+${c.y} reproduces the new picture exactly`);
});

t.test('a window dragged by (-20, +10) over a textured background: one copy, exactly the window', async (t) => {
  const W = 800;
  const H = 600;
  const prev = randomBgrx(W, H, 3);
  const win: Rect = { x: 301, y: 133, w: 300, h: 200 };
  const content = randomBgrx(win.w, win.h, 9);
  for (let y = 0; y < win.h; y++) prev.data.set(content.data.subarray(y * win.w * 4, (y + 1) * win.w * 4), ((win.y + y) * W + win.x) * 4);
  const next = moveBlock(prev, win, -20, 10, 0x336699);
  // Damage as a window manager reports it: the old and new places with some margin around.
  const damage: Rect = { x: win.x - 60, y: win.y - 30, w: win.w + 100, h: win.h + 70 };

  const copies = findCopies(prev, next, damage);
  t.ok(copies.length >= 1);
  for (const c of copies) t.same([c.x - c.srcX, c.y - c.srcY], [-20, 10], 'the drag offset');
  // The whole moved window is inside the copies (edges grown to the pixel).
  const moved: Rect = { x: win.x - 20, y: win.y + 10, w: win.w, h: win.h };
  t.same(copies.map(({ x, y, w, h }) => ({ x, y, w, h })), [moved], 'edges grown to the pixel, nothing of the noisy background');
  const predicted = copyOf(prev);
  applyCopies(predicted, copies);
  for (const c of copies) t.ok(same(predicted, next, c));
});

t.test('nothing moved, or only noise changed: no copies', async (t) => {
  const prev = desktopLike(640, 480);
  t.same(findCopies(prev, copyOf(prev), { x: 0, y: 0, w: 640, h: 480 }), [], 'identical frames');
  t.same(findCopies(prev, randomBgrx(640, 480, 2), { x: 0, y: 0, w: 640, h: 480 }), [], 'unrelated content');
  t.same(findCopies(prev, randomBgrx(320, 240, 2), { x: 0, y: 0, w: 320, h: 240 }), [], 'different sizes');
  t.same(findCopies(prev, copyOf(prev), { x: 0, y: 0, w: 8, h: 8 }), [], 'region narrower than a probe');
});

t.test('copies never reach outside the region they were asked about', async (t) => {
  const W = 640;
  const H = 480;
  const prev = randomBgrx(W, H, 4);
  // The whole screen scrolls by 8 px, but only a band was reported as changed.
  const next = copyOf(prev);
  next.data.copyWithin(0, 8 * W * 4);
  const band: Rect = { x: 100, y: 100, w: 300, h: 150 };
  const copies = findCopies(prev, next, band);
  t.ok(copies.length >= 1);
  for (const c of copies) t.ok(c.x >= band.x && c.y >= band.y && c.x + c.w <= band.x + band.w && c.y + c.h <= band.y + band.h, JSON.stringify(c));
});

t.test('applyCopies reads every source before writing (a scroll onto itself)', async (t) => {
  const fb = randomBgrx(64, 64, 8);
  const orig = copyOf(fb);
  applyCopies(fb, [{ x: 0, y: 0, w: 64, h: 60, srcX: 0, srcY: 4 }, { x: 0, y: 60, w: 64, h: 4, srcX: 0, srcY: 0 }]);
  t.ok(same(fb, moveRows(orig, 4), { x: 0, y: 0, w: 64, h: 60 }));
  t.ok(Buffer.from(fb.data.subarray(60 * 64 * 4)).equals(Buffer.from(orig.data.subarray(0, 4 * 64 * 4))), 'the second copy read the rows before the first wrote');
});

function moveRows(fb: BgrxFramebuffer, by: number): BgrxFramebuffer {
  const out = copyOf(fb);
  out.data.copyWithin(0, by * fb.width * 4);
  return out;
}

t.test('text whose blank rows fall on every sampled row is still found (probes search their cell)', async (t) => {
  // Lines 13 px high with ink on rows 1..10 only; the region is 624 px high, so one fixed
  // row per 26-px cell would always be row 0 or 13 of a line: blank.
  const W = 1024;
  const H = 700;
  const prev = randomBgrx(W, H, 12);
  fillBgrx(prev, { x: 0, y: 0, w: W, h: H }, 0x202840);
  const win: Rect = { x: 300, y: 26, w: 600, h: 624 };
  const rnd = prng(4);
  for (let line = 0; line < win.h / 13; line++) {
    for (let c = 0; c < win.w / 8; c++) glyph(prev, win.x + c * 8, win.y + line * 13 + 1, rnd, 8, 10);
  }
  const next = moveBlock(prev, win, -20, 0, 0x202840);
  const region: Rect = { x: 280, y: 26, w: 620, h: 624 };
  const copies = findCopies(prev, next, region);
  t.ok(copies.length >= 1, 'found the move');
  t.ok(area(copies) >= win.w * win.h * 0.9, `covers the window (${area(copies)} of ${win.w * win.h})`);
});

t.test('copies never add up to more than one frame (the decoder caps tiles at twice the frame)', async (t) => {
  // Everything scrolled by 8 rows, but in every other tile row all tiles except the first have
  // a wrong last pixel row: the full-width runs above grow down through those tiles, over the
  // one-tile runs at their left, and the copies add up to more than the frame.
  const W = 512;
  const H = 512;
  const prev = randomBgrx(W, H, 21);
  const next = copyOf(prev);
  next.data.copyWithin(0, 8 * W * 4);
  for (let row = 1; row < H / 64; row += 2) fillBgrx(next, { x: 64, y: row * 64 + 63, w: W - 64, h: 1 }, 0xff00ff);
  const copies = findCopies(prev, next, { x: 0, y: 0, w: W, h: H - 8 });
  t.ok(copies.length > 1, `several copies (${copies.length})`);
  t.ok(area(copies) <= W * H, `${area(copies)} <= ${W * H}`);
  const predicted = copyOf(prev);
  applyCopies(predicted, copies);
  for (const c of copies) t.ok(same(predicted, next, c), 'each copy still exact');
});
