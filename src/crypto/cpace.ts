// CPace, draft-irtf-cfrg-cpace-21, cipher suite CPACE-RISTR255-SHA512 (Section 5): the group
// G_Ristretto255 of Section 8.3 (RFC 9496 ristretto255 from @noble/curves) with H = SHA-512
// (node:crypto). Only the building blocks live here; who sends what, when, and the key schedule
// after ISK are in handshake.ts.
//
// Scalars and encoded group elements are Uint8Array (32 bytes, little-endian scalars as in
// RFC 9496); the generator stays a decoded point because Section 8.3 keeps `_g` internal.
import { createHash, randomBytes } from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { RsoError } from '../errors.js';
import { concat, utf8 } from './bytes.js';

type Point = InstanceType<typeof ristretto255.Point>;
/** A decoded generator `_g` (Section 8.3): never encoded or sent. */
export type CPaceGenerator = Point;

const Group = ristretto255.Point;

/** Section 8.3: G_Ristretto255.DSI = b"CPaceRistretto255". */
export const DSI = utf8('CPaceRistretto255');
/** Section 6.2: H.s_in_bytes, the input block size of SHA-512. */
export const S_IN_BYTES = 128;
/** Section 8.3: G_Ristretto255.field_size_bytes. */
export const FIELD_SIZE_BYTES = 32;
/** Section 6.2: H.b_in_bytes of SHA-512: the length of ISK. */
export const HASH_BYTES = 64;

function sha512(...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha512');
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

function invalidShare(detail: string): RsoError {
  return new RsoError('RSO_ERR_PROTOCOL', 'The other side sent an invalid key share; the connection was closed.', detail);
}

// --- Section 6.3 and Appendix A.1: string utilities ---------------------------------------

/** Section 6.3 / A.1.1: LEB128, 7 bits per byte, least significant first, bit 7 = "more follows". */
export function leb128(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RsoError('RSO_ERR_INTERNAL', undefined, `leb128 of ${value}`);
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0);
  return Uint8Array.from(out);
}

/** Section 6.3 / A.1.1: prepend_len(s) = LEB128(len(s)) || s. */
export function prependLen(data: Uint8Array): Uint8Array {
  return concat(leb128(data.length), data);
}

/** Section 6.3 / A.1.3: lv_cat(a0, a1, ...) = prepend_len(a0) || prepend_len(a1) || ... */
export function lvCat(...parts: readonly Uint8Array[]): Uint8Array {
  return concat(...parts.map(prependLen));
}

/** Section 6.3 / A.3.4: transcript_ir(Ya, ADa, Yb, ADb) = lv_cat(Ya, ADa) || lv_cat(Yb, ADb). */
export function transcriptIr(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return concat(lvCat(ya, ada), lvCat(yb, adb));
}

// --- Section 8.1 and 8.3: the generator -------------------------------------------------------

/**
 * Section 8.1 / A.2: generator_string(DSI, PRS, CI, sid, s_in_bytes) =
 * lv_cat(DSI, PRS, zero_bytes(len_zpad), CI, sid), where the zero padding makes DSI and PRS fill
 * the first hash block, so the hashing time does not depend on the length of a short password.
 */
export function generatorString(dsi: Uint8Array, prs: Uint8Array, ci: Uint8Array, sid: Uint8Array, sInBytes: number): Uint8Array {
  const lenZpad = Math.max(0, sInBytes - prependLen(prs).length - prependLen(dsi).length - 1);
  return lvCat(dsi, prs, new Uint8Array(lenZpad), ci, sid);
}

/** Section 8.3: gen_str_hash = H.hash(gen_str, 2 * G.field_size_bytes) (SHA-512 gives exactly 64). */
export function generatorHash(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  return sha512(generatorString(DSI, prs, ci, sid, S_IN_BYTES));
}

