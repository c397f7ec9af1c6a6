// Capture side: turns changed tiles of a BGRX frame into update tiles. Each tile is converted to
// RGB once; a uniform tile (a window background, an empty terminal line block) becomes a 3-byte
// solid tile, anything else is zlib level 1 of its RGB rows, which kitty can display as is.
//
// Level 1: on screen content it compresses nearly as well as the default level at a fraction
// of the time, and the time is spent on every frame on the customer's machine.

import { deflateSync } from 'node:zlib';
import type { BgrxFramebuffer } from './framebuffer.js';
import { tileGrid, tileRect, TILE_SIZE } from './tiles.js';
import type { Tile } from './update.js';

export function encodeTiles(fb: BgrxFramebuffer, tileIndices: readonly number[], tileSize: number = TILE_SIZE): Tile[] {
  if (fb.data.byteOffset % 4 !== 0) throw new RangeError('BGRX pixel data must start at a 4-byte-aligned offset');
  const grid = tileGrid(fb.width, fb.height, tileSize);
  const words = new Uint32Array(fb.data.buffer, fb.data.byteOffset, fb.data.length >>> 2);
  const rgb = new Uint8Array(tileSize * tileSize * 3);
  const tiles: Tile[] = [];
  for (const index of tileIndices) {
    const r = tileRect(grid, index);
    // Words are 0xXXRRGGBB (B,G,R,X in memory, little-endian); the X byte is not part of the colour.
    const first = words[r.y * fb.width + r.x]! & 0xffffff;
    let solid = true;
    let o = 0;
    for (let y = r.y; y < r.y + r.h; y++) {
      let p = y * fb.width + r.x;
      const end = p + r.w;
      for (; p < end; p++) {
        const px = words[p]! & 0xffffff;
        if (px !== first) solid = false;
        rgb[o++] = px >>> 16;
        rgb[o++] = (px >>> 8) & 0xff;
        rgb[o++] = px & 0xff;
      }
    }
    if (solid) {
      tiles.push({ encoding: 'solid', x: r.x, y: r.y, w: r.w, h: r.h, color: first });
    } else {
      tiles.push({ encoding: 'zlib', x: r.x, y: r.y, w: r.w, h: r.h, zlib: deflateSync(rgb.subarray(0, o), { level: 1 }) });
    }
  }
  return tiles;
}
