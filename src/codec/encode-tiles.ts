// Capture side: turns changed tiles of a BGRX frame into update tiles. A uniform tile (a window
// background, an empty terminal line block) becomes a 3-byte solid tile, anything else a packed
// tile (palette and indices when it has few colours, else RGB) whose body encodeUpdate deflates
// together with the others of the update.
import type { BgrxFramebuffer } from './framebuffer.js';
import { packRect } from './packed.js';
import { tileGrid, tileRect, TILE_SIZE } from './tiles.js';
import type { Tile } from './update.js';

export function encodeTiles(fb: BgrxFramebuffer, tileIndices: readonly number[], tileSize: number = TILE_SIZE): Tile[] {
  if (fb.data.byteOffset % 4 !== 0) throw new RangeError('BGRX pixel data must start at a 4-byte-aligned offset');
  const grid = tileGrid(fb.width, fb.height, tileSize);
  const words = new Uint32Array(fb.data.buffer, fb.data.byteOffset, fb.data.length >>> 2);
  const tiles: Tile[] = [];
  for (const index of tileIndices) {
    const r = tileRect(grid, index);
    const p = packRect(words, fb.width, r);
    tiles.push(p.kind === 'solid' ? { encoding: 'solid', ...r, color: p.color } : { encoding: 'packed', ...r, bits: p.bits, colors: p.colors, body: p.body });
  }
  return tiles;
}
