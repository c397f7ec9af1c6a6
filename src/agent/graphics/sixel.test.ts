// Sixel renderer, decoded independently with the `sixel` npm package's decoder (jerch/node-sixel,
// a wasm VT340-style decoder). Decoded pixels must equal the palette-quantised source exactly,
// be within one palette step of the source, and land only where they should on a simulated
// screen.
import t, { type Test } from 'tap';
import { Decoder } from 'sixel';
import { PALETTE_PERCENT, PALETTE_RGB, PALETTE_SIZE, SixelRenderer, encodeSixel, paletteIndex } from './sixel.js';
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

function quantised(f: RgbFrame, x: number, y: number): [number, number, number] {
  const p = (y * f.width + x) * 3;
  const i = paletteIndex(f.data[p]!, f.data[p + 1]!, f.data[p + 2]!);
  return [PALETTE_RGB[i * 3]!, PALETTE_RGB[i * 3 + 1]!, PALETTE_RGB[i * 3 + 2]!];
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

/** Compare a frame area to the screen: exact against the palette, within a step of the source. */
function compare(t: Test, screen: Screen, f: RgbFrame, w: number, h: number, what: string): void {
  let exact = 0;
  let worst = 0;
  let first = '';
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const got = screen.rgb(x, y);
      const want = quantised(f, x, y);
      if (got && got[0] === want[0] && got[1] === want[1] && got[2] === want[2]) exact++;
      else if (!first) first = `${x},${y}: got ${got} want ${want}`;
      if (got) {
        const p = (y * f.width + x) * 3;
        const d = Math.hypot(got[0] - f.data[p]!, got[1] - f.data[p + 1]!, got[2] - f.data[p + 2]!);
        worst = Math.max(worst, d);
      }
    }
  t.equal(exact, w * h, `${what}: every pixel is the palette colour of its source${first ? ` (first miss ${first})` : ''}`);
  // Half a cube step (51/2) per channel plus the 6-bit table's error (2), over three channels.
  t.ok(worst <= Math.sqrt(3) * 27.5, `${what}: within one palette step of the source (worst distance ${worst.toFixed(1)})`);
}

t.test('palette: 256 entries, integer percents, exact nearest colour', (t) => {
  t.equal(PALETTE_PERCENT.length, 256 * 3);
  t.ok(PALETTE_PERCENT.every((p) => p <= 100));
  const seen = new Set<string>();
  for (let i = 0; i < 256; i++) seen.add(`${PALETTE_RGB[i * 3]},${PALETTE_RGB[i * 3 + 1]},${PALETTE_RGB[i * 3 + 2]}`);
  t.equal(seen.size, 256, 'no duplicate colours');
  // Brute force on a sample of colours at table-cell centres: the table picks the nearest.
  for (let k = 0; k < 3000; k++) {
    const r = ((k * 97) % 64) * 4 + 2;
    const g = ((k * 31) % 64) * 4 + 2;
    const b = ((k * 53) % 64) * 4 + 2;
    let best = Infinity;
    for (let i = 0; i < 256; i++) {
      best = Math.min(best, (PALETTE_RGB[i * 3]! - r) ** 2 + (PALETTE_RGB[i * 3 + 1]! - g) ** 2 + (PALETTE_RGB[i * 3 + 2]! - b) ** 2);
    }
    const i = paletteIndex(r, g, b);
    const d = (PALETTE_RGB[i * 3]! - r) ** 2 + (PALETTE_RGB[i * 3 + 1]! - g) ** 2 + (PALETTE_RGB[i * 3 + 2]! - b) ** 2;
    if (d !== best) {
      t.fail(`${r},${g},${b} -> ${i} at distance ${d}, nearest is ${best}`);
      break;
    }
  }
  t.equal(paletteIndex(0, 0, 0), 0);
  t.equal(paletteIndex(255, 255, 255), 215);
  t.end();
});

t.test('encodeSixel: raster attributes, RLE, decodes to the quantised pixels', (t) => {
  const f = testFrame(61, 29, 4);
  const dcs = encodeSixel(f, { x: 0, y: 0, width: 61, height: 29 });
  t.match(dcs, /^\x1bP0;1;0q"1;1;61;29#/, 'introducer and raster attributes');
  t.match(dcs, /!\d+[?-~]/, 'runs are length-encoded');
  const img = decodeDcs(dcs);
  t.same([img.width, img.height], [61, 29]);
  const screen = new Screen({ row: 0, col: 0, cols: 61, rows: 29, cellWidth: 1, cellHeight: 1 });
  screen.run(`\x1b[1;1H${dcs}`);
  compare(t, screen, f, 61, 29, 'odd-sized frame');
  // A flat area is a handful of bytes, whatever its size.
  const flat = { width: 300, height: 60, data: new Uint8Array(300 * 60 * 3).fill(200) };
  t.ok(encodeSixel(flat, { x: 0, y: 0, width: 300, height: 60 }).length < 120, 'solid 300x60 stays tiny');
  t.end();
});

t.test('full frame at a placement', (t) => {
  for (const at of [
    { row: 1, col: 2, cols: 9, rows: 4, cellWidth: 7, cellHeight: 13 },
    { row: 0, col: 0, cols: 12, rows: 5, cellWidth: 10, cellHeight: 20 },
  ]) {
    const f = testFrame(at.cols * at.cellWidth, at.rows * at.cellHeight, at.cellHeight);
    const out = new SixelRenderer().full(f, at);
    wellFormed(t, out);
    t.ok(out.includes(`\x1b[${at.row + 1};${at.col + 1}H\x1bP`), 'image starts at the placement origin');
    const screen = new Screen(at);
    screen.run(out);
    compare(t, screen, f, f.width, f.height, `${at.cellWidth}x${at.cellHeight} cells`);
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
  screen.run(r.full(f1, at));
  screen.painted = [];
  const out = r.update(f2, changed, at);
  wellFormed(t, out);
  screen.run(out);
  compare(t, screen, f2, f2.width, f2.height, 'after update');
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

t.test('clear blanks the area with spaces', (t) => {
  const at = { row: 1, col: 1, cols: 4, rows: 2, cellWidth: 8, cellHeight: 16 };
  const out = new SixelRenderer().clear(at);
  t.equal(out, '\x1b7\x1b[0m\x1b[2;2H    \x1b[3;2H    \x1b8');
  t.end();
});
