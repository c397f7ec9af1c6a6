// A hostile engineer's program against a real customer: Xvfb + openbox, a real relay, `rso share`
// in a tmux pty, and a modified agent built on the client library (test/helpers/agent.ts) that
// floods requests, `ready` messages and input without any grant, then sends an oversized and a
// malformed message. The customer's daemon must stay in charge: one prompt at a time (every
// other request refused), nothing injected, its memory bounded (RSS of the daemon process), and
// a broken message ends the session with a clear error code on the customer's side.
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasXTools, startX, type XServer } from './helpers/x11.js';
import { relayWithAgent, type TestRelay } from './helpers/client-pairing.js';
import { connectShare, shareScreen } from './helpers/share-session.js';
import { TestAgent } from './helpers/agent.js';
import { daemonPid, type Pane } from './helpers/tmux.js';
import { rssOf } from './helpers/relay.js';
import { APP_FRAME, APP_JSON, type InputEvent } from '../src/protocol/app.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
const skip = hasXTools() || (!built ? 'run `npx tsc -p tsconfig.build.json` first' : false);

interface Setup {
  x: XServer;
  relay: TestRelay;
  agent: TestAgent;
  pane: Pane;
  pid: number;
}

/** A desktop, a relay, the daemon sharing the whole screen after the customer accepted, and the agent. */
async function setup(t: Test): Promise<Setup> {
  const x = await startX({ width: 800, height: 600 });
  t.teardown(() => x.stop());
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const { agent, pane } = await connectShare(t, x, relay, { viewport: { width: 800, height: 600 } });
  await shareScreen({ agent, pane });
  const pid = daemonPid(pane);
  if (pid === null) throw new Error('no daemon process');
  return { x, relay, agent, pane, pid };
}

const mib = (n: number | null): string => (n === null ? '?' : `${(n / 1048576).toFixed(1)} MiB`);

/** Sends without waiting for each write: a flood, as fast as the socket takes it. */
async function flood(agent: TestAgent, n: number, make: (i: number) => Parameters<TestAgent['send']>[0]): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(agent.send(make(i)));
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

t.test('floods of requests, ready and input without grant: one prompt, nothing injected, memory bounded', { skip }, async (t) => {
  const s = await setup(t);
  await new Promise((r) => setTimeout(r, 500));
  const rssBefore = rssOf(s.pid);

  // 1. 2,000 control requests and 2,000 view requests, interleaved.
  const answersBefore = s.agent.messages.filter((m) => m.type === 'answer').length;
  await flood(s.agent, 4000, (i) => ({ type: 'request', what: i % 2 === 0 ? 'control' : 'view' }));
  await s.pane.waitText(/Allow\? \(y\/N\)/);
  await s.agent.waitFor(() => s.agent.messages.filter((m) => m.type === 'answer').length - answersBefore >= 3999, 30_000, 'answers to the flood');
  const answers = s.agent.messages.filter((m) => m.type === 'answer').slice(answersBefore);
  t.equal(answers.length, 3999, 'every request but the first was answered at once');
  t.ok(answers.every((a) => a.type === 'answer' && a.granted === false), 'and refused: one prompt at a time');
  t.equal(s.pane.text().match(/Allow\? \(y\/N\)/g)?.length, 1, 'the customer sees one prompt');
  t.equal(s.agent.last('state')?.control, false, 'control is still off');

  // 2. Input without grant while the prompt is up: 500 messages of 64 events each.
  const events: InputEvent[] = Array.from({ length: 64 }, (_, i) => (i % 2 ? { t: 'move', x: i, y: i } : { t: 'key', key: 'a', down: i % 4 === 0, mods: [] }));
  await flood(s.agent, 500, () => ({ type: 'input', events }));
  // The customer answers the one prompt: no.
  s.pane.keys('n');
  await s.agent.waitFor(() => s.agent.messages.filter((m) => m.type === 'answer').length - answersBefore >= 4000, 10_000, 'the answer to the prompt');
  t.same(s.agent.last('answer'), { type: 'answer', request: 'control', granted: false }, 'n refuses the first request');

  // 3. 20,000 `ready` messages, each with another viewport size (each one asks for a whole new
  // picture) and the newest seq received: the most work an agent can legally ask for.
  const updatesBefore = s.agent.updates.length;
  s.agent.autoReady = false;
  const latest = (): number => s.agent.updates.at(-1)?.seq ?? 0;
  await flood(s.agent, 20_000, (i) => ({ type: 'ready', width: 100 + (i % 700), height: 80 + (i % 500), seq: latest() }));
  await new Promise((r) => setTimeout(r, 2000));
  const burst = s.agent.updates.length - updatesBefore;
  t.ok(burst >= 1 && burst <= 20_000, `${burst} updates for a burst of 20,000 ready: at most one per ready acknowledging the last update, the rest merged`);
  // Then 100 more, each sent the moment the previous whole new picture arrived: the most work
  // an agent can legally ask for (every one a new size, so a full read, scale and encode).
  for (let i = 0; i < 100; i++) {
    const n = s.agent.updates.length;
    await s.agent.send({ type: 'ready', width: 200 + i * 5, height: 150 + i * 3, seq: latest() });
    await s.agent.waitFor(() => s.agent.updates.length > n, 10_000, `update for resize ${i}`);
  }
  const updates = s.agent.updates.length - updatesBefore;
  t.pass(`100 paced resizes each got their update (${updates} updates in all)`);

  const dropped = s.pane.events().filter((e) => e.event === 'input-dropped').at(-1);
  t.ok(dropped !== undefined && Number(dropped.total) >= 500 * 64 * 0.5, `input without grant dropped and counted (${String(dropped?.total)} events)`);
  t.notOk(s.pane.events().some((e) => e.event === 'input-injected'), 'nothing injected');
  t.equal(s.agent.closeInfo, undefined, 'the session is still open: floods are refused, not fatal');
  t.notOk(s.pane.events().some((e) => e.event === 'error'), 'no error in the daemon');

  const rssAfter = rssOf(s.pid);
  t.comment(`daemon RSS ${mib(rssBefore)} before the floods, ${mib(rssAfter)} after (4,000 requests, 500x64 input events, 20,000 ready; ${updates} updates sent)`);
  t.ok(rssBefore !== null && rssAfter !== null && rssAfter - rssBefore < 100 * 1048576, 'daemon memory grew less than 100 MiB');

  // Bounded, not just small: the same floods again leave the memory where it was.
  const answersRound2 = s.agent.messages.filter((m) => m.type === 'answer').length;
  await flood(s.agent, 4000, (i) => ({ type: 'request', what: i % 2 === 0 ? 'control' : 'view' }));
  await flood(s.agent, 500, () => ({ type: 'input', events }));
  await flood(s.agent, 20_000, () => ({ type: 'ready', width: 640, height: 480, seq: latest() }));
  await s.agent.waitFor(() => s.agent.messages.filter((m) => m.type === 'answer').length - answersRound2 >= 3999, 30_000, 'answers to the second flood');
  await new Promise((r) => setTimeout(r, 1000));
  const rssRound2 = rssOf(s.pid);
  t.comment(`daemon RSS after the same floods again: ${mib(rssRound2)}`);
  t.ok(rssRound2 !== null && rssAfter !== null && rssRound2 - rssAfter < 30 * 1048576, 'a second round of floods grows it by less than 30 MiB');

  // Still in charge and still working: the customer's own keys act at once.
  s.pane.keys('n');
  s.pane.keys('p');
  await s.pane.waitText(/PAUSED/);
  t.pass('the panel answers the customer');
});

