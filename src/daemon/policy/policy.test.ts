import t from 'tap';
import type { InputEvent } from '../../protocol/app.js';
import { INITIAL_POLICY, PolicyError, admit, decide, step, type DecideContext, type Policy } from './policy.js';
import { fullBucket } from './rate.js';

const INPUT_RATE_TEST = { capacity: 10, perSecond: 10 };

const unprotected = { pointInProtected: () => false, focusProtected: () => false };
const everywhere: DecideContext = { pointInShared: () => true, focusShared: () => true, ...unprotected };
const nowhere: DecideContext = { pointInShared: () => false, focusShared: () => false, ...unprotected };
const click: InputEvent = { t: 'button', button: 'left', down: true, x: 10, y: 10 };
const key: InputEvent = { t: 'key', key: 'a', down: true, mods: [] };

t.test('a session starts view-only with nothing shared', async (t) => {
  t.same(INITIAL_POLICY, { view: { kind: 'none' }, control: false, paused: false });
  t.same(decide(INITIAL_POLICY, click, everywhere), { allow: false, reason: 'view-only' });
  t.same(decide(INITIAL_POLICY, key, everywhere), { allow: false, reason: 'view-only' });
});

t.test('control cannot be granted before something is shared', async (t) => {
  t.throws(() => step(INITIAL_POLICY, { type: 'grant-control' }), PolicyError);
  t.throws(() => step(INITIAL_POLICY, { type: 'share-apps', apps: [] }), PolicyError);
});

t.test('granted control on the whole screen allows input; revoking stops it at once', async (t) => {
  let p: Policy = step(INITIAL_POLICY, { type: 'share-screen' });
  t.same(decide(p, click, everywhere), { allow: false, reason: 'view-only' }, 'sharing alone grants nothing');
  p = step(p, { type: 'grant-control' });
  t.same(decide(p, click, nowhere), { allow: true }, 'whole screen: no area check');
  t.same(decide(p, key, nowhere), { allow: true });
  p = step(p, { type: 'revoke-control' });
  t.same(decide(p, click, everywhere), { allow: false, reason: 'view-only' });
});

t.test('F12 is never injected, even with control', async (t) => {
  const p = step(step(INITIAL_POLICY, { type: 'share-screen' }), { type: 'grant-control' });
  t.same(decide(p, { t: 'key', key: 'F12', down: true, mods: [] }, everywhere), { allow: false, reason: 'reserved-key' });
  t.same(decide(p, { t: 'key', key: 'F11', down: true, mods: [] }, everywhere), { allow: true });
});

t.test('sharing applications limits input to what is shared', async (t) => {
  const p = step(step(INITIAL_POLICY, { type: 'share-apps', apps: ['xterm'] }), { type: 'grant-control' });
  t.same(decide(p, click, everywhere), { allow: true });
  t.same(decide(p, click, nowhere), { allow: false, reason: 'outside-shared-area' });
  t.same(decide(p, { t: 'wheel', dx: 0, dy: 1, x: 5, y: 5 }, nowhere), { allow: false, reason: 'outside-shared-area' });
  t.same(decide(p, { t: 'move', x: 5, y: 5 }, nowhere), { allow: false, reason: 'outside-shared-area' });
  t.same(decide(p, key, nowhere), { allow: false, reason: 'outside-shared-area' }, 'typing into an unshared window');
  t.same(decide(p, { t: 'text', text: 'hi' }, everywhere), { allow: true });
});

t.test('pause blocks input; stop-sharing and reset also drop control', async (t) => {
  let p = step(step(INITIAL_POLICY, { type: 'share-screen' }), { type: 'grant-control' });
  p = step(p, { type: 'pause' });
  t.same(decide(p, click, everywhere), { allow: false, reason: 'paused' });
  p = step(p, { type: 'resume' });
  t.same(decide(p, click, everywhere), { allow: true });
  t.equal(step(p, { type: 'stop-sharing' }).control, false);
  t.same(step(p, { type: 'reset' }), INITIAL_POLICY);
});

