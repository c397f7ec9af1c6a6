// Table tests for the viewer's state machine: each row is a state built by a few events, one
// more event, and what the state and the effects must be afterwards.
import t from 'tap';
import { RsoError } from '../errors.js';
import { CONTROL_GRACE_MS, initialState, isShared, keysNeedPrefix, secondsLeft, step, type Mode, type ViewerEffect, type ViewerEvent, type ViewerState } from './state.js';

function run(mode: Mode, events: ViewerEvent[]): { state: ViewerState; effects: ViewerEffect[] } {
  let state = initialState(mode, 0);
  let effects: ViewerEffect[] = [];
  for (const e of events) {
    const out = step(state, e);
    state = out.state;
    effects = out.effects;
  }
  return { state, effects };
}

const opened: ViewerEvent = { type: 'opened', number: '482 913 705', ttlSeconds: 600, now: 0 };
const layout: ViewerEvent = { type: 'layout', width: 120, height: 76, now: 0 };
const paired: ViewerEvent = { type: 'paired', verificationCode: '1234', now: 10 };
const shareScreen: ViewerEvent = { type: 'message', msg: { type: 'state', view: { kind: 'screen' }, control: false, paused: false }, bytes: 60, now: 20 };
const connected = [opened, layout, paired];

t.test('phases', async (t) => {
  const rows: Array<[string, Mode, ViewerEvent[], Partial<ViewerState>]> = [
    ['starts connecting', 'open', [], { phase: 'connecting', number: undefined }],
    ['opened shows the number', 'open', [opened], { phase: 'waiting', number: '482 913 705', expiresAt: 600_000 }],
    ['paired hides the spent number and shows the code', 'open', connected, { phase: 'connected', number: undefined, expiresAt: undefined, verificationCode: '1234' }],
    ['join mode pairs from connecting', 'join', [layout, paired], { phase: 'connected', verificationCode: '1234' }],
    ['ended', 'open', [...connected, { type: 'ended', now: 30 }], { phase: 'ended' }],
  ];
  for (const [name, mode, events, want] of rows) t.match(run(mode, events).state, want, name);
});

t.test('time left counts down with ticks and expiry ends the session', async (t) => {
  t.equal(secondsLeft(run('open', [opened, { type: 'tick', now: 1500 }]).state), 599);
  t.equal(secondsLeft(run('open', [opened, { type: 'tick', now: 599_001 }]).state), 1);
  const expired = run('open', [opened, { type: 'tick', now: 600_000 }]);
  t.equal(expired.state.phase, 'ending');
  t.equal(expired.effects.length, 1);
  const eff = expired.effects[0]!;
  t.ok(eff.type === 'end' && eff.error?.code === 'RSO_ERR_EXPIRED');
});

t.test('ready: sent on pairing with the layout, after each frame, and on resize', async (t) => {
  t.same(run('open', connected).effects, [{ type: 'send', msg: { type: 'ready', width: 120, height: 76, seq: 0 } }], 'on pairing');
  // Layout learnt only after pairing: the first ready waits for it.
  t.same(run('open', [opened, paired]).effects, [], 'no size yet, no ready');
  t.same(run('open', [opened, paired, layout]).effects, [{ type: 'send', msg: { type: 'ready', width: 120, height: 76, seq: 0 } }], 'when the size is known');
  const frame = run('open', [...connected, shareScreen, { type: 'frame', seq: 5, bytes: 1000, now: 30 }]);
  t.same(frame.effects, [{ type: 'send', msg: { type: 'ready', width: 120, height: 76, seq: 5 } }], 'acknowledges the seq');
  const resized = run('open', [...connected, { type: 'frame', seq: 5, bytes: 1000, now: 30 }, { type: 'layout', width: 200, height: 100, now: 40 }]);
  t.same(resized.effects, [{ type: 'send', msg: { type: 'ready', width: 200, height: 100, seq: 5 } }], 'new size, same seq');
  t.same(run('open', [...connected, { type: 'layout', width: 120, height: 76, now: 40 }]).effects, [], 'same size: nothing');
});

