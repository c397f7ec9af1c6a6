// The spinner both full-screen UIs draw next to a waiting sentence (issue 7: every wait over
// 300 ms shows progress). Pure: the glyph is a function of when the wait began and the clock the
// caller passes in, so a render with a given clock is a table test and no component owns a timer.

/** A wait shorter than this shows no spinner: a flash of one glyph reads as flicker, not progress. */
export const SPINNER_DELAY_MS = 300;
/** How often the glyph advances; the UIs tick at this rate while something waits. */
export const SPINNER_INTERVAL_MS = 100;

// Braille dots: one cell wide in every monospace font that has them, no colour needed.
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;

/** The glyph to show `now` for a wait that began at `since` (ms), or '' before the delay. */
export function spinnerGlyph(since: number, now: number): string {
  const elapsed = now - since;
  if (!(elapsed >= SPINNER_DELAY_MS)) return '';
  return FRAMES[Math.floor((elapsed - SPINNER_DELAY_MS) / SPINNER_INTERVAL_MS) % FRAMES.length] ?? '';
}
