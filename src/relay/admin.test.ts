import t from 'tap';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest, adminSocketPath, answer, serveAdmin, type AdminTarget } from './admin.js';
import type { SessionInfo } from './server-api.js';

const ended: string[] = [];
const target: AdminTarget = {
  sessions: () => [{ id: 'abc123' } as SessionInfo],
  end: (id) => (ended.push(id), id === 'abc123'),
};

t.test('answer: sessions, end, and nothing else', async (t) => {
  t.same(answer(target, '{"cmd":"sessions"}'), { ok: true, sessions: [{ id: 'abc123' }] });
  t.same(answer(target, '{"cmd":"end","id":"abc123"}'), { ok: true, ended: 'abc123' });
  t.same(answer(target, '{"cmd":"end","id":"ffff"}'), { ok: false, error: 'no session ffff' });
  for (const bad of ['', 'nope', '{"cmd":"end"}', '{"cmd":"end","id":"../x"}', '{"cmd":"shutdown"}']) {
    t.same(answer(target, bad), { ok: false, error: 'bad request' }, bad);
  }
  t.same(ended, ['abc123', 'ffff'], 'only well-formed ids reach the relay');
});

t.test('the socket is 0600, answers one request per connection, and a second relay does not take it over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rso-admin-'));
  const server = await serveAdmin(dir, target);
  t.ok(server);
  t.teardown(() => server?.close());
  t.equal(statSync(adminSocketPath(dir)).mode & 0o777, 0o600);
  t.same(await adminRequest(dir, { cmd: 'sessions' }), { ok: true, sessions: [{ id: 'abc123' }] });
  t.equal(await serveAdmin(dir, target), null, 'a live socket stays with its relay');
  await t.rejects(adminRequest(mkdtempSync(join(tmpdir(), 'rso-admin-')), { cmd: 'sessions' }), { code: 'RSO_ERR_UNREACHABLE', message: /no relay is running/ });
});
