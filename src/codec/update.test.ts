import t, { type Test } from 'tap';
import { deflateRawSync, deflateSync } from 'node:zlib';
import { RsoError } from '../errors.js';
import { createFramebuffer, type BgrxFramebuffer, type RgbFramebuffer } from './framebuffer.js';
import { encodeTiles } from './encode-tiles.js';
import { CodecHistory, HISTORY_BYTES } from './history.js';
import { packRect } from './packed.js';
import { changedTiles, tileGrid } from './tiles.js';
import { desktopLike, fillBgrx, glyph, prng, randomBgrx, setPixel, toRgb } from './synthetic.js';
import { varintBytes, writeVarint } from './varint.js';
import { applyUpdate, decodeUpdate } from './decode-update.js';
import {
  FLAG_LIST_DEFLATED,
  UPDATE_VERSION,
  DEFAULT_UPDATE_LIMITS,
  encodeUpdate,
  encodeUpdates,
  splitTiles,
  type DecodedPackedTile,
  type Tile,
  type Update,
} from './update.js';

const all = (fb: BgrxFramebuffer) => Array.from({ length: tileGrid(fb.width, fb.height).count }, (_, i) => i);
const copyOf = (fb: BgrxFramebuffer): BgrxFramebuffer => ({ ...fb, data: fb.data.slice() });
// tap's deep comparison of megabyte arrays takes minutes; compare bytes natively.
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** Both ends of a session: the daemon's history and the agent's history and framebuffer. */
class Link {
  readonly tx = new CodecHistory();
  readonly rx = new CodecHistory();
  readonly agent: RgbFramebuffer = createFramebuffer('rgb', 1, 1);
  seq = 1;
  send(prev: BgrxFramebuffer | null, next: BgrxFramebuffer): { bytes: Uint8Array; update: Update } {
    const bytes = encodeUpdate({ seq: this.seq++, width: next.width, height: next.height, tiles: encodeTiles(next, changedTiles(prev, next)), reset: prev === null }, this.tx);
    const update = decodeUpdate(bytes, this.rx);
    applyUpdate(this.agent, update);
    return { bytes, update };
  }
}

t.test('encode -> decode -> apply reproduces the source exactly', async (t) => {
  for (const [name, fb] of [
    ['random 1921x1079', randomBgrx(1921, 1079, 11)],
    ['desktop-like 1921x1079', desktopLike(1921, 1079)],
    ['random 1x1', randomBgrx(1, 1, 3)],
    ['random 65x3', randomBgrx(65, 3, 4)],
  ] as const) {
    const agent = createFramebuffer('rgb', 1, 1);
    const bytes = encodeUpdate({ seq: 7, width: fb.width, height: fb.height, tiles: encodeTiles(fb, all(fb)) });
    const update = decodeUpdate(bytes, new CodecHistory(), { ...DEFAULT_UPDATE_LIMITS, maxBytes: 16 << 20 });
    t.equal(update.seq, 7);
    t.equal(update.reset, true, 'an update made without a history starts one');
    const rects = applyUpdate(agent, update);
    t.same(rects, [{ x: 0, y: 0, w: fb.width, h: fb.height }], `${name}: a new size repaints everything`);
    t.equal(agent.width, fb.width);
    t.ok(sameBytes(agent.data, toRgb(fb).data), `${name}: pixels identical`);
  }
});

t.test('every palette size and bit depth round-trips', async (t) => {
  // 2, 3..4, 5..16 colours (1, 2, 4 bits), odd widths that leave padding bits, and > 16 colours (RGB).
  for (const colors of [2, 3, 4, 5, 16, 17, 300]) {
    for (const w of [1, 3, 7, 9, 64]) {
      const fb = createFramebuffer('bgrx', w, 5);
      for (let i = 0; i < w * 5; i++) setPixel(fb, i % w, Math.floor(i / w), ((i % colors) * 0x010305) & 0xffffff);
      const tiles = encodeTiles(fb, all(fb));
      const agent = createFramebuffer('rgb', 1, 1);
      applyUpdate(agent, decodeUpdate(encodeUpdate({ seq: 1, width: w, height: 5, tiles })));
      if (!sameBytes(agent.data, toRgb(fb).data)) t.fail(`${colors} colours, width ${w}: pixels differ`);
    }
  }
  const two = createFramebuffer('bgrx', 9, 2);
  setPixel(two, 3, 1, 0xffffff);
  const [tile] = encodeTiles(two, all(two));
  t.match(tile, { encoding: 'packed', bits: 1, colors: 2 }, 'two colours: 1 bit per pixel');
  t.equal(tile!.encoding === 'packed' && tile!.body.length, 6 + 2 * 2, 'palette plus 2 bytes per 9-pixel row');
  const some = randomBgrx(8, 8, 1);
  t.match(encodeTiles(some, all(some))[0], { encoding: 'packed', bits: 8, colors: 64 }, '64 colours: 8 bits per pixel');
  const many = randomBgrx(17, 17, 1);
  t.match(encodeTiles(many, all(many))[0], { encoding: 'packed', bits: 0, colors: 0 }, 'more than 256 colours: raw RGB');
});

