// The portable fallback returns the same picture as the X11 backend: the package runs
// ImageMagick's `import` on Linux and we ask for PNG, which is lossless, so the comparison is
// exact.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { bgrOnly, hasXTools, spawnWindow, startX } from './helpers/x11.js';
import { openCapture } from '../src/daemon/capture/backend.js';

const missing = hasXTools() || (spawnSync('sh', ['-c', 'command -v import && command -v xrandr']).status !== 0 ? 'ImageMagick import or xrandr not installed' : false);
if (missing) t.plan(0, missing);

t.test('screenshot-desktop and x11 see the same pixels', async (t) => {
  const x = await startX({ width: 640, height: 480 });
  try {
    await spawnWindow('xterm', ['-bg', '#ff0000', '-geometry', '30x8+40+40'], x.env);
    await spawnWindow('xlogo', ['-geometry', '150x150+300+200'], x.env, { className: 'xlogo' });
    const shot = await openCapture({ backend: 'screenshot-desktop', display: x.display });
    const x11 = await openCapture({ backend: 'x11', display: x.display });
    try {
      t.equal(shot.name, 'screenshot-desktop');
      t.notOk(shot.damageDriven, 'the daemon polls this backend');
      t.same(shot.size(), { width: 640, height: 480 });
      t.same(shot.monitors().map((m) => [m.x, m.y, m.width, m.height]), [[0, 0, 640, 480]]);
      const a = await shot.grab();
      const b = await x11.grab();
      t.same([a.width, a.height], [b.width, b.height]);
      const pa = bgrOnly(a.data);
      const pb = bgrOnly(b.data);
      let diff = 0;
      for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) diff++;
      t.equal(diff, 0, 'identical B, G, R bytes');
      const part = await shot.grab({ x: 30, y: 35, w: 50, h: 20 });
      t.same([part.x, part.y, part.width, part.height], [30, 35, 50, 20]);
      const o = (5 * 50 + 20) * 4;
      const full = ((35 + 5) * 640 + 30 + 20) * 4;
      t.same([...part.data.subarray(o, o + 3)], [...b.data.subarray(full, full + 3)], 'a cropped grab matches the same pixel of the full one');
      t.equal(await shot.cursor(), null);
    } finally {
      await shot.close();
      await x11.close();
    }
  } finally {
    await x.stop();
  }
});

t.test('a failing tool becomes RSO_ERR_CAPTURE or RSO_ERR_NO_DISPLAY, never a raw error', async (t) => {
  const err = await openCapture({ backend: 'screenshot-desktop', display: ':9876' }).then(
    async (c) => c.grab().finally(() => c.close()),
  ).catch((e: unknown) => e);
  t.match(err, { code: /^RSO_ERR_(CAPTURE|NO_DISPLAY)$/ });
});
