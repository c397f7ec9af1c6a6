// Everything the demo starts, in one list, so that every way out stops all of it: the normal
// end awaits each process's exit (nothing left running, nothing left on disk); an abrupt end
// (a signal while the viewer owns the terminal ends the process with process.exit) still runs
// the synchronous part from the 'exit' event.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';

type SyncStop = () => void;

export class Children {
  private readonly procs: ChildProcess[] = [];
  /** Synchronous undo steps (tmux kill-server, temp folders), run last-first. */
  private readonly undo: SyncStop[] = [];
  private stopped = false;
  private readonly onExit = (): void => this.killNow();

  constructor() {
    process.on('exit', this.onExit);
  }

  add(proc: ChildProcess): ChildProcess {
    this.procs.push(proc);
    return proc;
  }

  onStop(step: SyncStop): void {
    this.undo.push(step);
  }

  removeDir(dir: string): void {
    this.onStop(() => rmSync(dir, { recursive: true, force: true }));
  }

  pids(): number[] {
    return this.procs.filter(alive).map((p) => p.pid!);
  }

  /** Stops everything, newest first, and waits for each process to be gone. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const step of this.undo.splice(0).reverse()) runQuietly(step);
    // The list stays as it is until every process is gone: a signal arriving while this waits
    // still reaches the ones not yet stopped through killNow().
    for (const proc of [...this.procs].reverse()) await stopProcess(proc);
    this.procs.length = 0;
    process.off('exit', this.onExit);
  }

  /** The signal and 'exit' path: no waiting is possible, so signal everything and remove the files. */
  killNow(): void {
    this.stopped = true;
    for (const step of this.undo.splice(0).reverse()) runQuietly(step);
    for (const proc of this.procs) if (alive(proc)) proc.kill('SIGTERM');
  }
}

function alive(p: ChildProcess): boolean {
  return p.pid !== undefined && p.exitCode === null && p.signalCode === null;
}

function runQuietly(step: SyncStop): void {
  try {
    step();
  } catch {
    // One failed undo step (a folder already gone, a tmux server already ended) must not stop
    // the others from running.
  }
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (!alive(proc)) return;
  const gone = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
  await gone;
  clearTimeout(timer);
}
