// `rso share` command line: mistakes are one plain sentence on stderr (no stack trace), checked
// before the panel or any connection; a well-formed number the relay does not know ends the
// panel with one sentence and the documented exit status.
import t from 'tap';
import { runCli } from './helpers/relay.js';
import { relayWithAgent } from './helpers/client-pairing.js';
import { startShare } from './helpers/tmux.js';

const noRelay = { RSO_RELAY: '' };

t.test('a wrong number is one plain sentence, and never echoed', async (t) => {
  const r = runCli(['share', '48291', '--relay', 'ws://127.0.0.1:9'], noRelay);
  t.equal(r.status, 2);
  t.equal(r.stderr, 'rso: A session number has 9 digits; this one has 5. (RSO_ERR_BAD_NUMBER)\n');
  t.notMatch(r.stderr, /at .*\.js/, 'no stack trace');
  const letters = runCli(['share', '482 913 7O5', '--relay', 'ws://127.0.0.1:9'], noRelay);
  t.equal(letters.status, 2);
  t.match(letters.stderr, /^rso: A session number has only digits; found "O"\. \(RSO_ERR_BAD_NUMBER\)\n$/);
  t.notMatch(letters.stderr, /482|913/, 'the digits are not repeated');
});

t.test('relay from --relay or RSO_RELAY; ws:// elsewhere needs --insecure; bad --share and --capture refused', async (t) => {
  const none = runCli(['share'], noRelay);
  t.equal(none.status, 2);
  t.match(none.stderr, /^rso: No relay given: pass --relay wss:\/\/HOST .* or set RSO_RELAY\. \(RSO_ERR_USAGE\)\n$/);
  const insecure = runCli(['share', '482913705'], { RSO_RELAY: 'ws://relay.example.com' });
  t.equal(insecure.status, 6);
  t.match(insecure.stderr, /RSO_ERR_INSECURE/);
  const share = runCli(['share', '--relay', 'ws://127.0.0.1:9', '--share', 'firefox'], noRelay);
  t.equal(share.status, 2);
  t.match(share.stderr, /"firefox" is not an application choice; write app:NAME/);
  const capture = runCli(['share', '--relay', 'ws://127.0.0.1:9', '--capture', 'magic'], noRelay);
  t.equal(capture.status, 2);
  t.match(capture.stderr, /RSO_ERR_USAGE/);
  const help = runCli(['share', '--help']);
  for (const flag of ['--relay', '--share', '--capture', '--display', '--monitor', '--insecure']) t.match(help.stdout, flag);
});

t.test('a number nobody opened: one sentence after the panel, exit 3', async (t) => {
  const relay = await relayWithAgent();
  t.teardown(() => relay.stop());
  const pane = startShare(['000 000 000'.replace(/0/g, '1'), '--relay', relay.url], {});
  t.teardown(() => pane.kill());
  t.equal(await pane.waitExit(), 3);
  const text = pane.text();
  t.match(text, 'rso: No session with this number is waiting on the relay. (RSO_ERR_UNKNOWN_NUMBER)');
  t.notMatch(text, /111 ?111/, 'the number is not echoed');
  t.notMatch(text, /at .*\.js:\d+/, 'no stack trace');
});
