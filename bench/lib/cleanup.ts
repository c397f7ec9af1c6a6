// Cleanup that also runs on Ctrl-C, SIGTERM and a crash. The namespace benches leave things
// behind that outlive the process (network namespaces, veth pairs, a detached tmux server,
// temp dirs), so a `finally` is not enough: a signal ends Node without running it.
//
// Steps run last registered first (like nested `finally` blocks). A step may be async (to give
// a child time to tidy its own things); a step that throws does not stop the others.

type Step = () => void | Promise<void>;

const steps: Step[] = [];
let running: Promise<void> | undefined;
let installed = false;

/** Registers a cleanup step; returns a function that runs it now (once) and unregisters it. */
export function atCleanup(step: Step): () => Promise<void> {
  install();
  steps.push(step);
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    const i = steps.indexOf(step);
    if (i >= 0) steps.splice(i, 1);
    await step();
  };
}

/** Runs every registered step (last first), once, even when called again meanwhile. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!;
      try {
        await step();
      } catch (err) {
        process.stderr.write(`cleanup step failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    running = undefined;
  })();
  return running;
}

function install(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    process.stderr.write(`${signal}: cleaning up\n`);
    // A second Ctrl-C while cleaning up must not leave namespaces behind: it is ignored; the
    // steps end on their own (each child wait has a timeout).
    process.on(signal, () => undefined);
    void runCleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('SIGHUP', () => onSignal('SIGHUP', 129));
  // A bench that throws at top level still cleans up before Node reports the error.
  process.once('uncaughtException', (err) => {
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    void runCleanup().finally(() => process.exit(1));
  });
  process.once('unhandledRejection', (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void runCleanup().finally(() => process.exit(1));
  });
}
