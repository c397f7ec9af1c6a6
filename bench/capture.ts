// Capture figures on a private Xvfb at 1920x1080 with a few windows: what one full frame and
// one small damaged rectangle cost through each path. Prints numbers; passes or fails nothing.
//   npx tsx bench/capture.ts
import { spawnSync } from 'node:child_process';
import { spawnWindow, startX, xrun } from '../test/helpers/x11.js';
import { openCapture } from '../src/daemon/capture/backend.js';
import { openX11Capture } from '../src/daemon/capture/x11.js';
import { maskFrame, visibleRegion } from '../src/daemon/windows/region.js';
import type { Rect } from '../src/codec/framebuffer.js';
import { emit, type Row } from './lib/report.js';

async function median(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const fmt = (ms: number): string => `${ms.toFixed(2).padStart(9)} ms`;
const line = (label: string, ms: number, extra = ''): void => console.log(`${label.padEnd(52)}${fmt(ms)}${extra}`);

const x = await startX({ width: 1920, height: 1080 });
try {
  await spawnWindow('xterm', ['-bg', '#202840', '-fg', '#e0e0e0', '-geometry', '120x40+40+40', '-e', 'sh', '-c', 'ls -laR /usr/share | head -200; sleep 600'], x.env);
  await spawnWindow('xterm', ['-class', 'Other', '-bg', '#f0f0e0', '-fg', '#101010', '-geometry', '100x30+900+400', '-e', 'sh', '-c', 'env; sleep 600'], x.env);
  await spawnWindow('xlogo', ['-geometry', '400x300+1400+80'], x.env, { className: 'xlogo' });
  await spawnWindow('xclock', ['-geometry', '200x200+1600+800', '-update', '1'], x.env, { className: 'xclock' }).catch(() => undefined);

  console.log(`capture on Xvfb ${x.display}, 1920x1080x24, median of N runs`);
  const cap = await openX11Capture({ display: x.display });
  await cap.grab();
  const rows: Row[] = [];
  const full = await median(20, () => cap.grab());
  line('x11 GetImage, full frame (N=20)', full, `  (${((1920 * 1080 * 4) / 1e6 / (full / 1000)).toFixed(0)} MB/s)`);
  const small: Rect = { x: 500, y: 300, w: 64, h: 32 };
  line('x11 GetImage, 64x32 damaged rect (N=200)', await median(200, () => cap.grab(small)));
  const tile: Rect = { x: 500, y: 300, w: 256, h: 256 };
  line('x11 GetImage, 256x256 rect (N=100)', await median(100, () => cap.grab(tile)));
  line('x11 QueryPointer (N=100)', await median(100, () => cap.cursor()));

  const xwd = await median(10, () => spawnSync('xwd', ['-root', '-silent'], { env: x.env, maxBuffer: 1 << 28 }));
  line('xwd -root, spawned, pixels not parsed (N=10)', xwd);
  rows.push({ scenario: 'full frame, x11 GetImage', ours: full, unit: 'ms', baseline: xwd, baselineName: 'xwd -root', aim: '< 15 ms', met: full < 15 });

  try {
    const shot = await openCapture({ backend: 'screenshot-desktop', display: x.display });
    await shot.grab();
    const sd = await median(5, () => shot.grab());
    line('screenshot-desktop (xrandr + import PNG + decode) (N=5)', sd);
    rows.push({ scenario: 'full frame, portable fallback', ours: sd, unit: 'ms', baseline: full, baselineName: 'x11 GetImage' });
    await shot.close();
  } catch (e) {
    console.log(`screenshot-desktop: unavailable (${e instanceof Error ? e.message : String(e)})`);
  }

  // Damage latency: from a change made by another client to the report reaching us.
  const term = xrun(x.env, 'xdotool', ['search', '--onlyvisible', '--classname', 'xterm']).trim().split('\n')[0]!;
  xrun(x.env, 'xdotool', ['windowactivate', '--sync', term]);
  const latencies: number[] = [];
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const seen = new Promise<number>((resolve) => {
      const off = cap.onDamage(() => {
        off();
        resolve(performance.now());
      });
    });
    const t0 = performance.now();
    xrun(x.env, 'xdotool', ['key', 'a']);
    latencies.push((await seen) - t0);
  }
  latencies.sort((a, b) => a - b);
  line('damage report after a key press (incl. xdotool spawn, 16 ms gather)', latencies[5]!);

  const frame = await cap.grab();
  const region = visibleRegion(
    [{ rect: { x: 40, y: 40, w: 900, h: 700 }, visible: true }, { rect: { x: 900, y: 400, w: 800, h: 500 }, visible: true }],
    (w) => w.rect.x === 40,
  );
  line('maskFrame, full frame, one window partly covered (N=20)', await median(20, () => maskFrame(frame, { x: 0, y: 0 }, region)));
  rows.push({ scenario: 'damage report after a key press', ours: latencies[5]!, unit: 'ms' });
  await cap.close();
  emit('capture', rows);
} finally {
  await x.stop();
}
