// The router's table: which keys are the viewer's, which go to the customer, and the escape prefix.
import t from 'tap';
import { InputParser, type TermInput } from './parse.js';
import { INITIAL_ROUTE, route, type RouteContext, type RouteState, type ViewerCommand } from './route.js';
import type { InputEvent } from '../../protocol/app.js';
import type { PictureGeometry } from './pointer.js';

const geometry: PictureGeometry = { kind: 'sixel', placement: { row: 3, col: 0, cols: 80, rows: 30, cellWidth: 10, cellHeight: 20 }, frame: { width: 800, height: 600 }, screen: { width: 800, height: 600 } };
const on: RouteContext = { forwarding: true, geometry, pixels: false };
const off: RouteContext = { forwarding: false, geometry, pixels: false };

function run(bytes: string, ctx: RouteContext, start: RouteState = INITIAL_ROUTE): { state: RouteState; commands: ViewerCommand[]; events: InputEvent[] } {
  const p = new InputParser();
  const tokens: TermInput[] = [...p.feed(bytes), ...p.flush()];
  let state = start;
  const commands: ViewerCommand[] = [];
  const events: InputEvent[] = [];
  for (const tok of tokens) {
    const r = route(state, tok, ctx);
    state = r.state;
    commands.push(...r.commands);
    events.push(...r.events);
  }
  return { state, commands, events };
}

const tap = (key: string, mods: string[] = []) => [{ t: 'key', key, down: true, mods }, { t: 'key', key, down: false, mods }];

t.test('view only: keys are viewer commands and nothing is sent', async (t) => {
  const rows: Array<[string, string, ViewerCommand[]]> = [
    ['v asks to view', 'v', ['view']],
    ['c asks for control', 'c', ['control']],
    ['q ends', 'q', ['quit']],
    ['Ctrl-C ends', '\x03', ['interrupt']],
    ['other keys do nothing', 'xyz\r\x1b[A', []],
    ['the prefix works here too', '\x1dq', ['quit']],
    ['clicks do nothing', '\x1b[<0;10;10M', []],
    ['keys that arrive in one read are each a key', 'xyzc', ['control']],
    ['two commands in one read, in order', 'vq', ['view', 'quit']],
    ['after the prefix the rest of the read is read as keys again', '\x1dvxc', ['view', 'control']],
  ];
  for (const [name, bytes, want] of rows) {
    const r = run(bytes, off);
    t.same(r.commands, want, name);
    t.same(r.events, [], `${name}: nothing sent`);
  }
});

t.test('control on: keys go to the customer', async (t) => {
  const rows: Array<[string, string, unknown[]]> = [
    ['text with symbols and capitals', 'Hello World! <>?', [{ t: 'text', text: 'Hello World! <>?' }]],
    ['q, v and c are just letters', 'qvc', [{ t: 'text', text: 'qvc' }]],
    ['Ctrl-U', '\x15', tap('u', ['control'])],
    ['Ctrl-C goes to the customer', '\x03', tap('c', ['control'])],
    ['Enter and an arrow', '\r\x1b[B', [...tap('Return'), ...tap('Down')]],
    ['F12 is passed on (the daemon refuses it)', '\x1b[24~', tap('F12')],
    ['kitty press and release', '\x1b[117;5u\x1b[117;5:3u', [{ t: 'key', key: 'u', down: true, mods: ['control'] }, { t: 'key', key: 'u', down: false, mods: ['control'] }]],
    ['a release without its press is not sent', '\x1b[97;1:3u', []],
    ['click in the picture', '\x1b[<0;11;5M\x1b[<0;11;5m', [{ t: 'button', button: 'left', down: true, x: 105, y: 30 }, { t: 'button', button: 'left', down: false, x: 105, y: 30 }]],
    ['drag', '\x1b[<0;1;4M\x1b[<32;2;4M\x1b[<0;3;4m', [{ t: 'button', button: 'left', down: true, x: 5, y: 10 }, { t: 'move', x: 15, y: 10 }, { t: 'button', button: 'left', down: false, x: 25, y: 10 }]],
    ['wheel', '\x1b[<65;11;5M', [{ t: 'wheel', dx: 0, dy: 1, x: 105, y: 30 }]],
    ['a click on the header is dropped', '\x1b[<0;11;1M', []],
    ['a release outside goes where the pointer was', '\x1b[<0;11;5M\x1b[<0;11;1m', [{ t: 'button', button: 'left', down: true, x: 105, y: 30 }, { t: 'button', button: 'left', down: false, x: 105, y: 30 }]],
  ];
  for (const [name, bytes, want] of rows) {
    const r = run(bytes, on);
    t.same(r.events, want, name);
    t.same(r.commands, [], `${name}: no viewer command`);
  }
});

