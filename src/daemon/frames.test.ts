import t from 'tap';
import { INITIAL_FRAMES, FramesError, outputSize, step, type FramesEffect, type FramesEvent, type FramesState } from './frames.js';
import { FramePipeline } from './frame-pipeline.js';
import { createFramebuffer, type BgrxFramebuffer } from '../codec/framebuffer.js';
import { applyUpdate, decodeUpdate } from '../codec/decode-update.js';
import { CodecHistory } from '../codec/history.js';
import { randomBgrx } from '../codec/synthetic.js';

function run(events: FramesEvent[], from: FramesState = INITIAL_FRAMES): { state: FramesState; effects: FramesEffect[] } {
  let state = from;
  const effects: FramesEffect[] = [];
  for (const e of events) {
    const out = step(state, e);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

const captures = (effects: FramesEffect[]) => effects.filter((e): e is Extract<FramesEffect, { type: 'capture' }> => e.type === 'capture');

const sharing: FramesEvent[] = [
  { type: 'screen', width: 1920, height: 1080 },
  { type: 'share', on: true },
];

t.test('nothing is read before something is shared, the size is known and the agent is ready', async (t) => {
  t.same(run([{ type: 'screen', width: 100, height: 100 }, { type: 'ready', width: 100, height: 100, seq: 0 }]).effects, []);
  t.same(run([{ type: 'share', on: true }, { type: 'ready', width: 100, height: 100, seq: 0 }]).effects, [], 'no screen yet');
  t.same(run(sharing).effects, [], 'no ready yet');
  const { effects } = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }]);
  t.same(captures(effects), [{ type: 'capture', generation: 1, seq: 1, full: true, rects: [], out: { width: 1920, height: 1080 }, hold: false }]);
});

t.test('pull: no second capture until the agent acknowledged the first; damage in between merges', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }]);
  r = run([{ type: 'captured', generation: 1, lastSeq: 1 }], r.state);
  t.same(r.effects, []);
  // Lots of damage while the agent has not drawn seq 1: nothing is read, and the list stays small.
  const damage: FramesEvent[] = [];
  for (let i = 0; i < 500; i++) damage.push({ type: 'damage', rects: [{ x: (i * 37) % 1900, y: (i * 53) % 1060, w: 10, h: 10 }] });
  r = run(damage, r.state);
  t.same(r.effects, [], 'no capture while the agent has not drawn');
  t.ok(r.state.dirty.length <= 32, `damage stays bounded (${r.state.dirty.length} rects)`);
  r = run([{ type: 'ready', width: 1920, height: 1080, seq: 1 }], r.state);
  const caps = captures(r.effects);
  t.equal(caps.length, 1, 'one capture covers everything that changed in between');
  t.equal(caps[0]!.seq, 2);
  t.equal(caps[0]!.full, false);
  t.ok(caps[0]!.rects.length >= 1);
  t.equal(r.state.dirty.length, 0);
});

t.test('idle: a ready with no damage reads nothing', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }]);
  r = run([{ type: 'ready', width: 1920, height: 1080, seq: 1 }, { type: 'ready', width: 1920, height: 1080, seq: 1 }], r.state);
  t.same(r.effects, []);
  r = run([{ type: 'damage', rects: [{ x: 5, y: 5, w: 3, h: 3 }] }], r.state);
  t.same(captures(r.effects).map((c) => c.rects), [[{ x: 5, y: 5, w: 3, h: 3 }]]);
});

t.test('a capture that sent nothing leaves the agent ready for the next damage', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }, { type: 'ready', width: 1920, height: 1080, seq: 1 }]);
  r = run([{ type: 'damage', rects: [{ x: 0, y: 0, w: 1, h: 1 }] }, { type: 'captured', generation: 1, lastSeq: null }, { type: 'damage', rects: [{ x: 9, y: 9, w: 1, h: 1 }] }], r.state);
  const caps = captures(r.effects);
  t.equal(caps.length, 2);
  t.equal(caps[1]!.seq, 2, 'seq is not consumed by an empty capture');
});

