// Fuzz of the frame update decoder (decodeUpdate), which reads bytes from the customer's machine
// and inflates deflate streams: mutated real updates (reset ones decoded on a fresh history,
// continuing ones on a history that absorbed their predecessor), with length, size and count
// fields pushed to their maximum, and deflate bombs. Every accepted update must also paint
// (applyUpdate) without error.
import t from 'tap';
import { deflateRawSync, deflateSync } from 'node:zlib';
import { applyUpdate, decodeUpdate } from '../src/codec/decode-update.js';
import { encodeUpdate, FLAG_RESET, UPDATE_VERSION, type Tile } from '../src/codec/update.js';
import { CodecHistory } from '../src/codec/history.js';
import { encodeTiles } from '../src/codec/encode-tiles.js';
import { createFramebuffer } from '../src/codec/framebuffer.js';
import { desktopLike, glyph, prng, randomBgrx } from '../src/codec/synthetic.js';
import { RsoError } from '../src/errors.js';
import { assertReport, fuzz, mutateBytes, type Rng } from './helpers/fuzz.js';

function zlibTile(x: number, y: number, w: number, h: number, fill: number): Tile {
  return { encoding: 'zlib', x, y, w, h, zlib: deflateSync(new Uint8Array(w * h * 3).fill(fill)) };
}
const all = (n: number) => Array.from({ length: n }, (_, i) => i);

// The base every continuing seed follows: a 64x64 frame of glyphs (packed tiles), seq 10.
const baseFb = createFramebuffer('bgrx', 64, 64);
for (let i = 0; i < 6; i++) glyph(baseFb, i * 9, i * 9, prng(i + 1));
const tx = new CodecHistory();
const BASE = encodeUpdate({ seq: 10, width: 64, height: 64, tiles: encodeTiles(baseFb, [0]) }, tx);
function baseHistory(): CodecHistory {
  const h = new CodecHistory();
  decodeUpdate(BASE, h);
  return h;
}
const nextFb = createFramebuffer('bgrx', 64, 64);
nextFb.data.set(baseFb.data);
glyph(nextFb, 30, 40, prng(99));
const CONTINUING = encodeUpdate({ seq: 11, width: 64, height: 64, tiles: [...encodeTiles(nextFb, [0]), { encoding: 'copy', x: 0, y: 0, w: 8, h: 8, srcX: 8, srcY: 8 }], reset: false }, tx);

const desk = desktopLike(640, 200, 5);
const rgbFb = randomBgrx(64, 64, 3); // > 256 colours: a raw RGB packed tile
// A title bar (rows of one colour of a gradient, then text): a runs tile.
const barFb = createFramebuffer('bgrx', 64, 64);
for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) barFb.data.set([0xe0 - y, 0xd0 - y, 0xc0 - y, 0], (y * 64 + x) * 4);
glyph(barFb, 10, 40, prng(4));
const SEEDS: Uint8Array[] = [
  BASE,
  CONTINUING,
  encodeUpdate({ seq: 1, width: 64, height: 64, tiles: [{ encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: 0x123456 }] }),
  encodeUpdate({ seq: 2, width: 128, height: 64, tiles: [zlibTile(0, 0, 64, 64, 7), { encoding: 'copy', x: 64, y: 0, w: 64, h: 64, srcX: 0, srcY: 0 }] }),
  encodeUpdate({ seq: 3, width: 100, height: 50, tiles: [zlibTile(10, 10, 8, 8, 200), { encoding: 'solid', x: 0, y: 0, w: 1, h: 1, color: 0 }, zlibTile(90, 40, 10, 10, 1)] }),
  encodeUpdate({ seq: 0xffffffff, width: 1, height: 1, tiles: [] }),
  encodeUpdate({ seq: 4, width: 64, height: 64, tiles: encodeTiles(rgbFb, [0]) }),
  encodeUpdate({ seq: 8, width: 64, height: 64, tiles: encodeTiles(barFb, [0]) }),
  // A long list (deflated) of solid and packed tiles of every bit depth.
  encodeUpdate({ seq: 12, width: 640, height: 200, tiles: encodeTiles(desk, all(40)) }),
  // Overlapping tiles: twice the frame area is the most an update may paint (accepted), three
  // times is refused (encodeUpdate does not check this; the decoder must).
  encodeUpdate({ seq: 5, width: 64, height: 64, tiles: [0, 1].map((i) => ({ encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: i }) as Tile) }),
  encodeUpdate({ seq: 6, width: 64, height: 64, tiles: [0, 1, 2].map((i) => ({ encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: i }) as Tile) }),
  encodeUpdate({ seq: 7, width: 64, height: 64, tiles: [...encodeTiles(rgbFb, [0]), ...encodeTiles(baseFb, [0]), ...encodeTiles(rgbFb, [0])] }),
];
// A raw 64x64 packed tile whose blob inflates to 64 MiB.
const BOMB = Uint8Array.from([0x55, UPDATE_VERSION, FLAG_RESET, 9, 64, 64, 1, 3, 0, 0, 64, 64, ...deflateRawSync(new Uint8Array(64 * 1024 * 1024))]);

