// Kitty renderer, checked by a small independent kitty emulator: it parses the APC escapes,
// joins chunks, base64-decodes, inflates, and applies transmit / frame-edit / compose / delete
// to its own copy of the image, which must then equal the framebuffer exactly.
import t, { type Test } from 'tap';
import { deflateSync, inflateSync } from 'node:zlib';
import { KittyRenderer, tmuxWrap } from './kitty.js';
import { cropRgb, type Placement, type Rect, type RgbFrame } from './renderer.js';
import { copyFrame, testFrame, withNoise } from './fixtures.js';

const at: Placement = { row: 2, col: 3, cols: 20, rows: 9, cellWidth: 10, cellHeight: 20 };

interface Cmd {
  keys: Record<string, string>;
  payload: string;
}

/** Split terminal output into graphics commands; anything else must be cursor save/restore/CUP. */
function parse(out: string): { cmds: Cmd[]; other: string[] } {
  const cmds: Cmd[] = [];
  const other: string[] = [];
  const re = /\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\|\x1b7|\x1b8|\x1b\[\d+;\d+H/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(out))) {
    pos = re.lastIndex;
    if (m[0].startsWith('\x1b_G')) {
      const keys: Record<string, string> = {};
      for (const kv of m[1]!.split(',')) {
        const [k, v] = kv.split('=');
        keys[k!] = v!;
      }
      cmds.push({ keys, payload: m[2] ?? '' });
    } else other.push(m[0]);
  }
  if (pos !== out.length) throw new Error(`unexpected bytes at ${pos}: ${JSON.stringify(out.slice(pos, pos + 20))}`);
  return { cmds, other };
}

interface Image {
  width: number;
  height: number;
  data: Uint8Array;
  columns: number;
  rows: number;
}

/** Writes from edits and compositions, for "nothing outside the change" checks. */
type Write = Rect;

class KittyEmu {
  images = new Map<number, Image>();
  writes: Write[] = [];
  chunkSizes: number[] = [];
  /** Frame edits that arrived uncompressed (no o=z). */
  uncompressed = 0;
  private loading: { first: Record<string, string>; b64: string } | null = null;

  run(out: string): void {
    for (const c of parse(out).cmds) this.command(c);
  }

  private command(c: Cmd): void {
    if (this.loading) {
      // A continuation: per spec it carries only m (and q), or a=f for frame data.
      const allowed = new Set(['m', 'q', 'a', 'i']);
      for (const k of Object.keys(c.keys)) if (!allowed.has(k)) throw new Error(`continuation chunk carries key ${k}`);
      if (this.loading.first['a'] === 'f' && c.keys['a'] !== 'f') throw new Error('frame-data chunk without a=f');
      this.chunkSizes.push(c.payload.length);
      this.loading.b64 += c.payload;
      if (c.keys['m'] === '0') this.finish();
      return;
    }
    const a = c.keys['a'] ?? 't';
    if (c.keys['q'] !== '2') throw new Error('command without q=2 would make the terminal reply');
    if (a === 'T' || a === 'f') {
      this.chunkSizes.push(c.payload.length);
      this.loading = { first: c.keys, b64: c.payload };
      if ((c.keys['m'] ?? '0') === '0') this.finish();
    } else if (a === 'c') this.compose(c.keys);
    else if (a === 'd') {
      if (c.keys['d'] !== 'I') throw new Error('expected d=I');
      this.images.delete(Number(c.keys['i']));
    } else throw new Error(`unexpected action ${a}`);
  }

