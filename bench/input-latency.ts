// Input latency of remote control: from the engineer's key event leaving the agent (the test
// agent's send()) to the X server delivering it to a window (an X event listener on a test
// window, in this process, so both ends read the same clock). The whole path: AEAD seal ->
// WebSocket -> relay (loopback) -> daemon (open, parse, policy gate, rate limit) -> robotjs
// -> XTEST -> X server -> event to the listener. Baselines from the same run, to show where
// the time goes and to choose the X11 injector honestly: robotjs called in-process (no
// network, no daemon), and a bare XTEST FakeInput request from the pure-JS x11 client.
// Prints figures; passes or fails nothing.   npx tsx bench/input-latency.ts   (needs `npm run build`)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { startX, xrun } from '../test/helpers/x11.js';
import { listenWindow, type Listener } from '../test/helpers/xlisten.js';
import { relayWithAgent } from '../test/helpers/client-pairing.js';
import { TestAgent } from '../test/helpers/agent.js';
import { startShare } from '../test/helpers/tmux.js';
import { XConn } from '../src/daemon/capture/xconn.js';
import { emit, type Row } from './lib/report.js';

const require = createRequire(import.meta.url);
/** The robotjs child: `k` presses and releases a, `m X Y` moves the pointer; exits at EOF. */
const ROBOT_CHILD = `
const robot = require(${JSON.stringify(require.resolve('robotjs'))});
robot.setXDisplayName(process.argv[1]);
robot.setKeyboardDelay(0);
robot.setMouseDelay(0);
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const [c, x, y] = l.split(' ');
  if (c === 'k') { robot.keyToggle('a', 'down'); robot.keyToggle('a', 'up'); }
  else if (c === 'm') robot.moveMouse(Number(x), Number(y));
});`;
const N = Number(process.env.N ?? 300);
/**
 * Pause between samples. The daemon's rate limit (policy/rate.ts: 400 events/s sustained) cuts
 * anything faster, by design; 10 ms keeps the end-to-end runs at a fast typist's pace.
 */
const GAP_MS = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const rows: Row[] = [];
function report(name: string, xs: number[]): void {
  rows.push({ scenario: `${name}, p95`, ours: pct(xs, 95), unit: 'ms' });
  console.log(`${name.padEnd(52)} n=${String(xs.length).padStart(4)}  p50 ${pct(xs, 50).toFixed(2).padStart(6)} ms  p95 ${pct(xs, 95).toFixed(2).padStart(6)} ms  max ${Math.max(...xs).toFixed(2).padStart(6)} ms`);
}

/** Times `n` round trips: act() at t0, the listener's n-th matching event at t1. */
async function measure(l: Listener, n: number, name: string, act: (i: number) => void | Promise<void>, match: (e: { name?: string }) => boolean, gapMs = GAP_MS): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const seen = l.events.filter(match).length;
    const t0 = performance.now();
    await act(i);
    await l.waitFor((ev) => ev.filter(match).length > seen, 5000, name);
    out.push(l.events.filter(match)[seen]!.at - t0);
    await sleep(gapMs);
  }
  return out;
}

