// `rso connect` when it cannot show anything: missing sign-in, a malformed, unknown, wrong or
// expired number, no terminal, a customer who declines. Each ends with one sentence and its
// code, a non-zero exit, no stack trace, and the terminal as it was: for the errors found before
// the viewer takes the terminal, the pane's byte recording holds no escape sequence at all.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { openSession } from '../src/client/session.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { TestCustomer } from './helpers/customer.js';
import { TmuxPane, hasTmux } from './helpers/pty.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'agent', 'viewer.js'));
const skip = !hasTmux() ? 'tmux not installed' : !built ? 'run `npx tsc -p tsconfig.build.json` first' : false;

function emptyConfig(): string {
  return mkdtempSync(join(tmpdir(), 'rso-cfg-'));
}

async function finish(pane: TmuxPane): Promise<{ lines: string[]; status: number; bytes: string; pane: TmuxPane }> {
  const screen = await pane.waitForText(/^EXIT=\S+$/m, 20_000);
  const text = screen.join('\n');
  const status = Number(/^EXIT=(\S+)$/m.exec(text)![1]);
  const start = screen.findIndex((l) => /bin\/rso\.js connect/.test(l));
  const end = screen.findIndex((l) => /^EXIT=/.test(l));
  return { lines: screen.slice(start + 1, end).filter((l) => l !== ''), status, bytes: pane.recorded(), pane };
}

// Through bash, so the status printed is rso's own.
function bashLine(args: string): string {
  return `bash -c 'node bin/rso.js connect ${args}; echo EXIT=$?'`;
}

async function runDirect(env: Record<string, string>, args: string, t: { teardown(fn: () => void): void }) {
  const pane = TmuxPane.start({ cols: 200, rows: 30, cwd: root, env: { XDG_CONFIG_HOME: emptyConfig(), TERM: 'xterm-256color', ...env } });
  t.teardown(() => pane.kill());
  pane.run('clear');
  await pane.waitFor((l) => /^[#$] ?$/.test(l[0] ?? ''), 'a clear screen');
  pane.record();
  pane.run(bashLine(args));
  return finish(pane);
}

function oneSentence(t: Test, lines: string[], code: string): void {
  t.equal(lines.length, 1, `one line: ${JSON.stringify(lines)}`);
  t.match(lines[0], new RegExp(`^rso: \\S.*[.] \\(${code}\\)$`), 'one sentence and the code');
}

function untouched(t: Test, r: { bytes: string; pane: TmuxPane }): void {
  // The recording holds what the shell echoed and what rso printed: no escape sequence at all
  // means no raw mode query, no alternate screen, no cursor change ever reached the terminal.
  const escapes = r.bytes.replace(/\x1b\[\?2004[hl]/g, '').match(/\x1b/g) ?? [];
  t.equal(escapes.length, 0, 'no escape sequence was written');
  t.same(r.pane.modes(), { alternate: false, cursorVisible: true });
}

t.test('missing sign-in', { skip }, async (t) => {
  const r = await runDirect({}, '', t);
  t.equal(r.status, 4);
  oneSentence(t, r.lines, 'RSO_ERR_NOT_LOGGED_IN');
  t.match(r.lines[0], /rso login/);
  untouched(t, r);
});

t.test('a malformed number and a bad --graphics', { skip }, async (t) => {
  const bad = await runDirect({ RSO_RELAY: 'ws://127.0.0.1:9', RSO_TOKEN: 'x'.repeat(20) }, '12345', t);
  t.equal(bad.status, 2);
  oneSentence(t, bad.lines, 'RSO_ERR_BAD_NUMBER');
  untouched(t, bad);
  const gfx = await runDirect({ RSO_RELAY: 'ws://127.0.0.1:9', RSO_TOKEN: 'x'.repeat(20) }, '--graphics vga', t);
  t.equal(gfx.status, 2);
  oneSentence(t, gfx.lines, 'RSO_ERR_USAGE');
});

t.test('numbers the relay does not know, wrong secrets, expired numbers', { skip }, async (t) => {
  const relay = await relayWithAgent();
  // A relay that keeps numbers for one second, for the expired one.
  const quick = await relayWithAgent(['--code-ttl', '1']);
  t.teardown(async () => {
    await relay.stop();
    await quick.stop();
  });
  const env = { RSO_RELAY: relay.url, RSO_TOKEN: relay.token };

  // Typed with spaces, as read over the phone: one number, not three arguments.
  const unknown = await runDirect(env, '999 123 456', t);
  t.equal(unknown.status, 3);
  oneSentence(t, unknown.lines, 'RSO_ERR_UNKNOWN_NUMBER');
  untouched(t, unknown);

  // A customer waits with a number; the engineer mistypes its secret part.
  let digits = '';
  // The customer keeps waiting for a right attempt (up to three); the test stops it at the end.
  const stopCustomer = new AbortController();
  t.teardown(() => stopCustomer.abort());
  const customerSide = openSession({ relay: relay.url, role: 'customer', signal: stopCustomer.signal, onOpened: (n) => (digits = `${n.nameplate}${n.secret}`) }).catch((e: unknown) => e);
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      if (digits) {
        clearInterval(iv);
        resolve();
      }
    }, 20);
  });
  const wrongSecret = digits.slice(0, 3) + String((Number(digits.slice(3)) + 1) % 1_000_000).padStart(6, '0');
  const wrong = await runDirect(env, wrongSecret, t);
  t.equal(wrong.status, 3);
  oneSentence(t, wrong.lines, 'RSO_ERR_WRONG_CODE');
  untouched(t, wrong);
  t.notMatch(wrong.bytes, new RegExp(wrongSecret.slice(3) + '[^\\n]*\\(RSO'), 'the error does not repeat the digits');
  stopCustomer.abort();
  await customerSide;

  // A number that waited longer than the relay keeps it (--code-ttl 1).
  let late = '';
  const stopLate = new AbortController();
  t.teardown(() => stopLate.abort());
  const lateOpen = openSession({ relay: quick.url, role: 'customer', signal: stopLate.signal, onOpened: (n) => (late = `${n.nameplate}${n.secret}`) }).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 2500));
  t.ok(late, 'the customer had a number');
  const expired = await runDirect({ RSO_RELAY: quick.url, RSO_TOKEN: quick.token }, late, t);
  t.equal(expired.status, 3);
  oneSentence(t, expired.lines, 'RSO_ERR_(EXPIRED|UNKNOWN_NUMBER)');
  untouched(t, expired);
  stopLate.abort();
  await lateOpen;
});

