import t from 'tap';
import { NameplatesExhausted, allocateNameplate } from './nameplates.js';

function seq(...values: number[]): (max: number) => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

t.test('three digits, zero-padded, from the random source', async (t) => {
  t.equal(allocateNameplate(new Set(), seq(7)), '007');
  t.equal(allocateNameplate(new Set(), seq(999)), '999');
});

t.test('redraws when the draw is taken', async (t) => {
  t.equal(allocateNameplate(new Set(['007']), seq(7, 8)), '008');
});

t.test('grows to four digits once half of the three-digit space is taken', async (t) => {
  const taken = new Set<string>();
  for (let i = 0; i < 499; i++) taken.add(String(i).padStart(3, '0'));
  t.equal(allocateNameplate(taken, seq(777)), '777', '499 taken: still three digits');
  taken.add('499');
  let maxSeen = 0;
  t.equal(allocateNameplate(taken, (max) => ((maxSeen = max), 42)), '0042', '500 taken: four digits');
  t.equal(maxSeen, 10_000);
});

t.test('a source that keeps returning taken values still ends', async (t) => {
  const taken = new Set(['005', '006']);
  t.equal(allocateNameplate(taken, seq(5)), '007');
});

t.test('exhaustion is reported, and a bad source is an internal error', async (t) => {
  const taken = new Set<string>();
  for (let d = 3; d <= 6; d++) for (let i = 0; i < 10 ** d / 2; i++) taken.add(String(i).padStart(d, '0'));
  t.throws(() => allocateNameplate(taken, seq(0)), { message: /no free session numbers/ });
  t.ok(new NameplatesExhausted() instanceof Error);
  t.throws(() => allocateNameplate(new Set(), seq(1000)), { code: 'RSO_ERR_INTERNAL' });
  t.throws(() => allocateNameplate(new Set(), seq(1.5)), { code: 'RSO_ERR_INTERNAL' });
});
