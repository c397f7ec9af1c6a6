// Capability detection: replies are recognised whole or split at any byte, and everything that
// is not a reply (keys, other escape sequences) comes out unchanged and in order.
import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { ReplyParser, capsFromReplies, chooseGraphics, parseGraphicsOption, parseReplies, queries, type GraphicsCaps, type Reply } from './detect.js';
import { RsoError } from '../../errors.js';

const KITTY_OK = '\x1b_Gi=31;OK\x1b\\';
const DA1_SIXEL = '\x1b[?62;4;6;22c';
const DA1_PLAIN = '\x1b[?62;1;6;22c';

const cases: { name: string; input: string; replies: Reply[]; rest: string }[] = [
  { name: 'kitty OK', input: KITTY_OK, replies: [{ type: 'kitty', id: 31, ok: true, message: 'OK' }], rest: '' },
  {
    name: 'kitty error',
    input: '\x1b_Gi=31;ENOENT:no such image\x1b\\',
    replies: [{ type: 'kitty', id: 31, ok: false, message: 'ENOENT:no such image' }],
    rest: '',
  },
  { name: 'DA1 with sixel', input: DA1_SIXEL, replies: [{ type: 'da1', params: [62, 4, 6, 22] }], rest: '' },
  { name: 'window pixels', input: '\x1b[4;1080;1920t', replies: [{ type: 'window-pixels', width: 1920, height: 1080 }], rest: '' },
  { name: 'cell pixels', input: '\x1b[6;18;9t', replies: [{ type: 'cell-pixels', width: 9, height: 18 }], rest: '' },
  { name: 'text cells', input: '\x1b[8;60;213t', replies: [{ type: 'text-cells', cols: 213, rows: 60 }], rest: '' },
  {
    name: 'XTSMGRAPHICS',
    input: '\x1b[?1;0;1024S\x1b[?2;0;1000;1000S',
    replies: [
      { type: 'xtsmgraphics', item: 1, status: 0, values: [1024] },
      { type: 'xtsmgraphics', item: 2, status: 0, values: [1000, 1000] },
    ],
    rest: '',
  },
  { name: 'typing only', input: 'hello', replies: [], rest: 'hello' },
  { name: 'arrow keys and F5 pass through', input: '\x1b[A\x1b[B\x1b[15~', replies: [], rest: '\x1b[A\x1b[B\x1b[15~' },
  { name: 'alt+x passes through', input: '\x1bx', replies: [], rest: '\x1bx' },
  { name: 'lone escape at the end is flushed', input: 'a\x1b', replies: [], rest: 'a\x1b' },
  { name: 'other APC passes through', input: '\x1b_Xfoo\x1b\\', replies: [], rest: '\x1b_Xfoo\x1b\\' },
  { name: 'CSI t with the wrong arity is not a reply', input: '\x1b[4;10t', replies: [], rest: '\x1b[4;10t' },
  { name: 'unterminated APC gives back everything', input: '\x1b_Gi=31;OK\x1bx', replies: [], rest: '\x1b_Gi=31;OK\x1bx' },
  { name: 'UTF-8 text around replies', input: 'é' + DA1_PLAIN + '漢', replies: [{ type: 'da1', params: [62, 1, 6, 22] }], rest: 'é漢' },
  {
    name: 'full conversation interleaved with keys',
    input: 'a' + KITTY_OK + '\x1b[4;800;1200t' + 'b' + '\x1b[6;20;10t\x1b[8;40;120t' + '\x1b[A' + '\x1b[?1;3;0S' + DA1_SIXEL + 'c',
    replies: [
      { type: 'kitty', id: 31, ok: true, message: 'OK' },
      { type: 'window-pixels', width: 1200, height: 800 },
      { type: 'cell-pixels', width: 10, height: 20 },
      { type: 'text-cells', cols: 120, rows: 40 },
      { type: 'xtsmgraphics', item: 1, status: 3, values: [0] },
      { type: 'da1', params: [62, 4, 6, 22] },
    ],
    rest: 'ab\x1b[Ac',
  },
];

t.test('replies are recognised, the rest passes through (whole input)', (t) => {
  for (const c of cases) {
    const p = new ReplyParser();
    const r = p.feed(c.input);
    t.same(r.replies, c.replies, `${c.name}: replies`);
    t.equal(r.passthrough + p.flush(), c.rest, `${c.name}: passthrough`);
  }
  t.end();
});

t.test('same results whatever the chunking: every split point, and byte by byte', (t) => {
  for (const c of cases) {
    const splits: string[][] = [];
    for (let i = 0; i <= c.input.length; i++) splits.push([c.input.slice(0, i), c.input.slice(i)]);
    splits.push(Array.from(c.input));
    for (const chunks of splits) {
      const p = new ReplyParser();
      const replies: Reply[] = [];
      let rest = '';
      for (const chunk of chunks) {
        const r = p.feed(chunk);
        replies.push(...r.replies);
        rest += r.passthrough;
      }
      rest += p.flush();
      if (!isDeepStrictEqual(replies, c.replies) || rest !== c.rest) {
        t.fail(`${c.name}: chunks ${JSON.stringify(chunks)} gave ${JSON.stringify(replies)} / ${JSON.stringify(rest)}`);
      }
    }
  }
  t.pass('all splits agree');
  t.end();
});

