// A display with two monitors: after accepting, `s` asks which monitor to share (or all); the
// agent then receives that monitor only, at its size, and a later `s` switches to the other
// one without ending the session. Two xterms with unique colours, one per monitor, tell which
// monitor the agent is looking at; the one not shared must never show up while another is.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { hasXTools, spawnWindow, startDualHeadX, waitFor, xrun } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { connectShare, grantControl } from './helpers/share-session.js';
import { countRgb } from './helpers/pixels.js';

const missing = hasXTools() || (spawnSync('sh', ['-c', 'command -v Xephyr']).status !== 0 ? 'Xephyr not installed' : false);
const LEFT = 0xc02020;
const RIGHT = 0x2040c0;

t.test('with two monitors the customer picks one in the panel, and can switch', { skip: missing }, async (t) => {
  const x = await startDualHeadX({ width: 800, height: 600 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  await spawnWindow('xterm', ['-geometry', '40x10+100+100', '-bg', '#c02020', '-fg', '#c02020'], x.env);
  await spawnWindow('xterm', ['-geometry', '40x10+900+100', '-bg', '#2040c0', '-fg', '#2040c0'], x.env);

  const { agent, pane } = await connectShare(t, x, relay, { viewport: { width: 4096, height: 4096 } });
  pane.keys('Enter');
  await pane.waitText(/s: share the whole screen/);
  pane.keys('s');
  const menu = await pane.waitText(/several monitors/);
  t.match(menu, /1: monitor 1, 800x600 at 0,0/, 'the first monitor is offered with its place');
  t.match(menu, /2: monitor 2, 800x600 at 800,0/, 'so is the second');
  t.match(menu, /all monitors/);
  t.equal(agent.updates.length, 0, 'nothing is shared while the customer chooses');

  pane.keys('2');
  await pane.waitText(/SHARING.*monitor 2 of 2/);
  await agent.waitFor(() => agent.updates.length > 0, 15_000, 'the first update of monitor 2');
  await agent.settle();
  t.same([agent.fb.width, agent.fb.height], [800, 600], 'the picture is one monitor, not the whole desktop');
  t.ok(countRgb(agent.fb.data, RIGHT) > 10_000, 'the right monitor is what the agent sees');
  t.equal(countRgb(agent.fb.data, LEFT), 0, 'nothing of the left monitor');
  const info = agent.last('info');
  t.same(info?.screen, { width: 800, height: 600 });

  // Switch: s again, then Up/Enter on the list (the cursor starts on the primary monitor).
  const before = agent.updates.length;
  pane.keys('s');
  await pane.waitText(/several monitors/);
  pane.keys('1');
  await pane.waitText(/SHARING.*monitor 1 of 2/);
  await agent.waitFor(() => agent.updates.length > before, 15_000, 'updates of monitor 1');
  await agent.settle();
  t.ok(countRgb(agent.fb.data, LEFT) > 10_000, 'after switching, the left monitor is shown');
  t.equal(countRgb(agent.fb.data, RIGHT), 0, 'and nothing of the right one');

  // "all monitors" is the last entry: the whole desktop, both windows.
  pane.keys('s');
  await pane.waitText(/several monitors/);
  pane.keys('Up');
  pane.keys('Enter');
  await pane.waitText(/SHARING your whole screen/);
  await agent.waitFor(() => agent.fb.width === 1600, 15_000, 'the whole desktop');
  await agent.settle();
  t.ok(countRgb(agent.fb.data, LEFT) > 10_000 && countRgb(agent.fb.data, RIGHT) > 10_000, 'both monitors');

  pane.keys('q');
  t.equal(await pane.waitExit(), 0);
});

t.test('with control on, the engineer\'s pointer follows the monitor the customer switches to', { skip: missing }, async (t) => {
  const x = await startDualHeadX({ width: 800, height: 600 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const s = await connectShare(t, x, relay, { viewport: { width: 4096, height: 4096 } });
  const pointer = (): string => xrun(x.env, 'xdotool', ['getmouselocation', '--shell']).split('\n').slice(0, 2).join(' ');
  s.pane.keys('Enter');
  await s.pane.waitText(/s: share the whole screen/);
  s.pane.keys('s');
  await s.pane.waitText(/several monitors/);
  s.pane.keys('2');
  await s.pane.waitText(/SHARING.*monitor 2 of 2/);
  await s.agent.waitFor(() => s.agent.updates.length > 0, 15_000, 'the first update of monitor 2');
  await grantControl(s);

  await s.agent.send({ type: 'input', events: [{ t: 'move', x: 10, y: 20 }] });
  await waitFor(() => pointer() === 'X=810 Y=20', 5000, `the pointer on monitor 2 (at ${pointer()})`);
  t.pass('a move in the picture of monitor 2 lands on monitor 2');

  s.pane.keys('s');
  await s.pane.waitText(/several monitors/);
  s.pane.keys('1');
  await s.pane.waitText(/SHARING.*monitor 1 of 2/);
  await s.agent.waitFor(() => s.agent.last('state')?.view.kind === 'screen' && s.agent.updates.length > 1, 15_000, 'monitor 1 shared');
  t.equal(s.agent.last('state')?.control, true, 'control stays on across the switch');
  await s.agent.send({ type: 'input', events: [{ t: 'move', x: 30, y: 40 }] });
  await waitFor(() => pointer() === 'X=30 Y=40', 5000, `the pointer on monitor 1 (at ${pointer()})`);
  t.pass('after the switch, the same picture coordinates land on monitor 1, the one now shown');
  s.pane.keys('q');
  t.equal(await s.pane.waitExit(), 0);
});
