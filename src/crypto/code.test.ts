import t, { type Test } from 'tap';
import { RsoError } from '../errors.js';
import { formatSessionNumber, generateSecret, parseSessionNumber } from './code.js';

function rejects(t: Test, input: string, message: RegExp): void {
  try {
    parseSessionNumber(input);
    t.fail(`accepted ${JSON.stringify(input)}`);
  } catch (err) {
    t.ok(err instanceof RsoError, 'an RsoError');
    const e = err as RsoError;
    t.equal(e.code, 'RSO_ERR_BAD_NUMBER');
    t.match(e.message, message);
    // The secret digits must never be echoed: no run of 3+ digits from the input in the text.
    for (const text of [e.message, e.detail ?? '']) {
      for (const run of input.match(/[0-9]{3,}/g) ?? []) t.notOk(text.includes(run), `no input digits in ${JSON.stringify(text)}`);
    }
  }
}

t.test('parse accepts the spellings people type', async (t) => {
  const want = { nameplate: '482', secret: '913705' };
  for (const input of ['482 913 705', '482-913-705', '482913705', '  482913705\n', '4 8 2 - 9 1 3 - 7 0 5', '\t482  913-705 ']) {
    t.same(parseSessionNumber(input), want, JSON.stringify(input));
  }
});

t.test('parse keeps leading zeros and grows the nameplate, never the secret', async (t) => {
  t.same(parseSessionNumber('007 000 001'), { nameplate: '007', secret: '000001' });
  t.same(parseSessionNumber('4821 913 705'), { nameplate: '4821', secret: '913705' });
  t.same(parseSessionNumber('123456 913705'), { nameplate: '123456', secret: '913705' });
});

t.test('parse accepts full-width digits from East Asian input methods', async (t) => {
  t.same(parseSessionNumber('４８２ ９１３ ７０５'), { nameplate: '482', secret: '913705' });
});

t.test('parse refuses empty input', async (t) => {
  rejects(t, '', /No session number/);
  rejects(t, '  - - ', /No session number/);
});

t.test('parse counts digits without echoing them', async (t) => {
  rejects(t, '482 913 70', /has 9 digits; this one has 8\./);
  rejects(t, '48', /this one has 2\./);
  rejects(t, '1234567 913 705', /this one has 13\./);
});

t.test('parse names the first non-digit but not the digits around it', async (t) => {
  rejects(t, '482 913 7x5', /only digits; found "x"\./);
  rejects(t, '482.913.705', /found "\."/);
  rejects(t, '482\u0007913705', /found "\\u0007"/);
  rejects(t, '+482913705', /found "\+"/);
  rejects(t, '٤٨٢٩١٣٧٠٥', /only digits/); // Arabic-Indic digits are not 0-9 after NFKC either
});

t.test('format groups the nameplate, then the secret as 3 + 3', async (t) => {
  t.equal(formatSessionNumber({ nameplate: '482', secret: '913705' }), '482 913 705');
  t.equal(formatSessionNumber({ nameplate: '4821', secret: '913705' }), '4821 913 705');
  t.equal(formatSessionNumber({ nameplate: '007', secret: '000001' }), '007 000 001');
  t.throws(() => formatSessionNumber({ nameplate: '48', secret: '913705' }), { code: 'RSO_ERR_BAD_NUMBER' });
  t.throws(() => formatSessionNumber({ nameplate: '482', secret: '91370' }), { code: 'RSO_ERR_BAD_NUMBER' });
});

t.test('format and parse are inverse', async (t) => {
  for (const n of [{ nameplate: '000', secret: '000000' }, { nameplate: '999999', secret: '999999' }, { nameplate: '4821', secret: '013705' }]) {
    t.same(parseSessionNumber(formatSessionNumber(n)), n);
  }
});

t.test('generateSecret gives 6 digits, zero-padded, spread over the range', async (t) => {
  const seen = new Set<string>();
  t.match(generateSecret(), /^[0-9]{6}$/);
  const firstDigits = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const s = generateSecret();
    if (!/^[0-9]{6}$/.test(s)) t.fail(`not 6 digits: ${s}`);
    seen.add(s);
    firstDigits.add(s[0]!);
  }
  // 2000 draws from 10^6 values: a repeat is possible but many would mean a broken generator.
  t.ok(seen.size > 1990, 'draws are (almost) all distinct');
  // A leading 0 happens in 10% of draws; missing it would mean the padding or range is wrong.
  t.equal(firstDigits.size, 10, 'every leading digit, 0 included, occurs');
});
