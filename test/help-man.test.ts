// --help and the manual say the same thing: every flag each command's --help lists is in that
// command's man page, every subcommand is named there, and every flag a page mentions exists.
// Both sides come from the real program (buildProgram) and the real pages.
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';

const manDir = new URL('../man/', import.meta.url);

/** Which page documents a command, by its first word. */
function pageFor(path: string[]): string {
  const first = path[0];
  return first === 'relay' || first === 'share' || first === 'connect' ? `rso-${first}.1` : 'rso.1';
}

/**
 * Flags or commands a page's owner is still documenting (page -> 'command --flag'). The test
 * fails as soon as one of them is documented (take it off then) or a new one is left
 * undocumented, so this list can only shrink. Empty: everything is documented.
 */
const PENDING: Record<string, readonly string[]> = {};

function walk(cmd: Command, path: string[], out: Array<{ path: string[]; cmd: Command }>): Array<{ path: string[]; cmd: Command }> {
  out.push({ path, cmd });
  for (const sub of cmd.commands) walk(sub, [...path, sub.name()], out);
  return out;
}

const program = buildProgram();
const commands = walk(program, [], []);
const pageText = (page: string): string => readFileSync(new URL(page, manDir), 'utf8');

t.test('every flag in --help is in the command\'s man page', async (t) => {
  const missing = new Map<string, string[]>();
  for (const { path, cmd } of commands) {
    const page = pageFor(path);
    const text = pageText(page);
    for (const o of cmd.options) {
      const flag = o.long ?? o.short!;
      if (!new RegExp(`Fl ${flag.slice(1).replace(/[-]/g, '\\-')}\\b`).test(text)) {
        missing.set(page, [...(missing.get(page) ?? []), `${path.join(' ') || 'rso'} ${flag}`]);
      }
    }
    // Subcommands by name (`Cm agent add`, `Cm sessions`).
    if (path.length > 0 && !new RegExp(`Cm (?:[a-z ]+ )?${path.at(-1)}\\b`).test(text)) {
      missing.set(page, [...(missing.get(page) ?? []), path.join(' ')]);
    }
  }
  for (const page of ['rso.1', 'rso-relay.1', 'rso-share.1', 'rso-connect.1']) {
    t.same((missing.get(page) ?? []).sort(), [...(PENDING[page] ?? [])].sort(), `${page}: undocumented flags and commands`);
  }
});

t.test('every flag a man page mentions exists in the program', async (t) => {
  const flags = new Set(commands.flatMap(({ cmd }) => cmd.options.flatMap((o) => [o.long, o.short])).filter((f): f is string => f !== undefined));
  flags.add('--help').add('-h');
  for (const page of ['rso.1', 'rso-relay.1', 'rso-share.1', 'rso-connect.1']) {
    const mentioned = [...pageText(page).matchAll(/Fl (-[A-Za-z][-A-Za-z0-9]*)/g)].map((m) => `-${m[1]}`);
    t.same(mentioned.filter((f) => !flags.has(f)), [], `${page}: flags that do not exist`);
  }
});

t.test('every top-level command is in rso(1)\'s synopsis', async (t) => {
  const synopsis = pageText('rso.1').split('.Sh SYNOPSIS')[1]!.split('.Sh ')[0]!;
  for (const c of program.commands) t.match(synopsis, new RegExp(`^\\.Cm ${c.name()}\\b`, 'm'), c.name());
});

/** Sections each page must have; PENDING_SECTIONS lists what the pages' owners have yet to write. */
const REQUIRED_SECTIONS = ['SYNOPSIS', 'DESCRIPTION', 'ENVIRONMENT', 'EXIT STATUS', 'EXAMPLES', 'SECURITY', 'SEE ALSO'];
const PENDING_SECTIONS: Record<string, readonly string[]> = {
};

t.test('every page has the sections a complete page needs', async (t) => {
  for (const page of ['rso.1', 'rso-relay.1', 'rso-share.1', 'rso-connect.1']) {
    const have = new Set([...pageText(page).matchAll(/^\.Sh (.+)$/gm)].map((m) => m[1]));
    t.same(REQUIRED_SECTIONS.filter((s) => !have.has(s)), PENDING_SECTIONS[page] ?? [], `${page}: missing sections`);
  }
});
