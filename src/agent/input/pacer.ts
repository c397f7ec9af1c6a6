// Pastes at the pace the customer's side takes them. The customer's daemon drops input over its
// rate limit (src/daemon/policy/rate.ts: 600 at once, 400 a second, text one per character), so
// a long paste sent at once would arrive cut. The viewer keeps a mirror of that bucket, a little
// below the real one (network jitter can bunch what was sent apart), and holds a paste's events
// until they fit. Pure: time comes in as an argument.
//
// Only pastes wait. A key or a pointer event goes out at once, as before (a flood of them is
// the daemon's to drop, so nothing arrives seconds after the engineer stopped), except behind a
// paste that is still going out, so that what was typed after a paste arrives after it. Losing
// control (F12, let go, a reconnect) drops whatever waits: clear().
import type { InputEvent } from '../../protocol/app.js';
import { costOf, fullBucket, take, type Bucket, type RateLimit } from '../../daemon/policy/rate.js';

/** Below the daemon's INPUT_RATE (600 / 400 per second), leaving room for keys and jitter. */
export const PASTE_RATE: RateLimit = Object.freeze({ capacity: 512, perSecond: 360 });

export class InputPacer {
  private bucket: Bucket;
  private readonly queue: InputEvent[] = [];

  constructor(now: number, private readonly limit: RateLimit = PASTE_RATE) {
    this.bucket = fullBucket(limit, now);
  }

  /** Events that go out now; a paste's others wait for due(). */
  push(events: readonly InputEvent[], paste: boolean, now: number): InputEvent[] {
    if (paste || this.queue.length > 0) {
      this.queue.push(...events);
      return this.due(now);
    }
    // Counted like the daemon counts them (a denied event takes nothing), sent regardless.
    for (const e of events) this.bucket = take(this.bucket, this.limit, now, costOf(e)).bucket;
    return [...events];
  }

  /** The waiting events that fit now, in order. */
  due(now: number): InputEvent[] {
    const out: InputEvent[] = [];
    while (this.queue.length > 0) {
      const t = take(this.bucket, this.limit, now, this.costOf(this.queue[0]!));
      this.bucket = t.bucket;
      if (!t.allow) break;
      out.push(this.queue.shift()!);
    }
    return out;
  }

  /** Milliseconds until the next waiting event fits (asked right after push or due), or null. */
  wait(): number | null {
    const next = this.queue[0];
    if (next === undefined) return null;
    const missing = this.costOf(next) - this.bucket.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.limit.perSecond);
  }

  get waiting(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** The daemon's cost, capped at the burst: an event dearer than that would wait forever. */
  private costOf(e: InputEvent): number {
    return Math.min(costOf(e), this.limit.capacity);
  }
}
