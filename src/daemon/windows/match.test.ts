import t from 'tap';
import { matchesApp, parseAppSpecs, processName } from './match.js';
import { RsoError } from '../../errors.js';

t.test('parseAppSpecs', async (t) => {
  t.same(parseAppSpecs('app:firefox,app:XTerm'), [{ kind: 'app', name: 'firefox' }, { kind: 'app', name: 'xterm' }]);
  t.same(parseAppSpecs(' app:code , '), [{ kind: 'app', name: 'code' }]);
  for (const bad of ['firefox', 'app:', 'win:1', '', ',']) {
    t.throws(() => parseAppSpecs(bad), { code: 'RSO_ERR_USAGE' }, JSON.stringify(bad));
    t.ok((() => { try { parseAppSpecs(bad); } catch (e) { return e instanceof RsoError; } return false; })());
  }
});

t.test('matchesApp: WM_CLASS instance or class, case-insensitive, whole names', async (t) => {
  const specs = parseAppSpecs('app:firefox,app:xterm');
  const none = (): null => null;
  t.ok(matchesApp(specs, { pid: null, instance: 'Navigator', class: 'Firefox' }, none));
  t.ok(matchesApp(specs, { pid: null, instance: 'xterm', class: 'Foo' }, none));
  t.notOk(matchesApp(specs, { pid: null, instance: 'xterminal', class: 'Term' }, none));
  t.notOk(matchesApp(parseAppSpecs('app:term'), { pid: null, instance: 'xterm', class: 'XTerm' }, none));
});

t.test('matchesApp: falls back to the process name', async (t) => {
  const specs = parseAppSpecs('app:code');
  t.ok(matchesApp(specs, { pid: 42, instance: 'x', class: 'Y' }, (pid) => (pid === 42 ? 'Code' : null)));
  t.notOk(matchesApp(specs, { pid: 43, instance: 'x', class: 'Y' }, (pid) => (pid === 42 ? 'code' : null)));
});

t.test('processName reads /proc for a live process, null for none', { skip: process.platform !== 'linux' }, async (t) => {
  t.equal(processName(process.pid), 'node');
  t.equal(processName(2 ** 30), null);
});
