// The start every `rso share` test shares: a test agent opens a session on the relay, the real
// daemon joins it in a tmux pane on the test display, the agent says its picture size, and the
// panel shows the consent prompt. What the customer does next is each test's own business;
// `shareScreen` is the common case of accepting and sharing the whole screen, `grantControl`
// the engineer asking for control and the customer saying y.
import type { Test } from 'tap';
import { TestAgent } from './agent.js';
import type { TestRelay } from './client-pairing.js';
import { startShare, type Pane } from './tmux.js';
import type { XServer } from './x11.js';

export interface SharedSession {
  agent: TestAgent;
  pane: Pane;
}

/** Up to the consent prompt; the pane and the agent are torn down with `t`. */
export async function connectShare(
  t: Test,
  x: Pick<XServer, 'display'>,
  relay: TestRelay,
  opts: { args?: string[]; viewport?: { width: number; height: number } } = {},
): Promise<SharedSession> {
  let digits = '';
  const agentP = TestAgent.open(relay.url, relay.token, (d) => (digits = d), opts.viewport);
  while (digits === '') await new Promise((r) => setTimeout(r, 20));
  const pane = startShare([digits, '--relay', relay.url, ...(opts.args ?? [])], { DISPLAY: x.display, XAUTHORITY: '/dev/null' });
  t.teardown(() => pane.kill());
  const agent = await agentP;
  t.teardown(() => agent.close().catch(() => undefined));
  await agent.ready();
  await pane.waitText(/Enter.*accept/);
  return { agent, pane };
}

/** Accepts the engineer, shares the whole screen and waits for the first update. */
export async function shareScreen({ agent, pane }: SharedSession): Promise<void> {
  pane.keys('Enter');
  await pane.waitText(/s: share the whole screen/);
  pane.keys('s');
  await agent.waitFor(() => agent.updates.length > 0, 10_000, 'first update');
}

/** The engineer asks for control and the customer presses y in the panel. */
export async function grantControl({ agent, pane }: SharedSession): Promise<void> {
  await agent.send({ type: 'request', what: 'control' });
  await pane.waitText(/asks to control your mouse and keyboard\. Allow\? \(y\/N\)/);
  pane.keys('y');
  await agent.waitFor(() => agent.last('state')?.control === true, 10_000, 'control on');
}
