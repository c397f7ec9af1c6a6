// The Xvfb that `rso demo` (and the test helpers) start: it picks a free display number and
// never resets. An X server resets when its last client leaves, and a client that connects
// during the reset is refused: the demo's probe for the window manager (xprop connects and
// leaves) raced openbox's own connect that way, and under load openbox exited with "Failed to
// open the display". A reset also clears the root window's properties, which is what this test
// looks at: it is deterministic where the race is not.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { launchXvfb } from '../src/demo/xvfb.js';
import { missingPrograms } from '../src/demo/tools.js';

const missing = missingPrograms(['Xvfb', 'xprop']);

t.test('the display outlives its last client', { skip: missing.length > 0 ? `${missing.join(', ')} not installed` : false }, async (t) => {
  const { xvfb, display } = await launchXvfb({ width: 320, height: 240 });
  t.teardown(() => void xvfb.kill('SIGKILL'));
  t.match(display, /^:\d+$/, 'a display number of its own');
  const env = { ...process.env, DISPLAY: display, XAUTHORITY: '/dev/null' };
  const set = spawnSync('xprop', ['-root', '-f', 'RSO_TEST_MARK', '8s', '-set', 'RSO_TEST_MARK', 'still here'], { env, encoding: 'utf8' });
  t.equal(set.status, 0, `xprop -set: ${set.stderr}`);
  // xprop was the only client; with a reset, the next client would find a fresh root window.
  await new Promise((r) => setTimeout(r, 300));
  const got = spawnSync('xprop', ['-root', 'RSO_TEST_MARK'], { env, encoding: 'utf8' });
  t.match(got.stdout, /RSO_TEST_MARK\(STRING\) = "still here"/, 'the root window kept its property: no reset');
});
