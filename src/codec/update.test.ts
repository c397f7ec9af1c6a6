import t, { type Test } from 'tap';
import { deflateSync } from 'node:zlib';
import { RsoError } from '../errors.js';
import { createFramebuffer, type BgrxFramebuffer, type RgbFramebuffer } from './framebuffer.js';
import { encodeTiles } from './encode-tiles.js';
import { changedTiles, tileGrid } from './tiles.js';
import { desktopLike, fillBgrx, glyph, prng, randomBgrx, toRgb } from './synthetic.js';
import {
  applyUpdate,
  decodeUpdate,
  DEFAULT_UPDATE_LIMITS,
  encodeUpdate,
  splitTiles,
  type Tile,
  type Update,
} from './update.js';

const all = (fb: BgrxFramebuffer) => Array.from({ length: tileGrid(fb.width, fb.height).count }, (_, i) => i);
const copyOf = (fb: BgrxFramebuffer): BgrxFramebuffer => ({ ...fb, data: fb.data.slice() });
// tap's deep comparison of megabyte arrays takes minutes; compare bytes natively.
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

function send(prev: BgrxFramebuffer | null, next: BgrxFramebuffer, agent: RgbFramebuffer, seq = 1): Uint8Array {
  const bytes = encodeUpdate({ seq, width: next.width, height: next.height, tiles: encodeTiles(next, changedTiles(prev, next)) });
  applyUpdate(agent, decodeUpdate(bytes));
  return bytes;
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
    const update = decodeUpdate(bytes, { ...DEFAULT_UPDATE_LIMITS, maxBytes: 16 << 20 });
    t.equal(update.seq, 7);
    const rects = applyUpdate(agent, update);
    t.same(rects, [{ x: 0, y: 0, w: fb.width, h: fb.height }], `${name}: a new size repaints everything`);
    t.equal(agent.width, fb.width);
    t.ok(sameBytes(agent.data, toRgb(fb).data), `${name}: pixels identical`);
  }
});

t.test('uniform tiles are sent as 3-byte solid tiles', async (t) => {
  const fb = createFramebuffer('bgrx', 130, 64);
  fillBgrx(fb, { x: 0, y: 0, w: 130, h: 64 }, 0x336699);
  fb.data[3] = 0xff; // the unused X byte does not make a tile non-uniform
  glyph(fb, 70, 10, prng(1));
  const tiles = encodeTiles(fb, all(fb));
  t.same(tiles.map((x) => x.encoding), ['solid', 'zlib', 'solid']);
  t.same(tiles[0], { encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: 0x336699 });
  t.same(tiles[2], { encoding: 'solid', x: 128, y: 0, w: 2, h: 64, color: 0x336699 });
  const agent = createFramebuffer('rgb', 130, 64);
  applyUpdate(agent, decodeUpdate(encodeUpdate({ seq: 1, width: 130, height: 64, tiles })));
  t.same(agent.data, toRgb(fb).data);
});

t.test('incremental updates keep the agent in step', async (t) => {
  let screen = desktopLike(1000, 700, 3);
  const agent = createFramebuffer('rgb', 1, 1);
  send(null, screen, agent);
  const next = prng(5);
  for (let seq = 2; seq < 8; seq++) {
    const prev = copyOf(screen);
    screen = copyOf(screen);
    for (let k = 0; k < 5; k++) glyph(screen, next() % 990, next() % 680, next);
    const bytes = send(prev, screen, agent, seq);
    t.ok(bytes.length < 40_000, `update ${seq} is ${bytes.length} bytes`);
    t.ok(sameBytes(agent.data, toRgb(screen).data), `frame ${seq} identical`);
  }
});

t.test('a typing-like change encodes to a small update', async (t) => {
  const prev = desktopLike(1920, 1080);
  const next = copyOf(prev);
  const rnd = prng(42);
  for (let c = 0; c < 4; c++) glyph(next, 200 + c * 8, 300, rnd);
  const tiles = encodeTiles(next, changedTiles(prev, next));
  const bytes = encodeUpdate({ seq: 9, width: 1920, height: 1080, tiles });
  t.ok(bytes.length < 4096, `4 glyphs -> ${tiles.length} tile(s), ${bytes.length} bytes`);
});

