// A private X display for the demo when there is none: Xvfb on a free display number (the
// server picks it with -displayfd), openbox as window manager with its own config folders, a
// coloured background and a clock, so the engineer's viewer has something real to show.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RsoError } from '../errors.js';
import type { Children } from './children.js';

export interface PrivateDisplay {
  display: string;
  /** The environment for programs on this display. */
  env: NodeJS.ProcessEnv;
}

/** The background of the private display (#306090): tests look for it in the picture. */
export const DEMO_BACKGROUND = '#306090';

export async function startPrivateDisplay(children: Children, workDir: string, size = { width: 1280, height: 800 }): Promise<PrivateDisplay> {
  // A display number whose abstract socket another process holds (another sandbox on the same
  // network namespace) would send our X clients to someone else's server: keep such a server
  // running (so the next Xvfb cannot pick that number too) and try again.
  let found: { xvfb: ChildProcess; display: string } | undefined;
  for (let attempt = 0; attempt < 5 && !found; attempt++) {
    const got = await launchXvfb(children, size);
    if (ownsAbstractSocket(got.xvfb.pid, got.display)) found = got;
  }
  if (!found) throw new RsoError('RSO_ERR_NO_DISPLAY', 'Could not start a private X display (no free display number).', 'abstract sockets taken');
  // Xvfb runs without -auth: no cookie, and a stale ~/.Xauthority must not be offered.
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: found.display, XAUTHORITY: '/dev/null' };
  delete env.WAYLAND_DISPLAY;
  const home = join(workDir, 'openbox');
  for (const d of ['config', 'cache', 'data']) mkdirSync(join(home, d), { recursive: true });
  const wm = children.add(
    spawn('openbox', ['--sm-disable'], {
      env: { ...env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: join(home, 'data') },
      stdio: 'ignore',
    }),
  );
  await waitUntil(() => {
    if (wm.exitCode !== null) throw new RsoError('RSO_ERR_NO_DISPLAY', 'The window manager of the private display did not start.', `openbox exit ${wm.exitCode}`);
    return /window id/.test(spawnSync('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'], { env, encoding: 'utf8' }).stdout ?? '');
  }, 10_000, 'openbox');
  spawnSync('xsetroot', ['-solid', DEMO_BACKGROUND], { env, stdio: 'ignore' });
  return { display: found.display, env };
}

async function launchXvfb(children: Children, size: { width: number; height: number }): Promise<{ xvfb: ChildProcess; display: string }> {
  const xvfb = children.add(
    spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${size.width}x${size.height}x24`, '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] }),
  );
  let stderr = '';
  xvfb.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const fd3 = xvfb.stdio[3] as NodeJS.ReadableStream;
  const display = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new RsoError('RSO_ERR_NO_DISPLAY', 'The private X display (Xvfb) did not start in time.', 'Xvfb timeout')), 10_000);
    fd3.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^(\d+)\n/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    xvfb.on('exit', (code) => {
      clearTimeout(timer);
      reject(new RsoError('RSO_ERR_NO_DISPLAY', 'The private X display (Xvfb) could not start.', `Xvfb exit ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
  return { xvfb, display };
}

/** True unless another process owns this display's abstract socket (Linux /proc). */
function ownsAbstractSocket(pid: number | undefined, display: string): boolean {
  try {
    const name = `@/tmp/.X11-unix/X${display.slice(1)}`;
    const inodes = readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .filter((l) => l.endsWith(` ${name}`))
      .map((l) => l.trim().split(/\s+/)[6]);
    if (inodes.length === 0) return true;
    const fds = readdirSync(`/proc/${pid}/fd`).map((f) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${f}`);
      } catch {
        return '';
      }
    });
    return inodes.every((i) => fds.includes(`socket:[${i}]`));
  } catch {
    // Not Linux, or /proc unreadable: nothing to check.
    return true;
  }
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new RsoError('RSO_ERR_TIMEOUT', `The demo gave up waiting for ${what}.`, `timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
