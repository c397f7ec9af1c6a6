// Join throttle: one token bucket per remote address. Each join takes a token; tokens refill
// continuously at `perMinute`, up to `burst`. Guessing nameplates by joining is the one cheap
// attack on the relay, so it is the one thing we rate-limit. The clock is injected.

export interface ThrottleConfig {
  /** Joins per minute per address, sustained. */
  perMinute: number;
  /** Joins allowed at once from a fresh address. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class JoinThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;

  constructor(private readonly config: ThrottleConfig) {
    if (!(config.perMinute > 0) || !(config.burst >= 1)) throw new RangeError('throttle needs perMinute > 0 and burst >= 1');
    this.ratePerMs = config.perMinute / 60_000;
  }

  /** Take one token for `key` at time `now` (ms). False means over the limit. */
  take(key: string, now: number): boolean {
    const bucket = this.refill(key, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forget addresses whose bucket is full again, so memory follows recent activity only. */
  sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.ratePerMs >= this.config.burst) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.config.burst, at: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    // A clock that steps backwards must not mint tokens.
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.config.burst, bucket.tokens + elapsed * this.ratePerMs);
    bucket.at = Math.max(bucket.at, now);
    return bucket;
  }
}