t.test('uniform tiles are sent as solid tiles', async (t) => {
  const fb = createFramebuffer('bgrx', 130, 64);
  fillBgrx(fb, { x: 0, y: 0, w: 130, h: 64 }, 0x336699);
  fb.data[3] = 0xff; // the unused X byte does not make a tile non-uniform
  glyph(fb, 70, 10, prng(1));
  const tiles = encodeTiles(fb, all(fb));
  t.same(tiles.map((x) => x.encoding), ['solid', 'packed', 'solid']);
  t.same(tiles[0], { encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: 0x336699 });
  t.same(tiles[2], { encoding: 'solid', x: 128, y: 0, w: 2, h: 64, color: 0x336699 });
  const agent = createFramebuffer('rgb', 130, 64);
  applyUpdate(agent, decodeUpdate(encodeUpdate({ seq: 1, width: 130, height: 64, tiles })));
  t.same(agent.data, toRgb(fb).data);
});

t.test('few colours in long runs travel as runs, and round-trip', async (t) => {
  // A title bar: a vertical gradient of 20 rows, a border, then a terminal with a line of text.
  const fb = createFramebuffer('bgrx', 64, 64);
  for (let y = 0; y < 64; y++) fillBgrx(fb, { x: 0, y, w: 64, h: 1 }, y < 20 ? 0xe0e0e0 - y * 0x010101 : y === 20 ? 0x585a5d : 0x202840);
  glyph(fb, 4, 30, prng(7));
  const words = new Uint32Array(fb.data.buffer);
  const p = packRect(words, 64, { x: 0, y: 0, w: 64, h: 64 });
  if (p.kind !== 'packed') throw new Error('expected a packed tile');
  t.equal(p.bits, 'runs', `${p.colors} colours in rows of one colour: runs`);
  t.ok(p.body.length < (p.colors * 3 + 64 * 64) / 4, `runs body ${p.body.length} bytes, a quarter of 8-bit indices at most`);
  const agent = createFramebuffer('rgb', 1, 1);
  applyUpdate(agent, decodeUpdate(encodeUpdate({ seq: 1, width: 64, height: 64, tiles: encodeTiles(fb, [0]) })));
  t.ok(sameBytes(agent.data, toRgb(fb).data), 'the gradient tile decodes exactly');

  // Run lengths around the 255 steps of the length bytes: 2, 256, 257, 511, 512, the rest.
  const long = createFramebuffer('bgrx', 64, 64);
  const colours = [0x112233, 0x445566, 0x778899];
  let at = 0;
  for (const [n, k] of [[2, 0], [256, 1], [257, 2], [1, 0], [511, 1], [512, 2], [64 * 64 - 1539, 0]] as const) {
    for (let i = 0; i < n; i++, at++) setPixel(long, at % 64, Math.floor(at / 64), colours[k]!);
  }
  const [tile] = encodeTiles(long, [0]);
  t.match(tile, { encoding: 'packed', bits: 'runs', colors: 3 });
  const back = createFramebuffer('rgb', 1, 1);
  applyUpdate(back, decodeUpdate(encodeUpdate({ seq: 1, width: 64, height: 64, tiles: [tile!] })));
  t.ok(sameBytes(back.data, toRgb(long).data), 'runs across the 255 boundaries decode exactly');

  // Two colours stay 1-bit (text: deflate finds glyphs there), and a checkerboard of 3 colours
  // (no runs) stays 2-bit.
  const text = createFramebuffer('bgrx', 64, 64);
  fillBgrx(text, { x: 0, y: 0, w: 64, h: 64 }, 0xffffff);
  fillBgrx(text, { x: 0, y: 0, w: 64, h: 2 }, 0);
  t.match(encodeTiles(text, [0])[0], { bits: 1, colors: 2 }, 'two colours with long runs: 1 bit');
  const checker = createFramebuffer('bgrx', 8, 8);
  for (let i = 0; i < 64; i++) setPixel(checker, i % 8, i >> 3, colours[i % 3]!);
  t.match(encodeTiles(checker, [0])[0], { bits: 2, colors: 3 }, 'no runs: indices');
});

t.test('incremental updates keep the agent in step, compressing against the history', async (t) => {
  let screen = desktopLike(1000, 700, 3);
  const link = new Link();
  t.equal(link.send(null, screen).update.reset, true);
  const next = prng(5);
  for (let i = 0; i < 6; i++) {
    const prev = copyOf(screen);
    screen = copyOf(screen);
    for (let k = 0; k < 5; k++) glyph(screen, next() % 990, next() % 680, next);
    const { bytes, update } = link.send(prev, screen);
    t.equal(update.reset, false, 'later updates continue the history');
    t.ok(bytes.length < 40_000, `update ${update.seq} is ${bytes.length} bytes`);
    t.ok(sameBytes(link.agent.data, toRgb(screen).data), `frame ${update.seq} identical`);
  }
});

