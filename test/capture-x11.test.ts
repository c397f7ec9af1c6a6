// X11 capture against a real Xvfb + openbox, compared with independent tools (xwd).
import t from 'tap';
import { spawn } from 'node:child_process';
import { bgrOnly, hasXTools, spawnWindow, startX, xrun, xwdRoot, type XServer } from './helpers/x11.js';
import { openX11Capture, type X11Capture } from '../src/daemon/capture/x11.js';
import { openCapture } from '../src/daemon/capture/backend.js';
import { XConn } from '../src/daemon/capture/xconn.js';
import { RsoError } from '../src/errors.js';
import type { Rect } from '../src/codec/framebuffer.js';

const missing = hasXTools();
if (missing) t.plan(0, missing);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withDesktop(fn: (x: XServer, cap: X11Capture) => Promise<void>, size = { width: 800, height: 600 }): Promise<void> {
  const x = await startX(size);
  let cap: X11Capture | undefined;
  try {
    await spawnWindow('xterm', ['-bg', '#ff0000', '-fg', '#ffff00', '-geometry', '40x10+100+100'], x.env);
    await spawnWindow('xlogo', ['-geometry', '200x150+400+250'], x.env, { className: 'xlogo' });
    cap = await openX11Capture({ display: x.display });
    await fn(x, cap);
  } finally {
    await cap?.close();
    await x.stop();
  }
}

t.test('a full grab equals xwd -root pixel for pixel', async (t) => {
  await withDesktop(async (x, cap) => {
    t.same(cap.size(), { width: 800, height: 600 });
    t.same(cap.monitors().map((m) => [m.x, m.y, m.width, m.height]), [[0, 0, 800, 600]]);
    const frame = await cap.grab();
    const ref = xwdRoot(x.env);
    t.equal(frame.format, 'bgrx');
    t.same([frame.width, frame.height, frame.x, frame.y], [800, 600, 0, 0]);
    t.equal(frame.data.length, 800 * 600 * 4);
    const a = bgrOnly(frame.data);
    const b = bgrOnly(ref.data);
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
    t.equal(diff, 0, 'no byte differs from xwd');
    // The test content is really there: the xterm's red background (BGR 00 00 ff).
    const o = ((100 + 60) * 800 + 150) * 4;
    t.same([...frame.data.subarray(o, o + 3)], [0, 0, 255], 'xterm background is red');
  });
});

t.test('a sub-rectangle equals that part of a full grab; outside rects are clipped or refused', async (t) => {
  await withDesktop(async (_x, cap) => {
    const full = await cap.grab();
    const r: Rect = { x: 90, y: 95, w: 333, h: 77 };
    const part = await cap.grab(r);
    t.same([part.x, part.y, part.width, part.height], [90, 95, 333, 77]);
    let same = true;
    for (let row = 0; row < r.h && same; row++) {
      for (let col = 0; col < r.w * 4; col++) {
        if (col % 4 === 3) continue;
        if (part.data[row * r.w * 4 + col] !== full.data[((r.y + row) * 800 + r.x) * 4 + col]) {
          same = false;
          break;
        }
      }
    }
    t.ok(same, 'same pixels as the full grab');
    const edge = await cap.grab({ x: 780, y: 590, w: 64, h: 32 });
    t.same([edge.x, edge.y, edge.width, edge.height], [780, 590, 20, 10], 'clipped at the edge');
    await t.rejects(cap.grab({ x: 900, y: 0, w: 10, h: 10 }), { code: 'RSO_ERR_CAPTURE' });
  });
});

