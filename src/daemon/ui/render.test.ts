// The panel's text with and without NO_COLOR, and the spinner next to the waits.
import t from 'tap';
import { initialUi, step, type UiAction, type UiState } from './state.js';
import { render, waitKind } from './render.js';
import { INITIAL_POLICY, step as policyStep } from '../policy/policy.js';

function run(actions: UiAction[], from: UiState): UiState {
  return actions.reduce((s, a) => step(s, a).state, from);
}

const start = (joining = false): UiState => initialUi({ joining, suggestion: null, policy: INITIAL_POLICY, now: 0 });
const opened: UiAction = { type: 'opened', number: '482 913 705', expiresAt: 600_000 };
const unverified: UiAction = { type: 'paired', peer: { verified: false, relayName: 'relay.local' }, code: '0421' };
const key = (k: string): UiAction => ({ type: 'key', key: k });

/** Every screen that used colour: the waits, the unverified consent, control on with a prompt and notices, an empty picker, pause. */
function screens(): Array<[string, UiState]> {
  const accepted = run([opened, unverified, key('enter')], start());
  const sharing = run([{ type: 'policy', policy: policyStep(INITIAL_POLICY, { type: 'share-screen' }), sharedLabels: [] }], accepted);
  const control = run([{ type: 'policy', policy: policyStep(sharing.policy, { type: 'grant-control' }), sharedLabels: [] }, { type: 'notice', text: 'Engineer: hello' }], sharing);
  const asking = run([{ type: 'policy', policy: sharing.policy, sharedLabels: [] }, { type: 'request', what: 'control' }], sharing);
  const viewAsk = run([{ type: 'request', what: 'view' }], accepted);
  const paused = run([{ type: 'policy', policy: policyStep(sharing.policy, { type: 'pause' }), sharedLabels: [] }], sharing);
  const picker = run([key('a'), { type: 'apps-listed', apps: [], suggested: [] }], accepted);
  return [
    ['connecting', start()],
    ['waiting', run([opened], start())],
    ['consent (unverified)', run([opened, unverified], start())],
    ['sharing', sharing],
    ['control on', control],
    ['control prompt', asking],
    ['view prompt', viewAsk],
    ['paused', paused],
    ['empty picker', picker],
    ['reconnecting', run([{ type: 'link', up: false }], sharing)],
  ];
}

