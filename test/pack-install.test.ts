// The customer's one-liner, proved on this machine: `npm pack` makes a tarball holding only
// what runs; it installs into an empty folder with no compiler on PATH (make, gcc, g++, cc,
// c++, clang hidden), every native dependency loads from the binaries shipped in its package,
// and `npx rso --version` and `rso share --help` work. It also measures the time from typing
// `rso share` to its first screen in a real pty, and prints it (BENCHMARKS.md records it).
//
// npm runs with --offline: the packages come from the npm cache that `npm ci` filled (tests
// never reach a network address other than loopback).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnRelay } from './helpers/relay.js';
import { TmuxPane, hasTmux } from './helpers/pty.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
const COMPILERS = /^(make|gmake|gcc|g\+\+|cc|c\+\+|clang|clang\+\+|cpp|(x86_64|aarch64)-linux-gnu-(gcc|g\+\+|cpp)|(gcc|g\+\+|cpp)-\d+|(x86_64|aarch64)-linux-gnu-(gcc|g\+\+|cpp)-\d+)$/;

/** A folder of symlinks to every program on PATH except compilers and make. */
function pathWithoutCompilers(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (COMPILERS.test(n) || existsSync(join(dir, n))) continue;
      try {
        if (statSync(join(d, n)).isFile()) symlinkSync(join(d, n), join(dir, n));
      } catch {
        // A dangling link or an unreadable entry on PATH: not a program we can offer.
      }
    }
  }
  return dir;
}

t.test('npm pack: only what runs, installs without a compiler, starts', { skip: built ? false : 'run `npx tsc -p tsconfig.build.json` first', timeout: 120_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'rso-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // --ignore-scripts: no prepack rebuild of dist/ while other test files are using it.
  const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
  t.equal(packed.status, 0, packed.stderr);
  const info = (JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }>; size: number }>)[0]!;
  const files = info.files.map((f) => f.path);
  t.ok(files.includes('bin/rso.js') && files.includes('dist/cli/main.js') && files.includes('man/rso.1'), 'the program and the manual are in');
  const stray = files.filter((f) => !/^(bin\/|dist\/|man\/|release\/|package\.json$|README\.md$|LICENSE)/.test(f) || /\.test\.|\.map$|\.tsbuildinfo$/.test(f));
  t.same(stray, [], 'nothing but what runs: no sources, tests, source maps, docs or benchmarks');
  t.comment(`tarball: ${info.filename}, ${(info.size / 1024).toFixed(0)} KiB, ${files.length} files`);

  const bin = pathWithoutCompilers(join(work, 'bin'));
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false' };
  for (const c of ['make', 'gcc', 'g++', 'cc']) t.not(spawnSync('sh', ['-c', `command -v ${c}`], { env }).status, 0, `${c} is hidden`);
  const app = join(work, 'app');
  mkdirSync(app);
  const started = Date.now();
  const install = spawnSync('npm', ['install', '--offline', '--ignore-scripts=false', '--no-audit', '--no-fund', join(work, info.filename)], { cwd: app, env, encoding: 'utf8' });
  t.equal(install.status, 0, `npm install: ${install.stderr.slice(-2000)}`);
  t.comment(`npm install (offline, from the cache): ${Date.now() - started} ms`);

  const native = spawnSync('node', ['-e', "require('robotjs'); require('uiohook-napi'); console.log('loaded')"], { cwd: app, env, encoding: 'utf8' });
  t.match(native.stdout, /^loaded$/m, `native modules load from their prebuilt binaries: ${native.stderr}`);
  const version = spawnSync('npx', ['--offline', 'rso', '--version'], { cwd: app, env, encoding: 'utf8' });
  t.equal(version.status, 0, version.stderr);
  t.equal(version.stdout.trim(), JSON.parse(spawnSync('node', ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: root, encoding: 'utf8' }).stdout));
  const help = spawnSync(join(app, 'node_modules', '.bin', 'rso'), ['share', '--help'], { cwd: app, env, encoding: 'utf8' });
  t.equal(help.status, 0, help.stderr);
  t.match(help.stdout, /^Usage: rso share \[options\] \[number\]/);

  await t.test('time to the first screen of rso share', { skip: hasTmux() ? false : 'tmux not installed' }, async (t) => {
    const relay = await spawnRelay();
    t.teardown(() => relay.stop());
    for (const [label, cmd] of [
      ['installed rso share', `${join(app, 'node_modules', '.bin', 'rso')} share --relay ${relay.url}`],
      ['npx rso share', `npx --offline rso share --relay ${relay.url}`],
    ] as const) {
      const pane = TmuxPane.start({ cols: 100, rows: 30, cwd: app, env: { PATH: bin, TERM: 'xterm-256color' } });
      t.teardown(() => pane.kill());
      // The shell is up once it echoes something typed into it.
      pane.run('echo READY');
      await pane.waitForText(/^READY$/m, 5000);
      const t0 = Date.now();
      pane.run(`${cmd}; echo EXIT=$?`);
      await pane.waitFor((l) => /rso — remote support/.test(l.join('\n')), 'the first screen', 10_000);
      const ms = Date.now() - t0;
      t.comment(`${label}: first screen after ${ms} ms`);
      t.ok(ms < 10_000, `${label} shows its first screen`);
      await pane.waitForText(/Your session number/, 10_000);
      pane.keys('q');
      await pane.waitForText(/EXIT=\d+/, 10_000);
    }
  });
});
