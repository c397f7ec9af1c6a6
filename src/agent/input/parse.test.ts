// Table tests: terminal bytes in, tokens out, for legacy keys, the kitty keyboard protocol,
// SGR mouse reports and the replies the viewer asks for.
import t from 'tap';
import { InputParser, MAX_PASTE, modsOf, type TermInput } from './parse.js';

const k = (key: string, mods: string[] = [], action = 'tap'): TermInput => ({ kind: 'key', key, mods, action } as TermInput);
const text = (s: string): TermInput => ({ kind: 'text', text: s });

t.test('legacy keys', async (t) => {
  const rows: Array<[string, string, TermInput[]]> = [
    ['printable text is one text token', 'Hello World! <>?', [text('Hello World! <>?')]],
    ['unicode text', 'héllo €', [text('héllo €')]],
    ['Enter', '\r', [k('Return')]],
    ['Tab', '\t', [k('Tab')]],
    ['Backspace (DEL)', '\x7f', [k('BackSpace')]],
    ['Ctrl-U', '\x15', [k('u', ['control'])]],
    ['Ctrl-C', '\x03', [k('c', ['control'])]],
    ['Ctrl-]', '\x1d', [k('bracketright', ['control'])]],
    ['Ctrl-Space', '\x00', [k('space', ['control'])]],
    ['Alt-x', '\x1bx', [k('x', ['alt'])]],
    ['Alt-Shift-X', '\x1bX', [k('x', ['alt', 'shift'])]],
    ['Alt-Enter', '\x1b\r', [k('Return', ['alt'])]],
    ['arrows', '\x1b[A\x1b[B\x1b[C\x1b[D', [k('Up'), k('Down'), k('Right'), k('Left')]],
    ['SS3 arrows and F1', '\x1bOA\x1bOP', [k('Up'), k('F1')]],
    ['Home/End', '\x1b[H\x1b[F\x1b[1~\x1b[4~', [k('Home'), k('End'), k('Home'), k('End')]],
    ['Insert Delete PgUp PgDn', '\x1b[2~\x1b[3~\x1b[5~\x1b[6~', [k('Insert'), k('Delete'), k('Page_Up'), k('Page_Down')]],
    ['F5..F12', '\x1b[15~\x1b[17~\x1b[24~', [k('F5'), k('F6'), k('F12')]],
    ['Ctrl-Shift-Up', '\x1b[1;6A', [k('Up', ['shift', 'control'])]],
    ['Alt-F4 (xterm modifier)', '\x1b[1;3S', [k('F4', ['alt'])]],
    ['text around a key keeps its order', 'ab\rcd', [text('ab'), k('Return'), text('cd')]],
  ];
  for (const [name, input, want] of rows) t.same(new InputParser().feed(input), want, name);
});

t.test('kitty keyboard protocol', async (t) => {
  const rows: Array<[string, string, TermInput[]]> = [
    ['Ctrl-u press', '\x1b[117;5u', [k('u', ['control'], 'press')]],
    ['Ctrl-u release', '\x1b[117;5:3u', [k('u', ['control'], 'release')]],
    ['repeat', '\x1b[117;5:2u', [k('u', ['control'], 'repeat')]],
    ['Enter press/release', '\x1b[13u\x1b[13;1:3u', [k('Return', [], 'press'), k('Return', [], 'release')]],
    ['Escape', '\x1b[27u', [k('Escape', [], 'press')]],
    ['Ctrl-] is the same key as legacy', '\x1b[93;5u', [k('bracketright', ['control'], 'press')]],
    ['Ctrl-minus', '\x1b[45;5u', [k('minus', ['control'], 'press')]],
    ['arrow release on a legacy final', '\x1b[1;1:3A', [k('Up', [], 'release')]],
    ['F5 press with event type', '\x1b[15;1:1~', [k('F5', [], 'press')]],
    ['super is meta', '\x1b[97;9u', [k('a', ['meta'], 'press')]],
    ['a modifier key alone is dropped', '\x1b[57441;2u', []],
    ['shifted-key alternates are ignored', '\x1b[97:65;6u', [k('a', ['shift', 'control'], 'press')]],
    ['flags reply', '\x1b[?3u', [{ kind: 'kbd-flags', flags: 3 }]],
    ['DECRQM reply for 1016', '\x1b[?1016;1$y', [{ kind: 'mode-report', mode: 1016, value: 1 }]],
  ];
  for (const [name, input, want] of rows) t.same(new InputParser().feed(input), want, name);
});

