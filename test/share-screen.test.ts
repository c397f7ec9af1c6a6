// `rso share` end to end: a real Xvfb + openbox, a real relay, the daemon in a real pty (tmux),
// and the test agent. The customer opens the session (the number is read off the panel), the
// agent joins, the customer accepts and shares the whole screen, and the agent's rebuilt
// picture must equal an independent capture of the display (xwd) pixel for pixel. Then `q`
// ends it: the agent is told, the daemon exits 0 and leaves no process or X client behind.
// Needs a build first (bin/rso.js runs dist/): `npx tsc -p tsconfig.build.json`.
import t from 'tap';
import { hasXTools, spawnWindow, startX, xwdRoot } from './helpers/x11.js';
import { relayWithAgent, AGENT } from './helpers/client-pairing.js';
import { TestAgent } from './helpers/agent.js';
import { childrenOf, daemonPid, startShare } from './helpers/tmux.js';
import { xClientCount } from './helpers/xres.js';
import { diffPixels } from './helpers/pixels.js';

const missing = hasXTools();

t.test('whole screen at 1:1 equals xwd pixel for pixel; q ends cleanly', { skip: missing }, async (t) => {
  const x = await startX({ width: 1024, height: 768 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  await spawnWindow('xterm', ['-geometry', '80x24+40+40', '-bg', '#102040', '-fg', '#e0e0a0', '-e', 'sh', '-c', 'echo rso share test; ls /; sleep 600'], x.env);
  await spawnWindow('xclock', ['-geometry', '200x200+700+300', '-update', '3600'], x.env);
  const baselineClients = await xClientCount(x.display);

  const pane = startShare(['--relay', relay.url], { DISPLAY: x.display, XAUTHORITY: '/dev/null' });
  t.teardown(() => pane.kill());
  const shown = await pane.waitText(/Your session number: (\d{3} \d{3} \d{3})/);
  t.match(shown, /expires in \d+:\d\d/, 'a countdown is shown');
  const number = /Your session number: (\d{3} \d{3} \d{3})/.exec(shown)![1]!;
  const agent = await TestAgent.join(relay.url, relay.token, number);

  const consent = await pane.waitText(/Verification code: (\d{4})/);
  t.match(consent, `${AGENT.name}, ${AGENT.org} — verified by`, 'the verified identity is shown');
  t.match(consent, agent.session.verificationCode, 'the same verification code on both sides');
  t.equal(pane.events().filter((e) => e.event === 'capture-open').length, 0, 'nothing opened before consent');

  await agent.ready({ width: 4096, height: 4096 });
  pane.keys('Enter');
  await pane.waitText(/Nothing is shared yet/);
  await agent.waitFor(() => agent.last('state') !== undefined, 5000, 'state after accept');
  t.same(agent.last('state'), { type: 'state', view: { kind: 'none' }, control: false, paused: false });
  t.equal(agent.updates.length, 0, 'accepting alone shows nothing');
  t.equal(await xClientCount(x.display), baselineClients, 'the display is not even opened after accepting');

  pane.keys('s');
  const status = await pane.waitText(/SHARING/);
  t.match(status, /Control: OFF \(view only\)/);
  t.match(status, /p: pause/);
  await agent.waitFor(() => agent.updates.length > 0, 10_000, 'first update');
  await agent.settle();
  t.same(agent.last('info')?.screen, { width: 1024, height: 768 });
  t.same(agent.last('state')?.view, { kind: 'screen' });

  const ref = xwdRoot(x.env);
  t.same([agent.fb.width, agent.fb.height], [ref.width, ref.height], '1:1 size');
  t.equal(diffPixels(ref, agent.fb), 0, 'the rebuilt screen equals xwd pixel for pixel');

  const pid = daemonPid(pane);
  t.ok(pid, 'daemon running');
  t.same(childrenOf(pid!), [], 'the daemon runs no child process');
  t.ok((await xClientCount(x.display)) > baselineClients, 'the daemon holds a display connection while sharing');

  pane.keys('q');
  t.equal(await pane.waitExit(), 0, 'q exits 0');
  t.match(pane.text(), /You ended the session/);
  await agent.waitFor(() => agent.closeInfo !== undefined, 5000, 'agent sees the end');
  t.same(agent.last('bye'), { type: 'bye', reason: 'customer ended the session' }, 'the engineer is told');
  t.equal(agent.closeInfo?.by, 'peer', 'closed by the customer, authenticated');
  t.same(childrenOf(pane.panePid).filter((p) => p === pid), [], 'the daemon process is gone');
  t.equal(await xClientCount(x.display), baselineClients, 'no X client (and so no X resource) left behind');
});
