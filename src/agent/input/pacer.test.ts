// The paste pacer against the daemon's own bucket: whatever the pacer lets out, at the times it
// says, the daemon's rate limit (INPUT_RATE) never drops; keys go out at once unless a paste
// is still going out ahead of them; clear() drops what waits.
import t from 'tap';
import { InputPacer, PASTE_RATE } from './pacer.js';
import { INPUT_RATE, costOf, fullBucket, take } from '../../daemon/policy/rate.js';
import type { InputEvent } from '../../protocol/app.js';

const text = (n: number, ch = 'a'): InputEvent => ({ t: 'text', text: ch.repeat(n) });
const key: InputEvent = { t: 'key', key: 'a', down: true, mods: [] };

/** Runs the pacer's timer by hand; returns what the daemon took and dropped, and when. */
function drive(pacer: InputPacer, first: InputEvent[], start: number): { sent: InputEvent[]; dropped: number; end: number } {
  let daemon = fullBucket(INPUT_RATE, start);
  let dropped = 0;
  const sent: InputEvent[] = [];
  const arrive = (events: InputEvent[], now: number): void => {
    for (const e of events) {
      const r = take(daemon, INPUT_RATE, now, costOf(e));
      daemon = r.bucket;
      if (r.allow) sent.push(e);
      else dropped++;
    }
  };
  let now = start;
  arrive(first, now);
  for (let wait = pacer.wait(); wait !== null; wait = pacer.wait()) {
    now += wait;
    arrive(pacer.due(now), now);
  }
  return { sent, dropped, end: now };
}

t.test('a long paste goes out whole, at the daemon\'s pace, nothing dropped', async (t) => {
  const pacer = new InputPacer(0);
  const paste = Array.from({ length: 20 }, (_, i) => text(256, String.fromCharCode(97 + i)));
  const first = pacer.push(paste, true, 0);
  t.equal(first.length, 2, 'the burst goes at once (2 x 256 of 512)');
  const r = drive(pacer, first, 0);
  t.equal(r.dropped, 0, 'the daemon drops nothing');
  t.same(r.sent, paste, 'all of it, in order');
  const chars = 20 * 256;
  t.ok(r.end >= ((chars - PASTE_RATE.capacity) * 1000) / PASTE_RATE.perSecond - 1, `took ${r.end} ms: not faster than the pace`);
  t.ok(r.end <= ((chars - PASTE_RATE.capacity) * 1000) / PASTE_RATE.perSecond + 20 * 5, 'and not much slower');

  // Without the pacer the same paste loses most of itself.
  let daemon = fullBucket(INPUT_RATE, 0);
  let lost = 0;
  for (const e of paste) {
    const x = take(daemon, INPUT_RATE, 0, costOf(e));
    daemon = x.bucket;
    if (!x.allow) lost++;
  }
  t.equal(lost, 18, 'sent at once, 18 of 20 lines would be dropped');
});

t.test('keys go at once, except behind a paste still going out', async (t) => {
  const pacer = new InputPacer(0);
  t.same(pacer.push([key, key], false, 0), [key, key], 'typing is not held');
  t.equal(pacer.wait(), null);
  const first = pacer.push([text(256), text(256), text(256)], true, 0);
  t.equal(first.length, 1, 'the two keys took two tokens: one line fits at once');
  t.same(pacer.push([key], false, 0), [], 'a key typed during the paste waits behind it');
  t.equal(pacer.waiting, 3);
  const r = drive(pacer, [], 0);
  t.same(r.sent.map((e) => e.t), ['text', 'text', 'key'], 'and arrives after it');
});

t.test('clear drops what waits; an event dearer than the burst still goes', async (t) => {
  const pacer = new InputPacer(0);
  pacer.push([text(256), text(256), text(256)], true, 0);
  t.equal(pacer.waiting, 1);
  pacer.clear();
  t.equal(pacer.wait(), null, 'nothing waits after clear');
  t.same(pacer.push([key], false, 1), [key]);

  const big = new InputPacer(0);
  t.same(big.push([text(600)], true, 0), [text(600)], 'a 600-character text goes when the bucket is full');
  t.ok(costOf(text(600)) > PASTE_RATE.capacity);
});