const COLOUR_TAG = /\{(?:\/)?[a-z-]+-(?:fg|bg)\}|\{#[0-9a-f]+-(?:fg|bg)\}/i;

t.test('NO_COLOR: not one colour tag on any screen; the meaning stays in words, bold and inverse', async (t) => {
  for (const [name, s] of screens()) {
    const text = render(s, { noColor: true });
    t.notMatch(text, COLOUR_TAG, `${name}: no colour tag`);
  }
  const byName = new Map(screens());
  const consent = render(byName.get('consent (unverified)')!, { noColor: true });
  t.match(consent, '{inverse}{bold} UNVERIFIED {/bold}{/inverse}', 'UNVERIFIED still stands out (inverse)');
  t.match(consent, '{bold}The relay relay.local does not vouch for who is connecting.{/bold}');
  t.match(consent, 'Only accept if you started this session with someone you trust.');
  const control = render(byName.get('control on')!, { noColor: true });
  t.match(control, '{inverse}{bold} CONTROL ON {/bold}{/inverse}');
  t.match(control, 'Control: {inverse}{bold}ON{/bold}{/inverse}');
  t.match(control, 'Engineer: hello');
  const asking = render(byName.get('control prompt')!, { noColor: true });
  t.match(asking, 'asks to control your mouse and keyboard. Allow? (y/N)');
  t.match(asking, '{bold}Never allow control to someone who called you unexpectedly');
});

t.test('without NO_COLOR the same screens do use colour (so the check above can fail)', async (t) => {
  const byName = new Map(screens());
  for (const name of ['waiting', 'consent (unverified)', 'control on', 'control prompt', 'paused', 'empty picker', 'reconnecting']) {
    t.match(render(byName.get(name)!), COLOUR_TAG, `${name}: coloured`);
  }
  t.match(render(byName.get('consent (unverified)')!), '{red-bg}{white-fg}{bold} UNVERIFIED ');
});

t.test('the spinner: only on waits, only after 300 ms, advancing every 100 ms', async (t) => {
  t.equal(waitKind(start()), 'connecting');
  t.equal(waitKind(start(true)), 'joining');
  t.equal(waitKind(run([opened], start())), 'waiting');
  t.equal(waitKind(run([opened, unverified], start())), null, 'the consent question is not a wait');
  t.equal(waitKind(run([opened, unverified, key('enter'), key('a')], start())), 'loading-apps');

  const line = (s: UiState, now: number, re: RegExp): string => render(s, { wait: { since: 1000, now } }).split('\n').find((l) => re.test(l)) ?? '';
  const connecting = start();
  t.equal(line(connecting, 1000, /Connecting/), 'Connecting to the relay…', 'no glyph at once');
  t.equal(line(connecting, 1299, /Connecting/), 'Connecting to the relay…', 'none at 299 ms');
  const g300 = line(connecting, 1300, /Connecting/);
  const g399 = line(connecting, 1399, /Connecting/);
  const g400 = line(connecting, 1400, /Connecting/);
  t.match(g300, /^Connecting to the relay… \S$/, 'a glyph at 300 ms');
  t.equal(g399, g300, 'the same glyph within one 100 ms step');
  t.not(g400, g300, 'the next glyph 100 ms later');
  const seen = new Set<string>();
  for (let ms = 300; ms < 1300; ms += 100) seen.add(line(connecting, 1000 + ms, /Connecting/));
  t.ok(seen.size >= 8, `it keeps moving (${seen.size} glyphs in a second)`);

  t.match(line(start(true), 1500, /Joining/), /^Joining the session… \S$/);
  t.match(line(run([opened], start()), 1500, /Waiting for the engineer/), /^Waiting for the engineer to join… \S$/);
  t.match(line(run([opened, unverified, key('enter'), key('a')], start()), 1500, /Listing/), /^Listing your applications… \S$/);
  t.equal(line(run([opened], start()), 1500, /Waiting for the engineer/).length, 'Waiting for the engineer to join…'.length + 2);
  // No clock given (a test, or a screen that is not a wait): never a glyph.
  t.equal(render(start()).split('\n')[2], 'Connecting to the relay…');
  const consent = run([opened, unverified], start());
  t.equal(render(consent, { wait: { since: 0, now: 5000 } }), render(consent), 'not on a screen that waits for the customer');
});

t.test('while the relay connection is down: one line says so, with the only spinner', async (t) => {
  const sharing = run([opened, unverified, key('enter'), { type: 'policy', policy: policyStep(INITIAL_POLICY, { type: 'share-screen' }), sharedLabels: [] }], start());
  t.equal(waitKind(sharing), null, 'sharing is not a wait');
  const down = run([{ type: 'link', up: false }], sharing);
  t.equal(waitKind(down), 'reconnecting');
  const lines = render(down, { noColor: true, wait: { since: 1000, now: 1500 } }).split('\n');
  t.match(lines[2], /^\{bold\}Connection to the relay lost — reconnecting… \S\{\/bold\}$/, 'under the title, in bold, spinning');
  t.equal(render(down).split('\n')[2], '{red-fg}Connection to the relay lost — reconnecting…{/red-fg}', 'red with colour; no glyph without a clock');
  const up = run([{ type: 'link', up: true }], down);
  t.equal(waitKind(up), null, 'resumed: no wait');
  t.notMatch(render(up), /reconnecting/, 'the line is gone');
  const ended = run([{ type: 'link', up: false }, { type: 'ended', message: 'The relay could not be reached.' }], sharing);
  t.equal(waitKind(ended), null, 'ended: no spinner');
  t.notMatch(render(ended), /reconnecting/);

  // A wait of the phase's own (listing applications) keeps its sentence but gives up its glyph.
  const listing = run([key('a'), { type: 'link', up: false }], sharing);
  const text = render(listing, { wait: { since: 1000, now: 1500 } });
  t.match(text, /^Listing your applications…$/m, 'no second spinner');
  t.match(text, /reconnecting… \S/);
});
