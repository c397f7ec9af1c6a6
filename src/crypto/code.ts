// The session number people read to each other over the phone: `482 913 705`.
// The leading digits are the nameplate (the relay sees it, it picks the pairing slot); the last
// six are the secret (the CPace password, never sent anywhere). Because the secret is in every
// number, no error below may repeat the digits it was given: only counts and non-digit
// characters are named.
import { randomInt } from 'node:crypto';
import { RsoError } from '../errors.js';
import { NAMEPLATE_RE } from '../protocol/relay.js';

export interface SessionNumber {
  /** 3 to 6 digits, leading zeros allowed. */
  nameplate: string;
  /** Exactly 6 digits. */
  secret: string;
}

export const SECRET_DIGITS = 6;
const MIN_DIGITS = 3 + SECRET_DIGITS;
const MAX_DIGITS = 6 + SECRET_DIGITS;
const SECRET_RE = /^[0-9]{6}$/;

function badNumber(message: string, detail: string): RsoError {
  return new RsoError('RSO_ERR_BAD_NUMBER', message, detail);
}

/**
 * Read a session number as a person typed it: spaces, dashes and surrounding whitespace are
 * ignored anywhere, so `482 913 705`, `482-913-705` and `482913705` are the same number.
 */
export function parseSessionNumber(input: string): SessionNumber {
  // NFKC turns full-width digits (typed with an East Asian input method) into ASCII ones;
  // anything that is still not 0-9 afterwards is refused below.
  const compact = input.normalize('NFKC').replace(/[\s-]+/g, '');
  if (compact.length === 0) {
    throw badNumber('No session number was given; it has 9 digits, like 482 913 705.', 'empty session number');
  }
  for (const ch of compact) {
    if (ch < '0' || ch > '9') {
      // JSON.stringify shows control or invisible characters as escapes instead of printing them.
      throw badNumber(`A session number has only digits; found ${JSON.stringify(ch)}.`, 'non-digit in session number');
    }
  }
  const digits = compact.length;
  if (digits < MIN_DIGITS) {
    throw badNumber(`A session number has ${MIN_DIGITS} digits; this one has ${digits}.`, `session number with ${digits} digits`);
  }
  if (digits > MAX_DIGITS) {
    throw badNumber(
      `A session number has ${MIN_DIGITS} digits (${MAX_DIGITS} at most); this one has ${digits}.`,
      `session number with ${digits} digits`,
    );
  }
  return { nameplate: compact.slice(0, digits - SECRET_DIGITS), secret: compact.slice(digits - SECRET_DIGITS) };
}

/** `482 913 705`: the nameplate as one group (it may be longer than 3), then the secret as 3 + 3. */
export function formatSessionNumber(n: SessionNumber): string {
  if (!NAMEPLATE_RE.test(n.nameplate)) throw badNumber('The nameplate of a session number has 3 to 6 digits.', 'bad nameplate to format');
  if (!SECRET_RE.test(n.secret)) throw badNumber('The secret part of a session number has 6 digits.', 'bad secret to format');
  return `${n.nameplate} ${n.secret.slice(0, 3)} ${n.secret.slice(3)}`;
}

/** Six digits from the CSPRNG, uniform over 000000..999999 (randomInt does rejection sampling). */
export function generateSecret(): string {
  return String(randomInt(0, 10 ** SECRET_DIGITS)).padStart(SECRET_DIGITS, '0');
}
