// Unsigned LEB128 integers for the update header: a typical keystroke update is a few dozen
// bytes, so the 2- and 4-byte fixed fields it used to carry were a large share of it.
// The reader is strict: a value must use its shortest encoding and fit in 32 bits, so every
// value has exactly one encoding on the wire.

/** Bytes `v` (0..2^32-1) takes as a varint. */
export function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `v` at `o`; returns the offset after it. The caller sized `out` with varintBytes. */
export function writeVarint(out: Uint8Array, o: number, v: number): number {
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  return o;
}

/**
 * Reads a varint at `o`: [value, next offset], or a string saying what is wrong (truncated,
 * longer than 5 bytes, above 2^32-1, or not the shortest encoding).
 */
export function readVarint(bytes: Uint8Array, o: number): [number, number] | string {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (o + i >= bytes.length) return 'truncated varint';
    const b = bytes[o + i]!;
    v += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (i > 0 && b === 0) return 'varint not in its shortest form';
      if (v > 0xffffffff) return 'varint above 2^32-1';
      return [v, o + i + 1];
    }
    scale *= 128;
  }
  return 'varint longer than 5 bytes';
}
