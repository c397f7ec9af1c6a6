// A private X display for the demo when there is none: Xvfb on a free display number (the
// server picks it with -displayfd), openbox as window manager with its own config folders, a
// coloured background and a clock, so the engineer's viewer has something real to show.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RsoError } from '../errors.js';
import type { Children } from './children.js';
import { launchXvfb, ownsAbstractSocket } from './xvfb.js';

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
    const got = await launchXvfb(size, (xvfb) => children.add(xvfb));
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

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new RsoError('RSO_ERR_TIMEOUT', `The demo gave up waiting for ${what}.`, `timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
