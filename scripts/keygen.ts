// `npm run keygen -- [--out DIR]`: a new release signing key in minisign format, unencrypted
// (rso-release.key, mode 0600, for the organisation's secret store) and its public key
// (rso-release.pub, to publish). `minisign -G -W` makes keys our signer reads just as well.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatPublicKey, formatSecretKey, generateKey, keyIdHex } from '../src/release/minisign.js';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = resolve(outAt >= 0 && args[outAt + 1] !== undefined ? args[outAt + 1]! : '.');
const secretPath = join(out, 'rso-release.key');
const publicPath = join(out, 'rso-release.pub');
for (const p of [secretPath, publicPath]) {
  if (existsSync(p)) {
    process.stderr.write(`keygen: ${p} exists; not overwriting a key\n`);
    process.exit(2);
  }
}
mkdirSync(out, { recursive: true });
const key = generateKey();
writeFileSync(secretPath, formatSecretKey(key), { mode: 0o600, flag: 'wx' });
writeFileSync(publicPath, formatPublicKey(key), { flag: 'wx' });
process.stdout.write(`key ${keyIdHex(key.keyId)}\n  secret: ${secretPath} (keep it secret; never commit it)\n  public: ${publicPath}\n`);
