// When the X11 capture flushes its damage (x11.ts): a pure schedule, fed with the damage
// reports as they arrive and the flushes as they start; the capture arms the one timer it says.
//
// - The first change after a quiet period (no flush for `coalesceMs`) is flushed at once, so a
//   typed character is read without waiting. Waiting `coalesceMs` before every first report
//   cost each key press up to 16 ms (measured with bench/e2e-latency.ts).
// - While drawing goes on, flushes come at most once per `coalesceMs`, so a burst (a page of
//   output, an animation) is gathered into a few reports instead of one per drawing request;
//   the timer is not pushed out by later reports, which keeps the latency bounded while
//   something draws continuously (a video, a progress bar).
// - Except when the first change is large (its reports cover a quarter of the shared area or
//   more: a window mapped, unmapped or raised over much of the screen). Then the programs
//   concerned are still painting (the window manager redraws the frame it focuses ~2-15 ms
//   later), and reading at once sends a half-drawn picture and then much of it again. Such a
//   change is flushed once reports have paused for `settleQuietMs`, at most `settleMaxMs` after
//   it began (bench/vnc-compare.ts: a full-screen window appearing went out as 8.6 KB + 1.5 KB
//   in two runs of three; now as one update).

export interface FlushTimingOptions {
  /** Pixels of the shared area. */
  areaPixels: number;
  coalesceMs: number;
  /** Share of the area that makes a first change large (default 1/4). */
  largeShare?: number;
  settleQuietMs?: number;
  settleMaxMs?: number;
}

export const SETTLE_QUIET_MS = 10;
export const SETTLE_MAX_MS = 40;

export class FlushTiming {
  private readonly large: number;
  private readonly quietMs: number;
  private readonly maxMs: number;
  /** Time of the last flush's start; -Infinity before the first. */
  private lastFlushAt = -Infinity;
  private armed = false;
  /** The armed flush is the at-once one of a change after a quiet period. */
  private immediate = false;
  /** When a large change began settling; null when none is. */
  private settlingSince: number | null = null;
  /** Pixels the reports since the timer was armed covered (summed; they may overlap a little). */
  private pending = 0;

  constructor(private readonly opts: FlushTimingOptions) {
    this.large = opts.areaPixels * (opts.largeShare ?? 1 / 4);
    this.quietMs = opts.settleQuietMs ?? SETTLE_QUIET_MS;
    this.maxMs = opts.settleMaxMs ?? SETTLE_MAX_MS;
  }

  /**
   * A damage report covering `pixels` of the shared area arrived at `now`. Returns the delay
   * (ms) to arm the flush timer with, replacing one already armed; null to leave it as it is.
   */
  report(now: number, pixels: number): number | null {
    if (this.settlingSince !== null) return Math.max(0, Math.min(this.quietMs, this.settlingSince + this.maxMs - now));
    // Reports grow the damaged region piece by piece (a mapped window is a dozen rectangles
    // within a millisecond): what counts is their sum since the first.
    this.pending += pixels;
    let delay: number | null = null;
    if (!this.armed) {
      delay = Math.max(0, this.lastFlushAt + this.opts.coalesceMs - now);
      this.armed = true;
      this.immediate = delay === 0;
    }
    if (this.immediate && this.pending >= this.large) {
      this.immediate = false;
      this.settlingSince = now;
      return this.quietMs;
    }
    return delay;
  }

  /** The armed timer fired: a flush follows. */
  fired(): void {
    this.armed = false;
    this.immediate = false;
    this.settlingSince = null;
    this.pending = 0;
  }

  /** A flush started at `now` (from the timer, or asked for directly). */
  flushing(now: number): void {
    this.lastFlushAt = now;
  }
}