t.test('copy tiles read the frame as it was before the update', async (t) => {
  const screen = randomBgrx(64, 64, 8);
  const agent = createFramebuffer('rgb', 1, 1);
  send(null, screen, agent);
  const before = agent.data.slice();
  // Scroll up by 16 rows (source and destination overlap) and repaint the bottom strip solid.
  const update: Update = {
    seq: 2,
    width: 64,
    height: 64,
    tiles: [
      { encoding: 'copy', x: 0, y: 0, w: 64, h: 48, srcX: 0, srcY: 16 },
      { encoding: 'solid', x: 0, y: 48, w: 64, h: 16, color: 0x010203 },
      // Reads rows 0..15 as they were, even though the first copy overwrote them.
      { encoding: 'copy', x: 0, y: 32, w: 64, h: 1, srcX: 0, srcY: 0 },
    ],
  };
  const rects = applyUpdate(agent, decodeUpdate(encodeUpdate(update)));
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

t.test('splitTiles packs a large change under the record size', async (t) => {
  const fb = randomBgrx(640, 480, 12);
  const tiles = encodeTiles(fb, all(fb));
  const groups = splitTiles(tiles, 100_000);
  t.ok(groups.length > 1, `${groups.length} groups`);
  t.equal(groups.flat().length, tiles.length);
  const agent = createFramebuffer('rgb', 1, 1);
  groups.forEach((g, i) => {
    const bytes = encodeUpdate({ seq: i, width: 640, height: 480, tiles: g });
    t.ok(bytes.length <= 100_000);
    applyUpdate(agent, decodeUpdate(bytes));
  });
  t.ok(sameBytes(agent.data, toRgb(fb).data), 'pixels identical');
});

t.test('the encoder refuses what the decoder would refuse', async (t) => {
  const solid = (over: Partial<Tile>): Tile => ({ encoding: 'solid', x: 0, y: 0, w: 1, h: 1, color: 0, ...over }) as Tile;
  for (const [name, input] of [
    ['tile outside', { seq: 1, width: 10, height: 10, tiles: [solid({ x: 10 })] }],
    ['empty tile', { seq: 1, width: 10, height: 10, tiles: [solid({ w: 0 })] }],
    ['seq too big', { seq: 2 ** 32, width: 10, height: 10, tiles: [] }],
    ['frame too big', { seq: 1, width: 70000, height: 10, tiles: [] }],
    ['bad colour', { seq: 1, width: 10, height: 10, tiles: [solid({ color: 0x1000000 })] }],
  ] as const) {
    t.throws(() => encodeUpdate(input), { code: 'RSO_ERR_INTERNAL' }, name);
  }
});

// ---- hostile input ----

function valid(): Uint8Array {
  const fb = randomBgrx(100, 70, 21);
  fillBgrx(fb, { x: 0, y: 0, w: 64, h: 64 }, 0xabcdef);
  const tiles: Tile[] = [...encodeTiles(fb, all(fb)), { encoding: 'copy', x: 1, y: 2, w: 3, h: 4, srcX: 5, srcY: 6 }];
  return encodeUpdate({ seq: 3, width: 100, height: 70, tiles });
}

function header(count: number, width = 100, height = 70): number[] {
  return [0x55, 1, 0, 0, 0, 1, width >> 8, width & 0xff, height >> 8, height & 0xff, count >> 8, count & 0xff];
}
const u16 = (v: number) => [v >> 8, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const zlibTile = (x: number, y: number, w: number, h: number, payload: Uint8Array) => [1, ...u16(x), ...u16(y), ...u16(w), ...u16(h), ...u32(payload.length), ...payload];

function rejects(t: Test, bytes: Uint8Array | number[], name: string, limits = DEFAULT_UPDATE_LIMITS): void {
  const input = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  try {
    decodeUpdate(input, limits);
    t.fail(`${name}: accepted`);
  } catch (err) {
    t.ok(err instanceof RsoError && err.code === 'RSO_ERR_PROTOCOL', `${name}: ${(err as RsoError).detail ?? err}`);
  }
}

t.test('the valid sample decodes (so the rejections below are about the damage)', async (t) => {
  t.equal(decodeUpdate(valid()).tiles.length, 5);
});

t.test('every truncation is refused', async (t) => {
  const bytes = valid();
  let refused = 0;
  for (let n = 0; n < bytes.length; n++) {
    try {
      decodeUpdate(bytes.subarray(0, n));
    } catch (err) {
      if (err instanceof RsoError && err.code === 'RSO_ERR_PROTOCOL') refused++;
    }
  }
  t.equal(refused, bytes.length);
});

t.test('broken headers, counts and geometry are refused', async (t) => {
  const good = valid();
  const patched = (at: number, ...values: number[]) => {
    const b = good.slice();
    values.forEach((v, i) => (b[at + i] = v));
    return b;
  };
  rejects(t, patched(0, 0x56), 'bad magic');
  rejects(t, patched(1, 2), 'future version');
  rejects(t, patched(6, 0, 0), 'zero width');
  rejects(t, patched(6, 0xff, 0xff), 'width over the limit');
  rejects(t, patched(10, 0xff, 0xff), 'huge tile count');
  rejects(t, patched(10, 0, 2), 'fewer tiles than present (trailing bytes)');
  rejects(t, Uint8Array.from([...good, 0]), 'one trailing byte');
  rejects(t, [...header(1), 3, ...u16(0), ...u16(0), ...u16(1), ...u16(1), 0, 0, 0], 'unknown encoding');
  rejects(t, [...header(1), 0, ...u16(0), ...u16(0), ...u16(0), ...u16(1), 0, 0, 0], 'zero-width tile');
  rejects(t, [...header(1), 0, ...u16(99), ...u16(0), ...u16(2), ...u16(1), 0, 0, 0], 'tile past the right edge');
  rejects(t, [...header(1), 0, ...u16(0), ...u16(65535), ...u16(1), ...u16(1), 0, 0, 0], 'tile far below');
  rejects(t, [...header(1), 2, ...u16(0), ...u16(0), ...u16(10), ...u16(10), ...u16(95), ...u16(0)], 'copy source outside');
  rejects(t, [...header(3), ...[0, 1, 2].flatMap(() => [0, ...u16(0), ...u16(0), ...u16(100), ...u16(70), 0, 0, 0])], 'tiles cover 3x the frame');
  rejects(t, [...header(1), 1, ...u16(0), ...u16(0), ...u16(1), ...u16(1), ...u32(0)], 'empty zlib payload');
  rejects(t, [...header(1), 1, ...u16(0), ...u16(0), ...u16(1), ...u16(1), ...u32(0xffffffff), 1, 2, 3], 'zlib length past the end');
  rejects(t, valid(), 'over maxBytes', { ...DEFAULT_UPDATE_LIMITS, maxBytes: 100 });
  rejects(t, [...header(0, 9000, 10)], 'frame wider than maxWidth');
});

t.test('bad zlib payloads are refused: bombs, wrong lengths, garbage', async (t) => {
  const bomb = deflateSync(new Uint8Array(64 << 20), { level: 9 });
  t.ok(bomb.length < 100_000, `a 64 MiB bomb is ${bomb.length} bytes`);
  const started = Date.now();
  rejects(t, [...header(1), ...zlibTile(0, 0, 64, 64, bomb)], 'zlib bomb');
  t.ok(Date.now() - started < 2000, 'the bomb was stopped early');
  rejects(t, [...header(1), ...zlibTile(0, 0, 2, 2, deflateSync(new Uint8Array(11)))], 'inflates one byte short');
  rejects(t, [...header(1), ...zlibTile(0, 0, 2, 2, deflateSync(new Uint8Array(13)))], 'inflates one byte long');
  rejects(t, [...header(1), ...zlibTile(0, 0, 2, 2, Uint8Array.from([1, 2, 3, 4, 5, 6]))], 'not zlib at all');
  rejects(t, [...header(1), ...zlibTile(0, 0, 2, 2, deflateSync(new Uint8Array(12)).subarray(0, 6))], 'cut zlib stream');
  rejects(t, [...header(1), ...zlibTile(90, 0, 64, 64, deflateSync(new Uint8Array(64 * 64 * 3)))], 'zlib tile outside the frame');
});

t.test('random garbage never crashes or hangs the decoder', async (t) => {
  const rnd = prng(99);
  const good = valid();
  let other = 0;
  for (let i = 0; i < 3000; i++) {
    let b: Uint8Array;
    if (i % 2) {
      b = new Uint8Array(rnd() % 200);
      for (let k = 0; k < b.length; k++) b[k] = rnd();
      if (i % 4 === 1 && b.length >= 2) [b[0], b[1]] = [0x55, 1];
    } else {
      b = good.slice();
      for (let k = 0; k < 1 + (rnd() % 4); k++) b[rnd() % b.length] = rnd();
    }
    try {
      decodeUpdate(b);
    } catch (err) {
      if (!(err instanceof RsoError && err.code === 'RSO_ERR_PROTOCOL')) other++;
    }
  }
  t.equal(other, 0, 'only RSO_ERR_PROTOCOL errors');
});
