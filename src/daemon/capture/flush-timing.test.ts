import t from 'tap';
import { FlushTiming } from './flush-timing.js';

// A 1000x1000 area: a quarter is 250,000 pixels. 16 ms between flushes during a burst.
const timing = () => new FlushTiming({ areaPixels: 1_000_000, coalesceMs: 16, settleQuietMs: 10, settleMaxMs: 40 });

t.test('a small change after a quiet period is flushed at once; later reports ride along', async (t) => {
  const f = timing();
  t.equal(f.report(1000, 12 * 13), 0, 'a typed glyph: at once');
  t.equal(f.report(1000.2, 50), null, 'its other reports: the armed flush takes them');
  f.fired();
  f.flushing(1000.5);
  t.equal(f.report(1005, 100), 11.5, 'drawing goes on: gathered until 16 ms after the last flush');
  t.equal(f.report(1010, 400_000), null, 'a large report during a burst does not push the flush out');
  f.fired();
  f.flushing(1016.5);
  t.equal(f.report(1100, 100), 0, 'quiet again: at once');
});

t.test('a large change waits until its drawing pauses, at most settleMaxMs', async (t) => {
  const f = timing();
  t.equal(f.report(2000, 120_000), 0, 'the first pieces of a mapped window: at once so far');
  t.equal(f.report(2000.3, 100_000), null, 'still under a quarter');
  t.equal(f.report(2001, 60_000), 10, 'past a quarter: wait for 10 ms of quiet');
  t.equal(f.report(2004, 500), 10, 'the window manager redraws: 10 ms from now');
  t.equal(f.report(2035, 500), 6, 'still drawing near the cap: what is left of 40 ms');
  t.equal(f.report(2041, 500), 0, 'past the cap: at once');
  f.fired();
  f.flushing(2041);
  t.equal(f.report(2100, 500), 0, 'the next small change after a quiet period: at once again');
});

t.test('one report of a quarter or more settles at once', async (t) => {
  const f = timing();
  t.equal(f.report(0, 1_000_000), 10);
  f.fired();
  f.flushing(10);
  t.equal(f.report(100, 10), 0, 'settling ended with the flush');
});
