import t from 'tap';
import { INITIAL_FRAMES, FramesError, outputSize, step, type FramesEffect, type FramesEvent, type FramesState } from './frames.js';
import { FramePipeline } from './frame-pipeline.js';
import { createFramebuffer, type BgrxFramebuffer } from '../codec/framebuffer.js';
import { applyUpdate, decodeUpdate } from '../codec/update.js';
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
  t.same(captures(effects), [{ type: 'capture', generation: 1, seq: 1, full: true, rects: [], out: { width: 1920, height: 1080 } }]);
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
  t.same(captures(r.effects), [{ type: 'capture', generation: 1, seq: 2, full: true, rects: [], out: { width: 800, height: 450 } }]);
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
