// `rso login` / `rso logout` through the real CLI (bin/rso.js, built) against a real relay,
// with XDG_CONFIG_HOME in a temporary folder; and loadAgentConfig's precedence rules.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPath, loadAgentConfig, NOT_LOGGED_IN_TEXT } from '../src/cli/config.js';
import { AGENT, relayWithAgent } from './helpers/client-pairing.js';
import { runCli } from './helpers/relay.js';

const relay = await relayWithAgent();
t.teardown(() => relay.stop());

function freshHome(): { env: NodeJS.ProcessEnv; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rso-login-'));
  const env = { XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir, RSO_RELAY: '', RSO_TOKEN: '' };
  return { env, file: join(dir, 'config', 'rso', 'config.json') };
}

t.test('a good token is stored 0600 in a 0700 folder and the identity is printed', async (t) => {
  const { env, file } = freshHome();
  const r = runCli(['login', '--relay', relay.url, '--token', relay.token], env);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `Signed in to ${relay.url} as ${AGENT.name} (${AGENT.org}).\n`);
  t.notMatch(r.stdout + r.stderr, relay.token, 'the token is not printed');
  t.equal(configPath(env), file);
  t.same(JSON.parse(readFileSync(file, 'utf8')), { relay: relay.url, token: relay.token });
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.equal(statSync(join(file, '..')).mode & 0o777, 0o700);
  t.same(loadAgentConfig(env), { relay: relay.url, token: relay.token });

  const out = runCli(['logout'], env);
  t.equal(out.status, 0, out.stderr);
  t.equal(out.stdout, `Signed out of ${relay.url}.\n`);
  t.notOk('token' in JSON.parse(readFileSync(file, 'utf8')), 'the token is gone from the file');
  t.throws(() => loadAgentConfig(env), { code: 'RSO_ERR_NOT_LOGGED_IN', message: NOT_LOGGED_IN_TEXT });
  t.equal(runCli(['logout'], env).stdout, 'You were not signed in.\n');
});

t.test('a bad token: non-zero exit, the UNAUTHORIZED sentence, no file written', async (t) => {
  const { env, file } = freshHome();
  const r = runCli(['login', '--relay', relay.url, '--token', 'b'.repeat(32)], env);
  t.equal(r.status, 4);
  t.match(r.stderr, 'The relay did not accept this token: check it, or ask your relay admin for a new one. (RSO_ERR_UNAUTHORIZED)');
  t.notMatch(r.stderr, 'b'.repeat(32));
  t.equal(r.stdout, '');
  t.notOk(existsSync(file), 'nothing stored');
});

t.test('a malformed token or a remote ws:// relay is refused before connecting', async (t) => {
  const { env, file } = freshHome();
  const bad = runCli(['login', '--relay', relay.url, '--token', 'short'], env);
  t.equal(bad.status, 2);
  t.match(bad.stderr, 'RSO_ERR_USAGE');
  const insecure = runCli(['login', '--relay', 'ws://relay.example.invalid:8443', '--token', relay.token], env);
  t.equal(insecure.status, 6);
  t.match(insecure.stderr, 'RSO_ERR_INSECURE');
  t.notOk(existsSync(file));
});

t.test('loadAgentConfig: RSO_RELAY / RSO_TOKEN override the file; problems name the file', async (t) => {
  const { env, file } = freshHome();
  t.throws(() => loadAgentConfig(env), { code: 'RSO_ERR_NOT_LOGGED_IN' });
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify({ relay: 'wss://file.example.invalid', token: 'f'.repeat(20) }));
  t.same(loadAgentConfig(env), { relay: 'wss://file.example.invalid', token: 'f'.repeat(20) });
  t.same(loadAgentConfig({ ...env, RSO_TOKEN: 'e'.repeat(20) }), { relay: 'wss://file.example.invalid', token: 'e'.repeat(20) });
  t.same(loadAgentConfig({ ...env, RSO_RELAY: 'wss://env.example.invalid' }), { relay: 'wss://env.example.invalid', token: 'f'.repeat(20) });
  // Only the environment: no file needed at all.
  const bare = freshHome().env;
  t.same(loadAgentConfig({ ...bare, RSO_RELAY: 'wss://env.example.invalid', RSO_TOKEN: 'e'.repeat(20) }), { relay: 'wss://env.example.invalid', token: 'e'.repeat(20) });

  // A malformed token is caught before any connection, with a sentence instead of a protocol error.
  t.throws(() => loadAgentConfig({ ...env, RSO_TOKEN: 'x' }), { code: 'RSO_ERR_UNAUTHORIZED', message: /^RSO_TOKEN is not a token/ });

  writeFileSync(file, '{"relay": "wss://x", "token": "secret-looking-tok');
  const broken = (() => {
    try {
      loadAgentConfig(env);
    } catch (err) {
      return err as { code: string; message: string; detail?: string };
    }
    return undefined;
  })();
  t.equal(broken?.code, 'RSO_ERR_CONFIG');
  t.match(broken?.message, file, 'the message names the file');
  t.notMatch(`${broken?.message} ${broken?.detail}`, 'secret-looking-tok', 'the file content is not echoed');
  // A broken file does not stop a new login from fixing it.
  const r = runCli(['login', '--relay', relay.url, '--token', relay.token], env);
  t.equal(r.status, 0, r.stderr);
  t.same(loadAgentConfig(env), { relay: relay.url, token: relay.token });
});

t.test('the default location is ~/.config/rso/config.json; a relative XDG_CONFIG_HOME is ignored', async (t) => {
  t.equal(configPath({ HOME: '/home/anna' }), '/home/anna/.config/rso/config.json');
  t.equal(configPath({ HOME: '/home/anna', XDG_CONFIG_HOME: 'relative/dir' }), '/home/anna/.config/rso/config.json');
  t.equal(configPath({ HOME: '/home/anna', XDG_CONFIG_HOME: '/xdg' }), '/xdg/rso/config.json');
});