t.test('a ready with a new size means a full refresh at the new size, aspect kept', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }]);
  r = run([{ type: 'ready', width: 800, height: 800, seq: 1 }], r.state);
  t.same(captures(r.effects), [{ type: 'capture', generation: 1, seq: 2, full: true, rects: [], out: { width: 800, height: 450 }, hold: false }]);
  t.same(outputSize({ screen: { width: 1000, height: 500 }, viewport: { width: 4000, height: 4000 } }), { width: 1000, height: 500 }, 'never upscaled');
});

t.test('stopping or pausing drops pending damage and bumps the generation; resuming reads everything', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }]);
  t.equal(r.state.busy, true);
  r = run([{ type: 'share', on: false }], r.state);
  t.equal(r.state.generation, 2, 'the capture in flight (generation 1) is now stale');
  r = run([{ type: 'captured', generation: 1, lastSeq: null }, { type: 'damage', rects: [{ x: 0, y: 0, w: 5, h: 5 }] }], r.state);
  t.same(r.effects, [], 'nothing read while not sharing');
  r = run([{ type: 'share', on: true }], r.state);
  t.same(captures(r.effects).map((c) => [c.generation, c.full]), [[3, true]]);
  r = run([{ type: 'region-changed' }], r.state);
  t.equal(r.state.generation, 4);
  t.equal(r.state.full, true);
});

t.test('impossible transitions throw', async (t) => {
  t.throws(() => run([...sharing, { type: 'ready', width: 10, height: 10, seq: 1 }]), FramesError, 'ready for an update never sent');
  t.throws(() => run([{ type: 'captured', generation: 0, lastSeq: 1 }]), FramesError, 'captured without capture');
  t.throws(() => run([{ type: 'screen', width: 0, height: 10 }]), FramesError);
});

t.test('the cursor is sent separately, scaled, only when changed and only while the agent is caught up', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 960, height: 540, seq: 0 }]);
  r = run([{ type: 'cursor', x: 100, y: 100, visible: true }], r.state);
  t.same(r.effects, [], 'held while the first update is in flight');
  r = run([{ type: 'captured', generation: 1, lastSeq: 1 }], r.state);
  t.same(r.effects, [], 'still held: not drawn yet');
  r = run([{ type: 'ready', width: 960, height: 540, seq: 1 }], r.state);
  t.same(r.effects, [{ type: 'send-cursor', cursor: { x: 50, y: 50, visible: true } }]);
  r = run([{ type: 'cursor', x: 101, y: 100, visible: true }], r.state);
  t.same(r.effects, [], 'same position after scaling: nothing sent');
  r = run([{ type: 'cursor', x: 5000, y: 100, visible: true }], r.state);
  t.same(r.effects, [{ type: 'send-cursor', cursor: { x: 959, y: 50, visible: false } }], 'outside the screen: hidden');
});

function fbEqualsRgb(bgrx: BgrxFramebuffer, rgb: { data: Uint8Array }): boolean {
  for (let i = 0, j = 0; i < bgrx.data.length; i += 4, j += 3) {
    if (bgrx.data[i] !== rgb.data[j + 2] || bgrx.data[i + 1] !== rgb.data[j + 1] || bgrx.data[i + 2] !== rgb.data[j]) return false;
  }
  return true;
}

t.test('pipeline: the agent rebuilds the screen exactly at 1:1, and only changed tiles are sent', async (t) => {
  const size = { width: 300, height: 200 };
  const screen = randomBgrx(size.width, size.height, 7);
  const p = new FramePipeline(size);
  p.ingest({ ...screen, x: 0, y: 0 });
  const agent = createFramebuffer('rgb', 1, 1);
  const history = new CodecHistory();
  const first = p.encode(size, 'full', 1)!;
  for (const u of first.updates) applyUpdate(agent, decodeUpdate(u, history));
  t.ok(fbEqualsRgb(screen, agent), 'rebuilt pixel for pixel');
  t.equal(first.tiles.length, 5 * 4);

  // Change one pixel in tile (1,1); the damage rectangle is wider than the change.
  const at = (100 * size.width + 100) * 4;
  screen.data[at] = screen.data[at]! ^ 0xff;
  const grab = createFramebuffer('bgrx', 200, 100);
  for (let y = 0; y < 100; y++) grab.data.set(screen.data.subarray(((50 + y) * size.width + 50) * 4, ((50 + y) * size.width + 250) * 4), y * 200 * 4);
  p.ingest({ ...grab, x: 50, y: 50 });
  const second = p.encode(size, [{ x: 50, y: 50, w: 200, h: 100 }], 2)!;
  t.same(second.tileIndices, [1 * 5 + 1], 'only the tile whose pixels changed');
  t.match(second.tiles, [{ x: 100, y: 100, w: 1, h: 1 }], 'and of that tile only the changed part');
  for (const u of second.updates) applyUpdate(agent, decodeUpdate(u, history));
  t.ok(fbEqualsRgb(screen, agent));
  t.equal(p.encode(size, [{ x: 0, y: 0, w: 300, h: 200 }], 3), null, 'nothing changed: nothing to send');
});