t.test('bytes input, with a UTF-8 character split across chunks', (t) => {
  const bytes = Buffer.from('ü' + KITTY_OK + 'ß', 'utf8');
  const p = new ReplyParser();
  const a = p.feed(bytes.subarray(0, 1));
  const b = p.feed(bytes.subarray(1));
  t.equal(a.passthrough + b.passthrough, 'üß');
  t.same([...a.replies, ...b.replies], [{ type: 'kitty', id: 31, ok: true, message: 'OK' }]);
  t.end();
});

t.test('holding and flush: an incomplete sequence waits, then comes back intact', (t) => {
  const p = new ReplyParser();
  t.equal(p.feed('\x1b[?62;4').passthrough, '');
  t.ok(p.holding);
  t.equal(p.flush(), '\x1b[?62;4');
  t.notOk(p.holding);
  // A runaway CSI is given back rather than buffered for ever.
  const long = '\x1b[' + '1;'.repeat(100);
  t.equal(p.feed(long).passthrough + p.flush(), long);
  t.end();
});

t.test('parseReplies folds replies into capabilities', (t) => {
  const caps = parseReplies('x' + KITTY_OK + '\x1b[6;18;9t\x1b[4;1080;1920t' + DA1_SIXEL);
  t.same(caps, { kitty: true, sixel: true, complete: true, cellWidth: 9, cellHeight: 18, pixelWidth: 1920, pixelHeight: 1080, rest: 'x' });
  t.same(parseReplies(DA1_PLAIN), { kitty: false, sixel: false, complete: true, rest: '' }, 'plain VT220: nothing');
  t.equal(parseReplies('\x1b_Gi=99;OK\x1b\\').kitty, false, 'a reply for another image id is not ours');
  t.equal(parseReplies('\x1b[?2;0;1920;1080S').sixel, true, 'XTSMGRAPHICS geometry answered: sixel');
  t.equal(parseReplies('\x1b[?2;1;0S').sixel, false, 'XTSMGRAPHICS error: no sixel');
  t.equal(parseReplies('\x1b[?4;62c').sixel, false, 'the first DA1 parameter is the class, not a feature');
  t.equal(parseReplies('\x1b[?1;0;256S').sixelColors, 256);
  const derived = capsFromReplies([
    { type: 'window-pixels', width: 1000, height: 800 },
    { type: 'text-cells', cols: 100, rows: 40 },
  ]);
  t.same([derived.cellWidth, derived.cellHeight], [10, 20], 'cell size derived from window pixels / cells');
  t.end();
});

t.test('queries: kitty probe, sizes, XTSMGRAPHICS, DA1 last', (t) => {
  const q = queries();
  t.match(q, /^\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\/);
  t.ok(q.endsWith('\x1b[c'), 'DA1 is the sentinel, sent last');
  for (const s of ['\x1b[14t', '\x1b[16t', '\x1b[18t', '\x1b[?1;1;0S', '\x1b[?2;1;0S']) t.ok(q.includes(s), JSON.stringify(s));
  t.ok(queries({ tmux: true }).startsWith('\x1bPtmux;\x1b\x1b_Gi=31'), 'kitty probe goes through tmux passthrough');
  t.end();
});

t.test('chooseGraphics', (t) => {
  const none: GraphicsCaps = { kitty: false, sixel: false, complete: true };
  const cells = { cellWidth: 9, cellHeight: 18 };
  const table: [string, Parameters<typeof chooseGraphics>[0], string, boolean][] = [
    ['kitty wins', { caps: { ...none, kitty: true, sixel: true, ...cells }, env: {} }, 'kitty', false],
    ['kitty in tmux uses passthrough', { caps: { ...none, kitty: true }, env: { TMUX: '/tmp/tmux-0/default,1,0' } }, 'kitty', true],
    ['sixel with cell size', { caps: { ...none, sixel: true, ...cells }, env: {} }, 'sixel', false],
    ['sixel without cell size falls back', { caps: { ...none, sixel: true }, env: {} }, 'blocks', false],
    ['nothing: blocks', { caps: none, env: {} }, 'blocks', false],
    ['override blocks', { override: 'blocks', caps: { ...none, kitty: true }, env: {} }, 'blocks', false],
    ['override kitty in tmux', { override: 'kitty', caps: none, env: { TMUX: 'x' } }, 'kitty', true],
    ['override sixel', { override: 'sixel', caps: none, env: { TMUX: 'x' } }, 'sixel', false],
    ['auto is auto', { override: 'auto', caps: { ...none, sixel: true, ...cells }, env: {} }, 'sixel', false],
  ];
  for (const [name, input, kind, tmux] of table) {
    const c = chooseGraphics(input);
    t.same([c.kind, c.tmux], [kind, tmux], name);
    t.ok(c.reason.length > 0, `${name}: has a reason`);
  }
  t.equal(parseGraphicsOption('sixel'), 'sixel');
  const err = (() => {
    try {
      parseGraphicsOption('png');
    } catch (e) {
      return e;
    }
    return null;
  })();
  t.ok(err instanceof RsoError && err.code === 'RSO_ERR_USAGE', 'unknown --graphics value is a usage error');
  t.end();
});
