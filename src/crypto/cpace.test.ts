// Reproduces draft-irtf-cfrg-cpace-21 Appendix B.3 (CPACE-RISTR255-SHA512) value by value.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { RsoError } from '../errors.js';
import {
  DSI,
  S_IN_BYTES,
  calculateGenerator,
  generatorHash,
  generatorString,
  iskIr,
  leb128,
  lvCat,
  sampleScalar,
  scalarMult,
  scalarMultVfy,
  sidOutputIr,
  transcriptIr,
} from './cpace.js';

interface Vectors {
  DSI: string;
  PRS: string;
  CI: string;
  sid: string;
  generator_string: string;
  generator_hash: string;
  g: string;
  ya: string;
  ADa: string;
  Ya: string;
  yb: string;
  ADb: string;
  Yb: string;
  K: string;
  ISK_IR: string;
  sid_output_ir: string;
  scalar_mult_vfy_valid: { s: string; X: string; result: string };
  scalar_mult_vfy_invalid: { Y: string; expect: string }[];
}

const v = JSON.parse(readFileSync(new URL('../../../shared/vectors/cpace-ristretto255-sha512.json', import.meta.url), 'utf8')) as Vectors;
const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const PRS = bytes(v.PRS);
const CI = bytes(v.CI);
const SID = bytes(v.sid);

t.test('Section 8.3: DSI is b"CPaceRistretto255"', async (t) => {
  t.equal(hex(DSI), v.DSI);
});

t.test('Section 6.3 / A.1: LEB128 length prefix and lv_cat', async (t) => {
  t.equal(hex(leb128(0)), '00');
  t.equal(hex(leb128(127)), '7f');
  t.equal(hex(leb128(128)), '8001');
  t.equal(hex(leb128(300)), 'ac02');
  // A.1.4: lv_cat(b"1234", b"5", b"", b"678")
  t.equal(hex(lvCat(Buffer.from('1234'), Buffer.from('5'), new Uint8Array(0), Buffer.from('678'))), '043132333401350003363738');
  // The vector's CI is itself lv_cat(b"A_initiator", b"B_responder").
  t.equal(hex(lvCat(Buffer.from('A_initiator'), Buffer.from('B_responder'))), v.CI);
});

t.test('Section 8.1 / B.3.1: generator_string', async (t) => {
  t.equal(hex(generatorString(DSI, PRS, CI, SID, S_IN_BYTES)), v.generator_string);
});

t.test('Section 8.3 / B.3.1: generator hash and element derivation g', async (t) => {
  t.equal(hex(generatorHash(PRS, CI, SID)), v.generator_hash);
  t.equal(hex(calculateGenerator(PRS, CI, SID).toBytes()), v.g);
});

t.test('Section 8.3 / B.3.2-B.3.3: Ya = scalar_mult(ya, g), Yb = scalar_mult(yb, g)', async (t) => {
  const g = calculateGenerator(PRS, CI, SID);
  t.equal(hex(scalarMult(bytes(v.ya), g)), v.Ya);
  t.equal(hex(scalarMult(bytes(v.yb), g)), v.Yb);
});

t.test('Section 7.2 / B.3.4: K = scalar_mult_vfy(ya, Yb) = scalar_mult_vfy(yb, Ya)', async (t) => {
  t.equal(hex(scalarMultVfy(bytes(v.ya), bytes(v.Yb))), v.K);
  t.equal(hex(scalarMultVfy(bytes(v.yb), bytes(v.Ya))), v.K);
});

t.test('Section 7.2 / B.3.5: ISK for initiator-responder', async (t) => {
  const args = [bytes(v.Ya), bytes(v.ADa), bytes(v.Yb), bytes(v.ADb)] as const;
  t.equal(hex(iskIr(SID, bytes(v.K), ...args)), v.ISK_IR);
  // The roles are ordered: swapping initiator and responder must give another key.
  t.not(hex(iskIr(SID, bytes(v.K), bytes(v.Yb), bytes(v.ADb), bytes(v.Ya), bytes(v.ADa))), v.ISK_IR);
  t.equal(hex(transcriptIr(...args)), hex(Buffer.concat([lvCat(...args.slice(0, 2)), lvCat(...args.slice(2))])));
});

t.test('Section 10.6 / B.3.7: sid_output for initiator-responder', async (t) => {
  t.equal(hex(sidOutputIr(bytes(v.Ya), bytes(v.ADa), bytes(v.Yb), bytes(v.ADb))), v.sid_output_ir);
});

t.test('Section 8.3 / B.3.10: scalar_mult_vfy with valid inputs', async (t) => {
  const { s, X, result } = v.scalar_mult_vfy_valid;
  t.equal(hex(scalarMultVfy(bytes(s), bytes(X))), result);
});

t.test('Section 8.3 / B.3.11: scalar_mult_vfy aborts on invalid encodings and the identity', async (t) => {
  t.equal(v.scalar_mult_vfy_invalid.length, 2);
  for (const { Y } of v.scalar_mult_vfy_invalid) {
    t.throws(() => scalarMultVfy(bytes(v.scalar_mult_vfy_valid.s), bytes(Y)), { code: 'RSO_ERR_PROTOCOL' }, Y.slice(0, 8));
  }
  t.throws(() => scalarMultVfy(bytes(v.ya), bytes(v.Yb).subarray(1)), { code: 'RSO_ERR_PROTOCOL' }, 'wrong length');
});

t.test('Section 8.3: sample_scalar clears the bits above 252 and is fresh each time', async (t) => {
  const g = calculateGenerator(PRS, CI, SID);
  const seen = new Set<string>();
  let topBits = 0;
  for (let i = 0; i < 200; i++) {
    const y = sampleScalar();
    t.equal(y.length, 32);
    topBits |= y[31]! & 0xf0;
    seen.add(hex(y));
    if (i < 3) t.equal(scalarMult(y, g).length, 32, 'usable with scalar_mult');
  }
  t.equal(topBits, 0, 'bits 252..255 always clear');
  t.equal(seen.size, 200, 'no repeats');
});

t.test('local scalars are checked: a malformed one is our bug, not the peer\'s', async (t) => {
  const g = calculateGenerator(PRS, CI, SID);
  for (const bad of [new Uint8Array(32), new Uint8Array(31).fill(1), new Uint8Array(32).fill(0xff)]) {
    try {
      scalarMult(bad, g);
      t.fail('accepted a bad scalar');
    } catch (err) {
      t.equal((err as RsoError).code, 'RSO_ERR_INTERNAL');
    }
  }
});
