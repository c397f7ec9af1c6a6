// Declining (Esc) at the consent prompt: the display is never opened (the X server never sees
// a connection from the daemon, counted with X-Resource while the prompt is up and after the
// end; the daemon's own diagnostics channel reports no capture), the engineer is told, and the
// daemon exits 0.
import t from 'tap';
import { hasXTools, startX, spawnWindow } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { TestAgent } from './helpers/agent.js';
import { startShare } from './helpers/tmux.js';
import { xClientCount } from './helpers/xres.js';

const missing = hasXTools();

t.test('declining: no capture ever starts, the agent is told, the daemon exits 0', { skip: missing }, async (t) => {
  const x = await startX({ width: 640, height: 480 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  await spawnWindow('xterm', ['-geometry', '40x10+10+10'], x.env);
  const baseline = await xClientCount(x.display);

  let digits = '';
  const agentP = TestAgent.open(relay.url, relay.token, (d) => (digits = d), { width: 640, height: 480 });
  while (digits === '') await new Promise((r) => setTimeout(r, 20));
  const pane = startShare([digits, '--relay', relay.url, '--share', 'screen'], { DISPLAY: x.display, XAUTHORITY: '/dev/null' });
  t.teardown(() => pane.kill());
  const agent = await agentP;
  // The agent asks for frames and to view before the customer decided: none of it may start a capture.
  await agent.ready();
  await agent.send({ type: 'request', what: 'view' });
  await pane.waitText(/Esc.*decline/);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(await xClientCount(x.display), baseline, 'no display connection while the customer decides');

  pane.keys('Escape');
  t.equal(await pane.waitExit(), 0, 'exit status 0');
  t.match(pane.text(), /You declined\. Nothing was shared\./);
  await agent.waitFor(() => agent.closeInfo !== undefined, 5000, 'the end');
  t.same(agent.last('bye'), { type: 'bye', reason: 'declined' }, 'the engineer is told it was declined');
  t.same(agent.last('answer'), { type: 'answer', request: 'view', granted: false }, 'the early view request was refused');
  t.equal(agent.updates.length, 0, 'not a single frame');
  t.equal(agent.messages.filter((m) => m.type === 'info' || m.type === 'state').length, 0, 'not even the screen size');
  const events = pane.events().map((e) => e.event);
  t.ok(events.includes('exit'), 'the diagnostics channel works');
  t.notOk(events.includes('capture-open') || events.includes('read'), `no capture event (${events.join(', ')})`);
  t.equal(await xClientCount(x.display), baseline, 'still no display connection');
});