t.test('decodeUpdate + applyUpdate', async (t) => {
  // Keep one framebuffer the size of the first seed, so copy tiles have something to read.
  const fb = createFramebuffer('rgb', 64, 64);
  let painted = 0;
  let continued = 0;
  const r = await fuzz({
    name: 'frame update',
    count: 100_000,
    seed: 0xc0dec,
    generate: (rng: Rng) => {
      if (rng.int(500) === 0) return BOMB;
      return rng.int(20) === 0 ? rng.pick(SEEDS) : mutateBytes(rng, rng.pick(SEEDS), SEEDS);
    },
    run: (bytes) => {
      // A continuing update is only meaningful on the history it continues.
      const history = bytes.length > 2 && (bytes[2]! & FLAG_RESET) === 0 ? baseHistory() : new CodecHistory();
      const u = decodeUpdate(bytes, history);
      if (!u.reset) continued++;
      try {
        if (u.width !== fb.width || u.height !== fb.height) {
          // Paint into a framebuffer of the update's size so copy tiles are legal.
          applyUpdate(createFramebuffer('rgb', u.width, u.height), u);
        } else applyUpdate(fb, u);
        painted++;
      } catch (err) {
        // applyUpdate refuses a copy tile in an update that resizes: also RSO_ERR_PROTOCOL.
        if (!(err instanceof RsoError && err.code === 'RSO_ERR_PROTOCOL')) throw err;
      }
      return u;
    },
    // A damaged version byte is another release's format: RSO_ERR_VERSION.
    codes: ['RSO_ERR_PROTOCOL', 'RSO_ERR_VERSION'],
    check: (bytes, result) => {
      const u = result as ReturnType<typeof decodeUpdate>;
      if (bytes[0] !== 0x55 || bytes[1] !== UPDATE_VERSION) throw new Error('wrong magic or version accepted');
      if (!u.reset && u.seq !== 11) throw new Error(`a continuing update accepted as seq ${u.seq}, not 11`);
      let area = 0;
      for (const tile of u.tiles) {
        area += tile.w * tile.h;
        if (tile.x + tile.w > u.width || tile.y + tile.h > u.height) throw new Error('tile outside the frame accepted');
        if ((tile.encoding === 'zlib' || tile.encoding === 'packed') && tile.pixels.length !== tile.w * tile.h * 3) throw new Error(`${tile.encoding} tile of the wrong size accepted`);
        if (tile.encoding === 'packed' && tile.bits !== 0 && (tile.colors < 2 || tile.colors > (tile.bits === 'runs' ? 128 : 1 << tile.bits))) throw new Error('bad palette accepted');
      }
      if (area > 2 * u.width * u.height) throw new Error('tiles covering more than twice the frame accepted');
    },
  });
  assertReport(t, r, { minAccepted: 2000, minRejected: 50_000, maxHeapMiB: 16 });
  t.ok(painted > 1000, `${painted} accepted updates painted`);
  t.ok(continued > 100, `${continued} accepted continuing updates`);
});