t.test('stats: fps and bandwidth over the last second, latency is the fastest recent ready->frame', async (t) => {
  const events: ViewerEvent[] = [...connected, shareScreen];
  // ready went out at 10 (pairing); frames at 30, 50 (ready at 30), 100 (ready at 50).
  events.push({ type: 'frame', seq: 1, bytes: 1000, now: 30 });
  events.push({ type: 'frame', seq: 2, bytes: 2000, now: 50 });
  events.push({ type: 'frame', seq: 3, bytes: 500, now: 100 });
  const s = run('open', events).state;
  t.equal(s.stats.fps, 3);
  t.equal(s.stats.bytesPerSecond, 60 + 1000 + 2000 + 500);
  t.equal(s.stats.latencyMs, 20, 'min of 20, 20, 50');
  const quiet = step(s, { type: 'tick', now: 1200 }).state;
  t.equal(quiet.stats.fps, 0, 'a quiet second shows 0 fps');
  t.equal(quiet.stats.bytesPerSecond, 0);
});

t.test('customer messages', async (t) => {
  const info = run('open', [...connected, { type: 'message', msg: { type: 'info', host: 'pc-7', os: 'Debian 12', screen: { width: 1920, height: 1080 } }, bytes: 80, now: 20 }]);
  t.same(info.state.customer, { host: 'pc-7', os: 'Debian 12', screen: { width: 1920, height: 1080 } });
  t.notOk(isShared(run('open', connected).state), 'nothing shared at first');
  const shared = run('open', [...connected, shareScreen]).state;
  t.ok(isShared(shared));
  t.match(shared.notice?.text, /whole screen/);
  const stopped = step(shared, { type: 'message', msg: { type: 'state', view: { kind: 'none' }, control: false, paused: false }, bytes: 60, now: 30 }).state;
  t.notOk(isShared(stopped));
  t.match(stopped.notice?.text, /stopped sharing/);
  const apps = run('open', [...connected, { type: 'message', msg: { type: 'state', view: { kind: 'apps', apps: ['Firefox'] }, control: true, paused: false }, bytes: 60, now: 20 }]).state;
  t.match(apps, { control: true, view: { kind: 'apps' } });
  t.match(apps.notice?.text, /Firefox/);
  const chat = run('open', [...connected, { type: 'message', msg: { type: 'chat', text: 'hello\nthere' }, bytes: 30, now: 20 }]).state;
  t.equal(chat.notice?.text, 'Customer: hello there');
});

t.test('keys', async (t) => {
  const v = run('open', [...connected, { type: 'key', key: 'view', now: 20 }]);
  t.same(v.effects, [{ type: 'send', msg: { type: 'request', what: 'view' } }], 'v asks to view');
  t.equal(v.state.pendingRequest, 'view');
  t.same(step(v.state, { type: 'key', key: 'view', now: 21 }).effects, [], 'no second request while one is pending');
  t.same(run('open', [opened, { type: 'key', key: 'view', now: 1 }]).effects, [], 'v before pairing sends nothing');
  t.same(run('open', [...connected, shareScreen, { type: 'key', key: 'view', now: 30 }]).effects, [], 'v while shared sends nothing');
  for (const key of ['quit', 'interrupt'] as const) {
    const q = run('open', [...connected, { type: 'key', key, now: 20 }]);
    t.equal(q.state.phase, 'ending', `${key} ends`);
    t.same(q.effects, [{ type: 'end', message: 'You ended the session.' }]);
    t.same(step(q.state, { type: 'key', key, now: 21 }).effects, [], `${key} twice ends once`);
  }
  t.equal(run('open', [opened, { type: 'key', key: 'quit', now: 1 }]).state.phase, 'ending', 'q works while waiting too');
});

