// `rso connect --graphics blocks` in a real pty (tmux, 120x40) against a real relay and the test
// customer: the header goes through its states, the half-block picture shows the customer's
// colours and follows their changes, every way out restores the terminal, and the customer sees
// the session end.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relayWithAgent, type TestRelay } from './helpers/client-pairing.js';
import { STRIPES, TestCustomer, stripesScreen } from './helpers/customer.js';
import { TmuxPane, cellPixels, hasTmux, parseCells } from './helpers/pty.js';
import { HEADER_ROWS } from '../src/agent/ui/layout.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const built = existsSync(join(root, 'dist', 'agent', 'viewer.js'));
const skip = !hasTmux() ? 'tmux not installed' : !built ? 'run `npx tsc -p tsconfig.build.json` first' : false;

const COLS = 120;
const ROWS = 40;

function paneFor(relay: TestRelay): TmuxPane {
  return TmuxPane.start({
    cols: COLS,
    rows: ROWS,
    cwd: root,
    env: { RSO_RELAY: relay.url, RSO_TOKEN: relay.token, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'rso-cfg-')), TERM: 'xterm-256color' },
  });
}

/** The colours of the picture's pixel rows, read back from the pane's cells. */
function pictureRow(pane: TmuxPane, screenRow: number): Array<number | null> {
  const cells = parseCells(pane.styled()[screenRow] ?? '');
  return cells.map((c) => cellPixels(c)[0]);
}

function count(row: Array<number | null>, color: number): number {
  return row.filter((c) => c === color).length;
}

t.test('a full session with half-blocks', { skip }, async (t) => {
  const relay = await relayWithAgent();
  const pane = paneFor(relay);
  t.teardown(async () => {
    pane.kill();
    await relay.stop();
  });
  pane.run('echo BEFORE-MARKER');
  await pane.waitForText(/^BEFORE-MARKER$/m);
  pane.run('node bin/rso.js connect --graphics blocks; echo EXIT=$?');

  // Waiting: the number, big and plain, with the time left; the terminal is in the alternate screen.
  const waiting = await pane.waitForText(/Session number: (\d{3} \d{3} \d{3})/);
  const number = /Session number: (\d{3} \d{3} \d{3})/.exec(waiting.join('\n'))![1]!;
  t.match(waiting[0], /WAITING FOR CUSTOMER/);
  t.match(waiting.join('\n'), /expires in +\d+:\d\d/);
  t.match(waiting.join('\n'), /███/, 'the number in big digits');
  t.match(waiting.at(-2) ?? waiting.join('\n'), /q\s+end session/);
  t.same(pane.modes(), { alternate: true, cursorVisible: false }, 'alternate screen, cursor hidden');

  // The customer joins: connected, verification code, VIEW ONLY, nothing shared yet.
  const customer = await TestCustomer.join(relay.url, number.replace(/ /g, ''), { screen: stripesScreen(320, 200) });
  // The customer's info (host, OS) arrives just after pairing: wait for it, not only the state.
  const connected = await pane.waitForText(/CONNECTED.*not shared.*test-pc/);
  t.match(connected[0], new RegExp(`code ${customer.session.verificationCode}`), 'the same verification code as the customer');
  t.match(connected[0], /test-pc \(Debian GNU\/Linux 12\)/);
  t.match(connected[0], /VIEW ONLY/);
  t.match(connected.join('\n'), /has not shared their screen/);
  t.notMatch(connected.join('\n'), /Session number/, 'the spent number is gone');
  await customer.until(() => customer.lastReady !== undefined, 'the first ready');
  t.same(customer.lastReady, { type: 'ready', width: COLS, height: (ROWS - HEADER_ROWS - 1) * 2, seq: 0 }, 'ready asks for the half-block pixel size');

  // v asks to view; the customer agrees and shares; the stripes appear in their colours.
  pane.keys('v');
  await customer.until(() => customer.received.some((m) => m.type === 'request' && m.what === 'view'), 'the view request');
  await pane.waitForText(/shared: whole screen/);
  await customer.settled();
  const mid = HEADER_ROWS + 10;
  await pane.waitFor(() => STRIPES.every((c) => count(pictureRow(pane, mid), c) > 20), 'the four stripes in the picture');
  const row = pictureRow(pane, mid).filter((c) => c !== null);
  t.ok(row.length >= 100, 'the picture spans the width');
  // Left to right: red, green, blue, white (boundary cells may blend two stripes).
  const firsts = STRIPES.map((c) => row.indexOf(c));
  t.ok(firsts.every((v, i) => i === 0 || v > firsts[i - 1]!), `stripes in order (${firsts.join(',')})`);

  // The customer's screen changes: the top half turns yellow, the bottom half stays.
  customer.fill({ x: 0, y: 0, w: 320, h: 100 }, 0xffff00);
  await customer.settled();
  await pane.waitFor(() => count(pictureRow(pane, HEADER_ROWS + 2), 0xffff00) > 100, 'the yellow top half');
  t.ok(STRIPES.every((c) => count(pictureRow(pane, ROWS - 4), c) > 20), 'the bottom half still shows the stripes');
  t.same(pane.modes(), { alternate: true, cursorVisible: false });

  // The terminal shrinks: the viewer asks for the new size and the picture re-fits.
  pane.tmux(['resize-window', '-x', '100', '-y', '30']);
  await customer.until(() => customer.received.some((m) => m.type === 'ready' && m.width === 100), 'a ready with the new size');
  const resized = customer.received.find((m) => m.type === 'ready' && m.width === 100);
  t.match(resized, { type: 'ready', width: 100, height: (30 - HEADER_ROWS - 1) * 2 }, 'ready with the new pixel size');
  await customer.settled();
  await pane.waitFor(() => count(pictureRow(pane, 30 - 4), 0xff0000) > 10 && count(pictureRow(pane, HEADER_ROWS + 1), 0xffff00) > 80, 'the picture at the new size');
  const small = pane.text();
  t.match(small[0], /CONNECTED/, 'header intact');
  t.match(small[29], /q\s+end session/, 'footer on the new last row');
  t.equal(parseCells(pane.styled()[29] ?? '').filter((c) => c.ch === '\u2580').length, 0, 'no picture cell in the footer row');

  // q ends both sides and restores the terminal.
  pane.keys('q');
  const after = await pane.waitForText(/EXIT=\d+/);
  t.match(after.join('\n'), /You ended the session\.\nEXIT=0/);
  t.match(after.join('\n'), /BEFORE-MARKER/, 'the screen from before is back');
  t.same(pane.modes(), { alternate: false, cursorVisible: true }, 'main screen, cursor visible');
  await customer.until(() => customer.closeInfo !== undefined, 'the customer to see the end');
  t.equal(customer.closeInfo?.by, 'peer', 'the customer got the authenticated goodbye');
});