t.test('the same glyph sent again costs a few bytes', async (t) => {
  // As the daemon sends a keystroke: only the rectangle that changed (frame-pipeline's changedPart).
  const base = createFramebuffer('bgrx', 640, 480);
  fillBgrx(base, { x: 0, y: 0, w: 640, h: 480 }, 0x202840);
  const shape = createFramebuffer('bgrx', 6, 13);
  glyph(shape, 0, 0, prng(3), 6, 13);
  const typed = (prev: BgrxFramebuffer, x: number): BgrxFramebuffer => {
    const next = copyOf(prev);
    for (let y = 0; y < 13; y++) for (let gx = 0; gx < 6; gx++) setPixel(next, x + gx, 100 + y, shape.data[(y * 6 + gx) * 4 + 2]! === 0xdd ? 0xe0e0e0 : 0x202840);
    return next;
  };
  const words = (fb: BgrxFramebuffer) => new Uint32Array(fb.data.buffer, fb.data.byteOffset, fb.data.length >>> 2);
  const cell = (fb: BgrxFramebuffer, x: number): Tile => {
    const r = { x, y: 100, w: 6, h: 13 };
    const p = packRect(words(fb), fb.width, r);
    if (p.kind !== 'packed') throw new Error('expected a packed glyph');
    return { encoding: 'packed', ...r, bits: p.bits, colors: p.colors, body: p.body };
  };
  const tx = new CodecHistory();
  const rx = new CodecHistory();
  const agent = createFramebuffer('rgb', 1, 1);
  const send = (seq: number, tiles: Tile[]): number => {
    const bytes = encodeUpdate({ seq, width: 640, height: 480, tiles }, tx);
    applyUpdate(agent, decodeUpdate(bytes, rx));
    return bytes.length;
  };
  send(1, encodeTiles(base, all(base)));
  const one = typed(base, 12);
  const first = send(2, [cell(one, 12)]);
  const two = typed(one, 18);
  const again = send(3, [cell(two, 18)]);
  const alone = encodeUpdate({ seq: 3, width: 640, height: 480, tiles: [cell(two, 18)] }).length;
  t.ok(sameBytes(agent.data, toRgb(two).data), 'pixels identical');
  t.ok(again < first && again < alone, `with the history ${again} bytes, the first time ${first}, without a history ${alone}`);
  t.ok(again <= 20, `a repeated glyph is ${again} bytes`);
});

t.test('a typing-like change encodes to a small update', async (t) => {
  const prev = desktopLike(1920, 1080);
  const next = copyOf(prev);
  const rnd = prng(42);
  for (let c = 0; c < 4; c++) glyph(next, 200 + c * 8, 300, rnd);
  const tiles = encodeTiles(next, changedTiles(prev, next));
  const bytes = encodeUpdate({ seq: 9, width: 1920, height: 1080, tiles });
  t.ok(bytes.length < 1024, `4 glyphs -> ${tiles.length} tile(s), ${bytes.length} bytes`);
});

t.test('copy tiles read the frame as it was before the update', async (t) => {
  const screen = randomBgrx(64, 64, 8);
  const link = new Link();
  link.send(null, screen);
  const agent = link.agent;
  const before = agent.data.slice();
  // Scroll up by 16 rows (source and destination overlap) and repaint the bottom strip solid.
  const input = {
    seq: link.seq,
    width: 64,
    height: 64,
    tiles: [
      { encoding: 'copy', x: 0, y: 0, w: 64, h: 48, srcX: 0, srcY: 16 },
      { encoding: 'solid', x: 0, y: 48, w: 64, h: 16, color: 0x010203 },
      // Reads rows 0..15 as they were, even though the first copy overwrote them.
      { encoding: 'copy', x: 0, y: 32, w: 64, h: 1, srcX: 0, srcY: 0 },
    ] as Tile[],
  };
  const rects = applyUpdate(agent, decodeUpdate(encodeUpdate(input, link.tx), link.rx));
  t.equal(rects.length, 3);
  const row = (data: Uint8Array, y: number) => Array.from(data.subarray(y * 192, y * 192 + 192));
  t.same(row(agent.data, 0), row(before, 16));
  t.same(row(agent.data, 31), row(before, 47));
  t.same(row(agent.data, 32), row(before, 0), 'copy read the pre-update pixels');
  t.same(row(agent.data, 47), row(before, 63));
  t.same(Array.from(agent.data.subarray(48 * 192, 48 * 192 + 3)), [1, 2, 3]);
});

t.test('a copy tile with a frame size change is refused', async (t) => {
  const agent = createFramebuffer('rgb', 10, 10);
  const update = decodeUpdate(encodeUpdate({ seq: 1, width: 20, height: 20, tiles: [{ encoding: 'copy', x: 0, y: 0, w: 5, h: 5, srcX: 1, srcY: 1 }] }));
  t.throws(() => applyUpdate(agent, update), { code: 'RSO_ERR_PROTOCOL' });
  t.equal(agent.width, 10, 'the framebuffer was left alone');
});

t.test('encodeUpdates splits a large change under the record size and keeps the history in step', async (t) => {
  const fb = randomBgrx(640, 480, 12);
  const tx = new CodecHistory();
  const rx = new CodecHistory();
  const updates = encodeUpdates({ seq: 5, width: 640, height: 480, tiles: encodeTiles(fb, all(fb)), reset: true }, tx, 100_000);
  t.ok(updates.length > 1, `${updates.length} updates`);
  const agent = createFramebuffer('rgb', 1, 1);
  updates.forEach((bytes, i) => {
    t.ok(bytes.length <= 100_000);
    const u = decodeUpdate(bytes, rx);
    t.equal(u.seq, 5 + i);
    t.equal(u.reset, i === 0, 'only the first resets');
    applyUpdate(agent, u);
  });
  t.ok(sameBytes(agent.data, toRgb(fb).data), 'pixels identical');
  t.equal(tx.seq, 4 + updates.length);
  t.ok(sameBytes(tx.dictionary, rx.dictionary), 'both histories hold the same bytes');
});