t.test('answers and goodbyes', async (t) => {
  const asked = [...connected, { type: 'key', key: 'view', now: 20 } as ViewerEvent];
  const declined = run('open', [...asked, { type: 'message', msg: { type: 'answer', request: 'view', granted: false }, bytes: 40, now: 30 }]);
  t.equal(declined.state.phase, 'ending');
  const eff = declined.effects[0];
  t.ok(eff?.type === 'end' && eff.error instanceof RsoError && eff.error.code === 'RSO_ERR_DECLINED', 'a declined view request ends with RSO_ERR_DECLINED');
  const granted = run('open', [...asked, { type: 'message', msg: { type: 'answer', request: 'view', granted: true }, bytes: 40, now: 30 }]);
  t.equal(granted.state.pendingRequest, undefined);
  t.same(granted.effects, []);
  const noControl = run('open', [...connected, { type: 'message', msg: { type: 'answer', request: 'control', granted: false }, bytes: 40, now: 30 }]);
  t.equal(noControl.state.phase, 'connected', 'declined control is only a notice');
  const bye = run('open', [...connected, { type: 'message', msg: { type: 'bye', reason: 'user' }, bytes: 30, now: 30 }]);
  t.same(bye.effects, [{ type: 'end', message: 'The customer ended the session.' }]);
  const byeDeclined = run('open', [...connected, { type: 'message', msg: { type: 'bye', reason: 'declined' }, bytes: 30, now: 30 }]);
  const e2 = byeDeclined.effects[0];
  t.ok(e2?.type === 'end' && e2.error?.code === 'RSO_ERR_DECLINED');
  const byeDisplay = run('open', [...connected, { type: 'message', msg: { type: 'bye', reason: 'display lost' }, bytes: 30, now: 30 }]);
  t.same(byeDisplay.effects, [{ type: 'end', message: "The customer's display went away (its X server stopped); the session has ended." }], 'the display went away: said so');
  t.equal(byeDisplay.state.notice?.level, 'warn');
  const byeError = run('open', [...connected, { type: 'message', msg: { type: 'bye', reason: 'error' }, bytes: 30, now: 30 }]);
  t.match(byeError.effects, [{ type: 'end', message: /stopped after an error/ }]);
  const byeOdd = run('open', [...connected, { type: 'message', msg: { type: 'bye', reason: 'constructor' }, bytes: 30, now: 30 }]);
  t.same(byeOdd.effects, [{ type: 'end', message: 'The customer ended the session.' }], 'a reason that names an Object property is just a goodbye');
  const lateBye = step(bye.state, { type: 'message', msg: { type: 'bye', reason: 'user' }, bytes: 30, now: 31 });
  t.same(lateBye.effects, [], 'a message while ending does not end twice');
});

t.test('wrong numbers while waiting', async (t) => {
  const s = run('open', [opened, { type: 'failed-attempt', attemptsLeft: 2, now: 5 }]).state;
  t.equal(s.attemptsLeft, 2);
  t.match(s.notice?.text, /2 attempts left/);
});

t.test('impossible transitions throw', async (t) => {
  const rows: Array<[string, Mode, ViewerEvent[]]> = [
    ['opened in join mode', 'join', [opened]],
    ['opened twice', 'open', [opened, opened]],
    ['paired twice', 'open', [...connected, paired]],
    ['open mode paired without a number', 'open', [paired]],
    ['message before pairing', 'open', [opened, shareScreen]],
    ['frame before pairing', 'join', [{ type: 'frame', seq: 1, bytes: 1, now: 1 }]],
    ['failed attempt in join mode', 'join', [{ type: 'failed-attempt', attemptsLeft: 1, now: 1 }]],
  ];
  for (const [name, mode, events] of rows) t.throws(() => run(mode, events), { code: 'RSO_ERR_INTERNAL' }, name);
});

t.test('after the end nothing changes', async (t) => {
  const ended = run('open', [...connected, { type: 'ended', now: 30 }]).state;
  t.equal(step(ended, { type: 'key', key: 'view', now: 40 }).state, ended);
  t.same(step(ended, { type: 'layout', width: 1, height: 1, now: 40 }).effects, []);
});