t.test('the customer ending, Ctrl-C, network loss and SIGTERM all restore the terminal', { skip }, async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());

  async function session(t: Test, name: string): Promise<{ pane: TmuxPane; customer: TestCustomer }> {
    const pane = paneFor(relay);
    t.teardown(() => pane.kill());
    pane.run(`echo ${name}; node bin/rso.js connect --graphics blocks; echo EXIT=$?`);
    const lines = await pane.waitForText(/Session number: (\d{3} \d{3} \d{3})/);
    const number = /Session number: (\d{3} \d{3} \d{3})/.exec(lines.join('\n'))![1]!.replace(/ /g, '');
    const customer = await TestCustomer.join(relay.url, number);
    customer.share();
    await pane.waitForText(/shared: whole screen/);
    await customer.settled();
    return { pane, customer };
  }

  const restored = (t: Test, pane: TmuxPane, name: string): void => {
    t.same(pane.modes(), { alternate: false, cursorVisible: true }, `${name}: terminal restored`);
    t.match(pane.text().join('\n'), new RegExp(`^${name}$`, 'm'), `${name}: earlier output visible again`);
  };

  await t.test('the customer ends', async (t) => {
    const { pane, customer } = await session(t, 'CUSTOMER-ENDS');
    customer.bye('user');
    await customer.close();
    const out = await pane.waitForText(/EXIT=\d+/);
    t.match(out.join('\n'), /The customer ended the session\.\nEXIT=0/);
    restored(t, pane, 'CUSTOMER-ENDS');
  });

  await t.test('Ctrl-C', async (t) => {
    const { pane, customer } = await session(t, 'CTRL-C');
    pane.keys('C-c');
    const out = await pane.waitForText(/EXIT=\d+/);
    t.match(out.join('\n'), /EXIT=0/);
    restored(t, pane, 'CTRL-C');
    await customer.until(() => customer.closeInfo !== undefined, 'the end');
    t.equal(customer.closeInfo?.by, 'peer');
  });

  await t.test('network loss', async (t) => {
    const { pane, customer } = await session(t, 'NET-LOSS');
    // The customer's connection dies without a goodbye: the relay tells the viewer.
    (customer.session as unknown as { conn: { abort(e: Error): void } }).conn.abort(new Error('cut'));
    const out = await pane.waitForText(/EXIT=\d+/);
    t.match(out.join('\n'), /rso: .*\(RSO_ERR_PEER_LEFT\)\nEXIT=7/);
    t.notMatch(out.join('\n'), /at .*\.js:\d+/, 'no stack trace');
    restored(t, pane, 'NET-LOSS');
  });

  await t.test('SIGTERM from outside', async (t) => {
    const { pane } = await session(t, 'SIGTERM');
    const pid = pane.tmux(['display', '-p', '#{pane_pid}']).trim();
    // The shell's child is the viewer.
    const { execSync } = await import('node:child_process');
    const child = execSync(`pgrep -P ${pid} -f "bin/rso.js connect"`, { encoding: 'utf8' }).trim().split('\n')[0]!;
    process.kill(Number(child), 'SIGTERM');
    const out = await pane.waitForText(/EXIT=\d+/);
    t.match(out.join('\n'), /EXIT=143/);
    restored(t, pane, 'SIGTERM');
  });
});