t.test('escape prefix while control is on', async (t) => {
  const rows: Array<[string, string, ViewerCommand[], unknown[]]> = [
    ['Ctrl-] q ends', '\x1dq', ['quit'], []],
    ['Ctrl-] v', '\x1dv', ['view'], []],
    ['Ctrl-] c steps back from control', '\x1dc', ['control'], []],
    ['Ctrl-] ] sends Ctrl-] itself', '\x1d]', [], tap('bracketright', ['control'])],
    ['Ctrl-] Ctrl-] too', '\x1d\x1d', [], tap('bracketright', ['control'])],
    ['Ctrl-] then another key cancels, and that key is not sent', '\x1dxa', [], [{ t: 'text', text: 'a' }]],
    ['Ctrl-] Ctrl-C does not end', '\x1d\x03', [], []],
    ['kitty: the releases of the prefix do not count as the command', '\x1b[93;5u\x1b[93;5:3u\x1b[113u', ['quit'], []],
  ];
  for (const [name, bytes, commands, events] of rows) {
    const r = run(bytes, on);
    t.same(r.commands, commands, name);
    t.same(r.events, events, `${name}: events`);
    t.equal(r.state.prefix, false, `${name}: prefix done`);
  }
  t.equal(run('\x1d', on).state.prefix, true, 'the prefix waits for the next key');
});

t.test('long text is split to the protocol limit', async (t) => {
  const r = run('x'.repeat(600), on);
  t.same(r.events.map((e) => (e.t === 'text' ? e.text.length : 0)), [256, 256, 88]);
});

t.test('mouse without a picture is dropped', async (t) => {
  t.same(run('\x1b[<0;11;5M', { ...on, geometry: undefined }).events, []);
});

t.test('just after losing control, plain keys are swallowed, not taken as commands', async (t) => {
  const ctx: RouteContext = { ...off, prefixOnly: true };
  t.same(run('quit', ctx).commands, [], 'q typed for the customer does not end the session');
  t.same(run('\x03', ctx).commands, [], 'nor does Ctrl-C');
  t.same(run('\x1dq', ctx).commands, ['quit'], 'Ctrl-] q still does');
  t.same(run('\x1dc', ctx).commands, ['control']);
  t.same(run('quit', ctx).events, [], 'and nothing is sent');
});

t.test('pastes (bracketed): ignored in view only, text with Return and Tab in control', async (t) => {
  const off1 = run('\x1b[200~quit\x1b[201~', off);
  t.same(off1.commands, [], 'a pasted "quit" in view only is not q');
  t.same(off1.events, []);
  t.same(run('\x1b[200~c\x1b[201~', { ...off, prefixOnly: true }).commands, []);
  const sent = run('\x1b[200~ls -l\r\ncd /tmp\tx\ny\x03z\x1b[201~', on);
  t.same(sent.events, [
    { t: 'text', text: 'ls -l' }, ...tap('Return'),
    { t: 'text', text: 'cd /tmp' }, ...tap('Tab'), { t: 'text', text: 'x' }, ...tap('Return'),
    { t: 'text', text: 'yz' },
  ], 'line ends are Return, tabs Tab, other control characters dropped');
  t.same(sent.commands, []);
  const afterPrefix = run('\x1d\x1b[200~q\x1b[201~', on);
  t.same([afterPrefix.commands, afterPrefix.events, afterPrefix.state.prefix], [[], [], false], 'after Ctrl-] a paste cancels the prefix and is not sent');
  const long = run(`\x1b[200~${'a'.repeat(600)}\x1b[201~`, on);
  t.same(long.events.map((e) => (e.t === 'text' ? e.text.length : 0)), [256, 256, 88], 'split to the protocol limit');
});
