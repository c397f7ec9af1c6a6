// The one place where errors become text on stderr and an exit status.
import { RsoError, toRsoError } from '../errors.js';

export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const e: RsoError = toRsoError(err);
  stderr.write(`rso: ${e.message} (${e.code})\n`);
  if (e.code === 'RSO_ERR_INTERNAL' && e.detail) stderr.write(`rso: detail: ${e.detail}\n`);
  return e.exitCode;
}
