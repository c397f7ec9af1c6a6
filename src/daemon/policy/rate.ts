// A token bucket for injected input: pure, time comes in as an argument. A flood from the
// engineer's side (a stuck key repeat, a buggy or hostile viewer) is cut: events over the rate
// are dropped, never queued for later, so nothing arrives on the customer's desktop seconds
// after the engineer stopped. The budget is generous for a person: typing, pasting a line and
// dragging at 60 Hz stay far below it.
import type { InputEvent } from '../../protocol/app.js';

export interface Bucket {
  readonly tokens: number;
  /** ms timestamp of the last refill. */
  readonly at: number;
}

export interface RateLimit {
  /** Burst: how many cost units may arrive at once. */
  capacity: number;
  /** Sustained cost units per second. */
  perSecond: number;
}

/** About 400 keys or pointer events per second sustained, a pasted 256-character line at once. */
export const INPUT_RATE: RateLimit = Object.freeze({ capacity: 600, perSecond: 400 });

export function fullBucket(limit: RateLimit, now: number): Bucket {
  return { tokens: limit.capacity, at: now };
}

/** What one event costs: one per event, text one per character (each is a key press). */
export function costOf(event: InputEvent): number {
  return event.t === 'text' ? Math.max(1, [...event.text].length) : 1;
}

/** Takes `cost` tokens if there are enough; otherwise the event is denied and nothing is taken. */
export function take(bucket: Bucket, limit: RateLimit, now: number, cost: number): { bucket: Bucket; allow: boolean } {
  const elapsed = Math.max(0, now - bucket.at);
  const tokens = Math.min(limit.capacity, bucket.tokens + (elapsed * limit.perSecond) / 1000);
  if (tokens >= cost) return { bucket: { tokens: tokens - cost, at: now }, allow: true };
  return { bucket: { tokens, at: now }, allow: false };
}
