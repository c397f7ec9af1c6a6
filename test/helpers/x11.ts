// A private X server per test: Xvfb on a free display number (-displayfd lets the server pick
// one, so tests run in parallel), 24-bit, with openbox as window manager unless asked not to.
// stop() kills everything this helper started, windows included.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchXvfb, ownsAbstractSocket } from '../../src/demo/xvfb.js';

export interface XServer {
  display: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export interface SpawnedWindow {
  proc: ChildProcess;
  /** Hex window id of the client window, e.g. "0x400001" (as xdotool prints it in decimal, converted). */
  windowId: string;
  /** The same id as a number. */
  wid: number;
  stop(): Promise<void>;
}

export function hasXTools(): string | false {
  for (const tool of ['Xvfb', 'openbox', 'xdotool', 'xwd', 'xterm']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed`;
  }
  return false;
}

async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
  await gone;
  clearTimeout(timer);
}

export async function startX(opts: { width?: number; height?: number; wm?: boolean } = {}): Promise<XServer> {
  const width = opts.width ?? 1024;
  const height = opts.height ?? 768;
  // A display whose abstract socket belongs to someone else is kept (so that the next Xvfb
  // cannot pick the same number) until we have a good one, then dropped.
  const rejected: ChildProcess[] = [];
  let xvfb: ChildProcess | undefined;
  let display = '';
  for (let attempt = 0; attempt < 5 && !xvfb; attempt++) {
    const got = await launchXvfb({ width, height });
    if (ownsAbstractSocket(got.xvfb.pid, got.display)) {
      xvfb = got.xvfb;
      display = got.display;
    } else {
      rejected.push(got.xvfb);
    }
  }
  for (const r of rejected) await kill(r);
  if (!xvfb) throw new Error('no free X display number (abstract sockets taken by other processes)');
  // XAUTHORITY pointing nowhere: Xvfb runs without -auth, so no cookie is needed, and a stale
  // ~/.Xauthority must not be offered to it.
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display, XAUTHORITY: '/dev/null' };
  const children: ChildProcess[] = [];
  let wmHome: string | undefined;
  if (opts.wm ?? true) {
    // Each openbox gets its own config/cache directories: several starting at once against a
    // shared ~/.config and ~/.cache sometimes exit with status 1 and no message.
    wmHome = mkdtempSync(join(tmpdir(), 'rso-openbox-'));
    const wmEnv = { ...env, HOME: wmHome, XDG_CONFIG_HOME: join(wmHome, 'config'), XDG_CACHE_HOME: join(wmHome, 'cache'), XDG_DATA_HOME: join(wmHome, 'data') };
    let lastErr = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const wm = spawn('openbox', ['--sm-disable'], { env: wmEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      let wmErr = '';
      wm.stderr?.on('data', (d: Buffer) => (wmErr += d.toString()));
      // The window manager is ready when it has announced itself on the root window (EWMH).
      let said = '';
      try {
        await waitFor(() => {
          if (wm.exitCode !== null) throw new Error('exited');
          const r = spawnSync('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'], { env, encoding: 'utf8' });
          said = `${r.stdout}${r.stderr}`.trim();
          return /window id/.test(r.stdout);
        }, 10_000, 'openbox start');
        children.push(wm);
        break;
      } catch {
        await kill(wm);
        lastErr = `openbox did not start on ${display} (exit ${wm.exitCode}): ${wmErr.trim()}; xprop said: ${said}`;
      }
    }
    if (children.length === 0) {
      await kill(xvfb);
      rmSync(wmHome, { recursive: true, force: true });
      throw new Error(lastErr);
    }
  }
  windowsByDisplay.set(display, []);
  return {
    display,
    env,
    async stop() {
      for (const w of windowsByDisplay.get(display) ?? []) await kill(w);
      windowsByDisplay.delete(display);
      for (const c of children.reverse()) await kill(c);
      await kill(xvfb);
      if (wmHome) rmSync(wmHome, { recursive: true, force: true });
    },
  };
}

/**
 * Two monitors side by side, each `width` x `height`: Xephyr with two screens joined by
 * Xinerama (Xvfb cannot lay out several monitors), running inside a private Xvfb. No window
 * manager: windows appear exactly where their geometry puts them.
 */
export async function startDualHeadX(opts: { width: number; height: number }): Promise<XServer> {
  const host = await startX({ width: opts.width * 2, height: opts.height, wm: false });
  const screen = `${opts.width}x${opts.height}`;
  const xephyr = spawn('Xephyr', ['-displayfd', '3', '-screen', screen, '-screen', screen, '+xinerama', '-nolisten', 'tcp', '-noreset'], {
    env: host.env,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  let display: string;
  try {
    display = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error('Xephyr did not start')), 10_000);
      (xephyr.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /^(\d+)\n/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(`:${m[1]}`);
        }
      });
      xephyr.on('exit', (code) => reject(new Error(`Xephyr exited with ${code}`)));
    });
  } catch (e) {
    await kill(xephyr);
    await host.stop();
    throw e;
  }
  windowsByDisplay.set(display, []);
  return {
    display,
    env: { ...process.env, DISPLAY: display, XAUTHORITY: '/dev/null' },
    async stop() {
      for (const w of windowsByDisplay.get(display) ?? []) await kill(w);
      windowsByDisplay.delete(display);
      await kill(xephyr);
      await host.stop();
    },
  };
}

const windowsByDisplay = new Map<string, ChildProcess[]>();

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts an X client and waits until its top-level window is mapped (and, with a window
 * manager, framed). Finds the window by PID (_NET_WM_PID), or by WM_CLASS when given.
 */
export async function spawnWindow(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { className?: string } = {},
): Promise<SpawnedWindow> {
  const proc = spawn(cmd, args, { env, stdio: 'ignore' });
  const display = env.DISPLAY ?? '';
  windowsByDisplay.get(display)?.push(proc);
  const query = opts.className ? ['--classname', opts.className] : ['--pid', String(proc.pid)];
  let wid = 0;
  await waitFor(() => {
    const r = spawnSync('xdotool', ['search', '--onlyvisible', ...query], { env, encoding: 'utf8' });
    const first = r.stdout.split('\n').find((l) => /^\d+$/.test(l));
    if (first) wid = Number(first);
    return wid !== 0;
  }, 10_000, `window of ${cmd}`);
  // With openbox, the window is usable once the frame exists (the WM sets _NET_FRAME_EXTENTS).
  const hasWm = spawnSync('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'], { env, encoding: 'utf8' }).stdout.includes('window id');
  if (hasWm) {
    await waitFor(() => {
      const r = spawnSync('xprop', ['-id', String(wid), '_NET_FRAME_EXTENTS'], { env, encoding: 'utf8' });
      return /=\s*\d/.test(r.stdout);
    }, 10_000, `frame of ${cmd}`);
  }
  // Give the client a moment to paint its first frame.
  await new Promise((r) => setTimeout(r, 200));
  return {
    proc,
    wid,
    windowId: `0x${wid.toString(16)}`,
    stop: () => kill(proc),
  };
}

/** Runs xdotool (or any X tool) against the test display and returns its stdout. */
export function xrun(env: NodeJS.ProcessEnv, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * An independent capture of the whole root window: `xwd -root -silent`, parsed here.
 * Returns BGRX bytes (the same layout our capture returns) for a 24-bit/32bpp display.
 */
export function xwdRoot(env: NodeJS.ProcessEnv): { width: number; height: number; data: Uint8Array } {
  const r = spawnSync('xwd', ['-root', '-silent'], { env, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`xwd failed: ${r.stderr}`);
  return parseXwd(r.stdout);
}

/** XWD file: a big-endian header (XWDFileHeader, 25 CARD32) + window name + colormap + pixels. */
export function parseXwd(buf: Buffer): { width: number; height: number; data: Uint8Array } {
  const u = (i: number): number => buf.readUInt32BE(i * 4);
  const headerSize = u(0);
  const pixmapFormat = u(2);
  const width = u(4);
  const height = u(5);
  const byteOrder = u(7);
  const bitsPerPixel = u(11);
  const bytesPerLine = u(12);
  const ncolors = u(19);
  if (pixmapFormat !== 2 || bitsPerPixel !== 32) throw new Error(`unexpected xwd format ${pixmapFormat}/${bitsPerPixel}bpp`);
  const start = headerSize + ncolors * 12;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = start + y * bytesPerLine + x * 4;
      // byteOrder 0 = LSBFirst: bytes B G R X; 1 = MSBFirst: X R G B.
      const d = (y * width + x) * 4;
      if (byteOrder === 0) {
        data[d] = buf[o]!;
        data[d + 1] = buf[o + 1]!;
        data[d + 2] = buf[o + 2]!;
      } else {
        data[d] = buf[o + 3]!;
        data[d + 1] = buf[o + 2]!;
        data[d + 2] = buf[o + 1]!;
      }
    }
  }
  return { width, height, data };
}

/** Copies the first three bytes of every pixel (B, G, R): the fourth byte of BGRX is undefined. */
export function bgrOnly(data: Uint8Array): Uint8Array {
  const out = new Uint8Array((data.length / 4) * 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    out[j] = data[i]!;
    out[j + 1] = data[i + 1]!;
    out[j + 2] = data[i + 2]!;
  }
  return out;
}
