// The customer's own panel is out of the engineer's reach: `rso share` runs in a real xterm
// on the Xvfb display (through a tmux client inside it, so the test can read the panel and
// press the customer's keys, and so that WINDOWID reaches the daemon the way it does for a
// person), control is granted for the whole screen, and the test agent clicks on the panel's
// window and types into it. Nothing arrives there, while input to another window still works.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasXTools, spawnWindow, startX, waitFor, xrun } from './helpers/x11.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { TestAgent } from './helpers/agent.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = join(root, 'bin', 'rso.js');
const built = existsSync(join(root, 'dist', 'daemon', 'windows', 'protected.js'));
const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
const skip = hasXTools() || (!hasTmux ? 'tmux not installed' : !built ? 'run `npx tsc -p tsconfig.build.json` first' : false);

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function geometry(env: NodeJS.ProcessEnv, wid: number): { x: number; y: number; w: number; h: number } {
  const out = xrun(env, 'xdotool', ['getwindowgeometry', '--shell', String(wid)]);
  const v = (k: string): number => Number(new RegExp(`^${k}=(\\d+)`, 'm').exec(out)![1]);
  return { x: v('X'), y: v('Y'), w: v('WIDTH'), h: v('HEIGHT') };
}

t.test('with control on, the engineer can neither click nor type into the customer\'s panel', { skip }, async (t) => {
  const x = await startX({ width: 1000, height: 700 });
  t.teardown(() => x.stop());
  const dir = mkdtempSync(join(tmpdir(), 'rso-panel-'));
  const typed = join(dir, 'typed');
  const events = join(dir, 'events.jsonl');
  const other = await spawnWindow('xterm', ['-geometry', '40x8+560+420', '-e', 'sh', '-c', `stty raw -echo; exec cat > ${q(typed)}`], x.env);

  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  let digits = '';
  const agentP = TestAgent.open(relay.url, relay.token, (d) => (digits = d));
  while (digits === '') await new Promise((r) => setTimeout(r, 20));

  // The tmux server is started by the client inside the xterm, so its environment (and the
  // pane's) carries the xterm's WINDOWID, as a shell in that xterm would.
  const socket = `rso-panel-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const cmd = `RSO_DEBUG_EVENTS=${q(events)} ${q(process.execPath)} ${q(bin)} share ${digits} --relay ${q(relay.url)}; sleep 600`;
  const term = await spawnWindow('xterm', ['-geometry', '100x30+10+10', '-e', 'tmux', '-L', socket, '-f', '/dev/null', 'new-session', 'sh', '-c', cmd], x.env);
  t.teardown(() => void spawnSync('tmux', ['-L', socket, 'kill-server']));
  const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).stdout;
  const text = (): string => tmux('capture-pane', '-p');
  const waitText = async (re: RegExp): Promise<string> => {
    await waitFor(() => re.test(text()), 15_000, `panel shows ${re}; it shows:\n${text()}`);
    return text();
  };
  const log = (): Array<Record<string, unknown> & { event: string }> =>
    existsSync(events) ? readFileSync(events, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown> & { event: string }) : [];

  const agent = await agentP;
  t.teardown(() => agent.close().catch(() => undefined));
  await agent.ready({ width: 1000, height: 700 });
  await waitText(/Enter.*accept/);
  tmux('send-keys', 'Enter');
  await waitText(/s: share the whole screen/);
  tmux('send-keys', 's');
  await agent.waitFor(() => agent.updates.length > 0, 10_000, 'first update');
  await agent.send({ type: 'request', what: 'control' });
  await waitText(/Allow\? \(y\/N\)/);
  tmux('send-keys', 'y');
  await agent.waitFor(() => agent.last('state')?.control === true, 10_000, 'control on');
  t.match(log().find((e) => e.event === 'control-on'), { panelWindow: true }, 'the daemon found the window of its panel');
  // The engineer may hear "control on" before the panel has been redrawn with it.
  const before = await waitText(/CONTROL ON/);

  // Click in the middle of the panel (which would focus it), then type keys the panel acts on.
  const g = geometry(x.env, term.wid);
  const at = { x: g.x + Math.floor(g.w / 2), y: g.y + Math.floor(g.h / 2) };
  await agent.send({ type: 'input', events: [{ t: 'move', ...at }, { t: 'button', button: 'left', down: true, ...at }, { t: 'button', button: 'left', down: false, ...at }] });
  // The customer's own focus is on the panel (they just pressed y there).
  xrun(x.env, 'xdotool', ['windowactivate', '--sync', String(term.wid)]);
  await agent.send({ type: 'input', events: [{ t: 'text', text: 'c' }, { t: 'key', key: 'q', down: true, mods: [] }, { t: 'key', key: 'q', down: false, mods: [] }] });
  await waitFor(() => log().some((e) => e.event === 'input-dropped' && e.total === 6), 5000, 'six events dropped');
  // Each input-dropped line counts the reasons of one batch.
  const reasons = log().filter((e) => e.event === 'input-dropped').map((e) => e.reasons as Record<string, number>);
  t.same(reasons, [{ 'protected-window': 3 }, { 'protected-window': 3 }], 'every one for protected-window');
  t.notOk(log().some((e) => e.event === 'input-injected'), 'nothing was injected');
  t.notOk(log().some((e) => e.event === 'control-off' || e.event === 'exit'), 'control is still on and the daemon still runs');
  t.equal(text(), before, 'the panel did not change');
  t.equal(agent.last('state')?.control, true);

  // Input elsewhere still works: click into the other xterm and type there.
  const og = geometry(x.env, other.wid);
  const inOther = { x: og.x + 30, y: og.y + 30 };
  await agent.send({ type: 'input', events: [{ t: 'button', button: 'left', down: true, ...inOther }, { t: 'button', button: 'left', down: false, ...inOther }] });
  await waitFor(() => Number(xrun(x.env, 'xdotool', ['getwindowfocus']).trim()) === other.wid, 5000, 'focus on the other xterm');
  await agent.send({ type: 'input', events: [{ t: 'text', text: 'ok' }] });
  await waitFor(() => existsSync(typed) && readFileSync(typed, 'utf8') === 'ok', 5000, 'typed into the other window');
  t.pass('the other window got the click and the text');
  t.match(log().filter((e) => e.event === 'input-injected').at(-1), { total: 3 });
  t.equal(text(), before, 'the panel still did not change');
});