  private finish(): void {
    const { first, b64 } = this.loading!;
    this.loading = null;
    // RGB, zlib-compressed (o=z) or, for small rectangles, as it is (no o key).
    if (first['f'] !== '24' || (first['o'] !== undefined && first['o'] !== 'z')) throw new Error('expected f=24 with o=z or no o');
    const data = Buffer.from(b64, 'base64');
    const raw = new Uint8Array(first['o'] === 'z' ? inflateSync(data) : data);
    if (first['o'] === undefined) this.uncompressed++;
    const s = Number(first['s']);
    const v = Number(first['v']);
    if (raw.length !== s * v * 3) throw new Error(`payload ${raw.length} bytes, expected ${s * v * 3}`);
    const id = Number(first['i']);
    if (first['a'] === 'T') {
      if (first['C'] !== '1') throw new Error('placement would move the cursor');
      this.images.set(id, { width: s, height: v, data: raw, columns: Number(first['c']), rows: Number(first['r']) });
      return;
    }
    const img = this.images.get(id);
    if (!img) throw new Error('ENOENT: frame edit of a missing image');
    if (first['r'] !== '1' || first['X'] !== '1') throw new Error('expected root-frame overwrite (r=1,X=1)');
    const x = Number(first['x'] ?? 0);
    const y = Number(first['y'] ?? 0);
    if (x + s > img.width || y + v > img.height) throw new Error('EINVAL: edit out of bounds');
    for (let row = 0; row < v; row++) img.data.set(raw.subarray(row * s * 3, (row + 1) * s * 3), ((y + row) * img.width + x) * 3);
    this.writes.push({ x, y, width: s, height: v });
  }

  private compose(k: Record<string, string>): void {
    const img = this.images.get(Number(k['i']))!;
    const w = Number(k['w']);
    const h = Number(k['h']);
    const sx = Number(k['X'] ?? 0);
    const sy = Number(k['Y'] ?? 0);
    const dx = Number(k['x'] ?? 0);
    const dy = Number(k['y'] ?? 0);
    if (k['C'] !== '1') throw new Error('expected C=1');
    if (sx + w > img.width || dx + w > img.width || sy + h > img.height || dy + h > img.height) throw new Error('EINVAL: out of bounds');
    // The spec: same frame and overlapping rectangles -> EINVAL.
    if (sx < dx + w && dx < sx + w && sy < dy + h && dy < sy + h) throw new Error('EINVAL: overlapping compose');
    const src = cropRgb(img, { x: sx, y: sy, width: w, height: h });
    for (let row = 0; row < h; row++) img.data.set(src.subarray(row * w * 3, (row + 1) * w * 3), ((dy + row) * img.width + dx) * 3);
    this.writes.push({ x: dx, y: dy, width: w, height: h });
  }
}

function inside(w: Rect, rects: readonly Rect[]): boolean {
  return rects.some((r) => w.x >= r.x && w.y >= r.y && w.x + w.width <= r.x + r.width && w.y + w.height <= r.y + r.height);
}

function wellFormed(t: Test, out: string): void {
  t.ok(out.startsWith('\x1b7'), 'saves the cursor first');
  t.ok(out.endsWith('\x1b8'), 'restores the cursor last');
  t.notOk(/[\n\r]/.test(out), 'no line feed or carriage return (cannot scroll)');
}

t.test('full frame: transmit + place, chunked, decodes to the exact pixels', (t) => {
  for (const [w, h] of [
    [1, 1],
    [37, 23],
    [199, 151],
  ] as const) {
    const frame = testFrame(w, h, w);
    const r = new KittyRenderer({ imageId: 42 });
    const out = r.full(frame, at);
    wellFormed(t, out);
    const emu = new KittyEmu();
    emu.run(out);
    const img = emu.images.get(42);
    t.ok(img, `${w}x${h}: image 42 exists`);
    t.same([img!.width, img!.height, img!.columns, img!.rows], [w, h, at.cols, at.rows], 'size and cell area');
    t.ok(Buffer.from(img!.data).equals(Buffer.from(frame.data)), `${w}x${h}: pixels identical`);
    t.ok(emu.chunkSizes.every((n) => n <= 4096), 'every chunk at most 4096 base64 bytes');
    t.ok(emu.chunkSizes.slice(0, -1).every((n) => n % 4 === 0), 'chunks split on base64 quanta');
    t.ok(out.includes('\x1b[3;4H'), 'cursor placed at the placement origin (1-based CUP)');
  }
  const noisy = testFrame(199, 151, 3);
  const out = new KittyRenderer().full(noisy, at);
  t.ok(parse(out).cmds.length > 2, 'a large frame does span several chunks');
  t.end();
});

