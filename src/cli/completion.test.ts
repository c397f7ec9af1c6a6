// The completion scripts are generated from the real program and tried in a real bash: what a
// person gets on Tab is what --help lists.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { buildProgram } from './main.js';
import { commandTree, completionScript } from './completion.js';

const program = buildProgram();
const bashScript = completionScript('bash', program);
const hasBash = spawnSync('bash', ['--version']).status === 0;

/** What bash offers for the command line `line` (the cursor at its end). */
function complete(line: string): string[] {
  const words = line.split(' ');
  const script = `${bashScript}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
_rso
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

t.test('the tree holds every command and flag of the program', async (t) => {
  const tree = commandTree(program);
  t.same(tree.commands.map((c) => c.name).sort(), program.commands.map((c) => c.name()).sort());
  const relay = tree.commands.find((c) => c.name === 'relay')!;
  t.same(relay.commands.find((c) => c.name === 'agent')!.commands.map((c) => c.name).sort(), ['add', 'list', 'remove']);
  const share = tree.commands.find((c) => c.name === 'share')!;
  t.same(share.options.find((o) => o.long === '--capture')?.choices, ['auto', 'x11', 'screenshot-desktop']);
  t.ok(share.options.some((o) => o.long === '--help'), '--help everywhere');
});

t.test('bash completes commands, nested commands, flags and choices', { skip: hasBash ? false : 'bash not installed' }, async (t) => {
  t.same(complete('rso '), [...program.commands.map((c) => c.name()), '--help', '--version', '-V', '-h'].sort());
  t.same(complete('rso re'), ['relay']);
  t.same(complete('rso relay agent '), ['--help', '-h', 'add', 'list', 'remove']);
  t.same(complete('rso relay agent list --j'), ['--json']);
  t.same(complete('rso share --capture '), ['auto', 'screenshot-desktop', 'x11']);
  t.same(complete('rso share --capture x'), ['x11']);
  t.same(complete('rso connect --gr'), ['--graphics']);
  t.same(complete('rso completion --h'), ['--help']);
  // A flag's value is not taken for a subcommand: `--data agent` stays in `relay`.
  t.same(complete('rso relay --open --code-t'), ['--code-ttl']);
});

t.test('zsh and fish scripts name every command and load where the shell exists', async (t) => {
  const zsh = completionScript('zsh', program);
  const fish = completionScript('fish', program);
  for (const c of program.commands) {
    t.match(zsh, `'${c.name()}'`);
    t.match(fish, `-a '${c.name()}'`);
  }
  t.match(fish, "-l capture -x -a 'auto x11 screenshot-desktop'");
  for (const [shell, text] of [['zsh', zsh], ['fish', fish]] as const) {
    if (spawnSync(shell, ['--version']).error !== undefined) continue;
    const r = spawnSync(shell, ['-n'], { input: text, encoding: 'utf8' });
    t.equal(r.status, 0, `${shell} -n: ${r.stderr}`);
  }
});
