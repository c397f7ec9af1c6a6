// A small PNG decoder (RFC 2083 / PNG 2nd edition) into BGRX: enough for what screenshot tools
// write. ImageMagick picks the smallest encoding for the picture, so a screen with few colours
// arrives as a 1/2/4-bit palette image and a photo as 8-bit RGB; every non-interlaced colour
// type and bit depth is handled (16-bit samples keep their high byte, alpha is dropped, gamma
// and colour chunks are ignored: the pixels are shown as stored, like a screen would).

import { inflateSync } from 'node:zlib';
import { RsoError } from '../../errors.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel for each colour type (PNG spec 11.2.2). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function bad(detail: string): RsoError {
  return new RsoError('RSO_ERR_CAPTURE', 'The screenshot tool returned a picture rso cannot read.', `png: ${detail}`);
}

export interface DecodedImage {
  width: number;
  height: number;
  /** BGRX, 4 bytes per pixel, the fourth byte 0xff. */
  data: Uint8Array;
}

export function decodePng(buf: Uint8Array): DecodedImage {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || SIGNATURE.some((v, i) => b[i] !== v)) throw bad('no PNG signature');
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let palette: Buffer | null = null;
  const idat: Buffer[] = [];
  let off = 8;
  while (off + 8 <= b.length) {
    const len = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    const body = b.subarray(off + 8, off + 8 + len);
    if (body.length !== len) throw bad(`truncated ${type} chunk`);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8]!;
      colorType = body[9]!;
      if (body[10] !== 0 || body[11] !== 0) throw bad('unknown compression or filter method');
      if (body[12] !== 0) throw bad('interlaced');
    } else if (type === 'PLTE') {
      palette = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    off += 12 + len;
  }
  const channels = CHANNELS[colorType];
  if (!channels || width === 0 || height === 0) throw bad(`unsupported header: type ${colorType}, ${width}x${height}`);
  if (![1, 2, 4, 8, 16].includes(depth)) throw bad(`bit depth ${depth}`);
  if (colorType === 3 && !palette) throw bad('palette image without PLTE');
  const raw = inflateSync(Buffer.concat(idat));
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  // Filters work on whole bytes, one pixel back (at least one byte) - spec 9.2.
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < height * (stride + 1)) throw bad('image data too short');
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  let cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    unfilter(filter, line, prev, cur, bpp);
    writeRow(cur, out, y * width * 4, width, colorType, depth, palette);
    [prev, cur] = [cur, prev];
  }
  return { width, height, data: out };
}

function unfilter(filter: number, line: Uint8Array, prev: Uint8Array, cur: Uint8Array, bpp: number): void {
  const n = line.length;
  switch (filter) {
    case 0:
      cur.set(line);
      return;
    case 1:
      for (let i = 0; i < n; i++) cur[i] = (line[i]! + (i >= bpp ? cur[i - bpp]! : 0)) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) cur[i] = (line[i]! + prev[i]!) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) cur[i] = (line[i]! + (((i >= bpp ? cur[i - bpp]! : 0) + prev[i]!) >> 1)) & 0xff;
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? cur[i - bpp]! : 0;
        const b = prev[i]!;
        const c = i >= bpp ? prev[i - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        cur[i] = (line[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      return;
    default:
      throw bad(`filter type ${filter}`);
  }
}

function writeRow(row: Uint8Array, out: Uint8Array, o: number, width: number, colorType: number, depth: number, palette: Buffer | null): void {
  if (depth < 8) {
    // Gray or palette indices packed most significant bits first (spec 7.2).
    const perByte = 8 / depth;
    const mask = (1 << depth) - 1;
    const scale = 255 / mask;
    for (let x = 0; x < width; x++) {
      const v = (row[Math.floor(x / perByte)]! >> ((perByte - 1 - (x % perByte)) * depth)) & mask;
      if (colorType === 3) putPalette(out, o + x * 4, palette!, v);
      else putRgb(out, o + x * 4, v * scale, v * scale, v * scale);
    }
    return;
  }
  const s = depth / 8; // bytes per sample; for 16-bit, the high byte comes first
  for (let x = 0; x < width; x++) {
    const p = x * s * (CHANNELS[colorType] ?? 1);
    const d = o + x * 4;
    switch (colorType) {
      case 0:
      case 4:
        putRgb(out, d, row[p]!, row[p]!, row[p]!);
        break;
      case 2:
      case 6:
        putRgb(out, d, row[p]!, row[p + s]!, row[p + 2 * s]!);
        break;
      case 3:
        putPalette(out, d, palette!, row[p]!);
        break;
    }
  }
}

function putRgb(out: Uint8Array, d: number, r: number, g: number, b: number): void {
  out[d] = b;
  out[d + 1] = g;
  out[d + 2] = r;
  out[d + 3] = 0xff;
}

function putPalette(out: Uint8Array, d: number, palette: Buffer, index: number): void {
  if (index * 3 + 2 >= palette.length) throw bad(`palette index ${index} out of range`);
  putRgb(out, d, palette[index * 3]!, palette[index * 3 + 1]!, palette[index * 3 + 2]!);
}
