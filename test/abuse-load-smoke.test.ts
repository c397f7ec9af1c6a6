// A small, fast version of bench/load-sessions.ts (which runs 1,000 sessions for 60 s and 5,000
// idle ones): 100 sessions paired through real handshakes, a 200 B encrypted message every
// 100 ms each way for 5 s through one real relay process, then 300 idle sessions. No errors, no
// message lost, and the relay's memory per idle session stays within a generous bound.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from '../bench/load-sessions.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const skip = existsSync(join(root, 'dist', 'cli', 'main.js')) ? false : 'run `npx tsc -p tsconfig.build.json` first';

t.test('100 sessions under load, then 300 idle', { skip }, async (t) => {
  const r = await runLoad({ mode: 'secure', sessions: 100, seconds: 5, intervalMs: 100, bytes: 200, idle: 300 });
  t.comment(JSON.stringify(r));
  t.equal(r.errors, 0, `no errors ${JSON.stringify(r.errorKinds)}`);
  t.equal(r.received, r.sent, `all ${r.sent} messages arrived`);
  // 100 sessions x 2 directions x 10 per second x 5 s, give or take the last tick.
  t.ok(r.sent >= 9000, `${r.sent} messages sent`);
  t.ok(r.latencyMs.p50 < 100, `forwarding latency p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms`);
  t.ok(r.idleKiBPerSession !== null && r.idleKiBPerSession < 512, `${r.idleKiBPerSession} KiB of relay RSS per idle session`);
});
