// The whole product, both ends real: `rso connect --graphics blocks` in a tmux pty, `rso share`
// in another, a real relay, an Xvfb desktop whose background colour the test sets. The viewer
// shows the states, the customer's screen in its colours and its change, and `q` ends both.
import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasXTools, spawnWindow, startX } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { startShare } from './helpers/tmux.js';
import { TmuxPane, cellPixels, hasTmux, parseCells } from './helpers/pty.js';
import { HEADER_ROWS } from '../src/agent/ui/layout.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'cli', 'share.js')) && existsSync(join(root, 'dist', 'agent', 'viewer.js'));
const skip = hasXTools() || (!hasTmux() ? 'tmux not installed' : !built ? 'run `npx tsc -p tsconfig.build.json` first' : false);

/** How many picture cells in the middle row of the pane show `color` (top pixel). */
function cellsOf(pane: TmuxPane, color: number): number {
  const row = HEADER_ROWS + 15;
  return parseCells(pane.styled()[row] ?? '').filter((c) => cellPixels(c)[0] === color).length;
}

t.test('rso connect against rso share on Xvfb', { skip }, async (t) => {
  const x = await startX({ width: 800, height: 600, wm: false });
  t.teardown(() => x.stop());
  // Without a window manager a window sits exactly where asked: a red one over the whole screen.
  const fullScreen = ['-geometry', '200x100+0+0', '-e', 'sleep', '600'];
  await spawnWindow('xterm', ['-bg', '#ff0000', ...fullScreen], x.env);
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());

  const viewer = TmuxPane.start({
    cols: 120,
    rows: 40,
    cwd: root,
    env: { RSO_RELAY: relay.url, RSO_TOKEN: relay.token, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'rso-cfg-')), TERM: 'xterm-256color' },
  });
  t.teardown(() => viewer.kill());
  viewer.run('echo VIEWER-BEFORE; node bin/rso.js connect --graphics blocks; echo EXIT=$?');
  const waiting = await viewer.waitForText(/Session number: (\d{3} \d{3} \d{3})/);
  t.match(waiting[0], /WAITING FOR CUSTOMER/);
  const digits = /Session number: (\d{3} \d{3} \d{3})/.exec(waiting.join('\n'))![1]!.replace(/ /g, '');

  const share = startShare([digits, '--relay', relay.url], { DISPLAY: x.display, XAUTHORITY: '/dev/null' });
  t.teardown(() => share.kill());
  // The customer accepts the engineer, then chooses to share the whole screen.
  const consent = await share.waitText(/Enter.*accept/);
  const code = /Verification code: (\d{4})/.exec(consent)?.[1];
  share.keys('Enter');
  const connected = await viewer.waitForText(/CONNECTED.*not shared/);
  t.match(connected[0], /VIEW ONLY/);
  t.ok(code, 'the customer sees a verification code');
  t.match(connected[0], new RegExp(`code ${code}`), 'the viewer shows the same code');
  await share.waitText(/s: share the whole screen/);
  share.keys('s');
  await viewer.waitForText(/shared: whole screen/);
  await viewer.waitFor(() => cellsOf(viewer, 0xff0000) > 80, 'the red screen in the picture');
  t.ok(true, 'the picture shows the red screen');

  await spawnWindow('xterm', ['-bg', '#0000ff', ...fullScreen], x.env);
  await viewer.waitFor(() => cellsOf(viewer, 0x0000ff) > 80 && cellsOf(viewer, 0xff0000) === 0, 'the screen turning blue');
  t.ok(true, 'the picture follows the change');
  t.match(viewer.text()[1], /\d+ fps .*B\/s .*latency (\d+ ms|-)/, 'the figures are shown');

  viewer.keys('q');
  const after = await viewer.waitForText(/EXIT=\d+/);
  t.match(after.join('\n'), /You ended the session\.\nEXIT=0/);
  t.same(viewer.modes(), { alternate: false, cursorVisible: true }, 'the viewer terminal is restored');
  t.match(after.join('\n'), /^VIEWER-BEFORE$/m);
  t.equal(await share.waitExit(), 0, 'rso share ended too');
});