t.test('splitTiles groups by an upper bound, each group decoding on its own', async (t) => {
  const fb = randomBgrx(640, 480, 12);
  const groups = splitTiles(encodeTiles(fb, all(fb)), 100_000);
  t.ok(groups.length > 1, `${groups.length} groups`);
  const agent = createFramebuffer('rgb', 1, 1);
  groups.forEach((g, i) => {
    const bytes = encodeUpdate({ seq: i, width: 640, height: 480, tiles: g });
    t.ok(bytes.length <= 100_000);
    applyUpdate(agent, decodeUpdate(bytes));
  });
  t.ok(sameBytes(agent.data, toRgb(fb).data), 'pixels identical');
});

t.test('the history keeps exactly the last 32 KiB of bodies', async (t) => {
  const h = new CodecHistory();
  const bytes = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
  h.absorb(1, 10, 10, bytes(100, 0));
  t.same(Array.from(h.dictionary), Array.from(bytes(100, 0)));
  h.absorb(2, 10, 10, bytes(HISTORY_BYTES - 50, 100));
  t.equal(h.dictionary.length, HISTORY_BYTES);
  t.same(Array.from(h.dictionary.subarray(0, 50)), Array.from(bytes(50, 50)), 'the oldest bytes fell off');
  h.absorb(3, 10, 10, bytes(HISTORY_BYTES + 7, 9));
  t.same(Array.from(h.dictionary.subarray(0, 3)), [16, 17, 18]);
  h.reset();
  t.equal(h.dictionary.length, 0);
  t.equal(h.seq, null);
});

t.test('the encoder refuses what the decoder would refuse', async (t) => {
  const solid = (over: Partial<Tile>): Tile => ({ encoding: 'solid', x: 0, y: 0, w: 1, h: 1, color: 0, ...over }) as Tile;
  const packed = (over: Partial<Tile>): Tile => ({ encoding: 'packed', x: 0, y: 0, w: 2, h: 1, bits: 1, colors: 2, body: new Uint8Array(7), ...over }) as Tile;
  for (const [name, input] of [
    ['tile outside', { seq: 1, width: 10, height: 10, tiles: [solid({ x: 10 })] }],
    ['empty tile', { seq: 1, width: 10, height: 10, tiles: [solid({ w: 0 })] }],
    ['seq too big', { seq: 2 ** 32, width: 10, height: 10, tiles: [] }],
    ['frame too big', { seq: 1, width: 70000, height: 10, tiles: [] }],
    ['bad colour', { seq: 1, width: 10, height: 10, tiles: [solid({ color: 0x1000000 })] }],
    ['one-colour palette', { seq: 1, width: 10, height: 10, tiles: [packed({ colors: 1, body: new Uint8Array(4) })] }],
    ['3 bits per pixel', { seq: 1, width: 10, height: 10, tiles: [packed({ bits: 3 } as Partial<Tile>)] }],
    ['palette larger than the bits', { seq: 1, width: 10, height: 10, tiles: [packed({ colors: 3, body: new Uint8Array(10) })] }],
    ['body of the wrong length', { seq: 1, width: 10, height: 10, tiles: [packed({ body: new Uint8Array(8) })] }],
    ['runs of 129 colours', { seq: 1, width: 10, height: 10, tiles: [packed({ bits: 'runs', w: 10, h: 10, colors: 129, body: new Uint8Array(129 * 3 + 1) })] }],
    ['runs body shorter than its palette and one run', { seq: 1, width: 10, height: 10, tiles: [packed({ bits: 'runs', colors: 2, body: new Uint8Array(6) })] }],
    ['runs body longer than a byte per pixel', { seq: 1, width: 10, height: 10, tiles: [packed({ bits: 'runs', colors: 2, body: new Uint8Array(9) })] }],
    ['continuing without a history', { seq: 1, width: 10, height: 10, tiles: [], reset: false }],
  ] as const) {
    t.throws(() => encodeUpdate(input), { code: 'RSO_ERR_INTERNAL' }, name);
  }
  const h = new CodecHistory();
  encodeUpdate({ seq: 4, width: 10, height: 10, tiles: [] }, h);
  t.throws(() => encodeUpdate({ seq: 6, width: 10, height: 10, tiles: [], reset: false }, h), { code: 'RSO_ERR_INTERNAL' }, 'a seq that skips one');
  t.throws(() => encodeUpdate({ seq: 5, width: 11, height: 10, tiles: [], reset: false }, h), { code: 'RSO_ERR_INTERNAL' }, 'a new size without reset');
  t.equal(h.seq, 4, 'a refused update leaves the history alone');
});

// ---- hostile input ----

function sample(): { tiles: Tile[] } {
  const fb = randomBgrx(100, 70, 21);
  fillBgrx(fb, { x: 0, y: 0, w: 64, h: 64 }, 0xabcdef);
  fillBgrx(fb, { x: 64, y: 0, w: 36, h: 64 }, 0x101010);
  glyph(fb, 70, 10, prng(2));
  return { tiles: [...encodeTiles(fb, all(fb)), { encoding: 'copy', x: 1, y: 2, w: 3, h: 4, srcX: 5, srcY: 6 }] };
}

