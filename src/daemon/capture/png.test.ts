// PNGs are produced by an independent encoder (ImageMagick, the tool screenshot-desktop uses
// on Linux) in every colour type and depth it can write, and decoded back here.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { decodePng } from './png.js';
import { RsoError } from '../../errors.js';

const hasConvert = spawnSync('convert', ['-version']).status === 0;

/** width x height RGB test picture with a few colours, or many (a gradient). */
function picture(width: number, height: number, many: boolean): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (many) {
        rgb[o] = (x * 7 + y) & 0xff;
        rgb[o + 1] = (y * 13) & 0xff;
        rgb[o + 2] = (x * y) & 0xff;
      } else {
        const c = [[255, 0, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]][(x + 2 * y) % 4]!;
        rgb.set(c, o);
      }
    }
  }
  return rgb;
}

function encode(rgb: Buffer, width: number, height: number, args: string[]): Buffer {
  const r = spawnSync('convert', ['-size', `${width}x${height}`, '-depth', '8', 'rgb:-', ...args, 'png:-'], { input: rgb, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout;
}

/** Index of the first pixel whose B, G, R differ from the RGB source, or -1. */
function firstMismatch(got: Uint8Array, rgb: Buffer): number {
  let bad = -1;
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    if (got[i] !== rgb[j + 2] || got[i + 1] !== rgb[j + 1] || got[i + 2] !== rgb[j]) {
      bad = j / 3;
      break;
    }
  }
  return bad;
}

t.test('decodes what ImageMagick writes', { skip: hasConvert ? false : 'ImageMagick not installed' }, async (t) => {
  const cases: [string, boolean, string[]][] = [
    ['palette, chosen by ImageMagick (few colours)', false, []],
    ['palette 8-bit', false, ['-define', 'png:color-type=3', '-define', 'png:bit-depth=8']],
    ['palette 1-bit', false, ['-colors', '2', '-define', 'png:color-type=3', '-define', 'png:bit-depth=1']],
    ['RGB 8-bit', true, ['-define', 'png:color-type=2']],
    ['RGBA 8-bit', true, ['-alpha', 'on', '-define', 'png:color-type=6']],
    ['RGB 16-bit', true, ['-depth', '16', '-define', 'png:color-type=2']],
  ];
  for (const [label, many, args] of cases) {
    const w = 37;
    const h = 11;
    let rgb = picture(w, h, many);
    // Two colours only, so that the 1-bit encoding is lossless.
    if (label === 'palette 1-bit') rgb = Buffer.from(rgb.map((_, i) => (Math.floor(i / 3) % 3 === 0 ? 255 : 0)));
    const png = encode(rgb, w, h, args);
    const img = decodePng(png);
    t.equal(img.width, w, label);
    t.equal(img.height, h, label);
    t.equal(firstMismatch(img.data, rgb), -1, `${label}: every pixel matches`);
  }
});

t.test('grey images', async (t) => {
  // Hand-built 4x1 8-bit greyscale, filter 1 (Sub), to check a filter and colour type 0.
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(4, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const raw = Buffer.from([1, 10, 10, 10, 10]); // Sub: 10, 20, 30, 40
  const chunk = (type: string, body: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, Buffer.from(type, 'latin1'), body, Buffer.alloc(4)]);
  };
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
  const img = decodePng(png);
  t.same([...img.data], [10, 10, 10, 255, 20, 20, 20, 255, 30, 30, 30, 255, 40, 40, 40, 255]);
});

t.test('refuses what is not a PNG, with RSO_ERR_CAPTURE', async (t) => {
  t.throws(() => decodePng(new Uint8Array([1, 2, 3])), { code: 'RSO_ERR_CAPTURE' });
  try {
    decodePng(Buffer.from('GIF89a.........'));
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof RsoError);
  }
});