t.test('partial update: frame edits land only in the changed rectangles', (t) => {
  const f1 = testFrame(97, 61, 5);
  const changed: Rect[] = [
    { x: 3, y: 4, width: 9, height: 7 },
    { x: 80, y: 50, width: 30, height: 30 }, // runs past the frame: clipped
  ];
  let f2 = withNoise(f1, changed[0]!, 11);
  f2 = withNoise(f2, { x: 80, y: 50, width: 17, height: 11 }, 12);
  const r = new KittyRenderer();
  const emu = new KittyEmu();
  emu.run(r.full(f1, at));
  emu.writes = [];
  const out = r.update(f2, changed, at);
  wellFormed(t, out);
  emu.run(out);
  const img = emu.images.get(r.imageId)!;
  t.ok(Buffer.from(img.data).equals(Buffer.from(f2.data)), 'image equals the new framebuffer');
  t.equal(emu.writes.length, 2, 'one edit per changed rectangle');
  t.ok(emu.writes.every((w) => inside(w, changed)), 'no edit outside the changed rectangles');
  t.equal(emu.uncompressed, 2, 'a 9x7 rectangle, and 17x11 of noise that deflate cannot shrink, go as plain RGB');
  t.equal(r.update(f2, [], at), '', 'nothing changed: no bytes');
  t.end();
});

t.test('partial update: a rectangle that deflate shrinks goes as zlib', (t) => {
  const f1 = testFrame(97, 61, 5);
  const flat: RgbFrame = { width: 97, height: 61, data: f1.data.slice() };
  const rect: Rect = { x: 10, y: 10, width: 40, height: 20 };
  for (let y = rect.y; y < rect.y + rect.height; y++) flat.data.fill(200, (y * 97 + rect.x) * 3, (y * 97 + rect.x + rect.width) * 3);
  const r = new KittyRenderer();
  const emu = new KittyEmu();
  emu.run(r.full(f1, at));
  const out = r.update(flat, [rect], at);
  t.match(out, /o=z/, 'compressed');
  t.ok(out.length < 40 * 20 * 3, `${out.length} bytes for ${40 * 20 * 3} bytes of pixels`);
  emu.run(out);
  t.equal(emu.uncompressed, 0);
  t.ok(Buffer.from(emu.images.get(r.imageId)!.data).equals(Buffer.from(flat.data)), 'image equals the new framebuffer');
  t.end();
});

t.test('partial update with codec tiles: zlib passes through byte for byte', (t) => {
  const f1 = testFrame(130, 70, 9);
  const tileRect: Rect = { x: 64, y: 0, width: 64, height: 64 };
  const f2 = withNoise(f1, tileRect, 4);
  // Level 9 on purpose: a renderer that recompressed (level 1) would produce other bytes.
  const zlib = new Uint8Array(deflateSync(cropRgb(f2, tileRect), { level: 9 }));
  const r = new KittyRenderer({ chunkSize: 1024 });
  const emu = new KittyEmu();
  emu.run(r.full(f1, at));
  const out = r.update(f2, [tileRect], at, [{ ...tileRect, zlib }]);
  const cmds = parse(out).cmds;
  t.ok(cmds.length > 1, 'edit is chunked');
  t.ok(cmds.every((c) => c.payload.length <= 1024), 'custom chunk size honoured');
  const sent = Buffer.from(cmds.map((c) => c.payload).join(''), 'base64');
  t.ok(sent.equals(Buffer.from(zlib)), 'payload is exactly the codec tile');
  emu.run(out);
  t.ok(Buffer.from(emu.images.get(r.imageId)!.data).equals(Buffer.from(f2.data)), 'image equals the new framebuffer');
  t.throws(() => r.update(f2, [], at, [{ x: 100, y: 0, width: 64, height: 64, zlib }]), RangeError, 'tile past the frame edge is refused');
  t.end();
});

