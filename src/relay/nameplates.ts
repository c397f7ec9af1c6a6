// Nameplate allocation: the first digits of a session number, chosen by the relay.
// Pure: the caller says which nameplates are taken and supplies the randomness.
import { RsoError } from '../errors.js';

/** Nameplates never grow past this many digits (protocol/relay.ts NAMEPLATE_RE allows 3..6). */
export const MAX_NAMEPLATE_DIGITS = 6;
export const MIN_NAMEPLATE_DIGITS = 3;

/** Uniform integer in [0, max). The server passes node:crypto's randomInt. */
export type RandomInt = (max: number) => number;

/**
 * Pick a free nameplate. Use the shortest length whose space is at most half taken: people
 * read three digits more easily than four, and at most half taken keeps a random draw cheap
 * (expected fewer than two draws) and a stale number unlikely to hit a fresh session.
 */
export function allocateNameplate(taken: ReadonlySet<string>, randomInt: RandomInt): string {
  const perLength = new Map<number, number>();
  for (const n of taken) perLength.set(n.length, (perLength.get(n.length) ?? 0) + 1);
  for (let digits = MIN_NAMEPLATE_DIGITS; digits <= MAX_NAMEPLATE_DIGITS; digits++) {
    const space = 10 ** digits;
    const used = perLength.get(digits) ?? 0;
    if (used * 2 >= space) continue;
    // Random draws first; after a few misses (only possible with a biased or hostile random
    // source) walk forward from the last draw, which always ends since less than half is used.
    let candidate = 0;
    for (let attempt = 0; attempt < 16; attempt++) {
      candidate = randomInt(space);
      const name = format(candidate, digits);
      if (!taken.has(name)) return name;
    }
    for (let i = 1; i < space; i++) {
      const name = format((candidate + i) % space, digits);
      if (!taken.has(name)) return name;
    }
  }
  throw new NameplatesExhausted();
}

/** Over half of every length up to 6 digits is in use: 500,000+ sessions waiting at once. */
export class NameplatesExhausted extends RsoError {
  constructor() {
    super('RSO_ERR_INTERNAL', 'The relay has no free session numbers; try again in a few minutes.', 'nameplate space exhausted');
  }
}

function format(value: number, digits: number): string {
  if (!Number.isInteger(value) || value < 0 || value >= 10 ** digits) {
    throw new RsoError('RSO_ERR_INTERNAL', undefined, `random source returned ${value} for ${digits} digits`);
  }
  return String(value).padStart(digits, '0');
}
