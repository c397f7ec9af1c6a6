// What one update costs the customer's daemon on a 1920x1080 Xvfb with real windows: the
// daemon's own path (DAMAGE -> readShared -> FrameEncoder on its thread: capture + mask + diff + encode),
// CPU ms per update and bytes on the wire, for typing a few characters, scrolling a terminal,
// dragging a window, and idle. Baselines from the same run: a bare `xwd -root` capture, a bare
// full-frame GetImage, and a bare zlib level-1 deflate of the full frame.
// Prints figures; passes or fails nothing.   npx tsx bench/daemon-updates.ts
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { spawnWindow, startX, xrun } from '../test/helpers/x11.js';
import { openX11Capture } from '../src/daemon/capture/x11.js';
import { coalesce } from '../src/daemon/capture/coalesce.js';
import { readShared, appKeyOf, type ShareTarget } from '../src/daemon/shared-capture.js';
import type { FrameEncoder as FrameEncoderType } from '../src/daemon/frame-encoder.js';
import { listWindows } from '../src/daemon/windows/list.js';
import type { Rect } from '../src/codec/framebuffer.js';
import { emit, type Row } from './lib/report.js';

const W = 1920;
const H = 1080;
// Per record: frame kind (1) + content type (1) + Poly1305 tag (16) + app kind (1); per
// WebSocket message: a 2, 4 or 10 byte header (the client masks nothing: server -> client
// framing is what the agent receives; the relay re-frames the same size).
function wireBytes(update: Uint8Array): number {
  const payload = update.length + 1 + 1 + 1 + 16;
  return payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const x = await startX({ width: W, height: H });
try {
  const term = await spawnWindow('xterm', ['-bg', '#202840', '-fg', '#e0e0e0', '-geometry', '120x40+40+40', '-e', 'sh', '-c', 'ls -la /usr/share | head -30; exec sh'], x.env);
  const other = await spawnWindow('xterm', ['-class', 'Other', '-bg', '#f0f0e0', '-fg', '#101010', '-geometry', '100x30+900+400', '-e', 'sh', '-c', 'env; sleep 600'], x.env);
  await spawnWindow('xlogo', ['-geometry', '400x300+1400+80'], x.env, { className: 'xlogo' });
  await spawnWindow('xclock', ['-geometry', '200x200+1600+800', '-update', '3600'], x.env, { className: 'xclock' });
  await sleep(500);

  const cap = await openX11Capture({ display: x.display });
  let damage: Rect[] = [];
  let lastDamage = 0;
  cap.onDamage((rects) => {
    damage = coalesce([...damage, ...rects]);
    lastDamage = Date.now();
  });
  // The daemon's encoder, on its thread: the process CPU below counts both threads.
  // The built encoder when there is one (`npm run build`): from source its thread would first
  // compile the codec with tsx, which the product never does.
  const built = new URL('../dist/daemon/frame-encoder.js', import.meta.url);
  const { FrameEncoder } = (existsSync(built) ? await import(built.href) : await import('../src/daemon/frame-encoder.js')) as { FrameEncoder: typeof FrameEncoderType };
  const encoder = new FrameEncoder({ width: W, height: H });
  const out = { width: W, height: H };
  let seq = 1;

  /** One daemon update for the damage gathered so far: read (masked) + diff + encode. */
  async function update(target: ShareTarget, rects: Rect[] | 'full'): Promise<{ cpu: number; wall: number; bytes: number; tiles: number }> {
    const c0 = cpuMs();
    const t0 = performance.now();
    const read = await readShared(cap, rects, target, null);
    const batch = await encoder.encode(read.grabs, out, rects, seq);
    const wall = performance.now() - t0;
    const cpu = cpuMs() - c0;
    if (!batch) return { cpu, wall, bytes: 0, tiles: 0 };
    seq = batch.lastSeq + 1;
    return { cpu, wall, bytes: batch.updates.reduce((n, u) => n + wireBytes(u), 0), tiles: batch.tiles };
  }

  /** Waits until damage has been quiet for `quietMs`, then takes what gathered. */
  async function takeDamage(quietMs = 60, maxMs = 2000): Promise<Rect[]> {
    const end = Date.now() + maxMs;
    await sleep(quietMs);
    while (Date.now() < end && (damage.length === 0 || Date.now() - lastDamage < quietMs)) await sleep(10);
    const d = damage;
    damage = [];
    return d;
  }

  const screen: ShareTarget = { kind: 'screen' };
  const first = await update(screen, 'full');
  console.log(`daemon updates on Xvfb ${x.display}, ${W}x${H}x24, 1:1 output, x11 backend`);
  console.log(`first full update: ${first.tiles} tiles, ${first.bytes} bytes on the wire, ${first.cpu.toFixed(1)} ms CPU, ${first.wall.toFixed(1)} ms wall\n`);

  const rows: Array<[string, { cpu: number[]; wall: number[]; bytes: number[]; tiles: number[] }]> = [];
  async function scenario(label: string, n: number, act: (i: number) => void | Promise<void>, target: ShareTarget = screen, quietMs = 60): Promise<void> {
    const r = { cpu: [] as number[], wall: [] as number[], bytes: [] as number[], tiles: [] as number[] };
    for (let i = 0; i < n; i++) {
      await act(i);
      const rects = await takeDamage(quietMs);
      if (rects.length === 0) {
        r.cpu.push(0);
        r.wall.push(0);
        r.bytes.push(0);
        r.tiles.push(0);
        continue;
      }
      const u = await update(target, rects);
      if (process.env.BENCH_DEBUG) console.log(label, JSON.stringify(rects), u.tiles, u.bytes);
      r.cpu.push(u.cpu);
      r.wall.push(u.wall);
      r.bytes.push(u.bytes);
      r.tiles.push(u.tiles);
    }
    rows.push([label, r]);
  }

  xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(term.wid)]);
  await takeDamage(200, 400);
  await scenario('typing, one character per update', 20, () => void xrun(x.env, 'xdotool', ['type', '--window', String(term.wid), 'x']));
  xrun(x.env, 'xdotool', ['key', '--window', String(term.wid), 'ctrl+u']);
  await takeDamage(200, 400);
  await scenario('scrolling a terminal, one line per update', 15, () => void xrun(x.env, 'xdotool', ['key', '--window', String(term.wid), 'Return']));
  await scenario('scrolling a terminal, a page of output', 5, async (i) => {
    // The command is typed and sent outside the measurement; the update measured is its output
    // (different each time, as a real page would be).
    xrun(x.env, 'xdotool', ['type', '--window', String(term.wid), `ls -l /usr/bin | head -${50 + i * 7} | tail -40`]);
    const typed = await takeDamage(150);
    if (typed.length > 0) await update(screen, typed);
    xrun(x.env, 'xdotool', ['key', '--window', String(term.wid), 'Return']);
  }, screen, 300);
  await scenario('dragging a window, 20 px per update', 15, (i) => void xrun(x.env, 'xdotool', ['windowmove', String(other.wid), String(900 - i * 20), String(400 + i * 10)]));
  const windows = await listWindows(cap.conn);
  const chosen = new Set(windows.filter((w) => w.id === term.wid).map((w) => appKeyOf(w)));
  const apps: ShareTarget = { kind: 'apps', isChosen: (w) => chosen.has(appKeyOf(w)) };
  await update(apps, 'full');
  await scenario('typing, sharing one app (grab + window tree + mask)', 20, () => void xrun(x.env, 'xdotool', ['type', '--window', String(term.wid), 'y']), apps);
  await update(screen, 'full');
  await takeDamage(300, 600);
  await scenario('idle (1 s without changes)', 3, () => sleep(1000));

  console.log(`${'per update (median; bytes also max)'.padEnd(54)}${'CPU ms'.padStart(8)}${'wall ms'.padStart(9)}${'tiles'.padStart(7)}${'bytes'.padStart(9)}${'max B'.padStart(9)}`);
  for (const [label, r] of rows) {
    console.log(`${label.padEnd(54)}${median(r.cpu).toFixed(2).padStart(8)}${median(r.wall).toFixed(2).padStart(9)}${String(median(r.tiles)).padStart(7)}${String(median(r.bytes)).padStart(9)}${String(Math.max(...r.bytes)).padStart(9)}`);
  }

  console.log('\nbaselines, same display');
  const xwdTimes: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    spawnSync('xwd', ['-root', '-silent'], { env: x.env, maxBuffer: 1 << 28 });
    xwdTimes.push(performance.now() - t0);
  }
  console.log(`${'bare xwd -root capture (spawned, wall)'.padEnd(54)}${median(xwdTimes).toFixed(2).padStart(8)} ms`);
  const grabCpu: number[] = [];
  const grabWall: number[] = [];
  let frame = await cap.grab();
  for (let i = 0; i < 10; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    frame = await cap.grab();
    grabWall.push(performance.now() - t0);
    grabCpu.push(cpuMs() - c0);
  }
  console.log(`${'x11 GetImage full frame (wall / CPU)'.padEnd(54)}${median(grabWall).toFixed(2).padStart(8)} ms  ${median(grabCpu).toFixed(2)} ms CPU`);
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0, j = 0; i < frame.data.length; i += 4, j += 3) {
    rgb[j] = frame.data[i + 2]!;
    rgb[j + 1] = frame.data[i + 1]!;
    rgb[j + 2] = frame.data[i]!;
  }
  const zTimes: number[] = [];
  let zBytes = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    zBytes = deflateSync(rgb, { level: 1 }).length;
    zTimes.push(performance.now() - t0);
  }
  console.log(`${'bare zlib level 1 of the full RGB frame'.padEnd(54)}${median(zTimes).toFixed(2).padStart(8)} ms  ${zBytes} bytes`);
  console.log(`${'full update through the daemon path (from above)'.padEnd(54)}${first.cpu.toFixed(2).padStart(8)} ms  ${first.bytes} bytes`);
  const report: Row[] = [];
  for (const [label, r] of rows) {
    const typing = label.startsWith('typing, one');
    const idle = label.startsWith('idle');
    report.push({ scenario: `${label}: CPU`, ours: median(r.cpu), unit: 'ms', aim: typing ? '< 5 ms' : undefined, met: typing ? median(r.cpu) < 5 : undefined });
    report.push({ scenario: `${label}: bytes`, ours: median(r.bytes), unit: 'B', aim: typing ? '< 180 B' : idle ? '0' : undefined, met: typing ? median(r.bytes) < 180 : idle ? median(r.bytes) === 0 : undefined });
  }
  report.push({ scenario: 'full update through the daemon path: CPU', ours: first.cpu, unit: 'ms', baseline: median(zTimes), baselineName: 'bare zlib-1 of the frame' });
  report.push({ scenario: 'full update through the daemon path: bytes', ours: first.bytes, unit: 'B', baseline: zBytes, baselineName: 'bare zlib-1 of the frame' });
  emit('daemon-updates', report);
  await cap.close();
  await encoder.close();
} finally {
  await x.stop();
}
