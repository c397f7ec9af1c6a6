// Fuzz of the frame update decoder (decodeUpdate), which reads bytes from the customer's machine
// and inflates zlib: mutated real updates, with length, size and count fields pushed to their
// maximum. Every accepted update must also paint (applyUpdate) without error.
import t from 'tap';
import { deflateSync } from 'node:zlib';
import { applyUpdate, decodeUpdate, encodeUpdate, type Tile } from '../src/codec/update.js';
import { createFramebuffer } from '../src/codec/framebuffer.js';
import { RsoError } from '../src/errors.js';
import { assertReport, fuzz, mutateBytes, type Rng } from './helpers/fuzz.js';

function zlibTile(x: number, y: number, w: number, h: number, fill: number): Tile {
  return { encoding: 'zlib', x, y, w, h, zlib: deflateSync(new Uint8Array(w * h * 3).fill(fill)) };
}

const SEEDS: Uint8Array[] = [
  encodeUpdate({ seq: 1, width: 64, height: 64, tiles: [{ encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: 0x123456 }] }),
  encodeUpdate({ seq: 2, width: 128, height: 64, tiles: [zlibTile(0, 0, 64, 64, 7), { encoding: 'copy', x: 64, y: 0, w: 64, h: 64, srcX: 0, srcY: 0 }] }),
  encodeUpdate({ seq: 3, width: 100, height: 50, tiles: [zlibTile(10, 10, 8, 8, 200), { encoding: 'solid', x: 0, y: 0, w: 1, h: 1, color: 0 }, zlibTile(90, 40, 10, 10, 1)] }),
  encodeUpdate({ seq: 0xffffffff, width: 1, height: 1, tiles: [] }),
  encodeUpdate({ seq: 4, width: 64, height: 64, tiles: [zlibTile(0, 0, 64, 64, 0)] }),
  // Overlapping tiles: twice the frame area is the most an update may paint (accepted), three
  // times is refused (encodeUpdate does not check this; the decoder must).
  encodeUpdate({ seq: 5, width: 64, height: 64, tiles: [0, 1].map((i) => ({ encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: i }) as Tile) }),
  encodeUpdate({ seq: 6, width: 64, height: 64, tiles: [0, 1, 2].map((i) => ({ encoding: 'solid', x: 0, y: 0, w: 64, h: 64, color: i }) as Tile) }),
  encodeUpdate({ seq: 7, width: 64, height: 64, tiles: [zlibTile(0, 0, 64, 64, 1), zlibTile(0, 0, 64, 64, 2), zlibTile(0, 0, 64, 64, 3)] }),
];
const BOMB = deflateSync(new Uint8Array(64 * 1024 * 1024));

t.test('decodeUpdate + applyUpdate', async (t) => {
  // Keep one framebuffer the size of the first seed, so copy tiles have something to read.
  const fb = createFramebuffer('rgb', 64, 64);
  let painted = 0;
  const r = await fuzz({
    name: 'frame update',
    count: 100_000,
    seed: 0xc0dec,
    generate: (rng: Rng) => {
      if (rng.int(500) === 0) {
        // A 64x64 zlib tile whose payload inflates to 64 MiB.
        const head = encodeUpdate({ seq: 9, width: 64, height: 64, tiles: [zlibTile(0, 0, 64, 64, 0)] }).subarray(0, 12 + 9);
        const len = new Uint8Array(4);
        new DataView(len.buffer).setUint32(0, BOMB.length);
        const out = new Uint8Array(head.length + 4 + BOMB.length);
        out.set(head);
        out.set(len, head.length);
        out.set(BOMB, head.length + 4);
        return out;
      }
      return rng.int(20) === 0 ? rng.pick(SEEDS) : mutateBytes(rng, rng.pick(SEEDS), SEEDS);
    },
    run: (bytes) => {
      const u = decodeUpdate(bytes);
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
    codes: ['RSO_ERR_PROTOCOL'],
    check: (bytes, result) => {
      const u = result as ReturnType<typeof decodeUpdate>;
      if (bytes[0] !== 0x55 || bytes[1] !== 1) throw new Error('wrong magic or version accepted');
      let area = 0;
      for (const tile of u.tiles) {
        area += tile.w * tile.h;
        if (tile.x + tile.w > u.width || tile.y + tile.h > u.height) throw new Error('tile outside the frame accepted');
        if (tile.encoding === 'zlib' && tile.pixels.length !== tile.w * tile.h * 3) throw new Error('zlib tile of the wrong size accepted');
      }
      if (area > 2 * u.width * u.height) throw new Error('tiles covering more than twice the frame accepted');
    },
  });
  assertReport(t, r, { minAccepted: 2000, minRejected: 50_000, maxHeapMiB: 16 });
  t.ok(painted > 1000, `${painted} accepted updates painted`);
});
