// The encoder thread gives the same bytes as the pipeline on the main thread would, keeps its
// state between calls, resets when asked (in order with encodes), and fails or closes cleanly.
import t from 'tap';
import { FrameEncoder } from './frame-encoder.js';
import { FramePipeline } from './frame-pipeline.js';
import { desktopLike, glyph, prng } from '../codec/synthetic.js';
import type { BgrxFramebuffer } from '../codec/framebuffer.js';
import { FLAG_RESET } from '../codec/update.js';

const W = 640;
const H = 400;
const grab = (fb: BgrxFramebuffer) => ({ ...fb, x: 0, y: 0 });
const same = (a: Uint8Array[], b: Uint8Array[]): boolean => a.length === b.length && a.every((u, i) => Buffer.compare(u, b[i]!) === 0);

t.test('the same updates as FramePipeline, in steps that continue each other', async (t) => {
  const enc = new FrameEncoder({ width: W, height: H });
  t.teardown(() => enc.close());
  const ref = new FramePipeline({ width: W, height: H });
  let fb = desktopLike(W, H, 3);
  const next = prng(9);
  for (let seq = 1; seq <= 5; seq++) {
    if (seq > 1) {
      fb = { ...fb, data: fb.data.slice() };
      glyph(fb, next() % (W - 8), next() % (H - 16), next);
    }
    const changed = seq === 1 ? 'full' : [{ x: 0, y: 0, w: W, h: H }];
    ref.ingest(grab(fb));
    const want = ref.encode({ width: W, height: H }, changed, seq)!;
    const got = (await enc.encode([grab(fb)], { width: W, height: H }, changed, seq))!;
    t.ok(same(got.updates, want.updates), `step ${seq}: identical bytes (${got.updates[0]!.length} B)`);
    t.equal(got.lastSeq, want.lastSeq);
    t.equal(got.tiles, want.tiles.length);
    t.equal(Object.values(got.kinds).reduce((a, b) => a + b, 0), got.tiles, 'kinds add up to the tiles');
  }
  t.equal(await enc.encode([grab(fb)], { width: W, height: H }, [{ x: 0, y: 0, w: W, h: H }], 6), null, 'nothing changed: null');
  t.ok(fb.data.length > 0, 'the caller keeps its grab (the encoder sent a copy)');
});

t.test('a grab that is a view of a larger buffer (a Buffer) is copied, not taken away', async (t) => {
  const enc = new FrameEncoder({ width: 64, height: 64 });
  t.teardown(() => enc.close());
  const fb = desktopLike(64, 64, 6);
  const backing = new ArrayBuffer(fb.data.length + 100);
  const view = Buffer.from(backing, 50, fb.data.length);
  view.set(fb.data);
  await enc.encode([{ ...fb, data: view, x: 0, y: 0 }], { width: 64, height: 64 }, 'full', 1);
  t.equal(backing.byteLength, fb.data.length + 100, 'the backing buffer is still ours (not transferred)');
  t.equal(Buffer.compare(view, Buffer.from(fb.data)), 0, 'and its bytes are intact');
});

t.test('resetAgent applies after the encodes posted before it', async (t) => {
  const enc = new FrameEncoder({ width: W, height: H });
  t.teardown(() => enc.close());
  const fb = desktopLike(W, H, 4);
  const first = enc.encode([grab(fb)], { width: W, height: H }, 'full', 1);
  enc.resetAgent();
  t.equal(enc.epoch, 1);
  const a = (await first)!;
  t.equal(a.updates[0]![2]! & FLAG_RESET, FLAG_RESET, 'the first update resets the history');
  const b = (await enc.encode([], { width: W, height: H }, [{ x: 0, y: 0, w: W, h: H }], 2))!;
  t.ok(b !== null && (b.updates[0]![2]! & FLAG_RESET) === FLAG_RESET, 'after the reset, the whole picture again as a reset update');
});

t.test('errors come back as RsoError; close rejects what waits', async (t) => {
  const enc = new FrameEncoder({ width: W, height: H });
  await t.rejects(enc.encode([{ ...desktopLike(8, 8), x: W, y: 0 }], { width: W, height: H }, 'full', 1), { name: 'RsoError' }, 'a grab outside the screen');
  const fb = desktopLike(W, H, 5);
  const waiting = t.rejects(enc.encode([grab(fb)], { width: W, height: H }, 'full', 1), { name: 'EncoderClosedError' }, 'the encode that waited');
  await enc.close();
  await waiting;
  await t.rejects(enc.encode([grab(fb)], { width: W, height: H }, 'full', 2), { name: 'EncoderClosedError' }, 'closed: refused');
});
