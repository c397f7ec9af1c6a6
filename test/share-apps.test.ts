// Sharing one application: the customer picks it in the panel (`a`, Space, Enter) while another
// application with a unique colour is open; that one is then moved and raised on top of the
// shared window. No pixel of its colour may appear in any update the agent ever receives, while
// the shared window's own pixels do arrive (so the test cannot pass by sending nothing).
import t from 'tap';
import { hasXTools, spawnWindow, startX, xrun } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { connectShare } from './helpers/share-session.js';
import { countRgb } from './helpers/pixels.js';
import type { DecodedTile } from '../src/codec/update.js';

const missing = hasXTools();
const SECRET = 0xff00ff;
const SHARED_BG = 0x204080;
const MASK = 0x3c3c3c;

function tileHas(tile: DecodedTile, color: number): boolean {
  if (tile.encoding === 'solid') return tile.color === color;
  if (tile.encoding === 'zlib' || tile.encoding === 'packed') return countRgb(tile.pixels, color) > 0;
  return false;
}

t.test('only the chosen application is visible, even with another one dragged on top', { skip: missing }, async (t) => {
  const x = await startX({ width: 1024, height: 768 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const shared = await spawnWindow('xterm', ['-title', 'shareme', '-geometry', '70x20+20+20', '-bg', '#204080', '-fg', '#ffffff'], x.env);
  const secret = await spawnWindow('xterm', ['-title', 'secretwin', '-geometry', '40x10+600+450', '-bg', '#ff00ff', '-fg', '#ff00ff'], x.env);

  const { agent, pane } = await connectShare(t, x, relay, { viewport: { width: 1024, height: 768 } });
  pane.keys('Enter');
  await pane.waitText(/a: choose applications/);
  pane.keys('a');
  const list = await pane.waitText(/secretwin/);
  t.match(list, /shareme/, 'both applications are listed with their titles');
  const lines = list.split('\n').filter((l) => /\[[ x]\]/.test(l));
  const index = lines.findIndex((l) => l.includes('shareme'));
  t.ok(index >= 0);
  for (let i = 0; i < index; i++) pane.keys('Down');
  pane.keys('Space');
  await pane.waitText(/\[x\] .*shareme/);
  t.notMatch(pane.text(), /\[x\] .*secretwin/);
  pane.keys('Enter');
  await pane.waitText(/SHARING/);
  await agent.waitFor(() => agent.updates.length > 0, 10_000, 'first update');
  await agent.settle();
  t.match(agent.last('state')?.view, { kind: 'apps' });
  t.ok(countRgb(agent.fb.data, SHARED_BG) > 10_000, 'the shared window is visible to the agent');
  t.ok(countRgb(agent.fb.data, MASK) > 100_000, 'the rest is the neutral fill');

  // Move the secret window over the shared one, raise it, and make both draw.
  const before = agent.updates.length;
  xrun(x.env, 'xdotool', ['windowmove', String(secret.wid), '100', '100']);
  xrun(x.env, 'xdotool', ['windowraise', String(secret.wid)]);
  await new Promise((r) => setTimeout(r, 500));
  xrun(x.env, 'xdotool', ['windowmove', String(secret.wid), '150', '120']);
  xrun(x.env, 'xdotool', ['type', '--window', String(shared.wid), 'echo hello']);
  await new Promise((r) => setTimeout(r, 1500));
  await agent.settle();
  t.ok(agent.updates.length > before, 'the move produced updates (the hidden part changed)');

  let leaked = 0;
  for (const u of agent.updates) for (const tile of u.update.tiles) if (tileHas(tile, SECRET)) leaked++;
  t.equal(leaked, 0, 'no update ever carried a pixel of the other application');
  t.equal(countRgb(agent.fb.data, SECRET), 0, 'and the agent picture has none');
  t.ok(countRgb(agent.fb.data, SHARED_BG) > 1000, 'the uncovered part of the shared window is still shown');

  pane.keys('q');
  t.equal(await pane.waitExit(), 0);
});
