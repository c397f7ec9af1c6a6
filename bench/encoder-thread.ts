// The daemon's encoder on its own thread (src/daemon/frame-encoder.ts) against the same
// FramePipeline called on the main thread, as before: full-screen changes on a synthetic
// 1920x1080 desktop (two different screens in turn), and for each the longest time the main
// thread could not run anything else (a 1 ms timer's worst lateness: the panel, F12, input and
// heartbeats wait that long) and the time from the call to the encoded update.
// Prints figures; passes or fails nothing.   npx tsx bench/encoder-thread.ts
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { desktopLike, glyph, prng } from '../src/codec/synthetic.js';
import type { BgrxFramebuffer } from '../src/codec/framebuffer.js';
import { FramePipeline } from '../src/daemon/frame-pipeline.js';
import { FrameEncoder } from '../src/daemon/frame-encoder.js';
import { emit, type Row } from './lib/report.js';

const W = 1920;
const H = 1080;
const STEPS = 16;
const screens: BgrxFramebuffer[] = [desktopLike(W, H, 1), desktopLike(W, H, 2)];
// Some text on both, so each change is a real mix of glyphs and backgrounds.
const next = prng(5);
for (const s of screens) for (let i = 0; i < 400; i++) glyph(s, next() % (W - 8), next() % (H - 16), next);
const out = { width: W, height: H };
const full = [{ x: 0, y: 0, w: W, h: H }];

interface Figures {
  stallMs: number[];
  encodeMs: number[];
  bytes: number;
}

/** The longest gap between the ticks of a 1 ms interval while `work` runs. */
async function stallDuring(work: () => Promise<number>): Promise<{ stall: number; result: number }> {
  let last = performance.now();
  let worst = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 10)); // the interval is running
  worst = 0;
  last = performance.now();
  const result = await work();
  await new Promise((r) => setTimeout(r, 10)); // a late tick after the work is counted
  clearInterval(tick);
  return { stall: worst, result };
}

async function measure(encode: (fb: BgrxFramebuffer, seq: number) => Promise<number>): Promise<Figures> {
  const f: Figures = { stallMs: [], encodeMs: [], bytes: 0 };
  let seq = 1;
  for (let i = 0; i < 8; i++) await encode(screens[i % 2]!, seq++); // warm-up (JIT), not counted
  for (let i = 0; i < STEPS; i++) {
    let took = 0;
    const { stall, result } = await stallDuring(async () => {
      const t0 = performance.now();
      const n = await encode(screens[i % 2]!, seq++);
      took = performance.now() - t0;
      return n;
    });
    f.stallMs.push(stall);
    f.encodeMs.push(took);
    f.bytes = result;
  }
  return f;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const max = (xs: number[]): number => Math.max(...xs);

const pipeline = new FramePipeline(out);
const onMain = await measure(async (fb, seq) => {
  pipeline.ingest({ ...fb, x: 0, y: 0 });
  const b = pipeline.encode(out, seq === 1 ? 'full' : full, seq);
  return b ? b.updates.reduce((n, u) => n + u.length, 0) : 0;
});
const encoder = new FrameEncoder(out);
const onThread = await measure(async (fb, seq) => {
  const b = await encoder.encode([{ ...fb, x: 0, y: 0 }], out, seq === 1 ? 'full' : full, seq);
  return b ? b.updates.reduce((n, u) => n + u.length, 0) : 0;
});
await encoder.close();

console.log(`encoder thread vs main thread: ${STEPS} full-screen changes ${W}x${H} (synthetic desktop), node ${process.version}`);
console.log(`${''.padEnd(34)}${'main thread'.padStart(14)}${'own thread'.padStart(14)}`);
const line = (name: string, a: number, b: number, unit: string): void => console.log(`${name.padEnd(34)}${`${a.toFixed(1)} ${unit}`.padStart(14)}${`${b.toFixed(1)} ${unit}`.padStart(14)}`);
line('main thread stalled, median', median(onMain.stallMs), median(onThread.stallMs), 'ms');
line('main thread stalled, max', max(onMain.stallMs), max(onThread.stallMs), 'ms');
line('call -> encoded update, median', median(onMain.encodeMs), median(onThread.encodeMs), 'ms');
console.log(`update bytes: ${onMain.bytes} on the main thread, ${onThread.bytes} on its own (the same encoder)`);

const rows: Row[] = [
  { scenario: 'full-screen change: main thread stalled, median', ours: median(onThread.stallMs), unit: 'ms', baseline: median(onMain.stallMs), baselineName: 'encoding on the main thread' },
  { scenario: 'full-screen change: main thread stalled, max', ours: max(onThread.stallMs), unit: 'ms', baseline: max(onMain.stallMs), baselineName: 'encoding on the main thread' },
  { scenario: 'full-screen change: call -> encoded, median', ours: median(onThread.encodeMs), unit: 'ms', baseline: median(onMain.encodeMs), baselineName: 'encoding on the main thread' },
];
emit('encoder-thread', rows);
