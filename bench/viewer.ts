// The viewer's receive path, end to end, as `rso connect` runs it for each record: AEAD open,
// parse the app message, decode the update (inflate, validate), composite it into the
// framebuffer, and build the terminal bytes with each renderer. Aim: a typing update rendered
// in under 5 ms. bench/graphics.ts times the renderers alone; this adds everything before them.
// Updates are made as the daemon makes them: packed tiles compressed against the history of
// what was sent before (each timed run applies the next update of one continuing stream).
// Prints figures only, never passes or fails on time. Run: npx tsx bench/viewer.ts
import { performance } from 'node:perf_hooks';
import { RecordChannel } from '../src/crypto/channel.js';
import { changedTiles, CodecHistory, destRectFor, encodeTiles, encodeUpdates, packRect, scale, type BgrxFramebuffer, type Rect, type Tile } from '../src/codec/index.js';
import { desktopLike, glyph, prng, terminalRect } from '../src/codec/synthetic.js';
import { encodeFrame, parseFromCustomer } from '../src/protocol/app.js';
import { Picture, createRenderer, type Area } from '../src/agent/picture.js';
import type { GraphicsKind } from '../src/agent/graphics/renderer.js';
import { emit, type Row } from './lib/report.js';

const report: Row[] = [];

const W = 1920;
const H = 1080;

function time(fn: () => unknown, minRuns: number, minMs = 300, maxRuns = 2000): { ms: number; p95: number; runs: number } {
  fn();
  const samples: number[] = [];
  const start = performance.now();
  while ((samples.length < minRuns || performance.now() - start < minMs) && samples.length < maxRuns) {
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

interface Scenario {
  width: number;
  height: number;
  full: Tile[];
  tile: Tile[];
  part: Tile[];
}

function packedPart(fb: BgrxFramebuffer, r: Rect): Tile {
  const p = packRect(new Uint32Array(fb.data.buffer, fb.data.byteOffset, fb.data.length >>> 2), fb.width, r);
  return p.kind === 'solid' ? { encoding: 'solid', ...r, color: p.color } : { encoding: 'packed', ...r, bits: p.bits, colors: p.colors, body: p.body };
}

/** The three updates for a screen pair: the whole screen, the changed 64x64 tiles, the changed part. */
function scenario(b: BgrxFramebuffer, a: BgrxFramebuffer, part: Rect): Scenario {
  return {
    width: b.width,
    height: b.height,
    full: encodeTiles(b, changedTiles(null, b)),
    tile: encodeTiles(a, changedTiles(b, a)),
    // What the daemon sends since it trims a changed tile to its changed part.
    part: [packedPart(a, part)],
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

/**
 * One customer's stream: a sender (record channel + codec history) that seals updates in order,
 * split under the record size as the daemon does. The first set starts the history over.
 */
class Stream {
  private readonly channel = new RecordChannel(keys);
  private readonly history = new CodecHistory();
  private seq = 1;
  constructor(private readonly sc: Scenario) {}
  next(tiles: Tile[], reset = false): Uint8Array[] {
    const updates = encodeUpdates({ seq: this.seq, width: this.sc.width, height: this.sc.height, tiles, reset: reset || this.history.seq === null }, this.history, 60_000);
    this.seq += updates.length;
    return updates.map((u) => this.channel.seal(encodeFrame(u)));
  }
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
    const stream = new Stream(sc);
    const receiver = new RecordChannel(keys);
    const play = (recs: Uint8Array[]): number => {
      let termBytes = 0;
      for (const rec of recs) {
        const opened = receiver.open(rec);
        if (opened.type !== 'data') throw new Error('unexpected close');
        const m = parseFromCustomer(opened.data);
        if (m.kind !== 'frame') throw new Error('not a frame');
        termBytes += picture.apply(m.update).out.length;
      }
      return termBytes;
    };
    // The screen the typing lands on is already there.
    play(stream.next(sc.full, true));
    // Every timed run applies the next record set of the stream: a full frame is sent afresh
    // (reset) each time, a typing update continues the history like the same key typed again.
    const full = name.startsWith('full');
    const sets = Array.from({ length: full ? 40 : 2001 }, () => stream.next([...tiles], full));
    const recs = sets[0]!;
    const wire = recs.reduce((n, r) => n + r.length, 0);
    let termBytes = 0;
    let i = 0;
    const r = time(() => (termBytes = play(sets[i++]!)), full ? 5 : 200, 300, sets.length - 1);
    console.log([name, kind, String(recs.length), fmtBytes(wire), fmtMs(r.ms), fmtMs(r.p95), fmtBytes(termBytes), String(r.runs)].join(' | '));
    const typingPart = name.startsWith('typing (changed part');
    report.push({ scenario: `${name}, ${kind}: receive + render`, ours: r.ms, unit: 'ms', aim: typingPart ? '< 5 ms' : undefined, met: typingPart ? r.ms < 5 : undefined });
  }
}
emit('viewer', report);