t.test('control: c asks, input goes out only while granted, a revoke says who did it', async (t) => {
  const key = (k: 'control' | 'view'): ViewerEvent => ({ type: 'key', key: k, now: 30 });
  const stateMsg = (control: boolean): ViewerEvent => ({ type: 'message', msg: { type: 'state', view: { kind: 'screen' }, control, paused: false }, bytes: 60, now: 40 });
  const typed: ViewerEvent = { type: 'input', events: [{ t: 'text', text: 'hi' }] };

  let r = run('open', [...connected, key('control')]);
  t.same(r.effects, [], 'nothing shared: no request');
  t.match(r.state.notice?.text, /ask to view first/);

  r = run('open', [...connected, shareScreen, typed]);
  t.same(r.effects, [], 'view only: input is not sent');
  r = run('open', [...connected, shareScreen, key('control')]);
  t.same(r.effects, [{ type: 'send', msg: { type: 'request', what: 'control' } }]);
  t.equal(r.state.pendingRequest, 'control');
  t.same(run('open', [...connected, shareScreen, key('control'), key('control')]).effects, [], 'no second request while waiting');

  const granted = [...connected, shareScreen, key('control'), { type: 'message', msg: { type: 'answer', request: 'control', granted: true }, bytes: 40, now: 35 } as ViewerEvent, stateMsg(true)];
  r = run('open', granted);
  t.equal(r.state.control, true);
  t.equal(r.state.pendingRequest, undefined);
  r = run('open', [...granted, typed]);
  t.same(r.effects, [{ type: 'send', msg: { type: 'input', events: [{ t: 'text', text: 'hi' }] } }], 'granted: input is sent');
  const many: ViewerEvent = { type: 'input', events: Array.from({ length: 130 }, () => ({ t: 'move' as const, x: 1, y: 1 })) };
  t.same(run('open', [...granted, many]).effects.map((e) => (e.type === 'send' && e.msg.type === 'input' ? e.msg.events.length : 0)), [64, 64, 2], 'batched to the protocol limit');

  r = run('open', [...granted, key('control'), typed]);
  t.equal(r.state.handsOff, true, 'c while in control lets go locally');
  t.same(r.effects, [], 'and nothing is sent');
  t.same(run('open', [...granted, key('control'), key('control'), typed]).effects.length, 1, 'c again takes it back');

  r = run('open', [...granted, stateMsg(false)]);
  t.equal(r.state.control, false);
  t.same(r.state.notice, { level: 'warn', text: 'Control revoked by customer. You are in view-only mode again.' });
  t.same(run('open', [...granted, stateMsg(false), typed]).effects, [], 'after the revoke nothing is sent');

  const declined = run('open', [...connected, shareScreen, key('control'), { type: 'message', msg: { type: 'answer', request: 'control', granted: false }, bytes: 40, now: 35 }]);
  t.equal(declined.state.phase, 'connected', 'a refused control request does not end the session');
  t.match(declined.state.notice?.text, /declined to give you control/);
  t.equal(initialState('join', 0).control, false, 'a new session starts without control');
});

t.test('after losing control, plain keys need the prefix for a while', async (t) => {
  const stateMsg = (control: boolean, paused: boolean, now: number): ViewerEvent => ({ type: 'message', msg: { type: 'state', view: { kind: 'screen' }, control, paused }, bytes: 60, now });
  const on = run('open', [...connected, shareScreen, stateMsg(true, false, 40)]).state;
  t.equal(keysNeedPrefix(on, 50), false, 'forwarding: keys go to the customer');
  const revoked = run('open', [...connected, shareScreen, stateMsg(true, false, 40), stateMsg(false, false, 1000)]).state;
  t.equal(keysNeedPrefix(revoked, 1500), true, 'just revoked');
  t.equal(keysNeedPrefix(revoked, 1000 + CONTROL_GRACE_MS), false, 'later: plain keys are commands again');
  const paused = run('open', [...connected, shareScreen, stateMsg(true, false, 40), stateMsg(true, true, 100)]).state;
  t.equal(keysNeedPrefix(paused, 100_000), true, 'paused while in control: as long as it lasts');
  t.equal(keysNeedPrefix(run('open', [...connected, shareScreen]).state, 50), false, 'never had control');
});

t.test('a relay outage: resuming turns control off at once; resumed shows it, takes the new code and asks for the picture', async (t) => {
  const withControl: ViewerEvent = { type: 'message', msg: { type: 'state', view: { kind: 'screen' }, control: true, paused: false }, bytes: 60, now: 25 };
  const resuming = run('open', [...connected, shareScreen, withControl, { type: 'resuming', now: 100 }]);
  t.match(resuming.state, { control: false, controlLostAt: 100, notice: { level: 'warn', text: /relay lost — reconnecting/ } });
  t.same(resuming.effects, [], 'nothing is sent while resuming');
  t.same(step(resuming.state, { type: 'input', events: [{ t: 'text', text: 'x' }] }).effects, [], 'input stays in the viewer');
  const resumed = step(resuming.state, { type: 'resumed', verificationCode: '5678', outageMs: 2300, now: 2400 });
  t.match(resumed.state, { verificationCode: '5678', control: false, notice: { level: 'info', text: /Resumed after 2\.3 s.*Control is off/ } });
  t.same(resumed.effects, [{ type: 'send', msg: { type: 'ready', width: 120, height: 76, seq: 0 } }], 'a ready with the picture size');
  t.throws(() => step(run('open', [opened]).state, { type: 'resuming', now: 1 }), { code: 'RSO_ERR_INTERNAL' }, 'only a connected session resumes');
});
