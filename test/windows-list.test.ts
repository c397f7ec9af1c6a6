// Window listing through EWMH on a real Xvfb + openbox, checked against xwininfo/xdotool.
import t from 'tap';
import { hasXTools, spawnWindow, startX, waitFor, xrun, type XServer } from './helpers/x11.js';
import { groupApps, watchWindows, type WindowInfo, type WindowWatcher } from '../src/daemon/windows/list.js';
import type { Rect } from '../src/codec/framebuffer.js';

const missing = hasXTools();
if (missing) t.plan(0, missing);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits (up to 5 s, the machine may be busy) until `check` holds; false if it never did. */
const eventually = (check: () => boolean): Promise<boolean> => waitFor(check, 5000, 'condition').then(() => true, () => false);

/** Geometry of a window per xwininfo: absolute position, size, border width, parent. */
function xwininfo(env: NodeJS.ProcessEnv, id: string): { rect: Rect; border: number; parent: string; root: string } {
  const out = xrun(env, 'xwininfo', ['-tree', '-id', id]) + xrun(env, 'xwininfo', ['-id', id]);
  const num = (label: string): number => Number(new RegExp(`${label}:\\s+(-?\\d+)`).exec(out)?.[1]);
  return {
    rect: { x: num('Absolute upper-left X'), y: num('Absolute upper-left Y'), w: num('Width'), h: num('Height') },
    border: num('Border width'),
    parent: /Parent window id: (0x[0-9a-f]+)/.exec(out)?.[1] ?? '',
    root: /Root window id: (0x[0-9a-f]+)/.exec(out)?.[1] ?? '',
  };
}

/** The window manager's frame: the ancestor whose parent is the root, per xwininfo. */
function frameOf(env: NodeJS.ProcessEnv, id: string): Rect {
  let cur = id;
  for (;;) {
    const info = xwininfo(env, cur);
    if (info.parent === info.root) {
      // xwininfo's absolute position is inside the border; the frame rectangle includes it.
      return { x: info.rect.x - info.border, y: info.rect.y - info.border, w: info.rect.w + 2 * info.border, h: info.rect.h + 2 * info.border };
    }
    cur = info.parent;
  }
}

async function twoTerms(fn: (x: XServer, w: WindowWatcher, ids: { foo: number; bar: number; fooPid: number; barPid: number }) => Promise<void>): Promise<void> {
  const x = await startX({ width: 800, height: 600 });
  let watcher: WindowWatcher | undefined;
  try {
    const foo = await spawnWindow('xterm', ['-class', 'Foo', '-T', 'Foo title — ünïcode', '-geometry', '40x10+50+60'], x.env);
    const bar = await spawnWindow('xterm', ['-class', 'Bar', '-T', 'Bar title', '-geometry', '40x10+300+250'], x.env);
    watcher = await watchWindows({ display: x.display });
    await fn(x, watcher, { foo: foo.wid, bar: bar.wid, fooPid: foo.proc.pid!, barPid: bar.proc.pid! });
  } finally {
    await watcher?.close();
    await x.stop();
  }
}

const byClass = (ws: WindowInfo[], c: string): WindowInfo => {
  const w = ws.find((v) => v.class === c);
  if (!w) throw new Error(`no window of class ${c}`);
  return w;
};

t.test('finds both xterms with class, PID, UTF-8 title and geometry', async (t) => {
  await twoTerms(async (x, watcher, ids) => {
    const ws = await watcher.list();
    t.equal(ws.length, 2);
    const foo = byClass(ws, 'Foo');
    const bar = byClass(ws, 'Bar');
    t.equal(foo.id, ids.foo);
    t.equal(foo.pid, ids.fooPid);
    t.equal(bar.pid, ids.barPid);
    t.equal(foo.instance, 'xterm');
    t.equal(foo.title, 'Foo title — ünïcode');
    t.equal(bar.title, 'Bar title');
    t.ok(foo.visible && !foo.hidden);
    for (const w of [foo, bar]) {
      const id = `0x${w.id.toString(16)}`;
      t.same(w.client, xwininfo(x.env, id).rect, `${w.class}: client rectangle as xwininfo sees it`);
      t.same(w.rect, frameOf(x.env, id), `${w.class}: frame rectangle as xwininfo sees the WM frame`);
      t.ok(w.rect.h > w.client.h, 'the frame includes a title bar');
    }
    t.same(foo.rect, { x: 50, y: 60, w: foo.rect.w, h: foo.rect.h }, 'openbox honours -geometry for the frame');
  });
});

