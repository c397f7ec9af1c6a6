// Idle and typing: after the first update, 5 s of an unchanged screen send no frame bytes; a
// few typed characters send only the tiles they touched (each sent tile really changed, all of
// them inside the terminal window), and the agent's picture still equals xwd afterwards.
import t from 'tap';
import { hasXTools, spawnWindow, startX, xrun, xwdRoot } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { connectShare } from './helpers/share-session.js';
import { diffPixels } from './helpers/pixels.js';
import { createFramebuffer } from '../src/codec/framebuffer.js';
import { tileGrid, tileRect, TILE_SIZE } from '../src/codec/tiles.js';

const missing = hasXTools();

t.test('idle sends nothing; typing sends only the touched tiles', { skip: missing }, async (t) => {
  const x = await startX({ width: 1024, height: 768 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const term = await spawnWindow('xterm', ['-geometry', '80x24+64+64', '-bg', '#000000', '-fg', '#ffffff'], x.env);

  const { agent, pane } = await connectShare(t, x, relay, { args: ['--share', 'screen'], viewport: { width: 1024, height: 768 } });
  pane.keys('Enter');
  // --share screen pre-fills the choice; the customer still confirms it with Enter.
  await pane.waitText(/suggests sharing your whole screen/);
  t.equal(agent.updates.length, 0, 'the suggestion alone shares nothing');
  pane.keys('Enter');
  await agent.waitFor(() => agent.updates.length > 0, 10_000, 'first update');
  await agent.settle(1000);

  const mark = Date.now();
  const count = agent.updates.length;
  await new Promise((r) => setTimeout(r, 5000));
  t.equal(agent.updates.length, count, 'no update in 5 s of idle');
  t.equal(agent.frameBytes(mark), 0, 'exactly 0 frame bytes while idle');

  const before = createFramebuffer('rgb', agent.fb.width, agent.fb.height);
  before.data.set(agent.fb.data);
  const typedFrom = agent.updates.length;
  xrun(x.env, 'xdotool', ['type', '--window', String(term.wid), '--delay', '50', 'abc']);
  await agent.waitFor(() => agent.updates.length > typedFrom, 5000, 'typing update');
  await agent.settle(1000);
  const typed = agent.updates.slice(typedFrom);
  const tiles = typed.flatMap((u) => u.update.tiles);
  t.ok(tiles.length >= 1 && tiles.length <= 6, `a few tiles for three characters (${tiles.length})`);
  const bytes = typed.reduce((n, u) => n + u.bytes.length, 0);
  t.comment(`typing 3 characters: ${typed.length} updates, ${tiles.length} tiles, ${bytes} bytes`);

  // Every sent tile must cover pixels that really changed, and lie inside the terminal window.
  const grid = tileGrid(agent.fb.width, agent.fb.height);
  const frame = { x: 64, y: 64, w: 80 * 10 + 40, h: 24 * 20 + 60 };
  for (const tile of tiles) {
    t.equal(tile.w <= TILE_SIZE && tile.h <= TILE_SIZE, true);
    const idx = Math.floor(tile.y / TILE_SIZE) * grid.cols + Math.floor(tile.x / TILE_SIZE);
    const r = tileRect(grid, idx);
    let changed = false;
    for (let y = r.y; y < r.y + r.h && !changed; y++) {
      const at = (y * agent.fb.width + r.x) * 3;
      for (let i = 0; i < r.w * 3; i++) if (before.data[at + i] !== agent.fb.data[at + i]) changed = true;
    }
    t.ok(changed, `tile at ${tile.x},${tile.y} carries changed pixels`);
    t.ok(tile.x >= frame.x - TILE_SIZE && tile.y >= frame.y - TILE_SIZE && tile.x < frame.x + frame.w && tile.y < frame.y + frame.h, 'inside the terminal');
  }
  t.equal(diffPixels(xwdRoot(x.env), agent.fb), 0, 'the picture still equals xwd');

  pane.keys('q');
  t.equal(await pane.waitExit(), 0);
});
