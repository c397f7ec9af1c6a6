// `rso demo` in a real pty (tmux, 120x40) on a machine state without DISPLAY: it starts its own
// relay, private Xvfb + openbox, the customer's real `rso share` (panel in an xterm on that
// display) and the viewer in this terminal; the picture of the private display appears, and q
// stops everything it started: no process, no temporary file, no tmux server left.
import t from 'tap';
import type * as Tap from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TmuxPane, cellPixels, hasTmux, parseCells } from './helpers/pty.js';
import { HEADER_ROWS } from '../src/agent/ui/layout.js';
import { missingPrograms } from '../src/demo/tools.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'demo', 'run.js'));
const missing = missingPrograms(['Xvfb', 'openbox', 'xprop', 'xsetroot', 'xterm', 'xclock', 'tmux']);
const skip = !hasTmux() ? 'tmux not installed' : missing.length > 0 ? `${missing.join(', ')} not installed` : !built ? 'run `npx tsc -p tsconfig.build.json` first' : false;

/** The private display's background (#306090, src/demo/private-display.ts). */
const BACKGROUND = 0x306090;

function parentOf(pid: number): number | null {
  try {
    // The command name may hold spaces and parentheses: the fields after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** Every live process below `pid`. */
function descendants(pid: number): number[] {
  const all = readdirSync('/proc').filter((f) => /^\d+$/.test(f)).map(Number);
  const out: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const p = frontier.pop()!;
    for (const c of all) if (parentOf(c) === p) (out.push(c), frontier.push(c));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is not running anything, but it means its parent did not wait for it.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

interface Running {
  pane: TmuxPane;
  tmp: string;
  demoPid: number;
  socket: string;
  /** Every process the demo started (its descendants and the customer's tmux server's). */
  started: number[];
}

/** Starts `rso demo` without DISPLAY in a pane and waits for the shared picture. */
async function startDemo(t: Tap.Test): Promise<Running> {
  const tmp = mkdtempSync(join(tmpdir(), 'rso-demo-test-'));
  const pane = TmuxPane.start({ cols: 120, rows: 40, cwd: root, env: { TERM: 'xterm-256color', TMPDIR: tmp } });
  t.teardown(() => {
    pane.kill();
    rmSync(tmp, { recursive: true, force: true });
  });
  pane.run('env -u DISPLAY node bin/rso.js demo --graphics blocks; echo EXIT=$?');

  // The viewer reaches the shared picture without anyone touching the customer's panel: on the
  // private display the demo accepted for the customer.
  const header = await pane.waitForText(/CONNECTED.*shared: whole screen/, 30_000);
  t.match(header[0], /VIEW ONLY/, 'control stays off');
  const backgroundCells = (): number =>
    pane
      .styled()
      .slice(HEADER_ROWS, 38)
      .flatMap((line) => parseCells(line))
      .filter((c) => cellPixels(c).includes(BACKGROUND)).length;
  await pane.waitFor(() => backgroundCells() > 500, 'the private display background in the picture', 20_000);

  // What runs now: the demo's descendants, and the customer's tmux server (tmux daemonizes).
  const shell = Number(pane.tmux(['display', '-p', '#{pane_pid}']).trim());
  const demoPid = descendants(shell).find((p) => cmdline(p).includes('rso.js demo'))!;
  t.ok(demoPid, 'the demo process');
  const sockets = readdirSync(`/tmp/tmux-${process.getuid!()}`).filter((f) => f.startsWith(`rso-demo-${demoPid}-`));
  t.equal(sockets.length, 1, 'one private tmux server for the customer');
  const socket = sockets[0]!;
  const serverPid = Number(spawnSync('tmux', ['-L', socket, 'display', '-p', '#{pid}'], { encoding: 'utf8' }).stdout.trim());
  const started = [...descendants(shell).filter((p) => p !== demoPid), serverPid, ...descendants(serverPid)];
  const names = started.map(cmdline).join('\n');
  for (const prog of ['Xvfb', 'openbox', 'xterm', 'xclock', 'rso.js share']) t.match(names, prog, `${prog} runs`);
  t.ok(readdirSync(tmp).some((f) => f.startsWith('rso-demo-')), 'the demo has its temporary folder');
  return { pane, tmp, demoPid, socket, started };
}

async function nothingLeft(t: Tap.Test, run: Running): Promise<void> {
  // Xvfb and the X clients may take a moment to go after a signal: wait for them, bounded.
  const deadline = Date.now() + 5000;
  while (run.started.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.same(run.started.filter(alive).map((p) => `${p} ${cmdline(p)}`), [], 'every process the demo started is gone');
  t.same(readdirSync(run.tmp), [], 'no temporary file left');
  t.not(spawnSync('tmux', ['-L', run.socket, 'has-session'], { stdio: 'ignore' }).status, 0, 'the customer tmux server is gone');
}

t.test('rso demo without DISPLAY: a shared picture of a private display, and q leaves nothing behind', { skip, timeout: 60_000 }, async (t) => {
  const run = await startDemo(t);
  // The customer's panel says what the demo did for the customer (it is in the picture too).
  const panelText = spawnSync('tmux', ['-L', run.socket, 'capture-pane', '-p', '-t', 'customer'], { encoding: 'utf8' }).stdout;
  t.match(panelText, /SHARING your whole screen with Demo Agent/);
  const status = spawnSync('tmux', ['-L', run.socket, 'show', '-gv', 'status-left'], { encoding: 'utf8' }).stdout;
  t.match(status, /rso demo pressed Enter, s \(share\) for you/, 'the note under the panel');

  run.pane.keys('q');
  const after = await run.pane.waitForText(/EXIT=\d+/, 20_000);
  const text = after.join('\n');
  t.match(text, /You ended the session\.\nEXIT=0/, 'the viewer ended normally');
  t.match(text, /demo: stopped the relay, the customer's rso share and display :\d+; removed /);
  t.same(run.pane.modes(), { alternate: false, cursorVisible: true }, 'terminal restored');
  t.notOk(alive(run.demoPid), 'the demo exited');
  // Right away, without waiting: the demo waited for each of them before it exited.
  t.same(run.started.filter(alive).map((p) => `${p} ${cmdline(p)}`), [], 'gone by the time the demo exits');
  await nothingLeft(t, run);
});

t.test('SIGTERM to rso demo while the viewer runs also leaves nothing behind', { skip, timeout: 60_000 }, async (t) => {
  const run = await startDemo(t);
  process.kill(run.demoPid, 'SIGTERM');
  const after = await run.pane.waitForText(/EXIT=\d+/, 20_000);
  t.match(after.join('\n'), /EXIT=143/, 'death by SIGTERM');
  t.same(run.pane.modes(), { alternate: false, cursorVisible: true }, 'terminal restored');
  await nothingLeft(t, run);
});
