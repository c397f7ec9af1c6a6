// Small byte helpers for the crypto core. Everything returns plain Uint8Array (never Buffer),
// so values compare the same way whatever produced them.

/** Concatenation into a fresh array (the parts are not aliased). */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string: labels, roles and digits only (all ASCII here). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Overwrite secret material once it is no longer needed. JavaScript cannot promise that no copy
 * survives elsewhere (the engine may have moved the bytes), but wiping the copies we hold narrows
 * what a later memory disclosure could reveal.
 */
export function wipe(...arrays: readonly (Uint8Array | undefined)[]): void {
  for (const array of arrays) array?.fill(0);
}

/** A plain copy of bytes returned by node:crypto (which hands out Buffers). */
export function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
