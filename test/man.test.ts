// The manual is part of the product: every page lints clean and every error code the
// program can raise is documented, and nothing documented is missing from the program.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { ERROR_CODES } from '../src/errors.js';

const manDir = new URL('../man/', import.meta.url);
const pages = readdirSync(manDir).filter((f) => /\.\d$/.test(f));
const hasMandoc = spawnSync('mandoc', ['-V']).error === undefined;

t.test('man pages lint clean with mandoc', { skip: hasMandoc ? false : 'mandoc not installed (scripts/setup.sh installs it as root)' }, async (t) => {
  t.ok(pages.length >= 1);
  for (const page of pages) {
    const path = new URL(page, manDir).pathname;
    const out = spawnSync('mandoc', ['-Tlint', '-Wwarning', path], { encoding: 'utf8' });
    t.equal(out.status, 0, `${page}: ${out.stdout}${out.stderr}`);
  }
});

t.test('every error code is documented in rso(1), and only those', async (t) => {
  const text = readFileSync(new URL('rso.1', manDir), 'utf8');
  for (const code of Object.keys(ERROR_CODES)) t.match(text, `.It Er ${code}\n`, `${code} documented`);
  const documented = [...text.matchAll(/^\.It Er (RSO_ERR_[A-Z_]+)$/gm)].map((m) => m[1]);
  t.same(documented.sort(), Object.keys(ERROR_CODES).sort());
});

t.test('every exit status the program uses is listed in EXIT STATUS', async (t) => {
  const text = readFileSync(new URL('rso.1', manDir), 'utf8');
  const section = text.split('.Sh EXIT STATUS')[1]?.split('.Sh ')[0] ?? '';
  for (const { exit } of Object.values(ERROR_CODES)) t.match(section, `.It ${exit}\n`, `exit ${exit}`);
});