const x = await startX({ width: 1024, height: 768 });
const relay = await relayWithAgent();
let pane: ReturnType<typeof startShare> | undefined;
try {
  const l = await listenWindow(x.display, { x: 0, y: 0, w: 1024, h: 768 });
  xrun(x.env, 'xdotool', ['windowfocus', '--sync', String(l.wid)]);
  const keyPress = (e: { name?: string }): boolean => e.name === 'KeyPress';
  const motion = (e: { name?: string }): boolean => e.name === 'MotionNotify';

  // Baseline 1: a bare XTEST FakeInput from the pure-JS client (no daemon, no network).
  const conn = await XConn.open(x.display);
  const xtest = await conn.queryExtension('XTEST');
  const fake = (type: number, detail: number, rx = 0, ry = 0): void => {
    const b = Buffer.alloc(36);
    b.writeUInt8(xtest.majorOpcode, 0);
    b.writeUInt8(2, 1); // X_XTestFakeInput
    b.writeUInt16LE(9, 2);
    b.writeUInt8(type, 4);
    b.writeUInt8(detail, 5);
    b.writeUInt32LE(0, 8); // CurrentTime
    b.writeUInt32LE(conn.root, 12);
    b.writeInt16LE(rx, 24);
    b.writeInt16LE(ry, 26);
    conn.rawSend(b);
  };
  const keycodeA = 38; // 'a' on Xvfb's default (evdev-like) map
  report('XTEST from the pure-JS x11 client: key', await measure(l, N, 'xtest key', () => {
    fake(2, keycodeA);
    fake(3, keycodeA);
  }, keyPress));
  report('XTEST from the pure-JS x11 client: pointer move', await measure(l, N, 'xtest move', (i) => fake(6, 0, 100 + (i % 500), 200), motion));
  await conn.close();

  // Baseline 2: robotjs (what the daemon calls), in a child process of its own that does what
  // one line on its stdin says: robotjs keeps its X connection to the end and closes it at
  // exit, which after the X server has stopped is a fatal Xlib error (exit status 1). The pipe
  // adds ~0.05 ms.
  const robot = spawn(process.execPath, ['-e', ROBOT_CHILD, x.display], { stdio: ['pipe', 'ignore', 'inherit'] });
  const robotGone = new Promise<void>((resolve) => robot.on('exit', () => resolve()));
  await measure(l, 1, 'robot child start', () => void robot.stdin!.write('m 1 1\n'), motion); // not timed: it loads robotjs first
  report('robotjs (child process, via a pipe): key', await measure(l, N, 'robot key', () => void robot.stdin!.write('k\n'), keyPress));
  report('robotjs (child process, via a pipe): pointer move', await measure(l, N, 'robot move', (i) => void robot.stdin!.write(`m ${100 + (i % 500)} 300\n`), motion));
  robot.stdin!.end();
  await robotGone;

  // The whole path: agent -> relay -> rso share -> robotjs -> X.
  let digits = '';
  const agentP = TestAgent.open(relay.url, relay.token, (d) => (digits = d));
  while (digits === '') await sleep(20);
  pane = startShare([digits, '--relay', relay.url], { DISPLAY: x.display, XAUTHORITY: '/dev/null' });
  const agent = await agentP;
  await agent.ready({ width: 1024, height: 768 });
  await pane.waitText(/Enter.*accept/);
  pane.keys('Enter');
  await pane.waitText(/s: share the whole screen/);
  pane.keys('s');
  await agent.waitFor(() => agent.updates.length > 0, 10_000, 'first update');
  await agent.send({ type: 'request', what: 'control' });
  await pane.waitText(/Allow\? \(y\/N\)/);
  pane.keys('y');
  await agent.waitFor(() => agent.last('state')?.control === true, 10_000, 'control');
  // The panel's terminal took the focus when the customer typed y; the listener needs it back.
  xrun(x.env, 'xdotool', ['windowfocus', '--sync', String(l.wid)]);
  await sleep(300);
  // One warm-up key (first use of the injector in the daemon).
  await measure(l, 1, 'warm-up', () => agent.send({ type: 'input', events: [{ t: 'text', text: 'a' }] }), keyPress, 0);
  report('agent -> relay -> rso share -> X: key (a, down+up)', await measure(l, N, 'e2e key', () =>
    agent.send({ type: 'input', events: [{ t: 'key', key: 'a', down: true, mods: [] }, { t: 'key', key: 'a', down: false, mods: [] }] }), keyPress));
  report('agent -> relay -> rso share -> X: text "a"', await measure(l, N, 'e2e text', () => agent.send({ type: 'input', events: [{ t: 'text', text: 'a' }] }), keyPress));
  report('agent -> relay -> rso share -> X: pointer move', await measure(l, N, 'e2e move', (i) => agent.send({ type: 'input', events: [{ t: 'move', x: 100 + (i % 500), y: 400 }] }), motion));
  await agent.close();
  await l.close();
  emit('input-latency', rows);
} finally {
  pane?.kill();
  await relay.stop();
  await x.stop();
}
