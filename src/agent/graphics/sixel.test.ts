// Sixel renderer, decoded independently with the `sixel` npm package's decoder (jerch/node-sixel,
// a wasm VT340-style decoder). Decoded pixels must equal the palette-quantised source exactly,
// be within half a step of the fixed cube of the source, and land only where they should on a
// simulated screen. The palette is made per full picture and kept by small updates.
import t, { type Test } from 'tap';
import { Decoder } from 'sixel';
import { BASE_SIZE, PALETTE_SIZE, REPALETTE_SHARE, SixelPalette, SixelRenderer, basePalette, buildPalette, encodeSixel } from './sixel.js';
import { dirtyCells, type Placement, type Rect, type RgbFrame } from './renderer.js';
import { desktopFrame, testFrame, withNoise } from './fixtures.js';

const decoder = new Decoder({ memoryLimit: 256 * 1024 * 1024 });

/** Decode one DCS sixel; pixels with alpha 0 were not painted (P2=1 keeps them transparent). */
function decodeDcs(dcs: string): { width: number; height: number; px: Uint32Array } {
  const m = /^\x1bP([0-9;]*)q([\s\S]*)\x1b\\$/.exec(dcs);
  if (!m) throw new Error('not a DCS sixel sequence');
  if (m[1] !== '0;1;0') throw new Error(`expected P2=1 (transparent background), got ${m[1]}`);
  decoder.init(0, undefined, PALETTE_SIZE, true);
  // A fresh Uint8Array: the decoder mis-reads Buffers.
  decoder.decode(new Uint8Array(Array.from(m[2]!, (c) => c.charCodeAt(0))));
  return { width: decoder.width, height: decoder.height, px: decoder.data32.slice() };
}

function quantised(pal: SixelPalette, f: RgbFrame, x: number, y: number): [number, number, number] {
  const p = (y * f.width + x) * 3;
  const i = pal.index(f.data[p]!, f.data[p + 1]!, f.data[p + 2]!);
  return [pal.rgb[i * 3]!, pal.rgb[i * 3 + 1]!, pal.rgb[i * 3 + 2]!];
}

/** PSNR (dB) of what the screen shows against the frame. */
function psnr(screen: Screen, f: RgbFrame): number {
  let se = 0;
  for (let y = 0; y < f.height; y++)
    for (let x = 0; x < f.width; x++) {
      const got = screen.rgb(x, y) ?? [-1000, -1000, -1000];
      const p = (y * f.width + x) * 3;
      se += (got[0] - f.data[p]!) ** 2 + (got[1] - f.data[p + 1]!) ** 2 + (got[2] - f.data[p + 2]!) ** 2;
    }
  return 10 * Math.log10((255 * 255) / (se / (f.width * f.height * 3)));
}

