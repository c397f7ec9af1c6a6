// `npm run sign -- --key KEYFILE [--out DIR] [--package-dir DIR] [--no-build]`: builds, writes
// the signed manifest of every file of the package and the pinned public key into
// release/, packs rso-<version>.tgz and signs it as rso-<version>.tgz.minisig (minisign
// format, `minisign -Vm rso-<version>.tgz -p rso-release.pub` checks it). See docs/releases.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPublicKey, keyIdHex, parseSecretKey, signData } from '../src/release/minisign.js';
import { MANIFEST, MANIFEST_SIG, PINNED_KEY, RELEASE_DIR, buildManifest } from '../src/release/manifest.js';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function die(message: string): never {
  process.stderr.write(`sign: ${message}\n`);
  process.exit(2);
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const keyFile = arg('--key') ?? die('usage: npm run sign -- --key KEYFILE [--out DIR] [--package-dir DIR] [--no-build]');
const pkgDir = resolve(arg('--package-dir') ?? fileURLToPath(new URL('../', import.meta.url)));
const out = resolve(arg('--out') ?? '.');
let key;
try {
  key = parseSecretKey(readFileSync(keyFile, 'utf8'));
} catch (err) {
  die((err as Error).message);
}
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name: string; version: string };
if (!process.argv.includes('--no-build')) run('npx', ['tsc', '-p', 'tsconfig.build.json'], pkgDir);

// The file list is npm's own (`files` in package.json), so the manifest covers exactly what the
// tarball holds; the release folder is rewritten, never merged with an older one.
rmSync(join(pkgDir, RELEASE_DIR), { recursive: true, force: true });
const listed = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], pkgDir)) as Array<{ files: Array<{ path: string }> }>;
const manifest = buildManifest(pkgDir, listed[0]!.files.map((f) => f.path), pkg.name, pkg.version);
const manifestText = `${JSON.stringify(manifest, null, 1)}\n`;
mkdirSync(join(pkgDir, RELEASE_DIR), { recursive: true });
writeFileSync(join(pkgDir, MANIFEST), manifestText);
writeFileSync(join(pkgDir, MANIFEST_SIG), signData(key, Buffer.from(manifestText), `rso ${pkg.version} manifest, ${Object.keys(manifest.files).length} files`));
writeFileSync(join(pkgDir, PINNED_KEY), formatPublicKey(key));

mkdirSync(out, { recursive: true });
const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], pkgDir)) as Array<{ filename: string }>;
const tarball = join(out, packed[0]!.filename);
const comment = `timestamp:${Math.floor(Date.now() / 1000)}\tfile:${packed[0]!.filename}\thashed`;
writeFileSync(`${tarball}.minisig`, signData(key, readFileSync(tarball), comment));
process.stdout.write(`${tarball}\n${tarball}.minisig (key ${keyIdHex(key.keyId)}, manifest of ${Object.keys(manifest.files).length} files)\n`);
