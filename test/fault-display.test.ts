// The customer's X server stops in the middle of a session (a logout, a crashed server, a
// killed Xvfb): `rso share` must notice, end the session with a sentence on both sides and
// restore the customer's terminal, with control off (an idle screen: nothing is being read
// that could fail) and with control on (the native input libraries hold X connections of
// their own, and Xlib's default reaction to a lost server is to end the whole process).
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasXTools, startX } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { connectShare, grantControl, shareScreen } from './helpers/share-session.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'daemon', 'input', 'robot.js'));
const skip = hasXTools() || (!built ? 'run `npx tsc -p tsconfig.build.json` first' : false);

async function displayDies(t: Test, control: boolean): Promise<void> {
  const x = await startX({ width: 800, height: 600 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const s = await connectShare(t, x, relay, { viewport: { width: 800, height: 600 } });
  await shareScreen(s);
  if (control) await grantControl(s);
  await x.stop();
  t.equal(await s.pane.waitExit(10_000), 11, 'rso share exits with the display status (11)');
  const text = s.pane.text();
  t.match(text, /rso: The X display :\d+ went away \(its X server stopped\)\. \(RSO_ERR_NO_DISPLAY\)/, 'one sentence says why');
  t.notMatch(text, /SHARING|Control: /, 'the panel is gone: the terminal was restored');
  t.notMatch(text, /X connection to .* broken/, 'no native library ended the process on its own');
  await s.agent.waitFor(() => s.agent.last('bye') !== undefined || s.agent.closeInfo !== undefined, 10_000, 'the engineer told');
  t.equal(s.agent.last('bye')?.reason, 'display lost', 'the engineer learns why');
}

t.test('the display goes away while shared, control off', { skip }, (t) => displayDies(t, false));
t.test('the display goes away while the engineer has control', { skip }, (t) => displayDies(t, true));