/** Colour registers a sixel output defines: register -> "r;g;b" in percent. */
function registers(out: string): Map<number, string> {
  const regs = new Map<number, string>();
  for (const m of out.matchAll(/#(\d+);2;(\d+);(\d+);(\d+)/g)) regs.set(Number(m[1]), `${m[2]};${m[3]};${m[4]}`);
  return regs;
}

/** A screen of placement pixels; -1 = never painted. Applies CUP + DCS pairs from the output. */
class Screen {
  px: Int32Array;
  painted: { x: number; y: number }[] = [];
  constructor(readonly at: Placement) {
    this.px = new Int32Array(at.cols * at.cellWidth * at.rows * at.cellHeight).fill(-1);
  }
  get width(): number {
    return this.at.cols * this.at.cellWidth;
  }
  run(out: string): void {
    const re = /\x1b7|\x1b8|\x1b\[(\d+);(\d+)H|(\x1bP[0-9;]*q[^\x1b]*\x1b\\)/gy;
    let m: RegExpExecArray | null;
    let pos = 0;
    let row = -1;
    let col = -1;
    while ((m = re.exec(out))) {
      pos = re.lastIndex;
      if (m[1]) {
        row = Number(m[1]) - 1;
        col = Number(m[2]) - 1;
      } else if (m[3]) {
        const img = decodeDcs(m[3]);
        const ox = (col - this.at.col) * this.at.cellWidth;
        const oy = (row - this.at.row) * this.at.cellHeight;
        for (let y = 0; y < img.height; y++)
          for (let x = 0; x < img.width; x++) {
            const v = img.px[y * img.width + x]!;
            if (v >>> 24 === 0) continue;
            const sx = ox + x;
            const sy = oy + y;
            if (sx < 0 || sy < 0 || sx >= this.width || sy >= this.at.rows * this.at.cellHeight) {
              throw new Error(`painted outside the placement at ${sx},${sy}`);
            }
            this.px[sy * this.width + sx] = v & 0xffffff; // ABGR -> 0xBBGGRR
            this.painted.push({ x: sx, y: sy });
          }
      }
    }
    if (pos !== out.length) throw new Error(`unexpected bytes at ${pos}: ${JSON.stringify(out.slice(pos, pos + 20))}`);
  }
  rgb(x: number, y: number): [number, number, number] | null {
    const v = this.px[y * this.width + x]!;
    return v < 0 ? null : [v & 255, (v >> 8) & 255, (v >> 16) & 255];
  }
}

function wellFormed(t: Test, out: string): void {
  t.ok(out.startsWith('\x1b7') && out.endsWith('\x1b8'), 'saves and restores the cursor');
  t.notOk(/[\n\r]/.test(out), 'no line feed or carriage return');
}

/** Compare a frame area to the screen: exact against the palette, within a cube step of the source. */
function compare(t: Test, screen: Screen, pal: SixelPalette, f: RgbFrame, w: number, h: number, what: string): void {
  let exact = 0;
  let worst = 0;
  let first = '';
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const got = screen.rgb(x, y);
      const want = quantised(pal, f, x, y);
      if (got && got[0] === want[0] && got[1] === want[1] && got[2] === want[2]) exact++;
      else if (!first) first = `${x},${y}: got ${got} want ${want}`;
      if (got) {
        const p = (y * f.width + x) * 3;
        const d = Math.hypot(got[0] - f.data[p]!, got[1] - f.data[p + 1]!, got[2] - f.data[p + 2]!);
        worst = Math.max(worst, d);
      }
    }
  t.equal(exact, w * h, `${what}: every pixel is the palette colour of its source${first ? ` (first miss ${first})` : ''}`);
  // Every palette holds the fixed 5-level cube (0, 64, 128, 191, 255): half its step (32) per
  // channel plus the 6-bit table's error (2), over three channels.
  t.ok(worst <= Math.sqrt(3) * 34, `${what}: within half a cube step of the source (worst distance ${worst.toFixed(1)})`);
}

t.test('palette: the fixed cube, then median cut of the picture; exact nearest colour', (t) => {
  const f = desktopFrame(480, 270);
  const pal = buildPalette(f, { x: 0, y: 0, width: f.width, height: f.height });
  t.equal(pal.size, PALETTE_SIZE);
  t.equal(pal.percent.length, PALETTE_SIZE * 3);
  t.ok(pal.percent.every((p) => p <= 100), 'integer percents');
  t.same(Array.from(pal.percent.subarray(0, BASE_SIZE * 3)), Array.from(basePalette().percent), 'starts with the fixed cube');
  // The picture's flat colours (window, text, title bar) get an entry of their own, within
  // percent rounding (1.3 per channel), where the cube is 20-40 away.
  for (const c of [
    [245, 245, 245],
    [20, 20, 25],
    [53, 53, 60],
  ]) {
    const i = pal.index(c[0]!, c[1]!, c[2]!);
    const d = Math.max(...[0, 1, 2].map((k) => Math.abs(pal.rgb[i * 3 + k]! - c[k]!)));
    t.ok(i >= BASE_SIZE && d <= 3, `${c} -> entry ${i} (${pal.rgb.subarray(i * 3, i * 3 + 3).join(',')}), off by ${d}`);
  }
  // Brute force on a sample of table-cell centres: the table picks the nearest (lowest index on a tie).
  for (const p of [pal, basePalette()]) {
    for (let k = 0; k < 3000; k++) {
      const r = ((k * 97) % 64) * 4 + 2;
      const g = ((k * 31) % 64) * 4 + 2;
      const b = ((k * 53) % 64) * 4 + 2;
      let best = Infinity;
      let bi = -1;
      for (let i = 0; i < p.size; i++) {
        const d = (p.rgb[i * 3]! - r) ** 2 + (p.rgb[i * 3 + 1]! - g) ** 2 + (p.rgb[i * 3 + 2]! - b) ** 2;
        if (d < best) {
          best = d;
          bi = i;
        }
      }
      const i = p.index(r, g, b);
      if (i !== bi) {
        t.fail(`${r},${g},${b} -> ${i}, nearest is ${bi}`);
        break;
      }
    }
  }
  t.equal(basePalette().index(0, 0, 0), 0);
  t.equal(basePalette().index(255, 255, 255), BASE_SIZE - 1);
  t.equal(BASE_SIZE, 125, '5x5x5 cube');
  // Few colours: one entry each, the rest of the registers unused (no pixel maps to them).
  const two = { width: 8, height: 2, data: new Uint8Array(8 * 2 * 3) };
  two.data.fill(200, 0, 24);
  two.data.fill(31, 24);
  const small = buildPalette(two, { x: 0, y: 0, width: 8, height: 2 });
  t.equal(small.size, BASE_SIZE + 2);
  t.same(new Set(Array.from(small.rgb.subarray(BASE_SIZE * 3))), new Set([31, 199]), 'each the exact colour, within percent rounding');
  t.equal(small.index(200, 200, 200), small.index(201, 201, 201), 'a table cell maps to one entry');
  t.ok(small.index(200, 200, 200) >= BASE_SIZE && small.index(31, 31, 31) >= BASE_SIZE, 'both found as their own entries');
  t.end();
});

t.test('encodeSixel: raster attributes, RLE, decodes to the quantised pixels', (t) => {
  const f = testFrame(61, 29, 4);
  const pal = buildPalette(f, { x: 0, y: 0, width: 61, height: 29 });
  const dcs = encodeSixel(f, { x: 0, y: 0, width: 61, height: 29 }, pal);
  t.match(dcs, /^\x1bP0;1;0q"1;1;61;29#/, 'introducer and raster attributes');
  t.match(dcs, /!\d+[?-~]/, 'runs are length-encoded');
  const img = decodeDcs(dcs);
  t.same([img.width, img.height], [61, 29]);
  const screen = new Screen({ row: 0, col: 0, cols: 61, rows: 29, cellWidth: 1, cellHeight: 1 });
  screen.run(`\x1b[1;1H${dcs}`);
  compare(t, screen, pal, f, 61, 29, 'odd-sized frame');
  // A flat area is a handful of bytes, whatever its size.
  const flat = { width: 300, height: 60, data: new Uint8Array(300 * 60 * 3).fill(200) };
  t.ok(encodeSixel(flat, { x: 0, y: 0, width: 300, height: 60 }, basePalette()).length < 120, 'solid 300x60 stays tiny');
  t.end();
});

t.test('full frame at a placement', (t) => {
  for (const at of [
    { row: 1, col: 2, cols: 9, rows: 4, cellWidth: 7, cellHeight: 13 },
    { row: 0, col: 0, cols: 12, rows: 5, cellWidth: 10, cellHeight: 20 },
  ]) {
    const f = testFrame(at.cols * at.cellWidth, at.rows * at.cellHeight, at.cellHeight);
    const r = new SixelRenderer();
    const out = r.full(f, at);
    wellFormed(t, out);
    t.ok(out.includes(`\x1b[${at.row + 1};${at.col + 1}H\x1bP`), 'image starts at the placement origin');
    const screen = new Screen(at);
    screen.run(out);
    compare(t, screen, r.currentPalette!, f, f.width, f.height, `${at.cellWidth}x${at.cellHeight} cells`);
  }
  // A frame bigger than the area is cut at the area's edge, never painted beyond it.
  const at = { row: 0, col: 0, cols: 3, rows: 2, cellWidth: 8, cellHeight: 16 };
  const screen = new Screen(at);
  screen.run(new SixelRenderer().full(testFrame(40, 40), at));
  t.pass('oversized frame stays inside the placement');
  t.end();
});

t.test('partial update: only the changed cells are painted, and they are right', (t) => {
  const at: Placement = { row: 3, col: 5, cols: 16, rows: 7, cellWidth: 9, cellHeight: 17 };
  const f1 = desktopFrame(at.cols * at.cellWidth, at.rows * at.cellHeight);
  const changed: Rect[] = [
    { x: 20, y: 10, width: 5, height: 3 }, // inside one cell... two cells wide? x 20..25 -> cols 2
    { x: 40, y: 30, width: 30, height: 40 }, // several cells
    { x: 140, y: 110, width: 20, height: 20 }, // bottom-right corner, runs past the frame
  ];
  let f2 = f1;
  for (const [i, r] of changed.entries()) {
    const clip = { x: r.x, y: r.y, width: Math.min(r.width, f1.width - r.x), height: Math.min(r.height, f1.height - r.y) };
    f2 = withNoise(f2, clip, 100 + i);
  }
  const r = new SixelRenderer();
  const screen = new Screen(at);
  const first = r.full(f1, at);
  const full = registers(first);
  const palette = r.currentPalette!;
  screen.run(first);
  screen.painted = [];
  const out = r.update(f2, changed, at);
  wellFormed(t, out);
  screen.run(out);
  compare(t, screen, palette, f2, f2.width, f2.height, 'after update');
  t.equal(r.currentPalette, palette, 'a small update keeps the palette the picture was drawn with');
  for (const [c, v] of registers(out)) t.equal(v, full.get(c) ?? v, `register ${c} keeps its colour`);
  const grid = dirtyCells(changed, at.cellWidth, at.cellHeight, at.cols, at.rows);
  const outside = screen.painted.filter(
    (p) => grid[Math.floor(p.y / at.cellHeight) * at.cols + Math.floor(p.x / at.cellWidth)] !== 1,
  );
  t.equal(outside.length, 0, 'no pixel painted outside the cells the change touches');
  const dirtyPixels = grid.reduce((a, b) => a + b, 0) * at.cellWidth * at.cellHeight;
  t.equal(new Set(screen.painted.map((p) => `${p.x},${p.y}`)).size, dirtyPixels, 'every pixel of those cells is painted');
  t.equal(screen.painted.length, dirtyPixels, '... exactly once (the cell rectangles do not overlap)');
  t.equal(r.update(f2, [], at), '', 'nothing changed: no bytes');
  t.end();
});

t.test('palette follows the picture: desktop quality, new palette only with a whole repaint', (t) => {
  const at: Placement = { row: 0, col: 0, cols: 48, rows: 27, cellWidth: 10, cellHeight: 10 };
  const f1 = desktopFrame(480, 270);
  const r = new SixelRenderer();
  const screen = new Screen(at);
  screen.run(r.full(f1, at));
  const db = psnr(screen, f1);
  // The old fixed palette (6x6x6 cube + 40 greys) gave 27.6 dB on this picture.
  t.ok(db >= 35, `desktop picture at ${db.toFixed(1)} dB PSNR`);
  const p1 = r.currentPalette!;

  // A different picture over most of the screen (another window in front): the update is the
  // whole picture again, drawn with a palette made for it.
  const f2 = desktopFrame(480, 270, 99);
  for (let i = 0; i < f2.data.length; i += 3) [f2.data[i], f2.data[i + 2]] = [f2.data[i + 2]!, f2.data[i]!]; // other hues
  const most: Rect = { x: 0, y: 0, width: 480, height: Math.ceil(270 * REPALETTE_SHARE) + 10 };
  screen.painted = [];
  const out = r.update(f2, [most], at);
  wellFormed(t, out);
  screen.run(out);
  t.not(r.currentPalette, p1, 'a new palette');
  t.equal(screen.painted.length, 480 * 270, 'every pixel repainted (none left in colours of the old registers)');
  compare(t, screen, r.currentPalette!, f2, 480, 270, 'after the repaint');
  t.ok(psnr(screen, f2) >= 35, 'the new picture at full quality too');

  // A small change below the share keeps the palette.
  const p2 = r.currentPalette!;
  const f3 = withNoise(f2, { x: 100, y: 100, width: 30, height: 30 }, 5);
  t.notOk(r.update(f3, [{ x: 100, y: 100, width: 30, height: 30 }], at).startsWith('\x1b7\x1b[1;1H\x1bP0;1;0q"1;1;480;270'), 'not a whole repaint');
  t.equal(r.currentPalette, p2, 'palette kept');

  // Without a picture drawn yet there is no palette to keep: the first update is a full one.
  const fresh = new SixelRenderer();
  const first = fresh.update(f1, [{ x: 0, y: 0, width: 5, height: 5 }], at);
  t.ok(first.includes('"1;1;480;270'), 'first update paints the whole picture');
  t.ok(fresh.currentPalette, 'and made its palette');
  t.end();
});

t.test('clear blanks the area with spaces', (t) => {
  const at = { row: 1, col: 1, cols: 4, rows: 2, cellWidth: 8, cellHeight: 16 };
  const out = new SixelRenderer().clear(at);
  t.equal(out, '\x1b7\x1b[0m\x1b[2;2H    \x1b[3;2H    \x1b8');
  t.end();
});
