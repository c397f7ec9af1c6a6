// Minisign keys and signatures with node:crypto (Ed25519) and BLAKE2b-512 prehashing, as the
// minisign tool writes and reads them (https://jedisct1.github.io/minisign/, "Signature
// format"), so `minisign -V` checks our signatures and our signer reads `minisign -G -W` keys.
//
//   public key:  "Ed" || key_id[8] || pk[32]                         (base64, after a comment line)
//   signature:   "ED" || key_id[8] || Ed25519(sk, BLAKE2b-512(file))  ("Ed": legacy, unhashed)
//                trusted comment, then Ed25519(sk, signature[64] || trusted_comment)
//   secret key:  "Ed" || kdf "\0\0" (unencrypted) or "Sc" (scrypt) || "B2" || salt[32] ||
//                opslimit[8] || memlimit[8] || key_id[8] || sk[64] (seed || pk) || checksum[32]
//                with checksum = BLAKE2b-256("Ed" || key_id || sk) (all zero from `minisign -G -W`)
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as edSign, timingSafeEqual, verify as edVerify, type KeyObject } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import { RsoError } from '../errors.js';

export interface PublicKey {
  /** 8 bytes, shown as 16 upper-case hex digits (minisign prints it byte-reversed: see keyIdHex). */
  keyId: Uint8Array;
  pk: Uint8Array;
}

export interface SecretKey extends PublicKey {
  seed: Uint8Array;
}

export interface Signature {
  keyId: Uint8Array;
  prehashed: boolean;
  signature: Uint8Array;
  trustedComment: string;
  globalSignature: Uint8Array;
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

function fail(what: string, detail: string): RsoError {
  return new RsoError('RSO_ERR_CONFIG', what, detail);
}

/** The key id as minisign shows it: the 8 bytes as a little-endian number, in hex. */
export function keyIdHex(keyId: Uint8Array): string {
  return Buffer.from(keyId).reverse().toString('hex').toUpperCase();
}

/** The base64 line after the comment line(s) of a minisign file. */
function payloadLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

export function parsePublicKey(text: string): PublicKey {
  const lines = payloadLines(text);
  const b64 = lines.find((l) => !l.startsWith('untrusted comment:'));
  const raw = b64 !== undefined ? Buffer.from(b64.trim(), 'base64') : Buffer.alloc(0);
  if (raw.length !== 42 || raw.subarray(0, 2).toString('latin1') !== 'Ed') throw fail('That is not a minisign public key.', `public key of ${raw.length} bytes`);
  return { keyId: raw.subarray(2, 10), pk: raw.subarray(10, 42) };
}

export function formatPublicKey(key: PublicKey): string {
  const raw = Buffer.concat([Buffer.from('Ed', 'latin1'), key.keyId, key.pk]);
  return `untrusted comment: minisign public key ${keyIdHex(key.keyId)}\n${raw.toString('base64')}\n`;
}

export function parseSecretKey(text: string): SecretKey {
  const lines = payloadLines(text);
  const b64 = lines.find((l) => !l.startsWith('untrusted comment:'));
  const raw = b64 !== undefined ? Buffer.from(b64.trim(), 'base64') : Buffer.alloc(0);
  if (raw.length !== 158 || raw.subarray(0, 2).toString('latin1') !== 'Ed' || raw.subarray(4, 6).toString('latin1') !== 'B2') {
    throw fail('That is not a minisign secret key.', `secret key of ${raw.length} bytes`);
  }
  if (raw[2] !== 0 || raw[3] !== 0) {
    throw fail('This minisign secret key is password-protected; rso signs only with an unprotected key (make one with `npm run keygen` or `minisign -G -W`, and keep it in your secret store).', 'encrypted secret key');
  }
  const keyId = raw.subarray(54, 62);
  const sk = raw.subarray(62, 126);
  const checksum = raw.subarray(126, 158);
  const want = blake2b(Buffer.concat([Buffer.from('Ed', 'latin1'), keyId, sk]), { dkLen: 32 });
  // `minisign -G -W` (unencrypted) leaves the checksum all zero; the halves check below still
  // catches a damaged or spliced key.
  if (!checksum.every((b) => b === 0) && !timingSafeEqual(checksum, want)) throw fail('The minisign secret key is damaged (its checksum does not match).', 'secret key checksum');
  const seed = sk.subarray(0, 32);
  const pk = sk.subarray(32, 64);
  // The public half must be the one the seed gives: a spliced file would sign with another key.
  if (!Buffer.from(publicFromSeed(seed)).equals(pk)) throw fail('The minisign secret key is damaged (its two halves do not match).', 'secret key halves');
  return { keyId, pk, seed };
}

export function formatSecretKey(key: SecretKey): string {
  const sk = Buffer.concat([key.seed, key.pk]);
  const checksum = blake2b(Buffer.concat([Buffer.from('Ed', 'latin1'), key.keyId, sk]), { dkLen: 32 });
  const raw = Buffer.concat([Buffer.from('Ed', 'latin1'), Buffer.from([0, 0]), Buffer.from('B2', 'latin1'), Buffer.alloc(32), Buffer.alloc(8), Buffer.alloc(8), key.keyId, sk, checksum]);
  return `untrusted comment: minisign secret key (unencrypted; keep it secret)\n${raw.toString('base64')}\n`;
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(pk: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, pk]), format: 'der', type: 'spki' });
}

