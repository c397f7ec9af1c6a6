// Signed releases end to end with a throwaway key: keygen, sign (manifest + tarball), Debian's
// `minisign -V` accepts the tarball's signature and rejects a tampered tarball, the installed
// package passes `rso verify` (pinned key and --key), and a changed, removed or added file, or
// another key, fails it; `rso share` shows who signed the release.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnRelay } from './helpers/relay.js';
import { TmuxPane, hasTmux } from './helpers/pty.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
const hasMinisign = spawnSync('minisign', ['-v']).error === undefined;
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function sh(cmd: string, args: string[], cwd = root): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('sign, check with minisign, install, verify, tamper', { skip: built ? false : 'run `npx tsc -p tsconfig.build.json` first', timeout: 120_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'rso-release-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  // A copy of the package to sign, so the shared dist/ is never touched by the test.
  const packed = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work]);
  t.equal(packed.status, 0, packed.stderr);
  const unsigned = (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename;
  mkdirSync(join(work, 'src'));
  t.equal(sh('tar', ['xzf', join(work, unsigned), '-C', join(work, 'src')]).status, 0);
  rmSync(join(work, unsigned));
  const pkgDir = join(work, 'src', 'package');

  const keygen = sh(tsx, [join(root, 'scripts', 'keygen.ts'), '--out', join(work, 'keys')]);
  t.equal(keygen.status, 0, keygen.stderr);
  const keyId = /^key ([0-9A-F]{16})$/m.exec(keygen.stdout)![1]!;
  const pub = join(work, 'keys', 'rso-release.pub');
  t.match(readFileSync(pub, 'utf8'), new RegExp(`^untrusted comment: minisign public key ${keyId}\n`));
  t.equal(sh(tsx, [join(root, 'scripts', 'keygen.ts'), '--out', join(work, 'keys')]).status, 2, 'keygen never overwrites a key');

  const signed = sh(tsx, [join(root, 'scripts', 'sign.ts'), '--key', join(work, 'keys', 'rso-release.key'), '--package-dir', pkgDir, '--out', join(work, 'out'), '--no-build']);
  t.equal(signed.status, 0, signed.stderr);
  const tgz = join(work, 'out', unsigned);
  t.ok(existsSync(tgz) && existsSync(`${tgz}.minisig`), `${unsigned} and ${unsigned}.minisig`);

  await t.test('Debian minisign accepts the signature and rejects a tampered tarball', { skip: hasMinisign ? false : 'minisign not installed (scripts/setup.sh installs it as root)' }, async (t) => {
    const ok = sh('minisign', ['-V', '-p', pub, '-m', tgz]);
    t.equal(ok.status, 0, ok.stderr);
    t.match(ok.stdout, /Signature and comment signature verified/);
    t.match(ok.stdout, new RegExp(`Trusted comment: timestamp:\\d+\\tfile:${unsigned.replace(/\./g, '\\.')}\\thashed`));
    const bad = join(work, 'tampered.tgz');
    const bytes = readFileSync(tgz);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 1;
    writeFileSync(bad, bytes);
    writeFileSync(`${bad}.minisig`, readFileSync(`${tgz}.minisig`));
    const rejected = sh('minisign', ['-V', '-p', pub, '-m', bad]);
    t.not(rejected.status, 0, 'tampered tarball rejected');
    t.match(rejected.stderr + rejected.stdout, /Signature verification failed/);
  });

  // The installation: the signed tarball unpacked, with the repository's node_modules.
  mkdirSync(join(work, 'inst'));
  t.equal(sh('tar', ['xzf', tgz, '-C', join(work, 'inst')]).status, 0);
  const inst = join(work, 'inst', 'package');
  symlinkSync(join(root, 'node_modules'), join(inst, 'node_modules'));
  const verify = (...args: string[]) => sh(process.execPath, [join(inst, 'bin', 'rso.js'), 'verify', ...args]);

  const good = verify('--json');
  t.equal(good.status, 0, good.stderr);
  t.match(JSON.parse(good.stdout), { state: 'signed', keyId, version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version });
  t.match(verify().stdout, new RegExp(`^release signed by ${keyId} `));
  t.equal(verify('--key', pub).status, 0, 'the same key given with --key');

  await t.test('rso share shows who signed the release', { skip: hasTmux() ? false : 'tmux not installed' }, async (t) => {
    const relay = await spawnRelay();
    t.teardown(() => relay.stop());
    const pane = TmuxPane.start({ cols: 110, rows: 30, cwd: inst, env: { TERM: 'xterm-256color' } });
    t.teardown(() => pane.kill());
    pane.run(`node bin/rso.js share --relay ${relay.url}; echo EXIT=$?`);
    await pane.waitForText(new RegExp(`release signed by ${keyId}`), 15_000);
    pane.keys('q');
    await pane.waitForText(/EXIT=\d+/);
  });

  // Another key: the signature is not from it.
  const other = join(work, 'other');
  t.equal(sh(tsx, [join(root, 'scripts', 'keygen.ts'), '--out', other]).status, 0);
  const wrongKey = verify('--json', '--key', join(other, 'rso-release.pub'));
  t.equal(wrongKey.status, 12);
  t.match(JSON.parse(wrongKey.stdout), { state: 'bad', reason: /not by/ });

  // A changed file.
  const target = join(inst, 'dist', 'cli', 'share.js');
  const original = readFileSync(target);
  appendFileSync(target, '\n// changed\n');
  const changed = verify('--json');
  t.equal(changed.status, 12, 'exit 12 (RSO_ERR_RELEASE)');
  t.match(JSON.parse(changed.stdout), { state: 'bad', changed: ['dist/cli/share.js'], missing: [], extra: [] });
  const human = verify();
  t.match(human.stdout, /failed its release check.*\n {2}changed: dist\/cli\/share\.js/);
  t.match(human.stderr, /\(RSO_ERR_RELEASE\)/);
  writeFileSync(target, original);
  t.equal(verify().status, 0, 'restored: good again');

  // A removed file and an added one.
  rmSync(join(inst, 'man', 'rso-share.1'));
  writeFileSync(join(inst, 'dist', 'evil.js'), 'export {};\n');
  t.match(JSON.parse(verify('--json').stdout), { state: 'bad', changed: [], missing: ['man/rso-share.1'], extra: ['dist/evil.js'] });

  // A changed manifest (to hide a change) breaks its signature.
  const manifestPath = join(inst, 'release', 'manifest.json');
  writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(/"version": "[^"]+"/, '"version": "9.9.9"'));
  t.match(JSON.parse(verify('--json').stdout), { state: 'bad', reason: /signature is not valid/ });
});

// The repository's own build is not a signed release (no release/ unless someone signed it).
const unsignedTree = built && !existsSync(join(root, 'release'));
t.test('a copy without a signed manifest says so', { skip: unsignedTree ? false : 'not built, or this tree was signed' }, async (t) => {
  const r = sh(process.execPath, [join(root, 'bin', 'rso.js'), 'verify', '--json']);
  t.equal(r.status, 12);
  t.match(JSON.parse(r.stdout), { state: 'unsigned' });
});
