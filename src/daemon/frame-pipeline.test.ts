// The pixel pipeline: what the agent ends up with after applying the updates equals the screen,
// and a scroll or a dragged window travels as copy tiles plus the few new pixels.
import t from 'tap';
import { applyUpdate, CodecHistory, createFramebuffer, decodeUpdate, type BgrxFramebuffer, type Rect, type RgbFramebuffer } from '../codec/index.js';
import { desktopLike, glyph, prng, terminalRect, toRgb } from '../codec/synthetic.js';
import { FramePipeline } from './frame-pipeline.js';

const W = 1280;
const H = 720;
const size = { width: W, height: H };
const grab = (fb: BgrxFramebuffer) => ({ ...fb, x: 0, y: 0 });
const same = (a: RgbFramebuffer, b: RgbFramebuffer) => Buffer.from(a.data).equals(Buffer.from(b.data));

function scrolled(fb: BgrxFramebuffer, term: Rect, by: number, seed: number): BgrxFramebuffer {
  const out = { ...fb, data: fb.data.slice() };
  for (let y = term.y; y < term.y + term.h - by; y++) out.data.copyWithin((y * W + term.x) * 4, ((y + by) * W + term.x) * 4, ((y + by) * W + term.x + term.w) * 4);
  const rnd = prng(seed);
  for (let c = 0; c < 40; c++) glyph(out, term.x + 4 + c * 8, term.y + term.h - by, rnd, 8, by);
  return out;
}

// The agent's decoder history: one per test, like the viewer's one per session.
function apply(agent: RgbFramebuffer, updates: Uint8Array[], history: CodecHistory): number {
  let bytes = 0;
  for (const u of updates) {
    applyUpdate(agent, decodeUpdate(u, history));
    bytes += u.length;
  }
  return bytes;
}

t.test('a terminal scrolling: copy tiles first, the agent matches the screen after every step', async (t) => {
  const pipe = new FramePipeline(size);
  const agent = createFramebuffer('rgb', 1, 1);
  const history = new CodecHistory();
  let screen = desktopLike(W, H);
  pipe.ingest(grab(screen));
  let seq = 1;
  const first = pipe.encode(size, 'full', seq)!;
  seq = first.lastSeq + 1;
  const full = apply(agent, first.updates, history);
  const term = terminalRect(W, H);
  for (let i = 0; i < 5; i++) {
    screen = scrolled(screen, term, 16, i + 1);
    pipe.ingest(grab(screen));
    const batch = pipe.encode(size, [term], seq)!;
    seq = batch.lastSeq + 1;
    t.equal(batch.tiles[0]?.encoding, 'copy', `step ${i}: the update leads with a copy`);
    t.ok(batch.tiles.slice(batch.tiles.findIndex((x) => x.encoding !== 'copy')).every((x) => x.encoding !== 'copy'), 'copies only at the front');
    const bytes = apply(agent, batch.updates, history);
    t.ok(same(agent, toRgb(screen)), `step ${i}: the agent has exactly the screen`);
    t.ok(bytes < full / 20, `step ${i}: ${bytes} bytes, a small fraction of the full frame (${full})`);
  }
});

t.test('without a previous picture, or below the move threshold, no copies', async (t) => {
  const pipe = new FramePipeline(size);
  const screen = desktopLike(W, H);
  pipe.ingest(grab(screen));
  const first = pipe.encode(size, 'full', 1)!;
  t.notOk(first.tiles.some((x) => x.encoding === 'copy'), 'first frame');
  const typed = { ...screen, data: screen.data.slice() };
  glyph(typed, 200, 300, prng(3));
  pipe.ingest(grab(typed));
  const b = pipe.encode(size, [{ x: 200, y: 300, w: 8, h: 16 }], first.lastSeq + 1)!;
  t.same(b.tiles.map((x) => x.encoding), ['packed'], 'a keystroke is one packed tile');
  t.match(b.tiles[0], { bits: 1, colors: 2 }, 'of two colours, one bit per pixel');
});
