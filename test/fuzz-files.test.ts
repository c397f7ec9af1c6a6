// Fuzz of the two files rso reads that a person (or a broken disk) may have edited: the agent's
// sign-in file (src/cli/config.ts, it holds the token) and the relay's agents.json
// (src/relay/accounts.ts). Bad content must give RSO_ERR_CONFIG and never quote the file,
// since the file holds a token (or token hashes).
import t from 'tap';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig, readStoredConfig } from '../src/cli/config.js';
import { readAccounts } from '../src/relay/accounts.js';
import { RsoError } from '../src/errors.js';
import { assertReport, fuzz, mutateJsonText, type Rng } from './helpers/fuzz.js';

// A memory file system when there is one: 200,000 rewrites of a file on a real disk cost minutes.
const scratch = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

// Each input is one write and one read of a real file (~0.15 ms, against ~0.03 ms for the
// in-memory parsers), so the normal run takes 25,000 per file; FUZZ_FULL=1 runs the 100,000.
const COUNT = process.env.FUZZ_FULL ? 100_000 : 25_000;

const TOKEN = 'Zq8xTOKENsecretVALUE_123-abc';
const HASH = 'ab'.repeat(32);

/** Fails the input if an error carries a piece of the secret the file holds. */
function noLeak<T>(secret: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RsoError && (`${err.message} ${err.detail ?? ''}`.includes(secret.slice(4, 14)))) {
      throw new Error('the error quotes the secret from the file');
    }
    throw err;
  }
}

t.test('sign-in file (config.json)', async (t) => {
  const home = mkdtempSync(join(scratch, 'rso-fuzz-config-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, 'rso'), { recursive: true });
  const file = join(home, 'rso', 'config.json');
  const env = { XDG_CONFIG_HOME: home, HOME: home };
  const seeds = [JSON.stringify({ relay: 'wss://relay.example.org', token: TOKEN }), JSON.stringify({ relay: 'wss://r', token: TOKEN, theme: 'dark' }, null, 2)];
  const r = await fuzz({
    name: 'config file',
    count: COUNT,
    seed: 0xf11e,
    generate: (rng: Rng) => (rng.int(10) === 0 ? rng.pick(seeds) : mutateJsonText(rng, rng.pick(seeds))),
    run: (text) => {
      writeFileSync(file, text);
      return noLeak(TOKEN, () => {
        readStoredConfig(env);
        return loadAgentConfig(env);
      });
    },
    codes: ['RSO_ERR_CONFIG', 'RSO_ERR_NOT_LOGGED_IN', 'RSO_ERR_UNAUTHORIZED'],
    check: (_text, result) => {
      const c = result as ReturnType<typeof loadAgentConfig>;
      if (typeof c.relay !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(c.token)) throw new Error('a malformed sign-in was accepted');
    },
  });
  assertReport(t, r, { minAccepted: COUNT / 20, minRejected: COUNT / 5 });
});

t.test('agents.json', async (t) => {
  const dir = mkdtempSync(join(scratch, 'rso-fuzz-accounts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'agents.json');
  const agent = (id: string) => ({ id, name: `Agent ${id}`, org: 'Example IT', tokenSha256: HASH, created: '2026-01-01T00:00:00.000Z' });
  const seeds = [JSON.stringify({ version: 1, agents: [agent('anna'), agent('bo')] }, null, 2), JSON.stringify({ version: 1, agents: [] })];
  const r = await fuzz({
    name: 'agents.json',
    count: COUNT,
    seed: 0xacc7,
    generate: (rng: Rng) => (rng.int(10) === 0 ? rng.pick(seeds) : mutateJsonText(rng, rng.pick(seeds))),
    run: (text) => {
      writeFileSync(file, text);
      return noLeak(HASH, () => readAccounts(dir));
    },
    codes: ['RSO_ERR_CONFIG'],
    check: (_text, result) => {
      const list = result as ReturnType<typeof readAccounts>;
      const ids = new Set(list.map((a) => a.id));
      if (ids.size !== list.length) throw new Error('duplicate ids accepted');
      for (const a of list) {
        if (!/^[0-9a-f]{64}$/.test(a.tokenSha256) || /[\u0000-\u001f\u007f-\u009f]/.test(a.name + a.org)) throw new Error('bad entry accepted');
      }
    },
  });
  assertReport(t, r, { minAccepted: COUNT / 20, minRejected: COUNT / 5 });
});
