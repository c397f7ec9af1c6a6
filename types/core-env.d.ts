// The whole world the pure core (src/crypto, src/protocol, src/codec, src/errors.ts) may see.
// tsconfig.core.json checks those folders with no Node types, so only what is declared here
// type-checks there: node:crypto's primitives and text codecs. No sockets, files or displays.

declare module 'node:crypto' {
  interface AeadCipher {
    setAAD(data: Uint8Array, options?: { plaintextLength: number }): this;
    update(data: Uint8Array): Uint8Array;
    final(): Uint8Array;
    getAuthTag(): Uint8Array;
  }
  interface AeadDecipher {
    setAAD(data: Uint8Array, options?: { plaintextLength: number }): this;
    setAuthTag(tag: Uint8Array): this;
    update(data: Uint8Array): Uint8Array;
    final(): Uint8Array;
  }
  interface Digest {
    update(data: Uint8Array | string): this;
    digest(): Uint8Array;
  }
  export function randomBytes(size: number): Uint8Array;
  export function randomInt(min: number, max: number): number;
  export function randomInt(max: number): number;
  export function createHash(algorithm: string): Digest;
  export function createHmac(algorithm: string, key: Uint8Array): Digest;
  export function hkdfSync(digest: string, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, keylen: number): ArrayBuffer;
  export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  export function createCipheriv(algorithm: 'chacha20-poly1305', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): AeadCipher;
  export function createDecipheriv(algorithm: 'chacha20-poly1305', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): AeadDecipher;
}

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}

// node:zlib, only the synchronous one-shot calls the frame codec (src/codec) needs.
declare module 'node:zlib' {
  export function deflateSync(data: Uint8Array, options?: { level?: number }): Uint8Array;
  export function inflateSync(data: Uint8Array, options?: { maxOutputLength?: number }): Uint8Array;
  export function deflateRawSync(data: Uint8Array, options?: { level?: number; dictionary?: Uint8Array }): Uint8Array;
  /** With `info: true` Node returns the output and the engine (documented in node:zlib, "Convenience methods"). */
  export function inflateRawSync(data: Uint8Array, options: { maxOutputLength?: number; dictionary?: Uint8Array; info: true }): { buffer: Uint8Array; engine: { bytesWritten: number } };
  export function inflateRawSync(data: Uint8Array, options?: { maxOutputLength?: number; dictionary?: Uint8Array }): Uint8Array;
}
