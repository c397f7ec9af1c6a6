import t from 'tap';
import { ERROR_CODES, RsoError, isErrorCode, toRsoError } from './errors.js';

t.test('every code has an exit status and a sentence for people', async (t) => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    t.ok(info.exit > 0 && info.exit < 128, `${code} exit`);
    t.match(info.text, /^[A-Z].*\.$/, `${code} text is a sentence`);
  }
});

t.test('RsoError keeps code, message and detail apart', async (t) => {
  const err = new RsoError('RSO_ERR_EXPIRED', undefined, 'nameplate 482');
  t.equal(err.code, 'RSO_ERR_EXPIRED');
  t.equal(err.message, ERROR_CODES.RSO_ERR_EXPIRED.text);
  t.equal(err.detail, 'nameplate 482');
  t.equal(err.exitCode, 3);
  t.ok(isErrorCode('RSO_ERR_CROWDED'));
  t.notOk(isErrorCode('RSO_ERR_NOPE'));
  t.equal(toRsoError(err), err);
  t.equal(toRsoError(new Error('boom')).code, 'RSO_ERR_INTERNAL');
});
