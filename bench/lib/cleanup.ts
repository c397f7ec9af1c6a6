// Cleanup that also runs on Ctrl-C, SIGTERM and a crash. The namespace benches leave things
// behind that outlive the process (network namespaces, veth pairs, a detached tmux server,
// temp dirs), so a `finally` is not enough: a signal ends Node without running it.
//
// Steps run last registered first (like nested `finally` blocks), each at most once: the
// function `atCleanup` returns runs the step now and, if a signal's cleanup already started
// it, waits for that same run. A step may be async (to give a child time to tidy its own
// things); a step that throws does not stop the others.

type Step = () => void | Promise<void>;

const steps: Array<() => Promise<void>> = [];
let running: Promise<void> | undefined;
let signalled = false;
let installed = false;

/** Registers a cleanup step; returns a function that runs it (once) and unregisters it. */
export function atCleanup(step: Step): () => Promise<void> {
  install();
  let run: Promise<void> | undefined;
  const once = (): Promise<void> => {
    run ??= (async () => {
      const i = steps.indexOf(once);
      if (i >= 0) steps.splice(i, 1);
      await step();
    })();
    return run;
  };
  steps.push(once);
  return once;
}

/** Runs every registered step (last first), once, even when called again meanwhile. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      try {
        await steps.at(-1)!();
      } catch (err) {
        process.stderr.write(`cleanup step failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    running = undefined;
  })();
  return running;
}

/**
 * Runs a bench's main function: on an error, prints it, cleans up and sets exit status 1;
 * while a signal's cleanup is running, an error that the signal caused (a killed child, a
 * closed socket) is left to it, so the process does not end before the cleanup does.
 */
export async function guarded(main: () => Promise<void>): Promise<void> {
  install();
  try {
    await main();
  } catch (err) {
    if (signalled) return new Promise<void>(() => undefined); // the signal handler exits
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await runCleanup();
    process.exitCode = 1;
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    signalled = true;
    process.stderr.write(`${signal}: cleaning up\n`);
    // Further signals (a second Ctrl-C) must not end the process before the namespaces are
    // gone: they are ignored; the steps end on their own (each wait on a child has a timeout).
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => undefined);
    void runCleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('SIGHUP', () => onSignal('SIGHUP', 129));
  // An error nobody catches (an event handler's throw) still cleans up before the exit.
  const crash = (err: unknown): void => {
    if (signalled) return;
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void runCleanup().finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
