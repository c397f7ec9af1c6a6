// TLS on the relay itself: certificates made here with openssl (a test CA and a server
// certificate for 127.0.0.1), real relay process, real clients over wss://.
import t from 'tap';
import { copyFileSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { connectRelay } from '../src/client/relay-connection.js';
import { addAgent, exchangeSessions, hasCommand, makeCerts, pairClients, runCli, spawnRelay } from './helpers/relay.js';

const skip = hasCommand('openssl', ['version']) ? false : 'needs openssl (scripts/setup.sh installs it)';

/** The certificate the relay presents right now, as a fingerprint. */
async function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(sock.getPeerX509Certificate()!.fingerprint256);
      sock.end();
    });
    sock.on('error', reject);
  });
}

t.test('wss://: pairing with the CA, refusal without it, rso login --ca and RSO_CA', { skip }, async (t) => {
  const certs = makeCerts();
  const relay = await spawnRelay(['--tls-cert', certs.certFile, '--tls-key', certs.keyFile]);
  t.teardown(async () => void (await relay.stop()));
  t.match(relay.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
  const token = await addAgent(relay.dataDir, 'anna', 'Anna', 'Acme');

  const s = await pairClients({ openerUrl: relay.url, openerRole: 'customer', token, ca: certs.ca });
  t.ok(await exchangeSessions(s.opener, s.joiner), 'data both ways over wss');
  t.equal(s.opener.relayName, `127.0.0.1:${relay.port}`);
  await s.opener.close();

  // The system CAs alone do not know the test CA.
  await t.rejects(connectRelay({ relay: relay.url, role: 'customer' }), { code: 'RSO_ERR_UNREACHABLE', message: /certificate/ }, 'no CA: refused');
  const wrong = makeCerts(undefined, 'other');
  await t.rejects(connectRelay({ relay: relay.url, role: 'customer', ca: wrong.ca }), { code: 'RSO_ERR_UNREACHABLE' }, 'another CA: refused');

  const home = makeCerts().dir; // any empty folder for the stored sign-in
  const env = { XDG_CONFIG_HOME: home, RSO_RELAY: '', RSO_TOKEN: '' };
  const without = runCli(['login', '--relay', relay.url, '--token', token], env);
  t.not(without.status, 0, 'rso login without --ca fails');
  t.match(without.stderr, /certificate/);
  const withFlag = runCli(['login', '--relay', relay.url, '--token', token, '--ca', certs.caFile], env);
  t.equal(withFlag.status, 0, withFlag.stderr);
  t.match(withFlag.stdout, /Signed in to wss:\/\/127\.0\.0\.1:\d+ as Anna \(Acme\)/);
  const withEnv = runCli(['login', '--relay', relay.url, '--token', token], { ...env, RSO_CA: certs.caFile });
  t.equal(withEnv.status, 0, `RSO_CA: ${withEnv.stderr}`);
  const notPem = runCli(['login', '--relay', relay.url, '--token', token, '--ca', certs.keyFile.replace(/\.key$/, '.csr')], env);
  t.equal(notPem.status, 2, 'a file that is not a certificate is a usage error');
});

t.test('SIGHUP reloads the certificate and keeps a live session', { skip }, async (t) => {
  const certs = makeCerts();
  const live = { cert: `${certs.dir}/live.pem`, key: `${certs.dir}/live.key` };
  copyFileSync(certs.certFile, live.cert);
  copyFileSync(certs.keyFile, live.key);
  const relay = await spawnRelay(['--open', '--tls-cert', live.cert, '--tls-key', live.key]);
  t.teardown(async () => void (await relay.stop()));
  const before = await presented(relay.port);
  t.equal(before, new X509Certificate(require_(certs.certFile)).fingerprint256);

  const s = await pairClients({ openerUrl: relay.url, openerRole: 'agent', ca: certs.ca });
  t.ok(await exchangeSessions(s.opener, s.joiner), 'before reload');

  const next = makeCerts(certs.dir, 'next');
  copyFileSync(next.certFile, live.cert);
  copyFileSync(next.keyFile, live.key);
  relay.proc.kill('SIGHUP');
  await waitFor(() => relay.logs.some((l) => l.includes('"tls-reloaded"')), 'tls-reloaded log');
  const after = await presented(relay.port);
  t.not(after, before, 'new connections get the new certificate');
  t.equal(after, new X509Certificate(require_(next.certFile)).fingerprint256);
  t.ok(await exchangeSessions(s.opener, s.joiner), 'the session opened before the reload still carries data');
  const again = await pairClients({ openerUrl: relay.url, openerRole: 'customer', ca: certs.ca });
  t.ok(await exchangeSessions(again.opener, again.joiner), 'a new session after the reload');

  // A broken pair on disk is refused and the good certificate stays.
  copyFileSync(certs.keyFile, live.key); // key of the first certificate, cert of the second
  relay.proc.kill('SIGHUP');
  await waitFor(() => relay.logs.some((l) => l.includes('"tls-reload-failed"')), 'tls-reload-failed log');
  t.equal(await presented(relay.port), after, 'still the last good certificate');
  t.ok(await exchangeSessions(s.opener, s.joiner), 'and the session still runs');
  await s.opener.close();
  await again.opener.close();
});

t.test('bad TLS options stop the relay before it listens', { skip }, async (t) => {
  const certs = makeCerts();
  const half = runCli(['relay', '--listen', '127.0.0.1:0', '--tls-cert', certs.certFile]);
  t.equal(half.status, 2);
  t.match(half.stderr, /--tls-cert and --tls-key go together/);
  const missing = runCli(['relay', '--listen', '127.0.0.1:0', '--tls-cert', certs.certFile, '--tls-key', `${certs.dir}/nope.key`]);
  t.equal(missing.status, 10);
  t.match(missing.stderr, /Could not read the TLS key/);
  const other = makeCerts(certs.dir, 'other');
  const mismatch = runCli(['relay', '--listen', '127.0.0.1:0', '--tls-cert', certs.certFile, '--tls-key', other.keyFile]);
  t.equal(mismatch.status, 10);
  t.match(mismatch.stderr, /do not form a usable pair/);
  t.notMatch(mismatch.stderr, /PRIVATE KEY/, 'no key material in the message');
});

function require_(file: string): string {
  return readFileSync(file, 'utf8');
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
