// Starting an Xvfb on a free display number, shared by `rso demo` (its private display) and the
// test helpers: the server picks the number itself (-displayfd), so several run side by side.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { RsoError } from '../errors.js';

/**
 * Starts one Xvfb (24-bit, no TCP, never reset) and resolves with the display it picked. `onSpawn` sees the
 * process at once, so a caller can take charge of it even if the start then fails; on a
 * failure or a time-out the process is killed here.
 */
export async function launchXvfb(
  size: { width: number; height: number },
  onSpawn: (xvfb: ChildProcess) => void = () => {},
): Promise<{ xvfb: ChildProcess; display: string }> {
  // -noreset: an X server resets when its last client leaves, and a client connecting during
  // the reset is refused. Probing for the window manager (xprop connects and leaves) raced
  // openbox's own connect that way: under load openbox then exited with "Failed to open the
  // display" and the demo stopped with "the window manager did not start".
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${size.width}x${size.height}x24`, '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  onSpawn(xvfb);
  let stderr = '';
  xvfb.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const fd3 = xvfb.stdio[3] as NodeJS.ReadableStream;
  try {
    const display = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new RsoError('RSO_ERR_NO_DISPLAY', 'The X display (Xvfb) did not start in time.', 'Xvfb timeout')), 10_000);
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
        reject(new RsoError('RSO_ERR_NO_DISPLAY', 'The X display (Xvfb) could not start.', `Xvfb exit ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`));
      });
    });
    return { xvfb, display };
  } catch (err) {
    if (xvfb.exitCode === null) xvfb.kill('SIGKILL');
    throw err;
  }
}

/**
 * True unless another process owns the abstract socket of this display. Xlib/xcb clients
 * (xprop, xdotool, openbox, xterm) try the abstract socket before the file in /tmp, and the
 * abstract namespace is shared by every sandbox on the same network namespace: a display
 * number that another sandbox serves there would send our clients to a foreign server.
 */
export function ownsAbstractSocket(pid: number | undefined, display: string): boolean {
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