t.test('an oversized control message (1 MiB JSON in one record) ends the session with RSO_ERR_TOO_LARGE', { skip }, async (t) => {
  const s = await setup(t);
  const big = new Uint8Array(1024 * 1024);
  big[0] = APP_JSON;
  big.set(new TextEncoder().encode('{"type":"chat","text":"'), 1);
  big.fill(0x61, 24, big.length - 2);
  big.set(new TextEncoder().encode('"}'), big.length - 2);
  await s.agent.session.send(big);
  const status = await s.pane.waitExit(15_000);
  t.not(status, 0, `rso share exits with status ${status}`);
  t.match(s.pane.events().find((e) => e.event === 'error'), { code: 'RSO_ERR_TOO_LARGE' }, 'the daemon names the code');
  t.match(s.pane.text(), /RSO_ERR_TOO_LARGE/, 'and the customer sees it');
  await s.agent.waitFor(() => s.agent.closeInfo !== undefined, 10_000, 'the agent side closed');
  t.pass('the engineer is disconnected');
});

t.test('malformed messages end the session with RSO_ERR_PROTOCOL', { skip }, async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['a frame update sent by the agent', Uint8Array.of(APP_FRAME, 0x55, 1, 0, 0, 0, 0)],
    ['broken JSON', new Uint8Array([APP_JSON, ...new TextEncoder().encode('{"type":"request","what":')])],
    ['prototype keys', new Uint8Array([APP_JSON, ...new TextEncoder().encode('{"type":"ready","width":1,"height":1,"seq":0,"__proto__":{"x":1}}')])],
    // Well-formed, but acknowledges an update never sent: the frame machine refuses it.
    ['a ready for a seq never sent', new Uint8Array([APP_JSON, ...new TextEncoder().encode('{"type":"ready","width":800,"height":600,"seq":4294967295}')])],
  ];
  for (const [what, bytes] of cases) {
    await t.test(what, async (t) => {
      const s = await setup(t);
      await s.agent.session.send(bytes);
      const status = await s.pane.waitExit(15_000);
      t.not(status, 0, `rso share exits with status ${status}`);
      t.match(s.pane.events().find((e) => e.event === 'error'), { code: 'RSO_ERR_PROTOCOL' }, 'the daemon names RSO_ERR_PROTOCOL');
      t.match(s.pane.text(), /RSO_ERR_PROTOCOL/, 'and the customer sees it');
      t.notOk(s.pane.events().some((e) => e.event === 'input-injected'), 'nothing injected');
    });
  }
});
