import t from 'tap';
import { INPUT_RATE, costOf, fullBucket, take, type Bucket } from './rate.js';

const limit = { capacity: 10, perSecond: 5 };

t.test('a burst up to the capacity passes, the rest is cut, not queued', async (t) => {
  let b: Bucket = fullBucket(limit, 0);
  const allowed: boolean[] = [];
  for (let i = 0; i < 15; i++) {
    const r = take(b, limit, 0, 1);
    b = r.bucket;
    allowed.push(r.allow);
  }
  t.equal(allowed.filter(Boolean).length, 10);
  t.same(allowed.slice(10), [false, false, false, false, false]);
  // One second later only the refill is available: the 5 denied events did not wait in line.
  let n = 0;
  for (let i = 0; i < 15; i++) {
    const r = take(b, limit, 1000, 1);
    b = r.bucket;
    if (r.allow) n++;
  }
  t.equal(n, 5);
});

t.test('refill never exceeds the capacity', async (t) => {
  const r = take({ tokens: 0, at: 0 }, limit, 60_000, 11);
  t.equal(r.allow, false);
  t.equal(r.bucket.tokens, 10);
});

t.test('text costs one per character; a big text is refused whole', async (t) => {
  t.equal(costOf({ t: 'text', text: 'Hello World! <>?' }), 16);
  t.equal(costOf({ t: 'text', text: '€€' }), 2);
  t.equal(costOf({ t: 'move', x: 1, y: 1 }), 1);
  const r = take(fullBucket(limit, 0), limit, 0, 11);
  t.equal(r.allow, false);
  t.equal(r.bucket.tokens, 10, 'nothing taken for a refused event');
});

t.test('the default lets a person type, paste a line and drag', async (t) => {
  let b = fullBucket(INPUT_RATE, 0);
  let ok = true;
  // Dragging at 60 Hz with typing at 20 keys/s (down + up) for 10 s.
  for (let ms = 0; ms < 10_000; ms += 16) {
    for (const cost of [1, ...(ms % 50 < 16 ? [1, 1] : [])]) {
      const r = take(b, INPUT_RATE, ms, cost);
      b = r.bucket;
      ok &&= r.allow;
    }
  }
  t.ok(ok);
  t.ok(take(b, INPUT_RATE, 10_000, 256).allow, 'a pasted 256-character line');
});
