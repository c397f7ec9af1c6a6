// Relay restart under a real `rso share`: the daemon (in a tmux pty, on Xvfb) shares the
// screen and has granted control; the relay process is killed and started again on the same
// port. The daemon and the engineer's side resume by themselves, the panel says what happened,
// control is off (input is dropped as view-only), and the engineer gets a full picture again.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasXTools, spawnWindow, startX, waitFor } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { spawnRelay, type SpawnedRelay } from './helpers/relay.js';
import { connectShare, grantControl, shareScreen } from './helpers/share-session.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'client', 'resume.js'));
const skip = hasXTools() || (!built ? 'run `npx tsc -p tsconfig.build.json` first' : false);

t.test('relay killed mid-session under rso share: both resume, control is off, the picture comes again', { skip }, async (t) => {
  const x = await startX({ width: 640, height: 480 });
  t.teardown(() => x.stop());
  await spawnWindow('xterm', ['-geometry', '40x10+20+20'], x.env);
  const relay = await relayWithAgent();
  let current: SpawnedRelay = relay;
  t.teardown(() => current.stop());
  const session = await connectShare(t, x, relay, { viewport: { width: 640, height: 480 } });
  const { agent, pane } = session;
  const resumed: number[] = [];
  // What the viewer does on a resume: tell the daemon its size and last frame again.
  agent.session.onResume((e) => {
    if (e.type === 'resumed') {
      resumed.push(Date.now());
      void agent.ready().catch(() => undefined);
    }
  });
  await shareScreen(session);
  await grantControl(session);
  await agent.settle();

  relay.proc.kill('SIGKILL');
  await relay.exited;
  await pane.waitText(/Connection to the relay lost — reconnecting/, 5000);
  t.pass('the panel says the relay connection was lost');
  await pane.waitText(/reconnecting… [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, 3000);
  t.pass('and shows a spinner while it waits');
  const restartedAt = Date.now();
  current = await spawnRelay(['--join-rate', '100000', '--listen', `127.0.0.1:${relay.port}`], { dataDir: relay.dataDir });
  const updatesBefore = agent.updates.length;
  await waitFor(() => resumed.length > 0 && pane.events().some((e) => e.event === 'resumed'), 5000, 'both sides resumed');
  t.ok(resumed[0]! - restartedAt < 5000, `resumed ${resumed[0]! - restartedAt} ms after the relay came back`);
  const text = await pane.waitText(/resumed; control is off/, 5000);
  t.match(text, /Control: OFF/, 'the panel shows control off');
  t.notMatch(text, /reconnecting/, 'the reconnecting line is gone');
  await agent.waitFor(() => agent.last('state')?.control === false, 5000, 'the engineer is told control is off');
  t.match(pane.events().find((e) => e.event === 'resumed'), { control: false });
  await agent.waitFor(() => agent.updates.length > updatesBefore, 5000, 'a picture after the resume');
  const full = agent.updates.slice(updatesBefore).reduce((n, u) => n + u.update.tiles.length, 0);
  t.ok(full >= 10 * 8, `the whole screen is sent again (${full} tiles of 64x64)`);

  // The engineer's input is dropped (view only) until the customer says yes again.
  await agent.send({ type: 'input', events: [{ t: 'move', x: 5, y: 5 }] });
  await waitFor(() => pane.events().some((e) => e.event === 'input-dropped'), 5000, 'input dropped');
  t.match(pane.events().filter((e) => e.event === 'input-dropped').at(-1), { reasons: { 'view-only': 1 } });
  t.equal(pane.exitStatus(), null, 'rso share still runs');
});
