// Frame codec figures on a synthetic 1920x1080 desktop: what each scenario costs the customer's
// machine (diff + encode) and the wire (bytes), next to the naive baseline of deflating the
// whole RGB frame at zlib level 1 in the same run. Prints numbers; passes or fails nothing.
import { deflateSync } from 'node:zlib';
import {
  changedTiles,
  encodeTiles,
  encodeUpdate,
  scale,
  type BgrxFramebuffer,
  type Rect,
} from '../src/codec/index.js';
import { desktopLike, glyph, prng, terminalRect, toRgb } from '../src/codec/synthetic.js';
import { emit, type Row } from './lib/report.js';
import { FramePipeline } from '../src/daemon/frame-pipeline.js';

const rows: Row[] = [];
const piped: number[] = [];
const scrollBytes = (): number | null => rows.find((r) => r.scenario === 'scroll terminal 16 px, damage hint: bytes')?.ours ?? null;

const W = 1920;
const H = 1080;

function median(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const copyOf = (fb: BgrxFramebuffer): BgrxFramebuffer => ({ ...fb, data: fb.data.slice() });
const fmt = (ms: number) => `${ms.toFixed(2).padStart(8)} ms`;
const kb = (n: number) => `${(n / 1024).toFixed(1).padStart(8)} KiB`;

const base = desktopLike(W, H);

// Baseline: the whole frame as one zlib level-1 stream (conversion to RGB not counted).
const rgb = toRgb(base).data;
let baselineBytes = 0;
const baselineMs = median(5, () => {
  baselineBytes = deflateSync(rgb, { level: 1 }).length;
});

function scenario(name: string, prev: BgrxFramebuffer | null, next: BgrxFramebuffer, hint?: Rect[]): void {
  let bytes = 0;
  let tiles = 0;
  const ms = median(prev ? 15 : 5, () => {
    const changed = changedTiles(prev, next, hint);
    tiles = changed.length;
    bytes = changed.length ? encodeUpdate({ seq: 1, width: W, height: H, tiles: encodeTiles(next, changed) }).length : 0;
  });
  rows.push({ scenario: `${name}: encode`, ours: ms, unit: 'ms', baseline: prev ? undefined : baselineMs, baselineName: prev ? undefined : 'zlib-1 of the whole frame' });
  rows.push({ scenario: `${name}: bytes`, ours: bytes, unit: 'B', baseline: prev ? undefined : baselineBytes, baselineName: prev ? undefined : 'zlib-1 of the whole frame' });
  console.log(`${name.padEnd(38)} ${fmt(ms)} ${kb(bytes)}  ${String(tiles).padStart(4)} tiles`);
}

console.log(`synthetic desktop ${W}x${H}; medians; bytes are the encoded update`);
console.log(`${'baseline: deflate level 1, whole frame'.padEnd(38)} ${fmt(baselineMs)} ${kb(baselineBytes)}`);

scenario('full frame (no previous)', null, base);

const rnd = prng(3);
const typed = copyOf(base);
const term = terminalRect(W, H);
const glyphs: Rect[] = [];
for (let c = 0; c < 4; c++) {
  const g = { x: term.x + 4 + c * 8, y: term.y + term.h - 40, w: 8, h: 16 };
  glyph(typed, g.x, g.y, rnd);
  glyphs.push(g);
}
scenario('typing: 4 glyphs, full scan', base, typed);
scenario('typing: 4 glyphs, damage hint', base, typed, glyphs);

// A terminal scrolling by 16 px: its rows move up, a new line appears at the bottom.
const scrolled = copyOf(base);
for (let y = term.y; y < term.y + term.h - 16; y++) {
  const to = (y * W + term.x) * 4;
  const from = ((y + 16) * W + term.x) * 4;
  scrolled.data.copyWithin(to, from, from + term.w * 4);
}
for (let c = 0; c < 40; c++) glyph(scrolled, term.x + 4 + c * 8, term.y + term.h - 16, rnd);
scenario('scroll terminal 16 px, damage hint', base, scrolled, [term]);

// The same scroll through the daemon's pipeline, which looks for moved regions first and
// sends them as copy tiles (src/codec/moves.ts).
{
  const size = { width: W, height: H };
  let bytes = 0;
  let tiles = 0;
  const ms = median(15, () => {
    const pipe = new FramePipeline(size);
    pipe.ingest({ ...base, x: 0, y: 0 });
    const first = pipe.encode(size, 'full', 1)!;
    pipe.ingest({ ...scrolled, x: 0, y: 0 });
    const t0 = performance.now();
    const b = pipe.encode(size, [term], first.lastSeq + 1)!;
    piped.push(performance.now() - t0);
    bytes = b.updates.reduce((n, u) => n + u.length, 0);
    tiles = b.tiles.length;
  });
  void ms;
  const enc = [...piped].sort((a, b) => a - b)[Math.floor(piped.length / 2)]!;
  console.log(`${'scroll 16 px, copy detection (pipeline)'.padEnd(38)} ${fmt(enc)} ${kb(bytes)}  ${String(tiles).padStart(4)} tiles`);
  rows.push({ scenario: 'scroll terminal 16 px, copy detection: encode', ours: enc, unit: 'ms' });
  rows.push({ scenario: 'scroll terminal 16 px, copy detection: bytes', ours: bytes, unit: 'B', baseline: scrollBytes(), baselineName: 'without copy detection' });
}

scenario('idle, full scan', base, copyOf(base));
scenario('idle, empty damage', base, copyOf(base), []);

for (const [w, h] of [[1280, 720], [1366, 768], [960, 540]] as const) {
  const ms = median(10, () => scale(base, w, h));
  console.log(`${`scale ${W}x${H} -> ${w}x${h}`.padEnd(38)} ${fmt(ms)}`);
  rows.push({ scenario: `scale ${W}x${H} -> ${w}x${h}`, ours: ms, unit: 'ms' });
}
emit('codec', rows);
