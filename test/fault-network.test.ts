// An impaired network (1 Mbit/s, RTT 150 ms, ~2 % loss between two network namespaces; see
// bench/impaired-network.ts for the setup and the netem / tbf+proxy choice): the session stays
// up, updates keep coming, and latency stays bounded because changes are merged, not queued.
import t from 'tap';
import { impairedUnavailable, runImpaired } from '../bench/impaired-network.js';

t.test('1 Mbit/s, RTT 150 ms, 2 % loss: usable, bounded latency, updates merge', { skip: impairedUnavailable() }, async (t) => {
  const r = await runImpaired({ seconds: 8 });
  t.comment(`impairment: ${r.impairment}`);
  t.comment(`light: ${JSON.stringify(r.light)}`);
  t.comment(`heavy: ${JSON.stringify(r.heavy)}`);
  t.equal(r.ended, null, 'the session stayed up through both profiles');
  // Light (typing-sized changes): every pull round trip brings a picture.
  t.ok(r.light.updatesPerSecond >= 2, `light: ${r.light.updatesPerSecond} updates/s`);
  t.ok(r.light.latencyMs.p95 < 1000, `light: p95 ${r.light.latencyMs.p95} ms`);
  // Heavy (about 3x what the link carries): fewer, merged updates, and no backlog.
  t.ok(r.heavy.updates >= 3, `heavy: ${r.heavy.updates} updates`);
  t.ok(r.heavy.updates < r.heavy.changes / 5, `heavy: ${r.heavy.changes} changes merged into ${r.heavy.updates} updates`);
  t.ok(r.heavy.latencyMs.max < 4000, `heavy: latency stays under 4 s (max ${r.heavy.latencyMs.max} ms)`);
  t.ok(r.heavy.secondHalfP95 < r.heavy.firstHalfP95 * 1.5 + 500, `heavy: no growth (p95 ${r.heavy.firstHalfP95} then ${r.heavy.secondHalfP95} ms)`);
});