t.test('SGR mouse', async (t) => {
  const m = (action: string, button: string | null, x: number, y: number, extra: object = {}) => ({ kind: 'mouse', action, button, x, y, mods: [], ...extra });
  const rows: Array<[string, string, unknown[]]> = [
    ['left press', '\x1b[<0;10;5M', [m('press', 'left', 10, 5)]],
    ['left release', '\x1b[<0;10;5m', [m('release', 'left', 10, 5)]],
    ['right press', '\x1b[<2;1;1M', [m('press', 'right', 1, 1)]],
    ['middle press', '\x1b[<1;3;4M', [m('press', 'middle', 3, 4)]],
    ['drag with left', '\x1b[<32;11;5M', [m('move', 'left', 11, 5)]],
    ['motion without button', '\x1b[<35;11;5M', [m('move', null, 11, 5)]],
    ['wheel up/down/left/right', '\x1b[<64;2;2M\x1b[<65;2;2M\x1b[<66;2;2M\x1b[<67;2;2M', [
      m('wheel', null, 2, 2, { wheel: { dx: 0, dy: -1 } }), m('wheel', null, 2, 2, { wheel: { dx: 0, dy: 1 } }),
      m('wheel', null, 2, 2, { wheel: { dx: -1, dy: 0 } }), m('wheel', null, 2, 2, { wheel: { dx: 1, dy: 0 } }),
    ]],
    ['ctrl-click', '\x1b[<16;4;4M', [m('press', 'left', 4, 4, { mods: ['control'] })]],
    ['pixel coordinates are just larger numbers', '\x1b[<0;800;450M', [m('press', 'left', 800, 450)]],
    ['malformed report is dropped', '\x1b[<0;5M', []],
  ];
  for (const [name, input, want] of rows) t.same(new InputParser().feed(input), want, name);
});

t.test('sequences split across chunks are held, a lone Escape is flushed', async (t) => {
  const p = new InputParser();
  t.same(p.feed('a\x1b['), [text('a')]);
  t.ok(p.holding);
  t.same(p.feed('<0;3;'), []);
  t.same(p.feed('4M'), [{ kind: 'mouse', action: 'press', button: 'left', x: 3, y: 4, mods: [] }]);
  t.same(p.feed('\x1b'), []);
  t.same(p.flush(), [k('Escape')]);
  t.notOk(p.holding);
  t.same(p.feed('\x1bO'), []);
  t.same(p.feed('Q'), [k('F2')]);
  t.same(p.feed('\x1b[1;5'), []);
  t.same(p.flush(), [], 'half a CSI after a quiet time is noise');
});

t.test('modifier parameter', async (t) => {
  t.same(modsOf(1), []);
  t.same(modsOf(2), ['shift']);
  t.same(modsOf(8), ['shift', 'alt', 'control']);
  t.same(modsOf(33), ['meta']);
});

t.test('bracketed paste: one token, never keys, also across chunks', async (t) => {
  const paste = (s: string): TermInput => ({ kind: 'paste', text: s });
  const once = (bytes: string): TermInput[] => {
    const p = new InputParser();
    return [...p.feed(bytes), ...p.flush()];
  };
  t.same(once('\x1b[200~quit\r\x1b[A\x1b[201~'), [paste('quit\r\x1b[A')], 'keys and sequences inside are text of the paste');
  t.same(once('a\x1b[200~xy\x1b[201~b'), [text('a'), paste('xy'), text('b')], 'typing before and after');
  t.same(once('\x1b[200~\x1b[201~'), [paste('')], 'an empty paste');
  t.same(once('\x1b[201~q'), [text('q')], 'a stray end bracket is nothing');

  // Cut anywhere, the end bracket included; once the start bracket is in, a quiet time (the
  // viewer's Escape timer calling flush) between the parts changes nothing.
  const whole = '\x1b[200~one\ntwo\x1b[201~c';
  for (let cut = 1; cut < whole.length; cut++) {
    const p = new InputParser();
    const first = p.feed(whole.slice(0, cut));
    const quiet = cut >= 6 ? p.flush() : [];
    const got = [...first, ...quiet, ...p.feed(whole.slice(cut)), ...p.flush()];
    t.same(got, [paste('one\ntwo'), text('c')], `cut at ${cut}`);
  }
  const p = new InputParser();
  p.feed('\x1b[200~abc\x1b[20');
  t.equal(p.holding, false, 'a paste waits for its end without the Escape timer');

  const big = 'x'.repeat(MAX_PASTE + 10);
  const long = new InputParser();
  const got = [...long.feed(`\x1b[200~${big.slice(0, 40_000)}`), ...long.feed(`${big.slice(40_000)}\x1b[201~q`)];
  t.equal(got.length, 2);
  t.equal(got[0]?.kind === 'paste' && got[0].text.length, MAX_PASTE, 'a paste keeps its first 64 Ki characters');
  t.same(got[1], text('q'), 'and what follows the end bracket is read as usual');
});
