// Pull flow control against a real, busy screen: an agent that stops sending `ready` gets
// nothing more (not even cursor messages) once it holds an update it has not acknowledged,
// while the screen keeps changing; the daemon reads the screen at most once more (it prepares
// one update ahead and holds it, docs/daemon.md) and its memory stays flat; one `ready` later,
// the agent gets the current screen in one go, not a backlog.
//
// Two terminals: one that never stops writing, and one that writes in bursts with pauses (a
// build log, a pager). The second once looked like a stall: a burst that ends on the same
// screen as before reads the damage and finds nothing to send, and the agent, still owed an
// update by its last `ready`, legitimately gets one more when the screen next differs. So the
// test stops acknowledging and then waits until the agent holds an unacknowledged update,
// which is the only moment from which pull flow control promises silence.
import t from 'tap';
import { hasXTools, spawnWindow, startX, xrun } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { rssOf } from './helpers/relay.js';
import { connectShare } from './helpers/share-session.js';
import { daemonPid } from './helpers/tmux.js';

const missing = hasXTools();

const TERMINALS = [
  { name: 'a terminal that never stops writing', loop: 'while :; do ls -lR /usr/share | head -c 200000; done' },
  // Each burst ends with a new last line, so every pause shows a screen the agent has not seen.
  { name: 'a terminal that writes in bursts', loop: 'while :; do ls -lR /usr/share | head -c 20000; date +%s%N; sleep 0.05; done' },
];

for (const term of TERMINALS) t.test(`${term.name}: an agent that stops reading receives nothing more; the daemon stays flat`, { skip: missing }, async (t) => {
  const x = await startX({ width: 1280, height: 720 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  await spawnWindow('xterm', ['-geometry', '100x40+0+0', '-e', 'sh', '-c', term.loop], x.env);

  const { agent, pane } = await connectShare(t, x, relay, { viewport: { width: 1280, height: 720 } });
  pane.keys('Enter');
  await pane.waitText(/s: share the whole screen/);
  pane.keys('s');
  // Generous: on a loaded 2-core CI machine one full round of capture+encode can take seconds.
  await agent.waitFor(() => agent.updates.length >= 3, 30_000, 'a stream of updates while the agent reads');
  t.ok(true, 'updates flow while the agent says ready');

  agent.autoReady = false;
  // Our last ready still asks for one more update; from when it arrives, nothing may.
  await agent.waitFor(() => agent.owesReady, 15_000, 'the update our last ready asked for');
  const pid = daemonPid(pane)!;
  const updates = agent.updates.length;
  const messages = agent.messages.length;
  const reads = pane.events().filter((e) => e.event === 'read').length;
  const rss0 = rssOf(pid)!;
  // Keep moving the pointer too: cursor messages ride on the same pull.
  for (let i = 0; i < 30; i++) {
    xrun(x.env, 'xdotool', ['mousemove', String(100 + i * 20), String(100 + i * 10)]);
    await new Promise((r) => setTimeout(r, 200));
  }
  const rss1 = rssOf(pid)!;
  t.equal(agent.updates.length, updates, 'no update without a ready');
  t.equal(agent.messages.length, messages, 'no other message either (cursor included)');
  const more = pane.events().filter((e) => e.event === 'read').length - reads;
  t.ok(more <= 1, `at most one read ahead while the agent owes a ready (${more})`);
  t.ok(rss1 - rss0 < 16 * 1024 * 1024, `memory stays flat (${((rss1 - rss0) / 1048576).toFixed(1)} MiB)`);

  agent.autoReady = true;
  await agent.ready();
  await agent.waitFor(() => agent.updates.length > updates, 5000, 'update after ready');
  t.ok(true, 'one ready brings the current screen');

  pane.keys('q');
  t.equal(await pane.waitExit(), 0);
});