/** A reset update with solid, 2-bit, RGB, 8-bit and copy tiles (made once; callers get a copy). */
const VALID = encodeUpdate({ seq: 3, width: 100, height: 70, tiles: sample().tiles });
function valid(): Uint8Array {
  return VALID.slice();
}

/** A history that has absorbed valid() (seq 3), and an update continuing it (seq 4). */
function continuing(): { history: () => CodecHistory; bytes: Uint8Array } {
  const tx = new CodecHistory();
  encodeUpdate({ seq: 3, width: 100, height: 70, tiles: sample().tiles }, tx);
  const bytes = encodeUpdate({ seq: 4, width: 100, height: 70, tiles: sample().tiles }, tx);
  const history = () => {
    const h = new CodecHistory();
    decodeUpdate(valid(), h);
    return h;
  };
  return { history, bytes };
}

const v = (n: number): number[] => {
  const b = new Uint8Array(varintBytes(n));
  writeVarint(b, 0, n);
  return Array.from(b);
};
/** A reset header: magic, version, flags, seq, width, height, count. */
const header = (count: number, width = 100, height = 70, flags = 1): number[] => [0x55, UPDATE_VERSION, flags, ...v(1), ...v(width), ...v(height), ...v(count)];
/** A tile entry; positions are relative to the previous tile (x to its x, y to its bottom edge): `prev` is that tile, none for the first. */
const zz = (n: number) => (n >= 0 ? 2 * n : -2 * n - 1);
const tileHead = (kind: number, x: number, y: number, w: number, h: number, prev = { x: 0, y: 0, h: 0 }): number[] => [kind, ...v(zz(x - prev.x)), ...v(zz(y - prev.y - prev.h)), ...v(w), ...v(h)];
const zlibTile = (x: number, y: number, w: number, h: number, payload: Uint8Array) => [...tileHead(1, x, y, w, h), ...v(payload.length), ...payload];
/** One packed tile: kind 3 raw, 4..7 = 1, 2, 4, 8 bits; `colors` (written as colors - 1) for palettes; then the blob. */
const packedUpdate = (kind: number, w: number, h: number, colors: number, body: Uint8Array | number[], blob?: Uint8Array) => [
  ...header(1),
  ...tileHead(kind, 0, 0, w, h),
  ...(kind === 3 ? [] : [colors - 1]),
  ...(blob ?? deflateRawSync(Uint8Array.from(body))),
];

function rejects(t: Test, bytes: Uint8Array | number[], name: string, limits = DEFAULT_UPDATE_LIMITS, history = new CodecHistory()): void {
  const input = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  try {
    decodeUpdate(input, history, limits);
    t.fail(`${name}: accepted`);
  } catch (err) {
    t.ok(err instanceof RsoError && err.code === 'RSO_ERR_PROTOCOL', `${name}: ${(err as RsoError).detail ?? err}`);
  }
}

t.test('the valid samples decode (so the rejections below are about the damage)', async (t) => {
  t.same(decodeUpdate(valid()).tiles.map((x) => x.encoding), ['solid', 'packed', 'packed', 'packed', 'copy']);
  t.same(decodeUpdate(valid()).tiles.map((x) => (x.encoding === 'packed' ? x.bits : -1)), [-1, 'runs', 0, 8, -1], '3 colours as runs, RGB, 216 colours at 8 bits');
  const c = continuing();
  const u = decodeUpdate(c.bytes, c.history());
  t.equal(u.seq, 4);
  t.equal(u.reset, false);
  t.equal(decodeUpdate(Uint8Array.from(packedUpdate(4, 9, 2, 2, [1, 2, 3, 4, 5, 6, 0xff, 0x80, 0x7f, 0x00]))).tiles.length, 1, 'hand-made packed sample');
});

t.test('every truncation is refused', async (t) => {
  for (const [name, bytes, history] of [
    ['reset', valid(), () => new CodecHistory()],
    ['continuing', continuing().bytes, continuing().history],
  ] as const) {
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        decodeUpdate(bytes.subarray(0, n), history());
      } catch (err) {
        if (err instanceof RsoError && err.code === 'RSO_ERR_PROTOCOL') refused++;
      }
    }
    t.equal(refused, bytes.length, name);
  }
});

