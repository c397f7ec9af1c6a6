// `rso relay` as admins script it: every flag in --help is in rso-relay(1) and has its
// RSO_RELAY_* variable; a bad flag value is one sentence and exit 2.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { runCli } from './helpers/relay.js';

const man = readFileSync(new URL('../man/rso-relay.1', import.meta.url), 'utf8');

t.test('every relay flag is documented and has an environment variable', async (t) => {
  const help = runCli(['relay', '--help']).stdout;
  const flags = [...help.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]!).filter((f) => f !== 'help');
  t.ok(flags.length >= 17, `found ${flags.length} flags`);
  for (const flag of flags) {
    t.match(man, new RegExp(`Fl -${flag}\\b`), `--${flag} in rso-relay(1)`);
    const env = `RSO_RELAY_${flag.toUpperCase().replace(/-/g, '_')}`;
    t.match(help.replace(/\s+/g, ' '), `env: ${env}`, `--${flag} reads ${env}`);
  }
  for (const cmd of ['sessions', 'end', 'agent']) t.match(help, new RegExp(`^ {2}${cmd}\\b`, 'm'), `${cmd} listed`);
});

t.test('bad values are refused before anything starts', async (t) => {
  for (const args of [
    ['--max-sessions', '-1'],
    ['--idle-timeout', 'soon'],
    ['--drain-timeout', '1.5'],
    ['--metrics', 'localhost'],
  ]) {
    const r = runCli(['relay', '--listen', '127.0.0.1:0', ...args]);
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.equal(r.stdout, '', 'nothing on stdout');
  }
  const env = runCli(['relay', '--listen', '127.0.0.1:0'], { RSO_RELAY_MAX_SESSIONS: 'many' });
  t.equal(env.status, 2, 'a bad RSO_RELAY_* value too');
  const noRedis = runCli(['relay', '--listen', '127.0.0.1:0', '--redis', 'redis://admin:hunter2@127.0.0.1:1']);
  t.equal(noRedis.status, 10, 'Redis unreachable at start: a configuration error');
  t.match(noRedis.stderr, /Could not reach Redis at 127\.0\.0\.1:1/);
  t.notMatch(noRedis.stderr + noRedis.stdout, 'hunter2', 'the Redis password is never printed');
});
