// The signed manifest of a release: every file of the package with its SHA-256, signed with the
// release key (minisign format), shipped inside the package in release/. `rso verify` and
// `rso share` check the running installation against it. See docs/releases.md.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyIdHex, parsePublicKey, parseSignature, verifyData } from './minisign.js';

/** Where the release files live, relative to the package root. */
export const RELEASE_DIR = 'release';
export const MANIFEST = `${RELEASE_DIR}/manifest.json`;
export const MANIFEST_SIG = `${MANIFEST}.minisig`;
/** The public key pinned in the build: the signer writes it before packing. */
export const PINNED_KEY = `${RELEASE_DIR}/release-key.pub`;
/** What the package holds (package.json `files`, plus what npm always adds). */
const PACKAGE_DIRS = ['bin', 'dist', 'man'];
const PACKAGE_FILES = ['package.json', 'README.md'];

export interface Manifest {
  name: string;
  version: string;
  /** path (forward slashes, relative to the package root) -> SHA-256 hex */
  files: Record<string, string>;
}

export type ReleaseStatus =
  | { state: 'signed'; keyId: string; version: string; files: number; trustedComment: string }
  | { state: 'unsigned'; reason: string }
  | { state: 'bad'; keyId: string | null; reason: string; changed: string[]; missing: string[]; extra: string[] };

export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function buildManifest(root: string, files: readonly string[], name: string, version: string): Manifest {
  const entries = files.filter((f) => !f.startsWith(`${RELEASE_DIR}/`)).sort();
  return { name, version, files: Object.fromEntries(entries.map((f) => [f, sha256File(join(root, f))])) };
}

/** Every file of the installed package, as the manifest names them. */
export function installedFiles(root: string): string[] {
  const out: string[] = PACKAGE_FILES.filter((f) => existsSync(join(root, f)));
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(root, path).split(sep).join('/'));
    }
  };
  for (const d of PACKAGE_DIRS) if (existsSync(join(root, d))) walk(join(root, d));
  return out.filter((f) => !f.startsWith(`${RELEASE_DIR}/`)).sort();
}

/**
 * Checks the installation at `root` against its signed manifest, with `publicKeyText` (a
 * minisign public key, from --key) or else the key pinned in the build.
 */
export function checkRelease(root: string = packageRoot(), publicKeyText?: string): ReleaseStatus {
  if (!existsSync(join(root, MANIFEST)) || !existsSync(join(root, MANIFEST_SIG))) {
    return { state: 'unsigned', reason: 'this copy of rso is not a signed release (no signed manifest)' };
  }
  const bad = (reason: string, keyId: string | null = null): ReleaseStatus => ({ state: 'bad', keyId, reason, changed: [], missing: [], extra: [] });
  let keyText = publicKeyText;
  if (keyText === undefined) {
    if (!existsSync(join(root, PINNED_KEY))) return bad('no public key is pinned in this build; pass --key');
    keyText = readFileSync(join(root, PINNED_KEY), 'utf8');
  }
  let key;
  let sig;
  try {
    key = parsePublicKey(keyText);
    sig = parseSignature(readFileSync(join(root, MANIFEST_SIG), 'utf8'));
  } catch (err) {
    return bad((err as Error).message);
  }
  const manifestBytes = readFileSync(join(root, MANIFEST));
  const why = verifyData(key, manifestBytes, sig);
  const keyId = keyIdHex(key.keyId);
  if (why !== null) return bad(`the manifest's signature is not valid: ${why}`, keyId);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  } catch {
    return bad('the signed manifest is not JSON', keyId);
  }
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [file, hash] of Object.entries(manifest.files)) {
    if (!existsSync(join(root, file))) missing.push(file);
    else if (sha256File(join(root, file)) !== hash) changed.push(file);
  }
  const extra = installedFiles(root).filter((f) => !(f in manifest.files));
  if (changed.length + missing.length + extra.length > 0) {
    return { state: 'bad', keyId, reason: 'files differ from the signed release', changed, missing, extra };
  }
  return { state: 'signed', keyId, version: manifest.version, files: Object.keys(manifest.files).length, trustedComment: sig.trustedComment };
}

/** One line for people: what `rso share` shows under its panel. */
export function describeRelease(s: ReleaseStatus): string {
  switch (s.state) {
    case 'signed':
      return `release signed by ${s.keyId} (rso ${s.version}, ${s.files} files checked)`;
    case 'unsigned':
      return `warning: ${s.reason}`;
    case 'bad': {
      const n = s.changed.length + s.missing.length + s.extra.length;
      return `WARNING: this copy of rso failed its release check: ${s.reason}${n > 0 ? ` (${n} file${n === 1 ? '' : 's'})` : ''}; run rso verify`;
    }
  }
}
