// Input goes to the display that is shared, never to another one. robotjs opens ":0.0" before
// it looks at DISPLAY, so on a machine where some other session owns :0 the engineer's input
// used to land there (in the tests: on another test's screen, while the shared one never saw
// a click). Here the shared display is not :0 and something else is on :0; the injector,
// started the way the daemon starts it (no --display), must move the shared display's pointer.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasXTools, startX, xrun, type XServer } from './helpers/x11.js';

const missing = hasXTools();
const root = fileURLToPath(new URL('../', import.meta.url));
const answers = (display: string): boolean => spawnSync('xdpyinfo', ['-display', display], { stdio: 'ignore' }).status === 0;

t.test('the robotjs injector acts on DISPLAY even when :0 is another X server', { skip: missing }, async (t) => {
  const first = await startX({ width: 640, height: 480 });
  t.teardown(() => first.stop());
  let target: XServer = first;
  if (first.display === ':0') {
    // We hold :0 ourselves: that one is the other session, and the shared display is a second one.
    const second = await startX({ width: 640, height: 480 });
    t.teardown(() => second.stop());
    target = second;
  } else if (!answers(':0')) {
    const decoy: ChildProcess = spawn('Xvfb', [':0', '-screen', '0', '320x240x24', '-nolisten', 'tcp', '-noreset'], { stdio: 'ignore' });
    t.teardown(() => void decoy.kill('SIGKILL'));
    for (let i = 0; i < 100 && !answers(':0'); i++) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(answers(':0'), 'another X server is on :0');
  t.not(target.display, ':0');

  xrun(target.env, 'xdotool', ['mousemove', '5', '5']);
  const script = `
    import { openRobotInjector } from './src/daemon/input/robot.ts';
    const injector = openRobotInjector({ origin: { x: 0, y: 0 } });
    injector.inject({ t: 'move', x: 123, y: 77 });
    injector.close();
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: target.env, encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(xrun(target.env, 'xdotool', ['getmouselocation']), /^x:123 y:77 /, "the shared display's pointer moved");
});
