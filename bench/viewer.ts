// The viewer's receive path, end to end, as `rso connect` runs it for each record: AEAD open,
// parse the app message, decode the update (inflate, validate), composite it into the
// framebuffer, and build the terminal bytes with each renderer. Aim: a typing update rendered
// in under 5 ms. bench/graphics.ts times the renderers alone; this adds everything before them.
// Prints figures only, never passes or fails on time. Run: npx tsx bench/viewer.ts
import { performance } from 'node:perf_hooks';
import { deflateSync } from 'node:zlib';
import { RecordChannel } from '../src/crypto/channel.js';
import { changedTiles, destRectFor, encodeTiles, encodeUpdate, scale, type BgrxFramebuffer, type Rect, type Tile } from '../src/codec/index.js';
import { desktopLike, glyph, prng, terminalRect } from '../src/codec/synthetic.js';
import { encodeFrame, parseFromCustomer } from '../src/protocol/app.js';
import { Picture, createRenderer, type Area } from '../src/agent/picture.js';
import type { GraphicsKind } from '../src/agent/graphics/renderer.js';
import { emit, type Row } from './lib/report.js';

const report: Row[] = [];

const W = 1920;
const H = 1080;

function time(fn: () => unknown, minRuns: number, minMs = 300): { ms: number; p95: number; runs: number } {
  fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
    if (samples.length >= 2000) break;
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, p95: samples[Math.floor(samples.length * 0.95)]!, runs: samples.length };
}

const fmtMs = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
const fmtBytes = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

// The customer's screen before and after one typed character in its terminal window.
const before = desktopLike(W, H);
const after: BgrxFramebuffer = { ...before, data: before.data.slice() };
const term = terminalRect(W, H);
const gx = term.x + 4 + 8 * 20;
const gy = term.y + 4 + 18 * 10;
glyph(after, gx, gy, prng(42));

function rgbOf(fb: BgrxFramebuffer, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let o = 0;
  for (let yy = y; yy < y + h; yy++) {
    for (let xx = x; xx < x + w; xx++) {
      const p = (yy * fb.width + xx) * 4;
      out[o++] = fb.data[p + 2]!;
      out[o++] = fb.data[p + 1]!;
      out[o++] = fb.data[p]!;
    }
  }
  return out;
}

interface Scenario {
  width: number;
  height: number;
  full: Tile[];
  tile: Tile[];
  part: Tile[];
}

/** The three updates for a screen pair: the whole screen, the changed 64x64 tiles, the changed part. */
function scenario(b: BgrxFramebuffer, a: BgrxFramebuffer, part: Rect): Scenario {
  return {
    width: b.width,
    height: b.height,
    full: encodeTiles(b, changedTiles(null, b)),
    tile: encodeTiles(a, changedTiles(b, a)),
    // What the daemon sends since it trims a changed tile to its changed part.
    part: [{ encoding: 'zlib', x: part.x, y: part.y, w: part.w, h: part.h, zlib: deflateSync(rgbOf(a, part.x, part.y, part.w, part.h), { level: 1 }) }],
  };
}

// Pixel protocols get the screen 1:1 (192x54 cells of 10x20 px = 1920x1080).
const pixels = scenario(before, after, { x: gx, y: gy, w: 8, h: 16 });
// Half-blocks ask for cols x rows*2 pixels (240x67 cells -> 240x134): the daemon scales first.
const BW = 240;
const BH = 134;
const blocksPart = destRectFor({ x: gx, y: gy, w: 8, h: 16 }, W, H, BW, BH)!;
const blocks = scenario(scale(before, BW, BH), scale(after, BW, BH), blocksPart);

const keys = { send: new Uint8Array(32).fill(7), receive: new Uint8Array(32).fill(7) };

function records(sc: Scenario, tiles: Tile[], seq: number): Uint8Array[] {
  // Full frames are split under the record size exactly as the daemon does.
  const sender = new RecordChannel(keys);
  const out: Uint8Array[] = [];
  let chunk: Tile[] = [];
  let size = 0;
  for (const t of tiles) {
    const n = t.encoding === 'zlib' ? t.zlib.length + 13 : 16;
    if (size + n > 60_000 && chunk.length > 0) {
      out.push(sender.seal(encodeFrame(encodeUpdate({ seq: seq++, width: sc.width, height: sc.height, tiles: chunk }))));
      chunk = [];
      size = 0;
    }
    chunk.push(t);
    size += n;
  }
  out.push(sender.seal(encodeFrame(encodeUpdate({ seq, width: sc.width, height: sc.height, tiles: chunk }))));
  return out;
}

function areaFor(kind: GraphicsKind): Area {
  return kind === 'blocks' ? { row: 3, col: 0, cols: BW, rows: BH / 2, cellWidth: 10, cellHeight: 20 } : { row: 3, col: 0, cols: 192, rows: 54, cellWidth: 10, cellHeight: 20 };
}

console.log(`viewer receive path, ${W}x${H} customer screen (median and p95 per record set)`);
console.log(['update', 'renderer', 'records', 'wire bytes', 'open+parse+decode+apply+render', 'p95', 'terminal bytes', 'runs'].join(' | '));
for (const kind of ['kitty', 'sixel', 'blocks'] as const) {
  const sc = kind === 'blocks' ? blocks : pixels;
  for (const [name, tiles] of [
    [`full frame ${sc.width}x${sc.height}`, sc.full],
    ['typing (changed 64x64 tiles)', sc.tile],
    [`typing (changed part ${sc.part[0]!.w}x${sc.part[0]!.h})`, sc.part],
  ] as const) {
    const picture = new Picture(createRenderer(kind), areaFor(kind));
    picture.show();
    // The screen the typing lands on is already there.
    const first = new RecordChannel(keys);
    for (const rec of records(sc, sc.full, 1)) {
      const opened = first.open(rec);
      if (opened.type === 'data') {
        const m = parseFromCustomer(opened.data);
        if (m.kind === 'frame') picture.apply(m.update);
      }
    }
    const recs = records(sc, [...tiles], 1000);
    const wire = recs.reduce((n, r) => n + r.length, 0);
    let termBytes = 0;
    const r = time(
      () => {
        // A fresh receiver per run: records are sealed with counters from 0.
        const receiver = new RecordChannel(keys);
        termBytes = 0;
        for (const rec of recs) {
          const opened = receiver.open(rec);
          if (opened.type !== 'data') throw new Error('unexpected close');
          const m = parseFromCustomer(opened.data);
          if (m.kind !== 'frame') throw new Error('not a frame');
          termBytes += picture.apply(m.update).out.length;
        }
      },
      name.startsWith('full') ? 5 : 200,
    );
    console.log([name, kind, String(recs.length), fmtBytes(wire), fmtMs(r.ms), fmtMs(r.p95), fmtBytes(termBytes), String(r.runs)].join(' | '));
    const typingPart = name.startsWith('typing (changed part');
    report.push({ scenario: `${name}, ${kind}: receive + render`, ours: r.ms, unit: 'ms', aim: typingPart ? '< 5 ms' : undefined, met: typingPart ? r.ms < 5 : undefined });
  }
}
emit('viewer', report);