t.test('copyRect: overlapping scrolls become non-overlapping compositions', (t) => {
  const f = testFrame(50, 40, 2);
  const size = { width: f.width, height: f.height };
  const cases: [Rect, number, number][] = [
    [{ x: 0, y: 7, width: 50, height: 33 }, 0, 0], // scroll up 7
    [{ x: 0, y: 0, width: 50, height: 33 }, 0, 7], // scroll down 7
    [{ x: 5, y: 5, width: 30, height: 30 }, 2, 5], // diagonal
    [{ x: 10, y: 3, width: 30, height: 20 }, 7, 3], // sideways right
    [{ x: 10, y: 3, width: 30, height: 20 }, 4, 3], // sideways left
    [{ x: 0, y: 0, width: 10, height: 10 }, 30, 25], // disjoint
    [{ x: 40, y: 30, width: 10, height: 10 }, 45, 35], // partly off the image: clipped
  ];
  for (const [src, dx, dy] of cases) {
    const r = new KittyRenderer();
    const emu = new KittyEmu();
    emu.run(r.full(f, at));
    const out = r.copyRect(size, src, dx, dy);
    wellFormed(t, out);
    emu.run(out);
    // Expected: an independent copy through a temporary buffer, clipped like the renderer.
    const want = copyFrame(f);
    const offX = dx - src.x;
    const offY = dy - src.y;
    for (let y = src.y; y < src.y + src.height; y++)
      for (let x = src.x; x < src.x + src.width; x++) {
        const tx = x + offX;
        const ty = y + offY;
        if (tx < 0 || ty < 0 || tx >= f.width || ty >= f.height || x >= f.width || y >= f.height) continue;
        want.data.set(f.data.subarray((y * f.width + x) * 3, (y * f.width + x) * 3 + 3), (ty * f.width + tx) * 3);
      }
    t.ok(Buffer.from(emu.images.get(r.imageId)!.data).equals(Buffer.from(want.data)), `copy ${JSON.stringify(src)} -> ${dx},${dy}`);
  }
  t.equal(new KittyRenderer().copyRect(size, { x: 0, y: 0, width: 5, height: 5 }, 0, 0), '', 'no move: no bytes');
  t.end();
});

t.test('clear deletes the image and its data', (t) => {
  const r = new KittyRenderer({ imageId: 9 });
  const emu = new KittyEmu();
  emu.run(r.full(testFrame(8, 8), at));
  const out = r.clear(at);
  wellFormed(t, out);
  emu.run(out);
  t.equal(emu.images.size, 0);
  t.end();
});

t.test('tmux: every graphics escape is wrapped, ESCs doubled, and unwraps to the plain output', (t) => {
  const f1 = testFrame(40, 30, 1);
  const f2 = withNoise(f1, { x: 1, y: 1, width: 5, height: 5 }, 2);
  const plain = new KittyRenderer();
  const wrapped = new KittyRenderer({ tmux: true });
  for (const [p, w] of [
    [plain.full(f1, at), wrapped.full(f1, at)],
    [plain.update(f2, [{ x: 1, y: 1, width: 5, height: 5 }], at), wrapped.update(f2, [{ x: 1, y: 1, width: 5, height: 5 }], at)],
    [plain.clear(at), wrapped.clear(at)],
  ] as const) {
    t.notOk(/\x1b_G/.test(w.replace(/\x1bPtmux;[\s\S]*?[^\x1b]\x1b\\/g, '')), 'no bare graphics escape outside passthrough');
    const unwrapped = w.replace(/\x1bPtmux;((?:\x1b\x1b|[^\x1b])*)\x1b\\/g, (_m, body: string) => body.replace(/\x1b\x1b/g, '\x1b'));
    t.equal(unwrapped, p);
  }
  t.equal(tmuxWrap('\x1b_Ga=d\x1b\\'), '\x1bPtmux;\x1b\x1b_Ga=d\x1b\x1b\\\x1b\\');
  t.end();
});

t.test('options are checked', (t) => {
  t.throws(() => new KittyRenderer({ imageId: 0 }), RangeError);
  t.throws(() => new KittyRenderer({ chunkSize: 4097 }), RangeError);
  t.throws(() => new KittyRenderer({ chunkSize: 1022 }), RangeError);
  t.throws(() => new KittyRenderer().full({ width: 4, height: 4, data: new Uint8Array(5) } as RgbFrame, at), RangeError);
  t.end();
});
