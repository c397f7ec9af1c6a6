import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, ProblemThrottle, type AuditProblem } from './audit.js';

t.test('a recurring problem is reported at once, then at most once per interval, with the count in between', async (t) => {
  const p = new ProblemThrottle(60_000);
  t.equal(p.occur(0), 1, 'the first one at once');
  t.equal(p.occur(1), 0);
  t.equal(p.occur(59_999), 0, 'quiet for the rest of the minute');
  t.equal(p.occur(60_000), 3, 'then one report for the three since');
  t.equal(p.occur(60_001), 0);
});

t.test('an audit file on a full disk (/dev/full): writes do not throw, the problem is reported once a minute', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const problems: AuditProblem[] = [];
  const log = new AuditLog('/dev/full', () => new Date(now), (p) => problems.push(p));
  t.teardown(() => log.close());
  for (let i = 0; i < 100; i++) {
    log.write({ event: 'opened', session: `s${i}` });
    now += 100;
  }
  t.same(problems, [{ file: '/dev/full', code: 'ENOSPC', lost: 1 }], 'one report for the first ten seconds of failures');
  now += 60_000;
  log.write({ event: 'ended', session: 's0' });
  t.same(problems[1], { file: '/dev/full', code: 'ENOSPC', lost: 100 }, 'a minute later: the lines lost since');
});

t.test('a writable audit file gets one JSON line per write and no problem', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'rso-audit-')), 'audit.jsonl');
  const problems: AuditProblem[] = [];
  const log = new AuditLog(file, () => new Date(0), (p) => problems.push(p));
  log.write({ event: 'opened', session: 's1' });
  log.close();
  t.same(readFileSync(file, 'utf8'), '{"time":"1970-01-01T00:00:00.000Z","event":"opened","session":"s1"}\n');
  t.same(problems, []);
});
