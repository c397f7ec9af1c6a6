import t from 'tap';
import { JoinThrottle } from './throttle.js';

t.test('burst, then one token per 60/N seconds', async (t) => {
  const th = new JoinThrottle({ perMinute: 6, burst: 3 });
  t.same([th.take('a', 0), th.take('a', 0), th.take('a', 0), th.take('a', 0)], [true, true, true, false]);
  t.equal(th.take('a', 9_999), false, 'not yet 10 s');
  t.equal(th.take('a', 10_000), true, 'one token after 10 s');
  t.equal(th.take('a', 10_000), false);
});

t.test('addresses are independent', async (t) => {
  const th = new JoinThrottle({ perMinute: 1, burst: 1 });
  t.equal(th.take('a', 0), true);
  t.equal(th.take('a', 0), false);
  t.equal(th.take('b', 0), true);
});

t.test('refill is capped at the burst and a clock going back mints nothing', async (t) => {
  const th = new JoinThrottle({ perMinute: 60, burst: 2 });
  th.take('a', 0);
  th.take('a', 0);
  t.equal(th.take('a', -100_000), false);
  t.equal(th.take('a', 3_600_000), true);
  t.equal(th.take('a', 3_600_000), true);
  t.equal(th.take('a', 3_600_000), false, 'an hour idle still gives only the burst');
});

t.test('sweep forgets only full buckets', async (t) => {
  const th = new JoinThrottle({ perMinute: 60, burst: 2 });
  th.take('a', 0);
  th.take('b', 0);
  th.take('b', 0);
  th.sweep(1000);
  t.equal(th.size, 1, 'a is full again after 1 s, b is not');
  t.throws(() => new JoinThrottle({ perMinute: 0, burst: 1 }), RangeError);
});