t.test('broken headers, counts and geometry are refused', async (t) => {
  const good = valid();
  const patched = (at: number, ...values: number[]) => {
    const b = good.slice();
    values.forEach((v, i) => (b[at + i] = v));
    return b;
  };
  rejects(t, patched(0, 0x56), 'bad magic');
  for (const [v, name] of [[UPDATE_VERSION - 1, 'an older format'], [UPDATE_VERSION + 1, 'a newer format']] as const) {
    t.throws(() => decodeUpdate(patched(1, v)), { code: 'RSO_ERR_VERSION', message: new RegExp(`format ${v}; this one reads format ${UPDATE_VERSION}\\. Update rso`) }, name);
  }
  rejects(t, patched(2, 1 | 4), 'unknown flag 4');
  rejects(t, patched(2, 1 | 0x80), 'unknown flag 0x80');
  rejects(t, [0x55, UPDATE_VERSION, 1, 0x81, 0x00, ...v(100), ...v(70), 0], 'seq varint not in its shortest form');
  rejects(t, [0x55, UPDATE_VERSION, 1, 0xff, 0xff, 0xff, 0xff, 0x7f, ...v(100), ...v(70), 0], 'seq above 2^32-1');
  rejects(t, [0x55, UPDATE_VERSION, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, ...v(100), ...v(70), 0], 'varint longer than 5 bytes');
  rejects(t, header(0, 0, 70), 'zero width');
  rejects(t, header(0, 9000, 10), 'frame wider than maxWidth');
  rejects(t, header(0xffff), 'huge tile count');
  rejects(t, [...header(2), ...tileHead(0, 0, 0, 1, 1), 0, 0, 0], 'fewer tiles present than counted');
  rejects(t, Uint8Array.from([...good.subarray(0, 3), ...v(3), ...v(100), ...v(70), 2, ...good.subarray(3 + 4)]), 'more tiles present than counted');
  rejects(t, Uint8Array.from([...header(1), ...tileHead(0, 0, 0, 1, 1), 0, 0, 0, 0]), 'one trailing byte');
  rejects(t, [...header(1), ...tileHead(9, 0, 0, 1, 1), 0, 0, 0], 'unknown encoding 9');
  rejects(t, [...header(1), ...tileHead(0xff, 0, 0, 1, 1), 0, 0, 0], 'unknown encoding 255');
  rejects(t, [...header(1), ...tileHead(0, 0, 0, 0, 1), 0, 0, 0], 'zero-width tile');
  rejects(t, [...header(1), ...tileHead(0, 99, 0, 2, 1), 0, 0, 0], 'tile past the right edge');
  rejects(t, [...header(1), ...tileHead(0, 0, 65535, 1, 1), 0, 0, 0], 'tile far below');
  rejects(t, [...header(1), ...tileHead(0, 0, 70000, 1, 1), 0, 0, 0], 'tile field above 65535');
  rejects(t, [...header(1), ...tileHead(2, 0, 0, 10, 10), ...v(95), ...v(0)], 'copy source outside');
  const whole = { x: 0, y: 0, h: 70 };
  rejects(t, [...header(3), ...tileHead(0, 0, 0, 100, 70), 0, 0, 0, ...[1, 2].flatMap(() => [...tileHead(0, 0, 0, 100, 70, whole), 0, 0, 0])], 'tiles cover 3x the frame');
  t.equal(decodeUpdate(Uint8Array.from([...header(2), ...tileHead(0, 0, 0, 100, 70), 0, 0, 0, ...tileHead(0, 0, 0, 100, 70, whole), 0, 0, 0])).tiles[1]!.y, 0, 'a relative position: back up to the top');
  rejects(t, [...header(2), ...tileHead(0, 5, 0, 1, 1), 0, 0, 0, 0, ...v(zz(-6)), ...v(0), 1, 1, 0, 0, 0], 'a relative position below 0');
  rejects(t, [...header(1), ...tileHead(1, 0, 0, 1, 1), ...v(0)], 'empty zlib payload');
  rejects(t, [...header(1), ...tileHead(1, 0, 0, 1, 1), ...v(0xffffff), 1, 2, 3], 'zlib length past the end');
  rejects(t, valid(), 'over maxBytes', { ...DEFAULT_UPDATE_LIMITS, maxBytes: 100 });
});

t.test('packed tiles with bad bodies, palettes or blobs are refused', async (t) => {
  // A 9x2 tile of 2 colours at 1 bit: 6 palette bytes + 2 rows of 2 bytes.
  const body = [1, 2, 3, 4, 5, 6, 0xff, 0x80, 0x7f, 0x00];
  t.doesNotThrow(() => decodeUpdate(Uint8Array.from(packedUpdate(4, 9, 2, 2, body))), 'the body below is valid as it is');
  rejects(t, packedUpdate(4, 9, 2, 2, body.slice(0, -1)), 'inflates one byte short');
  rejects(t, packedUpdate(4, 9, 2, 2, [...body, 0]), 'inflates one byte long');
  rejects(t, packedUpdate(4, 9, 2, 2, [1, 2, 3, 4, 5, 6, 0xff, 0xc0, 0x7f, 0x00]), 'padding bits set');
  rejects(t, packedUpdate(5, 3, 1, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 0b00011100]), 'palette index 3 of 3 colours');
  rejects(t, packedUpdate(7, 2, 1, 2, [1, 2, 3, 4, 5, 6, 1, 2]), 'palette index 2 of 2 colours at 8 bits');
  rejects(t, packedUpdate(4, 9, 2, 3, [...body, 0, 0, 0]), '3 colours at 1 bit');
  rejects(t, packedUpdate(6, 2, 1, 17, new Array(17 * 3 + 1).fill(0)), '17 colours at 4 bits');
  rejects(t, packedUpdate(4, 2, 1, 1, [1, 2, 3, 0]), 'a one-colour palette');
  rejects(t, packedUpdate(6, 1, 2, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 0x00, 0x10]), 'a palette of 3 colours for a 1x2 tile');
  t.doesNotThrow(() => decodeUpdate(Uint8Array.from(packedUpdate(6, 1, 2, 2, [1, 2, 3, 4, 5, 6, 0x00, 0x10]))), 'the same tile with 2 colours is fine');
  rejects(t, [...header(1), ...tileHead(4, 0, 0, 9, 2)], 'palette size missing');
  rejects(t, [...header(1), ...tileHead(4, 0, 0, 9, 2), 1], 'packed tile without a blob');
  const blob = deflateRawSync(Uint8Array.from(body));
  rejects(t, packedUpdate(4, 9, 2, 2, body, blob.subarray(0, blob.length - 1)), 'truncated blob');
  rejects(t, packedUpdate(4, 9, 2, 2, body, Uint8Array.from([...blob, 0])), 'a byte after the end of the deflate stream');
  rejects(t, packedUpdate(4, 9, 2, 2, body, Uint8Array.from([1, 2, 3, 4, 5, 6])), 'not deflate at all');
  rejects(t, packedUpdate(4, 9, 2, 2, body, deflateSync(Uint8Array.from(body))), 'a zlib (not raw) stream');
  rejects(t, packedUpdate(3, 2, 2, 0, new Array(11).fill(9)), 'raw RGB one byte short');
  rejects(t, [...header(2), ...tileHead(4, 0, 0, 9, 2), 1, ...tileHead(4, 0, 2, 9, 2), 1, ...deflateRawSync(Uint8Array.from([...body, ...body.slice(0, -1)]))], 'two tiles, blob one byte short');

  const bomb = deflateRawSync(new Uint8Array(64 << 20), { level: 9 });
  t.ok(bomb.length < 100_000, `a 64 MiB bomb is ${bomb.length} bytes`);
  const started = Date.now();
  rejects(t, packedUpdate(3, 64, 64, 0, [], bomb), 'deflate bomb');
  t.ok(Date.now() - started < 2000, 'the bomb was stopped early');
});