t.test('pipeline: scaling keeps the agent consistent and a new size resends everything', async (t) => {
  const size = { width: 256, height: 128 };
  const screen = randomBgrx(size.width, size.height, 3);
  const p = new FramePipeline(size);
  p.ingest({ ...screen, x: 0, y: 0 });
  const a = p.encode({ width: 128, height: 64 }, 'full', 1)!;
  t.equal(a.tiles.length, 2);
  const dec = decodeUpdate(a.updates[0]!);
  t.same([dec.width, dec.height], [128, 64]);
  const b = p.encode({ width: 64, height: 32 }, [], 2)!;
  t.equal(b.tiles.length, 1, 'new output size: every tile again');
  t.equal(p.encode({ width: 64, height: 32 }, [], 3), null);
  p.resetAgent();
  t.equal(p.encode({ width: 64, height: 32 }, [], 4)!.tiles.length, 1, 'after resetAgent everything is resent');
});

t.test('resync after a resume: unacknowledged updates count as lost, the next read is full', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }]);
  // seq 1 went out just before the relay died; the agent never acknowledged it.
  r = run([{ type: 'damage', rects: [{ x: 0, y: 0, w: 10, h: 10 }] }], r.state);
  t.same(r.effects, [], 'waiting for an acknowledgement that will never come');
  r = run([{ type: 'resync' }], r.state);
  const caps = captures(r.effects);
  t.equal(caps.length, 1, 'resync alone starts a capture');
  t.match(caps[0], { full: true, seq: 2, generation: 2 });
  r = run([{ type: 'captured', generation: 2, lastSeq: 2 }, { type: 'ready', width: 1920, height: 1080, seq: 2 }], r.state);
  t.equal(r.state.ackedSeq, 2);

  // A capture in flight during the resync: its seq is taken as acknowledged when it returns.
  let b = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }]);
  b = run([{ type: 'resync' }], b.state);
  t.same(captures(b.effects), [], 'busy: no second capture at once');
  b = run([{ type: 'captured', generation: 1, lastSeq: 1 }], b.state);
  t.equal(b.state.ackedSeq, 1, 'the in-flight update is not awaited');
  t.match(captures(b.effects), [{ full: true, seq: 2 }], 'and the full read follows');
});

// ---- prepare-ahead ------------------------------------------------------------------------

const ahead: FramesState = { ...INITIAL_FRAMES, prepareAhead: true };
const kinds = (effects: FramesEffect[]) => effects.map((e) => (e.type === 'capture' ? `capture ${e.seq}${e.full ? ' full' : ''}${e.hold ? ' hold' : ''}` : e.type === 'send-held' ? `send-held ${e.lastSeq}` : e.type));

