// What an admin sees of a running relay: the audit trail, Prometheus metrics, the admin socket
// (rso relay sessions / end), and that no file the relay writes holds a secret digit or token.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient, addAgent, exchangeSessions, pairClients, runCli, spawnRelay, waitLog } from './helpers/relay.js';

type Sample = { name: string; labels: string; value: number };

/** Prometheus text format -> samples (enough for our own metrics). */
function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

function metric(samples: Sample[], name: string, labels = ''): number | undefined {
  return samples.find((s) => s.name === name && s.labels === labels)?.value;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`metrics: ${res.status}`);
  return parseProm(await res.text());
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    const st = statSync(p);
    return st.isDirectory() ? filesUnder(p) : st.isFile() ? [p] : [];
  });
}

t.test('audit, metrics, admin socket; no secret in anything the relay writes', async (t) => {
  const auditDir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'rso-audit-'));
  const auditFile = join(auditDir, 'audit.jsonl');
  const relay = await spawnRelay(['--audit', auditFile, '--metrics', '127.0.0.1:0', '--join-rate', '5']);
  t.teardown(async () => void (await relay.stop()));
  const started = await waitLog(relay, 'started');
  const metricsUrl = started.metrics as string;
  t.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const token = await addAgent(relay.dataDir, 'anna', 'Anna', 'Acme');

  // A real session with real secrets: customer opens, agent joins.
  const s = await pairClients({ openerUrl: relay.url, openerRole: 'customer', token });
  t.ok(await exchangeSessions(s.opener, s.joiner, 4, 100_000), 'data both ways');
  const secret = s.number.secret;
  const fullNumber = `${s.number.nameplate}${secret}`;

  // Wrong codes until the number burns, by the raw protocol (the relay only sees keyed:false).
  const burner = await RawClient.connect(relay.url);
  await burner.hello('agent', token);
  burner.send({ type: 'open' });
  const { nameplate: burnt } = (await burner.next()) as unknown as { nameplate: string };
  for (let i = 0; i < 3; i++) {
    const j = await RawClient.connect(relay.url);
    await j.hello('customer');
    j.send({ type: 'join', nameplate: burnt });
    await j.next();
    burner.send({ type: 'keyed', ok: false });
    await j.closed;
  }
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) {
    const msg = await burner.next();
    seen.push(msg.type === 'peer-left' ? `peer-left ${String(msg.reason)}` : msg.type === 'error' ? String(msg.code) : msg.type);
  }
  t.same(seen, ['paired', 'peer-left wrong-code', 'paired', 'peer-left wrong-code', 'paired', 'RSO_ERR_BURNT']);
  // Joins from another address beyond --join-rate 5.
  for (let i = 0; i < 6; i++) {
    const j = await RawClient.connect(relay.url, { localAddress: '127.0.0.2' });
    await j.hello('customer');
    j.send({ type: 'join', nameplate: '999999' });
    await j.next();
  }

  const m = await scrape(metricsUrl);
  t.equal(metric(m, 'rso_relay_sessions_paired'), 1, 'paired sessions');
  t.equal(metric(m, 'rso_relay_sessions_pending'), 0, 'pending sessions');
  t.equal(metric(m, 'rso_relay_connections'), 2, 'connections');
  t.ok(metric(m, 'rso_relay_forwarded_bytes_total')! > 800_000, 'bytes forwarded');
  t.equal(metric(m, 'rso_relay_pairing_failures_total'), 3, 'pairing failures');
  t.equal(metric(m, 'rso_relay_burnt_numbers_total'), 1, 'burnt numbers');
  t.equal(metric(m, 'rso_relay_throttled_joins_total'), 1, 'throttled joins');
  t.equal(metric(m, 'rso_relay_errors_total', '{code="RSO_ERR_UNKNOWN_NUMBER"}'), 5, 'errors by code');
  t.ok(metric(m, 'rso_relay_forward_latency_seconds_count')! >= 8, 'latency histogram counts frames');
  t.ok(metric(m, 'rso_relay_forward_latency_seconds_bucket', '{le="+Inf"}')! >= 8);
  t.ok(metric(m, 'process_cpu_seconds_total')! > 0, 'process metrics');
  t.ok(metric(m, 'nodejs_heap_size_used_bytes')! > 0);
  t.equal((await fetch(metricsUrl.replace('/metrics', '/'))).status, 404, 'only /metrics');
  t.equal((await fetch(`http://127.0.0.1:${relay.port}/metrics`)).status, 404, 'not on the public port');

  // Admin socket: 0600, sessions as JSON and as a table, end by id.
  t.equal(statSync(join(relay.dataDir, 'admin.sock')).mode & 0o777, 0o600, 'admin socket is 0600');
  const list = runCli(['relay', 'sessions', '--json', '--data', relay.dataDir]);
  t.equal(list.status, 0, list.stderr);
  const sessions = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
  t.equal(sessions.length, 1);
  t.match(sessions[0], { nameplate: s.number.nameplate, phase: 'established', openedBy: 'customer', agent: 'anna', verified: true, customerAddress: /127\.0\.0\.1/ });
  t.ok((sessions[0]!.bytesAgentToCustomer as number) >= 400_000 && (sessions[0]!.bytesCustomerToAgent as number) >= 400_000, 'byte counts each way');
  const table = runCli(['relay', 'sessions', '--data', relay.dataDir]);
  t.match(table.stdout, /^ID +NUMBER +STATE +OPENED BY +AGENT +CUSTOMER ADDRESS +AGE +BYTES A>C +BYTES C>A\n/);
  t.match(table.stdout, new RegExp(`${sessions[0]!.id as string} +${s.number.nameplate}\\.\\.\\. +established +customer +anna`));
  const unknown = runCli(['relay', 'end', 'abcdef', '--data', relay.dataDir]);
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /No session abcdef/);
  const closedA = new Promise((r) => s.opener.onClose(r));
  const closedB = new Promise((r) => s.joiner.onClose(r));
  const end = runCli(['relay', 'end', sessions[0]!.id as string, '--data', relay.dataDir]);
  t.equal(end.status, 0, end.stderr);
  t.match(await closedA, { by: 'relay', error: { code: 'RSO_ERR_PEER_LEFT', message: /relay ended/ } }, 'the customer hears the relay ended it');
  await closedB;
  t.same(JSON.parse(runCli(['relay', 'sessions', '--json', '--data', relay.dataDir]).stdout), []);
  const noRelay = runCli(['relay', 'sessions', '--data', auditDir]);
  t.equal(noRelay.status, 6, 'no relay on that folder');
  t.match(noRelay.stderr, /no relay is running with this --data/);

  // The audit trail.
  const lines = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const mine = lines.filter((l) => l.session === sessions[0]!.id);
  t.match(mine, [
    { event: 'opened', nameplate: s.number.nameplate, openedBy: 'customer', address: /127\.0\.0\.1/, time: String },
    { event: 'paired', nameplate: s.number.nameplate, agent: 'anna', verified: true, attempt: 1, customerAddress: /127\.0\.0\.1/ },
    { event: 'ended', reason: 'admin', by: 'admin', established: true, durationMs: Number },
  ]);
  t.ok((mine[2]!.bytesAgentToCustomer as number) >= 400_000 && (mine[2]!.bytesCustomerToAgent as number) >= 400_000, 'bytes each way in ended');
  t.match(lines.find((l) => l.nameplate === burnt && l.event === 'ended'), { reason: 'burnt', by: 'relay', established: false });
  t.equal(statSync(auditFile).mode & 0o777, 0o600, 'audit file is 0600');

  // No secret digit, number or token anywhere the relay wrote.
  await relay.stop();
  const written = [
    { name: 'stdout', text: relay.logs.join('\n') },
    { name: 'stderr', text: relay.stderr() },
    ...[...filesUnder(relay.dataDir).filter((f) => !f.endsWith('.sock')), auditFile].map((f) => ({ name: f, text: readFileSync(f, 'utf8') })),
  ];
  for (const w of written) {
    t.notOk(w.text.includes(fullNumber), `${w.name}: no session number`);
    t.notOk(new RegExp(`(^|[^0-9])${secret}([^0-9]|$)`).test(w.text), `${w.name}: no secret digits`);
    t.notOk(w.text.includes(token), `${w.name}: no token`);
  }
  t.ok(written.some((w) => w.text.includes(s.number.nameplate)), 'the nameplate itself is recorded (it is not secret)');
});