t.test('the gate: policy first, then the rate limit; denied events cost nothing', async (t) => {
  const limit = { capacity: 3, perSecond: 1 };
  const viewOnly = step(INITIAL_POLICY, { type: 'share-screen' });
  let bucket = fullBucket(limit, 0);
  for (let i = 0; i < 10; i++) {
    const r = admit(viewOnly, bucket, click, everywhere, 0, limit);
    t.same(r.decision, { allow: false, reason: 'view-only' });
    bucket = r.bucket;
  }
  t.equal(bucket.tokens, 3, 'view-only denials took no tokens');
  const on = step(viewOnly, { type: 'grant-control' });
  const got = [];
  for (let i = 0; i < 5; i++) {
    const r = admit(on, bucket, click, everywhere, 0, limit);
    bucket = r.bucket;
    got.push(r.decision.allow ? 'ok' : r.decision.reason);
  }
  t.same(got, ['ok', 'ok', 'ok', 'rate-limited', 'rate-limited'], 'a flood is cut');
  t.same(admit(on, bucket, { t: 'key', key: 'F12', down: true, mods: [] }, everywhere, 0, limit).decision, { allow: false, reason: 'reserved-key' });
  t.same(admit(on, bucket, click, everywhere, 1000, limit).decision, { allow: true }, 'refilled after a second');
});

t.test('the window of the customer\'s own panel is protected in every view mode', async (t) => {
  // The panel's window covers x < 100; the focus is on it.
  const onPanel: DecideContext = {
    pointInShared: () => true,
    focusShared: () => true,
    pointInProtected: (x) => x < 100,
    focusProtected: () => true,
  };
  const elsewhere: DecideContext = { ...onPanel, focusProtected: () => false };
  const screen = step(step(INITIAL_POLICY, { type: 'share-screen' }), { type: 'grant-control' });
  const apps = step(step(INITIAL_POLICY, { type: 'share-apps', apps: ['pid:1'] }), { type: 'grant-control' });
  const denied = { allow: false, reason: 'protected-window' };
  const rows: Array<[string, InputEvent, DecideContext, unknown]> = [
    ['click on the panel', { t: 'button', button: 'left', down: true, x: 50, y: 5 }, onPanel, denied],
    ['release on the panel', { t: 'button', button: 'left', down: false, x: 99, y: 5 }, onPanel, denied],
    ['move over the panel', { t: 'move', x: 0, y: 0 }, onPanel, denied],
    ['wheel over the panel', { t: 'wheel', dx: 0, dy: 1, x: 10, y: 10 }, onPanel, denied],
    ['key while the panel has focus', { t: 'key', key: 'y', down: true, mods: [] }, onPanel, denied],
    ['text while the panel has focus', { t: 'text', text: 'y' }, onPanel, denied],
    ['click beside the panel', { t: 'button', button: 'left', down: true, x: 100, y: 5 }, onPanel, { allow: true }],
    ['key while another window has focus', { t: 'key', key: 'y', down: true, mods: [] }, elsewhere, { allow: true }],
    ['text while another window has focus', { t: 'text', text: 'y' }, elsewhere, { allow: true }],
  ];
  for (const [policyName, policy] of [['screen', screen], ['apps', apps]] as const) {
    for (const [what, event, ctx, want] of rows) t.same(decide(policy, event, ctx), want, `${policyName}: ${what}`);
  }
  t.same(decide(step(screen, { type: 'revoke-control' }), { t: 'text', text: 'y' }, onPanel), { allow: false, reason: 'view-only' }, 'view only still says view-only');
  t.same(decide(screen, { t: 'key', key: 'F12', down: true, mods: [] }, onPanel), { allow: false, reason: 'reserved-key' });
  t.same(decide(apps, { t: 'text', text: 'y' }, { ...nowhere, focusProtected: () => true }), denied, 'protected wins over outside-shared-area');
  t.same(admit(screen, fullBucket(INPUT_RATE_TEST, 0), { t: 'text', text: 'y' }, onPanel, 0, INPUT_RATE_TEST).decision, denied, 'the gate denies it too');
});
