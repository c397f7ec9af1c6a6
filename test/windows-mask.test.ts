// Sharing one application: another application's window dragged over it is masked out of a
// real grab, pixel by pixel.
import t from 'tap';
import { hasXTools, spawnWindow, startX, xrun } from './helpers/x11.js';
import { openX11Capture } from '../src/daemon/capture/x11.js';
import { watchWindows } from '../src/daemon/windows/list.js';
import { maskFrame, visibleRegion } from '../src/daemon/windows/region.js';
import { matchesApp, parseAppSpecs } from '../src/daemon/windows/match.js';

const missing = hasXTools();
if (missing) t.plan(0, missing);

const FILL = 0x3c3c3c;

t.test('another app on top of the shared one is masked; nothing else is shown', async (t) => {
  const x = await startX({ width: 800, height: 600 });
  const watcher = await watchWindows({ display: x.display });
  const cap = await openX11Capture({ display: x.display });
  try {
    // The shared app paints pure red, the other one pure green: colours nothing else uses.
    await spawnWindow('xterm', ['-class', 'Shared', '-bg', '#ff0000', '-fg', '#ff0000', '-geometry', '50x15+50+50'], x.env);
    const other = await spawnWindow('xterm', ['-class', 'Other', '-bg', '#00ff00', '-fg', '#00ff00', '-geometry', '30x10+400+400'], x.env);
    // Drag the other app over the lower right part of the shared one and raise it.
    xrun(x.env, 'xdotool', ['windowmove', '--sync', String(other.wid), '200', '150']);
    xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(other.wid)]);
    await new Promise((r) => setTimeout(r, 300));

    const windows = await watcher.list();
    const specs = parseAppSpecs('app:shared');
    const region = visibleRegion(windows, (w) => matchesApp(specs, w));
    const shared = windows.find((w) => w.class === 'Shared')!;
    const top = windows.find((w) => w.class === 'Other')!;
    t.ok(region.length > 0);

    const frame = await cap.grab();
    const count = (bgr: [number, number, number]): number => {
      let n = 0;
      for (let i = 0; i < frame.data.length; i += 4) if (frame.data[i] === bgr[0] && frame.data[i + 1] === bgr[1] && frame.data[i + 2] === bgr[2]) n++;
      return n;
    };
    const green = count([0, 255, 0]);
    const redBefore = count([0, 0, 255]);
    t.ok(green > 1000, `the other app is on screen before masking (${green} green pixels)`);
    t.ok(redBefore > 1000, 'and so is the shared one');

    maskFrame(frame, { x: cap.area.x + frame.x, y: cap.area.y + frame.y }, region, FILL);
    t.equal(count([0, 255, 0]), 0, 'no pixel of the other app survives masking');
    t.equal(count([0, 0, 255]), redBefore, 'every visible pixel of the shared app survives');

    // Every pixel is either inside the region (untouched) or the fill.
    const inRegion = (px: number, py: number): boolean => region.some((r) => px >= r.x && px < r.x + r.w && py >= r.y && py < r.y + r.h);
    let wrong = 0;
    for (let y = 0; y < frame.height; y++) {
      for (let xx = 0; xx < frame.width; xx++) {
        if (inRegion(xx, y)) continue;
        const o = (y * frame.width + xx) * 4;
        if (frame.data[o] !== 0x3c || frame.data[o + 1] !== 0x3c || frame.data[o + 2] !== 0x3c) wrong++;
      }
    }
    t.equal(wrong, 0, 'everything outside the region is the fill colour');
    // The overlap itself (inside the shared window, under the other one) is fill.
    const ox = Math.max(shared.rect.x, top.rect.x) + 5;
    const oy = Math.max(shared.rect.y, top.rect.y) + 5;
    const o = (oy * frame.width + ox) * 4;
    t.same([...frame.data.subarray(o, o + 3)], [0x3c, 0x3c, 0x3c], 'the overlapped part of the shared window is masked');
  } finally {
    await cap.close();
    await watcher.close();
    await x.stop();
  }
});
