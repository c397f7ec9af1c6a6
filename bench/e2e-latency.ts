// End to end: from a change on the customer's display to the viewer having written the
// terminal bytes that show it. The customer side is the real thing: `rso share` (built, in a
// tmux pty) on Xvfb 1920x1080 with real windows, through a real relay process on loopback.
// The viewer side runs in this process: the test agent (real client code: pairing, AEAD,
// pull flow control; it also composites each update into its own framebuffer first, a small
// extra cost the real viewer does not have) hands each decrypted update to the viewer's
// picture pipeline (decode ->
// composite -> kitty renderer, src/agent/picture.ts) and the kitty bytes are written to a
// file stream; the time is taken when that write has completed. (Ink's chrome and the
// terminal's own drawing are not included: no terminal draws anything here.)
//   1. typing: `xdotool type` of one character into an xterm; from xdotool's exit to the
//      write of the first update after it: p50 / p95 / max;
//   2. a fast-changing quarter of the screen (an xterm 960x540 repainting 40 coloured lines
//      60 times a second): updates per second drawn and bytes per second, sustained over 5 s.
// The impaired link (netem delay and rate in a network namespace) is not measured here.
// Prints figures; passes or fails nothing.   npx tsx bench/e2e-latency.ts   (needs `npm run build`)
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { emit, fig, median, quantile } from './lib/report.js';
import { spawnWindow, startX, xrun } from '../test/helpers/x11.js';
import { relayWithAgent } from '../test/helpers/client-pairing.js';
import { TestAgent, type RecordedUpdate } from '../test/helpers/agent.js';
import { startShare } from '../test/helpers/tmux.js';
import { Picture, createRenderer } from '../src/agent/picture.js';

const W = 1920;
const H = 1080;
const N = Number(process.env.N ?? 40);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.timeOrigin + performance.now();

const x = await startX({ width: W, height: H });
const relay = await relayWithAgent();
let pane: ReturnType<typeof startShare> | undefined;
const sink = createWriteStream('/dev/null');
try {
  const term = await spawnWindow('xterm', ['-bg', '#202840', '-fg', '#e0e0e0', '-geometry', '120x40+40+40', '-e', 'sh', '-c', 'ls -la /usr/share | head -60; exec sh'], x.env);
  await spawnWindow('xlogo', ['-geometry', '400x300+1400+80'], x.env, { className: 'xlogo' });
  await spawnWindow('xclock', ['-geometry', '200x200+1600+800', '-update', '3600'], x.env, { className: 'xclock' });

  // The viewer pipeline: 1:1 kitty picture on a terminal with 10x20 pixel cells.
  const picture = new Picture(createRenderer('kitty'), { row: 1, col: 0, cols: W / 10, rows: H / 20, cellWidth: 10, cellHeight: 20 });
  picture.show();
  const drawn: Array<{ at: number; bytes: number; wire: number }> = [];
  let digits = '';
  const agentP = TestAgent.open(relay.url, relay.token, (d) => (digits = d), { width: W, height: H });
  while (digits === '') await sleep(20);
  pane = startShare([digits, '--relay', relay.url], { DISPLAY: x.display, XAUTHORITY: '/dev/null' });
  const agent = await agentP;
  // Every update the agent receives goes through the viewer's pipeline at once; the time is
  // taken when its kitty bytes have been written.
  const push = agent.updates.push.bind(agent.updates);
  agent.updates.push = (...us: RecordedUpdate[]): number => {
    for (const u of us) {
      const { out } = picture.apply(u.bytes);
      sink.write(out, () => drawn.push({ at: now(), bytes: out.length, wire: u.bytes.length }));
    }
    return push(...us);
  };
  await agent.ready({ width: W, height: H });
  await pane.waitText(/Enter.*accept/);
  pane.keys('Enter');
  await pane.waitText(/s: share the whole screen/);
  pane.keys('s');
  await agent.waitFor(() => agent.updates.length > 0, 15_000, 'first update');
  await agent.settle(700);

  const act = (args: string[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const p = spawn('xdotool', args, { env: x.env, stdio: 'ignore' });
      p.on('exit', (code) => (code === 0 ? resolve(now()) : reject(new Error(`xdotool exited with ${code}`))));
    });

  // 1. Typing.
  xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(term.wid)]);
  await agent.settle(500);
  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const mark = drawn.length;
    const t0 = await act(['type', '--window', String(term.wid), i % 10 === 9 ? ' ' : 'x']);
    const end = Date.now() + 3000;
    while (Date.now() < end && !drawn.slice(mark).some((d) => d.at >= t0)) await sleep(2);
    const first = drawn.slice(mark).find((d) => d.at >= t0);
    if (first) lat.push(first.at - t0);
    await sleep(120);
  }
  console.log(`end to end, rso share on Xvfb ${W}x${H} -> relay (loopback) -> viewer pipeline (kitty, in-process), 1:1`);
  console.log(`typing one character, xdotool exit -> kitty bytes written: n=${lat.length}  p50 ${fig(median(lat))} ms  p95 ${fig(quantile(lat, 0.95))} ms  max ${fig(Math.max(...lat))} ms`);

  // 2. A fast-changing quarter of the screen.
  const script = 'import sys,time\ni=0\nw=sys.stdout\nwhile True:\n  i+=1\n  w.write("\\x1b[H"+"".join("\\x1b[48;5;%dm%s\\x1b[0m\\n" % (16+(i+r)%216, " "*159) for r in range(40)))\n  w.flush()\n  time.sleep(1/60)\n';
  const anim = await spawnWindow('xterm', ['-class', 'Anim', '-bg', '#000000', '-geometry', '160x41+960+540', '-e', 'python3', '-c', script], x.env);
  await sleep(1000);
  const from = drawn.length;
  const t0 = now();
  await sleep(5000);
  const t1 = now();
  const window5 = drawn.slice(from).filter((d) => d.at >= t0 && d.at <= t1);
  const ups = window5.length / ((t1 - t0) / 1000);
  const bps = window5.reduce((n, d) => n + d.wire, 0) / ((t1 - t0) / 1000);
  const kittyBps = window5.reduce((n, d) => n + d.bytes, 0) / ((t1 - t0) / 1000);
  console.log(`fast-changing region (xterm ~960x540 repainting 40 coloured lines at 60 Hz), 5 s: ${fig(ups)} updates/s drawn, ${fig(bps / 1e6)} MB/s of updates, ${fig(kittyBps / 1e6)} MB/s of kitty output`);
  await anim.stop();

  emit('e2e-latency', [
    { scenario: 'typing: change -> viewer wrote it, p50', ours: median(lat), unit: 'ms' },
    { scenario: 'typing: change -> viewer wrote it, p95', ours: quantile(lat, 0.95), unit: 'ms', aim: '< 30 ms', met: quantile(lat, 0.95) < 30 },
    { scenario: 'typing: change -> viewer wrote it, max', ours: Math.max(...lat), unit: 'ms' },
    { scenario: 'fast-changing quarter screen, kitty', ours: ups, unit: 'updates/s', aim: '>= 30/s', met: ups >= 30 },
    { scenario: 'fast-changing quarter screen, update bytes', ours: bps / 1e6, unit: 'MB/s' },
  ]);
  await agent.close();
} finally {
  sink.end();
  pane?.kill();
  await relay.stop();
  await x.stop();
}
