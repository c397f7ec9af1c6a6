// `rso demo`: a whole session on this machine. A relay in this process (loopback, a throwaway
// verified agent account), the customer's real `rso share` with its panel in an xterm on the
// shared display, and the engineer's real viewer in this terminal, joined to the customer's
// number. Quitting the viewer stops everything the demo started.
//
// Consent is never bypassed: `rso share` has no flag to skip it and runs unchanged. On a
// private display the demo started itself (nothing of the user's is on it), the demo presses
// the panel's keys (Enter: accept, s: share) for the customer, only after the panel shows the
// demo's own verified agent, and says so in a line under the panel, which is in the picture.
// On the user's own display nobody presses anything for them: they accept in the panel window.
// See docs/demo.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RsoError, toRsoError } from '../errors.js';
import type { GraphicsOption } from '../agent/graphics/detect.js';
import { AccountStore, addAgent } from '../relay/accounts.js';
import { startRelay } from '../relay/server.js';
import type { RunningRelay } from '../relay/server-api.js';
import { Children } from './children.js';
import { startCustomer, type CustomerSide } from './customer.js';
import { startPrivateDisplay, waitUntil } from './private-display.js';
import { requirePrograms } from './tools.js';

export const DEMO_AGENT = { id: 'demo', name: 'Demo Agent', org: 'rso demo' } as const;

export interface DemoOptions {
  /** Use a private Xvfb even when DISPLAY is set. */
  private: boolean;
  graphics: GraphicsOption;
  /** Where progress lines go (stderr): the viewer owns stdout's screen afterwards. */
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

export async function runDemo(opts: DemoOptions): Promise<string> {
  const env = opts.env ?? process.env;
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new RsoError('RSO_ERR_USAGE', 'rso demo shows the session in this terminal: run it in a terminal window, not with its input or output redirected.', 'not a TTY');
  }
  const ownDisplay = !opts.private && env.DISPLAY !== undefined && env.DISPLAY !== '';
  if (ownDisplay) requirePrograms(['xterm', 'tmux'], "to show the customer's panel on your display");
  else requirePrograms(['Xvfb', 'openbox', 'xprop', 'xsetroot', 'xterm', 'xclock', 'tmux'], 'for its private display');

  const children = new Children();
  // A signal before the viewer has the terminal, or while it has it (the viewer then exits the
  // process itself): everything started is signalled from the 'exit' event either way.
  const onSignal = (sig: keyof typeof SIGNALS) => (): void => {
    children.killNow();
    process.exit(SIGNALS[sig]);
  };
  const handlers = (Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>).map((sig) => [sig, onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);

  const work = mkdtempSync(join(tmpdir(), 'rso-demo-'));
  children.removeDir(work);
  let relay: RunningRelay | undefined;
  let display = env.DISPLAY ?? '';
  let failure: RsoError | undefined;
  let message = '';
  try {
    const dataDir = join(work, 'relay');
    const token = addAgent(dataDir, { ...DEMO_AGENT });
    relay = await startRelay({ host: '127.0.0.1', port: 0, accounts: new AccountStore(dataDir), brandName: 'rso demo' });
    opts.log(`demo: relay on ${relay.url} (in this process; agent "${DEMO_AGENT.name}" exists for this run only)`);

    let displayEnv: NodeJS.ProcessEnv = { ...env };
    if (!ownDisplay) {
      const x = await startPrivateDisplay(children, work);
      display = x.display;
      displayEnv = x.env;
      // Something to look at that moves: a clock ticking every second.
      children.add(spawn('xclock', ['-update', '1', '-geometry', '220x220+1000+40'], { env: displayEnv, stdio: 'ignore' }));
      opts.log(`demo: private display ${display} (Xvfb + openbox); nothing of yours is on it`);
    } else {
      opts.log(`demo: sharing your display ${display}`);
    }

    const customer = startCustomer(children, { relay: relay.url, display, env: displayEnv });
    opts.log(`demo: the customer's panel is an xterm on ${display} (also: tmux -L ${customer.socket} attach)`);
    const { number } = await customer.waitFor('waiting', 20_000);

    const consent = ownDisplay ? Promise.resolve() : acceptForCustomer(customer);
    if (ownDisplay) opts.log("demo: accept in the customer's panel window on your display: Enter, then s to share the screen");
    const viewer = (async () => {
      const { runViewer } = await import('../agent/viewer.js');
      return runViewer({ relay: relay!.url, token, number, graphics: opts.graphics });
    })();
    // A failed consent step leaves the viewer waiting, which the person ends with q; the
    // reason is reported afterwards.
    const consentError = consent.then(() => undefined, (err: unknown) => toRsoError(err));
    message = await viewer;
    const err = await Promise.race([consentError, Promise.resolve(undefined)]);
    if (err) opts.log(`demo: the customer's side stopped early: ${err.message}`);
    // The viewer said goodbye: rso share ends by itself and its tmux server with it. Give it a
    // moment to do so cleanly before everything is stopped.
    await waitUntil(() => customer.phase().phase === 'ended' || !tmuxAlive(customer.socket), 3000, 'the customer side to end').catch(() => undefined);
  } catch (err) {
    failure = toRsoError(err);
  } finally {
    await children.stop();
    await relay?.close();
    for (const [sig, h] of handlers) process.off(sig, h);
  }
  if (failure) throw failure;
  opts.log(`demo: stopped the relay, the customer's rso share${ownDisplay ? '' : ` and display ${display}`}; removed ${work}`);
  return message;
}

/**
 * Presses the panel's keys for the customer of the demo's private display, and only for the
 * demo's own verified agent: anyone else reaching the consent screen is declined.
 */
async function acceptForCustomer(customer: CustomerSide): Promise<void> {
  const who = `${DEMO_AGENT.name}, ${DEMO_AGENT.org}`;
  const asked = await customer.waitFor('consent', 30_000);
  if (!asked.verified || asked.who !== who) {
    customer.keys('Escape');
    throw new RsoError('RSO_ERR_DECLINED', 'Someone other than the demo\'s own agent reached the customer\'s panel; the demo declined.', 'unexpected peer');
  }
  customer.note('rso demo pressed Enter (accept) for you: this display is private to the demo');
  customer.keys('Enter');
  await customer.waitFor('choose', 10_000);
  customer.keys('s');
  await customer.waitFor('sharing', 10_000);
  customer.note('rso demo pressed Enter, s (share) for you: display private to the demo');
}

function tmuxAlive(socket: string): boolean {
  return spawnSync('tmux', ['-L', socket, 'has-session'], { stdio: 'ignore' }).status === 0;
}
