// The input host: robotjs and the F12 hook in a child process of the daemon (src/daemon/input/
// host.ts, host-main.ts), against a real Xvfb. Events reach the display in order; F12 stops the
// host by itself (no event is performed until the daemon arms it again); a host that dies is
// reported; a display that cannot be reached refuses control instead of granting it.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { hasXTools, startX, waitFor, xrun } from './helpers/x11.js';
import { startInputHost, type InputHostEvents } from '../src/daemon/input/host.js';
import { RsoError } from '../src/errors.js';

const skip = hasXTools();

function pointer(env: NodeJS.ProcessEnv): { x: number; y: number } {
  const out = xrun(env, 'xdotool', ['getmouselocation', '--shell']);
  return { x: Number(/^X=(\d+)/m.exec(out)![1]), y: Number(/^Y=(\d+)/m.exec(out)![1]) };
}

/** PIDs of this process's children running the host. */
function hostPids(): number[] {
  return readdirSync('/proc')
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('host-main');
      } catch {
        return false;
      }
    });
}

function recorder(): InputHostEvents & { f12: number; exits: number; failed: string[] } {
  const r = {
    f12: 0,
    exits: 0,
    failed: [] as string[],
    onF12: () => void r.f12++,
    onExit: () => void r.exits++,
    onInjectFailed: (code: string) => void r.failed.push(code),
  };
  return r;
}

t.test('events in order, F12 disarms the host by itself, close ends it', { skip }, async (t) => {
  const x = await startX({ width: 640, height: 480 });
  t.teardown(() => x.stop());
  xrun(x.env, 'xdotool', ['mousemove', '5', '5']);
  const ev = recorder();
  const host = await startInputHost({ display: x.display, origin: { x: 10, y: 20 } }, ev);
  t.teardown(() => host.close());
  t.equal(host.name, 'robotjs');
  t.equal(host.hotkeyName, 'uiohook-napi');

  host.inject({ t: 'move', x: 100, y: 100 });
  await new Promise((r) => setTimeout(r, 300));
  t.same(pointer(x.env), { x: 5, y: 5 }, 'not armed yet: nothing performed');

  host.arm();
  host.inject({ t: 'move', x: 100, y: 100 });
  host.inject({ t: 'move', x: 200, y: 150 });
  await waitFor(() => pointer(x.env).x === 210, 5000, 'the pointer at the last event');
  t.same(pointer(x.env), { x: 210, y: 170 }, 'the last event is performed last, at the area origin');

  t.throws(() => host.inject({ t: 'key', key: 'F12', down: true, mods: [] }), RsoError, 'F12 is refused before it is sent');
  t.throws(() => host.inject({ t: 'key', key: 'NoSuchKey', down: true, mods: [] }), { code: 'RSO_ERR_PROTOCOL' });

  xrun(x.env, 'xdotool', ['key', 'F12']);
  await waitFor(() => ev.f12 > 0, 5000, 'F12 reported');
  host.inject({ t: 'move', x: 50, y: 50 });
  await new Promise((r) => setTimeout(r, 300));
  t.same(pointer(x.env), { x: 210, y: 170 }, 'after F12 the host performs nothing, though the daemon sent a move');
  host.arm();
  host.inject({ t: 'move', x: 50, y: 50 });
  await waitFor(() => pointer(x.env).x === 60, 5000, 'armed again');

  host.releaseAll();
  host.inject({ t: 'move', x: 0, y: 0 });
  await new Promise((r) => setTimeout(r, 300));
  t.same(pointer(x.env), { x: 60, y: 70 }, 'release disarms too');

  t.equal(hostPids().length, 1, 'one host process');
  host.close();
  await waitFor(() => hostPids().length === 0, 5000, 'the host exits when closed');
  t.equal(ev.exits, 0, 'a close is not reported as an unexpected end');
  t.throws(() => host.inject({ t: 'move', x: 1, y: 1 }), { code: 'RSO_ERR_INTERNAL' }, 'a closed host takes nothing');
});

t.test('a host that dies is reported', { skip }, async (t) => {
  const x = await startX({ width: 640, height: 480 });
  t.teardown(() => x.stop());
  const ev = recorder();
  const host = await startInputHost({ display: x.display, origin: { x: 0, y: 0 } }, ev);
  t.teardown(() => host.close());
  const [pid] = hostPids();
  t.ok(pid, 'the host runs');
  process.kill(pid!, 'SIGKILL');
  await waitFor(() => ev.exits === 1, 5000, 'the end reported');
  t.throws(() => host.inject({ t: 'move', x: 1, y: 1 }), { code: 'RSO_ERR_INTERNAL' });
});

t.test('no display to act on: control is refused, and no process is left', { skip }, async (t) => {
  const ev = recorder();
  await t.rejects(startInputHost({ display: ':999', origin: { x: 0, y: 0 } }, ev), { code: 'RSO_ERR_INTERNAL', message: /Remote control is not available/ });
  await waitFor(() => hostPids().length === 0, 5000, 'no host left');
  t.equal(ev.exits, 0);
});