function publicFromSeed(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

export function generateKey(): SecretKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = Uint8Array.from(der.subarray(der.length - 32));
  return { seed, pk: publicFromSeed(seed), keyId: Uint8Array.from(randomBytes(8)) };
}

/** Signs `data` as `minisign -S` does (prehashed, "ED"). Comments must be one line each. */
export function signData(key: SecretKey, data: Uint8Array, trustedComment: string, untrustedComment = 'signature from rso secret key'): string {
  if (/[\r\n]/.test(trustedComment + untrustedComment)) throw new RsoError('RSO_ERR_USAGE', 'A signature comment must be one line.', 'multi-line comment');
  const hash = createHash('blake2b512').update(data).digest();
  const signature = edSign(null, hash, privateKeyObject(key.seed));
  const global = edSign(null, Buffer.concat([signature, Buffer.from(trustedComment, 'utf8')]), privateKeyObject(key.seed));
  const sigLine = Buffer.concat([Buffer.from('ED', 'latin1'), key.keyId, signature]).toString('base64');
  return `untrusted comment: ${untrustedComment}\n${sigLine}\ntrusted comment: ${trustedComment}\n${global.toString('base64')}\n`;
}

export function parseSignature(text: string): Signature {
  const lines = text.split(/\r?\n/);
  const sig = Buffer.from((lines[1] ?? '').trim(), 'base64');
  const tc = lines[2] ?? '';
  const global = Buffer.from((lines[3] ?? '').trim(), 'base64');
  const alg = sig.subarray(0, 2).toString('latin1');
  if (!lines[0]?.startsWith('untrusted comment:') || sig.length !== 74 || (alg !== 'ED' && alg !== 'Ed') || !tc.startsWith('trusted comment: ') || global.length !== 64) {
    throw fail('That is not a minisign signature.', 'signature format');
  }
  return { keyId: sig.subarray(2, 10), prehashed: alg === 'ED', signature: sig.subarray(10, 74), trustedComment: tc.slice('trusted comment: '.length), globalSignature: global };
}

/** What went wrong, or null when the signature is good for `data` under `key`. */
export function verifyData(key: PublicKey, data: Uint8Array, sig: Signature): string | null {
  if (!Buffer.from(sig.keyId).equals(Buffer.from(key.keyId))) return `signed by key ${keyIdHex(sig.keyId)}, not by ${keyIdHex(key.keyId)}`;
  const pub = publicKeyObject(key.pk);
  const message = sig.prehashed ? createHash('blake2b512').update(data).digest() : data;
  if (!edVerify(null, message, pub, sig.signature)) return 'the signature does not match the data';
  if (!edVerify(null, Buffer.concat([sig.signature, Buffer.from(sig.trustedComment, 'utf8')]), pub, sig.globalSignature)) return 'the trusted comment was changed';
  return null;
}
