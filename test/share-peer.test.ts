// The engineer's side of a session as the customer's daemon sees it: pause stops the picture,
// input is never injected without control (view only: dropped and counted), a view request is a prompt that
// defaults to No, and when the engineer ends the session the customer is told and the daemon
// exits 0 with its display connection gone. Also: Ctrl-C while waiting for the engineer.
import t from 'tap';
import { hasXTools, spawnWindow, startX, xrun } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { connectShare } from './helpers/share-session.js';
import { startShare } from './helpers/tmux.js';
import { xClientCount } from './helpers/xres.js';

const missing = hasXTools();

t.test('pause, dropped input, a refused request, then the engineer ends the session', { skip: missing }, async (t) => {
  const x = await startX({ width: 800, height: 600 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const term = await spawnWindow('xterm', ['-geometry', '60x20+10+10'], x.env);
  const baseline = await xClientCount(x.display);

  const { agent, pane } = await connectShare(t, x, relay, { viewport: { width: 800, height: 600 } });
  pane.keys('Enter');
  await pane.waitText(/s: share the whole screen/);

  await agent.send({ type: 'request', what: 'view' });
  const prompt = await pane.waitText(/asks to see your screen/);
  t.match(prompt, /no \(default\)/);
  pane.keys('Enter');
  await agent.waitFor(() => agent.last('answer') !== undefined, 5000, 'answer');
  t.same(agent.last('answer'), { type: 'answer', request: 'view', granted: false }, 'Enter means No');
  t.equal(agent.updates.length, 0, 'and nothing is shared');

  pane.keys('s');
  await agent.waitFor(() => agent.updates.length > 0, 10_000, 'first update');
  await agent.settle();

  await agent.send({ type: 'input', events: [{ t: 'key', key: 'a', down: true, mods: [] }, { t: 'move', x: 5, y: 5 }] });
  await agent.send({ type: 'request', what: 'control' });
  await pane.waitText(/Allow\? \(y\/N\)/);
  pane.keys('Enter');
  await agent.waitFor(() => agent.last('answer')?.request === 'control', 5000, 'control answer');
  t.same(agent.last('answer'), { type: 'answer', request: 'control', granted: false });
  await new Promise((r) => setTimeout(r, 300));
  t.match(pane.events().filter((e) => e.event === 'input-dropped').at(-1), { total: 2 }, 'both input events dropped and counted');

  pane.keys('p');
  await pane.waitText(/PAUSED/);
  await agent.waitFor(() => agent.last('state')?.paused === true, 5000, 'paused state');
  const count = agent.updates.length;
  xrun(x.env, 'xdotool', ['type', '--window', String(term.wid), 'hidden while paused']);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(agent.updates.length, count, 'no update while paused');
  pane.keys('p');
  await agent.waitFor(() => agent.updates.length > count, 5000, 'update after resume');
  t.equal(agent.last('state')?.paused, false);

  await agent.send({ type: 'bye', reason: 'done' });
  await agent.close();
  t.equal(await pane.waitExit(), 0, 'exit 0 when the engineer ends');
  t.match(pane.text(), /The support engineer ended the session\./);
  t.equal(await xClientCount(x.display), baseline, 'display connection released');
});

t.test('Ctrl-C while waiting for the engineer ends at once, exit 0', async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const pane = startShare(['--relay', relay.url], {});
  t.teardown(() => pane.kill());
  await pane.waitText(/Your session number/);
  pane.keys('C-c');
  t.equal(await pane.waitExit(), 0);
  t.match(pane.text(), /You ended the session\./);
});
