// When the x11 backend reports damage: the first change after a quiet period at once (a typed
// character must not wait for a gather), later changes of a continuing burst gathered into at
// most one report per `coalesceMs`, and the end of a burst still reported; a large change (a
// window mapped) reported once its drawing pauses, as one report.
import t from 'tap';
import { hasXTools, startX } from './helpers/x11.js';
import { openX11Capture } from '../src/daemon/capture/x11.js';
import { XConn } from '../src/daemon/capture/xconn.js';
import type { Rect } from '../src/codec/framebuffer.js';

const missing = hasXTools();
if (missing) t.plan(0, missing);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Draws filled rectangles straight on the root window from a connection of its own. */
async function painter(display: string): Promise<{ fill(r: Rect, rgb: number): Promise<void>; close(): Promise<void> }> {
  const conn = await XConn.open(display);
  const gc = conn.allocId();
  conn.send('CreateGC', gc, conn.root, { foreground: 0 });
  await conn.sync();
  return {
    async fill(r, rgb) {
      conn.send('ChangeGC', gc, { foreground: rgb });
      conn.send('PolyFillRectangle', conn.root, gc, [r.x, r.y, r.w, r.h]);
      await conn.sync();
    },
    close: () => conn.close(),
  };
}

const covers = (rects: Rect[], px: number, py: number): boolean => rects.some((r) => px >= r.x && px < r.x + r.w && py >= r.y && py < r.y + r.h);

t.test('the first change after a quiet period is reported at once; a burst is gathered; its end is reported', async (t) => {
  const x = await startX({ width: 320, height: 240, wm: false });
  t.teardown(() => x.stop());
  // A gather far longer than any scheduling noise, so "at once" and "gathered" cannot be confused.
  const GATHER = 400;
  const cap = await openX11Capture({ display: x.display, coalesceMs: GATHER });
  t.teardown(() => cap.close());
  const p = await painter(x.display);
  t.teardown(() => p.close());
  const reports: Array<{ at: number; rects: Rect[] }> = [];
  cap.onDamage((rects) => reports.push({ at: performance.now(), rects }));
  await sleep(GATHER + 300);
  reports.length = 0;

  // 1. A single change after quiet: reported well before the gather time.
  const t0 = performance.now();
  await p.fill({ x: 10, y: 10, w: 8, h: 16 }, 0xff0000);
  while (reports.length === 0 && performance.now() - t0 < 2 * GATHER) await sleep(2);
  t.equal(reports.length, 1, 'reported');
  const first = reports[0]!;
  t.ok(first.at - t0 < GATHER / 2, `reported after ${(first.at - t0).toFixed(1)} ms, not after the ${GATHER} ms gather`);
  t.ok(covers(first.rects, 12, 12), 'the report covers the change');

  // 2. A burst right after it: one drawing every 10 ms for 1 s is gathered, not one report each.
  await sleep(GATHER + 100);
  reports.length = 0;
  const b0 = performance.now();
  let i = 0;
  while (performance.now() - b0 < 1000) {
    await p.fill({ x: 40 + (i % 20) * 4, y: 40, w: 4, h: 4 }, i % 2 ? 0x00ff00 : 0x0000ff);
    i++;
    await sleep(10);
  }
  // 3. The last drawing of the burst, at a place of its own, is still reported.
  await p.fill({ x: 200, y: 200, w: 10, h: 10 }, 0xffffff);
  await sleep(GATHER + 200);
  t.ok(i >= 30, `${i} drawings in the burst`);
  // 1 s / 400 ms: the leading report plus at most one per gather, and the tail.
  t.ok(reports.length >= 2 && reports.length <= 5, `${reports.length} reports for ${i} drawings`);
  const gaps = reports.slice(1).map((r, k) => r.at - reports[k]!.at);
  t.ok(Math.min(...gaps) >= GATHER - 30, `reports at least ${GATHER} ms apart while drawing goes on: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
  t.ok(covers(reports.flatMap((r) => r.rects), 205, 205), 'the end of the burst is reported');
});

t.test('a large change is reported once its drawing pauses, in one report', async (t) => {
  const x = await startX({ width: 320, height: 240, wm: false });
  t.teardown(() => x.stop());
  // Stretched times, far from scheduling noise: drawing that pauses less than 300 ms belongs to
  // the same change.
  const cap = await openX11Capture({ display: x.display, coalesceMs: 50, settleQuietMs: 300, settleMaxMs: 2000 });
  t.teardown(() => cap.close());
  const p = await painter(x.display);
  t.teardown(() => p.close());
  const reports: Array<{ at: number; rects: Rect[] }> = [];
  cap.onDamage((rects) => reports.push({ at: performance.now(), rects }));
  await sleep(400);
  reports.length = 0;

  // A window's worth (half the screen), then its frame redrawn 100 ms later, then 100 ms more.
  const t0 = performance.now();
  await p.fill({ x: 0, y: 0, w: 320, h: 120 }, 0x336699);
  await sleep(100);
  await p.fill({ x: 0, y: 200, w: 320, h: 10 }, 0xffffff);
  await sleep(100);
  await p.fill({ x: 300, y: 220, w: 10, h: 10 }, 0xff0000);
  const last = performance.now();
  while (performance.now() - t0 < 1500) await sleep(10);
  t.equal(reports.length, 1, `one report (${reports.map((r) => (r.at - t0).toFixed(0)).join(', ')} ms)`);
  const r = reports[0]!;
  t.ok(r.at - last >= 250, `reported ${(r.at - last).toFixed(0)} ms after the last drawing, once drawing had paused`);
  t.ok(covers(r.rects, 10, 10) && covers(r.rects, 10, 205) && covers(r.rects, 305, 225), 'the report covers all three drawings');

  // A small change after that: at once again.
  await sleep(400);
  reports.length = 0;
  const s0 = performance.now();
  await p.fill({ x: 10, y: 150, w: 8, h: 16 }, 0x00ff00);
  while (reports.length === 0 && performance.now() - s0 < 1000) await sleep(2);
  t.ok(reports.length === 1 && reports[0]!.at - s0 < 150, `a small change is reported at once (${reports.map((q) => (q.at - s0).toFixed(0)).join(', ')} ms)`);
});
