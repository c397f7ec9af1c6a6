// `rso connect` (graphics auto) inside real terminals on Xvfb: Debian xterm as a VT340 (sixel)
// and Debian kitty (kitty graphics, software GL). A test customer shows red, green and blue
// stripes, then paints its top half yellow; screenshots of the terminal window (xwd) must show
// those colours in the right places. This checks what no byte-level test can: that the
// terminal accepted our escapes, placed the picture in the area Ink left empty, and updated it.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasXTools, parseXwd, spawnWindow, startX, type SpawnedWindow, type XServer } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { TestCustomer, stripesScreen } from './helpers/customer.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'agent', 'viewer.js'));
const missingX = hasXTools();
const hasKitty = spawnSync('sh', ['-c', 'command -v kitty']).status === 0;

interface Blob {
  count: number;
  cx: number;
  cy: number;
}

/** Pixels within ±8 per channel of `color` in a window screenshot: how many and where. */
function find(shot: { width: number; height: number; data: Uint8Array }, color: number): Blob {
  const r = (color >> 16) & 255;
  const g = (color >> 8) & 255;
  const b = color & 255;
  let count = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < shot.height; y++) {
    for (let x = 0; x < shot.width; x++) {
      // xwd of a 24-bit window: BGRX, like the capture side reads it.
      const o = (y * shot.width + x) * 4;
      if (Math.abs(shot.data[o + 2]! - r) <= 8 && Math.abs(shot.data[o + 1]! - g) <= 8 && Math.abs(shot.data[o]! - b) <= 8) {
        count++;
        sx += x;
        sy += y;
      }
    }
  }
  return { count, cx: count ? sx / count : -1, cy: count ? sy / count : -1 };
}

function screenshot(x: XServer, win: SpawnedWindow): { width: number; height: number; data: Uint8Array } {
  const r = spawnSync('xwd', ['-id', win.windowId, '-silent'], { env: x.env, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`xwd failed: ${r.stderr}`);
  return parseXwd(r.stdout);
}

async function spawnRetry(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<SpawnedWindow> {
  try {
    return await spawnWindow(cmd, args, env);
  } catch {
    // The first window on a fresh Xvfb is occasionally not found in time; one retry.
    return spawnWindow(cmd, args, env);
  }
}

async function checkTerminal(t: Test, terminal: 'xterm' | 'kitty'): Promise<void> {
  const x = await startX({ width: 1024, height: 768, wm: false });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  let digits = '';
  const customerP = TestCustomer.open(relay.url, (d) => (digits = d), { screen: stripesScreen(640, 400) });
  while (digits === '') await new Promise((r) => setTimeout(r, 20));

  const env = {
    ...x.env,
    RSO_RELAY: relay.url,
    RSO_TOKEN: relay.token,
    XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'rso-cfg-')),
    LIBGL_ALWAYS_SOFTWARE: '1',
  };
  const cmd = `cd ${root} && node bin/rso.js connect ${digits}; sleep 600`;
  const win =
    terminal === 'xterm'
      ? await spawnRetry('xterm', ['-ti', 'vt340', '-xrm', 'XTerm*maxGraphicSize: 4096x4096', '-geometry', '100x35+0+0', '-e', 'sh', '-c', cmd], env)
      : await spawnRetry('kitty', ['--config', 'NONE', '-o', 'initial_window_width=800', '-o', 'initial_window_height=560', '-o', 'remember_window_size=no', 'sh', '-c', cmd], env);
  const customer = await customerP;
  t.teardown(() => customer.close());
  customer.share();
  await customer.settled(20_000);
  const ready = customer.lastReady!;
  // Sixel and kitty ask for real pixels (cells x cell size), half-blocks would ask ~100x62.
  t.ok(ready.width > 300 && ready.height > 200, `${terminal}: a pixel protocol was chosen (ready ${ready.width}x${ready.height})`);

  const stripes = async (): Promise<Blob[]> => {
    let last: Blob[] = [];
    for (let i = 0; i < 50; i++) {
      const shot = screenshot(x, win);
      last = [0xff0000, 0x00ff00, 0x0000ff].map((c) => find(shot, c));
      if (last.every((b) => b.count > 5000)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    return last;
  };
  const [red, green, blue] = await stripes();
  t.ok(red!.count > 5000 && green!.count > 5000 && blue!.count > 5000, `${terminal}: the stripes are on screen (${red!.count}, ${green!.count}, ${blue!.count} px)`);
  t.ok(red!.cx < green!.cx && green!.cx < blue!.cx, `${terminal}: red, green, blue from left to right`);
  // The picture sits below the three header rows (at least ~3 text lines from the top).
  const headerPx = terminal === 'xterm' ? 3 * 13 : 3 * 15;
  t.ok(red!.cy > headerPx, `${terminal}: the picture is below the header`);

  customer.fill({ x: 0, y: 0, w: 640, h: 200 }, 0xffff00);
  await customer.settled();
  let yellow: Blob = { count: 0, cx: -1, cy: -1 };
  let redAfter: Blob = red!;
  for (let i = 0; i < 50 && yellow.count < 5000; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const shot = screenshot(x, win);
    yellow = find(shot, 0xffff00);
    redAfter = find(shot, 0xff0000);
  }
  t.ok(yellow.count > 5000, `${terminal}: the yellow update is on screen (${yellow.count} px)`);
  t.ok(yellow.count > 0 && yellow.cy < redAfter.cy, `${terminal}: yellow above the rest of the stripes`);
  t.ok(redAfter.count > 1000 && redAfter.count < red!.count * 0.7, `${terminal}: the red stripe lost its top half (${red!.count} -> ${redAfter.count})`);
}

t.test('xterm -ti vt340 shows the picture as sixel', { skip: missingX || (!built && 'not built') }, async (t) => {
  await checkTerminal(t, 'xterm');
});

t.test('kitty shows the picture with kitty graphics', { skip: missingX || (!built && 'not built') || (!hasKitty && 'kitty not installed (apt-get install kitty)') }, async (t) => {
  await checkTerminal(t, 'kitty');
});
