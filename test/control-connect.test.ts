// The engineer's side of remote control, both ends real: `rso connect --graphics blocks` in a
// tmux pty, `rso share` in another, a relay and an Xvfb desktop with a raw `cat > file` xterm.
// `c` in the viewer asks, the customer presses y, and what is typed in the viewer arrives in
// the customer's xterm; F12 on the customer's desktop takes control back and the viewer says
// so; Ctrl-] q ends the session from inside control.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasXTools, spawnWindow, startX, waitFor, xrun } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { startShare } from './helpers/tmux.js';
import { TmuxPane, hasTmux } from './helpers/pty.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'daemon', 'input', 'robot.js')) && existsSync(join(root, 'dist', 'agent', 'input', 'route.js'));
const skip = hasXTools() || (!hasTmux() ? 'tmux not installed' : !built ? 'run `npx tsc -p tsconfig.build.json` first' : false);

t.test('c in the viewer, y on the customer side, then the viewer types on the customer desktop', { skip }, async (t) => {
  const x = await startX({ width: 800, height: 600 });
  t.teardown(() => x.stop());
  const file = join(mkdtempSync(join(tmpdir(), 'rso-control-')), 'typed');
  const term = await spawnWindow('xterm', ['-geometry', '60x10+20+20', '-e', 'sh', '-c', `stty raw -echo; exec cat > ${file}`], x.env);
  xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(term.wid)]);
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());

  const viewer = TmuxPane.start({
    cols: 120,
    rows: 40,
    cwd: root,
    env: { RSO_RELAY: relay.url, RSO_TOKEN: relay.token, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'rso-cfg-')), TERM: 'xterm-256color' },
  });
  t.teardown(() => viewer.kill());
  viewer.run('node bin/rso.js connect --graphics blocks; echo EXIT=$?');
  const waiting = await viewer.waitForText(/Session number: (\d{3} \d{3} \d{3})/);
  const digits = /Session number: (\d{3} \d{3} \d{3})/.exec(waiting.join('\n'))![1]!.replace(/ /g, '');
  const share = startShare([digits, '--relay', relay.url], { DISPLAY: x.display, XAUTHORITY: '/dev/null' });
  t.teardown(() => share.kill());
  await share.waitText(/Enter.*accept/);
  share.keys('Enter');
  await share.waitText(/s: share the whole screen/);
  share.keys('s');
  await viewer.waitForText(/shared: whole screen/);
  t.match((await viewer.waitForText(/c.*ask for control/)).join('\n'), /VIEW ONLY/);

  // View only: a paste (tmux brackets it, as the viewer asked with mode 2004) is not keys: the
  // q of a pasted "quit" neither ends the session nor reaches the customer.
  viewer.tmux(['set-buffer', '-b', 'clip', 'quit']);
  viewer.tmux(['paste-buffer', '-p', '-d', '-b', 'clip']);
  await new Promise((r) => setTimeout(r, 500));
  t.match(viewer.text().join('\n'), /VIEW ONLY/, 'a pasted "quit" in view only does not end the session');

  // View only: typing in the viewer reaches nobody. Typed fast, the c arrives in the same read
  // as the letters before it: it still asks.
  viewer.keys('-l', 'xyzc');
  const prompt = await share.waitText(/asks to control your mouse and keyboard\. Allow\? \(y\/N\)/);
  t.match(prompt, /Never allow control to someone who called you unexpectedly/);
  share.keys('y');
  const on = await viewer.waitForText(/CONTROL.*your keys and mouse go to the customer/);
  t.match(on[0], / CONTROL /, 'the header says CONTROL');
  await share.waitText(/CONTROL ON/);

  viewer.keys('-l', 'Hello World! <>?');
  viewer.keys('C-u');
  await waitFor(() => readFileSync(file, 'latin1').length >= 17, 10_000, 'typed text on the customer side');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(readFileSync(file, 'latin1'), 'Hello World! <>?\x15', 'the viewer\'s keys arrive exactly (and the view-only "xyz" never did)');

  // The escape prefix: Ctrl-] x cancels and sends nothing; Ctrl-] ] sends Ctrl-] itself.
  viewer.keys('C-]');
  await viewer.waitForText(/Ctrl-\] +then +q +end/);
  viewer.keys('x');
  viewer.keys('C-]', ']');
  await waitFor(() => readFileSync(file, 'latin1').length >= 18, 10_000, 'Ctrl-] sent through');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(readFileSync(file, 'latin1'), 'Hello World! <>?\x15\x1d', 'Ctrl-] ] sends Ctrl-], the cancelled x is not sent');

  // In control, a paste is typed on the customer's side, its line end as Return.
  viewer.tmux(['set-buffer', '-b', 'clip', 'pasted q\n']);
  viewer.tmux(['paste-buffer', '-p', '-d', '-b', 'clip']);
  await waitFor(() => readFileSync(file, 'latin1').endsWith('pasted q\r'), 10_000, 'the paste on the customer side');
  t.pass('a paste with control on arrives as typed text and Return');
  // A paste over the customer's rate limit (600 at once) goes out at its pace and arrives whole.
  const long = Array.from({ length: 1500 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  viewer.tmux(['set-buffer', '-b', 'clip', long]);
  viewer.tmux(['paste-buffer', '-p', '-d', '-b', 'clip']);
  await waitFor(() => readFileSync(file, 'latin1').endsWith(long), 20_000, 'the long paste whole on the customer side');
  t.pass('1,500 pasted characters arrive whole');

  // F12 on the customer's desktop: control off, and the engineer is told.
  xrun(x.env, 'xdotool', ['key', 'F12']);
  await viewer.waitForText(/Control revoked by customer/);
  t.match((await viewer.waitForText(/VIEW ONLY/))[0], /VIEW ONLY/);
  const size = readFileSync(file).length;
  // Typing on for a moment (a q among it) neither reaches the customer nor ends the viewer.
  viewer.keys('-l', 'zzq');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(readFileSync(file, 'latin1').slice(size).includes('z'), false, 'after F12 the viewer\'s keys stay home');
  t.match(viewer.text().join('\n'), /VIEW ONLY/, 'a q typed just after the revoke did not end the session');

  // Control again (the prefix works at once; a plain c after the grace time), then end from
  // inside it with the escape prefix.
  viewer.keys('C-]', 'c');
  await share.waitText(/Allow\? \(y\/N\)/);
  share.keys('y');
  await viewer.waitForText(/your keys and mouse go to the customer/);
  viewer.keys('q');
  await waitFor(() => readFileSync(file, 'latin1').endsWith('q'), 10_000, 'q typed on the customer side');
  t.pass('in control, q is just a letter for the customer');
  viewer.keys('C-]', 'q');
  const after = await viewer.waitForText(/EXIT=\d+/);
  t.match(after.join('\n'), /You ended the session\.\nEXIT=0/);
  t.same(viewer.modes(), { alternate: false, cursorVisible: true }, 'terminal restored');
  t.equal(await share.waitExit(), 0, 'rso share ended too');
});