t.test('the number the engineer shows expires before anyone joins', { skip }, async (t) => {
  const relay = await relayWithAgent(['--code-ttl', '2']);
  t.teardown(() => relay.stop());
  const r = await runDirect({ RSO_RELAY: relay.url, RSO_TOKEN: relay.token }, '--graphics blocks', t);
  t.equal(r.status, 3);
  oneSentence(t, r.lines, 'RSO_ERR_EXPIRED');
  t.same(r.pane.modes(), { alternate: false, cursorVisible: true }, 'terminal restored');
  t.match(r.bytes, /\x1b\[\?1049h/, 'the viewer had shown the number');
  t.match(r.bytes, /\x1b\[\?2004h[^]*\x1b\[\?2004l/, 'bracketed paste on while the viewer ran, off when it left');
});

t.test('the customer declines to show their screen', { skip }, async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const pane = TmuxPane.start({ cols: 200, rows: 30, cwd: root, env: { XDG_CONFIG_HOME: emptyConfig(), TERM: 'xterm-256color', RSO_RELAY: relay.url, RSO_TOKEN: relay.token } });
  t.teardown(() => pane.kill());
  let digits = '';
  const customerP = TestCustomer.open(relay.url, (d) => (digits = d), { answerView: 'decline' });
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => digits && (clearInterval(iv), resolve()), 20);
  });
  pane.run(bashLine(`--graphics blocks ${digits}`));
  const customer = await customerP;
  await pane.waitForText(/CONNECTED/);
  pane.keys('v');
  const r = await finish(pane);
  t.equal(r.status, 7);
  oneSentence(t, r.lines, 'RSO_ERR_DECLINED');
  t.match(r.lines[0], /declined to show their screen/);
  t.same(pane.modes(), { alternate: false, cursorVisible: true }, 'terminal restored');
  await customer.until(() => customer.closeInfo !== undefined, 'the session to end');
  t.equal(customer.closeInfo?.by, 'peer', 'the viewer said goodbye properly');
});

t.test('no terminal: refused before connecting', { skip: built ? false : 'not built' }, async (t) => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'rso.js'), 'connect', '123456789'], {
    encoding: 'utf8',
    env: { ...process.env, RSO_RELAY: 'ws://127.0.0.1:9', RSO_TOKEN: 'x'.repeat(20) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.equal(r.status, 2);
  t.match(r.stderr, /^rso: rso connect needs a terminal.*\(RSO_ERR_USAGE\)\n$/);
  t.equal(r.stdout, '');
});
