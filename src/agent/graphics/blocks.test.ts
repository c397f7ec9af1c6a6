// Half-block renderer, checked by a tiny terminal model: it executes cursor moves, SGR and the
// printed cells, then turns the cells back into pixels (upper half = foreground, lower half =
// background), which must equal the frame exactly.
import t, { type Test } from 'tap';
import { BlocksRenderer } from './blocks.js';
import { dirtyCells, pixelSizeFor, type Placement, type Rect, type RgbFrame } from './renderer.js';
import { blankFrame, fillRect, testFrame, withNoise } from './fixtures.js';

type Color = number | null; // 0xRRGGBB, null = terminal default
interface Cell {
  ch: string;
  fg: Color;
  bg: Color;
}

class Term {
  cells: (Cell | null)[];
  written: { row: number; col: number }[] = [];
  sgrCount = 0;
  private row = 0;
  private col = 0;
  private fg: Color = null;
  private bg: Color = null;
  private saved: { row: number; col: number; fg: Color; bg: Color } | null = null;
  constructor(
    readonly cols: number,
    readonly rows: number,
  ) {
    this.cells = new Array<Cell | null>(cols * rows).fill(null);
  }
  run(out: string): void {
    const re = /\x1b7|\x1b8|\x1b\[(\d+);(\d+)H|\x1b\[([\d;]*)m|([\u2580 ])/gy;
    let m: RegExpExecArray | null;
    let pos = 0;
    while ((m = re.exec(out))) {
      pos = re.lastIndex;
      if (m[0] === '\x1b7') this.saved = { row: this.row, col: this.col, fg: this.fg, bg: this.bg };
      else if (m[0] === '\x1b8') {
        if (!this.saved) throw new Error('restore without save');
        ({ row: this.row, col: this.col, fg: this.fg, bg: this.bg } = this.saved);
      } else if (m[1]) {
        this.row = Number(m[1]) - 1;
        this.col = Number(m[2]) - 1;
      } else if (m[3] !== undefined) {
        this.sgrCount++;
        this.sgr(m[3]);
      } else {
        if (this.col >= this.cols || this.row >= this.rows) throw new Error(`print outside the screen at ${this.row},${this.col}`);
        this.cells[this.row * this.cols + this.col] = { ch: m[4]!, fg: this.fg, bg: this.bg };
        this.written.push({ row: this.row, col: this.col });
        this.col++; // the model never wraps: printing past the edge is caught above
      }
    }
    if (pos !== out.length) throw new Error(`unexpected bytes at ${pos}: ${JSON.stringify(out.slice(pos, pos + 20))}`);
  }
  private sgr(params: string): void {
    const p = params === '' ? [0] : params.split(';').map(Number);
    for (let i = 0; i < p.length; i++) {
      const v = p[i]!;
      if (v === 0) this.fg = this.bg = null;
      else if (v === 39) this.fg = null;
      else if (v === 49) this.bg = null;
      else if ((v === 38 || v === 48) && p[i + 1] === 2) {
        const c = (p[i + 2]! << 16) | (p[i + 3]! << 8) | p[i + 4]!;
        if (v === 38) this.fg = c;
        else this.bg = c;
        i += 4;
      } else throw new Error(`unexpected SGR ${v}`);
    }
  }
  /** Pixel (x, y) of the placement, as the eye sees it. */
  pixel(at: Placement, x: number, y: number): Color | undefined {
    const cell = this.cells[(at.row + (y >> 1)) * this.cols + at.col + x];
    if (!cell) return undefined;
    if (cell.ch === ' ') return cell.bg;
    return y % 2 === 0 ? cell.fg : cell.bg;
  }
}

function rgbAt(f: RgbFrame, x: number, y: number): number {
  const p = (y * f.width + x) * 3;
  return (f.data[p]! << 16) | (f.data[p + 1]! << 8) | f.data[p + 2]!;
}

function sameAsFrame(t: Test, term: Term, at: Placement, f: RgbFrame, what: string): void {
  let bad = '';
  for (let y = 0; y < at.rows * 2 && !bad; y++)
    for (let x = 0; x < at.cols && !bad; x++) {
      const want = x < f.width && y < f.height ? rgbAt(f, x, y) : null;
      const got = term.pixel(at, x, y);
      if (got !== want) bad = `${x},${y}: got ${got} want ${want}`;
    }
  t.equal(bad, '', `${what}: every pixel exact`);
}

function wellFormed(t: Test, out: string): void {
  t.ok(out.startsWith('\x1b7'), 'saves the cursor');
  t.ok(out.endsWith('\x1b[0m\x1b8'), 'resets colours, then restores the cursor');
  t.notOk(/[\n\r]/.test(out), 'no line feed or carriage return');
}

t.test('pixel size: one pixel per cell across, two down', (t) => {
  const at = { row: 0, col: 0, cols: 80, rows: 20, cellWidth: 9, cellHeight: 18 };
  t.same(pixelSizeFor('blocks', at), { width: 80, height: 40 });
  t.same(pixelSizeFor('kitty', at), { width: 720, height: 360 });
  t.same(pixelSizeFor('sixel', at), { width: 720, height: 360 });
  t.end();
});

t.test('full frame paints every cell with the exact colours', (t) => {
  const at: Placement = { row: 2, col: 3, cols: 23, rows: 9, cellWidth: 8, cellHeight: 16 };
  const f = testFrame(23, 18, 3);
  const out = new BlocksRenderer().full(f, at);
  wellFormed(t, out);
  const term = new Term(40, 15);
  term.run(out);
  sameAsFrame(t, term, at, f, 'gradient+solid+noise');
  t.equal(term.written.length, at.cols * at.rows, 'each cell written once');
  t.ok(term.written.every((c) => c.row >= at.row && c.row < at.row + at.rows && c.col >= at.col && c.col < at.col + at.cols), 'only inside the placement');
  // A frame shorter than the area (odd height): the missing bottom pixels are default colour.
  const short = testFrame(23, 17, 4);
  const term2 = new Term(40, 15);
  term2.run(new BlocksRenderer().full(short, at));
  sameAsFrame(t, term2, at, short, 'odd height');
  t.end();
});

t.test('SGR only when a colour changes', (t) => {
  const at: Placement = { row: 0, col: 0, cols: 30, rows: 4, cellWidth: 8, cellHeight: 16 };
  const flat = blankFrame(30, 8);
  fillRect(flat, { x: 0, y: 0, width: 30, height: 8 }, () => [10, 20, 30]);
  const term = new Term(30, 4);
  const out = new BlocksRenderer().full(flat, at);
  term.run(out);
  sameAsFrame(t, term, at, flat, 'flat');
  t.equal(term.sgrCount, 2, 'one colour set and one reset for a flat frame');
  // Stripes: top row pixels alternate, bottom row constant -> only the foreground changes.
  const stripes = blankFrame(30, 2);
  fillRect(stripes, { x: 0, y: 0, width: 30, height: 2 }, (x, y) => (y === 0 ? [x % 2 ? 255 : 0, 0, 0] : [0, 0, 200]));
  const o2 = new BlocksRenderer().full(stripes, { ...at, rows: 1 });
  t.notOk(/48;2;[^m]*m\u2580\x1b\[48/.test(o2), 'background not repeated');
  t.equal((o2.match(/48;2/g) ?? []).length, 1, 'background set once');
  t.equal((o2.match(/38;2/g) ?? []).length, 30, 'foreground set per change');
  t.end();
});

t.test('partial update rewrites only the changed cells', (t) => {
  const at: Placement = { row: 1, col: 4, cols: 33, rows: 11, cellWidth: 8, cellHeight: 16 };
  const f1 = testFrame(33, 22, 8);
  const changed: Rect[] = [
    { x: 3, y: 3, width: 4, height: 1 }, // one pixel row: still a whole cell row
    { x: 20, y: 10, width: 9, height: 7 },
    { x: 30, y: 20, width: 10, height: 10 }, // past the edge
  ];
  let f2 = withNoise(f1, { x: 3, y: 3, width: 4, height: 1 }, 1);
  f2 = withNoise(f2, { x: 20, y: 10, width: 9, height: 7 }, 2);
  f2 = withNoise(f2, { x: 30, y: 20, width: 3, height: 2 }, 3);
  const r = new BlocksRenderer();
  const term = new Term(40, 14);
  term.run(r.full(f1, at));
  term.written = [];
  const out = r.update(f2, changed, at);
  wellFormed(t, out);
  term.run(out);
  sameAsFrame(t, term, at, f2, 'after update');
  const grid = dirtyCells(changed, 1, 2, at.cols, at.rows);
  const want = grid.reduce((a, b) => a + b, 0);
  t.equal(term.written.length, want, 'as many cells written as the change touches');
  t.ok(
    term.written.every((c) => grid[(c.row - at.row) * at.cols + (c.col - at.col)] === 1),
    'no cell written outside the change',
  );
  t.equal(r.update(f2, [], at), '', 'nothing changed: no bytes');
  t.end();
});

t.test('clear blanks the area', (t) => {
  const at: Placement = { row: 0, col: 1, cols: 3, rows: 2, cellWidth: 8, cellHeight: 16 };
  const term = new Term(5, 3);
  const r = new BlocksRenderer();
  term.run(r.full(testFrame(3, 4), at));
  term.run(r.clear(at));
  t.ok([0, 1].every((row) => [1, 2, 3].every((col) => term.cells[row * 5 + col]?.ch === ' ' && term.cells[row * 5 + col]?.bg === null)));
  t.end();
});
