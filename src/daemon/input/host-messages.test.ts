// The checks on both ends of the input host's IPC channel: good messages pass as they are,
// anything else is null (the receiver then ends the host instead of guessing).
import t from 'tap';
import { parseFromHost, parseToHost } from './host-messages.js';

t.test('from the host', async (t) => {
  t.same(parseFromHost({ t: 'ready', injector: 'robotjs', hotkey: 'uiohook-napi' }), { t: 'ready', injector: 'robotjs', hotkey: 'uiohook-napi' });
  t.same(parseFromHost({ t: 'failed', code: 'RSO_ERR_NO_DISPLAY', message: 'No display.' }), { t: 'failed', code: 'RSO_ERR_NO_DISPLAY', message: 'No display.' });
  t.same(parseFromHost({ t: 'f12', extra: 1 }), { t: 'f12' }, 'only t is kept');
  t.same(parseFromHost({ t: 'inject-failed', code: 'RSO_ERR_INTERNAL' }), { t: 'inject-failed', code: 'RSO_ERR_INTERNAL' });
  for (const bad of [null, 'f12', [], { t: 'ready', injector: 1, hotkey: 'x' }, { t: 'failed', code: 'RSO_ERR_MADE_UP', message: 'x' }, { t: 'failed', code: 'constructor', message: 'x' }, { t: 'inject-failed' }, { t: 'hello' }]) {
    t.equal(parseFromHost(bad), null, JSON.stringify(bad));
  }
});

t.test('to the host', async (t) => {
  t.same(parseToHost({ t: 'start', opts: { display: ':3' } }), { t: 'start', opts: { display: ':3' } });
  t.same(parseToHost({ t: 'start', opts: {} }), { t: 'start', opts: {} });
  t.same(parseToHost({ t: 'arm' }), { t: 'arm' });
  t.same(parseToHost({ t: 'release' }), { t: 'release' });
  t.same(parseToHost({ t: 'inject', event: { t: 'move', x: 1, y: 2 } }), { t: 'inject', event: { t: 'move', x: 1, y: 2 } });
  for (const bad of [undefined, { t: 'start' }, { t: 'start', opts: [] }, { t: 'start', opts: { display: 3 } }, { t: 'inject' }, { t: 'inject', event: [] }, { t: 'quit' }]) {
    t.equal(parseToHost(bad), null, JSON.stringify(bad) ?? 'undefined');
  }
});