t.test('prepare-ahead: the next batch is read while one is in flight, held, and sent at the ready; one at most', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }], ahead);
  t.same(kinds(r.effects), ['capture 1 full'], 'nothing in flight: read and sent as before');
  r = run([{ type: 'damage', rects: [{ x: 0, y: 0, w: 10, h: 10 }] }], r.state);
  t.same(kinds(r.effects), ['capture 2 hold'], 'seq 1 in flight: the damage is read and encoded already');
  r = run([{ type: 'damage', rects: [{ x: 50, y: 50, w: 10, h: 10 }] }, { type: 'captured', generation: 1, lastSeq: 2, held: true }], r.state);
  t.same(kinds(r.effects), [], 'held: no send before the ready, and no second batch prepared');
  t.same(r.state.held, { generation: 1, lastSeq: 2 });
  t.equal(r.state.sentSeq, 1);
  t.throws(() => run([{ type: 'ready', width: 1920, height: 1080, seq: 2 }], r.state), FramesError, 'a held batch is not sent: a ready for it is a protocol error');
  r = run([{ type: 'ready', width: 1920, height: 1080, seq: 1 }], r.state);
  t.same(kinds(r.effects), ['send-held 2', 'capture 3 hold'], 'the ready sends it; the damage that came meanwhile is read next');
  t.same(captures(r.effects)[0]!.rects, [{ x: 50, y: 50, w: 10, h: 10 }]);
  t.equal(r.state.sentSeq, 2);
  r = run([{ type: 'captured', generation: 1, lastSeq: null, held: true }, { type: 'ready', width: 1920, height: 1080, seq: 2 }], r.state);
  t.same(kinds(r.effects), [], 'a prepared capture that found nothing holds nothing');
});

t.test('prepare-ahead: a ready that arrives while the batch is prepared sends it as soon as it is ready', async (t) => {
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }, { type: 'damage', rects: [{ x: 0, y: 0, w: 4, h: 4 }] }], ahead);
  r = run([{ type: 'cursor', x: 10, y: 10, visible: true }, { type: 'ready', width: 1920, height: 1080, seq: 1 }], r.state);
  t.same(kinds(r.effects), [], 'busy preparing: nothing yet');
  r = run([{ type: 'captured', generation: 1, lastSeq: 2, held: true }], r.state);
  t.same(kinds(r.effects), ['send-held 2', 'send-cursor']);
});

t.test('prepare-ahead: a held batch never goes out once the choice, the size or the channel changed', async (t) => {
  const held = (): FramesState => {
    const r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }, { type: 'damage', rects: [{ x: 0, y: 0, w: 4, h: 4 }] }, { type: 'captured', generation: 1, lastSeq: 2, held: true }], ahead);
    t.same(r.state.held, { generation: 1, lastSeq: 2 });
    return r.state;
  };
  const cases: Array<[string, FramesEvent[], string[]]> = [
    ['share off', [{ type: 'share', on: false }, { type: 'ready', width: 1920, height: 1080, seq: 1 }], ['drop-held']],
    ['another choice', [{ type: 'region-changed' }, { type: 'ready', width: 1920, height: 1080, seq: 1 }], ['drop-held', 'capture 2 full hold']],
    ['a new viewport', [{ type: 'ready', width: 1280, height: 720, seq: 1 }], ['drop-held', 'capture 2 full']],
    ['a resync', [{ type: 'resync' }], ['drop-held', 'capture 2 full']],
  ];
  for (const [what, events, expected] of cases) {
    const r = run(events, held());
    t.same(kinds(r.effects), expected, what);
    t.equal(r.state.held ?? null, null, `${what}: nothing held`);
  }
  // The choice changed while the batch was being prepared: dropped when it comes back.
  let r = run([...sharing, { type: 'ready', width: 1920, height: 1080, seq: 0 }, { type: 'captured', generation: 1, lastSeq: 1 }, { type: 'damage', rects: [{ x: 0, y: 0, w: 4, h: 4 }] }], ahead);
  r = run([{ type: 'region-changed' }, { type: 'captured', generation: 1, lastSeq: 2, held: true }], r.state);
  t.same(kinds(r.effects), ['drop-held', 'capture 2 full hold']);
  r = run([{ type: 'ready', width: 1920, height: 1080, seq: 1 }], r.state);
  t.same(kinds(r.effects), [], 'and nothing of it is sent at the ready');
});

/**
 * Prepare-ahead against the real encoder and a decoding agent: a screen that keeps changing,
 * captures that finish late, readies that come late, choices that change. At the end the
 * agent's picture is the screen, and no update ever went out before the agent had drawn the
 * one before (at most one batch in flight).
 */
