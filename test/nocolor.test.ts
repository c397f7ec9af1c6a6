// NO_COLOR in the real customer panel: `rso share` in tmux, the screen read back with its
// attributes (capture-pane -e). With NO_COLOR=1 no cell has a colour, from the waiting screen to
// the consent question; with NO_COLOR empty the same screens do (so the check can fail). The waiting
// screen's spinner shows and moves in both.
import { spawnSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { relayWithAgent } from './helpers/client-pairing.js';
import { TestAgent } from './helpers/agent.js';
import { startShare, type Pane } from './helpers/tmux.js';

const noTmux = spawnSync('tmux', ['-V']).status !== 0 ? 'tmux is not installed' : false;

function captureWithAttributes(pane: Pane): string {
  const r = spawnSync('tmux', ['-L', pane.socket, 'capture-pane', '-p', '-e'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`capture-pane failed: ${r.stderr}`);
  return r.stdout;
}

/** SGR sequences that set a colour (30-38, 40-48, 90-97, 100-107); 39/49 only reset to the default. */
function colourSgr(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\x1b\[([\d;:]*)m/g)) {
    const params = (m[1] ?? '').split(/[;:]/).map(Number);
    if (params.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 97) || (p >= 100 && p <= 107))) found.push(JSON.stringify(m[0]));
  }
  return found;
}

const SPIN = /Waiting for the engineer to join… (\S)/;

async function run(t: Test, env: Record<string, string>): Promise<{ waiting: string; consent: string; glyphs: Set<string> }> {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const pane = startShare(['--relay', relay.url], env);
  t.teardown(() => pane.kill());
  const text = await pane.waitText(/Your session number: \d{3} \d{3} \d{3}/);
  const digits = /Your session number: (\d{3} \d{3} \d{3})/.exec(text)![1]!.replace(/ /g, '');
  // The spinner: present once the wait passed 300 ms, and moving (ten glyphs a second).
  await pane.waitText(SPIN, 5000);
  const glyphs = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const g = SPIN.exec(pane.text())?.[1];
    if (g) glyphs.add(g);
    await new Promise((r) => setTimeout(r, 130));
  }
  const waiting = captureWithAttributes(pane);
  const agent = await TestAgent.join(relay.url, relay.token, digits);
  t.teardown(() => agent.session.close());
  await pane.waitText(/Esc.*decline/);
  const consent = captureWithAttributes(pane);
  pane.keys('Escape');
  await pane.waitExit();
  return { waiting, consent, glyphs };
}

t.test('NO_COLOR=1: the panel has no colour; the spinner still moves', { skip: noTmux }, async (t) => {
  const { waiting, consent, glyphs } = await run(t, { NO_COLOR: '1' });
  t.match(waiting, /Your session number/);
  t.same(colourSgr(waiting), [], 'the waiting screen has no colour');
  t.match(consent, /Verification code/);
  t.same(colourSgr(consent), [], 'the consent screen has no colour');
  t.ok(glyphs.size >= 2, `the spinner advances (${[...glyphs].join(' ')})`);
});

t.test('NO_COLOR empty (as good as unset, per no-color.org): the same panel does use colour', { skip: noTmux }, async (t) => {
  // Empty rather than unset: tap itself runs tests with NO_COLOR=1, which tmux would pass on.
  const { waiting, glyphs } = await run(t, { NO_COLOR: '' });
  t.not(colourSgr(waiting).length, 0, 'the waiting screen is coloured');
  t.ok(glyphs.size >= 2, 'the spinner advances');
});