t.test('stacking order follows raising, and a change event fires', async (t) => {
  await twoTerms(async (x, watcher, ids) => {
    let changes = 0;
    watcher.onChange(() => changes++);
    // Let the reports of the previous step land (debounce is 30 ms) before counting afresh.
    const quiet = async (): Promise<void> => {
      await sleep(150);
      changes = 0;
    };
    const order = async (): Promise<string[]> => (await watcher.list()).map((w) => w.class);
    await quiet();
    xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(ids.foo)]);
    t.ok(await eventually(() => changes > 0), 'restacking fired a change');
    t.same(await order(), ['Bar', 'Foo'], 'Foo on top after activating it');
    await quiet();
    xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(ids.bar)]);
    t.ok(await eventually(() => changes > 0));
    t.same(await order(), ['Foo', 'Bar'], 'Bar on top after activating it');

    await quiet();
    xrun(x.env, 'xdotool', ['windowmove', '--sync', String(ids.foo), '200', '150']);
    t.ok(await eventually(() => changes > 0), 'moving fired a change');
    const moved = byClass(await watcher.list(), 'Foo');
    t.same(moved.rect, frameOf(x.env, `0x${ids.foo.toString(16)}`), 'geometry follows the move');
    t.ok(moved.rect.x !== 50 || moved.rect.y !== 60, 'and it did move');

    await quiet();
    xrun(x.env, 'xdotool', ['windowminimize', '--sync', String(ids.foo)]);
    t.ok(await eventually(() => changes > 0), 'minimising fired a change');
    const min = byClass(await watcher.list(), 'Foo');
    t.ok(min.hidden, '_NET_WM_STATE_HIDDEN seen');
    t.notOk(min.visible);
  });
});

t.test('a new window and a closed one change the list', async (t) => {
  await twoTerms(async (x, watcher) => {
    let changes = 0;
    watcher.onChange(() => changes++);
    await sleep(150);
    changes = 0;
    const logo = await spawnWindow('xlogo', ['-geometry', '100x100+600+400'], x.env, { className: 'xlogo' });
    t.ok(await eventually(() => changes > 0));
    const ws = await watcher.list();
    t.equal(ws.length, 3);
    t.equal(ws[ws.length - 1]?.instance, 'xlogo', 'the new window is on top');
    await sleep(150);
    changes = 0;
    await logo.stop();
    t.ok(await eventually(() => changes > 0));
    t.equal((await watcher.list()).length, 2);
  });
});

t.test('groupApps: by PID, else by class; labels say class and main title', async (t) => {
  const w = (id: number, pid: number | null, klass: string, title: string, area: number, visible = true): WindowInfo => ({
    id, pid, instance: klass.toLowerCase(), class: klass, title, visible, hidden: !visible,
    rect: { x: 0, y: 0, w: area, h: 1 }, client: { x: 0, y: 0, w: area, h: 1 },
  });
  const apps = groupApps([w(1, 10, 'Firefox', 'Downloads', 10), w(2, 10, 'Firefox', 'Mozilla Firefox', 100), w(3, null, 'XTerm', 'bash', 5), w(4, null, 'XTerm', 'vim', 50), w(5, 11, 'Foo', 'Foo', 1)]);
  t.same(apps.map((a) => [a.key, a.windows, a.label]), [
    ['pid:10', [1, 2], 'Firefox — Mozilla Firefox'],
    ['class:xterm', [3, 4], 'XTerm — vim'],
    ['pid:11', [5], 'Foo'],
  ]);
});
