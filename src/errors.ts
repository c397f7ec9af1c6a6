// One error type for the whole program. `code` is stable and documented in man/rso.1;
// `message` is for people (what happened, what to do); `detail` is for logs only and must
// never carry a secret digit, key or payload byte.

export const ERROR_CODES = {
  RSO_ERR_USAGE: { exit: 2, text: 'The command line is not valid.' },
  RSO_ERR_BAD_NUMBER: { exit: 2, text: 'That is not a session number.' },
  RSO_ERR_WRONG_CODE: { exit: 3, text: 'The session number did not match on both sides.' },
  RSO_ERR_BURNT: { exit: 3, text: 'This session number was used for three wrong attempts and no longer works.' },
  RSO_ERR_EXPIRED: { exit: 3, text: 'This session number has expired.' },
  RSO_ERR_UNKNOWN_NUMBER: { exit: 3, text: 'No session with this number is waiting on the relay.' },
  RSO_ERR_CROWDED: { exit: 3, text: 'Someone else already joined this session.' },
  RSO_ERR_UNAUTHORIZED: { exit: 4, text: 'The relay did not accept the sign-in.' },
  RSO_ERR_NOT_LOGGED_IN: { exit: 4, text: 'You are not signed in to a relay.' },
  RSO_ERR_THROTTLED: { exit: 5, text: 'Too many attempts from this address; wait a minute and try again.' },
  RSO_ERR_RELAY_BUSY: { exit: 5, text: 'The relay takes no new sessions right now (full, shutting down, or its cluster store is unreachable); try again in a minute.' },
  RSO_ERR_UNREACHABLE: { exit: 6, text: 'Could not reach the relay.' },
  RSO_ERR_INSECURE: { exit: 6, text: 'Refusing an unencrypted ws:// connection to a host that is not this machine.' },
  RSO_ERR_PEER_LEFT: { exit: 7, text: 'The other side left the session.' },
  RSO_ERR_DECLINED: { exit: 7, text: 'The customer declined the request.' },
  RSO_ERR_TIMEOUT: { exit: 7, text: 'The other side did not answer in time.' },
  RSO_ERR_PROTOCOL: { exit: 8, text: 'A message broke the protocol; the connection was closed.' },
  RSO_ERR_TOO_LARGE: { exit: 8, text: 'A message was larger than allowed; the connection was closed.' },
  RSO_ERR_VERSION: { exit: 8, text: 'The other program speaks a different protocol version.' },
  RSO_ERR_TAMPERED: { exit: 9, text: 'An encrypted record failed its check (tampered, replayed or reordered); the session was ended.' },
  RSO_ERR_CONFIG: { exit: 10, text: 'A configuration or data file could not be read or written.' },
  RSO_ERR_NO_DISPLAY: { exit: 11, text: 'There is no graphical display to share (or it refused the connection).' },
  RSO_ERR_CAPTURE: { exit: 11, text: 'The screen could not be captured.' },
  RSO_ERR_RELEASE: { exit: 12, text: 'This installation of rso does not match a release signed with the expected key.' },
  RSO_ERR_INTERNAL: { exit: 70, text: 'An internal error occurred.' },
} as const satisfies Record<string, { exit: number; text: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export class RsoError extends Error {
  override readonly name = 'RsoError';
  readonly code: ErrorCode;
  /** For logs: what the program saw. Never secrets or payload bytes. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message?: string, detail?: string) {
    super(message ?? ERROR_CODES[code].text);
    this.code = code;
    this.detail = detail;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
}

/** Wrap anything thrown into an RsoError without losing a code that is already there. */
export function toRsoError(err: unknown): RsoError {
  if (err instanceof RsoError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new RsoError('RSO_ERR_INTERNAL', undefined, detail);
}
