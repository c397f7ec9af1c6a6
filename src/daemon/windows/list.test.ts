import t from 'tap';
import { decodeText } from './list.js';

const atoms = { utf8: 300, compound: 301 };

t.test('decodeText: STRING, UTF8_STRING and COMPOUND_TEXT titles', async (t) => {
  t.equal(decodeText(31, Buffer.from('caf\xe9', 'latin1'), atoms), 'café');
  t.equal(decodeText(300, Buffer.from('naïve — ok', 'utf8'), atoms), 'naïve — ok');
  // What xterm writes for "Foo — ü": Latin-1 outside, UTF-8 inside ESC % G ... ESC % @.
  const ct = Buffer.concat([Buffer.from('Foo '), Buffer.from([0x1b, 0x25, 0x47]), Buffer.from('—', 'utf8'), Buffer.from([0x1b, 0x25, 0x40]), Buffer.from(' \xfc', 'latin1')]);
  t.equal(decodeText(301, ct, atoms), 'Foo — ü');
  // Other designations (ESC - A: Latin-1 right half) are skipped, not printed.
  t.equal(decodeText(301, Buffer.from([0x1b, 0x2d, 0x41, 0x41, 0x42]), atoms), 'AB');
  t.equal(decodeText(301, Buffer.from([0x41, 0x1b, 0x25, 0x47, 0xc3, 0xa9]), atoms), 'Aé', 'unterminated UTF-8 segment');
});