t.test('DAMAGE reports a rectangle covering a change, and nothing while idle', async (t) => {
  await withDesktop(async (x, cap) => {
    t.ok(cap.damageDriven);
    const reports: Rect[][] = [];
    cap.onDamage((rects) => reports.push(rects));
    await sleep(300);
    reports.length = 0;
    await sleep(1000);
    t.same(reports, [], 'idle for 1 s: no damage');

    // A new window mapped at a known place must be covered by the reported damage.
    await spawnWindow('xlogo', ['-geometry', '120x90+20+400'], x.env, { className: 'xlogo' }).catch(() => undefined);
    const wid = xrun(x.env, 'xdotool', ['search', '--onlyvisible', '--classname', 'xlogo']).trim().split('\n');
    t.ok(wid.length >= 2, 'second xlogo is up');
    await sleep(200);
    const all = reports.flat();
    t.ok(all.length > 0, 'damage reported');
    const covered = (px: number, py: number): boolean => all.some((r) => px >= r.x && px < r.x + r.w && py >= r.y && py < r.y + r.h);
    t.ok(covered(80, 445), 'the middle of the new window is inside a damaged rectangle');
    t.ok(all.every((r) => r.x >= 0 && r.y >= 0 && r.x + r.w <= 800 && r.y + r.h <= 600), 'rects inside the screen');

    // Typing in the xterm damages a small area only, inside the xterm.
    reports.length = 0;
    const term = xrun(x.env, 'xdotool', ['search', '--onlyvisible', '--class', 'xterm']).trim().split('\n')[0]!;
    xrun(x.env, 'xdotool', ['windowactivate', '--sync', term]);
    await sleep(300);
    reports.length = 0;
    xrun(x.env, 'xdotool', ['type', '--delay', '20', 'hello']);
    await sleep(300);
    const typed = reports.flat();
    t.ok(typed.length > 0, 'typing is reported');
    const box = typed.reduce((a, r) => ({ x0: Math.min(a.x0, r.x), y0: Math.min(a.y0, r.y), x1: Math.max(a.x1, r.x + r.w), y1: Math.max(a.y1, r.y + r.h) }), { x0: 1e9, y0: 1e9, x1: 0, y1: 0 });
    t.ok(box.x0 >= 90 && box.y0 >= 90 && box.x1 <= 420 && box.y1 <= 300, `typing damage stays in the xterm: ${JSON.stringify(box)}`);
    t.ok((box.x1 - box.x0) * (box.y1 - box.y0) < 300 * 100, 'and is small');
  });
});

t.test('damage drawn while the capture opens under a busy event loop is not lost for good', async (t) => {
  // DeltaRectangles reports only growth of the damaged region: a report that reached nobody
  // used to leave a scrolling terminal damaged and silent forever (a frozen picture). A busy
  // event loop while opening makes the server's reply and its damage reports arrive in one
  // read, which is what dropped them; every open must still hear about later drawing.
  const x = await startX({ width: 640, height: 480 });
  t.teardown(() => x.stop());
  await spawnWindow('xterm', ['-geometry', '60x20+0+0', '-e', 'sh', '-c', 'while :; do ls -lR /usr/share | head -c 200000; done'], x.env);
  let silent = 0;
  const opens = 10;
  for (let i = 0; i < opens; i++) {
    const busy = setInterval(() => {
      const until = Date.now() + 30;
      while (Date.now() < until);
    }, 35);
    const cap = await openX11Capture({ display: x.display }).finally(() => clearInterval(busy));
    let reports = 0;
    cap.onDamage(() => reports++);
    await sleep(1000);
    if (reports === 0) silent++;
    await cap.close();
  }
  t.equal(silent, 0, `every one of ${opens} opens reports the terminal's drawing`);
});