/** One runs tile (kind 8): colours - 1, the body length (default: the body's), then the blob. */
const runsUpdate = (w: number, h: number, colors: number, body: number[], n = body.length) => [
  ...header(1),
  ...tileHead(8, 0, 0, w, h),
  colors - 1,
  ...v(n),
  ...deflateRawSync(Uint8Array.from(body)),
];

t.test('runs tiles with bad runs, palettes or lengths are refused', async (t) => {
  // A 10x30 tile of 3 colours: 2 pixels of colour 0, 1 of colour 1, a run of 297 of colour 2
  // (2 + 255 + 40: the length bytes 255, 40).
  const pal = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const body = [...pal, 0x80, 0, 1, 0x82, 255, 40];
  const u = decodeUpdate(Uint8Array.from(runsUpdate(10, 30, 3, body)));
  const px = (u.tiles[0] as DecodedPackedTile).pixels;
  t.same([...px.subarray(0, 9), ...px.subarray(px.length - 3)], [1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'the body below is valid as it is');
  rejects(t, runsUpdate(10, 30, 3, [...pal, 0x80, 0, 1, 0x82, 255, 41]), 'runs past the tile');
  rejects(t, runsUpdate(10, 30, 3, [...pal, 0x80, 0, 1, 0x82, 255, 39]), 'runs one pixel short of the tile');
  rejects(t, runsUpdate(10, 30, 3, [...pal, 0x80, 0, 1, 0x82, 255]), 'the body ends inside a run length');
  rejects(t, runsUpdate(10, 30, 3, [...pal, 0x80, 0, 3, 0x82, 255, 39]), 'palette index 3 of 3 colours');
  rejects(t, runsUpdate(10, 30, 3, [...pal, 0x80, 0, 1, 0x83, 255, 40]), 'a run of palette index 3 of 3 colours');
  rejects(t, runsUpdate(2, 1, 3, [...pal, 0x80, 0]), 'a palette of 3 colours for 2 pixels');
  rejects(t, runsUpdate(2, 1, 1, [1, 2, 3, 0x80, 0]), 'a one-colour palette');
  rejects(t, runsUpdate(20, 20, 129, [...new Array(129 * 3).fill(0), 0x80, 255, 143]), '129 colours');
  rejects(t, runsUpdate(10, 30, 3, body, 9), 'a body length of only the palette');
  rejects(t, runsUpdate(10, 30, 3, body, 9 + 301), 'a body length above a byte per pixel');
  rejects(t, runsUpdate(10, 30, 3, body, body.length + 1), 'a body length one above what the blob holds');
  // A run length made of 255s only: refused once it passes the tile, not after 2^32 of them.
  const started = Date.now();
  rejects(t, runsUpdate(64, 64, 3, [...pal, 0x80, ...new Array(4000).fill(255)]), 'a run length that never ends');
  t.ok(Date.now() - started < 1000, 'refused early');
});

t.test('an update that does not continue the history this side has is refused, and changes nothing', async (t) => {
  const c = continuing();
  rejects(t, c.bytes, 'continuing update on a fresh history (missing reset)');
  const h = c.history();
  rejects(t, c.bytes.slice().fill(5, 3, 4), 'wrong seq byte (an update was lost)', DEFAULT_UPDATE_LIMITS, h);
  t.equal(h.seq, 3, 'the refused update left the history alone');
  t.equal(decodeUpdate(c.bytes, h).seq, 4, 'the right one still decodes');
  rejects(t, c.bytes, 'the same update again (seq byte no longer follows)', DEFAULT_UPDATE_LIMITS, h);

  // A history that differs (the agent missed an update with bodies) cannot inflate the blob right.
  const tx = new CodecHistory();
  const fb = desktopLike(200, 100, 3);
  const tiles = encodeTiles(fb, all(fb));
  encodeUpdate({ seq: 1, width: 200, height: 100, tiles }, tx);
  const next = encodeUpdate({ seq: 2, width: 200, height: 100, tiles, reset: false }, tx);
  const other = new CodecHistory();
  other.absorb(1, 200, 100, new Uint8Array(5000).fill(7));
  rejects(t, next, 'same seq but another dictionary', DEFAULT_UPDATE_LIMITS, other);
  const w = new CodecHistory();
  w.absorb(1, 300, 100, new Uint8Array(0));
  t.throws(() => decodeUpdate(next, w), { code: 'RSO_ERR_PROTOCOL' }, 'decodes against the history size, so the geometry check applies');
});

t.test('random garbage never crashes or hangs the decoder', async (t) => {
  const rnd = prng(99);
  const good = valid();
  const c = continuing();
  let other = 0;
  for (let i = 0; i < 3000; i++) {
    let b: Uint8Array;
    const continued = i % 3 === 0;
    if (i % 2) {
      b = new Uint8Array(rnd() % 200);
      for (let k = 0; k < b.length; k++) b[k] = rnd();
      if (i % 4 === 1 && b.length >= 3) [b[0], b[1], b[2]] = [0x55, UPDATE_VERSION, rnd() & 1];
    } else {
      b = (continued ? c.bytes : good).slice();
      for (let k = 0; k < 1 + (rnd() % 4); k++) b[rnd() % b.length] = rnd();
    }
    try {
      decodeUpdate(b, continued ? c.history() : new CodecHistory());
    } catch (err) {
      // A damaged version byte is read as another release's format.
      const version = err instanceof RsoError && err.code === 'RSO_ERR_VERSION' && b[0] === 0x55 && b[1] !== UPDATE_VERSION;
      if (!(err instanceof RsoError && (err.code === 'RSO_ERR_PROTOCOL' || version))) other++;
    }
  }
  t.equal(other, 0, 'only RSO_ERR_PROTOCOL errors (RSO_ERR_VERSION for a damaged version byte)');
});

t.test('a long tile list travels deflated; broken deflated lists are refused', async (t) => {
  const fb = desktopLike(320, 192, 4);
  const bytes = encodeUpdate({ seq: 1, width: 320, height: 192, tiles: encodeTiles(fb, all(fb)) });
  t.equal(bytes[2]! & FLAG_LIST_DEFLATED, FLAG_LIST_DEFLATED, '15 tiles: the list is deflated');
  const agent = createFramebuffer('rgb', 1, 1);
  applyUpdate(agent, decodeUpdate(bytes));
  t.ok(sameBytes(agent.data, toRgb(fb).data), 'pixels identical');
  const small = encodeUpdate({ seq: 1, width: 320, height: 192, tiles: [{ encoding: 'solid', x: 0, y: 0, w: 1, h: 1, color: 5 }] });
  t.equal(small[2]! & FLAG_LIST_DEFLATED, 0, 'one tile: the list is in the clear');

  let refused = 0;
  const step = Math.max(1, Math.floor(bytes.length / 500));
  for (let n = 0; n < bytes.length; n += step) {
    try {
      decodeUpdate(bytes.subarray(0, n));
    } catch (err) {
      if (err instanceof RsoError && err.code === 'RSO_ERR_PROTOCOL') refused++;
    }
  }
  t.equal(refused, Math.ceil(bytes.length / step), 'truncations refused');

  const list = (count: number, entries: number[], flags = 1 | FLAG_LIST_DEFLATED, after: number[] = []) => {
    const z = Array.from(deflateRawSync(Uint8Array.from(entries)));
    return [0x55, UPDATE_VERSION, flags, ...v(1), ...v(100), ...v(70), ...v(count), ...v(z.length), ...z, ...after];
  };
  const solid = [...tileHead(0, 0, 0, 1, 1), 1, 2, 3];
  t.equal(decodeUpdate(Uint8Array.from(list(2, [...solid, ...solid]))).tiles.length, 2, 'a hand-made deflated list decodes');
  rejects(t, list(2, [...solid, ...solid, 0]), 'a byte after the last tile of the list');
  rejects(t, list(3, [...solid, ...solid]), 'fewer tiles in the list than counted');
  rejects(t, list(1, [...solid, ...new Array(40).fill(0)]), 'a list larger than its count allows (stopped by maxOutputLength)');
  rejects(t, list(1, [...tileHead(1, 0, 0, 1, 1), ...v(3), 1, 2, 3]), 'a zlib tile inside a deflated list');
  rejects(t, list(1, solid, 1 | FLAG_LIST_DEFLATED, [9]), 'a byte after the list with no packed tile');
  rejects(t, [0x55, UPDATE_VERSION, 1 | FLAG_LIST_DEFLATED, ...v(1), ...v(100), ...v(70), ...v(1), ...v(50), 1, 2, 3], 'list length past the end');
  rejects(t, [0x55, UPDATE_VERSION, 1 | FLAG_LIST_DEFLATED, ...v(1), ...v(100), ...v(70), ...v(1), ...v(3), 1, 2, 3], 'a list that is not deflate');
});