/**
 * Section 8.3: G.calculate_generator(H, PRS, CI, sid) = element_derivation(gen_str_hash), the
 * RFC 9496 Section 4.3.4 derivation from 64 uniform bytes (noble's deriveToCurve; its
 * hashToCurve is the RFC 9380 map, which CPace does not use).
 */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): CPaceGenerator {
  const hash = generatorHash(prs, ci, sid);
  const deriveToCurve = ristretto255_hasher.deriveToCurve;
  if (deriveToCurve === undefined) throw new RsoError('RSO_ERR_INTERNAL', undefined, 'noble ristretto255 lacks deriveToCurve');
  const g = deriveToCurve(hash);
  hash.fill(0); // password-derived
  return g;
}

// --- Section 8.3: scalars and scalar multiplication -----------------------------------------

/** A scalar as a bigint in [1, order): scalars come from sampleScalar or test vectors, never the peer. */
function decodeScalar(y: Uint8Array): bigint {
  if (y.length !== FIELD_SIZE_BYTES) throw new RsoError('RSO_ERR_INTERNAL', undefined, `scalar of ${y.length} bytes`);
  let s: bigint;
  try {
    s = Group.Fn.fromBytes(y);
  } catch {
    throw new RsoError('RSO_ERR_INTERNAL', undefined, 'scalar not below the group order');
  }
  if (s === 0n) throw new RsoError('RSO_ERR_INTERNAL', undefined, 'zero scalar');
  return s;
}

/**
 * Section 8.3 (RECOMMENDED form): sample 32 random bytes, clear the bits above
 * group_size_bits = 252, read little-endian. Values below 2^252 are below the group order, so no
 * reduction is needed; zero (probability 2^-252) is redrawn because it would make Y the identity.
 */
export function sampleScalar(): Uint8Array {
  for (;;) {
    const y = new Uint8Array(randomBytes(FIELD_SIZE_BYTES));
    y[FIELD_SIZE_BYTES - 1]! &= 0x0f;
    if (y.some((b) => b !== 0)) return y;
  }
}

/** Section 8.3: G.scalar_mult(y, _g) = encode(y * _g): our public share Y. */
export function scalarMult(y: Uint8Array, g: CPaceGenerator): Uint8Array {
  return g.multiply(decodeScalar(y)).toBytes();
}

/**
 * Section 8.3: G.scalar_mult_vfy(y, X) = encode(y * decode(X)), and G.I when decoding fails.
 * Section 7.2: the party MUST abort if the result is G.I. Both aborts throw here, so no caller
 * can forget the check: a bad encoding or the identity from the peer ends the handshake.
 */
export function scalarMultVfy(y: Uint8Array, x: Uint8Array): Uint8Array {
  const s = decodeScalar(y);
  if (x.length !== FIELD_SIZE_BYTES) throw invalidShare(`cpace share of ${x.length} bytes`);
  let point: Point;
  try {
    point = Group.fromBytes(x);
  } catch {
    throw invalidShare('cpace share is not a ristretto255 encoding');
  }
  const k = point.multiply(s);
  if (k.is0()) throw invalidShare('cpace shared point is the identity');
  return k.toBytes();
}

// --- Section 7.2 and 10.6: outputs ------------------------------------------------------------

/**
 * Section 7.2: ISK = H.hash(lv_cat(G.DSI || b"_ISK", sid, K) || transcript(Ya, ADa, Yb, ADb)),
 * with transcript = transcript_ir (Section 6.3) because our roles are fixed: A = initiator.
 */
export function iskIr(sid: Uint8Array, k: Uint8Array, ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return sha512(lvCat(concat(DSI, utf8('_ISK')), sid, k), transcriptIr(ya, ada, yb, adb));
}

/** Section 10.6: sid_output = H.hash(b"CPaceSidOutput" || transcript_ir(Ya, ADa, Yb, ADb)). */
export function sidOutputIr(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return sha512(utf8('CPaceSidOutput'), transcriptIr(ya, ada, yb, adb));
}
