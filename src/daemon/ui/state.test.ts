import t from 'tap';
import { initialUi, step, UiError, type UiAction, type UiEffect, type UiState } from './state.js';
import { render, esc, formatCountdown } from './render.js';
import { INITIAL_POLICY, step as policyStep } from '../policy/policy.js';

function run(actions: UiAction[], from: UiState): { state: UiState; effects: UiEffect[] } {
  let state = from;
  const effects: UiEffect[] = [];
  for (const a of actions) {
    const out = step(state, a);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

const start = (suggestion: UiState['suggestion'] = null): UiState => initialUi({ joining: false, suggestion, policy: INITIAL_POLICY, now: 0 });
const verified = { verified: true, name: 'Anna Schmidt', org: 'ACME Support', relayName: 'relay.example.com' };
const key = (k: string): UiAction => ({ type: 'key', key: k });
const paired: UiAction[] = [
  { type: 'opened', number: '482 913 705', expiresAt: 600_000 },
  { type: 'paired', peer: verified, code: '1234' },
];

t.test('the number and a countdown, then who connects and the code', async (t) => {
  let r = run([{ type: 'opened', number: '482 913 705', expiresAt: 600_000 }, { type: 'tick', now: 1000 }], start());
  t.match(render(r.state), 'Your session number: {bold}482 913 705{/bold}');
  t.match(render(r.state), 'It expires in 9:59.');
  r = run([{ type: 'paired', peer: verified, code: '0421' }], r.state);
  const text = render(r.state);
  t.match(text, 'Anna Schmidt, ACME Support{/bold} — verified by relay.example.com');
  t.match(text, '0421');
  t.notMatch(text, 'UNVERIFIED');
  const open = run([{ type: 'paired', peer: { verified: false, relayName: 'relay.local' }, code: '0421' }], run([{ type: 'opened', number: '1 2 3', expiresAt: 0 }], start()).state);
  t.match(render(open.state), /red-bg.*UNVERIFIED/, 'an unverified peer gets the red warning');
  t.equal(formatCountdown(61_000), '1:01');
  t.equal(formatCountdown(-5), '0:00');
});

t.test('Enter accepts, Esc declines; accepting shares nothing', async (t) => {
  t.same(run([...paired, key('escape')], start()).effects, [{ type: 'decline' }]);
  const r = run([...paired, key('enter')], start());
  t.same(r.effects, [{ type: 'accept' }], 'accept only: no share effect');
  t.equal(r.state.phase.name, 'choose');
  t.match(render(r.state), 'Nothing is shared yet');
  t.same(run([key('space'), key('p'), key('enter')], r.state).effects, [], 'other keys do nothing');
});

t.test('s shares the screen; a lists apps, Space toggles, Enter confirms; Esc goes back', async (t) => {
  const accepted = run([...paired, key('enter')], start()).state;
  // The first s lists the monitors (the display is not touched before); one monitor: shared at once.
  t.same(run([key('s')], accepted).effects, [{ type: 'list-monitors' }]);
  t.same(run([key('s'), { type: 'monitors-listed', monitors: [] }], accepted).effects, [{ type: 'list-monitors' }, { type: 'share-screen' }]);
  let r = run([key('a')], accepted);
  t.same(r.effects, [{ type: 'list-apps' }]);
  r = run([{ type: 'apps-listed', apps: [{ key: 'pid:1', label: 'XTerm — one' }, { key: 'pid:2', label: 'Firefox — two' }], suggested: [] }], r.state);
  t.same(run([key('enter')], r.state).effects, [], 'nothing selected: Enter shares nothing');
  r = run([key('down'), key('space'), key('down'), key('space'), key('space')], r.state);
  t.match(render(r.state), '[x] Firefox — two');
  t.match(render(r.state), '[ ] XTerm — one');
  t.same(run([key('enter')], r.state).effects, [{ type: 'share-apps', keys: ['pid:2'] }]);
  t.equal(run([key('escape')], r.state).state.phase.name, 'choose');
});

t.test('--share suggestions pre-fill but need Enter', async (t) => {
  let r = run([...paired, key('enter')], start({ kind: 'screen' }));
  t.same(r.effects, [{ type: 'accept' }]);
  t.match(render(r.state), 'suggests sharing your whole screen');
  t.same(run([key('enter'), { type: 'monitors-listed', monitors: [] }], r.state).effects, [{ type: 'list-monitors' }, { type: 'share-screen' }]);
  r = run([...paired, key('enter')], start({ kind: 'apps', names: ['xterm'] }));
  t.same(r.effects, [{ type: 'accept' }, { type: 'list-apps' }], 'app suggestion goes straight to the picker');
  r = run([{ type: 'apps-listed', apps: [{ key: 'pid:1', label: 'a' }, { key: 'pid:2', label: 'b' }], suggested: ['pid:2', 'pid:9'] }], r.state);
  t.same(r.state.phase.name === 'picker' && r.state.phase.selected, ['pid:2'], 'pre-selected, only apps that exist');
  t.same(run([key('enter')], r.state).effects, [{ type: 'share-apps', keys: ['pid:2'] }]);
});

t.test('sharing panel: what is shared, control OFF, keys; p pauses and resumes', async (t) => {
  const accepted = run([...paired, key('enter')], start()).state;
  const sharing = run([{ type: 'policy', policy: policyStep(INITIAL_POLICY, { type: 'share-screen' }), sharedLabels: [] }], accepted).state;
  t.equal(sharing.phase.name, 'sharing');
  const text = render(sharing);
  t.match(text, 'your whole screen');
  t.match(text, 'Control: {bold}OFF{/bold} (view only)');
  for (const k of ['s', 'a', 'p', 'q']) t.match(text, `{bold}${k}{/bold}:`, `key ${k} shown`);
  t.same(run([key('p')], sharing).effects, [{ type: 'pause' }]);
  const paused = run([{ type: 'policy', policy: policyStep(sharing.policy, { type: 'pause' }), sharedLabels: [] }], sharing).state;
  t.match(render(paused), 'PAUSED');
  t.same(run([key('p')], paused).effects, [{ type: 'resume' }]);
  t.same(run([key('a')], sharing).effects, [{ type: 'list-apps' }]);
});

t.test('q and Ctrl-C end at once, in every phase but the end', async (t) => {
  const states = [start(), run(paired.slice(0, 1), start()).state, run(paired, start()).state, run([...paired, key('enter')], start()).state];
  for (const s of states) {
    t.same(run([key('q')], s).effects, [{ type: 'quit' }], `q in ${s.phase.name}`);
    t.same(run([key('C-c')], s).effects, [{ type: 'quit' }], `Ctrl-C in ${s.phase.name}`);
  }
  const ended = run([{ type: 'ended', message: 'bye' }], states[3]!).state;
  t.same(run([key('q')], ended).effects, []);
});

t.test('requests: refused before consent, a prompt defaulting to No after; control is refused', async (t) => {
  t.same(run([{ type: 'request', what: 'view' }], run(paired, start()).state).effects, [{ type: 'answer', request: 'view', granted: false }], 'before accepting');
  const accepted = run([...paired, key('enter')], start()).state;
  let r = run([{ type: 'request', what: 'view' }], accepted);
  t.same(r.effects, []);
  t.match(render(r.state), 'asks to see your screen');
  t.match(render(r.state), 'no (default)');
  t.same(run([key('enter')], r.state).effects, [{ type: 'answer', request: 'view', granted: false }], 'Enter is No');
  t.same(run([key('escape')], r.state).effects, [{ type: 'answer', request: 'view', granted: false }]);
  t.same(run([key('s'), { type: 'monitors-listed', monitors: [] }], r.state).effects, [{ type: 'answer', request: 'view', granted: true }, { type: 'list-monitors' }, { type: 'share-screen' }]);
  r = run([{ type: 'request', what: 'control' }], accepted);
  t.same(r.effects, [{ type: 'answer', request: 'control', granted: false }], 'control while nothing is shared');
  t.match(render(r.state), 'while nothing is shared: refused');
});

t.test('control: a y/N prompt with a warning; only y grants; c takes it back', async (t) => {
  const accepted = run([...paired, key('enter')], start()).state;
  const sharing = run([{ type: 'policy', policy: policyStep(INITIAL_POLICY, { type: 'share-screen' }), sharedLabels: [] }], accepted).state;
  const asked = run([{ type: 'request', what: 'control' }], sharing);
  t.same(asked.effects, [], 'the customer is asked');
  const text = render(asked.state);
  t.match(text, 'Anna Schmidt asks to control your mouse and keyboard. Allow? (y/N)');
  t.match(text, 'Never allow control to someone who called you unexpectedly');
  for (const k of ['enter', 'n', 'escape']) {
    const r = run([key(k)], asked.state);
    t.same(r.effects, [{ type: 'answer', request: 'control', granted: false }], `${k} refuses`);
    t.equal(r.state.prompt, null);
  }
  for (const k of ['s', 'a', 'p', 'c', 'space', 'j']) t.same(run([key(k)], asked.state).effects, [], `${k} neither grants nor refuses`);
  t.same(run([key('q')], asked.state).effects, [{ type: 'quit' }], 'q still ends');
  t.same(run([key('y')], asked.state).effects, [{ type: 'grant-control' }], 'y grants');
  t.same(run([{ type: 'request', what: 'view' }], asked.state).effects, [{ type: 'answer', request: 'view', granted: false }], 'a second request while asking is refused');

  const controlled = run([key('y'), { type: 'policy', policy: policyStep(sharing.policy, { type: 'grant-control' }), sharedLabels: [] }], asked.state).state;
  const on = render(controlled);
  t.match(on, 'CONTROL ON');
  t.match(on, 'Press F12 (anywhere) or c here');
  t.match(on, 'Control: {red-fg}{bold}ON');
  t.same(run([key('c')], controlled).effects, [{ type: 'revoke-control' }]);
  t.same(run([key('c')], sharing).effects, [], 'c does nothing while control is off');
  t.same(run([{ type: 'request', what: 'control' }], controlled).effects, [{ type: 'answer', request: 'control', granted: true }], 'asking again while on');
  t.notMatch(render(sharing), 'CONTROL ON');
});

t.test('an unverified engineer asking for control is "The engineer"', async (t) => {
  const unverified = { verified: false, relayName: 'relay.example.com' };
  const s0 = run([{ type: 'opened', number: '1', expiresAt: 0 }, { type: 'paired', peer: unverified, code: '1' }, key('enter')], start()).state;
  const s1 = run([{ type: 'policy', policy: policyStep(INITIAL_POLICY, { type: 'share-screen' }), sharedLabels: [] }, { type: 'request', what: 'control' }], s0).state;
  t.match(render(s1), 'The engineer asks to control your mouse and keyboard. Allow? (y/N)');
});

t.test('impossible transitions throw', async (t) => {
  t.throws(() => run([{ type: 'paired', peer: verified, code: '1' }, { type: 'paired', peer: verified, code: '1' }], start()), UiError);
  t.throws(() => run([...paired, { type: 'opened', number: '1', expiresAt: 0 }], start()), UiError);
});

t.test('text from the other side cannot inject tags or escapes', async (t) => {
  t.equal(esc('{red-fg}x\u001b[2J'), '{open}red-fg{close}x [2J');
  const r = run([{ type: 'opened', number: '1', expiresAt: 0 }, { type: 'paired', peer: { ...verified, name: '{bold}Eve' }, code: '1' }], start());
  t.notMatch(render(r.state), '{bold}Eve');
});

t.test('several monitors: s asks which one (digits, arrows, all), one monitor is no question', async (t) => {
  const monitors = [
    { index: 0, label: '1920x1080 at 0,0', primary: false },
    { index: 1, label: '1280x1024 at 1920,0', primary: true },
  ];
  const accepted = run([...paired, key('enter')], start()).state;
  // One monitor: no question, s shares at once (once the monitors are known).
  t.same(run([{ type: 'monitors-listed', monitors: [monitors[0]!] }, key('s')], accepted).effects, [{ type: 'share-screen' }]);
  // Unknown yet: s lists them first; Esc while listing goes back and shares nothing.
  const loading = run([key('s')], accepted);
  t.same(loading.effects, [{ type: 'list-monitors' }]);
  t.match(render(loading.state), 'Looking at your monitors');
  t.match(run([key('escape')], loading.state).state.phase, { name: 'choose' });

  let r = run([{ type: 'monitors-listed', monitors }], loading.state);
  t.same(r.effects, [], 'nothing is shared while the customer chooses');
  t.match(r.state.phase, { name: 'monitor', cursor: 1 }, 'the cursor starts on the primary monitor');
  const text = render(r.state);
  t.match(text, '1: monitor 1, 1920x1080 at 0,0');
  t.match(text, '{inverse}> 2: monitor 2, 1280x1024 at 1920,0 (primary){/inverse}');
  t.match(text, 'all monitors');
  t.same(run([key('1')], r.state).effects, [{ type: 'share-screen', monitor: 0 }], 'a digit picks that monitor');
  t.same(run([key('3')], r.state).effects, [], 'a digit past the list does nothing');
  t.same(run([key('enter')], r.state).effects, [{ type: 'share-screen', monitor: 1 }]);
  t.same(run([key('down'), key('enter')], r.state).effects, [{ type: 'share-screen' }], 'the last entry shares all monitors');
  t.match(run([key('escape')], r.state).state.phase, { name: 'choose' }, 'Esc goes back without sharing');

  // While sharing, s asks again and Esc returns to the status; the status names the monitor.
  const policy = policyStep(INITIAL_POLICY, { type: 'share-screen', monitor: 1 });
  r = run([{ type: 'policy', policy, sharedLabels: [] }], r.state);
  t.match(r.state.phase, { name: 'sharing' }, 'a decided share leaves the choice');
  t.match(render(r.state), 'Shared: monitor 2 of 2');
  r = run([key('s')], r.state);
  t.match(r.state.phase, { name: 'monitor' });
  t.match(run([key('escape')], r.state).state.phase, { name: 'sharing' });

  // A request to view answered with s goes through the same choice.
  const asked = run([{ type: 'request', what: 'view' }, key('s'), { type: 'monitors-listed', monitors }], accepted);
  t.same(asked.effects, [{ type: 'answer', request: 'view', granted: true }, { type: 'list-monitors' }]);
  t.match(asked.state.phase, { name: 'monitor' });
});