t.test('prepare-ahead with the real pipeline: the agent ends with the screen; one batch in flight at most', async (t) => {
  const size = { width: 320, height: 192 };
  const screen = randomBgrx(size.width, size.height, 11);
  let rnd = 12345;
  const rand = (n: number): number => {
    // xorshift32: consecutive draws are not correlated the way a small LCG's are.
    rnd ^= rnd << 13;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    return (rnd >>> 0) % n;
  };
  const p = new FramePipeline(size);
  const agent = createFramebuffer('rgb', 1, 1);
  let history = new CodecHistory();
  let state: FramesState = ahead;
  let held: ReturnType<FramePipeline['encode']> = null;
  const wire: Uint8Array[][] = [];
  let sentSeq = 0;
  let drawnSeq = 0;
  const pending: Array<Extract<FramesEffect, { type: 'capture' }>> = [];
  let violations = 0;
  let drops = 0;
  const send = (b: NonNullable<typeof held>): void => {
    if (wire.length > 0) violations++;
    wire.push(b.updates);
    sentSeq = b.lastSeq;
  };
  const feed = (e: FramesEvent): void => {
    const out = step(state, e);
    state = out.state;
    for (const eff of out.effects) {
      if (eff.type === 'capture') pending.push(eff);
      else if (eff.type === 'send-held') {
        t.equal(held?.lastSeq, eff.lastSeq);
        send(held!);
        held = null;
      } else if (eff.type === 'drop-held') {
        held = null;
        drops++;
        p.resetAgent();
      }
    }
  };
  const complete = (): void => {
    const c = pending.shift()!;
    if (c.generation !== state.generation) return feed({ type: 'captured', generation: c.generation, lastSeq: null, ...(c.hold ? { held: true } : {}) });
    const rects = c.full ? [{ x: 0, y: 0, w: size.width, h: size.height }] : c.rects;
    for (const r of rects) {
      const g = createFramebuffer('bgrx', r.w, r.h);
      for (let y = 0; y < r.h; y++) g.data.set(screen.data.subarray(((r.y + y) * size.width + r.x) * 4, ((r.y + y) * size.width + r.x + r.w) * 4), y * r.w * 4);
      p.ingest({ ...g, x: r.x, y: r.y });
    }
    const b = p.encode(c.out, c.full ? 'full' : c.rects, c.seq);
    if (b && c.hold) held = b;
    else if (b) send(b);
    feed({ type: 'captured', generation: c.generation, lastSeq: b ? b.lastSeq : null, ...(c.hold ? { held: true } : {}) });
  };
  const deliver = (): void => {
    while (wire.length > 0) {
      for (const u of wire.shift()!) {
        const d = decodeUpdate(u, history);
        applyUpdate(agent, d);
      }
      drawnSeq = sentSeq;
    }
    feed({ type: 'ready', width: size.width, height: size.height, seq: drawnSeq });
  };
  feed({ type: 'screen', ...size });
  feed({ type: 'share', on: true });
  feed({ type: 'ready', width: size.width, height: size.height, seq: 0 });
  for (let i = 0; i < 800; i++) {
    const a = rand(10);
    if (a < 5) {
      const r = { x: rand(size.width - 20), y: rand(size.height - 20), w: 1 + rand(20), h: 1 + rand(20) };
      for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) screen.data[(y * size.width + x) * 4 + rand(3)] = rand(256);
      feed({ type: 'damage', rects: [r] });
    } else if (a < 7 && pending.length > 0) complete();
    else if (a < 9) deliver();
    else if (rand(3) === 0) feed({ type: 'region-changed' });
  }
  for (let k = 0; k < 50 && (pending.length > 0 || wire.length > 0 || held !== null || state.dirty.length > 0); k++) {
    while (pending.length > 0) complete();
    deliver();
  }
  t.equal(violations, 0, 'never more than one batch in flight');
  t.ok(state.sentSeq > 20, `${state.sentSeq} updates sent`);
  t.ok(drops >= 2, `${drops} held batches dropped on the way`);
  t.ok(fbEqualsRgb(screen, agent), 'the agent has the screen pixel for pixel');
});