t.test('requests keep their replies after the 16-bit sequence number wraps inside an extension request', async (t) => {
  // The x11 package wraps its core requests at 65535 but its DAMAGE/XFixes helpers did not:
  // after ~65k requests (minutes of a busy screen) every reply went unanswered.
  const x = await startX({ width: 320, height: 240, wm: false });
  t.teardown(() => x.stop());
  const cap = await openX11Capture({ display: x.display, coalesceMs: 1 });
  t.teardown(() => cap.close());
  const conn = cap.conn;
  // NoOperation (opcode 127, no reply) moves the server's counter and ours together.
  const noop = Buffer.from([127, 0, 1, 0]);
  while (conn.lastSequence !== 65534) conn.rawSend(noop);
  await conn.sync();
  // The next requests are the damage flush's Subtract + FetchRegion (extension helpers), which
  // cross 65535; the core requests after them must still get their replies.
  let reports = 0;
  cap.onDamage(() => reports++);
  await spawnWindow('xterm', ['-geometry', '20x5+10+10'], x.env);
  const within = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no reply`)), 3000))]);
  await within(conn.sync(), 'a core request after the wrap');
  t.ok(conn.lastSequence < 1000, `the counter wrapped (now ${conn.lastSequence})`);
  t.ok(await within(cap.cursor(), 'QueryPointer'), 'the pointer is still read');
  t.ok(reports > 0, 'damage still reported');
  const frame = await within(cap.grab({ x: 0, y: 0, w: 8, h: 8 }), 'GetImage');
  t.equal(frame.width, 8);
});

t.test('the pointer position comes from QueryPointer', async (t) => {
  await withDesktop(async (x, cap) => {
    xrun(x.env, 'xdotool', ['mousemove', '--sync', '123', '456']);
    t.same(await cap.cursor(), { x: 123, y: 456 });
  });
});

/**
 * X-Resource (a second, independent client) tells how many resources of a type (the server's
 * names: 'DamageExt', 'XFixesRegion') a client owns; null when the client is gone.
 */
async function resourceCount(probe: XConn, resourceBase: number, typeName: string): Promise<number | null> {
  {
    const ext = await probe.queryExtension('X-Resource');
    const req = (minor: number, words: number[], extra: number[] = []): Buffer => {
      const b = Buffer.alloc(4 + words.length * 4 + extra.length);
      b[0] = ext.majorOpcode;
      b[1] = minor;
      b.writeUInt16LE(b.length / 4, 2);
      words.forEach((w, i) => b.writeUInt32LE(w, 4 + i * 4));
      extra.forEach((v, i) => (b[4 + words.length * 4 + i] = v));
      return b;
    };
    await probe.rawRequest('XResQueryVersion', req(0, [], [1, 2, 0, 0]), () => null);
    const clients = await probe.rawRequest('XResQueryClients', req(1, []), (b) => {
      const n = b.readUInt32LE(0);
      return Array.from({ length: n }, (_, i) => b.readUInt32LE(24 + i * 8));
    });
    if (!clients.includes(resourceBase)) return null;
    const typeAtom = await probe.atom(typeName);
    const types = await probe.rawRequest('XResQueryClientResources', req(2, [resourceBase]), (b) => {
      const n = b.readUInt32LE(0);
      return Array.from({ length: n }, (_, i) => [b.readUInt32LE(24 + i * 8), b.readUInt32LE(28 + i * 8)] as const);
    });
    return types.find(([type]) => type === typeAtom)?.[1] ?? 0;
  }
}

t.test('close() frees the Damage object and the connection', async (t) => {
  const x = await startX({ wm: false });
  // The probe stays connected throughout: the server hands a closed client's resource base to
  // the next client, so a probe opened later could find itself under the same number.
  const probe = await XConn.open(x.display);
  try {
    const cap = await openX11Capture({ display: x.display });
    const base = cap.conn.display.resource_base;
    t.equal(await resourceCount(probe, base, 'DamageExt'), 1, 'one Damage object while open');
    t.equal(await resourceCount(probe, base, 'XFixesRegion'), 1, 'one scratch region while open');
    await cap.close();
    t.ok(cap.conn.closed, 'connection closed');
    let after: number | null = -1;
    for (let i = 0; i < 40 && after !== null; i++) {
      after = await resourceCount(probe, base, 'DamageExt');
      if (after !== null) await sleep(50);
    }
    t.equal(after, null, 'the client is gone from the server, and with it everything it owned');
    await cap.close();
    t.pass('close twice is harmless');
  } finally {
    await probe.close();
    await x.stop();
  }
});

t.test('openCapture: auto picks x11; errors are RsoError with stable codes', async (t) => {
  const x = await startX({ wm: false });
  try {
    const cap = await openCapture({ backend: 'auto', display: x.display });
    t.equal(cap.name, 'x11');
    await cap.close();
    await t.rejects(openCapture({ backend: 'x11', display: x.display, monitor: 3 }), { code: 'RSO_ERR_USAGE' });
  } finally {
    await x.stop();
  }
  // A display nobody serves.
  const err = await openCapture({ backend: 'x11', display: ':9876' }).catch((e: unknown) => e);
  t.ok(err instanceof RsoError && err.code === 'RSO_ERR_NO_DISPLAY', 'unreachable display: RSO_ERR_NO_DISPLAY');
});

t.test('a 16-bit display is refused clearly (RSO_ERR_CAPTURE), so auto can fall back', async (t) => {
  const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '320x200x16', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  try {
    const display = await new Promise<string>((resolve) => {
      (proc.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => resolve(`:${d.toString().trim()}`));
    });
    const err = await openX11Capture({ display }).catch((e: unknown) => e);
    t.ok(err instanceof RsoError && err.code === 'RSO_ERR_CAPTURE', 'RSO_ERR_CAPTURE');
    t.match((err as RsoError).message, /24-bit/);
  } finally {
    proc.kill();
  }
});

t.test('the X server going away fails a pending grab (RSO_ERR_NO_DISPLAY) instead of hanging', async (t) => {
  const x = await startX({ wm: false, width: 1920, height: 1080 });
  const cap = await openX11Capture({ display: x.display });
  try {
    const settled = Promise.allSettled(Array.from({ length: 20 }, () => cap.grab()));
    await x.stop();
    const results = await settled;
    const failed = results.filter((r) => r.status === 'rejected');
    t.ok(failed.length > 0, `some grabs were pending when the server died (${failed.length} of 20)`);
    for (const r of failed) t.match((r as PromiseRejectedResult).reason, { code: /^RSO_ERR_(NO_DISPLAY|CAPTURE)$/ });
    await t.rejects(cap.grab(), { code: /^RSO_ERR_/ }, 'later grabs fail at once');
  } finally {
    await cap.close();
    await x.stop();
  }
});
